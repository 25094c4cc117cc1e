-- A/B tests of email campaigns (issue 5 item 5): variant B's subject and
-- bodies (empty: the same as A), the share of the audience in the test, the
-- metric that picks the winner and how long to wait for it. ab_phase walks
-- the send: 'test' (the sample, split A/B), then 'rest' (everyone else, with
-- the winner); ab_winner is set once, when the rest starts.
ALTER TABLE email_campaigns ADD COLUMN ab_subject TEXT NOT NULL DEFAULT '';
ALTER TABLE email_campaigns ADD COLUMN ab_html TEXT NOT NULL DEFAULT '';
ALTER TABLE email_campaigns ADD COLUMN ab_text TEXT NOT NULL DEFAULT '';
ALTER TABLE email_campaigns ADD COLUMN ab_sample INTEGER NOT NULL DEFAULT 0;
ALTER TABLE email_campaigns ADD COLUMN ab_metric TEXT NOT NULL DEFAULT 'opens';
ALTER TABLE email_campaigns ADD COLUMN ab_wait_minutes INTEGER NOT NULL DEFAULT 240;
ALTER TABLE email_campaigns ADD COLUMN ab_phase TEXT NOT NULL DEFAULT '';
ALTER TABLE email_campaigns ADD COLUMN ab_winner TEXT NOT NULL DEFAULT '';
ALTER TABLE campaign_recipients ADD COLUMN variant TEXT NOT NULL DEFAULT '';
