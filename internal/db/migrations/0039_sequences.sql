-- Sales sequences (issue 6, item 6): a rep's personal series of timed emails,
-- calls and tasks. A sequence holds its steps as JSON (delay in business days
-- from the previous step, action). Each contact a rep enrols is a row of
-- sequence_enrolments (current step index, when it is next due, status); each
-- step an enrolment executed is a row of sequence_step_runs whose key
-- (enrolment, step) is inserted first, ON CONFLICT DO NOTHING, in the same
-- transaction as the step's work and the enrolment's move, so a step never
-- runs twice. See docs/adr/0016-sequences.md.
CREATE TABLE sequences (
    {{ID}},
    workspace_id BIGINT NOT NULL,
    name TEXT NOT NULL,
    owner_id BIGINT NOT NULL,
    shared BOOLEAN NOT NULL DEFAULT TRUE,
    steps {{JSON}} NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    {{WSKEY}}
);
CREATE INDEX sequences_owner ON sequences (workspace_id, owner_id);

CREATE TABLE sequence_enrolments (
    {{ID}},
    workspace_id BIGINT NOT NULL,
    sequence_id BIGINT NOT NULL,
    contact_id BIGINT NOT NULL,
    user_id BIGINT NOT NULL,
    status TEXT NOT NULL DEFAULT 'active',
    step_index BIGINT NOT NULL DEFAULT 0,
    next_run_at BIGINT NOT NULL,
    end_reason TEXT NOT NULL DEFAULT '',
    last_error TEXT NOT NULL DEFAULT '',
    attempts BIGINT NOT NULL DEFAULT 0,
    enrolled_at BIGINT NOT NULL,
    ended_at BIGINT,
    {{WSKEY}},
    FOREIGN KEY (workspace_id, sequence_id) REFERENCES sequences (workspace_id, id) ON DELETE CASCADE,
    FOREIGN KEY (workspace_id, contact_id) REFERENCES contacts (workspace_id, id) ON DELETE CASCADE
);
-- One active enrolment per contact and sequence.
CREATE UNIQUE INDEX sequence_enrolments_active ON sequence_enrolments (workspace_id, sequence_id, contact_id) WHERE status = 'active';
CREATE INDEX sequence_enrolments_due ON sequence_enrolments (status, next_run_at) WHERE status = 'active';
CREATE INDEX sequence_enrolments_sequence ON sequence_enrolments (workspace_id, sequence_id, status);
CREATE INDEX sequence_enrolments_contact ON sequence_enrolments (workspace_id, contact_id);

CREATE TABLE sequence_step_runs (
    workspace_id BIGINT NOT NULL,
    enrolment_id BIGINT NOT NULL,
    step_index BIGINT NOT NULL,
    action TEXT NOT NULL,
    outcome TEXT NOT NULL DEFAULT '',
    ref_id BIGINT,
    ran_at BIGINT NOT NULL,
    PRIMARY KEY (workspace_id, enrolment_id, step_index),
    FOREIGN KEY (workspace_id, enrolment_id) REFERENCES sequence_enrolments (workspace_id, id) ON DELETE CASCADE
);
