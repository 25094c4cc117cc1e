-- Sales feedback on leads: accept (→ SQL) or reject with a reason from a
-- configurable list, a note and a quality rating.
CREATE TABLE feedback_reasons (
    workspace_id BIGINT NOT NULL,
    key TEXT NOT NULL,
    label_ja TEXT NOT NULL,
    label_en TEXT NOT NULL,
    outcome TEXT NOT NULL DEFAULT 'recycle',
    position INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (workspace_id, key)
);

CREATE TABLE lead_feedback (
    {{ID}},
    workspace_id BIGINT NOT NULL,
    contact_id BIGINT NOT NULL,
    user_id BIGINT,
    decision TEXT NOT NULL,
    reason TEXT NOT NULL DEFAULT '',
    note TEXT NOT NULL DEFAULT '',
    rating INTEGER NOT NULL DEFAULT 0,
    at BIGINT NOT NULL,
    {{WSKEY}}
);
CREATE INDEX lead_feedback_contact ON lead_feedback (workspace_id, contact_id, at);
CREATE INDEX lead_feedback_reason ON lead_feedback (workspace_id, reason, at);
