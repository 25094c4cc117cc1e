package api

import (
	"net/http"
	"strconv"
	"time"

	"github.com/ryorin/ryorin/internal/errs"
	"github.com/ryorin/ryorin/internal/marketing/campaigns"
	"github.com/ryorin/ryorin/internal/platform"
)

// MembersInput adds contacts to a campaign or changes their status.
type MembersInput struct {
	ContactIDs []int64 `json:"contact_ids" doc:"up to 10,000 contacts"`
	Status     string  `json:"status" enum:"targeted,invited,registered,attended,no_show,met,responded,imported"`
}

// MembersResult says how many members were added or changed.
type MembersResult struct {
	Changed int `json:"changed"`
}

var campaignEditors = []platform.Role{platform.RoleAdmin, platform.RoleManager, platform.RoleMarketing}

func (s *Server) campaignRoutes() []op {
	monthQuery := []param{{"from", "string", "first month YYYY-MM (default: 11 months ago)"}, {"to", "string", "last month YYYY-MM (default: this month)"}}
	return []op{
		{Method: "GET", Path: "/api/v1/campaigns", ID: "listMarketingCampaigns", Summary: "Marketing campaigns (ads, webinars, trade shows, email programmes…), newest start first", Tag: "Campaigns", Resp: []campaigns.Campaign{}, H: s.listCampaignRecords},
		{Method: "POST", Path: "/api/v1/campaigns", ID: "createMarketingCampaign", Summary: "Create a campaign", Tag: "Campaigns", Body: campaigns.Input{}, Resp: campaigns.Campaign{}, Status: http.StatusCreated, Roles: campaignEditors, Idempotent: true, H: s.createCampaignRecord},
		{Method: "GET", Path: "/api/v1/campaigns/{id}", ID: "getMarketingCampaign", Summary: "A campaign", Tag: "Campaigns", Resp: campaigns.Campaign{}, H: s.getCampaignRecord},
		{Method: "PATCH", Path: "/api/v1/campaigns/{id}", ID: "updateMarketingCampaign", Summary: "Change a campaign", Tag: "Campaigns", Body: campaigns.Input{}, Resp: campaigns.Campaign{}, Roles: campaignEditors, H: s.updateCampaignRecord},
		{Method: "DELETE", Path: "/api/v1/campaigns/{id}", ID: "deleteMarketingCampaign", Summary: "Delete a campaign with its members and spend", Tag: "Campaigns", Status: http.StatusNoContent, Roles: campaignEditors, H: s.deleteCampaignRecord},
		{Method: "GET", Path: "/api/v1/campaigns/{id}/results", ID: "getCampaignResults", Summary: "What followed the campaign among its members (MQLs, deals, won, revenue) against its spend, ROI and cost per MQL", Tag: "Campaigns", Resp: campaigns.Results{}, H: s.getCampaignResults},
		{Method: "GET", Path: "/api/v1/campaigns/{id}/members", ID: "listCampaignMembers", Summary: "A campaign's members, newest first", Tag: "Campaigns", Resp: []campaigns.Member{},
			Query: []param{{"status", "string", "only members with this status"}, {"limit", "integer", "1–1000 (default 100)"}}, H: s.listCampaignMembers},
		{Method: "POST", Path: "/api/v1/campaigns/{id}/members", ID: "setCampaignMembers", Summary: "Add contacts to a campaign with a status, or change their status", Tag: "Campaigns", Body: MembersInput{}, Resp: MembersResult{}, Roles: campaignEditors, H: s.setCampaignMembers},
		{Method: "GET", Path: "/api/v1/spend", ID: "listSpend", Summary: "Marketing spend per month, campaign and channel", Tag: "Campaigns", Resp: []campaigns.SpendEntry{},
			Query: append(monthQuery, param{"campaign_id", "integer", "one campaign's spend"}), H: s.listSpend},
		{Method: "PUT", Path: "/api/v1/spend", ID: "setSpend", Summary: "Set a month's spend for a campaign or a channel (0 removes it)", Tag: "Campaigns", Body: campaigns.SpendEntry{}, Resp: campaigns.SpendEntry{}, Roles: campaignEditors, H: s.setSpend},
		{Method: "GET", Path: "/api/v1/sales-costs", ID: "listSalesCosts", Summary: "Sales cost per month and team", Tag: "Campaigns", Resp: []campaigns.SalesCost{}, Query: monthQuery, H: s.listSalesCosts},
		{Method: "PUT", Path: "/api/v1/sales-costs", ID: "setSalesCost", Summary: "Set a month's sales cost for a team or for sales as a whole (0 removes it)", Tag: "Campaigns", Body: campaigns.SalesCost{}, Resp: campaigns.SalesCost{}, Roles: []platform.Role{platform.RoleAdmin, platform.RoleManager}, H: s.setSalesCost},
	}
}

func (s *Server) listCampaignRecords(w http.ResponseWriter, r *http.Request, a platform.Actor) (any, error) {
	return s.Campaigns.List(r.Context(), s.DB.Reader(), a.WorkspaceID)
}

func (s *Server) createCampaignRecord(w http.ResponseWriter, r *http.Request, a platform.Actor) (any, error) {
	var in campaigns.Input
	if err := decode(w, r, &in); err != nil {
		return nil, err
	}
	return s.Campaigns.Create(r.Context(), a, in)
}

func (s *Server) getCampaignRecord(w http.ResponseWriter, r *http.Request, a platform.Actor) (any, error) {
	id, err := pathID(r, "id")
	if err != nil {
		return nil, err
	}
	return s.Campaigns.Get(r.Context(), s.DB.Reader(), a.WorkspaceID, id)
}

func (s *Server) updateCampaignRecord(w http.ResponseWriter, r *http.Request, a platform.Actor) (any, error) {
	id, err := pathID(r, "id")
	if err != nil {
		return nil, err
	}
	var in campaigns.Input
	if err := decode(w, r, &in); err != nil {
		return nil, err
	}
	return s.Campaigns.Update(r.Context(), a, id, in)
}

func (s *Server) deleteCampaignRecord(w http.ResponseWriter, r *http.Request, a platform.Actor) (any, error) {
	id, err := pathID(r, "id")
	if err != nil {
		return nil, err
	}
	return nil, s.Campaigns.Delete(r.Context(), a, id)
}

func (s *Server) getCampaignResults(w http.ResponseWriter, r *http.Request, a platform.Actor) (any, error) {
	id, err := pathID(r, "id")
	if err != nil {
		return nil, err
	}
	if _, err := s.Campaigns.Get(r.Context(), s.DB.Reader(), a.WorkspaceID, id); err != nil {
		return nil, err
	}
	ws, err := platform.GetWorkspace(r.Context(), s.DB.Reader(), a.WorkspaceID)
	if err != nil {
		return nil, err
	}
	return s.Campaigns.ResultsOf(r.Context(), s.DB.Reader(), ws, id)
}

func (s *Server) listCampaignMembers(w http.ResponseWriter, r *http.Request, a platform.Actor) (any, error) {
	id, err := pathID(r, "id")
	if err != nil {
		return nil, err
	}
	var limit int64
	if err := queryInts(r, "limit", &limit); err != nil {
		return nil, err
	}
	if _, err := s.Campaigns.Get(r.Context(), s.DB.Reader(), a.WorkspaceID, id); err != nil {
		return nil, err
	}
	return s.Campaigns.Members(r.Context(), s.DB.Reader(), a.WorkspaceID, id, r.URL.Query().Get("status"), int(limit))
}

func (s *Server) setCampaignMembers(w http.ResponseWriter, r *http.Request, a platform.Actor) (any, error) {
	id, err := pathID(r, "id")
	if err != nil {
		return nil, err
	}
	var in MembersInput
	if err := decode(w, r, &in); err != nil {
		return nil, err
	}
	if len(in.ContactIDs) > 10000 {
		return nil, errs.Field("contact_ids", "at most 10,000 per call")
	}
	n, err := s.Campaigns.SetMembers(r.Context(), a, id, in.ContactIDs, in.Status)
	return MembersResult{Changed: n}, err
}

// monthRange reads from/to months, defaulting to the last twelve months.
func (s *Server) monthRange(r *http.Request) (string, string, error) {
	now := s.Clock.Now()
	from, to := now.AddDate(0, -11, 0).Format("2006-01"), now.Format("2006-01")
	for _, p := range []struct {
		name string
		dst  *string
	}{{"from", &from}, {"to", &to}} {
		if v := r.URL.Query().Get(p.name); v != "" {
			if _, err := time.Parse("2006-01", v); err != nil || len(v) != 7 {
				return "", "", errs.Field(p.name, "must be a month YYYY-MM")
			}
			*p.dst = v
		}
	}
	return from, to, nil
}

func (s *Server) listSpend(w http.ResponseWriter, r *http.Request, a platform.Actor) (any, error) {
	from, to, err := s.monthRange(r)
	if err != nil {
		return nil, err
	}
	var camp int64
	if v := r.URL.Query().Get("campaign_id"); v != "" {
		if camp, err = strconv.ParseInt(v, 10, 64); err != nil {
			return nil, errs.Field("campaign_id", "must be a whole number")
		}
	}
	return s.Campaigns.Spend(r.Context(), s.DB.Reader(), a.WorkspaceID, from, to, camp)
}

func (s *Server) setSpend(w http.ResponseWriter, r *http.Request, a platform.Actor) (any, error) {
	var in campaigns.SpendEntry
	if err := decode(w, r, &in); err != nil {
		return nil, err
	}
	return s.Campaigns.SetSpend(r.Context(), a, in)
}

func (s *Server) listSalesCosts(w http.ResponseWriter, r *http.Request, a platform.Actor) (any, error) {
	from, to, err := s.monthRange(r)
	if err != nil {
		return nil, err
	}
	return s.Campaigns.SalesCosts(r.Context(), s.DB.Reader(), a.WorkspaceID, from, to)
}

func (s *Server) setSalesCost(w http.ResponseWriter, r *http.Request, a platform.Actor) (any, error) {
	var in campaigns.SalesCost
	if err := decode(w, r, &in); err != nil {
		return nil, err
	}
	return s.Campaigns.SetSalesCost(r.Context(), a, in)
}
