-- A rep's daily report counts the day's calls and emails by outcome. The
-- owner/time index found the rows, then each one was read from the table for
-- its outcome: at size L about 360 rows of a busy day, 16–70 ms on a cold
-- PostgreSQL cache. The outcome now rides in the index.
DROP INDEX activities_owner_time;
-- +sqlite
CREATE INDEX activities_owner_time ON activities (workspace_id, owner_id, kind, occurred_at, call_outcome);
-- +end
-- +postgres
CREATE INDEX activities_owner_time ON activities (workspace_id, owner_id, kind, occurred_at) INCLUDE (call_outcome);
-- +end
