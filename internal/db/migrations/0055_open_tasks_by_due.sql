-- A user's open tasks, soonest due first and undated last, as the home page
-- and the activity list order them (COALESCE(due_at, the largest bigint), id):
-- that order was an expression no index had, so at size L PostgreSQL fetched
-- and sorted all of a user's 8,000 open tasks for 12 of them (120 ms–2 s).
-- The partial index of migration 0053 is rebuilt on the expression; the today
-- page orders its overdue tasks the same way.
DROP INDEX activities_open_tasks;
CREATE INDEX activities_open_tasks ON activities (workspace_id, owner_id, (COALESCE(due_at, 9223372036854775807)), id)
    WHERE kind = 'task' AND done_at IS NULL;
