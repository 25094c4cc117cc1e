package crm

import (
	"context"
	"fmt"
	"sort"

	"github.com/ryorin/ryorin/internal/db"
	"github.com/ryorin/ryorin/internal/platform"
)

// adjustTotals adds (sign +1) or removes (sign -1) an open deal from the
// running stage totals. Every write of a deal calls it inside the same
// transaction: remove the old version, add the new one.
func adjustTotals(ctx context.Context, tx *db.Tx, ws int64, d Deal, sign int64) error {
	if d.Status != "open" || d.StageID == 0 {
		return nil
	}
	_, err := tx.ExecContext(ctx, `-- crm.adjustTotals
		INSERT INTO deal_stage_totals (workspace_id, stage_id, owner_id, currency, deal_count, amount) VALUES (?, ?, ?, ?, ?, ?)
		ON CONFLICT (workspace_id, stage_id, owner_id, currency) DO UPDATE
		SET deal_count = deal_stage_totals.deal_count + excluded.deal_count, amount = deal_stage_totals.amount + excluded.amount`,
		ws, d.StageID, d.OwnerID, d.Currency, sign, sign*platform.ToMinor(d.Amount, d.Currency))
	if err != nil {
		return fmt.Errorf("crm.adjustTotals: %w", err)
	}
	return nil
}

// RebuildStageTotals recomputes the running totals from the deals table, for
// bulk loads that write deals directly (the benchmark generator, imports).
func (s *Service) RebuildStageTotals(ctx context.Context, ws int64) error {
	return s.DB.Write(ctx, "crm.RebuildStageTotals", func(tx *db.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM deal_stage_totals WHERE workspace_id = ?`, ws); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `-- crm.RebuildStageTotals
			INSERT INTO deal_stage_totals (workspace_id, stage_id, owner_id, currency, deal_count, amount)
			SELECT workspace_id, stage_id, COALESCE(owner_id, 0), currency, COUNT(*), SUM(amount)
			FROM deals WHERE workspace_id = ? AND status = 'open'
			GROUP BY workspace_id, stage_id, COALESCE(owner_id, 0), currency`, ws)
		return err
	})
}

// StageTotalsDrift compares the running totals with a fresh count of the
// deals table and describes every difference (empty when they agree). Tests
// call it after sequences of writes.
func (s *Service) StageTotalsDrift(ctx context.Context, ws int64) ([]string, error) {
	read := func(q string) (map[string][2]int64, error) {
		rows, err := s.DB.Reader().QueryContext(ctx, q, ws)
		if err != nil {
			return nil, err
		}
		defer rows.Close()
		out := map[string][2]int64{}
		for rows.Next() {
			var stage, owner, n, amount int64
			var cur string
			if err := rows.Scan(&stage, &owner, &cur, &n, &amount); err != nil {
				return nil, err
			}
			if n != 0 || amount != 0 {
				out[fmt.Sprintf("stage %d owner %d %s", stage, owner, cur)] = [2]int64{n, amount}
			}
		}
		return out, rows.Err()
	}
	kept, err := read(`SELECT stage_id, owner_id, currency, deal_count, amount FROM deal_stage_totals WHERE workspace_id = ?`)
	if err != nil {
		return nil, err
	}
	fresh, err := read(`SELECT stage_id, COALESCE(owner_id, 0), currency, COUNT(*), SUM(amount) FROM deals
		WHERE workspace_id = ? AND status = 'open' GROUP BY stage_id, COALESCE(owner_id, 0), currency`)
	if err != nil {
		return nil, err
	}
	var out []string
	for k, v := range fresh {
		if kept[k] != v {
			out = append(out, fmt.Sprintf("%s: kept %v, counted %v", k, kept[k], v))
		}
	}
	for k, v := range kept {
		if _, ok := fresh[k]; !ok {
			out = append(out, fmt.Sprintf("%s: kept %v, counted none", k, v))
		}
	}
	sort.Strings(out)
	return out, nil
}
