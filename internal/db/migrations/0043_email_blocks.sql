-- Block emails and interest profiles (issue 5 item 4). blocks_json is the
-- campaign's block document ('' : a raw-HTML campaign); html_body and
-- text_body then hold what it compiles to, so sending reads them as before.
-- topics is a JSON array of the topics a campaign is about: a click in it
-- adds to the clicker's interest in them.
ALTER TABLE email_campaigns ADD COLUMN blocks_json TEXT NOT NULL DEFAULT '';
ALTER TABLE email_campaigns ADD COLUMN topics TEXT NOT NULL DEFAULT '';

-- Topic rules map a page's path prefix to a topic for interest profiles. A
-- workspace that has none uses the built-in defaults (interest.DefaultRules);
-- the "customised" row of interest_settings says the list was saved, so an
-- emptied list stays empty.
CREATE TABLE interest_topic_rules (
    workspace_id BIGINT NOT NULL,
    path_prefix TEXT NOT NULL,
    topic TEXT NOT NULL,
    position INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (workspace_id, path_prefix)
);
CREATE TABLE interest_settings (
    workspace_id BIGINT NOT NULL PRIMARY KEY,
    customised INTEGER NOT NULL DEFAULT 0,
    updated_at BIGINT NOT NULL
);
