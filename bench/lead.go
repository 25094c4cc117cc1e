package bench

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/ryorin/ryorin/internal/clock"
	"github.com/ryorin/ryorin/internal/crm"
	"github.com/ryorin/ryorin/internal/db"
	"github.com/ryorin/ryorin/internal/lead"
	"github.com/ryorin/ryorin/internal/platform"
)

// LeadRun measures the lead-management batch work in process, on a
// generated data set: the 26-week backtest of a draft against the active
// definition, and the full rescore that follows a new active definition.
// Each is run runs times; the results carry the median and the worst.
func LeadRun(ctx context.Context, d *db.DB, runs int, progress func(string)) ([]Result, error) {
	if progress == nil {
		progress = func(string) {}
	}
	c := clock.System{}
	ls := lead.New(d, c)
	if err := ls.EnsureDefault(ctx, 1); err != nil {
		return nil, err
	}
	if err := ls.EnsureReasons(ctx, 1); err != nil {
		return nil, err
	}
	sc := &lead.Scorer{Lead: ls, CRM: crm.New(d, c)}
	body := lead.DefaultBody()
	body.MQL = `(fit_grade in ["A", "B"] && engagement >= 40) || (fit_grade != "D" && visits("/pricing", "14d") >= 2) || submitted("7d")`
	draft, err := ls.CreateDraft(ctx, platform.CLI(1), body, "bench")
	if err != nil {
		return nil, err
	}
	var contacts, events int
	var version int
	_ = d.Reader().QueryRowContext(ctx, `SELECT COUNT(*) FROM contacts`).Scan(&contacts)
	_ = d.Reader().QueryRowContext(ctx, `SELECT COUNT(*) FROM events WHERE contact_id IS NOT NULL`).Scan(&events)
	if err := d.Reader().QueryRowContext(ctx, `SELECT version FROM lead_definitions WHERE workspace_id = 1 AND status = 'active'`).Scan(&version); err != nil {
		return nil, err
	}
	var bt, rs []time.Duration
	for i := range runs {
		start := time.Now()
		b, err := ls.RunBacktest(ctx, 1, draft.ID)
		if err != nil {
			return nil, fmt.Errorf("backtest: %w", err)
		}
		bt = append(bt, time.Since(start))
		progress(fmt.Sprintf("backtest %d: %s (%d contacts, %d events replayed; cohorts %d / %d)", i+1, bt[i].Round(time.Millisecond),
			b.Contacts, b.Events, b.Candidate.Cohort, b.Active.Cohort))
	}
	for i := range runs {
		// A fresh run each time: forget the progress of the last one.
		if err := d.Write(ctx, "bench.resetRescore", func(tx *db.Tx) error {
			_, err := tx.ExecContext(ctx, `DELETE FROM work_marks WHERE workspace_id = 1 AND name LIKE 'lead.rescore.%'`)
			return err
		}); err != nil {
			return nil, err
		}
		start := time.Now()
		if err := sc.RescoreAll(ctx, 1, version); err != nil {
			return nil, fmt.Errorf("rescore: %w", err)
		}
		rs = append(rs, time.Since(start))
		progress(fmt.Sprintf("full rescore %d: %s", i+1, rs[i].Round(time.Millisecond)))
	}
	res := func(name, target string, ds []time.Duration, items int, unit string) Result {
		sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
		med := ds[len(ds)/2]
		return Result{Name: name, Target: target, N: len(ds), P50: med, P95: ds[len(ds)-1], Max: ds[len(ds)-1],
			Rate: float64(items) / med.Seconds(), Unit: unit}
	}
	return []Result{
		res(fmt.Sprintf("lead: 26-week backtest (%d contacts, %d contact events)", contacts, events), "< 10 s at 1M/10M", bt, contacts, "contacts/s"),
		res(fmt.Sprintf("lead: full rescore (%d contacts)", contacts), "< 30 s at 1M/10M", rs, contacts, "contacts/s"),
	}, nil
}
