-- The KPI figures over closed deals (revenue, CAC's new customers, LTV's
-- yearly value, the renewal and repeat-purchase rates) read every deal won
-- or lost in a period, or before it: through deals_status_closed each one
-- was a lookup into the table (the repeat-purchase rate alone took about
-- 300 ms at size L). This index carries what they read; it begins with the
-- same columns, so it replaces deals_status_closed.
DROP INDEX deals_status_closed;
-- +sqlite
CREATE INDEX deals_closed_cover ON deals (workspace_id, status, closed_at, deal_type, company_id, amount, currency, recurring_amount, recurring_interval);
-- +end
-- +postgres
CREATE INDEX deals_closed_cover ON deals (workspace_id, status, closed_at) INCLUDE (id, deal_type, company_id, amount, currency, recurring_amount, recurring_interval);
-- +end
-- Likewise the MQL and SQL counts read each stage change of a period for its
-- contact: carried by the stage index (60,000 table lookups a month at L).
DROP INDEX lifecycle_history_stage;
-- +sqlite
CREATE INDEX lifecycle_history_stage ON lifecycle_history (workspace_id, to_stage, at, contact_id);
-- +end
-- +postgres
CREATE INDEX lifecycle_history_stage ON lifecycle_history (workspace_id, to_stage, at) INCLUDE (contact_id);
-- +end
