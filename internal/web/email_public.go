package web

import (
	"context"
	"net/http"
	"strings"

	"github.com/ryorin/ryorin/internal/errs"
	"github.com/ryorin/ryorin/internal/httpx"
	"github.com/ryorin/ryorin/internal/i18n"
	"github.com/ryorin/ryorin/internal/platform"
)

// The public email links need no session: the signed token in the path is
// their only authority. A forged or altered token is a plain 404 (pixel,
// click) or a 400 page (unsubscribe), never a 500 and never a redirect.

// pixel is a transparent 1×1 GIF.
var pixel = []byte("GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\x00\x00\x00!\xf9\x04\x01\x00\x00\x00\x00,\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;")

func (s *Server) emailPublicRoutes() {
	if s.Email == nil {
		return
	}
	m := s.mux
	m.HandleFunc("GET /e/o/{file}", s.trackOpen("email", s.Email.Open))
	m.HandleFunc("GET /e/c/{token}", s.trackClick(s.Email.Click))
	m.HandleFunc("GET /e/u/{token}", s.emailUnsubscribe)
	m.HandleFunc("POST /e/u/{token}", s.emailUnsubscribe)
}

func (s *Server) emailLinkAllowed(r *http.Request, ws platform.Workspace) bool {
	return s.emailLinks.Allow(httpx.ClientIP(r, ws.TrustedProxies), s.Clock.Now())
}

// trackOpen serves an open pixel: it records the open with record and
// always answers with the pixel, so a mail client shows nothing broken;
// only a malformed path is a 404. Marketing and one-to-one mail share it.
func (s *Server) trackOpen(what string, record func(ctx context.Context, ws int64, token string) error) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		tok, ok := strings.CutSuffix(r.PathValue("file"), ".gif")
		if !ok {
			http.NotFound(w, r)
			return
		}
		ctx := r.Context()
		ws, err := platform.GetWorkspace(ctx, s.DB.Reader(), s.Workspace)
		if err == nil && s.emailLinkAllowed(r, ws) {
			if err := record(ctx, s.Workspace, tok); err != nil && errs.KindOf(err) == errs.Internal {
				s.Log.Error(what+" open", "err", err)
			}
		}
		w.Header().Set("Content-Type", "image/gif")
		w.Header().Set("Cache-Control", "no-store, private")
		_, _ = w.Write(pixel)
	}
}

// trackClick records a click with resolve and redirects to the URL signed
// in the token (never anywhere else).
func (s *Server) trackClick(resolve func(ctx context.Context, ws int64, token string) (string, error)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
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
		dest, err := resolve(ctx, s.Workspace, r.PathValue("token"))
		if err != nil {
			if errs.KindOf(err) == errs.Internal {
				s.fail(w, r, nil, err)
				return
			}
			s.fail(w, r, nil, errs.NotFoundf("link not found"))
			return
		}
		w.Header().Set("Cache-Control", "no-store, private")
		http.Redirect(w, r, dest, http.StatusFound)
	}
}

// UnsubscribePage is the data of the unsubscribe page.
type UnsubscribePage struct {
	Page
	Email    string
	Done     bool
	Invalid  bool
	Action   string
	OtherURL string
}

// emailUnsubscribe shows the unsubscribe page (GET) and unsubscribes
// (POST: the page's button, or a mail provider's RFC 8058 one-click post).
// It works without JavaScript, and for a campaign that has been deleted.
func (s *Server) emailUnsubscribe(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	ws, err := platform.GetWorkspace(ctx, s.DB.Reader(), s.Workspace)
	if err != nil {
		s.fail(w, r, nil, err)
		return
	}
	lang := s.publicLang(r, ws, r.URL.Query().Get("lang"))
	tok := r.PathValue("token")
	data := &UnsubscribePage{Page: s.base(nil, lang, "email.unsubscribe.title", ""), Action: "/e/u/" + tok + "?lang=" + string(lang)}
	other := i18n.EN
	if lang == i18n.EN {
		other = i18n.JA
	}
	data.OtherURL = "/e/u/" + tok + "?lang=" + string(other)
	if !s.emailLinkAllowed(r, ws) {
		http.Error(w, http.StatusText(http.StatusTooManyRequests), http.StatusTooManyRequests)
		return
	}
	var st struct {
		Email string
		Done  bool
	}
	if r.Method == http.MethodPost {
		r.Body = http.MaxBytesReader(w, r.Body, 4<<10)
		res, e := s.Email.Unsubscribe(ctx, s.Workspace, tok)
		st.Email, st.Done, err = res.Email, res.Done, e
	} else {
		res, e := s.Email.UnsubscribeStatus(ctx, s.Workspace, tok)
		st.Email, st.Done, err = res.Email, res.Done, e
	}
	status := http.StatusOK
	switch {
	case err != nil && errs.KindOf(err) == errs.Internal:
		s.fail(w, r, nil, err)
		return
	case err != nil:
		data.Invalid = true
		status = http.StatusBadRequest
	}
	data.Email, data.Done = st.Email, st.Done
	w.Header().Set("X-Robots-Tag", "noindex")
	w.WriteHeader(status)
	_ = s.render(w, "email_hosted_unsubscribe", data)
}
