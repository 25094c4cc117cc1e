package web

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/ryorin/ryorin/internal/crm"
	"github.com/ryorin/ryorin/internal/errs"
	"github.com/ryorin/ryorin/internal/i18n"
	"github.com/ryorin/ryorin/internal/platform"
	"github.com/ryorin/ryorin/internal/sales"
	"github.com/ryorin/ryorin/internal/sales/quotemail"
)

// QuoteSendBox is the "send to the customer" part of a deal's quotes panel:
// one prefilled form per issued version, and what was sent and viewed.
type QuoteSendBox struct {
	Recipients []crm.Contact // the deal's contacts with an address (set by the deal page)
	Forms      map[int]*QuoteSendForm
	Sent       map[int][]quotemail.Send // by version
	Names      map[int64]string         // contact names of the sends
}

// QuoteSendForm is the form for one quote version, prefilled in the quote's
// language.
type QuoteSendForm struct {
	Version   int
	ContactID int64
	Subject   string
	Body      string
	Nonce     string
	Error     string
}

// LastViewed is the latest view of a version's sends (nil when none was viewed).
func (b *QuoteSendBox) LastViewed(version int) *quotemail.Send {
	var out *quotemail.Send
	for i, x := range b.Sent[version] {
		if x.LastViewedAt != nil && (out == nil || x.LastViewedAt.After(*out.LastViewedAt)) {
			out = &b.Sent[version][i]
		}
	}
	return out
}

func (s *Server) loadQuoteSendBox(r *http.Request, c *rctx, d crm.Deal, quotes []sales.Quote) (*QuoteSendBox, error) {
	if s.QuoteMail == nil || s.SalesMail == nil {
		return nil, nil
	}
	ctx, q := r.Context(), s.DB.Reader()
	b := &QuoteSendBox{Forms: map[int]*QuoteSendForm{}, Sent: map[int][]quotemail.Send{}, Names: map[int64]string{}}
	sends, err := s.QuoteMail.Sends(ctx, q, c.Actor, d.ID)
	if err != nil {
		return nil, err
	}
	var ids []int64
	for _, x := range sends {
		b.Sent[x.Version] = append(b.Sent[x.Version], x)
		ids = append(ids, x.ContactID)
	}
	cs, err := s.CRM.ContactsByIDs(ctx, q, c.Actor.WorkspaceID, ids)
	if err != nil {
		return nil, err
	}
	for id, ct := range cs {
		b.Names[id] = strings.TrimSpace(ct.FamilyName + " " + ct.GivenName)
	}
	for _, qt := range quotes {
		subj, body := quotemail.Draft(qt, c.User.Name)
		b.Forms[qt.Version] = &QuoteSendForm{Version: qt.Version, Subject: subj, Body: body, Nonce: newNonce()}
	}
	return b, nil
}

func (s *Server) quoteMailRoutes() {
	if s.QuoteMail == nil || s.SalesMail == nil {
		return
	}
	s.mux.HandleFunc("POST /deals/{id}/quotes/{n}/send", s.signedIn(s.sendQuote))
	s.mux.HandleFunc("GET /q/{file}", s.publicQuote)
}

// sendQuote mails one quote version to one of the deal's contacts.
func (s *Server) sendQuote(w http.ResponseWriter, r *http.Request, c *rctx) error {
	id, version := formInt(r.PathValue("id")), int(formInt(r.PathValue("n")))
	in := quotemail.SendInput{Version: version, ContactID: formInt(r.PostFormValue("contact_id")), Subject: r.PostFormValue("subject"),
		Body: strings.ReplaceAll(r.PostFormValue("body"), "\r\n", "\n"), BaseURL: s.publicBase(r, c.WS)}
	if n := r.PostFormValue("nonce"); n != "" {
		in.IdempotencyKey = "form:" + n
	}
	_, err := s.QuoteMail.Send(r.Context(), c.Actor, id, in)
	if msg, ok := mailError(c.Lang, err); ok {
		data, lerr := s.loadDealPage(r, c, id)
		if lerr != nil {
			return lerr
		}
		if data.Q != nil && data.Q.Send != nil {
			if f := data.Q.Send.Forms[version]; f != nil {
				f.Subject, f.Body, f.ContactID, f.Error = in.Subject, in.Body, in.ContactID, msg
			}
		}
		w.WriteHeader(http.StatusUnprocessableEntity)
		return s.show(w, c, "deal", data)
	}
	if err != nil {
		return err
	}
	flash(w, i18n.T(c.Lang, "quotes.send.sent"))
	http.Redirect(w, r, fmt.Sprintf("/deals/%d#quotes", id), http.StatusSeeOther)
	return nil
}

// publicQuote is the customer's view of a sent quote: /q/<token> (the page)
// and /q/<token>.pdf. The signed token is its only authority; a forged,
// altered or expired one is a 404 and records nothing.
func (s *Server) publicQuote(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	ws, err := platform.GetWorkspace(ctx, s.DB.Reader(), s.Workspace)
	if err != nil {
		s.fail(w, r, nil, err)
		return
	}
	if !s.emailLinkAllowed(r, ws) {
		http.Error(w, http.StatusText(http.StatusTooManyRequests), http.StatusTooManyRequests)
		return
	}
	tok, pdf, ok := quotemail.ParsePath(r.PathValue("file"))
	if !ok {
		s.fail(w, r, nil, errs.NotFoundf("quote not found"))
		return
	}
	q, err := s.QuoteMail.View(ctx, s.Workspace, tok)
	if err != nil {
		if errs.KindOf(err) == errs.Internal {
			s.fail(w, r, nil, err)
			return
		}
		s.fail(w, r, nil, errs.NotFoundf("quote not found"))
		return
	}
	w.Header().Set("X-Robots-Tag", "noindex")
	w.Header().Set("Referrer-Policy", "no-referrer")
	if pdf {
		if err := writeQuotePDF(w, q); err != nil {
			s.fail(w, r, nil, err)
		}
		return
	}
	lang := q.Document.Language()
	data := &QuoteDocPage{Page: s.base(nil, lang, "quote.doc.title", ""), Q: q, Doc: q.Document, PDFURL: "/q/" + tok + ".pdf", Public: true}
	data.Title = fmt.Sprintf("%s %s-%d", data.T("quote.doc.title"), q.Number, q.Version)
	w.Header().Set("Cache-Control", "private, no-store")
	if err := s.render(w, "quote_doc", data); err != nil {
		s.Log.Error("public quote", "err", err)
	}
}
