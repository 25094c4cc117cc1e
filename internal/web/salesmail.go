package web

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/http"
	"strings"

	"github.com/ryorin/ryorin/internal/crm"
	"github.com/ryorin/ryorin/internal/errs"
	"github.com/ryorin/ryorin/internal/i18n"
	"github.com/ryorin/ryorin/internal/platform"
	"github.com/ryorin/ryorin/internal/salesmail"
)

// MailBox is the "send email" form on a contact's or a deal's page, with the
// contact's emails and their opens and clicks.
type MailBox struct {
	Page      Page
	Action    string
	Contacts  []crm.Contact // a deal's contacts to choose from (empty on a contact's page)
	ContactID int64         // the chosen contact
	NoAddress bool          // the contact has no email address
	Templates []salesmail.Template
	Emails    []salesmail.Email
	In        map[string]string
	Nonce     string // one per rendered form, so a double submit sends once
	Error     string
}

// Stats describes an email's opens and clicks in the page's language.
func (b *MailBox) Stats(e salesmail.Email) string { return emailStats(b.Page, e) }

func emailStats(p Page, e salesmail.Email) string {
	if e.Direction == salesmail.Inbound {
		return p.T("salesmail.received")
	}
	s := p.T("salesmail.stats", "opens", e.Opens, "clicks", e.Clicks)
	if e.LastOpenAt != nil {
		s += " · " + p.T("salesmail.last_open", "at", p.DateTime(*e.LastOpenAt))
	}
	if e.Status != "" {
		s += " · " + p.T("salesmail.status."+e.Status)
	}
	return s
}

func newNonce() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// mailBox loads the form for a contact (contactID) or a deal's contacts.
func (s *Server) mailBox(ctx context.Context, p Page, a platform.Actor, contactID int64, contacts []crm.Contact, action string) (*MailBox, error) {
	if s.SalesMail == nil {
		return nil, nil
	}
	b := &MailBox{Page: p, Action: action, ContactID: contactID, Contacts: contacts, In: map[string]string{}, Nonce: newNonce()}
	var err error
	if b.Templates, err = s.SalesMail.Templates(ctx, a.WorkspaceID); err != nil {
		return nil, err
	}
	if contactID != 0 && len(contacts) == 0 {
		if b.Emails, err = s.SalesMail.List(ctx, a, contactID); err != nil {
			return nil, err
		}
	}
	return b, nil
}

// sendEmailInput reads the send form.
func sendEmailInput(r *http.Request, base string) salesmail.SendInput {
	in := salesmail.SendInput{Subject: r.PostFormValue("subject"), Body: strings.ReplaceAll(r.PostFormValue("body"), "\r\n", "\n"),
		TemplateID: formInt(r.PostFormValue("template_id")), DealID: formInt(r.PostFormValue("deal_id")), BaseURL: base}
	if n := r.PostFormValue("nonce"); n != "" {
		in.IdempotencyKey = "form:" + n
	}
	return in
}

// mailError is a refused send's message in the user's language.
func mailError(lang i18n.Lang, err error) (string, bool) {
	field, msg, ok := formError(err)
	if !ok {
		return "", false
	}
	switch {
	case field == "to" && strings.HasPrefix(msg, "mail to this address is blocked"):
		return i18n.T(lang, "salesmail.err.blocked"), true
	case field == "to":
		return i18n.T(lang, "salesmail.err.no_address"), true
	case field == "subject" || field == "body" || field == "text" || field == "template_id" || field == "deal_id":
		return i18n.T(lang, "salesmail.field."+field) + ": " + localize(lang, msg), true
	}
	return localize(lang, msg), true
}

// sendContactEmail sends the form on a contact's page.
func (s *Server) sendContactEmail(w http.ResponseWriter, r *http.Request, c *rctx) error {
	if s.SalesMail == nil {
		return notFound()
	}
	id := formInt(r.PathValue("id"))
	in := sendEmailInput(r, s.publicBase(r, c.WS))
	in.DealID = 0
	_, err := s.SalesMail.Send(r.Context(), c.Actor, id, in)
	if msg, ok := mailError(c.Lang, err); ok {
		data, lerr := s.loadContactPage(r, c, id)
		if lerr != nil {
			return lerr
		}
		if data.Mail != nil {
			data.Mail.Error, data.Mail.In = msg, formValues(r, "nonce")
		}
		w.WriteHeader(http.StatusUnprocessableEntity)
		return s.show(w, c, "contact", data)
	}
	if err != nil {
		return err
	}
	flash(w, i18n.T(c.Lang, "salesmail.sent"))
	http.Redirect(w, r, fmt.Sprintf("/contacts/%d", id), http.StatusSeeOther)
	return nil
}

// sendDealEmail sends the form on a deal's page to one of its contacts.
func (s *Server) sendDealEmail(w http.ResponseWriter, r *http.Request, c *rctx) error {
	if s.SalesMail == nil {
		return notFound()
	}
	id := formInt(r.PathValue("id"))
	d, err := s.CRM.GetDeal(r.Context(), s.DB.Reader(), c.Actor, id)
	if err != nil {
		return err
	}
	contact := formInt(r.PostFormValue("contact_id"))
	err = errs.Rule("to", "this contact has no email address")
	for _, dc := range d.Contacts {
		if dc.ContactID == contact {
			in := sendEmailInput(r, s.publicBase(r, c.WS))
			in.DealID = id
			_, err = s.SalesMail.Send(r.Context(), c.Actor, contact, in)
		}
	}
	if msg, ok := mailError(c.Lang, err); ok {
		data, lerr := s.loadDealPage(r, c, id)
		if lerr != nil {
			return lerr
		}
		if data.Mail != nil {
			data.Mail.Error, data.Mail.In = msg, formValues(r, "nonce")
			data.Mail.ContactID = contact
		}
		w.WriteHeader(http.StatusUnprocessableEntity)
		return s.show(w, c, "deal", data)
	}
	if err != nil {
		return err
	}
	flash(w, i18n.T(c.Lang, "salesmail.sent"))
	http.Redirect(w, r, fmt.Sprintf("/deals/%d", id), http.StatusSeeOther)
	return nil
}

// saveInboundDomain sets the workspace's inbound domain (admins; the form
// is on the profile page beside the reply address).
func (s *Server) saveInboundDomain(w http.ResponseWriter, r *http.Request, c *rctx) error {
	if s.SalesMail == nil {
		return notFound()
	}
	_, err := s.SalesMail.SaveSettings(r.Context(), c.Actor, salesmail.Settings{InboundDomain: r.PostFormValue("inbound_domain")})
	if _, msg, ok := formError(err); ok {
		flash(w, i18n.T(c.Lang, "salesmail.inbound_domain")+": "+localize(c.Lang, msg))
	} else if err != nil {
		return err
	} else {
		flash(w, i18n.T(c.Lang, "common.saved"))
	}
	http.Redirect(w, r, "/settings/profile", http.StatusSeeOther)
	return nil
}

// salesMailRoutes registers the form posts and the public tracking links
// (the signed token in the path is their only authority; a forged one is
// a pixel or a 404, never a redirect).
func (s *Server) salesMailRoutes() {
	if s.SalesMail == nil {
		return
	}
	m := s.mux
	m.HandleFunc("POST /contacts/{id}/emails", s.signedIn(s.sendContactEmail))
	m.HandleFunc("POST /deals/{id}/emails", s.signedIn(s.sendDealEmail))
	m.HandleFunc("POST /settings/sales-email", s.signedIn(s.saveInboundDomain))
	m.HandleFunc("GET /e/so/{file}", s.trackOpen("sales email", s.SalesMail.Open))
	m.HandleFunc("GET /e/sc/{token}", s.trackClick(s.SalesMail.Click))
}
