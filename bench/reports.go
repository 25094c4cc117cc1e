package bench

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/ryorin/ryorin/internal/db"
	"github.com/ryorin/ryorin/internal/insight"
	"github.com/ryorin/ryorin/internal/platform"
)

// ReportRun times, in process and against the generated data, each shared
// report as its screen computes it (issue 8 asks every dashboard under
// 300 ms p95 at size L), runs times each, "now" being the generator's epoch.
func ReportRun(ctx context.Context, d *db.DB, runs int, progress func(string)) ([]Result, error) {
	if progress == nil {
		progress = func(string) {}
	}
	w, err := platform.GetWorkspace(ctx, d.Reader(), 1)
	if err != nil {
		return nil, err
	}
	now := Epoch.Add(-24 * time.Hour)
	month, _ := insight.PeriodOf(w, "month", 0, now)
	quarter, _ := insight.PeriodOf(w, "quarter", 0, now)
	q := d.Reader()
	var contacts int
	_ = q.QueryRowContext(ctx, `SELECT COUNT(*) FROM contacts`).Scan(&contacts)
	// Last week's forecast snapshot, so the roll-up also works out what
	// moved (taken once; a rerun finds the week done).
	if _, err := insight.TakeForecastSnapshot(ctx, d, w, now.Add(-7*24*time.Hour)); err != nil {
		return nil, err
	}
	var deals int
	_ = q.QueryRowContext(ctx, `SELECT COUNT(*) FROM deals`).Scan(&deals)
	reports := []struct {
		name string
		fn   func() error
	}{
		{"KPIs, one month", func() error { _, err := insight.Compute(ctx, q, w, month); return err }},
		{"KPIs, one quarter", func() error { _, err := insight.Compute(ctx, q, w, quarter); return err }},
		{"funnel, 12 monthly cohorts", func() error { _, err := insight.FunnelByCohort(ctx, q, w, 12, "", now); return err }},
		{"channel quality, one quarter", func() error { _, err := insight.ChannelQualityOf(ctx, q, w, quarter); return err }},
		{"attribution (W-shaped), one month", func() error { _, err := insight.AttributionOf(ctx, q, w, month, "w_shaped"); return err }},
		{"rep performance, one month", func() error { _, err := insight.RepPerformanceOf(ctx, q, w, month); return err }},
		{"forecast roll-up with changes since last week, one quarter", func() error {
			_, err := insight.ForecastOf(ctx, q, w, quarter, insight.ForecastFilter{}, now)
			return err
		}},
	}
	var out []Result
	for _, r := range reports {
		var ds []time.Duration
		for range runs {
			start := time.Now()
			if err := r.fn(); err != nil {
				return nil, fmt.Errorf("%s: %w", r.name, err)
			}
			ds = append(ds, time.Since(start))
		}
		progress(fmt.Sprintf("%s: median %s", r.name, median(ds).Round(time.Millisecond)))
		if strings.HasPrefix(r.name, "forecast") {
			out = append(out, durations(fmt.Sprintf("%s (%d deals)", r.name, deals), "< 200 ms p95 at L", ds, deals, "deals/s"))
			continue
		}
		out = append(out, durations(fmt.Sprintf("%s (%d contacts)", r.name, contacts), "< 300 ms p95 at L", ds, contacts, "contacts/s"))
	}
	return out, nil
}

// EnrichForReports gives generated data what the shared reports read and
// the generator leaves out: lifecycle steps (35 % of contacts reach MQL,
// 20 % SQL; each deal's contact reaches opportunity, and customer when it is
// won), sales' verdicts, one tracked visit for every other contact, a
// contact on every deal, and close times for won and lost deals. It works in
// bounded id ranges (short write transactions) and runs once per database.
func EnrichForReports(ctx context.Context, d *db.DB, progress func(string)) error {
	if progress == nil {
		progress = func(string) {}
	}
	var done int
	if err := d.Reader().QueryRowContext(ctx, `SELECT COUNT(*) FROM work_marks WHERE workspace_id = 1 AND name = 'bench.enriched'`).Scan(&done); err != nil || done > 0 {
		return err
	}
	var contacts, deals int64
	_ = d.Reader().QueryRowContext(ctx, `SELECT COALESCE(MAX(id), 0) FROM contacts`).Scan(&contacts)
	_ = d.Reader().QueryRowContext(ctx, `SELECT COALESCE(MAX(id), 0) FROM deals`).Scan(&deals)
	const day = 86_400_000
	epoch := Epoch.UnixMilli()
	step := int64(20_000)
	run := func(name string, max int64, stmts ...string) error {
		for lo := int64(0); lo <= max; lo += step {
			err := d.Write(ctx, "bench.enrich."+name, func(tx *db.Tx) error {
				for _, s := range stmts {
					if _, err := tx.ExecContext(ctx, s, lo, lo+step); err != nil {
						return fmt.Errorf("%s: %w", name, err)
					}
				}
				return nil
			})
			if err != nil {
				return err
			}
		}
		progress("enriched: " + name)
		return nil
	}
	if err := run("contacts", contacts,
		fmt.Sprintf(`INSERT INTO lifecycle_history (workspace_id, contact_id, at, from_stage, to_stage, cause_kind)
			SELECT 1, id, created_at + (id %% 14) * %d, 'lead', 'mql', 'rule' FROM contacts WHERE id >= ? AND id < ? AND id %% 20 < 7`, day),
		fmt.Sprintf(`INSERT INTO lifecycle_history (workspace_id, contact_id, at, from_stage, to_stage, cause_kind)
			SELECT 1, id, created_at + (id %% 14 + 3) * %d, 'mql', 'sql', 'feedback' FROM contacts WHERE id >= ? AND id < ? AND id %% 20 < 4`, day),
		fmt.Sprintf(`INSERT INTO lead_feedback (workspace_id, contact_id, decision, reason, rating, at)
			SELECT 1, id, CASE WHEN id %% 20 < 4 THEN 'accept' ELSE 'reject' END, CASE WHEN id %% 20 < 4 THEN '' WHEN id %% 2 = 0 THEN 'no_budget' ELSE 'bad_timing' END, 3,
			created_at + (id %% 14 + 3) * %d FROM contacts WHERE id >= ? AND id < ? AND id %% 20 < 7`, day),
		`INSERT INTO track_sessions (workspace_id, uid, visitor_id, contact_id, started_at, last_at, channel, page_views, events)
			SELECT 1, 'bench-' || id, 'bench-v' || id, id, created_at - 3600000, created_at - 3000000, original_channel, 3, 3 FROM contacts WHERE id >= ? AND id < ? AND id % 2 = 0`,
	); err != nil {
		return err
	}
	if err := run("deals", deals,
		fmt.Sprintf(`UPDATE deals SET closed_at = CASE WHEN created_at + (id %% 60) * %d > %d THEN %d ELSE created_at + (id %% 60) * %d END
			WHERE id >= ? AND id < ? AND status IN ('won', 'lost') AND closed_at IS NULL`, day, epoch, epoch, day),
		fmt.Sprintf(`INSERT INTO deal_contacts (workspace_id, deal_id, contact_id, role)
			SELECT 1, id, (id * 7919) %% %d + 1, '' FROM deals WHERE id >= ? AND id < ?`, contacts),
		`INSERT INTO lifecycle_history (workspace_id, contact_id, at, from_stage, to_stage, cause_kind)
			SELECT 1, dc.contact_id, d.created_at, 'sql', 'opportunity', 'deal' FROM deals d JOIN deal_contacts dc ON dc.workspace_id = d.workspace_id AND dc.deal_id = d.id
			WHERE d.id >= ? AND d.id < ?`,
		`INSERT INTO lifecycle_history (workspace_id, contact_id, at, from_stage, to_stage, cause_kind)
			SELECT 1, dc.contact_id, d.closed_at, 'opportunity', 'customer', 'deal' FROM deals d JOIN deal_contacts dc ON dc.workspace_id = d.workspace_id AND dc.deal_id = d.id
			WHERE d.id >= ? AND d.id < ? AND d.status = 'won'`,
	); err != nil {
		return err
	}
	// Fresh statistics for the tables just filled, as the periodic optimize
	// of a running install would give them; without, SQLite planned the KPI
	// queries over empty-table statistics (2.2 s instead of about 60 ms at M).
	// On PostgreSQL also the visibility map (db.Vacuum), as after generating.
	if d.Dialect == db.Postgres {
		if err := d.Vacuum(ctx); err != nil {
			return err
		}
	} else if err := d.Optimize(ctx, true); err != nil {
		return err
	}
	return d.Write(ctx, "bench.enriched", func(tx *db.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO work_marks (workspace_id, name, value) VALUES (1, 'bench.enriched', 1)`)
		return err
	})
}
