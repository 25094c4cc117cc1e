package api

import (
	"net/http"

	"github.com/ryorin/ryorin/internal/platform"
)

// Retention is how long raw events are kept.
type Retention struct {
	EventDays int `json:"event_days" doc:"0 keeps events for ever; otherwise 400 to 3650 days"`
}

func (s *Server) getRetention(w http.ResponseWriter, r *http.Request, a platform.Actor) (any, error) {
	days, err := platform.EventRetention(r.Context(), s.DB.Reader(), a.WorkspaceID)
	return Retention{EventDays: days}, err
}

func (s *Server) setRetention(w http.ResponseWriter, r *http.Request, a platform.Actor) (any, error) {
	var in Retention
	if err := decode(w, r, &in); err != nil {
		return nil, err
	}
	if err := platform.SetEventRetention(r.Context(), s.DB, a, in.EventDays, s.Clock.Now()); err != nil {
		return nil, err
	}
	return in, nil
}
