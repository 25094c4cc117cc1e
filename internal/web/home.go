package web

import (
	"net/http"
	"time"

	"github.com/ryorin/ryorin/internal/crm"
	"github.com/ryorin/ryorin/internal/db"
	"github.com/ryorin/ryorin/internal/errs"
	"github.com/ryorin/ryorin/internal/platform"
)

func notFound() error { return errs.NotFoundf("page not found") }

// HomePage is the data of the home page.
type HomePage struct {
	Page
	Tasks      []crm.Activity
	Contacts   map[int64]crm.Contact
	OpenDeals  int
	OpenAmount float64
	NewLeads   int
	WonCount   int
	WonAmount  float64
	Currency   string
	Recent     []crm.Activity
	Team       bool // figures are the whole team's, not the user's own
}

// Due classifies a task's due date: "over", "today" or "".
func (p HomePage) Due(t *time.Time) string {
	if t == nil {
		return ""
	}
	now := p.Now.In(p.Loc)
	d := t.In(p.Loc)
	switch {
	case d.Before(now):
		return "over"
	case d.Year() == now.Year() && d.YearDay() == now.YearDay():
		return "today"
	}
	return ""
}

func (s *Server) home(w http.ResponseWriter, r *http.Request, c *rctx) error {
	ctx, q := r.Context(), s.DB.Reader()
	data := &HomePage{Page: s.base(c, c.Lang, "nav.home", "home"), Currency: c.WS.BaseCurrency}
	data.Title = data.T("home.greeting", "name", c.User.Name)
	tasks, err := s.CRM.ListActivities(ctx, c.Actor, crm.ActivityFilter{OwnerID: c.User.ID, OpenTasks: true, Limit: 12})
	if err != nil {
		return err
	}
	data.Tasks = tasks.Items
	// Reps see their own work; admins and managers see everyone's.
	owner := c.User.ID
	if c.Actor.Is(platform.RoleAdmin, platform.RoleManager) {
		owner = 0
		data.Team = true
	}
	recent, err := s.CRM.ListActivities(ctx, c.Actor, crm.ActivityFilter{OwnerID: owner, Until: c.Now, Limit: 8})
	if err != nil {
		return err
	}
	data.Recent = recent.Items
	var ids []int64
	for _, x := range append(append([]crm.Activity{}, data.Tasks...), data.Recent...) {
		ids = append(ids, x.ContactID)
	}
	if data.Contacts, err = s.CRM.ContactsByIDs(ctx, q, c.Actor.WorkspaceID, ids); err != nil {
		return err
	}
	// Headline figures for the user's own work this month (workspace time zone).
	now := c.Now.In(c.WS.Location())
	monthStart := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, now.Location())
	var open, won int64
	ownerCond, args := "", []any{c.Actor.WorkspaceID, c.WS.BaseCurrency}
	if owner != 0 {
		ownerCond, args = " AND owner_id = ?", append(args, owner)
	}
	err = q.QueryRowContext(ctx, `-- web.home open deals
		SELECT COUNT(*), COALESCE(SUM(amount), 0) FROM deals WHERE workspace_id = ? AND status = 'open' AND currency = ?`+ownerCond,
		args...).Scan(&data.OpenDeals, &open)
	if err != nil {
		return err
	}
	err = q.QueryRowContext(ctx, `-- web.home won deals
		SELECT COUNT(*), COALESCE(SUM(amount), 0) FROM deals WHERE workspace_id = ? AND status = 'won' AND currency = ?`+ownerCond+` AND closed_at >= ?`,
		append(args, db.Millis(monthStart))...).Scan(&data.WonCount, &won)
	if err != nil {
		return err
	}
	err = q.QueryRowContext(ctx, `-- web.home new leads
		SELECT COUNT(*) FROM contacts WHERE workspace_id = ? AND created_at >= ?`, c.Actor.WorkspaceID, db.Millis(monthStart)).Scan(&data.NewLeads)
	if err != nil {
		return err
	}
	data.OpenAmount = platform.FromMinor(open, c.WS.BaseCurrency)
	data.WonAmount = platform.FromMinor(won, c.WS.BaseCurrency)
	return s.show(w, c, "home", data)
}

// NotificationsPage is the data of the notifications list.
type NotificationsPage struct {
	Page
	Items []platform.StoredNotification
}

func (s *Server) notifications(w http.ResponseWriter, r *http.Request, c *rctx) error {
	items, err := platform.ListNotifications(r.Context(), s.DB.Reader(), c.Actor.WorkspaceID, c.User.ID, false, 0, 50)
	if err != nil {
		return err
	}
	return s.show(w, c, "notifications", &NotificationsPage{Page: s.base(c, c.Lang, "shell.notifications", ""), Items: items})
}

func (s *Server) readAll(w http.ResponseWriter, r *http.Request, c *rctx) error {
	if _, err := platform.MarkAllRead(r.Context(), s.DB, c.Actor, s.Clock.Now()); err != nil {
		return err
	}
	http.Redirect(w, r, "/notifications", http.StatusSeeOther)
	return nil
}
