package insight

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/ryorin/ryorin/internal/clock"
	"github.com/ryorin/ryorin/internal/db"
	"github.com/ryorin/ryorin/internal/errs"
	"github.com/ryorin/ryorin/internal/i18n"
	"github.com/ryorin/ryorin/internal/platform"
)

// PlanSteps are the stages a goal plan works back through, from the top of
// the funnel to the won deal.
var PlanSteps = []string{"visits", "leads", "mqls", "sqls", "opportunities", "won"}

// Rates are the conversion rates a plan works back with, each 0–1.
type Rates struct {
	VisitToLead float64 `json:"visit_to_lead"`
	LeadToMQL   float64 `json:"lead_to_mql"`
	MQLToSQL    float64 `json:"mql_to_sql"`
	SQLToOpp    float64 `json:"sql_to_opportunity"`
	OppToWon    float64 `json:"opportunity_to_won"`
}

// PlanInput is what a plan is made from; zero rates and average deal size
// are taken from the last twelve months when the plan is created.
type PlanInput struct {
	Name string `json:"name"`
	// Period is "quarter" or "year" (fiscal); Offset picks a later one (0 =
	// the current, 1 = the next).
	Period      string             `json:"period" enum:"quarter,year"`
	Offset      int                `json:"offset,omitempty" doc:"0 = the current period, 1 = the next, up to 4"`
	RevenueGoal int64              `json:"revenue_goal" doc:"minor units of the base currency"`
	AvgDealSize int64              `json:"avg_deal_size,omitempty" doc:"minor units; default: the last 12 months' average"`
	Rates       *Rates             `json:"rates,omitempty" doc:"default: the last 12 months' rates"`
	Shares      map[string]float64 `json:"channel_shares,omitempty" doc:"share of leads by channel; default: the last 12 months' shares"`
	Threshold   float64            `json:"pacing_threshold,omitempty" doc:"actual ÷ expected below which a stage is behind (default 0.9)"`
}

// Need is how many of each step a plan needs in one month (or in total).
type Need struct {
	Month  string  `json:"month,omitempty"`
	Counts []int64 `json:"counts" doc:"visits, leads, MQLs, SQLs, opportunities, won — in PlanSteps order"`
}

// Plan is a goal plan with what it needs.
type Plan struct {
	ID          int64              `json:"id"`
	Name        string             `json:"name"`
	Period      Period             `json:"period"`
	RevenueGoal int64              `json:"revenue_goal"`
	AvgDealSize int64              `json:"avg_deal_size"`
	Rates       Rates              `json:"rates"`
	Shares      map[string]float64 `json:"channel_shares"`
	Threshold   float64            `json:"pacing_threshold"`
	Status      string             `json:"status" enum:"draft,active,archived"`
	// Total is what the whole period needs; Months splits it evenly by month
	// (rounded up, so the months add up to at least the total); Channels
	// splits the total's visits and leads by channel share.
	Total    Need            `json:"total"`
	Months   []Need          `json:"months"`
	Channels map[string]Need `json:"channels"`
	// Approvals: a marketing-team and a sales-team member, two people.
	MarketingBy int64      `json:"marketing_approved_by,omitempty"`
	MarketingAt *time.Time `json:"marketing_approved_at,omitempty"`
	SalesBy     int64      `json:"sales_approved_by,omitempty"`
	SalesAt     *time.Time `json:"sales_approved_at,omitempty"`
	CreatedBy   int64      `json:"created_by,omitempty"`
	CreatedAt   time.Time  `json:"created_at"`
}

// WorkBack computes what a revenue goal needs: won deals = goal ÷ average
// deal size, then each earlier step = the next ÷ its rate, each rounded up.
// A zero rate or deal size leaves the steps before it at 0 (unknown).
func WorkBack(goal, avgDeal int64, r Rates) []int64 {
	out := make([]int64, len(PlanSteps))
	if avgDeal <= 0 || goal <= 0 {
		return out
	}
	won := math.Ceil(float64(goal) / float64(avgDeal))
	vals := []float64{0, 0, 0, 0, 0, won}
	rates := []float64{r.VisitToLead, r.LeadToMQL, r.MQLToSQL, r.SQLToOpp, r.OppToWon}
	for i := len(rates) - 1; i >= 0; i-- {
		if rates[i] <= 0 || vals[i+1] == 0 {
			break
		}
		vals[i] = math.Ceil(vals[i+1]/rates[i] - 1e-9)
	}
	for i, v := range vals {
		out[i] = int64(v)
	}
	return out
}

// Planner keeps goal plans.
type Planner struct {
	DB    *db.DB
	Clock clock.Clock
}

// NewPlanner returns the goal planner.
func NewPlanner(d *db.DB, c clock.Clock) *Planner { return &Planner{DB: d, Clock: clock.Millis(c)} }

// MeasuredRates are the last twelve months' conversion rates, average deal
// size (base currency) and lead shares by channel, up to now.
func MeasuredRates(ctx context.Context, q db.Querier, w platform.Workspace, now time.Time) (Rates, int64, map[string]float64, error) {
	p := Period{Name: "custom", From: now.AddDate(-1, 0, 0), To: now}
	cq, err := ChannelQualityOf(ctx, q, w, p)
	if err != nil {
		return Rates{}, 0, nil, err
	}
	t := cq.Total
	var r Rates
	r.VisitToLead = ratio(t.Leads, t.Visits)
	if t.Visits == 0 {
		r.VisitToLead = 0.02 // no tracking yet: a common B2B site conversion
	}
	// The funnel's rates over the same contacts.
	var reached [5]int
	step := map[string]int{"mql": 1, "sql": 2, "opportunity": 3, "customer": 4}
	furthest := map[int64]int{}
	if err := scanRows(ctx, q, func(s scanner) error {
		var id int64
		var st string
		if err := s.Scan(&id, &st); err != nil {
			return err
		}
		furthest[id] = max(furthest[id], step[st])
		return nil
	}, `SELECT DISTINCT h.contact_id, h.to_stage FROM lifecycle_history h JOIN contacts c ON c.workspace_id = h.workspace_id AND c.id = h.contact_id
		WHERE h.workspace_id = ? AND c.created_at >= ? AND c.created_at < ? AND h.to_stage IN ('mql', 'sql', 'opportunity', 'customer')`,
		w.ID, db.Millis(p.From), db.Millis(p.To)); err != nil {
		return r, 0, nil, err
	}
	for _, s := range furthest {
		for k := 1; k <= s; k++ {
			reached[k]++
		}
	}
	reached[0] = t.Leads
	r.LeadToMQL = ratio(reached[1], reached[0])
	r.MQLToSQL = ratio(reached[2], reached[1])
	r.SQLToOpp = ratio(reached[3], reached[2])
	var won, lost int
	var revenue int64
	if err := scanRows(ctx, q, func(s scanner) error {
		var status, cur string
		var amount, closed int64
		if err := s.Scan(&status, &amount, &cur, &closed); err != nil {
			return err
		}
		if status == "lost" {
			lost++
			return nil
		}
		won++
		if b, err := platform.ToBase(ctx, q, w, amount, cur, db.Time(closed).In(w.Location()).Format(time.DateOnly)); err == nil {
			revenue += b
		}
		return nil
	}, `SELECT status, amount, currency, closed_at FROM deals WHERE workspace_id = ? AND status IN ('won', 'lost') AND closed_at >= ? AND closed_at < ?`,
		w.ID, db.Millis(p.From), db.Millis(p.To)); err != nil {
		return r, 0, nil, err
	}
	r.OppToWon = ratio(won, won+lost)
	var avg int64
	if won > 0 {
		avg = revenue / int64(won)
	}
	shares := map[string]float64{}
	for _, row := range cq.Rows {
		if row.Leads > 0 && t.Leads > 0 {
			shares[row.Channel] = float64(row.Leads) / float64(t.Leads)
		}
	}
	return r, avg, shares, nil
}

func checkRates(r Rates) error {
	for _, x := range []struct {
		v     float64
		field string
	}{{r.VisitToLead, "rates.visit_to_lead"}, {r.LeadToMQL, "rates.lead_to_mql"}, {r.MQLToSQL, "rates.mql_to_sql"}, {r.SQLToOpp, "rates.sql_to_opportunity"}, {r.OppToWon, "rates.opportunity_to_won"}} {
		if x.v < 0 || x.v > 1 || math.IsNaN(x.v) {
			return errs.Field(x.field, "must be between 0 and 1")
		}
	}
	return nil
}

type planBody struct {
	AvgDealSize int64              `json:"avg_deal_size"`
	Rates       Rates              `json:"rates"`
	Shares      map[string]float64 `json:"channel_shares"`
	Period      string             `json:"period"`
}

// Create saves a draft plan (managers, marketing and admins).
func (pl *Planner) Create(ctx context.Context, a platform.Actor, in PlanInput) (Plan, error) {
	if a.Role != platform.RoleAdmin && a.Role != platform.RoleManager && a.Role != platform.RoleMarketing {
		return Plan{}, errs.E(errs.Forbidden, "", "only managers, marketing and admins draft goal plans")
	}
	switch {
	case in.Name == "" || len(in.Name) > 200:
		return Plan{}, errs.Field("name", "is required, at most 200 bytes")
	case in.Period != "quarter" && in.Period != "year":
		return Plan{}, errs.Field("period", "must be quarter or year")
	case in.Offset < 0 || in.Offset > 4:
		return Plan{}, errs.Field("offset", "must be 0 to 4")
	case in.RevenueGoal <= 0 || in.RevenueGoal > 1e15:
		return Plan{}, errs.Field("revenue_goal", "must be a positive amount")
	case in.AvgDealSize < 0:
		return Plan{}, errs.Field("avg_deal_size", "must not be negative")
	case in.Threshold < 0 || in.Threshold > 1:
		return Plan{}, errs.Field("pacing_threshold", "must be between 0 and 1")
	}
	if in.Rates != nil {
		if err := checkRates(*in.Rates); err != nil {
			return Plan{}, err
		}
	}
	for ch, s := range in.Shares {
		if s < 0 || s > 1 {
			return Plan{}, errs.Field("channel_shares."+ch, "must be between 0 and 1")
		}
	}
	now := pl.Clock.Now()
	w, err := platform.GetWorkspace(ctx, pl.DB.Reader(), a.WorkspaceID)
	if err != nil {
		return Plan{}, err
	}
	// Offset counts forward from the current period.
	cur, err := PeriodOf(w, in.Period, 0, now)
	if err != nil {
		return Plan{}, err
	}
	months := 3
	if in.Period == "year" {
		months = 12
	}
	period := Period{Name: in.Period, From: cur.From.AddDate(0, months*in.Offset, 0), To: cur.From.AddDate(0, months*(in.Offset+1), 0)}
	rates, avg, shares, err := MeasuredRates(ctx, pl.DB.Reader(), w, now)
	if err != nil {
		return Plan{}, err
	}
	if in.Rates != nil {
		rates = *in.Rates
	}
	if in.AvgDealSize > 0 {
		avg = in.AvgDealSize
	}
	if in.Shares != nil {
		shares = in.Shares
	}
	if in.Threshold == 0 {
		in.Threshold = 0.9
	}
	body, _ := json.Marshal(planBody{AvgDealSize: avg, Rates: rates, Shares: shares, Period: in.Period})
	var id int64
	err = pl.DB.Write(ctx, "insight.CreatePlan", func(tx *db.Tx) error {
		if err := tx.QueryRowContext(ctx, `INSERT INTO goal_plans (workspace_id, name, period_kind, period_start, period_end, revenue_goal, body, pacing_threshold, created_by, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`, a.WorkspaceID, in.Name, in.Period, db.Millis(period.From), db.Millis(period.To), in.RevenueGoal,
			string(body), in.Threshold, nullUser(a.UserID), db.Millis(now), db.Millis(now)).Scan(&id); err != nil {
			return err
		}
		return platform.Audit(ctx, tx, a, now, "create", "goal_plan", id, in)
	})
	if err != nil {
		return Plan{}, err
	}
	return pl.Get(ctx, pl.DB.Reader(), w, id)
}

func nullUser(id int64) any {
	if id == 0 {
		return nil
	}
	return id
}

// Get loads a plan and computes what it needs.
func (pl *Planner) Get(ctx context.Context, q db.Querier, w platform.Workspace, id int64) (Plan, error) {
	var p Plan
	var body string
	var from, to, created int64
	var mBy, mAt, sBy, sAt, by *int64
	err := q.QueryRowContext(ctx, `SELECT id, name, period_kind, period_start, period_end, revenue_goal, body, status, pacing_threshold,
		marketing_approved_by, marketing_approved_at, sales_approved_by, sales_approved_at, created_by, created_at
		FROM goal_plans WHERE workspace_id = ? AND id = ?`, w.ID, id).Scan(&p.ID, &p.Name, &p.Period.Name, &from, &to, &p.RevenueGoal, &body, &p.Status, &p.Threshold,
		&mBy, &mAt, &sBy, &sAt, &by, &created)
	if db.NoRows(err) {
		return p, errs.NotFoundf("goal plan %d not found", id)
	}
	if err != nil {
		return p, fmt.Errorf("insight.GetPlan: %w", err)
	}
	var b planBody
	if err := json.Unmarshal([]byte(body), &b); err != nil {
		return p, fmt.Errorf("insight.GetPlan: %w", err)
	}
	p.Period.From, p.Period.To, p.CreatedAt = db.Time(from).In(w.Location()), db.Time(to).In(w.Location()), db.Time(created)
	p.AvgDealSize, p.Rates, p.Shares = b.AvgDealSize, b.Rates, b.Shares
	if p.Shares == nil {
		p.Shares = map[string]float64{}
	}
	deref := func(x *int64) int64 {
		if x == nil {
			return 0
		}
		return *x
	}
	p.MarketingBy, p.SalesBy, p.CreatedBy = deref(mBy), deref(sBy), deref(by)
	p.MarketingAt, p.SalesAt = db.TimePtr(nullInt(mAt)), db.TimePtr(nullInt(sAt))
	p.compute(w)
	return p, nil
}

// compute fills Total, Months and Channels.
func (p *Plan) compute(w platform.Workspace) {
	p.Total = Need{Counts: WorkBack(p.RevenueGoal, p.AvgDealSize, p.Rates)}
	for _, m := range monthsIn(w, p.Period) {
		n := Need{Month: m, Counts: make([]int64, len(PlanSteps))}
		months := int64(len(monthsIn(w, p.Period)))
		for i, c := range p.Total.Counts {
			n.Counts[i] = (c + months - 1) / months
		}
		p.Months = append(p.Months, n)
	}
	p.Channels = map[string]Need{}
	for ch, s := range p.Shares {
		n := Need{Counts: make([]int64, len(PlanSteps))}
		for i, c := range p.Total.Counts {
			n.Counts[i] = int64(math.Ceil(float64(c)*s - 1e-9))
		}
		p.Channels[ch] = n
	}
}

// List returns the plans, newest period first.
func (pl *Planner) List(ctx context.Context, q db.Querier, w platform.Workspace) ([]Plan, error) {
	var ids []int64
	if err := scanRows(ctx, q, func(s scanner) error {
		var id int64
		if err := s.Scan(&id); err != nil {
			return err
		}
		ids = append(ids, id)
		return nil
	}, `SELECT id FROM goal_plans WHERE workspace_id = ? ORDER BY period_start DESC, id DESC`, w.ID); err != nil {
		return nil, err
	}
	out := []Plan{}
	for _, id := range ids {
		p, err := pl.Get(ctx, q, w, id)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, nil
}

// Approve records a marketing-team or sales-team member's approval of a
// draft; when both sides (two different people) have approved, the plan
// becomes active and any other active plan for an overlapping period is
// archived.
func (pl *Planner) Approve(ctx context.Context, a platform.Actor, id int64) (Plan, error) {
	now := pl.Clock.Now()
	w, err := platform.GetWorkspace(ctx, pl.DB.Reader(), a.WorkspaceID)
	if err != nil {
		return Plan{}, err
	}
	err = pl.DB.Write(ctx, "insight.ApprovePlan", func(tx *db.Tx) error {
		side, err := platform.ApproverSide(ctx, tx, a, "goal plans")
		if err != nil {
			return err
		}
		p, err := pl.Get(ctx, tx, w, id)
		if err != nil {
			return err
		}
		if p.Status != "draft" {
			return errs.Rule("status", "only a draft can be approved")
		}
		other := p.SalesBy
		if side == "sales" {
			other = p.MarketingBy
		}
		if other == a.UserID {
			return errs.Rule("approval", "the other side must be approved by a different person")
		}
		if _, err := tx.ExecContext(ctx, `UPDATE goal_plans SET `+side+`_approved_by = ?, `+side+`_approved_at = ?, updated_at = ? WHERE workspace_id = ? AND id = ?`,
			a.UserID, db.Millis(now), db.Millis(now), a.WorkspaceID, id); err != nil {
			return err
		}
		if other != 0 {
			if _, err := tx.ExecContext(ctx, `UPDATE goal_plans SET status = 'archived', updated_at = ? WHERE workspace_id = ? AND status = 'active' AND period_start < ? AND period_end > ?`,
				db.Millis(now), a.WorkspaceID, db.Millis(p.Period.To), db.Millis(p.Period.From)); err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, `UPDATE goal_plans SET status = 'active' WHERE workspace_id = ? AND id = ?`, a.WorkspaceID, id); err != nil {
				return err
			}
		}
		return platform.Audit(ctx, tx, a, now, "approve", "goal_plan", id, map[string]string{"side": side})
	})
	if err != nil {
		return Plan{}, err
	}
	return pl.Get(ctx, pl.DB.Reader(), w, id)
}

// Pacing compares a plan with actuals up to now, step by step.
type Pacing struct {
	Plan Plan `json:"plan"`
	// Elapsed is the share of the period's days gone by, 0–1.
	Elapsed float64 `json:"elapsed"`
	// Actual and Expected are per PlanSteps; Expected = need × elapsed.
	Actual   []int64   `json:"actual"`
	Expected []float64 `json:"expected"`
	// Behind is the first step (from the top of the funnel) whose actual ÷
	// expected is below the threshold; "" when none is.
	Behind string `json:"behind,omitempty"`
	// Untracked is true when no visit was ever tracked: visits are then
	// not judged (the snippet is not installed yet).
	Untracked bool  `json:"untracked,omitempty"`
	Revenue   int64 `json:"revenue" doc:"won so far, minor units of the base currency"`
}

// PaceOf computes a plan's pacing at now.
func PaceOf(ctx context.Context, q db.Querier, w platform.Workspace, p Plan, now time.Time) (Pacing, error) {
	out := Pacing{Plan: p, Actual: make([]int64, len(PlanSteps)), Expected: make([]float64, len(PlanSteps))}
	end := now
	if end.After(p.Period.To) {
		end = p.Period.To
	}
	if end.Before(p.Period.From) {
		end = p.Period.From
	}
	out.Elapsed = float64(end.Sub(p.Period.From)) / float64(p.Period.To.Sub(p.Period.From))
	upTo := Period{Name: "custom", From: p.Period.From, To: end}
	from, to := db.Millis(upTo.From), db.Millis(upTo.To)
	for i, query := range []string{
		`SELECT COUNT(*) FROM track_sessions WHERE workspace_id = ? AND started_at >= ? AND started_at < ?`,
		`SELECT COUNT(*) FROM contacts WHERE workspace_id = ? AND created_at >= ? AND created_at < ?`,
		`SELECT COUNT(DISTINCT contact_id) FROM lifecycle_history WHERE workspace_id = ? AND to_stage = 'mql' AND at >= ? AND at < ?`,
		`SELECT COUNT(DISTINCT contact_id) FROM lifecycle_history WHERE workspace_id = ? AND to_stage = 'sql' AND at >= ? AND at < ?`,
		`SELECT COUNT(*) FROM deals WHERE workspace_id = ? AND created_at >= ? AND created_at < ?`,
		`SELECT COUNT(*) FROM deals WHERE workspace_id = ? AND status = 'won' AND closed_at >= ? AND closed_at < ?`,
	} {
		if err := q.QueryRowContext(ctx, query, w.ID, from, to).Scan(&out.Actual[i]); err != nil {
			return out, fmt.Errorf("pacing %s: %w", PlanSteps[i], err)
		}
		out.Expected[i] = float64(p.Total.Counts[i]) * out.Elapsed
	}
	ks, err := Compute(ctx, q, w, upTo)
	if err != nil {
		return out, err
	}
	for _, k := range ks {
		if k.Key == "revenue" {
			out.Revenue = platform.ToMinor(k.Value, w.BaseCurrency)
		}
	}
	var tracked int
	if err := q.QueryRowContext(ctx, `SELECT COUNT(*) FROM (SELECT 1 FROM track_sessions WHERE workspace_id = ? LIMIT 1) t`, w.ID).Scan(&tracked); err != nil {
		return out, err
	}
	out.Untracked = tracked == 0
	for i := range PlanSteps {
		if i == 0 && out.Untracked {
			continue
		}
		if out.Expected[i] >= 1 && float64(out.Actual[i]) < p.Threshold*out.Expected[i] {
			out.Behind = PlanSteps[i]
			break
		}
	}
	return out, nil
}

func nullInt(p *int64) (n sql.NullInt64) {
	if p != nil {
		n.Int64, n.Valid = *p, true
	}
	return n
}

// CheckPacing looks at every active plan whose period is under way and, when
// a step is behind, tells each active manager and admin once a day (in their
// language), so the team can act before the period is lost.
func (pl *Planner) CheckPacing(ctx context.Context, ws int64, n *platform.Notifier) (int, error) {
	w, err := platform.GetWorkspace(ctx, pl.DB.Reader(), ws)
	if err != nil {
		return 0, err
	}
	now := pl.Clock.Now()
	var ids []int64
	if err := scanRows(ctx, pl.DB.Reader(), func(s scanner) error {
		var id int64
		if err := s.Scan(&id); err != nil {
			return err
		}
		ids = append(ids, id)
		return nil
	}, `SELECT id FROM goal_plans WHERE workspace_id = ? AND status = 'active' AND period_start <= ? AND period_end > ?`, ws, db.Millis(now), db.Millis(now)); err != nil {
		return 0, err
	}
	users, err := platform.ListUsers(ctx, pl.DB.Reader(), ws)
	if err != nil {
		return 0, err
	}
	sent := 0
	day := now.In(w.Location()).Format(time.DateOnly)
	for _, id := range ids {
		p, err := pl.Get(ctx, pl.DB.Reader(), w, id)
		if err != nil {
			return sent, err
		}
		pace, err := PaceOf(ctx, pl.DB.Reader(), w, p, now)
		if err != nil || pace.Behind == "" {
			if err != nil {
				return sent, err
			}
			continue
		}
		i := slices.Index(PlanSteps, pace.Behind)
		err = pl.DB.Write(ctx, "insight.CheckPacing", func(tx *db.Tx) error {
			for _, u := range users {
				if !u.Active || (u.Role != platform.RoleManager && u.Role != platform.RoleAdmin) {
					continue
				}
				lang, _ := i18n.Parse(u.Locale)
				pct := 0.0
				if pace.Expected[i] > 0 {
					pct = 100 * float64(pace.Actual[i]) / pace.Expected[i]
				}
				_, created, err := n.Notify(ctx, tx, ws, u.ID, platform.Notification{Kind: "plan.behind",
					Title: i18n.T(lang, "notify.plan_behind", "plan", p.Name, "step", i18n.T(lang, "plan.step."+pace.Behind)),
					Body:  i18n.T(lang, "notify.plan_behind_body", "actual", pace.Actual[i], "expected", int64(math.Round(pace.Expected[i])), "pct", fmt.Sprintf("%.0f", pct)),
					Link:  fmt.Sprintf("/reports/plans/%d", p.ID), DedupeKey: fmt.Sprintf("plan.behind:%d:%s", p.ID, day)})
				if err != nil {
					return err
				}
				if created {
					sent++
				}
			}
			return nil
		})
		if err != nil {
			return sent, err
		}
	}
	return sent, nil
}
