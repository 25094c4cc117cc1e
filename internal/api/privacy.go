package api

import (
	"net/http"

	"github.com/ryorin/ryorin/internal/platform"
	"github.com/ryorin/ryorin/internal/privacy"
)

func (s *Server) privacy() *privacy.Service {
	return &privacy.Service{DB: s.DB, CRM: s.CRM, Clock: s.Clock}
}

func (s *Server) privacyRoutes() []op {
	return []op{
		{Method: "GET", Path: "/api/v1/contacts/{id}/consent", ID: "contactConsent", Summary: "What the person agreed to, when and on which form", Tag: "Personal data", Resp: []privacy.ConsentRecord{}, H: s.contactConsent},
		{Method: "GET", Path: "/api/v1/contacts/{id}/export", ID: "exportPersonalData", Summary: "Everything Ryorin holds about one person, every table and column (APPI / GDPR access request)", Tag: "Personal data", Resp: privacy.Export{}, Roles: admin, H: s.exportPersonalData},
		{Method: "POST", Path: "/api/v1/contacts/{id}/erase", ID: "erasePersonalData", Summary: "Erase a person and their events, emails and history, keeping only anonymous counts", Tag: "Personal data", Resp: privacy.Erasure{}, Roles: admin, H: s.erasePersonalData},
	}
}

func (s *Server) contactConsent(w http.ResponseWriter, r *http.Request, a platform.Actor) (any, error) {
	id, err := pathID(r, "id")
	if err != nil {
		return nil, err
	}
	out, err := s.privacy().ConsentRecords(r.Context(), a, id)
	if out == nil {
		out = []privacy.ConsentRecord{}
	}
	return out, err
}

func (s *Server) exportPersonalData(w http.ResponseWriter, r *http.Request, a platform.Actor) (any, error) {
	id, err := pathID(r, "id")
	if err != nil {
		return nil, err
	}
	return s.privacy().ExportContact(r.Context(), a, id)
}

func (s *Server) erasePersonalData(w http.ResponseWriter, r *http.Request, a platform.Actor) (any, error) {
	id, err := pathID(r, "id")
	if err != nil {
		return nil, err
	}
	return s.privacy().EraseContact(r.Context(), a, id)
}
