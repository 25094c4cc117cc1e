-- A rep's hot leads are read from the rep's own rows. Before, the today page
-- scanned every known contact's re-engagement signals of the last day in the
-- workspace (two partial indexes over events) and then kept the rep's: at
-- size L with a busy day that was 1,800,000 events looked up for 20 rows.
-- contact_signals holds each contact's newest signal time with the contact's
-- owner beside it (kept current by a trigger, whatever path changes the
-- owner), so the page reads an index range of (owner, time) and then each
-- listed contact's own events. The ingest writes one row per contact and
-- batch instead of two partial-index entries per event.
CREATE TABLE contact_signals (
    workspace_id BIGINT NOT NULL,
    contact_id BIGINT NOT NULL,
    owner_id BIGINT,
    last_at BIGINT NOT NULL,
    PRIMARY KEY (workspace_id, contact_id),
    FOREIGN KEY (workspace_id, contact_id) REFERENCES contacts (workspace_id, id) ON DELETE CASCADE
);
CREATE INDEX contact_signals_owner ON contact_signals (workspace_id, owner_id, last_at);

-- +sqlite
CREATE TRIGGER contact_signals_owner_au AFTER UPDATE OF owner_id ON contacts
WHEN old.owner_id IS NOT new.owner_id BEGIN
    UPDATE contact_signals SET owner_id = new.owner_id WHERE workspace_id = new.workspace_id AND contact_id = new.id;
END;
-- The last week's signals, read through the partial indexes while they exist.
INSERT INTO contact_signals (workspace_id, contact_id, owner_id, last_at)
SELECT s.workspace_id, s.contact_id, c.owner_id, s.at FROM (
    SELECT e.workspace_id, e.contact_id, MAX(e.occurred_at) AS at FROM workspaces w JOIN events e ON e.workspace_id = w.id
    WHERE e.occurred_at >= (CAST(strftime('%s', 'now') AS INTEGER) - 7 * 86400) * 1000 AND e.contact_id IS NOT NULL
      AND (e.kind IN ('email_click', 'form_submit', 'content_view', 'quote_view')
        OR (e.kind = 'page_view' AND e.path IN ('/pricing', '/pricing/', '/price', '/plans', '/ja/pricing', '/en/pricing')))
    GROUP BY e.workspace_id, e.contact_id
) s JOIN contacts c ON c.workspace_id = s.workspace_id AND c.id = s.contact_id;
-- +end

-- +postgres
CREATE FUNCTION contact_signals_owner() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE contact_signals SET owner_id = NEW.owner_id WHERE workspace_id = NEW.workspace_id AND contact_id = NEW.id;
    RETURN NULL;
END
$$;
CREATE TRIGGER contact_signals_owner_au AFTER UPDATE OF owner_id ON contacts
FOR EACH ROW WHEN (OLD.owner_id IS DISTINCT FROM NEW.owner_id) EXECUTE FUNCTION contact_signals_owner();
INSERT INTO contact_signals (workspace_id, contact_id, owner_id, last_at)
SELECT s.workspace_id, s.contact_id, c.owner_id, s.at FROM (
    SELECT e.workspace_id, e.contact_id, MAX(e.occurred_at) AS at FROM workspaces w JOIN events e ON e.workspace_id = w.id
    WHERE e.occurred_at >= (EXTRACT(EPOCH FROM now())::BIGINT - 7 * 86400) * 1000 AND e.contact_id IS NOT NULL
      AND (e.kind IN ('email_click', 'form_submit', 'content_view', 'quote_view')
        OR (e.kind = 'page_view' AND e.path IN ('/pricing', '/pricing/', '/price', '/plans', '/ja/pricing', '/en/pricing')))
    GROUP BY e.workspace_id, e.contact_id
) s JOIN contacts c ON c.workspace_id = s.workspace_id AND c.id = s.contact_id;
-- +end

DROP INDEX events_signal_time;
DROP INDEX events_known_page;
