-- Goal plans (逆算): a revenue goal for a fiscal quarter or year worked back
-- through average deal size and conversion rates to the visits, leads,
-- MQLs, SQLs, opportunities and won deals needed, split by month and by
-- channel. A plan is a draft until a marketing-team member and a sales-team
-- member (two people) approve it; then it is the active plan, compared with
-- actuals every day (pacing).
CREATE TABLE goal_plans (
    {{ID}},
    workspace_id BIGINT NOT NULL,
    name TEXT NOT NULL,
    period_kind TEXT NOT NULL,
    period_start BIGINT NOT NULL,
    period_end BIGINT NOT NULL,
    revenue_goal BIGINT NOT NULL,
    body {{JSON}},
    status TEXT NOT NULL DEFAULT 'draft',
    marketing_approved_by BIGINT,
    marketing_approved_at BIGINT,
    sales_approved_by BIGINT,
    sales_approved_at BIGINT,
    pacing_threshold DOUBLE PRECISION NOT NULL DEFAULT 0.9,
    created_by BIGINT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    {{WSKEY}}
);
CREATE INDEX goal_plans_status ON goal_plans (workspace_id, status, period_start);
