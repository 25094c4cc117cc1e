package demo

import (
	"fmt"
	"time"

	"github.com/ryorin/ryorin/internal/crm"
	"github.com/ryorin/ryorin/internal/insight"
	"github.com/ryorin/ryorin/internal/platform"
)

// loadForecast gives the forecast a history: weekly snapshots three, two
// and one week back and this week, with reps' calls on categories, slipped
// close dates, changed amounts and lost deals in between, as a real quarter
// would have them, so "how the forecast moved" has something to show.
func (l *loader) loadForecast() error {
	w, err := platform.GetWorkspace(l.ctx, l.d.Reader(), ws)
	if err != nil {
		return err
	}
	quarter, err := insight.PeriodOf(w, "quarter", 0, l.end)
	if err != nil {
		return err
	}
	next, err := insight.PeriodOf(w, "quarter", 0, quarter.To)
	if err != nil {
		return err
	}
	from, to := quarter.From.In(l.jst).Format(time.DateOnly), quarter.To.In(l.jst).Format(time.DateOnly)
	type open struct {
		id, owner, amount int64
		cur               string
		prob              int
	}
	var deals []open
	rows, err := l.d.Reader().QueryContext(l.ctx, `SELECT d.id, COALESCE(d.owner_id, 0), d.amount, d.currency, s.probability FROM deals d
		JOIN pipeline_stages s ON s.workspace_id = d.workspace_id AND s.id = d.stage_id
		WHERE d.workspace_id = ? AND d.status = 'open' AND d.close_date >= ? AND d.close_date < ?
			AND NOT EXISTS (SELECT 1 FROM deal_line_items li WHERE li.workspace_id = d.workspace_id AND li.deal_id = d.id) -- quoted deals keep their amount
		ORDER BY d.id`, ws, from, to)
	if err != nil {
		return err
	}
	for rows.Next() {
		var o open
		if err := rows.Scan(&o.id, &o.owner, &o.amount, &o.cur, &o.prob); err != nil {
			rows.Close()
			return err
		}
		deals = append(deals, o)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	actors := map[int64]platform.Actor{}
	for _, u := range l.users {
		actors[u.u.ID] = u.actor()
	}
	as := func(owner int64) platform.Actor {
		if a, ok := actors[owner]; ok {
			return a
		}
		return l.sys
	}
	slipTo := func() string {
		return next.From.In(l.jst).AddDate(0, 0, l.intn(3, 60)).Format(time.DateOnly)
	}
	used := map[int64]bool{}
	take := func() (open, bool) {
		for tries := 0; tries < 50 && len(deals) > 0; tries++ {
			d := pick(l.rng, deals)
			if !used[d.id] {
				used[d.id] = true
				return d, true
			}
		}
		return open{}, false
	}
	// change applies n random changes of the kinds given, as the owner.
	change := func(at time.Time, n int, kinds ...string) error {
		for i := 0; i < n; i++ {
			d, ok := take()
			if !ok {
				return nil
			}
			l.clk.Set(l.workTime(at, at.Add(5*24*time.Hour)))
			var in crm.DealInput
			switch kind := kinds[i%len(kinds)]; kind {
			case "commit", "best_case", "omitted":
				in.ForecastCategory = ptr(kind)
			case "slip":
				in.CloseDate = ptr(slipTo())
			case "amount":
				f := 0.7
				if l.chance(0.4) {
					f = 1.2
				}
				in.Amount = ptr(platform.FromMinor(d.amount, d.cur) * f)
			case "lost":
				p, err := l.crm.DefaultPipeline(l.ctx, l.d.Reader(), ws)
				if err != nil {
					return err
				}
				_, _, lost := stagesOf(p)
				in.StageID, in.LostReason = &lost.ID, ptr(pick(l.rng, []string{"価格", "競合", "時期尚早", "予算なし"}))
			}
			if _, err := l.crm.UpdateDeal(l.ctx, as(d.owner), d.id, in); err != nil {
				// A deal of another pipeline cannot take the default pipeline's lost stage; skip it.
				continue
			}
		}
		return nil
	}
	snapshot := func(at time.Time) error {
		_, err := insight.TakeForecastSnapshot(l.ctx, l.d, w, at)
		return err
	}
	week := 7 * 24 * time.Hour
	steps := []struct {
		n     int
		kinds []string
	}{
		{l.n(8), []string{"commit", "best_case", "commit", "slip"}},
		{l.n(8), []string{"commit", "slip", "amount", "omitted"}},
		{l.n(10), []string{"slip", "lost", "commit", "amount", "best_case"}},
	}
	for i, s := range steps {
		at := l.end.Add(-time.Duration(3-i) * week)
		if err := snapshot(at); err != nil {
			return fmt.Errorf("snapshot: %w", err)
		}
		if err := change(at.Add(time.Hour), s.n, s.kinds...); err != nil {
			return err
		}
	}
	l.clk.Set(l.end)
	return snapshot(l.end)
}
