package track

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/url"
	"regexp"
	"strings"

	"github.com/ryorin/ryorin/internal/errs"
	"github.com/ryorin/ryorin/internal/platform"
)

// Limits of one collect request.
const (
	MaxPayloadBytes = 64 << 10
	MaxHitsPerPost  = 50
	maxPropsBytes   = 4 << 10
	maxAgoMillis    = 24 * 60 * 60 * 1000
	VisitorCookie   = "ryorin_vid" // the first-party cookie (and form field) holding the visitor id
	IdentifyParam   = "_ryid"      // the URL parameter carrying a signed identify token
	identifyPurpose = "track.identify"
	KindIdentified  = "visitor_identified"
)

// Payload is what the snippet posts to /t/collect.
type Payload struct {
	VisitorID string `json:"vid"`
	Consent   bool   `json:"consent"`
	// Webdriver is navigator.webdriver: set by automated browsers.
	Webdriver bool `json:"wd"`
	// Identify is a signed token from a tracked email link (IdentifyParam).
	Identify string `json:"rid"`
	Hits     []Hit  `json:"events"`
}

// Hit is one page view, outbound click or custom event from the browser.
type Hit struct {
	ID       string         `json:"id"`
	Kind     string         `json:"kind"`
	URL      string         `json:"url"`
	Title    string         `json:"title"`
	Referrer string         `json:"referrer"`
	Target   string         `json:"target"`
	Ago      int64          `json:"ago"` // milliseconds between the hit and the post
	Props    map[string]any `json:"props"`
}

var (
	tokenRe = regexp.MustCompile(`^[A-Za-z0-9_-]{8,40}$`)
	nameRe  = regexp.MustCompile(`^[a-z][a-z0-9_]{0,63}$`)
)

// reservedKinds are recorded by Ryorin itself; a browser may not claim them,
// or anyone could fake a form submission or an email click for scoring.
var reservedKinds = map[string]bool{
	platform.EventFormSubmit: true, platform.EventEmailOpen: true, platform.EventEmailClick: true,
	platform.EventContentView: true, KindIdentified: true,
}

// ParsePayload decodes and validates a collect body. Every problem is an
// errs.Invalid naming the field, so the endpoint answers 400 and never
// stores part of a malformed post.
func ParsePayload(body []byte) (Payload, error) {
	var p Payload
	if len(body) > MaxPayloadBytes {
		return p, errs.E(errs.TooLarge, "", "the body is larger than %d bytes", MaxPayloadBytes)
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&p); err != nil {
		return Payload{}, errs.Field("", "the body is not a tracking payload: %v", trimErr(err))
	}
	if dec.More() {
		return Payload{}, errs.Field("", "the body holds more than one JSON value")
	}
	if !tokenRe.MatchString(p.VisitorID) {
		return Payload{}, errs.Field("vid", "must be 8–40 letters, digits, - or _")
	}
	if len(p.Identify) > 2048 {
		return Payload{}, errs.Field("rid", "is too long")
	}
	if len(p.Hits) == 0 || len(p.Hits) > MaxHitsPerPost {
		return Payload{}, errs.Field("events", "must hold 1–%d events", MaxHitsPerPost)
	}
	for i := range p.Hits {
		if err := checkHit(&p.Hits[i]); err != nil {
			err.Field = fmt.Sprintf("events[%d].%s", i, err.Field)
			return Payload{}, err
		}
	}
	return p, nil
}

func checkHit(h *Hit) *errs.Error {
	if !tokenRe.MatchString(h.ID) {
		return errs.Field("id", "must be 8–40 letters, digits, - or _")
	}
	switch {
	case h.Kind == platform.EventPageView || h.Kind == platform.EventOutbound:
	case !nameRe.MatchString(h.Kind):
		return errs.Field("kind", "must be page_view, outbound_click or a lower_snake_case event name")
	case reservedKinds[h.Kind]:
		return errs.Field("kind", "%s is recorded by Ryorin itself, not by the snippet", h.Kind)
	}
	if !absHTTP(h.URL, false) {
		return errs.Field("url", "must be an absolute http(s) URL of at most 4096 bytes")
	}
	if !absHTTP(h.Referrer, true) {
		return errs.Field("referrer", "must be empty or an absolute http(s) URL of at most 4096 bytes")
	}
	if h.Kind == platform.EventOutbound && !absHTTP(h.Target, false) {
		return errs.Field("target", "must be the absolute http(s) URL of the link followed")
	}
	if h.Kind != platform.EventOutbound && h.Target != "" && !absHTTP(h.Target, false) {
		return errs.Field("target", "must be empty or an absolute http(s) URL")
	}
	if len(h.Title) > 1024 {
		return errs.Field("title", "is longer than 1024 bytes")
	}
	if h.Ago < 0 || h.Ago > maxAgoMillis {
		return errs.Field("ago", "must be between 0 and %d", maxAgoMillis)
	}
	if len(h.Props) > 0 {
		if len(h.Props) > 25 {
			return errs.Field("props", "at most 25 properties")
		}
		for k, v := range h.Props {
			if !nameRe.MatchString(k) {
				return errs.Field("props", "property names are lower_snake_case")
			}
			switch v.(type) {
			case string, float64, bool, nil:
			default:
				return errs.Field("props", "%s: values are strings, numbers, booleans or null", k)
			}
		}
		if b, _ := json.Marshal(h.Props); len(b) > maxPropsBytes {
			return errs.Field("props", "are larger than %d bytes", maxPropsBytes)
		}
	}
	return nil
}

func absHTTP(s string, emptyOK bool) bool {
	if s == "" {
		return emptyOK
	}
	if len(s) > 4096 {
		return false
	}
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}

// trimErr keeps decoder errors short and free of the input echoed back.
func trimErr(err error) string {
	s := err.Error()
	s = strings.TrimPrefix(s, "json: ")
	if len(s) > 120 {
		s = s[:120]
	}
	return s
}
