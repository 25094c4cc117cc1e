package httpx_test

import (
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/ryorin/ryorin/internal/errs"
	"github.com/ryorin/ryorin/internal/httpx"
)

type body struct {
	Email string   `json:"email"`
	Age   *int     `json:"age,omitempty"`
	Tags  []string `json:"tags,omitempty"`
}

func decode(s string, limit int64) error {
	r := httptest.NewRequest("POST", "/", strings.NewReader(s))
	r.Header.Set("Content-Type", "application/json")
	var b body
	return httpx.Decode(httptest.NewRecorder(), r, limit, &b)
}

func TestDecode_NamesTheFieldAndKind(t *testing.T) {
	cases := []struct {
		in    string
		kind  errs.Kind
		field string
	}{
		{`{"email":"a@b.c"}`, "", ""},
		{`{"emial":"x"}`, errs.Invalid, "emial"},
		{`{"age":"old"}`, errs.Invalid, "age"},
		{`{"tags":"x"}`, errs.Invalid, "tags"},
		{`{"email":`, errs.Invalid, ""},
		{``, errs.Invalid, ""},
		{`{} {}`, errs.Invalid, ""},
		{`{"email":"` + strings.Repeat("x", 300) + `"}`, errs.TooLarge, ""},
	}
	for _, c := range cases {
		err := decode(c.in, 200)
		if c.kind == "" {
			if err != nil {
				t.Errorf("%q: unexpected %v", c.in, err)
			}
			continue
		}
		e, ok := errs.As(err)
		if !ok || e.Kind != c.kind || e.Field != c.field {
			t.Errorf("%q: got %v, want %s on %q", c.in, err, c.kind, c.field)
		}
	}
}

func TestStatus_MapsEveryKind(t *testing.T) {
	want := map[errs.Kind]int{errs.Invalid: 400, errs.Unprocessable: 422, errs.NotFound: 404, errs.Conflict: 409,
		errs.Forbidden: 403, errs.Unauthenticated: 401, errs.TooLarge: 413, errs.RateLimited: 429, errs.Internal: 500}
	for k, s := range want {
		if got := httpx.Status(k); got != s {
			t.Errorf("Status(%s) = %d, want %d", k, got, s)
		}
	}
}

func TestClientIP_TrustsForwardedOnlyFromProxies(t *testing.T) {
	r := httptest.NewRequest("GET", "/", nil)
	r.RemoteAddr = "10.0.0.5:1234"
	r.Header.Set("X-Forwarded-For", "203.0.113.9, 10.0.0.4")
	if got := httpx.ClientIP(r, nil); got != "10.0.0.5" {
		t.Errorf("untrusted: %s", got)
	}
	if got := httpx.ClientIP(r, []string{"10.0.0.0/8"}); got != "203.0.113.9" {
		t.Errorf("trusted: %s", got)
	}
	r.Header.Set("X-Forwarded-For", "garbage")
	if got := httpx.ClientIP(r, []string{"10.0.0.0/8"}); got != "10.0.0.5" {
		t.Errorf("garbage header: %s", got)
	}
}

func TestLimiter_AllowsBurstThenRefills(t *testing.T) {
	l := httpx.NewLimiter(time.Second, 2)
	now := time.Unix(0, 0)
	got := []bool{l.Allow("ip", now), l.Allow("ip", now), l.Allow("ip", now)}
	if !got[0] || !got[1] || got[2] {
		t.Fatalf("burst of 2 not enforced: %v", got)
	}
	if !l.Allow("other", now) {
		t.Fatal("keys share a bucket")
	}
	if !l.Allow("ip", now.Add(time.Second)) {
		t.Fatal("did not refill")
	}
}

// FuzzDecode: no body makes the decoder panic, and every rejection is a
// client error (4xx), never a 500.
func FuzzDecode(f *testing.F) {
	for _, s := range []string{`{"email":"a"}`, `{"age":1e999}`, `{"tags":[1]}`, `{`, `[]`, `null`, "\xff\xfe", `{"email":"\ud800"}`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		err := decode(s, 1024)
		if err != nil {
			if st := httpx.Status(errs.KindOf(err)); st < 400 || st > 499 {
				t.Fatalf("%q: status %d", s, st)
			}
		}
	})
}
