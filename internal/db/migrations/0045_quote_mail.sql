-- Quotes sent to the customer (issue 6, item 4): each row is one issued
-- quote version mailed to one of the deal's contacts through sales email
-- (sales_email_id). The mail carries a signed link to a public view of that
-- version; every view is counted here and, when none was noted in the last
-- half hour (noted_at), is an event on the contact, an entry on the deal's
-- timeline and a notification to the deal's owner. idem_key makes a double-submitted form
-- or a retried API call one send.
CREATE TABLE quote_sends (
    {{ID}},
    workspace_id BIGINT NOT NULL,
    quote_id BIGINT NOT NULL,
    deal_id BIGINT NOT NULL,
    contact_id BIGINT NOT NULL,
    sales_email_id BIGINT,
    sent_by BIGINT,
    sent_at BIGINT NOT NULL,
    idem_key TEXT NOT NULL DEFAULT '',
    views BIGINT NOT NULL DEFAULT 0,
    first_viewed_at BIGINT,
    last_viewed_at BIGINT,
    noted_at BIGINT,
    {{WSKEY}},
    FOREIGN KEY (workspace_id, quote_id) REFERENCES quotes (workspace_id, id) ON DELETE CASCADE,
    FOREIGN KEY (workspace_id, contact_id) REFERENCES contacts (workspace_id, id) ON DELETE CASCADE
);
CREATE INDEX quote_sends_deal ON quote_sends (workspace_id, deal_id, sent_at DESC);
CREATE INDEX quote_sends_contact ON quote_sends (workspace_id, contact_id);
CREATE UNIQUE INDEX quote_sends_idem ON quote_sends (workspace_id, idem_key) WHERE idem_key <> '';
