-- After the sale: renewals created ahead of time from won recurring deals,
-- and customer issues (問い合わせ/トラブル) logged on a contact or company.

-- How many days before a won recurring deal's renewal date its renewal deal
-- and the owner's task are created.
ALTER TABLE sales_settings ADD COLUMN renewal_lead_days INTEGER NOT NULL DEFAULT 90;

-- One row per source deal that was renewed: the primary key is what makes the
-- periodic renewals job create a renewal exactly once, whatever reruns or
-- crashes (the row commits in the same transaction as the renewal deal).
-- renewal_deal_id has no foreign key on purpose: deleting the renewal deal
-- must not make the job create it again.
CREATE TABLE deal_renewals (
    workspace_id BIGINT NOT NULL,
    source_deal_id BIGINT NOT NULL,
    renewal_deal_id BIGINT NOT NULL,
    renewal_date TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (workspace_id, source_deal_id),
    UNIQUE (workspace_id, renewal_deal_id),
    FOREIGN KEY (workspace_id, source_deal_id) REFERENCES deals (workspace_id, id) ON DELETE CASCADE
);
-- The renewals job reads won recurring deals only, by id.
CREATE INDEX deals_recurring_won ON deals (workspace_id, id) WHERE status = 'won' AND recurring_amount > 0;

-- A customer issue: a question, trouble, complaint or request from a customer,
-- on a contact and/or a company, with an owner, priority and status. Open
-- ones (every status but resolved) show on the contact's and company's page.
CREATE TABLE customer_issues (
    {{ID}},
    workspace_id BIGINT NOT NULL,
    subject TEXT NOT NULL,
    body TEXT NOT NULL DEFAULT '',
    contact_id BIGINT,
    company_id BIGINT,
    owner_id BIGINT,
    priority TEXT NOT NULL DEFAULT 'normal',
    status TEXT NOT NULL DEFAULT 'open',
    category TEXT NOT NULL DEFAULT 'question',
    created_by BIGINT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    resolved_at BIGINT,
    {{WSKEY}},
    FOREIGN KEY (workspace_id, contact_id) REFERENCES contacts (workspace_id, id) ON DELETE CASCADE,
    FOREIGN KEY (workspace_id, company_id) REFERENCES companies (workspace_id, id) ON DELETE CASCADE,
    FOREIGN KEY (workspace_id, owner_id) REFERENCES users (workspace_id, id)
);
CREATE INDEX customer_issues_status ON customer_issues (workspace_id, status, id);
CREATE INDEX customer_issues_owner ON customer_issues (workspace_id, owner_id, status);
CREATE INDEX customer_issues_contact ON customer_issues (workspace_id, contact_id, status);
CREATE INDEX customer_issues_company ON customer_issues (workspace_id, company_id, status);
