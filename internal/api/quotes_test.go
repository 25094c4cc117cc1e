package api_test

import (
	"strings"
	"testing"

	"github.com/ryorin/ryorin/internal/db"
	"github.com/ryorin/ryorin/internal/dbtest"
)

func TestProductsAPI_CreateListUpdateAndRoles(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := start(t, d)
		p := e.do(e.sales, "POST", "/api/v1/products", map[string]any{"code": "LIC", "name": "年間ライセンス", "unit_price": 120000, "billing": "year"})
		if p.status != 201 || p.body["currency"] != "JPY" || p.body["tax_category"] != "standard" || p.body["active"] != true {
			t.Fatalf("create: %d %s", p.status, p.raw)
		}
		if r := e.do(e.sales, "POST", "/api/v1/products", map[string]any{"code": "X", "name": "x", "tax_category": "zero"}); r.status != 400 || r.errField() != "tax_category" {
			t.Errorf("bad tax category: %d %s", r.status, r.raw)
		}
		if r := e.do(e.sales, "POST", "/api/v1/products", map[string]any{"code": "LIC", "name": "x"}); r.status != 409 || r.errField() != "code" {
			t.Errorf("duplicate: %d %s", r.status, r.raw)
		}
		if r := e.do(e.mkt, "POST", "/api/v1/products", map[string]any{"code": "M", "name": "x"}); r.status != 403 {
			t.Errorf("marketing created: %d", r.status)
		}
		id := itoa(int64(p.body["id"].(float64)))
		if r := e.do(e.admin, "PATCH", "/api/v1/products/"+id, map[string]any{"active": false}); r.status != 200 || r.body["active"] != false {
			t.Errorf("retire: %d %s", r.status, r.raw)
		}
		if r := e.do(e.mkt, "GET", "/api/v1/products?active=true", nil); r.status != 200 || r.raw != "[]\n" && r.raw != "[]" {
			t.Errorf("active list: %d %s", r.status, r.raw)
		}
		if r := e.do(e.mkt, "GET", "/api/v1/products", nil); r.status != 200 || len(r.raw) < 10 {
			t.Errorf("list: %d %s", r.status, r.raw)
		}
	})
}

func TestLineItemsAPI_SaveSetsTheAmountAndNamesBadFields(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := start(t, d)
		deal := e.do(e.sales, "POST", "/api/v1/deals", map[string]any{"name": "見積テスト", "amount": 1})
		if deal.status != 201 {
			t.Fatalf("deal: %d %s", deal.status, deal.raw)
		}
		id := itoa(int64(deal.body["id"].(float64)))
		r := e.do(e.sales, "PUT", "/api/v1/deals/"+id+"/line-items", map[string]any{"lines": []map[string]any{
			{"description": "導入費", "quantity": 1, "unit_price": 300000},
			{"description": "保守", "quantity": 12, "unit_price": 10000, "billing": "month", "discount_kind": "percent", "discount": 5},
		}})
		dl, _ := r.body["deal"].(map[string]any)
		if r.status != 200 || dl["amount"] != 414000.0 || dl["recurring_amount"] != 114000.0 || dl["recurring_interval"] != "month" {
			t.Fatalf("save: %d %s", r.status, r.raw)
		}
		if r := e.do(e.sales, "GET", "/api/v1/deals/"+id+"/line-items", nil); r.status != 200 || !strings.Contains(r.raw, `"total":114000`) {
			t.Errorf("list: %d %s", r.status, r.raw)
		}
		if r := e.do(e.sales, "PUT", "/api/v1/deals/"+id+"/line-items", map[string]any{"lines": []map[string]any{{"description": "x", "quantity": -1}}}); r.status != 400 || r.errField() != "lines[0].quantity" {
			t.Errorf("bad quantity: %d %s", r.status, r.raw)
		}
		if r := e.do(e.mkt, "PUT", "/api/v1/deals/"+id+"/line-items", map[string]any{"lines": []map[string]any{}}); r.status != 403 {
			t.Errorf("marketing saved lines: %d", r.status)
		}
	})
}

func TestQuotesAPI_IssueVersionsReadAndPDF(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := start(t, d)
		co := e.do(e.sales, "POST", "/api/v1/companies", map[string]any{"name": "株式会社テスト"})
		deal := e.do(e.sales, "POST", "/api/v1/deals", map[string]any{"name": "見積テスト", "company_id": co.body["id"]})
		id := itoa(int64(deal.body["id"].(float64)))
		if r := e.do(e.sales, "POST", "/api/v1/deals/"+id+"/quotes", map[string]any{}); r.status != 422 || r.errField() != "lines" {
			t.Errorf("no lines: %d %s", r.status, r.raw)
		}
		e.do(e.sales, "PUT", "/api/v1/deals/"+id+"/line-items", map[string]any{"lines": []map[string]any{
			{"description": "導入費", "quantity": 1, "unit_price": 1005},
			{"description": "お茶", "quantity": 2, "unit_price": 110, "tax_category": "reduced"},
		}})
		if r := e.do(e.sales, "PUT", "/api/v1/quote-settings", map[string]any{"seller_name": "x", "valid_days": 30}); r.status != 403 {
			t.Errorf("rep changed settings: %d", r.status)
		}
		if r := e.do(e.admin, "PUT", "/api/v1/quote-settings", map[string]any{"seller_name": "株式会社りょうりん", "registration_number": "T12345", "valid_days": 30}); r.status != 400 || r.errField() != "registration_number" {
			t.Errorf("bad registration: %d %s", r.status, r.raw)
		}
		if r := e.do(e.admin, "PUT", "/api/v1/quote-settings", map[string]any{"seller_name": "株式会社りょうりん", "registration_number": "T1234567890123", "valid_days": 14, "rounding": "round"}); r.status != 200 {
			t.Fatalf("settings: %d %s", r.status, r.raw)
		}
		if r := e.do(e.sales, "POST", "/api/v1/deals/"+id+"/quotes", map[string]any{"lang": "de"}); r.status != 400 || r.errField() != "lang" {
			t.Errorf("bad lang: %d %s", r.status, r.raw)
		}
		q := e.do(e.sales, "POST", "/api/v1/deals/"+id+"/quotes", map[string]any{"lang": "en"})
		// 1,005 at 10% → 100.5 → 101 (round); 220 at 8% → 17.6 → 18.
		if q.status != 201 || q.body["number"] != "Q-000001" || q.body["version"] != 1.0 || q.body["tax"] != 119.0 || q.body["total"] != 1344.0 || q.body["valid_until"] != "2026-04-15" {
			t.Fatalf("issue: %d %s", q.status, q.raw)
		}
		if r := e.do(e.sales, "POST", "/api/v1/deals/"+id+"/quotes", map[string]any{}); r.status != 201 || r.body["version"] != 2.0 || r.body["number"] != "Q-000001" {
			t.Errorf("v2: %d %s", r.status, r.raw)
		}
		if r := e.do(e.mkt, "GET", "/api/v1/deals/"+id+"/quotes", nil); r.status != 200 || strings.Count(r.raw, `"deal_id"`) != 2 {
			t.Errorf("list: %d %s", r.status, r.raw)
		}
		if r := e.do(e.mkt, "GET", "/api/v1/deals/"+id+"/quotes/1", nil); r.status != 200 || r.body["lang"] != "en" {
			t.Errorf("get v1: %d %s", r.status, r.raw)
		}
		if r := e.do(e.mkt, "GET", "/api/v1/deals/"+id+"/quotes/9", nil); r.status != 404 {
			t.Errorf("missing version: %d", r.status)
		}
		pdf := e.do(e.sales, "GET", "/api/v1/deals/"+id+"/quotes/2/pdf", nil)
		if pdf.status != 200 || pdf.header.Get("Content-Type") != "application/pdf" || !strings.HasPrefix(pdf.raw, "%PDF-") || !strings.Contains(pdf.header.Get("Content-Disposition"), "Q-000001-2.pdf") {
			t.Errorf("pdf: %d %v %.20q", pdf.status, pdf.header, pdf.raw)
		}
	})
}

func TestQuoteApprovalsAPI_RequestDecideIssue(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := start(t, d)
		e.do(e.admin, "PUT", "/api/v1/quote-settings", map[string]any{"seller_name": "株式会社りょうりん", "valid_days": 30, "approval_discount_pct": 10})
		deal := e.do(e.sales, "POST", "/api/v1/deals", map[string]any{"name": "値引案件"})
		id := itoa(int64(deal.body["id"].(float64)))
		e.do(e.sales, "PUT", "/api/v1/deals/"+id+"/line-items", map[string]any{"lines": []map[string]any{
			{"description": "保守", "quantity": 1, "unit_price": 100000, "discount_kind": "amount", "discount": 12000}}})
		if r := e.do(e.sales, "POST", "/api/v1/deals/"+id+"/quotes", map[string]any{}); r.status != 422 || r.errField() != "approval" {
			t.Fatalf("issue: %d %s", r.status, r.raw)
		}
		req := e.do(e.sales, "POST", "/api/v1/deals/"+id+"/quote-approvals", map[string]any{"note": "年度末"})
		if req.status != 201 || req.body["status"] != "pending" || req.body["max_discount_pct"] != 12.0 {
			t.Fatalf("request: %d %s", req.status, req.raw)
		}
		aid := itoa(int64(req.body["id"].(float64)))
		if r := e.do(e.sales, "POST", "/api/v1/deals/"+id+"/quote-approvals/"+aid+"/decision", map[string]any{"approve": true}); r.status != 403 {
			t.Errorf("rep decided: %d", r.status)
		}
		if r := e.do(e.admin, "POST", "/api/v1/deals/"+id+"/quote-approvals/"+aid+"/decision", map[string]any{"approve": true, "note": "OK"}); r.status != 200 || r.body["status"] != "approved" {
			t.Fatalf("decide: %d %s", r.status, r.raw)
		}
		if r := e.do(e.sales, "GET", "/api/v1/deals/"+id+"/quote-approvals", nil); r.status != 200 || !strings.Contains(r.raw, `"needed":true`) || !strings.Contains(r.raw, `"status":"approved"`) {
			t.Errorf("list: %d %s", r.status, r.raw)
		}
		if r := e.do(e.sales, "POST", "/api/v1/deals/"+id+"/quotes", map[string]any{}); r.status != 201 {
			t.Errorf("issue after approval: %d %s", r.status, r.raw)
		}
	})
}
