-- The content library (issue 5, item 7): case studies, white papers, slides
-- and links shared by marketing and sales. An asset is an external URL or an
-- uploaded file; a file's bytes live in content_files (one row per asset) so
-- they behave the same on both engines and are in every backup (ADR 0017).
-- key is the random, unguessable part of the asset's public page (/c/{key}).
-- form_id gates the public page behind a marketing form.
CREATE TABLE content_assets (
    {{ID}},
    workspace_id BIGINT NOT NULL,
    key TEXT NOT NULL,
    kind TEXT NOT NULL,
    title TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    url TEXT NOT NULL DEFAULT '',
    file_name TEXT NOT NULL DEFAULT '',
    content_type TEXT NOT NULL DEFAULT '',
    file_size BIGINT NOT NULL DEFAULT 0,
    industry TEXT NOT NULL DEFAULT '',
    stage TEXT NOT NULL DEFAULT '',
    form_id BIGINT,
    status TEXT NOT NULL DEFAULT 'draft',
    views BIGINT NOT NULL DEFAULT 0,
    created_by BIGINT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    {{WSKEY}}
);
CREATE UNIQUE INDEX content_assets_key ON content_assets (workspace_id, key);
CREATE INDEX content_assets_updated ON content_assets (workspace_id, status, updated_at);

-- Free topic tags, one row each, so filtering by topic is a plain join on
-- both engines.
CREATE TABLE content_topics (
    workspace_id BIGINT NOT NULL,
    asset_id BIGINT NOT NULL,
    topic TEXT NOT NULL,
    PRIMARY KEY (workspace_id, asset_id, topic),
    FOREIGN KEY (workspace_id, asset_id) REFERENCES content_assets (workspace_id, id) ON DELETE CASCADE
);
CREATE INDEX content_topics_topic ON content_topics (workspace_id, topic);

CREATE TABLE content_files (
    workspace_id BIGINT NOT NULL,
    asset_id BIGINT NOT NULL,
    data {{BLOB}} NOT NULL,
    PRIMARY KEY (workspace_id, asset_id),
    FOREIGN KEY (workspace_id, asset_id) REFERENCES content_assets (workspace_id, id) ON DELETE CASCADE
);

-- Every view of an asset: from a rep's share link (contact and rep known),
-- after a gated form (contact known) or on the open public page (anonymous).
CREATE TABLE content_views (
    {{ID}},
    workspace_id BIGINT NOT NULL,
    asset_id BIGINT NOT NULL,
    contact_id BIGINT,
    shared_by BIGINT,
    source TEXT NOT NULL,
    at BIGINT NOT NULL,
    {{WSKEY}},
    FOREIGN KEY (workspace_id, asset_id) REFERENCES content_assets (workspace_id, id) ON DELETE CASCADE
);
CREATE INDEX content_views_asset ON content_views (workspace_id, asset_id, at);
CREATE INDEX content_views_contact ON content_views (workspace_id, contact_id, asset_id, at);

-- Battle cards: content assets a competitor's page links to.
CREATE TABLE competitor_content (
    workspace_id BIGINT NOT NULL,
    competitor_id BIGINT NOT NULL,
    asset_id BIGINT NOT NULL,
    PRIMARY KEY (workspace_id, competitor_id, asset_id),
    FOREIGN KEY (workspace_id, competitor_id) REFERENCES competitors (workspace_id, id) ON DELETE CASCADE,
    FOREIGN KEY (workspace_id, asset_id) REFERENCES content_assets (workspace_id, id) ON DELETE CASCADE
);
