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
		{Method: "POST", Path: "/api/v1/routing-rules", ID: "createRoutingRule", Summary: "Add a lead routing rule (condition → team)", Tag: "Lead management", Body: lead.RoutingRule{}, Resp: lead.RoutingRule{}, Status: http.StatusCreated, Roles: adminOrMgr, Idempotent: true, H: s.createRoutingRule},
		{Method: "PUT", Path: "/api/v1/routing-teams", ID: "setTeamRouting", Summary: "Set how a team shares leads (round-robin or least-loaded, capacity)", Tag: "Lead management", Body: lead.TeamRouting{}, Resp: lead.TeamRouting{}, Roles: adminOrMgr, H: s.setTeamRouting},
		{Method: "GET", Path: "/api/v1/feedback-reasons", ID: "listFeedbackReasons", Summary: "The reasons sales may reject a lead with", Tag: "Lead management", Resp: []lead.Reason{}, H: s.listReasons},
		{Method: "POST", Path: "/api/v1/contacts/{id}/feedback", ID: "giveLeadFeedback", Summary: "Accept a lead (→ SQL) or reject it with a reason", Tag: "Lead management", Body: lead.FeedbackInput{}, Resp: lead.Feedback{}, Status: http.StatusCreated, Idempotent: true, H: s.giveFeedback},
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
