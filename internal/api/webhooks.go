package api

import (
	"net/http"

	"github.com/ryorin/ryorin/internal/platform"
	"github.com/ryorin/ryorin/internal/webhooks"
)

// WebhookPatch pauses or resumes a subscription.
type WebhookPatch struct {
	Active *bool `json:"active,omitempty"`
}

// ReplayResponse names the new delivery a replay made.
type ReplayResponse struct {
	DeliveryID int64 `json:"delivery_id"`
}

func (s *Server) hooks() *webhooks.Service {
	return &webhooks.Service{DB: s.DB, Clock: s.Clock}
}

func (s *Server) webhookRoutes() []op {
	return []op{
		{Method: "GET", Path: "/api/v1/webhooks", ID: "listWebhooks", Summary: "Webhook subscriptions (secrets are shown only when created)", Tag: "Webhooks", Resp: []webhooks.Subscription{}, Roles: admin, H: s.listWebhooks},
		{Method: "POST", Path: "/api/v1/webhooks", ID: "createWebhook", Summary: "Subscribe a URL to event types; deliveries are signed with the returned secret (X-Ryorin-Signature: sha256=HMAC(secret, timestamp + \".\" + body))", Tag: "Webhooks",
			Body: webhooks.Subscription{}, Resp: webhooks.Subscription{}, Status: http.StatusCreated, Roles: admin, Idempotent: true, H: s.createWebhook},
		{Method: "PATCH", Path: "/api/v1/webhooks/{id}", ID: "updateWebhook", Summary: "Pause or resume a subscription", Tag: "Webhooks", Body: WebhookPatch{}, Status: http.StatusNoContent, Roles: admin, H: s.updateWebhook},
		{Method: "DELETE", Path: "/api/v1/webhooks/{id}", ID: "deleteWebhook", Summary: "Remove a subscription and its delivery log", Tag: "Webhooks", Status: http.StatusNoContent, Roles: admin, H: s.deleteWebhook},
		{Method: "GET", Path: "/api/v1/webhooks/deliveries", ID: "listWebhookDeliveries", Summary: "The delivery log, newest first, with response codes", Tag: "Webhooks", Resp: []webhooks.Delivery{},
			Query: []param{{"subscription_id", "integer", "one subscription's deliveries"}, {"limit", "integer", "1–200 (default 50)"}}, Roles: admin, H: s.listDeliveries},
		{Method: "POST", Path: "/api/v1/webhooks/deliveries/{id}/replay", ID: "replayWebhookDelivery", Summary: "Send a delivery's event again", Tag: "Webhooks", Resp: ReplayResponse{}, Roles: admin, H: s.replayDelivery},
	}
}

func (s *Server) listWebhooks(w http.ResponseWriter, r *http.Request, a platform.Actor) (any, error) {
	return s.hooks().Subscriptions(r.Context(), s.DB.Reader(), a.WorkspaceID)
}

func (s *Server) createWebhook(w http.ResponseWriter, r *http.Request, a platform.Actor) (any, error) {
	var in webhooks.Subscription
	if err := decode(w, r, &in); err != nil {
		return nil, err
	}
	return s.hooks().CreateSubscription(r.Context(), a, in)
}

func (s *Server) updateWebhook(w http.ResponseWriter, r *http.Request, a platform.Actor) (any, error) {
	id, err := pathID(r, "id")
	if err != nil {
		return nil, err
	}
	var in WebhookPatch
	if err := decode(w, r, &in); err != nil {
		return nil, err
	}
	if in.Active == nil {
		return nil, nil
	}
	return nil, s.hooks().SetActive(r.Context(), a, id, *in.Active)
}

func (s *Server) deleteWebhook(w http.ResponseWriter, r *http.Request, a platform.Actor) (any, error) {
	id, err := pathID(r, "id")
	if err != nil {
		return nil, err
	}
	return nil, s.hooks().DeleteSubscription(r.Context(), a, id)
}

func (s *Server) listDeliveries(w http.ResponseWriter, r *http.Request, a platform.Actor) (any, error) {
	var sub, limit int64
	if err := queryInts(r, "subscription_id", &sub, "limit", &limit); err != nil {
		return nil, err
	}
	return s.hooks().Deliveries(r.Context(), s.DB.Reader(), a.WorkspaceID, sub, int(limit))
}

func (s *Server) replayDelivery(w http.ResponseWriter, r *http.Request, a platform.Actor) (any, error) {
	id, err := pathID(r, "id")
	if err != nil {
		return nil, err
	}
	nid, err := s.hooks().Replay(r.Context(), a, id)
	return ReplayResponse{DeliveryID: nid}, err
}
