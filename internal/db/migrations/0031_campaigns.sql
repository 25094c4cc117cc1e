-- Campaigns as records: every marketing effort (ads, SEO content, webinars,
-- trade shows, email programmes) with its channel, dates, budget, UTM code and
-- members with a status. Spend is entered per month, for a campaign or for a
-- channel as a whole; sales cost per team and month. The KPI and channel
-- reports read them for CAC and ROI.
CREATE TABLE campaigns (
    {{ID}},
    workspace_id BIGINT NOT NULL,
    name TEXT NOT NULL,
    kind TEXT NOT NULL,
    channel TEXT NOT NULL DEFAULT '',
    utm_campaign TEXT NOT NULL DEFAULT '',
    starts_on TEXT NOT NULL DEFAULT '',
    ends_on TEXT NOT NULL DEFAULT '',
    budget BIGINT NOT NULL DEFAULT 0,
    currency TEXT NOT NULL DEFAULT 'JPY',
    status TEXT NOT NULL DEFAULT 'planned',
    notes TEXT NOT NULL DEFAULT '',
    owner_id BIGINT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    {{WSKEY}}
);
CREATE UNIQUE INDEX campaigns_utm ON campaigns (workspace_id, utm_campaign) WHERE utm_campaign <> '';
CREATE INDEX campaigns_starts ON campaigns (workspace_id, starts_on, id);

CREATE TABLE campaign_members (
    workspace_id BIGINT NOT NULL,
    campaign_id BIGINT NOT NULL,
    contact_id BIGINT NOT NULL,
    status TEXT NOT NULL,
    added_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (workspace_id, campaign_id, contact_id),
    FOREIGN KEY (workspace_id, campaign_id) REFERENCES campaigns (workspace_id, id) ON DELETE CASCADE,
    FOREIGN KEY (workspace_id, contact_id) REFERENCES contacts (workspace_id, id) ON DELETE CASCADE
);
CREATE INDEX campaign_members_contact ON campaign_members (workspace_id, contact_id, added_at);

-- One amount per month and channel, or per month and campaign (channel then
-- copied from the campaign, so channel totals include campaign spend).
CREATE TABLE spend_entries (
    {{ID}},
    workspace_id BIGINT NOT NULL,
    month TEXT NOT NULL,
    channel TEXT NOT NULL DEFAULT '',
    campaign_id BIGINT NOT NULL DEFAULT 0,
    amount BIGINT NOT NULL,
    currency TEXT NOT NULL DEFAULT 'JPY',
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    {{WSKEY}}
);
CREATE UNIQUE INDEX spend_entries_key ON spend_entries (workspace_id, month, channel, campaign_id);

CREATE TABLE sales_costs (
    workspace_id BIGINT NOT NULL,
    month TEXT NOT NULL,
    team_id BIGINT NOT NULL DEFAULT 0,
    amount BIGINT NOT NULL,
    currency TEXT NOT NULL DEFAULT 'JPY',
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (workspace_id, month, team_id)
);
