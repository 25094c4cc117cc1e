-- Guided selling: per pipeline stage, guidance for the rep, exit criteria
-- checked before a deal moves on, and the days without activity after which
-- a deal in the stage is rotting.
CREATE TABLE stage_guides (
    workspace_id BIGINT NOT NULL,
    stage_id BIGINT NOT NULL,
    guidance TEXT NOT NULL DEFAULT '',
    criteria {{JSON}},
    rot_days INTEGER NOT NULL DEFAULT 0,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (workspace_id, stage_id)
);
