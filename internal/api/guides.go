package api

import (
	"net/http"

	"github.com/ryorin/ryorin/internal/crm"
	"github.com/ryorin/ryorin/internal/platform"
)

func (s *Server) guideRoutes() []op {
	return []op{
		{Method: "GET", Path: "/api/v1/stage-guides", ID: "listStageGuides", Summary: "Every pipeline stage's playbook: guidance, exit criteria, rotting limit", Tag: "Deals", Resp: []crm.StageGuide{}, H: s.listGuides},
		{Method: "PUT", Path: "/api/v1/stages/{id}/guide", ID: "putStageGuide", Summary: "Set a stage's playbook; exit criteria: " + joinCriteria(), Tag: "Deals", Body: crm.StageGuide{}, Resp: crm.StageGuide{}, Roles: adminOrMgr, H: s.putGuide},
	}
}

func joinCriteria() string {
	out := ""
	for i, c := range crm.ExitCriteria {
		if i > 0 {
			out += ", "
		}
		out += c
	}
	return out
}

func (s *Server) listGuides(w http.ResponseWriter, r *http.Request, a platform.Actor) (any, error) {
	m, err := s.CRM.StageGuides(r.Context(), s.DB.Reader(), a.WorkspaceID)
	out := []crm.StageGuide{}
	for _, g := range m {
		out = append(out, g)
	}
	return out, err
}

func (s *Server) putGuide(w http.ResponseWriter, r *http.Request, a platform.Actor) (any, error) {
	id, err := pathID(r, "id")
	if err != nil {
		return nil, err
	}
	var in crm.StageGuide
	if err := decode(w, r, &in); err != nil {
		return nil, err
	}
	in.StageID = id
	return s.CRM.SetStageGuide(r.Context(), a, in)
}
