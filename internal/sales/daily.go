package sales

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/ryorin/ryorin/internal/crm"
	"github.com/ryorin/ryorin/internal/db"
	"github.com/ryorin/ryorin/internal/errs"
	"github.com/ryorin/ryorin/internal/i18n"
	"github.com/ryorin/ryorin/internal/platform"
)

// OutcomeCount is how many calls of the day ended one way.
type OutcomeCount struct {
	Outcome string `json:"outcome" doc:"a call outcome, or empty for calls logged without one"`
	Count   int    `json:"count"`
}

// DealMove is a deal the rep moved on the day (stage change, won, lost).
type DealMove struct {
	DealID   int64     `json:"deal_id"`
	DealName string    `json:"deal_name"`
	Kind     string    `json:"kind" doc:"deal.stage_changed, deal.won or deal.lost"`
	From     string    `json:"from,omitempty"`
	To       string    `json:"to,omitempty"`
	At       time.Time `json:"at"`
}

// DaySummary is what a rep logged on one day: the body of the daily report.
type DaySummary struct {
	Calls       int            `json:"calls"`
	Outcomes    []OutcomeCount `json:"outcomes" doc:"calls by outcome, in the order of the outcome list"`
	Emails      int            `json:"emails"`
	Meetings    []Item         `json:"meetings" doc:"meetings and demos of the day"`
	DealsMoved  []DealMove     `json:"deals_moved"`
	TasksDone   []Item         `json:"tasks_done"`
	NextActions []Item         `json:"next_actions" doc:"open tasks due the next day"`
}

// Activities counts what was logged (the report is not empty).
func (d DaySummary) Activities() int {
	return d.Calls + d.Emails + len(d.Meetings) + len(d.DealsMoved) + len(d.TasksDone)
}

// DailyReport is a rep's report (日報) of one day. Until it is submitted it is
// a draft drawn live from what was logged (ID 0); on submission the summary
// is kept as it was.
type DailyReport struct {
	ID             int64      `json:"id,omitempty"`
	UserID         int64      `json:"user_id"`
	Day            string     `json:"day" doc:"YYYY-MM-DD in the rep's time zone"`
	Comment        string     `json:"comment,omitempty" doc:"the rep's own words: what happened, problems, help needed"`
	Summary        DaySummary `json:"summary"`
	SubmittedAt    *time.Time `json:"submitted_at,omitempty" doc:"absent while a draft"`
	ManagerComment string     `json:"manager_comment,omitempty"`
	ManagerID      int64      `json:"manager_id,omitempty"`
	CommentedAt    *time.Time `json:"commented_at,omitempty"`
	UpdatedAt      *time.Time `json:"updated_at,omitempty"`
}

// Submitted reports whether the rep has handed the report in.
func (r DailyReport) Submitted() bool { return r.SubmittedAt != nil }

// MaxComment bounds the comments on a report, in bytes.
const MaxComment = 10_000

// ParseDay checks a YYYY-MM-DD day and returns its bounds in loc.
func ParseDay(day string, loc *time.Location) (time.Time, time.Time, error) {
	d, err := time.ParseInLocation(time.DateOnly, day, loc)
	if err != nil {
		return d, d, errs.Field("day", "must be a date, YYYY-MM-DD")
	}
	return d, d.AddDate(0, 0, 1), nil
}

// DraftDay draws user's summary of day (YYYY-MM-DD in loc) from the
// activities and deal moves logged.
func (s *Service) DraftDay(ctx context.Context, q db.Querier, ws, user int64, day string, loc *time.Location) (DaySummary, error) {
	start, end, err := ParseDay(day, loc)
	if err != nil {
		return DaySummary{}, err
	}
	from, to := db.Millis(start), db.Millis(end)
	var sum DaySummary
	rows, err := q.QueryContext(ctx, `-- sales.DraftDay calls
		SELECT kind, call_outcome, COUNT(*) FROM activities
		WHERE workspace_id = ? AND owner_id = ? AND kind IN ('call', 'email') AND occurred_at >= ? AND occurred_at < ?
		GROUP BY kind, call_outcome`, ws, user, from, to)
	if err != nil {
		return sum, fmt.Errorf("sales.DraftDay calls: %w", err)
	}
	counts := map[string]int{}
	for rows.Next() {
		var kind, outcome string
		var n int
		if err := rows.Scan(&kind, &outcome, &n); err != nil {
			rows.Close()
			return sum, fmt.Errorf("sales.DraftDay calls: %w", err)
		}
		if kind == "email" {
			sum.Emails += n
			continue
		}
		sum.Calls += n
		counts[outcome] += n
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return sum, fmt.Errorf("sales.DraftDay calls: %w", err)
	}
	sum.Outcomes = []OutcomeCount{}
	for _, o := range append(append([]string{}, crm.CallOutcomes...), "") {
		if counts[o] > 0 {
			sum.Outcomes = append(sum.Outcomes, OutcomeCount{Outcome: o, Count: counts[o]})
		}
	}
	if sum.Meetings, err = queryItems(ctx, q, "sales.DraftDay meetings", itemSelect("a.occurred_at")+`
		WHERE a.workspace_id = ? AND a.owner_id = ? AND a.kind IN ('meeting', 'demo') AND a.occurred_at >= ? AND a.occurred_at < ?
		ORDER BY a.occurred_at + 0, a.id LIMIT 100`, ws, user, from, to); err != nil {
		return sum, err
	}
	if sum.TasksDone, err = queryItems(ctx, q, "sales.DraftDay tasks done", itemSelect("a.done_at")+`
		WHERE a.workspace_id = ? AND a.owner_id = ? AND a.kind = 'task' AND a.done_at >= ? AND a.done_at < ?
		ORDER BY a.done_at, a.id LIMIT 100`, ws, user, from, to); err != nil {
		return sum, err
	}
	next := end.AddDate(0, 0, 1)
	if sum.NextActions, err = queryItems(ctx, q, "sales.DraftDay next actions", itemSelect("a.due_at")+`
		WHERE a.workspace_id = ? AND a.owner_id = ? AND a.kind = 'task' AND a.done_at IS NULL AND a.due_at >= ? AND a.due_at < ?
		ORDER BY a.due_at, a.id LIMIT 100`, ws, user, to, db.Millis(next)); err != nil {
		return sum, err
	}
	if sum.DealsMoved, err = dealMoves(ctx, q, ws, user, from, to); err != nil {
		return sum, err
	}
	if sum.Meetings == nil {
		sum.Meetings = []Item{}
	}
	if sum.TasksDone == nil {
		sum.TasksDone = []Item{}
	}
	if sum.NextActions == nil {
		sum.NextActions = []Item{}
	}
	return sum, nil
}

func dealMoves(ctx context.Context, q db.Querier, ws, user, from, to int64) ([]DealMove, error) {
	rows, err := q.QueryContext(ctx, `-- sales.dealMoves
		SELECT t.deal_id, COALESCE(d.name, ''), t.kind, t.data, t.at
		FROM timeline t
		LEFT JOIN deals d ON d.workspace_id = t.workspace_id AND d.id = t.deal_id
		WHERE t.workspace_id = ? AND t.kind IN ('deal.stage_changed', 'deal.won', 'deal.lost') AND t.at >= ? AND t.at < ? AND t.actor_user_id = ?
		ORDER BY t.at, t.id LIMIT 100`, ws, from, to, user)
	if err != nil {
		return nil, fmt.Errorf("sales.dealMoves: %w", err)
	}
	defer rows.Close()
	out := []DealMove{}
	for rows.Next() {
		var m DealMove
		var data sql.NullString
		var at int64
		if err := rows.Scan(&m.DealID, &m.DealName, &m.Kind, &data, &at); err != nil {
			return nil, fmt.Errorf("sales.dealMoves: %w", err)
		}
		m.At = db.Time(at)
		var d struct{ From, To string }
		_ = json.Unmarshal([]byte(data.String), &d) // an entry without data still counts as a move
		m.From, m.To = d.From, d.To
		out = append(out, m)
	}
	return out, rows.Err()
}

const reportCols = `id, user_id, day, comment, summary, submitted_at, manager_comment, COALESCE(manager_id, 0), commented_at, updated_at`

func scanReport(sc interface{ Scan(...any) error }) (DailyReport, error) {
	var r DailyReport
	var sum sql.NullString
	var sub, com sql.NullInt64
	var up int64
	if err := sc.Scan(&r.ID, &r.UserID, &r.Day, &r.Comment, &sum, &sub, &r.ManagerComment, &r.ManagerID, &com, &up); err != nil {
		return r, err
	}
	r.SubmittedAt, r.CommentedAt = db.TimePtr(sub), db.TimePtr(com)
	t := db.Time(up)
	r.UpdatedAt = &t
	if sum.Valid && sum.String != "" {
		if err := json.Unmarshal([]byte(sum.String), &r.Summary); err != nil {
			return r, fmt.Errorf("daily report %d summary: %w", r.ID, err)
		}
	}
	return r, nil
}

// StoredReport returns user's report of day as stored (submitted or not),
// and whether there is one.
func StoredReport(ctx context.Context, q db.Querier, ws, user int64, day string) (DailyReport, bool, error) {
	r, err := scanReport(q.QueryRowContext(ctx, `-- sales.StoredReport
		SELECT `+reportCols+` FROM daily_reports WHERE workspace_id = ? AND user_id = ? AND day = ?`, ws, user, day))
	if db.NoRows(err) {
		return DailyReport{}, false, nil
	}
	if err != nil {
		return r, false, fmt.Errorf("sales.StoredReport: %w", err)
	}
	return r, true, nil
}

// canRead says whether a may read user's reports: their own, or any as an
// admin or manager.
func canRead(a platform.Actor, user int64) bool {
	return a.UserID == user || a.Is(platform.RoleAdmin, platform.RoleManager)
}

// Report returns user's report of day: the submitted one as it was handed in,
// or a draft drawn from today's log.
func (s *Service) Report(ctx context.Context, q db.Querier, a platform.Actor, user int64, day string, loc *time.Location) (DailyReport, error) {
	if !canRead(a, user) {
		return DailyReport{}, errs.NotFoundf("daily report not found")
	}
	r, ok, err := StoredReport(ctx, q, a.WorkspaceID, user, day)
	if err != nil || (ok && r.Submitted()) {
		return r, err
	}
	r.UserID, r.Day = user, day
	r.Summary, err = s.DraftDay(ctx, q, a.WorkspaceID, user, day, loc)
	return r, err
}

// SubmitReport hands in the actor's report of day with their comment,
// keeping the day's summary as it is now. Submitting again replaces the
// comment and refreshes the summary.
func (s *Service) SubmitReport(ctx context.Context, a platform.Actor, day, comment string, loc *time.Location) (DailyReport, error) {
	if a.UserID == 0 {
		return DailyReport{}, errs.E(errs.Forbidden, "", "only a user writes a daily report")
	}
	start, _, err := ParseDay(day, loc)
	if err != nil {
		return DailyReport{}, err
	}
	now := s.Clock.Now()
	if start.After(now) {
		return DailyReport{}, errs.Rule("day", "a day that has not begun cannot be reported")
	}
	comment = strings.TrimSpace(comment)
	if len(comment) > MaxComment {
		return DailyReport{}, errs.Field("comment", "is longer than %d bytes", MaxComment)
	}
	var r DailyReport
	err = s.DB.Write(ctx, "sales.SubmitReport", func(tx *db.Tx) error {
		sum, err := s.DraftDay(ctx, tx, a.WorkspaceID, a.UserID, day, loc)
		if err != nil {
			return err
		}
		js, err := json.Marshal(sum)
		if err != nil {
			return fmt.Errorf("sales.SubmitReport: %w", err)
		}
		ms := db.Millis(now)
		r, err = scanReport(tx.QueryRowContext(ctx, `-- sales.SubmitReport
			INSERT INTO daily_reports (workspace_id, user_id, day, comment, summary, submitted_at, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (workspace_id, user_id, day) DO UPDATE SET comment = excluded.comment, summary = excluded.summary,
				submitted_at = excluded.submitted_at, updated_at = excluded.updated_at
			RETURNING `+reportCols, a.WorkspaceID, a.UserID, day, comment, string(js), ms, ms, ms))
		if err != nil {
			return fmt.Errorf("sales.SubmitReport: %w", err)
		}
		if err := s.tellManager(ctx, tx, a, r); err != nil {
			return err
		}
		return platform.Audit(ctx, tx, a, now, "submit", "daily_report", r.ID, map[string]any{"day": day})
	})
	return r, err
}

// tellManager notifies the manager of the rep's team that a report came in
// (once per report).
func (s *Service) tellManager(ctx context.Context, tx *db.Tx, a platform.Actor, r DailyReport) error {
	if s.Notify == nil || a.TeamID == 0 {
		return nil
	}
	t, err := platform.GetTeam(ctx, tx, a.WorkspaceID, a.TeamID)
	if errs.Is(err, errs.NotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	if t.ManagerID == 0 || t.ManagerID == a.UserID {
		return nil
	}
	u, err := platform.GetUser(ctx, tx, a.WorkspaceID, a.UserID)
	if err != nil {
		return err
	}
	mgr, err := platform.GetUser(ctx, tx, a.WorkspaceID, t.ManagerID)
	if err != nil {
		return err
	}
	lang, _ := i18n.Parse(mgr.Locale)
	_, _, err = s.Notify.Notify(ctx, tx, a.WorkspaceID, t.ManagerID, platform.Notification{Kind: "daily_report.submitted",
		Title: i18n.T(lang, "notify.daily_submitted", "name", u.Name, "day", r.Day), Body: excerpt(r.Comment),
		Link: fmt.Sprintf("/reports/daily/team?date=%s", r.Day), DedupeKey: fmt.Sprintf("daily_report.submitted:%d", r.ID)})
	return err
}

func excerpt(s string) string {
	r := []rune(s)
	if len(r) > 140 {
		return string(r[:140]) + "…"
	}
	return s
}

// CommentReport records a manager's comment on a submitted report and
// notifies the rep. Commenting again replaces the comment.
func (s *Service) CommentReport(ctx context.Context, a platform.Actor, id int64, text string) (DailyReport, error) {
	if !a.Is(platform.RoleAdmin, platform.RoleManager) {
		return DailyReport{}, errs.E(errs.Forbidden, "", "only managers and admins comment on daily reports")
	}
	text = strings.TrimSpace(text)
	if text == "" {
		return DailyReport{}, errs.Field("comment", "is empty")
	}
	if len(text) > MaxComment {
		return DailyReport{}, errs.Field("comment", "is longer than %d bytes", MaxComment)
	}
	now := s.Clock.Now()
	var r DailyReport
	err := s.DB.Write(ctx, "sales.CommentReport", func(tx *db.Tx) error {
		var err error
		r, err = scanReport(tx.QueryRowContext(ctx, `-- sales.CommentReport
			UPDATE daily_reports SET manager_comment = ?, manager_id = ?, commented_at = ?, updated_at = ?
			WHERE workspace_id = ? AND id = ? AND submitted_at IS NOT NULL RETURNING `+reportCols,
			text, a.UserID, db.Millis(now), db.Millis(now), a.WorkspaceID, id))
		if db.NoRows(err) {
			return errs.NotFoundf("daily report %d not found", id)
		}
		if err != nil {
			return fmt.Errorf("sales.CommentReport(%d): %w", id, err)
		}
		if s.Notify != nil && r.UserID != a.UserID {
			name := "—"
			if m, err := platform.GetUser(ctx, tx, a.WorkspaceID, a.UserID); err == nil {
				name = m.Name
			}
			lang := i18n.JA
			if rep, err := platform.GetUser(ctx, tx, a.WorkspaceID, r.UserID); err == nil {
				lang, _ = i18n.Parse(rep.Locale)
			}
			if _, _, err := s.Notify.Notify(ctx, tx, a.WorkspaceID, r.UserID, platform.Notification{Kind: "daily_report.comment",
				Title: i18n.T(lang, "notify.daily_comment", "name", name, "day", r.Day), Body: excerpt(text), Link: "/reports/daily?date=" + r.Day}); err != nil {
				return err
			}
		}
		return platform.Audit(ctx, tx, a, now, "comment", "daily_report", id, map[string]any{"day": r.Day})
	})
	return r, err
}

// TeamRow is one member of a team and their report of the day, if any.
type TeamRow struct {
	User   platform.User `json:"user"`
	Report *DailyReport  `json:"report,omitempty" doc:"absent when nothing was submitted"`
}

// TeamDay lists the members of team (or, with team 0, the teams the actor
// manages; for an admin, every sales user) and their submitted reports of
// day. Members without one are listed with no report: who has not submitted.
func (s *Service) TeamDay(ctx context.Context, q db.Querier, a platform.Actor, team int64, day string) ([]TeamRow, error) {
	if !a.Is(platform.RoleAdmin, platform.RoleManager) {
		return nil, errs.E(errs.Forbidden, "", "only managers and admins read the team's reports")
	}
	if _, _, err := ParseDay(day, time.UTC); err != nil {
		return nil, err
	}
	users, err := platform.ListUsers(ctx, q, a.WorkspaceID)
	if err != nil {
		return nil, err
	}
	teams, err := platform.ListTeams(ctx, q, a.WorkspaceID)
	if err != nil {
		return nil, err
	}
	mine, sales := map[int64]bool{}, map[int64]bool{}
	for _, t := range teams {
		if t.ManagerID == a.UserID {
			mine[t.ID] = true
		}
		if t.Function == "sales" {
			sales[t.ID] = true
		}
	}
	member := func(u platform.User) bool {
		switch {
		case !u.Active || u.ID == a.UserID && team == 0:
			return false
		case team != 0:
			return u.TeamID == team
		case len(mine) > 0:
			return mine[u.TeamID]
		}
		return u.Role == platform.RoleSales || sales[u.TeamID]
	}
	rows, err := q.QueryContext(ctx, `-- sales.TeamDay
		SELECT `+reportCols+` FROM daily_reports WHERE workspace_id = ? AND day = ? AND submitted_at IS NOT NULL`, a.WorkspaceID, day)
	if err != nil {
		return nil, fmt.Errorf("sales.TeamDay: %w", err)
	}
	defer rows.Close()
	byUser := map[int64]DailyReport{}
	for rows.Next() {
		r, err := scanReport(rows)
		if err != nil {
			return nil, fmt.Errorf("sales.TeamDay: %w", err)
		}
		byUser[r.UserID] = r
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sales.TeamDay: %w", err)
	}
	out := []TeamRow{}
	for _, u := range users {
		if !member(u) {
			continue
		}
		row := TeamRow{User: u}
		if r, ok := byUser[u.ID]; ok {
			row.Report = &r
		}
		out = append(out, row)
	}
	return out, nil
}
