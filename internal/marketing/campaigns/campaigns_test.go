package campaigns_test

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
	"github.com/ryorin/ryorin/internal/marketing/campaigns"
	"github.com/ryorin/ryorin/internal/platform"
)

func TestMain(m *testing.M) { os.Exit(dbtest.Main(m)) }

type fixture struct {
	ctx context.Context
	d   *db.DB
	svc *campaigns.Service
	crm *crm.Service
	mkt platform.Actor
	rep platform.Actor
	fc  *clock.Fake
}

func setup(t *testing.T, d *db.DB) fixture {
	ctx := context.Background()
	fc := clock.NewFake(time.Date(2026, 6, 1, 1, 0, 0, 0, time.UTC))
	if err := platform.EnsureWorkspace(ctx, d, 1, "T", fc.Now()); err != nil {
		t.Fatal(err)
	}
	cs := crm.New(d, fc)
	if err := cs.EnsureDefaults(ctx, 1, "ja"); err != nil {
		t.Fatal(err)
	}
	return fixture{ctx: ctx, d: d, svc: campaigns.New(d, fc), crm: cs, fc: fc,
		mkt: platform.Actor{WorkspaceID: 1, Role: platform.RoleMarketing, Kind: platform.ActorCLI},
		rep: platform.Actor{WorkspaceID: 1, Role: platform.RoleSales, Kind: platform.ActorCLI}}
}

func TestCampaigns_ValidateAndKeepUTMCodesUnique(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := setup(t, d)
		web := campaigns.Input{Name: new("秋のウェビナー"), Kind: new("webinar"), Channel: new("email"), UTMCampaign: new("webinar-2026-autumn"),
			StartsOn: new("2026-10-01"), EndsOn: new("2026-10-31"), Budget: new(int64(300000))}
		c, err := f.svc.Create(f.ctx, f.mkt, web)
		if err != nil {
			t.Fatal(err)
		}
		if c.Currency != "JPY" || c.Status != "planned" || c.Budget != 300000 {
			t.Errorf("defaults: %+v", c)
		}
		for _, bad := range []struct {
			field string
			in    campaigns.Input
		}{
			{"name", campaigns.Input{Kind: new("webinar")}},
			{"kind", campaigns.Input{Name: new("x"), Kind: new("billboard")}},
			{"utm_campaign", campaigns.Input{Name: new("x"), UTMCampaign: new("has space")}},
			{"channel", campaigns.Input{Name: new("x"), Channel: new("carrier_pigeon")}},
			{"ends_on", campaigns.Input{Name: new("x"), StartsOn: new("2026-10-01"), EndsOn: new("2026-09-01")}},
			{"starts_on", campaigns.Input{Name: new("x"), StartsOn: new("2026/10/01")}},
			{"budget", campaigns.Input{Name: new("x"), Budget: new(int64(-1))}},
		} {
			if _, err := f.svc.Create(f.ctx, f.mkt, bad.in); !errs.Is(err, errs.Invalid) || fieldOf(err) != bad.field {
				t.Errorf("%s: %v", bad.field, err)
			}
		}
		_, err = f.svc.Create(f.ctx, f.mkt, campaigns.Input{Name: new("copy"), UTMCampaign: new("webinar-2026-autumn")})
		if e, ok := errs.As(err); !ok || e.Kind != errs.Conflict || e.ExistingID != c.ID {
			t.Errorf("duplicate utm: %v", err)
		}
		if _, err := f.svc.Create(f.ctx, f.rep, web); !errs.Is(err, errs.Forbidden) {
			t.Errorf("sales created a campaign: %v", err)
		}
		c, err = f.svc.Update(f.ctx, f.mkt, c.ID, campaigns.Input{Status: new("active")})
		if err != nil || c.Status != "active" || c.Name != "秋のウェビナー" {
			t.Fatalf("update: %+v %v", c, err)
		}
	})
}

func TestSpend_OneAmountPerMonthAndTarget(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := setup(t, d)
		c, err := f.svc.Create(f.ctx, f.mkt, campaigns.Input{Name: new("検索広告"), Kind: new("search_ads"), Channel: new("paid_search")})
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range []campaigns.SpendEntry{
			{Month: "2026-05", CampaignID: c.ID, Amount: 100000},
			{Month: "2026-05", CampaignID: c.ID, Amount: 120000}, // replaces
			{Month: "2026-06", CampaignID: c.ID, Amount: 90000},
			{Month: "2026-05", Channel: "social", Amount: 50000},
			{Month: "2026-06", CampaignID: c.ID, Amount: 0}, // removes
		} {
			if _, err := f.svc.SetSpend(f.ctx, f.mkt, e); err != nil {
				t.Fatal(err)
			}
		}
		got, err := f.svc.Spend(f.ctx, d.Reader(), 1, "2026-01", "2026-12", 0)
		if err != nil {
			t.Fatal(err)
		}
		want := []campaigns.SpendEntry{{Month: "2026-05", Channel: "paid_search", CampaignID: c.ID, Amount: 120000, Currency: "JPY"}, {Month: "2026-05", Channel: "social", Amount: 50000, Currency: "JPY"}}
		if len(got) != len(want) || got[0] != want[0] || got[1] != want[1] {
			t.Errorf("spend %+v, want %+v", got, want)
		}
		for _, bad := range []struct {
			field string
			e     campaigns.SpendEntry
		}{
			{"month", campaigns.SpendEntry{Month: "2026-13", Channel: "social", Amount: 1}},
			{"channel", campaigns.SpendEntry{Month: "2026-05", Amount: 1}},
			{"amount", campaigns.SpendEntry{Month: "2026-05", Channel: "social", Amount: -5}},
			{"campaign_id", campaigns.SpendEntry{Month: "2026-05", CampaignID: 999, Amount: 1}},
		} {
			if _, err := f.svc.SetSpend(f.ctx, f.mkt, bad.e); fieldOf(err) != bad.field {
				t.Errorf("%s: %v", bad.field, err)
			}
		}
		// Spend follows the campaign when its channel changes.
		if _, err := f.svc.Update(f.ctx, f.mkt, c.ID, campaigns.Input{Channel: new("referral")}); err != nil {
			t.Fatal(err)
		}
		got, _ = f.svc.Spend(f.ctx, d.Reader(), 1, "2026-05", "2026-05", c.ID)
		if len(got) != 1 || got[0].Channel != "referral" {
			t.Errorf("after channel change: %+v", got)
		}
	})
}

func TestMembers_BulkAddThenTouchesAttachOnce(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := setup(t, d)
		c, err := f.svc.Create(f.ctx, f.mkt, campaigns.Input{Name: new("展示会 2026"), Kind: new("trade_show"), UTMCampaign: new("expo2026")})
		if err != nil {
			t.Fatal(err)
		}
		var ids []int64
		for _, e := range []string{"a@x.jp", "b@x.jp", "c@x.jp"} {
			ct, err := f.crm.CreateContact(f.ctx, platform.System(1), crm.ContactInput{Email: new(e)})
			if err != nil {
				t.Fatal(err)
			}
			ids = append(ids, ct.ID)
		}
		if n, err := f.svc.SetMembers(f.ctx, f.mkt, c.ID, ids[:2], "met"); err != nil || n != 2 {
			t.Fatalf("add: %d %v", n, err)
		}
		if n, err := f.svc.SetMembers(f.ctx, f.mkt, c.ID, ids[:1], "met"); err != nil || n != 0 {
			t.Fatalf("same again: %d %v", n, err)
		}
		if _, err := f.svc.SetMembers(f.ctx, f.mkt, c.ID, []int64{9999}, "met"); fieldOf(err) != "contact_ids" {
			t.Errorf("unknown contact: %v", err)
		}
		if _, err := f.svc.SetMembers(f.ctx, f.mkt, c.ID, ids, "bored"); fieldOf(err) != "status" {
			t.Errorf("bad status: %v", err)
		}
		// Touches: b (already met) and c clicked a link tagged expo2026; a
		// page view of c without the code; an anonymous one with it.
		var evs []platform.EventInput
		for i, e := range []struct {
			contact int64
			code    string
		}{{ids[1], "expo2026"}, {ids[2], "EXPO2026"}, {ids[2], ""}, {0, "expo2026"}, {ids[2], "expo2026"}} {
			evs = append(evs, platform.EventInput{ID: "e" + string(rune('a'+i)), Kind: "page_view", ContactID: e.contact, VisitorID: "v1", UTMCampaign: e.code, URL: "https://example.jp/"})
		}
		if _, err := platform.IngestEvents(f.ctx, d, platform.System(1), evs, f.fc.Now()); err != nil {
			t.Fatal(err)
		}
		for range 2 { // the second pass finds nothing new
			if _, err := f.svc.Attach(f.ctx, 1, 500); err != nil {
				t.Fatal(err)
			}
		}
		counts, err := f.svc.StatusCounts(f.ctx, d.Reader(), 1, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		if counts["met"] != 2 || counts["responded"] != 1 || len(counts) != 2 {
			t.Errorf("counts %v, want met 2 (b keeps its status) and responded 1", counts)
		}
		tl, _ := platform.ListTimeline(f.ctx, d.Reader(), 1, platform.TimelineQuery{Subject: "contact", ID: ids[2], Kinds: []string{"campaign.member"}, Limit: 10})
		if len(tl) != 1 {
			t.Errorf("c has %d campaign entries on its timeline, want 1", len(tl))
		}
		ms, err := f.svc.Members(f.ctx, d.Reader(), 1, c.ID, "met", 10)
		if err != nil || len(ms) != 2 {
			t.Errorf("members met: %d %v", len(ms), err)
		}
		if err := f.svc.RemoveMember(f.ctx, f.mkt, c.ID, ids[0]); err != nil {
			t.Fatal(err)
		}
		if err := f.svc.RemoveMember(f.ctx, f.mkt, c.ID, ids[0]); !errs.Is(err, errs.NotFound) {
			t.Errorf("remove twice: %v", err)
		}
	})
}

func fieldOf(err error) string {
	if e, ok := errs.As(err); ok {
		return e.Field
	}
	return ""
}

func TestResults_CountWhatFollowedJoiningAgainstSpend(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := setup(t, d)
		sys := platform.System(1)
		c, err := f.svc.Create(f.ctx, f.mkt, campaigns.Input{Name: new("ウェビナー"), Kind: new("webinar"), Channel: new("email")})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.SetSpend(f.ctx, f.mkt, campaigns.SpendEntry{Month: "2026-06", CampaignID: c.ID, Amount: 100000}); err != nil {
			t.Fatal(err)
		}
		a, _ := f.crm.CreateContact(f.ctx, sys, crm.ContactInput{Email: new("a@x.jp")})
		b, _ := f.crm.CreateContact(f.ctx, sys, crm.ContactInput{Email: new("b@x.jp")})
		mql := platform.StageMQL
		// b became MQL before joining: not the campaign's doing.
		if _, err := f.crm.UpdateContact(f.ctx, sys, b.ID, crm.ContactInput{LifecycleStage: &mql}, platform.Cause{Kind: "user"}); err != nil {
			t.Fatal(err)
		}
		f.fc.Advance(time.Hour)
		if _, err := f.svc.SetMembers(f.ctx, f.mkt, c.ID, []int64{a.ID, b.ID}, "attended"); err != nil {
			t.Fatal(err)
		}
		f.fc.Advance(time.Hour)
		if _, err := f.crm.UpdateContact(f.ctx, sys, a.ID, crm.ContactInput{LifecycleStage: &mql}, platform.Cause{Kind: "user"}); err != nil {
			t.Fatal(err)
		}
		ps, _ := f.crm.Pipelines(f.ctx, d.Reader(), 1)
		won := ps[0].Stages[4].ID
		amt := 300000.0
		dl, err := f.crm.CreateDeal(f.ctx, sys, crm.DealInput{Name: new("導入"), Amount: &amt, Contacts: &[]crm.DealContact{{ContactID: a.ID}}})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.crm.UpdateDeal(f.ctx, sys, dl.ID, crm.DealInput{StageID: &won}); err != nil {
			t.Fatal(err)
		}
		w, _ := platform.GetWorkspace(f.ctx, d.Reader(), 1)
		r, err := f.svc.ResultsOf(f.ctx, d.Reader(), w, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		want := campaigns.Results{Members: 2, MQLs: 1, Deals: 1, Won: 1, Revenue: 300000, Spend: 100000, ROI: 2, CostPerMQL: 100000}
		if r != want {
			t.Errorf("results %+v, want %+v", r, want)
		}
	})
}
