package api_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"testing"

	"github.com/ryorin/ryorin/internal/crm"
	"github.com/ryorin/ryorin/internal/db"
	"github.com/ryorin/ryorin/internal/dbtest"
	"github.com/ryorin/ryorin/internal/platform"
	"github.com/ryorin/ryorin/internal/sales"
)

// TestQuoteMailAPI_SendOnceViewPubliclyAndCompareCompetitors sends an issued
// quote by API (a retry with the same key sends nothing more), opens the
// public link through the whole program's handler, and reads the
// competitors' report.
func TestQuoteMailAPI_SendOnceViewPubliclyAndCompareCompetitors(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := start(t, d)
		ctx := context.Background()
		rep := platform.Actor{WorkspaceID: 1, UserID: e.salesID, Role: platform.RoleSales, Kind: platform.ActorUser}
		s := func(v string) *string { return &v }
		ct, err := e.app.CRM.CreateContact(ctx, rep, crm.ContactInput{FamilyName: s("加藤"), Email: s("kato@customer.jp")})
		if err != nil {
			t.Fatal(err)
		}
		dl, err := e.app.CRM.CreateDeal(ctx, rep, crm.DealInput{Name: s("導入"), Contacts: &[]crm.DealContact{{ContactID: ct.ID}}})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.app.Sales.SaveQuoteSettings(ctx, platform.System(1), sales.QuoteSettings{SellerName: "株式会社両輪", ValidDays: 30}); err != nil {
			t.Fatal(err)
		}
		price := 100000.0
		if _, _, err := e.app.Sales.SaveLineItems(ctx, rep, dl.ID, []sales.LineItemInput{{Description: s("ライセンス"), Quantity: 1, UnitPrice: &price}}); err != nil {
			t.Fatal(err)
		}
		if _, err := e.app.Sales.IssueQuote(ctx, rep, dl.ID, sales.IssueInput{}); err != nil {
			t.Fatal(err)
		}
		path := fmt.Sprintf("/api/v1/deals/%d/quote-sends", dl.ID)
		if r := e.do(e.sales, "POST", path, map[string]any{"version": 1, "contact_id": ct.ID + 99}); r.status != 400 || r.errField() != "contact_id" {
			t.Errorf("a contact not on the deal: %d %s", r.status, r.raw)
		}
		in := map[string]any{"version": 1, "contact_id": ct.ID}
		r := e.do(e.sales, "POST", path, in, "Idempotency-Key", "q1")
		if r.status != 201 || r.body["number"] != "Q-000001" {
			t.Fatalf("send: %d %s", r.status, r.raw)
		}
		if r := e.do(e.sales, "POST", path, in, "Idempotency-Key", "q1"); r.status != 201 {
			t.Errorf("retry: %d", r.status)
		}
		var n int
		var body string
		if err := d.Reader().QueryRowContext(ctx, `SELECT COUNT(*), MAX(body) FROM sales_emails WHERE deal_id = ?`, dl.ID).Scan(&n, &body); err != nil || n != 1 {
			t.Fatalf("sales emails = %d, %v", n, err)
		}
		link := regexp.MustCompile(`/q/[A-Za-z0-9_.-]+`).FindString(body)
		if link == "" {
			t.Fatalf("no quote link in %q", body)
		}
		res, err := http.Get(e.srv.URL + link + ".pdf")
		if err != nil {
			t.Fatal(err)
		}
		pdf, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != 200 || res.Header.Get("Content-Type") != "application/pdf" || len(pdf) < 1000 {
			t.Errorf("public PDF: %d %s", res.StatusCode, res.Header.Get("Content-Type"))
		}
		if res, err := http.Get(e.srv.URL + link[:len(link)-1] + "_x"); err != nil || res.StatusCode != 404 {
			t.Errorf("altered link: %v %v", res.StatusCode, err)
		}
		r = e.do(e.sales, "GET", path, nil)
		if r.status != 200 || r.raw == "" || !regexp.MustCompile(`"views":1\b`).MatchString(r.raw) {
			t.Errorf("list: %d %s", r.status, r.raw)
		}
		// The competitors compared.
		if _, err := e.app.CRM.CreateCompetitor(ctx, rep, crm.Competitor{Name: "ライバル"}); err != nil {
			t.Fatal(err)
		}
		r = e.do(e.sales, "GET", "/api/v1/competitors/report", nil)
		if r.status != 200 || !regexp.MustCompile(`"name":"ライバル".*"won":0.*"priced_deals":0`).MatchString(r.raw) {
			t.Errorf("report: %d %s", r.status, r.raw)
		}
	})
}
