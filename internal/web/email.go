package web

import (
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/ryorin/ryorin/internal/errs"
	"github.com/ryorin/ryorin/internal/i18n"
	"github.com/ryorin/ryorin/internal/marketing/email"
	"github.com/ryorin/ryorin/internal/platform"
)

// emailRoutes lists the email campaign pages (marketing and admins).
func (s *Server) emailRoutes() {
	if s.Email == nil || s.Segments == nil {
		return
	}
	m := s.mux
	m.HandleFunc("GET /email/campaigns", s.signedIn(s.campaignsList))
	m.HandleFunc("GET /email/campaigns/new", s.signedIn(s.newCampaign))
	m.HandleFunc("POST /email/campaigns", s.signedIn(s.createCampaign))
	m.HandleFunc("GET /email/campaigns/{id}", s.signedIn(s.campaignPage))
	m.HandleFunc("GET /email/campaigns/{id}/edit", s.signedIn(s.editCampaign))
	m.HandleFunc("POST /email/campaigns/{id}", s.signedIn(s.updateCampaign))
	m.HandleFunc("POST /email/campaigns/preview", s.signedIn(s.previewDraft))
	m.HandleFunc("GET /email/content-assets", s.signedIn(s.contentPicker))
	m.HandleFunc("POST /email/campaigns/{id}/send", s.signedIn(s.sendCampaign))
	m.HandleFunc("POST /email/campaigns/{id}/unschedule", s.signedIn(s.unscheduleCampaign))
	m.HandleFunc("POST /email/campaigns/{id}/delete", s.signedIn(s.deleteCampaign))
}

func canUseEmail(a platform.Actor) bool { return a.Is(platform.RoleAdmin, platform.RoleMarketing) }

// CampaignsPage is the data of the campaign list.
type CampaignsPage struct {
	Page
	Items []email.Campaign
}

func (s *Server) campaignsList(w http.ResponseWriter, r *http.Request, c *rctx) error {
	if !canUseEmail(c.Actor) {
		return errs.E(errs.Forbidden, "", "marketing only")
	}
	items, err := s.Email.List(r.Context(), c.Actor)
	if err != nil {
		return err
	}
	return s.show(w, c, "email_campaigns", &CampaignsPage{Page: s.base(c, c.Lang, "email.campaigns.title", "campaigns"), Items: items})
}

// CampaignPage is the data of a campaign's page: preview, send, report.
type CampaignPage struct {
	Page
	Campaign     email.Campaign
	AudienceName string
	Preview      email.Rendered
	PreviewErr   string
	PreviewAs    int64
	Phone        bool // preview at a phone's width (375px)
	Confirm      bool
	Report       email.Report
	Reasons      []string
}

func (s *Server) campaignPage(w http.ResponseWriter, r *http.Request, c *rctx) error {
	ctx := r.Context()
	id := formInt(r.PathValue("id"))
	cp, err := s.Email.Get(ctx, c.Actor, id)
	if err != nil {
		return err
	}
	data := &CampaignPage{Page: s.base(c, c.Lang, "email.campaigns.title", "campaigns"), Campaign: cp, Confirm: r.URL.Query().Get("confirm") != "",
		PreviewAs: formInt(r.URL.Query().Get("contact")), Phone: r.URL.Query().Get("phone") == "1",
		Reasons: []string{email.ReasonNoConsent, email.ReasonSuppressed, email.ReasonNoEmail, email.ReasonRender}}
	data.Title = cp.Name
	if cp.AudienceKind == email.AudienceJourney {
		if s.Journeys != nil {
			if j, err := s.Journeys.Get(ctx, c.Actor, cp.AudienceID); err == nil {
				data.AudienceName = j.Name
			}
		}
	} else if cp.AudienceKind == email.AudienceList {
		if l, err := s.Segments.GetList(ctx, s.DB.Reader(), c.Actor.WorkspaceID, cp.AudienceID); err == nil {
			data.AudienceName = l.Name
		}
	} else if sg, err := s.Segments.GetSegment(ctx, s.DB.Reader(), c.Actor.WorkspaceID, cp.AudienceID); err == nil {
		data.AudienceName = sg.Name
	}
	data.Preview, err = s.Email.Preview(ctx, c.Actor, id, data.PreviewAs, s.publicBase(r, c.WS))
	if _, msg, ok := formError(err); ok || errs.Is(err, errs.NotFound) {
		data.PreviewErr = msg
		if !ok {
			data.PreviewErr = data.T("common.not_found")
		}
	} else if err != nil {
		return err
	}
	if data.Report, err = s.Email.Report(ctx, c.Actor, id); err != nil {
		return err
	}
	return s.show(w, c, "email_campaign", data)
}

func (s *Server) sendCampaign(w http.ResponseWriter, r *http.Request, c *rctx) error {
	id := formInt(r.PathValue("id"))
	var o email.SendOptions
	if v := strings.TrimSpace(r.PostFormValue("send_at")); v != "" {
		t, err := time.ParseInLocation("2006-01-02T15:04", v, c.Loc)
		if err != nil {
			flash(w, localize(c.Lang, "must be from now to a year ahead"))
			http.Redirect(w, r, fmt.Sprintf("/email/campaigns/%d?confirm=1", id), http.StatusSeeOther)
			return nil
		}
		o.At = &t
	}
	o.PerMinute = int(formInt(r.PostFormValue("per_minute")))
	o.WindowStart = int(formInt(r.PostFormValue("window_start")))
	o.WindowEnd = int(formInt(r.PostFormValue("window_end")))
	if got, err := s.Email.Schedule(r.Context(), c.Actor, id, s.publicBase(r, c.WS), o); err != nil {
		if _, msg, ok := formError(err); ok {
			flash(w, msg)
		} else {
			return err
		}
	} else if got.Status == email.StatusScheduled {
		flash(w, i18n.T(c.Lang, "email.sched.done"))
	} else {
		flash(w, i18n.T(c.Lang, "email.campaigns.sending"))
	}
	http.Redirect(w, r, fmt.Sprintf("/email/campaigns/%d", id), http.StatusSeeOther)
	return nil
}

func (s *Server) unscheduleCampaign(w http.ResponseWriter, r *http.Request, c *rctx) error {
	id := formInt(r.PathValue("id"))
	if _, err := s.Email.Unschedule(r.Context(), c.Actor, id); err != nil {
		if _, msg, ok := formError(err); ok {
			flash(w, localize(c.Lang, msg))
		} else {
			return err
		}
	} else {
		flash(w, i18n.T(c.Lang, "common.saved"))
	}
	http.Redirect(w, r, fmt.Sprintf("/email/campaigns/%d", id), http.StatusSeeOther)
	return nil
}

func (s *Server) deleteCampaign(w http.ResponseWriter, r *http.Request, c *rctx) error {
	if err := s.Email.Delete(r.Context(), c.Actor, formInt(r.PathValue("id"))); err != nil {
		return err
	}
	http.Redirect(w, r, "/email/campaigns", http.StatusSeeOther)
	return nil
}

// MayEmail says whether the signed-in user sees the email campaigns.
func (p Page) MayEmail() bool {
	return p.User.Role == platform.RoleAdmin || p.User.Role == platform.RoleMarketing
}

// Skipped returns the count of one skip reason.
func (p CampaignPage) Skipped(reason string) int64 { return p.Report.Skipped[reason] }
