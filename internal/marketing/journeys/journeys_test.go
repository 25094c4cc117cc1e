package journeys_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ryorin/ryorin/internal/clock"
	"github.com/ryorin/ryorin/internal/crm"
	"github.com/ryorin/ryorin/internal/db"
	"github.com/ryorin/ryorin/internal/dbtest"
	"github.com/ryorin/ryorin/internal/errs"
	"github.com/ryorin/ryorin/internal/lead"
	"github.com/ryorin/ryorin/internal/marketing/email"
	"github.com/ryorin/ryorin/internal/marketing/journeys"
	"github.com/ryorin/ryorin/internal/marketing/segments"
	"github.com/ryorin/ryorin/internal/platform"
	"github.com/ryorin/ryorin/internal/smtptest"
)

func TestMain(m *testing.M) { os.Exit(dbtest.Main(m)) }

// t0 is Wednesday 1 April 2026, 10:00 in Tokyo.
var t0 = time.Date(2026, 4, 1, 1, 0, 0, 0, time.UTC)

type fixture struct {
	d        *db.DB
	clock    *clock.Fake
	crm      *crm.Service
	seg      *segments.Service
	email    *email.Service
	scorer   *lead.Scorer
	notifier *platform.Notifier
	jobs     *platform.Jobs
	srv      *smtptest.Server
	j        *journeys.Service
	mkt      platform.Actor
	rep      platform.Actor
	list     segments.List
	template email.Campaign
}

func ptr[T any](v T) *T { return &v }

func setup(t *testing.T, d *db.DB) *fixture {
	t.Helper()
	ctx := context.Background()
	if err := platform.EnsureWorkspace(ctx, d, 1, "Test", t0); err != nil {
		t.Fatal(err)
	}
	cli := platform.CLI(1)
	mk, err := platform.CreateUser(ctx, d, cli, platform.NewUser{Email: "mkt@example.com", Name: "Marketer", Role: platform.RoleMarketing}, t0)
	if err != nil {
		t.Fatal(err)
	}
	rp, err := platform.CreateUser(ctx, d, cli, platform.NewUser{Email: "rep@example.com", Name: "Rep", Role: platform.RoleSales}, t0)
	if err != nil {
		t.Fatal(err)
	}
	fc := clock.NewFake(t0)
	cs := crm.New(d, fc)
	jobs := platform.NewJobs(d, fc, nil)
	m := &platform.Mailer{DB: d, Clock: fc, Jobs: jobs, Timeout: 5 * time.Second}
	m.Register()
	es := email.New(d, fc, cs, m, jobs, nil)
	es.Register()
	srv := smtptest.Start(t)
	if _, err := platform.SetSMTP(ctx, d, cli, platform.SMTPSettings{Host: srv.Host(), Port: srv.Port(), TLS: "none",
		FromAddress: "news@ryorin.example", FromName: "両輪マーケティング"}, t0); err != nil {
		t.Fatal(err)
	}
	ls := lead.New(d, fc)
	if err := ls.EnsureDefault(ctx, 1); err != nil {
		t.Fatal(err)
	}
	n := &platform.Notifier{DB: d, Clock: fc, Jobs: jobs}
	sc := &lead.Scorer{Lead: ls, CRM: cs, Notify: n}
	seg := segments.New(d, fc, cs)
	f := &fixture{d: d, clock: fc, crm: cs, seg: seg, email: es, scorer: sc, notifier: n, jobs: jobs, srv: srv,
		mkt: mk.Actor(1, platform.ActorUser), rep: rp.Actor(1, platform.ActorUser)}
	f.j = f.worker()
	if f.list, err = seg.CreateList(ctx, f.mkt, segments.ListInput{Name: "ナーチャリング済み"}); err != nil {
		t.Fatal(err)
	}
	// A template is any campaign people made; this one is never sent itself.
	if f.template, err = es.Create(ctx, f.mkt, email.CampaignInput{Name: "事例のご案内", AudienceKind: email.AudienceList, AudienceID: f.list.ID,
		Template: email.Template{Subject: "{{.Salutation}}へ 事例のご案内",
			HTML: `<html><body><p>{{.Salutation}}</p><p><a href="https://example.co.jp/case">事例を読む</a></p></body></html>`,
			Text: "{{.Salutation}}\n事例: https://example.co.jp/case\n"}}); err != nil {
		t.Fatal(err)
	}
	return f
}

// worker builds a new journeys service on the same database, as a restarted
// process would.
func (f *fixture) worker() *journeys.Service {
	s := journeys.New(f.d, f.clock, f.crm, f.email, f.seg, f.scorer, f.notifier, f.jobs, nil)
	s.Batch = 2
	s.Lag = 0
	return s
}

func (f *fixture) contact(t *testing.T, family, addr, dept string, owner int64) int64 {
	t.Helper()
	in := crm.ContactInput{FamilyName: ptr(family), Email: ptr(addr), Department: ptr(dept), ConsentEmail: ptr("granted"), ConsentSource: ptr("test")}
	if owner != 0 {
		in.OwnerID = &owner
	}
	c, err := f.crm.CreateContact(context.Background(), f.mkt, in)
	if err != nil {
		t.Fatal(err)
	}
	return c.ID
}

func (f *fixture) journey(t *testing.T, name, def string, activate bool) journeys.Journey {
	t.Helper()
	ctx := context.Background()
	j, err := f.j.Create(ctx, f.mkt, journeys.Input{Name: name, Definition: json.RawMessage(def)})
	if err != nil {
		t.Fatalf("create %s: %v", name, err)
	}
	if activate {
		if j, err = f.j.Activate(ctx, f.mkt, j.ID, "https://ryorin.example"); err != nil {
			t.Fatalf("activate %s: %v", name, err)
		}
	}
	return j
}

// tick runs the journeys job and every job it caused (mail delivery) the way
// the runner does at the clock's time.
func (f *fixture) tick(t *testing.T, s *journeys.Service) {
	t.Helper()
	if _, _, err := s.Tick(context.Background(), 1); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 20; i++ {
		n, err := f.jobs.RunOnce(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			return
		}
	}
}

func (f *fixture) count(t *testing.T, q string, args ...any) int {
	t.Helper()
	var n int
	if err := f.d.Reader().QueryRowContext(context.Background(), db.Rebind(f.d.Dialect, q), args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return n
}

func (f *fixture) enrolments(t *testing.T, j journeys.Journey) map[int64]journeys.Enrolment {
	t.Helper()
	es, err := f.j.Enrolments(context.Background(), f.mkt, j.ID, journeys.EnrolmentQuery{Limit: 200})
	if err != nil {
		t.Fatal(err)
	}
	out := map[int64]journeys.Enrolment{}
	for _, e := range es {
		out[e.ContactID] = e
	}
	return out
}

func (f *fixture) mailsTo(addr string) int {
	n := 0
	for _, m := range f.srv.Messages() {
		if m.To[0] == addr {
			n++
		}
	}
	return n
}

func ingest(t *testing.T, f *fixture, id, kind string, contact int64, props map[string]any) {
	t.Helper()
	res, err := platform.IngestEvents(context.Background(), f.d, platform.System(1), []platform.EventInput{{ID: id, Kind: kind, ContactID: contact, Properties: props}}, f.clock.Now())
	if err != nil || len(res.Errors) > 0 {
		t.Fatalf("ingest: %+v %v", res, err)
	}
}

func TestTriggers_EnrolFromEventsFormsAndLifecycleOnlyWhileActive(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := setup(t, d)
		ctx := context.Background()
		f.tick(t, f.j) // the follower's first run sets its marks
		a := f.contact(t, "青木", "aoki@example.jp", "", 0)
		b := f.contact(t, "馬場", "baba@example.jp", "", 0)
		wait := `"steps":[{"id":"w","type":"wait","wait":{"duration":"3d"}}]`
		webinar := f.journey(t, "ウェビナー参加者", `{"trigger":{"kind":"event","event":"webinar_attended"},`+wait+`}`, false)
		form := f.journey(t, "資料請求", `{"trigger":{"kind":"form_submitted","form_id":0},`+wait+`}`, true)
		recycled := f.journey(t, "再育成", `{"trigger":{"kind":"recycled"},`+wait+`}`, true)

		ingest(t, f, "w1", "webinar_attended", a, nil) // the journey is a draft: nobody enters
		f.tick(t, f.j)
		if _, err := f.j.Activate(ctx, f.mkt, webinar.ID, ""); err != nil {
			t.Fatal(err)
		}
		f.clock.Advance(time.Minute)
		ingest(t, f, "w2", "webinar_attended", a, nil)
		ingest(t, f, "w3", "webinar_attended", a, nil) // twice: still one enrolment
		ingest(t, f, "f1", platform.EventFormSubmit, b, map[string]any{"form_id": 7})
		stage := platform.StageRecycled
		if _, err := f.crm.UpdateContact(ctx, f.mkt, b, crm.ContactInput{LifecycleStage: &stage}, platform.Cause{Kind: "feedback", Ref: "rejected: bad_timing"}); err != nil {
			t.Fatal(err)
		}
		f.tick(t, f.j)
		for _, c := range []struct {
			j    journeys.Journey
			want []int64
		}{{webinar, []int64{a}}, {form, []int64{b}}, {recycled, []int64{b}}} {
			got := f.enrolments(t, c.j)
			if len(got) != len(c.want) {
				t.Errorf("%s: enrolments %+v, want contacts %v", c.j.Name, got, c.want)
			}
			for _, id := range c.want {
				if e, ok := got[id]; !ok || e.Status != journeys.EnrolActive || e.Step != "w" || e.NextRunAt == nil || !e.NextRunAt.Equal(f.clock.Now().Add(72*time.Hour)) {
					t.Errorf("%s: contact %d enrolment %+v", c.j.Name, id, e)
				}
			}
		}
		// The follower reads a trigger only once it is older than Lag.
		lagged := f.worker()
		lagged.Lag = 5 * time.Second
		late := f.contact(t, "千葉", "chiba@example.jp", "", 0)
		ingest(t, f, "w5", "webinar_attended", late, nil)
		f.tick(t, lagged)
		if _, ok := f.enrolments(t, webinar)[late]; ok {
			t.Errorf("a trigger younger than the lag was read")
		}
		f.clock.Advance(6 * time.Second)
		f.tick(t, lagged)
		if _, ok := f.enrolments(t, webinar)[late]; !ok {
			t.Errorf("a trigger older than the lag was not read")
		}
		// A paused journey enrols nobody and moves nobody.
		if _, err := f.j.Pause(ctx, f.mkt, webinar.ID); err != nil {
			t.Fatal(err)
		}
		ingest(t, f, "w4", "webinar_attended", b, nil)
		f.clock.Advance(4 * 24 * time.Hour)
		f.tick(t, f.j)
		got := f.enrolments(t, webinar)
		if len(got) != 2 || got[a].Status != journeys.EnrolActive {
			t.Errorf("paused journey: %+v", got)
		}
		if got := f.enrolments(t, form); got[b].Status != journeys.EnrolCompleted {
			t.Errorf("an active journey's wait ended: %+v", got[b])
		}
		if n := f.count(t, `SELECT COUNT(*) FROM timeline WHERE contact_id = ? AND kind IN ('journey.enrolled', 'journey.step', 'journey.ended')`, b); n != 6 {
			t.Errorf("timeline entries for b = %d, want enrolled, step, ended in two journeys", n)
		}
	})
}

func TestEmailStep_AfterAWaitIsDeliveredExactlyOnce(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := setup(t, d)
		ctx := context.Background()
		a := f.contact(t, "青木", "aoki@example.jp", "", 0)
		j := f.journey(t, "歓迎", fmt.Sprintf(`{"trigger":{"kind":"event","event":"signed_up"},"steps":[
			{"id":"wait","type":"wait","wait":{"duration":"2d"}},
			{"id":"mail","type":"email","email":{"template_id":%d}}]}`, f.template.ID), true)
		if ok, err := f.j.Enrol(ctx, f.mkt, j.ID, a); err != nil || !ok {
			t.Fatalf("enrol: %v %v", ok, err)
		}
		f.tick(t, f.j)
		f.clock.Advance(47 * time.Hour)
		f.tick(t, f.j)
		if n := len(f.srv.Messages()); n != 0 {
			t.Fatalf("%d messages before the wait ended", n)
		}
		f.clock.Advance(time.Hour)
		f.tick(t, f.j)
		f.clock.Advance(time.Hour)
		f.tick(t, f.j)
		f.tick(t, f.worker())
		if n := f.mailsTo("aoki@example.jp"); n != 1 || len(f.srv.Messages()) != 1 {
			t.Fatalf("messages to aoki = %d (all %d), want exactly 1", n, len(f.srv.Messages()))
		}
		if !strings.Contains(string(f.srv.Messages()[0].Data), "/e/u/") {
			t.Errorf("the journey's mail has no unsubscribe link")
		}
		if e := f.enrolments(t, j)[a]; e.Status != journeys.EnrolCompleted || e.Step != "mail" {
			t.Errorf("enrolment = %+v", e)
		}
		st, err := f.j.Stats(ctx, f.mkt, j.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got := fmt.Sprint(st.Steps); got != "[{wait 0 1 0} {mail 0 1 1}]" {
			t.Errorf("stats = %s", got)
		}
		// The journey's mail is not listed among the campaigns people send.
		cs, _ := f.email.List(ctx, f.mkt)
		if len(cs) != 1 || cs[0].ID != f.template.ID {
			t.Errorf("campaign list = %+v", cs)
		}
		// Re-entry never sends the same journey email twice: the send log
		// holds the contact.
		if _, err := f.j.Pause(ctx, f.mkt, j.ID); err != nil {
			t.Fatal(err)
		}
		in := journeys.Input{Name: j.Name, AllowReentry: true, Definition: mustJSON(j.Definition)}
		if _, err := f.j.Update(ctx, f.mkt, j.ID, in); err != nil {
			t.Fatal(err)
		}
		if _, err := f.j.Activate(ctx, f.mkt, j.ID, ""); err != nil {
			t.Fatal(err)
		}
		if ok, err := f.j.Enrol(ctx, f.mkt, j.ID, a); err != nil || !ok {
			t.Fatalf("re-enrol: %v %v", ok, err)
		}
		f.clock.Advance(3 * 24 * time.Hour)
		f.tick(t, f.j)
		if n := f.mailsTo("aoki@example.jp"); n != 1 {
			t.Errorf("after re-entry aoki received %d messages", n)
		}
		if n := f.count(t, `SELECT COUNT(*) FROM journey_step_runs WHERE step_id = 'mail' AND outcome = ?`, email.OutcomeAlreadySent); n != 1 {
			t.Errorf("re-entry's mail step outcome already_sent: %d", n)
		}
	})
}

func mustJSON(v any) json.RawMessage {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

var openRe = regexp.MustCompile(`/e/o/([A-Za-z0-9_.-]+)\.gif`)

func TestBranch_ConditionAndEngagementGoBothWays(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := setup(t, d)
		ctx := context.Background()
		other, err := f.seg.CreateList(ctx, f.mkt, segments.ListInput{Name: "その他"})
		if err != nil {
			t.Fatal(err)
		}
		sales := f.contact(t, "佐藤", "sato@example.jp", "営業", 0)
		mktg := f.contact(t, "鈴木", "suzuki@example.jp", "マーケティング", 0)
		j := f.journey(t, "部門別", fmt.Sprintf(`{"trigger":{"kind":"event","event":"x"},"steps":[
			{"id":"dept","type":"branch","branch":{"condition":"department == \"営業\"","yes":"to_list","no":"to_other"}},
			{"id":"to_list","type":"add_to_list","list":{"list_id":%d},"next":"mail"},
			{"id":"to_other","type":"add_to_list","list":{"list_id":%d}},
			{"id":"mail","type":"email","email":{"template_id":%d}},
			{"id":"wait","type":"wait","wait":{"duration":"1d"}},
			{"id":"opened","type":"branch","branch":{"engagement":"opened","email_step":"mail","no":"bye"}},
			{"id":"engaged","type":"set_property","property":{"name":"title","value":"関心あり"},"next":"bye"},
			{"id":"bye","type":"exit"}]}`, f.list.ID, other.ID, f.template.ID), true)
		for _, c := range []int64{sales, mktg} {
			if _, err := f.j.Enrol(ctx, f.mkt, j.ID, c); err != nil {
				t.Fatal(err)
			}
		}
		f.tick(t, f.j)
		members := func(list int64, c int64) int {
			return f.count(t, `SELECT COUNT(*) FROM list_members WHERE list_id = ? AND contact_id = ?`, list, c)
		}
		if members(f.list.ID, sales) != 1 || members(other.ID, sales) != 0 || members(f.list.ID, mktg) != 0 || members(other.ID, mktg) != 1 {
			t.Errorf("the condition branch did not split by department")
		}
		// 佐藤 opens the mail; 鈴木 does not.
		var body string
		for _, m := range f.srv.Messages() {
			if m.To[0] == "sato@example.jp" {
				body = string(m.Data)
			}
		}
		open := openRe.FindStringSubmatch(strings.ReplaceAll(body, "=\r\n", ""))
		if open == nil {
			t.Fatalf("no open pixel in:\n%s", body)
		}
		if err := f.email.Open(ctx, 1, strings.ReplaceAll(open[1], "=3D", "=")); err != nil {
			t.Fatal(err)
		}
		f.clock.Advance(25 * time.Hour)
		f.tick(t, f.j)
		got := f.enrolments(t, j)
		for c, want := range map[int64]string{sales: "関心あり", mktg: ""} {
			ct, _ := f.crm.GetContact(ctx, d.Reader(), f.mkt, c)
			if ct.Title != want || got[c].Status != journeys.EnrolExited || got[c].Step != "bye" {
				t.Errorf("contact %d: title %q, enrolment %+v", c, ct.Title, got[c])
			}
		}
		if n := f.count(t, `SELECT COUNT(*) FROM journey_step_runs WHERE step_id = 'opened' AND outcome = 'yes'`); n != 1 {
			t.Errorf("engagement yes: %d", n)
		}
		if n := f.count(t, `SELECT COUNT(*) FROM journey_step_runs WHERE step_id = 'opened' AND outcome = 'no'`); n != 1 {
			t.Errorf("engagement no: %d", n)
		}
	})
}

func TestGoal_EndsTheJourneyBeforeTheNextStep(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := setup(t, d)
		ctx := context.Background()
		a := f.contact(t, "青木", "aoki@example.jp", "", 0)
		b := f.contact(t, "馬場", "baba@example.jp", "", 0)
		j := f.journey(t, "商談化まで", fmt.Sprintf(`{"trigger":{"kind":"event","event":"x"},"goal":"stage == \"sql\"","steps":[
			{"id":"wait","type":"wait","wait":{"duration":"1d"}},
			{"id":"mail","type":"email","email":{"template_id":%d}}]}`, f.template.ID), true)
		for _, c := range []int64{a, b} {
			if _, err := f.j.Enrol(ctx, f.mkt, j.ID, c); err != nil {
				t.Fatal(err)
			}
		}
		f.tick(t, f.j)
		sql := platform.StageSQL
		if _, err := f.crm.UpdateContact(ctx, f.rep, a, crm.ContactInput{LifecycleStage: &sql}, platform.Cause{}); err != nil {
			t.Fatal(err)
		}
		// The stage change wakes 青木's wait: the goal ends it now, not in a day.
		f.tick(t, f.j)
		if got := f.enrolments(t, j); got[a].Status != journeys.EnrolConverted || got[b].Status != journeys.EnrolActive {
			t.Errorf("right after the stage change: %+v", got)
		}
		f.clock.Advance(25 * time.Hour)
		f.tick(t, f.j)
		got := f.enrolments(t, j)
		if got[a].Status != journeys.EnrolConverted || got[a].ExitReason != "goal" || got[b].Status != journeys.EnrolCompleted {
			t.Errorf("enrolments = %+v", got)
		}
		if f.mailsTo("aoki@example.jp") != 0 || f.mailsTo("baba@example.jp") != 1 {
			t.Errorf("mail: aoki %d, baba %d", f.mailsTo("aoki@example.jp"), f.mailsTo("baba@example.jp"))
		}
	})
}

var errCrash = errors.New("simulated crash")

func TestCrash_ANewWorkerNeverRunsAStepTwice(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := setup(t, d)
		ctx := context.Background()
		steps := fmt.Sprintf(`[
			{"id":"list","type":"add_to_list","list":{"list_id":%d}},
			{"id":"mail","type":"email","email":{"template_id":%d}},
			{"id":"notify","type":"notify_owner","notify":{"message":"資料をダウンロードしました"}},
			{"id":"task","type":"create_task","task":{"subject":"フォローの電話","due_in":"1d"}},
			{"id":"prop","type":"set_property","property":{"name":"department","value":"情報システム"}},
			{"id":"handoff","type":"hand_off"}]`, f.list.ID, f.template.ID)
		j := f.journey(t, "引き渡し", `{"trigger":{"kind":"event","event":"x"},"steps":`+steps+`}`, true)
		var contacts []int64
		for i := range 3 {
			c := f.contact(t, fmt.Sprintf("顧客%d", i), fmt.Sprintf("c%d@example.jp", i), "", f.rep.UserID)
			contacts = append(contacts, c)
			if _, err := f.j.Enrol(ctx, f.mkt, j.ID, c); err != nil {
				t.Fatal(err)
			}
		}
		// Worker 1 dies inside the transaction of the first contact's mail
		// step (after the message was queued, before the commit), then again
		// after its fifth committed step.
		w1 := f.worker()
		done, failedOnce := 0, false
		w1.SetHooks(func(int64, string) error {
			if done++; done == 5 {
				return errCrash
			}
			return nil
		}, func(_ int64, step string) error {
			if step == "mail" && !failedOnce {
				failedOnce = true
				return errCrash
			}
			return nil
		})
		if _, _, err := w1.Tick(ctx, 1); !errors.Is(err, errCrash) {
			t.Fatalf("worker 1: %v", err)
		}
		if n := f.count(t, `SELECT COUNT(*) FROM journey_step_runs`); n != 5 {
			t.Fatalf("worker 1 committed %d steps, want 5", n)
		}
		// The rolled-back attempt counts as a failure; its retry waits.
		f.clock.Advance(time.Hour)
		w2 := f.worker()
		f.tick(t, w2)
		f.tick(t, f.worker())
		for _, c := range contacts {
			e := f.enrolments(t, j)[c]
			if e.Status != journeys.EnrolCompleted {
				t.Errorf("contact %d: %+v", c, e)
			}
			for q, want := range map[string]int{
				`SELECT COUNT(*) FROM journey_step_runs r JOIN journey_enrolments e ON e.id = r.enrolment_id WHERE e.contact_id = ?`: 6,
				`SELECT COUNT(*) FROM timeline WHERE contact_id = ? AND kind = 'journey.step'`:                                       6,
				`SELECT COUNT(*) FROM activities WHERE contact_id = ? AND kind = 'task'`:                                             1,
				`SELECT COUNT(*) FROM list_members WHERE contact_id = ?`:                                                             1,
				`SELECT COUNT(*) FROM lifecycle_history WHERE contact_id = ? AND to_stage = 'mql'`:                                   1,
				`SELECT COUNT(*) FROM notifications WHERE kind = 'journey.notify' AND link = ?`:                                      1,
			} {
				arg := any(c)
				if strings.Contains(q, "link") {
					arg = fmt.Sprintf("/contacts/%d", c)
				}
				if n := f.count(t, q, arg); n != want {
					t.Errorf("contact %d: %s = %d, want %d", c, q, n, want)
				}
			}
		}
		for i := range 3 {
			if n := f.mailsTo(fmt.Sprintf("c%d@example.jp", i)); n != 1 {
				t.Errorf("c%d received %d messages", i, n)
			}
		}
		// A stale worker that still believes an enrolment is at the mail step
		// (its position moved back by hand) runs nothing again: the step's
		// record is there.
		if err := d.Write(ctx, "test", func(tx *db.Tx) error {
			_, err := tx.ExecContext(ctx, `UPDATE journey_enrolments SET status = 'active', current_step = 'mail', ended_at = NULL WHERE contact_id = ?`, contacts[0])
			return err
		}); err != nil {
			t.Fatal(err)
		}
		f.tick(t, f.worker())
		if n := f.mailsTo("c0@example.jp"); n != 1 {
			t.Errorf("the stale replay sent again: %d", n)
		}
		if n := f.count(t, `SELECT COUNT(*) FROM timeline WHERE contact_id = ? AND kind = 'journey.step'`, contacts[0]); n != 6 {
			t.Errorf("the stale replay wrote steps: %d", n)
		}
	})
}

func TestDefinition_ErrorsNameTheField(t *testing.T) {
	for _, c := range []struct{ def, field string }{
		{`{"trigger":{"kind":"nope"},"steps":[{"type":"exit"}]}`, "trigger.kind"},
		{`{"trigger":{"kind":"event","event":"Bad Kind"},"steps":[{"type":"exit"}]}`, "trigger.event"},
		{`{"trigger":{"kind":"segment_entered"},"steps":[{"type":"exit"}]}`, "trigger.segment_id"},
		{`{"trigger":{"kind":"recycled"},"steps":[]}`, "steps"},
		{`{"trigger":{"kind":"recycled"},"goal":"stage ==","steps":[{"type":"exit"}]}`, "goal"},
		{`{"trigger":{"kind":"recycled"},"steps":[{"type":"exit"},{"type":"exit"},{"type":"wait"}]}`, "steps[2].wait"},
		{`{"trigger":{"kind":"recycled"},"steps":[{"type":"exit"},{"type":"exit"},{"type":"wait","wait":{"duration":"3 days"}}]}`, "steps[2].wait.duration"},
		{`{"trigger":{"kind":"recycled"},"steps":[{"type":"wait","wait":{"until":"25:00"}}]}`, "steps[0].wait.until"},
		{`{"trigger":{"kind":"recycled"},"steps":[{"type":"wait","wait":{"duration":"1d"},"email":{"template_id":1}}]}`, "steps[0].email"},
		{`{"trigger":{"kind":"recycled"},"steps":[{"type":"fly"}]}`, "steps[0].type"},
		{`{"trigger":{"kind":"recycled"},"steps":[{"id":"a","type":"exit"},{"id":"a","type":"exit"}]}`, "steps[1].id"},
		{`{"trigger":{"kind":"recycled"},"steps":[{"id":"a","type":"hand_off"},{"id":"b","type":"hand_off","next":"a"}]}`, "steps[1].next"},
		{`{"trigger":{"kind":"recycled"},"steps":[{"id":"a","type":"branch","branch":{"condition":"true","yes":"zz"}},{"type":"exit"}]}`, "steps[0].branch.yes"},
		{`{"trigger":{"kind":"recycled"},"steps":[{"id":"a","type":"branch","branch":{"condition":"employees >"}}]}`, "steps[0].branch.condition"},
		{`{"trigger":{"kind":"recycled"},"steps":[{"id":"a","type":"branch","branch":{"engagement":"opened","email_step":"a"}}]}`, "steps[0].branch.email_step"},
		{`{"trigger":{"kind":"recycled"},"steps":[{"type":"set_property","property":{"name":"salary","value":"1"}}]}`, "steps[0].property.name"},
		{`{"trigger":{"kind":"recycled"},"steps":[{"type":"create_task","task":{"subject":""}}]}`, "steps[0].task.subject"},
		{`{"trigger":{"kind":"recycled"},"steps":[{"type":"exit","colour":"red"}]}`, "definition"},
	} {
		_, err := journeys.ParseDefinition([]byte(c.def))
		e, ok := errs.As(err)
		if !ok || e.Field != c.field || e.Kind != errs.Invalid {
			t.Errorf("%s: got %v (field %q), want an invalid %s", c.def, err, fieldOf(e), c.field)
		}
	}
}

func fieldOf(e *errs.Error) string {
	if e == nil {
		return ""
	}
	return e.Field
}

func TestSave_ChecksReferencesAndActiveJourneysAreNotEdited(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := setup(t, d)
		ctx := context.Background()
		_, err := f.j.Create(ctx, f.mkt, journeys.Input{Name: "x", Definition: json.RawMessage(`{"trigger":{"kind":"recycled"},"steps":[
			{"type":"hand_off"},{"type":"email","email":{"template_id":999}}]}`)})
		if e, ok := errs.As(err); !ok || e.Field != "steps[1].email.template_id" {
			t.Errorf("unknown template: %v", err)
		}
		if _, err := f.j.Create(ctx, f.rep, journeys.Input{Name: "x", Definition: json.RawMessage(`{"trigger":{"kind":"recycled"},"steps":[{"type":"exit"}]}`)}); !errs.Is(err, errs.Forbidden) {
			t.Errorf("a rep creating a journey: %v", err)
		}
		j := f.journey(t, "y", `{"trigger":{"kind":"recycled"},"steps":[{"type":"exit"}]}`, true)
		if _, err := f.j.Update(ctx, f.mkt, j.ID, journeys.Input{Name: "y", Definition: mustJSON(j.Definition)}); !errs.Is(err, errs.Conflict) {
			t.Errorf("editing an active journey: %v", err)
		}
		if n := f.count(t, `SELECT COUNT(*) FROM audit_log WHERE object_type = 'journey' AND object_id = ?`, j.ID); n != 2 {
			t.Errorf("audit entries = %d", n)
		}
	})
}

func TestFollow_ABacklogIsEnrolledInShortTransactionsAndTheMarkCoversIt(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := setup(t, d)
		ctx := context.Background()
		f.tick(t, f.j)
		j := f.journey(t, "大量", `{"trigger":{"kind":"event","event":"webinar_attended"},"steps":[{"type":"wait","wait":{"duration":"1d"}}]}`, true)
		var evs []platform.EventInput
		for i := range 230 {
			c := f.contact(t, fmt.Sprintf("参加者%d", i), fmt.Sprintf("p%d@example.jp", i), "", 0)
			evs = append(evs, platform.EventInput{ID: fmt.Sprintf("e%d", i), Kind: "page_view", ContactID: c, URL: "https://example.jp/"},
				platform.EventInput{ID: fmt.Sprintf("w%d", i), Kind: "webinar_attended", ContactID: c})
		}
		if res, err := platform.IngestEvents(ctx, d, platform.System(1), evs, f.clock.Now()); err != nil || len(res.Errors) > 0 {
			t.Fatalf("ingest: %+v %v", res, err)
		}
		var mu sync.Mutex
		longest := map[string]time.Duration{}
		d.OnSlowTx = func(name string, dur, _ time.Duration) {
			mu.Lock()
			longest[name] = max(longest[name], dur)
			mu.Unlock()
		}
		f.tick(t, f.j)
		d.OnSlowTx = nil
		t.Logf("longest write transactions: %v", longest)
		if longest["journeys.Follow"] == 0 || longest["journeys.runStep"] == 0 {
			t.Errorf("the follower and the steps were not timed: %v", longest)
		}
		if n := f.count(t, `SELECT COUNT(*) FROM journey_enrolments WHERE journey_id = ?`, j.ID); n != 230 {
			t.Errorf("enrolments = %d, want 230", n)
		}
		if n := f.count(t, `SELECT COUNT(*) FROM work_marks WHERE name = 'journeys.events' AND value = (SELECT MAX(id) FROM events)`); n != 1 {
			t.Errorf("the events mark did not reach the newest event")
		}
	})
}

func TestWait_DurationTimeOfDayAndBusinessHoursInTheWorkspaceZone(t *testing.T) {
	d := dbtest.Open(t, db.SQLite)
	f := setup(t, d)
	tokyo, _ := time.LoadLocation("Asia/Tokyo")
	at := func(s string) time.Time {
		v, err := time.ParseInLocation("2006-01-02 15:04", s, tokyo)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	for _, c := range []struct {
		w          journeys.WaitStep
		from, want string
	}{
		{journeys.WaitStep{Duration: "3d"}, "2026-04-01 10:00", "2026-04-04 10:00"},
		{journeys.WaitStep{Until: "09:00"}, "2026-04-01 10:00", "2026-04-02 09:00"},
		{journeys.WaitStep{Until: "18:30"}, "2026-04-01 10:00", "2026-04-01 18:30"},
		{journeys.WaitStep{Duration: "1d", Until: "09:00"}, "2026-04-01 08:00", "2026-04-02 09:00"},
		// Friday evening plus a day is Saturday: business hours resume on Monday at 9:00.
		{journeys.WaitStep{Duration: "1d", BusinessHours: true}, "2026-04-03 20:00", "2026-04-06 09:00"},
		// 昭和の日 (29 April) is a holiday.
		{journeys.WaitStep{BusinessHours: true}, "2026-04-28 19:00", "2026-04-30 09:00"},
		{journeys.WaitStep{BusinessHours: true}, "2026-04-30 11:00", "2026-04-30 11:00"},
	} {
		got := f.j.WaitUntil(context.Background(), 1, c.w, at(c.from))
		if !got.Equal(at(c.want)) {
			t.Errorf("%+v from %s: %s, want %s", c.w, c.from, got.In(tokyo).Format("2006-01-02 15:04"), c.want)
		}
	}
}

func TestDateTrigger_EntersOnTheDayBeforeADateOnceADay(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := setup(t, d)
		ctx := context.Background()
		if _, err := f.crm.SaveProperty(ctx, platform.CLI(1), 0, crm.PropertyDefinition{ObjectType: "contact", Key: "renewal_date",
			LabelEN: "Renewal", LabelJA: "更新日", Type: crm.PropDate}); err != nil {
			t.Fatal(err)
		}
		mk := func(family, addr, date string) int64 {
			c, err := f.crm.CreateContact(ctx, f.mkt, crm.ContactInput{FamilyName: ptr(family), Email: ptr(addr), Props: map[string]any{"renewal_date": date}})
			if err != nil {
				t.Fatal(err)
			}
			return c.ID
		}
		a := mk("青木", "aoki@example.jp", "2026-05-02")
		b := mk("馬場", "baba@example.jp", "2026-05-03")
		mk("千葉", "chiba@example.jp", "2026-06-01")
		if _, err := f.j.Create(ctx, f.mkt, journeys.Input{Name: "x", Definition: json.RawMessage(`{"trigger":{"kind":"date_property","property":"title"},"steps":[{"type":"exit"}]}`)}); func() string {
			e, _ := errs.As(err)
			return fieldOf(e)
		}() != "trigger.property" {
			t.Errorf("a date trigger on a non-date property: %v", err)
		}
		j := f.journey(t, "更新30日前", `{"trigger":{"kind":"date_property","property":"renewal_date","offset_days":-30,"at":"09:00"},
			"steps":[{"type":"wait","wait":{"duration":"7d"}}]}`, true)
		f.tick(t, f.j) // 1 April 10:00 in Tokyo: activated after today's 09:00, so from tomorrow
		if n := len(f.enrolments(t, j)); n != 0 {
			t.Errorf("enrolled on the activation day: %d", n)
		}
		f.clock.Advance(22 * time.Hour) // 2 April 08:00: not yet
		f.tick(t, f.j)
		f.clock.Advance(time.Hour) // 09:00
		f.tick(t, f.j)
		f.tick(t, f.worker())
		if got := f.enrolments(t, j); len(got) != 1 || got[a].Status != journeys.EnrolActive {
			t.Errorf("2 April: %+v", got)
		}
		f.clock.Advance(24 * time.Hour)
		f.tick(t, f.j)
		if got := f.enrolments(t, j); len(got) != 2 || got[b].Status != journeys.EnrolActive {
			t.Errorf("3 April: %+v", got)
		}
	})
}

func TestRegister_ThePeriodicJobFollowsTriggersAndAdvances(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := setup(t, d)
		ctx := context.Background()
		f.j.Lag = 0
		f.j.Register()
		run := func() {
			f.clock.Advance(11 * time.Second) // the next 10-second slot
			for i := 0; i < 20; i++ {
				n, err := f.jobs.RunOnce(ctx)
				if err != nil {
					t.Fatal(err)
				}
				if n == 0 {
					return
				}
			}
		}
		run() // the follower's first run sets its marks
		a := f.contact(t, "青木", "aoki@example.jp", "", 0)
		f.journey(t, "歓迎", fmt.Sprintf(`{"trigger":{"kind":"event","event":"signed_up"},"steps":[
			{"type":"wait","wait":{"duration":"1h"}},{"type":"email","email":{"template_id":%d}}]}`, f.template.ID), true)
		ingest(t, f, "s1", "signed_up", a, nil)
		run()
		if n := f.count(t, `SELECT COUNT(*) FROM journey_enrolments WHERE contact_id = ?`, a); n != 1 {
			t.Fatalf("enrolments = %d", n)
		}
		f.clock.Advance(time.Hour)
		run()
		run()
		if n := f.mailsTo("aoki@example.jp"); n != 1 {
			t.Errorf("messages = %d, want 1", n)
		}
	})
}
