package api

import (
	"net/http"
	"time"

	"github.com/ryorin/ryorin/internal/db"
	"github.com/ryorin/ryorin/internal/errs"
	"github.com/ryorin/ryorin/internal/platform"
	"github.com/ryorin/ryorin/internal/track"
	"github.com/ryorin/ryorin/internal/trackhttp"
)

// TrackingSettings are the tracking settings with the snippet to paste and
// the collect endpoint's counters since start.
type TrackingSettings struct {
	track.Settings
	Snippet string          `json:"snippet" doc:"the HTML to paste before </head> on every page of the site"`
	Stats   track.StatsView `json:"stats"`
}

// IdentifyRequest attaches a visitor's anonymous history to a contact.
type IdentifyRequest struct {
	VisitorID string `json:"visitor_id" doc:"the ryorin_vid cookie of the visitor's browser"`
	ContactID int64  `json:"contact_id"`
}

// IdentifyResult says how many anonymous events joined the contact.
type IdentifyResult struct {
	Attached int `json:"attached"`
}

func (s *Server) trackingRoutes() []op {
	return []op{
		{Method: "GET", Path: "/api/v1/tracking/settings", ID: "getTrackingSettings", Summary: "Web tracking settings, the snippet and counters", Tag: "Tracking",
			Resp: TrackingSettings{}, Roles: admin, H: s.getTracking},
		{Method: "PUT", Path: "/api/v1/tracking/settings", ID: "setTrackingSettings", Summary: "Change web tracking settings (consent, retention, origins, channel rules)", Tag: "Tracking",
			Body: track.Settings{}, Resp: TrackingSettings{}, Roles: admin, H: s.setTracking},
		{Method: "POST", Path: "/api/v1/tracking/identify", ID: "identifyVisitor", Summary: "Attach a visitor's anonymous page views to a contact", Tag: "Tracking",
			Body: IdentifyRequest{}, Resp: IdentifyResult{}, H: s.identifyVisitor},
		{Method: "GET", Path: "/api/v1/tracking/daily", ID: "trackingDaily", Summary: "Daily page views of expired anonymous visitors, per path and channel", Tag: "Tracking",
			Resp: []track.DailyCount{}, Query: []param{{"from", "string", "first day, YYYY-MM-DD"}, {"to", "string", "last day, YYYY-MM-DD"}}, H: s.trackingDaily},
		{Method: "GET", Path: "/api/v1/contacts/{id}/sessions", ID: "contactSessions", Summary: "A contact's web sessions (visits) with their channel, newest first", Tag: "Tracking",
			Resp: []track.Session{}, Query: []param{{"limit", "integer", "1–200 (default 50)"}}, H: s.contactSessions},
	}
}

func (s *Server) trackingView(r *http.Request, set track.Settings) TrackingSettings {
	v := TrackingSettings{Settings: set, Snippet: trackhttp.PasteHTML(publicBase(r))}
	if s.Tracker != nil {
		v.Stats = s.Tracker.Stats.View()
	}
	return v
}

// publicBase is the address the snippet loads from: the workspace's public
// base URL when set, else the address this request came to.
func publicBase(r *http.Request) string {
	scheme := "https"
	if r.TLS == nil && r.Header.Get("X-Forwarded-Proto") != "https" {
		scheme = "http"
	}
	return scheme + "://" + r.Host
}

func (s *Server) getTracking(w http.ResponseWriter, r *http.Request, a platform.Actor) (any, error) {
	set, err := track.GetSettings(r.Context(), s.DB.Reader(), a.WorkspaceID)
	if err != nil {
		return nil, err
	}
	v := s.trackingView(r, set)
	if ws, err := platform.GetWorkspace(r.Context(), s.DB.Reader(), a.WorkspaceID); err == nil && ws.PublicBaseURL != "" {
		v.Snippet = trackhttp.PasteHTML(ws.PublicBaseURL)
	}
	return v, nil
}

func (s *Server) setTracking(w http.ResponseWriter, r *http.Request, a platform.Actor) (any, error) {
	var in track.Settings
	if err := decode(w, r, &in); err != nil {
		return nil, err
	}
	if _, err := track.SaveSettings(r.Context(), s.DB, a, in, s.Clock.Now()); err != nil {
		return nil, err
	}
	if s.Tracker != nil {
		s.Tracker.Invalidate(a.WorkspaceID)
	}
	return s.getTracking(w, r, a)
}

func (s *Server) identifyVisitor(w http.ResponseWriter, r *http.Request, a platform.Actor) (any, error) {
	var in IdentifyRequest
	if err := decode(w, r, &in); err != nil {
		return nil, err
	}
	if _, err := s.CRM.GetContact(r.Context(), s.DB.Reader(), a, in.ContactID); err != nil {
		return nil, err
	}
	var res IdentifyResult
	err := s.DB.Write(r.Context(), "api.identifyVisitor", func(tx *db.Tx) error {
		var err error
		res.Attached, err = track.IdentifyVisitor(r.Context(), tx, a.WorkspaceID, in.VisitorID, in.ContactID, s.Clock.Now())
		return err
	})
	return res, err
}

func (s *Server) trackingDaily(w http.ResponseWriter, r *http.Request, a platform.Actor) (any, error) {
	q := r.URL.Query()
	from, to := q.Get("from"), q.Get("to")
	for name, v := range map[string]string{"from": from, "to": to} {
		if _, err := time.Parse(time.DateOnly, v); err != nil {
			return nil, errs.Field(name, "must be a date, YYYY-MM-DD")
		}
	}
	return track.ListDaily(r.Context(), s.DB.Reader(), a.WorkspaceID, from, to)
}

func (s *Server) contactSessions(w http.ResponseWriter, r *http.Request, a platform.Actor) (any, error) {
	id, err := pathID(r, "id")
	if err != nil {
		return nil, err
	}
	if _, err := s.CRM.GetContact(r.Context(), s.DB.Reader(), a, id); err != nil {
		return nil, err
	}
	limit, err := queryLimit(r)
	if err != nil {
		return nil, err
	}
	return track.ListContactSessions(r.Context(), s.DB.Reader(), a.WorkspaceID, id, limit)
}
