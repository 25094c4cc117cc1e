package api

import (
	"net/http"
	"strconv"
	"time"

	"github.com/ryorin/ryorin/internal/errs"
	"github.com/ryorin/ryorin/internal/insight"
	"github.com/ryorin/ryorin/internal/platform"
)

// KPIResponse is the shared KPIs for a period.
type KPIResponse struct {
	Period insight.Period `json:"period"`
	Items  []insight.KPI  `json:"items"`
	// Filter is the filter applied (absent when none), FilterFormula how it
	// narrows each kind of figure.
	Filter        *insight.KPIFilter `json:"filter,omitempty"`
	FilterFormula string             `json:"filter_formula,omitempty"`
}

func (s *Server) kpiRoutes() []op {
	return []op{
		{Method: "GET", Path: "/api/v1/kpis", ID: "listKPIs", Summary: "The shared KPIs for a period, each with its formula (the same numbers the reports screen shows)", Tag: "Reports", Resp: KPIResponse{},
			Query: []param{{"period", "string", "week, month (default), quarter or year (fiscal)"}, {"offset", "integer", "periods back from the current one (0–120)"},
				{"channel", "string", "only contacts from this original channel (and their deals and activities)"}, {"campaign_id", "integer", "only this campaign's members (and their deals and activities)"},
				{"team_id", "integer", "only what this team's members own"}, {"owner_id", "integer", "only what this user owns"}, {"pipeline_id", "integer", "only deals in this pipeline (and activities on them)"}}, H: s.listKPIs},
		{Method: "GET", Path: "/api/v1/channel-quality", ID: "getChannelQuality", Summary: "Per original channel, the leads of a period followed to date: MQL rate, sales acceptance and top rejection reasons, opportunities, won, revenue, spend, CAC and ROI", Tag: "Reports", Resp: ChannelQualityResponse{},
			Query: append([]param{{"period", "string", "week, month, quarter (default) or year (fiscal)"}, {"offset", "integer", "periods back from the current one (0–120)"}}, filterQ(insight.ChannelScope)...), H: s.getChannelQuality},
		{Method: "GET", Path: "/api/v1/attribution", ID: "getAttribution", Summary: "Revenue of the deals won in a period shared among channels by an attribution model, with each deal's touch path", Tag: "Reports", Resp: insight.Attribution{},
			Query: []param{{"model", "string", "first_touch, last_touch, linear, u_shaped, w_shaped (default) or time_decay"}, {"period", "string", "week, month, quarter (default) or year (fiscal)"}, {"offset", "integer", "periods back from the current one (0–120)"}}, H: s.getAttribution},
		{Method: "GET", Path: "/api/v1/deals/{id}/touch-path", ID: "getDealTouchPath", Summary: "A deal's touches in order (contact creation, campaigns, visits) with their credit under a model", Tag: "Reports", Resp: []insight.Touch{},
			Query: []param{{"model", "string", "an attribution model (default w_shaped)"}}, H: s.getTouchPath},
		{Method: "GET", Path: "/api/v1/rep-performance", ID: "getRepPerformance", Summary: "Per rep and team: leads received, SLA compliance, median first touch, activities, won/lost, revenue, cycle and quota attainment", Tag: "Reports", Resp: insight.RepPerformance{},
			Query: append([]param{{"period", "string", "week, month (default), quarter or year (fiscal)"}, {"offset", "integer", "periods back from the current one (0–120)"}}, filterQ(insight.RepScope)...), H: s.getRepPerformance},
		{Method: "GET", Path: "/api/v1/forecast", ID: "getForecast", Summary: "The forecast roll-up of a period per rep and team: closed, commit, best case, pipeline, weighted, against quotas, and what moved since a weekly snapshot", Tag: "Reports", Resp: insight.Forecast{},
			Query: []param{{"period", "string", "week, month, quarter (default) or year (fiscal)"}, {"offset", "integer", "periods back from the current one (0–120)"},
				{"team_id", "integer", "only this team's reps"}, {"owner_id", "integer", "only this rep"}, {"since", "string", "the snapshot (YYYY-MM-DD) to compare with; default the last one before this week"}}, H: s.getForecast},
		{Method: "GET", Path: "/api/v1/goal-plans", ID: "listGoalPlans", Summary: "Goal plans, newest period first, each with what it needs in total, by month and by channel", Tag: "Reports", Resp: []insight.Plan{}, H: s.listPlans},
		{Method: "POST", Path: "/api/v1/goal-plans", ID: "createGoalPlan", Summary: "Draft a goal plan: work back from a revenue goal (rates and deal size default to the last 12 months)", Tag: "Reports", Body: insight.PlanInput{}, Resp: insight.Plan{}, Status: http.StatusCreated,
			Roles: []platform.Role{platform.RoleAdmin, platform.RoleManager, platform.RoleMarketing}, Idempotent: true, H: s.createPlan},
		{Method: "GET", Path: "/api/v1/goal-plans/{id}/pacing", ID: "getGoalPlanPacing", Summary: "A plan against actuals so far: actual and expected per step and the first step behind", Tag: "Reports", Resp: insight.Pacing{}, H: s.planPacing},
		{Method: "POST", Path: "/api/v1/goal-plans/{id}/approve", ID: "approveGoalPlan", Summary: "Approve a draft for your team (marketing or sales); both sides make it the active plan", Tag: "Reports", Resp: insight.Plan{}, H: s.approvePlan},
		{Method: "GET", Path: "/api/v1/funnel", ID: "getFunnel", Summary: "Stage-to-stage conversion and median days between stages by cohort (the month a contact was created)", Tag: "Reports", Resp: FunnelResponse{},
			Query: append([]param{{"months", "integer", "cohorts back from this month, 1–36 (default 12)"}}, filterQ(insight.FunnelScope)...), H: s.getFunnel},
	}
}

// ChannelQualityResponse is the channel report with how it is computed.
type ChannelQualityResponse struct {
	insight.ChannelQuality
	Formula       string `json:"formula"`
	FilterFormula string `json:"filter_formula,omitempty" doc:"how the filter narrows this report (when one is given)"`
}

// filterQ documents the filter parameters a report's scope honours.
func filterQ(scope insight.FilterScope) []param {
	var out []param
	for _, x := range []struct {
		on bool
		p  param
	}{{scope.Channel, param{"channel", "string", "only contacts from this original channel (see filter_formula)"}}, {scope.Campaign, param{"campaign_id", "integer", "only this campaign's members"}},
		{scope.Team, param{"team_id", "integer", "only what this team's members own"}}, {scope.Owner, param{"owner_id", "integer", "only what this user owns"}},
		{scope.Pipeline, param{"pipeline_id", "integer", "only deals in this pipeline"}}} {
		if x.on {
			out = append(out, x.p)
		}
	}
	return out
}

// filterParam reads the KPI filter from the query; a part the report's
// scope does not honour is refused rather than silently ignored.
func filterParam(r *http.Request, scope insight.FilterScope) (insight.KPIFilter, error) {
	f := insight.KPIFilter{Channel: r.URL.Query().Get("channel")}
	if err := queryInts(r, "campaign_id", &f.CampaignID, "team_id", &f.TeamID, "owner_id", &f.OwnerID, "pipeline_id", &f.PipelineID); err != nil {
		return f, err
	}
	for _, x := range []struct {
		on, set bool
		name    string
	}{{scope.Channel, f.Channel != "", "channel"}, {scope.Campaign, f.CampaignID != 0, "campaign_id"}, {scope.Team, f.TeamID != 0, "team_id"},
		{scope.Owner, f.OwnerID != 0, "owner_id"}, {scope.Pipeline, f.PipelineID != 0, "pipeline_id"}} {
		if x.set && !x.on {
			return f, errs.Field(x.name, "does not apply to this report")
		}
	}
	return f, nil
}

func (s *Server) getChannelQuality(w http.ResponseWriter, r *http.Request, a platform.Actor) (any, error) {
	ws, p, err := s.periodParam(r, a, "quarter")
	if err != nil {
		return nil, err
	}
	f, err := filterParam(r, insight.ChannelScope)
	if err != nil {
		return nil, err
	}
	q, err := insight.ChannelQualityFiltered(r.Context(), s.DB.Reader(), ws, p, f)
	resp := ChannelQualityResponse{ChannelQuality: q, Formula: insight.ChannelFormula}
	if !f.Empty() {
		resp.FilterFormula = insight.ChannelScope.How
	}
	return resp, err
}

// periodParam loads the caller's workspace and reads the period and offset
// query parameters in it (def when no period is named).
func (s *Server) periodParam(r *http.Request, a platform.Actor, def string) (platform.Workspace, insight.Period, error) {
	ws, err := platform.GetWorkspace(r.Context(), s.DB.Reader(), a.WorkspaceID)
	if err != nil {
		return ws, insight.Period{}, err
	}
	off := 0
	if v := r.URL.Query().Get("offset"); v != "" {
		if off, err = strconv.Atoi(v); err != nil {
			return ws, insight.Period{}, errs.Field("offset", "must be a whole number")
		}
	}
	name := r.URL.Query().Get("period")
	if name == "" {
		name = def
	}
	p, err := insight.PeriodOf(ws, name, off, s.Clock.Now())
	return ws, p, err
}

func (s *Server) getAttribution(w http.ResponseWriter, r *http.Request, a platform.Actor) (any, error) {
	ws, p, err := s.periodParam(r, a, "quarter")
	if err != nil {
		return nil, err
	}
	model := r.URL.Query().Get("model")
	if model == "" {
		model = "w_shaped"
	}
	return insight.AttributionOf(r.Context(), s.DB.Reader(), ws, p, model)
}

func (s *Server) listPlans(w http.ResponseWriter, r *http.Request, a platform.Actor) (any, error) {
	ws, err := platform.GetWorkspace(r.Context(), s.DB.Reader(), a.WorkspaceID)
	if err != nil {
		return nil, err
	}
	return insight.NewPlanner(s.DB, s.Clock).List(r.Context(), s.DB.Reader(), ws)
}

func (s *Server) createPlan(w http.ResponseWriter, r *http.Request, a platform.Actor) (any, error) {
	var in insight.PlanInput
	if err := decode(w, r, &in); err != nil {
		return nil, err
	}
	return insight.NewPlanner(s.DB, s.Clock).Create(r.Context(), a, in)
}

func (s *Server) planPacing(w http.ResponseWriter, r *http.Request, a platform.Actor) (any, error) {
	id, err := pathID(r, "id")
	if err != nil {
		return nil, err
	}
	ws, err := platform.GetWorkspace(r.Context(), s.DB.Reader(), a.WorkspaceID)
	if err != nil {
		return nil, err
	}
	p, err := insight.NewPlanner(s.DB, s.Clock).Get(r.Context(), s.DB.Reader(), ws, id)
	if err != nil {
		return nil, err
	}
	return insight.PaceOf(r.Context(), s.DB.Reader(), ws, p, s.Clock.Now())
}

func (s *Server) approvePlan(w http.ResponseWriter, r *http.Request, a platform.Actor) (any, error) {
	id, err := pathID(r, "id")
	if err != nil {
		return nil, err
	}
	return insight.NewPlanner(s.DB, s.Clock).Approve(r.Context(), a, id)
}

func (s *Server) getRepPerformance(w http.ResponseWriter, r *http.Request, a platform.Actor) (any, error) {
	ws, p, err := s.periodParam(r, a, "month")
	if err != nil {
		return nil, err
	}
	f, err := filterParam(r, insight.RepScope)
	if err != nil {
		return nil, err
	}
	return insight.RepPerformanceFiltered(r.Context(), s.DB.Reader(), ws, p, f)
}

func (s *Server) getForecast(w http.ResponseWriter, r *http.Request, a platform.Actor) (any, error) {
	ws, p, err := s.periodParam(r, a, "quarter")
	if err != nil {
		return nil, err
	}
	var f insight.ForecastFilter
	if err := queryInts(r, "team_id", &f.TeamID, "owner_id", &f.OwnerID); err != nil {
		return nil, err
	}
	if f.Since = r.URL.Query().Get("since"); f.Since != "" {
		if _, err := time.Parse(time.DateOnly, f.Since); err != nil {
			return nil, errs.Field("since", "must be a date YYYY-MM-DD")
		}
	}
	return insight.ForecastFor(r.Context(), s.DB.Reader(), a, ws, p, f, s.Clock.Now())
}

func (s *Server) getTouchPath(w http.ResponseWriter, r *http.Request, a platform.Actor) (any, error) {
	id, err := pathID(r, "id")
	if err != nil {
		return nil, err
	}
	d, err := s.CRM.GetDeal(r.Context(), s.DB.Reader(), a, id)
	if err != nil {
		return nil, err
	}
	model := r.URL.Query().Get("model")
	if model == "" {
		model = "w_shaped"
	}
	end := s.Clock.Now()
	if d.ClosedAt != nil {
		end = *d.ClosedAt
	}
	return insight.PathOf(r.Context(), s.DB.Reader(), a.WorkspaceID, id, d.CreatedAt, end, model)
}

// FunnelResponse is the funnel by cohort with how it is computed.
type FunnelResponse struct {
	insight.Funnel
	Formula string `json:"formula"`
}

func (s *Server) getFunnel(w http.ResponseWriter, r *http.Request, a platform.Actor) (any, error) {
	ws, err := platform.GetWorkspace(r.Context(), s.DB.Reader(), a.WorkspaceID)
	if err != nil {
		return nil, err
	}
	months := 12
	if v := r.URL.Query().Get("months"); v != "" {
		if months, err = strconv.Atoi(v); err != nil {
			return nil, errs.Field("months", "must be a whole number")
		}
	}
	flt, err := filterParam(r, insight.FunnelScope)
	if err != nil {
		return nil, err
	}
	f, err := insight.FunnelOf(r.Context(), s.DB.Reader(), ws, months, flt, s.Clock.Now())
	return FunnelResponse{Funnel: f, Formula: insight.FunnelFormula}, err
}

func (s *Server) listKPIs(w http.ResponseWriter, r *http.Request, a platform.Actor) (any, error) {
	ws, p, err := s.periodParam(r, a, "month")
	if err != nil {
		return nil, err
	}
	f, err := filterParam(r, insight.FilterScope{Channel: true, Campaign: true, Team: true, Owner: true, Pipeline: true})
	if err != nil {
		return nil, err
	}
	items, err := insight.ComputeFiltered(r.Context(), s.DB.Reader(), ws, p, f)
	resp := KPIResponse{Period: p, Items: items}
	if !f.Empty() {
		resp.Filter, resp.FilterFormula = &f, insight.FilterFormula
	}
	return resp, err
}
