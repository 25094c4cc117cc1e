-- Forms built in the UI and their submissions. A submission is stored with
-- the values as sent, the consent text shown, the visitor id and the page it
-- came from; (form, idempotency key) is unique so a double post is one row.
CREATE TABLE forms (
    {{ID}},
    workspace_id BIGINT NOT NULL,
    key TEXT NOT NULL,
    name TEXT NOT NULL,
    fields {{JSON}} NOT NULL,
    consent_enabled BOOLEAN NOT NULL DEFAULT FALSE,
    consent_required BOOLEAN NOT NULL DEFAULT FALSE,
    consent_text_ja TEXT NOT NULL DEFAULT '',
    consent_text_en TEXT NOT NULL DEFAULT '',
    thanks_ja TEXT NOT NULL DEFAULT '',
    thanks_en TEXT NOT NULL DEFAULT '',
    redirect_url TEXT NOT NULL DEFAULT '',
    allowed_domains TEXT NOT NULL DEFAULT '',
    double_opt_in BOOLEAN NOT NULL DEFAULT FALSE,
    archived BOOLEAN NOT NULL DEFAULT FALSE,
    submission_count BIGINT NOT NULL DEFAULT 0,
    last_submission_at BIGINT,
    created_by BIGINT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    {{WSKEY}}
);
CREATE UNIQUE INDEX forms_key ON forms (workspace_id, key);

CREATE TABLE form_submissions (
    {{ID}},
    workspace_id BIGINT NOT NULL,
    form_id BIGINT NOT NULL,
    idem_key TEXT NOT NULL,
    contact_id BIGINT,
    email TEXT NOT NULL,
    data {{JSON}} NOT NULL,
    status TEXT NOT NULL,
    consent_given BOOLEAN NOT NULL DEFAULT FALSE,
    consent_text TEXT NOT NULL DEFAULT '',
    lang TEXT NOT NULL DEFAULT '',
    visitor_id TEXT NOT NULL DEFAULT '',
    page_url TEXT NOT NULL DEFAULT '',
    referrer TEXT NOT NULL DEFAULT '',
    utm_source TEXT NOT NULL DEFAULT '',
    utm_medium TEXT NOT NULL DEFAULT '',
    utm_campaign TEXT NOT NULL DEFAULT '',
    utm_term TEXT NOT NULL DEFAULT '',
    utm_content TEXT NOT NULL DEFAULT '',
    channel TEXT NOT NULL DEFAULT '',
    ip TEXT NOT NULL DEFAULT '',
    user_agent TEXT NOT NULL DEFAULT '',
    created_at BIGINT NOT NULL,
    confirmed_at BIGINT,
    {{WSKEY}},
    FOREIGN KEY (workspace_id, form_id) REFERENCES forms (workspace_id, id) ON DELETE CASCADE,
    FOREIGN KEY (workspace_id, contact_id) REFERENCES contacts (workspace_id, id) ON DELETE SET NULL (contact_id)
);
CREATE UNIQUE INDEX form_submissions_idem ON form_submissions (workspace_id, form_id, idem_key);
CREATE INDEX form_submissions_form ON form_submissions (workspace_id, form_id, created_at);
CREATE INDEX form_submissions_contact ON form_submissions (workspace_id, contact_id);
