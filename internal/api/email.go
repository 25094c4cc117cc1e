package api

import (
	"net/http"

	"github.com/ryorin/ryorin/internal/marketing/email"
	"github.com/ryorin/ryorin/internal/marketing/interest"
	"github.com/ryorin/ryorin/internal/platform"
)

// emailRoles may manage email campaigns.
var emailRoles = []platform.Role{platform.RoleAdmin, platform.RoleMarketing}

func (s *Server) emailRoutes() []op {
	if s.Email == nil {
		return nil
	}
	idQ := []param{{"contact", "integer", "the contact to render for (default: the audience's first member)"}}
	return []op{
		{Method: "GET", Path: "/api/v1/email/campaigns", ID: "listCampaigns", Summary: "List email campaigns, newest first", Tag: "Email", Resp: []email.Campaign{}, Roles: emailRoles, H: s.listCampaigns},
		{Method: "POST", Path: "/api/v1/email/campaigns", ID: "createCampaign", Summary: "Create a draft campaign (the template is refused naming the line if it does not render)", Tag: "Email", Body: email.CampaignInput{}, Resp: email.Campaign{}, Status: http.StatusCreated, Roles: emailRoles, Idempotent: true, H: s.createCampaign},
		{Method: "GET", Path: "/api/v1/email/campaigns/{id}", ID: "getCampaign", Summary: "Get a campaign", Tag: "Email", Resp: email.Campaign{}, Roles: emailRoles, H: s.getCampaign},
		{Method: "PUT", Path: "/api/v1/email/campaigns/{id}", ID: "updateCampaign", Summary: "Replace a draft campaign", Tag: "Email", Body: email.CampaignInput{}, Resp: email.Campaign{}, Roles: emailRoles, H: s.updateCampaign},
		{Method: "DELETE", Path: "/api/v1/email/campaigns/{id}", ID: "deleteCampaign", Summary: "Delete a campaign (links in sent mail keep working)", Tag: "Email", Status: http.StatusNoContent, Roles: emailRoles, H: s.deleteCampaign},
		{Method: "POST", Path: "/api/v1/email/campaigns/{id}/send", ID: "sendCampaign", Summary: "Send a draft campaign as one background job: now, or at send_at, with an optional per-minute limit and sending window (body optional)", Tag: "Email", Body: email.SendOptions{}, Resp: email.Campaign{}, Roles: emailRoles, Idempotent: true, H: s.sendCampaign},
		{Method: "POST", Path: "/api/v1/email/bounces", ID: "recordBounces", Summary: "Record bounces and complaints reported by the mail provider (its webhook posts here with an API token): each address is suppressed for every send and the event goes on the contact's timeline", Tag: "Email", Body: BouncesInput{}, Resp: BouncesResult{}, Roles: emailRoles, H: s.recordBounces},
		{Method: "POST", Path: "/api/v1/email/campaigns/{id}/unschedule", ID: "unscheduleCampaign", Summary: "Take a scheduled campaign back to draft before it starts", Tag: "Email", Resp: email.Campaign{}, Roles: emailRoles, H: s.unscheduleCampaign},
		{Method: "GET", Path: "/api/v1/email/campaigns/{id}/preview", ID: "previewCampaign", Summary: "Render a campaign for one contact", Tag: "Email", Resp: email.Rendered{}, Query: idQ, Roles: emailRoles, H: s.previewCampaign},
		{Method: "GET", Path: "/api/v1/contacts/{id}/interests", ID: "contactInterests", Summary: "A contact's interest profile: topics weighted by pages, content and tagged email clicks, strongest first (30-day half-life)", Tag: "Email", Resp: interest.Profile{}, H: s.contactInterests},
		{Method: "GET", Path: "/api/v1/email/campaigns/{id}/report", ID: "campaignReport", Summary: "A campaign's report: sent, skipped by reason, failed, unknown, opens, clicks per link, unsubscribes", Tag: "Email", Resp: email.Report{}, Roles: emailRoles, H: s.campaignReport},
	}
}

func (s *Server) listCampaigns(w http.ResponseWriter, r *http.Request, a platform.Actor) (any, error) {
	return s.Email.List(r.Context(), a)
}

func (s *Server) createCampaign(w http.ResponseWriter, r *http.Request, a platform.Actor) (any, error) {
	var in email.CampaignInput
	if err := decode(w, r, &in); err != nil {
		return nil, err
	}
	return s.Email.Create(r.Context(), a, in)
}

func (s *Server) getCampaign(w http.ResponseWriter, r *http.Request, a platform.Actor) (any, error) {
	id, err := pathID(r, "id")
	if err != nil {
		return nil, err
	}
	return s.Email.Get(r.Context(), a, id)
}

func (s *Server) updateCampaign(w http.ResponseWriter, r *http.Request, a platform.Actor) (any, error) {
	id, err := pathID(r, "id")
	if err != nil {
		return nil, err
	}
	var in email.CampaignInput
	if err := decode(w, r, &in); err != nil {
		return nil, err
	}
	return s.Email.Update(r.Context(), a, id, in)
}

func (s *Server) deleteCampaign(w http.ResponseWriter, r *http.Request, a platform.Actor) (any, error) {
	id, err := pathID(r, "id")
	if err != nil {
		return nil, err
	}
	return nil, s.Email.Delete(r.Context(), a, id)
}

func (s *Server) sendCampaign(w http.ResponseWriter, r *http.Request, a platform.Actor) (any, error) {
	id, err := pathID(r, "id")
	if err != nil {
		return nil, err
	}
	var o email.SendOptions
	if r.ContentLength != 0 {
		if err := decode(w, r, &o); err != nil {
			return nil, err
		}
	}
	return s.Email.Schedule(r.Context(), a, id, publicBase(r), o)
}

func (s *Server) unscheduleCampaign(w http.ResponseWriter, r *http.Request, a platform.Actor) (any, error) {
	id, err := pathID(r, "id")
	if err != nil {
		return nil, err
	}
	return s.Email.Unschedule(r.Context(), a, id)
}

func (s *Server) previewCampaign(w http.ResponseWriter, r *http.Request, a platform.Actor) (any, error) {
	id, err := pathID(r, "id")
	if err != nil {
		return nil, err
	}
	contact, err := queryInt(r, "contact")
	if err != nil {
		return nil, err
	}
	return s.Email.Preview(r.Context(), a, id, contact, publicBase(r))
}

func (s *Server) campaignReport(w http.ResponseWriter, r *http.Request, a platform.Actor) (any, error) {
	id, err := pathID(r, "id")
	if err != nil {
		return nil, err
	}
	return s.Email.Report(r.Context(), a, id)
}

// BouncesInput is a provider's batch of bounces and complaints.
type BouncesInput struct {
	Events []email.BounceEvent `json:"events"`
}

// BouncesResult says how many events were recorded.
type BouncesResult struct {
	Recorded int `json:"recorded"`
}

func (s *Server) recordBounces(w http.ResponseWriter, r *http.Request, a platform.Actor) (any, error) {
	var in BouncesInput
	if err := decode(w, r, &in); err != nil {
		return nil, err
	}
	n, err := s.Email.RecordBounces(r.Context(), a, in.Events)
	if err != nil {
		return nil, err
	}
	return BouncesResult{Recorded: n}, nil
}

func (s *Server) contactInterests(w http.ResponseWriter, r *http.Request, a platform.Actor) (any, error) {
	id, err := pathID(r, "id")
	if err != nil {
		return nil, err
	}
	if _, err := s.CRM.GetContact(r.Context(), s.DB.Reader(), a, id); err != nil {
		return nil, err
	}
	ps, err := interest.Profiles(r.Context(), s.DB.Reader(), a.WorkspaceID, []int64{id}, s.Clock.Now())
	if err != nil {
		return nil, err
	}
	if p := ps[id]; p != nil {
		return p, nil
	}
	return interest.Profile{}, nil
}
