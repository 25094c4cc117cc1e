-- Customer voice: a rep marks a call, meeting or deal note as what the
-- customer said about pricing, features, competitors…, optionally naming the
-- campaign it concerns, for marketing's feedback feed.
ALTER TABLE activities ADD COLUMN voice_topic TEXT NOT NULL DEFAULT '';
ALTER TABLE activities ADD COLUMN voice_campaign TEXT NOT NULL DEFAULT '';
CREATE INDEX activities_voice ON activities (workspace_id, occurred_at) WHERE voice_topic <> '';
