-- Email campaigns. A campaign holds its template inline (subject, HTML and
-- plain-text bodies) and its audience (a list or a segment). Sending is one
-- durable job that walks the audience by contact id; every recipient gets a
-- row in campaign_recipients in the same transaction as its queued message,
-- so a restart never sends twice and never skips silently. The send log also
-- keeps the tracking counters (opens, clicks) per recipient. A deleted
-- campaign is only marked deleted: its id is never reused (SQLite would),
-- so links in mail already sent never count toward another campaign.
CREATE TABLE email_campaigns (
    {{ID}},
    workspace_id BIGINT NOT NULL,
    name TEXT NOT NULL,
    subject TEXT NOT NULL,
    html_body TEXT NOT NULL DEFAULT '',
    text_body TEXT NOT NULL DEFAULT '',
    audience_kind TEXT NOT NULL,
    audience_id BIGINT NOT NULL,
    status TEXT NOT NULL DEFAULT 'draft',
    base_url TEXT NOT NULL DEFAULT '',
    cursor_id BIGINT NOT NULL DEFAULT 0,
    started_at BIGINT,
    finished_at BIGINT,
    deleted_at BIGINT,
    created_by BIGINT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    {{WSKEY}}
);
CREATE INDEX email_campaigns_created ON email_campaigns (workspace_id, created_at DESC, id DESC);

CREATE TABLE campaign_recipients (
    workspace_id BIGINT NOT NULL,
    campaign_id BIGINT NOT NULL,
    contact_id BIGINT NOT NULL,
    status TEXT NOT NULL,
    reason TEXT NOT NULL DEFAULT '',
    mail_id BIGINT,
    opens BIGINT NOT NULL DEFAULT 0,
    first_open_at BIGINT,
    clicks BIGINT NOT NULL DEFAULT 0,
    unsubscribed_at BIGINT,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (workspace_id, campaign_id, contact_id),
    FOREIGN KEY (workspace_id, campaign_id) REFERENCES email_campaigns (workspace_id, id) ON DELETE CASCADE
);

CREATE TABLE campaign_clicks (
    workspace_id BIGINT NOT NULL,
    campaign_id BIGINT NOT NULL,
    contact_id BIGINT NOT NULL,
    url TEXT NOT NULL,
    clicks BIGINT NOT NULL DEFAULT 0,
    first_at BIGINT NOT NULL,
    PRIMARY KEY (workspace_id, campaign_id, contact_id, url),
    FOREIGN KEY (workspace_id, campaign_id) REFERENCES email_campaigns (workspace_id, id) ON DELETE CASCADE
);

-- Addresses no marketing email goes to (unsubscribed, later bounced or
-- complained), whatever a contact's consent says.
CREATE TABLE email_suppressions (
    workspace_id BIGINT NOT NULL,
    email TEXT NOT NULL,
    reason TEXT NOT NULL,
    contact_id BIGINT,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (workspace_id, email)
);
