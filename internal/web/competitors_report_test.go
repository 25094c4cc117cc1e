package web_test

import (
	"context"
	"strings"
	"testing"

	"github.com/ryorin/ryorin/internal/crm"
	"github.com/ryorin/ryorin/internal/db"
	"github.com/ryorin/ryorin/internal/dbtest"
	"github.com/ryorin/ryorin/internal/platform"
	"github.com/ryorin/ryorin/internal/sales"
)

// TestCompetitorsUI_WinRateAndAverageDiscountWithFormula: a won deal at
// 10 % off ¥1,000,000 and a lost one at 30 % off ¥500,000 against one
// competitor: (100,000 + 150,000) ÷ 1,500,000 = 16.7 %, win rate 50 %.
func TestCompetitorsUI_WinRateAndAverageDiscountWithFormula(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := start(t, d, true)
		e.login()
		ctx := context.Background()
		a := platform.Actor{WorkspaceID: 1, UserID: 1, Role: platform.RoleAdmin, Kind: platform.ActorUser}
		co, err := e.crm.CreateCompetitor(ctx, a, crm.Competitor{Name: "ライバル社"})
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range []struct {
			status string
			price  float64
			pct    float64
		}{{"won", 1000000, 10}, {"lost", 500000, 30}} {
			name := "案件"
			dl, err := e.crm.CreateDeal(ctx, a, crm.DealInput{Name: &name, CompetitorIDs: &[]int64{co.ID}})
			if err != nil {
				t.Fatal(err)
			}
			desc := "ライセンス"
			if _, _, err := e.sales.SaveLineItems(ctx, a, dl.ID, []sales.LineItemInput{{Description: &desc, Quantity: 1, UnitPrice: &c.price, DiscountKind: "percent", Discount: c.pct}}); err != nil {
				t.Fatal(err)
			}
			if err := d.Write(ctx, "test", func(tx *db.Tx) error {
				_, err := tx.ExecContext(ctx, `UPDATE deals SET status = ?, closed_at = ? WHERE id = ?`, c.status, db.Millis(e.clock.Now()), dl.ID)
				return err
			}); err != nil {
				t.Fatal(err)
			}
		}
		_, body := e.get("/competitors")
		if row := between(body, "ライバル社", "</tr>"); !strings.Contains(row, "16.7%") || !strings.Contains(row, "50%") || !strings.Contains(row, "¥1,500,000") ||
			!strings.Contains(body, `title="この競合と争って`) {
			t.Errorf("competitors table row: %s", row)
		}
		_, body = e.get("/competitors/"+itoa(co.ID), "Accept-Language", "en")
		if !strings.Contains(body, "Avg. discount 16.7%") || !strings.Contains(body, "¥250,000 off ¥1,500,000 over 2 closed deals") || !strings.Contains(body, "weighted by amount") {
			t.Errorf("competitor page lacks the discount: %s", between(body, "<h1>", "</div></div>"))
		}
	})
}
