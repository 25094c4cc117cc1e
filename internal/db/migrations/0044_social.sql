-- Social engagement (issue 8 item 1): figures entered or imported per social
-- network and month, since Ryorin does not read the networks' APIs. channel
-- is the workspace channel the network's traffic counts under (usually
-- 'social'), so the KPI filter by channel narrows these figures too.
CREATE TABLE social_stats (
    workspace_id BIGINT NOT NULL,
    month TEXT NOT NULL,
    network TEXT NOT NULL,
    channel TEXT NOT NULL DEFAULT 'social',
    impressions BIGINT NOT NULL DEFAULT 0,
    engagements BIGINT NOT NULL DEFAULT 0,
    followers_gained BIGINT NOT NULL DEFAULT 0,
    clicks BIGINT NOT NULL DEFAULT 0,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (workspace_id, month, network)
);
CREATE INDEX social_stats_channel ON social_stats (workspace_id, channel, month);
