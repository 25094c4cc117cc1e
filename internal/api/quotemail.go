package api

import (
	"net/http"

	"github.com/ryorin/ryorin/internal/platform"
	"github.com/ryorin/ryorin/internal/sales/quotemail"
)

func (s *Server) quoteMailRoutes() []op {
	if s.QuoteMail == nil {
		return nil
	}
	const tag = "Quotes"
	return []op{
		{Method: "POST", Path: "/api/v1/deals/{id}/quote-sends", ID: "sendQuote", Summary: "Email an issued quote version to one of the deal's contacts with a tracked, signed link to its public view (and PDF); logged as an email activity; Idempotency-Key makes a retry send nothing more",
			Tag: tag, Body: quotemail.SendInput{}, Resp: quotemail.Send{}, Status: http.StatusCreated, Idempotent: true, H: s.sendQuote},
		{Method: "GET", Path: "/api/v1/deals/{id}/quote-sends", ID: "listQuoteSends", Summary: "The quotes sent on a deal, newest first, with how often and when the customer viewed them", Tag: tag,
			Resp: []quotemail.Send{}, H: s.listQuoteSends},
	}
}

func (s *Server) sendQuote(w http.ResponseWriter, r *http.Request, a platform.Actor) (any, error) {
	id, err := pathID(r, "id")
	if err != nil {
		return nil, err
	}
	var in quotemail.SendInput
	if err := decode(w, r, &in); err != nil {
		return nil, err
	}
	if k := r.Header.Get("Idempotency-Key"); k != "" {
		in.IdempotencyKey = "api:" + k
	}
	in.BaseURL = publicBase(r)
	return s.QuoteMail.Send(r.Context(), a, id, in)
}

func (s *Server) listQuoteSends(w http.ResponseWriter, r *http.Request, a platform.Actor) (any, error) {
	id, err := pathID(r, "id")
	if err != nil {
		return nil, err
	}
	return s.QuoteMail.Sends(r.Context(), s.DB.Reader(), a, id)
}
