package web

import (
	"fmt"
	"net/http"

	"github.com/ryorin/ryorin/internal/crm"
	"github.com/ryorin/ryorin/internal/sales"
)

// CompaniesPage is the data of the companies list.
type CompaniesPage struct {
	Page
	Items []crm.Company
	Q     string
	Owner int64
	URL   string
	Next  string
	Paged bool
	Views ViewsBar

	PropFilter PropFilter
	Cols       []string
	AllCols    []string
	ExportURL  string // this list as CSV: its filters and columns
}

// companyColumns are the columns a user may show on the companies list.
var companyColumns = []string{"domain", "industry", "employees", "prefecture", "corporate_number", "owner", "last_activity", "created"}

var defaultCompanyColumns = []string{"domain", "industry", "employees", "prefecture", "owner"}

// Picker is the data of the columns dropdown.
func (p CompaniesPage) Picker() ColPicker { return colPicker(p.Page, p.AllCols, p.Cols, p.ColLabel) }

// ColLabel is the heading of a companies list column.
func (p CompaniesPage) ColLabel(c string) string {
	return p.T(map[string]string{"domain": "company.domain", "industry": "company.industry", "employees": "company.employees",
		"prefecture": "company.prefecture", "corporate_number": "company.corporate_number", "owner": "common.owner",
		"last_activity": "common.last_activity", "created": "common.created_at"}[c])
}

func (s *Server) companies(w http.ResponseWriter, r *http.Request, c *rctx) error {
	q := r.URL.Query()
	data := &CompaniesPage{Page: s.base(c, c.Lang, "nav.companies", "companies"), Q: q.Get("q"), Owner: formInt(q.Get("owner")),
		URL: r.URL.RequestURI(), Paged: q.Get("cursor") != "", Cols: q["col"], AllCols: companyColumns, ExportURL: exportURL("/companies", q)}
	if len(data.Cols) == 0 {
		data.Cols = defaultCompanyColumns
	}
	data.Views = s.viewsBar(r, c, data.Page, "company", "/companies")
	pf, props, err := s.propFilter(r, c, data.Page, "company")
	if err != nil {
		return err
	}
	data.PropFilter = pf
	page, err := s.CRM.ListCompanies(r.Context(), c.Actor, crm.CompanyFilter{Q: data.Q, OwnerID: data.Owner, Props: props, Cursor: q.Get("cursor"), Limit: 50})
	if err != nil {
		return err
	}
	data.Items = page.Items
	if page.NextCursor != "" {
		data.Next = funcs["with2"].(func(string, ...string) string)(data.URL, "cursor", page.NextCursor)
	}
	return s.show(w, c, "companies", data)
}

// CompanyPage is the data of a company's record page.
type CompanyPage struct {
	Page
	Co         crm.Company
	Contacts   []crm.Contact
	Deals      []crm.Deal
	StageNames map[int64]string
	Timeline   TimelineView
	Edit       bool
	Errors     map[string]string // field → message, when a save was refused
	Issues     *OpenIssues       // unresolved customer issues (nil without the sales service)
}

func (s *Server) companyPage(w http.ResponseWriter, r *http.Request, c *rctx) error {
	data, err := s.loadCompanyPage(r, c, formInt(r.PathValue("id")))
	if err != nil {
		return err
	}
	data.Edit = r.URL.Query().Get("edit") == "1"
	return s.show(w, c, "company", data)
}

// loadCompanyPage reads everything the company page shows.
func (s *Server) loadCompanyPage(r *http.Request, c *rctx, id int64) (*CompanyPage, error) {
	ctx := r.Context()
	co, err := s.CRM.GetCompany(ctx, s.DB.Reader(), c.Actor, id)
	if err != nil {
		return nil, err
	}
	data := &CompanyPage{Page: s.base(c, c.Lang, "company.singular", "companies"), Co: co, StageNames: map[int64]string{}, Errors: map[string]string{}}
	data.Title = co.Name
	cs, err := s.CRM.ListContacts(ctx, c.Actor, crm.ContactFilter{CompanyID: id, Limit: 50})
	if err != nil {
		return nil, err
	}
	data.Contacts = cs.Items
	ds, err := s.CRM.ListDeals(ctx, c.Actor, crm.DealFilter{CompanyID: id, Limit: 50})
	if err != nil {
		return nil, err
	}
	data.Deals = ds.Items
	if err := s.stageNames(r, c, data.StageNames); err != nil {
		return nil, err
	}
	data.Timeline, err = s.timelineView(ctx, data.Page, c.Actor.WorkspaceID, "company", id, "", r.URL.Query().Get("cursor"), fmt.Sprintf("/companies/%d?", id))
	if err != nil {
		return nil, err
	}
	if data.Issues, err = s.openIssues(r, c, data.Page, sales.IssueFilter{CompanyID: id}, fmt.Sprintf("/companies/%d", id)); err != nil {
		return nil, err
	}
	return data, nil
}

// SearchPage is the data of the global search results.
type SearchPage struct {
	Page
	Q         string
	Contacts  []crm.Contact
	Companies []crm.Company
	Deals     []crm.Deal
}

func (s *Server) search(w http.ResponseWriter, r *http.Request, c *rctx) error {
	ctx := r.Context()
	data := &SearchPage{Page: s.base(c, c.Lang, "common.search", ""), Q: r.URL.Query().Get("q")}
	if data.Q != "" {
		cs, err := s.CRM.ListContacts(ctx, c.Actor, crm.ContactFilter{Q: data.Q, Limit: 20})
		if err != nil {
			return err
		}
		cos, err := s.CRM.ListCompanies(ctx, c.Actor, crm.CompanyFilter{Q: data.Q, Limit: 10})
		if err != nil {
			return err
		}
		ds, err := s.CRM.ListDeals(ctx, c.Actor, crm.DealFilter{Q: data.Q, Limit: 10})
		if err != nil {
			return err
		}
		data.Contacts, data.Companies, data.Deals = cs.Items, cos.Items, ds.Items
	}
	return s.show(w, c, "search", data)
}
