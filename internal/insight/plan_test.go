package insight_test

import (
	"context"
	"fmt"
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

func TestWorkBack_FromRevenueToVisits(t *testing.T) {
	r := insight.Rates{VisitToLead: 0.02, LeadToMQL: 0.5, MQLToSQL: 0.5, SQLToOpp: 0.5, OppToWon: 0.25}
	for _, c := range []struct {
		name      string
		goal, avg int64
		rates     insight.Rates
		want      []int64
	}{
		{"¥10M at ¥1M a deal", 10_000_000, 1_000_000, r, []int64{16000, 320, 160, 80, 40, 10}},
		{"a part deal rounds up", 10_500_000, 1_000_000, r, []int64{17600, 352, 176, 88, 44, 11}},
		{"an unknown rate leaves the steps before it unknown", 10_000_000, 1_000_000, insight.Rates{VisitToLead: 0.02, MQLToSQL: 0.5, SQLToOpp: 0.5, OppToWon: 0.25}, []int64{0, 0, 160, 80, 40, 10}},
		{"no deal size, no plan", 10_000_000, 0, r, []int64{0, 0, 0, 0, 0, 0}},
	} {
		got := insight.WorkBack(c.goal, c.avg, c.rates)
		for i := range got {
			if got[i] != c.want[i] {
				t.Errorf("%s: %v, want %v", c.name, got, c.want)
				break
			}
		}
	}
}

func TestPlans_BothTeamsApproveThenPacingFlagsTheFirstStepBehind(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		tokyo, _ := time.LoadLocation("Asia/Tokyo")
		fc := clock.NewFake(time.Date(2026, 11, 16, 12, 0, 0, 0, tokyo)) // halfway through the fiscal quarter Oct–Dec
		if err := platform.EnsureWorkspace(ctx, d, 1, "T", fc.Now()); err != nil {
			t.Fatal(err)
		}
		cs := crm.New(d, fc)
		if err := cs.EnsureDefaults(ctx, 1, "ja"); err != nil {
			t.Fatal(err)
		}
		admin := platform.Actor{WorkspaceID: 1, Role: platform.RoleAdmin, Kind: platform.ActorCLI}
		var actors []platform.Actor
		for _, x := range []struct {
			team, fn string
			role     platform.Role
		}{{"マーケ", "marketing", platform.RoleMarketing}, {"営業", "sales", platform.RoleSales}} {
			tm, err := platform.SaveTeam(ctx, d, admin, 0, platform.NewTeam{Name: x.team, Function: x.fn}, fc.Now())
			if err != nil {
				t.Fatal(err)
			}
			u, err := platform.CreateUser(ctx, d, admin, platform.NewUser{Email: x.fn + "@x.jp", Name: x.team, Role: x.role, TeamID: tm.ID}, fc.Now())
			if err != nil {
				t.Fatal(err)
			}
			actors = append(actors, u.Actor(1, platform.ActorUser))
		}
		mkt, rep := actors[0], actors[1]
		pl := insight.NewPlanner(d, fc)
		r := insight.Rates{VisitToLead: 0.02, LeadToMQL: 0.5, MQLToSQL: 0.5, SQLToOpp: 0.5, OppToWon: 0.25}
		if _, err := pl.Create(ctx, mkt, insight.PlanInput{Name: "x", Period: "decade", RevenueGoal: 1}); fieldOf(err) != "period" {
			t.Errorf("bad period: %v", err)
		}
		bad := r
		bad.OppToWon = 1.5
		if _, err := pl.Create(ctx, mkt, insight.PlanInput{Name: "x", Period: "quarter", RevenueGoal: 1, Rates: &bad}); fieldOf(err) != "rates.opportunity_to_won" {
			t.Errorf("bad rate: %v", err)
		}
		if _, err := pl.Create(ctx, rep, insight.PlanInput{Name: "x", Period: "quarter", RevenueGoal: 1}); !errs.Is(err, errs.Forbidden) {
			t.Errorf("a rep drafted a plan: %v", err)
		}
		p, err := pl.Create(ctx, mkt, insight.PlanInput{Name: "Q3 計画", Period: "quarter", RevenueGoal: 30_000_000, AvgDealSize: 1_000_000, Rates: &r,
			Shares: map[string]float64{"organic_search": 0.75, "events_offline": 0.25}})
		if err != nil {
			t.Fatal(err)
		}
		if got := p.Period.From.Format(time.DateOnly) + " " + p.Period.To.Format(time.DateOnly); got != "2026-10-01 2027-01-01" {
			t.Errorf("period %s", got)
		}
		if p.Total.Counts[5] != 30 || p.Total.Counts[1] != 960 || len(p.Months) != 3 || p.Months[0].Counts[5] != 10 || p.Channels["events_offline"].Counts[1] != 240 {
			t.Errorf("plan %+v %+v %+v", p.Total, p.Months, p.Channels)
		}
		if p, err = pl.Approve(ctx, mkt, p.ID); err != nil || p.Status != "draft" || p.MarketingBy != mkt.UserID {
			t.Fatalf("marketing approval: %+v %v", p, err)
		}
		if _, err := pl.Approve(ctx, admin, p.ID); !errs.Is(err, errs.Forbidden) {
			t.Errorf("an admin outside both teams approved: %v", err)
		}
		if p, err = pl.Approve(ctx, rep, p.ID); err != nil || p.Status != "active" {
			t.Fatalf("sales approval: %+v %v", p, err)
		}
		// Actuals so far: 600 leads (the plan expects 480 by now) and no MQL;
		// no visit was ever tracked, so visits are not judged.
		for i := range 600 {
			if _, err := cs.CreateContact(ctx, platform.System(1), crm.ContactInput{FamilyName: new("客"), GivenName: new(string(rune('a' + i%26)))}); err != nil {
				t.Fatal(err)
			}
		}
		fc.Advance(time.Minute)
		w, _ := platform.GetWorkspace(ctx, d.Reader(), 1)
		pace, err := insight.PaceOf(ctx, d.Reader(), w, p, fc.Now())
		if err != nil {
			t.Fatal(err)
		}
		// A manager hears of it once a day; the marketer and the rep do not.
		boss, err := platform.CreateUser(ctx, d, admin, platform.NewUser{Email: "boss@x.jp", Name: "部長", Role: platform.RoleManager, Locale: "ja"}, fc.Now())
		if err != nil {
			t.Fatal(err)
		}
		n := &platform.Notifier{DB: d, Clock: fc}
		for i, want := range []int{1, 0} {
			if sent, err := pl.CheckPacing(ctx, 1, n); err != nil || sent != want {
				t.Errorf("pacing check %d: sent %d (want %d) %v", i, sent, want, err)
			}
		}
		ns, err := platform.ListNotifications(ctx, d.Reader(), 1, boss.ID, false, 0, 10)
		if err != nil || len(ns) != 1 || ns[0].Link != fmt.Sprintf("/reports/plans/%d", p.ID) {
			t.Errorf("manager's notifications: %+v %v", ns, err)
		}
		if pace.Elapsed < 0.49 || pace.Elapsed > 0.52 || pace.Actual[1] != 600 || pace.Behind != "mqls" || !pace.Untracked {
			t.Errorf("pacing: elapsed %.3f, actual %v, expected %v, behind %q", pace.Elapsed, pace.Actual, pace.Expected, pace.Behind)
		}
	})
}

func fieldOf(err error) string {
	if e, ok := errs.As(err); ok {
		return e.Field
	}
	return ""
}
