package web

import (
	"context"
	"net/http"
	"strings"
	"time"

	"github.com/ryorin/ryorin/internal/crm"
	"github.com/ryorin/ryorin/internal/db"
	"github.com/ryorin/ryorin/internal/errs"
	"github.com/ryorin/ryorin/internal/i18n"
	"github.com/ryorin/ryorin/internal/insight"
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
	// Dash is the role's dashboard: marketing, sales or manager (admins
	// and managers), with the figures each looks at first.
	Dash     string
	KPIs     []insight.KPI
	Before   map[string]insight.KPI
	Chart    *Chart
	Forecast *insight.Forecast
	Pace     *insight.Pacing
}

// KPIShow formats a KPI by its unit, as the KPI screen does.
func (p *HomePage) KPIShow(k insight.KPI) string {
	return (&KPIPage{Page: p.Page, Currency: p.Currency}).Show(k)
}

// Amt formats minor units of the base currency.
func (p *HomePage) Amt(minor int64) string {
	return i18n.Money(platform.FromMinor(minor, p.Currency), p.Currency)
}

// FcWidth is x as a share of the forecast bar's scale, in percent.
func (p *HomePage) FcWidth(x int64) string {
	if p.Forecast == nil {
		return "0"
	}
	t := p.Forecast.Total
	return (&ForecastPage{F: insight.Forecast{Total: t}}).Width(x)
}

// dashKPIs are the cards of each role's dashboard.
var dashKPIs = map[string][]string{
	"marketing": {"new_contacts", "new_mqls", "mql_to_sql", "new_sqls", "social_engagement_rate"},
	"manager":   {"new_mqls", "new_sqls", "deals_won", "win_rate", "revenue"},
}

// dashboard fills the role's dashboard: this month's KPIs against the
// month before and a 12-week trend (marketing, managers), the quarter's
// forecast (the rep's own for sales, everyone's for managers) and the
// active plan's pacing.
func (s *Server) dashboard(ctx context.Context, c *rctx, data *HomePage) error {
	switch c.User.Role {
	case platform.RoleMarketing:
		data.Dash = "marketing"
	case platform.RoleSales:
		data.Dash = "sales"
	default:
		data.Dash = "manager"
	}
	q, ws := s.DB.Reader(), c.WS
	if keys := dashKPIs[data.Dash]; keys != nil {
		month, err := insight.PeriodOf(ws, "month", 0, c.Now)
		if err != nil {
			return err
		}
		prev, err := insight.PeriodOf(ws, "month", 1, c.Now)
		if err != nil {
			return err
		}
		all, err := insight.ComputeOnly(ctx, q, ws, month, insight.KPIFilter{}, keys)
		if err != nil {
			return err
		}
		before, err := insight.ComputeOnly(ctx, q, ws, prev, insight.KPIFilter{}, keys)
		if err != nil {
			return err
		}
		data.Before = map[string]insight.KPI{}
		for _, k := range before {
			data.Before[k.Key] = k
		}
		for _, key := range keys {
			for _, k := range all {
				if k.Key == key {
					data.KPIs = append(data.KPIs, k)
				}
			}
		}
		tkeys := []string{"new_contacts", "new_mqls", "new_sqls"}
		if data.Dash == "manager" {
			tkeys = []string{"new_mqls", "new_sqls", "deals_won"}
		}
		t, err := insight.TrendOf(ctx, q, ws, "week", 12, tkeys, insight.KPIFilter{}, c.Now)
		if err != nil {
			return err
		}
		names := make([]string, len(tkeys))
		for i, k := range tkeys {
			names[i] = data.T("kpi." + k)
		}
		title := data.T("dash.trend")
		if data.Dash == "manager" {
			title = data.T("dash.trend_manager")
		}
		ch := lineChart(data.Page, "trend", title, t, tkeys, names, false, ws.BaseCurrency)
		ch.CSV = "/reports/trend.csv?unit=week&n=12&key=" + strings.Join(tkeys, "&key=")
		data.Chart = &ch
		plans, err := insight.NewPlanner(s.DB, s.Clock).List(ctx, q, ws)
		if err != nil {
			return err
		}
		for _, x := range plans {
			if x.Status == "active" && !c.Now.Before(x.Period.From) && c.Now.Before(x.Period.To) {
				pace, err := insight.PaceOf(ctx, q, ws, x, c.Now)
				if err != nil {
					return err
				}
				data.Pace = &pace
				break
			}
		}
	}
	if data.Dash != "marketing" {
		quarter, err := insight.PeriodOf(ws, "quarter", 0, c.Now)
		if err != nil {
			return err
		}
		f := insight.ForecastFilter{}
		if data.Dash == "sales" {
			f.OwnerID = c.User.ID
		}
		fc, err := insight.ForecastFor(ctx, q, c.Actor, ws, quarter, f, c.Now)
		if err != nil {
			return err
		}
		data.Forecast = &fc
	}
	return nil
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
	// Open deals from the running totals kept with every deal write (the
	// deal board's column totals): summing 133,000 open deals at size L took
	// 40–70 ms on PostgreSQL.
	err = q.QueryRowContext(ctx, `-- web.home open deals
		SELECT COALESCE(SUM(deal_count), 0), COALESCE(SUM(amount), 0) FROM deal_stage_totals WHERE workspace_id = ? AND currency = ?`+ownerCond,
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
	if err := s.dashboard(ctx, c, data); err != nil {
		return err
	}
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
