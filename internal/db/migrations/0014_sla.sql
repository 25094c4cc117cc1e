-- Follow-up SLA: policies by priority, team business calendars, and one
-- timer row per hand-off of a lead to a rep. Timers are rows, so they
-- survive restarts; a periodic job fires reminders, breaches and the
-- second limit.
CREATE TABLE sla_policies (
    workspace_id BIGINT NOT NULL,
    key TEXT NOT NULL,
    label_ja TEXT NOT NULL,
    label_en TEXT NOT NULL,
    position INTEGER NOT NULL DEFAULT 0,
    condition TEXT NOT NULL DEFAULT 'true',
    first_touch_minutes INTEGER NOT NULL,
    remind_before_minutes INTEGER NOT NULL DEFAULT 0,
    second_limit_minutes INTEGER NOT NULL DEFAULT 0,
    second_action TEXT NOT NULL DEFAULT 'none',
    PRIMARY KEY (workspace_id, key)
);

CREATE TABLE team_calendars (
    workspace_id BIGINT NOT NULL,
    team_id BIGINT NOT NULL,
    open_minute INTEGER NOT NULL DEFAULT 540,
    close_minute INTEGER NOT NULL DEFAULT 1080,
    weekdays TEXT NOT NULL DEFAULT '12345',
    holidays BOOLEAN NOT NULL DEFAULT TRUE,
    closures {{JSON}},
    PRIMARY KEY (workspace_id, team_id)
);

CREATE TABLE lead_slas (
    {{ID}},
    workspace_id BIGINT NOT NULL,
    contact_id BIGINT NOT NULL,
    owner_id BIGINT NOT NULL,
    team_id BIGINT,
    policy TEXT NOT NULL,
    channel TEXT NOT NULL DEFAULT '',
    state TEXT NOT NULL DEFAULT 'open',
    started_at BIGINT NOT NULL,
    remind_at BIGINT,
    due_at BIGINT NOT NULL,
    second_at BIGINT,
    reminded_at BIGINT,
    breached_at BIGINT,
    touched_at BIGINT,
    touch_kind TEXT NOT NULL DEFAULT '',
    response_seconds BIGINT,
    closed_at BIGINT,
    {{WSKEY}}
);
CREATE INDEX lead_slas_open ON lead_slas (workspace_id, state, due_at);
CREATE INDEX lead_slas_owner ON lead_slas (workspace_id, owner_id, state, due_at);
CREATE INDEX lead_slas_contact ON lead_slas (workspace_id, contact_id, state);
CREATE INDEX lead_slas_started ON lead_slas (workspace_id, started_at);
