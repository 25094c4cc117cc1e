-- Lead definitions: versioned rule sets both teams approve (issue 4).
CREATE TABLE lead_definitions (
    {{ID}},
    workspace_id BIGINT NOT NULL,
    version INTEGER NOT NULL,
    status TEXT NOT NULL DEFAULT 'draft',
    body {{JSON}} NOT NULL,
    change_note TEXT NOT NULL DEFAULT '',
    created_by BIGINT,
    created_at BIGINT NOT NULL,
    activated_at BIGINT,
    {{WSKEY}},
    UNIQUE (workspace_id, version)
);
CREATE INDEX lead_definitions_status ON lead_definitions (workspace_id, status);

CREATE TABLE lead_definition_approvals (
    workspace_id BIGINT NOT NULL,
    definition_id BIGINT NOT NULL,
    side TEXT NOT NULL,
    user_id BIGINT,
    note TEXT NOT NULL DEFAULT '',
    at BIGINT NOT NULL,
    PRIMARY KEY (workspace_id, definition_id, side)
);
