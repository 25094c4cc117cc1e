package platform_test

import (
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/ryorin/ryorin/internal/errs"
	"github.com/ryorin/ryorin/internal/platform"
)

var linkKey = []byte("0123456789abcdef0123456789abcdef")

type linkPayload struct {
	Contact int64  `json:"c"`
	Message string `json:"m"`
}

func TestLinks_TableOfTamperedWrongPurposeExpiredAndValid(t *testing.T) {
	exp := t0.Add(24 * time.Hour)
	tok, err := platform.SignLink(linkKey, "unsubscribe", linkPayload{42, "メール"}, exp)
	if err != nil {
		t.Fatal(err)
	}
	if strings.ContainsAny(tok, "+/=?&# ") {
		t.Fatalf("token is not URL-safe: %q", tok)
	}
	body, mac, _ := strings.Cut(tok, ".")
	flip := func(s string, i int) string {
		b := []byte(s)
		if b[i] == 'A' {
			b[i] = 'B'
		} else {
			b[i] = 'A'
		}
		return string(b)
	}
	other, _ := platform.SignLink(linkKey, "unsubscribe", linkPayload{43, "メール"}, exp)
	otherBody, _, _ := strings.Cut(other, ".")
	cases := []struct {
		name, purpose, token string
		key                  []byte
		now                  time.Time
		wantErr, expired     bool
	}{
		{name: "valid", purpose: "unsubscribe", token: tok, now: t0},
		{name: "valid until the last second", purpose: "unsubscribe", token: tok, now: exp.Add(-time.Second)},
		{name: "expired", purpose: "unsubscribe", token: tok, now: exp, wantErr: true, expired: true},
		{name: "wrong purpose", purpose: "track.open", token: tok, now: t0, wantErr: true},
		{name: "wrong key", purpose: "unsubscribe", token: tok, key: []byte("another key of 32 bytes........."), now: t0, wantErr: true},
		{name: "payload tampered", purpose: "unsubscribe", token: flip(body, 12) + "." + mac, now: t0, wantErr: true},
		{name: "expiry tampered", purpose: "unsubscribe", token: flip(body, 2) + "." + mac, now: t0, wantErr: true},
		{name: "mac tampered", purpose: "unsubscribe", token: body + "." + flip(mac, 3), now: t0, wantErr: true},
		{name: "body swapped", purpose: "unsubscribe", token: otherBody + "." + mac, now: t0, wantErr: true},
		{name: "mac missing", purpose: "unsubscribe", token: body, now: t0, wantErr: true},
		{name: "mac truncated", purpose: "unsubscribe", token: body + "." + mac[:10], now: t0, wantErr: true},
		{name: "empty", purpose: "unsubscribe", token: "", now: t0, wantErr: true},
		{name: "garbage", purpose: "unsubscribe", token: "%%%.!!!", now: t0, wantErr: true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			key := c.key
			if key == nil {
				key = linkKey
			}
			var got linkPayload
			err := platform.VerifyLink(key, c.purpose, c.token, c.now, &got)
			if !c.wantErr {
				if err != nil || got != (linkPayload{42, "メール"}) {
					t.Fatalf("got %+v, %v", got, err)
				}
				return
			}
			if !errs.Is(err, errs.Unauthenticated) {
				t.Fatalf("err = %v, want unauthenticated", err)
			}
			if e, _ := errs.As(err); c.expired != strings.Contains(e.Message, "expired") {
				t.Fatalf("message %q (expired case: %v)", e.Message, c.expired)
			}
		})
	}
}

func TestLinks_SignRefusesWeakInput(t *testing.T) {
	if _, err := platform.SignLink(nil, "x", 1, t0); err == nil {
		t.Error("signed with no key")
	}
	if _, err := platform.SignLink(linkKey, "", 1, t0); err == nil {
		t.Error("signed with no purpose")
	}
	if _, err := platform.SignLink(linkKey, "x", 1, time.Time{}); err == nil {
		t.Error("signed a link that never expires")
	}
}

// FuzzVerifyLink feeds arbitrary tokens to VerifyLink: it must never panic,
// and nothing but a token signed for the purpose verifies. Its seed corpus
// runs with the normal tests; `go test -fuzz FuzzVerifyLink ./internal/platform`
// explores further.
func FuzzVerifyLink(f *testing.F) {
	good, _ := platform.SignLink(linkKey, "track.click", linkPayload{1, "x"}, t0.Add(time.Hour))
	f.Add(good, "payload")
	f.Add("", "")
	f.Add(".", "a")
	f.Add("AAAAAAAAAAA.AAAA", "日本語")
	f.Add(good+"A", "x")
	f.Add(strings.Repeat("A", 5000), "big")
	f.Fuzz(func(t *testing.T, token, msg string) {
		var p linkPayload
		if err := platform.VerifyLink(linkKey, "track.click", token, t0, &p); err == nil && token != good {
			t.Fatalf("an unsigned token verified: %q", token)
		}
		if platform.VerifyLink(linkKey, "unsubscribe", token, t0, &p) == nil {
			t.Fatalf("token verified for the wrong purpose: %q", token)
		}
		// Whatever the payload, a signed token round-trips.
		tok, err := platform.SignLink(linkKey, "track.click", linkPayload{7, msg}, t0.Add(time.Minute))
		if err != nil {
			if strings.Contains(err.Error(), "too large") {
				return
			}
			t.Fatal(err)
		}
		var back linkPayload
		if err := platform.VerifyLink(linkKey, "track.click", tok, t0, &back); err != nil || (utf8.ValidString(msg) && back.Message != msg) {
			t.Fatalf("round trip: %+v, %v", back, err)
		}
	})
}
