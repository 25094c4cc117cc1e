-- Static lists and dynamic segments. A list's members are added and removed
-- by people; a segment's members are what its definition (filter groups,
-- stored as JSON) matches, kept current by the segment refresher, which
-- records segment_entered / segment_left events as membership changes.
CREATE TABLE contact_lists (
    {{ID}},
    workspace_id BIGINT NOT NULL,
    name TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    created_by BIGINT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    {{WSKEY}}
);
CREATE UNIQUE INDEX contact_lists_name ON contact_lists (workspace_id, name);

CREATE TABLE list_members (
    workspace_id BIGINT NOT NULL,
    list_id BIGINT NOT NULL,
    contact_id BIGINT NOT NULL,
    added_at BIGINT NOT NULL,
    PRIMARY KEY (workspace_id, list_id, contact_id),
    FOREIGN KEY (workspace_id, list_id) REFERENCES contact_lists (workspace_id, id) ON DELETE CASCADE,
    FOREIGN KEY (workspace_id, contact_id) REFERENCES contacts (workspace_id, id) ON DELETE CASCADE
);
CREATE INDEX list_members_contact ON list_members (workspace_id, contact_id);

CREATE TABLE segments (
    {{ID}},
    workspace_id BIGINT NOT NULL,
    name TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    definition {{JSON}} NOT NULL,
    member_count BIGINT NOT NULL DEFAULT 0,
    refreshed_at BIGINT,
    filled_at BIGINT,
    created_by BIGINT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    {{WSKEY}}
);
CREATE UNIQUE INDEX segments_name ON segments (workspace_id, name);

CREATE TABLE segment_members (
    workspace_id BIGINT NOT NULL,
    segment_id BIGINT NOT NULL,
    contact_id BIGINT NOT NULL,
    entered_at BIGINT NOT NULL,
    PRIMARY KEY (workspace_id, segment_id, contact_id),
    FOREIGN KEY (workspace_id, segment_id) REFERENCES segments (workspace_id, id) ON DELETE CASCADE,
    FOREIGN KEY (workspace_id, contact_id) REFERENCES contacts (workspace_id, id) ON DELETE CASCADE
);
CREATE INDEX segment_members_contact ON segment_members (workspace_id, contact_id);
