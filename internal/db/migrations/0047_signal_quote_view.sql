-- The today page's re-engagement signals now include a customer opening a
-- quote (quote_view, recorded by quotemail). The partial index names the
-- kinds it covers, so it is rebuilt with the new list; the hot-leads query
-- repeats that list and stays on the index. On PostgreSQL the event id is
-- carried too, so the few signals shown read their details (quote number,
-- asset title) by primary key; SQLite has the rowid in every index already.
DROP INDEX events_signal_time;
-- +sqlite
CREATE INDEX events_signal_time ON events (workspace_id, occurred_at, contact_id, kind, path)
    WHERE contact_id IS NOT NULL AND kind IN ('email_click', 'form_submit', 'content_view', 'quote_view');
-- +end
-- +postgres
CREATE INDEX events_signal_time ON events (workspace_id, occurred_at, contact_id, kind, path) INCLUDE (id)
    WHERE contact_id IS NOT NULL AND kind IN ('email_click', 'form_submit', 'content_view', 'quote_view');
-- +end
