-- Small durable state of background work, e.g. the last event id the lead
-- scorer has read (so a restart resumes where it stopped).
CREATE TABLE work_marks (
    workspace_id BIGINT NOT NULL,
    name TEXT NOT NULL,
    value BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (workspace_id, name)
);
