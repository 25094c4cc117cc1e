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
	"github.com/ryorin/ryorin/internal/errs"
	"github.com/ryorin/ryorin/internal/insight"
	"github.com/ryorin/ryorin/internal/marketing/campaigns"
	"github.com/ryorin/ryorin/internal/platform"
)

func TestCredit_EachModelOnAHandComputedPath(t *testing.T) {
	day := 24 * time.Hour
	t0 := time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC)
	four := []insight.Touch{{At: t0}, {At: t0.Add(7 * day)}, {At: t0.Add(14 * day)}, {At: t0.Add(21 * day)}}
	won := t0.Add(28 * day)
	for _, c := range []struct {
		name          string
		model         string
		touches       []insight.Touch
		lead, dealIdx int
		want          []float64
	}{
		{"first", "first_touch", four, 1, 2, []float64{1, 0, 0, 0}},
		{"last", "last_touch", four, 1, 2, []float64{0, 0, 0, 1}},
		{"linear", "linear", four, 1, 2, []float64{.25, .25, .25, .25}},
		{"U: 40/40 and 20 shared", "u_shaped", four, 1, 2, []float64{.4, .4, .1, .1}},
		{"W: 30/30/30 and 10 shared", "w_shaped", four, 1, 2, []float64{.3, .3, .3, .1}},
		{"time decay: halves every 7 days", "time_decay", four, 1, 2, []float64{1.0 / 15, 2.0 / 15, 4.0 / 15, 8.0 / 15}},
		{"one touch takes all (U)", "u_shaped", four[:1], 0, 0, []float64{1}},
		{"one touch takes all (W)", "w_shaped", four[:1], 0, 0, []float64{1}},
		{"U when first is the lead touch", "u_shaped", four[:2], 0, 1, []float64{.8, .2}},
		{"W when first is the lead touch", "w_shaped", four[:3], 0, 2, []float64{.6, .1, .3}},
		{"W with no others is scaled to 100%", "w_shaped", four[:2], 0, 1, []float64{2.0 / 3, 1.0 / 3}},
		{"no touches", "linear", nil, -1, -1, []float64{}},
	} {
		got, err := insight.Credit(c.model, c.touches, c.lead, c.dealIdx, won)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if len(got) != len(c.want) {
			t.Fatalf("%s: %v, want %v", c.name, got, c.want)
		}
		for i := range got {
			if math.Abs(got[i]-c.want[i]) > 1e-9 {
				t.Errorf("%s: %v, want %v", c.name, got, c.want)
				break
			}
		}
	}
	if _, err := insight.Credit("last_non_direct", four, 1, 2, won); !errs.Is(err, errs.Invalid) {
		t.Errorf("unknown model: %v", err)
	}
}

// A is created through email (day 0), joins a trade show campaign (day 5),
// visits from paid search (day 10); a deal with A is created on day 12 and
// won on day 20 for ¥1,000,000. A deal with no contacts is won too.
func TestAttribution_SharesWonRevenueAlongTheTouchPath(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		tokyo, _ := time.LoadLocation("Asia/Tokyo")
		day := 24 * time.Hour
		t0 := time.Date(2026, 10, 1, 10, 0, 0, 0, tokyo)
		fc := clock.NewFake(t0)
		if err := platform.EnsureWorkspace(ctx, d, 1, "T", fc.Now()); err != nil {
			t.Fatal(err)
		}
		cs := crm.New(d, fc)
		if err := cs.EnsureDefaults(ctx, 1, "ja"); err != nil {
			t.Fatal(err)
		}
		sys := platform.System(1)
		mk := platform.Actor{WorkspaceID: 1, Role: platform.RoleMarketing, Kind: platform.ActorCLI}
		a, err := cs.CreateContact(ctx, sys, crm.ContactInput{Email: new("a@x.jp"), OriginalChannel: new("email")})
		if err != nil {
			t.Fatal(err)
		}
		cps := campaigns.New(d, fc)
		show, err := cps.Create(ctx, mk, campaigns.Input{Name: new("展示会"), Kind: new("trade_show"), Channel: new("events_offline")})
		if err != nil {
			t.Fatal(err)
		}
		fc.Set(t0.Add(5 * day))
		if _, err := cps.SetMembers(ctx, mk, show.ID, []int64{a.ID}, "met"); err != nil {
			t.Fatal(err)
		}
		if err := d.Write(ctx, "test", func(tx *db.Tx) error {
			_, err := tx.ExecContext(ctx, `INSERT INTO track_sessions (workspace_id, uid, visitor_id, contact_id, started_at, last_at, channel, utm_campaign) VALUES (1, 's1', 'v', ?, ?, ?, 'paid_search', 'crm_hikaku')`,
				a.ID, db.Millis(t0.Add(10*day)), db.Millis(t0.Add(10*day)))
			return err
		}); err != nil {
			t.Fatal(err)
		}
		ps, _ := cs.Pipelines(ctx, d.Reader(), 1)
		won := ps[0].Stages[4].ID
		amount := 1000000.0
		fc.Set(t0.Add(12 * day))
		dl, err := cs.CreateDeal(ctx, sys, crm.DealInput{Name: new("導入"), Amount: &amount, Contacts: &[]crm.DealContact{{ContactID: a.ID}}})
		if err != nil {
			t.Fatal(err)
		}
		lone, err := cs.CreateDeal(ctx, sys, crm.DealInput{Name: new("紹介案件"), Amount: &amount})
		if err != nil {
			t.Fatal(err)
		}
		fc.Set(t0.Add(20 * day))
		for _, id := range []int64{dl.ID, lone.ID} {
			if _, err := cs.UpdateDeal(ctx, sys, id, crm.DealInput{StageID: &won}); err != nil {
				t.Fatal(err)
			}
		}
		w, _ := platform.GetWorkspace(ctx, d.Reader(), 1)
		p, _ := insight.PeriodOf(w, "month", 0, t0.Add(20*day))
		for model, want := range map[string]map[string]float64{
			"linear":      {"email": 1e6 / 3, "events_offline": 1e6 / 3, "paid_search": 1e6 / 3},
			"w_shaped":    {"email": 600000, "events_offline": 100000, "paid_search": 300000},
			"first_touch": {"email": 1e6},
			"last_touch":  {"paid_search": 1e6},
		} {
			at, err := insight.AttributionOf(ctx, d.Reader(), w, p, model)
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]float64{}
			for _, r := range at.Rows {
				got[r.Channel] = r.Revenue
			}
			for ch, v := range want {
				if math.Abs(got[ch]-v) > 1e-6 {
					t.Errorf("%s %s = %v, want %v", model, ch, got[ch], v)
				}
			}
			if len(got) != len(want) {
				t.Errorf("%s: channels %v, want %v", model, got, want)
			}
			if at.Untouched != 1 || at.UntouchedRevenue != 1000000 || len(at.Deals) != 2 {
				t.Errorf("%s: untouched %d ¥%d, %d deals", model, at.Untouched, at.UntouchedRevenue, len(at.Deals))
			}
		}
		path, err := insight.PathOf(ctx, d.Reader(), 1, dl.ID, t0.Add(12*day), t0.Add(20*day), "w_shaped")
		if err != nil {
			t.Fatal(err)
		}
		var kinds, roles []string
		for _, tc := range path {
			kinds, roles = append(kinds, tc.Kind), append(roles, tc.Role)
		}
		if len(path) != 3 || kinds[0] != "created" || kinds[1] != "campaign" || kinds[2] != "visit" || roles[0] != "first" || roles[2] != "deal_created" || path[1].Label != "展示会" {
			t.Errorf("path %v %v %+v", kinds, roles, path)
		}
		if _, err := insight.AttributionOf(ctx, d.Reader(), w, p, "nope"); !errs.Is(err, errs.Invalid) {
			t.Errorf("unknown model: %v", err)
		}
	})
}
