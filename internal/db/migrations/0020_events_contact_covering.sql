-- A contact's events with their kind and path in the index itself, so the
-- lead scorer, the full rescore and the backtest read them without a table
-- lookup per event. Replaces events_contact (still one index per event).
DROP INDEX events_contact;
-- +sqlite
CREATE INDEX events_contact ON events (workspace_id, contact_id, occurred_at DESC, kind, path) WHERE contact_id IS NOT NULL;
-- +end
-- +postgres
CREATE INDEX events_contact ON events (workspace_id, contact_id, occurred_at DESC) INCLUDE (kind, path) WHERE contact_id IS NOT NULL;
-- +end
