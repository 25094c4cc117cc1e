package insight

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"time"

	"github.com/ryorin/ryorin/internal/crm"
	"github.com/ryorin/ryorin/internal/db"
	"github.com/ryorin/ryorin/internal/platform"
)

// ForecastFormula says how the forecast roll-up is computed.
const ForecastFormula = "closed = deals won in the period; commit, best case, pipeline = open deals whose close date falls in the period, by forecast category (the rep's call, else by stage probability: 80 % or more commit, 50 % or more best case); forecast = closed + commit; best case total = forecast + best case; weighted = open deals' amount × stage probability (omitted ones aside); target = quotas of the months that start in the period; amounts in the base currency"

// ForecastRow is one rep's (or one team's, or everyone's) forecast for a
// period. Amounts are minor units of the base currency.
type ForecastRow struct {
	UserID      int64  `json:"user_id,omitempty"`
	TeamID      int64  `json:"team_id,omitempty"`
	Name        string `json:"name"`
	Target      int64  `json:"target" doc:"revenue quota of the months that start in the period"`
	TargetDeals int    `json:"target_deals"`
	Closed      int64  `json:"closed" doc:"won in the period"`
	ClosedDeals int    `json:"closed_deals"`
	Commit      int64  `json:"commit"`
	BestCase    int64  `json:"best_case"`
	Pipeline    int64  `json:"pipeline"`
	Omitted     int64  `json:"omitted" doc:"open deals the rep left out of the forecast"`
	Weighted    int64  `json:"weighted" doc:"open deals in the period, omitted ones aside: amount × stage probability"`
	OpenDeals   int    `json:"open_deals"`
	// Forecast is closed + commit; BestCaseTotal adds best case; Gap is
	// what the forecast lacks to reach the target (0 when it does).
	Forecast      int64 `json:"forecast"`
	BestCaseTotal int64 `json:"best_case_total"`
	Gap           int64 `json:"gap"`
}

func (r *ForecastRow) add(o ForecastRow) {
	r.Target += o.Target
	r.TargetDeals += o.TargetDeals
	r.Closed += o.Closed
	r.ClosedDeals += o.ClosedDeals
	r.Commit += o.Commit
	r.BestCase += o.BestCase
	r.Pipeline += o.Pipeline
	r.Omitted += o.Omitted
	r.Weighted += o.Weighted
	r.OpenDeals += o.OpenDeals
}

func (r *ForecastRow) finish() {
	r.Forecast = r.Closed + r.Commit
	r.BestCaseTotal = r.Forecast + r.BestCase
	r.Gap = max(0, r.Target-r.Forecast)
}

// count adds one deal in category cat with its base amount.
func (r *ForecastRow) count(cat string, amount int64, probability int) {
	switch cat {
	case "closed":
		r.Closed += amount
		r.ClosedDeals++
		return
	case "commit":
		r.Commit += amount
	case "best_case":
		r.BestCase += amount
	case "pipeline":
		r.Pipeline += amount
	case "omitted":
		r.Omitted += amount
	}
	r.OpenDeals++
	if cat != "omitted" {
		r.Weighted += amount * int64(probability) / 100
	}
}

// Attainment is closed ÷ target (0 without a target).
func (r ForecastRow) Attainment() float64 { return share(r.Closed, r.Target) }

// ForecastAttainment is forecast ÷ target (0 without a target).
func (r ForecastRow) ForecastAttainment() float64 { return share(r.Forecast, r.Target) }

func share(a, b int64) float64 {
	if b <= 0 {
		return 0
	}
	return float64(a) / float64(b)
}

// ForecastDeal is a deal counted in the forecast.
type ForecastDeal struct {
	ID          int64  `json:"id"`
	Name        string `json:"name"`
	OwnerID     int64  `json:"owner_id,omitempty"`
	StageID     int64  `json:"stage_id"`
	Stage       string `json:"stage"`
	Probability int    `json:"probability"`
	Category    string `json:"category" enum:"closed,commit,best_case,pipeline,omitted"`
	SetByRep    bool   `json:"set_by_rep" doc:"false: the category follows the stage probability"`
	Amount      int64  `json:"amount" doc:"minor units of the base currency"`
	CloseDate   string `json:"close_date"`
	Status      string `json:"status"`
}

// ForecastChange is how one deal changed since a snapshot.
type ForecastChange struct {
	DealID     int64  `json:"deal_id"`
	Name       string `json:"name"`
	OwnerID    int64  `json:"owner_id,omitempty"`
	Kind       string `json:"kind" enum:"slipped,lost,won,added,category,amount,removed"`
	From       string `json:"from,omitempty" doc:"close date (slipped) or category (category) at the snapshot"`
	To         string `json:"to,omitempty"`
	AmountThen int64  `json:"amount_then"`
	AmountNow  int64  `json:"amount_now"`
}

// ForecastPoint is the forecast as it stood on a snapshot's day.
type ForecastPoint struct {
	TakenOn  string `json:"taken_on"`
	Closed   int64  `json:"closed"`
	Commit   int64  `json:"commit"`
	BestCase int64  `json:"best_case"`
	Pipeline int64  `json:"pipeline"`
}

// Forecast is the forecast roll-up of a period: a row per rep and per team,
// the total, the deals, and how it moved since a weekly snapshot.
type Forecast struct {
	Period   Period         `json:"period"`
	Currency string         `json:"currency"`
	Formula  string         `json:"formula"`
	Reps     []ForecastRow  `json:"reps"`
	Teams    []ForecastRow  `json:"teams"`
	Total    ForecastRow    `json:"total"`
	Deals    []ForecastDeal `json:"deals" doc:"open and won deals of the period, largest first (at most 200; deal_count has them all)"`
	// DealCount is how many deals the roll-up counts; Deals lists the
	// largest ForecastDealsListed of them.
	DealCount int `json:"deal_count"`
	// Snapshots are the days weekly snapshots were taken, newest first;
	// Since is the one compared with (empty when there is none), Then the
	// total as it stood that day, and Changes the deals that moved.
	Snapshots []string         `json:"snapshots"`
	Since     string           `json:"since,omitempty"`
	Then      *ForecastRow     `json:"then,omitempty"`
	Changes   []ForecastChange `json:"changes"`
	// ChangeCounts counts the changes by kind (Changes lists at most 200).
	ChangeCounts map[string]int  `json:"change_counts"`
	Trend        []ForecastPoint `json:"trend" doc:"the forecast at each snapshot taken in the period"`
}

// ForecastFilter narrows the roll-up to a team or an owner, and names the
// snapshot to compare with (YYYY-MM-DD; empty: the last one before this
// week).
type ForecastFilter struct {
	TeamID  int64
	OwnerID int64
	Since   string
}

// ForecastFor is ForecastOf as actor a may see it: a sales rep limited to
// their own records sees only their own forecast.
func ForecastFor(ctx context.Context, q db.Querier, a platform.Actor, w platform.Workspace, p Period, f ForecastFilter, now time.Time) (Forecast, error) {
	if a.OwnRecordsOnly {
		f.OwnerID, f.TeamID = a.UserID, 0
	}
	return ForecastOf(ctx, q, w, p, f, now)
}

type fcDeal struct {
	ForecastDeal
	set      string
	closedAt int64
	rated    bool // Amount is in the base currency (false: no rate for its day)
}

// loadFcDeals reads the deals matching where (with args) with their stage,
// category and amount in the base currency at their close (or closed) day,
// else at fallbackDay.
func loadFcDeals(ctx context.Context, q db.Querier, w platform.Workspace, stages map[int64]stageMeta, fallbackDay, where string, args ...any) ([]fcDeal, error) {
	var out []fcDeal
	err := scanRows(ctx, q, func(s scanner) error {
		var d fcDeal
		var amount int64
		var cur string
		var closed *int64
		if err := s.Scan(&d.ID, &d.OwnerID, &d.StageID, &amount, &cur, &d.CloseDate, &d.set, &d.Status, &closed); err != nil {
			return err
		}
		day := d.CloseDate
		if closed != nil {
			d.closedAt = *closed
			day = db.Time(*closed).In(w.Location()).Format(time.DateOnly)
		}
		if day == "" {
			day = fallbackDay
		}
		b, err := platform.ToBase(ctx, q, w, amount, cur, day)
		st := stages[d.StageID]
		d.Amount, d.rated, d.Stage, d.Probability = b, err == nil, st.name, st.probability
		d.Category = crm.EffectiveForecastCategory(d.Status, d.set, st.probability)
		d.SetByRep = d.set != "" && d.Status == "open"
		out = append(out, d)
		return nil
	}, `SELECT id, COALESCE(owner_id, 0), stage_id, amount, currency, COALESCE(close_date, ''), forecast_category, status, closed_at
		FROM deals WHERE workspace_id = ? AND `+where, append([]any{w.ID}, args...)...)
	return out, err
}

// ForecastOf computes the forecast roll-up for period p. A rep is listed
// when they have a quota or a deal in it.
func ForecastOf(ctx context.Context, q db.Querier, w platform.Workspace, p Period, f ForecastFilter, now time.Time) (Forecast, error) {
	// The result depends on now only through its week (which snapshot the
	// changes are measured from), which is in the key.
	return cached(ctx, q, cacheKey("forecast", w.ID, p.From.UnixMilli(), p.To.UnixMilli(), f, WeekStart(w, now).Format(time.DateOnly)),
		func(ctx context.Context) (Forecast, error) { return forecastOf(ctx, q, w, p, f, now) })
}

func forecastOf(ctx context.Context, q db.Querier, w platform.Workspace, p Period, f ForecastFilter, now time.Time) (Forecast, error) {
	out := Forecast{Period: p, Currency: w.BaseCurrency, Formula: ForecastFormula, Reps: []ForecastRow{}, Teams: []ForecastRow{},
		Deals: []ForecastDeal{}, Snapshots: []string{}, Changes: []ForecastChange{}, ChangeCounts: map[string]int{}, Trend: []ForecastPoint{}}
	loc := w.Location()
	fromDay, toDay := p.From.In(loc).Format(time.DateOnly), p.To.In(loc).Format(time.DateOnly)
	users, err := platform.ListUsers(ctx, q, w.ID)
	if err != nil {
		return out, err
	}
	teamOf, names := map[int64]int64{}, map[int64]string{}
	for _, u := range users {
		teamOf[u.ID], names[u.ID] = u.TeamID, u.Name
	}
	keep := func(owner int64) bool {
		return (f.OwnerID == 0 || owner == f.OwnerID) && (f.TeamID == 0 || teamOf[owner] == f.TeamID)
	}
	stages, err := stageInfo(ctx, q, w.ID)
	if err != nil {
		return out, err
	}
	rows := map[int64]*ForecastRow{}
	row := func(id int64) *ForecastRow {
		if rows[id] == nil {
			rows[id] = &ForecastRow{UserID: id, Name: names[id], TeamID: teamOf[id]}
		}
		return rows[id]
	}
	var deals []fcDeal
	for _, part := range []struct {
		name, where string
		args        []any
	}{
		{"open", `status = 'open' AND close_date >= ? AND close_date < ?`, []any{fromDay, toDay}},
		{"won", `status = 'won' AND closed_at >= ? AND closed_at < ?`, []any{db.Millis(p.From), db.Millis(p.To)}},
	} {
		ds, err := loadFcDeals(ctx, q, w, stages, fromDay, part.where, part.args...)
		if err != nil {
			return out, fmt.Errorf("forecast %s deals: %w", part.name, err)
		}
		for _, d := range ds {
			if keep(d.OwnerID) && d.rated { // without a rate a deal cannot be counted in the base currency
				deals = append(deals, d)
			}
		}
	}
	for _, d := range deals {
		row(d.OwnerID).count(d.Category, d.Amount, d.Probability)
	}
	// Targets: each user's quotas; a team's own quota where one is set,
	// else the sum of its members'.
	teamTarget := map[int64]*ForecastRow{}
	if months := monthsIn(w, p); len(months) > 0 {
		if err := scanRows(ctx, q, func(s scanner) error {
			var scope string
			var id, rev int64
			var n int
			if err := s.Scan(&scope, &id, &rev, &n); err != nil {
				return err
			}
			if scope == "team" {
				if teamTarget[id] == nil {
					teamTarget[id] = &ForecastRow{}
				}
				teamTarget[id].Target += rev
				teamTarget[id].TargetDeals += n
				return nil
			}
			if keep(id) {
				r := row(id)
				r.Target += rev
				r.TargetDeals += n
			}
			return nil
		}, `SELECT scope, scope_id, revenue, deals FROM sales_quotas WHERE workspace_id = ? AND month >= ? AND month <= ?`,
			w.ID, months[0], months[len(months)-1]); err != nil {
			return out, fmt.Errorf("forecast quotas: %w", err)
		}
	}
	teams := map[int64]*ForecastRow{}
	teamNames := map[int64]string{}
	if ts, err := platform.ListTeams(ctx, q, w.ID); err == nil {
		for _, t := range ts {
			teamNames[t.ID] = t.Name
		}
	}
	for _, r := range rows {
		r.finish()
		out.Reps = append(out.Reps, *r)
		t := teams[r.TeamID]
		if t == nil {
			t = &ForecastRow{TeamID: r.TeamID, Name: teamNames[r.TeamID]}
			teams[r.TeamID] = t
		}
		t.add(*r)
		out.Total.add(*r)
	}
	for id, t := range teams {
		if tt := teamTarget[id]; tt != nil && id != 0 && f.OwnerID == 0 {
			out.Total.Target += tt.Target - t.Target
			out.Total.TargetDeals += tt.TargetDeals - t.TargetDeals
			t.Target, t.TargetDeals = tt.Target, tt.TargetDeals
		}
		t.finish()
		out.Teams = append(out.Teams, *t)
	}
	out.Total.finish()
	sort.Slice(out.Reps, func(i, j int) bool {
		if out.Reps[i].TeamID != out.Reps[j].TeamID {
			return teamNames[out.Reps[i].TeamID] < teamNames[out.Reps[j].TeamID]
		}
		return out.Reps[i].Name < out.Reps[j].Name
	})
	sort.Slice(out.Teams, func(i, j int) bool { return out.Teams[i].Name < out.Teams[j].Name })
	sort.Slice(deals, func(i, j int) bool {
		if deals[i].Amount != deals[j].Amount {
			return deals[i].Amount > deals[j].Amount
		}
		return deals[i].ID < deals[j].ID
	})
	out.DealCount = len(deals)
	for _, d := range deals[:min(len(deals), ForecastDealsListed)] {
		out.Deals = append(out.Deals, d.ForecastDeal)
	}
	if err := forecastMovement(ctx, q, w, p, f, now, keep, stages, deals, &out); err != nil {
		return out, err
	}
	if err := forecastNames(ctx, q, w.ID, &out); err != nil {
		return out, err
	}
	return out, nil
}

type stageMeta struct {
	name        string
	probability int
}

func stageInfo(ctx context.Context, q db.Querier, ws int64) (map[int64]stageMeta, error) {
	out := map[int64]stageMeta{}
	err := scanRows(ctx, q, func(s scanner) error {
		var id int64
		var m stageMeta
		if err := s.Scan(&id, &m.name, &m.probability); err != nil {
			return err
		}
		out[id] = m
		return nil
	}, `SELECT id, name, probability FROM pipeline_stages WHERE workspace_id = ?`, ws)
	if err != nil {
		return nil, fmt.Errorf("forecast stages: %w", err)
	}
	return out, nil
}

type snapRow struct {
	deal, owner, amount int64
	category, closeDate string
}

// forecastMovement fills the snapshots, the trend and the changes since the
// chosen snapshot.
func forecastMovement(ctx context.Context, q db.Querier, w platform.Workspace, p Period, f ForecastFilter, now time.Time,
	keep func(int64) bool, stages map[int64]stageMeta, deals []fcDeal, out *Forecast) error {
	loc := w.Location()
	fromDay, toDay := p.From.In(loc).Format(time.DateOnly), p.To.In(loc).Format(time.DateOnly)
	if err := scanRows(ctx, q, func(s scanner) error {
		var d string
		if err := s.Scan(&d); err != nil {
			return err
		}
		out.Snapshots = append(out.Snapshots, d)
		return nil
	}, `SELECT DISTINCT taken_on FROM forecast_snapshots WHERE workspace_id = ? ORDER BY taken_on DESC LIMIT 60`, w.ID); err != nil {
		return fmt.Errorf("forecast snapshots: %w", err)
	}
	// closedBefore is what was won in the period before a day began.
	closedBefore := func(day string) int64 {
		t, err := time.ParseInLocation(time.DateOnly, day, loc)
		if err != nil {
			return 0
		}
		var sum int64
		for _, d := range deals {
			if d.Status == "won" && d.closedAt < db.Millis(t) {
				sum += d.Amount
			}
		}
		return sum
	}
	// The trend: each snapshot taken during the period.
	points := map[string]*ForecastPoint{}
	if err := scanRows(ctx, q, func(s scanner) error {
		var day, cat string
		var owner, sum int64
		if err := s.Scan(&day, &owner, &cat, &sum); err != nil {
			return err
		}
		if !keep(owner) {
			return nil
		}
		pt := points[day]
		if pt == nil {
			pt = &ForecastPoint{TakenOn: day, Closed: closedBefore(day)}
			points[day] = pt
		}
		switch cat {
		case "commit":
			pt.Commit += sum
		case "best_case":
			pt.BestCase += sum
		case "pipeline":
			pt.Pipeline += sum
		}
		return nil
	}, `SELECT taken_on, COALESCE(owner_id, 0), category, SUM(amount) FROM forecast_snapshots
		WHERE workspace_id = ? AND taken_on >= ? AND taken_on < ? AND close_date >= ? AND close_date < ?
		GROUP BY taken_on, COALESCE(owner_id, 0), category`, w.ID, fromDay, toDay, fromDay, toDay); err != nil {
		return fmt.Errorf("forecast trend: %w", err)
	}
	for _, pt := range points {
		out.Trend = append(out.Trend, *pt)
	}
	sort.Slice(out.Trend, func(i, j int) bool { return out.Trend[i].TakenOn < out.Trend[j].TakenOn })

	since := f.Since
	if since == "" {
		week := WeekStart(w, now).Format(time.DateOnly)
		for _, d := range out.Snapshots {
			if d < week {
				since = d
				break
			}
		}
	}
	if since == "" {
		return nil
	}
	if _, err := time.Parse(time.DateOnly, since); err != nil {
		return nil
	}
	out.Since = since
	then := ForecastRow{Closed: closedBefore(since)}
	snap := map[int64]snapRow{}
	if err := scanRows(ctx, q, func(s scanner) error {
		var r snapRow
		if err := s.Scan(&r.deal, &r.owner, &r.category, &r.amount, &r.closeDate); err != nil {
			return err
		}
		if !keep(r.owner) {
			return nil
		}
		snap[r.deal] = r
		then.count(r.category, r.amount, 0)
		return nil
	}, `SELECT deal_id, COALESCE(owner_id, 0), category, amount, close_date FROM forecast_snapshots
		WHERE workspace_id = ? AND taken_on = ? AND close_date >= ? AND close_date < ?`, w.ID, since, fromDay, toDay); err != nil {
		return fmt.Errorf("forecast snapshot: %w", err)
	}
	then.Target = out.Total.Target
	then.finish()
	out.Then = &then

	// Where the snapshot's deals are now: those still counted are at hand;
	// the others (slipped out of the period, lost, deleted) are read by id.
	current := map[int64]fcDeal{}
	for _, d := range deals {
		current[d.ID] = d
	}
	var missing []int64
	for id := range snap {
		if _, ok := current[id]; !ok {
			missing = append(missing, id)
		}
	}
	sort.Slice(missing, func(i, j int) bool { return missing[i] < missing[j] })
	elsewhere := map[int64]fcDeal{}
	for len(missing) > 0 {
		n := min(len(missing), 500)
		chunk := missing[:n]
		missing = missing[n:]
		args := make([]any, 0, n)
		for _, id := range chunk {
			args = append(args, id)
		}
		ds, err := loadFcDeals(ctx, q, w, stages, toDay, `id IN (`+db.Placeholders(n)+`)`, args...)
		if err != nil {
			return fmt.Errorf("forecast changes: %w", err)
		}
		for _, d := range ds {
			elsewhere[d.ID] = d
		}
	}
	var changes []ForecastChange
	for id, s := range snap {
		d, ok := current[id]
		if !ok {
			d, ok = elsewhere[id]
		}
		c := ForecastChange{DealID: id, OwnerID: s.owner, AmountThen: s.amount}
		switch {
		case !ok:
			c.Kind = "removed"
		case d.Status == "won":
			c.Kind, c.Name, c.AmountNow = "won", d.Name, d.Amount
		case d.Status == "lost":
			c.Kind, c.Name, c.AmountNow = "lost", d.Name, d.Amount
		case d.CloseDate >= toDay || d.CloseDate == "":
			c.Kind, c.Name, c.AmountNow, c.From, c.To = "slipped", d.Name, d.Amount, s.closeDate, d.CloseDate
		case d.Category != s.category:
			c.Kind, c.Name, c.AmountNow, c.From, c.To = "category", d.Name, d.Amount, s.category, d.Category
		case d.Amount != s.amount:
			c.Kind, c.Name, c.AmountNow = "amount", d.Name, d.Amount
		default:
			continue
		}
		changes = append(changes, c)
	}
	for _, d := range deals {
		if _, ok := snap[d.ID]; !ok && d.Status == "open" {
			changes = append(changes, ForecastChange{DealID: d.ID, Name: d.Name, OwnerID: d.OwnerID, Kind: "added", To: d.CloseDate, AmountNow: d.Amount})
		}
	}
	order := map[string]int{"slipped": 0, "lost": 1, "category": 2, "amount": 3, "removed": 4, "added": 5, "won": 6}
	sort.Slice(changes, func(i, j int) bool {
		a, b := changes[i], changes[j]
		if order[a.Kind] != order[b.Kind] {
			return order[a.Kind] < order[b.Kind]
		}
		if x, y := max(a.AmountThen, a.AmountNow), max(b.AmountThen, b.AmountNow); x != y {
			return x > y
		}
		return a.DealID < b.DealID
	})
	for _, c := range changes {
		out.ChangeCounts[c.Kind]++
	}
	if len(changes) > 200 {
		changes = changes[:200]
	}
	out.Changes = changes
	return nil
}

// WeekStart is the first day of the week holding t, by the workspace's week
// start, at midnight in its time zone.
func WeekStart(w platform.Workspace, t time.Time) time.Time {
	p, err := PeriodOf(w, "week", 0, t)
	if err != nil {
		loc := w.Location()
		n := t.In(loc)
		return time.Date(n.Year(), n.Month(), n.Day(), 0, 0, 0, 0, loc)
	}
	return p.From
}

// ForecastSnapshotMark is the work mark holding the last week snapshotted
// (as YYYYMMDD of its first day).
const ForecastSnapshotMark = "forecast.snapshot"

// TakeForecastSnapshot writes this week's snapshot of the open deals a
// forecast can hold (close date before the end of the next fiscal quarter),
// once per week: in batches of 500 deals per write transaction, each batch
// skipping deals already written, so a crash mid-way resumes where it
// stopped. It returns the deals written (0 when the week is done).
func TakeForecastSnapshot(ctx context.Context, d *db.DB, w platform.Workspace, now time.Time) (int, error) {
	week := WeekStart(w, now)
	day := week.Format(time.DateOnly)
	markValue, _ := strconv.ParseInt(week.Format("20060102"), 10, 64)
	var done int64
	if err := d.Reader().QueryRowContext(ctx, `SELECT COALESCE(MAX(value), 0) FROM work_marks WHERE workspace_id = ? AND name = ?`,
		w.ID, ForecastSnapshotMark).Scan(&done); err != nil {
		return 0, fmt.Errorf("insight.TakeForecastSnapshot: %w", err)
	}
	if done >= markValue {
		return 0, nil
	}
	quarter, err := PeriodOf(w, "quarter", 0, now)
	if err != nil {
		return 0, err
	}
	next, err := PeriodOf(w, "quarter", 0, quarter.To)
	if err != nil {
		return 0, err
	}
	horizon := next.To.In(w.Location()).Format(time.DateOnly)
	stages, err := stageInfo(ctx, d.Reader(), w.ID)
	if err != nil {
		return 0, err
	}
	written, last := 0, int64(0)
	for {
		type item struct {
			id, owner, stage, amount int64
			cat, close               string
			prob                     int
		}
		var batch []item
		if err := scanRows(ctx, d.Reader(), func(s scanner) error {
			var it item
			var amount int64
			var cur, set string
			if err := s.Scan(&it.id, &it.owner, &it.stage, &amount, &cur, &it.close, &set); err != nil {
				return err
			}
			b, err := platform.ToBase(ctx, d.Reader(), w, amount, cur, it.close)
			if err != nil {
				b = 0 // no rate known: kept, at zero, so the deal's moves still show
			}
			it.amount, it.prob = b, stages[it.stage].probability
			it.cat = crm.EffectiveForecastCategory("open", set, it.prob)
			batch = append(batch, it)
			return nil
		}, `SELECT id, COALESCE(owner_id, 0), stage_id, amount, currency, close_date, forecast_category FROM deals
			WHERE workspace_id = ? AND id > ? AND status = 'open' AND close_date IS NOT NULL AND close_date < ? ORDER BY id LIMIT 500`,
			w.ID, last, horizon); err != nil {
			return written, fmt.Errorf("insight.TakeForecastSnapshot: %w", err)
		}
		if len(batch) == 0 {
			break
		}
		err := d.Write(ctx, "insight.TakeForecastSnapshot", func(tx *db.Tx) error {
			for _, it := range batch {
				if _, err := tx.ExecContext(ctx, `INSERT INTO forecast_snapshots (workspace_id, taken_on, deal_id, owner_id, stage_id, category, amount, probability, close_date)
					VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (workspace_id, taken_on, deal_id) DO NOTHING`,
					w.ID, day, it.id, db.NullInt(it.owner), it.stage, it.cat, it.amount, it.prob, it.close); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return written, fmt.Errorf("insight.TakeForecastSnapshot: %w", err)
		}
		written += len(batch)
		last = batch[len(batch)-1].id
	}
	err = d.Write(ctx, "insight.TakeForecastSnapshot mark", func(tx *db.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO work_marks (workspace_id, name, value) VALUES (?, ?, ?)
			ON CONFLICT (workspace_id, name) DO UPDATE SET value = excluded.value`, w.ID, ForecastSnapshotMark, markValue)
		return err
	})
	if err != nil {
		return written, fmt.Errorf("insight.TakeForecastSnapshot: %w", err)
	}
	return written, nil
}

// ForecastDealsListed is how many of the period's deals a forecast lists
// (largest first); the roll-up counts them all.
const ForecastDealsListed = 200

// forecastNames fills in the names of the deals a forecast lists and of its
// changes, read by id: the roll-up itself reads only an index
// (deals_forecast), however many deals the period holds.
func forecastNames(ctx context.Context, q db.Querier, ws int64, out *Forecast) error {
	var ids []int64
	for _, d := range out.Deals {
		ids = append(ids, d.ID)
	}
	for _, c := range out.Changes {
		ids = append(ids, c.DealID)
	}
	names, err := crm.DealNames(ctx, q, ws, ids)
	if err != nil {
		return fmt.Errorf("forecast deal names: %w", err)
	}
	for i := range out.Deals {
		out.Deals[i].Name = names[out.Deals[i].ID]
	}
	for i := range out.Changes {
		if out.Changes[i].Kind != "removed" {
			out.Changes[i].Name = names[out.Changes[i].DealID]
		}
	}
	return nil
}
