// Package web is Ryorin's server-rendered UI: html/template pages, one typed
// data struct per page, every string from the i18n catalogue, assets
// embedded with content-hashed URLs. Handlers parse the request, call a
// domain function, and render; the rules live in crm and platform. It imports
// the domain packages, httpx and i18n; nothing imports it but app.
package web

import (
	"context"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/ryorin/ryorin/internal/clock"
	"github.com/ryorin/ryorin/internal/crm"
	"github.com/ryorin/ryorin/internal/dataio"
	"github.com/ryorin/ryorin/internal/db"
	"github.com/ryorin/ryorin/internal/errs"
	"github.com/ryorin/ryorin/internal/httpx"
	"github.com/ryorin/ryorin/internal/i18n"
	"github.com/ryorin/ryorin/internal/lead"
	"github.com/ryorin/ryorin/internal/marketing/campaigns"
	"github.com/ryorin/ryorin/internal/marketing/content"
	"github.com/ryorin/ryorin/internal/marketing/email"
	"github.com/ryorin/ryorin/internal/marketing/forms"
	"github.com/ryorin/ryorin/internal/marketing/journeys"
	"github.com/ryorin/ryorin/internal/marketing/segments"
	"github.com/ryorin/ryorin/internal/platform"
	"github.com/ryorin/ryorin/internal/sales"
	"github.com/ryorin/ryorin/internal/sales/quotemail"
	"github.com/ryorin/ryorin/internal/sales/sequences"
	"github.com/ryorin/ryorin/internal/salesmail"
	"github.com/ryorin/ryorin/internal/track"
)

//go:embed all:templates static
var assets embed.FS

// Deps are what the UI needs, passed explicitly.
type Deps struct {
	DB            *db.DB
	Clock         clock.Clock
	CRM           *crm.Service
	Lead          *lead.Service  // optional: lead feedback on contact pages
	Scorer        *lead.Scorer   // optional: a contact's score explanation
	Sales         *sales.Service // optional: the today page, calendar feed and daily reports
	Forms         *forms.Service
	IO            *dataio.Service
	Segments      *segments.Service
	Email         *email.Service     // optional: email campaigns and their public links
	Campaigns     *campaigns.Service // made from DB and Clock when not given
	Journeys      *journeys.Service  // optional: nurture journeys
	Mailer        *platform.Mailer   // optional: reports emailed on a schedule
	SalesMail     *salesmail.Service // optional: one-to-one email from records
	Sequences     *sequences.Service // optional: sales sequences
	QuoteMail     *quotemail.Service // optional: quotes sent to the customer and their public view
	Content       *content.Service   // optional: the content library
	Log           *slog.Logger
	Workspace     int64
	SecureCookies bool
	Version       string
	// OnRender, when set, is told the name of every template rendered (tests
	// use it to prove each template is rendered by some test).
	OnRender func(name string)
	// Tracker, when set, gives the tracking settings page its counters and
	// is told when the settings change.
	Tracker *track.Collector
}

// Server is the UI's http.Handler.
type Server struct {
	Deps
	mux        *http.ServeMux
	pages      map[string]*pageTemplate
	static     map[string][]byte // name → content
	staticHash string
	loginIP    *httpx.Limiter
	loginEmail *httpx.Limiter
	emailLinks *httpx.Limiter // per IP, for the public email links
}

// New builds the UI, parsing every template once so a broken one fails at start.
func New(d Deps) (*Server, error) {
	if d.Log == nil {
		d.Log = slog.New(slog.DiscardHandler)
	}
	if d.Workspace == 0 {
		d.Workspace = platform.DefaultWorkspace
	}
	if d.Campaigns == nil {
		d.Campaigns = campaigns.New(d.DB, d.Clock)
	}
	s := &Server{Deps: d, mux: http.NewServeMux(), static: map[string][]byte{},
		loginIP: httpx.NewLimiter(6*time.Second, 10), loginEmail: httpx.NewLimiter(12*time.Second, 5),
		emailLinks: httpx.NewLimiter(50*time.Millisecond, 300)}
	if err := s.loadStatic(); err != nil {
		return nil, err
	}
	if err := s.parse(); err != nil {
		return nil, err
	}
	s.routes()
	return s, nil
}

// ServeHTTP serves the UI.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, r) }

func (s *Server) loadStatic() error {
	h := sha256.New()
	err := fs.WalkDir(assets, "static", func(p string, e fs.DirEntry, err error) error {
		if err != nil || e.IsDir() {
			return err
		}
		b, err := assets.ReadFile(p)
		if err != nil {
			return err
		}
		s.static[strings.TrimPrefix(p, "static/")] = b
		h.Write(b)
		return nil
	})
	s.staticHash = hex.EncodeToString(h.Sum(nil))[:12]
	return err
}

// staticURL returns the cache-busting URL of an embedded asset.
func (s *Server) staticURL(name string) string { return "/static/" + s.staticHash + "/" + name }

func (s *Server) serveStatic(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	b, ok := s.static[name]
	if !ok {
		s.fail(w, r, nil, notFound())
		return
	}
	switch {
	case strings.HasSuffix(name, ".css"):
		w.Header().Set("Content-Type", "text/css; charset=utf-8")
	case strings.HasSuffix(name, ".js"):
		w.Header().Set("Content-Type", "text/javascript; charset=utf-8")
	case strings.HasSuffix(name, ".svg"):
		w.Header().Set("Content-Type", "image/svg+xml")
	}
	if r.PathValue("hash") == s.staticHash {
		w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
	}
	_, _ = w.Write(b)
}

// rctx is what every signed-in page knows about its request.
type rctx struct {
	User   platform.User
	Actor  platform.Actor
	WS     platform.Workspace
	Lang   i18n.Lang
	Loc    *time.Location
	Now    time.Time
	Unread int
	Flash  string
}

type ctxKey struct{}

// page is a handler of a signed-in page; it renders or returns an error.
type page func(w http.ResponseWriter, r *http.Request, c *rctx) error

// signedIn wraps a page: no session → the login page, remembering where the
// user was going.
func (s *Server) signedIn(h page) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		c, err := s.load(r)
		if err != nil {
			if errs.Is(err, errs.Unauthenticated) {
				next := r.URL.RequestURI()
				http.Redirect(w, r, "/login?next="+url.QueryEscape(next), http.StatusSeeOther)
				return
			}
			s.fail(w, r, nil, err)
			return
		}
		r = r.WithContext(context.WithValue(platform.WithActor(r.Context(), c.Actor), ctxKey{}, c))
		if err := h(w, r, c); err != nil {
			s.fail(w, r, c, err)
		}
	}
}

// load authenticates the session cookie and gathers the page context.
func (s *Server) load(r *http.Request) (*rctx, error) {
	ck, err := r.Cookie(platform.SessionCookie)
	if err != nil {
		return nil, errs.E(errs.Unauthenticated, "", "not signed in")
	}
	now := s.Clock.Now()
	a, sess, err := platform.ActorForSession(r.Context(), s.DB, ck.Value, now)
	if err != nil {
		return nil, err
	}
	if sess.MFAPending {
		return nil, errs.E(errs.Unauthenticated, "", "two-factor code required")
	}
	ctx, q := r.Context(), s.DB.Reader()
	u, ws := sess.User, sess.Workspace
	a.IP = httpx.ClientIP(r, ws.TrustedProxies)
	c := &rctx{User: u, Actor: a, WS: ws, Now: now, Lang: s.langFor(r, u, ws), Loc: ws.Location()}
	if u.TimeZone != "" {
		if loc, err := time.LoadLocation(u.TimeZone); err == nil {
			c.Loc = loc
		}
	}
	c.Unread, _ = platform.UnreadCount(ctx, q, a.WorkspaceID, a.UserID)
	if f, err := r.Cookie("ryorin_flash"); err == nil {
		c.Flash, _ = url.QueryUnescape(f.Value)
	}
	return c, nil
}

// langFor picks the UI language: the user's setting, else the browser's
// Accept-Language, else the workspace default.
func (s *Server) langFor(r *http.Request, u platform.User, ws platform.Workspace) i18n.Lang {
	if l, ok := i18n.Parse(u.Locale); ok && u.Locale != "" {
		return l
	}
	def, _ := i18n.Parse(ws.DefaultLocale)
	return i18n.FromAcceptLanguage(r.Header.Get("Accept-Language"), def)
}

// flash sets a one-time message shown on the next page.
func flash(w http.ResponseWriter, msg string) {
	http.SetCookie(w, &http.Cookie{Name: "ryorin_flash", Value: url.QueryEscape(msg), Path: "/", MaxAge: 30, HttpOnly: true, SameSite: http.SameSiteLaxMode})
}

// clearFlash removes the message once shown.
func clearFlash(w http.ResponseWriter) {
	http.SetCookie(w, &http.Cookie{Name: "ryorin_flash", Value: "", Path: "/", MaxAge: -1, HttpOnly: true, SameSite: http.SameSiteLaxMode})
}

// localPath returns p if it is a path on this site, else "/": redirects
// never leave Ryorin (no open redirect).
func localPath(p string) string {
	if p == "" || !strings.HasPrefix(p, "/") || strings.HasPrefix(p, "//") || strings.HasPrefix(p, "/\\") || strings.ContainsAny(p, "\r\n") {
		return "/"
	}
	u, err := url.Parse(p)
	if err != nil || u.Host != "" || u.Scheme != "" {
		return "/"
	}
	return p
}

// fail renders an error page with the status of the error's kind. Internal
// errors are logged and shown without details.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, c *rctx, err error) {
	kind := errs.KindOf(err)
	status := httpx.Status(kind)
	if kind == errs.Internal {
		s.Log.Error("page failed", "method", r.Method, "path", r.URL.Path, "err", err)
	}
	lang := i18n.FromAcceptLanguage(r.Header.Get("Accept-Language"), i18n.JA)
	if c != nil {
		lang = c.Lang
	}
	msg := map[errs.Kind]string{errs.NotFound: "common.not_found", errs.Forbidden: "common.forbidden"}[kind]
	text := ""
	if msg == "" {
		msg = "common.internal_error"
		if e, ok := errs.As(err); ok && kind != errs.Internal {
			text = e.Message
		}
	}
	data := &ErrorPage{Page: s.base(c, lang, "common.error_title", ""), Message: i18n.T(lang, msg), Detail: text}
	w.WriteHeader(status)
	if c == nil {
		_ = s.render(w, "error_public", data)
		return
	}
	_ = s.render(w, "error", data)
}

// ErrorPage is the data of the error page.
type ErrorPage struct {
	Page
	Message string
	Detail  string
}

func (s *Server) render(w http.ResponseWriter, name string, data any) error {
	t, err := s.page(name)
	if err != nil {
		return err
	}
	if s.OnRender != nil {
		s.OnRender(name)
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	var buf strings.Builder
	if err := t.ExecuteTemplate(&buf, "root", data); err != nil {
		return fmt.Errorf("web: render %s: %w", name, err)
	}
	_, err = w.Write([]byte(buf.String()))
	return err
}

// show renders a signed-in page and clears the flash it displayed.
func (s *Server) show(w http.ResponseWriter, c *rctx, name string, data any) error {
	if c != nil && c.Flash != "" {
		clearFlash(w)
	}
	return s.render(w, name, data)
}

// formError turns a domain error into a message and field for re-rendering a
// form; other errors pass through.
func formError(err error) (field, msg string, ok bool) {
	e, isErr := errs.As(err)
	if !isErr || (e.Kind != errs.Invalid && e.Kind != errs.Unprocessable && e.Kind != errs.Conflict) {
		return "", "", false
	}
	return e.Field, e.Message, true
}
