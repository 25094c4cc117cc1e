package api

import (
	"net/http"

	"github.com/ryorin/ryorin/internal/crm"
	"github.com/ryorin/ryorin/internal/errs"
	"github.com/ryorin/ryorin/internal/platform"
	"github.com/ryorin/ryorin/internal/sales"
)

func (s *Server) competitorRoutes() []op {
	return []op{
		{Method: "GET", Path: "/api/v1/competitors/{id}", ID: "getCompetitor", Summary: "A competitor's battle card and our record against them: won, lost, win rate and average discount (" + sales.AvgDiscountFormula + ")", Tag: "Deals", Resp: sales.CompetitorReport{}, H: s.getCompetitor},
		{Method: "GET", Path: "/api/v1/competitors/report", ID: "competitorReport", Summary: "Every competitor compared, by name: open deals, won, lost, win rate and average discount", Tag: "Deals", Resp: []sales.CompetitorReport{}, H: s.competitorReport},
		{Method: "PATCH", Path: "/api/v1/competitors/{id}", ID: "updateCompetitor", Summary: "Change a competitor's battle card", Tag: "Deals", Body: crm.CardInput{}, Resp: crm.CompetitorCard{}, H: s.updateCompetitor},
		{Method: "GET", Path: "/api/v1/competitor-news", ID: "listCompetitorNews", Summary: "News about competitors, newest first", Tag: "Deals", Resp: []crm.News{},
			Query: []param{{"competitor_id", "integer", "one competitor's news"}, {"limit", "integer", "1–200 (default 50)"}}, H: s.listNews},
		{Method: "POST", Path: "/api/v1/competitors/{id}/news", ID: "postCompetitorNews", Summary: "Post news about a competitor; every rep with an open deal against them is notified", Tag: "Deals",
			Body: crm.News{}, Resp: crm.News{}, Status: http.StatusCreated, Idempotent: true, H: s.postNews},
	}
}

func (s *Server) getCompetitor(w http.ResponseWriter, r *http.Request, a platform.Actor) (any, error) {
	id, err := pathID(r, "id")
	if err != nil {
		return nil, err
	}
	if s.Sales != nil {
		return s.Sales.CompetitorReportOf(r.Context(), s.DB.Reader(), a.WorkspaceID, id)
	}
	return s.CRM.CompetitorCardOf(r.Context(), s.DB.Reader(), a.WorkspaceID, id)
}

func (s *Server) competitorReport(w http.ResponseWriter, r *http.Request, a platform.Actor) (any, error) {
	if s.Sales == nil {
		return nil, errs.NotFoundf("the sales service is not running")
	}
	return s.Sales.CompetitorReports(r.Context(), s.DB.Reader(), a.WorkspaceID)
}

func (s *Server) updateCompetitor(w http.ResponseWriter, r *http.Request, a platform.Actor) (any, error) {
	id, err := pathID(r, "id")
	if err != nil {
		return nil, err
	}
	var in crm.CardInput
	if err := decode(w, r, &in); err != nil {
		return nil, err
	}
	return s.CRM.UpdateCard(r.Context(), a, id, in)
}

func (s *Server) listNews(w http.ResponseWriter, r *http.Request, a platform.Actor) (any, error) {
	var comp, limit int64
	if err := queryInts(r, "competitor_id", &comp, "limit", &limit); err != nil {
		return nil, err
	}
	var ids []int64
	if comp != 0 {
		ids = []int64{comp}
	}
	return s.CRM.ListNews(r.Context(), s.DB.Reader(), a.WorkspaceID, ids, int(limit))
}

func (s *Server) postNews(w http.ResponseWriter, r *http.Request, a platform.Actor) (any, error) {
	id, err := pathID(r, "id")
	if err != nil {
		return nil, err
	}
	var in crm.News
	if err := decode(w, r, &in); err != nil {
		return nil, err
	}
	in.CompetitorID = id
	return s.CRM.PostNews(r.Context(), a, in, nil)
}
