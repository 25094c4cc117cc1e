-- A merge of two records: the one removed (its whole row), the fields the
-- kept one took from it, and every row moved from one to the other, so the
-- merge can be undone within a period.
CREATE TABLE merges (
    {{ID}},
    workspace_id BIGINT NOT NULL,
    object_type TEXT NOT NULL,
    kept_id BIGINT NOT NULL,
    removed_id BIGINT NOT NULL,
    removed_row {{JSON}} NOT NULL,
    kept_before {{JSON}},
    moved {{JSON}} NOT NULL,
    status TEXT NOT NULL DEFAULT 'running',
    actor_user_id BIGINT,
    at BIGINT NOT NULL,
    undone_at BIGINT,
    {{WSKEY}}
);
CREATE INDEX merges_kept ON merges (workspace_id, object_type, kept_id);
