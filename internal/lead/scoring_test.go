package lead_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/ryorin/ryorin/internal/clock"
	"github.com/ryorin/ryorin/internal/crm"
	"github.com/ryorin/ryorin/internal/db"
	"github.com/ryorin/ryorin/internal/dbtest"
	"github.com/ryorin/ryorin/internal/errs"
	"github.com/ryorin/ryorin/internal/lead"
	"github.com/ryorin/ryorin/internal/platform"
)

func TestScorer_NewEventsMakeAnMQLWithTheRuleAsCause(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		fc := clock.NewFake(t0)
		if err := platform.EnsureWorkspace(ctx, d, 1, "T", t0); err != nil {
			t.Fatal(err)
		}
		ls := lead.New(d, fc)
		if err := ls.EnsureDefault(ctx, 1); err != nil {
			t.Fatal(err)
		}
		cs := crm.New(d, fc)
		sys := platform.System(1)
		s := func(v string) *string { return &v }
		hot, err := cs.CreateContact(ctx, sys, crm.ContactInput{Email: s("hot@hikari.example.jp"), Title: s("部長")})
		if err != nil {
			t.Fatal(err)
		}
		cust := platform.StageCustomer
		done, err := cs.CreateContact(ctx, sys, crm.ContactInput{Email: s("done@hikari.example.jp"), LifecycleStage: &cust})
		if err != nil {
			t.Fatal(err)
		}
		fc.Advance(time.Minute)
		_, err = platform.IngestEvents(ctx, d, sys, []platform.EventInput{
			{ID: "1", Kind: "form_submit", ContactID: hot.ID},
			{ID: "2", Kind: "page_view", ContactID: hot.ID, URL: "https://ryorin.example/pricing"},
			{ID: "3", Kind: "form_submit", ContactID: done.ID},
			{ID: "4", Kind: "page_view", VisitorID: "anon"},
		}, fc.Now())
		if err != nil {
			t.Fatal(err)
		}
		sc := &lead.Scorer{Lead: ls, CRM: cs}
		// A first run on an existing database starts at the newest event…
		if n, err := sc.ScoreNewEvents(ctx, 1); err != nil || n != 0 {
			t.Fatalf("first run scored %d, %v", n, err)
		}
		// …so rewind to score these.
		if err := sc.SetMark(ctx, 1, 0); err != nil {
			t.Fatal(err)
		}
		// Two contacts with new events (the MQL change then counts as an update
		// of the first, rescored once more without effect).
		n, err := sc.ScoreNewEvents(ctx, 1)
		if err != nil || n < 2 {
			t.Fatalf("rescored %d contacts, %v", n, err)
		}
		if n, _ := sc.ScoreNewEvents(ctx, 1); n != 0 {
			t.Fatalf("second run rescored %d contacts", n)
		}
		got, _ := cs.GetContact(ctx, d.Reader(), sys, hot.ID)
		if got.LifecycleStage != platform.StageMQL {
			t.Fatalf("hot lead stage = %s, want mql", got.LifecycleStage)
		}
		h, _ := platform.LifecycleHistory(ctx, d.Reader(), 1, hot.ID)
		last := h[len(h)-1]
		if last.CauseKind != "rule" || last.CauseRef != "definition v1: mql" {
			t.Fatalf("cause = %s %q", last.CauseKind, last.CauseRef)
		}
		if got, _ := cs.GetContact(ctx, d.Reader(), sys, done.ID); got.LifecycleStage != platform.StageCustomer {
			t.Fatalf("a customer was moved by scoring to %s", got.LifecycleStage)
		}
		var fit, eng float64
		var grade string
		if err := d.Reader().QueryRowContext(ctx, `SELECT fit_score, fit_grade, engagement_score FROM contact_scores WHERE contact_id = ?`, hot.ID).Scan(&fit, &grade, &eng); err != nil {
			t.Fatal(err)
		}
		if fit != 30 || grade != "B" || eng < 40 {
			t.Fatalf("stored scores: fit %v %s, engagement %v", fit, grade, eng)
		}
		// Both were scored in one batch, each from its own events: the
		// customer's single form submit is worth less than the lead's form
		// submit and pricing view.
		var doneEng float64
		if err := d.Reader().QueryRowContext(ctx, `SELECT engagement_score FROM contact_scores WHERE contact_id = ?`, done.ID).Scan(&doneEng); err != nil {
			t.Fatal(err)
		}
		if doneEng <= 0 || doneEng >= eng {
			t.Fatalf("the customer's engagement %v, the lead's %v: events went to the wrong contact", doneEng, eng)
		}
		// The explanation is not stored but computed for the contact shown:
		// its lines add up to the stored figures.
		got, _ = cs.GetContact(ctx, d.Reader(), sys, hot.ID)
		if len(got.Score.Lines) != 0 {
			t.Fatalf("a plain read carries lines %s", got.Score.Lines)
		}
		if err := sc.Explain(ctx, 1, &got); err != nil {
			t.Fatal(err)
		}
		var lines []lead.Line
		if err := json.Unmarshal(got.Score.Lines, &lines); err != nil || len(lines) == 0 {
			t.Fatalf("explanation %s, %v", got.Score.Lines, err)
		}
		sum := 0.0
		for _, l := range lines {
			sum += l.Points
		}
		if math.Abs(sum-(fit+eng)) > 0.05 {
			t.Errorf("explanation lines add up to %v, stored fit + engagement = %v (%s)", sum, fit+eng, got.Score.Lines)
		}
	})
}

func TestFeedback_AcceptMakesSQLRejectRecyclesOrDisqualifies(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		ls, p := setup(t, d)
		if err := ls.EnsureReasons(ctx, 1); err != nil {
			t.Fatal(err)
		}
		cs := crm.New(d, clock.NewFake(t0))
		mql := platform.StageMQL
		mk := func(email string) int64 {
			c, err := cs.CreateContact(ctx, platform.System(1), crm.ContactInput{Email: &email, LifecycleStage: &mql})
			if err != nil {
				t.Fatal(err)
			}
			return c.ID
		}
		a, b, c := mk("a@example.com"), mk("b@example.com"), mk("c@example.com")
		stage := func(id int64) platform.Stage {
			ct, _ := cs.GetContact(ctx, d.Reader(), platform.System(1), id)
			return ct.LifecycleStage
		}
		if _, err := ls.GiveFeedback(ctx, cs, p.rep, a, lead.FeedbackInput{Decision: "accept", Rating: 4}); err != nil || stage(a) != platform.StageSQL {
			t.Fatalf("accept: %v, stage %s", err, stage(a))
		}
		if _, err := ls.GiveFeedback(ctx, cs, p.rep, b, lead.FeedbackInput{Decision: "reject", Reason: "no_budget", Note: "来期に再検討"}); err != nil || stage(b) != platform.StageRecycled {
			t.Fatalf("reject (recycle): %v, stage %s", err, stage(b))
		}
		if _, err := ls.GiveFeedback(ctx, cs, p.rep, c, lead.FeedbackInput{Decision: "reject", Reason: "bad_data"}); err != nil || stage(c) != platform.StageDisqualified {
			t.Fatalf("reject (disqualify): %v, stage %s", err, stage(c))
		}
		h, _ := platform.LifecycleHistory(ctx, d.Reader(), 1, b)
		if last := h[len(h)-1]; last.CauseKind != "feedback" || last.CauseRef != "rejected: no_budget" {
			t.Fatalf("cause = %s %q", last.CauseKind, last.CauseRef)
		}
		for _, in := range []lead.FeedbackInput{{Decision: "maybe"}, {Decision: "reject"}, {Decision: "reject", Reason: "nope"}, {Decision: "accept", Rating: 9}} {
			if _, err := ls.GiveFeedback(ctx, cs, p.rep, mk(in.Decision+in.Reason+"@example.com"), in); err == nil {
				t.Errorf("%+v accepted", in)
			}
		}
	})
}

func TestScorer_AChangedRecordIsRescored(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		fc := clock.NewFake(t0)
		if err := platform.EnsureWorkspace(ctx, d, 1, "T", t0); err != nil {
			t.Fatal(err)
		}
		ls := lead.New(d, fc)
		if err := ls.EnsureDefault(ctx, 1); err != nil {
			t.Fatal(err)
		}
		cs := crm.New(d, fc)
		sc := &lead.Scorer{Lead: ls, CRM: cs}
		if _, err := sc.ScoreNewEvents(ctx, 1); err != nil { // first run sets the marks
			t.Fatal(err)
		}
		fc.Advance(time.Second)
		e := "kacho@example.jp"
		c, err := cs.CreateContact(ctx, platform.System(1), crm.ContactInput{Email: &e})
		if err != nil {
			t.Fatal(err)
		}
		fc.Advance(time.Second)
		title := "営業部長"
		if _, err := cs.UpdateContact(ctx, platform.System(1), c.ID, crm.ContactInput{Title: &title}, platform.Cause{}); err != nil {
			t.Fatal(err)
		}
		if n, err := sc.ScoreNewEvents(ctx, 1); err != nil || n != 1 {
			t.Fatalf("rescored %d, %v", n, err)
		}
		got, _ := cs.GetContact(ctx, d.Reader(), platform.System(1), c.ID)
		if got.Score.Fit != 30 || got.Score.ScoredAt == nil {
			t.Fatalf("score after the title change: %+v", got.Score)
		}
		if n, _ := sc.ScoreNewEvents(ctx, 1); n != 0 {
			t.Fatalf("rescored %d again with nothing new", n)
		}
		// The company grows past 100 employees: its contacts are rescored.
		co, err := cs.CreateCompany(ctx, platform.System(1), crm.CompanyInput{Name: new("成長株式会社")})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := cs.UpdateContact(ctx, platform.System(1), c.ID, crm.ContactInput{CompanyID: &co.ID}, platform.Cause{}); err != nil {
			t.Fatal(err)
		}
		sc.ScoreNewEvents(ctx, 1)
		fc.Advance(time.Second)
		if _, err := cs.UpdateCompany(ctx, platform.System(1), co.ID, crm.CompanyInput{Employees: new(int64(250))}); err != nil {
			t.Fatal(err)
		}
		if n, err := sc.ScoreNewEvents(ctx, 1); err != nil || n != 1 {
			t.Fatalf("after the company change rescored %d, %v", n, err)
		}
		got, _ = cs.GetContact(ctx, d.Reader(), platform.System(1), c.ID)
		if got.Score.Fit != 50 {
			t.Fatalf("fit after the company grew: %v", got.Score.Fit)
		}
	})
}

func TestRouting_NewMQLsGoToTheAccountOwnerOrByRuleRoundRobinWithinCapacity(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		fc := clock.NewFake(t0)
		ls, p := setup(t, d)
		ls.Clock = fc
		cs := crm.New(d, fc)
		sc := &lead.Scorer{Lead: ls, CRM: cs, Notify: &platform.Notifier{DB: d, Clock: fc, Jobs: platform.NewJobs(d, fc, nil)}}
		admin := platform.Actor{WorkspaceID: 1, Role: platform.RoleAdmin, Kind: platform.ActorCLI}
		osaka, err := platform.SaveTeam(ctx, d, platform.CLI(1), 0, platform.NewTeam{Name: "大阪営業", Function: "sales"}, t0)
		if err != nil {
			t.Fatal(err)
		}
		var reps []int64
		for _, e := range []string{"r1@example.com", "r2@example.com"} {
			u, err := platform.CreateUser(ctx, d, platform.CLI(1), platform.NewUser{Email: e, Name: e, Role: platform.RoleSales, TeamID: osaka.ID}, t0)
			if err != nil {
				t.Fatal(err)
			}
			reps = append(reps, u.ID)
		}
		if _, err := ls.SaveRoutingRule(ctx, admin, lead.RoutingRule{Name: "関西", Condition: `prefecture == "大阪府"`, TeamID: osaka.ID}); err != nil {
			t.Fatal(err)
		}
		if err := ls.SetTeamRouting(ctx, admin, lead.TeamRouting{TeamID: osaka.ID, Method: "round_robin", Capacity: 1}); err != nil {
			t.Fatal(err)
		}
		if _, err := ls.SaveRoutingRule(ctx, admin, lead.RoutingRule{Name: "bad", Condition: "prefecture ==", TeamID: osaka.ID}); !errs.Is(err, errs.Unprocessable) {
			t.Fatalf("bad condition: %v", err)
		}
		s := func(v string) *string { return &v }
		co, err := cs.CreateCompany(ctx, platform.System(1), crm.CompanyInput{Name: s("大阪データ株式会社"), Address: &crm.Address{Prefecture: "大阪府"}})
		if err != nil {
			t.Fatal(err)
		}
		owned, err := cs.CreateCompany(ctx, platform.System(1), crm.CompanyInput{Name: s("担当つき株式会社"), OwnerID: &p.rep.UserID})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := sc.ScoreNewEvents(ctx, 1); err != nil { // initialise the marks
			t.Fatal(err)
		}
		var ids []int64
		for i, company := range []int64{co.ID, co.ID, co.ID, owned.ID} {
			email := fmt.Sprintf("l%d@example.jp", i)
			c, err := cs.CreateContact(ctx, platform.System(1), crm.ContactInput{Email: &email, CompanyID: &company, OwnerID: new(int64)})
			if err != nil {
				t.Fatal(err)
			}
			ids = append(ids, c.ID)
			if _, err := platform.IngestEvents(ctx, d, platform.System(1), []platform.EventInput{{ID: email, Kind: "form_submit", ContactID: c.ID}}, fc.Now()); err != nil {
				t.Fatal(err)
			}
		}
		if err := sc.Drain(ctx, 1); err != nil {
			t.Fatal(err)
		}
		owner := func(id int64) int64 {
			c, _ := cs.GetContact(ctx, d.Reader(), platform.System(1), id)
			return c.OwnerID
		}
		if owner(ids[0]) != reps[0] || owner(ids[1]) != reps[1] {
			t.Fatalf("round-robin: %d, %d; reps %v", owner(ids[0]), owner(ids[1]), reps)
		}
		if owner(ids[2]) != 0 {
			t.Fatalf("both reps at capacity 1, yet the third lead went to %d", owner(ids[2]))
		}
		if owner(ids[3]) != p.rep.UserID {
			t.Fatalf("account owner rule: %d, want %d", owner(ids[3]), p.rep.UserID)
		}
		ns, err := platform.ListNotifications(ctx, d.Reader(), 1, reps[0], false, 0, 10)
		if err != nil || len(ns) != 1 || !strings.Contains(ns[0].Title, "新しいリードが割り当てられました") || ns[0].Link != fmt.Sprintf("/contacts/%d", ids[0]) {
			t.Fatalf("owner's notification: %+v, %v", ns, err)
		}
		tl, _ := platform.ListTimeline(ctx, d.Reader(), 1, platform.TimelineQuery{Subject: "contact", ID: ids[0], Kinds: []string{"lead.assigned"}})
		if len(tl) != 1 || !strings.Contains(string(tl[0].Data), "rule: 関西") {
			t.Fatalf("assignment on the timeline: %+v", tl)
		}
	})
}
