-- Scores move from the wide contacts row to a narrow table of their own.
-- A rescore rewrites every contact's scores; on PostgreSQL an update of the
-- wide row was rarely HOT, so each one wrote every index of contacts
-- (including the trigram index). This row has only its primary key, so its
-- updates stay on the heap page. A contact without a row has no scores yet.
CREATE TABLE contact_scores (
    workspace_id BIGINT NOT NULL,
    contact_id BIGINT NOT NULL,
    fit_score DOUBLE PRECISION NOT NULL DEFAULT 0,
    fit_grade TEXT NOT NULL DEFAULT '',
    engagement_score DOUBLE PRECISION NOT NULL DEFAULT 0,
    score_lines {{JSON}},
    scored_at BIGINT,
    scored_version INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (workspace_id, contact_id),
    FOREIGN KEY (workspace_id, contact_id) REFERENCES contacts (workspace_id, id) ON DELETE CASCADE
)
-- +postgres
WITH (fillfactor = 80)
-- +end
;

INSERT INTO contact_scores (workspace_id, contact_id, fit_score, fit_grade, engagement_score, score_lines, scored_at, scored_version)
SELECT workspace_id, id, fit_score, fit_grade, engagement_score, score_lines, scored_at, scored_version
FROM contacts WHERE scored_at IS NOT NULL;

ALTER TABLE contacts DROP COLUMN fit_score;
ALTER TABLE contacts DROP COLUMN fit_grade;
ALTER TABLE contacts DROP COLUMN engagement_score;
ALTER TABLE contacts DROP COLUMN score_lines;
ALTER TABLE contacts DROP COLUMN scored_at;
ALTER TABLE contacts DROP COLUMN scored_version;
