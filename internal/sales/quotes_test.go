package sales_test

import (
	"context"
	"github.com/ryorin/ryorin/internal/crm"
	"math"
	"strings"
	"testing"

	"github.com/ryorin/ryorin/internal/db"
	"github.com/ryorin/ryorin/internal/dbtest"
	"github.com/ryorin/ryorin/internal/errs"
	"github.com/ryorin/ryorin/internal/platform"
	"github.com/ryorin/ryorin/internal/sales"
)

func f64(v float64) *float64 { return &v }

// catalogue adds a standard-rate yearly licence and a reduced-rate one-time item.
func (w *world) catalogue(t *testing.T) (lic, tea sales.Product) {
	t.Helper()
	ctx := context.Background()
	var err error
	if lic, err = w.ss.CreateProduct(ctx, w.rep, sales.ProductInput{Code: str("LIC-01"), Name: str("クラウド年間ライセンス"), UnitPrice: f64(120000), Billing: str("year")}); err != nil {
		t.Fatal(err)
	}
	if tea, err = w.ss.CreateProduct(ctx, w.rep, sales.ProductInput{Code: str("TEA-01"), Name: str("お茶（軽減税率）"), UnitPrice: f64(105), TaxCategory: str("reduced")}); err != nil {
		t.Fatal(err)
	}
	return lic, tea
}

func TestProducts_PriceListRulesAndRoles(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		w := newWorld(t, d)
		lic, tea := w.catalogue(t)
		if lic.Currency != "JPY" || lic.UnitPrice != 120000 || lic.TaxCategory != "standard" || lic.Billing != "year" || !lic.Active || tea.TaxCategory != "reduced" {
			t.Fatalf("created: %+v %+v", lic, tea)
		}
		// A code is unique; bad input names the field.
		_, err := w.ss.CreateProduct(ctx, w.rep, sales.ProductInput{Code: str("LIC-01"), Name: str("x"), UnitPrice: f64(1)})
		if e, ok := errs.As(err); !ok || e.Kind != errs.Conflict || e.Field != "code" {
			t.Errorf("duplicate code: %v", err)
		}
		for field, in := range map[string]sales.ProductInput{
			"code":         {Name: str("x")},
			"name":         {Code: str("X")},
			"unit_price":   {Code: str("X"), Name: str("x"), UnitPrice: f64(-1)},
			"currency":     {Code: str("X"), Name: str("x"), Currency: str("ABC")},
			"tax_category": {Code: str("X"), Name: str("x"), TaxCategory: str("zero")},
			"unit_price ":  {Code: str("X"), Name: str("x"), UnitPrice: f64(math.NaN())},
			"billing":      {Code: str("X"), Name: str("x"), Billing: str("weekly")},
		} {
			if _, err := w.ss.CreateProduct(ctx, w.rep, in); errs.KindOf(err) != errs.Invalid {
				t.Errorf("%s: %v", field, err)
			} else if e, _ := errs.As(err); e.Field != strings.TrimSpace(field) {
				t.Errorf("%s: names %q", field, e.Field)
			}
		}
		// Marketing may read but not edit the price list.
		u, err := platform.CreateUser(ctx, d, platform.CLI(1), platform.NewUser{Email: "mk@example.com", Name: "広報", Role: platform.RoleMarketing}, w.fc.Now())
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.ss.UpdateProduct(ctx, u.Actor(1, platform.ActorUser), lic.ID, sales.ProductInput{Name: str("x")}); errs.KindOf(err) != errs.Forbidden {
			t.Errorf("marketing edits: %v", err)
		}
		// Retiring a product hides it from the list offered for new lines.
		if _, err := w.ss.UpdateProduct(ctx, w.mgr, tea.ID, sales.ProductInput{Active: boolp(false), UnitPrice: f64(110)}); err != nil {
			t.Fatal(err)
		}
		all, _ := w.ss.Products(ctx, d.Reader(), 1, false)
		active, _ := w.ss.Products(ctx, d.Reader(), 1, true)
		if len(all) != 2 || len(active) != 1 || active[0].ID != lic.ID || all[1].UnitPrice != 110 {
			t.Errorf("lists: all %+v active %+v", all, active)
		}
	})
}

func TestLineItems_SetTheDealAmountInTheSameWrite(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		w := newWorld(t, d)
		lic, tea := w.catalogue(t)
		pct, amt := "percent", "amount"
		lines := []sales.LineItemInput{
			{ProductID: lic.ID, Quantity: 3, DiscountKind: pct, Discount: 10},                                         // 360,000 − 36,000 = 324,000 / year
			{Description: str("導入支援（初期費用）"), Quantity: 1, UnitPrice: f64(500000), DiscountKind: amt, Discount: 50000}, // 450,000
			{Description: str("保守"), Quantity: 2, UnitPrice: f64(10000), Billing: str("month")},                       // 20,000 / month
			{ProductID: tea.ID, Quantity: 2.5}, // 262.5 → 263, reduced
		}
		items, deal, err := w.ss.SaveLineItems(ctx, w.rep, w.deal.ID, lines)
		if err != nil {
			t.Fatal(err)
		}
		if len(items) != 4 || items[0].Description != "クラウド年間ライセンス" || items[0].Total != 324000 || items[3].Total != 263 || items[3].TaxCategory != "reduced" {
			t.Fatalf("items: %+v", items)
		}
		// amount = every line's total before tax; recurring per year (mixed: 20,000×12 + 324,000).
		if deal.Amount != 324000+450000+20000+263 || deal.RecurringAmount != 240000+324000 || deal.RecurringInterval != "year" {
			t.Fatalf("deal figures: %v %v %s", deal.Amount, deal.RecurringAmount, deal.RecurringInterval)
		}
		// The board's running totals moved in the same write.
		tots, err := w.cs.BoardTotals(ctx, w.mgr, crm.DealFilter{PipelineID: deal.PipelineID})
		if err != nil {
			t.Fatal(err)
		}
		var sum float64
		for _, t := range tots {
			sum += t.Amount
		}
		if sum != deal.Amount {
			t.Errorf("board totals %v, deal %v", sum, deal.Amount)
		}
		var kept, counted int64
		if err := d.Reader().QueryRowContext(ctx, `SELECT (SELECT COALESCE(SUM(amount), 0) FROM deal_stage_totals WHERE workspace_id = 1),
			(SELECT COALESCE(SUM(amount), 0) FROM deals WHERE workspace_id = 1 AND status = 'open')`).Scan(&kept, &counted); err != nil || kept != counted {
			t.Errorf("running totals %d, recount %d (%v)", kept, counted, err)
		}
		got, err := w.ss.LineItems(ctx, d.Reader(), w.rep, w.deal.ID)
		if err != nil || len(got) != 4 || got[1].Discount != 50000 || got[0].Discount != 10 || got[2].Billing != "month" {
			t.Fatalf("read back: %v %+v", err, got)
		}
		// Bad lines name the line and field and change nothing.
		for field, l := range map[string]sales.LineItemInput{
			"lines[0].description":  {Quantity: 1, UnitPrice: f64(1)},
			"lines[0].quantity":     {Description: str("x"), Quantity: 0.0001, UnitPrice: f64(1)},
			"lines[0].discount":     {Description: str("x"), Quantity: 1, UnitPrice: f64(100), DiscountKind: pct, Discount: 101},
			"lines[0].product_id":   {ProductID: 999, Quantity: 1},
			"lines[0].tax_category": {Description: str("x"), Quantity: 1, TaxCategory: str("zero")},
			"lines[0].unit_price":   {Description: str("x"), Quantity: 1, UnitPrice: f64(math.NaN())},
			"lines[0].discount ":    {Description: str("x"), Quantity: 1, UnitPrice: f64(1), DiscountKind: pct, Discount: math.Inf(1)},
		} {
			_, _, err := w.ss.SaveLineItems(ctx, w.rep, w.deal.ID, []sales.LineItemInput{l})
			if e, ok := errs.As(err); !ok || e.Field != strings.TrimSpace(field) {
				t.Errorf("%s: %v", field, err)
			}
		}
		usd, err := w.ss.CreateProduct(ctx, w.rep, sales.ProductInput{Code: str("USD-1"), Name: str("Support"), UnitPrice: f64(99.5), Currency: str("USD")})
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := w.ss.SaveLineItems(ctx, w.rep, w.deal.ID, []sales.LineItemInput{{ProductID: usd.ID, Quantity: 1}}); errs.KindOf(err) != errs.Unprocessable {
			t.Errorf("currency mismatch: %v", err)
		}
		if got, _ := w.ss.LineItems(ctx, d.Reader(), w.rep, w.deal.ID); len(got) != 4 {
			t.Errorf("a refused save changed the lines: %d", len(got))
		}
		// Removing every line leaves the amount as it was.
		_, deal, err = w.ss.SaveLineItems(ctx, w.rep, w.deal.ID, nil)
		if err != nil {
			t.Fatal(err)
		}
		if after, _ := w.cs.GetDeal(ctx, d.Reader(), w.rep, w.deal.ID); after.Amount != 794263 {
			t.Errorf("cleared lines changed the amount: %v", after.Amount)
		}
	})
}

func TestQuotes_VersionedSnapshotsWithTaxOncePerRate(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		w := newWorld(t, d)
		if _, err := w.ss.IssueQuote(ctx, w.rep, w.deal.ID, sales.IssueInput{}); errs.KindOf(err) != errs.Unprocessable {
			t.Errorf("no lines: %v", err)
		}
		lines := []sales.LineItemInput{
			{Description: str("a"), Quantity: 1, UnitPrice: f64(335)},
			{Description: str("b"), Quantity: 1, UnitPrice: f64(335)},
			{Description: str("c"), Quantity: 1, UnitPrice: f64(335)},
			{Description: str("お弁当"), Quantity: 2, UnitPrice: f64(110), TaxCategory: str("reduced")},
		}
		if _, _, err := w.ss.SaveLineItems(ctx, w.rep, w.deal.ID, lines); err != nil {
			t.Fatal(err)
		}
		if _, err := w.ss.IssueQuote(ctx, w.rep, w.deal.ID, sales.IssueInput{}); err == nil {
			t.Error("issued without a seller")
		}
		// Settings: managers only; the registration number is checked.
		st := sales.QuoteSettings{SellerName: "株式会社りょうりん", SellerAddress: "東京都千代田区1-1", RegistrationNumber: "ｔ１２３４５６７８９０１２３", ValidDays: 30}
		if _, err := w.ss.SaveQuoteSettings(ctx, w.rep, st); errs.KindOf(err) != errs.Forbidden {
			t.Errorf("rep saved settings: %v", err)
		}
		bad := st
		bad.RegistrationNumber = "T123"
		if _, err := w.ss.SaveQuoteSettings(ctx, w.mgr, bad); errs.KindOf(err) != errs.Invalid {
			t.Errorf("bad registration number: %v", err)
		}
		saved, err := w.ss.SaveQuoteSettings(ctx, w.mgr, st)
		if err != nil || saved.RegistrationNumber != "T1234567890123" || saved.Rounding != "floor" {
			t.Fatalf("settings: %v %+v", err, saved)
		}
		if _, err := w.ss.IssueQuote(ctx, w.rep, w.deal.ID, sales.IssueInput{Lang: "fr"}); errs.KindOf(err) != errs.Invalid {
			t.Errorf("bad language: %v", err)
		}
		v1, err := w.ss.IssueQuote(ctx, w.rep, w.deal.ID, sales.IssueInput{})
		if err != nil {
			t.Fatal(err)
		}
		doc := v1.Document
		// Tax once per rate on the document: 1,005 at 10% → 100.5 → 100 and
		// 220 at 8% → 17.6 → 17 (floor); per line it would be 99 and 16.
		if v1.Number != "Q-000001" || v1.Version != 1 || doc.Customer != "株式会社テスト" || doc.Addressee() != "株式会社テスト 御中" ||
			len(doc.Totals.Rates) != 2 || doc.Totals.Rates[0].Tax != 100 || doc.Totals.Rates[1].Tax != 17 || v1.Total != 1005+220+100+17 {
			t.Fatalf("v1: %+v", v1)
		}
		if v1.IssueDate != "2026-03-02" || v1.ValidUntil != "2026-04-01" || doc.Seller.RegistrationNumber != "T1234567890123" {
			t.Errorf("dates or seller: %s %s %+v", v1.IssueDate, v1.ValidUntil, doc.Seller)
		}
		// Change the lines and the rounding, issue again: version 2, same number; version 1 unchanged.
		st.Rounding = "ceil"
		if _, err := w.ss.SaveQuoteSettings(ctx, w.mgr, st); err != nil {
			t.Fatal(err)
		}
		if _, _, err := w.ss.SaveLineItems(ctx, w.rep, w.deal.ID, lines[:3]); err != nil {
			t.Fatal(err)
		}
		v2, err := w.ss.IssueQuote(ctx, w.rep, w.deal.ID, sales.IssueInput{Lang: "en", ValidUntil: "2026-05-31"})
		if err != nil {
			t.Fatal(err)
		}
		if v2.Number != v1.Number || v2.Version != 2 || v2.Tax != 101 || v2.Lang != "en" || v2.ValidUntil != "2026-05-31" {
			t.Errorf("v2: %+v", v2)
		}
		old, err := w.ss.GetQuote(ctx, d.Reader(), w.rep, w.deal.ID, 1)
		if err != nil || old.Total != v1.Total || len(old.Document.Lines) != 4 || old.Document.Rounding != "floor" {
			t.Errorf("v1 after v2: %v %+v", err, old)
		}
		all, err := w.ss.Quotes(ctx, d.Reader(), w.rep, w.deal.ID)
		if err != nil || len(all) != 2 || all[0].Version != 2 {
			t.Errorf("list: %v %+v", err, all)
		}
		if _, err := w.ss.GetQuote(ctx, d.Reader(), w.rep, w.deal.ID, 3); errs.KindOf(err) != errs.NotFound {
			t.Errorf("missing version: %v", err)
		}
		// Another deal gets the next number.
		other, err := w.cs.CreateDeal(ctx, w.rep, crm.DealInput{Name: str("別件")})
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := w.ss.SaveLineItems(ctx, w.rep, other.ID, lines[:1]); err != nil {
			t.Fatal(err)
		}
		if q, err := w.ss.IssueQuote(ctx, w.rep, other.ID, sales.IssueInput{}); err != nil || q.Number != "Q-000002" || q.Document.Customer != "" {
			t.Errorf("second deal: %v %+v", err, q)
		}
	})
}

func TestApprovals_DiscountAboveThresholdNeedsAManager(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		w := newWorld(t, d)
		if _, err := w.ss.SaveQuoteSettings(ctx, w.mgr, sales.QuoteSettings{SellerName: "株式会社りょうりん", ValidDays: 30, ApprovalDiscountPct: 20}); err != nil {
			t.Fatal(err)
		}
		pct := "percent"
		line := func(disc float64) []sales.LineItemInput {
			return []sales.LineItemInput{{Description: str("ライセンス"), Quantity: 1, UnitPrice: f64(100000), DiscountKind: pct, Discount: disc}}
		}
		// 20% is at the threshold: no approval needed.
		if _, _, err := w.ss.SaveLineItems(ctx, w.rep, w.deal.ID, line(20)); err != nil {
			t.Fatal(err)
		}
		if _, err := w.ss.RequestApproval(ctx, w.rep, w.deal.ID, ""); errs.KindOf(err) != errs.Unprocessable {
			t.Errorf("request without need: %v", err)
		}
		if _, err := w.ss.IssueQuote(ctx, w.rep, w.deal.ID, sales.IssueInput{}); err != nil {
			t.Fatalf("at threshold: %v", err)
		}
		// 25% needs a manager.
		if _, _, err := w.ss.SaveLineItems(ctx, w.rep, w.deal.ID, line(25)); err != nil {
			t.Fatal(err)
		}
		_, err := w.ss.IssueQuote(ctx, w.rep, w.deal.ID, sales.IssueInput{})
		if e, ok := errs.As(err); !ok || e.Kind != errs.Unprocessable || e.Field != "approval" {
			t.Fatalf("issue above threshold: %v", err)
		}
		req, err := w.ss.RequestApproval(ctx, w.rep, w.deal.ID, "競合対抗のため")
		if err != nil || req.Status != "pending" || req.MaxDiscount != 25 {
			t.Fatalf("request: %v %+v", err, req)
		}
		if again, err := w.ss.RequestApproval(ctx, w.rep, w.deal.ID, ""); err != nil || again.ID != req.ID {
			t.Errorf("second request: %v %+v", err, again)
		}
		if _, err := w.ss.DecideApproval(ctx, w.rep, w.deal.ID, req.ID, true, ""); errs.KindOf(err) != errs.Forbidden {
			t.Errorf("rep approved: %v", err)
		}
		if _, err := w.ss.IssueQuote(ctx, w.rep, w.deal.ID, sales.IssueInput{}); err == nil {
			t.Error("issued while pending")
		}
		// Rejected: still refused; a new request can follow.
		if x, err := w.ss.DecideApproval(ctx, w.mgr, w.deal.ID, req.ID, false, "20%まで"); err != nil || x.Status != "rejected" {
			t.Fatalf("reject: %v %+v", err, x)
		}
		if _, err := w.ss.DecideApproval(ctx, w.mgr, w.deal.ID, req.ID, true, ""); errs.KindOf(err) != errs.Conflict {
			t.Errorf("decided twice: %v", err)
		}
		req2, err := w.ss.RequestApproval(ctx, w.rep, w.deal.ID, "再申請")
		if err != nil || req2.ID == req.ID {
			t.Fatalf("re-request: %v %+v", err, req2)
		}
		if _, err := w.ss.DecideApproval(ctx, w.mgr, w.deal.ID, req2.ID, true, ""); err != nil {
			t.Fatal(err)
		}
		if _, err := w.ss.IssueQuote(ctx, w.rep, w.deal.ID, sales.IssueInput{}); err != nil {
			t.Fatalf("issue after approval: %v", err)
		}
		// The approval covers those lines only: a deeper discount needs another.
		if _, _, err := w.ss.SaveLineItems(ctx, w.rep, w.deal.ID, line(30)); err != nil {
			t.Fatal(err)
		}
		if _, err := w.ss.IssueQuote(ctx, w.rep, w.deal.ID, sales.IssueInput{}); errs.KindOf(err) != errs.Unprocessable {
			t.Errorf("approval reused for other lines: %v", err)
		}
		// The team's manager heard of each request, the rep of each decision.
		var toMgr, toRep int
		if err := d.Reader().QueryRowContext(ctx, `SELECT (SELECT COUNT(*) FROM notifications WHERE user_id = ? AND kind = 'quote.approval_requested'),
			(SELECT COUNT(*) FROM notifications WHERE user_id = ? AND kind LIKE 'quote.approval_%')`, w.mgr.UserID, w.rep.UserID).Scan(&toMgr, &toRep); err != nil || toMgr != 2 || toRep != 2 {
			t.Errorf("notifications: manager %d, rep %d (%v)", toMgr, toRep, err)
		}
		// Request and decisions are on the deal's timeline.
		var n int
		if err := d.Reader().QueryRowContext(ctx, `SELECT COUNT(*) FROM timeline WHERE workspace_id = 1 AND deal_id = ? AND kind LIKE 'quote.approval_%'`, w.deal.ID).Scan(&n); err != nil || n != 4 {
			t.Errorf("timeline entries: %d %v", n, err)
		}
	})
}
