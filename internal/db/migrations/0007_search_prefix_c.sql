-- PostgreSQL: the name-prefix index in byte order (COLLATE "C"), so a short
-- search both finds its range and lists it in name order from the index, in
-- any database collation. SQLite compares bytes already.
-- +postgres
DROP INDEX IF EXISTS contacts_search_prefix;
CREATE INDEX contacts_search_prefix ON contacts (workspace_id, search_text COLLATE "C");
-- +end
