package web

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/ryorin/ryorin/internal/errs"
	"github.com/ryorin/ryorin/internal/i18n"
	"github.com/ryorin/ryorin/internal/lead"
)

// DefinitionsPage lists the lead definition versions.
type DefinitionsPage struct {
	Page
	Items []lead.Definition
}

// DefinitionPage is one version: its rules, what it changes, who approved
// it, and for a draft its backtest against the active version.
type DefinitionPage struct {
	Page
	D        lead.Definition
	Prev     *lead.Definition
	Changes  []lead.Change
	Backtest *lead.Backtest
	Progress *lead.RescoreProgress
	Reasons  map[string]string
	// Unknown lists custom properties the rules read that are not defined.
	Unknown []string
}

// Approved reports whether a side has signed this version.
func (p *DefinitionPage) Approved(side string) *lead.Approval {
	for i := range p.D.Approvals {
		if p.D.Approvals[i].Side == side {
			return &p.D.Approvals[i]
		}
	}
	return nil
}

// Bars draws the weekly counts of both sides as an inline SVG bar chart
// (server-rendered; no chart library).
func (p *DefinitionPage) Bars() []WeekBar {
	bt := p.Backtest
	if bt == nil {
		return nil
	}
	peak := 1
	for i := range bt.Weeks {
		peak = max(peak, bt.Candidate.PerWeek[i], bt.Active.PerWeek[i])
	}
	out := make([]WeekBar, len(bt.Weeks))
	for i, w := range bt.Weeks {
		out[i] = WeekBar{X: i * 22, Label: w.In(p.Loc).Format("1/2"), Candidate: bt.Candidate.PerWeek[i], Active: bt.Active.PerWeek[i],
			HC: 100 * bt.Candidate.PerWeek[i] / peak, HA: 100 * bt.Active.PerWeek[i] / peak}
	}
	return out
}

// ChartWidth is the width of the weekly chart in SVG units.
func (p *DefinitionPage) ChartWidth() int {
	if p.Backtest == nil {
		return 0
	}
	return 22 * len(p.Backtest.Weeks)
}

// WeekBar is one week of the backtest chart.
type WeekBar struct {
	X                 int
	Label             string
	Candidate, Active int
	HC, HA            int // heights, 0–100
}

// ReasonLabel names a reject reason in the page's language.
func (p *DefinitionPage) ReasonLabel(key string) string {
	if l, ok := p.Reasons[key]; ok {
		return l
	}
	return key
}

// Rate formats part/whole as a percentage.
func (p Page) Rate(part, whole int) string {
	if whole == 0 {
		return "—"
	}
	return fmt.Sprintf("%.0f%%", 100*float64(part)/float64(whole))
}

// Yen formats minor units of the base currency.
func (p Page) Yen(minor int64) string { return i18n.Money(float64(minor), "JPY") }

func (s *Server) definitions(w http.ResponseWriter, r *http.Request, c *rctx) error {
	if s.Lead == nil {
		return notFound()
	}
	items, err := s.Lead.List(r.Context(), c.Actor.WorkspaceID)
	if err != nil {
		return err
	}
	data := &DefinitionsPage{Page: s.base(c, c.Lang, "def.title", "leads"), Items: items}
	data.Tab = "definitions"
	return s.show(w, c, "definitions", data)
}

func (s *Server) definitionPage(w http.ResponseWriter, r *http.Request, c *rctx) error {
	if s.Lead == nil {
		return notFound()
	}
	ctx := r.Context()
	id := formInt(r.PathValue("id"))
	d, err := s.Lead.Get(ctx, s.DB.Reader(), c.Actor.WorkspaceID, id)
	if err != nil {
		return err
	}
	data := &DefinitionPage{Page: s.base(c, c.Lang, "def.title", "leads"), D: d, Reasons: map[string]string{}}
	data.Title, data.Tab = i18n.T(c.Lang, "def.version", "v", d.Version), "definitions"
	prev, ok, err := s.Lead.Previous(ctx, s.DB.Reader(), c.Actor.WorkspaceID, d)
	if err != nil {
		return err
	}
	if ok {
		data.Prev = &prev
		data.Changes = lead.Changes(prev.Body, d.Body)
	}
	if data.Unknown, err = s.unknownProps(r, c, d.Body); err != nil {
		return err
	}
	if d.Status == "draft" {
		bt, err := s.Lead.RunBacktest(ctx, c.Actor.WorkspaceID, d.ID)
		if err != nil {
			return err
		}
		data.Backtest = &bt
		rs, err := s.Lead.Reasons(ctx, c.Actor.WorkspaceID)
		if err != nil {
			return err
		}
		for _, x := range rs {
			data.Reasons[x.Key] = x.Label(string(c.Lang))
		}
	}
	if d.Status == "active" {
		pr, err := s.Lead.Progress(ctx, s.DB.Reader(), c.Actor.WorkspaceID, d.Version)
		if err != nil {
			return err
		}
		if pr.Total > 0 {
			data.Progress = &pr
		}
	}
	return s.show(w, c, "definition", data)
}

func (s *Server) approveDefinition(w http.ResponseWriter, r *http.Request, c *rctx) error {
	if s.Lead == nil {
		return notFound()
	}
	id := formInt(r.PathValue("id"))
	back := fmt.Sprintf("/leads/definitions/%d", id)
	_, err := s.Lead.Approve(r.Context(), c.Actor, id, r.PostFormValue("note"))
	if _, msg, ok := formError(err); ok {
		flash(w, localize(c.Lang, msg))
		http.Redirect(w, r, back, http.StatusSeeOther)
		return nil
	}
	if errs.Is(err, errs.Forbidden) || errs.Is(err, errs.Conflict) {
		flash(w, localize(c.Lang, err.Error()))
		http.Redirect(w, r, back, http.StatusSeeOther)
		return nil
	}
	if err != nil {
		return err
	}
	return s.saved(w, r, c, "def.approved", back)
}

// DefinitionForm is the draft editor: every rule as a row of fields, with
// blank rows to add more, and errors next to the field they concern.
type DefinitionForm struct {
	Page
	Body   lead.Body
	Note   string
	From   int
	Errors map[string]string
}

// Upper upper-cases a grade key.
func (p *DefinitionForm) Upper(s string) string { return strings.ToUpper(s) }

// Blank returns n empty rows for adding rules.
func (p *DefinitionForm) Blank() []int { return []int{0, 1, 2} }

// Err returns the error of a field, e.g. "fit_rules[2].when".
func (p *DefinitionForm) Err(field string) string { return p.Errors[field] }

// Idx names an indexed field.
func (p *DefinitionForm) Idx(list string, i int, field string) string {
	return fmt.Sprintf("%s[%d].%s", list, i, field)
}

func (s *Server) newDefinition(w http.ResponseWriter, r *http.Request, c *rctx) error {
	if s.Lead == nil {
		return notFound()
	}
	ctx := r.Context()
	data := &DefinitionForm{Page: s.base(c, c.Lang, "def.new", "leads")}
	data.Tab = "definitions"
	from := formInt(r.URL.Query().Get("from"))
	if from == 0 {
		items, err := s.Lead.List(ctx, c.Actor.WorkspaceID)
		if err != nil {
			return err
		}
		for _, d := range items {
			if d.Status == "active" {
				from = d.ID
			}
		}
	}
	if from != 0 {
		d, err := s.Lead.Get(ctx, s.DB.Reader(), c.Actor.WorkspaceID, from)
		if err != nil {
			return err
		}
		data.Body, data.From = d.Body, d.Version
	} else {
		data.Body = lead.DefaultBody()
	}
	return s.show(w, c, "definition_new", data)
}

func (s *Server) createDefinition(w http.ResponseWriter, r *http.Request, c *rctx) error {
	if s.Lead == nil {
		return notFound()
	}
	if err := r.ParseForm(); err != nil {
		return err
	}
	f := r.PostForm
	atoi := func(v string) int { n, _ := strconv.Atoi(strings.TrimSpace(v)); return n }
	var b lead.Body
	names, whens, points := f["fit_name"], f["fit_when"], f["fit_points"]
	for i := range names {
		if i >= len(whens) || i >= len(points) {
			break
		}
		if strings.TrimSpace(names[i]) == "" && strings.TrimSpace(whens[i]) == "" {
			continue // an unused blank row
		}
		b.FitRules = append(b.FitRules, lead.PointsRule{Name: strings.TrimSpace(names[i]), When: whens[i], Points: atoi(points[i])})
	}
	en, ee, ep, epts, ecap := f["eng_name"], f["eng_event"], f["eng_path"], f["eng_points"], f["eng_cap"]
	for i := range en {
		if i >= len(ee) || i >= len(ep) || i >= len(epts) || i >= len(ecap) {
			break
		}
		if strings.TrimSpace(en[i]) == "" && strings.TrimSpace(ee[i]) == "" {
			continue
		}
		b.EngagementRules = append(b.EngagementRules, lead.EngagementRule{Name: strings.TrimSpace(en[i]), Event: strings.TrimSpace(ee[i]),
			Path: strings.TrimSpace(ep[i]), Points: atoi(epts[i]), DailyCap: atoi(ecap[i])})
	}
	b.FitGrades = map[string]int{"A": atoi(f.Get("grade_a")), "B": atoi(f.Get("grade_b")), "C": atoi(f.Get("grade_c"))}
	b.HalfLifeDays = atoi(f.Get("half_life_days"))
	b.MQL, b.Disqualify = f.Get("mql"), f.Get("disqualify")
	d, err := s.Lead.CreateDraft(r.Context(), c.Actor, b, f.Get("note"))
	if field, msg, ok := formError(err); ok {
		data := &DefinitionForm{Page: s.base(c, c.Lang, "def.new", "leads"), Body: b, Note: f.Get("note"), From: atoi(f.Get("from")),
			Errors: map[string]string{field: localize(c.Lang, msg)}}
		data.Tab = "definitions"
		w.WriteHeader(http.StatusUnprocessableEntity)
		return s.show(w, c, "definition_new", data)
	}
	if err != nil {
		return err
	}
	return s.saved(w, r, c, "def.created", fmt.Sprintf("/leads/definitions/%d", d.ID))
}

// unknownProps lists the custom contact properties a definition reads that
// the workspace has not defined (a typo, or a property deleted since).
func (s *Server) unknownProps(r *http.Request, c *rctx, b lead.Body) ([]string, error) {
	used := b.Properties()
	if len(used) == 0 {
		return nil, nil
	}
	defs, err := s.CRM.Properties(r.Context(), s.DB.Reader(), c.Actor.WorkspaceID, "contact")
	if err != nil {
		return nil, err
	}
	known := map[string]bool{}
	for _, d := range defs {
		known[d.Key] = true
	}
	var out []string
	for _, p := range used {
		if !known[p] {
			out = append(out, p)
		}
	}
	return out, nil
}
