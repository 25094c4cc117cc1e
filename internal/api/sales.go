package api

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/ryorin/ryorin/internal/crm"
	"github.com/ryorin/ryorin/internal/errs"
	"github.com/ryorin/ryorin/internal/platform"
)

func (s *Server) salesRoutes() []op {
	dealQ := append([]param{{"pipeline_id", "integer", ""}, {"stage_id", "integer", ""}, {"owner_id", "integer", ""}, {"company_id", "integer", ""},
		{"contact_id", "integer", ""}, {"status", "string", "open, won or lost"}, {"q", "string", "partial match on the deal name"},
		{"sort", "string", "-created_at (default), -updated_at, updated_at, -amount, close_date"}, {"prop.<key>", "string", "custom property equals value"}}, listParams...)
	actQ := append([]param{{"contact_id", "integer", ""}, {"company_id", "integer", ""}, {"deal_id", "integer", ""}, {"owner_id", "integer", ""},
		{"kind", "string", "call, email, meeting, demo, note or task"}, {"open_tasks", "boolean", "only tasks not yet done, soonest due first"}}, listParams...)
	return []op{
		{Method: "GET", Path: "/api/v1/pipelines", ID: "listPipelines", Summary: "List pipelines with their stages", Tag: "Deals", Resp: []crm.Pipeline{}, H: s.listPipelines},
		{Method: "POST", Path: "/api/v1/pipelines", ID: "createPipeline", Summary: "Create a pipeline", Tag: "Deals", Body: crm.PipelineInput{}, Resp: crm.Pipeline{}, Status: http.StatusCreated, Roles: admin, Idempotent: true, H: s.createPipeline},
		{Method: "GET", Path: "/api/v1/pipelines/{id}", ID: "getPipeline", Summary: "Get a pipeline", Tag: "Deals", Resp: crm.Pipeline{}, H: s.getPipeline},
		{Method: "PUT", Path: "/api/v1/pipelines/{id}", ID: "replacePipeline", Summary: "Rename, reorder and change a pipeline's stages", Tag: "Deals", Body: crm.PipelineInput{}, Resp: crm.Pipeline{}, Roles: admin, H: s.replacePipeline},

		{Method: "GET", Path: "/api/v1/deals", ID: "listDeals", Summary: "List deals", Tag: "Deals", Resp: crm.Page[crm.Deal]{}, Query: dealQ, H: s.listDeals},
		{Method: "POST", Path: "/api/v1/deals", ID: "createDeal", Summary: "Create a deal", Tag: "Deals", Body: crm.DealInput{}, Resp: crm.Deal{}, Status: http.StatusCreated, Idempotent: true, H: s.createDeal},
		{Method: "GET", Path: "/api/v1/deals/{id}", ID: "getDeal", Summary: "Get a deal", Tag: "Deals", Resp: crm.Deal{}, H: s.getDeal},
		{Method: "PATCH", Path: "/api/v1/deals/{id}", ID: "updateDeal", Summary: "Update a deal (move stage, win, lose). With If-Match set to the ETag of a GET, a change made by someone else since is not overwritten: 409 on version", Tag: "Deals", Body: crm.DealInput{}, Resp: crm.Deal{}, H: s.updateDeal},
		{Method: "DELETE", Path: "/api/v1/deals/{id}", ID: "deleteDeal", Summary: "Delete a deal", Tag: "Deals", Status: http.StatusNoContent, H: s.deleteDeal},
		{Method: "GET", Path: "/api/v1/deals/{id}/timeline", ID: "dealTimeline", Summary: "A deal's timeline, newest first", Tag: "Deals", Resp: TimelinePage{}, Query: timelineQ, H: s.timeline("deal")},
		{Method: "GET", Path: "/api/v1/competitors", ID: "listCompetitors", Summary: "List competitors", Tag: "Deals", Resp: []crm.Competitor{}, H: s.listCompetitors},
		{Method: "POST", Path: "/api/v1/competitors", ID: "createCompetitor", Summary: "Add a competitor", Tag: "Deals", Body: crm.Competitor{}, Resp: crm.Competitor{}, Status: http.StatusCreated, Idempotent: true, H: s.createCompetitor},

		{Method: "GET", Path: "/api/v1/activities", ID: "listActivities", Summary: "List activities", Tag: "Activities", Resp: crm.Page[crm.Activity]{}, Query: actQ, H: s.listActivities},
		{Method: "POST", Path: "/api/v1/activities", ID: "logActivity", Summary: "Log a call, email, meeting, demo, note or task", Tag: "Activities", Body: crm.ActivityInput{}, Resp: crm.Activity{}, Status: http.StatusCreated, Idempotent: true, H: s.logActivity},
		{Method: "GET", Path: "/api/v1/activities/{id}", ID: "getActivity", Summary: "Get an activity", Tag: "Activities", Resp: crm.Activity{}, H: s.getActivity},
		{Method: "PATCH", Path: "/api/v1/activities/{id}", ID: "updateActivity", Summary: "Update an activity (e.g. mark a task done)", Tag: "Activities", Body: crm.ActivityInput{}, Resp: crm.Activity{}, H: s.updateActivity},
		{Method: "DELETE", Path: "/api/v1/activities/{id}", ID: "deleteActivity", Summary: "Delete an activity", Tag: "Activities", Status: http.StatusNoContent, H: s.deleteActivity},
	}
}

func (s *Server) listPipelines(w http.ResponseWriter, r *http.Request, a platform.Actor) (any, error) {
	return s.CRM.Pipelines(r.Context(), s.DB.Reader(), a.WorkspaceID)
}

func (s *Server) createPipeline(w http.ResponseWriter, r *http.Request, a platform.Actor) (any, error) {
	var in crm.PipelineInput
	if err := decode(w, r, &in); err != nil {
		return nil, err
	}
	return s.CRM.SavePipeline(r.Context(), a, 0, in)
}

func (s *Server) getPipeline(w http.ResponseWriter, r *http.Request, a platform.Actor) (any, error) {
	id, err := pathID(r, "id")
	if err != nil {
		return nil, err
	}
	return s.CRM.GetPipeline(r.Context(), s.DB.Reader(), a.WorkspaceID, id)
}

func (s *Server) replacePipeline(w http.ResponseWriter, r *http.Request, a platform.Actor) (any, error) {
	id, err := pathID(r, "id")
	if err != nil {
		return nil, err
	}
	var in crm.PipelineInput
	if err := decode(w, r, &in); err != nil {
		return nil, err
	}
	return s.CRM.SavePipeline(r.Context(), a, id, in)
}

func (s *Server) listDeals(w http.ResponseWriter, r *http.Request, a platform.Actor) (any, error) {
	q := r.URL.Query()
	f := crm.DealFilter{Status: q.Get("status"), Q: q.Get("q"), Sort: q.Get("sort"), Cursor: q.Get("cursor"), Props: queryProps(r)}
	err := queryInts(r, "pipeline_id", &f.PipelineID, "stage_id", &f.StageID, "owner_id", &f.OwnerID, "company_id", &f.CompanyID, "contact_id", &f.ContactID)
	if err != nil {
		return nil, err
	}
	if f.Limit, err = queryLimit(r); err != nil {
		return nil, err
	}
	return s.CRM.ListDeals(r.Context(), a, f)
}

func (s *Server) createDeal(w http.ResponseWriter, r *http.Request, a platform.Actor) (any, error) {
	var in crm.DealInput
	if err := decode(w, r, &in); err != nil {
		return nil, err
	}
	return s.CRM.CreateDeal(r.Context(), a, in)
}

func (s *Server) getDeal(w http.ResponseWriter, r *http.Request, a platform.Actor) (any, error) {
	id, err := pathID(r, "id")
	if err != nil {
		return nil, err
	}
	d, err := s.CRM.GetDeal(r.Context(), s.DB.Reader(), a, id)
	if err == nil {
		w.Header().Set("ETag", strconv.Quote(strconv.FormatInt(d.Version(), 10)))
	}
	return d, err
}

func (s *Server) updateDeal(w http.ResponseWriter, r *http.Request, a platform.Actor) (any, error) {
	id, err := pathID(r, "id")
	if err != nil {
		return nil, err
	}
	var in crm.DealInput
	if err := decode(w, r, &in); err != nil {
		return nil, err
	}
	// If-Match: the ETag of the deal as the caller last read it.
	if m := r.Header.Get("If-Match"); m != "" && m != "*" {
		v, err := strconv.ParseInt(strings.Trim(strings.TrimPrefix(m, "W/"), `"`), 10, 64)
		if err != nil {
			return nil, errs.Field("If-Match", "must be the deal's ETag")
		}
		in.IfVersion = &v
	}
	d, err := s.CRM.UpdateDeal(r.Context(), a, id, in)
	if err == nil {
		w.Header().Set("ETag", strconv.Quote(strconv.FormatInt(d.Version(), 10)))
	}
	return d, err
}

func (s *Server) deleteDeal(w http.ResponseWriter, r *http.Request, a platform.Actor) (any, error) {
	id, err := pathID(r, "id")
	if err != nil {
		return nil, err
	}
	return nil, s.CRM.DeleteDeal(r.Context(), a, id)
}

func (s *Server) listCompetitors(w http.ResponseWriter, r *http.Request, a platform.Actor) (any, error) {
	return s.CRM.Competitors(r.Context(), s.DB.Reader(), a.WorkspaceID)
}

func (s *Server) createCompetitor(w http.ResponseWriter, r *http.Request, a platform.Actor) (any, error) {
	var in crm.Competitor
	if err := decode(w, r, &in); err != nil {
		return nil, err
	}
	return s.CRM.CreateCompetitor(r.Context(), a, in)
}

func (s *Server) listActivities(w http.ResponseWriter, r *http.Request, a platform.Actor) (any, error) {
	q := r.URL.Query()
	f := crm.ActivityFilter{Kind: q.Get("kind"), OpenTasks: q.Get("open_tasks") == "true", Cursor: q.Get("cursor")}
	err := queryInts(r, "contact_id", &f.ContactID, "company_id", &f.CompanyID, "deal_id", &f.DealID, "owner_id", &f.OwnerID)
	if err != nil {
		return nil, err
	}
	if f.Limit, err = queryLimit(r); err != nil {
		return nil, err
	}
	return s.CRM.ListActivities(r.Context(), a, f)
}

func (s *Server) logActivity(w http.ResponseWriter, r *http.Request, a platform.Actor) (any, error) {
	var in crm.ActivityInput
	if err := decode(w, r, &in); err != nil {
		return nil, err
	}
	return s.CRM.LogActivity(r.Context(), a, in)
}

func (s *Server) getActivity(w http.ResponseWriter, r *http.Request, a platform.Actor) (any, error) {
	id, err := pathID(r, "id")
	if err != nil {
		return nil, err
	}
	return s.CRM.GetActivity(r.Context(), s.DB.Reader(), a, id)
}

func (s *Server) updateActivity(w http.ResponseWriter, r *http.Request, a platform.Actor) (any, error) {
	id, err := pathID(r, "id")
	if err != nil {
		return nil, err
	}
	var in crm.ActivityInput
	if err := decode(w, r, &in); err != nil {
		return nil, err
	}
	return s.CRM.UpdateActivity(r.Context(), a, id, in)
}

func (s *Server) deleteActivity(w http.ResponseWriter, r *http.Request, a platform.Actor) (any, error) {
	id, err := pathID(r, "id")
	if err != nil {
		return nil, err
	}
	return nil, s.CRM.DeleteActivity(r.Context(), a, id)
}
