package web

import (
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"

	"github.com/ryorin/ryorin/internal/crm"
	"github.com/ryorin/ryorin/internal/errs"
	"github.com/ryorin/ryorin/internal/i18n"
	"github.com/ryorin/ryorin/internal/marketing/forms"
	"github.com/ryorin/ryorin/internal/platform"
)

// formRoutes lists the form builder's pages and the public form endpoints.
func (s *Server) formRoutes() {
	m := s.mux
	m.HandleFunc("GET /forms", s.signedIn(s.formsList))
	m.HandleFunc("GET /forms/new", s.signedIn(s.newForm))
	m.HandleFunc("POST /forms", s.signedIn(s.createForm))
	m.HandleFunc("GET /forms/{id}", s.signedIn(s.formView))
	m.HandleFunc("GET /forms/{id}/edit", s.signedIn(s.editForm))
	m.HandleFunc("POST /forms/{id}", s.signedIn(s.updateForm))
	m.HandleFunc("POST /forms/{id}/delete", s.signedIn(s.deleteForm))

	m.HandleFunc("GET /f/{key}", s.publicForm)
	m.HandleFunc("POST /f/{key}", s.submitPublicForm)
	m.HandleFunc("GET /f/confirm/{token}", s.confirmPublicForm)
}

// canEditForms: marketing builds forms; admins and managers may too.
func canEditForms(a platform.Actor) bool {
	return a.Is(platform.RoleAdmin, platform.RoleManager, platform.RoleMarketing)
}

// FormsPage is the data of the forms list.
type FormsPage struct {
	Page
	Items   []forms.Form
	CanEdit bool
}

func (s *Server) formsList(w http.ResponseWriter, r *http.Request, c *rctx) error {
	items, err := s.Forms.List(r.Context(), c.Actor)
	if err != nil {
		return err
	}
	data := &FormsPage{Page: s.base(c, c.Lang, "forms.title", "forms"), Items: items, CanEdit: canEditForms(c.Actor)}
	return s.show(w, c, "forms", data)
}

// BuilderRow is one field the builder offers: a standard field or a custom
// contact property.
type BuilderRow struct {
	Key      string
	Label    string // the standard label in the page's language
	Use      bool
	Required bool
	Locked   bool // email: always on and required
	LabelJA  string
	LabelEN  string
	Pos      int
}

// FormEditPage is the data of the form builder.
type FormEditPage struct {
	Page
	ID      int64
	In      forms.FormInput
	Rows    []BuilderRow
	Domains string
	Errors  map[string]string
}

// builderRows lists every field the form may have, the form's own first in
// their order, then the unused ones.
func builderRows(p Page, in forms.FormInput, defs []crm.PropertyDefinition) []BuilderRow {
	var rows []BuilderRow
	used := map[string]forms.Field{}
	order := map[string]int{}
	for i, f := range in.Fields {
		used[f.Key], order[f.Key] = f, i+1
	}
	add := func(key, label string) {
		f, ok := used[key]
		row := BuilderRow{Key: key, Label: label, Use: ok || key == "email", Required: f.Required || key == "email", Locked: key == "email",
			LabelJA: f.LabelJA, LabelEN: f.LabelEN, Pos: order[key]}
		if row.Pos == 0 {
			row.Pos = 100 + len(rows)
		}
		rows = append(rows, row)
	}
	for _, sf := range forms.StandardFields {
		add(sf.Key, p.T("forms.field."+sf.Key))
	}
	for _, d := range defs {
		add("prop."+d.Key, pick(p.Lang, d.LabelJA, d.LabelEN))
	}
	sort.SliceStable(rows, func(i, j int) bool { return rows[i].Pos < rows[j].Pos })
	for i := range rows {
		rows[i].Pos = i + 1
	}
	return rows
}

func pick(lang i18n.Lang, ja, en string) string {
	if (lang == i18n.EN && en != "") || ja == "" {
		return en
	}
	return ja
}

// builderInput reads the builder's post.
func builderInput(r *http.Request, defs []crm.PropertyDefinition) forms.FormInput {
	f := r.PostForm
	in := forms.FormInput{Name: f.Get("name"), ConsentEnabled: f.Get("consent_enabled") != "", ConsentRequired: f.Get("consent_required") != "",
		ConsentTextJA: f.Get("consent_text_ja"), ConsentTextEN: f.Get("consent_text_en"), ThanksJA: f.Get("thanks_ja"), ThanksEN: f.Get("thanks_en"),
		RedirectURL: f.Get("redirect_url"), DoubleOptIn: f.Get("double_opt_in") != "", Archived: f.Get("archived") != "",
		AllowedDomains: strings.FieldsFunc(f.Get("allowed_domains"), func(r rune) bool { return r == '\n' || r == ',' || r == ' ' || r == '\r' })}
	keys := []string{}
	for _, sf := range forms.StandardFields {
		keys = append(keys, sf.Key)
	}
	for _, d := range defs {
		keys = append(keys, "prop."+d.Key)
	}
	type posField struct {
		pos int
		f   forms.Field
	}
	var chosen []posField
	for i, k := range keys {
		if k != "email" && f.Get("use."+k) == "" {
			continue
		}
		pos, err := strconv.Atoi(strings.TrimSpace(f.Get("pos." + k)))
		if err != nil {
			pos = 1000 + i
		}
		chosen = append(chosen, posField{pos, forms.Field{Key: k, Required: k == "email" || f.Get("req."+k) != "",
			LabelJA: f.Get("label_ja." + k), LabelEN: f.Get("label_en." + k)}})
	}
	sort.SliceStable(chosen, func(i, j int) bool { return chosen[i].pos < chosen[j].pos })
	for _, c := range chosen {
		in.Fields = append(in.Fields, c.f)
	}
	return in
}

func (s *Server) formEditPage(c *rctx, r *http.Request, id int64, in forms.FormInput) (*FormEditPage, error) {
	defs, err := s.CRM.Properties(r.Context(), s.DB.Reader(), c.Actor.WorkspaceID, "contact")
	if err != nil {
		return nil, err
	}
	title := "forms.new"
	if id != 0 {
		title = "forms.edit"
	}
	data := &FormEditPage{Page: s.base(c, c.Lang, title, "forms"), ID: id, In: in, Domains: strings.Join(in.AllowedDomains, "\n"), Errors: map[string]string{}}
	data.Rows = builderRows(data.Page, in, defs)
	return data, nil
}

func (s *Server) newForm(w http.ResponseWriter, r *http.Request, c *rctx) error {
	if !canEditForms(c.Actor) {
		return errs.E(errs.Forbidden, "", "only marketing, managers and admins edit forms")
	}
	in := forms.FormInput{Fields: []forms.Field{{Key: "email", Required: true}, {Key: "family_name", Required: true}, {Key: "given_name"},
		{Key: "company"}}, ConsentTextJA: i18n.T(i18n.JA, "forms.builder.consent_default"), ConsentTextEN: i18n.T(i18n.EN, "forms.builder.consent_default")}
	data, err := s.formEditPage(c, r, 0, in)
	if err != nil {
		return err
	}
	return s.show(w, c, "form_edit", data)
}

func (s *Server) editForm(w http.ResponseWriter, r *http.Request, c *rctx) error {
	f, err := s.Forms.Get(r.Context(), c.Actor, formInt(r.PathValue("id")))
	if err != nil {
		return err
	}
	data, err := s.formEditPage(c, r, f.ID, f.Input())
	if err != nil {
		return err
	}
	data.Title = f.Name
	return s.show(w, c, "form_edit", data)
}

func (s *Server) createForm(w http.ResponseWriter, r *http.Request, c *rctx) error {
	return s.saveForm(w, r, c, 0)
}

func (s *Server) updateForm(w http.ResponseWriter, r *http.Request, c *rctx) error {
	return s.saveForm(w, r, c, formInt(r.PathValue("id")))
}

func (s *Server) saveForm(w http.ResponseWriter, r *http.Request, c *rctx, id int64) error {
	if err := r.ParseForm(); err != nil {
		return errs.Field("", "bad form")
	}
	defs, err := s.CRM.Properties(r.Context(), s.DB.Reader(), c.Actor.WorkspaceID, "contact")
	if err != nil {
		return err
	}
	in := builderInput(r, defs)
	var f forms.Form
	if id == 0 {
		f, err = s.Forms.Create(r.Context(), c.Actor, in)
	} else {
		f, err = s.Forms.Update(r.Context(), c.Actor, id, in)
	}
	if field, msg, ok := formError(err); ok {
		data, err := s.formEditPage(c, r, id, in)
		if err != nil {
			return err
		}
		if strings.HasPrefix(field, "fields") {
			field = "fields"
		}
		if strings.HasPrefix(field, "consent_text") {
			field = "consent_text"
		}
		data.Errors[field] = localize(c.Lang, msg)
		data.Domains = r.PostForm.Get("allowed_domains")
		w.WriteHeader(http.StatusUnprocessableEntity)
		return s.show(w, c, "form_edit", data)
	}
	if err != nil {
		return err
	}
	flash(w, i18n.T(c.Lang, "common.saved"))
	http.Redirect(w, r, fmt.Sprintf("/forms/%d", f.ID), http.StatusSeeOther)
	return nil
}

func (s *Server) deleteForm(w http.ResponseWriter, r *http.Request, c *rctx) error {
	if err := s.Forms.Delete(r.Context(), c.Actor, formInt(r.PathValue("id"))); err != nil {
		return err
	}
	flash(w, i18n.T(c.Lang, "forms.deleted"))
	http.Redirect(w, r, "/forms", http.StatusSeeOther)
	return nil
}

// FormViewPage is the data of a form's page: how to publish it and its
// submissions.
type FormViewPage struct {
	Page
	Form        forms.Form
	Subs        []forms.Submission
	Contacts    map[int64]crm.Contact
	Next        string
	HostedURL   string
	ScriptEmbed string
	HTMLEmbed   string
	CanEdit     bool
}

// FieldLabel is a field's label in the page's language.
func (p *FormViewPage) FieldLabel(f forms.Field) string {
	std := p.T("forms.field." + f.Key)
	if d, ok := p.Form.Prop(f.Key); ok {
		std = pick(p.Lang, d.LabelJA, d.LabelEN)
	}
	return f.Label(p.Lang, std)
}

// Value shows a submitted value.
func (p *FormViewPage) Value(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case bool:
		if x {
			return "✓"
		}
		return ""
	case []any:
		parts := make([]string, 0, len(x))
		for _, e := range x {
			parts = append(parts, fmt.Sprint(e))
		}
		return strings.Join(parts, ", ")
	}
	return fmt.Sprint(v)
}

func (s *Server) formView(w http.ResponseWriter, r *http.Request, c *rctx) error {
	ctx := r.Context()
	f, err := s.Forms.Get(ctx, c.Actor, formInt(r.PathValue("id")))
	if err != nil {
		return err
	}
	page, err := s.Forms.ListSubmissions(ctx, c.Actor, f.ID, r.URL.Query().Get("cursor"), 50)
	if err != nil {
		return err
	}
	data := &FormViewPage{Page: s.base(c, c.Lang, "forms.title", "forms"), Form: f, Subs: page.Items, CanEdit: canEditForms(c.Actor)}
	data.Title = f.Name
	if page.NextCursor != "" {
		data.Next = fmt.Sprintf("/forms/%d?cursor=%s", f.ID, page.NextCursor)
	}
	ids := make([]int64, 0, len(page.Items))
	for _, sub := range page.Items {
		ids = append(ids, sub.ContactID)
	}
	if data.Contacts, err = s.CRM.ContactsByIDs(ctx, s.DB.Reader(), c.Actor.WorkspaceID, ids); err != nil {
		return err
	}
	base := s.publicBase(r, c.WS)
	data.HostedURL = base + "/f/" + f.Key
	data.ScriptEmbed = fmt.Sprintf(`<div id="ryorin-form-%s"></div>`+"\n"+`<script src="%s/f/%s.js" async></script>`, f.Key, base, f.Key)
	tok, err := s.Forms.EmbedToken(ctx, f)
	if err != nil {
		return err
	}
	data.HTMLEmbed = htmlEmbed(f, c.Lang, base, tok)
	return s.show(w, c, "form_view", data)
}

// publicBase is the address visitors reach Ryorin at: the workspace's public
// base URL, else this request's scheme and host.
func (s *Server) publicBase(r *http.Request, ws platform.Workspace) string {
	if ws.PublicBaseURL != "" {
		return strings.TrimRight(ws.PublicBaseURL, "/")
	}
	scheme := "http"
	if r.TLS != nil || s.SecureCookies {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

// ShortURL shows a page address without its scheme and query.
func (p *FormViewPage) ShortURL(u string) string {
	if i := strings.Index(u, "://"); i >= 0 {
		u = u[i+3:]
	}
	if i := strings.IndexAny(u, "?#"); i >= 0 {
		u = u[:i]
	}
	if len(u) > 60 {
		u = u[:57] + "…"
	}
	return u
}
