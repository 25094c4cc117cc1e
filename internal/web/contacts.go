package web

import (
	"encoding/json"
	"fmt"
	"github.com/ryorin/ryorin/internal/i18n"
	"github.com/ryorin/ryorin/internal/marketing/interest"
	"net/http"
	"strings"

	"github.com/ryorin/ryorin/internal/crm"
	"github.com/ryorin/ryorin/internal/errs"
	"github.com/ryorin/ryorin/internal/lead"
	"github.com/ryorin/ryorin/internal/marketing/segments"
	"github.com/ryorin/ryorin/internal/platform"
	"github.com/ryorin/ryorin/internal/privacy"
	"github.com/ryorin/ryorin/internal/sales"
)

// contactColumns are the columns a user may show on the contacts list, in order.
var contactColumns = []string{"email", "company", "stage", "owner", "phone", "title", "channel", "last_activity", "created"}

var defaultContactColumns = []string{"email", "company", "stage", "owner", "last_activity"}

// ContactsPage is the data of the contacts list.
type ContactsPage struct {
	Page
	Items      []crm.Contact
	Companies  map[int64]string
	Q          string
	StageF     string
	Owner      int64
	Sort       string
	Cols       []string
	AllCols    []string
	URL        string // this list's URL, for links that keep its filters
	Next       string
	Paged      bool
	Views      ViewsBar
	PropFilter PropFilter
	ExportURL  string // this list as CSV: its filters and columns
	// ListOptions are the static lists the bulk bar can add contacts to.
	ListOptions []segments.List
}

// Picker is the data of the columns dropdown.
func (p ContactsPage) Picker() ColPicker { return colPicker(p.Page, p.AllCols, p.Cols, p.ColLabel) }

// ColLabel is the heading of a list column.
func (p ContactsPage) ColLabel(c string) string {
	return p.T(map[string]string{"email": "contact.email", "company": "contact.company", "stage": "contact.stage", "owner": "common.owner",
		"phone": "contact.phone", "title": "contact.title", "channel": "contact.channel", "last_activity": "common.last_activity",
		"created": "common.created_at"}[c])
}

func (s *Server) contacts(w http.ResponseWriter, r *http.Request, c *rctx) error {
	q := r.URL.Query()
	data := &ContactsPage{Page: s.base(c, c.Lang, "nav.contacts", "contacts"), Q: q.Get("q"), StageF: q.Get("stage"),
		Owner: formInt(q.Get("owner")), Sort: q.Get("sort"), AllCols: contactColumns, URL: r.URL.RequestURI(), ExportURL: exportURL("/contacts", q)}
	data.Cols = q["col"]
	if len(data.Cols) == 0 {
		data.Cols = defaultContactColumns
	}
	f := crm.ContactFilter{Q: data.Q, Stage: platform.Stage(data.StageF), OwnerID: data.Owner, Sort: data.Sort, Cursor: q.Get("cursor"), Limit: 50}
	var err error
	if data.PropFilter, f.Props, err = s.propFilter(r, c, data.Page, "contact"); err != nil {
		return err
	}
	data.Views = s.viewsBar(r, c, data.Page, "contact", "/contacts")
	page, err := s.CRM.ListContacts(r.Context(), c.Actor, f)
	if err != nil {
		return err
	}
	data.Items, data.Paged = page.Items, q.Get("cursor") != ""
	if page.NextCursor != "" {
		data.Next = funcs["with2"].(func(string, ...string) string)(r.URL.RequestURI(), "cursor", page.NextCursor)
	}
	ids := make([]int64, 0, len(page.Items))
	for _, x := range page.Items {
		ids = append(ids, x.CompanyID)
	}
	if data.Companies, err = s.CRM.CompanyNames(r.Context(), s.DB.Reader(), c.Actor.WorkspaceID, ids); err != nil {
		return err
	}
	if s.Segments != nil {
		if data.ListOptions, err = s.Segments.Lists(r.Context(), s.DB.Reader(), c.Actor.WorkspaceID); err != nil {
			return err
		}
	}
	return s.show(w, c, "contacts", data)
}

// ContactFormPage is the data of the new-contact form.
type ContactFormPage struct {
	Page
	In        map[string]string
	Errors    map[string]string
	Companies []crm.Company
}

func (s *Server) newContact(w http.ResponseWriter, r *http.Request, c *rctx) error {
	data := &ContactFormPage{Page: s.base(c, c.Lang, "contact.new", "contacts"), In: map[string]string{"owner_id": fmt.Sprint(c.User.ID), "lifecycle_stage": "lead"}, Errors: map[string]string{}}
	return s.show(w, c, "contact_new", data)
}

var contactFields = []string{"family_name", "given_name", "family_name_kana", "given_name_kana", "email", "phone", "mobile", "title", "department"}

// contactInput reads the contact form; empty text fields are left unset on create.
func contactInput(r *http.Request, create bool) crm.ContactInput {
	var in crm.ContactInput
	for _, f := range contactFields {
		v, ok := r.PostForm[f]
		if !ok || (create && strings.TrimSpace(v[0]) == "") {
			continue
		}
		val := v[0]
		switch f {
		case "family_name":
			in.FamilyName = &val
		case "given_name":
			in.GivenName = &val
		case "family_name_kana":
			in.FamilyNameKana = &val
		case "given_name_kana":
			in.GivenNameKana = &val
		case "email":
			in.Email = &val
		case "phone":
			in.Phone = &val
		case "mobile":
			in.Mobile = &val
		case "title":
			in.Title = &val
		case "department":
			in.Department = &val
		}
	}
	if v, ok := r.PostForm["company_id"]; ok {
		id := formInt(v[0])
		in.CompanyID = &id
	}
	if v, ok := r.PostForm["owner_id"]; ok {
		id := formInt(v[0])
		in.OwnerID = &id
	}
	if v, ok := r.PostForm["lifecycle_stage"]; ok && v[0] != "" {
		st := platform.Stage(v[0])
		in.LifecycleStage = &st
	}
	return in
}

func (s *Server) createContact(w http.ResponseWriter, r *http.Request, c *rctx) error {
	if err := r.ParseForm(); err != nil {
		return errs.Field("", "bad form")
	}
	in := contactInput(r, true)
	ct, err := s.CRM.CreateContact(r.Context(), c.Actor, in)
	if field, msg, ok := formError(err); ok {
		data := &ContactFormPage{Page: s.base(c, c.Lang, "contact.new", "contacts"), In: map[string]string{}, Errors: map[string]string{field: localize(c.Lang, msg)}}
		for k, v := range r.PostForm {
			data.In[k] = v[0]
		}
		if e, _ := errs.As(err); e != nil && e.ExistingID != 0 {
			data.Errors[field] = data.T("error.conflict_email")
		}
		w.WriteHeader(http.StatusUnprocessableEntity)
		return s.show(w, c, "contact_new", data)
	}
	if err != nil {
		return err
	}
	flash(w, i18n.T(c.Lang, "common.saved"))
	http.Redirect(w, r, fmt.Sprintf("/contacts/%d", ct.ID), http.StatusSeeOther)
	return nil
}

// ContactPage is the data of a contact's record page.
type ContactPage struct {
	Page
	C          crm.Contact
	Company    *crm.Company
	Deals      []crm.Deal
	StageNames map[int64]string
	Timeline   TimelineView
	Filter     string
	Edit       bool
	Errors     map[string]string
	Kinds      []string
	Outcomes   []string
	LogError   string
	Reasons    []lead.Reason // offered when the contact awaits sales' verdict
	SLA        *lead.SLA     // the follow-up timer waiting for a first touch
	Consent    []privacy.ConsentRecord
	IsAdmin    bool
	// Memberships are the contact's lists and segments.
	Memberships *Memberships
	// Issues are the contact's unresolved customer issues.
	Issues *OpenIssues
	// Mail is the send-email form and the contact's emails (nil without sales email).
	Mail *MailBox
	// Seq is the contact's active sequence enrolments and the enrol form (nil without sequences).
	Seq *SeqBox
	// Share makes the contact's tracked link to library content (nil without the library).
	Share *ContentShareBox
	// Interests are the contact's strongest interest topics (at most five).
	Interests interest.Profile
}

// AwaitsFeedback reports whether sales can accept or reject this contact now.
func (p *ContactPage) AwaitsFeedback() bool {
	return len(p.Reasons) > 0 && p.C.LifecycleStage.Rank() >= 0 && p.C.LifecycleStage.Rank() < platform.StageSQL.Rank()
}

// ReasonLabel is a reject reason's label in the page's language.
func (p *ContactPage) ReasonLabel(r lead.Reason) string { return r.Label(string(p.Lang)) }

// ScoreLine is one line of a contact's score explanation.
type ScoreLine struct {
	Rule   string  `json:"rule"`
	Points float64 `json:"points"`
	Detail string  `json:"detail"`
}

// ScoreLines explains the contact's score, rule by rule.
func (p *ContactPage) ScoreLines() []ScoreLine {
	var out []ScoreLine
	_ = json.Unmarshal(p.C.Score.Lines, &out)
	return out
}

// Log is the data the activity logger partial needs.
func (p *ContactPage) Log() map[string]any {
	return map[string]any{"Page": p.Page, "Action": fmt.Sprintf("/contacts/%d/activities", p.C.ID), "Kinds": p.Kinds, "Outcomes": p.Outcomes, "Error": p.LogError, "Topics": crm.VoiceTopics}
}

func (s *Server) contactPage(w http.ResponseWriter, r *http.Request, c *rctx) error {
	id := formInt(r.PathValue("id"))
	data, err := s.loadContactPage(r, c, id)
	if err != nil {
		return err
	}
	data.Edit = r.URL.Query().Get("edit") == "1"
	return s.show(w, c, "contact", data)
}

func (s *Server) loadContactPage(r *http.Request, c *rctx, id int64) (*ContactPage, error) {
	ctx, q := r.Context(), s.DB.Reader()
	ct, err := s.CRM.GetContact(ctx, q, c.Actor, id)
	if err != nil {
		return nil, err
	}
	if s.Scorer != nil {
		if err := s.Scorer.Explain(ctx, c.Actor.WorkspaceID, &ct); err != nil {
			return nil, err
		}
	}
	data := &ContactPage{Page: s.base(c, c.Lang, "contact.singular", "contacts"), C: ct, Errors: map[string]string{},
		Kinds: crm.ActivityKinds, Outcomes: crm.CallOutcomes, Filter: r.URL.Query().Get("tl"), StageNames: map[int64]string{}}
	data.Title = data.Person(ct)
	if ct.CompanyID != 0 {
		if co, err := s.CRM.GetCompany(ctx, q, platform.System(c.Actor.WorkspaceID), ct.CompanyID); err == nil {
			data.Company = &co
		}
	}
	deals, err := s.CRM.ListDeals(ctx, c.Actor, crm.DealFilter{ContactID: id, Limit: 20})
	if err != nil {
		return nil, err
	}
	data.Deals = deals.Items
	if err := s.stageNames(r, c, data.StageNames); err != nil {
		return nil, err
	}
	data.Timeline, err = s.timelineView(ctx, data.Page, c.Actor.WorkspaceID, "contact", id, data.Filter, r.URL.Query().Get("cursor"), fmt.Sprintf("/contacts/%d?", id))
	if err != nil {
		return nil, err
	}
	if s.Lead != nil {
		if data.Reasons, err = s.Lead.Reasons(ctx, c.Actor.WorkspaceID); err != nil {
			return nil, err
		}
		slas, err := s.Lead.ContactSLAs(ctx, s.DB.Reader(), c.Actor.WorkspaceID, id)
		if err != nil {
			return nil, err
		}
		if len(slas) > 0 && slas[0].Waiting() {
			data.SLA = &slas[0]
		}
	}
	if data.Consent, err = s.privacy().ConsentRecords(ctx, c.Actor, id); err != nil {
		return nil, err
	}
	data.IsAdmin = c.Actor.Is(platform.RoleAdmin)
	if data.Mail, err = s.mailBox(ctx, data.Page, c.Actor, id, nil, fmt.Sprintf("/contacts/%d/emails", id)); err != nil {
		return nil, err
	}
	if data.Mail != nil {
		data.Mail.NoAddress = ct.Email == ""
	}
	if data.Seq, err = s.seqBox(ctx, data.Page, c.Actor, id); err != nil {
		return nil, err
	}
	if data.Share, err = s.contentShareBox(r, c, data.Page, []crm.Contact{ct}, fmt.Sprintf("/contacts/%d", id)); err != nil {
		return nil, err
	}
	if data.Memberships, err = s.memberships(r, c, data.Page, id); err != nil {
		return nil, err
	}
	ps, err := interest.Profiles(ctx, s.DB.Reader(), c.Actor.WorkspaceID, []int64{id}, s.Clock.Now())
	if err != nil {
		return nil, err
	}
	if data.Interests = ps[id]; len(data.Interests) > 5 {
		data.Interests = data.Interests[:5]
	}
	if data.Issues, err = s.openIssues(r, c, data.Page, sales.IssueFilter{ContactID: id}, fmt.Sprintf("/contacts/%d", id)); err != nil {
		return nil, err
	}
	return data, nil
}

// contactFeedback records sales' accept or reject of a lead.
func (s *Server) contactFeedback(w http.ResponseWriter, r *http.Request, c *rctx) error {
	if s.Lead == nil {
		return notFound()
	}
	id := formInt(r.PathValue("id"))
	in := lead.FeedbackInput{Decision: r.PostFormValue("decision"), Reason: r.PostFormValue("reason"), Note: r.PostFormValue("note"),
		Rating: int(formInt(r.PostFormValue("rating")))}
	_, err := s.Lead.GiveFeedback(r.Context(), s.CRM, c.Actor, id, in)
	if _, msg, ok := formError(err); ok {
		flash(w, localize(c.Lang, msg))
		http.Redirect(w, r, fmt.Sprintf("/contacts/%d", id), http.StatusSeeOther)
		return nil
	}
	if err != nil {
		return err
	}
	flash(w, i18n.T(c.Lang, "common.saved"))
	back := fmt.Sprintf("/contacts/%d", id)
	if b := r.PostFormValue("back"); b != "" {
		back = localPath(b)
	}
	http.Redirect(w, r, back, http.StatusSeeOther)
	return nil
}

// stageNames fills id → name for every pipeline stage.
func (s *Server) stageNames(r *http.Request, c *rctx, into map[int64]string) error {
	ps, err := s.CRM.Pipelines(r.Context(), s.DB.Reader(), c.Actor.WorkspaceID)
	if err != nil {
		return err
	}
	for _, p := range ps {
		for _, st := range p.Stages {
			into[st.ID] = st.Name
		}
	}
	return nil
}

func (s *Server) updateContact(w http.ResponseWriter, r *http.Request, c *rctx) error {
	id := formInt(r.PathValue("id"))
	if err := r.ParseForm(); err != nil {
		return errs.Field("", "bad form")
	}
	_, err := s.CRM.UpdateContact(r.Context(), c.Actor, id, contactInput(r, false), platform.Cause{})
	if field, msg, ok := formError(err); ok {
		data, lerr := s.loadContactPage(r, c, id)
		if lerr != nil {
			return lerr
		}
		for _, f := range contactFields {
			if v, ok := r.PostForm[f]; ok {
				setContactField(&data.C, f, v[0])
			}
		}
		data.Edit, data.Errors[field] = true, localize(c.Lang, msg)
		w.WriteHeader(http.StatusUnprocessableEntity)
		return s.show(w, c, "contact", data)
	}
	if err != nil {
		return err
	}
	flash(w, i18n.T(c.Lang, "common.saved"))
	http.Redirect(w, r, fmt.Sprintf("/contacts/%d", id), http.StatusSeeOther)
	return nil
}

// setContactField keeps what the user typed when a form is shown again.
func setContactField(ct *crm.Contact, f, v string) {
	switch f {
	case "family_name":
		ct.FamilyName = v
	case "given_name":
		ct.GivenName = v
	case "family_name_kana":
		ct.FamilyNameKana = v
	case "given_name_kana":
		ct.GivenNameKana = v
	case "email":
		ct.Email = v
	case "phone":
		ct.Phone = v
	case "mobile":
		ct.Mobile = v
	case "title":
		ct.Title = v
	case "department":
		ct.Department = v
	}
}

// activityInput reads the activity logger form.
func activityInput(r *http.Request, c *rctx) crm.ActivityInput {
	kind := r.PostFormValue("kind")
	in := crm.ActivityInput{Kind: &kind}
	if v := strings.TrimSpace(r.PostFormValue("subject")); v != "" {
		in.Subject = &v
	}
	if v := r.PostFormValue("body"); v != "" {
		in.Body = &v
	}
	if v := r.PostFormValue("call_outcome"); v != "" && kind == "call" {
		in.CallOutcome = &v
	}
	if kind == "task" {
		in.DueAt = formTime(r.PostFormValue("due_at"), c.Loc)
	}
	if v := r.PostFormValue("voice_topic"); v != "" {
		campaign := r.PostFormValue("voice_campaign")
		in.VoiceTopic, in.VoiceCampaign = &v, &campaign
	}
	return in
}

func (s *Server) logContactActivity(w http.ResponseWriter, r *http.Request, c *rctx) error {
	id := formInt(r.PathValue("id"))
	in := activityInput(r, c)
	in.ContactID = &id
	_, err := s.CRM.LogActivity(r.Context(), c.Actor, in)
	if _, msg, ok := formError(err); ok {
		data, lerr := s.loadContactPage(r, c, id)
		if lerr != nil {
			return lerr
		}
		data.LogError = localize(c.Lang, msg)
		w.WriteHeader(http.StatusUnprocessableEntity)
		return s.show(w, c, "contact", data)
	}
	if err != nil {
		return err
	}
	flash(w, i18n.T(c.Lang, "activity.logged"))
	http.Redirect(w, r, backOr(r, fmt.Sprintf("/contacts/%d", id)), http.StatusSeeOther)
	return nil
}

// bulkContacts applies one action to the selected contacts.
func (s *Server) bulkContacts(w http.ResponseWriter, r *http.Request, c *rctx) error {
	if err := r.ParseForm(); err != nil {
		return errs.Field("", "bad form")
	}
	ids := r.PostForm["id"]
	if len(ids) > 200 {
		return errs.Field("id", "at most 200 records at once")
	}
	action := r.PostFormValue("action")
	n := 0
	for _, v := range ids {
		id := formInt(v)
		var err error
		switch action {
		case "owner":
			owner := formInt(r.PostFormValue("owner_id"))
			_, err = s.CRM.UpdateContact(r.Context(), c.Actor, id, crm.ContactInput{OwnerID: &owner}, platform.Cause{})
		case "stage":
			st := platform.Stage(r.PostFormValue("stage"))
			_, err = s.CRM.UpdateContact(r.Context(), c.Actor, id, crm.ContactInput{LifecycleStage: &st}, platform.Cause{})
		case "prop":
			var v any
			if v, err = s.propValue(r, c, "contact", r.PostFormValue("prop"), r.PostFormValue("value")); err == nil {
				_, err = s.CRM.UpdateContact(r.Context(), c.Actor, id, crm.ContactInput{Props: map[string]any{r.PostFormValue("prop"): v}}, platform.Cause{})
			}
		case "delete":
			err = s.CRM.DeleteContact(r.Context(), c.Actor, id)
		case "list":
			if s.Segments == nil {
				return notFound()
			}
			_, err = s.Segments.AddToList(r.Context(), c.Actor, formInt(r.PostFormValue("list_id")), []int64{id})
		default:
			return errs.Field("action", "unknown bulk action")
		}
		if err != nil {
			return err
		}
		n++
	}
	msg := i18n.T(c.Lang, "common.saved")
	if action == "delete" {
		msg = i18n.T(c.Lang, "common.deleted")
	}
	flash(w, fmt.Sprintf("%s (%d)", msg, n))
	http.Redirect(w, r, localPath(r.PostFormValue("back")), http.StatusSeeOther)
	return nil
}

func (s *Server) privacy() *privacy.Service {
	return &privacy.Service{DB: s.DB, CRM: s.CRM, Clock: s.Clock}
}

// exportPersonal downloads everything held about a contact as JSON (admins).
func (s *Server) exportPersonal(w http.ResponseWriter, r *http.Request, c *rctx) error {
	id := formInt(r.PathValue("id"))
	ex, err := s.privacy().ExportContact(r.Context(), c.Actor, id)
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="ryorin-contact-%d.json"`, id))
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(ex)
}

// erasePersonal erases a contact after the admin typed their email.
func (s *Server) erasePersonal(w http.ResponseWriter, r *http.Request, c *rctx) error {
	id := formInt(r.PathValue("id"))
	ct, err := s.CRM.GetContact(r.Context(), s.DB.Reader(), c.Actor, id)
	if err != nil {
		return err
	}
	if !strings.EqualFold(strings.TrimSpace(r.PostFormValue("confirm")), ct.Email) {
		flash(w, i18n.T(c.Lang, "privacy.erase_mismatch"))
		http.Redirect(w, r, fmt.Sprintf("/contacts/%d", id), http.StatusSeeOther)
		return nil
	}
	if _, err := s.privacy().EraseContact(r.Context(), c.Actor, id); err != nil {
		return err
	}
	flash(w, i18n.T(c.Lang, "privacy.erased"))
	http.Redirect(w, r, "/contacts", http.StatusSeeOther)
	return nil
}
