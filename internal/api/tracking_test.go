package api_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/ryorin/ryorin/internal/db"
	"github.com/ryorin/ryorin/internal/dbtest"
)

func TestAPI_TrackingSettingsAreAdminOnlyAndReachTheCollector(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := start(t, d)
		if r := e.do(e.mkt, "GET", "/api/v1/tracking/settings", nil); r.status != 403 {
			t.Fatalf("marketer reading settings: %d", r.status)
		}
		r := e.do(e.admin, "GET", "/api/v1/tracking/settings", nil)
		if r.status != 200 || r.body["retention_days"] != 180.0 || !strings.Contains(r.body["snippet"].(string), "/t.js\"></script>") {
			t.Fatalf("defaults: %d %s", r.status, r.raw)
		}
		bad := map[string]any{"consent_required": true, "retention_days": 0, "allowed_origins": []string{}, "channel_rules": []any{}}
		if r := e.do(e.admin, "PUT", "/api/v1/tracking/settings", bad); r.status != 400 || r.errField() != "retention_days" {
			t.Fatalf("zero retention: %d %s", r.status, r.raw)
		}
		bad = map[string]any{"retention_days": 30, "allowed_origins": []string{"not an origin"}}
		if r := e.do(e.admin, "PUT", "/api/v1/tracking/settings", bad); r.status != 400 || r.errField() != "allowed_origins" {
			t.Fatalf("bad origin: %d %s", r.status, r.raw)
		}
		good := map[string]any{"consent_required": true, "retention_days": 30, "allowed_origins": []string{"https://www.example.jp/"},
			"channel_rules": []map[string]string{{"field": "utm_source", "value": "prtimes", "channel": "referral"}}}
		r = e.do(e.admin, "PUT", "/api/v1/tracking/settings", good)
		if r.status != 200 || r.body["consent_required"] != true || r.body["allowed_origins"].([]any)[0] != "https://www.example.jp" {
			t.Fatalf("save: %d %s", r.status, r.raw)
		}
		// The collector sees the change at once: a post without consent is dropped.
		req, _ := http.NewRequest("POST", e.srv.URL+"/t/collect", strings.NewReader(`{"vid":"visitor-api-01","events":[{"id":"hit-api-0001","kind":"page_view","url":"https://www.example.jp/"}]}`))
		req.Header.Set("Origin", "https://www.example.jp")
		req.Header.Set("User-Agent", "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != 204 || e.count("events") != 0 {
			t.Fatalf("post without consent after the change: %d", res.StatusCode)
		}
		if r := e.do(e.admin, "GET", "/api/v1/tracking/settings", nil); r.body["stats"].(map[string]any)["no_consent"] != 1.0 {
			t.Fatalf("counters: %s", r.raw)
		}
	})
}

func TestAPI_IdentifyAVisitorThenListTheContactsSessions(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := start(t, d)
		req, _ := http.NewRequest("POST", e.srv.URL+"/t/collect", strings.NewReader(`{"vid":"visitor-api-02","events":[{"id":"hit-api-0002","kind":"page_view","url":"https://www.example.jp/pricing","referrer":"https://www.google.com/"}]}`))
		req.Header.Set("User-Agent", "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36")
		res, err := http.DefaultClient.Do(req)
		if err != nil || res.StatusCode != 200 {
			t.Fatalf("collect: %v %v", res, err)
		}
		res.Body.Close()
		c := e.do(e.mkt, "POST", "/api/v1/contacts", map[string]any{"email": "web@example.com"})
		id := int64(c.body["id"].(float64))
		if r := e.do(e.mkt, "POST", "/api/v1/tracking/identify", map[string]any{"visitor_id": "visitor-api-02", "contact_id": id}); r.status != 200 || r.body["attached"] != 1.0 {
			t.Fatalf("identify: %d %s", r.status, r.raw)
		}
		if r := e.do(e.mkt, "POST", "/api/v1/tracking/identify", map[string]any{"visitor_id": "x", "contact_id": id}); r.status != 400 || r.errField() != "visitor_id" {
			t.Fatalf("bad visitor id: %d %s", r.status, r.raw)
		}
		r := e.do(e.sales, "GET", "/api/v1/contacts/"+itoa(id)+"/sessions", nil)
		if r.status != 200 || !strings.Contains(r.raw, `"channel":"organic_search"`) || !strings.Contains(r.raw, `"page_views":1`) {
			t.Fatalf("sessions: %d %s", r.status, r.raw)
		}
		tl := e.do(e.sales, "GET", "/api/v1/contacts/"+itoa(id)+"/timeline", nil)
		if !strings.Contains(tl.raw, "event.page_view") {
			t.Fatalf("timeline: %s", tl.raw)
		}
		if r := e.do(e.admin, "GET", "/api/v1/tracking/daily?from=2026-01-01&to=2026-12-31", nil); r.status != 200 {
			t.Fatalf("daily: %d %s", r.status, r.raw)
		}
		if r := e.do(e.admin, "GET", "/api/v1/tracking/daily?from=yesterday&to=2026-12-31", nil); r.status != 400 {
			t.Fatalf("bad day: %d", r.status)
		}
	})
}
