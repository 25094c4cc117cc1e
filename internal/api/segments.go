package api

import (
	"encoding/json"
	"net/http"

	"github.com/ryorin/ryorin/internal/errs"
	"github.com/ryorin/ryorin/internal/marketing/segments"
	"github.com/ryorin/ryorin/internal/platform"
)

// ListMembersRequest names contacts to add to or remove from a list.
type ListMembersRequest struct {
	ContactIDs []int64 `json:"contact_ids" doc:"at most 1000 contact ids"`
}

// ListMembersResult says how many contacts changed.
type ListMembersResult struct {
	Changed int `json:"changed" doc:"contacts added (or removed); those already on (or not on) the list are not counted"`
}

// PreviewRequest is an unsaved segment definition to count and preview.
type PreviewRequest struct {
	Definition json.RawMessage `json:"definition" doc:"the same shape as a segment's definition"`
}

var memberQ = []param{{"cursor", "integer", "next_cursor from the previous page (a contact id)"}, {"limit", "integer", "page size, 1–200 (default 50)"}}

func (s *Server) segmentRoutes() []op {
	if s.Segments == nil {
		return nil
	}
	return []op{
		{Method: "GET", Path: "/api/v1/lists", ID: "listLists", Summary: "List static lists with their member counts", Tag: "Segments", Resp: []segments.List{}, H: s.listLists},
		{Method: "POST", Path: "/api/v1/lists", ID: "createList", Summary: "Create a static list", Tag: "Segments", Body: segments.ListInput{}, Resp: segments.List{}, Status: http.StatusCreated, Roles: formEditors, Idempotent: true, H: s.createList},
		{Method: "GET", Path: "/api/v1/lists/{id}", ID: "getList", Summary: "Get a list", Tag: "Segments", Resp: segments.List{}, H: s.getList},
		{Method: "PATCH", Path: "/api/v1/lists/{id}", ID: "updateList", Summary: "Rename a list", Tag: "Segments", Body: segments.ListInput{}, Resp: segments.List{}, Roles: formEditors, H: s.updateList},
		{Method: "DELETE", Path: "/api/v1/lists/{id}", ID: "deleteList", Summary: "Delete a list", Tag: "Segments", Status: http.StatusNoContent, Roles: formEditors, H: s.deleteList},
		{Method: "GET", Path: "/api/v1/lists/{id}/members", ID: "listListMembers", Summary: "A list's members in contact id order", Tag: "Segments", Resp: segments.MemberPage{}, Query: memberQ, H: s.listListMembers},
		{Method: "POST", Path: "/api/v1/lists/{id}/members", ID: "addListMembers", Summary: "Add contacts to a list", Tag: "Segments", Body: ListMembersRequest{}, Resp: ListMembersResult{}, H: s.changeListMembers(true)},
		{Method: "POST", Path: "/api/v1/lists/{id}/members/remove", ID: "removeListMembers", Summary: "Remove contacts from a list", Tag: "Segments", Body: ListMembersRequest{}, Resp: ListMembersResult{}, H: s.changeListMembers(false)},
		{Method: "GET", Path: "/api/v1/segments", ID: "listSegments", Summary: "List segments with their member counts", Tag: "Segments", Resp: []segments.Segment{}, H: s.listSegments},
		{Method: "POST", Path: "/api/v1/segments", ID: "createSegment", Summary: "Create a segment (members are filled in the background, within seconds)", Tag: "Segments", Body: segments.SegmentInput{}, Resp: segments.Segment{}, Status: http.StatusCreated, Roles: formEditors, Idempotent: true, H: s.createSegment},
		{Method: "POST", Path: "/api/v1/segments/preview", ID: "previewSegment", Summary: "Count and preview the first 20 contacts of an unsaved definition", Tag: "Segments", Body: PreviewRequest{}, Resp: segments.Preview{}, H: s.previewSegment},
		{Method: "GET", Path: "/api/v1/segments/{id}", ID: "getSegment", Summary: "Get a segment", Tag: "Segments", Resp: segments.Segment{}, H: s.getSegment},
		{Method: "PUT", Path: "/api/v1/segments/{id}", ID: "updateSegment", Summary: "Replace a segment's name and definition", Tag: "Segments", Body: segments.SegmentInput{}, Resp: segments.Segment{}, Roles: formEditors, H: s.updateSegment},
		{Method: "DELETE", Path: "/api/v1/segments/{id}", ID: "deleteSegment", Summary: "Delete a segment", Tag: "Segments", Status: http.StatusNoContent, Roles: formEditors, H: s.deleteSegment},
		{Method: "GET", Path: "/api/v1/segments/{id}/members", ID: "listSegmentMembers", Summary: "A segment's current members in contact id order", Tag: "Segments", Resp: segments.MemberPage{}, Query: memberQ, H: s.listSegmentMembers},
	}
}

func (s *Server) listLists(w http.ResponseWriter, r *http.Request, a platform.Actor) (any, error) {
	return s.Segments.Lists(r.Context(), s.DB.Reader(), a.WorkspaceID)
}

func (s *Server) createList(w http.ResponseWriter, r *http.Request, a platform.Actor) (any, error) {
	var in segments.ListInput
	if err := decode(w, r, &in); err != nil {
		return nil, err
	}
	return s.Segments.CreateList(r.Context(), a, in)
}

func (s *Server) getList(w http.ResponseWriter, r *http.Request, a platform.Actor) (any, error) {
	id, err := pathID(r, "id")
	if err != nil {
		return nil, err
	}
	return s.Segments.GetList(r.Context(), s.DB.Reader(), a.WorkspaceID, id)
}

func (s *Server) updateList(w http.ResponseWriter, r *http.Request, a platform.Actor) (any, error) {
	id, err := pathID(r, "id")
	if err != nil {
		return nil, err
	}
	var in segments.ListInput
	if err := decode(w, r, &in); err != nil {
		return nil, err
	}
	return s.Segments.UpdateList(r.Context(), a, id, in)
}

func (s *Server) deleteList(w http.ResponseWriter, r *http.Request, a platform.Actor) (any, error) {
	id, err := pathID(r, "id")
	if err != nil {
		return nil, err
	}
	return nil, s.Segments.DeleteList(r.Context(), a, id)
}

func (s *Server) listListMembers(w http.ResponseWriter, r *http.Request, a platform.Actor) (any, error) {
	if err := segments.MayListMembers(a); err != nil {
		return nil, err
	}
	id, err := pathID(r, "id")
	if err != nil {
		return nil, err
	}
	var cur, limit int64
	if err := queryInts(r, "cursor", &cur, "limit", &limit); err != nil {
		return nil, err
	}
	return s.Segments.ListMembers(r.Context(), s.DB.Reader(), a.WorkspaceID, id, cur, int(limit))
}

func (s *Server) changeListMembers(add bool) handler {
	return func(w http.ResponseWriter, r *http.Request, a platform.Actor) (any, error) {
		id, err := pathID(r, "id")
		if err != nil {
			return nil, err
		}
		var in ListMembersRequest
		if err := decode(w, r, &in); err != nil {
			return nil, err
		}
		var n int
		if add {
			n, err = s.Segments.AddToList(r.Context(), a, id, in.ContactIDs)
		} else {
			n, err = s.Segments.RemoveFromList(r.Context(), a, id, in.ContactIDs)
		}
		return ListMembersResult{Changed: n}, err
	}
}

func (s *Server) listSegments(w http.ResponseWriter, r *http.Request, a platform.Actor) (any, error) {
	return s.Segments.Segments(r.Context(), s.DB.Reader(), a.WorkspaceID)
}

func (s *Server) createSegment(w http.ResponseWriter, r *http.Request, a platform.Actor) (any, error) {
	var in segments.SegmentInput
	if err := decode(w, r, &in); err != nil {
		return nil, err
	}
	return s.Segments.CreateSegment(r.Context(), a, in)
}

func (s *Server) previewSegment(w http.ResponseWriter, r *http.Request, a platform.Actor) (any, error) {
	if err := segments.MayListMembers(a); err != nil {
		return nil, err
	}
	var in PreviewRequest
	if err := decode(w, r, &in); err != nil {
		return nil, err
	}
	d, err := s.Segments.ParseDefinition(r.Context(), a.WorkspaceID, in.Definition)
	if err != nil {
		return nil, err
	}
	return s.Segments.PreviewDefinition(r.Context(), a.WorkspaceID, d)
}

func (s *Server) getSegment(w http.ResponseWriter, r *http.Request, a platform.Actor) (any, error) {
	id, err := pathID(r, "id")
	if err != nil {
		return nil, err
	}
	return s.Segments.GetSegment(r.Context(), s.DB.Reader(), a.WorkspaceID, id)
}

func (s *Server) updateSegment(w http.ResponseWriter, r *http.Request, a platform.Actor) (any, error) {
	id, err := pathID(r, "id")
	if err != nil {
		return nil, err
	}
	var in segments.SegmentInput
	if err := decode(w, r, &in); err != nil {
		return nil, err
	}
	return s.Segments.UpdateSegment(r.Context(), a, id, in)
}

func (s *Server) deleteSegment(w http.ResponseWriter, r *http.Request, a platform.Actor) (any, error) {
	id, err := pathID(r, "id")
	if err != nil {
		return nil, err
	}
	return nil, s.Segments.DeleteSegment(r.Context(), a, id)
}

func (s *Server) listSegmentMembers(w http.ResponseWriter, r *http.Request, a platform.Actor) (any, error) {
	if err := segments.MayListMembers(a); err != nil {
		return nil, err
	}
	id, err := pathID(r, "id")
	if err != nil {
		return nil, err
	}
	var cur, limit int64
	if err := queryInts(r, "cursor", &cur, "limit", &limit); err != nil {
		return nil, err
	}
	if cur == 0 && r.URL.Query().Get("cursor") != "" {
		return nil, errs.Field("cursor", "must be a contact id")
	}
	return s.Segments.SegmentMembers(r.Context(), s.DB.Reader(), a.WorkspaceID, id, cur, int(limit))
}
