package insight

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"time"

	"github.com/ryorin/ryorin/internal/db"
	"github.com/ryorin/ryorin/internal/platform"
)

// ActivityKinds are the kinds of activity counted per rep, in order.
var ActivityKinds = []string{"call", "email", "meeting", "demo", "note", "task"}

// RepRow is one rep's (or one team's, or everyone's) performance in a
// period.
type RepRow struct {
	UserID int64  `json:"user_id,omitempty"`
	TeamID int64  `json:"team_id,omitempty"`
	Name   string `json:"name"`
	// Leads handed to them in the period (hand-offs), how many were first
	// touched before the SLA deadline, and the median business seconds to
	// the first touch over those touched.
	LeadsReceived           int    `json:"leads_received"`
	SLAMet                  int    `json:"sla_met"`
	MedianFirstTouchSeconds *int64 `json:"median_first_touch_seconds,omitempty"`
	// Activities logged in the period by kind.
	Activities   map[string]int `json:"activities"`
	Calls        int            `json:"calls"`
	Connected    int            `json:"connected" doc:"calls that reached the person"`
	Appointments int            `json:"appointments"`
	// Deals they own closed in the period.
	Won     int   `json:"won"`
	Lost    int   `json:"lost"`
	Revenue int64 `json:"revenue" doc:"minor units of the base currency"`
	// AvgCycleDays is the mean days from creation to win of those won.
	AvgCycleDays *float64 `json:"avg_cycle_days,omitempty"`
	// Quota is the revenue target of the months that start in the period
	// (minor units of the base currency); 0 when none is set.
	Quota int64 `json:"quota"`

	cycle []float64
	times []int64
}

// SLARate is first touched in time ÷ leads received.
func (r RepRow) SLARate() float64 { return ratio(r.SLAMet, r.LeadsReceived) }

// ConnectRate is connected ÷ calls.
func (r RepRow) ConnectRate() float64 { return ratio(r.Connected, r.Calls) }

// WinRate is won ÷ (won + lost).
func (r RepRow) WinRate() float64 { return ratio(r.Won, r.Won+r.Lost) }

// Attainment is revenue ÷ quota (0 without a quota).
func (r RepRow) Attainment() float64 {
	if r.Quota == 0 {
		return 0
	}
	return float64(r.Revenue) / float64(r.Quota)
}

// RepPerformance is the rep report for a period: a row per active sales
// rep or manager (and anyone else with leads, activities or deals), the
// teams and the total.
type RepPerformance struct {
	Period Period   `json:"period"`
	Reps   []RepRow `json:"reps"`
	Teams  []RepRow `json:"teams"`
	Total  RepRow   `json:"total"`
	// Filter is the filter the report was narrowed by (see RepScope).
	Filter KPIFilter `json:"filter"`
}

// RepFormula says how the rep report is computed.
const RepFormula = "leads received = hand-offs to the rep in the period; SLA = first touched before the deadline ÷ received; first touch in business time (median); activities they logged in the period; won/lost = their deals closed in the period; cycle = mean days from creation to win; quota = targets of the months starting in the period"

// RepPerformanceOf computes the rep report for a period.
func RepPerformanceOf(ctx context.Context, q db.Querier, w platform.Workspace, p Period) (RepPerformance, error) {
	return RepPerformanceFiltered(ctx, q, w, p, KPIFilter{})
}

// RepPerformanceFiltered is RepPerformanceOf narrowed by a filter as
// RepScope says.
func RepPerformanceFiltered(ctx context.Context, q db.Querier, w platform.Workspace, p Period, f KPIFilter) (RepPerformance, error) {
	return cached(ctx, q, cacheKey("reps", w.ID, p.From.UnixMilli(), p.To.UnixMilli(), f), func(ctx context.Context) (RepPerformance, error) {
		return repPerformance(ctx, q, w, p, f)
	})
}

func repPerformance(ctx context.Context, q db.Querier, w platform.Workspace, p Period, f KPIFilter) (RepPerformance, error) {
	out := RepPerformance{Period: p, Filter: f}
	// The SLA rows' owner is the rep; their contact carries channel and
	// campaign (the contact's own owner is not the point here).
	slaCond, slaArgs, _ := KPIFilter{Channel: f.Channel, CampaignID: f.CampaignID}.cond("lifecycle", w.ID)
	if f.OwnerID != 0 {
		slaCond, slaArgs = slaCond+" AND owner_id = ?", append(slaArgs, f.OwnerID)
	}
	if f.TeamID != 0 {
		slaCond, slaArgs = slaCond+" AND owner_id IN (SELECT id FROM users WHERE workspace_id = ? AND team_id = ?)", append(slaArgs, w.ID, f.TeamID)
	}
	actCond, actArgs, _ := f.cond("activities", w.ID)
	dealCond, dealArgs, _ := f.cond("deals", w.ID)
	from, to := db.Millis(p.From), db.Millis(p.To)
	users, err := platform.ListUsers(ctx, q, w.ID)
	if err != nil {
		return out, err
	}
	rows := map[int64]*RepRow{}
	team := map[int64]int64{}
	row := func(id int64) *RepRow {
		r := rows[id]
		if r == nil {
			r = &RepRow{UserID: id, Activities: map[string]int{}}
			rows[id] = r
		}
		return r
	}
	for _, u := range users {
		team[u.ID] = u.TeamID
		if f.OwnerID != 0 && u.ID != f.OwnerID || f.TeamID != 0 && u.TeamID != f.TeamID {
			continue
		}
		if u.Active && (u.Role == platform.RoleSales || u.Role == platform.RoleManager) {
			row(u.ID).Name = u.Name
		}
	}
	if err := scanRows(ctx, q, func(s scanner) error {
		var owner int64
		var state string
		var resp *int64
		if err := s.Scan(&owner, &state, &resp); err != nil {
			return err
		}
		r := row(owner)
		r.LeadsReceived++
		if state == "met" {
			r.SLAMet++
		}
		if resp != nil {
			r.times = append(r.times, *resp)
		}
		return nil
	}, `-- insight.RepPerformanceFiltered
		SELECT owner_id, state, response_seconds FROM lead_slas WHERE workspace_id = ? AND started_at >= ? AND started_at < ?`+slaCond,
		append([]any{w.ID, from, to}, slaArgs...)...); err != nil {
		return out, fmt.Errorf("reps SLA: %w", err)
	}
	if err := scanRows(ctx, q, func(s scanner) error {
		var owner int64
		var kind, outcome string
		var n int
		if err := s.Scan(&owner, &kind, &outcome, &n); err != nil {
			return err
		}
		r := row(owner)
		r.Activities[kind] += n
		if kind == "call" {
			r.Calls += n
			if outcome == "connected" || outcome == "appointment" {
				r.Connected += n
			}
			if outcome == "appointment" {
				r.Appointments += n
			}
		}
		return nil
	}, `SELECT owner_id, kind, COALESCE(call_outcome, ''), COUNT(*) FROM activities WHERE workspace_id = ? AND owner_id IS NOT NULL AND occurred_at >= ? AND occurred_at < ?`+actCond+`
		GROUP BY owner_id, kind, COALESCE(call_outcome, '')`, append([]any{w.ID, from, to}, actArgs...)...); err != nil {
		return out, fmt.Errorf("reps activities: %w", err)
	}
	type closed struct {
		owner, amount, created, at int64
		status, cur                string
	}
	var deals []closed
	if err := scanRows(ctx, q, func(s scanner) error {
		var d closed
		if err := s.Scan(&d.owner, &d.status, &d.amount, &d.cur, &d.created, &d.at); err != nil {
			return err
		}
		deals = append(deals, d)
		return nil
	}, `SELECT owner_id, status, amount, currency, created_at, closed_at FROM deals WHERE workspace_id = ? AND owner_id IS NOT NULL AND status IN ('won', 'lost') AND closed_at >= ? AND closed_at < ?`+dealCond,
		append([]any{w.ID, from, to}, dealArgs...)...); err != nil {
		return out, fmt.Errorf("reps deals: %w", err)
	}
	for _, d := range deals {
		r := row(d.owner)
		if d.status == "lost" {
			r.Lost++
			continue
		}
		r.Won++
		r.cycle = append(r.cycle, max(0, float64(d.at-d.created)/float64(24*time.Hour/time.Millisecond)))
		if b, err := platform.ToBase(ctx, q, w, d.amount, d.cur, db.Time(d.at).In(w.Location()).Format(time.DateOnly)); err == nil {
			r.Revenue += b
		}
	}
	if months := monthsIn(w, p); len(months) > 0 {
		if err := scanRows(ctx, q, func(s scanner) error {
			var id, rev int64
			if err := s.Scan(&id, &rev); err != nil {
				return err
			}
			if r, ok := rows[id]; ok {
				r.Quota += rev
			}
			return nil
		}, `SELECT scope_id, revenue FROM sales_quotas WHERE workspace_id = ? AND scope = 'user' AND month >= ? AND month <= ?`, w.ID, months[0], months[len(months)-1]); err != nil {
			return out, fmt.Errorf("reps quotas: %w", err)
		}
	}
	names := map[int64]string{}
	for _, u := range users {
		names[u.ID] = u.Name
	}
	teams := map[int64]*RepRow{}
	total := &RepRow{Activities: map[string]int{}}
	for id, r := range rows {
		if r.Name == "" {
			r.Name = names[id]
		}
		r.TeamID = team[id]
		t := teams[r.TeamID]
		if t == nil {
			t = &RepRow{TeamID: r.TeamID, Activities: map[string]int{}}
			teams[r.TeamID] = t
		}
		for _, agg := range []*RepRow{t, total} {
			agg.LeadsReceived += r.LeadsReceived
			agg.SLAMet += r.SLAMet
			agg.times = append(agg.times, r.times...)
			for k, n := range r.Activities {
				agg.Activities[k] += n
			}
			agg.Calls += r.Calls
			agg.Connected += r.Connected
			agg.Appointments += r.Appointments
			agg.Won += r.Won
			agg.Lost += r.Lost
			agg.Revenue += r.Revenue
			agg.cycle = append(agg.cycle, r.cycle...)
			agg.Quota += r.Quota
		}
	}
	finish := func(r *RepRow) RepRow {
		if len(r.times) > 0 {
			slices.Sort(r.times)
			m := r.times[len(r.times)/2]
			if len(r.times)%2 == 0 {
				m = (r.times[len(r.times)/2-1] + r.times[len(r.times)/2]) / 2
			}
			r.MedianFirstTouchSeconds = &m
		}
		if len(r.cycle) > 0 {
			var sum float64
			for _, c := range r.cycle {
				sum += c
			}
			avg := sum / float64(len(r.cycle))
			r.AvgCycleDays = &avg
		}
		return *r
	}
	for _, r := range rows {
		out.Reps = append(out.Reps, finish(r))
	}
	sort.Slice(out.Reps, func(i, j int) bool {
		if out.Reps[i].Revenue != out.Reps[j].Revenue {
			return out.Reps[i].Revenue > out.Reps[j].Revenue
		}
		return out.Reps[i].Name < out.Reps[j].Name
	})
	for _, t := range teams {
		out.Teams = append(out.Teams, finish(t))
	}
	sort.Slice(out.Teams, func(i, j int) bool { return out.Teams[i].TeamID < out.Teams[j].TeamID })
	out.Total = finish(total)
	return out, nil
}
