-- Ryorin core schema. Every table carries workspace_id as part of its keys so
-- the schema can be distributed by workspace later. Times are epoch
-- milliseconds (BIGINT), calendar dates are 'YYYY-MM-DD' text, money is BIGINT
-- in the currency's minor unit. See docs/adr/0003-schema-conventions.md.

CREATE TABLE workspaces (
    id BIGINT PRIMARY KEY,
    name TEXT NOT NULL,
    time_zone TEXT NOT NULL DEFAULT 'Asia/Tokyo',
    fiscal_year_start_month INTEGER NOT NULL DEFAULT 4,
    week_start INTEGER NOT NULL DEFAULT 1,
    base_currency TEXT NOT NULL DEFAULT 'JPY',
    public_base_url TEXT NOT NULL DEFAULT '',
    trusted_proxies TEXT NOT NULL DEFAULT '',
    sales_own_records_only BOOLEAN NOT NULL DEFAULT FALSE,
    default_locale TEXT NOT NULL DEFAULT 'ja',
    signing_key TEXT NOT NULL,
    smtp {{JSON}},
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

CREATE TABLE exchange_rates (
    workspace_id BIGINT NOT NULL REFERENCES workspaces (id),
    currency TEXT NOT NULL,
    valid_from TEXT NOT NULL,
    rate DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (workspace_id, currency, valid_from)
);

CREATE TABLE teams (
    {{ID}},
    workspace_id BIGINT NOT NULL REFERENCES workspaces (id),
    name TEXT NOT NULL,
    function TEXT NOT NULL DEFAULT 'other',
    manager_id BIGINT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    {{WSKEY}},
    UNIQUE (workspace_id, name)
);

CREATE TABLE users (
    {{ID}},
    workspace_id BIGINT NOT NULL REFERENCES workspaces (id),
    email TEXT NOT NULL,
    name TEXT NOT NULL,
    role TEXT NOT NULL,
    team_id BIGINT,
    locale TEXT NOT NULL DEFAULT '',
    time_zone TEXT NOT NULL DEFAULT '',
    password_hash TEXT NOT NULL DEFAULT '',
    totp_secret TEXT NOT NULL DEFAULT '',
    totp_enabled BOOLEAN NOT NULL DEFAULT FALSE,
    active BOOLEAN NOT NULL DEFAULT TRUE,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    {{WSKEY}},
    UNIQUE (workspace_id, email),
    FOREIGN KEY (workspace_id, team_id) REFERENCES teams (workspace_id, id)
);

CREATE TABLE sessions (
    token_hash TEXT PRIMARY KEY,
    workspace_id BIGINT NOT NULL,
    user_id BIGINT NOT NULL,
    mfa_pending BOOLEAN NOT NULL DEFAULT FALSE,
    created_at BIGINT NOT NULL,
    last_seen_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    ip TEXT NOT NULL DEFAULT '',
    user_agent TEXT NOT NULL DEFAULT '',
    FOREIGN KEY (workspace_id, user_id) REFERENCES users (workspace_id, id) ON DELETE CASCADE
);
CREATE INDEX sessions_user ON sessions (workspace_id, user_id);

CREATE TABLE api_tokens (
    {{ID}},
    workspace_id BIGINT NOT NULL,
    user_id BIGINT NOT NULL,
    name TEXT NOT NULL,
    prefix TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    created_at BIGINT NOT NULL,
    last_used_at BIGINT,
    expires_at BIGINT,
    revoked_at BIGINT,
    {{WSKEY}},
    FOREIGN KEY (workspace_id, user_id) REFERENCES users (workspace_id, id) ON DELETE CASCADE
);

CREATE TABLE audit_log (
    {{ID}},
    workspace_id BIGINT NOT NULL,
    at BIGINT NOT NULL,
    actor_user_id BIGINT,
    actor_kind TEXT NOT NULL,
    action TEXT NOT NULL,
    object_type TEXT NOT NULL,
    object_id BIGINT,
    changes {{JSON}},
    ip TEXT NOT NULL DEFAULT '',
    {{WSKEY}}
);
CREATE INDEX audit_log_at ON audit_log (workspace_id, at DESC, id DESC);
CREATE INDEX audit_log_object ON audit_log (workspace_id, object_type, object_id, at DESC);

CREATE TABLE idempotency_keys (
    workspace_id BIGINT NOT NULL,
    actor TEXT NOT NULL,
    key TEXT NOT NULL,
    method TEXT NOT NULL,
    path TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    status_code INTEGER,
    response_body TEXT,
    created_at BIGINT NOT NULL,
    completed_at BIGINT,
    PRIMARY KEY (workspace_id, actor, key)
);
CREATE INDEX idempotency_keys_created ON idempotency_keys (created_at);

CREATE TABLE channels (
    workspace_id BIGINT NOT NULL REFERENCES workspaces (id),
    key TEXT NOT NULL,
    label_en TEXT NOT NULL,
    label_ja TEXT NOT NULL,
    position INTEGER NOT NULL,
    built_in BOOLEAN NOT NULL DEFAULT FALSE,
    PRIMARY KEY (workspace_id, key)
);

CREATE TABLE property_definitions (
    {{ID}},
    workspace_id BIGINT NOT NULL REFERENCES workspaces (id),
    object_type TEXT NOT NULL,
    key TEXT NOT NULL,
    label_en TEXT NOT NULL,
    label_ja TEXT NOT NULL,
    type TEXT NOT NULL,
    options {{JSON}},
    required BOOLEAN NOT NULL DEFAULT FALSE,
    position INTEGER NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    {{WSKEY}},
    UNIQUE (workspace_id, object_type, key)
);

CREATE TABLE companies (
    {{ID}},
    workspace_id BIGINT NOT NULL REFERENCES workspaces (id),
    name TEXT NOT NULL,
    name_norm TEXT NOT NULL,
    name_kana TEXT NOT NULL DEFAULT '',
    domain TEXT,
    corporate_number TEXT,
    industry TEXT NOT NULL DEFAULT '',
    employees INTEGER,
    annual_revenue BIGINT,
    phone TEXT NOT NULL DEFAULT '',
    website TEXT NOT NULL DEFAULT '',
    postal_code TEXT NOT NULL DEFAULT '',
    prefecture TEXT NOT NULL DEFAULT '',
    city TEXT NOT NULL DEFAULT '',
    address_line1 TEXT NOT NULL DEFAULT '',
    address_line2 TEXT NOT NULL DEFAULT '',
    country TEXT NOT NULL DEFAULT 'JP',
    owner_id BIGINT,
    props {{JSON}},
    search_text TEXT NOT NULL DEFAULT '',
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    last_activity_at BIGINT,
    {{WSKEY}},
    FOREIGN KEY (workspace_id, owner_id) REFERENCES users (workspace_id, id)
);
CREATE UNIQUE INDEX companies_corporate_number ON companies (workspace_id, corporate_number) WHERE corporate_number IS NOT NULL;
CREATE INDEX companies_domain ON companies (workspace_id, domain);
CREATE INDEX companies_name_norm ON companies (workspace_id, name_norm);
CREATE INDEX companies_owner ON companies (workspace_id, owner_id, id);
CREATE INDEX companies_updated ON companies (workspace_id, updated_at, id);

CREATE TABLE contacts (
    {{ID}},
    workspace_id BIGINT NOT NULL REFERENCES workspaces (id),
    email TEXT,
    family_name TEXT NOT NULL DEFAULT '',
    given_name TEXT NOT NULL DEFAULT '',
    family_name_kana TEXT NOT NULL DEFAULT '',
    given_name_kana TEXT NOT NULL DEFAULT '',
    phone TEXT NOT NULL DEFAULT '',
    phone_norm TEXT NOT NULL DEFAULT '',
    mobile TEXT NOT NULL DEFAULT '',
    title TEXT NOT NULL DEFAULT '',
    department TEXT NOT NULL DEFAULT '',
    company_id BIGINT,
    owner_id BIGINT,
    lifecycle_stage TEXT NOT NULL DEFAULT 'lead',
    lifecycle_changed_at BIGINT NOT NULL,
    original_source TEXT NOT NULL DEFAULT '',
    original_channel TEXT NOT NULL DEFAULT '',
    consent_email TEXT NOT NULL DEFAULT 'unknown',
    consent_at BIGINT,
    consent_source TEXT NOT NULL DEFAULT '',
    props {{JSON}},
    search_text TEXT NOT NULL DEFAULT '',
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    last_activity_at BIGINT NOT NULL DEFAULT 0,
    {{WSKEY}},
    FOREIGN KEY (workspace_id, company_id) REFERENCES companies (workspace_id, id) ON DELETE SET NULL (company_id),
    FOREIGN KEY (workspace_id, owner_id) REFERENCES users (workspace_id, id)
);
CREATE UNIQUE INDEX contacts_email ON contacts (workspace_id, email) WHERE email IS NOT NULL;
CREATE INDEX contacts_owner_stage_activity ON contacts (workspace_id, owner_id, lifecycle_stage, last_activity_at DESC, id DESC);
CREATE INDEX contacts_stage_activity ON contacts (workspace_id, lifecycle_stage, last_activity_at DESC, id DESC);
CREATE INDEX contacts_activity ON contacts (workspace_id, last_activity_at DESC, id DESC);
CREATE INDEX contacts_company ON contacts (workspace_id, company_id);
CREATE INDEX contacts_phone ON contacts (workspace_id, phone_norm);
CREATE INDEX contacts_updated ON contacts (workspace_id, updated_at, id);

CREATE TABLE pipelines (
    {{ID}},
    workspace_id BIGINT NOT NULL REFERENCES workspaces (id),
    name TEXT NOT NULL,
    position INTEGER NOT NULL DEFAULT 0,
    is_default BOOLEAN NOT NULL DEFAULT FALSE,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    {{WSKEY}}
);

CREATE TABLE pipeline_stages (
    {{ID}},
    workspace_id BIGINT NOT NULL,
    pipeline_id BIGINT NOT NULL,
    name TEXT NOT NULL,
    position INTEGER NOT NULL,
    probability INTEGER NOT NULL DEFAULT 0,
    kind TEXT NOT NULL DEFAULT 'open',
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    {{WSKEY}},
    FOREIGN KEY (workspace_id, pipeline_id) REFERENCES pipelines (workspace_id, id) ON DELETE CASCADE
);
CREATE INDEX pipeline_stages_pipeline ON pipeline_stages (workspace_id, pipeline_id, position);

CREATE TABLE competitors (
    {{ID}},
    workspace_id BIGINT NOT NULL REFERENCES workspaces (id),
    name TEXT NOT NULL,
    website TEXT NOT NULL DEFAULT '',
    created_at BIGINT NOT NULL,
    {{WSKEY}},
    UNIQUE (workspace_id, name)
);

CREATE TABLE deals (
    {{ID}},
    workspace_id BIGINT NOT NULL REFERENCES workspaces (id),
    name TEXT NOT NULL,
    pipeline_id BIGINT NOT NULL,
    stage_id BIGINT NOT NULL,
    company_id BIGINT,
    owner_id BIGINT,
    deal_type TEXT NOT NULL DEFAULT 'new',
    amount BIGINT NOT NULL DEFAULT 0,
    currency TEXT NOT NULL DEFAULT 'JPY',
    recurring_amount BIGINT NOT NULL DEFAULT 0,
    recurring_interval TEXT NOT NULL DEFAULT '',
    term_months INTEGER NOT NULL DEFAULT 0,
    close_date TEXT,
    status TEXT NOT NULL DEFAULT 'open',
    lost_reason TEXT NOT NULL DEFAULT '',
    closed_at BIGINT,
    stage_changed_at BIGINT NOT NULL,
    props {{JSON}},
    search_text TEXT NOT NULL DEFAULT '',
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    last_activity_at BIGINT NOT NULL DEFAULT 0,
    {{WSKEY}},
    FOREIGN KEY (workspace_id, pipeline_id) REFERENCES pipelines (workspace_id, id),
    FOREIGN KEY (workspace_id, stage_id) REFERENCES pipeline_stages (workspace_id, id),
    FOREIGN KEY (workspace_id, company_id) REFERENCES companies (workspace_id, id) ON DELETE SET NULL (company_id),
    FOREIGN KEY (workspace_id, owner_id) REFERENCES users (workspace_id, id)
);
-- The deal board: open cards per stage by amount.
CREATE INDEX deals_stage_amount ON deals (workspace_id, stage_id, amount, id);
CREATE INDEX deals_owner ON deals (workspace_id, owner_id, status, close_date);
CREATE INDEX deals_company ON deals (workspace_id, company_id);
CREATE INDEX deals_updated ON deals (workspace_id, updated_at, id);

CREATE TABLE deal_contacts (
    workspace_id BIGINT NOT NULL,
    deal_id BIGINT NOT NULL,
    contact_id BIGINT NOT NULL,
    role TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (workspace_id, deal_id, contact_id),
    FOREIGN KEY (workspace_id, deal_id) REFERENCES deals (workspace_id, id) ON DELETE CASCADE,
    FOREIGN KEY (workspace_id, contact_id) REFERENCES contacts (workspace_id, id) ON DELETE CASCADE
);
CREATE INDEX deal_contacts_contact ON deal_contacts (workspace_id, contact_id);

CREATE TABLE deal_competitors (
    workspace_id BIGINT NOT NULL,
    deal_id BIGINT NOT NULL,
    competitor_id BIGINT NOT NULL,
    PRIMARY KEY (workspace_id, deal_id, competitor_id),
    FOREIGN KEY (workspace_id, deal_id) REFERENCES deals (workspace_id, id) ON DELETE CASCADE,
    FOREIGN KEY (workspace_id, competitor_id) REFERENCES competitors (workspace_id, id) ON DELETE CASCADE
);
CREATE INDEX deal_competitors_competitor ON deal_competitors (workspace_id, competitor_id);

CREATE TABLE activities (
    {{ID}},
    workspace_id BIGINT NOT NULL REFERENCES workspaces (id),
    kind TEXT NOT NULL,
    subject TEXT NOT NULL DEFAULT '',
    body TEXT NOT NULL DEFAULT '',
    occurred_at BIGINT NOT NULL,
    due_at BIGINT,
    done_at BIGINT,
    call_outcome TEXT NOT NULL DEFAULT '',
    direction TEXT NOT NULL DEFAULT '',
    duration_seconds INTEGER NOT NULL DEFAULT 0,
    owner_id BIGINT,
    contact_id BIGINT,
    company_id BIGINT,
    deal_id BIGINT,
    created_by BIGINT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    {{WSKEY}},
    FOREIGN KEY (workspace_id, owner_id) REFERENCES users (workspace_id, id),
    FOREIGN KEY (workspace_id, contact_id) REFERENCES contacts (workspace_id, id) ON DELETE CASCADE,
    FOREIGN KEY (workspace_id, company_id) REFERENCES companies (workspace_id, id) ON DELETE CASCADE,
    FOREIGN KEY (workspace_id, deal_id) REFERENCES deals (workspace_id, id) ON DELETE CASCADE
);
CREATE INDEX activities_contact ON activities (workspace_id, contact_id, occurred_at DESC) WHERE contact_id IS NOT NULL;
CREATE INDEX activities_company ON activities (workspace_id, company_id, occurred_at DESC) WHERE company_id IS NOT NULL;
CREATE INDEX activities_deal ON activities (workspace_id, deal_id, occurred_at DESC) WHERE deal_id IS NOT NULL;
CREATE INDEX activities_owner_due ON activities (workspace_id, owner_id, kind, done_at, due_at);

-- The shared substrate.

CREATE TABLE events (
    {{ID}},
    workspace_id BIGINT NOT NULL,
    event_uid TEXT NOT NULL,
    kind TEXT NOT NULL,
    occurred_at BIGINT NOT NULL,
    received_at BIGINT NOT NULL,
    contact_id BIGINT,
    visitor_id TEXT NOT NULL DEFAULT '',
    session_id TEXT NOT NULL DEFAULT '',
    url TEXT NOT NULL DEFAULT '',
    path TEXT NOT NULL DEFAULT '',
    referrer TEXT NOT NULL DEFAULT '',
    channel TEXT NOT NULL DEFAULT '',
    utm_source TEXT NOT NULL DEFAULT '',
    utm_medium TEXT NOT NULL DEFAULT '',
    utm_campaign TEXT NOT NULL DEFAULT '',
    properties {{JSON}},
    {{WSKEY}},
    UNIQUE (workspace_id, event_uid)
);
-- Partial indexes: most events are anonymous, and need no contact index entry.
CREATE INDEX events_contact ON events (workspace_id, contact_id, occurred_at DESC) WHERE contact_id IS NOT NULL;
CREATE INDEX events_visitor ON events (workspace_id, visitor_id, occurred_at) WHERE visitor_id <> '';
CREATE INDEX events_kind_time ON events (workspace_id, kind, occurred_at);

CREATE TABLE timeline (
    {{ID}},
    workspace_id BIGINT NOT NULL,
    at BIGINT NOT NULL,
    kind TEXT NOT NULL,
    contact_id BIGINT,
    company_id BIGINT,
    deal_id BIGINT,
    actor_user_id BIGINT,
    ref_type TEXT NOT NULL DEFAULT '',
    ref_id BIGINT,
    data {{JSON}},
    {{WSKEY}}
);
-- Partial: an entry is indexed only under the records it belongs to.
CREATE INDEX timeline_contact ON timeline (workspace_id, contact_id, at DESC, id DESC) WHERE contact_id IS NOT NULL;
CREATE INDEX timeline_company ON timeline (workspace_id, company_id, at DESC, id DESC) WHERE company_id IS NOT NULL;
CREATE INDEX timeline_deal ON timeline (workspace_id, deal_id, at DESC, id DESC) WHERE deal_id IS NOT NULL;

CREATE TABLE lifecycle_history (
    {{ID}},
    workspace_id BIGINT NOT NULL,
    contact_id BIGINT NOT NULL,
    at BIGINT NOT NULL,
    from_stage TEXT NOT NULL DEFAULT '',
    to_stage TEXT NOT NULL,
    cause_kind TEXT NOT NULL,
    cause_ref TEXT NOT NULL DEFAULT '',
    actor_user_id BIGINT,
    {{WSKEY}}
);
CREATE INDEX lifecycle_history_contact ON lifecycle_history (workspace_id, contact_id, at);
CREATE INDEX lifecycle_history_stage ON lifecycle_history (workspace_id, to_stage, at);

CREATE TABLE jobs (
    {{ID}},
    workspace_id BIGINT NOT NULL,
    kind TEXT NOT NULL,
    payload {{JSON}},
    status TEXT NOT NULL DEFAULT 'queued',
    priority INTEGER NOT NULL DEFAULT 0,
    run_at BIGINT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    max_attempts INTEGER NOT NULL DEFAULT 10,
    unique_key TEXT,
    locked_by TEXT NOT NULL DEFAULT '',
    locked_until BIGINT,
    last_error TEXT NOT NULL DEFAULT '',
    created_at BIGINT NOT NULL,
    finished_at BIGINT,
    {{WSKEY}}
);
CREATE UNIQUE INDEX jobs_unique ON jobs (workspace_id, kind, unique_key) WHERE unique_key IS NOT NULL;
CREATE INDEX jobs_ready ON jobs (status, run_at, priority);

CREATE TABLE notifications (
    {{ID}},
    workspace_id BIGINT NOT NULL,
    user_id BIGINT NOT NULL,
    kind TEXT NOT NULL,
    title TEXT NOT NULL,
    body TEXT NOT NULL DEFAULT '',
    link TEXT NOT NULL DEFAULT '',
    dedupe_key TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    read_at BIGINT,
    {{WSKEY}},
    UNIQUE (workspace_id, user_id, dedupe_key),
    FOREIGN KEY (workspace_id, user_id) REFERENCES users (workspace_id, id) ON DELETE CASCADE
);
CREATE INDEX notifications_user ON notifications (workspace_id, user_id, read_at, created_at DESC);

CREATE TABLE notification_prefs (
    workspace_id BIGINT NOT NULL,
    user_id BIGINT NOT NULL,
    kind TEXT NOT NULL,
    in_app BOOLEAN NOT NULL DEFAULT TRUE,
    email BOOLEAN NOT NULL DEFAULT FALSE,
    chat BOOLEAN NOT NULL DEFAULT TRUE,
    PRIMARY KEY (workspace_id, user_id, kind),
    FOREIGN KEY (workspace_id, user_id) REFERENCES users (workspace_id, id) ON DELETE CASCADE
);

CREATE TABLE notification_channels (
    {{ID}},
    workspace_id BIGINT NOT NULL REFERENCES workspaces (id),
    kind TEXT NOT NULL,
    name TEXT NOT NULL,
    url TEXT NOT NULL,
    token TEXT NOT NULL DEFAULT '',
    kinds TEXT NOT NULL DEFAULT '',
    enabled BOOLEAN NOT NULL DEFAULT TRUE,
    created_at BIGINT NOT NULL,
    {{WSKEY}}
);

CREATE TABLE mail_messages (
    {{ID}},
    workspace_id BIGINT NOT NULL,
    kind TEXT NOT NULL,
    to_addr TEXT NOT NULL,
    subject TEXT NOT NULL,
    text_body TEXT NOT NULL DEFAULT '',
    html_body TEXT NOT NULL DEFAULT '',
    headers {{JSON}},
    status TEXT NOT NULL DEFAULT 'queued',
    message_id TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT NOT NULL DEFAULT '',
    ref_type TEXT NOT NULL DEFAULT '',
    ref_id BIGINT,
    created_at BIGINT NOT NULL,
    sent_at BIGINT,
    {{WSKEY}}
);
CREATE INDEX mail_messages_status ON mail_messages (workspace_id, status, created_at);
