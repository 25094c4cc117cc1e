package api

import (
	"io"
	"net/http"

	"github.com/ryorin/ryorin/internal/errs"
	"github.com/ryorin/ryorin/internal/platform"
	"github.com/ryorin/ryorin/internal/salesmail"
)

// ReplyAddress is the signed-in user's personal reply address.
type ReplyAddress struct {
	Address string `json:"address" doc:"reply+…@<inbound domain>; empty while the workspace has no inbound domain"`
}

func (s *Server) salesMailRoutes() []op {
	if s.SalesMail == nil {
		return nil
	}
	return []op{
		{Method: "POST", Path: "/api/v1/contacts/{id}/emails", ID: "sendContactEmail", Summary: "Send an email to a contact from the signed-in rep (queued, tracked, logged as an email activity); Idempotency-Key makes a retry send nothing more", Tag: "Email", Body: salesmail.SendInput{}, Resp: salesmail.Email{}, Status: http.StatusCreated, Idempotent: true, H: s.sendContactEmail},
		{Method: "GET", Path: "/api/v1/contacts/{id}/emails", ID: "listContactEmails", Summary: "Emails to and from a contact, newest first, with open and click counts", Tag: "Email", Resp: []salesmail.Email{}, H: s.listContactEmails},
		{Method: "POST", Path: "/api/v1/emails/inbound", ID: "postInboundEmail", Summary: "Log a reply (from a mail provider's inbound webhook or a forwarder) as an inbound email activity on the sender's contact", Tag: "Email", Body: salesmail.InboundMessage{}, Resp: salesmail.Email{}, Status: http.StatusCreated, MaxBody: salesmail.MaxInbound, H: s.postInboundEmail},
		{Method: "GET", Path: "/api/v1/me/reply-address", ID: "getMyReplyAddress", Summary: "My personal reply address (mail sent to it is logged as a reply attributed to me)", Tag: "Email", Resp: ReplyAddress{}, H: s.myReplyAddress},
		{Method: "GET", Path: "/api/v1/settings/sales-email", ID: "getSalesEmailSettings", Summary: "Sales email settings (the inbound domain)", Tag: "Email", Resp: salesmail.Settings{}, H: s.getSalesEmailSettings},
		{Method: "PUT", Path: "/api/v1/settings/sales-email", ID: "setSalesEmailSettings", Summary: "Change the sales email settings", Tag: "Email", Body: salesmail.Settings{}, Resp: salesmail.Settings{}, Roles: admin, H: s.setSalesEmailSettings},
	}
}

func (s *Server) sendContactEmail(w http.ResponseWriter, r *http.Request, a platform.Actor) (any, error) {
	id, err := pathID(r, "id")
	if err != nil {
		return nil, err
	}
	var in salesmail.SendInput
	if err := decode(w, r, &in); err != nil {
		return nil, err
	}
	if k := r.Header.Get("Idempotency-Key"); k != "" {
		in.IdempotencyKey = "api:" + k
	}
	in.BaseURL = publicBase(r)
	return s.SalesMail.Send(r.Context(), a, id, in)
}

func (s *Server) listContactEmails(w http.ResponseWriter, r *http.Request, a platform.Actor) (any, error) {
	id, err := pathID(r, "id")
	if err != nil {
		return nil, err
	}
	return s.SalesMail.List(r.Context(), a, id)
}

func (s *Server) postInboundEmail(w http.ResponseWriter, r *http.Request, a platform.Actor) (any, error) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, salesmail.MaxInbound))
	if err != nil {
		return nil, errs.E(errs.TooLarge, "", "the body is larger than %d bytes", salesmail.MaxInbound)
	}
	m, err := salesmail.ParseInbound(body)
	if err != nil {
		return nil, err
	}
	return s.SalesMail.Inbound(r.Context(), a, m)
}

func (s *Server) myReplyAddress(w http.ResponseWriter, r *http.Request, a platform.Actor) (any, error) {
	addr, err := s.SalesMail.MyReplyAddress(r.Context(), a)
	return ReplyAddress{Address: addr}, err
}

func (s *Server) getSalesEmailSettings(w http.ResponseWriter, r *http.Request, a platform.Actor) (any, error) {
	return salesmail.GetSettings(r.Context(), s.DB.Reader(), a.WorkspaceID)
}

func (s *Server) setSalesEmailSettings(w http.ResponseWriter, r *http.Request, a platform.Actor) (any, error) {
	var in salesmail.Settings
	if err := decode(w, r, &in); err != nil {
		return nil, err
	}
	return s.SalesMail.SaveSettings(r.Context(), a, in)
}
