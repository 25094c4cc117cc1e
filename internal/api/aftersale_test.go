package api_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/ryorin/ryorin/internal/db"
	"github.com/ryorin/ryorin/internal/dbtest"
)

func TestAPI_IssuesCreateListUpdateAndFieldErrors(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := start(t, d)
		co := e.do(e.admin, "POST", "/api/v1/companies", map[string]any{"name": "株式会社サポート", "owner_id": e.salesID})
		if co.status != 201 {
			t.Fatalf("company: %d %s", co.status, trunc(co.raw))
		}
		coID := int64(co.body["id"].(float64))
		for _, c := range []struct {
			name   string
			body   any
			status int
			field  string
		}{
			{"no subject", map[string]any{"company_id": coID}, 400, "subject"},
			{"no customer", map[string]any{"subject": "x"}, 400, "contact_id"},
			{"bad priority", map[string]any{"subject": "x", "company_id": coID, "priority": "p1"}, 400, "priority"},
			{"bad status", map[string]any{"subject": "x", "company_id": coID, "status": "closed"}, 400, "status"},
			{"unknown company", map[string]any{"subject": "x", "company_id": 999}, 422, "company_id"},
			{"unknown field", map[string]any{"subject": "x", "company_id": coID, "severity": "high"}, 400, "severity"},
		} {
			t.Run(c.name, func(t *testing.T) {
				if r := e.do(e.admin, "POST", "/api/v1/issues", c.body); r.status != c.status || r.errField() != c.field {
					t.Errorf("got %d %q, want %d %q: %s", r.status, r.errField(), c.status, c.field, trunc(r.raw))
				}
			})
		}
		if n := e.count("customer_issues"); n != 0 {
			t.Fatalf("bad input stored %d issues", n)
		}
		r := e.do(e.admin, "POST", "/api/v1/issues", map[string]any{"subject": "請求額の相違", "company_id": coID, "category": "complaint", "priority": "high"})
		if r.status != 201 || int64(r.body["owner_id"].(float64)) != e.salesID || r.body["status"] != "open" {
			t.Fatalf("create: %d %s", r.status, trunc(r.raw))
		}
		id := int64(r.body["id"].(float64))
		if got := e.do(e.sales, "GET", "/api/v1/notifications", nil); !strings.Contains(got.raw, "請求額の相違") {
			t.Errorf("account owner not notified: %s", trunc(got.raw))
		}
		if r := e.do(e.sales, "PATCH", fmt.Sprintf("/api/v1/issues/%d", id), map[string]any{"status": "resolved"}); r.status != 200 || r.body["resolved_at"] == nil {
			t.Fatalf("resolve: %d %s", r.status, trunc(r.raw))
		}
		if r := e.do(e.sales, "PATCH", fmt.Sprintf("/api/v1/issues/%d", id), map[string]any{"priority": "p0"}); r.status != 400 || r.errField() != "priority" {
			t.Errorf("bad patch: %d %s", r.status, trunc(r.raw))
		}
		if r := e.do(e.sales, "GET", "/api/v1/issues?status=unresolved", nil); r.status != 200 || len(r.body["items"].([]any)) != 0 || !strings.Contains(r.raw, `"resolved":1`) {
			t.Errorf("unresolved list: %d %s", r.status, trunc(r.raw))
		}
		if r := e.do(e.sales, "GET", "/api/v1/issues?status=done", nil); r.status != 400 || r.errField() != "status" {
			t.Errorf("bad status filter: %d %s", r.status, trunc(r.raw))
		}
		if r := e.do(e.sales, "GET", fmt.Sprintf("/api/v1/issues/%d", id+1), nil); r.status != 404 {
			t.Errorf("missing issue: %d", r.status)
		}
	})
}

func TestAPI_RenewalsAndAfterSaleRates(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := start(t, d)
		ctx := context.Background()
		p, err := e.app.CRM.DefaultPipeline(ctx, d.Reader(), 1)
		if err != nil {
			t.Fatal(err)
		}
		var won int64
		for _, st := range p.Stages {
			if st.Kind == "won" {
				won = st.ID
			}
		}
		now := e.clock.Now()
		e.clock.Set(now.AddDate(0, -11, 0))
		r := e.do(e.admin, "POST", "/api/v1/deals", map[string]any{"name": "年間契約", "stage_id": won, "recurring_amount": 100000, "recurring_interval": "year", "owner_id": e.salesID})
		if r.status != 201 {
			t.Fatalf("deal: %d %s", r.status, trunc(r.raw))
		}
		src := int64(r.body["id"].(float64))
		e.clock.Set(now)
		// The hourly sales.renewals job creates it, once however often it runs.
		for range 2 {
			if _, err := e.app.Jobs.RunOnce(ctx); err != nil {
				t.Fatal(err)
			}
			e.clock.Advance(time.Hour)
		}
		if n := e.count("deal_renewals"); n != 1 {
			t.Fatalf("renewals after two job slots: %d", n)
		}
		if r := e.do(e.sales, "GET", "/api/v1/renewals?days=90", nil); r.status != 200 || !strings.Contains(r.raw, `"renewal_status":"open"`) {
			t.Errorf("renewals: %d %s", r.status, trunc(r.raw))
		}
		if r := e.do(e.sales, "GET", "/api/v1/renewals?days=0", nil); r.status != 200 {
			t.Errorf("default window: %d", r.status)
		}
		if r := e.do(e.sales, "GET", "/api/v1/renewals?days=9999", nil); r.status != 400 || r.errField() != "days" {
			t.Errorf("bad window: %d %s", r.status, trunc(r.raw))
		}
		if r := e.do(e.sales, "GET", fmt.Sprintf("/api/v1/deals/%d/renewal", src), nil); r.status != 200 || r.body["renewed_by"] == nil {
			t.Errorf("renewal link: %d %s", r.status, trunc(r.raw))
		}
		if r := e.do(e.sales, "GET", "/api/v1/after-sale-rates?period=year&offset=1", nil); r.status != 200 || !strings.Contains(r.raw, `"repeat_formula"`) {
			t.Errorf("rates: %d %s", r.status, trunc(r.raw))
		}
		if r := e.do(e.sales, "GET", "/api/v1/kpis", nil); !strings.Contains(r.raw, `"key":"renewal_rate"`) || !strings.Contains(r.raw, `"key":"repeat_rate"`) {
			t.Errorf("kpis lack the rates: %s", trunc(r.raw))
		}
	})
}
