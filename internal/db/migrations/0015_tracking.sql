-- Web tracking: the snippet's settings, anonymous visitors and their
-- 30-minute sessions, and the daily roll-up that outlives expired visitors.
-- Page views and clicks themselves are rows of the shared events table.
CREATE TABLE tracking_settings (
    workspace_id BIGINT NOT NULL PRIMARY KEY,
    consent_required BOOLEAN NOT NULL DEFAULT FALSE,
    retention_days INTEGER NOT NULL DEFAULT 180,
    allowed_origins TEXT NOT NULL DEFAULT '',
    channel_rules {{JSON}},
    updated_at BIGINT NOT NULL
);

-- One row per browser (the ryorin_vid cookie). contact_id is set once the
-- visitor is identified; the current session is kept here so ingest needs
-- one read per visitor, not a scan of their events.
CREATE TABLE track_visitors (
    workspace_id BIGINT NOT NULL,
    visitor_id TEXT NOT NULL,
    contact_id BIGINT,
    first_seen BIGINT NOT NULL,
    last_seen BIGINT NOT NULL,
    session_uid TEXT NOT NULL DEFAULT '',
    session_start BIGINT NOT NULL DEFAULT 0,
    session_campaign TEXT NOT NULL DEFAULT '',
    session_channel TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (workspace_id, visitor_id)
);
CREATE INDEX track_visitors_anonymous ON track_visitors (workspace_id, last_seen) WHERE contact_id IS NULL;
CREATE INDEX track_visitors_contact ON track_visitors (workspace_id, contact_id) WHERE contact_id IS NOT NULL;

CREATE TABLE track_sessions (
    {{ID}},
    workspace_id BIGINT NOT NULL,
    uid TEXT NOT NULL,
    visitor_id TEXT NOT NULL,
    contact_id BIGINT,
    started_at BIGINT NOT NULL,
    last_at BIGINT NOT NULL,
    channel TEXT NOT NULL,
    utm_source TEXT NOT NULL DEFAULT '',
    utm_medium TEXT NOT NULL DEFAULT '',
    utm_campaign TEXT NOT NULL DEFAULT '',
    referrer TEXT NOT NULL DEFAULT '',
    landing_url TEXT NOT NULL DEFAULT '',
    page_views INTEGER NOT NULL DEFAULT 0,
    events INTEGER NOT NULL DEFAULT 0,
    {{WSKEY}},
    UNIQUE (workspace_id, uid)
);
CREATE INDEX track_sessions_visitor ON track_sessions (workspace_id, visitor_id, started_at);
CREATE INDEX track_sessions_contact ON track_sessions (workspace_id, contact_id, started_at DESC) WHERE contact_id IS NOT NULL;

-- What is left of anonymous visitors after the retention period: counts per
-- day (in the workspace's time zone), path and channel.
CREATE TABLE track_daily (
    workspace_id BIGINT NOT NULL,
    day TEXT NOT NULL,
    path TEXT NOT NULL,
    channel TEXT NOT NULL,
    page_views BIGINT NOT NULL DEFAULT 0,
    visitors BIGINT NOT NULL DEFAULT 0,
    sessions BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (workspace_id, day, path, channel)
);
