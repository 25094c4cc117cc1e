-- Scores keep figures only. The explanation lines (about 1 KB of JSON per
-- contact, most of contact_scores' 1.4 GB on PostgreSQL at 1,000,000
-- contacts) are computed when one contact is shown, and every rescore no
-- longer rewrites them. half_life_days is the engagement half-life the
-- score was computed with: readers decay engagement from scored_at to now,
-- so a contact with no new events still loses points by time (ADR 0026).
-- The table is rebuilt rather than altered so that PostgreSQL keeps no
-- dead space for the dropped column.
CREATE TABLE contact_scores_new (
    workspace_id BIGINT NOT NULL,
    contact_id BIGINT NOT NULL,
    fit_score DOUBLE PRECISION NOT NULL DEFAULT 0,
    fit_grade TEXT NOT NULL DEFAULT '',
    engagement_score DOUBLE PRECISION NOT NULL DEFAULT 0,
    half_life_days INTEGER NOT NULL DEFAULT 0,
    scored_at BIGINT,
    scored_version INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (workspace_id, contact_id),
    FOREIGN KEY (workspace_id, contact_id) REFERENCES contacts (workspace_id, id) ON DELETE CASCADE
)
-- +postgres
WITH (fillfactor = 80)
-- +end
;

INSERT INTO contact_scores_new (workspace_id, contact_id, fit_score, fit_grade, engagement_score, half_life_days, scored_at, scored_version)
SELECT s.workspace_id, s.contact_id, s.fit_score, s.fit_grade, s.engagement_score,
-- +sqlite
    COALESCE((SELECT CAST(json_extract(d.body, '$.half_life_days') AS INTEGER) FROM lead_definitions d
        WHERE d.workspace_id = s.workspace_id AND d.version = s.scored_version), 0),
-- +end
-- +postgres
    COALESCE((SELECT (d.body->>'half_life_days')::integer FROM lead_definitions d
        WHERE d.workspace_id = s.workspace_id AND d.version = s.scored_version), 0),
-- +end
    s.scored_at, s.scored_version
FROM contact_scores s;

DROP TABLE contact_scores;
ALTER TABLE contact_scores_new RENAME TO contact_scores;
