package api

import (
	"net/http"
	"time"

	"github.com/ryorin/ryorin/internal/errs"
	"github.com/ryorin/ryorin/internal/platform"
	"github.com/ryorin/ryorin/internal/sales"
)

// ReportRequest is a rep's comment on their daily report.
type ReportRequest struct {
	Comment string `json:"comment" doc:"plain text, at most 10,000 bytes"`
}

func (s *Server) salesDayRoutes() []op {
	if s.Sales == nil {
		return nil
	}
	const tag = "Sales day"
	dayQ := []param{{"date", "string", "YYYY-MM-DD in the user's time zone (default: today)"}, {"user_id", "integer", "another user's (managers and admins)"}}
	return []op{
		{Method: "GET", Path: "/api/v1/today", ID: "getToday", Summary: "The rep's today page: leads to touch, due tasks, today's meetings, re-engaged contacts, quiet deals", Tag: tag,
			Resp: sales.Today{}, Query: dayQ[1:], H: s.getToday},
		{Method: "GET", Path: "/api/v1/daily-reports", ID: "getDailyReport", Summary: "A daily report (日報): the submitted one, or a draft from the day's log", Tag: tag,
			Resp: sales.DailyReport{}, Query: dayQ, H: s.getDailyReport},
		{Method: "PUT", Path: "/api/v1/daily-reports/{date}", ID: "submitDailyReport", Summary: "Submit (or resubmit) my daily report of a day with a comment", Tag: tag,
			Body: ReportRequest{}, Resp: sales.DailyReport{}, H: s.submitDailyReport},
		{Method: "GET", Path: "/api/v1/daily-reports/team", ID: "teamDailyReports", Summary: "The team's reports of a day; members without a report have not submitted", Tag: tag,
			Resp: []sales.TeamRow{}, Query: []param{{"date", "string", "YYYY-MM-DD (default: today)"}, {"team_id", "integer", "one team (default: the teams I manage)"}}, Roles: adminOrMgr, H: s.teamDailyReports},
		{Method: "POST", Path: "/api/v1/daily-reports/{id}/comment", ID: "commentDailyReport", Summary: "Comment on a submitted report; the rep is notified", Tag: tag,
			Body: ReportRequest{}, Resp: sales.DailyReport{}, Roles: adminOrMgr, H: s.commentDailyReport},
		{Method: "GET", Path: "/api/v1/sales-settings", ID: "getSalesSettings", Summary: "Sales settings (when a deal counts as quiet)", Tag: tag, Resp: sales.Settings{}, H: s.getSalesSettings},
		{Method: "GET", Path: "/api/v1/quota-progress", ID: "quotaProgress", Summary: "This month's closed-won against the rep's and their team's targets", Tag: tag, Resp: sales.Progress{}, Query: dayQ[1:], H: s.quotaProgress},
		{Method: "PUT", Path: "/api/v1/quotas", ID: "setQuota", Summary: "Set a rep's or a team's monthly target (revenue, won deals)", Tag: tag, Body: sales.Quota{}, Resp: sales.Quota{}, Roles: adminOrMgr, H: s.setQuota},
		{Method: "PUT", Path: "/api/v1/sales-settings", ID: "putSalesSettings", Summary: "Change the sales settings", Tag: tag, Body: sales.Settings{}, Resp: sales.Settings{}, Roles: adminOrMgr, H: s.putSalesSettings},
	}
}

// dayUser is whose day a request is about and the time zone their day is
// counted in: the caller, or user_id for managers and admins.
func (s *Server) dayUser(r *http.Request, a platform.Actor) (platform.User, *time.Location, error) {
	ctx, q := r.Context(), s.DB.Reader()
	var id int64
	if err := queryInts(r, "user_id", &id); err != nil {
		return platform.User{}, nil, err
	}
	if id == 0 {
		id = a.UserID
	}
	if id != a.UserID && (!a.Is(platform.RoleAdmin, platform.RoleManager) || a.OwnRecordsOnly) {
		return platform.User{}, nil, errs.E(errs.Forbidden, "user_id", "only managers and admins read another user's day")
	}
	if id == 0 {
		return platform.User{}, nil, errs.Field("user_id", "a token not tied to a user must name one")
	}
	u, err := platform.GetUser(ctx, q, a.WorkspaceID, id)
	if err != nil {
		return u, nil, err
	}
	ws, err := platform.GetWorkspace(ctx, q, a.WorkspaceID)
	if err != nil {
		return u, nil, err
	}
	loc := ws.Location()
	if l, err := time.LoadLocation(u.TimeZone); err == nil && u.TimeZone != "" {
		loc = l
	}
	return u, loc, nil
}

func (s *Server) getToday(w http.ResponseWriter, r *http.Request, a platform.Actor) (any, error) {
	u, loc, err := s.dayUser(r, a)
	if err != nil {
		return nil, err
	}
	return s.Sales.TodayFor(r.Context(), s.DB.Reader(), a.WorkspaceID, u.ID, loc)
}

func (s *Server) getDailyReport(w http.ResponseWriter, r *http.Request, a platform.Actor) (any, error) {
	u, loc, err := s.dayUser(r, a)
	if err != nil {
		return nil, err
	}
	day := r.URL.Query().Get("date")
	if day == "" {
		day = s.Clock.Now().In(loc).Format(time.DateOnly)
	}
	if _, _, err := sales.ParseDay(day, loc); err != nil {
		return nil, err
	}
	return s.Sales.Report(r.Context(), s.DB.Reader(), a, u.ID, day, loc)
}

func (s *Server) submitDailyReport(w http.ResponseWriter, r *http.Request, a platform.Actor) (any, error) {
	var in ReportRequest
	if err := decode(w, r, &in); err != nil {
		return nil, err
	}
	r.URL.RawQuery = "" // always the caller's own report
	_, loc, err := s.dayUser(r, a)
	if err != nil {
		return nil, err
	}
	return s.Sales.SubmitReport(r.Context(), a, r.PathValue("date"), in.Comment, loc)
}

func (s *Server) teamDailyReports(w http.ResponseWriter, r *http.Request, a platform.Actor) (any, error) {
	var team int64
	if err := queryInts(r, "team_id", &team); err != nil {
		return nil, err
	}
	day := r.URL.Query().Get("date")
	if day == "" {
		ws, err := platform.GetWorkspace(r.Context(), s.DB.Reader(), a.WorkspaceID)
		if err != nil {
			return nil, err
		}
		day = s.Clock.Now().In(ws.Location()).Format(time.DateOnly)
	}
	return s.Sales.TeamDay(r.Context(), s.DB.Reader(), a, team, day)
}

func (s *Server) commentDailyReport(w http.ResponseWriter, r *http.Request, a platform.Actor) (any, error) {
	id, err := pathID(r, "id")
	if err != nil {
		return nil, err
	}
	var in ReportRequest
	if err := decode(w, r, &in); err != nil {
		return nil, err
	}
	return s.Sales.CommentReport(r.Context(), a, id, in.Comment)
}

func (s *Server) getSalesSettings(w http.ResponseWriter, r *http.Request, a platform.Actor) (any, error) {
	return s.Sales.GetSettings(r.Context(), s.DB.Reader(), a.WorkspaceID)
}

func (s *Server) putSalesSettings(w http.ResponseWriter, r *http.Request, a platform.Actor) (any, error) {
	var in sales.Settings
	if err := decode(w, r, &in); err != nil {
		return nil, err
	}
	return s.Sales.SaveSettings(r.Context(), a, in)
}

func (s *Server) quotaProgress(w http.ResponseWriter, r *http.Request, a platform.Actor) (any, error) {
	u, loc, err := s.dayUser(r, a)
	if err != nil {
		return nil, err
	}
	return s.Sales.QuotaProgress(r.Context(), s.DB.Reader(), a.WorkspaceID, u, loc)
}

func (s *Server) setQuota(w http.ResponseWriter, r *http.Request, a platform.Actor) (any, error) {
	var in sales.Quota
	if err := decode(w, r, &in); err != nil {
		return nil, err
	}
	return s.Sales.SetQuota(r.Context(), a, in)
}
