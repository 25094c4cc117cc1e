-- "New this month" figures and created-date sorts read these ranges instead of
-- scanning every contact or deal.
CREATE INDEX contacts_created ON contacts (workspace_id, created_at, id);
CREATE INDEX deals_created ON deals (workspace_id, created_at, id);
CREATE INDEX deals_status_closed ON deals (workspace_id, status, closed_at);
