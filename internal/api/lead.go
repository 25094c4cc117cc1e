package api

import (
	"net/http"

	"github.com/ryorin/ryorin/internal/lead"
	"github.com/ryorin/ryorin/internal/platform"
)

// DraftRequest proposes a new lead definition version.
type DraftRequest struct {
	Body       lead.Body `json:"body"`
	ChangeNote string    `json:"change_note,omitempty"`
}

// ApproveRequest signs a draft off for the caller's side.
type ApproveRequest struct {
	Note string `json:"note,omitempty"`
}

func (s *Server) leadRoutes() []op {
	if s.Lead == nil {
		return nil
	}
	return []op{
		{Method: "GET", Path: "/api/v1/lead-definitions", ID: "listLeadDefinitions", Summary: "List lead definition versions, newest first", Tag: "Lead management", Resp: []lead.Definition{}, H: s.listDefinitions},
		{Method: "POST", Path: "/api/v1/lead-definitions", ID: "createLeadDefinition", Summary: "Propose a new lead definition (a draft)", Tag: "Lead management", Body: DraftRequest{}, Resp: lead.Definition{}, Status: http.StatusCreated, Idempotent: true, H: s.createDefinition},
		{Method: "GET", Path: "/api/v1/lead-definitions/{id}", ID: "getLeadDefinition", Summary: "Get a lead definition version", Tag: "Lead management", Resp: lead.Definition{}, H: s.getDefinition},
		{Method: "GET", Path: "/api/v1/routing-rules", ID: "listRoutingRules", Summary: "Lead routing rules, in the order they are tried", Tag: "Lead management", Resp: []lead.RoutingRule{}, H: s.listRoutingRules},
		{Method: "DELETE", Path: "/api/v1/routing-rules/{id}", ID: "deleteRoutingRule", Summary: "Remove a lead routing rule", Tag: "Lead management", Status: http.StatusNoContent, Roles: adminOrMgr, H: s.deleteRoutingRule},
		{Method: "POST", Path: "/api/v1/routing-rules", ID: "createRoutingRule", Summary: "Add a lead routing rule (condition → team)", Tag: "Lead management", Body: lead.RoutingRule{}, Resp: lead.RoutingRule{}, Status: http.StatusCreated, Roles: adminOrMgr, Idempotent: true, H: s.createRoutingRule},
		{Method: "PUT", Path: "/api/v1/routing-teams", ID: "setTeamRouting", Summary: "Set how a team shares leads (round-robin or least-loaded, capacity)", Tag: "Lead management", Body: lead.TeamRouting{}, Resp: lead.TeamRouting{}, Roles: adminOrMgr, H: s.setTeamRouting},
		{Method: "GET", Path: "/api/v1/feedback-reasons", ID: "listFeedbackReasons", Summary: "The reasons sales may reject a lead with", Tag: "Lead management", Resp: []lead.Reason{}, H: s.listReasons},
		{Method: "POST", Path: "/api/v1/contacts/{id}/feedback", ID: "giveLeadFeedback", Summary: "Accept a lead (→ SQL) or reject it with a reason", Tag: "Lead management", Body: lead.FeedbackInput{}, Resp: lead.Feedback{}, Status: http.StatusCreated, Idempotent: true, H: s.giveFeedback},
		{Method: "GET", Path: "/api/v1/lead-definitions/{id}/backtest", ID: "backtestLeadDefinition", Summary: "Replay the last 26 weeks under this version and the active one, side by side", Tag: "Lead management", Resp: lead.Backtest{}, H: s.backtest},
		{Method: "GET", Path: "/api/v1/lead-definitions/{id}/changes", ID: "leadDefinitionChanges", Summary: "What this version changes against the one it replaces", Tag: "Lead management", Resp: []lead.Change{}, H: s.definitionChanges},
		{Method: "GET", Path: "/api/v1/lead-definitions/{id}/rescore", ID: "leadDefinitionRescore", Summary: "Progress of the full rescore that follows activation", Tag: "Lead management", Resp: lead.RescoreProgress{}, H: s.rescoreProgress},
		{Method: "GET", Path: "/api/v1/lead-feedback", ID: "leadFeedbackFeed", Summary: "Sales' feedback to marketing — verdicts on leads and customer voice — newest first, with counts per channel and campaign", Tag: "Lead management",
			Resp: FeedResponse{}, Query: []param{{"kind", "string", "voice, accepted or rejected"}, {"topic", "string", "customer voice topic"}, {"reason", "string", "rejection reason"},
				{"channel", "string", "the contact's original channel"}, {"campaign", "string", "campaign named on customer voice"}, {"from", "string", "first day, YYYY-MM-DD"}, {"to", "string", "last day, inclusive"},
				{"limit", "integer", "items, 1–200 (default 50)"}}, H: s.feedbackFeed},
		{Method: "GET", Path: "/api/v1/sla-policies", ID: "listSLAPolicies", Summary: "Follow-up SLA policies, in the order they are tried", Tag: "Lead management", Resp: []lead.SLAPolicy{}, H: s.listSLAPolicies},
		{Method: "PUT", Path: "/api/v1/sla-policies/{key}", ID: "putSLAPolicy", Summary: "Create or change a follow-up SLA policy", Tag: "Lead management", Body: lead.SLAPolicy{}, Resp: lead.SLAPolicy{}, Roles: adminOrMgr, H: s.putSLAPolicy},
		{Method: "GET", Path: "/api/v1/teams/{id}/calendar", ID: "getTeamCalendar", Summary: "The business calendar a team's SLA timers count in", Tag: "Lead management", Resp: lead.TeamCalendar{}, H: s.getTeamCalendar},
		{Method: "PUT", Path: "/api/v1/teams/{id}/calendar", ID: "putTeamCalendar", Summary: "Set a team's business hours, working weekdays, holidays and closures", Tag: "Lead management", Body: lead.TeamCalendar{}, Resp: lead.TeamCalendar{}, Roles: adminOrMgr, H: s.putTeamCalendar},
		{Method: "GET", Path: "/api/v1/lead-queue", ID: "leadQueue", Summary: "Leads waiting for their first touch, soonest deadline first", Tag: "Lead management", Resp: []lead.QueueItem{},
			Query: []param{{"owner_id", "integer", "one rep's queue"}, {"team_id", "integer", "one team's queue"}, {"limit", "integer", "at most this many (default 200)"}}, H: s.leadQueue},
		{Method: "GET", Path: "/api/v1/sla-report", ID: "slaReport", Summary: "First-touch response times, breaches and untouched leads per rep, team, channel or priority", Tag: "Lead management", Resp: []lead.SLARow{},
			Query: []param{{"from", "string", "first day, YYYY-MM-DD in the workspace's time zone (default: 30 days ago)"}, {"to", "string", "last day, inclusive (default: today)"}, {"by", "string", "owner (default), team, channel or policy"}}, H: s.slaReport},
		{Method: "GET", Path: "/api/v1/contacts/{id}/sla", ID: "contactSLA", Summary: "A contact's follow-up timers, newest first", Tag: "Lead management", Resp: []lead.SLA{}, H: s.contactSLA},
		{Method: "POST", Path: "/api/v1/lead-definitions/{id}/approve", ID: "approveLeadDefinition", Summary: "Approve a draft for your side (marketing or sales)", Tag: "Lead management", Body: ApproveRequest{}, Resp: lead.Definition{}, H: s.approveDefinition},
	}
}

func (s *Server) listDefinitions(w http.ResponseWriter, r *http.Request, a platform.Actor) (any, error) {
	return s.Lead.List(r.Context(), a.WorkspaceID)
}

func (s *Server) createDefinition(w http.ResponseWriter, r *http.Request, a platform.Actor) (any, error) {
	var in DraftRequest
	if err := decode(w, r, &in); err != nil {
		return nil, err
	}
	return s.Lead.CreateDraft(r.Context(), a, in.Body, in.ChangeNote)
}

func (s *Server) getDefinition(w http.ResponseWriter, r *http.Request, a platform.Actor) (any, error) {
	id, err := pathID(r, "id")
	if err != nil {
		return nil, err
	}
	return s.Lead.Get(r.Context(), s.DB.Reader(), a.WorkspaceID, id)
}

func (s *Server) approveDefinition(w http.ResponseWriter, r *http.Request, a platform.Actor) (any, error) {
	id, err := pathID(r, "id")
	if err != nil {
		return nil, err
	}
	var in ApproveRequest
	if err := decode(w, r, &in); err != nil {
		return nil, err
	}
	return s.Lead.Approve(r.Context(), a, id, in.Note)
}

func (s *Server) listReasons(w http.ResponseWriter, r *http.Request, a platform.Actor) (any, error) {
	return s.Lead.Reasons(r.Context(), a.WorkspaceID)
}

func (s *Server) giveFeedback(w http.ResponseWriter, r *http.Request, a platform.Actor) (any, error) {
	id, err := pathID(r, "id")
	if err != nil {
		return nil, err
	}
	var in lead.FeedbackInput
	if err := decode(w, r, &in); err != nil {
		return nil, err
	}
	return s.Lead.GiveFeedback(r.Context(), s.CRM, a, id, in)
}

func (s *Server) createRoutingRule(w http.ResponseWriter, r *http.Request, a platform.Actor) (any, error) {
	var in lead.RoutingRule
	if err := decode(w, r, &in); err != nil {
		return nil, err
	}
	return s.Lead.SaveRoutingRule(r.Context(), a, in)
}

func (s *Server) setTeamRouting(w http.ResponseWriter, r *http.Request, a platform.Actor) (any, error) {
	var in lead.TeamRouting
	if err := decode(w, r, &in); err != nil {
		return nil, err
	}
	if err := s.Lead.SetTeamRouting(r.Context(), a, in); err != nil {
		return nil, err
	}
	return in, nil
}

func (s *Server) listSLAPolicies(w http.ResponseWriter, r *http.Request, a platform.Actor) (any, error) {
	return s.Lead.SLAPolicies(r.Context(), s.DB.Reader(), a.WorkspaceID)
}

func (s *Server) putSLAPolicy(w http.ResponseWriter, r *http.Request, a platform.Actor) (any, error) {
	var in lead.SLAPolicy
	if err := decode(w, r, &in); err != nil {
		return nil, err
	}
	in.Key = r.PathValue("key")
	return s.Lead.SaveSLAPolicy(r.Context(), a, in)
}

func (s *Server) getTeamCalendar(w http.ResponseWriter, r *http.Request, a platform.Actor) (any, error) {
	id, err := pathID(r, "id")
	if err != nil {
		return nil, err
	}
	if _, err := platform.GetTeam(r.Context(), s.DB.Reader(), a.WorkspaceID, id); err != nil {
		return nil, err
	}
	return s.Lead.TeamCalendarOf(r.Context(), s.DB.Reader(), a.WorkspaceID, id)
}

func (s *Server) putTeamCalendar(w http.ResponseWriter, r *http.Request, a platform.Actor) (any, error) {
	id, err := pathID(r, "id")
	if err != nil {
		return nil, err
	}
	var in lead.TeamCalendar
	if err := decode(w, r, &in); err != nil {
		return nil, err
	}
	in.TeamID = id
	return s.Lead.SetTeamCalendar(r.Context(), a, in)
}

func (s *Server) leadQueue(w http.ResponseWriter, r *http.Request, a platform.Actor) (any, error) {
	var q lead.QueueQuery
	var limit int64
	if err := queryInts(r, "owner_id", &q.OwnerID, "team_id", &q.TeamID, "limit", &limit); err != nil {
		return nil, err
	}
	q.Limit = int(limit)
	if a.OwnRecordsOnly {
		q.OwnerID = a.UserID
	}
	items, err := s.Lead.Queue(r.Context(), s.DB.Reader(), a.WorkspaceID, q)
	if items == nil {
		items = []lead.QueueItem{}
	}
	return items, err
}

func (s *Server) slaReport(w http.ResponseWriter, r *http.Request, a platform.Actor) (any, error) {
	ws, err := platform.GetWorkspace(r.Context(), s.DB.Reader(), a.WorkspaceID)
	if err != nil {
		return nil, err
	}
	from, to, err := lead.ReportPeriod(r.URL.Query().Get("from"), r.URL.Query().Get("to"), ws.Location(), s.Clock.Now())
	if err != nil {
		return nil, err
	}
	by := r.URL.Query().Get("by")
	if by == "" {
		by = "owner"
	}
	return s.Lead.SLAReport(r.Context(), s.DB.Reader(), a.WorkspaceID, from, to, by)
}

func (s *Server) contactSLA(w http.ResponseWriter, r *http.Request, a platform.Actor) (any, error) {
	id, err := pathID(r, "id")
	if err != nil {
		return nil, err
	}
	if _, err := s.CRM.GetContact(r.Context(), s.DB.Reader(), a, id); err != nil {
		return nil, err
	}
	xs, err := s.Lead.ContactSLAs(r.Context(), s.DB.Reader(), a.WorkspaceID, id)
	if xs == nil {
		xs = []lead.SLA{}
	}
	return xs, err
}

func (s *Server) backtest(w http.ResponseWriter, r *http.Request, a platform.Actor) (any, error) {
	id, err := pathID(r, "id")
	if err != nil {
		return nil, err
	}
	return s.Lead.RunBacktest(r.Context(), a.WorkspaceID, id)
}

func (s *Server) definitionChanges(w http.ResponseWriter, r *http.Request, a platform.Actor) (any, error) {
	id, err := pathID(r, "id")
	if err != nil {
		return nil, err
	}
	d, err := s.Lead.Get(r.Context(), s.DB.Reader(), a.WorkspaceID, id)
	if err != nil {
		return nil, err
	}
	prev, ok, err := s.Lead.Previous(r.Context(), s.DB.Reader(), a.WorkspaceID, d)
	if err != nil || !ok {
		return []lead.Change{}, err
	}
	ch := lead.Changes(prev.Body, d.Body)
	if ch == nil {
		ch = []lead.Change{}
	}
	return ch, nil
}

func (s *Server) rescoreProgress(w http.ResponseWriter, r *http.Request, a platform.Actor) (any, error) {
	id, err := pathID(r, "id")
	if err != nil {
		return nil, err
	}
	d, err := s.Lead.Get(r.Context(), s.DB.Reader(), a.WorkspaceID, id)
	if err != nil {
		return nil, err
	}
	return s.Lead.Progress(r.Context(), s.DB.Reader(), a.WorkspaceID, d.Version)
}

// FeedResponse is the feedback feed with its counts.
type FeedResponse struct {
	Items      []lead.FeedItem  `json:"items"`
	ByChannel  []lead.FeedCount `json:"by_channel"`
	ByCampaign []lead.FeedCount `json:"by_campaign"`
}

func (s *Server) feedbackFeed(w http.ResponseWriter, r *http.Request, a platform.Actor) (any, error) {
	ws, err := platform.GetWorkspace(r.Context(), s.DB.Reader(), a.WorkspaceID)
	if err != nil {
		return nil, err
	}
	q := r.URL.Query()
	from, to, err := lead.ReportPeriod(q.Get("from"), q.Get("to"), ws.Location(), s.Clock.Now())
	if err != nil {
		return nil, err
	}
	limit, err := queryLimit(r)
	if err != nil {
		return nil, err
	}
	var out FeedResponse
	out.Items, out.ByChannel, out.ByCampaign, err = s.Lead.Feed(r.Context(), s.DB.Reader(), a.WorkspaceID, lead.FeedQuery{Kind: q.Get("kind"),
		Topic: q.Get("topic"), Reason: q.Get("reason"), Channel: q.Get("channel"), Campaign: q.Get("campaign"), From: from, To: to, Limit: limit})
	if out.Items == nil {
		out.Items = []lead.FeedItem{}
	}
	return out, err
}

func (s *Server) listRoutingRules(w http.ResponseWriter, r *http.Request, a platform.Actor) (any, error) {
	return s.Lead.RoutingRules(r.Context(), s.DB.Reader(), a.WorkspaceID)
}

func (s *Server) deleteRoutingRule(w http.ResponseWriter, r *http.Request, a platform.Actor) (any, error) {
	id, err := pathID(r, "id")
	if err != nil {
		return nil, err
	}
	return nil, s.Lead.DeleteRoutingRule(r.Context(), a, id)
}
