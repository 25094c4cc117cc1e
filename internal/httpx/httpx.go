// Package httpx holds the HTTP pieces the API and the web UI share: the one
// mapping from error kinds to status codes, JSON responses, request decoding
// that names the bad field, the client IP behind trusted proxies, and rate
// limits. It imports errs only.
package httpx

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"

	"github.com/ryorin/ryorin/internal/errs"
)

// Status maps an error kind to its HTTP status. This is the one place.
func Status(k errs.Kind) int {
	switch k {
	case errs.Invalid:
		return http.StatusBadRequest
	case errs.Unprocessable:
		return http.StatusUnprocessableEntity
	case errs.NotFound:
		return http.StatusNotFound
	case errs.Conflict:
		return http.StatusConflict
	case errs.Forbidden:
		return http.StatusForbidden
	case errs.Unauthenticated:
		return http.StatusUnauthorized
	case errs.TooLarge:
		return http.StatusRequestEntityTooLarge
	case errs.RateLimited:
		return http.StatusTooManyRequests
	default:
		return http.StatusInternalServerError
	}
}

// ErrorBody is the JSON shape of every API error.
type ErrorBody struct {
	Error ErrorDetail `json:"error"`
}

// ErrorDetail says what went wrong, and with which field.
type ErrorDetail struct {
	Kind       string `json:"kind" doc:"invalid, unprocessable, not_found, conflict, forbidden, unauthenticated, too_large, rate_limited or internal"`
	Field      string `json:"field,omitempty" doc:"the input field at fault"`
	Message    string `json:"message"`
	ExistingID int64  `json:"existing_id,omitempty" doc:"on conflict, the id of the record that already exists"`
}

// WriteError writes err as a JSON error. 5xx are logged with their details
// and shown to the caller without them.
func WriteError(w http.ResponseWriter, r *http.Request, log *slog.Logger, err error) {
	e, ok := errs.As(err)
	if !ok || e.Kind == errs.Internal {
		log.Error("request failed", "method", r.Method, "path", r.URL.Path, "err", err)
		WriteJSON(w, http.StatusInternalServerError, ErrorBody{ErrorDetail{Kind: string(errs.Internal), Message: "internal error; the details are in the server log"}})
		return
	}
	if e.Kind == errs.Unauthenticated {
		w.Header().Set("WWW-Authenticate", `Bearer realm="ryorin"`)
	}
	WriteJSON(w, Status(e.Kind), ErrorBody{ErrorDetail{Kind: string(e.Kind), Field: e.Field, Message: e.Message, ExistingID: e.ExistingID}})
}

// WriteJSON writes v as JSON with status.
func WriteJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	if v != nil && status != http.StatusNoContent {
		enc := json.NewEncoder(w)
		enc.SetEscapeHTML(true)
		_ = enc.Encode(v)
	}
}

// DefaultMaxBody is the request body limit for ordinary API calls.
const DefaultMaxBody = 1 << 20

// Decode reads a JSON body into dst, rejecting unknown fields, trailing data
// and bodies over max bytes. Errors name the field where the decoder can.
func Decode(w http.ResponseWriter, r *http.Request, max int64, dst any) error {
	if ct := r.Header.Get("Content-Type"); ct != "" && !strings.HasPrefix(ct, "application/json") {
		return errs.E(errs.Invalid, "", "Content-Type must be application/json")
	}
	body := http.MaxBytesReader(w, r.Body, max)
	dec := json.NewDecoder(body)
	dec.DisallowUnknownFields()
	dec.UseNumber()
	if err := dec.Decode(dst); err != nil {
		return decodeError(err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return decodeError(err)
		}
		return errs.E(errs.Invalid, "", "the body must hold exactly one JSON value")
	}
	return nil
}

func decodeError(err error) error {
	var mbe *http.MaxBytesError
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &mbe):
		return errs.E(errs.TooLarge, "", "the body is larger than %d bytes", mbe.Limit)
	case errors.Is(err, io.EOF):
		return errs.E(errs.Invalid, "", "the body is empty; a JSON object is required")
	case errors.As(err, &syn):
		return errs.E(errs.Invalid, "", "malformed JSON at byte %d", syn.Offset)
	case errors.As(err, &typ):
		field := typ.Field
		return errs.E(errs.Invalid, field, "must be %s, not %s", jsonKind(typ.Type.String()), typ.Value)
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		f := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		return errs.E(errs.Invalid, f, "unknown field %q", f)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return errs.E(errs.Invalid, "", "the JSON body ends too early")
	}
	return errs.E(errs.Invalid, "", "malformed JSON: %s", strings.TrimPrefix(err.Error(), "json: "))
}

func jsonKind(goType string) string {
	switch {
	case strings.Contains(goType, "int"), strings.Contains(goType, "float"):
		return "a number"
	case strings.Contains(goType, "string"), strings.HasSuffix(goType, "Stage"), strings.HasSuffix(goType, "Role"):
		return "a string"
	case goType == "bool":
		return "true or false"
	case strings.HasPrefix(goType, "[]"):
		return "an array"
	case strings.HasPrefix(goType, "map"), strings.HasPrefix(goType, "struct"):
		return "an object"
	}
	return "a " + goType
}

// ClientIP returns the request's client address. X-Forwarded-For is believed
// only when the direct peer is one of the trusted proxies, and then only up to
// the first untrusted hop from the right.
func ClientIP(r *http.Request, trusted []string) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	if len(trusted) == 0 || !ipIn(host, trusted) {
		return host
	}
	hops := strings.Split(r.Header.Get("X-Forwarded-For"), ",")
	for i := len(hops) - 1; i >= 0; i-- {
		h := strings.TrimSpace(hops[i])
		if net.ParseIP(h) == nil {
			break
		}
		if !ipIn(h, trusted) {
			return h
		}
		host = h
	}
	return host
}

func ipIn(ip string, list []string) bool {
	p := net.ParseIP(ip)
	if p == nil {
		return false
	}
	for _, s := range list {
		if _, n, err := net.ParseCIDR(s); err == nil && n.Contains(p) {
			return true
		}
		if q := net.ParseIP(s); q != nil && q.Equal(p) {
			return true
		}
	}
	return false
}

// Errorf is a convenience for handlers: an Invalid error about a query parameter.
func Errorf(field, format string, args ...any) error {
	return errs.E(errs.Invalid, field, "%s", fmt.Sprintf(format, args...))
}
