package sequences_test

import (
	"context"
	"errors"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/ryorin/ryorin/internal/clock"
	"github.com/ryorin/ryorin/internal/crm"
	"github.com/ryorin/ryorin/internal/db"
	"github.com/ryorin/ryorin/internal/dbtest"
	"github.com/ryorin/ryorin/internal/errs"
	"github.com/ryorin/ryorin/internal/platform"
	"github.com/ryorin/ryorin/internal/sales/sequences"
	"github.com/ryorin/ryorin/internal/salesmail"
	"github.com/ryorin/ryorin/internal/smtptest"
)

func TestMain(m *testing.M) { os.Exit(dbtest.Main(m)) }

var jst = time.FixedZone("JST", 9*3600)

// t0 is Monday 6 April 2026, 10:00 in Tokyo.
var t0 = time.Date(2026, 4, 6, 10, 0, 0, 0, jst)

func ptr[T any](v T) *T { return &v }

type fixture struct {
	d     *db.DB
	clock *clock.Fake
	crm   *crm.Service
	sm    *salesmail.Service
	seq   *sequences.Service
	jobs  *platform.Jobs
	srv   *smtptest.Server
	rep   platform.Actor
	other platform.Actor
}

func setup(t *testing.T, d *db.DB) *fixture {
	t.Helper()
	ctx := context.Background()
	if err := platform.EnsureWorkspace(ctx, d, 1, "Test", t0); err != nil {
		t.Fatal(err)
	}
	exec(t, d, `UPDATE workspaces SET time_zone = 'Asia/Tokyo' WHERE id = 1`)
	cli := platform.CLI(1)
	rp, err := platform.CreateUser(ctx, d, cli, platform.NewUser{Email: "rep@ryorin.example", Name: "伊藤 さくら", Role: platform.RoleSales, Locale: "ja"}, t0)
	if err != nil {
		t.Fatal(err)
	}
	ot, err := platform.CreateUser(ctx, d, cli, platform.NewUser{Email: "other@ryorin.example", Name: "佐藤 次郎", Role: platform.RoleSales}, t0)
	if err != nil {
		t.Fatal(err)
	}
	fc := clock.NewFake(t0)
	cs := crm.New(d, fc)
	jobs := platform.NewJobs(d, fc, nil)
	m := &platform.Mailer{DB: d, Clock: fc, Jobs: jobs, Timeout: 5 * time.Second}
	m.Register()
	srv := smtptest.Start(t)
	if _, err := platform.SetSMTP(ctx, d, cli, platform.SMTPSettings{Host: srv.Host(), Port: srv.Port(), TLS: "none",
		FromAddress: "sales@ryorin.example", FromName: "両輪"}, t0); err != nil {
		t.Fatal(err)
	}
	sm := salesmail.New(d, fc, cs, m, nil)
	return &fixture{d: d, clock: fc, crm: cs, sm: sm, seq: sequences.New(d, fc, cs, sm, jobs, nil), jobs: jobs, srv: srv,
		rep: rp.Actor(1, platform.ActorUser), other: ot.Actor(1, platform.ActorUser)}
}

func exec(t *testing.T, d *db.DB, q string, args ...any) {
	t.Helper()
	if err := d.Write(context.Background(), "test", func(tx *db.Tx) error {
		_, err := tx.ExecContext(context.Background(), q, args...)
		return err
	}); err != nil {
		t.Fatal(err)
	}
}

func count(t *testing.T, d *db.DB, q string, args ...any) int {
	t.Helper()
	var n int
	if err := d.Reader().QueryRowContext(context.Background(), q, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func (f *fixture) contact(t *testing.T, family, addr string) crm.Contact {
	t.Helper()
	c, err := f.crm.CreateContact(context.Background(), f.rep, crm.ContactInput{FamilyName: ptr(family), GivenName: ptr("太郎"), Email: ptr(addr)})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func (f *fixture) runJobs(t *testing.T) {
	t.Helper()
	for range 10 {
		n, err := f.jobs.RunOnce(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			return
		}
	}
}

func (f *fixture) tick(t *testing.T) int {
	t.Helper()
	n, err := f.seq.Tick(context.Background(), 1)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func (f *fixture) enrolment(t *testing.T, id int64) sequences.Enrolment {
	t.Helper()
	e, err := f.seq.GetEnrolment(context.Background(), f.rep, id)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

var followUp = sequences.Input{Name: "新規リード初回フォロー", Shared: true, Steps: []sequences.Step{
	{DelayDays: 0, Action: "email", Subject: "{{.FamilyName}}様 お問い合わせありがとうございます", Body: "{{.Salutation}}\n\n資料をお送りします。\n"},
	{DelayDays: 2, Action: "call"},
	{DelayDays: 1, Action: "task", Subject: "事例を送る", Note: "製造業の事例"},
	{DelayDays: 1, Action: "email", Subject: "{{.FamilyName}}様 その後いかがでしょうか", Body: "{{.Salutation}}\n\nご検討状況を伺えれば幸いです。\n"},
}}

func TestDueAt_CountsBusinessDaysSkippingWeekendsAndHolidays(t *testing.T) {
	tests := []struct {
		name  string
		from  time.Time
		delay int
		want  time.Time
	}{
		{"same day now", t0, 0, t0},
		{"Monday +2 is Wednesday 9:00", t0, 2, time.Date(2026, 4, 8, 9, 0, 0, 0, jst)},
		{"Friday +1 is Monday", time.Date(2026, 4, 10, 15, 0, 0, 0, jst), 1, time.Date(2026, 4, 13, 9, 0, 0, 0, jst)},
		{"Saturday +0 waits for Monday", time.Date(2026, 4, 11, 15, 0, 0, 0, jst), 0, time.Date(2026, 4, 13, 9, 0, 0, 0, jst)},
		{"昭和の日 is skipped", time.Date(2026, 4, 28, 15, 0, 0, 0, jst), 2, time.Date(2026, 5, 1, 9, 0, 0, 0, jst)},
		{"Golden Week is skipped", time.Date(2026, 5, 1, 15, 0, 0, 0, jst), 1, time.Date(2026, 5, 7, 9, 0, 0, 0, jst)},
		{"年末年始 is skipped", time.Date(2026, 12, 28, 15, 0, 0, 0, jst), 1, time.Date(2027, 1, 4, 9, 0, 0, 0, jst)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := sequences.DueAt(tt.from, tt.delay, jst); !got.Equal(tt.want) {
				t.Fatalf("DueAt(%v, %d) = %v, want %v", tt.from, tt.delay, got, tt.want)
			}
		})
	}
}

func TestSequence_RunsEachStepOnItsBusinessDay(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := setup(t, d)
		sq, err := f.seq.Save(ctx, f.rep, 0, followUp)
		if err != nil {
			t.Fatal(err)
		}
		c := f.contact(t, "山田", "yamada@customer.example")
		e, err := f.seq.Enrol(ctx, f.rep, sq.ID, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.seq.Enrol(ctx, f.rep, sq.ID, c.ID); errs.KindOf(err) != errs.Conflict {
			t.Fatalf("second enrolment: %v, want conflict", err)
		}
		if n := f.tick(t); n != 1 {
			t.Fatalf("first tick ran %d steps, want the day-0 email", n)
		}
		f.runJobs(t)
		msgs := f.srv.Messages()
		if len(msgs) != 1 || msgs[0].To[0] != "yamada@customer.example" {
			t.Fatalf("messages = %+v", msgs)
		}
		e = f.enrolment(t, e.ID)
		if e.StepIndex != 1 || e.NextAction != "call" || !e.NextRunAt.Equal(time.Date(2026, 4, 8, 9, 0, 0, 0, jst)) {
			t.Fatalf("after the email: %+v", e)
		}
		f.clock.Set(time.Date(2026, 4, 8, 8, 59, 0, 0, jst))
		if n := f.tick(t); n != 0 {
			t.Fatalf("the call ran %d steps before its day", n)
		}
		f.clock.Set(time.Date(2026, 4, 8, 9, 0, 30, 0, jst))
		if n := f.tick(t); n != 1 {
			t.Fatalf("call day: %d steps", n)
		}
		var due int64
		var subject string
		if err := d.Reader().QueryRowContext(ctx, `SELECT due_at, subject FROM activities WHERE workspace_id = 1 AND contact_id = ? AND kind = 'task' AND owner_id = ?`,
			c.ID, f.rep.UserID).Scan(&due, &subject); err != nil {
			t.Fatal(err)
		}
		if !db.Time(due).Equal(time.Date(2026, 4, 8, 18, 0, 0, 0, jst)) || subject != "山田 太郎さんに電話" {
			t.Fatalf("call task due %v subject %q", db.Time(due).In(jst), subject)
		}
		f.clock.Set(time.Date(2026, 4, 9, 9, 1, 0, 0, jst)) // Thursday: the task
		f.tick(t)
		f.clock.Set(time.Date(2026, 4, 10, 9, 1, 0, 0, jst)) // Friday: the last email
		f.tick(t)
		f.runJobs(t)
		if got := len(f.srv.Messages()); got != 2 {
			t.Fatalf("%d messages, want 2", got)
		}
		e = f.enrolment(t, e.ID)
		if e.Status != sequences.StatusFinished || e.NextRunAt != nil {
			t.Fatalf("at the end: %+v", e)
		}
		if n := count(t, d, `SELECT COUNT(*) FROM timeline WHERE workspace_id = 1 AND contact_id = ? AND kind LIKE 'sequence.%'`, c.ID); n != 6 {
			t.Fatalf("%d sequence timeline entries, want enrolled + 4 steps + ended", n)
		}
		got, err := f.seq.Get(ctx, f.rep, sq.ID)
		if err != nil || got.Stats.Enrolled != 1 || got.Stats.Finished != 1 {
			t.Fatalf("stats = %+v, %v", got.Stats, err)
		}
	})
}

func TestSequence_StopsWhenTheContactRepliesOrAMeetingIsBooked(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := setup(t, d)
		sq, err := f.seq.Save(ctx, f.rep, 0, followUp)
		if err != nil {
			t.Fatal(err)
		}
		replier := f.contact(t, "山田", "yamada@customer.example")
		meeter := f.contact(t, "鈴木", "suzuki@customer.example")
		silent := f.contact(t, "田中", "tanaka@customer.example")
		var ids []int64
		for _, c := range []crm.Contact{replier, meeter, silent} {
			e, err := f.seq.Enrol(ctx, f.rep, sq.ID, c.ID)
			if err != nil {
				t.Fatal(err)
			}
			ids = append(ids, e.ID)
		}
		f.tick(t)
		f.clock.Advance(time.Hour)
		if _, err := f.sm.Inbound(ctx, f.rep, salesmail.InboundMessage{From: "yamada@customer.example", Subject: "Re: 資料", Text: "ありがとうございます", MessageID: "<r1@customer.example>"}); err != nil {
			t.Fatal(err)
		}
		if _, err := f.crm.LogActivity(ctx, f.rep, crm.ActivityInput{Kind: ptr("meeting"), Subject: ptr("打ち合わせ"), ContactID: &meeter.ID,
			OccurredAt: ptr(time.Date(2026, 4, 20, 14, 0, 0, 0, jst))}); err != nil {
			t.Fatal(err)
		}
		f.clock.Set(time.Date(2026, 4, 8, 9, 0, 30, 0, jst))
		if n := f.tick(t); n != 1 {
			t.Fatalf("call day ran %d steps, want only the silent contact's call", n)
		}
		for i, want := range []string{sequences.StatusReplied, sequences.StatusMeetingBooked, sequences.StatusActive} {
			if e := f.enrolment(t, ids[i]); e.Status != want {
				t.Fatalf("enrolment %d: %+v, want %s", i, e, want)
			}
		}
		if n := count(t, d, `SELECT COUNT(*) FROM activities WHERE workspace_id = 1 AND kind = 'task'`); n != 1 {
			t.Fatalf("%d tasks, want 1", n)
		}
		if n := count(t, d, `SELECT COUNT(*) FROM timeline WHERE workspace_id = 1 AND contact_id = ? AND kind = 'sequence.ended'`, replier.ID); n != 1 {
			t.Fatalf("no ended entry on the replier's timeline")
		}
		// The rep ends the last one; another rep may not.
		if _, err := f.seq.End(ctx, f.other, ids[2]); errs.KindOf(err) != errs.Forbidden {
			t.Fatalf("other rep ends: %v", err)
		}
		e, err := f.seq.End(ctx, f.rep, ids[2])
		if err != nil || e.Status != sequences.StatusEnded || e.EndReason != "rep" {
			t.Fatalf("end = %+v, %v", e, err)
		}
		if _, err := f.seq.End(ctx, f.rep, ids[2]); errs.KindOf(err) != errs.Conflict {
			t.Fatalf("end twice: %v", err)
		}
		got, _ := f.seq.Get(ctx, f.rep, sq.ID)
		if got.Stats.Replied != 1 || got.Stats.MeetingBooked != 1 || got.Stats.Active != 0 || got.Stats.ReplyRate < 0.33 || got.Stats.ReplyRate > 0.34 {
			t.Fatalf("stats = %+v", got.Stats)
		}
		// Ended, the contact can be enrolled again.
		if _, err := f.seq.Enrol(ctx, f.rep, sq.ID, silent.ID); err != nil {
			t.Fatal(err)
		}
	})
}

func TestSequence_StopsWhenTheContactBecomesACustomer(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := setup(t, d)
		sq, err := f.seq.Save(ctx, f.rep, 0, followUp)
		if err != nil {
			t.Fatal(err)
		}
		c := f.contact(t, "山田", "yamada@customer.example")
		e, err := f.seq.Enrol(ctx, f.rep, sq.ID, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		f.tick(t)
		f.clock.Advance(time.Hour)
		if _, err := f.crm.UpdateContact(ctx, f.rep, c.ID, crm.ContactInput{LifecycleStage: ptr(platform.StageCustomer)}, platform.Cause{Kind: "deal", Ref: "won"}); err != nil {
			t.Fatal(err)
		}
		f.clock.Set(time.Date(2026, 4, 8, 9, 0, 30, 0, jst))
		f.tick(t)
		if e = f.enrolment(t, e.ID); e.Status != sequences.StatusConverted || e.EndReason != "customer" {
			t.Fatalf("enrolment = %+v", e)
		}
	})
}

func TestSequence_StopsBeforeAnEmailToABouncedAddress(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := setup(t, d)
		sq, err := f.seq.Save(ctx, f.rep, 0, followUp)
		if err != nil {
			t.Fatal(err)
		}
		c := f.contact(t, "山田", "yamada@customer.example")
		exec(t, d, `INSERT INTO email_suppressions (workspace_id, email, reason, created_at) VALUES (1, 'yamada@customer.example', 'hard_bounce', 0)`)
		e, err := f.seq.Enrol(ctx, f.rep, sq.ID, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		f.tick(t)
		if e = f.enrolment(t, e.ID); e.Status != sequences.StatusBounced || e.EndReason != "hard_bounce" {
			t.Fatalf("enrolment = %+v", e)
		}
	})
}

// Two runners at once, a runner that dies inside a step and a rerun of a
// step already done: every step runs exactly once.
func TestSequence_EachStepRunsOnceWithTwoRunnersACrashAndARerun(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := setup(t, d)
		sq, err := f.seq.Save(ctx, f.rep, 0, sequences.Input{Name: "即時", Steps: []sequences.Step{
			{Action: "email", Subject: "{{.FamilyName}}様", Body: "本文"},
			{Action: "task", Subject: "フォロー"},
			{Action: "email", Subject: "{{.FamilyName}}様 再送", Body: "本文2"},
		}})
		if err != nil {
			t.Fatal(err)
		}
		const n = 6
		var first int64
		for i := range n {
			c := f.contact(t, "顧客", "c"+string(rune('a'+i))+"@customer.example")
			e, err := f.seq.Enrol(ctx, f.rep, sq.ID, c.ID)
			if err != nil {
				t.Fatal(err)
			}
			if i == 0 {
				first = e.ID
			}
		}
		// A runner dies inside the first enrolment's first step (after the
		// mail was queued, before the commit): nothing of it stays.
		crashed := false
		f.seq.SetBeforeCommit(func(enrolment int64, step int) error {
			if enrolment == first && !crashed {
				crashed = true
				return errors.New("killed")
			}
			return nil
		})
		if _, _, err := f.seq.Advance(ctx, 1); err != nil {
			t.Fatal(err)
		}
		if e := f.enrolment(t, first); e.StepIndex != 0 || e.LastError == "" {
			t.Fatalf("after the crash: %+v", e)
		}
		f.clock.Advance(time.Hour) // past the retry backoff
		var wg sync.WaitGroup
		for range 2 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for range 4 {
					if _, _, err := f.seq.Advance(ctx, 1); err != nil {
						t.Error(err)
					}
				}
			}()
		}
		wg.Wait()
		for range 3 {
			f.tick(t)
		}
		if got := count(t, d, `SELECT COUNT(*) FROM sequence_step_runs WHERE workspace_id = 1`); got != 3*n {
			t.Fatalf("%d step runs, want %d", got, 3*n)
		}
		// A rerun with a stale view: put an enrolment back on a step it ran.
		exec(t, d, `UPDATE sequence_enrolments SET status = 'active', step_index = 0, next_run_at = 0 WHERE workspace_id = 1 AND id = ?`, first)
		if ran := f.tick(t); ran != 0 {
			t.Fatalf("the rerun ran %d steps", ran)
		}
		f.runJobs(t)
		if got := count(t, d, `SELECT COUNT(*) FROM sales_emails WHERE workspace_id = 1 AND direction = 'outbound'`); got != 2*n {
			t.Fatalf("%d emails logged, want %d", got, 2*n)
		}
		if got := len(f.srv.Messages()); got != 2*n {
			t.Fatalf("%d messages delivered, want %d", got, 2*n)
		}
		if got := count(t, d, `SELECT COUNT(*) FROM activities WHERE workspace_id = 1 AND kind = 'task'`); got != n {
			t.Fatalf("%d tasks, want %d", got, n)
		}
	})
}

func TestSave_NamesTheFieldOfEachBadStep(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := setup(t, d)
		ok := sequences.Step{Action: "call"}
		tests := []struct {
			in    sequences.Input
			field string
		}{
			{sequences.Input{Steps: []sequences.Step{ok}}, "name"},
			{sequences.Input{Name: "x"}, "steps"},
			{sequences.Input{Name: "x", Steps: []sequences.Step{ok, ok, {Action: "call", DelayDays: -1}}}, "steps[2].delay_days"},
			{sequences.Input{Name: "x", Steps: []sequences.Step{ok, {Action: "fax"}}}, "steps[1].action"},
			{sequences.Input{Name: "x", Steps: []sequences.Step{{Action: "email", Body: "b"}}}, "steps[0].subject"},
			{sequences.Input{Name: "x", Steps: []sequences.Step{ok, {Action: "email", Subject: "s"}}}, "steps[1].body"},
			{sequences.Input{Name: "x", Steps: []sequences.Step{{Action: "email", Subject: "s", Body: "{{.Nope}}"}}}, "steps[0].body"},
			{sequences.Input{Name: "x", Steps: []sequences.Step{{Action: "email", TemplateID: 99}}}, "steps[0].template_id"},
		}
		for _, tt := range tests {
			_, err := f.seq.Save(ctx, f.rep, 0, tt.in)
			if e, ok := errs.As(err); !ok || e.Field != tt.field {
				t.Errorf("Save(%+v) = %v, want an error naming %s", tt.in, err, tt.field)
			}
		}
		// A private sequence is invisible to another rep.
		sq, err := f.seq.Save(ctx, f.rep, 0, sequences.Input{Name: "mine", Steps: []sequences.Step{ok}})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.seq.Get(ctx, f.other, sq.ID); errs.KindOf(err) != errs.NotFound {
			t.Fatalf("other rep sees a private sequence: %v", err)
		}
		if _, err := f.seq.Enrol(ctx, f.rep, sq.ID, 12345); fieldOf(err) != "contact_id" {
			t.Fatalf("enrol an unknown contact: %v", err)
		}
	})
}

func fieldOf(err error) string {
	if e, ok := errs.As(err); ok {
		return e.Field
	}
	return ""
}

func TestParseSteps_NamesTheField(t *testing.T) {
	tests := map[string]string{
		``:                                     "steps",
		`{}`:                                   "steps",
		`[]`:                                   "steps",
		`[{"action":"call","delay_days":"2"}]`: "steps",
		`[{"action":"call","colour":"red"}]`:   "steps",
		`[{"action":"call"},{"action":"call","delay_days":91}]`: "steps[1].delay_days",
		`[{"action":"task","note":"ok"}] []`:                    "steps",
	}
	for in, field := range tests {
		if _, err := sequences.ParseSteps([]byte(in)); fieldOf(err) != field {
			t.Errorf("ParseSteps(%s) = %v, want an error naming %s", in, err, field)
		}
	}
	steps, err := sequences.ParseSteps([]byte(`[{"action":"email","subject":" Hi ","body":"Hello {{.FamilyName}}"},{"delay_days":3,"action":"call","body":"x"}]`))
	if err != nil || steps[0].Subject != "Hi" || steps[1].DelayDays != 3 || steps[1].Body != "" {
		t.Fatalf("ParseSteps = %+v, %v", steps, err)
	}
}
