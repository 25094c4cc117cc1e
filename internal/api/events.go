package api

import (
	"net/http"

	"github.com/ryorin/ryorin/internal/errs"
	"github.com/ryorin/ryorin/internal/httpx"
	"github.com/ryorin/ryorin/internal/platform"
)

// EventBatch is a batch of events for the ingest API.
type EventBatch struct {
	Events []platform.EventInput `json:"events" doc:"at most 1000 events"`
}

// EventPage is a page of a contact's events.
type EventPage struct {
	Items      []platform.Event `json:"items"`
	NextCursor string           `json:"next_cursor,omitempty"`
}

func (s *Server) eventRoutes() []op {
	return []op{
		{Method: "POST", Path: "/api/v1/events/batch", ID: "ingestEvents", Summary: "Record a batch of events (idempotent by event id)", Tag: "Events",
			Body: EventBatch{}, Resp: platform.IngestResult{}, MaxBody: 5 << 20, H: s.ingestEvents},
		{Method: "GET", Path: "/api/v1/contacts/{id}/events", ID: "contactEvents", Summary: "A contact's events, newest first", Tag: "Events",
			Resp: EventPage{}, Query: listParams, H: s.contactEvents},
	}
}

// ingestEvents stores what it can and reports the rest by index. The answer
// comes only after the commit, so an acknowledged event is never lost.
func (s *Server) ingestEvents(w http.ResponseWriter, r *http.Request, a platform.Actor) (any, error) {
	var in EventBatch
	if err := httpx.Decode(w, r, 5<<20, &in); err != nil {
		return nil, err
	}
	if len(in.Events) == 0 {
		return nil, errs.Field("events", "is empty")
	}
	return platform.IngestEvents(r.Context(), s.DB, a, in.Events, s.Clock.Now())
}

func (s *Server) contactEvents(w http.ResponseWriter, r *http.Request, a platform.Actor) (any, error) {
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
	if limit == 0 {
		limit = 50
	}
	var at, before int64
	if c := r.URL.Query().Get("cursor"); c != "" {
		var ok bool
		if at, before, ok = decodeTimeCursor(c); !ok {
			return nil, errs.Field("cursor", "is not a cursor this API returned")
		}
	}
	items, err := platform.ListContactEvents(r.Context(), s.DB.Reader(), a.WorkspaceID, id, at, before, limit)
	if err != nil {
		return nil, err
	}
	p := EventPage{Items: items}
	if len(items) == limit {
		last := items[len(items)-1]
		p.NextCursor = encodeTimeCursor(last.OccurredAt.UnixMilli(), last.ID)
	}
	return p, nil
}
