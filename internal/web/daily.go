package web

import (
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/ryorin/ryorin/internal/errs"
	"github.com/ryorin/ryorin/internal/i18n"
	"github.com/ryorin/ryorin/internal/platform"
	"github.com/ryorin/ryorin/internal/sales"
)

// DailyReportPage is one rep's report of one day.
type DailyReportPage struct {
	Page
	Report    sales.DailyReport
	Subject   platform.User
	Own       bool // the signed-in user's own report: they may submit it
	CanSwitch bool
	Day       string
	Prev      string
	Next      string // empty when the next day has not begun
	Error     string
}

// Outcome is the label of a call outcome (empty: none recorded).
func (p Page) Outcome(o string) string {
	if o == "" {
		return p.T("daily.no_outcome")
	}
	return p.T("outcome." + o)
}

// Appointments counts the calls that set an appointment.
func Appointments(sum sales.DaySummary) int {
	for _, o := range sum.Outcomes {
		if o.Outcome == "appointment" {
			return o.Count
		}
	}
	return 0
}

// Appts is Appointments for templates.
func (p Page) Appts(sum sales.DaySummary) int { return Appointments(sum) }

// reportDay reads ?date= (default: today in loc) and the days around it.
func reportDay(r *http.Request, now time.Time, loc *time.Location) (day, prev, next string) {
	today := now.In(loc).Format(time.DateOnly)
	d, err := time.ParseInLocation(time.DateOnly, r.URL.Query().Get("date"), loc)
	if err != nil {
		d, _ = time.ParseInLocation(time.DateOnly, today, loc)
	}
	day = d.Format(time.DateOnly)
	prev = d.AddDate(0, 0, -1).Format(time.DateOnly)
	if n := d.AddDate(0, 0, 1).Format(time.DateOnly); n <= today {
		next = n
	}
	return day, prev, next
}

func (s *Server) dailyReport(w http.ResponseWriter, r *http.Request, c *rctx) error {
	u, can, err := s.subjectUser(r, c)
	if err != nil {
		return err
	}
	data, err := s.loadDailyReport(r, c, u, can)
	if err != nil {
		return err
	}
	return s.show(w, c, "daily_report", data)
}

func (s *Server) loadDailyReport(r *http.Request, c *rctx, u platform.User, can bool) (*DailyReportPage, error) {
	loc := userLoc(u, c.WS)
	data := &DailyReportPage{Page: s.base(c, c.Lang, "nav.daily_report", "daily"), Subject: u, Own: u.ID == c.User.ID, CanSwitch: can}
	data.Tab = "mine"
	data.Day, data.Prev, data.Next = reportDay(r, c.Now, loc)
	var err error
	data.Report, err = s.Sales.Report(r.Context(), s.DB.Reader(), c.Actor, u.ID, data.Day, loc)
	return data, err
}

func (s *Server) submitDailyReport(w http.ResponseWriter, r *http.Request, c *rctx) error {
	day := r.PostFormValue("date")
	_, err := s.Sales.SubmitReport(r.Context(), c.Actor, day, r.PostFormValue("comment"), userLoc(c.User, c.WS))
	if _, msg, ok := formError(err); ok {
		r.URL.RawQuery = url.Values{"date": {day}}.Encode()
		data, lerr := s.loadDailyReport(r, c, c.User, false)
		if lerr != nil {
			return lerr
		}
		data.Error = localize(c.Lang, msg)
		data.Report.Comment = r.PostFormValue("comment")
		w.WriteHeader(http.StatusUnprocessableEntity)
		return s.show(w, c, "daily_report", data)
	}
	if err != nil {
		return err
	}
	flash(w, i18n.T(c.Lang, "daily.submitted_flash"))
	http.Redirect(w, r, "/reports/daily?date="+url.QueryEscape(day), http.StatusSeeOther)
	return nil
}

// TeamReportsPage is the manager's view of the team's reports of a day.
type TeamReportsPage struct {
	Page
	Rows      []sales.TeamRow
	Teams     []platform.Team
	Team      int64
	Day       string
	Prev      string
	Next      string
	Submitted int
	Missing   int
	URL       string
}

func (s *Server) teamReports(w http.ResponseWriter, r *http.Request, c *rctx) error {
	if !c.Actor.Is(platform.RoleAdmin, platform.RoleManager) {
		return errs.E(errs.Forbidden, "", "only managers and admins read the team's reports")
	}
	ctx, q := r.Context(), s.DB.Reader()
	data := &TeamReportsPage{Page: s.base(c, c.Lang, "daily.team_title", "daily"), Team: formInt(r.URL.Query().Get("team")), URL: r.URL.RequestURI()}
	data.Tab = "team"
	data.Day, data.Prev, data.Next = reportDay(r, c.Now, c.Loc)
	var err error
	if data.Rows, err = s.Sales.TeamDay(ctx, q, c.Actor, data.Team, data.Day); err != nil {
		return err
	}
	for _, row := range data.Rows {
		if row.Report != nil {
			data.Submitted++
		} else {
			data.Missing++
		}
	}
	if data.Teams, err = platform.ListTeams(ctx, q, c.Actor.WorkspaceID); err != nil {
		return err
	}
	return s.show(w, c, "daily_team", data)
}

func (s *Server) commentDailyReport(w http.ResponseWriter, r *http.Request, c *rctx) error {
	id := formInt(r.PathValue("id"))
	if _, err := s.Sales.CommentReport(r.Context(), c.Actor, id, r.PostFormValue("comment")); err != nil {
		return err
	}
	flash(w, i18n.T(c.Lang, "daily.commented_flash"))
	http.Redirect(w, r, backOr(r, fmt.Sprintf("/reports/daily/team#report-%d", id)), http.StatusSeeOther)
	return nil
}

// Excerpt shortens a comment for a table cell.
func (p Page) Excerpt(s string) string {
	r := []rune(s)
	if len(r) > 60 {
		return string(r[:60]) + "…"
	}
	return s
}
