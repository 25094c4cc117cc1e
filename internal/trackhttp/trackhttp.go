// Package trackhttp serves the public web-tracking endpoints: the snippet
// (GET /t.js) and the collect endpoint (POST /t/collect) with CORS, Do Not
// Track, a per-IP rate limit, a body limit, bot filtering and consent. It
// parses and answers; storing is internal/track's job.
package trackhttp

import (
	"bytes"
	"compress/gzip"
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"html"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/ryorin/ryorin/internal/clock"
	"github.com/ryorin/ryorin/internal/db"
	"github.com/ryorin/ryorin/internal/errs"
	"github.com/ryorin/ryorin/internal/httpx"
	"github.com/ryorin/ryorin/internal/platform"
	"github.com/ryorin/ryorin/internal/track"
)

//go:embed t.js
var snippet []byte

// Snippet returns the tracking script as served for the given settings.
func Snippet(s track.Settings) []byte {
	cfg, _ := json.Marshal(map[string]bool{"consent": s.ConsentRequired})
	return bytes.Replace(snippet, []byte("/*RYORIN_CONFIG*/{}"), cfg, 1)
}

// Deps are what the handler needs.
type Deps struct {
	DB        *db.DB
	Clock     clock.Clock
	Log       *slog.Logger
	Collector *track.Collector
	Workspace int64
	// PerIP limits collect requests per client address: Burst at once, then
	// one per Interval. Defaults: 60, then 5 per second.
	Burst    int
	Interval time.Duration
}

// Handler serves GET /t.js, POST /t/collect and its CORS preflight.
type Handler struct {
	Deps
	limit *httpx.Limiter
	mux   *http.ServeMux

	mu      sync.Mutex
	proxies []string
	loaded  time.Time
	gz      map[bool][]byte
}

// New returns the tracking handler.
func New(d Deps) *Handler {
	if d.Burst <= 0 {
		d.Burst = 60
	}
	if d.Interval <= 0 {
		d.Interval = 200 * time.Millisecond
	}
	if d.Log == nil {
		d.Log = slog.New(slog.DiscardHandler)
	}
	h := &Handler{Deps: d, limit: httpx.NewLimiter(d.Interval, d.Burst), mux: http.NewServeMux()}
	h.mux.HandleFunc("GET /t.js", h.script)
	h.mux.HandleFunc("OPTIONS /t/collect", h.preflight)
	h.mux.HandleFunc("POST /t/collect", h.collect)
	return h
}

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) { h.mux.ServeHTTP(w, r) }

func (h *Handler) script(w http.ResponseWriter, r *http.Request) {
	s, err := h.Collector.Settings(r.Context(), h.Workspace)
	if err != nil {
		httpx.WriteError(w, r, h.Log, err)
		return
	}
	hd := w.Header()
	hd.Set("Content-Type", "text/javascript; charset=utf-8")
	hd.Set("Cache-Control", "public, max-age=300")
	hd.Set("Cross-Origin-Resource-Policy", "cross-origin")
	hd.Add("Vary", "Accept-Encoding")
	body := Snippet(s)
	if strings.Contains(r.Header.Get("Accept-Encoding"), "gzip") {
		hd.Set("Content-Encoding", "gzip")
		body = h.gzipped(s.ConsentRequired, body)
	}
	w.Write(body)
}

// gzipped compresses the snippet once per variant (consent required or not).
func (h *Handler) gzipped(consent bool, plain []byte) []byte {
	h.mu.Lock()
	defer h.mu.Unlock()
	if b, ok := h.gz[consent]; ok {
		return b
	}
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	zw.Write(plain)
	zw.Close()
	if h.gz == nil {
		h.gz = map[bool][]byte{}
	}
	h.gz[consent] = buf.Bytes()
	return h.gz[consent]
}

// cors sets the CORS headers and reports whether the origin may send.
func (h *Handler) cors(w http.ResponseWriter, r *http.Request, s track.Settings) bool {
	origin := r.Header.Get("Origin")
	w.Header().Add("Vary", "Origin")
	if len(s.AllowedOrigins) == 0 {
		w.Header().Set("Access-Control-Allow-Origin", "*")
		return true
	}
	o, ok := track.NormalizeOrigin(origin)
	if !ok || !slices.Contains(s.AllowedOrigins, o) {
		return origin == "" && r.Method == http.MethodPost && sameSite(r) // a page served by Ryorin itself
	}
	w.Header().Set("Access-Control-Allow-Origin", origin)
	return true
}

func sameSite(r *http.Request) bool {
	return r.Header.Get("Sec-Fetch-Site") == "same-origin"
}

func (h *Handler) preflight(w http.ResponseWriter, r *http.Request) {
	s, err := h.Collector.Settings(r.Context(), h.Workspace)
	if err != nil {
		httpx.WriteError(w, r, h.Log, err)
		return
	}
	if !h.cors(w, r, s) {
		w.WriteHeader(http.StatusForbidden)
		return
	}
	w.Header().Set("Access-Control-Allow-Methods", "POST")
	w.Header().Set("Access-Control-Allow-Headers", "Content-Type")
	w.Header().Set("Access-Control-Max-Age", "86400")
	w.WriteHeader(http.StatusNoContent)
}

// CollectResponse is the answer to a stored post.
type CollectResponse struct {
	Stored int `json:"stored"`
}

func (h *Handler) collect(w http.ResponseWriter, r *http.Request) {
	st := &h.Collector.Stats
	st.Requests.Add(1)
	ctx := r.Context()
	s, err := h.Collector.Settings(ctx, h.Workspace)
	if err != nil {
		httpx.WriteError(w, r, h.Log, err)
		return
	}
	if !h.cors(w, r, s) {
		st.Forbidden.Add(1)
		httpx.WriteError(w, r, h.Log, errs.E(errs.Forbidden, "", "this origin may not send tracking events"))
		return
	}
	// Do Not Track and Global Privacy Control are honoured here as well as
	// in the snippet, for clients that send the header but run old scripts.
	if r.Header.Get("DNT") == "1" || r.Header.Get("Sec-GPC") == "1" {
		st.DoNotTrack.Add(1)
		w.WriteHeader(http.StatusNoContent)
		return
	}
	if !h.limit.Allow(httpx.ClientIP(r, h.trustedProxies(ctx)), h.Clock.Now()) {
		st.RateLimited.Add(1)
		w.Header().Set("Retry-After", "1")
		httpx.WriteError(w, r, h.Log, errs.E(errs.RateLimited, "", "too many tracking requests from this address"))
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, track.MaxPayloadBytes))
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		st.Invalid.Add(1)
		httpx.WriteError(w, r, h.Log, errs.E(errs.TooLarge, "", "the body is larger than %d bytes", track.MaxPayloadBytes))
		return
	}
	if err != nil {
		st.Invalid.Add(1)
		httpx.WriteError(w, r, h.Log, errs.Field("", "the body could not be read"))
		return
	}
	p, err := track.ParsePayload(body)
	if err != nil {
		st.Invalid.Add(1)
		httpx.WriteError(w, r, h.Log, err)
		return
	}
	if track.IsBot(r.UserAgent(), p.Webdriver) {
		st.Bots.Add(1)
		w.WriteHeader(http.StatusNoContent)
		return
	}
	if s.ConsentRequired && !p.Consent {
		st.NoConsent.Add(1)
		w.WriteHeader(http.StatusNoContent)
		return
	}
	var contact int64
	if p.Identify != "" {
		contact = h.identify(ctx, p.Identify)
	}
	n, err := h.Collector.Collect(ctx, h.Workspace, p, contact)
	if err != nil {
		if errors.Is(err, track.ErrClosed) || errors.Is(err, context.Canceled) {
			err = errs.E(errs.Internal, "", "shutting down, send again")
		}
		httpx.WriteError(w, r, h.Log, err)
		return
	}
	st.Stored.Add(int64(n))
	st.Duplicates.Add(int64(len(p.Hits) - n))
	httpx.WriteJSON(w, http.StatusOK, CollectResponse{Stored: n})
}

// identify returns the contact of a valid identify token; anything forged,
// tampered or expired is ignored (the events are stored anonymously).
func (h *Handler) identify(ctx context.Context, token string) int64 {
	ws, err := platform.GetWorkspace(ctx, h.DB.Reader(), h.Workspace)
	if err != nil {
		return 0
	}
	id, err := track.VerifyIdentifyToken(ws.SigningKey(), token, h.Clock.Now())
	if err != nil {
		h.Log.Info("tracking: identify token ignored", "err", err)
		return 0
	}
	return id
}

// trustedProxies are the workspace's, re-read every few seconds.
func (h *Handler) trustedProxies(ctx context.Context) []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	if time.Since(h.loaded) < 10*time.Second {
		return h.proxies
	}
	ws, err := platform.GetWorkspace(ctx, h.DB.Reader(), h.Workspace)
	if err != nil {
		h.Log.Error("tracking: workspace", "err", err)
		return h.proxies
	}
	h.proxies, h.loaded = ws.TrustedProxies, time.Now()
	return h.proxies
}

// PasteHTML is what a site pastes before </head> to load the snippet from
// base (Ryorin's public address): a tiny queue so ryorin(...) calls made
// before the script arrives are kept, and the script itself, loaded async.
func PasteHTML(base string) string {
	base = strings.TrimSuffix(base, "/")
	return "<script>window.ryorin=window.ryorin||function(){(ryorin.q=ryorin.q||[]).push(arguments)};</script>\n" +
		`<script async src="` + html.EscapeString(base) + `/t.js"></script>`
}

// VisitorID returns the tracking visitor id a request carries: the
// ryorin_vid form field (the snippet fills it in forms on other sites) or
// else the ryorin_vid cookie (pages served by Ryorin itself), or "" when
// neither holds a well-formed id. Form handlers pass it to
// track.IdentifyVisitor once they know the contact.
func VisitorID(r *http.Request) string {
	v := r.FormValue(track.VisitorCookie)
	if v == "" {
		if c, err := r.Cookie(track.VisitorCookie); err == nil {
			v = c.Value
		}
	}
	if !track.ValidVisitorID(v) {
		return ""
	}
	return v
}
