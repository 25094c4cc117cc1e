package insight_test

import (
	"context"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/ryorin/ryorin/internal/clock"
	"github.com/ryorin/ryorin/internal/db"
	"github.com/ryorin/ryorin/internal/dbtest"
	"github.com/ryorin/ryorin/internal/errs"
	"github.com/ryorin/ryorin/internal/insight"
	"github.com/ryorin/ryorin/internal/marketing/social"
	"github.com/ryorin/ryorin/internal/platform"
)

// November 2026, figures entered per network:
//
//	X (social)          10,000 impressions, 300 engagements
//	LinkedIn (social)    5,000 impressions, 200 engagements
//	YouTube (other)      5,000 impressions, 100 engagements (imported as CSV)
//	X in October        99,999 impressions, 9,999 engagements (another month)
//
// November: 600 engagements ÷ 20,000 impressions = 3 %; with the channel
// filter "social": 500 ÷ 15,000 = 1/30. The quarter (fiscal year from
// April: October–December) adds October: 10,599 ÷ 119,999.
func TestSocialEngagement_SumsTheMonthsOfThePeriodPerChannel(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		tokyo, _ := time.LoadLocation("Asia/Tokyo")
		fc := clock.NewFake(time.Date(2026, 11, 20, 10, 0, 0, 0, tokyo))
		if err := platform.EnsureWorkspace(ctx, d, 1, "T", fc.Now()); err != nil {
			t.Fatal(err)
		}
		ws, err := platform.GetWorkspace(ctx, d.Reader(), 1)
		if err != nil {
			t.Fatal(err)
		}
		ws.FiscalYearStartMonth = 4
		svc := social.New(d, fc)
		mkt := platform.Actor{WorkspaceID: 1, Role: platform.RoleMarketing, Kind: platform.ActorCLI}
		for _, st := range []social.Stat{
			{Month: "2026-11", Network: "x", Impressions: 10000, Engagements: 300, FollowersGained: 20, Clicks: 50},
			{Month: "2026-11", Network: "linkedin", Impressions: 5000, Engagements: 200, FollowersGained: 10, Clicks: 40},
			{Month: "2026-10", Network: "x", Impressions: 99999, Engagements: 9999},
			{Month: "2026-11", Network: "facebook", Impressions: 1, Engagements: 1}, // then removed
			{Month: "2026-11", Network: "facebook"},
		} {
			if _, err := svc.Set(ctx, mkt, st); err != nil {
				t.Fatal(err)
			}
		}
		res, err := svc.Import(ctx, mkt, strings.NewReader("年月,媒体,チャネル,インプレッション数,エンゲージメント数\n2026/11,youtube,other,\"５，０００\",100\n2026-11,myspace,social,1,1\n"))
		if err != nil {
			t.Fatal(err)
		}
		if res.Saved != 1 || len(res.Errors) != 1 || res.Errors[0].Line != 3 {
			t.Fatalf("import = %+v, want 1 saved and line 3 refused", res)
		}
		if _, err := svc.Set(ctx, platform.Actor{WorkspaceID: 1, Role: platform.RoleSales}, social.Stat{Month: "2026-11", Network: "x"}); errs.KindOf(err) != errs.Forbidden {
			t.Fatalf("sales entering figures: %v, want forbidden", err)
		}
		month, _ := insight.PeriodOf(ws, "month", 0, fc.Now())
		quarter, _ := insight.PeriodOf(ws, "quarter", 0, fc.Now())
		for _, tc := range []struct {
			name        string
			p           insight.Period
			f           insight.KPIFilter
			eng, impr   float64
			rate        float64
			unfiltered  bool
			networkRows int
		}{
			{"November", month, insight.KPIFilter{}, 600, 20000, 0.03, false, 3},
			{"November, social channel", month, insight.KPIFilter{Channel: "social"}, 500, 15000, 1.0 / 30, false, 2},
			{"quarter", quarter, insight.KPIFilter{}, 10599, 119999, 10599.0 / 119999, false, 3},
			{"a team does not narrow social figures", month, insight.KPIFilter{TeamID: 7}, 600, 20000, 0.03, true, 3},
		} {
			ks, err := insight.ComputeOnly(ctx, d.Reader(), ws, tc.p, tc.f, []string{"social_engagements", "social_engagement_rate"})
			if err != nil {
				t.Fatal(err)
			}
			if len(ks) != 2 || ks[0].Key != "social_engagements" || ks[1].Key != "social_engagement_rate" {
				t.Fatalf("%s: KPIs %+v", tc.name, ks)
			}
			if ks[0].Value != tc.eng || ks[1].Of != tc.impr || math.Abs(ks[1].Value-tc.rate) > 1e-12 || ks[0].Unfiltered != tc.unfiltered {
				t.Errorf("%s: engagements %v rate %v of %v (unfiltered %v), want %v, %v of %v (%v)", tc.name, ks[0].Value, ks[1].Value, ks[1].Of, ks[0].Unfiltered, tc.eng, tc.rate, tc.impr, tc.unfiltered)
			}
			if !strings.Contains(ks[1].Formula, "engagements ÷ impressions") {
				t.Errorf("formula %q", ks[1].Formula)
			}
			so, err := insight.SocialOf(ctx, d.Reader(), ws, tc.p, tc.f)
			if err != nil {
				t.Fatal(err)
			}
			if len(so.Rows) != tc.networkRows || float64(so.Total.Engagements) != tc.eng {
				t.Errorf("%s: social rows %+v total %+v", tc.name, so.Rows, so.Total)
			}
		}
		// A week holds no month start: no figures rather than a guessed share.
		week, _ := insight.PeriodOf(ws, "week", 0, fc.Now())
		ks, _ := insight.ComputeOnly(ctx, d.Reader(), ws, week, insight.KPIFilter{}, []string{"social_engagement_rate"})
		if ks[1].Value != 0 || ks[1].Of != 0 {
			t.Errorf("week: %+v, want empty", ks)
		}
		// Other names for a network are folded to its key.
		if st, err := svc.Set(ctx, mkt, social.Stat{Month: "2026-09", Network: " Twitter ", Impressions: 1}); err != nil || st.Network != "x" {
			t.Errorf("Twitter saved as %q, %v", st.Network, err)
		}
		list, err := social.List(ctx, d.Reader(), 1, "2026-10", "2026-11")
		if err != nil || len(list) != 4 || list[0].Month != "2026-11" || list[0].Network != "x" || list[3].Month != "2026-10" {
			t.Errorf("list = %+v, %v", list, err)
		}
	})
}
