package api

import (
	"net/http"

	"github.com/ryorin/ryorin/internal/crm"
	"github.com/ryorin/ryorin/internal/errs"
	"github.com/ryorin/ryorin/internal/platform"
)

func (s *Server) listContacts(w http.ResponseWriter, r *http.Request, a platform.Actor) (any, error) {
	q := r.URL.Query()
	f := crm.ContactFilter{Stage: platform.Stage(q.Get("lifecycle_stage")), Q: q.Get("q"), Email: q.Get("email"),
		Sort: q.Get("sort"), Cursor: q.Get("cursor"), Props: queryProps(r)}
	err := queryInts(r, "owner_id", &f.OwnerID, "company_id", &f.CompanyID)
	if err != nil {
		return nil, err
	}
	if f.Limit, err = queryLimit(r); err != nil {
		return nil, err
	}
	return s.CRM.ListContacts(r.Context(), a, f)
}

func (s *Server) createContact(w http.ResponseWriter, r *http.Request, a platform.Actor) (any, error) {
	var in crm.ContactInput
	if err := decode(w, r, &in); err != nil {
		return nil, err
	}
	return s.CRM.CreateContact(r.Context(), a, in)
}

func (s *Server) getContact(w http.ResponseWriter, r *http.Request, a platform.Actor) (any, error) {
	id, err := pathID(r, "id")
	if err != nil {
		return nil, err
	}
	c, err := s.CRM.GetContact(r.Context(), s.DB.Reader(), a, id)
	if err == nil && s.Scorer != nil {
		err = s.Scorer.Explain(r.Context(), a.WorkspaceID, &c)
	}
	return c, err
}

func (s *Server) updateContact(w http.ResponseWriter, r *http.Request, a platform.Actor) (any, error) {
	id, err := pathID(r, "id")
	if err != nil {
		return nil, err
	}
	var in crm.ContactInput
	if err := decode(w, r, &in); err != nil {
		return nil, err
	}
	return s.CRM.UpdateContact(r.Context(), a, id, in, platform.Cause{})
}

func (s *Server) deleteContact(w http.ResponseWriter, r *http.Request, a platform.Actor) (any, error) {
	id, err := pathID(r, "id")
	if err != nil {
		return nil, err
	}
	return nil, s.CRM.DeleteContact(r.Context(), a, id)
}

func (s *Server) lifecycle(w http.ResponseWriter, r *http.Request, a platform.Actor) (any, error) {
	id, err := pathID(r, "id")
	if err != nil {
		return nil, err
	}
	if _, err := s.CRM.GetContact(r.Context(), s.DB.Reader(), a, id); err != nil {
		return nil, err
	}
	return platform.LifecycleHistory(r.Context(), s.DB.Reader(), a.WorkspaceID, id)
}

// TimelinePage is a page of timeline entries.
type TimelinePage struct {
	Items      []platform.TimelineEntry `json:"items"`
	NextCursor string                   `json:"next_cursor,omitempty"`
}

// timeline serves the timeline of a contact, company or deal after checking
// the actor may see the record.
func (s *Server) timeline(subject string) handler {
	return func(w http.ResponseWriter, r *http.Request, a platform.Actor) (any, error) {
		id, err := pathID(r, "id")
		if err != nil {
			return nil, err
		}
		ctx, q := r.Context(), s.DB.Reader()
		switch subject {
		case "contact":
			_, err = s.CRM.GetContact(ctx, q, a, id)
		case "company":
			_, err = s.CRM.GetCompany(ctx, q, a, id)
		case "deal":
			_, err = s.CRM.GetDeal(ctx, q, a, id)
		}
		if err != nil {
			return nil, err
		}
		tq := platform.TimelineQuery{Subject: subject, ID: id, Kinds: r.URL.Query()["kind"]}
		if tq.Limit, err = queryLimit(r); err != nil {
			return nil, err
		}
		if c := r.URL.Query().Get("cursor"); c != "" {
			var ok bool
			if tq.BeforeAt, tq.BeforeID, ok = decodeTimeCursor(c); !ok {
				return nil, errs.Field("cursor", "is not a cursor this API returned")
			}
		}
		items, err := platform.ListTimeline(ctx, q, a.WorkspaceID, tq)
		if err != nil {
			return nil, err
		}
		page := TimelinePage{Items: items}
		limit := tq.Limit
		if limit == 0 {
			limit = 50
		}
		if len(items) == limit {
			last := items[len(items)-1]
			page.NextCursor = encodeTimeCursor(last.At.UnixMilli(), last.ID)
		}
		return page, nil
	}
}

func (s *Server) listCompanies(w http.ResponseWriter, r *http.Request, a platform.Actor) (any, error) {
	q := r.URL.Query()
	f := crm.CompanyFilter{Q: q.Get("q"), Domain: q.Get("domain"), CorporateNumber: q.Get("corporate_number"),
		Sort: q.Get("sort"), Cursor: q.Get("cursor"), Props: queryProps(r)}
	var err error
	if f.OwnerID, err = queryInt(r, "owner_id"); err != nil {
		return nil, err
	}
	if f.Limit, err = queryLimit(r); err != nil {
		return nil, err
	}
	return s.CRM.ListCompanies(r.Context(), a, f)
}

func (s *Server) createCompany(w http.ResponseWriter, r *http.Request, a platform.Actor) (any, error) {
	var in crm.CompanyInput
	if err := decode(w, r, &in); err != nil {
		return nil, err
	}
	return s.CRM.CreateCompany(r.Context(), a, in)
}

func (s *Server) getCompany(w http.ResponseWriter, r *http.Request, a platform.Actor) (any, error) {
	id, err := pathID(r, "id")
	if err != nil {
		return nil, err
	}
	return s.CRM.GetCompany(r.Context(), s.DB.Reader(), a, id)
}

func (s *Server) updateCompany(w http.ResponseWriter, r *http.Request, a platform.Actor) (any, error) {
	id, err := pathID(r, "id")
	if err != nil {
		return nil, err
	}
	var in crm.CompanyInput
	if err := decode(w, r, &in); err != nil {
		return nil, err
	}
	return s.CRM.UpdateCompany(r.Context(), a, id, in)
}

func (s *Server) deleteCompany(w http.ResponseWriter, r *http.Request, a platform.Actor) (any, error) {
	id, err := pathID(r, "id")
	if err != nil {
		return nil, err
	}
	return nil, s.CRM.DeleteCompany(r.Context(), a, id)
}

// PropertyRequest defines or changes a custom property. object_type, key and
// type are fixed once created.
type PropertyRequest struct {
	ObjectType string           `json:"object_type,omitempty" doc:"contact, company or deal (create only)"`
	Key        string           `json:"key,omitempty" doc:"lower_snake_case key used in props (create only)"`
	LabelEN    string           `json:"label_en,omitempty"`
	LabelJA    string           `json:"label_ja,omitempty"`
	Type       crm.PropertyType `json:"type,omitempty" doc:"text, number, date, single_choice, multi_choice or bool (create only)"`
	Options    []crm.Option     `json:"options,omitempty"`
	Required   bool             `json:"required,omitempty"`
	Position   int              `json:"position,omitempty"`
}

func (p PropertyRequest) def() crm.PropertyDefinition {
	return crm.PropertyDefinition{ObjectType: p.ObjectType, Key: p.Key, LabelEN: p.LabelEN, LabelJA: p.LabelJA, Type: p.Type,
		Options: p.Options, Required: p.Required, Position: p.Position}
}

func (s *Server) listProperties(w http.ResponseWriter, r *http.Request, a platform.Actor) (any, error) {
	ot := r.URL.Query().Get("object_type")
	if ot != "" && ot != "contact" && ot != "company" && ot != "deal" {
		return nil, errs.Field("object_type", "must be contact, company or deal")
	}
	return s.CRM.Properties(r.Context(), s.DB.Reader(), a.WorkspaceID, ot)
}

func (s *Server) createProperty(w http.ResponseWriter, r *http.Request, a platform.Actor) (any, error) {
	var in PropertyRequest
	if err := decode(w, r, &in); err != nil {
		return nil, err
	}
	return s.CRM.SaveProperty(r.Context(), a, 0, in.def())
}

func (s *Server) updateProperty(w http.ResponseWriter, r *http.Request, a platform.Actor) (any, error) {
	id, err := pathID(r, "id")
	if err != nil {
		return nil, err
	}
	var in PropertyRequest
	if err := decode(w, r, &in); err != nil {
		return nil, err
	}
	return s.CRM.SaveProperty(r.Context(), a, id, in.def())
}

func (s *Server) deleteProperty(w http.ResponseWriter, r *http.Request, a platform.Actor) (any, error) {
	id, err := pathID(r, "id")
	if err != nil {
		return nil, err
	}
	return nil, s.CRM.DeleteProperty(r.Context(), a, id)
}

func queryLimit(r *http.Request) (int, error) {
	n, err := queryInt(r, "limit")
	if err != nil {
		return 0, err
	}
	if n > 200 {
		return 0, errs.Field("limit", "must be at most 200")
	}
	return int(n), nil
}
