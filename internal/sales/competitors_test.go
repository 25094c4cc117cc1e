package sales_test

import (
	"context"
	"math"
	"testing"

	"github.com/ryorin/ryorin/internal/crm"
	"github.com/ryorin/ryorin/internal/db"
	"github.com/ryorin/ryorin/internal/dbtest"
	"github.com/ryorin/ryorin/internal/platform"
	"github.com/ryorin/ryorin/internal/sales"
)

// TestCompetitorReports_AverageDiscountWeightedByAmountInBaseCurrency checks
// the average discount against a hand-computed fixture (yen base):
//
//	Acme: deal 1 won, JPY:  10 × ¥10,000 less 10 %  → list 100,000, discount 10,000
//	                         1 × ¥50,000 less ¥5,000 → list  50,000, discount  5,000
//	      deal 2 lost, USD:  1 × $2,000 less 20 % at ¥150/$ → list 300,000, discount 60,000
//	      deal 3 open, 50 % off: not closed, not counted
//	      deal 4 won, no lines: a win, but nothing priced
//	      → 75,000 ÷ 450,000 = 16.67 % (the mean of the deals' 10 % and 20 % would be 15 %);
//	        won 2, lost 1, win rate 2/3
//	Beta: deal 2 (also against Beta) and deal 5 lost in EUR with no rate
//	      → 60,000 ÷ 300,000 = 20 %, one deal unconverted; won 0, lost 2
//	Gamma: nothing closed → no average, no win rate.
func TestCompetitorReports_AverageDiscountWeightedByAmountInBaseCurrency(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		w := newWorld(t, d)
		admin := platform.System(1)
		if err := platform.SetExchangeRate(ctx, d, admin, platform.ExchangeRate{Currency: "USD", ValidFrom: "2026-01-01", Rate: 150}, w.fc.Now()); err != nil {
			t.Fatal(err)
		}
		comp := func(name string) int64 {
			c, err := w.cs.CreateCompetitor(ctx, w.rep, crm.Competitor{Name: name})
			if err != nil {
				t.Fatal(err)
			}
			return c.ID
		}
		acme, beta, gamma := comp("Acme"), comp("Beta"), comp("Gamma")
		deal := func(currency, status string, comps []int64, lines ...sales.LineItemInput) {
			t.Helper()
			dl, err := w.cs.CreateDeal(ctx, w.rep, crm.DealInput{Name: str("d"), Currency: &currency, CompetitorIDs: &comps})
			if err != nil {
				t.Fatal(err)
			}
			if len(lines) > 0 {
				if _, _, err := w.ss.SaveLineItems(ctx, w.rep, dl.ID, lines); err != nil {
					t.Fatal(err)
				}
			}
			if status != "open" {
				if err := d.Write(ctx, "test", func(tx *db.Tx) error {
					_, err := tx.ExecContext(ctx, `UPDATE deals SET status = ?, closed_at = ? WHERE workspace_id = 1 AND id = ?`, status, db.Millis(w.fc.Now()), dl.ID)
					return err
				}); err != nil {
					t.Fatal(err)
				}
			}
		}
		line := func(qty, price float64, kind string, disc float64) sales.LineItemInput {
			return sales.LineItemInput{Description: str("x"), Quantity: qty, UnitPrice: &price, DiscountKind: kind, Discount: disc}
		}
		deal("JPY", "won", []int64{acme}, line(10, 10000, "percent", 10), line(1, 50000, "amount", 5000))
		deal("USD", "lost", []int64{acme, beta}, line(1, 2000, "percent", 20))
		deal("JPY", "open", []int64{acme}, line(1, 100000, "percent", 50))
		deal("JPY", "won", []int64{acme})
		deal("EUR", "lost", []int64{beta}, line(1, 1000, "percent", 30))

		reps, err := w.ss.CompetitorReports(ctx, d.Reader(), 1)
		if err != nil {
			t.Fatal(err)
		}
		got := map[int64]sales.CompetitorReport{}
		for _, r := range reps {
			got[r.ID] = r
		}
		near := func(p *float64, want float64) bool { return p != nil && math.Abs(*p-want) < 1e-9 }
		a := got[acme]
		if a.Won != 2 || a.Lost != 1 || !near(a.WinRate, 2.0/3) || a.ListAmount != 450000 || a.DiscountAmount != 75000 ||
			!near(a.AvgDiscount, 75000.0/450000) || a.PricedDeals != 2 || a.UnconvertedDeals != 0 || a.Currency != "JPY" {
			t.Errorf("Acme = %+v (avg %v, win %v)", a, deref(a.AvgDiscount), deref(a.WinRate))
		}
		b := got[beta]
		if b.Won != 0 || b.Lost != 2 || !near(b.WinRate, 0) || b.ListAmount != 300000 || !near(b.AvgDiscount, 0.2) || b.PricedDeals != 1 || b.UnconvertedDeals != 1 {
			t.Errorf("Beta = %+v (avg %v)", b, deref(b.AvgDiscount))
		}
		g := got[gamma]
		if g.AvgDiscount != nil || g.WinRate != nil || g.PricedDeals != 0 {
			t.Errorf("Gamma = %+v", g)
		}
		one, err := w.ss.CompetitorReportOf(ctx, d.Reader(), 1, acme)
		if err != nil || !near(one.AvgDiscount, 75000.0/450000) || one.Won != 2 {
			t.Errorf("one = %+v, %v", one, err)
		}
	})
}

func deref(p *float64) any {
	if p == nil {
		return nil
	}
	return *p
}
