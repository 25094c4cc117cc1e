-- The rep's day: the today page, the private calendar feed and the daily
-- report (日報).

-- Per-workspace settings of the sales workspace. stale_deal_days is how long
-- an open deal may go without activity before the today page lists it.
CREATE TABLE sales_settings (
    workspace_id BIGINT NOT NULL,
    stale_deal_days INTEGER NOT NULL DEFAULT 14,
    PRIMARY KEY (workspace_id)
);

-- A user's calendar feed URL is signed with the workspace key over the user
-- id and this version; "reset" bumps the version, so old URLs stop working.
-- No row means version 0.
CREATE TABLE calendar_feeds (
    workspace_id BIGINT NOT NULL,
    user_id BIGINT NOT NULL,
    version INTEGER NOT NULL DEFAULT 0,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (workspace_id, user_id)
);

-- One daily report per rep and calendar day (YYYY-MM-DD in the rep's time
-- zone). summary is the snapshot of what was logged, taken when submitted.
CREATE TABLE daily_reports (
    {{ID}},
    workspace_id BIGINT NOT NULL,
    user_id BIGINT NOT NULL,
    day TEXT NOT NULL,
    comment TEXT NOT NULL DEFAULT '',
    summary {{JSON}},
    submitted_at BIGINT,
    manager_comment TEXT NOT NULL DEFAULT '',
    manager_id BIGINT,
    commented_at BIGINT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    {{WSKEY}},
    UNIQUE (workspace_id, user_id, day),
    FOREIGN KEY (workspace_id, user_id) REFERENCES users (workspace_id, id),
    FOREIGN KEY (workspace_id, manager_id) REFERENCES users (workspace_id, id)
);
CREATE INDEX daily_reports_day ON daily_reports (workspace_id, day);

-- The today page and the daily report read one owner's activities of one day
-- (meetings by time; calls by outcome).
CREATE INDEX activities_owner_time ON activities (workspace_id, owner_id, kind, occurred_at);
-- The home page's recent activity (everyone's, newest first): without it a
-- workspace with a million activities sorts them all per request.
CREATE INDEX activities_recent ON activities (workspace_id, occurred_at, id);
-- Stale deals: one owner's open deals, least recently touched first.
CREATE INDEX deals_owner_activity ON deals (workspace_id, owner_id, status, last_activity_at);
-- Hot leads: known contacts' re-engagement signals of the last day. Partial
-- indexes over the few events that count (most events are anonymous page
-- views), with the columns the today page reads, so the scan stays small.
CREATE INDEX events_signal_time ON events (workspace_id, occurred_at, contact_id, kind, path)
    WHERE contact_id IS NOT NULL AND kind IN ('email_click', 'form_submit', 'content_view');
CREATE INDEX events_known_page ON events (workspace_id, path, occurred_at, contact_id)
    WHERE contact_id IS NOT NULL AND kind = 'page_view';
-- Deals moved, for the daily report: stage changes are a small part of the
-- timeline.
CREATE INDEX timeline_deal_moves ON timeline (workspace_id, at) WHERE kind IN ('deal.stage_changed', 'deal.won', 'deal.lost');

-- Monthly targets (quotas) per rep or per team: revenue in the workspace's
-- base currency (minor units) and a number of won deals.
CREATE TABLE sales_quotas (
    {{ID}},
    workspace_id BIGINT NOT NULL,
    scope TEXT NOT NULL,
    scope_id BIGINT NOT NULL,
    month TEXT NOT NULL,
    revenue BIGINT NOT NULL DEFAULT 0,
    deals INTEGER NOT NULL DEFAULT 0,
    updated_at BIGINT NOT NULL,
    {{WSKEY}},
    UNIQUE (workspace_id, scope, scope_id, month)
);
-- Closed-won this month per owner, for quota progress.
CREATE INDEX deals_owner_closed ON deals (workspace_id, owner_id, status, closed_at);
