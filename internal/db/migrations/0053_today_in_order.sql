-- The today page reads a rep's open tasks by due date and quiet deals by last
-- activity, each in (time, id) order, 20–50 rows. Without the id in the index
-- PostgreSQL could not read them in that order: at size L it fetched and
-- sorted the rep's 8,352 overdue tasks (70–160 ms) and 2,652 open deals
-- (20–45 ms) for every page. SQLite has the rowid in every index already.
DROP INDEX deals_owner_activity;
CREATE INDEX deals_owner_activity ON deals (workspace_id, owner_id, status, last_activity_at, id);
CREATE INDEX activities_open_tasks ON activities (workspace_id, owner_id, due_at, id) WHERE kind = 'task' AND done_at IS NULL;
