package sales

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/ryorin/ryorin/internal/db"
	"github.com/ryorin/ryorin/internal/lead"
	"github.com/ryorin/ryorin/internal/platform"
)

// Item is an activity (a task, a meeting) with the names of the records it
// concerns, as the today page and the daily report list it.
type Item struct {
	ID              int64      `json:"id"`
	Kind            string     `json:"kind"`
	Subject         string     `json:"subject,omitempty"`
	At              time.Time  `json:"at" doc:"meetings: when it starts; tasks: when due"`
	DoneAt          *time.Time `json:"done_at,omitempty"`
	CallOutcome     string     `json:"call_outcome,omitempty"`
	DurationSeconds int        `json:"duration_seconds,omitempty"`
	ContactID       int64      `json:"contact_id,omitempty"`
	FamilyName      string     `json:"family_name,omitempty"`
	GivenName       string     `json:"given_name,omitempty"`
	Email           string     `json:"email,omitempty"`
	CompanyID       int64      `json:"company_id,omitempty"`
	CompanyName     string     `json:"company_name,omitempty"`
	DealID          int64      `json:"deal_id,omitempty"`
	DealName        string     `json:"deal_name,omitempty"`
	Overdue         bool       `json:"overdue,omitempty"`
}

// itemSelect reads activities with the names of their records; the caller
// adds WHERE, ORDER BY and LIMIT. at is the column that dates the item.
// A rep's meetings of a day are read by owner, kind and time
// (activities_owner_time) and the few found are sorted: the queries order by
// "occurred_at + 0", because with a plain "occurred_at" SQLite walked the
// whole workspace's activities of the day in time order (activities_recent)
// to skip the sort: 49–121 ms instead of 0.2 ms at size L (5,000,000
// activities).

func itemSelect(at string) string {
	return `SELECT a.id, a.kind, a.subject, ` + at + `, a.done_at, a.call_outcome, a.duration_seconds,
			COALESCE(a.contact_id, 0), COALESCE(c.family_name, ''), COALESCE(c.given_name, ''), COALESCE(c.email, ''),
			COALESCE(a.company_id, 0), COALESCE(co.name, ''), COALESCE(a.deal_id, 0), COALESCE(d.name, '')
		FROM activities a
		LEFT JOIN contacts c ON c.workspace_id = a.workspace_id AND c.id = a.contact_id
		LEFT JOIN companies co ON co.workspace_id = a.workspace_id AND co.id = a.company_id
		LEFT JOIN deals d ON d.workspace_id = a.workspace_id AND d.id = a.deal_id`
}

func queryItems(ctx context.Context, q db.Querier, name, query string, args ...any) ([]Item, error) {
	rows, err := q.QueryContext(ctx, "-- "+name+"\n"+query, args...)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	defer rows.Close()
	var out []Item
	for rows.Next() {
		var it Item
		var at sql.NullInt64
		var done sql.NullInt64
		if err := rows.Scan(&it.ID, &it.Kind, &it.Subject, &at, &done, &it.CallOutcome, &it.DurationSeconds, &it.ContactID, &it.FamilyName,
			&it.GivenName, &it.Email, &it.CompanyID, &it.CompanyName, &it.DealID, &it.DealName); err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		it.At, it.DoneAt = db.Time(at.Int64), db.TimePtr(done)
		out = append(out, it)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return out, nil
}

// Signal is one thing a contact did that says they are interested again.
type Signal struct {
	Kind string    `json:"kind" doc:"page_view (of a pricing page), email_click, form_submit, content_view or quote_view"`
	Path string    `json:"path,omitempty"`
	At   time.Time `json:"at"`
	// Detail names what was opened: the quote's number and version
	// (quote_view) or the asset's title (content_view).
	Detail  string `json:"detail,omitempty" doc:"quote_view: the quote's number-version; content_view: the asset's title"`
	DealID  int64  `json:"deal_id,omitempty" doc:"quote_view: the deal the quote is for"`
	AssetID int64  `json:"asset_id,omitempty" doc:"content_view: the content asset"`
	eventID int64
}

// HotLead is a contact of the rep's who re-engaged recently, with what they did
// (newest first).
type HotLead struct {
	ContactID   int64    `json:"contact_id"`
	FamilyName  string   `json:"family_name,omitempty"`
	GivenName   string   `json:"given_name,omitempty"`
	Email       string   `json:"email,omitempty"`
	CompanyID   int64    `json:"company_id,omitempty"`
	CompanyName string   `json:"company_name,omitempty"`
	Signals     []Signal `json:"signals"`
	Count       int      `json:"count" doc:"signals in the window (only the newest few are listed)"`
}

// HotWindow is how far back the today page looks for re-engagement.
const HotWindow = 24 * time.Hour

// StaleDeal is an open deal of the rep's that has gone quiet.
type StaleDeal struct {
	ID             int64      `json:"id"`
	Name           string     `json:"name"`
	Amount         int64      `json:"amount" doc:"minor units of the currency"`
	Currency       string     `json:"currency"`
	StageName      string     `json:"stage_name"`
	CompanyID      int64      `json:"company_id,omitempty"`
	CompanyName    string     `json:"company_name,omitempty"`
	LastActivityAt *time.Time `json:"last_activity_at,omitempty" doc:"absent when nothing was ever logged"`
	CreatedAt      time.Time  `json:"created_at"`
}

// Today is everything on a rep's today page.
type Today struct {
	UserID    int64            `json:"user_id"`
	Day       string           `json:"day" doc:"YYYY-MM-DD in the user's time zone"`
	Leads     []lead.QueueItem `json:"leads"`
	Tasks     []Item           `json:"tasks" doc:"open tasks due by the end of the day, overdue first"`
	Meetings  []Item           `json:"meetings"`
	Hot       []HotLead        `json:"hot"`
	Stale     []StaleDeal      `json:"stale"`
	StaleDays int              `json:"stale_days"`
	// Issues are the user's unresolved customer issues, most urgent first.
	Issues []CustomerIssue `json:"issues"`
}

// DayBounds returns the start of the calendar day holding t in loc and the
// start of the next one.
func DayBounds(t time.Time, loc *time.Location) (time.Time, time.Time) {
	t = t.In(loc)
	start := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, loc)
	return start, start.AddDate(0, 0, 1)
}

// TodayFor gathers user's today page in the user's time zone loc. Each block
// is one indexed query.
func (s *Service) TodayFor(ctx context.Context, q db.Querier, ws, user int64, loc *time.Location) (Today, error) {
	now := s.Clock.Now()
	start, end := DayBounds(now, loc)
	st, err := s.GetSettings(ctx, q, ws)
	if err != nil {
		return Today{}, err
	}
	t := Today{UserID: user, Day: start.Format(time.DateOnly), StaleDays: st.StaleDealDays}
	if s.Lead != nil {
		if t.Leads, err = s.Lead.Queue(ctx, q, ws, lead.QueueQuery{OwnerID: user, Limit: 20}); err != nil {
			return t, fmt.Errorf("sales.TodayFor leads: %w", err)
		}
	}
	if t.Tasks, err = queryItems(ctx, q, "sales.TodayFor tasks", todayTasksSQL, ws, user, db.Millis(end)); err != nil {
		return t, err
	}
	for i := range t.Tasks {
		t.Tasks[i].Overdue = t.Tasks[i].At.Before(now)
	}
	if t.Meetings, err = queryItems(ctx, q, "sales.TodayFor meetings", itemSelect("a.occurred_at")+`
		WHERE a.workspace_id = ? AND a.owner_id = ? AND a.kind IN ('meeting', 'demo') AND a.occurred_at >= ? AND a.occurred_at < ?
		ORDER BY a.occurred_at + 0, a.id LIMIT 50`, ws, user, db.Millis(start), db.Millis(end)); err != nil {
		return t, err
	}
	if t.Hot, err = s.hotLeads(ctx, q, ws, user, now.Add(-HotWindow)); err != nil {
		return t, err
	}
	if t.Stale, err = s.staleDeals(ctx, q, ws, user, now.AddDate(0, 0, -st.StaleDealDays)); err != nil {
		return t, err
	}
	if t.Issues, err = s.ListIssues(ctx, q, platform.System(ws), IssueFilter{Status: "unresolved", OwnerID: user, Limit: 20}); err != nil {
		return t, fmt.Errorf("sales.TodayFor issues: %w", err)
	}
	return t, nil
}

// todayTasksSQL lists a user's open tasks due before a time, soonest first,
// in the order of the partial index activities_open_tasks (migration 0053:
// the same expression as the activity list's open tasks).
var todayTasksSQL = itemSelect("a.due_at") + `
		WHERE a.workspace_id = ? AND a.owner_id = ? AND a.kind = 'task' AND a.done_at IS NULL
		  AND COALESCE(a.due_at, 9223372036854775807) < ?
		ORDER BY COALESCE(a.due_at, 9223372036854775807), a.id LIMIT 50`

// hotLeadsSQL lists the rep's contacts with a signal since a time, newest
// first: a range of the rep's own rows in contact_signals.
const hotLeadsSQL = `-- sales.hotLeads
		SELECT s.contact_id, c.family_name, c.given_name, c.email, COALESCE(c.company_id, 0), COALESCE(co.name, '')
		FROM contact_signals s
		JOIN contacts c ON c.workspace_id = s.workspace_id AND c.id = s.contact_id
		LEFT JOIN companies co ON co.workspace_id = c.workspace_id AND co.id = c.company_id
		WHERE s.workspace_id = ? AND s.owner_id = ? AND s.last_at >= ?
		ORDER BY s.last_at DESC LIMIT 20`

// hotSignalsSQL reads n contacts' signals since a time from each contact's
// own events (the events_contact index).
func hotSignalsSQL(n int) string {
	return `-- sales.hotLeads signals
		SELECT id, contact_id, kind, path, occurred_at FROM events
		WHERE workspace_id = ? AND occurred_at >= ? AND contact_id IS NOT NULL AND contact_id IN (` + db.Placeholders(n) + `)
		  AND ` + platform.SignalCond("") + `
		ORDER BY occurred_at DESC, id DESC`
}

// hotLeads lists the rep's contacts who re-engaged since a time, each with
// its signals of the window (newest first): the contacts come from the rep's
// rows in contact_signals, their signals from each contact's own events.
func (s *Service) hotLeads(ctx context.Context, q db.Querier, ws, user int64, since time.Time) ([]HotLead, error) {
	rows, err := q.QueryContext(ctx, hotLeadsSQL, ws, user, db.Millis(since))
	if err != nil {
		return nil, fmt.Errorf("sales.hotLeads: %w", err)
	}
	var out []HotLead
	at := map[int64]int{}
	args := []any{ws, db.Millis(since)}
	for rows.Next() {
		var h HotLead
		if err := rows.Scan(&h.ContactID, &h.FamilyName, &h.GivenName, &h.Email, &h.CompanyID, &h.CompanyName); err != nil {
			rows.Close()
			return nil, fmt.Errorf("sales.hotLeads: %w", err)
		}
		at[h.ContactID] = len(out)
		out = append(out, h)
		args = append(args, h.ContactID)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sales.hotLeads: %w", err)
	}
	if len(out) == 0 {
		return nil, nil
	}
	rows, err = q.QueryContext(ctx, hotSignalsSQL(len(out)), args...)
	if err != nil {
		return nil, fmt.Errorf("sales.hotLeads: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var sg Signal
		var contact, ms int64
		if err := rows.Scan(&sg.eventID, &contact, &sg.Kind, &sg.Path, &ms); err != nil {
			return nil, fmt.Errorf("sales.hotLeads: %w", err)
		}
		sg.At = db.Time(ms)
		h := &out[at[contact]]
		h.Count++
		if len(h.Signals) < 5 {
			h.Signals = append(h.Signals, sg)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sales.hotLeads: %w", err)
	}
	// A contact whose signals were moved away (a merge undone) has none left.
	out = slices.DeleteFunc(out, func(h HotLead) bool { return h.Count == 0 })
	if err := signalDetails(ctx, q, ws, out); err != nil {
		return nil, err
	}
	return out, nil
}

// signalDetails fills in what the shown quote and content views were about,
// from their events' properties: a primary-key lookup for the few signals
// listed (at most 20 contacts × 5), so the scan above stays on its index.
func signalDetails(ctx context.Context, q db.Querier, ws int64, hot []HotLead) error {
	at := map[int64]*Signal{}
	args := []any{ws}
	for i := range hot {
		for j := range hot[i].Signals {
			sg := &hot[i].Signals[j]
			if sg.Kind == "quote_view" || sg.Kind == "content_view" {
				at[sg.eventID] = sg
				args = append(args, sg.eventID)
			}
		}
	}
	if len(at) == 0 {
		return nil
	}
	rows, err := q.QueryContext(ctx, `-- sales.signalDetails
		SELECT id, properties FROM events WHERE workspace_id = ? AND id IN (`+db.Placeholders(len(at))+`)`, args...)
	if err != nil {
		return fmt.Errorf("sales.signalDetails: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var props *string
		if err := rows.Scan(&id, &props); err != nil {
			return fmt.Errorf("sales.signalDetails: %w", err)
		}
		if props == nil {
			continue
		}
		var p struct {
			Quote   string `json:"quote"`
			DealID  int64  `json:"deal_id"`
			Title   string `json:"title"`
			AssetID int64  `json:"asset_id"`
		}
		if json.Unmarshal([]byte(*props), &p) != nil {
			continue // an integration's own properties: show the kind alone
		}
		sg := at[id]
		if sg.Kind == "quote_view" {
			sg.Detail, sg.DealID = p.Quote, p.DealID
		} else {
			sg.Detail, sg.AssetID = p.Title, p.AssetID
		}
	}
	return rows.Err()
}

func (s *Service) staleDeals(ctx context.Context, q db.Querier, ws, user int64, cutoff time.Time) ([]StaleDeal, error) {
	rows, err := q.QueryContext(ctx, `-- sales.staleDeals
		SELECT d.id, d.name, d.amount, d.currency, COALESCE(ps.name, ''), COALESCE(d.company_id, 0), COALESCE(co.name, ''), d.last_activity_at, d.created_at
		FROM deals d
		LEFT JOIN pipeline_stages ps ON ps.workspace_id = d.workspace_id AND ps.id = d.stage_id
		LEFT JOIN companies co ON co.workspace_id = d.workspace_id AND co.id = d.company_id
		WHERE d.workspace_id = ? AND d.owner_id = ? AND d.status = 'open' AND d.last_activity_at < ? AND d.created_at < ?
		ORDER BY d.last_activity_at, d.id LIMIT 20`, ws, user, db.Millis(cutoff), db.Millis(cutoff))
	if err != nil {
		return nil, fmt.Errorf("sales.staleDeals: %w", err)
	}
	defer rows.Close()
	var out []StaleDeal
	for rows.Next() {
		var d StaleDeal
		var last, created int64
		if err := rows.Scan(&d.ID, &d.Name, &d.Amount, &d.Currency, &d.StageName, &d.CompanyID, &d.CompanyName, &last, &created); err != nil {
			return nil, fmt.Errorf("sales.staleDeals: %w", err)
		}
		if last > 0 {
			t := db.Time(last)
			d.LastActivityAt = &t
		}
		d.CreatedAt = db.Time(created)
		out = append(out, d)
	}
	return out, rows.Err()
}
