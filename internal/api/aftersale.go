package api

import (
	"net/http"

	"github.com/ryorin/ryorin/internal/insight"
	"github.com/ryorin/ryorin/internal/platform"
	"github.com/ryorin/ryorin/internal/sales"
)

// IssueList is a page of customer issues with the counts by status.
type IssueList struct {
	Items  []sales.CustomerIssue `json:"items"`
	Counts map[string]int        `json:"counts" doc:"issues by status (open, in_progress, waiting, resolved), whatever the filters"`
}

// AfterSaleResponse is the renewal and repeat-purchase rates of a period.
type AfterSaleResponse struct {
	Period insight.Period `json:"period"`
	insight.AfterSale
	RenewalFormula string `json:"renewal_formula"`
	RepeatFormula  string `json:"repeat_formula"`
}

func (s *Server) afterSaleRoutes() []op {
	if s.Sales == nil {
		return nil
	}
	const tag = "After the sale"
	return []op{
		{Method: "GET", Path: "/api/v1/issues", ID: "listIssues", Summary: "Customer issues (問い合わせ/トラブル), unresolved first, most urgent first, with counts by status", Tag: tag, Resp: IssueList{},
			Query: []param{{"status", "string", "open, in_progress, waiting, resolved or unresolved (default: all)"}, {"owner_id", "integer", "owner user id"},
				{"priority", "string", "low, normal, high or urgent"}, {"contact_id", "integer", "one contact's issues"}, {"company_id", "integer", "one company's issues"}, {"limit", "integer", "1–500 (default 100)"}}, H: s.listIssues},
		{Method: "POST", Path: "/api/v1/issues", ID: "createIssue", Summary: "Log a customer issue on a contact and/or company; the account owner is notified", Tag: tag,
			Body: sales.CustomerIssueInput{}, Resp: sales.CustomerIssue{}, Status: http.StatusCreated, Idempotent: true, H: s.createIssue},
		{Method: "GET", Path: "/api/v1/issues/{id}", ID: "getIssue", Summary: "Get a customer issue", Tag: tag, Resp: sales.CustomerIssue{}, H: s.getIssue},
		{Method: "PATCH", Path: "/api/v1/issues/{id}", ID: "updateIssue", Summary: "Update a customer issue (a status change goes on the timeline; resolved stamps resolved_at)", Tag: tag,
			Body: sales.CustomerIssueInput{}, Resp: sales.CustomerIssue{}, H: s.updateIssue},
		{Method: "GET", Path: "/api/v1/renewals", ID: "listRenewals", Summary: "Won recurring deals renewing within the next days, with their renewal deal's status", Tag: tag, Resp: []sales.UpcomingRenewal{},
			Query: []param{{"days", "integer", "1–730 (default 90)"}}, H: s.listRenewals},
		{Method: "GET", Path: "/api/v1/deals/{id}/renewal", ID: "getDealRenewal", Summary: "A deal's place in its renewal chain: the deal it renews, its renewal deal and renewal date", Tag: tag, Resp: sales.RenewalLink{}, H: s.getDealRenewal},
		{Method: "GET", Path: "/api/v1/after-sale-rates", ID: "getAfterSaleRates", Summary: "Renewal rate and repeat-purchase rate of a period, with their formulas (also among the KPIs)", Tag: tag, Resp: AfterSaleResponse{},
			Query: []param{{"period", "string", "week, month (default), quarter or year (fiscal)"}, {"offset", "integer", "periods back from the current one (0–120)"}}, H: s.getAfterSaleRates},
	}
}

func (s *Server) listIssues(w http.ResponseWriter, r *http.Request, a platform.Actor) (any, error) {
	var owner, contact, company, limit int64
	if err := queryInts(r, "owner_id", &owner, "contact_id", &contact, "company_id", &company, "limit", &limit); err != nil {
		return nil, err
	}
	q := r.URL.Query()
	items, err := s.Sales.ListIssues(r.Context(), s.DB.Reader(), a, sales.IssueFilter{Status: q.Get("status"), Priority: q.Get("priority"),
		OwnerID: owner, ContactID: contact, CompanyID: company, Limit: int(limit)})
	if err != nil {
		return nil, err
	}
	counts, err := s.Sales.IssueCounts(r.Context(), s.DB.Reader(), a)
	return IssueList{Items: items, Counts: counts}, err
}

func (s *Server) createIssue(w http.ResponseWriter, r *http.Request, a platform.Actor) (any, error) {
	var in sales.CustomerIssueInput
	if err := decode(w, r, &in); err != nil {
		return nil, err
	}
	return s.Sales.CreateIssue(r.Context(), a, in)
}

func (s *Server) getIssue(w http.ResponseWriter, r *http.Request, a platform.Actor) (any, error) {
	id, err := pathID(r, "id")
	if err != nil {
		return nil, err
	}
	return s.Sales.GetIssue(r.Context(), s.DB.Reader(), a, id)
}

func (s *Server) updateIssue(w http.ResponseWriter, r *http.Request, a platform.Actor) (any, error) {
	id, err := pathID(r, "id")
	if err != nil {
		return nil, err
	}
	var in sales.CustomerIssueInput
	if err := decode(w, r, &in); err != nil {
		return nil, err
	}
	return s.Sales.UpdateIssue(r.Context(), a, id, in)
}

func (s *Server) listRenewals(w http.ResponseWriter, r *http.Request, a platform.Actor) (any, error) {
	var days int64
	if err := queryInts(r, "days", &days); err != nil {
		return nil, err
	}
	if days == 0 {
		days = 90
	}
	return s.Sales.UpcomingRenewals(r.Context(), a, int(days))
}

func (s *Server) getDealRenewal(w http.ResponseWriter, r *http.Request, a platform.Actor) (any, error) {
	id, err := pathID(r, "id")
	if err != nil {
		return nil, err
	}
	d, err := s.CRM.GetDeal(r.Context(), s.DB.Reader(), a, id)
	if err != nil {
		return nil, err
	}
	l, err := s.Sales.RenewalLinkOf(r.Context(), s.DB.Reader(), a.WorkspaceID, id)
	if err != nil || l.RenewedBy != 0 {
		return l, err
	}
	ws, err := platform.GetWorkspace(r.Context(), s.DB.Reader(), a.WorkspaceID)
	if err != nil {
		return nil, err
	}
	if at, ok := sales.RenewalDate(d, ws.Location()); ok {
		l.RenewalDate = at.Format("2006-01-02")
	}
	return l, nil
}

func (s *Server) getAfterSaleRates(w http.ResponseWriter, r *http.Request, a platform.Actor) (any, error) {
	ws, p, err := s.periodParam(r, a, "month")
	if err != nil {
		return nil, err
	}
	as, err := insight.AfterSaleOf(r.Context(), s.DB.Reader(), ws, p)
	return AfterSaleResponse{Period: p, AfterSale: as, RenewalFormula: insight.RenewalRateFormula, RepeatFormula: insight.RepeatRateFormula}, err
}
