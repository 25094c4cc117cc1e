-- Negotiation and quotes (issue 6 item 4): the price list, a deal's line
-- items, the workspace's quote settings (seller, 登録番号, tax rounding) and
-- issued quotes. Money is BIGINT in the currency's minor unit (ADR 0003);
-- quantities are thousandths, discounts in percent are hundredths of a percent.

-- The price list. billing: one_time, month or year; tax_category: standard
-- (10%) or reduced (8%). Inactive products stay on old lines and quotes but
-- are not offered for new lines.
CREATE TABLE products (
    {{ID}},
    workspace_id BIGINT NOT NULL,
    code TEXT NOT NULL,
    name TEXT NOT NULL,
    unit_price BIGINT NOT NULL,
    currency TEXT NOT NULL,
    tax_category TEXT NOT NULL DEFAULT 'standard',
    billing TEXT NOT NULL DEFAULT 'one_time',
    active BOOLEAN NOT NULL DEFAULT TRUE,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    {{WSKEY}},
    UNIQUE (workspace_id, code)
);

-- A deal's line items, in the deal's currency, in display order. A line may
-- name a product or be free text. discount_kind: '' (none), percent
-- (discount_value in hundredths of a percent) or amount (minor units).
CREATE TABLE deal_line_items (
    {{ID}},
    workspace_id BIGINT NOT NULL,
    deal_id BIGINT NOT NULL,
    position INTEGER NOT NULL,
    product_id BIGINT,
    description TEXT NOT NULL,
    quantity_milli BIGINT NOT NULL,
    unit_price BIGINT NOT NULL,
    discount_kind TEXT NOT NULL DEFAULT '',
    discount_value BIGINT NOT NULL DEFAULT 0,
    billing TEXT NOT NULL DEFAULT 'one_time',
    tax_category TEXT NOT NULL DEFAULT 'standard',
    {{WSKEY}},
    FOREIGN KEY (workspace_id, deal_id) REFERENCES deals (workspace_id, id) ON DELETE CASCADE,
    FOREIGN KEY (workspace_id, product_id) REFERENCES products (workspace_id, id) ON DELETE SET NULL (product_id)
);
CREATE INDEX deal_line_items_deal ON deal_line_items (workspace_id, deal_id, position);

-- The seller as printed on quotes, the tax rounding rule (floor, round or
-- ceil; applied once per document per tax rate), the discount, in percent,
-- above which a quote needs a manager's approval (0: never), and the next
-- quote number (taken with an update of this row, so two issues never share one).
CREATE TABLE quote_settings (
    workspace_id BIGINT NOT NULL,
    seller_name TEXT NOT NULL DEFAULT '',
    seller_address TEXT NOT NULL DEFAULT '',
    registration_number TEXT NOT NULL DEFAULT '',
    rounding TEXT NOT NULL DEFAULT 'floor',
    valid_days INTEGER NOT NULL DEFAULT 30,
    approval_discount_pct INTEGER NOT NULL DEFAULT 0,
    next_number BIGINT NOT NULL DEFAULT 1,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (workspace_id)
);

-- An issued quote: a snapshot of the deal's line items, seller and customer
-- as they were (document), never changed afterwards. All versions of one
-- deal's quote share its number; issuing again adds the next version.
CREATE TABLE quotes (
    {{ID}},
    workspace_id BIGINT NOT NULL,
    deal_id BIGINT NOT NULL,
    number BIGINT NOT NULL,
    version INTEGER NOT NULL,
    lang TEXT NOT NULL,
    issue_date TEXT NOT NULL,
    valid_until TEXT NOT NULL,
    currency TEXT NOT NULL,
    subtotal BIGINT NOT NULL,
    tax BIGINT NOT NULL,
    total BIGINT NOT NULL,
    document {{JSON}} NOT NULL,
    issued_by BIGINT,
    issued_at BIGINT NOT NULL,
    {{WSKEY}},
    UNIQUE (workspace_id, deal_id, version),
    FOREIGN KEY (workspace_id, deal_id) REFERENCES deals (workspace_id, id) ON DELETE CASCADE
);
CREATE INDEX quotes_number ON quotes (workspace_id, number);

-- A request to issue a quote whose discount is above the threshold. status:
-- pending, approved or rejected. An approval covers the line items as they
-- were (lines_hash); changing them needs a new request.
CREATE TABLE quote_approvals (
    {{ID}},
    workspace_id BIGINT NOT NULL,
    deal_id BIGINT NOT NULL,
    lines_hash TEXT NOT NULL,
    max_discount_bp BIGINT NOT NULL,
    status TEXT NOT NULL DEFAULT 'pending',
    note TEXT NOT NULL DEFAULT '',
    requested_by BIGINT,
    requested_at BIGINT NOT NULL,
    decided_by BIGINT,
    decided_at BIGINT,
    {{WSKEY}},
    FOREIGN KEY (workspace_id, deal_id) REFERENCES deals (workspace_id, id) ON DELETE CASCADE
);
CREATE INDEX quote_approvals_deal ON quote_approvals (workspace_id, deal_id, requested_at);
