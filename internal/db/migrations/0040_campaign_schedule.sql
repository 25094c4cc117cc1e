-- Email campaigns sent later, throttled and within a sending window (issue
-- 5 item 5). send_at: when the send starts (NULL: when Send was called);
-- per_minute: at most this many recipients handled per minute (0: no
-- limit); window_start/window_end: hours of the day in the workspace's time
-- zone within which mail goes out (equal: any time).
ALTER TABLE email_campaigns ADD COLUMN send_at BIGINT;
ALTER TABLE email_campaigns ADD COLUMN per_minute INTEGER NOT NULL DEFAULT 0;
ALTER TABLE email_campaigns ADD COLUMN window_start INTEGER NOT NULL DEFAULT 0;
ALTER TABLE email_campaigns ADD COLUMN window_end INTEGER NOT NULL DEFAULT 0;
