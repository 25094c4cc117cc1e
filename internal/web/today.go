package web

import (
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/ryorin/ryorin/internal/crm"
	"github.com/ryorin/ryorin/internal/i18n"
	"github.com/ryorin/ryorin/internal/platform"
	"github.com/ryorin/ryorin/internal/sales"
)

// salesDayRoutes lists the routes of the rep's day: the today page, the
// calendar feed and the daily reports.
func (s *Server) salesDayRoutes() {
	if s.Sales == nil {
		return
	}
	m := s.mux
	m.HandleFunc("GET /today", s.signedIn(s.today))
	m.HandleFunc("POST /today/settings", s.signedIn(s.saveSalesSettings))
	m.HandleFunc("POST /today/calendar/reset", s.signedIn(s.resetCalendarFeed))
	m.HandleFunc("POST /today/quota", s.signedIn(s.saveQuota))
	m.HandleFunc("GET /ical/{file}", s.calendarFeed) // no session: the token is the key
	m.HandleFunc("GET /reports/daily", s.signedIn(s.dailyReport))
	m.HandleFunc("POST /reports/daily", s.signedIn(s.submitDailyReport))
	m.HandleFunc("GET /reports/daily/team", s.signedIn(s.teamReports))
	m.HandleFunc("POST /reports/daily/{id}/comment", s.signedIn(s.commentDailyReport))
}

// backOr is the form's "back" path when it is a local one, else def.
func backOr(r *http.Request, def string) string {
	if b := r.PostFormValue("back"); b != "" {
		return localPath(b)
	}
	return def
}

// TodayPage is the rep's today page.
type TodayPage struct {
	Page
	Day         sales.Today
	Subject     platform.User // whose day it is
	CanSwitch   bool          // managers and admins may look at a member's day
	FeedURL     string
	URL         string
	Outcomes    []string
	CanSettings bool
	Report      sales.DailyReport
	More        string // the block shown in full (?more=tasks); others show their first rows
	Quota       sales.Progress
	Teams       []platform.Team
}

// shortList is how many rows a block shows until the user asks for more.
const shortList = 8

// Shown says whether row i of block is shown.
func (p TodayPage) Shown(block string, i int) bool { return i < shortList || p.More == block }

// Hidden is how many rows of a block of n are not shown.
func (p TodayPage) Hidden(block string, n int) int {
	if p.More == block || n <= shortList {
		return 0
	}
	return n - shortList
}

// MoreURL shows block in full.
func (p TodayPage) MoreURL(block string) string {
	u, _ := url.Parse(p.URL)
	q := u.Query()
	q.Set("more", block)
	u.RawQuery = q.Encode()
	u.Fragment = "h-" + block
	return u.String()
}

// Name is a person's name in the page's language, or their email.
func (p Page) Name(family, given, email string) string {
	if n := i18n.PersonName(p.Lang, family, given); n != "" {
		return n
	}
	return email
}

// Webcal is the feed URL with the webcal scheme calendar apps subscribe to.
// html/template only trusts http(s) links, so the URL is marked safe here:
// it is built from our own base address and a token of URL-safe characters.
func (p TodayPage) Webcal() template.URL {
	u, err := url.Parse(p.FeedURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") {
		return ""
	}
	u.Scheme = "webcal"
	return template.URL(u.String())
}

// Clock formats a moment's time of day in the user's time zone.
func (p Page) Clock(t time.Time) string { return t.In(p.Loc).Format("15:04") }

// subjectUser is whose day a page shows: the signed-in user, or with ?user=
// a member chosen by a manager or admin.
func (s *Server) subjectUser(r *http.Request, c *rctx) (platform.User, bool, error) {
	can := c.Actor.Is(platform.RoleAdmin, platform.RoleManager) && !c.Actor.OwnRecordsOnly
	id := formInt(r.URL.Query().Get("user"))
	if !can || id == 0 || id == c.User.ID {
		return c.User, can, nil
	}
	u, err := platform.GetUser(r.Context(), s.DB.Reader(), c.Actor.WorkspaceID, id)
	return u, can, err
}

// userLoc is the time zone a user's day is counted in.
func userLoc(u platform.User, ws platform.Workspace) *time.Location {
	if u.TimeZone != "" {
		if loc, err := time.LoadLocation(u.TimeZone); err == nil {
			return loc
		}
	}
	return ws.Location()
}

// publicBase is the address links to Ryorin start with: the workspace's
// public base URL, or the one this request came in on.
func publicBase(r *http.Request, ws platform.Workspace) string {
	if ws.PublicBaseURL != "" {
		return strings.TrimRight(ws.PublicBaseURL, "/")
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

func (s *Server) today(w http.ResponseWriter, r *http.Request, c *rctx) error {
	ctx, q := r.Context(), s.DB.Reader()
	u, can, err := s.subjectUser(r, c)
	if err != nil {
		return err
	}
	data := &TodayPage{Page: s.base(c, c.Lang, "nav.today", "today"), Subject: u, CanSwitch: can, URL: r.URL.RequestURI(),
		Outcomes: crm.CallOutcomes, CanSettings: c.Actor.Is(platform.RoleAdmin, platform.RoleManager), More: r.URL.Query().Get("more")}
	if data.Day, err = s.Sales.TodayFor(ctx, q, c.Actor.WorkspaceID, u.ID, userLoc(u, c.WS)); err != nil {
		return err
	}
	if u.ID == c.User.ID {
		tok, err := s.Sales.FeedToken(ctx, q, c.Actor.WorkspaceID, u.ID)
		if err != nil {
			return err
		}
		data.FeedURL = publicBase(r, c.WS) + "/ical/" + tok + ".ics"
	}
	if data.Quota, err = s.Sales.QuotaProgress(ctx, q, c.Actor.WorkspaceID, u, userLoc(u, c.WS)); err != nil {
		return err
	}
	if data.CanSettings {
		if data.Teams, err = platform.ListTeams(ctx, q, c.Actor.WorkspaceID); err != nil {
			return err
		}
	}
	if rep, ok, err := sales.StoredReport(ctx, q, c.Actor.WorkspaceID, u.ID, data.Day.Day); err != nil {
		return err
	} else if ok {
		data.Report = rep
	}
	return s.show(w, c, "today", data)
}

func (s *Server) saveSalesSettings(w http.ResponseWriter, r *http.Request, c *rctx) error {
	if _, err := s.Sales.SaveSettings(r.Context(), c.Actor, sales.Settings{StaleDealDays: int(formInt(r.PostFormValue("stale_deal_days")))}); err != nil {
		return err
	}
	flash(w, i18n.T(c.Lang, "common.saved"))
	http.Redirect(w, r, backOr(r, "/today"), http.StatusSeeOther)
	return nil
}

// saveQuota sets a rep's or a team's monthly target from the today page.
func (s *Server) saveQuota(w http.ResponseWriter, r *http.Request, c *rctx) error {
	scope, id, _ := strings.Cut(r.PostFormValue("target"), ":")
	q := sales.Quota{Scope: scope, ScopeID: formInt(id), Month: r.PostFormValue("month"), Deals: int(formInt(r.PostFormValue("deals")))}
	if v, err := strconv.ParseFloat(strings.ReplaceAll(strings.TrimSpace(r.PostFormValue("revenue")), ",", ""), 64); err == nil {
		q.Revenue = v
	}
	if _, err := s.Sales.SetQuota(r.Context(), c.Actor, q); err != nil {
		return err
	}
	flash(w, i18n.T(c.Lang, "common.saved"))
	http.Redirect(w, r, backOr(r, "/today"), http.StatusSeeOther)
	return nil
}

func (s *Server) resetCalendarFeed(w http.ResponseWriter, r *http.Request, c *rctx) error {
	if _, err := s.Sales.ResetFeed(r.Context(), c.Actor); err != nil {
		return err
	}
	flash(w, i18n.T(c.Lang, "today.feed_reset_done"))
	http.Redirect(w, r, "/today#calendar", http.StatusSeeOther)
	return nil
}

// calendarFeed serves a user's private iCalendar feed. Anything but a
// current token is a plain 404.
func (s *Server) calendarFeed(w http.ResponseWriter, r *http.Request) {
	ctx, q := r.Context(), s.DB.Reader()
	tok, ok := strings.CutSuffix(r.PathValue("file"), ".ics")
	if !ok {
		http.NotFound(w, r)
		return
	}
	u, err := s.Sales.FeedUser(ctx, q, s.Workspace, tok)
	if err != nil {
		http.NotFound(w, r)
		return
	}
	lang, _ := i18n.Parse(u.Locale)
	if u.Locale == "" {
		if ws, err := platform.GetWorkspace(ctx, q, s.Workspace); err == nil {
			lang, _ = i18n.Parse(ws.DefaultLocale)
		}
	}
	b, err := s.Sales.Calendar(ctx, q, s.Workspace, u, lang)
	if err != nil {
		s.Log.Error("calendar feed", "user", u.ID, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/calendar; charset=utf-8")
	w.Header().Set("Content-Disposition", fmt.Sprintf(`inline; filename="ryorin-%d.ics"`, u.ID))
	w.Header().Set("Cache-Control", "private, max-age=300")
	w.Header().Set("Referrer-Policy", "no-referrer")
	_, _ = w.Write(b)
}

// QuickLog is the data of the one-click "log a call or email" form posting to
// action and coming back to this page.
func (p TodayPage) QuickLog(action string, id int64) map[string]any {
	return map[string]any{"Page": p.Page, "Action": fmt.Sprintf(action, id), "Back": p.URL, "Outcomes": p.Outcomes, "ID": fmt.Sprintf("%s-%d", strings.Split(action, "/")[1], id)}
}

// SignalLabel says what a re-engaging contact did.
func (p TodayPage) SignalLabel(sg sales.Signal) string {
	label := p.T("today.signal." + sg.Kind)
	switch {
	case sg.Kind == platform.EventPageView:
		label = p.T("today.signal.pricing")
	case sg.Kind == "quote_view" && sg.Detail != "":
		return p.T("today.signal.quote_view_of", "quote", sg.Detail)
	case sg.Kind == platform.EventContentView && sg.Detail != "":
		return p.T("today.signal.content_view_of", "title", sg.Detail)
	}
	if sg.Path != "" && !signedPath(sg.Path) {
		label += " " + sg.Path
	}
	return label
}

// signedPath reports whether path is one of Ryorin's own signed public
// links (a quote's view, a shared asset): a click on one in an email says
// nothing more than its token, which the page must not show.
func signedPath(path string) bool {
	return strings.HasPrefix(path, "/q/") || strings.HasPrefix(path, "/c/s/")
}

// SignalLink is where a signal's chip leads: the deal's quotes for a quote
// view, the asset for a content view; empty for the others.
func (p TodayPage) SignalLink(sg sales.Signal) string {
	switch {
	case sg.DealID > 0:
		return fmt.Sprintf("/deals/%d#quotes", sg.DealID)
	case sg.AssetID > 0:
		return fmt.Sprintf("/content/%d", sg.AssetID)
	}
	return ""
}

// Count tallies the overdue tasks and leads, for the headline figures.
func (p TodayPage) Count(what string) int {
	n := 0
	switch what {
	case "tasks_over":
		for _, t := range p.Day.Tasks {
			if t.Overdue {
				n++
			}
		}
	case "leads_over":
		for _, l := range p.Day.Leads {
			if l.Overdue {
				n++
			}
		}
	}
	return n
}

// Major converts an amount in minor units to major units of its currency.
func (p Page) Major(minor int64, currency string) float64 { return platform.FromMinor(minor, currency) }
