package lead_test

import (
	"context"
	"fmt"
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

// slaWorld is a sales team (a manager and two reps) that gets every MQL, on
// the standard calendar; t0 is Wednesday 1 April 2026, 09:00 in Tokyo.
type slaWorld struct {
	d        *db.DB
	fc       *clock.Fake
	ls       *lead.Service
	cs       *crm.Service
	sc       *lead.Scorer
	mgr      int64
	reps     [2]int64
	team     int64
	contacts map[string]int64
}

func newSLAWorld(t *testing.T, d *db.DB) *slaWorld {
	t.Helper()
	ctx := context.Background()
	w := &slaWorld{d: d, fc: clock.NewFake(t0), contacts: map[string]int64{}}
	ls, _ := setup(t, d)
	ls.Clock = w.fc
	w.ls, w.cs = ls, crm.New(d, w.fc)
	w.cs.ActivityHooks = append(w.cs.ActivityHooks, ls.TouchFromActivity)
	w.sc = &lead.Scorer{Lead: ls, CRM: w.cs, Notify: &platform.Notifier{DB: d, Clock: w.fc, Jobs: platform.NewJobs(d, w.fc, nil)}}
	cli := platform.CLI(1)
	tm, err := platform.SaveTeam(ctx, d, cli, 0, platform.NewTeam{Name: "インサイドセールス", Function: "sales"}, t0)
	if err != nil {
		t.Fatal(err)
	}
	w.team = tm.ID
	mgr, err := platform.CreateUser(ctx, d, cli, platform.NewUser{Email: "boss@example.com", Name: "課長", Role: platform.RoleManager}, t0)
	if err != nil {
		t.Fatal(err)
	}
	w.mgr = mgr.ID
	if _, err := platform.SaveTeam(ctx, d, cli, tm.ID, platform.NewTeam{Name: "インサイドセールス", Function: "sales", ManagerID: mgr.ID}, t0); err != nil {
		t.Fatal(err)
	}
	for i, e := range []string{"is1@example.com", "is2@example.com"} {
		u, err := platform.CreateUser(ctx, d, cli, platform.NewUser{Email: e, Name: e, Role: platform.RoleSales, TeamID: tm.ID}, t0)
		if err != nil {
			t.Fatal(err)
		}
		w.reps[i] = u.ID
	}
	admin := platform.Actor{WorkspaceID: 1, Role: platform.RoleAdmin, Kind: platform.ActorCLI}
	if _, err := ls.SaveRoutingRule(ctx, admin, lead.RoutingRule{Name: "全件", Condition: "true", TeamID: tm.ID}); err != nil {
		t.Fatal(err)
	}
	if err := ls.EnsureSLAPolicies(ctx, 1); err != nil {
		t.Fatal(err)
	}
	// Hot = a 部長; everyone else is normal.
	hot := lead.DefaultSLAPolicies[0]
	hot.Condition = `title == "部長"`
	if _, err := ls.SaveSLAPolicy(ctx, admin, hot); err != nil {
		t.Fatal(err)
	}
	if _, err := w.sc.ScoreNewEvents(ctx, 1); err != nil {
		t.Fatal(err)
	}
	return w
}

// mql creates a contact and makes it an MQL (a form submit does it under
// the default definition), routed to the team.
func (w *slaWorld) mql(t *testing.T, email, title string) int64 {
	t.Helper()
	ctx := context.Background()
	c, err := w.cs.CreateContact(ctx, platform.System(1), crm.ContactInput{Email: &email, Title: &title})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := platform.IngestEvents(ctx, w.d, platform.System(1), []platform.EventInput{{ID: email, Kind: "form_submit", ContactID: c.ID}}, w.fc.Now()); err != nil {
		t.Fatal(err)
	}
	if err := w.sc.Drain(ctx, 1); err != nil {
		t.Fatal(err)
	}
	w.contacts[email] = c.ID
	return c.ID
}

func (w *slaWorld) sla(t *testing.T, contactID int64) lead.SLA {
	t.Helper()
	xs, err := w.ls.ContactSLAs(context.Background(), w.d.Reader(), 1, contactID)
	if err != nil || len(xs) == 0 {
		t.Fatalf("SLAs of %d: %v, %v", contactID, xs, err)
	}
	return xs[0]
}

func (w *slaWorld) notes(t *testing.T, user int64) []platform.StoredNotification {
	t.Helper()
	ns, err := platform.ListNotifications(context.Background(), w.d.Reader(), 1, user, false, 0, 50)
	if err != nil {
		t.Fatal(err)
	}
	return ns
}

func (w *slaWorld) timers(t *testing.T) int {
	t.Helper()
	n, err := w.sc.RunSLATimers(context.Background(), 1)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestSLA_DeadlinesCountBusinessTimeByPriority(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		w := newSLAWorld(t, d)
		tokyo, _ := time.LoadLocation("Asia/Tokyo")
		hot := w.sla(t, w.mql(t, "hot@example.jp", "部長"))
		if hot.Policy != "hot" || hot.State != lead.SLAOpen {
			t.Fatalf("hot lead's timer: %+v", hot)
		}
		// Hot: one business hour, reminder 15 minutes before.
		if got := hot.DueAt.In(tokyo).Format("01-02 15:04"); got != "04-01 10:00" {
			t.Fatalf("hot due %s, want 04-01 10:00", got)
		}
		if got := hot.RemindAt.In(tokyo).Format("15:04"); got != "09:45" {
			t.Fatalf("hot reminder %s", got)
		}
		// Normal, handed over at 17:00: 540 business minutes run into the
		// next working day.
		w.fc.Set(time.Date(2026, 4, 1, 17, 0, 0, 0, tokyo))
		norm := w.sla(t, w.mql(t, "norm@example.jp", "担当"))
		if got := norm.DueAt.In(tokyo).Format("01-02 15:04"); norm.Policy != "normal" || got != "04-02 17:00" {
			t.Fatalf("normal due %s (%s)", got, norm.Policy)
		}
		// Friday 1 May 17:00, before the Golden Week holidays (3–6 May) and
		// a weekend: the deadline lands on Thursday 7 May.
		w.fc.Set(time.Date(2026, 5, 1, 17, 0, 0, 0, tokyo))
		gw := w.sla(t, w.mql(t, "gw@example.jp", "担当"))
		if got := gw.DueAt.In(tokyo).Format("01-02 15:04"); got != "05-07 17:00" {
			t.Fatalf("deadline over Golden Week %s", got)
		}
	})
}

func TestSLA_RemindBreachEscalateThenReassignOnce(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		w := newSLAWorld(t, d)
		ctx := context.Background()
		id := w.mql(t, "hot@example.jp", "部長")
		first := w.sla(t, id).OwnerID
		other := w.reps[0]
		if other == first {
			other = w.reps[1]
		}
		w.fc.Advance(50 * time.Minute) // 09:50: inside the reminder window
		if n := w.timers(t); n != 1 {
			t.Fatalf("timers moved %d, want the reminder", n)
		}
		w.timers(t) // a second run repeats nothing
		if ns := w.notes(t, first); len(ns) != 2 || !strings.Contains(ns[0].Title, "期限") {
			t.Fatalf("owner's notifications after the reminder: %+v", ns)
		}
		w.fc.Advance(15 * time.Minute) // 10:05: breached
		w.timers(t)
		w.timers(t)
		x := w.sla(t, id)
		if x.State != lead.SLABreached || x.BreachedAt == nil {
			t.Fatalf("after the deadline: %+v", x)
		}
		if ns := w.notes(t, w.mgr); len(ns) != 1 || ns[0].Kind != "lead.sla_escalated" {
			t.Fatalf("manager's escalation: %+v", ns)
		}
		tl, _ := platform.ListTimeline(ctx, d.Reader(), 1, platform.TimelineQuery{Subject: "contact", ID: id, Kinds: []string{"lead.sla_breached"}})
		if len(tl) != 1 {
			t.Fatalf("breach on the timeline: %+v", tl)
		}
		// The second limit (540 more business minutes) passes on Thursday:
		// the lead goes to the other rep with a fresh clock.
		w.fc.Advance(24 * time.Hour)
		w.timers(t)
		w.timers(t)
		xs, _ := w.ls.ContactSLAs(ctx, d.Reader(), 1, id)
		if len(xs) != 2 || xs[1].State != lead.SLAReassigned || xs[0].State != lead.SLAOpen || xs[0].OwnerID != other {
			t.Fatalf("after the second limit: %+v", xs)
		}
		c, _ := w.cs.GetContact(ctx, d.Reader(), platform.System(1), id)
		if c.OwnerID != other || c.LifecycleStage != platform.StageMQL {
			t.Fatalf("contact after reassignment: owner %d stage %s", c.OwnerID, c.LifecycleStage)
		}
		// The new owner's touch meets the new timer.
		if _, err := w.cs.LogActivity(ctx, platform.Actor{WorkspaceID: 1, UserID: other, Role: platform.RoleSales, Kind: platform.ActorUser},
			crm.ActivityInput{Kind: new("call"), ContactID: &id, CallOutcome: new("connected")}); err != nil {
			t.Fatal(err)
		}
		if x := w.sla(t, id); x.State != lead.SLAMet || x.TouchKind != "call" || x.ResponseSeconds == nil || *x.ResponseSeconds != 0 {
			t.Fatalf("new owner's timer after a call: %+v", x)
		}
	})
}

func TestSLA_TouchesMeetOrAreLateAndUntouchedNormalLeadsAreRecycled(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		w := newSLAWorld(t, d)
		ctx := context.Background()
		called := w.mql(t, "called@example.jp", "担当")
		accepted := w.mql(t, "accepted@example.jp", "部長")
		left := w.mql(t, "left@example.jp", "担当")
		rep := platform.Actor{WorkspaceID: 1, UserID: w.sla(t, called).OwnerID, Role: platform.RoleSales, Kind: platform.ActorUser}
		w.fc.Advance(30 * time.Minute)
		// A planned meeting next week is not a touch; a task never is.
		next := w.fc.Now().Add(7 * 24 * time.Hour)
		for _, in := range []crm.ActivityInput{{Kind: new("meeting"), ContactID: &called, OccurredAt: &next}, {Kind: new("task"), ContactID: &called, Subject: new("電話する")}} {
			if _, err := w.cs.LogActivity(ctx, rep, in); err != nil {
				t.Fatal(err)
			}
		}
		if x := w.sla(t, called); x.State != lead.SLAOpen {
			t.Fatalf("planned meeting or task counted as a touch: %+v", x)
		}
		if _, err := w.cs.LogActivity(ctx, rep, crm.ActivityInput{Kind: new("email"), ContactID: &called, Subject: new("資料送付")}); err != nil {
			t.Fatal(err)
		}
		if x := w.sla(t, called); x.State != lead.SLAMet || *x.ResponseSeconds != 30*60 {
			t.Fatalf("emailed after 30 minutes: %+v", x)
		}
		// The hot lead is accepted after its deadline: late, not met.
		w.fc.Advance(2 * time.Hour)
		w.timers(t)
		acc := platform.Actor{WorkspaceID: 1, UserID: w.sla(t, accepted).OwnerID, Role: platform.RoleSales, Kind: platform.ActorUser}
		if _, err := w.ls.GiveFeedback(ctx, w.cs, acc, accepted, lead.FeedbackInput{Decision: "accept", Rating: 4}); err != nil {
			t.Fatal(err)
		}
		if x := w.sla(t, accepted); x.State != lead.SLALate || x.BreachedAt == nil || x.TouchKind != "accept" || *x.ResponseSeconds != 150*60 {
			t.Fatalf("accepted after the deadline: %+v", x)
		}
		// Nobody touches the last one: breached after a business day, back
		// to nurture three business days later, with the SLA as the cause.
		w.fc.Advance(10 * 24 * time.Hour)
		w.timers(t)
		if x := w.sla(t, left); x.State != lead.SLARecycled {
			t.Fatalf("untouched normal lead: %+v", x)
		}
		c, _ := w.cs.GetContact(ctx, d.Reader(), platform.System(1), left)
		if c.LifecycleStage != platform.StageRecycled {
			t.Fatalf("untouched lead's stage %s", c.LifecycleStage)
		}
		hist, _ := platform.LifecycleHistory(ctx, d.Reader(), 1, left)
		if last := hist[len(hist)-1]; last.CauseKind != "sla" {
			t.Fatalf("recycling cause: %+v", last)
		}

		// The report: three hand-offs, one met, one late, one untouched.
		rows, err := w.ls.SLAReport(ctx, d.Reader(), 1, t0.Add(-time.Hour), w.fc.Now(), "policy")
		if err != nil {
			t.Fatal(err)
		}
		total := rows[len(rows)-1]
		if total.Handed != 3 || total.Met != 1 || total.Touched != 2 || total.Breached != 2 || total.Untouched != 1 ||
			*total.P50Seconds != 30*60 || *total.P90Seconds != 150*60 {
			t.Fatalf("report total: %+v", total)
		}
		byKey := map[string]lead.SLARow{}
		for _, r := range rows {
			byKey[r.Key] = r
		}
		if byKey["hot"].Handed != 1 || byKey["normal"].Handed != 2 {
			t.Fatalf("report by policy: %+v", rows)
		}
		if _, err := w.ls.SLAReport(ctx, d.Reader(), 1, t0, w.fc.Now(), "mood"); !errs.Is(err, errs.Invalid) {
			t.Fatalf("unknown grouping: %v", err)
		}
	})
}

func TestSLA_QueueIsSortedByDeadlineAndSkipsTouchedLeads(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		w := newSLAWorld(t, d)
		ctx := context.Background()
		var ids []int64
		for i, title := range []string{"担当", "部長", "担当"} {
			ids = append(ids, w.mql(t, fmt.Sprintf("q%d@example.jp", i), title))
			w.fc.Advance(time.Minute)
		}
		q, err := w.ls.Queue(ctx, d.Reader(), 1, lead.QueueQuery{TeamID: w.team})
		if err != nil || len(q) != 3 {
			t.Fatalf("team queue: %+v, %v", q, err)
		}
		if q[0].ContactID != ids[1] || q[0].Policy != "hot" || q[0].Email != "q1@example.jp" {
			t.Fatalf("the hot lead should lead the queue: %+v", q[0])
		}
		mine, _ := w.ls.Queue(ctx, d.Reader(), 1, lead.QueueQuery{OwnerID: q[0].OwnerID})
		for _, it := range mine {
			if it.OwnerID != q[0].OwnerID {
				t.Fatalf("a rep's queue holds another's lead: %+v", it)
			}
		}
		rep := platform.Actor{WorkspaceID: 1, UserID: q[0].OwnerID, Role: platform.RoleSales, Kind: platform.ActorUser}
		if _, err := w.cs.LogActivity(ctx, rep, crm.ActivityInput{Kind: new("call"), ContactID: &ids[1], CallOutcome: new("no_answer")}); err != nil {
			t.Fatal(err)
		}
		q, _ = w.ls.Queue(ctx, d.Reader(), 1, lead.QueueQuery{})
		if len(q) != 2 {
			t.Fatalf("touched lead still queued: %+v", q)
		}
		w.fc.Advance(48 * time.Hour)
		q, _ = w.ls.Queue(ctx, d.Reader(), 1, lead.QueueQuery{})
		if !q[0].Overdue {
			t.Fatalf("past the deadline, not overdue: %+v", q[0])
		}
	})
}

func TestSLA_PoliciesAndCalendarsRefuseBadInput(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ls, p := setup(t, d)
		ctx := context.Background()
		admin := platform.Actor{WorkspaceID: 1, Role: platform.RoleAdmin, Kind: platform.ActorCLI}
		good := lead.SLAPolicy{Key: "vip", LabelJA: "VIP", LabelEN: "VIP", Condition: "employees >= 1000", FirstTouchMinutes: 30}
		for _, c := range []struct {
			name  string
			edit  func(*lead.SLAPolicy)
			field string
		}{
			{"bad key", func(p *lead.SLAPolicy) { p.Key = "V I P" }, "key"},
			{"no minutes", func(p *lead.SLAPolicy) { p.FirstTouchMinutes = 0 }, "first_touch_minutes"},
			{"reminder after deadline", func(p *lead.SLAPolicy) { p.RemindBeforeMinutes = 30 }, "remind_before_minutes"},
			{"bad action", func(p *lead.SLAPolicy) { p.SecondAction = "delete" }, "second_action"},
			{"bad rule", func(p *lead.SLAPolicy) { p.Condition = "employees >=" }, "condition"},
		} {
			in := good
			c.edit(&in)
			_, err := ls.SaveSLAPolicy(ctx, admin, in)
			if e, ok := errs.As(err); !ok || e.Field != c.field {
				t.Errorf("%s: %v, want an error on %s", c.name, err, c.field)
			}
		}
		if _, err := ls.SaveSLAPolicy(ctx, p.rep, good); !errs.Is(err, errs.Forbidden) {
			t.Fatalf("a rep changed a policy: %v", err)
		}
		if _, err := ls.SaveSLAPolicy(ctx, admin, good); err != nil {
			t.Fatal(err)
		}
		if _, err := ls.SetTeamCalendar(ctx, admin, lead.TeamCalendar{TeamID: p.rep.TeamID, OpenMinute: 600, CloseMinute: 540, Weekdays: "12345"}); err == nil {
			t.Fatal("a calendar that closes before it opens was accepted")
		}
		if _, err := ls.SetTeamCalendar(ctx, admin, lead.TeamCalendar{TeamID: p.rep.TeamID, OpenMinute: 600, CloseMinute: 1140, Weekdays: "123456", Holidays: true}); err != nil {
			t.Fatal(err)
		}
		tc, err := ls.TeamCalendarOf(ctx, d.Reader(), 1, p.rep.TeamID)
		if err != nil || tc.OpenMinute != 600 || tc.Weekdays != "123456" {
			t.Fatalf("stored calendar: %+v, %v", tc, err)
		}
	})
}

func TestSLA_BackfillRecordsHistoryWithoutFiringThePast(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		w := newSLAWorld(t, d)
		ctx := context.Background()
		sys := platform.System(1)
		rep := platform.Actor{WorkspaceID: 1, UserID: w.reps[0], Role: platform.RoleSales, Kind: platform.ActorUser}
		mql, sqlStage := platform.StageMQL, platform.StageSQL
		mk := func(email string) int64 {
			c, err := w.cs.CreateContact(ctx, sys, crm.ContactInput{Email: new(email), OwnerID: &rep.UserID})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := w.cs.UpdateContact(ctx, sys, c.ID, crm.ContactInput{LifecycleStage: &mql}, platform.Cause{Kind: "api"}); err != nil {
				t.Fatal(err)
			}
			return c.ID
		}
		called, accepted, ignored := mk("called@example.jp"), mk("accepted@example.jp"), mk("ignored@example.jp")
		w.fc.Advance(2 * time.Hour)
		if _, err := w.cs.LogActivity(ctx, rep, crm.ActivityInput{Kind: new("call"), ContactID: &called, CallOutcome: new("connected")}); err != nil {
			t.Fatal(err)
		}
		w.fc.Advance(10 * 24 * time.Hour)
		if _, err := w.cs.UpdateContact(ctx, rep, accepted, crm.ContactInput{LifecycleStage: &sqlStage}, platform.Cause{Kind: "user"}); err != nil {
			t.Fatal(err)
		}
		n, err := w.ls.BackfillSLAs(ctx, 1, lead.BackfillOptions{})
		if err != nil || n != 3 {
			t.Fatalf("backfill wrote %d, %v", n, err)
		}
		if n, _ := w.ls.BackfillSLAs(ctx, 1, lead.BackfillOptions{}); n != 0 {
			t.Fatalf("a second backfill wrote %d more", n)
		}
		if x := w.sla(t, called); x.State != lead.SLAMet || x.TouchKind != "call" || *x.ResponseSeconds != 2*3600 {
			t.Fatalf("called lead: %+v", x)
		}
		if x := w.sla(t, accepted); x.State != lead.SLALate || x.TouchKind != "accept" || x.BreachedAt == nil {
			t.Fatalf("accepted lead: %+v", x)
		}
		x := w.sla(t, ignored)
		if x.State != lead.SLABreached || x.SecondAt != nil || x.RemindedAt == nil {
			t.Fatalf("ignored lead: %+v", x)
		}
		// Nothing from the past fires: no notification, no recycling.
		if moved := w.timers(t); moved != 0 {
			t.Fatalf("timers fired %d for the past", moved)
		}
		if c, _ := w.cs.GetContact(ctx, d.Reader(), sys, ignored); c.LifecycleStage != platform.StageMQL {
			t.Fatalf("ignored lead was moved to %s", c.LifecycleStage)
		}
	})
}

func TestSLA_BackfillWithFirePastAppliesPassedSecondLimits(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		w := newSLAWorld(t, d)
		ctx := context.Background()
		sys := platform.System(1)
		mql := platform.StageMQL
		c, err := w.cs.CreateContact(ctx, sys, crm.ContactInput{Email: new("old@example.jp"), OwnerID: &w.reps[0]})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.cs.UpdateContact(ctx, sys, c.ID, crm.ContactInput{LifecycleStage: &mql}, platform.Cause{Kind: "api"}); err != nil {
			t.Fatal(err)
		}
		w.fc.Advance(30 * 24 * time.Hour)
		if _, err := w.ls.BackfillSLAs(ctx, 1, lead.BackfillOptions{FirePast: true}); err != nil {
			t.Fatal(err)
		}
		if n := w.timers(t); n != 1 {
			t.Fatalf("timers moved %d, want the passed second limit", n)
		}
		if got, _ := w.cs.GetContact(ctx, d.Reader(), sys, c.ID); got.LifecycleStage != platform.StageRecycled {
			t.Fatalf("stage %s, want recycled", got.LifecycleStage)
		}
		if ns := w.notes(t, w.reps[0]); len(ns) != 0 {
			t.Fatalf("past reminders or breaches notified: %+v", ns)
		}
	})
}
