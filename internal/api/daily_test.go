package api_test

import (
	"strings"
	"testing"

	"github.com/ryorin/ryorin/internal/db"
	"github.com/ryorin/ryorin/internal/dbtest"
)

func TestDailyReportAPI_SubmitReadCommentAndRoles(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := start(t, d)
		c := e.do(e.sales, "POST", "/api/v1/contacts", map[string]any{"family_name": "森", "email": "mori@example.jp"})
		if c.status != 201 {
			t.Fatalf("contact: %d %s", c.status, c.raw)
		}
		cid := c.body["id"]
		for _, o := range []string{"no_answer", "appointment", "appointment"} {
			if r := e.do(e.sales, "POST", "/api/v1/activities", map[string]any{"kind": "call", "call_outcome": o, "contact_id": cid}); r.status != 201 {
				t.Fatalf("call: %d %s", r.status, r.raw)
			}
		}
		// 2026-04-01 00:00 UTC is 09:00 in Tokyo.
		r := e.do(e.sales, "GET", "/api/v1/daily-reports?date=2026-04-01", nil)
		sum, _ := r.body["summary"].(map[string]any)
		if r.status != 200 || sum["calls"] != 3.0 || r.body["submitted_at"] != nil {
			t.Fatalf("draft: %d %s", r.status, r.raw)
		}
		if r := e.do(e.sales, "GET", "/api/v1/daily-reports?date=2026-04-01&user_id=1", nil); r.status != 403 {
			t.Errorf("rep read another's report: %d", r.status)
		}
		if r := e.do(e.sales, "PUT", "/api/v1/daily-reports/2026-13-01", map[string]any{"comment": "x"}); r.status != 400 || r.errField() != "day" {
			t.Errorf("bad day: %d %s", r.status, r.raw)
		}
		if r := e.do(e.sales, "PUT", "/api/v1/daily-reports/2026-04-01", map[string]any{"comment": "x", "mood": "good"}); r.status != 400 {
			t.Errorf("unknown field: %d", r.status)
		}
		sub := e.do(e.sales, "PUT", "/api/v1/daily-reports/2026-04-01", map[string]any{"comment": "アポ2件"})
		if sub.status != 200 || sub.body["submitted_at"] == nil {
			t.Fatalf("submit: %d %s", sub.status, sub.raw)
		}
		id := sub.body["id"].(float64)
		if r := e.do(e.sales, "GET", "/api/v1/daily-reports/team?date=2026-04-01", nil); r.status != 403 {
			t.Errorf("rep read the team: %d", r.status)
		}
		team := e.do(e.admin, "GET", "/api/v1/daily-reports/team?date=2026-04-01", nil)
		if team.status != 200 || !strings.Contains(team.raw, "アポ2件") {
			t.Errorf("team: %d %s", team.status, team.raw)
		}
		if r := e.do(e.sales, "POST", "/api/v1/daily-reports/"+itoa(int64(id))+"/comment", map[string]any{"comment": "x"}); r.status != 403 {
			t.Errorf("rep commented: %d", r.status)
		}
		cm := e.do(e.admin, "POST", "/api/v1/daily-reports/"+itoa(int64(id))+"/comment", map[string]any{"comment": "よくできました"})
		if cm.status != 200 || cm.body["manager_comment"] != "よくできました" {
			t.Errorf("comment: %d %s", cm.status, cm.raw)
		}
		if r := e.do(e.sales, "GET", "/api/v1/today", nil); r.status != 200 || r.body["day"] != "2026-04-01" {
			t.Errorf("today: %d %s", r.status, r.raw)
		}
		if r := e.do(e.admin, "PUT", "/api/v1/sales-settings", map[string]any{"stale_deal_days": 0}); r.status != 400 || r.errField() != "stale_deal_days" {
			t.Errorf("settings 0: %d %s", r.status, r.raw)
		}
		if r := e.do(e.admin, "PUT", "/api/v1/quotas", map[string]any{"scope": "user", "scope_id": e.salesID, "month": "2026-04", "revenue": 3000000, "deals": 3}); r.status != 200 {
			t.Errorf("set quota: %d %s", r.status, r.raw)
		}
		if r := e.do(e.sales, "PUT", "/api/v1/quotas", map[string]any{"scope": "user", "scope_id": e.salesID, "month": "2026-04", "revenue": 1}); r.status != 403 {
			t.Errorf("rep set quota: %d", r.status)
		}
		if r := e.do(e.sales, "GET", "/api/v1/quota-progress", nil); r.status != 200 || r.body["month"] != "2026-04" || r.body["target"].(map[string]any)["revenue"] != 3000000.0 {
			t.Errorf("quota progress: %d %s", r.status, r.raw)
		}
		if r := e.do(e.sales, "PUT", "/api/v1/sales-settings", map[string]any{"stale_deal_days": 20}); r.status != 403 {
			t.Errorf("rep settings: %d", r.status)
		}
	})
}
