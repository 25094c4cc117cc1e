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
	"github.com/ryorin/ryorin/internal/marketing/campaigns"
	"github.com/ryorin/ryorin/internal/platform"
)

// The fixture, November 2026 in Tokyo; rep 1 is in team IS, rep 2 in none:
//
//	a email, owned by rep 1, a member of the webinar campaign: MQL; deal won ¥100,000 (rep 1)
//	b email, owned by rep 2: MQL; deal won ¥200,000 (rep 2), with a meeting logged on it
//	c paid_search, owned by rep 1: nothing
//	rep 1 called a and emailed c
//
// Each filtered report must count only the records the filter keeps.
func TestReportFilters_FunnelChannelsAndRepsCountOnlyTheMatchingRecords(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		tokyo, _ := time.LoadLocation("Asia/Tokyo")
		fc := clock.NewFake(time.Date(2026, 11, 3, 10, 0, 0, 0, tokyo))
		if err := platform.EnsureWorkspace(ctx, d, 1, "T", fc.Now()); err != nil {
			t.Fatal(err)
		}
		cs := crm.New(d, fc)
		if err := cs.EnsureDefaults(ctx, 1, "ja"); err != nil {
			t.Fatal(err)
		}
		admin := platform.Actor{WorkspaceID: 1, Role: platform.RoleAdmin, Kind: platform.ActorCLI}
		team, err := platform.SaveTeam(ctx, d, admin, 0, platform.NewTeam{Name: "IS", Function: "sales"}, fc.Now())
		if err != nil {
			t.Fatal(err)
		}
		r1, err := platform.CreateUser(ctx, d, admin, platform.NewUser{Email: "r1@x.jp", Name: "営業一郎", Role: platform.RoleSales, TeamID: team.ID}, fc.Now())
		if err != nil {
			t.Fatal(err)
		}
		r2, err := platform.CreateUser(ctx, d, admin, platform.NewUser{Email: "r2@x.jp", Name: "営業二郎", Role: platform.RoleSales}, fc.Now())
		if err != nil {
			t.Fatal(err)
		}
		sys := platform.System(1)
		create := func(email, ch string, owner int64) int64 {
			c, err := cs.CreateContact(ctx, sys, crm.ContactInput{Email: new(email), OriginalChannel: new(ch), OwnerID: &owner})
			if err != nil {
				t.Fatal(err)
			}
			return c.ID
		}
		a, b, c := create("a@x.jp", "email", r1.ID), create("b@x.jp", "email", r2.ID), create("c@x.jp", "paid_search", r1.ID)
		for _, id := range []int64{a, b} {
			st := platform.StageMQL
			if _, err := cs.UpdateContact(ctx, sys, id, crm.ContactInput{LifecycleStage: &st}, platform.Cause{Kind: "rule"}); err != nil {
				t.Fatal(err)
			}
		}
		cps := campaigns.New(d, fc)
		camp, err := cps.Create(ctx, admin, campaigns.Input{Name: new("ウェビナー"), Kind: new("webinar"), Channel: new("events_offline")})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := cps.SetMembers(ctx, admin, camp.ID, []int64{a}, "registered"); err != nil {
			t.Fatal(err)
		}
		ps, _ := cs.Pipelines(ctx, d.Reader(), 1)
		won := ps[0].Stages[4].ID
		deal := func(amount float64, owner, contact int64) int64 {
			dc := []crm.DealContact{{ContactID: contact}}
			dl, err := cs.CreateDeal(ctx, sys, crm.DealInput{Name: new("案件"), Amount: &amount, OwnerID: &owner, Contacts: &dc})
			if err != nil {
				t.Fatal(err)
			}
			return dl.ID
		}
		d1, d2 := deal(100000, r1.ID, a), deal(200000, r2.ID, b)
		for _, x := range []struct {
			kind           string
			owner, contact int64
			deal           int64
		}{{"call", r1.ID, a, 0}, {"email", r1.ID, c, 0}, {"meeting", r2.ID, b, d2}} {
			in := crm.ActivityInput{Kind: new(x.kind), ContactID: &x.contact, OwnerID: &x.owner}
			if x.deal != 0 {
				in.DealID = &x.deal
			}
			if _, err := cs.LogActivity(ctx, sys, in); err != nil {
				t.Fatal(err)
			}
		}
		fc.Set(time.Date(2026, 11, 10, 10, 0, 0, 0, tokyo))
		for _, id := range []int64{d1, d2} {
			if _, err := cs.UpdateDeal(ctx, sys, id, crm.DealInput{StageID: &won}); err != nil {
				t.Fatal(err)
			}
		}
		w, _ := platform.GetWorkspace(ctx, d.Reader(), 1)
		month, _ := insight.PeriodOf(w, "month", 0, fc.Now())
		none := ps[0].ID + 1000 // a pipeline holding nothing
		for _, tc := range []struct {
			name string
			f    insight.KPIFilter
			// funnel: created, reached MQL; channels: leads, won, revenue, rows;
			// reps: rows, activities, won, revenue
			created, mqls        int
			leads, chWon, chRows int
			chRevenue            int64
			reps, acts, repWon   int
			repRevenue           int64
		}{
			{"no filter", insight.KPIFilter{}, 3, 2, 3, 2, 8, 300000, 2, 3, 2, 300000},
			{"channel email", insight.KPIFilter{Channel: "email"}, 2, 2, 2, 2, 1, 300000, 2, 2, 2, 300000},
			{"campaign", insight.KPIFilter{CampaignID: camp.ID}, 1, 1, 1, 1, 8, 100000, 2, 1, 1, 100000},
			{"owner rep 2", insight.KPIFilter{OwnerID: r2.ID}, 1, 1, 1, 1, 8, 200000, 1, 1, 1, 200000},
			{"team IS", insight.KPIFilter{TeamID: team.ID}, 2, 1, 2, 1, 8, 100000, 1, 2, 1, 100000},
			{"an empty pipeline", insight.KPIFilter{PipelineID: none}, 3, 2, 3, 0, 8, 0, 2, 0, 0, 0},
			{"the pipeline", insight.KPIFilter{PipelineID: ps[0].ID}, 3, 2, 3, 2, 8, 300000, 2, 1, 2, 300000},
		} {
			fn, err := insight.FunnelOf(ctx, d.Reader(), w, 1, tc.f, fc.Now())
			if err != nil {
				t.Fatal(err)
			}
			if fn.Total.Reached[0] != tc.created || fn.Total.Reached[1] != tc.mqls {
				t.Errorf("%s: funnel %v, want %d created, %d MQL", tc.name, fn.Total.Reached, tc.created, tc.mqls)
			}
			q, err := insight.ChannelQualityFiltered(ctx, d.Reader(), w, month, tc.f)
			if err != nil {
				t.Fatal(err)
			}
			if q.Total.Leads != tc.leads || q.Total.Won != tc.chWon || q.Total.Revenue != tc.chRevenue || len(q.Rows) != tc.chRows {
				t.Errorf("%s: channels leads %d won %d revenue %d rows %d, want %d %d %d %d", tc.name, q.Total.Leads, q.Total.Won, q.Total.Revenue, len(q.Rows), tc.leads, tc.chWon, tc.chRevenue, tc.chRows)
			}
			rp, err := insight.RepPerformanceFiltered(ctx, d.Reader(), w, month, tc.f)
			if err != nil {
				t.Fatal(err)
			}
			acts := 0
			for _, n := range rp.Total.Activities {
				acts += n
			}
			if len(rp.Reps) != tc.reps || acts != tc.acts || rp.Total.Won != tc.repWon || rp.Total.Revenue != tc.repRevenue {
				t.Errorf("%s: reps %d activities %d won %d revenue %d, want %d %d %d %d", tc.name, len(rp.Reps), acts, rp.Total.Won, rp.Total.Revenue, tc.reps, tc.acts, tc.repWon, tc.repRevenue)
			}
		}
		if !insight.FunnelScope.Applies(insight.KPIFilter{Channel: "email"}) || insight.FunnelScope.Applies(insight.KPIFilter{PipelineID: 1}) {
			t.Error("the funnel's scope: channel applies, pipeline does not")
		}
	})
}
