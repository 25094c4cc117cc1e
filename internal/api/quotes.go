package api

import (
	"bytes"
	"fmt"
	"mime"
	"net/http"

	"github.com/ryorin/ryorin/internal/crm"
	"github.com/ryorin/ryorin/internal/platform"
	"github.com/ryorin/ryorin/internal/sales"
)

// quoteRoutes: the price list, a deal's line items and its quotes.
func (s *Server) quoteRoutes() []op {
	if s.Sales == nil {
		return nil
	}
	const tag = "Quotes"
	sellers := []platform.Role{platform.RoleAdmin, platform.RoleManager, platform.RoleSales}
	return []op{
		{Method: "GET", Path: "/api/v1/products", ID: "listProducts", Summary: "The price list, by code", Tag: tag, Resp: []sales.Product{},
			Query: []param{{"active", "boolean", "true: only products offered for new lines"}}, H: s.listProducts},
		{Method: "POST", Path: "/api/v1/products", ID: "createProduct", Summary: "Add a product to the price list", Tag: tag, Body: sales.ProductInput{}, Resp: sales.Product{},
			Status: http.StatusCreated, Roles: sellers, Idempotent: true, H: s.createProduct},
		{Method: "PATCH", Path: "/api/v1/products/{id}", ID: "updateProduct", Summary: "Change a product (lines and quotes already made keep their price)", Tag: tag,
			Body: sales.ProductInput{}, Resp: sales.Product{}, Roles: sellers, H: s.updateProduct},
		{Method: "GET", Path: "/api/v1/deals/{id}/line-items", ID: "listLineItems", Summary: "A deal's line items, in order", Tag: tag, Resp: []sales.LineItem{}, H: s.listLineItems},
		{Method: "PUT", Path: "/api/v1/deals/{id}/line-items", ID: "saveLineItems", Summary: "Replace a deal's line items; the deal's amount becomes the sum of the lines before tax (recurring lines: one period) in the same write", Tag: tag,
			Body: LineItemsRequest{}, Resp: LineItemsResponse{}, Roles: sellers, H: s.saveLineItems},
		{Method: "GET", Path: "/api/v1/deals/{id}/quotes", ID: "listQuotes", Summary: "The versions of a deal's quote, newest first", Tag: tag, Resp: []sales.Quote{}, H: s.listQuotes},
		{Method: "POST", Path: "/api/v1/deals/{id}/quotes", ID: "issueQuote", Summary: "Issue the next version of the deal's quote from its line items (tax once per rate on the document)", Tag: tag,
			Body: sales.IssueInput{}, Resp: sales.Quote{}, Status: http.StatusCreated, Roles: sellers, Idempotent: true, H: s.issueQuote},
		{Method: "GET", Path: "/api/v1/deals/{id}/quotes/{version}", ID: "getQuote", Summary: "One version of a deal's quote", Tag: tag, Resp: sales.Quote{}, H: s.getQuote},
		{Method: "GET", Path: "/api/v1/deals/{id}/quotes/{version}/pdf", ID: "getQuotePDF", Summary: "One version of a deal's quote as a PDF (A4, Japanese font embedded)", Tag: tag,
			Produces: "application/pdf", H: s.getQuotePDF},
		{Method: "GET", Path: "/api/v1/deals/{id}/quote-approvals", ID: "listQuoteApprovals", Summary: "Whether the deal's lines need a discount approval, and its requests, newest first", Tag: tag,
			Resp: ApprovalsResponse{}, H: s.listApprovals},
		{Method: "POST", Path: "/api/v1/deals/{id}/quote-approvals", ID: "requestQuoteApproval", Summary: "Ask a manager to approve the discount of the deal's lines as they are now", Tag: tag,
			Body: ApprovalRequest{}, Resp: sales.Approval{}, Status: http.StatusCreated, Roles: sellers, H: s.requestApproval},
		{Method: "POST", Path: "/api/v1/deals/{id}/quote-approvals/{approval}/decision", ID: "decideQuoteApproval", Summary: "Approve or reject a pending discount approval", Tag: tag,
			Body: ApprovalDecision{}, Resp: sales.Approval{}, Roles: adminOrMgr, H: s.decideApproval},
		{Method: "GET", Path: "/api/v1/quote-settings", ID: "getQuoteSettings", Summary: "The seller on quotes, tax rounding, validity and the approval threshold", Tag: tag, Resp: sales.QuoteSettings{}, H: s.getQuoteSettings},
		{Method: "PUT", Path: "/api/v1/quote-settings", ID: "putQuoteSettings", Summary: "Change the quote settings", Tag: tag, Body: sales.QuoteSettings{}, Resp: sales.QuoteSettings{}, Roles: adminOrMgr, H: s.putQuoteSettings},
	}
}

func (s *Server) listQuotes(w http.ResponseWriter, r *http.Request, a platform.Actor) (any, error) {
	id, err := pathID(r, "id")
	if err != nil {
		return nil, err
	}
	return s.Sales.Quotes(r.Context(), s.DB.Reader(), a, id)
}

func (s *Server) issueQuote(w http.ResponseWriter, r *http.Request, a platform.Actor) (any, error) {
	id, err := pathID(r, "id")
	if err != nil {
		return nil, err
	}
	var in sales.IssueInput
	if err := decode(w, r, &in); err != nil {
		return nil, err
	}
	return s.Sales.IssueQuote(r.Context(), a, id, in)
}

func (s *Server) quoteAt(r *http.Request, a platform.Actor) (sales.Quote, error) {
	id, err := pathID(r, "id")
	if err != nil {
		return sales.Quote{}, err
	}
	v, err := pathID(r, "version")
	if err != nil {
		return sales.Quote{}, err
	}
	return s.Sales.GetQuote(r.Context(), s.DB.Reader(), a, id, int(v))
}

func (s *Server) getQuote(w http.ResponseWriter, r *http.Request, a platform.Actor) (any, error) {
	return s.quoteAt(r, a)
}

func (s *Server) getQuotePDF(w http.ResponseWriter, r *http.Request, a platform.Actor) (any, error) {
	q, err := s.quoteAt(r, a)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if err := q.Document.WritePDF(&buf, q.IssuedAt); err != nil {
		return nil, fmt.Errorf("api.getQuotePDF: %w", err)
	}
	h := w.Header()
	h.Set("Content-Type", "application/pdf")
	h.Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": fmt.Sprintf("%s-%d.pdf", q.Number, q.Version)}))
	h.Set("Cache-Control", "no-store")
	_, err = w.Write(buf.Bytes())
	if err != nil {
		s.Log.Error("quote pdf cut short", "err", err)
	}
	return written{}, nil
}

func (s *Server) getQuoteSettings(w http.ResponseWriter, r *http.Request, a platform.Actor) (any, error) {
	return s.Sales.GetQuoteSettings(r.Context(), s.DB.Reader(), a.WorkspaceID)
}

func (s *Server) putQuoteSettings(w http.ResponseWriter, r *http.Request, a platform.Actor) (any, error) {
	var in sales.QuoteSettings
	if err := decode(w, r, &in); err != nil {
		return nil, err
	}
	return s.Sales.SaveQuoteSettings(r.Context(), a, in)
}

// LineItemsRequest replaces a deal's line items.
type LineItemsRequest struct {
	Lines []sales.LineItemInput `json:"lines" doc:"in display order; an empty list removes every line and leaves the amount as it is"`
}

// LineItemsResponse is the saved lines and the deal with its new amount.
type LineItemsResponse struct {
	Lines []sales.LineItem `json:"lines"`
	Deal  crm.Deal         `json:"deal"`
}

func (s *Server) listLineItems(w http.ResponseWriter, r *http.Request, a platform.Actor) (any, error) {
	id, err := pathID(r, "id")
	if err != nil {
		return nil, err
	}
	return s.Sales.LineItems(r.Context(), s.DB.Reader(), a, id)
}

func (s *Server) saveLineItems(w http.ResponseWriter, r *http.Request, a platform.Actor) (any, error) {
	id, err := pathID(r, "id")
	if err != nil {
		return nil, err
	}
	var in LineItemsRequest
	if err := decode(w, r, &in); err != nil {
		return nil, err
	}
	lines, d, err := s.Sales.SaveLineItems(r.Context(), a, id, in.Lines)
	if err != nil {
		return nil, err
	}
	return LineItemsResponse{Lines: lines, Deal: d}, nil
}

func (s *Server) listProducts(w http.ResponseWriter, r *http.Request, a platform.Actor) (any, error) {
	return s.Sales.Products(r.Context(), s.DB.Reader(), a.WorkspaceID, r.URL.Query().Get("active") == "true")
}

func (s *Server) createProduct(w http.ResponseWriter, r *http.Request, a platform.Actor) (any, error) {
	var in sales.ProductInput
	if err := decode(w, r, &in); err != nil {
		return nil, err
	}
	return s.Sales.CreateProduct(r.Context(), a, in)
}

func (s *Server) updateProduct(w http.ResponseWriter, r *http.Request, a platform.Actor) (any, error) {
	id, err := pathID(r, "id")
	if err != nil {
		return nil, err
	}
	var in sales.ProductInput
	if err := decode(w, r, &in); err != nil {
		return nil, err
	}
	return s.Sales.UpdateProduct(r.Context(), a, id, in)
}

// ApprovalsResponse is a deal's approval state and requests.
type ApprovalsResponse struct {
	State    sales.ApprovalState `json:"state"`
	Requests []sales.Approval    `json:"requests"`
}

// ApprovalRequest asks for a discount approval.
type ApprovalRequest struct {
	Note string `json:"note,omitempty" doc:"why the discount is needed"`
}

// ApprovalDecision approves or rejects a request.
type ApprovalDecision struct {
	Approve bool   `json:"approve"`
	Note    string `json:"note,omitempty"`
}

func (s *Server) listApprovals(w http.ResponseWriter, r *http.Request, a platform.Actor) (any, error) {
	id, err := pathID(r, "id")
	if err != nil {
		return nil, err
	}
	var out ApprovalsResponse
	if out.State, err = s.Sales.GetApprovalState(r.Context(), s.DB.Reader(), a, id); err != nil {
		return nil, err
	}
	out.Requests, err = s.Sales.Approvals(r.Context(), s.DB.Reader(), a, id)
	return out, err
}

func (s *Server) requestApproval(w http.ResponseWriter, r *http.Request, a platform.Actor) (any, error) {
	id, err := pathID(r, "id")
	if err != nil {
		return nil, err
	}
	var in ApprovalRequest
	if err := decode(w, r, &in); err != nil {
		return nil, err
	}
	return s.Sales.RequestApproval(r.Context(), a, id, in.Note)
}

func (s *Server) decideApproval(w http.ResponseWriter, r *http.Request, a platform.Actor) (any, error) {
	id, err := pathID(r, "id")
	if err != nil {
		return nil, err
	}
	aid, err := pathID(r, "approval")
	if err != nil {
		return nil, err
	}
	var in ApprovalDecision
	if err := decode(w, r, &in); err != nil {
		return nil, err
	}
	return s.Sales.DecideApproval(r.Context(), a, id, aid, in.Approve, in.Note)
}
