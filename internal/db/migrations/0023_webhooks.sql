-- Webhooks out: subscriptions per event type, and one delivery row per event
-- and subscription with its outcome (the delivery log).
CREATE TABLE webhook_subscriptions (
    {{ID}},
    workspace_id BIGINT NOT NULL,
    url TEXT NOT NULL,
    secret TEXT NOT NULL,
    event_types {{JSON}} NOT NULL,
    active BOOLEAN NOT NULL DEFAULT TRUE,
    description TEXT NOT NULL DEFAULT '',
    created_by BIGINT,
    created_at BIGINT NOT NULL,
    {{WSKEY}}
);

CREATE TABLE webhook_deliveries (
    {{ID}},
    workspace_id BIGINT NOT NULL,
    subscription_id BIGINT NOT NULL,
    event_uid TEXT NOT NULL,
    event_type TEXT NOT NULL,
    payload {{JSON}} NOT NULL,
    status TEXT NOT NULL DEFAULT 'pending',
    attempts INTEGER NOT NULL DEFAULT 0,
    status_code INTEGER NOT NULL DEFAULT 0,
    last_error TEXT NOT NULL DEFAULT '',
    created_at BIGINT NOT NULL,
    delivered_at BIGINT,
    {{WSKEY}}
);
CREATE UNIQUE INDEX webhook_deliveries_event ON webhook_deliveries (workspace_id, subscription_id, event_uid);
CREATE INDEX webhook_deliveries_recent ON webhook_deliveries (workspace_id, created_at);
