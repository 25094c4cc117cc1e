-- The today page reads a rep's open tasks by due date and quiet deals by last
-- activity, each in (time, id) order, 20–50 rows; the home page and the
-- activity list read a user's open tasks soonest due first, undated last
-- (COALESCE(due_at, the largest bigint), id). No index had those orders, so
-- at size L PostgreSQL fetched and sorted all of a rep's 8,352 overdue tasks
-- (70–160 ms; the home page's 12 tasks 120 ms–2 s) and 2,652 open deals
-- (20–45 ms) for every page. SQLite has the rowid in every index already, but
-- not the expression.
DROP INDEX deals_owner_activity;
CREATE INDEX deals_owner_activity ON deals (workspace_id, owner_id, status, last_activity_at, id);
CREATE INDEX activities_open_tasks ON activities (workspace_id, owner_id, (COALESCE(due_at, 9223372036854775807)), id)
    WHERE kind = 'task' AND done_at IS NULL;
