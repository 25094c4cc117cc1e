package api

import (
	"net/http"

	"github.com/ryorin/ryorin/internal/dedupe"
	"github.com/ryorin/ryorin/internal/platform"
)

// MergeRequest merges removed_id into kept_id.
type MergeRequest struct {
	Object    string `json:"object" enum:"contact,company"`
	KeptID    int64  `json:"kept_id"`
	RemovedID int64  `json:"removed_id"`
}

func (s *Server) dedupe() *dedupe.Service { return &dedupe.Service{DB: s.DB, Clock: s.Clock} }

func (s *Server) dedupeRoutes() []op {
	return []op{
		{Method: "GET", Path: "/api/v1/duplicates", ID: "listDuplicates", Summary: "Likely duplicates: contacts by phone or name within a company, companies by domain or name", Tag: "Data", Resp: []dedupe.Group{},
			Query: []param{{"limit", "integer", "groups per rule, 1–500 (default 100)"}}, H: s.listDuplicates},
		{Method: "POST", Path: "/api/v1/merges", ID: "mergeRecords", Summary: "Merge two contacts or companies, keeping every activity, event, deal and timeline entry (undo within 30 days)", Tag: "Data",
			Body: MergeRequest{}, Resp: dedupe.Merge{}, Status: http.StatusCreated, Roles: adminOrMgr, H: s.mergeRecords},
		{Method: "POST", Path: "/api/v1/merges/{id}/undo", ID: "undoMerge", Summary: "Undo a merge", Tag: "Data", Status: http.StatusNoContent, Roles: adminOrMgr, H: s.undoMerge},
	}
}

func (s *Server) listDuplicates(w http.ResponseWriter, r *http.Request, a platform.Actor) (any, error) {
	limit, err := queryLimit(r)
	if err != nil {
		return nil, err
	}
	out, err := s.dedupe().Duplicates(r.Context(), s.DB.Reader(), a.WorkspaceID, limit)
	if out == nil {
		out = []dedupe.Group{}
	}
	return out, err
}

func (s *Server) mergeRecords(w http.ResponseWriter, r *http.Request, a platform.Actor) (any, error) {
	var in MergeRequest
	if err := decode(w, r, &in); err != nil {
		return nil, err
	}
	return s.dedupe().MergeRecords(r.Context(), a, in.Object, in.KeptID, in.RemovedID)
}

func (s *Server) undoMerge(w http.ResponseWriter, r *http.Request, a platform.Actor) (any, error) {
	id, err := pathID(r, "id")
	if err != nil {
		return nil, err
	}
	return nil, s.dedupe().Undo(r.Context(), a, id)
}
