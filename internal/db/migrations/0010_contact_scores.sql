-- Each contact's current scores under the active lead definition.
ALTER TABLE contacts ADD COLUMN fit_score DOUBLE PRECISION NOT NULL DEFAULT 0;
ALTER TABLE contacts ADD COLUMN fit_grade TEXT NOT NULL DEFAULT '';
ALTER TABLE contacts ADD COLUMN engagement_score DOUBLE PRECISION NOT NULL DEFAULT 0;
ALTER TABLE contacts ADD COLUMN score_lines {{JSON}};
ALTER TABLE contacts ADD COLUMN scored_at BIGINT;
ALTER TABLE contacts ADD COLUMN scored_version INTEGER NOT NULL DEFAULT 0;
