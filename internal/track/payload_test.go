package track

import (
	"strings"
	"testing"

	"github.com/ryorin/ryorin/internal/errs"
)

const validPost = `{"vid":"abcDEF123_-x","consent":true,"events":[{"id":"e1234567","kind":"page_view","url":"https://a.example/p?utm_source=x","title":"料金","referrer":"https://www.google.com/","ago":10},
{"id":"e1234568","kind":"outbound_click","url":"https://a.example/p","target":"https://b.example/"},
{"id":"e1234569","kind":"webinar_signup","url":"https://a.example/w","props":{"plan":"pro","seats":3,"trial":true}}]}`

func TestParsePayload_AcceptsWhatTheSnippetSends(t *testing.T) {
	p, err := ParsePayload([]byte(validPost))
	if err != nil {
		t.Fatal(err)
	}
	if p.VisitorID != "abcDEF123_-x" || !p.Consent || len(p.Hits) != 3 || p.Hits[2].Props["seats"] != 3.0 {
		t.Fatalf("%+v", p)
	}
}

func TestParsePayload_RefusesMalformedPostsNamingTheField(t *testing.T) {
	long := strings.Repeat("a", 5000)
	cases := map[string]struct{ body, field string }{
		"not json":           {`hello`, ""},
		"two values":         {`{"vid":"abcdefgh","events":[{"id":"e1234567","kind":"page_view","url":"https://a.example/"}]} {}`, ""},
		"unknown field":      {`{"vid":"abcdefgh","x":1,"events":[]}`, ""},
		"short visitor":      {`{"vid":"abc","events":[{"id":"e1234567","kind":"page_view","url":"https://a.example/"}]}`, "vid"},
		"no events":          {`{"vid":"abcdefgh","events":[]}`, "events"},
		"bad kind":           {`{"vid":"abcdefgh","events":[{"id":"e1234567","kind":"Page View","url":"https://a.example/"}]}`, "events[0].kind"},
		"reserved kind":      {`{"vid":"abcdefgh","events":[{"id":"e1234567","kind":"form_submit","url":"https://a.example/"}]}`, "events[0].kind"},
		"relative url":       {`{"vid":"abcdefgh","events":[{"id":"e1234567","kind":"page_view","url":"/pricing"}]}`, "events[0].url"},
		"javascript url":     {`{"vid":"abcdefgh","events":[{"id":"e1234567","kind":"page_view","url":"javascript:alert(1)"}]}`, "events[0].url"},
		"long referrer":      {`{"vid":"abcdefgh","events":[{"id":"e1234567","kind":"page_view","url":"https://a.example/","referrer":"https://b.example/` + long + `"}]}`, "events[0].referrer"},
		"click no target":    {`{"vid":"abcdefgh","events":[{"id":"e1234567","kind":"outbound_click","url":"https://a.example/"}]}`, "events[0].target"},
		"nested prop":        {`{"vid":"abcdefgh","events":[{"id":"e1234567","kind":"x","url":"https://a.example/","props":{"a":{"b":1}}}]}`, "events[0].props"},
		"negative ago":       {`{"vid":"abcdefgh","events":[{"id":"e1234567","kind":"x","url":"https://a.example/","ago":-1}]}`, "events[0].ago"},
		"wrong type":         {`{"vid":12345678,"events":[]}`, ""},
		"too many events":    {`{"vid":"abcdefgh","events":[` + strings.TrimSuffix(strings.Repeat(`{"id":"e1234567","kind":"x","url":"https://a.example/"},`, 51), ",") + `]}`, "events"},
		"bad event id":       {`{"vid":"abcdefgh","events":[{"id":"<script>","kind":"x","url":"https://a.example/"}]}`, "events[0].id"},
		"null events":        {`{"vid":"abcdefgh","events":null}`, "events"},
		"array at top level": {`[1,2]`, ""},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := ParsePayload([]byte(c.body))
			e, ok := errs.As(err)
			if !ok || e.Kind != errs.Invalid || e.Field != c.field {
				t.Fatalf("got %v (field %q), want invalid %q", err, fieldOf(e), c.field)
			}
		})
	}
	if _, err := ParsePayload([]byte(`{"vid":"` + strings.Repeat("a", MaxPayloadBytes) + `"}`)); !errs.Is(err, errs.TooLarge) {
		t.Fatalf("oversized body: %v", err)
	}
}

func fieldOf(e *errs.Error) string {
	if e == nil {
		return ""
	}
	return e.Field
}

func TestIsBot(t *testing.T) {
	cases := map[string]bool{
		"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36":            false,
		"Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148": false,
		"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/131.0.0.0 Safari/537.36":              true,
		"Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)":                                                   true,
		"Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)":                                                    true,
		"facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)":                                                  true,
		"curl/8.5.0":          true,
		"Go-http-client/1.1":  true,
		"python-requests/2.3": true,
		"":                    true,
	}
	for ua, want := range cases {
		if got := IsBot(ua, false); got != want {
			t.Errorf("IsBot(%q) = %v, want %v", ua, got, want)
		}
	}
	if !IsBot("Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/131.0.0.0 Safari/537.36", true) {
		t.Error("navigator.webdriver did not mark a bot")
	}
}

// FuzzParsePayload: no input panics, and whatever parses is within limits.
// The seeds run in every normal `go test`.
func FuzzParsePayload(f *testing.F) {
	f.Add([]byte(validPost))
	f.Add([]byte(`{"vid":"abcdefgh","events":[{"id":"e1234567","kind":"page_view","url":"https://a.example/"}]}`))
	f.Add([]byte(`{"vid":"abcdefgh","events":[{"id":"e1234567","kind":"x","url":"https://a.example/","props":{"a":null}}]}`))
	f.Add([]byte(`{"vid":"abcdefgh","rid":"x.y","events":[{"id":"e1234567","kind":"outbound_click","url":"http://[::1]/","target":"https://b/"}]}`))
	f.Add([]byte(`{"events":[{"url":"https://\u0000/"}]}`))
	f.Add([]byte(`{}`))
	f.Add([]byte(`null`))
	f.Add([]byte{0xff, 0xfe})
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := ParsePayload(b)
		if err != nil {
			if k := errs.KindOf(err); k != errs.Invalid && k != errs.TooLarge {
				t.Fatalf("error of kind %s: %v", k, err)
			}
			return
		}
		if !tokenRe.MatchString(p.VisitorID) || len(p.Hits) == 0 || len(p.Hits) > MaxHitsPerPost {
			t.Fatalf("accepted %+v", p)
		}
		for _, h := range p.Hits {
			if !absHTTP(h.URL, false) || reservedKinds[h.Kind] || !tokenRe.MatchString(h.ID) {
				t.Fatalf("accepted hit %+v", h)
			}
		}
	})
}
