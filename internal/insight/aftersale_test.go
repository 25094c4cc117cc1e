package insight_test

import (
	"context"
	"testing"
	"time"

	"github.com/ryorin/ryorin/internal/clock"
	"github.com/ryorin/ryorin/internal/crm"
	"github.com/ryorin/ryorin/internal/db"
	"github.com/ryorin/ryorin/internal/dbtest"
	"github.com/ryorin/ryorin/internal/insight"
	"github.com/ryorin/ryorin/internal/platform"
)

func TestAfterSale_RenewalAndRepeatPurchaseRatesOfAPeriod(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		t0 := time.Date(2026, 11, 10, 3, 0, 0, 0, time.UTC)
		fc := clock.NewFake(t0.AddDate(0, -1, 0))
		if err := platform.EnsureWorkspace(ctx, d, 1, "T", fc.Now()); err != nil {
			t.Fatal(err)
		}
		cs := crm.New(d, fc)
		if err := cs.EnsureDefaults(ctx, 1, "ja"); err != nil {
			t.Fatal(err)
		}
		sys := platform.System(1)
		ps, _ := cs.Pipelines(ctx, d.Reader(), 1)
		won, lost := ps[0].Stages[4].ID, ps[0].Stages[5].ID
		company := func(name string) int64 {
			c, err := cs.CreateCompany(ctx, sys, crm.CompanyInput{Name: new(name)})
			if err != nil {
				t.Fatal(err)
			}
			return c.ID
		}
		deal := func(co int64, typ string, stage int64) {
			in := crm.DealInput{Name: new("案件"), Type: new(typ), StageID: &stage}
			if co != 0 {
				in.CompanyID = &co
			}
			if stage == lost {
				in.LostReason = new("他社")
			}
			if _, err := cs.CreateDeal(ctx, sys, in); err != nil {
				t.Fatal(err)
			}
		}
		a, b, c := company("A社"), company("B社"), company("C社")
		deal(a, "new", won) // last month
		deal(c, "new", won) // last month only: not a customer of this month
		fc.Set(t0)
		deal(a, "upsell", won) // A buys again: a repeat customer
		deal(b, "new", won)    // B's first purchase
		deal(b, "new", lost)   // lost deals are no purchase
		deal(0, "renewal", won)
		deal(0, "renewal", won)
		deal(0, "renewal", lost)
		w, _ := platform.GetWorkspace(ctx, d.Reader(), 1)
		p, _ := insight.PeriodOf(w, "month", 0, t0)
		got, err := insight.AfterSaleOf(ctx, d.Reader(), w, p)
		if err != nil {
			t.Fatal(err)
		}
		want := insight.AfterSale{RenewalsWon: 2, RenewalsDecided: 3, RenewalRate: 2.0 / 3, RepeatCustomers: 1, Customers: 2, RepeatRate: 0.5}
		if got != want {
			t.Errorf("this month: %+v, want %+v", got, want)
		}
		prev, _ := insight.PeriodOf(w, "month", 1, t0)
		if got, _ := insight.AfterSaleOf(ctx, d.Reader(), w, prev); got.Customers != 2 || got.RepeatCustomers != 0 || got.RenewalsDecided != 0 {
			t.Errorf("last month: %+v", got)
		}
		// The KPI cards carry both, with formulas.
		ks, err := insight.Compute(ctx, d.Reader(), w, p)
		if err != nil {
			t.Fatal(err)
		}
		seen := 0
		for _, k := range ks {
			if (k.Key == "renewal_rate" && k.Of == 3) || (k.Key == "repeat_rate" && k.Value == 0.5 && k.Formula == insight.RepeatRateFormula) {
				seen++
			}
		}
		if seen != 2 {
			t.Errorf("KPIs: %+v", ks)
		}
	})
}
