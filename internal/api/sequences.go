package api

import (
	"encoding/json"
	"net/http"

	"github.com/ryorin/ryorin/internal/platform"
	"github.com/ryorin/ryorin/internal/sales/sequences"
)

// SequenceBody is a sequence as the API takes it. Steps are parsed by
// sequences.ParseSteps, which refuses unknown members and names the field of
// each bad step (steps[2].delay_days).
type SequenceBody struct {
	Name   string          `json:"name"`
	Shared *bool           `json:"shared,omitempty" doc:"visible to the whole team (default true); false: only its owner"`
	Steps  json.RawMessage `json:"steps" doc:"the steps in order: [{\"delay_days\":0,\"action\":\"email\",\"subject\":\"…\",\"body\":\"…\"},{\"delay_days\":2,\"action\":\"call\",\"note\":\"…\"}]"`
}

// SequenceEnrolRequest names the contact to enrol.
type SequenceEnrolRequest struct {
	ContactID int64 `json:"contact_id"`
}

func (s *Server) sequenceRoutes() []op {
	if s.Sequences == nil {
		return nil
	}
	return []op{
		{Method: "GET", Path: "/api/v1/sequences", ID: "listSequences", Summary: "The sales sequences I may use (the team's shared ones and mine), with enrolment counts and reply rate", Tag: "Sequences", Resp: []sequences.Sequence{}, H: s.listSequences},
		{Method: "POST", Path: "/api/v1/sequences", ID: "createSequence", Summary: "Create a sequence owned by me; a bad step is refused naming its field (steps[2].delay_days)", Tag: "Sequences", Body: SequenceBody{}, Resp: sequences.Sequence{}, Status: http.StatusCreated, Idempotent: true, H: s.createSequence},
		{Method: "GET", Path: "/api/v1/sequences/{id}", ID: "getSequence", Summary: "Get a sequence", Tag: "Sequences", Resp: sequences.Sequence{}, H: s.getSequence},
		{Method: "PUT", Path: "/api/v1/sequences/{id}", ID: "updateSequence", Summary: "Replace a sequence's name, sharing and steps (active enrolments continue from their current step)", Tag: "Sequences", Body: SequenceBody{}, Resp: sequences.Sequence{}, H: s.updateSequence},
		{Method: "GET", Path: "/api/v1/sequences/{id}/enrolments", ID: "listSequenceEnrolments", Summary: "A sequence's enrolments, active first", Tag: "Sequences", Resp: []sequences.Enrolment{}, H: s.listSequenceEnrolments},
		{Method: "POST", Path: "/api/v1/sequences/{id}/enrolments", ID: "enrolInSequence", Summary: "Enrol a contact, with me as sender and task owner (409 if the contact is in it already)", Tag: "Sequences", Body: SequenceEnrolRequest{}, Resp: sequences.Enrolment{}, Status: http.StatusCreated, H: s.enrolInSequence},
		{Method: "POST", Path: "/api/v1/enrolments/{id}/end", ID: "endSequenceEnrolment", Summary: "End an active sequence enrolment", Tag: "Sequences", Resp: sequences.Enrolment{}, H: s.endSequenceEnrolment},
	}
}

func (s *Server) listSequences(w http.ResponseWriter, r *http.Request, a platform.Actor) (any, error) {
	return s.Sequences.List(r.Context(), a)
}

func sequenceInput(w http.ResponseWriter, r *http.Request) (sequences.Input, error) {
	var b SequenceBody
	if err := decode(w, r, &b); err != nil {
		return sequences.Input{}, err
	}
	steps, err := sequences.ParseSteps(b.Steps)
	if err != nil {
		return sequences.Input{}, err
	}
	in := sequences.Input{Name: b.Name, Shared: true, Steps: steps}
	if b.Shared != nil {
		in.Shared = *b.Shared
	}
	return in, nil
}

func (s *Server) createSequence(w http.ResponseWriter, r *http.Request, a platform.Actor) (any, error) {
	in, err := sequenceInput(w, r)
	if err != nil {
		return nil, err
	}
	return s.Sequences.Save(r.Context(), a, 0, in)
}

func (s *Server) getSequence(w http.ResponseWriter, r *http.Request, a platform.Actor) (any, error) {
	id, err := pathID(r, "id")
	if err != nil {
		return nil, err
	}
	return s.Sequences.Get(r.Context(), a, id)
}

func (s *Server) updateSequence(w http.ResponseWriter, r *http.Request, a platform.Actor) (any, error) {
	id, err := pathID(r, "id")
	if err != nil {
		return nil, err
	}
	in, err := sequenceInput(w, r)
	if err != nil {
		return nil, err
	}
	return s.Sequences.Save(r.Context(), a, id, in)
}

func (s *Server) listSequenceEnrolments(w http.ResponseWriter, r *http.Request, a platform.Actor) (any, error) {
	id, err := pathID(r, "id")
	if err != nil {
		return nil, err
	}
	if _, err := s.Sequences.Get(r.Context(), a, id); err != nil {
		return nil, err
	}
	return s.Sequences.Enrolments(r.Context(), a, sequences.EnrolmentFilter{SequenceID: id})
}

func (s *Server) enrolInSequence(w http.ResponseWriter, r *http.Request, a platform.Actor) (any, error) {
	id, err := pathID(r, "id")
	if err != nil {
		return nil, err
	}
	var in SequenceEnrolRequest
	if err := decode(w, r, &in); err != nil {
		return nil, err
	}
	return s.Sequences.Enrol(r.Context(), a, id, in.ContactID)
}

func (s *Server) endSequenceEnrolment(w http.ResponseWriter, r *http.Request, a platform.Actor) (any, error) {
	id, err := pathID(r, "id")
	if err != nil {
		return nil, err
	}
	return s.Sequences.End(r.Context(), a, id)
}
