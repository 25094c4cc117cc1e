package web

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/ryorin/ryorin/internal/errs"
	"github.com/ryorin/ryorin/internal/i18n"
	"github.com/ryorin/ryorin/internal/marketing/content"
	"github.com/ryorin/ryorin/internal/marketing/email"
	"github.com/ryorin/ryorin/internal/marketing/interest"
	"github.com/ryorin/ryorin/internal/marketing/segments"
)

// CampaignEditPage is the data of the campaign editor (a new campaign or a
// draft): raw HTML or blocks, with a live preview as a chosen contact.
type CampaignEditPage struct {
	Page
	ID       int64 // 0: a new campaign
	In       email.CampaignInput
	Audience string // "list:3" or "segment:5"
	Lists    []segments.List
	Segments []segments.Segment
	Errors   map[string]string
	// Mode is "blocks" or "html".
	Mode       string
	BlocksJSON string
	Topics     string
	// BlockPath and BlockErr place a block document's error next to its block.
	BlockPath string
	BlockErr  string
	Contacts  []email.PreviewContact
	// EditorJSON configures the block editor: labels, segments, topics.
	EditorJSON string
}

// Action is where the editor's form posts.
func (p *CampaignEditPage) Action() string {
	if p.ID != 0 {
		return fmt.Sprintf("/email/campaigns/%d", p.ID)
	}
	return "/email/campaigns"
}

// editorLabelKeys are the catalogue keys the block editor's script shows.
var editorLabelKeys = []string{"text", "heading", "image", "button", "divider", "spacer", "columns", "variant",
	"add", "remove", "up", "down", "url", "alt", "link", "label", "height", "by", "by_segment", "by_interest", "option",
	"add_option", "default", "segment", "topic", "column", "text_help", "empty", "preview_error",
	"content", "asset", "asset_none", "asset_loading", "label_optional", "content_help"}

func (s *Server) campaignEditPage(r *http.Request, c *rctx, id int64, in email.CampaignInput, errors map[string]string) (*CampaignEditPage, error) {
	title := "email.campaigns.new"
	if id != 0 {
		title = "email.campaigns.edit"
	}
	data := &CampaignEditPage{Page: s.base(c, c.Lang, title, "campaigns"), ID: id, In: in, Errors: errors, Mode: "html",
		Topics: strings.Join(in.Topics, ", ")}
	if len(in.Blocks) > 0 {
		data.Mode, data.BlocksJSON = "blocks", string(in.Blocks)
	}
	if in.AudienceKind != "" {
		data.Audience = fmt.Sprintf("%s:%d", in.AudienceKind, in.AudienceID)
	}
	ctx := r.Context()
	var err error
	if data.Lists, err = s.Segments.Lists(ctx, s.DB.Reader(), c.Actor.WorkspaceID); err != nil {
		return nil, err
	}
	if data.Segments, err = s.Segments.Segments(ctx, s.DB.Reader(), c.Actor.WorkspaceID); err != nil {
		return nil, err
	}
	if data.Contacts, err = s.Email.PreviewContacts(ctx, c.Actor, 50); err != nil {
		return nil, err
	}
	rules, err := interest.Rules(ctx, s.DB.Reader(), c.Actor.WorkspaceID)
	if err != nil {
		return nil, err
	}
	labels := map[string]string{}
	for _, k := range editorLabelKeys {
		labels[k] = i18n.T(c.Lang, "blocks."+k)
	}
	type opt struct {
		ID   int64  `json:"id"`
		Name string `json:"name"`
	}
	segs := []opt{}
	for _, sg := range data.Segments {
		segs = append(segs, opt{sg.ID, sg.Name})
	}
	topics := []string{}
	for _, ru := range rules {
		if !slices.Contains(topics, ru.Topic) {
			topics = append(topics, ru.Topic)
		}
	}
	b, err := json.Marshal(map[string]any{"labels": labels, "segments": segs, "topics": topics, "assets_url": "/email/content-assets"})
	if err != nil {
		return nil, err
	}
	data.EditorJSON = string(b)
	return data, nil
}

// campaignFromForm reads the editor's form. In blocks mode the block
// document replaces the HTML and text bodies (they are compiled from it).
func campaignFromForm(f url.Values) email.CampaignInput {
	in := email.CampaignInput{Name: f.Get("name"), Template: email.Template{Subject: f.Get("subject"), HTML: f.Get("html"), Text: f.Get("text")}}
	if f.Get("mode") == "blocks" {
		in.Blocks = json.RawMessage(f.Get("blocks"))
		in.Template.HTML, in.Template.Text = "", ""
	}
	for _, t := range strings.FieldsFunc(f.Get("topics"), func(r rune) bool { return r == ',' || r == '、' || r == '\n' }) {
		if t = strings.TrimSpace(t); t != "" {
			in.Topics = append(in.Topics, t)
		}
	}
	if pct := int(formInt(f.Get("ab_sample"))); pct > 0 {
		in.AB = &email.ABTest{B: email.Template{Subject: f.Get("ab_subject"), HTML: f.Get("ab_html"), Text: f.Get("ab_text")},
			SamplePercent: pct, Metric: f.Get("ab_metric"), WaitMinutes: int(formInt(f.Get("ab_wait")))}
	}
	if k, v, ok := strings.Cut(f.Get("audience"), ":"); ok {
		in.AudienceKind, in.AudienceID = k, formInt(v)
	}
	return in
}

func (s *Server) newCampaign(w http.ResponseWriter, r *http.Request, c *rctx) error {
	if !canUseEmail(c.Actor) {
		return errs.E(errs.Forbidden, "", "marketing only")
	}
	in := email.CampaignInput{Template: email.Template{Subject: "{{.Salutation}}",
		HTML: "<p>{{.Salutation}}</p>\n<p></p>", Text: "{{.Salutation}}\n\n"}}
	data, err := s.campaignEditPage(r, c, 0, in, nil)
	if err != nil {
		return err
	}
	// New campaigns start in the block editor; ?mode=html opens raw HTML.
	if r.URL.Query().Get("mode") != "html" {
		data.Mode = "blocks"
	}
	return s.show(w, c, "email_campaign_new", data)
}

func (s *Server) editCampaign(w http.ResponseWriter, r *http.Request, c *rctx) error {
	id := formInt(r.PathValue("id"))
	cp, err := s.Email.Get(r.Context(), c.Actor, id)
	if err != nil {
		return err
	}
	if cp.Status != email.StatusDraft || cp.AudienceKind == email.AudienceJourney {
		http.Redirect(w, r, fmt.Sprintf("/email/campaigns/%d", id), http.StatusSeeOther)
		return nil
	}
	in := email.CampaignInput{Name: cp.Name, Template: cp.Template, AudienceKind: cp.AudienceKind, AudienceID: cp.AudienceID,
		Blocks: cp.Blocks, Topics: cp.Topics}
	if cp.AB.SamplePercent > 0 {
		ab := cp.AB
		in.AB = &ab
	}
	data, err := s.campaignEditPage(r, c, id, in, nil)
	if err != nil {
		return err
	}
	data.Title = cp.Name
	return s.show(w, c, "email_campaign_new", data)
}

func (s *Server) createCampaign(w http.ResponseWriter, r *http.Request, c *rctx) error {
	return s.saveCampaign(w, r, c, 0)
}

func (s *Server) updateCampaign(w http.ResponseWriter, r *http.Request, c *rctx) error {
	return s.saveCampaign(w, r, c, formInt(r.PathValue("id")))
}

func (s *Server) saveCampaign(w http.ResponseWriter, r *http.Request, c *rctx, id int64) error {
	if err := r.ParseForm(); err != nil {
		return errs.Field("", "bad form")
	}
	in := campaignFromForm(r.PostForm)
	var cp email.Campaign
	var err error
	if id == 0 {
		cp, err = s.Email.Create(r.Context(), c.Actor, in)
	} else {
		cp, err = s.Email.Update(r.Context(), c.Actor, id, in)
	}
	if field, msg, ok := formError(err); ok {
		errors, blockPath := campaignFieldError(c.Lang, field, msg)
		data, err := s.campaignEditPage(r, c, id, in, errors)
		if err != nil {
			return err
		}
		if r.PostForm.Get("mode") == "blocks" {
			data.Mode, data.BlocksJSON = "blocks", r.PostForm.Get("blocks")
		}
		data.BlockPath, data.BlockErr = blockPath, errors["blocks"]
		w.WriteHeader(http.StatusUnprocessableEntity)
		return s.show(w, c, "email_campaign_new", data)
	}
	if err != nil {
		return err
	}
	http.Redirect(w, r, fmt.Sprintf("/email/campaigns/%d", cp.ID), http.StatusSeeOther)
	return nil
}

// campaignFieldError maps a service error's field to the form's field; a
// block document's error keeps its path so the editor shows it at the block.
func campaignFieldError(lang i18n.Lang, field, msg string) (map[string]string, string) {
	msg = localize(lang, msg)
	if strings.HasPrefix(field, "blocks") {
		return map[string]string{"blocks": field + ": " + msg}, field
	}
	if field == "audience_kind" || field == "audience_id" {
		field = "audience"
	}
	field = strings.TrimPrefix(strings.ReplaceAll(field, ".", "_"), "ab_test_")
	if field == "sample_percent" || field == "metric" || field == "wait_minutes" || strings.HasPrefix(field, "b") {
		field = "ab"
	}
	return map[string]string{field: msg}, ""
}

// previewDraft renders the editor's current state as a contact, as JSON:
// {subject, html, text} or {error: {path, message}}.
func (s *Server) previewDraft(w http.ResponseWriter, r *http.Request, c *rctx) error {
	if err := r.ParseForm(); err != nil {
		return errs.Field("", "bad form")
	}
	in := campaignFromForm(r.PostForm)
	out := map[string]any{}
	rd, err := s.Email.PreviewDraft(r.Context(), c.Actor, in, formInt(r.PostForm.Get("preview_contact")), s.publicBase(r, c.WS))
	if field, msg, ok := formError(err); ok {
		out["error"] = map[string]string{"path": field, "message": localize(c.Lang, msg)}
	} else if errs.Is(err, errs.NotFound) {
		out["error"] = map[string]string{"path": "preview_contact", "message": i18n.T(c.Lang, "common.not_found")}
	} else if err != nil {
		return err
	} else {
		out["subject"], out["html"], out["text"] = rd.Subject, rd.HTML, rd.Text
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	return json.NewEncoder(w).Encode(out)
}

// pickerAsset is a published asset as the block editor's content picker
// shows it.
type pickerAsset struct {
	ID          int64  `json:"id"`
	Title       string `json:"title"`
	Description string `json:"description"`
	Kind        string `json:"kind"`
	KindLabel   string `json:"kind_label"`
}

// contentPicker lists the published assets of the content library as JSON
// ({assets: [...]}, newest first) for the block editor's content block.
func (s *Server) contentPicker(w http.ResponseWriter, r *http.Request, c *rctx) error {
	if !canUseEmail(c.Actor) {
		return errs.E(errs.Forbidden, "", "marketing only")
	}
	out := []pickerAsset{}
	if s.Content != nil {
		xs, err := s.Content.List(r.Context(), c.Actor, content.Filter{Status: content.StatusPublished, Limit: 500})
		if err != nil {
			return err
		}
		for _, x := range xs {
			out = append(out, pickerAsset{ID: x.ID, Title: x.Title, Description: x.Description, Kind: x.Kind,
				KindLabel: i18n.T(c.Lang, "content.kind."+x.Kind)})
		}
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	return json.NewEncoder(w).Encode(map[string]any{"assets": out})
}
