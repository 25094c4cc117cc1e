-- The shared reports read visits by when they began.
CREATE INDEX track_sessions_started ON track_sessions (workspace_id, started_at);
