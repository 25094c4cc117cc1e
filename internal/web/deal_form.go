package web

import (
	"fmt"
	"github.com/ryorin/ryorin/internal/i18n"
	"net/http"
	"strconv"
	"strings"

	"github.com/ryorin/ryorin/internal/crm"
	"github.com/ryorin/ryorin/internal/errs"
)

// DealFormPage is the data of the new-deal form.
type DealFormPage struct {
	Page
	Pipelines  []crm.Pipeline
	Contact    *crm.Contact
	Company    *crm.Company
	In         map[string]string
	Errors     map[string]string
	Currencies []string
}

func (s *Server) dealForm(r *http.Request, c *rctx) (*DealFormPage, error) {
	ctx, q := r.Context(), s.DB.Reader()
	data := &DealFormPage{Page: s.base(c, c.Lang, "deal.new", "deals"), In: map[string]string{"currency": c.WS.BaseCurrency},
		Errors: map[string]string{}, Currencies: []string{"JPY", "USD", "EUR", "GBP", "CNY", "SGD"}}
	var err error
	if data.Pipelines, err = s.CRM.Pipelines(ctx, q, c.Actor.WorkspaceID); err != nil {
		return nil, err
	}
	contactID := formInt(r.FormValue("contact_id"))
	companyID := formInt(r.FormValue("company_id"))
	if contactID != 0 {
		ct, err := s.CRM.GetContact(ctx, q, c.Actor, contactID)
		if err != nil {
			return nil, err
		}
		data.Contact = &ct
		if companyID == 0 {
			companyID = ct.CompanyID
		}
	}
	if companyID != 0 {
		co, err := s.CRM.GetCompany(ctx, q, c.Actor, companyID)
		if err != nil {
			return nil, err
		}
		data.Company = &co
		data.In["name"] = co.Name + " "
	}
	return data, nil
}

func (s *Server) newDeal(w http.ResponseWriter, r *http.Request, c *rctx) error {
	data, err := s.dealForm(r, c)
	if err != nil {
		return err
	}
	return s.show(w, c, "deal_new", data)
}

func (s *Server) createDeal(w http.ResponseWriter, r *http.Request, c *rctx) error {
	if err := r.ParseForm(); err != nil {
		return errs.Field("", "bad form")
	}
	data, err := s.dealForm(r, c)
	if err != nil {
		return err
	}
	for k, v := range r.PostForm {
		data.In[k] = v[0]
	}
	name := strings.TrimSpace(r.PostFormValue("name"))
	in := crm.DealInput{Name: &name}
	if v := formInt(r.PostFormValue("stage_id")); v != 0 {
		in.StageID = &v
		for _, p := range data.Pipelines {
			for _, st := range p.Stages {
				if st.ID == v {
					in.PipelineID = &p.ID
				}
			}
		}
	}
	if v := strings.TrimSpace(r.PostFormValue("amount")); v != "" {
		f, perr := strconv.ParseFloat(strings.ReplaceAll(v, ",", ""), 64)
		if perr != nil {
			data.Errors["amount"] = data.T("error.number")
		} else {
			in.Amount = &f
		}
	}
	if v := r.PostFormValue("currency"); v != "" {
		in.Currency = &v
	}
	if v := r.PostFormValue("close_date"); v != "" {
		in.CloseDate = &v
	}
	if v := r.PostFormValue("type"); v != "" {
		in.Type = &v
	}
	owner := c.User.ID
	in.OwnerID = &owner
	if data.Company != nil {
		in.CompanyID = &data.Company.ID
	}
	if data.Contact != nil {
		in.Contacts = &[]crm.DealContact{{ContactID: data.Contact.ID}}
	}
	if len(data.Errors) == 0 {
		d, err := s.CRM.CreateDeal(r.Context(), c.Actor, in)
		if field, msg, ok := formError(err); ok {
			data.Errors[field] = localize(c.Lang, msg)
		} else if err != nil {
			return err
		} else {
			flash(w, data.T("common.saved"))
			http.Redirect(w, r, fmt.Sprintf("/deals/%d", d.ID), http.StatusSeeOther)
			return nil
		}
	}
	w.WriteHeader(http.StatusUnprocessableEntity)
	return s.show(w, c, "deal_new", data)
}

// CompanyFormPage is the data of the new-company form.
type CompanyFormPage struct {
	Page
	In     map[string]string
	Errors map[string]string
}

func companyInput(r *http.Request, create bool) crm.CompanyInput {
	var in crm.CompanyInput
	str := func(k string) *string {
		v, ok := r.PostForm[k]
		if !ok || (create && strings.TrimSpace(v[0]) == "") {
			return nil
		}
		return &v[0]
	}
	in.Name, in.NameKana, in.Domain, in.CorporateNumber = str("name"), str("name_kana"), str("domain"), str("corporate_number")
	in.Industry, in.Phone, in.Website = str("industry"), str("phone"), str("website")
	if v := strings.TrimSpace(r.PostFormValue("employees")); v != "" {
		n := formInt(v)
		in.Employees = &n
	}
	if _, ok := r.PostForm["postal_code"]; ok {
		in.Address = &crm.Address{PostalCode: r.PostFormValue("postal_code"), Prefecture: r.PostFormValue("prefecture"),
			City: r.PostFormValue("city"), Line1: r.PostFormValue("line1"), Line2: r.PostFormValue("line2")}
	}
	if v, ok := r.PostForm["owner_id"]; ok {
		id := formInt(v[0])
		in.OwnerID = &id
	}
	return in
}

func (s *Server) newCompany(w http.ResponseWriter, r *http.Request, c *rctx) error {
	data := &CompanyFormPage{Page: s.base(c, c.Lang, "company.new", "companies"), In: map[string]string{"owner_id": strconv.FormatInt(c.User.ID, 10)}, Errors: map[string]string{}}
	return s.show(w, c, "company_new", data)
}

func (s *Server) createCompany(w http.ResponseWriter, r *http.Request, c *rctx) error {
	if err := r.ParseForm(); err != nil {
		return errs.Field("", "bad form")
	}
	co, err := s.CRM.CreateCompany(r.Context(), c.Actor, companyInput(r, true))
	if field, msg, ok := formError(err); ok {
		data := &CompanyFormPage{Page: s.base(c, c.Lang, "company.new", "companies"), In: map[string]string{}, Errors: map[string]string{field: localize(c.Lang, msg)}}
		for k, v := range r.PostForm {
			data.In[k] = v[0]
		}
		w.WriteHeader(http.StatusUnprocessableEntity)
		return s.show(w, c, "company_new", data)
	}
	if err != nil {
		return err
	}
	flash(w, i18n.T(c.Lang, "common.saved"))
	http.Redirect(w, r, fmt.Sprintf("/companies/%d", co.ID), http.StatusSeeOther)
	return nil
}

func (s *Server) updateCompany(w http.ResponseWriter, r *http.Request, c *rctx) error {
	id := formInt(r.PathValue("id"))
	if err := r.ParseForm(); err != nil {
		return errs.Field("", "bad form")
	}
	_, err := s.CRM.UpdateCompany(r.Context(), c.Actor, id, companyInput(r, false))
	if field, msg, ok := formError(err); ok {
		// The form again, with what was typed and the message by its field.
		data, lerr := s.loadCompanyPage(r, c, id)
		if lerr != nil {
			return lerr
		}
		data.Edit = true
		co := &data.Co
		for k, dst := range map[string]*string{"name": &co.Name, "name_kana": &co.NameKana, "domain": &co.Domain, "corporate_number": &co.CorporateNumber,
			"industry": &co.Industry, "postal_code": &co.Address.PostalCode, "prefecture": &co.Address.Prefecture, "city": &co.Address.City,
			"line1": &co.Address.Line1, "line2": &co.Address.Line2} {
			if v, ok := r.PostForm[k]; ok {
				*dst = v[0]
			}
		}
		switch field {
		case "name", "domain", "corporate_number", "industry", "employees", "postal_code":
		default:
			field = "" // shown above the form
		}
		data.Errors[field] = localize(c.Lang, msg)
		w.WriteHeader(http.StatusUnprocessableEntity)
		return s.show(w, c, "company", data)
	}
	if err != nil {
		return err
	}
	flash(w, i18n.T(c.Lang, "common.saved"))
	http.Redirect(w, r, fmt.Sprintf("/companies/%d", id), http.StatusSeeOther)
	return nil
}
