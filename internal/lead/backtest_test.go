package lead_test

import (
	"context"
	"testing"
	"time"

	"github.com/ryorin/ryorin/internal/clock"
	"github.com/ryorin/ryorin/internal/crm"
	"github.com/ryorin/ryorin/internal/db"
	"github.com/ryorin/ryorin/internal/dbtest"
	"github.com/ryorin/ryorin/internal/lead"
	"github.com/ryorin/ryorin/internal/platform"
)

// TestBacktest_ComparesADraftWithTheActiveDefinitionOnHistory replays three
// contacts: one that submitted a form ten weeks ago and became a customer,
// one that read the pricing page three times three weeks ago and was
// rejected for budget, one that did nothing. The active definition (form
// submit → MQL) picks the first; a draft keyed on pricing visits picks the
// second; the table shows each cohort's weeks and what sales made of it.
func TestBacktest_ComparesADraftWithTheActiveDefinitionOnHistory(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		ls, p := setup(t, d)
		now := time.Date(2026, 9, 30, 3, 0, 0, 0, time.UTC) // a Wednesday, 12:00 in Tokyo
		fc := clock.NewFake(now.AddDate(0, 0, -7*20))
		ls.Clock = fc
		if err := ls.EnsureReasons(ctx, 1); err != nil {
			t.Fatal(err)
		}
		cs := crm.New(d, fc)
		if err := cs.EnsureDefaults(ctx, 1, "ja"); err != nil {
			t.Fatal(err)
		}
		sys := platform.System(1)
		var ids []int64
		for _, e := range []string{"form@example.jp", "pricing@example.jp", "quiet@example.jp", "early@example.jp"} {
			c, err := cs.CreateContact(ctx, sys, crm.ContactInput{Email: new(e)})
			if err != nil {
				t.Fatal(err)
			}
			ids = append(ids, c.ID)
		}
		formAt := now.AddDate(0, 0, -70)
		priceAt := now.AddDate(0, 0, -21)
		earlyAt := now.AddDate(0, 0, -35)
		evs := []platform.EventInput{{ID: "f", Kind: "form_submit", ContactID: ids[0], OccurredAt: &formAt},
			{ID: "e", Kind: "form_submit", ContactID: ids[3], OccurredAt: &earlyAt}}
		for i, id := range []string{"p1", "p2", "p3"} {
			at := priceAt.Add(time.Duration(i) * time.Minute)
			evs = append(evs, platform.EventInput{ID: id, Kind: "page_view", ContactID: ids[1], URL: "https://ryorin.example/pricing", OccurredAt: &at})
		}
		fc.Set(now.AddDate(0, 0, -1))
		if _, err := platform.IngestEvents(ctx, d, sys, evs, fc.Now()); err != nil {
			t.Fatal(err)
		}
		// What sales did: the first became a customer on a won deal, the
		// second was rejected for budget.
		ps, _ := cs.Pipelines(ctx, d.Reader(), 1)
		won := ps[0].Stages[4].ID
		deal, err := cs.CreateDeal(ctx, sys, crm.DealInput{Name: new("導入"), Amount: new(1200000.0), Contacts: &[]crm.DealContact{{ContactID: ids[0]}}})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := cs.UpdateDeal(ctx, sys, deal.ID, crm.DealInput{StageID: &won}); err != nil {
			t.Fatal(err)
		}
		mql := platform.StageMQL
		if _, err := cs.UpdateContact(ctx, sys, ids[1], crm.ContactInput{LifecycleStage: &mql}, platform.Cause{Kind: "api"}); err != nil {
			t.Fatal(err)
		}
		if _, err := ls.GiveFeedback(ctx, cs, p.rep, ids[1], lead.FeedbackInput{Decision: "reject", Reason: "no_budget", Rating: 2}); err != nil {
			t.Fatal(err)
		}
		// The fourth was put back to nurture by hand, before feedback existed.
		recycled := platform.StageRecycled
		if _, err := cs.UpdateContact(ctx, sys, ids[3], crm.ContactInput{LifecycleStage: &mql}, platform.Cause{Kind: "rule"}); err != nil {
			t.Fatal(err)
		}
		if _, err := cs.UpdateContact(ctx, p.rep, ids[3], crm.ContactInput{LifecycleStage: &recycled}, platform.Cause{Kind: "user", Ref: "時期尚早"}); err != nil {
			t.Fatal(err)
		}
		body := lead.DefaultBody()
		body.MQL = `visits("/pricing", "7d") >= 3`
		draft, err := ls.CreateDraft(ctx, p.mkt, body, "料金ページ重視")
		if err != nil {
			t.Fatal(err)
		}
		fc.Set(now)
		bt, err := ls.RunBacktest(ctx, 1, draft.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(bt.Weeks) != lead.BacktestWeeks || bt.Contacts != 4 || bt.Events != 5 {
			t.Fatalf("replayed %d weeks, %d contacts, %d events", len(bt.Weeks), bt.Contacts, bt.Events)
		}
		weekOf := func(at time.Time) int {
			for i := len(bt.Weeks) - 1; i >= 0; i-- {
				if !at.Before(bt.Weeks[i]) {
					return i
				}
			}
			return -1
		}
		a, c := bt.Active, bt.Candidate
		if a.Cohort != 2 || a.PerWeek[weekOf(formAt)] != 1 || a.Accepted != 1 || a.Won != 1 || a.Revenue != 1200000 || a.Rejected != 1 || a.Reasons["時期尚早"] != 1 {
			t.Fatalf("active side: %+v", a)
		}
		if c.Cohort != 1 || c.PerWeek[weekOf(priceAt)] != 1 || c.Rejected != 1 || c.Reasons["no_budget"] != 1 || c.Won != 0 || c.AvgRating != 2 {
			t.Fatalf("candidate side: %+v", c)
		}
		// Now: the form is over a week old and the visits too, so neither
		// would call anyone an MQL today.
		if a.MQLNow != 0 || c.MQLNow != 0 {
			t.Fatalf("MQL now: active %d, candidate %d", a.MQLNow, c.MQLNow)
		}
		if bt.Both != 0 || bt.OnlyCandidate != 1 || bt.OnlyActive != 2 {
			t.Fatalf("overlap: %+v", bt)
		}
		if bt.Weeks[0].In(time.FixedZone("JST", 9*3600)).Weekday() != time.Monday {
			t.Fatalf("weeks start on %s", bt.Weeks[0].Weekday())
		}
	})
}
