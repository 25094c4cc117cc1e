-- Email from Ryorin (issue 6, item 5): one-to-one mail a rep sends from a
-- contact's or deal's record, and the replies logged back. Each row is one
-- message: direction 'out' (queued through mail_messages, mail_id) or 'in'
-- (posted to the inbound API). Both are also an email activity (activity_id)
-- so the contact, company and deal timelines show them. Opens and clicks of
-- an outbound message are counted here (the tracking links carry its id);
-- every open and click is also an event on the contact. idem_key makes a
-- double-submitted form or a retried API call one message; an inbound
-- message is logged once per Message-ID.
CREATE TABLE sales_emails (
    {{ID}},
    workspace_id BIGINT NOT NULL,
    direction TEXT NOT NULL,
    contact_id BIGINT NOT NULL,
    deal_id BIGINT,
    user_id BIGINT,
    activity_id BIGINT,
    mail_id BIGINT,
    reply_to_id BIGINT,
    from_addr TEXT NOT NULL DEFAULT '',
    to_addr TEXT NOT NULL DEFAULT '',
    subject TEXT NOT NULL DEFAULT '',
    body TEXT NOT NULL DEFAULT '',
    message_id TEXT NOT NULL DEFAULT '',
    in_reply_to TEXT NOT NULL DEFAULT '',
    idem_key TEXT NOT NULL DEFAULT '',
    opens BIGINT NOT NULL DEFAULT 0,
    clicks BIGINT NOT NULL DEFAULT 0,
    first_open_at BIGINT,
    last_open_at BIGINT,
    last_click_at BIGINT,
    created_at BIGINT NOT NULL,
    {{WSKEY}},
    FOREIGN KEY (workspace_id, contact_id) REFERENCES contacts (workspace_id, id) ON DELETE CASCADE
);
CREATE INDEX sales_emails_contact ON sales_emails (workspace_id, contact_id, created_at DESC);
CREATE INDEX sales_emails_message ON sales_emails (workspace_id, message_id);
CREATE UNIQUE INDEX sales_emails_idem ON sales_emails (workspace_id, direction, idem_key) WHERE idem_key <> '';

-- The domain of the per-user reply addresses (reply+<user>.<mac>@domain):
-- mail to it is forwarded by the mail provider's inbound webhook or a small
-- forwarder to POST /api/v1/emails/inbound.
CREATE TABLE sales_email_settings (
    workspace_id BIGINT NOT NULL PRIMARY KEY,
    inbound_domain TEXT NOT NULL DEFAULT '',
    updated_at BIGINT NOT NULL
);

-- The timeline shows an email activity's opens and clicks.
CREATE INDEX sales_emails_activity ON sales_emails (workspace_id, activity_id);
