package api

import (
	"net/http"

	"github.com/ryorin/ryorin/internal/marketing/journeys"
	"github.com/ryorin/ryorin/internal/platform"
)

// EnrolRequest names a contact to put into a journey now.
type EnrolRequest struct {
	ContactID int64 `json:"contact_id"`
}

// EnrolResult says whether the contact entered.
type EnrolResult struct {
	Enrolled bool `json:"enrolled" doc:"false when the contact is in the journey already, was in it before and re-entry is off, or the journey is not active"`
}

func (s *Server) journeyRoutes() []op {
	if s.Journeys == nil {
		return nil
	}
	enrolQ := []param{{"status", "string", "active, completed, exited, converted or failed"}, {"cursor", "integer", "the last enrolment id seen"},
		{"limit", "integer", "page size, 1–200 (default 50)"}}
	return []op{
		{Method: "GET", Path: "/api/v1/journeys", ID: "listJourneys", Summary: "List journeys by name", Tag: "Journeys", Resp: []journeys.Journey{}, Roles: emailRoles, H: s.listJourneys},
		{Method: "POST", Path: "/api/v1/journeys", ID: "createJourney", Summary: "Create a draft journey (a bad definition is refused naming the field, e.g. steps[2].wait)", Tag: "Journeys", Body: journeys.Input{}, Resp: journeys.Journey{}, Status: http.StatusCreated, Roles: emailRoles, Idempotent: true, H: s.createJourney},
		{Method: "GET", Path: "/api/v1/journeys/{id}", ID: "getJourney", Summary: "Get a journey", Tag: "Journeys", Resp: journeys.Journey{}, Roles: emailRoles, H: s.getJourney},
		{Method: "PUT", Path: "/api/v1/journeys/{id}", ID: "updateJourney", Summary: "Replace a draft or paused journey", Tag: "Journeys", Body: journeys.Input{}, Resp: journeys.Journey{}, Roles: emailRoles, H: s.updateJourney},
		{Method: "POST", Path: "/api/v1/journeys/{id}/activate", ID: "activateJourney", Summary: "Activate (or resume) a journey: its trigger enrols contacts and enrolments advance", Tag: "Journeys", Resp: journeys.Journey{}, Roles: emailRoles, H: s.activateJourney},
		{Method: "POST", Path: "/api/v1/journeys/{id}/pause", ID: "pauseJourney", Summary: "Pause a journey: nobody enters or moves until it is activated again", Tag: "Journeys", Resp: journeys.Journey{}, Roles: emailRoles, H: s.pauseJourney},
		{Method: "GET", Path: "/api/v1/journeys/{id}/stats", ID: "journeyStats", Summary: "Per step: contacts at it, passed it and ended at it; enrolments by status", Tag: "Journeys", Resp: journeys.Stats{}, Roles: emailRoles, H: s.journeyStats},
		{Method: "GET", Path: "/api/v1/journeys/{id}/enrolments", ID: "listEnrolments", Summary: "A journey's enrolments, newest first", Tag: "Journeys", Resp: []journeys.Enrolment{}, Query: enrolQ, Roles: emailRoles, H: s.listEnrolments},
		{Method: "POST", Path: "/api/v1/journeys/{id}/enrolments/{enrolment}/remove", ID: "removeEnrolment", Summary: "Take a contact out of a journey (its running enrolment ends as exited)", Tag: "Journeys", Status: http.StatusNoContent, Roles: emailRoles, H: s.removeEnrolment},
		{Method: "POST", Path: "/api/v1/journeys/{id}/enrolments", ID: "enrolContact", Summary: "Put a contact into an active journey now", Tag: "Journeys", Body: EnrolRequest{}, Resp: EnrolResult{}, Roles: emailRoles, H: s.enrolContact},
	}
}

func (s *Server) listJourneys(w http.ResponseWriter, r *http.Request, a platform.Actor) (any, error) {
	return s.Journeys.List(r.Context(), a)
}

func (s *Server) createJourney(w http.ResponseWriter, r *http.Request, a platform.Actor) (any, error) {
	var in journeys.Input
	if err := decode(w, r, &in); err != nil {
		return nil, err
	}
	return s.Journeys.Create(r.Context(), a, in)
}

func (s *Server) getJourney(w http.ResponseWriter, r *http.Request, a platform.Actor) (any, error) {
	id, err := pathID(r, "id")
	if err != nil {
		return nil, err
	}
	return s.Journeys.Get(r.Context(), a, id)
}

func (s *Server) updateJourney(w http.ResponseWriter, r *http.Request, a platform.Actor) (any, error) {
	id, err := pathID(r, "id")
	if err != nil {
		return nil, err
	}
	var in journeys.Input
	if err := decode(w, r, &in); err != nil {
		return nil, err
	}
	return s.Journeys.Update(r.Context(), a, id, in)
}

func (s *Server) activateJourney(w http.ResponseWriter, r *http.Request, a platform.Actor) (any, error) {
	id, err := pathID(r, "id")
	if err != nil {
		return nil, err
	}
	return s.Journeys.Activate(r.Context(), a, id, publicBase(r))
}

func (s *Server) pauseJourney(w http.ResponseWriter, r *http.Request, a platform.Actor) (any, error) {
	id, err := pathID(r, "id")
	if err != nil {
		return nil, err
	}
	return s.Journeys.Pause(r.Context(), a, id)
}

func (s *Server) journeyStats(w http.ResponseWriter, r *http.Request, a platform.Actor) (any, error) {
	id, err := pathID(r, "id")
	if err != nil {
		return nil, err
	}
	return s.Journeys.Stats(r.Context(), a, id)
}

func (s *Server) listEnrolments(w http.ResponseWriter, r *http.Request, a platform.Actor) (any, error) {
	id, err := pathID(r, "id")
	if err != nil {
		return nil, err
	}
	var cursor, limit int64
	if err := queryInts(r, "cursor", &cursor, "limit", &limit); err != nil {
		return nil, err
	}
	return s.Journeys.Enrolments(r.Context(), a, id, journeys.EnrolmentQuery{Status: r.URL.Query().Get("status"), Before: cursor, Limit: int(limit)})
}

func (s *Server) enrolContact(w http.ResponseWriter, r *http.Request, a platform.Actor) (any, error) {
	id, err := pathID(r, "id")
	if err != nil {
		return nil, err
	}
	var in EnrolRequest
	if err := decode(w, r, &in); err != nil {
		return nil, err
	}
	ok, err := s.Journeys.Enrol(r.Context(), a, id, in.ContactID)
	return EnrolResult{Enrolled: ok}, err
}

func (s *Server) removeEnrolment(w http.ResponseWriter, r *http.Request, a platform.Actor) (any, error) {
	id, err := pathID(r, "id")
	if err != nil {
		return nil, err
	}
	eid, err := pathID(r, "enrolment")
	if err != nil {
		return nil, err
	}
	return nil, s.Journeys.Remove(r.Context(), a, id, eid)
}
