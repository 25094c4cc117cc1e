-- CSV imports (internal/dataio). An import is a row in imports; its file is
-- kept in import_chunks (so every server of a PostgreSQL install can read it)
-- until the import finishes. The job commits rows in bounded batches, and each
-- batch moves imports.rows_done (data rows consumed) in the same transaction, so
-- a restart resumes after the last committed row and never imports one twice.
-- import_records is the undo log: per batch, one row listing the ids of the
-- records it created (record_id is the first, before holds them all), and one
-- row per record it updated with the changed fields' values before the import.
CREATE TABLE imports (
    {{ID}},
    workspace_id BIGINT NOT NULL,
    object_type TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'draft',
    mode TEXT NOT NULL DEFAULT 'update',
    file_name TEXT NOT NULL DEFAULT '',
    file_size BIGINT NOT NULL DEFAULT 0,
    encoding TEXT NOT NULL DEFAULT '',
    header {{JSON}},
    mapping {{JSON}},
    total_rows BIGINT NOT NULL DEFAULT 0,
    rows_done BIGINT NOT NULL DEFAULT 0,
    created_count BIGINT NOT NULL DEFAULT 0,
    updated_count BIGINT NOT NULL DEFAULT 0,
    skipped_count BIGINT NOT NULL DEFAULT 0,
    failed_count BIGINT NOT NULL DEFAULT 0,
    companies_created BIGINT NOT NULL DEFAULT 0,
    error TEXT NOT NULL DEFAULT '',
    locked_by TEXT NOT NULL DEFAULT '',
    locked_until BIGINT,
    created_by BIGINT,
    created_at BIGINT NOT NULL,
    started_at BIGINT,
    finished_at BIGINT,
    undone_at BIGINT,
    {{WSKEY}}
);
CREATE INDEX imports_created ON imports (workspace_id, created_at);

CREATE TABLE import_chunks (
    workspace_id BIGINT NOT NULL,
    import_id BIGINT NOT NULL,
    seq INTEGER NOT NULL,
    data {{BLOB}} NOT NULL,
    PRIMARY KEY (workspace_id, import_id, seq)
);

CREATE TABLE import_errors (
    {{ID}},
    workspace_id BIGINT NOT NULL,
    import_id BIGINT NOT NULL,
    line BIGINT NOT NULL,
    field TEXT NOT NULL DEFAULT '',
    reason TEXT NOT NULL,
    raw TEXT NOT NULL DEFAULT '',
    {{WSKEY}}
);
CREATE INDEX import_errors_import ON import_errors (workspace_id, import_id, line);

CREATE TABLE import_records (
    {{ID}},
    workspace_id BIGINT NOT NULL,
    import_id BIGINT NOT NULL,
    object_type TEXT NOT NULL,
    record_id BIGINT NOT NULL,
    action TEXT NOT NULL,
    before {{JSON}},
    {{WSKEY}}
);
CREATE INDEX import_records_import ON import_records (workspace_id, import_id, id);
