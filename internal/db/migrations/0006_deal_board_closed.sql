-- The deal board's won and lost columns show recently closed deals: a range on
-- closed_at within the stage. (A wide covering index tried for the board's
-- totals is gone: the running totals table replaced it, and SQLite's planner
-- preferred it over better indexes.)
DROP INDEX IF EXISTS deals_board;
CREATE INDEX deals_stage_closed ON deals (workspace_id, stage_id, closed_at, id);
