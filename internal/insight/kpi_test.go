package insight_test

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/ryorin/ryorin/internal/clock"
	"github.com/ryorin/ryorin/internal/crm"
	"github.com/ryorin/ryorin/internal/db"
	"github.com/ryorin/ryorin/internal/dbtest"
	"github.com/ryorin/ryorin/internal/errs"
	"github.com/ryorin/ryorin/internal/insight"
	"github.com/ryorin/ryorin/internal/platform"
)

func TestMain(m *testing.M) { os.Exit(dbtest.Main(m)) }

func TestPeriodOf_FollowsTheWeekStartAndTheFiscalYear(t *testing.T) {
	tokyo, _ := time.LoadLocation("Asia/Tokyo")
	w := platform.Workspace{TimeZone: "Asia/Tokyo", FiscalYearStartMonth: 4, WeekStart: 1}
	now := time.Date(2026, 11, 24, 10, 0, 0, 0, tokyo) // a Tuesday
	for _, c := range []struct {
		name     string
		offset   int
		from, to string
	}{
		{"week", 0, "2026-11-23", "2026-11-30"},
		{"month", 0, "2026-11-01", "2026-12-01"},
		{"month", 1, "2026-10-01", "2026-11-01"},
		{"quarter", 0, "2026-10-01", "2027-01-01"},
		{"quarter", 2, "2026-04-01", "2026-07-01"},
		{"year", 0, "2026-04-01", "2027-04-01"},
	} {
		p, err := insight.PeriodOf(w, c.name, c.offset, now)
		if err != nil {
			t.Fatal(err)
		}
		if got := p.From.In(tokyo).Format(time.DateOnly) + " " + p.To.In(tokyo).Format(time.DateOnly); got != c.from+" "+c.to {
			t.Errorf("%s-%d: %s, want %s %s", c.name, c.offset, got, c.from, c.to)
		}
	}
	if _, err := insight.PeriodOf(w, "decade", 0, now); !errs.Is(err, errs.Invalid) {
		t.Errorf("unknown period: %v", err)
	}
}

func TestCompute_CountsEachFigureOnceForThePeriod(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		t0 := time.Date(2026, 11, 10, 3, 0, 0, 0, time.UTC)
		fc := clock.NewFake(t0)
		if err := platform.EnsureWorkspace(ctx, d, 1, "T", t0); err != nil {
			t.Fatal(err)
		}
		cs := crm.New(d, fc)
		if err := cs.EnsureDefaults(ctx, 1, "ja"); err != nil {
			t.Fatal(err)
		}
		sys := platform.System(1)
		mql, sql := platform.StageMQL, platform.StageSQL
		var ids []int64
		for _, e := range []string{"a@x.jp", "b@x.jp", "c@x.jp", "d@x.jp"} {
			c, err := cs.CreateContact(ctx, sys, crm.ContactInput{Email: new(e)})
			if err != nil {
				t.Fatal(err)
			}
			ids = append(ids, c.ID)
		}
		for _, id := range ids[:2] {
			if _, err := cs.UpdateContact(ctx, sys, id, crm.ContactInput{LifecycleStage: &mql}, platform.Cause{Kind: "rule"}); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := cs.UpdateContact(ctx, sys, ids[0], crm.ContactInput{LifecycleStage: &sql}, platform.Cause{Kind: "user"}); err != nil {
			t.Fatal(err)
		}
		ps, _ := cs.Pipelines(ctx, d.Reader(), 1)
		won, lost := ps[0].Stages[4].ID, ps[0].Stages[5].ID
		for i, st := range []int64{won, won, lost} {
			amt := float64(100000 * (i + 1))
			dl, err := cs.CreateDeal(ctx, sys, crm.DealInput{Name: new("案件"), Amount: &amt})
			if err != nil {
				t.Fatal(err)
			}
			in := crm.DealInput{StageID: &st}
			if st == lost {
				in.LostReason = new("価格")
			}
			if _, err := cs.UpdateDeal(ctx, sys, dl.ID, in); err != nil {
				t.Fatal(err)
			}
		}
		for _, o := range []string{"no_answer", "connected", "appointment", "gatekeeper"} {
			if _, err := cs.LogActivity(ctx, sys, crm.ActivityInput{Kind: new("call"), ContactID: &ids[3], CallOutcome: new(o)}); err != nil {
				t.Fatal(err)
			}
		}
		w, _ := platform.GetWorkspace(ctx, d.Reader(), 1)
		p, _ := insight.PeriodOf(w, "month", 0, t0)
		ks, err := insight.Compute(ctx, d.Reader(), w, p)
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]insight.KPI{}
		for _, k := range ks {
			got[k.Key] = k
			if k.Formula == "" {
				t.Errorf("%s has no formula", k.Key)
			}
		}
		for key, want := range map[string]float64{"new_contacts": 4, "new_mqls": 2, "new_sqls": 1, "mql_to_sql": 0.5, "deals_created": 3,
			"deals_won": 2, "win_rate": 2.0 / 3, "calls": 4, "connect_rate": 0.5, "appointments": 1, "revenue": 300000, "avg_deal_size": 150000} {
			if v := got[key].Value; v < want-1e-9 || v > want+1e-9 {
				t.Errorf("%s = %v, want %v", key, v, want)
			}
		}
		prev, _ := insight.PeriodOf(w, "month", 1, t0)
		ks, _ = insight.Compute(ctx, d.Reader(), w, prev)
		for _, k := range ks {
			if k.Value != 0 {
				t.Errorf("last month's %s = %v", k.Key, k.Value)
			}
		}
	})
}
