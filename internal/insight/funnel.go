package insight

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"time"

	"github.com/ryorin/ryorin/internal/db"
	"github.com/ryorin/ryorin/internal/errs"
	"github.com/ryorin/ryorin/internal/platform"
)

// FunnelStages are the steps of the lead funnel after a contact is created.
// A contact has reached a step when it entered that stage or any later one
// (a lead turned straight into an opportunity has passed MQL and SQL too),
// so each step is a subset of the one before and the rates never exceed 1.
var FunnelStages = []platform.Stage{platform.StageMQL, platform.StageSQL, platform.StageOpportunity, platform.StageCustomer}

// Cohort is the funnel of the contacts created in one month.
type Cohort struct {
	// Month is the cohort's month in the workspace's time zone, "2026-04".
	Month string `json:"month"`
	// Reached[0] is the contacts created that month; Reached[i] those that
	// reached FunnelStages[i-1], to date.
	Reached []int `json:"reached"`
	// MedianDays[i] is the median number of days from step i to step i+1
	// among the contacts that reached step i+1 after they were created (nil
	// when none did).
	MedianDays []*float64 `json:"median_days"`
}

// Rate is the share of step i's contacts that reached step i+1 (0 when
// step i is empty).
func (c Cohort) Rate(i int) float64 {
	if i+1 >= len(c.Reached) || c.Reached[i] == 0 {
		return 0
	}
	return float64(c.Reached[i+1]) / float64(c.Reached[i])
}

// Funnel is stage-to-stage conversion and time between stages by cohort,
// newest month first, with every cohort together as Total.
type Funnel struct {
	Stages  []platform.Stage `json:"stages"`
	Cohorts []Cohort         `json:"cohorts"`
	Total   Cohort           `json:"total"`
	Channel string           `json:"channel,omitempty"`
	// Filter is the filter the cohorts were narrowed by.
	Filter KPIFilter `json:"filter"`
}

// FunnelFormula says how the funnel is computed, for the screen and the API.
const FunnelFormula = "cohort = month a contact was created; a step is reached when the contact entered that lifecycle stage or a later one (first time, from the lifecycle history); rate = reached next step ÷ reached this step; time = median days between the first times, among contacts that reached the next step after they were created"

// FunnelByCohort computes the funnel for the contacts created in the last
// months calendar months up to now (this month included), optionally only
// those whose original channel is channel.
func FunnelByCohort(ctx context.Context, q db.Querier, w platform.Workspace, months int, channel string, now time.Time) (Funnel, error) {
	return FunnelOf(ctx, q, w, months, KPIFilter{Channel: channel}, now)
}

// FunnelOf is FunnelByCohort for the contacts a filter keeps (see
// FunnelScope: the pipeline does not narrow contacts).
func FunnelOf(ctx context.Context, q db.Querier, w platform.Workspace, months int, flt KPIFilter, now time.Time) (Funnel, error) {
	// The result depends on now only through its month, which is in the key.
	return cached(ctx, q, cacheKey("funnel", w.ID, months, flt, now.In(w.Location()).Format("2006-01")), func(ctx context.Context) (Funnel, error) {
		return funnelOf(ctx, q, w, months, flt, now)
	})
}

func funnelOf(ctx context.Context, q db.Querier, w platform.Workspace, months int, flt KPIFilter, now time.Time) (Funnel, error) {
	if months < 1 || months > 36 {
		return Funnel{}, errs.Field("months", "must be 1 to 36")
	}
	loc := w.Location()
	n := now.In(loc)
	first := time.Date(n.Year(), n.Month(), 1, 0, 0, 0, 0, loc).AddDate(0, -(months - 1), 0)
	end := time.Date(n.Year(), n.Month(), 1, 0, 0, 0, 0, loc).AddDate(0, 1, 0)
	f := Funnel{Stages: FunnelStages, Channel: flt.Channel, Filter: flt}
	steps := len(FunnelStages) + 1
	for i := range months {
		m := first.AddDate(0, months-1-i, 0)
		f.Cohorts = append(f.Cohorts, Cohort{Month: m.Format("2006-01"), Reached: make([]int, steps)})
	}
	// bounds[i] is where cohort i begins (oldest first), in milliseconds.
	bounds := make([]int64, months+1)
	for i := range months + 1 {
		bounds[i] = db.Millis(first.AddDate(0, i, 0))
	}
	// firstAt[id][k] is when contact id first reached step k (0 = created).
	type path struct {
		cohort int
		at     []int64
	}
	paths := map[int64]*path{}
	cond, cargs, _ := flt.cond("contacts", w.ID)
	rows, err := q.QueryContext(ctx, `-- insight.FunnelOf
		SELECT id, created_at FROM contacts WHERE workspace_id = ? AND created_at >= ? AND created_at < ?`+cond,
		append([]any{w.ID, db.Millis(first), db.Millis(end)}, cargs...)...)
	if err != nil {
		return Funnel{}, fmt.Errorf("funnel contacts: %w", err)
	}
	for rows.Next() {
		var id, at int64
		if err := rows.Scan(&id, &at); err != nil {
			rows.Close()
			return Funnel{}, err
		}
		ci := cohortOf(bounds, at)
		if ci < 0 {
			continue
		}
		p := &path{cohort: ci, at: make([]int64, steps)}
		p.at[0] = at
		paths[id] = p
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return Funnel{}, err
	}
	stageStep := map[string]int{}
	for i, s := range FunnelStages {
		stageStep[string(s)] = i + 1
	}
	// Stream the stage changes since the first cohort began (the stage index
	// serves it) and keep each contact's first time per step in Go: a join
	// with GROUP BY over the contacts costs more than reading the rows.
	rows, err = q.QueryContext(ctx, `SELECT contact_id, to_stage, at FROM lifecycle_history
		WHERE workspace_id = ? AND to_stage IN ('mql', 'sql', 'opportunity', 'customer') AND at >= ?`, w.ID, db.Millis(first))
	if err != nil {
		return Funnel{}, fmt.Errorf("funnel history: %w", err)
	}
	for rows.Next() {
		var id, at int64
		var stage string
		if err := rows.Scan(&id, &stage, &at); err != nil {
			rows.Close()
			return Funnel{}, err
		}
		if p := paths[id]; p != nil {
			k := stageStep[stage]
			if p.at[k] == 0 || at < p.at[k] {
				p.at[k] = at
			}
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return Funnel{}, err
	}
	days := make([][][]float64, months+1) // [cohort or total][step]
	for i := range days {
		days[i] = make([][]float64, steps-1)
	}
	for _, p := range paths {
		// Reached step k at the earliest first time of k or any later step.
		for k := steps - 2; k >= 1; k-- {
			if p.at[k+1] != 0 && (p.at[k] == 0 || p.at[k+1] < p.at[k]) {
				p.at[k] = p.at[k+1]
			}
		}
		for k := range steps {
			if p.at[k] == 0 {
				break
			}
			f.Cohorts[p.cohort].Reached[k]++
			// A contact created already at a later stage (an import of
			// customers, say) counts for conversion but not for time.
			if k > 0 && p.at[k] != p.at[0] {
				d := max(0, float64(p.at[k]-p.at[k-1])/float64(24*time.Hour/time.Millisecond))
				days[p.cohort][k-1] = append(days[p.cohort][k-1], d)
				days[months][k-1] = append(days[months][k-1], d)
			}
		}
	}
	f.Total = Cohort{Month: "", Reached: make([]int, steps)}
	for i := range f.Cohorts {
		for k := range steps {
			f.Total.Reached[k] += f.Cohorts[i].Reached[k]
		}
		f.Cohorts[i].MedianDays = medians(days[i])
	}
	f.Total.MedianDays = medians(days[months])
	return f, nil
}

func medians(byStep [][]float64) []*float64 {
	out := make([]*float64, len(byStep))
	for k, xs := range byStep {
		if len(xs) == 0 {
			continue
		}
		slices.Sort(xs)
		m := xs[len(xs)/2]
		if len(xs)%2 == 0 {
			m = (xs[len(xs)/2-1] + xs[len(xs)/2]) / 2
		}
		out[k] = &m
	}
	return out
}

// ClosedDeal is a deal won or lost in a period.
type ClosedDeal struct {
	ID         int64     `json:"id"`
	Name       string    `json:"name"`
	Status     string    `json:"status"`
	Amount     int64     `json:"amount" doc:"minor units of currency"`
	Currency   string    `json:"currency"`
	OwnerID    int64     `json:"owner_id,omitempty"`
	LostReason string    `json:"lost_reason,omitempty"`
	ClosedAt   time.Time `json:"closed_at"`
}

// DealsClosed lists the deals won or lost in a period, largest first.
func DealsClosed(ctx context.Context, q db.Querier, ws int64, p Period) ([]ClosedDeal, error) {
	return cached(ctx, q, cacheKey("closed", ws, p.From.UnixMilli(), p.To.UnixMilli()), func(ctx context.Context) ([]ClosedDeal, error) {
		return dealsClosed(ctx, q, ws, p)
	})
}

func dealsClosed(ctx context.Context, q db.Querier, ws int64, p Period) ([]ClosedDeal, error) {
	out := []ClosedDeal{}
	err := scanRows(ctx, q, func(s scanner) error {
		var d ClosedDeal
		var at int64
		if err := s.Scan(&d.ID, &d.Name, &d.Status, &d.Amount, &d.Currency, &d.OwnerID, &d.LostReason, &at); err != nil {
			return err
		}
		d.ClosedAt = db.Time(at)
		out = append(out, d)
		return nil
	}, `SELECT id, name, status, amount, currency, COALESCE(owner_id, 0), lost_reason, closed_at FROM deals
		WHERE workspace_id = ? AND status IN ('won', 'lost') AND closed_at >= ? AND closed_at < ? ORDER BY status DESC, amount DESC, id`, ws, db.Millis(p.From), db.Millis(p.To))
	return out, err
}

// cohortOf returns the index (newest first) of the cohort whose month holds
// at, given the cohorts' boundaries oldest first; -1 when outside.
func cohortOf(bounds []int64, at int64) int {
	n := len(bounds) - 1
	if at < bounds[0] || at >= bounds[n] {
		return -1
	}
	i := sort.Search(n, func(i int) bool { return bounds[i+1] > at })
	return n - 1 - i
}
