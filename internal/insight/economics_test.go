package insight_test

import (
	"context"
	"math"
	"testing"
	"time"

	"github.com/ryorin/ryorin/internal/clock"
	"github.com/ryorin/ryorin/internal/crm"
	"github.com/ryorin/ryorin/internal/db"
	"github.com/ryorin/ryorin/internal/dbtest"
	"github.com/ryorin/ryorin/internal/insight"
	"github.com/ryorin/ryorin/internal/marketing/campaigns"
	"github.com/ryorin/ryorin/internal/platform"
)

// November 2026: spend ¥200,000 (October's ¥50,000 does not count), sales
// cost ¥800,000, two new deals won (¥50,000 a month recurring → ¥600,000 a
// year; ¥300,000 one-time) → CAC ¥500,000. A new deal of ¥900,000 won in
// February is within the last twelve months → ARPA ¥600,000. Renewals in
// those months: 3 won, 1 lost → retention 75 %, lifetime 4 years → LTV
// ¥2,400,000, LTV/CAC 4.8.
func TestEconomics_CACAndLTVOnAHandComputedYear(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		tokyo, _ := time.LoadLocation("Asia/Tokyo")
		fc := clock.NewFake(time.Date(2026, 2, 10, 10, 0, 0, 0, tokyo))
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
		deal := func(typ string, amount, monthly float64, stage int64) {
			in := crm.DealInput{Name: new("案件"), Type: new(typ), Amount: &amount}
			if monthly > 0 {
				in.RecurringAmount, in.RecurringInterval = &monthly, new("month")
			}
			dl, err := cs.CreateDeal(ctx, sys, in)
			if err != nil {
				t.Fatal(err)
			}
			up := crm.DealInput{StageID: &stage}
			if stage == lost {
				up.LostReason = new("解約")
			}
			if _, err := cs.UpdateDeal(ctx, sys, dl.ID, up); err != nil {
				t.Fatal(err)
			}
		}
		deal("new", 900000, 0, won)
		fc.Set(time.Date(2026, 6, 10, 10, 0, 0, 0, tokyo))
		for range 3 {
			deal("renewal", 600000, 0, won)
		}
		deal("renewal", 600000, 0, lost)
		fc.Set(time.Date(2026, 11, 10, 10, 0, 0, 0, tokyo))
		deal("new", 600000, 50000, won)
		deal("new", 300000, 0, won)
		deal("upsell", 100000, 0, won) // not a new customer
		mk := platform.Actor{WorkspaceID: 1, Role: platform.RoleAdmin, Kind: platform.ActorCLI}
		cps := campaigns.New(d, fc)
		for _, s := range []campaigns.SpendEntry{{Month: "2026-11", Channel: "email", Amount: 200000}, {Month: "2026-10", Channel: "email", Amount: 50000}} {
			if _, err := cps.SetSpend(ctx, mk, s); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := cps.SetSalesCost(ctx, mk, campaigns.SalesCost{Month: "2026-11", Amount: 800000}); err != nil {
			t.Fatal(err)
		}
		w, _ := platform.GetWorkspace(ctx, d.Reader(), 1)
		p, _ := insight.PeriodOf(w, "month", 0, fc.Now())
		e, err := insight.EconomicsOf(ctx, d.Reader(), w, p)
		if err != nil {
			t.Fatal(err)
		}
		want := insight.Economics{Spend: 200000, SalesCost: 800000, NewCustomers: 2, CAC: 500000, ARPA: 600000, Retention: 0.75, RenewalsDecided: 4,
			LifetimeYears: 4, LTV: 2400000, LTVToCAC: 4.8}
		if math.Abs(e.LifetimeYears-4) < 1e-9 {
			e.LifetimeYears = 4
		}
		if math.Abs(e.LTVToCAC-4.8) < 1e-9 {
			e.LTVToCAC = 4.8
		}
		if e != want {
			t.Errorf("economics\n got %+v\nwant %+v", e, want)
		}
		// No renewals and no customers: defined answers, not NaN.
		empty, err := insight.EconomicsOf(ctx, d.Reader(), w, insight.Period{Name: "month", From: p.From.AddDate(-3, 0, 0), To: p.From.AddDate(-3, 1, 0)})
		if err != nil {
			t.Fatal(err)
		}
		if empty.CAC != 0 || empty.LTV != 0 || empty.LifetimeYears != 1 || empty.LTVToCAC != 0 {
			t.Errorf("empty period: %+v", empty)
		}
	})
}
