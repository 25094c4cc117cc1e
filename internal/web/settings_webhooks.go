package web

import (
	"net/http"
	"strings"

	"github.com/ryorin/ryorin/internal/webhooks"
)

// WebhooksPage lists subscriptions and the delivery log.
type WebhooksPage struct {
	Page
	Subs       []webhooks.Subscription
	Deliveries []webhooks.Delivery
	Types      []string
	Errors     FormErrors
	In         map[string]string
	Checked    map[string]bool
	NewSecret  string // shown once, right after creating
}

// SubURL names a subscription by its URL in the delivery log.
func (p *WebhooksPage) SubURL(id int64) string {
	for _, s := range p.Subs {
		if s.ID == id {
			return s.URL
		}
	}
	return "—"
}

func (s *Server) hooks() *webhooks.Service { return &webhooks.Service{DB: s.DB, Clock: s.Clock} }

func (s *Server) webhooksData(r *http.Request, c *rctx) (*WebhooksPage, error) {
	data := &WebhooksPage{Page: s.base(c, c.Lang, "settings.webhooks.title", "settings"), Types: webhooks.EventTypes, Errors: FormErrors{},
		In: map[string]string{}, Checked: map[string]bool{}}
	var err error
	if data.Subs, err = s.hooks().Subscriptions(r.Context(), s.DB.Reader(), c.Actor.WorkspaceID); err != nil {
		return nil, err
	}
	if data.Deliveries, err = s.hooks().Deliveries(r.Context(), s.DB.Reader(), c.Actor.WorkspaceID, 0, 50); err != nil {
		return nil, err
	}
	return data, nil
}

func (s *Server) webhooksPage(w http.ResponseWriter, r *http.Request, c *rctx) error {
	if err := adminOnly(c); err != nil {
		return err
	}
	data, err := s.webhooksData(r, c)
	if err != nil {
		return err
	}
	return s.show(w, c, "settings_webhooks", data)
}

func (s *Server) createWebhook(w http.ResponseWriter, r *http.Request, c *rctx) error {
	if err := adminOnly(c); err != nil {
		return err
	}
	if err := r.ParseForm(); err != nil {
		return err
	}
	in := webhooks.Subscription{URL: strings.TrimSpace(r.PostFormValue("url")), EventTypes: r.PostForm["event_type"], Description: r.PostFormValue("description")}
	sub, err := s.hooks().CreateSubscription(r.Context(), c.Actor, in)
	data, lerr := s.webhooksData(r, c)
	if lerr != nil {
		return lerr
	}
	if fe, ok := formErrors(c.Lang, err, "url", "event_types"); ok {
		data.Errors = fe
		data.In["url"], data.In["description"] = in.URL, in.Description
		for _, t := range in.EventTypes {
			data.Checked[t] = true
		}
		w.WriteHeader(http.StatusUnprocessableEntity)
		return s.show(w, c, "settings_webhooks", data)
	}
	if err != nil {
		return err
	}
	// The secret is shown once, on this page, never in a redirect or log.
	data.NewSecret = sub.Secret
	return s.show(w, c, "settings_webhooks", data)
}

func (s *Server) toggleWebhook(w http.ResponseWriter, r *http.Request, c *rctx) error {
	if err := s.hooks().SetActive(r.Context(), c.Actor, formInt(r.PathValue("id")), r.PostFormValue("active") == "1"); err != nil {
		return err
	}
	return s.saved(w, r, c, "common.saved", "/settings/webhooks")
}

func (s *Server) deleteWebhook(w http.ResponseWriter, r *http.Request, c *rctx) error {
	if err := s.hooks().DeleteSubscription(r.Context(), c.Actor, formInt(r.PathValue("id"))); err != nil {
		return err
	}
	return s.saved(w, r, c, "common.saved", "/settings/webhooks")
}

func (s *Server) replayWebhook(w http.ResponseWriter, r *http.Request, c *rctx) error {
	if _, err := s.hooks().Replay(r.Context(), c.Actor, formInt(r.PathValue("id"))); err != nil {
		return err
	}
	return s.saved(w, r, c, "settings.webhooks.replayed", "/settings/webhooks")
}
