package lead

import (
	"context"
	"sort"
	"strconv"
	"time"

	"github.com/ryorin/ryorin/internal/crm"
	"github.com/ryorin/ryorin/internal/db"
	"github.com/ryorin/ryorin/internal/errs"
	"github.com/ryorin/ryorin/internal/platform"
)

// QueueItem is a lead waiting for its first touch, with what a rep needs to
// pick the next one.
type QueueItem struct {
	SLA
	FamilyName  string  `json:"family_name,omitempty"`
	GivenName   string  `json:"given_name,omitempty"`
	Email       string  `json:"email,omitempty"`
	Title       string  `json:"title,omitempty"`
	CompanyID   int64   `json:"company_id,omitempty"`
	CompanyName string  `json:"company_name,omitempty"`
	FitGrade    string  `json:"fit_grade,omitempty"`
	Engagement  float64 `json:"engagement"`
	Overdue     bool    `json:"overdue"`
}

// QueueQuery selects whose queue: one rep's, a team's, or (zero) everyone's.
type QueueQuery struct {
	OwnerID int64
	TeamID  int64
	Limit   int
}

// Queue lists the leads waiting for a first touch, soonest deadline first
// (overdue ones lead the list).
func (s *Service) Queue(ctx context.Context, q db.Querier, ws int64, qq QueueQuery) ([]QueueItem, error) {
	if qq.Limit <= 0 || qq.Limit > 500 {
		qq.Limit = 200
	}
	now := s.Clock.Now()
	where, args := `s.workspace_id = ? AND s.state IN ('open', 'breached')`, []any{ws}
	if qq.OwnerID != 0 {
		where += ` AND s.owner_id = ?`
		args = append(args, qq.OwnerID)
	}
	if qq.TeamID != 0 {
		where += ` AND s.team_id = ?`
		args = append(args, qq.TeamID)
	}
	args = append(args, qq.Limit)
	rows, err := q.QueryContext(ctx, `-- lead.Queue
		SELECT s.id, s.contact_id, s.owner_id, COALESCE(s.team_id, 0), s.policy, s.channel, s.state, s.started_at, s.remind_at, s.due_at, s.second_at,
			s.reminded_at, s.breached_at, s.touched_at, s.touch_kind, s.response_seconds, s.closed_at,
			c.family_name, c.given_name, c.email, c.title, COALESCE(c.company_id, 0), COALESCE(co.name, ''), COALESCE(sc.fit_grade, ''), COALESCE(`+crm.EngagementSQL("sc", now)+`, 0)
		FROM lead_slas s
		JOIN contacts c ON c.workspace_id = s.workspace_id AND c.id = s.contact_id
		LEFT JOIN contact_scores sc ON sc.workspace_id = c.workspace_id AND sc.contact_id = c.id
		LEFT JOIN companies co ON co.workspace_id = c.workspace_id AND co.id = c.company_id
		WHERE `+where+` ORDER BY s.due_at, s.id LIMIT ?`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []QueueItem
	for rows.Next() {
		var it QueueItem
		x, err := scanSLA(rows, &it.FamilyName, &it.GivenName, &it.Email, &it.Title, &it.CompanyID, &it.CompanyName, &it.FitGrade, &it.Engagement)
		if err != nil {
			return nil, err
		}
		it.SLA = x
		it.Overdue = !x.DueAt.After(now)
		out = append(out, it)
	}
	return out, rows.Err()
}

// SLARow is one line of the SLA report: the hand-offs of one rep, team,
// channel or priority in the period, and how fast they were first touched.
type SLARow struct {
	Key       string `json:"key"`
	Label     string `json:"label"`
	Handed    int    `json:"handed" doc:"leads handed to sales in the period"`
	Touched   int    `json:"touched" doc:"of those, first touched"`
	Met       int    `json:"met" doc:"first touched before the deadline"`
	Breached  int    `json:"breached" doc:"deadline passed before the first touch"`
	Untouched int    `json:"untouched" doc:"never touched (still waiting, reassigned or recycled)"`
	// Response time percentiles in business seconds, over touched leads.
	P50Seconds *int64 `json:"p50_seconds,omitempty"`
	P90Seconds *int64 `json:"p90_seconds,omitempty"`
	MaxSeconds *int64 `json:"max_seconds,omitempty"`
}

// MetRate is the share of hand-offs touched in time, 0–1.
func (r SLARow) MetRate() float64 {
	if r.Handed == 0 {
		return 0
	}
	return float64(r.Met) / float64(r.Handed)
}

// SLAReport groups the hand-offs started in [from, to) by owner, team,
// channel or policy, with a total row last.
func (s *Service) SLAReport(ctx context.Context, q db.Querier, ws int64, from, to time.Time, by string) ([]SLARow, error) {
	col := map[string]string{"owner": "owner_id", "team": "COALESCE(team_id, 0)", "channel": "channel", "policy": "policy"}[by]
	if col == "" {
		return nil, errs.Field("by", "must be owner, team, channel or policy")
	}
	if !to.After(from) {
		return nil, errs.Field("to", "must be after from")
	}
	rows, err := q.QueryContext(ctx, `-- lead.SLAReport
		SELECT `+col+`, state, breached_at IS NOT NULL, touched_at IS NOT NULL, response_seconds
		FROM lead_slas WHERE workspace_id = ? AND started_at >= ? AND started_at < ?`, ws, db.Millis(from), db.Millis(to))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	type acc struct {
		row   SLARow
		times []int64
	}
	groups := map[string]*acc{}
	total := &acc{row: SLARow{Key: "total"}}
	for rows.Next() {
		var key any
		var state string
		var breached, touched bool
		var resp *int64
		if err := rows.Scan(&key, &state, &breached, &touched, &resp); err != nil {
			return nil, err
		}
		k := keyString(key)
		g := groups[k]
		if g == nil {
			g = &acc{row: SLARow{Key: k}}
			groups[k] = g
		}
		for _, a := range []*acc{g, total} {
			a.row.Handed++
			if breached {
				a.row.Breached++
			}
			if state == SLAMet {
				a.row.Met++
			}
			if touched {
				a.row.Touched++
				if resp != nil {
					a.times = append(a.times, *resp)
				}
			} else {
				a.row.Untouched++
			}
		}
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	out := make([]SLARow, 0, len(groups)+1)
	finish := func(a *acc) SLARow {
		if len(a.times) > 0 {
			sort.Slice(a.times, func(i, j int) bool { return a.times[i] < a.times[j] })
			p50, p90, mx := percentile(a.times, 50), percentile(a.times, 90), a.times[len(a.times)-1]
			a.row.P50Seconds, a.row.P90Seconds, a.row.MaxSeconds = &p50, &p90, &mx
		}
		return a.row
	}
	for _, g := range groups {
		out = append(out, finish(g))
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Handed != out[j].Handed {
			return out[i].Handed > out[j].Handed
		}
		return out[i].Key < out[j].Key
	})
	if err := s.labelRows(ctx, q, ws, by, out); err != nil {
		return nil, err
	}
	return append(out, finish(total)), nil
}

// percentile is the nearest-rank percentile of sorted values.
func percentile(sorted []int64, p int) int64 {
	i := (p*len(sorted)+99)/100 - 1
	if i < 0 {
		i = 0
	}
	return sorted[i]
}

func keyString(v any) string {
	switch x := v.(type) {
	case int64:
		return strconv.FormatInt(x, 10)
	case []byte:
		return string(x)
	case string:
		return x
	case nil:
		return ""
	default:
		return ""
	}
}

// labelRows names owners and teams; channels and policies keep their keys
// (the screens translate those).
func (s *Service) labelRows(ctx context.Context, q db.Querier, ws int64, by string, out []SLARow) error {
	names := map[string]string{}
	switch by {
	case "owner":
		us, err := platform.ListUsers(ctx, q, ws)
		if err != nil {
			return err
		}
		for _, u := range us {
			names[strconv.FormatInt(u.ID, 10)] = u.Name
		}
	case "team":
		ts, err := platform.ListTeams(ctx, q, ws)
		if err != nil {
			return err
		}
		for _, t := range ts {
			names[strconv.FormatInt(t.ID, 10)] = t.Name
		}
	}
	for i := range out {
		if n, ok := names[out[i].Key]; ok {
			out[i].Label = n
		} else {
			out[i].Label = out[i].Key
		}
	}
	return nil
}

// ReportPeriod turns from/to days (YYYY-MM-DD, to inclusive) in loc into a
// half-open range; empty means the last 30 days up to today.
func ReportPeriod(from, to string, loc *time.Location, now time.Time) (time.Time, time.Time, error) {
	day := func(field, v string, def time.Time) (time.Time, error) {
		if v == "" {
			return def, nil
		}
		t, err := time.ParseInLocation("2006-01-02", v, loc)
		if err != nil {
			return t, errs.Field(field, "must be a date like 2026-04-01")
		}
		return t, nil
	}
	n := now.In(loc)
	today := time.Date(n.Year(), n.Month(), n.Day(), 0, 0, 0, 0, loc)
	t, err := day("to", to, today)
	if err != nil {
		return t, t, err
	}
	f, err := day("from", from, t.AddDate(0, 0, -29))
	if err != nil {
		return f, t, err
	}
	end := t.AddDate(0, 0, 1)
	if !end.After(f) {
		return f, end, errs.Field("to", "must not be before from")
	}
	if end.Sub(f) > 3*366*24*time.Hour {
		return f, end, errs.Field("from", "the period may span at most three years")
	}
	return f, end, nil
}
