// Package api is Ryorin's REST API under /api/v1: every route is declared once
// in routes(), which both registers it on the mux and describes it in the
// OpenAPI document, so the two cannot drift. Handlers parse, call a domain
// function, and return a value or an error; one function writes either.
// It imports the domain packages; nothing imports it except cmd and tests.
package api

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/ryorin/ryorin/internal/clock"
	"github.com/ryorin/ryorin/internal/crm"
	"github.com/ryorin/ryorin/internal/dataio"
	"github.com/ryorin/ryorin/internal/db"
	"github.com/ryorin/ryorin/internal/errs"
	"github.com/ryorin/ryorin/internal/httpx"
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

// SessionCookie is the name of the browser session cookie.
const SessionCookie = platform.SessionCookie

// Deps are what the API needs, passed explicitly.
type Deps struct {
	DB      *db.DB
	Clock   clock.Clock
	CRM     *crm.Service
	Lead    *lead.Service
	Scorer  *lead.Scorer // optional: a contact's score explanation on GET /contacts/{id}
	Forms   *forms.Service
	Sales   *sales.Service // optional: the today page and daily reports
	Mailer  *platform.Mailer
	Notify  *platform.Notifier
	IO      *dataio.Service
	Log     *slog.Logger
	Version string
	// Workspace is the workspace served (one per install for now).
	Workspace int64
	// SecureCookies marks cookies Secure; on by default, off only for plain-HTTP development.
	SecureCookies bool
	// Tracker is the web-tracking collector (settings cache, counters).
	Tracker *track.Collector
	// Segments runs static lists and dynamic segments.
	Segments *segments.Service
	Email    *email.Service // optional: email campaigns
	// Campaigns is made from DB and Clock when not given.
	Campaigns *campaigns.Service
	// Journeys runs nurture journeys (optional).
	Journeys *journeys.Service
	// SalesMail sends one-to-one email from records and logs replies (optional).
	SalesMail *salesmail.Service
	// QuoteMail sends quotes to the customer and follows their views (optional).
	QuoteMail *quotemail.Service
	// Sequences runs sales sequences (optional).
	Sequences *sequences.Service
	// Content is the content library (optional).
	Content *content.Service
}

// Server is the API's http.Handler.
type Server struct {
	Deps
	ops        []op
	mux        *http.ServeMux
	loginIP    *httpx.Limiter
	loginEmail *httpx.Limiter
}

// handler is what a route runs: it returns a value to encode or an error.
type handler func(w http.ResponseWriter, r *http.Request, a platform.Actor) (any, error)

// op declares one route and its documentation.
type op struct {
	Method, Path string
	ID, Summary  string
	Tag          string
	Body         any     // request body type (a zero value), nil for none
	Resp         any     // response type (a zero value), nil for 204
	Status       int     // success status (200 if zero)
	Query        []param // documented query parameters
	Public       bool    // no authentication
	Roles        []platform.Role
	Idempotent   bool   // honours Idempotency-Key
	MaxBody      int64  // body limit (httpx.DefaultMaxBody if zero)
	Consumes     string // request body media type when not JSON (e.g. multipart/form-data)
	Produces     string // response media type when not JSON (e.g. text/csv)
	H            handler
}

// param documents one query parameter.
type param struct {
	Name, Type, Doc string
}

// New builds the API handler.
func New(d Deps) *Server {
	if d.Log == nil {
		d.Log = slog.New(slog.DiscardHandler)
	}
	if d.Workspace == 0 {
		d.Workspace = platform.DefaultWorkspace
	}
	if d.Campaigns == nil {
		d.Campaigns = campaigns.New(d.DB, d.Clock)
	}
	s := &Server{Deps: d, mux: http.NewServeMux(),
		loginIP:    httpx.NewLimiter(6*time.Second, 10),
		loginEmail: httpx.NewLimiter(12*time.Second, 5)}
	s.ops = s.routes()
	for _, o := range s.ops {
		s.mux.HandleFunc(o.Method+" "+o.Path, s.wrap(o))
	}
	s.mux.HandleFunc("GET /api/v1/openapi.json", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Access-Control-Allow-Origin", "*")
		httpx.WriteJSON(w, http.StatusOK, s.OpenAPI())
	})
	s.mux.HandleFunc("GET /api/docs", s.docs)
	s.mux.HandleFunc("/api/", func(w http.ResponseWriter, r *http.Request) {
		httpx.WriteError(w, r, s.Log, errs.NotFoundf("no API route %s %s", r.Method, r.URL.Path))
	})
	return s
}

// ServeHTTP serves the API.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, r) }

// Ops returns the declared routes as "METHOD path" strings (for tests).
func (s *Server) Ops() []string {
	out := make([]string, 0, len(s.ops))
	for _, o := range s.ops {
		out = append(out, o.Method+" "+o.Path)
	}
	return out
}

func (s *Server) wrap(o op) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		a := platform.Actor{WorkspaceID: s.Workspace, Kind: platform.ActorPublic}
		if !o.Public {
			var err error
			if a, err = s.authenticate(r); err != nil {
				httpx.WriteError(w, r, s.Log, err)
				return
			}
			if len(o.Roles) > 0 && !a.Is(o.Roles...) {
				httpx.WriteError(w, r, s.Log, errs.E(errs.Forbidden, "", "your role (%s) may not %s", a.Role, strings.ToLower(o.Summary)))
				return
			}
		}
		a.IP = s.clientIP(r)
		r = r.WithContext(platform.WithActor(r.Context(), a))
		max := o.MaxBody
		if max == 0 {
			max = httpx.DefaultMaxBody
		}
		if key := r.Header.Get("Idempotency-Key"); key != "" && o.Idempotent {
			s.idempotent(w, r, o, a, key, max)
			return
		}
		s.run(w, r, o, a)
	}
}

func (s *Server) run(w http.ResponseWriter, r *http.Request, o op, a platform.Actor) {
	defer func() {
		if p := recover(); p != nil {
			httpx.WriteError(w, r, s.Log, fmt.Errorf("panic in %s %s: %v", o.Method, o.Path, p))
		}
	}()
	v, err := o.H(w, r, a)
	if err != nil {
		httpx.WriteError(w, r, s.Log, err)
		return
	}
	if _, ok := v.(written); ok {
		return
	}
	status := o.Status
	if status == 0 {
		status = http.StatusOK
	}
	if sc, ok := v.(interface{ HTTPStatus() int }); ok && sc.HTTPStatus() != 0 {
		status = sc.HTTPStatus() // a value that carries its own status (a form submission with field errors)
	}
	if status == http.StatusNoContent {
		w.WriteHeader(status)
		return
	}
	httpx.WriteJSON(w, status, v)
}

// idempotent runs a create at most once per key: a retry with the same key
// and body gets the first response again.
func (s *Server) idempotent(w http.ResponseWriter, r *http.Request, o op, a platform.Actor, key string, max int64) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, max))
	if err != nil {
		httpx.WriteError(w, r, s.Log, errs.E(errs.TooLarge, "", "the body is larger than %d bytes", max))
		return
	}
	sum := sha256.Sum256(body)
	actor := fmt.Sprintf("%s:%d", a.Kind, a.UserID)
	ctx := r.Context()
	stored, err := platform.ClaimIdempotencyKey(ctx, s.DB, a.WorkspaceID, actor, key, r.Method, r.URL.Path, hex.EncodeToString(sum[:]), s.Clock.Now())
	if err != nil {
		httpx.WriteError(w, r, s.Log, err)
		return
	}
	if stored != nil {
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.Header().Set("Idempotent-Replayed", "true")
		w.WriteHeader(stored.Status)
		_, _ = io.WriteString(w, stored.Body)
		return
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	rec := &recorder{ResponseWriter: w, status: http.StatusOK}
	s.run(rec, r, o, a)
	if err := platform.CompleteIdempotencyKey(ctx, s.DB, a.WorkspaceID, actor, key, rec.status, rec.buf.String(), s.Clock.Now()); err != nil {
		s.Log.Error("idempotency key not recorded", "err", err)
	}
}

type recorder struct {
	http.ResponseWriter
	status int
	buf    bytes.Buffer
}

func (r *recorder) WriteHeader(s int) { r.status = s; r.ResponseWriter.WriteHeader(s) }
func (r *recorder) Write(b []byte) (int, error) {
	r.buf.Write(b)
	return r.ResponseWriter.Write(b)
}

// authenticate finds the actor from a bearer token or a session cookie.
func (s *Server) authenticate(r *http.Request) (platform.Actor, error) {
	now := s.Clock.Now()
	if h := r.Header.Get("Authorization"); h != "" {
		tok, ok := strings.CutPrefix(h, "Bearer ")
		if !ok {
			return platform.Actor{}, errs.E(errs.Unauthenticated, "", "use Authorization: Bearer <token>")
		}
		return platform.ActorForToken(r.Context(), s.DB, strings.TrimSpace(tok), now)
	}
	if c, err := r.Cookie(SessionCookie); err == nil {
		a, sess, err := platform.ActorForSession(r.Context(), s.DB, c.Value, now)
		if err != nil {
			return a, err
		}
		if sess.MFAPending {
			return platform.Actor{}, errs.E(errs.Unauthenticated, "", "two-factor code required")
		}
		return a, nil
	}
	return platform.Actor{}, errs.E(errs.Unauthenticated, "", "authentication required: send Authorization: Bearer <token>")
}

func (s *Server) clientIP(r *http.Request) string {
	w, err := platform.GetWorkspace(r.Context(), s.DB.Reader(), s.Workspace)
	if err != nil {
		return httpx.ClientIP(r, nil)
	}
	return httpx.ClientIP(r, w.TrustedProxies)
}

// pathID parses a numeric path parameter.
func pathID(r *http.Request, name string) (int64, error) {
	v, err := strconv.ParseInt(r.PathValue(name), 10, 64)
	if err != nil || v <= 0 {
		return 0, errs.NotFoundf("%s %q is not a valid id", name, r.PathValue(name))
	}
	return v, nil
}

// queryInt parses an optional integer query parameter.
func queryInt(r *http.Request, name string) (int64, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return 0, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 0 {
		return 0, errs.Field(name, "must be a non-negative integer")
	}
	return n, nil
}

// queryInts parses several optional integer query parameters at once, given
// as name, destination pairs.
func queryInts(r *http.Request, pairs ...any) error {
	for i := 0; i+1 < len(pairs); i += 2 {
		v, err := queryInt(r, pairs[i].(string))
		if err != nil {
			return err
		}
		*pairs[i+1].(*int64) = v
	}
	return nil
}

// queryProps collects prop.<key>=value filters.
func queryProps(r *http.Request) map[string]string {
	var out map[string]string
	for k, v := range r.URL.Query() {
		if key, ok := strings.CutPrefix(k, "prop."); ok && len(v) > 0 {
			if out == nil {
				out = map[string]string{}
			}
			out[key] = v[0]
		}
	}
	return out
}

func decode(w http.ResponseWriter, r *http.Request, dst any) error {
	return httpx.Decode(w, r, httpx.DefaultMaxBody, dst)
}
