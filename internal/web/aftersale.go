package web

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/ryorin/ryorin/internal/crm"
	"github.com/ryorin/ryorin/internal/i18n"
	"github.com/ryorin/ryorin/internal/platform"
	"github.com/ryorin/ryorin/internal/sales"
)

// After the sale: upcoming renewals and customer issues (問い合わせ/トラブル).

func (s *Server) afterSaleRoutes() {
	if s.Sales == nil {
		return
	}
	m := s.mux
	m.HandleFunc("GET /renewals", s.signedIn(s.renewalsPage))
	m.HandleFunc("POST /renewals/settings", s.signedIn(s.saveRenewalSettings))
	m.HandleFunc("GET /issues", s.signedIn(s.issuesPage))
	m.HandleFunc("POST /issues", s.signedIn(s.createIssuePage))
	m.HandleFunc("GET /issues/{id}", s.signedIn(s.issuePage))
	m.HandleFunc("POST /issues/{id}", s.signedIn(s.updateIssuePage))
}

// IssueChoices are the values an issue's selects offer, in display order.
func (p Page) IssueChoices() map[string][]string {
	return map[string][]string{"priority": sales.IssuePriorities, "status": sales.IssueStatuses, "category": sales.IssueCategories}
}

// OpenIssues is the "open issues" box of a contact or company page, with the
// form that logs a new one for that customer.
type OpenIssues struct {
	Page      Page
	Items     []sales.CustomerIssue
	ContactID int64
	CompanyID int64
	Back      string
}

// openIssues loads the unresolved issues of a contact or a company.
func (s *Server) openIssues(r *http.Request, c *rctx, p Page, f sales.IssueFilter, back string) (*OpenIssues, error) {
	if s.Sales == nil {
		return nil, nil
	}
	f.Status, f.Limit = "unresolved", 50
	items, err := s.Sales.ListIssues(r.Context(), s.DB.Reader(), c.Actor, f)
	if err != nil {
		return nil, err
	}
	return &OpenIssues{Page: p, Items: items, ContactID: f.ContactID, CompanyID: f.CompanyID, Back: back}, nil
}

// RenewalsPage lists won recurring deals renewing soon with their renewal.
type RenewalsPage struct {
	Page
	Days      int
	Windows   []int
	Items     []sales.UpcomingRenewal
	Companies map[int64]string
	LeadDays  int
	MayEdit   bool
}

// RenewalWhen says how far away a renewal date is.
func (p *RenewalsPage) RenewalWhen(u sales.UpcomingRenewal) string {
	switch {
	case u.DaysUntilRenew > 0:
		return p.T("renewals.in_days", "count", u.DaysUntilRenew)
	case u.DaysUntilRenew < 0:
		return p.T("renewals.overdue", "count", -u.DaysUntilRenew)
	}
	return p.T("renewals.today")
}

func (s *Server) renewalsPage(w http.ResponseWriter, r *http.Request, c *rctx) error {
	ctx := r.Context()
	data := &RenewalsPage{Page: s.base(c, c.Lang, "renewals.title", "renewals"), Days: 90, Windows: []int{30, 90, 180, 365}, Companies: map[int64]string{},
		MayEdit: c.Actor.Is(platform.RoleAdmin, platform.RoleManager)}
	if d := int(formInt(r.URL.Query().Get("days"))); d >= 1 && d <= 730 {
		data.Days = d
	}
	var err error
	if data.Items, err = s.Sales.UpcomingRenewals(ctx, c.Actor, data.Days); err != nil {
		return err
	}
	st, err := s.Sales.GetSettings(ctx, s.DB.Reader(), c.Actor.WorkspaceID)
	if err != nil {
		return err
	}
	data.LeadDays = st.RenewalLeadDays
	for _, it := range data.Items {
		if it.CompanyID != 0 && data.Companies[it.CompanyID] == "" {
			if co, err := s.CRM.GetCompany(ctx, s.DB.Reader(), platform.System(c.Actor.WorkspaceID), it.CompanyID); err == nil {
				data.Companies[it.CompanyID] = co.Name
			}
		}
	}
	return s.show(w, c, "renewals", data)
}

func (s *Server) saveRenewalSettings(w http.ResponseWriter, r *http.Request, c *rctx) error {
	ctx := r.Context()
	st, err := s.Sales.GetSettings(ctx, s.DB.Reader(), c.Actor.WorkspaceID)
	if err != nil {
		return err
	}
	st.RenewalLeadDays = int(formInt(r.PostFormValue("renewal_lead_days")))
	if st.RenewalLeadDays == 0 {
		st.RenewalLeadDays = -1 // an empty field is refused, not "keep"
	}
	_, err = s.Sales.SaveSettings(ctx, c.Actor, st)
	if _, msg, ok := formError(err); ok {
		flash(w, localize(c.Lang, msg))
		http.Redirect(w, r, "/renewals", http.StatusSeeOther)
		return nil
	}
	if err != nil {
		return err
	}
	return s.saved(w, r, c, "common.saved", "/renewals")
}

// IssuesPage lists customer issues with filters and counts by status.
type IssuesPage struct {
	Page
	Items    []sales.CustomerIssue
	Counts   map[string]int
	Status   string
	OwnerID  int64
	Priority string
	Names    map[string]string // "contact:1" / "company:2" → name
}

// Customer names an issue's contact and company.
func (p *IssuesPage) Customer(x sales.CustomerIssue) string {
	var parts []string
	for _, k := range []string{fmt.Sprintf("contact:%d", x.ContactID), fmt.Sprintf("company:%d", x.CompanyID)} {
		if n := p.Names[k]; n != "" {
			parts = append(parts, n)
		}
	}
	return strings.Join(parts, " · ")
}

// Unresolved is the number of issues not resolved yet.
func (p *IssuesPage) Unresolved() int {
	return p.Counts["open"] + p.Counts["in_progress"] + p.Counts["waiting"]
}

// FilterURL is the list's URL with one filter changed.
func (p *IssuesPage) FilterURL(key, value string) string {
	q := url.Values{}
	if p.Status != "" {
		q.Set("status", p.Status)
	}
	if p.OwnerID != 0 {
		q.Set("owner_id", fmt.Sprint(p.OwnerID))
	}
	if p.Priority != "" {
		q.Set("priority", p.Priority)
	}
	if value == "" {
		q.Del(key)
	} else {
		q.Set(key, value)
	}
	if len(q) == 0 {
		return "/issues"
	}
	return "/issues?" + q.Encode()
}

func (s *Server) issuesPage(w http.ResponseWriter, r *http.Request, c *rctx) error {
	ctx, q := r.Context(), r.URL.Query()
	data := &IssuesPage{Page: s.base(c, c.Lang, "issue.title", "issues"), Status: q.Get("status"), OwnerID: formInt(q.Get("owner_id")),
		Priority: q.Get("priority"), Names: map[string]string{}}
	if !q.Has("status") {
		data.Status = "unresolved"
	}
	var err error
	data.Items, err = s.Sales.ListIssues(ctx, s.DB.Reader(), c.Actor, sales.IssueFilter{Status: data.Status, OwnerID: data.OwnerID, Priority: data.Priority, Limit: 200})
	if _, msg, ok := formError(err); ok {
		data.Flash = localize(c.Lang, msg)
		data.Status, data.Priority = "unresolved", ""
		data.Items, err = s.Sales.ListIssues(ctx, s.DB.Reader(), c.Actor, sales.IssueFilter{Status: "unresolved", OwnerID: data.OwnerID, Limit: 200})
	}
	if err != nil {
		return err
	}
	if data.Counts, err = s.Sales.IssueCounts(ctx, s.DB.Reader(), c.Actor); err != nil {
		return err
	}
	if err := s.customerNames(r, c, data.Items, data.Names); err != nil {
		return err
	}
	return s.show(w, c, "issues", data)
}

// customerNames fills names of the issues' contacts and companies.
func (s *Server) customerNames(r *http.Request, c *rctx, items []sales.CustomerIssue, names map[string]string) error {
	var contactIDs []int64
	for _, x := range items {
		if x.ContactID != 0 {
			contactIDs = append(contactIDs, x.ContactID)
		}
	}
	p := Page{Lang: c.Lang}
	cs, err := s.CRM.ContactsByIDs(r.Context(), s.DB.Reader(), c.Actor.WorkspaceID, contactIDs)
	if err != nil {
		return err
	}
	for id, ct := range cs {
		names[fmt.Sprintf("contact:%d", id)] = p.Person(ct)
	}
	for _, x := range items {
		k := fmt.Sprintf("company:%d", x.CompanyID)
		if x.CompanyID == 0 || names[k] != "" {
			continue
		}
		if co, err := s.CRM.GetCompany(r.Context(), s.DB.Reader(), platform.System(c.Actor.WorkspaceID), x.CompanyID); err == nil {
			names[k] = co.Name
		}
	}
	return nil
}

func (s *Server) createIssuePage(w http.ResponseWriter, r *http.Request, c *rctx) error {
	back := r.PostFormValue("back")
	if !strings.HasPrefix(back, "/contacts/") && !strings.HasPrefix(back, "/companies/") {
		back = "/issues"
	}
	in := issueForm(r)
	x, err := s.Sales.CreateIssue(r.Context(), c.Actor, in)
	if _, msg, ok := formError(err); ok {
		flash(w, i18n.T(c.Lang, "issue.singular")+": "+localize(c.Lang, msg))
		http.Redirect(w, r, back, http.StatusSeeOther)
		return nil
	}
	if err != nil {
		return err
	}
	return s.saved(w, r, c, "issue.created", fmt.Sprintf("/issues/%d", x.ID))
}

// issueForm reads an issue form; absent fields are left alone, a blank
// owner means the default.
func issueForm(r *http.Request) sales.CustomerIssueInput {
	var in sales.CustomerIssueInput
	_ = r.ParseForm() // a malformed body reads as empty fields, refused by the domain
	str := func(k string) *string {
		if _, ok := r.PostForm[k]; !ok {
			return nil
		}
		v := r.PostFormValue(k)
		return &v
	}
	id := func(k string) *int64 {
		if r.PostFormValue(k) == "" {
			return nil
		}
		v := formInt(r.PostFormValue(k))
		return &v
	}
	in.Subject, in.Body, in.Priority, in.Status, in.Category = str("subject"), str("body"), str("priority"), str("status"), str("category")
	in.ContactID, in.CompanyID, in.OwnerID = id("contact_id"), id("company_id"), id("owner_id")
	return in
}

// IssuePage is one issue with its edit form.
type IssuePage struct {
	Page
	X       sales.CustomerIssue
	Contact *crm.Contact
	Company *crm.Company
	Errors  map[string]string
}

func (s *Server) loadIssue(r *http.Request, c *rctx, id int64) (*IssuePage, error) {
	ctx, q := r.Context(), s.DB.Reader()
	x, err := s.Sales.GetIssue(ctx, q, c.Actor, id)
	if err != nil {
		return nil, err
	}
	data := &IssuePage{Page: s.base(c, c.Lang, "issue.singular", "issues"), X: x, Errors: map[string]string{}}
	data.Title = x.Subject
	sys := platform.System(c.Actor.WorkspaceID)
	if x.ContactID != 0 {
		if ct, err := s.CRM.GetContact(ctx, q, sys, x.ContactID); err == nil {
			data.Contact = &ct
		}
	}
	if x.CompanyID != 0 {
		if co, err := s.CRM.GetCompany(ctx, q, sys, x.CompanyID); err == nil {
			data.Company = &co
		}
	}
	return data, nil
}

func (s *Server) issuePage(w http.ResponseWriter, r *http.Request, c *rctx) error {
	data, err := s.loadIssue(r, c, formInt(r.PathValue("id")))
	if err != nil {
		return err
	}
	return s.show(w, c, "issue", data)
}

func (s *Server) updateIssuePage(w http.ResponseWriter, r *http.Request, c *rctx) error {
	id := formInt(r.PathValue("id"))
	in := issueForm(r)
	in.ContactID, in.CompanyID = nil, nil // the customer is not changed here
	if in.OwnerID == nil {
		zero := int64(0)
		in.OwnerID = &zero
	}
	_, err := s.Sales.UpdateIssue(r.Context(), c.Actor, id, in)
	if field, msg, ok := formError(err); ok {
		data, lerr := s.loadIssue(r, c, id)
		if lerr != nil {
			return lerr
		}
		data.Errors[field] = localize(c.Lang, msg)
		if in.Subject != nil {
			data.X.Subject = *in.Subject
		}
		w.WriteHeader(http.StatusUnprocessableEntity)
		return s.show(w, c, "issue", data)
	}
	if err != nil {
		return err
	}
	return s.saved(w, r, c, "common.saved", fmt.Sprintf("/issues/%d", id))
}
