-- Saved list views: a name and the list's query (filters, columns, sort),
-- private to their owner or shared with the owner's team.
CREATE TABLE saved_views (
    {{ID}},
    workspace_id BIGINT NOT NULL,
    user_id BIGINT NOT NULL,
    object_type TEXT NOT NULL,
    name TEXT NOT NULL,
    query TEXT NOT NULL,
    team_id BIGINT,
    created_at BIGINT NOT NULL,
    {{WSKEY}},
    FOREIGN KEY (workspace_id, user_id) REFERENCES users (workspace_id, id) ON DELETE CASCADE
);
CREATE INDEX saved_views_user ON saved_views (workspace_id, object_type, user_id);
CREATE INDEX saved_views_team ON saved_views (workspace_id, object_type, team_id);
