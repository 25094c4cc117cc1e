-- Running totals of open deals per stage, owner and currency, kept in step
-- with deals in the same transaction by crm (the only writer of deals), so
-- the deal board's column totals never scan every open deal. Closed deals
-- are summed from the deals table by date (the board shows recent ones only).
CREATE TABLE deal_stage_totals (
    workspace_id BIGINT NOT NULL,
    stage_id BIGINT NOT NULL,
    owner_id BIGINT NOT NULL DEFAULT 0,
    currency TEXT NOT NULL,
    deal_count BIGINT NOT NULL DEFAULT 0,
    amount BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (workspace_id, stage_id, owner_id, currency)
);

INSERT INTO deal_stage_totals (workspace_id, stage_id, owner_id, currency, deal_count, amount)
SELECT workspace_id, stage_id, COALESCE(owner_id, 0), currency, COUNT(*), SUM(amount)
FROM deals WHERE status = 'open'
GROUP BY workspace_id, stage_id, COALESCE(owner_id, 0), currency;
