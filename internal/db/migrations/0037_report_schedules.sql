-- Reports emailed on a schedule (issue 8: the alignment report to chosen
-- users, in each user's language). last_sent_for is the start of the last
-- period sent; claiming a period moves it in the same transaction that
-- queues the mails, so a period is sent once.
CREATE TABLE report_schedules (
    {{ID}},
    workspace_id BIGINT NOT NULL,
    kind TEXT NOT NULL,
    period TEXT NOT NULL,
    weekday INTEGER NOT NULL DEFAULT 1,
    hour INTEGER NOT NULL DEFAULT 8,
    recipients {{JSON}},
    last_sent_for BIGINT,
    created_by BIGINT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    {{WSKEY}}
);
