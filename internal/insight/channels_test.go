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
	"github.com/ryorin/ryorin/internal/lead"
	"github.com/ryorin/ryorin/internal/marketing/campaigns"
	"github.com/ryorin/ryorin/internal/platform"
)

// The fixture, November 2026 in Tokyo:
//
//	A email: MQL, accepted, deal won ¥500,000 (A alone) → customer
//	B email: MQL, rejected "no_budget"
//	C paid_search: MQL, rejected "bad_timing"
//	D paid_search: nothing;  E paid_search: a lost deal (so E reached opportunity, passing MQL)
//	Z email, created in October: a won deal with Z and A (Z came first, so not November's)
//	spend: email ¥100,000 and paid_search ¥300,000 in November, paid_search ¥999 in October
//	visits: two paid_search sessions in November, one in October
func TestChannelQuality_FollowsEachChannelsLeadsToRevenueAgainstSpend(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		tokyo, _ := time.LoadLocation("Asia/Tokyo")
		fc := clock.NewFake(time.Date(2026, 10, 20, 10, 0, 0, 0, tokyo))
		if err := platform.EnsureWorkspace(ctx, d, 1, "T", fc.Now()); err != nil {
			t.Fatal(err)
		}
		cs := crm.New(d, fc)
		if err := cs.EnsureDefaults(ctx, 1, "ja"); err != nil {
			t.Fatal(err)
		}
		ls := lead.New(d, fc)
		if err := ls.EnsureReasons(ctx, 1); err != nil {
			t.Fatal(err)
		}
		sys := platform.System(1)
		admin := platform.Actor{WorkspaceID: 1, Role: platform.RoleAdmin, Kind: platform.ActorCLI}
		create := func(email, ch string) int64 {
			c, err := cs.CreateContact(ctx, sys, crm.ContactInput{Email: new(email), OriginalChannel: new(ch)})
			if err != nil {
				t.Fatal(err)
			}
			return c.ID
		}
		mql := func(id int64) {
			st := platform.StageMQL
			if _, err := cs.UpdateContact(ctx, sys, id, crm.ContactInput{LifecycleStage: &st}, platform.Cause{Kind: "rule"}); err != nil {
				t.Fatal(err)
			}
		}
		feedback := func(id int64, decision, reason string) {
			if _, err := ls.GiveFeedback(ctx, cs, admin, id, lead.FeedbackInput{Decision: decision, Reason: reason}); err != nil {
				t.Fatal(err)
			}
		}
		ps, _ := cs.Pipelines(ctx, d.Reader(), 1)
		won, lost := ps[0].Stages[4].ID, ps[0].Stages[5].ID
		deal := func(amount float64, stage int64, contacts ...int64) {
			var dc []crm.DealContact
			for _, c := range contacts {
				dc = append(dc, crm.DealContact{ContactID: c})
			}
			dl, err := cs.CreateDeal(ctx, sys, crm.DealInput{Name: new("案件"), Amount: &amount, Contacts: &dc})
			if err != nil {
				t.Fatal(err)
			}
			in := crm.DealInput{StageID: &stage}
			if stage == lost {
				in.LostReason = new("価格")
			}
			if _, err := cs.UpdateDeal(ctx, sys, dl.ID, in); err != nil {
				t.Fatal(err)
			}
		}
		session := func(uid, ch string, at time.Time) {
			if err := d.Write(ctx, "test", func(tx *db.Tx) error {
				_, err := tx.ExecContext(ctx, `INSERT INTO track_sessions (workspace_id, uid, visitor_id, started_at, last_at, channel) VALUES (1, ?, 'v', ?, ?, ?)`,
					uid, db.Millis(at), db.Millis(at), ch)
				return err
			}); err != nil {
				t.Fatal(err)
			}
		}
		z := create("z@x.jp", "email")
		session("s0", "paid_search", fc.Now())
		fc.Set(time.Date(2026, 11, 3, 10, 0, 0, 0, tokyo))
		a, b, c := create("a@x.jp", "email"), create("b@x.jp", "email"), create("c@x.jp", "paid_search")
		create("d@x.jp", "paid_search")
		e := create("e@x.jp", "paid_search")
		session("s1", "paid_search", fc.Now())
		session("s2", "paid_search", fc.Now())
		for _, id := range []int64{a, b, c} {
			mql(id)
		}
		feedback(a, "accept", "")
		feedback(b, "reject", "no_budget")
		feedback(c, "reject", "bad_timing")
		deal(500000, won, a)
		deal(700000, won, z, a)
		deal(100000, lost, e)
		mk := platform.Actor{WorkspaceID: 1, Role: platform.RoleMarketing, Kind: platform.ActorCLI}
		cps := campaigns.New(d, fc)
		for _, s := range []campaigns.SpendEntry{{Month: "2026-11", Channel: "email", Amount: 100000}, {Month: "2026-11", Channel: "paid_search", Amount: 300000},
			{Month: "2026-10", Channel: "paid_search", Amount: 999}} {
			if _, err := cps.SetSpend(ctx, mk, s); err != nil {
				t.Fatal(err)
			}
		}
		w, _ := platform.GetWorkspace(ctx, d.Reader(), 1)
		p, _ := insight.PeriodOf(w, "month", 0, time.Date(2026, 11, 20, 0, 0, 0, 0, tokyo))
		q, err := insight.ChannelQualityOf(ctx, d.Reader(), w, p)
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]insight.ChannelRow{}
		for _, r := range q.Rows {
			got[r.Channel] = r
		}
		em, ps2 := got["email"], got["paid_search"]
		check := func(name string, g, want any) {
			t.Helper()
			if g != want {
				t.Errorf("%s = %v, want %v", name, g, want)
			}
		}
		check("email leads", em.Leads, 2)
		check("email MQLs", em.MQLs, 2)
		check("email accepted", em.Accepted, 1)
		check("email rejected", em.Rejected, 1)
		check("email opportunities", em.Opportunities, 1)
		check("email customers", em.Customers, 1)
		check("email won", em.Won, 1)
		check("email revenue", em.Revenue, int64(500000))
		check("email spend", em.Spend, int64(100000))
		check("email CAC", em.CAC(), int64(100000))
		check("email ROI", em.ROI(), 4.0)
		check("email accept rate", em.AcceptRate(), 0.5)
		check("paid leads", ps2.Leads, 3)
		check("paid visits", ps2.Visits, 2)
		check("paid MQL rate (E passed MQL on its way to opportunity)", ps2.MQLRate(), 2.0/3)
		check("paid opportunities", ps2.Opportunities, 1)
		check("paid lost", ps2.Lost, 1)
		check("paid win rate", ps2.WinRate(), 0.0)
		check("paid spend", ps2.Spend, int64(300000))
		check("paid CAC without customers", ps2.CAC(), int64(0))
		if len(ps2.TopReasons) != 1 || ps2.TopReasons[0] != (insight.ReasonCount{Reason: "bad_timing", Count: 1}) {
			t.Errorf("paid reasons %v", ps2.TopReasons)
		}
		check("total leads", q.Total.Leads, 5)
		check("total revenue", q.Total.Revenue, int64(500000))
		check("total reasons", len(q.Total.TopReasons), 2)
		check("social leads", got["social"].Leads, 0)
		_ = z
	})
}
