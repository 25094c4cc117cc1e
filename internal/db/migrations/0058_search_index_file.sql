-- SQLite: the trigram search index of contacts and companies moves out of the
-- main database into its own file (ryorin.search.db beside it), kept in step
-- by db's search indexer from the queue below (ADR 0028). Filling FTS5 by
-- trigger inside every write transaction was about three quarters of the
-- cost of inserting a contact (tokenising, and merging the small segments
-- that many short transactions leave), paid on the single writer. A queue
-- row is an append to one B-tree. PostgreSQL keeps its pg_trgm indexes.

-- +sqlite
DROP TRIGGER contacts_fts_ai;
DROP TRIGGER contacts_fts_ad;
DROP TRIGGER contacts_fts_au;
DROP TRIGGER companies_fts_ai;
DROP TRIGGER companies_fts_ad;
DROP TRIGGER companies_fts_au;
DROP TABLE contacts_fts;
DROP TABLE companies_fts;

-- Rows whose search text may have changed, in commit order (AUTOINCREMENT:
-- a sequence number is never handed out twice). The indexer deletes what
-- it has applied.
CREATE TABLE search_queue (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    workspace_id BIGINT NOT NULL,
    tbl TEXT NOT NULL,
    row_id BIGINT NOT NULL
);
CREATE TRIGGER contacts_search_ai AFTER INSERT ON contacts BEGIN
    INSERT INTO search_queue (workspace_id, tbl, row_id) VALUES (new.workspace_id, 'contacts', new.id);
END;
CREATE TRIGGER contacts_search_au AFTER UPDATE OF search_text ON contacts BEGIN
    INSERT INTO search_queue (workspace_id, tbl, row_id) VALUES (new.workspace_id, 'contacts', new.id);
END;
CREATE TRIGGER contacts_search_ad AFTER DELETE ON contacts BEGIN
    INSERT INTO search_queue (workspace_id, tbl, row_id) VALUES (old.workspace_id, 'contacts', old.id);
END;
CREATE TRIGGER companies_search_ai AFTER INSERT ON companies BEGIN
    INSERT INTO search_queue (workspace_id, tbl, row_id) VALUES (new.workspace_id, 'companies', new.id);
END;
CREATE TRIGGER companies_search_au AFTER UPDATE OF search_text ON companies BEGIN
    INSERT INTO search_queue (workspace_id, tbl, row_id) VALUES (new.workspace_id, 'companies', new.id);
END;
CREATE TRIGGER companies_search_ad AFTER DELETE ON companies BEGIN
    INSERT INTO search_queue (workspace_id, tbl, row_id) VALUES (old.workspace_id, 'companies', old.id);
END;
-- +end
