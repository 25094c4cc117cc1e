-- Journeys (nurture): a trigger and a list of steps. Every contact's place in
-- a journey is an enrolment row (current step, when it is next due, status);
-- every step an enrolment executed is a row of journey_step_runs whose key
-- (enrolment, step) is written in the same transaction as the enrolment's
-- move, so a step never runs twice (branches only jump forward, so an
-- enrolment visits each step at most once). See docs/adr/0012-journeys.md.
CREATE TABLE journeys (
    {{ID}},
    workspace_id BIGINT NOT NULL,
    name TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    status TEXT NOT NULL DEFAULT 'draft',
    definition {{JSON}} NOT NULL,
    allow_reentry BOOLEAN NOT NULL DEFAULT FALSE,
    enrolled_count BIGINT NOT NULL DEFAULT 0,
    activated_at BIGINT,
    created_by BIGINT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    {{WSKEY}}
);
CREATE UNIQUE INDEX journeys_name ON journeys (workspace_id, name);

CREATE TABLE journey_enrolments (
    {{ID}},
    workspace_id BIGINT NOT NULL,
    journey_id BIGINT NOT NULL,
    contact_id BIGINT NOT NULL,
    status TEXT NOT NULL DEFAULT 'active',
    current_step TEXT NOT NULL,
    step_entered_at BIGINT NOT NULL,
    next_run_at BIGINT NOT NULL,
    trigger_ref TEXT NOT NULL DEFAULT '',
    exit_reason TEXT NOT NULL DEFAULT '',
    last_error TEXT NOT NULL DEFAULT '',
    attempts BIGINT NOT NULL DEFAULT 0,
    enrolled_at BIGINT NOT NULL,
    ended_at BIGINT,
    {{WSKEY}},
    FOREIGN KEY (workspace_id, journey_id) REFERENCES journeys (workspace_id, id) ON DELETE CASCADE,
    FOREIGN KEY (workspace_id, contact_id) REFERENCES contacts (workspace_id, id) ON DELETE CASCADE
);
-- At most one running enrolment per contact and journey.
CREATE UNIQUE INDEX journey_enrolments_running ON journey_enrolments (workspace_id, journey_id, contact_id) WHERE status = 'active';
CREATE INDEX journey_enrolments_due ON journey_enrolments (status, next_run_at) WHERE status = 'active';
CREATE INDEX journey_enrolments_journey ON journey_enrolments (workspace_id, journey_id, status, current_step);
CREATE INDEX journey_enrolments_contact ON journey_enrolments (workspace_id, contact_id);

CREATE TABLE journey_step_runs (
    workspace_id BIGINT NOT NULL,
    enrolment_id BIGINT NOT NULL,
    journey_id BIGINT NOT NULL,
    step_id TEXT NOT NULL,
    outcome TEXT NOT NULL DEFAULT '',
    ran_at BIGINT NOT NULL,
    PRIMARY KEY (workspace_id, enrolment_id, step_id),
    FOREIGN KEY (workspace_id, enrolment_id) REFERENCES journey_enrolments (workspace_id, id) ON DELETE CASCADE
);
CREATE INDEX journey_step_runs_journey ON journey_step_runs (workspace_id, journey_id, step_id);

-- The automated email campaign (send log, tracking) behind each email step.
CREATE TABLE journey_emails (
    workspace_id BIGINT NOT NULL,
    journey_id BIGINT NOT NULL,
    step_id TEXT NOT NULL,
    campaign_id BIGINT NOT NULL,
    PRIMARY KEY (workspace_id, journey_id, step_id),
    FOREIGN KEY (workspace_id, journey_id) REFERENCES journeys (workspace_id, id) ON DELETE CASCADE
);
