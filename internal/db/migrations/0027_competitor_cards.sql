-- Competitors as records: a battle card (strengths, weaknesses, pricing
-- notes) and news anyone can post, which reaches every rep with an open deal
-- against that competitor.
ALTER TABLE competitors ADD COLUMN strengths TEXT NOT NULL DEFAULT '';
ALTER TABLE competitors ADD COLUMN weaknesses TEXT NOT NULL DEFAULT '';
ALTER TABLE competitors ADD COLUMN pricing TEXT NOT NULL DEFAULT '';

CREATE TABLE competitor_news (
    {{ID}},
    workspace_id BIGINT NOT NULL,
    competitor_id BIGINT NOT NULL,
    title TEXT NOT NULL,
    body TEXT NOT NULL DEFAULT '',
    url TEXT NOT NULL DEFAULT '',
    posted_by BIGINT,
    at BIGINT NOT NULL,
    {{WSKEY}}
);
CREATE INDEX competitor_news_competitor ON competitor_news (workspace_id, competitor_id, at);
