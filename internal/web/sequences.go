package web

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/ryorin/ryorin/internal/errs"
	"github.com/ryorin/ryorin/internal/i18n"
	"github.com/ryorin/ryorin/internal/platform"
	"github.com/ryorin/ryorin/internal/sales/sequences"
	"github.com/ryorin/ryorin/internal/salesmail"
)

// sequenceRoutes lists the sales sequence pages and the contact page's
// enrol and end posts.
func (s *Server) sequenceRoutes() {
	if s.Sequences == nil {
		return
	}
	m := s.mux
	m.HandleFunc("GET /sequences", s.signedIn(s.sequencesList))
	m.HandleFunc("GET /sequences/new", s.signedIn(s.newSequence))
	m.HandleFunc("POST /sequences", s.signedIn(s.saveSequence))
	m.HandleFunc("GET /sequences/{id}", s.signedIn(s.sequencePage))
	m.HandleFunc("POST /sequences/{id}", s.signedIn(s.saveSequence))
	m.HandleFunc("POST /sequences/{id}/enrolments/{enrolment}/end", s.signedIn(s.endEnrolment))
	m.HandleFunc("POST /contacts/{id}/sequences", s.signedIn(s.enrolContact))
	m.HandleFunc("POST /contacts/{id}/sequences/{enrolment}/end", s.signedIn(s.endEnrolment))
}

// SequencesPage is the data of the sequence list.
type SequencesPage struct {
	Page
	Items []sequences.Sequence
}

func (s *Server) sequencesList(w http.ResponseWriter, r *http.Request, c *rctx) error {
	items, err := s.Sequences.List(r.Context(), c.Actor)
	if err != nil {
		return err
	}
	return s.show(w, c, "sequences", &SequencesPage{Page: s.base(c, c.Lang, "seq.title", "sequences"), Items: items})
}

// blankSeqSteps is how many empty step rows the editor offers for adding
// steps without JavaScript; a row whose action is empty is left out (removed).
const blankSeqSteps = 2

// SequencePage is the data of a sequence's page: its step editor (also the
// new-sequence page) and, once saved, its enrolments.
type SequencePage struct {
	Page
	ID         int64
	In         sequences.Input
	Stats      sequences.Stats
	CanEdit    bool
	Rows       []sequences.Step // the steps and blank rows
	Actions    []string
	Templates  []salesmail.Template
	Enrolments []sequences.Enrolment
	Error      string
	ErrorField string
}

// StepError reports whether the editor's error is about step row i.
func (p SequencePage) StepError(i int) bool {
	return strings.HasPrefix(p.ErrorField, fmt.Sprintf("steps[%d]", i))
}

func (s *Server) sequenceEditPage(ctx context.Context, c *rctx, id int64, in sequences.Input) (*SequencePage, error) {
	title := "seq.new"
	if id != 0 {
		title = "seq.title"
	}
	p := &SequencePage{Page: s.base(c, c.Lang, title, "sequences"), ID: id, In: in, Actions: sequences.Actions, CanEdit: true}
	if id != 0 {
		p.Title = in.Name
	}
	p.Rows = append(append([]sequences.Step{}, in.Steps...), make([]sequences.Step, blankSeqSteps)...)
	var err error
	if s.SalesMail != nil {
		if p.Templates, err = s.SalesMail.Templates(ctx, c.Actor.WorkspaceID); err != nil {
			return nil, err
		}
	}
	return p, nil
}

func (s *Server) newSequence(w http.ResponseWriter, r *http.Request, c *rctx) error {
	p, err := s.sequenceEditPage(r.Context(), c, 0, sequences.Input{Shared: true, Steps: []sequences.Step{{Action: sequences.ActionEmail}}})
	if err != nil {
		return err
	}
	return s.show(w, c, "sequence", p)
}

func (s *Server) sequencePage(w http.ResponseWriter, r *http.Request, c *rctx) error {
	ctx := r.Context()
	sq, err := s.Sequences.Get(ctx, c.Actor, formInt(r.PathValue("id")))
	if err != nil {
		return err
	}
	p, err := s.sequenceEditPage(ctx, c, sq.ID, sequences.Input{Name: sq.Name, Shared: sq.Shared, Steps: sq.Steps})
	if err != nil {
		return err
	}
	p.Stats = sq.Stats
	p.CanEdit = sq.OwnerID == c.Actor.UserID || c.Actor.Is(platform.RoleAdmin, platform.RoleManager)
	if p.Enrolments, err = s.Sequences.Enrolments(ctx, c.Actor, sequences.EnrolmentFilter{SequenceID: sq.ID, Limit: 200}); err != nil {
		return err
	}
	return s.show(w, c, "sequence", p)
}

// sequenceFromForm reads the editor: steps.N.<field>; rows without an
// action are left out, so error positions count the kept rows.
func sequenceFromForm(f url.Values) sequences.Input {
	in := sequences.Input{Name: f.Get("name"), Shared: f.Get("shared") != ""}
	for i := 0; i < sequences.MaxSteps+blankSeqSteps; i++ {
		k := func(name string) string { return f.Get("steps." + strconv.Itoa(i) + "." + name) }
		if _, ok := f["steps."+strconv.Itoa(i)+".action"]; !ok {
			break
		}
		if k("action") == "" || k("remove") != "" {
			continue
		}
		delay, err := strconv.Atoi(strings.TrimSpace(k("delay_days")))
		if err != nil && strings.TrimSpace(k("delay_days")) != "" {
			delay = -1 // reported as steps[i].delay_days
		}
		in.Steps = append(in.Steps, sequences.Step{DelayDays: delay, Action: k("action"), Subject: k("subject"),
			Body: strings.ReplaceAll(k("body"), "\r\n", "\n"), TemplateID: formInt(k("template_id")), Note: k("note")})
	}
	return in
}

func (s *Server) saveSequence(w http.ResponseWriter, r *http.Request, c *rctx) error {
	if err := r.ParseForm(); err != nil {
		return errs.Field("", "bad form")
	}
	id := formInt(r.PathValue("id"))
	in := sequenceFromForm(r.PostForm)
	sq, err := s.Sequences.Save(r.Context(), c.Actor, id, in)
	if field, msg, ok := formError(err); ok {
		p, perr := s.sequenceEditPage(r.Context(), c, id, in)
		if perr != nil {
			return perr
		}
		p.Error, p.ErrorField = localize(c.Lang, msg), field
		if field != "" {
			p.Error = field + ": " + p.Error
		}
		w.WriteHeader(http.StatusUnprocessableEntity)
		return s.show(w, c, "sequence", p)
	}
	if err != nil {
		return err
	}
	flash(w, i18n.T(c.Lang, "seq.saved"))
	http.Redirect(w, r, fmt.Sprintf("/sequences/%d", sq.ID), http.StatusSeeOther)
	return nil
}

func (s *Server) enrolContact(w http.ResponseWriter, r *http.Request, c *rctx) error {
	id := formInt(r.PathValue("id"))
	_, err := s.Sequences.Enrol(r.Context(), c.Actor, formInt(r.PostFormValue("sequence_id")), id)
	if _, msg, ok := formError(err); ok {
		flash(w, localize(c.Lang, msg))
	} else if errs.Is(err, errs.NotFound) {
		flash(w, i18n.T(c.Lang, "seq.err.choose"))
	} else if err != nil {
		return err
	} else {
		flash(w, i18n.T(c.Lang, "seq.enrolled_ok"))
	}
	http.Redirect(w, r, fmt.Sprintf("/contacts/%d", id), http.StatusSeeOther)
	return nil
}

func (s *Server) endEnrolment(w http.ResponseWriter, r *http.Request, c *rctx) error {
	e, err := s.Sequences.End(r.Context(), c.Actor, formInt(r.PathValue("enrolment")))
	if _, msg, ok := formError(err); ok {
		flash(w, localize(c.Lang, msg))
	} else if err != nil {
		return err
	} else {
		flash(w, i18n.T(c.Lang, "seq.ended"))
	}
	back := fmt.Sprintf("/sequences/%d", e.SequenceID)
	if strings.HasPrefix(r.URL.Path, "/contacts/") {
		back = fmt.Sprintf("/contacts/%s", r.PathValue("id"))
	}
	http.Redirect(w, r, back, http.StatusSeeOther)
	return nil
}

// SeqBox is the contact page's sequence box: the contact's active
// enrolments with their next step, and the enrol form.
type SeqBox struct {
	Page       Page
	ContactID  int64
	Enrolments []sequences.Enrolment
	Sequences  []sequences.Sequence
}

func (s *Server) seqBox(ctx context.Context, p Page, a platform.Actor, contactID int64) (*SeqBox, error) {
	if s.Sequences == nil || a.UserID == 0 {
		return nil, nil
	}
	b := &SeqBox{Page: p, ContactID: contactID}
	var err error
	if b.Enrolments, err = s.Sequences.Enrolments(ctx, a, sequences.EnrolmentFilter{ContactID: contactID, ActiveOnly: true}); err != nil {
		return nil, err
	}
	if b.Sequences, err = s.Sequences.List(ctx, a); err != nil {
		return nil, err
	}
	return b, nil
}
