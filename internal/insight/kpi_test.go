package insight_test

import (
	"context"
	"fmt"
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

// Two reps in two teams, three contacts from two channels (one in a
// campaign), deals in two pipelines and a few calls: each filter narrows
// every figure it applies to, and marks the others.
func TestComputeFiltered_NarrowsEachFigureByChannelCampaignTeamOwnerAndPipeline(t *testing.T) {
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
		admin := platform.Actor{WorkspaceID: 1, Role: platform.RoleAdmin, Kind: platform.ActorCLI}
		var reps []platform.User
		var teams []int64
		for i, name := range []string{"A", "B"} {
			tm, err := platform.SaveTeam(ctx, d, admin, 0, platform.NewTeam{Name: "T" + name, Function: "sales"}, t0)
			if err != nil {
				t.Fatal(err)
			}
			u, err := platform.CreateUser(ctx, d, admin, platform.NewUser{Email: fmt.Sprintf("r%d@x.jp", i), Name: name, Role: platform.RoleSales, TeamID: tm.ID}, t0)
			if err != nil {
				t.Fatal(err)
			}
			reps, teams = append(reps, u), append(teams, tm.ID)
		}
		a, b := reps[0].ID, reps[1].ID
		sys := platform.System(1)
		contact := func(email string, owner int64, channel string) int64 {
			c, err := cs.CreateContact(ctx, sys, crm.ContactInput{Email: &email, OwnerID: &owner, OriginalChannel: &channel})
			if err != nil {
				t.Fatal(err)
			}
			return c.ID
		}
		c1, c2, c3 := contact("c1@x.jp", a, "email"), contact("c2@x.jp", a, "organic_search"), contact("c3@x.jp", b, "email")
		mql, sql := platform.StageMQL, platform.StageSQL
		for _, s := range []struct {
			id    int64
			stage platform.Stage
		}{{c1, mql}, {c3, mql}, {c1, sql}} {
			if _, err := cs.UpdateContact(ctx, sys, s.id, crm.ContactInput{LifecycleStage: &s.stage}, platform.Cause{Kind: "rule"}); err != nil {
				t.Fatal(err)
			}
		}
		if err := d.Write(ctx, "test", func(tx *db.Tx) error {
			if _, err := tx.ExecContext(ctx, `INSERT INTO campaigns (workspace_id, id, name, kind, created_at, updated_at) VALUES (1, 7, 'K', 'webinar', 0, 0)`); err != nil {
				return err
			}
			_, err := tx.ExecContext(ctx, `INSERT INTO campaign_members (workspace_id, campaign_id, contact_id, status, added_at, updated_at) VALUES (1, 7, ?, 'attended', 0, 0)`, c3)
			return err
		}); err != nil {
			t.Fatal(err)
		}
		ps, _ := cs.Pipelines(ctx, d.Reader(), 1)
		p1 := ps[0]
		p2, err := cs.SavePipeline(ctx, admin, 0, crm.PipelineInput{Name: "更新", Stages: []crm.PipelineStage{{Name: "提案", Probability: 50}, {Name: "受注", Kind: "won"}, {Name: "失注", Kind: "lost"}}})
		if err != nil {
			t.Fatal(err)
		}
		deal := func(owner, contact int64, p crm.Pipeline, amount float64, end int) int64 {
			dl, err := cs.CreateDeal(ctx, sys, crm.DealInput{Name: new("d"), OwnerID: &owner, Amount: &amount, PipelineID: &p.ID, Contacts: &[]crm.DealContact{{ContactID: contact}}})
			if err != nil {
				t.Fatal(err)
			}
			in := crm.DealInput{StageID: &p.Stages[len(p.Stages)-end].ID}
			if end == 1 {
				in.LostReason = new("価格")
			}
			if _, err := cs.UpdateDeal(ctx, sys, dl.ID, in); err != nil {
				t.Fatal(err)
			}
			return dl.ID
		}
		deal(a, c1, p1, 100000, 2)
		d2 := deal(b, c3, p2, 200000, 2)
		deal(a, c2, p1, 50000, 1)
		for _, c := range []struct {
			owner, contact, deal int64
			outcome              string
		}{{a, c1, 0, "connected"}, {a, c1, 0, "no_answer"}, {b, c3, d2, "appointment"}} {
			in := crm.ActivityInput{Kind: new("call"), OwnerID: &c.owner, ContactID: &c.contact, CallOutcome: &c.outcome}
			if c.deal != 0 {
				in.DealID = &c.deal
			}
			if _, err := cs.LogActivity(ctx, sys, in); err != nil {
				t.Fatal(err)
			}
		}
		w, _ := platform.GetWorkspace(ctx, d.Reader(), 1)
		p, _ := insight.PeriodOf(w, "month", 0, t0)
		cases := []struct {
			name string
			f    insight.KPIFilter
			want map[string]float64
			// unfiltered lists the figures the filter does not narrow.
			unfiltered []string
		}{
			{"owner A", insight.KPIFilter{OwnerID: a}, map[string]float64{"new_contacts": 2, "new_mqls": 1, "new_sqls": 1, "deals_created": 2, "deals_won": 1,
				"win_rate": 0.5, "revenue": 100000, "calls": 2, "connect_rate": 0.5, "appointments": 0}, []string{"cac", "ltv"}},
			{"team of B", insight.KPIFilter{TeamID: teams[1]}, map[string]float64{"new_contacts": 1, "new_mqls": 1, "new_sqls": 0, "deals_created": 1, "deals_won": 1,
				"revenue": 200000, "calls": 1, "appointments": 1}, nil},
			{"channel email", insight.KPIFilter{Channel: "email"}, map[string]float64{"new_contacts": 2, "new_mqls": 2, "new_sqls": 1, "deals_created": 2, "deals_won": 2,
				"revenue": 300000, "calls": 3}, nil},
			{"campaign", insight.KPIFilter{CampaignID: 7}, map[string]float64{"new_contacts": 1, "new_mqls": 1, "deals_created": 1, "revenue": 200000, "calls": 1, "appointments": 1}, nil},
			{"pipeline 2", insight.KPIFilter{PipelineID: p2.ID}, map[string]float64{"new_contacts": 3, "deals_created": 1, "deals_won": 1, "revenue": 200000, "calls": 1},
				[]string{"new_contacts", "new_mqls", "cac"}},
		}
		for _, c := range cases {
			ks, err := insight.ComputeFiltered(ctx, d.Reader(), w, p, c.f)
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]insight.KPI{}
			for _, k := range ks {
				got[k.Key] = k
			}
			for key, want := range c.want {
				if v := got[key].Value; v < want-1e-9 || v > want+1e-9 {
					t.Errorf("%s: %s = %v, want %v", c.name, key, v, want)
				}
			}
			for _, key := range c.unfiltered {
				if !got[key].Unfiltered {
					t.Errorf("%s: %s is not marked as not narrowed by the filter", c.name, key)
				}
			}
			if got["deals_won"].Unfiltered || got["calls"].Unfiltered {
				t.Errorf("%s: deal and call figures are marked unfiltered", c.name)
			}
			// Asking for a few figures gives exactly those, with the same values.
			some, err := insight.ComputeOnly(ctx, d.Reader(), w, p, c.f, []string{"revenue", "calls", "new_mqls"})
			if err != nil {
				t.Fatal(err)
			}
			if len(some) != 4 { // revenue comes with the average deal size
				t.Errorf("%s: ComputeOnly gave %d figures, want 4", c.name, len(some))
			}
			for _, k := range some {
				if k != got[k.Key] {
					t.Errorf("%s: %s alone = %+v, with the rest %+v", c.name, k.Key, k, got[k.Key])
				}
			}
			// The trend counts each figure exactly as the KPI does.
			tr, err := insight.TrendOf(ctx, d.Reader(), w, "month", 2, insight.TrendKeys, c.f, t0)
			if err != nil {
				t.Fatal(err)
			}
			for _, key := range insight.TrendKeys {
				if s := tr.Series(key); len(s) != 2 || s[1] != got[key].Value || s[0] != 0 {
					t.Errorf("%s: trend of %s = %v, want [0 %v] as the KPI", c.name, key, s, got[key].Value)
				}
			}
		}
	})
}
