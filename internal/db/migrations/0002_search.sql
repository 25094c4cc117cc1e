-- Partial-match name search that stays fast at a million rows, Japanese
-- included: a trigram index on the folded search_text. SQLite uses an FTS5
-- table with the trigram tokenizer kept in step by triggers; PostgreSQL uses
-- pg_trgm. Queries shorter than three characters use a prefix range instead
-- (see crm.searchCond). A plain index serves those prefix ranges.

-- +sqlite
CREATE INDEX contacts_search_prefix ON contacts (workspace_id, search_text);
CREATE INDEX companies_search_prefix ON companies (workspace_id, search_text);
CREATE INDEX deals_search_prefix ON deals (workspace_id, search_text);

CREATE VIRTUAL TABLE contacts_fts USING fts5(search_text, content='contacts', content_rowid='id', tokenize='trigram');
CREATE TRIGGER contacts_fts_ai AFTER INSERT ON contacts BEGIN
    INSERT INTO contacts_fts (rowid, search_text) VALUES (new.id, new.search_text);
END;
CREATE TRIGGER contacts_fts_ad AFTER DELETE ON contacts BEGIN
    INSERT INTO contacts_fts (contacts_fts, rowid, search_text) VALUES ('delete', old.id, old.search_text);
END;
CREATE TRIGGER contacts_fts_au AFTER UPDATE OF search_text ON contacts BEGIN
    INSERT INTO contacts_fts (contacts_fts, rowid, search_text) VALUES ('delete', old.id, old.search_text);
    INSERT INTO contacts_fts (rowid, search_text) VALUES (new.id, new.search_text);
END;
INSERT INTO contacts_fts (contacts_fts) VALUES ('rebuild');

CREATE VIRTUAL TABLE companies_fts USING fts5(search_text, content='companies', content_rowid='id', tokenize='trigram');
CREATE TRIGGER companies_fts_ai AFTER INSERT ON companies BEGIN
    INSERT INTO companies_fts (rowid, search_text) VALUES (new.id, new.search_text);
END;
CREATE TRIGGER companies_fts_ad AFTER DELETE ON companies BEGIN
    INSERT INTO companies_fts (companies_fts, rowid, search_text) VALUES ('delete', old.id, old.search_text);
END;
CREATE TRIGGER companies_fts_au AFTER UPDATE OF search_text ON companies BEGIN
    INSERT INTO companies_fts (companies_fts, rowid, search_text) VALUES ('delete', old.id, old.search_text);
    INSERT INTO companies_fts (rowid, search_text) VALUES (new.id, new.search_text);
END;
INSERT INTO companies_fts (companies_fts) VALUES ('rebuild');
-- +end

-- +postgres
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE INDEX contacts_search_prefix ON contacts (workspace_id, search_text text_pattern_ops);
CREATE INDEX companies_search_prefix ON companies (workspace_id, search_text text_pattern_ops);
CREATE INDEX deals_search_prefix ON deals (workspace_id, search_text text_pattern_ops);
CREATE INDEX contacts_search_trgm ON contacts USING gin (search_text gin_trgm_ops);
CREATE INDEX companies_search_trgm ON companies USING gin (search_text gin_trgm_ops);
CREATE INDEX deals_search_trgm ON deals USING gin (search_text gin_trgm_ops);
-- +end
