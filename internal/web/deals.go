package web

import (
	"context"
	"fmt"
	"github.com/ryorin/ryorin/internal/i18n"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/ryorin/ryorin/internal/crm"
	"github.com/ryorin/ryorin/internal/errs"
	"github.com/ryorin/ryorin/internal/platform"
	"github.com/ryorin/ryorin/internal/sales"
)

// BoardColumn is one stage of the deal board.
type BoardColumn struct {
	Stage    crm.PipelineStage
	Deals    []crm.Deal
	Count    int
	Total    float64
	Weighted float64
	More     int // deals in the stage not shown as cards
}

// BoardPage is the data of the deal board.
type BoardPage struct {
	Page
	Pipelines []crm.Pipeline
	P         crm.Pipeline
	Columns   []BoardColumn
	Owner     int64
	Team      int64
	Teams     []platform.Team
	Companies map[int64]string
	Currency  string
	Total     float64
	Weighted  float64
	Guides    map[int64]crm.StageGuide
}

// Rot reports whether a card's deal is rotting, and days since its last
// activity (or stage change).
func (p *BoardPage) Rot(d crm.Deal) (int, bool) {
	rot, days := crm.Rotting(d, p.Guides[d.StageID], p.Now)
	return days, rot
}

// IsRotting is Rot for templates' if.
func (p *BoardPage) IsRotting(d crm.Deal) bool { _, rot := p.Rot(d); return rot }

// IdleDays is how long the deal has been without activity.
func (p *BoardPage) IdleDays(d crm.Deal) int { days, _ := p.Rot(d); return days }

// boardCards is how many cards a column shows; totals count every deal.
const boardCards = 50

func (s *Server) board(w http.ResponseWriter, r *http.Request, c *rctx) error {
	ctx, q := r.Context(), s.DB.Reader()
	data := &BoardPage{Page: s.base(c, c.Lang, "nav.board", "board"), Owner: formInt(r.URL.Query().Get("owner")),
		Team: formInt(r.URL.Query().Get("team")), Currency: c.WS.BaseCurrency}
	var err error
	if data.Pipelines, err = s.CRM.Pipelines(ctx, q, c.Actor.WorkspaceID); err != nil {
		return err
	}
	if len(data.Pipelines) == 0 {
		return notFound()
	}
	data.P = data.Pipelines[0]
	for _, p := range data.Pipelines {
		if id := formInt(r.URL.Query().Get("pipeline")); id == p.ID || (id == 0 && p.IsDefault) {
			data.P = p
		}
	}
	if data.Teams, err = platform.ListTeams(ctx, q, c.Actor.WorkspaceID); err != nil {
		return err
	}
	// Closed deals stay on the board for 30 days, like a sales team's view of the month.
	f := crm.DealFilter{PipelineID: data.P.ID, OwnerID: data.Owner, TeamID: data.Team, ClosedFrom: c.Now.AddDate(0, 0, -30)}
	totals, err := s.CRM.BoardTotals(ctx, c.Actor, f)
	if err != nil {
		return err
	}
	ws := c.WS
	date := c.Now.In(ws.Location()).Format(time.DateOnly)
	var companyIDs []int64
	for _, st := range data.P.Stages {
		col := BoardColumn{Stage: st}
		for _, t := range totals {
			if t.StageID != st.ID {
				continue
			}
			col.Count += t.Count
			col.Total += s.toBase(ctx, ws, t.Amount, t.Currency, date)
		}
		col.Weighted = col.Total * float64(st.Probability) / 100
		sf := f
		sf.StageID, sf.Sort, sf.Limit = st.ID, "-amount", boardCards
		if st.Kind != "open" {
			// Won and lost columns: the most recently closed first.
			sf.Status, sf.Sort = st.Kind, "-closed_at"
		}
		page, err := s.CRM.ListDeals(ctx, c.Actor, sf)
		if err != nil {
			return err
		}
		col.Deals, col.More = page.Items, col.Count-len(page.Items)
		for _, d := range page.Items {
			companyIDs = append(companyIDs, d.CompanyID)
		}
		if st.Kind == "open" {
			data.Total += col.Total
			data.Weighted += col.Weighted
		}
		data.Columns = append(data.Columns, col)
	}
	if data.Companies, err = s.CRM.CompanyNames(ctx, q, c.Actor.WorkspaceID, companyIDs); err != nil {
		return err
	}
	if data.Guides, err = s.CRM.StageGuides(ctx, q, c.Actor.WorkspaceID); err != nil {
		return err
	}
	return s.show(w, c, "board", data)
}

// toBase converts an amount to the workspace's base currency for totals; an
// amount without a known rate is left out rather than mixed in unconverted.
func (s *Server) toBase(ctx context.Context, ws platform.Workspace, amount float64, currency, date string) float64 {
	if currency == ws.BaseCurrency {
		return amount
	}
	m, err := platform.ToBase(ctx, s.DB.Reader(), ws, platform.ToMinor(amount, currency), currency, date)
	if err != nil {
		return 0
	}
	return platform.FromMinor(m, ws.BaseCurrency)
}

// moveDeal moves a deal to another stage (from the board or the deal page).
// Moving to a lost stage without a reason shows the deal page asking for one.
func (s *Server) moveDeal(w http.ResponseWriter, r *http.Request, c *rctx) error {
	id := formInt(r.PathValue("id"))
	stage := formInt(r.PostFormValue("stage_id"))
	in := crm.DealInput{StageID: &stage}
	if v := strings.TrimSpace(r.PostFormValue("lost_reason")); v != "" {
		in.LostReason = &v
	}
	_, err := s.CRM.UpdateDeal(r.Context(), c.Actor, id, in)
	if e, ok := errs.As(err); ok && e.Field == "lost_reason" {
		http.Redirect(w, r, fmt.Sprintf("/deals/%d?lose=%d", id, stage), http.StatusSeeOther)
		return nil
	}
	back := localPath(r.PostFormValue("back"))
	if back == "/" {
		back = fmt.Sprintf("/deals/%d", id)
	}
	if _, msg, ok := formError(err); ok {
		// Refused (e.g. the stage's exit criteria): say why where the rep was.
		flash(w, localize(c.Lang, msg))
		http.Redirect(w, r, back, http.StatusSeeOther)
		return nil
	}
	if err != nil {
		return err
	}
	flash(w, i18n.T(c.Lang, "common.saved"))
	http.Redirect(w, r, back, http.StatusSeeOther)
	return nil
}

// DealsPage is the data of the deals list.
type DealsPage struct {
	Page
	Items      []crm.Deal
	Companies  map[int64]string
	StageNames map[int64]string
	Pipelines  []crm.Pipeline
	Pipeline   int64
	Status     string
	Owner      int64
	Q          string
	URL        string
	Next       string
	Paged      bool
	Views      ViewsBar
	PropFilter PropFilter
	Cols       []string
	AllCols    []string
}

// dealColumns are the columns a user may show on the deals list.
var dealColumns = []string{"company", "stage", "amount", "close_date", "owner", "type", "recurring", "created", "last_activity"}

var defaultDealColumns = []string{"company", "stage", "amount", "close_date", "owner"}

// Picker is the data of the columns dropdown.
func (p DealsPage) Picker() ColPicker { return colPicker(p.Page, p.AllCols, p.Cols, p.ColLabel) }

// ColLabel is the heading of a deals list column.
func (p DealsPage) ColLabel(c string) string {
	return p.T(map[string]string{"company": "contact.company", "stage": "deal.stage", "amount": "deal.amount", "close_date": "deal.close_date",
		"owner": "common.owner", "type": "deal.type", "recurring": "deal.recurring", "created": "common.created_at",
		"last_activity": "common.last_activity"}[c])
}

func (s *Server) deals(w http.ResponseWriter, r *http.Request, c *rctx) error {
	ctx, q := r.Context(), r.URL.Query()
	data := &DealsPage{Page: s.base(c, c.Lang, "nav.deals", "deals"), Pipeline: formInt(q.Get("pipeline")), Status: q.Get("status"),
		Owner: formInt(q.Get("owner")), Q: q.Get("q"), URL: r.URL.RequestURI(), StageNames: map[int64]string{}, Paged: q.Get("cursor") != "",
		Cols: q["col"], AllCols: dealColumns}
	if len(data.Cols) == 0 {
		data.Cols = defaultDealColumns
	}
	var err error
	if data.Pipelines, err = s.CRM.Pipelines(ctx, s.DB.Reader(), c.Actor.WorkspaceID); err != nil {
		return err
	}
	if err := s.stageNames(r, c, data.StageNames); err != nil {
		return err
	}
	data.Views = s.viewsBar(r, c, data.Page, "deal", "/deals")
	pf, props, err := s.propFilter(r, c, data.Page, "deal")
	if err != nil {
		return err
	}
	data.PropFilter = pf
	page, err := s.CRM.ListDeals(ctx, c.Actor, crm.DealFilter{PipelineID: data.Pipeline, Status: data.Status, OwnerID: data.Owner, Q: data.Q,
		Props: props, Cursor: q.Get("cursor"), Limit: 50})
	if err != nil {
		return err
	}
	data.Items = page.Items
	if page.NextCursor != "" {
		data.Next = funcs["with2"].(func(string, ...string) string)(data.URL, "cursor", page.NextCursor)
	}
	ids := make([]int64, 0, len(page.Items))
	for _, d := range page.Items {
		ids = append(ids, d.CompanyID)
	}
	if data.Companies, err = s.CRM.CompanyNames(ctx, s.DB.Reader(), c.Actor.WorkspaceID, ids); err != nil {
		return err
	}
	return s.show(w, c, "deals", data)
}

// DealPage is the data of a deal's record page.
type DealPage struct {
	Page
	D        crm.Deal
	P        crm.Pipeline
	Stage    crm.PipelineStage
	Company  *crm.Company
	Contacts map[int64]crm.Contact
	Timeline TimelineView
	Lose     int64 // asking for the lost reason to move to this stage
	Kinds    []string
	Outcomes []string
	InStage  string
	Edit     bool
	Errors   map[string]string
	Guide    crm.StageGuide
	Missing  map[string]bool // exit criteria of the current stage not met yet
	Q        *DealQuotes     // line items and quotes (nil without the sales service)
	Renewal  sales.RenewalLink
	Mail     *MailBox // the send-email form (nil without sales email)
}

// Log is the data the activity logger partial needs.
func (p *DealPage) Log() map[string]any {
	return map[string]any{"Page": p.Page, "Action": fmt.Sprintf("/deals/%d/activities", p.D.ID), "Kinds": p.Kinds, "Outcomes": p.Outcomes, "Topics": crm.VoiceTopics}
}

func (s *Server) dealPage(w http.ResponseWriter, r *http.Request, c *rctx) error {
	data, err := s.loadDealPage(r, c, formInt(r.PathValue("id")))
	if err != nil {
		return err
	}
	data.Edit = r.URL.Query().Get("edit") == "1"
	return s.show(w, c, "deal", data)
}

func (s *Server) loadDealPage(r *http.Request, c *rctx, id int64) (*DealPage, error) {
	ctx, q := r.Context(), s.DB.Reader()
	d, err := s.CRM.GetDeal(ctx, q, c.Actor, id)
	if err != nil {
		return nil, err
	}
	data := &DealPage{Page: s.base(c, c.Lang, "deal.singular", "deals"), D: d, Lose: formInt(r.URL.Query().Get("lose")),
		Kinds: crm.ActivityKinds, Outcomes: crm.CallOutcomes, Errors: map[string]string{}}
	data.Title = d.Name
	if data.P, err = s.CRM.GetPipeline(ctx, q, c.Actor.WorkspaceID, d.PipelineID); err != nil {
		return nil, err
	}
	for _, st := range data.P.Stages {
		if st.ID == d.StageID {
			data.Stage = st
		}
	}
	days := int(c.Now.Sub(d.StageChangedAt).Hours() / 24)
	data.InStage = data.T("time.days_ago", "count", days)
	guides, err := s.CRM.StageGuides(ctx, q, c.Actor.WorkspaceID)
	if err != nil {
		return nil, err
	}
	data.Guide, data.Missing = guides[d.StageID], map[string]bool{}
	missing, err := s.CRM.UnmetCriteria(ctx, q, c.Actor.WorkspaceID, d)
	if err != nil {
		return nil, err
	}
	for _, m := range missing {
		data.Missing[m] = true
	}
	if d.CompanyID != 0 {
		if co, err := s.CRM.GetCompany(ctx, q, platform.System(c.Actor.WorkspaceID), d.CompanyID); err == nil {
			data.Company = &co
		}
	}
	var ids []int64
	for _, dc := range d.Contacts {
		ids = append(ids, dc.ContactID)
	}
	if data.Contacts, err = s.CRM.ContactsByIDs(ctx, q, c.Actor.WorkspaceID, ids); err != nil {
		return nil, err
	}
	if s.Sales != nil {
		if data.Q, err = s.loadDealQuotes(r, c, d); err != nil {
			return nil, err
		}
		if data.Renewal, err = s.Sales.RenewalLinkOf(ctx, q, c.Actor.WorkspaceID, d.ID); err != nil {
			return nil, err
		}
		if data.Renewal.RenewedBy == 0 {
			ws, err := platform.GetWorkspace(ctx, q, c.Actor.WorkspaceID)
			if err != nil {
				return nil, err
			}
			if at, ok := sales.RenewalDate(d, ws.Location()); ok {
				data.Renewal.RenewalDate = at.Format(time.DateOnly)
			}
		}
	}
	var withMail []crm.Contact
	for _, dc := range d.Contacts {
		if ct, ok := data.Contacts[dc.ContactID]; ok && ct.Email != "" {
			withMail = append(withMail, ct)
		}
	}
	if data.Q != nil && data.Q.Send != nil {
		data.Q.Send.Recipients = withMail
	}
	if len(withMail) > 0 {
		if data.Mail, err = s.mailBox(ctx, data.Page, c.Actor, withMail[0].ID, withMail, fmt.Sprintf("/deals/%d/emails", id)); err != nil {
			return nil, err
		}
	}
	data.Timeline, err = s.timelineView(ctx, data.Page, c.Actor.WorkspaceID, "deal", id, "", r.URL.Query().Get("cursor"), fmt.Sprintf("/deals/%d?", id))
	return data, err
}

func (s *Server) logDealActivity(w http.ResponseWriter, r *http.Request, c *rctx) error {
	id := formInt(r.PathValue("id"))
	in := activityInput(r, c)
	in.DealID = &id
	d, err := s.CRM.GetDeal(r.Context(), s.DB.Reader(), c.Actor, id)
	if err != nil {
		return err
	}
	if len(d.Contacts) > 0 {
		in.ContactID = &d.Contacts[0].ContactID
	}
	if _, err := s.CRM.LogActivity(r.Context(), c.Actor, in); err != nil {
		return err
	}
	flash(w, i18n.T(c.Lang, "activity.logged"))
	http.Redirect(w, r, backOr(r, fmt.Sprintf("/deals/%d", id)), http.StatusSeeOther)
	return nil
}

// updateDeal saves the deal's fields from its edit form. A validation error
// goes back to the form with the message next to the field.
func (s *Server) updateDeal(w http.ResponseWriter, r *http.Request, c *rctx) error {
	id := formInt(r.PathValue("id"))
	if err := r.ParseForm(); err != nil {
		return errs.Field("", "bad form")
	}
	var in crm.DealInput
	str := func(k string) *string {
		if v, ok := r.PostForm[k]; ok {
			t := strings.TrimSpace(v[0])
			return &t
		}
		return nil
	}
	in.Name, in.Type, in.CloseDate, in.Currency = str("name"), str("type"), str("close_date"), str("currency")
	in.ForecastCategory = str("forecast_category")
	for _, f := range []struct {
		key string
		dst **float64
	}{{"amount", &in.Amount}, {"recurring_amount", &in.RecurringAmount}} {
		if v := strings.TrimSpace(strings.ReplaceAll(r.PostFormValue(f.key), ",", "")); v != "" {
			n, err := strconv.ParseFloat(v, 64)
			if err != nil {
				return s.dealFormError(w, r, c, id, f.key, localize(c.Lang, "must be a number"))
			}
			*f.dst = &n
		}
	}
	if v := str("recurring_interval"); v != nil {
		in.RecurringInterval = v
	}
	if v, ok := r.PostForm["owner_id"]; ok {
		o := formInt(v[0])
		in.OwnerID = &o
	}
	if v := strings.TrimSpace(r.PostFormValue("version")); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err == nil {
			in.IfVersion = &n
		}
	}
	_, err := s.CRM.UpdateDeal(r.Context(), c.Actor, id, in)
	if e, ok := errs.As(err); ok && e.Kind == errs.Conflict && e.Field == "version" {
		// Someone saved the deal since this form was opened: show the
		// latest values and say so; nothing of this submission is saved.
		return s.dealFormError(w, r, c, id, "version", i18n.T(c.Lang, "deal.conflict"))
	}
	if field, msg, ok := formError(err); ok {
		return s.dealFormError(w, r, c, id, field, localize(c.Lang, msg))
	}
	if err != nil {
		return err
	}
	flash(w, i18n.T(c.Lang, "common.saved"))
	http.Redirect(w, r, fmt.Sprintf("/deals/%d", id), http.StatusSeeOther)
	return nil
}

// dealFormError shows the edit form again with the message next to the
// field, as the contact and company forms do.
func (s *Server) dealFormError(w http.ResponseWriter, r *http.Request, c *rctx, id int64, field, msg string) error {
	data, err := s.loadDealPage(r, c, id)
	if err != nil {
		return err
	}
	data.Edit, data.Errors[field] = true, msg
	if field == "version" {
		w.WriteHeader(http.StatusConflict)
	} else {
		w.WriteHeader(http.StatusUnprocessableEntity)
	}
	return s.show(w, c, "deal", data)
}
