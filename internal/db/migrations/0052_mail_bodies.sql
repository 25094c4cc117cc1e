-- Message bodies move from mail_messages to a table of their own. A
-- campaign's batch changes the status of its messages twice (queued →
-- sending → sent), and each change rewrote the whole row with its 2–3 KB of
-- text, HTML and headers: on SQLite 800 transactions of 50 such updates took
-- 3.2–3.4 s, 1.7–1.9 s with the bodies elsewhere (docs/benchmarks.md, ADR
-- 0025). A body is written once, read once to send it, and deleted with its
-- message by the code that deletes one (platform.DeleteMail, the privacy
-- erasure). There is no foreign key on purpose: on PostgreSQL its check is
-- a cached plan per connection, which, made while mail_messages was small,
-- went on scanning the whole table for each row of a 100-row insert (the
-- campaign job queued 20,000 messages in 18–35 s instead of 6–7 s).
CREATE TABLE mail_bodies (
    workspace_id BIGINT NOT NULL,
    mail_id BIGINT NOT NULL,
    text_body TEXT NOT NULL DEFAULT '',
    html_body TEXT NOT NULL DEFAULT '',
    headers {{JSON}},
    PRIMARY KEY (workspace_id, mail_id)
);

INSERT INTO mail_bodies (workspace_id, mail_id, text_body, html_body, headers)
SELECT workspace_id, id, text_body, html_body, headers FROM mail_messages;

ALTER TABLE mail_messages DROP COLUMN text_body;
ALTER TABLE mail_messages DROP COLUMN html_body;
ALTER TABLE mail_messages DROP COLUMN headers;
