package api_test

import (
	"strings"
	"testing"

	"github.com/ryorin/ryorin/internal/db"
	"github.com/ryorin/ryorin/internal/dbtest"
)

// Two contacts created today, one from email and one from paid search: the
// funnel, channel and rep reports narrowed by channel count one; a filter
// part a report does not honour is refused by name. Social figures entered
// by marketing come back summed with their rate.
func TestAPI_ReportFiltersAndSocialFigures(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := start(t, d)
		for _, c := range []map[string]any{{"email": "a@example.jp", "original_channel": "email"}, {"email": "b@example.jp", "original_channel": "paid_search"}} {
			if r := e.do(e.admin, "POST", "/api/v1/contacts", c); r.status != 201 {
				t.Fatalf("contact: %d %s", r.status, trunc(r.raw))
			}
		}
		if r := e.do(e.sales, "GET", "/api/v1/funnel?months=1&channel=email", nil); r.status != 200 || !strings.Contains(r.raw, `"total":{"month":"","reached":[1,`) || !strings.Contains(r.raw, `"filter":{"channel":"email"}`) {
			t.Errorf("funnel, email: %d %s", r.status, trunc(r.raw))
		}
		if r := e.do(e.sales, "GET", "/api/v1/funnel?months=1", nil); r.status != 200 || !strings.Contains(r.raw, `"total":{"month":"","reached":[2,`) {
			t.Errorf("funnel: %d %s", r.status, trunc(r.raw))
		}
		if r := e.do(e.sales, "GET", "/api/v1/funnel?pipeline_id=1", nil); r.status != 400 || r.errField() != "pipeline_id" {
			t.Errorf("funnel by pipeline: %d %s", r.status, trunc(r.raw))
		}
		r := e.do(e.sales, "GET", "/api/v1/channel-quality?period=month&channel=email", nil)
		if r.status != 200 || !strings.Contains(r.raw, `"rows":[{"channel":"email",`) || strings.Contains(r.raw, `paid_search`) || !strings.Contains(r.raw, `"total":{"channel":"","visits":0,"leads":1,`) || !strings.Contains(r.raw, `"filter_formula"`) {
			t.Errorf("channel quality, email: %d %s", r.status, trunc(r.raw))
		}
		if r := e.do(e.sales, "GET", "/api/v1/rep-performance?period=month&owner_id=999999", nil); r.status != 200 || !strings.Contains(r.raw, `"reps":null`) && !strings.Contains(r.raw, `"reps":[]`) {
			t.Errorf("reps of nobody: %d %s", r.status, trunc(r.raw))
		}
		if r := e.do(e.sales, "PUT", "/api/v1/social/stats", map[string]any{"month": "2026-04", "network": "x", "impressions": 1000}); r.status != 403 {
			t.Errorf("sales entering social figures: %d", r.status)
		}
		for _, st := range []map[string]any{{"month": "2026-04", "network": "x", "impressions": 8000, "engagements": 200}, {"month": "2026-04", "network": "note", "channel": "other", "impressions": 2000, "engagements": 100}} {
			if r := e.do(e.mkt, "PUT", "/api/v1/social/stats", st); r.status != 200 {
				t.Fatalf("social: %d %s", r.status, trunc(r.raw))
			}
		}
		if r := e.do(e.mkt, "PUT", "/api/v1/social/stats", map[string]any{"month": "2026-04", "network": "myspace"}); r.status != 400 || r.errField() != "network" {
			t.Errorf("unknown network: %d %s", r.status, trunc(r.raw))
		}
		if r := e.do(e.sales, "GET", "/api/v1/social?period=month", nil); r.status != 200 || !strings.Contains(r.raw, `"total":{"network":"","impressions":10000,"engagements":300,`) {
			t.Errorf("social: %d %s", r.status, trunc(r.raw))
		}
		if r := e.do(e.sales, "GET", "/api/v1/social?period=month&channel=social", nil); r.status != 200 || !strings.Contains(r.raw, `"impressions":8000,"engagements":200`) || strings.Contains(r.raw, `"note"`) {
			t.Errorf("social, channel social: %d %s", r.status, trunc(r.raw))
		}
		if r := e.do(e.sales, "GET", "/api/v1/kpis?period=month", nil); r.status != 200 || !strings.Contains(r.raw, `{"key":"social_engagement_rate","value":0.03,"unit":"ratio"`) {
			t.Errorf("social KPI: %d %s", r.status, trunc(r.raw))
		}
		if r := e.do(e.sales, "GET", "/api/v1/social/stats", nil); r.status != 200 || !strings.Contains(r.raw, `"network":"x"`) {
			t.Errorf("social stats: %d %s", r.status, trunc(r.raw))
		}
	})
}
