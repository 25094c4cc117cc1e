package web

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/ryorin/ryorin/internal/crm"
	"github.com/ryorin/ryorin/internal/errs"
	"github.com/ryorin/ryorin/internal/marketing/email"
	"github.com/ryorin/ryorin/internal/marketing/forms"
	"github.com/ryorin/ryorin/internal/marketing/journeys"
	"github.com/ryorin/ryorin/internal/marketing/segments"
	"github.com/ryorin/ryorin/internal/platform"
)

// journeyRoutes lists the journey pages (marketing and admins).
func (s *Server) journeyRoutes() {
	if s.Journeys == nil || s.Email == nil || s.Segments == nil {
		return
	}
	m := s.mux
	m.HandleFunc("GET /journeys", s.signedIn(s.journeysList))
	m.HandleFunc("GET /journeys/new", s.signedIn(s.newJourney))
	m.HandleFunc("POST /journeys", s.signedIn(s.saveJourney))
	m.HandleFunc("GET /journeys/{id}", s.signedIn(s.journeyPage))
	m.HandleFunc("GET /journeys/{id}/edit", s.signedIn(s.editJourney))
	m.HandleFunc("POST /journeys/{id}", s.signedIn(s.saveJourney))
	m.HandleFunc("POST /journeys/{id}/activate", s.signedIn(s.journeyStatus(true)))
	m.HandleFunc("POST /journeys/{id}/pause", s.signedIn(s.journeyStatus(false)))
	m.HandleFunc("POST /journeys/{id}/enrolments/{enrolment}/remove", s.signedIn(s.removeEnrolment))
}

// JourneysPage is the data of the journey list.
type JourneysPage struct {
	Page
	Items []journeys.Journey
}

func (s *Server) journeysList(w http.ResponseWriter, r *http.Request, c *rctx) error {
	if !canUseEmail(c.Actor) {
		return errs.E(errs.Forbidden, "", "marketing only")
	}
	items, err := s.Journeys.List(r.Context(), c.Actor)
	if err != nil {
		return err
	}
	return s.show(w, c, "journeys", &JourneysPage{Page: s.base(c, c.Lang, "journeys.title", "journeys"), Items: items})
}

// blankSteps is how many empty step rows the editor offers for adding steps
// without JavaScript.
const blankSteps = 3

// JourneyEditPage is the data of the journey editor: a plain form with one
// row per step whose type-specific fields show by the chosen type.
type JourneyEditPage struct {
	Page
	ID           int64
	Name         string
	Description  string
	AllowReentry bool
	Def          journeys.Definition
	Steps        []journeys.Step // the journey's steps and blank rows
	Templates    []email.Campaign
	Lists        []segments.List
	Segments     []segments.Segment
	Forms        []forms.Form
	DateProps    []crm.PropertyDefinition
	TriggerKinds []string
	StepTypes    []string
	Stages       []platform.Stage
	Error        string
	ErrorField   string
}

func (s *Server) journeyEditPage(r *http.Request, c *rctx, id int64, name, desc string, reentry bool, d journeys.Definition) (*JourneyEditPage, error) {
	ctx, ws, q := r.Context(), c.Actor.WorkspaceID, s.DB.Reader()
	title := "journeys.new"
	if id != 0 {
		title = "journeys.edit"
	}
	p := &JourneyEditPage{Page: s.base(c, c.Lang, title, "journeys"), ID: id, Name: name, Description: desc, AllowReentry: reentry, Def: d,
		TriggerKinds: journeys.TriggerKinds, StepTypes: journeys.StepTypes, Stages: platform.Stages}
	p.Steps = append(append([]journeys.Step{}, d.Steps...), make([]journeys.Step, blankSteps)...)
	var err error
	if p.Templates, err = s.Email.Templates(ctx, q, ws); err != nil {
		return nil, err
	}
	if p.Lists, err = s.Segments.Lists(ctx, q, ws); err != nil {
		return nil, err
	}
	if p.Segments, err = s.Segments.Segments(ctx, q, ws); err != nil {
		return nil, err
	}
	if s.Forms != nil {
		if p.Forms, err = s.Forms.List(ctx, c.Actor); err != nil {
			return nil, err
		}
	}
	props, err := s.CRM.Properties(ctx, q, ws, "contact")
	if err != nil {
		return nil, err
	}
	for _, d := range props {
		if d.Type == crm.PropDate {
			p.DateProps = append(p.DateProps, d)
		}
	}
	return p, nil
}

func (s *Server) newJourney(w http.ResponseWriter, r *http.Request, c *rctx) error {
	if !canUseEmail(c.Actor) {
		return errs.E(errs.Forbidden, "", "marketing only")
	}
	d := journeys.Definition{Trigger: journeys.Trigger{Kind: journeys.TriggerForm}}
	p, err := s.journeyEditPage(r, c, 0, "", "", false, d)
	if err != nil {
		return err
	}
	return s.show(w, c, "journey_edit", p)
}

func (s *Server) editJourney(w http.ResponseWriter, r *http.Request, c *rctx) error {
	j, err := s.Journeys.Get(r.Context(), c.Actor, formInt(r.PathValue("id")))
	if err != nil {
		return err
	}
	if !canUseEmail(c.Actor) {
		return errs.E(errs.Forbidden, "", "marketing only")
	}
	p, err := s.journeyEditPage(r, c, j.ID, j.Name, j.Description, j.AllowReentry, j.Definition)
	if err != nil {
		return err
	}
	return s.show(w, c, "journey_edit", p)
}

// journeyFromForm reads the editor's fields: steps.N.<field>, rows without
// a type are left out (so error positions match the re-rendered rows).
func journeyFromForm(f url.Values) journeys.Definition {
	d := journeys.Definition{Goal: f.Get("goal"), Trigger: journeys.Trigger{Kind: f.Get("trigger_kind"), FormID: formInt(f.Get("trigger_form_id")),
		SegmentID: formInt(f.Get("trigger_segment_id")), Stage: f.Get("trigger_stage"), Event: strings.TrimSpace(f.Get("trigger_event")),
		Property: f.Get("trigger_property"), At: strings.TrimSpace(f.Get("trigger_at"))}}
	if n, err := strconv.Atoi(strings.TrimSpace(f.Get("trigger_offset_days"))); err == nil {
		d.Trigger.OffsetDays = n
	}
	for i := 0; i < journeys.MaxSteps+blankSteps; i++ {
		k := func(name string) string { return f.Get("steps." + strconv.Itoa(i) + "." + name) }
		if _, ok := f["steps."+strconv.Itoa(i)+".type"]; !ok {
			break
		}
		st := journeys.Step{ID: strings.TrimSpace(k("id")), Type: k("type"), Next: strings.TrimSpace(k("next"))}
		switch st.Type {
		case "":
			continue
		case journeys.StepEmail:
			st.Email = &journeys.EmailStep{TemplateID: formInt(k("template_id"))}
		case journeys.StepWait:
			st.Wait = &journeys.WaitStep{Duration: strings.TrimSpace(k("duration")), Until: strings.TrimSpace(k("until")), BusinessHours: k("business_hours") != ""}
		case journeys.StepBranch:
			st.Branch = &journeys.BranchStep{Condition: k("condition"), Engagement: k("engagement"), EmailStep: strings.TrimSpace(k("email_step")),
				Yes: strings.TrimSpace(k("yes")), No: strings.TrimSpace(k("no"))}
			if st.Branch.Engagement != "" {
				st.Branch.Condition = ""
			}
		case journeys.StepSetProperty:
			st.Property = &journeys.PropertyStep{Name: strings.TrimSpace(k("property")), Value: k("value")}
		case journeys.StepAddList, journeys.StepRemoveList:
			st.List = &journeys.ListStep{ListID: formInt(k("list_id"))}
		case journeys.StepNotifyOwner:
			st.Notify = &journeys.NotifyStep{Message: k("message")}
		case journeys.StepCreateTask:
			st.Task = &journeys.TaskStep{Subject: k("subject"), DueIn: strings.TrimSpace(k("due_in"))}
		}
		d.Steps = append(d.Steps, st)
	}
	return d
}

func (s *Server) saveJourney(w http.ResponseWriter, r *http.Request, c *rctx) error {
	if err := r.ParseForm(); err != nil {
		return errs.Field("", "bad form")
	}
	f := r.PostForm
	id := formInt(r.PathValue("id"))
	d := journeyFromForm(f)
	raw, _ := json.Marshal(d)
	in := journeys.Input{Name: f.Get("name"), Description: f.Get("description"), AllowReentry: f.Get("allow_reentry") != "", Definition: raw}
	var j journeys.Journey
	var err error
	if id == 0 {
		j, err = s.Journeys.Create(r.Context(), c.Actor, in)
	} else {
		j, err = s.Journeys.Update(r.Context(), c.Actor, id, in)
	}
	if field, msg, ok := formError(err); ok {
		p, perr := s.journeyEditPage(r, c, id, in.Name, in.Description, in.AllowReentry, d)
		if perr != nil {
			return perr
		}
		p.Error, p.ErrorField = localize(c.Lang, msg), field
		if field != "" {
			p.Error = field + ": " + p.Error
		}
		w.WriteHeader(http.StatusUnprocessableEntity)
		return s.show(w, c, "journey_edit", p)
	}
	if err != nil {
		return err
	}
	http.Redirect(w, r, fmt.Sprintf("/journeys/%d", j.ID), http.StatusSeeOther)
	return nil
}

func (s *Server) journeyStatus(activate bool) page {
	return func(w http.ResponseWriter, r *http.Request, c *rctx) error {
		id := formInt(r.PathValue("id"))
		var err error
		if activate {
			ws, werr := platform.GetWorkspace(r.Context(), s.DB.Reader(), c.Actor.WorkspaceID)
			if werr != nil {
				return werr
			}
			_, err = s.Journeys.Activate(r.Context(), c.Actor, id, publicBase(r, ws))
		} else {
			_, err = s.Journeys.Pause(r.Context(), c.Actor, id)
		}
		if _, msg, ok := formError(err); ok {
			http.Redirect(w, r, fmt.Sprintf("/journeys/%d?error=%s", id, url.QueryEscape(localize(c.Lang, msg))), http.StatusSeeOther)
			return nil
		}
		if err != nil {
			return err
		}
		http.Redirect(w, r, fmt.Sprintf("/journeys/%d", id), http.StatusSeeOther)
		return nil
	}
}

// StepError reports whether the editor's error is about step row i.
func (p JourneyEditPage) StepError(i int) bool {
	return strings.HasPrefix(p.ErrorField, fmt.Sprintf("steps[%d]", i))
}

func (s *Server) removeEnrolment(w http.ResponseWriter, r *http.Request, c *rctx) error {
	id := formInt(r.PathValue("id"))
	if err := s.Journeys.Remove(r.Context(), c.Actor, id, formInt(r.PathValue("enrolment"))); err != nil && !errs.Is(err, errs.NotFound) {
		return err
	}
	http.Redirect(w, r, fmt.Sprintf("/journeys/%d", id), http.StatusSeeOther)
	return nil
}

// JourneyPage is the data of a journey's flow view: the trigger, then one
// card per step with how many contacts are at it, passed it and ended at it.
type JourneyPage struct {
	Page
	Journey    journeys.Journey
	Stats      journeys.Stats
	Cards      []JourneyCard
	Enrolments []journeys.Enrolment
	Error      string
	Names      map[string]string // template, list, segment and form names by "kind:id"
}

// JourneyCard is one step in the flow view.
type JourneyCard struct {
	Step  journeys.Step
	Index int
	Stats journeys.StepStats
	// Then says where the contact goes next when it is not simply the
	// following step.
	Then string
	// Campaign is an email step's automated campaign (its report), once the
	// journey was activated.
	Campaign int64
}

func (s *Server) journeyPage(w http.ResponseWriter, r *http.Request, c *rctx) error {
	if !canUseEmail(c.Actor) {
		return errs.E(errs.Forbidden, "", "marketing only")
	}
	ctx := r.Context()
	j, err := s.Journeys.Get(ctx, c.Actor, formInt(r.PathValue("id")))
	if err != nil {
		return err
	}
	p := &JourneyPage{Page: s.base(c, c.Lang, "journeys.title", "journeys"), Journey: j, Error: r.URL.Query().Get("error"), Names: map[string]string{}}
	p.Title = j.Name
	if p.Stats, err = s.Journeys.Stats(ctx, c.Actor, j.ID); err != nil {
		return err
	}
	camps, err := s.Journeys.EmailCampaigns(ctx, c.Actor, j.ID)
	if err != nil {
		return err
	}
	for i, st := range j.Definition.Steps {
		card := JourneyCard{Step: st, Index: i, Then: st.Next, Campaign: camps[st.ID]}
		if i < len(p.Stats.Steps) {
			card.Stats = p.Stats.Steps[i]
		}
		p.Cards = append(p.Cards, card)
	}
	if p.Enrolments, err = s.Journeys.Enrolments(ctx, c.Actor, j.ID, journeys.EnrolmentQuery{Limit: 20}); err != nil {
		return err
	}
	q, ws := s.DB.Reader(), c.Actor.WorkspaceID
	if ts, err := s.Email.Templates(ctx, q, ws); err == nil {
		for _, t := range ts {
			p.Names[fmt.Sprintf("template:%d", t.ID)] = t.Name
		}
	}
	if ls, err := s.Segments.Lists(ctx, q, ws); err == nil {
		for _, l := range ls {
			p.Names[fmt.Sprintf("list:%d", l.ID)] = l.Name
		}
	}
	if sg, err := s.Segments.Segments(ctx, q, ws); err == nil {
		for _, x := range sg {
			p.Names[fmt.Sprintf("segment:%d", x.ID)] = x.Name
		}
	}
	if s.Forms != nil {
		if fs, err := s.Forms.List(ctx, c.Actor); err == nil {
			for _, x := range fs {
				p.Names[fmt.Sprintf("form:%d", x.ID)] = x.Name
			}
		}
	}
	return s.show(w, c, "journey", p)
}

// Name returns the name of a referenced template, list or segment, or its id.
func (p JourneyPage) Name(kind string, id int64) string {
	if n, ok := p.Names[fmt.Sprintf("%s:%d", kind, id)]; ok {
		return n
	}
	return "#" + strconv.FormatInt(id, 10)
}

// MayJourneys says whether the signed-in user sees journeys.
func (p Page) MayJourneys() bool { return p.MayEmail() }
