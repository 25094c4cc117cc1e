-- Retention of raw events: how long to keep them (0: for ever), and the
-- daily counts kept once they are deleted.
CREATE TABLE retention_settings (
    workspace_id BIGINT NOT NULL PRIMARY KEY,
    event_days INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE event_rollups (
    workspace_id BIGINT NOT NULL,
    day TEXT NOT NULL,
    kind TEXT NOT NULL,
    channel TEXT NOT NULL DEFAULT '',
    identified BIGINT NOT NULL DEFAULT 0,
    anonymous BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (workspace_id, day, kind, channel)
);
