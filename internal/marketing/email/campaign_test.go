package email_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime/quotedprintable"
	"net/mail"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/ryorin/ryorin/internal/clock"
	"github.com/ryorin/ryorin/internal/crm"
	"github.com/ryorin/ryorin/internal/db"
	"github.com/ryorin/ryorin/internal/dbtest"
	"github.com/ryorin/ryorin/internal/errs"
	"github.com/ryorin/ryorin/internal/marketing/email"
	"github.com/ryorin/ryorin/internal/marketing/segments"
	"github.com/ryorin/ryorin/internal/platform"
	"github.com/ryorin/ryorin/internal/smtptest"
	"github.com/ryorin/ryorin/internal/track"
)

func TestMain(m *testing.M) { os.Exit(dbtest.Main(m)) }

var t0 = time.Date(2026, 4, 1, 9, 0, 0, 0, time.UTC)

type fixture struct {
	d     *db.DB
	clock *clock.Fake
	crm   *crm.Service
	seg   *segments.Service
	email *email.Service
	jobs  *platform.Jobs
	srv   *smtptest.Server
	mkt   platform.Actor
	rep   platform.Actor
	ids   map[string]int64
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
	es.Batch = 2 // several batches even for a handful of contacts
	es.Register()
	srv := smtptest.Start(t)
	if _, err := platform.SetSMTP(ctx, d, cli, platform.SMTPSettings{Host: srv.Host(), Port: srv.Port(), TLS: "none",
		FromAddress: "news@ryorin.example", FromName: "両輪マーケティング"}, t0); err != nil {
		t.Fatal(err)
	}
	return &fixture{d: d, clock: fc, crm: cs, seg: segments.New(d, fc, cs), email: es, jobs: jobs, srv: srv,
		mkt: mk.Actor(1, platform.ActorUser), rep: rp.Actor(1, platform.ActorUser), ids: map[string]int64{}}
}

// audience creates five contacts in the "マーケティング" department (the
// segment) and one outside it, and returns the filled segment.
func (f *fixture) audience(t *testing.T) segments.Segment {
	t.Helper()
	ctx := context.Background()
	co, err := f.crm.CreateCompany(ctx, f.mkt, crm.CompanyInput{Name: ptr("株式会社両輪")})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		key, email, family, consent, dept string
		company                           bool
	}{
		{"yamada", "yamada@example.jp", "山田", "granted", "マーケティング", true},
		{"noname", "noname@example.jp", "", "granted", "マーケティング", false},
		{"unknown", "unknown@example.jp", "佐藤", "unknown", "マーケティング", true},
		{"suppressed", "Suppressed@example.jp", "鈴木", "granted", "マーケティング", false},
		{"noemail", "", "田中", "granted", "マーケティング", false},
		{"outside", "outside@example.jp", "高橋", "granted", "営業", false},
	} {
		in := crm.ContactInput{FamilyName: ptr(c.family), Department: ptr(c.dept), ConsentEmail: ptr(c.consent), ConsentSource: ptr("test")}
		if c.family == "" {
			in.GivenName = ptr("名無")
		}
		if c.email != "" {
			in.Email = ptr(c.email)
		}
		if c.company {
			in.CompanyID = &co.ID
		}
		ct, err := f.crm.CreateContact(ctx, f.mkt, in)
		if err != nil {
			t.Fatal(err)
		}
		f.ids[c.key] = ct.ID
	}
	if err := f.email.Suppress(ctx, f.mkt, "suppressed@example.jp", "asked by phone"); err != nil {
		t.Fatal(err)
	}
	sg, err := f.seg.CreateSegment(ctx, f.mkt, segments.SegmentInput{Name: "マーケ部門",
		Definition: json.RawMessage(`{"groups":[{"conditions":[{"field":"department","op":"eq","value":"マーケティング"}]}]}`)})
	if err != nil {
		t.Fatal(err)
	}
	if err := f.seg.RefreshSegment(ctx, 1, sg.ID); err != nil {
		t.Fatal(err)
	}
	return sg
}

const caseURL = "https://example.co.jp/case?x=1&y=2"

func campaignInput(sg segments.Segment) email.CampaignInput {
	return email.CampaignInput{Name: "4月のご案内", AudienceKind: email.AudienceSegment, AudienceID: sg.ID, Template: email.Template{
		Subject: "{{.Salutation}}へ 新しい事例のご案内",
		HTML:    `<html><body><p>{{.Salutation}}</p><p><a href="` + strings.ReplaceAll(caseURL, "&", "&amp;") + `">事例を読む</a></p></body></html>`,
		Text:    "{{.Salutation}}\n事例: " + caseURL + "\n"}}
}

// drain runs jobs until none is due.
func (f *fixture) drain(t *testing.T) {
	t.Helper()
	for i := 0; i < 50; i++ {
		n, err := f.jobs.RunOnce(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			return
		}
	}
	t.Fatal("jobs never settled")
}

type received struct {
	to      string
	headers mail.Header
	body    string
}

func (f *fixture) received(t *testing.T) map[string]received {
	t.Helper()
	out := map[string]received{}
	for _, m := range f.srv.Messages() {
		msg, err := mail.ReadMessage(strings.NewReader(string(m.Data)))
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := io.ReadAll(msg.Body)
		body, _ := io.ReadAll(quotedprintable.NewReader(strings.NewReader(string(raw))))
		if _, dup := out[m.To[0]]; dup {
			t.Errorf("%s received two messages", m.To[0])
		}
		out[m.To[0]] = received{to: m.To[0], headers: msg.Header, body: string(body)}
	}
	return out
}

func TestSend_OneMessagePerConsentingRecipientWithUnsubscribeHeaders(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := setup(t, d)
		ctx := context.Background()
		sg := f.audience(t)
		c, err := f.email.Create(ctx, f.mkt, campaignInput(sg))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.email.Create(ctx, f.rep, campaignInput(sg)); !errs.Is(err, errs.Forbidden) {
			t.Errorf("a sales rep creating a campaign: %v", err)
		}
		if _, err := f.email.Send(ctx, f.mkt, c.ID, "https://ryorin.example"); err != nil {
			t.Fatal(err)
		}
		if _, err := f.email.Send(ctx, f.mkt, c.ID, "https://ryorin.example"); !errs.Is(err, errs.Conflict) {
			t.Errorf("second send: %v", err)
		}
		var audited int
		if err := d.Reader().QueryRowContext(ctx, `SELECT COUNT(*) FROM audit_log WHERE object_type = 'email_campaign' AND object_id = ? AND action IN ('create', 'send')`, c.ID).Scan(&audited); err != nil || audited != 2 {
			t.Errorf("audit entries for create and send: %d %v", audited, err)
		}
		f.drain(t)
		got := f.received(t)
		if len(got) != 2 {
			t.Fatalf("the sink received %d messages: %v", len(got), got)
		}
		y, n := got["yamada@example.jp"], got["noname@example.jp"]
		if !strings.Contains(y.body, "株式会社両輪 山田様") || !strings.Contains(n.body, "ご担当者様") {
			t.Errorf("salutations:\n%s\n---\n%s", y.body, n.body)
		}
		for _, r := range []received{y, n} {
			lu := r.headers.Get("List-Unsubscribe")
			if !regexp.MustCompile(`^<https://ryorin\.example/e/u/[A-Za-z0-9_.-]+>$`).MatchString(lu) ||
				r.headers.Get("List-Unsubscribe-Post") != "List-Unsubscribe=One-Click" {
				t.Errorf("%s: unsubscribe headers %q / %q", r.to, lu, r.headers.Get("List-Unsubscribe-Post"))
			}
			if from, _ := mail.ParseAddress(r.headers.Get("From")); from == nil || from.Address != "news@ryorin.example" || from.Name != "両輪マーケティング" {
				t.Errorf("%s: From = %q", r.to, r.headers.Get("From"))
			}
			if !strings.Contains(r.body, "news@ryorin.example") || !strings.Contains(r.body, "/e/o/") || strings.Contains(r.body, `href="`+caseURL) {
				t.Errorf("%s: body lacks the sender, the pixel, or has an untracked link:\n%s", r.to, r.body)
			}
		}
		rep, err := f.email.Report(ctx, f.mkt, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		want := map[string]int64{email.ReasonNoConsent: 1, email.ReasonSuppressed: 1, email.ReasonNoEmail: 1}
		if rep.Recipients != 5 || rep.Sent != 2 || rep.Queued != 0 || fmt.Sprint(rep.Skipped) != fmt.Sprint(want) {
			t.Errorf("report = %+v", rep)
		}
		c, _ = f.email.Get(ctx, f.mkt, c.ID)
		if c.Status != email.StatusSent || c.FinishedAt == nil {
			t.Errorf("campaign after sending = %+v", c)
		}
	})
}

func TestSend_RunningTheJobAgainSendsNobodyTwice(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := setup(t, d)
		ctx := context.Background()
		sg := f.audience(t)
		c, err := f.email.Create(ctx, f.mkt, campaignInput(sg))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.email.Send(ctx, f.mkt, c.ID, "https://ryorin.example"); err != nil {
			t.Fatal(err)
		}
		job := platform.Job{WorkspaceID: 1, Kind: email.SendJob, Payload: json.RawMessage(fmt.Sprintf(`{"campaign":%d}`, c.ID)), Reclaimed: true}
		if err := f.email.HandleSend(ctx, job); err != nil {
			t.Fatal(err)
		}
		// A restart that lost everything but the send log: the cursor and the
		// status go back to the start, and the job runs again.
		if err := d.Write(ctx, "test", func(tx *db.Tx) error {
			_, err := tx.ExecContext(ctx, `UPDATE email_campaigns SET status = 'sending', cursor_id = 0 WHERE id = ?`, c.ID)
			return err
		}); err != nil {
			t.Fatal(err)
		}
		if err := f.email.HandleSend(ctx, job); err != nil {
			t.Fatal(err)
		}
		f.drain(t)
		if got := f.received(t); len(got) != 2 {
			t.Errorf("the sink received %d messages, want 2", len(got))
		}
		var queued int
		if err := d.Reader().QueryRowContext(ctx, db.Rebind(d.Dialect, `SELECT COUNT(*) FROM mail_messages WHERE ref_type = 'email_campaign' AND ref_id = ?`), c.ID).Scan(&queued); err != nil || queued != 2 {
			t.Errorf("mail rows = %d, %v", queued, err)
		}
	})
}

var (
	openRe  = regexp.MustCompile(`/e/o/([A-Za-z0-9_.-]+)\.gif`)
	clickRe = regexp.MustCompile(`/e/c/([A-Za-z0-9_.-]+)"`)
	unsubRe = regexp.MustCompile(`/e/u/([A-Za-z0-9_.-]+)>`)
)

func TestTracking_OpensClicksAndUnsubscribe(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := setup(t, d)
		ctx := context.Background()
		sg := f.audience(t)
		c, err := f.email.Create(ctx, f.mkt, campaignInput(sg))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.email.Send(ctx, f.mkt, c.ID, "https://ryorin.example"); err != nil {
			t.Fatal(err)
		}
		f.drain(t)
		y := f.received(t)["yamada@example.jp"]
		open, click, unsub := openRe.FindStringSubmatch(y.body), clickRe.FindStringSubmatch(y.body), unsubRe.FindStringSubmatch(y.headers.Get("List-Unsubscribe"))
		if open == nil || click == nil || unsub == nil {
			t.Fatalf("links not found in:\n%s\n%v", y.body, y.headers)
		}
		for i := 0; i < 2; i++ {
			if err := f.email.Open(ctx, 1, open[1]); err != nil {
				t.Fatal(err)
			}
		}
		f.clock.Advance(2 * time.Minute)
		dest, err := f.email.Click(ctx, 1, click[1])
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(dest, "https://example.co.jp/case?") || !strings.Contains(dest, track.IdentifyParam+"=") || !strings.Contains(dest, "y=2") {
			t.Errorf("click goes to %q", dest)
		}
		// Forged and cross-purpose tokens change nothing.
		for _, tok := range []string{open[1] + "x", "abc.def", "", click[1]} {
			if err := f.email.Open(ctx, 1, tok); !errs.Is(err, errs.Unauthenticated) {
				t.Errorf("Open(%q) = %v", tok, err)
			}
		}
		body, mac, _ := strings.Cut(click[1], ".")
		if _, err := f.email.Click(ctx, 1, body[:len(body)-2]+"AA."+mac); !errs.Is(err, errs.Unauthenticated) {
			t.Errorf("a click token with another URL: %v", err)
		}
		rep, err := f.email.Report(ctx, f.mkt, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		if rep.UniqueOpens != 1 || rep.TotalOpens != 2 || rep.UniqueClicks != 1 || len(rep.Links) != 1 || rep.Links[0].URL != caseURL || rep.Links[0].Clicks != 1 {
			t.Errorf("report = %+v", rep)
		}
		var opens, clicks int
		q := db.Rebind(d.Dialect, `SELECT COUNT(*) FROM events WHERE workspace_id = 1 AND contact_id = ? AND kind = ?`)
		_ = d.Reader().QueryRowContext(ctx, q, f.ids["yamada"], platform.EventEmailOpen).Scan(&opens)
		_ = d.Reader().QueryRowContext(ctx, q, f.ids["yamada"], platform.EventEmailClick).Scan(&clicks)
		if opens != 1 || clicks != 1 {
			t.Errorf("events: %d opens (two within a minute are one), %d clicks", opens, clicks)
		}

		// Unsubscribe works even after the campaign is deleted.
		if err := f.email.Delete(ctx, f.mkt, c.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := f.email.Unsubscribe(ctx, 1, unsub[1]+"x"); !errs.Is(err, errs.Unauthenticated) {
			t.Errorf("forged unsubscribe: %v", err)
		}
		st, err := f.email.Unsubscribe(ctx, 1, unsub[1])
		if err != nil || !st.Done || st.Email != "y*****@example.jp" {
			t.Fatalf("unsubscribe = %+v, %v", st, err)
		}
		if st, err := f.email.Unsubscribe(ctx, 1, unsub[1]); err != nil || !st.Done {
			t.Errorf("second unsubscribe = %+v, %v", st, err)
		}
		ct, _ := f.crm.GetContact(ctx, d.Reader(), platform.System(1), f.ids["yamada"])
		if ct.Consent.Email != "revoked" {
			t.Errorf("consent after unsubscribe = %+v", ct.Consent)
		}
		if dest, err := f.email.Click(ctx, 1, click[1]); err != nil || !strings.HasPrefix(dest, "https://example.co.jp/case?") {
			t.Errorf("click after delete = %q, %v", dest, err)
		}

		// A new campaign to the same segment skips the unsubscribed address.
		c2, err := f.email.Create(ctx, f.mkt, campaignInput(sg))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.email.Send(ctx, f.mkt, c2.ID, "https://ryorin.example"); err != nil {
			t.Fatal(err)
		}
		f.drain(t)
		rep, _ = f.email.Report(ctx, f.mkt, c2.ID)
		if rep.Sent != 1 || rep.Skipped[email.ReasonNoConsent] != 2 {
			t.Errorf("second campaign report = %+v", rep)
		}
	})
}

// A campaign scheduled for later, taken back and scheduled again, sends at
// the new time only; with a sending window of 9–18 in Tokyo it waits for the
// window to open, and with a limit of two recipients a minute it handles two,
// then two more a minute later, then the last one.
func TestSchedule_SendsAtTheTimeWithinTheWindowAtTheRate(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := setup(t, d)
		ctx := context.Background()
		sg := f.audience(t)
		c, err := f.email.Create(ctx, f.mkt, campaignInput(sg))
		if err != nil {
			t.Fatal(err)
		}
		handled := func() int {
			var n int
			if err := d.Reader().QueryRowContext(ctx, db.Rebind(d.Dialect, `SELECT COUNT(*) FROM campaign_recipients WHERE campaign_id = ?`), c.ID).Scan(&n); err != nil {
				t.Fatal(err)
			}
			return n
		}
		status := func() string {
			got, err := f.email.Get(ctx, f.mkt, c.ID)
			if err != nil {
				t.Fatal(err)
			}
			return got.Status
		}
		for _, bad := range []struct {
			o     email.SendOptions
			field string
		}{
			{email.SendOptions{At: ptr(t0.Add(-time.Hour))}, "send_at"},
			{email.SendOptions{PerMinute: -1}, "per_minute"},
			{email.SendOptions{WindowStart: 24}, "window_start"},
		} {
			_, err := f.email.Schedule(ctx, f.mkt, c.ID, "https://ryorin.example", bad.o)
			if e, ok := errs.As(err); !ok || e.Field != bad.field {
				t.Errorf("options %+v: %v, want an error on %s", bad.o, err, bad.field)
			}
		}
		first := t0.Add(2 * time.Hour)
		if got, err := f.email.Schedule(ctx, f.mkt, c.ID, "https://ryorin.example", email.SendOptions{At: &first}); err != nil || got.Status != email.StatusScheduled {
			t.Fatalf("schedule: %v %+v", err, got)
		}
		f.drain(t)
		if n := handled(); n != 0 {
			t.Fatalf("%d recipients handled before the time", n)
		}
		if _, err := f.email.Unschedule(ctx, f.mkt, c.ID); err != nil || status() != email.StatusDraft {
			t.Fatalf("unschedule: %v, status %s", err, status())
		}
		again := t0.Add(time.Hour) // 19:00 in Tokyo: the window is closed
		if _, err := f.email.Schedule(ctx, f.mkt, c.ID, "https://ryorin.example", email.SendOptions{At: &again, PerMinute: 2, WindowStart: 9, WindowEnd: 18}); err != nil {
			t.Fatal(err)
		}
		f.clock.Set(first) // both jobs are due; the first one's time is no longer the campaign's
		f.drain(t)
		if n := handled(); n != 0 || status() != email.StatusSending {
			t.Fatalf("outside the window: %d handled, status %s", n, status())
		}
		tokyo, _ := time.LoadLocation("Asia/Tokyo")
		opens := time.Date(2026, 4, 2, 9, 0, 0, 0, tokyo)
		f.clock.Set(opens.Add(-time.Minute))
		f.drain(t)
		if n := handled(); n != 0 {
			t.Fatalf("%d handled a minute before the window opens", n)
		}
		for i, want := range []int{2, 4, 5} {
			f.clock.Set(opens.Add(time.Duration(i) * time.Minute))
			f.drain(t)
			if n := handled(); n != want {
				t.Fatalf("minute %d: %d recipients handled, want %d", i, n, want)
			}
		}
		f.clock.Set(opens.Add(3 * time.Minute))
		f.drain(t)
		if status() != email.StatusSent {
			t.Errorf("after the last minute the campaign is %s, want sent", status())
		}
		if got := f.received(t); len(got) != 2 {
			t.Errorf("the sink received %d messages, want the 2 consenting recipients once each", len(got))
		}
	})
}

// A recipient the SMTP server refuses for good (550) is a hard bounce: the
// address is suppressed for every later send and the bounce is on the
// contact's timeline. A provider's complaint, reported by API, does the
// same; reporting it again changes nothing.
func TestBounces_RefusedRecipientsAndComplaintsAreSuppressed(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := setup(t, d)
		ctx := context.Background()
		sg := f.audience(t)
		c, err := f.email.Create(ctx, f.mkt, campaignInput(sg))
		if err != nil {
			t.Fatal(err)
		}
		f.srv.FailPermanently()
		if _, err := f.email.Send(ctx, f.mkt, c.ID, "https://ryorin.example"); err != nil {
			t.Fatal(err)
		}
		f.drain(t)
		reason := func(addr string) string {
			var r string
			_ = d.Reader().QueryRowContext(ctx, db.Rebind(d.Dialect, `SELECT reason FROM email_suppressions WHERE email = ?`), addr).Scan(&r)
			return r
		}
		if r := reason("yamada@example.jp"); r != email.BounceHard {
			t.Errorf("after a 550 the address is suppressed as %q, want bounce", r)
		}
		var entries int
		if err := d.Reader().QueryRowContext(ctx, db.Rebind(d.Dialect, `SELECT COUNT(*) FROM timeline WHERE kind = 'email.bounce' AND contact_id = ?`), f.ids["yamada"]).Scan(&entries); err != nil || entries != 1 {
			t.Errorf("bounce timeline entries = %d (%v), want 1", entries, err)
		}
		for i := 0; i < 2; i++ {
			if n, err := f.email.RecordBounces(ctx, f.mkt, []email.BounceEvent{{Email: "Outside@example.jp", Type: email.BounceComplaint, Detail: "spam report"}}); err != nil || n != 1 {
				t.Fatalf("complaint %d: %d %v", i, n, err)
			}
		}
		if r := reason("outside@example.jp"); r != email.BounceComplaint {
			t.Errorf("after a complaint the address is suppressed as %q", r)
		}
		if err := d.Reader().QueryRowContext(ctx, db.Rebind(d.Dialect, `SELECT COUNT(*) FROM timeline WHERE kind = 'email.complaint'`)).Scan(&entries); err != nil || entries != 1 {
			t.Errorf("complaint timeline entries = %d (%v), want 1 though reported twice", entries, err)
		}
		_, err = f.email.RecordBounces(ctx, f.mkt, []email.BounceEvent{{Email: "a@example.jp", Type: "bounce"}, {Email: "not an address", Type: "bounce"}})
		if e, ok := errs.As(err); !ok || e.Field != "events[1].email" {
			t.Errorf("a bad event: %v, want an error on events[1].email", err)
		}
		if _, err := f.email.RecordBounces(ctx, f.rep, []email.BounceEvent{{Email: "b@example.jp", Type: "bounce"}}); errs.KindOf(err) != errs.Forbidden {
			t.Errorf("a sales rep recorded a bounce: %v", err)
		}
	})
}

// An A/B test of the subject on 40 % of a list of 60: the sample is split
// between A and B and sent first; nobody else gets anything until the wait
// is over. B is opened more, so the rest all get B. Each contact gets one
// message in all.
func TestABTest_SendsTheSampleThenTheRestTheWinner(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := setup(t, d)
		ctx := context.Background()
		f.email.Batch = 25
		l, err := f.seg.CreateList(ctx, f.mkt, segments.ListInput{Name: "展示会来場者"})
		if err != nil {
			t.Fatal(err)
		}
		var ids []int64
		for i := 0; i < 60; i++ {
			c, err := f.crm.CreateContact(ctx, f.mkt, crm.ContactInput{Email: ptr(fmt.Sprintf("p%02d@example.jp", i)), FamilyName: ptr("山田"),
				ConsentEmail: ptr("granted"), ConsentSource: ptr("test")})
			if err != nil {
				t.Fatal(err)
			}
			ids = append(ids, c.ID)
		}
		if _, err := f.seg.AddToList(ctx, f.mkt, l.ID, ids); err != nil {
			t.Fatal(err)
		}
		in := email.CampaignInput{Name: "A/B", AudienceKind: email.AudienceList, AudienceID: l.ID,
			Template: email.Template{Subject: "A: ご案内", HTML: "<p>{{.Salutation}}</p>", Text: "{{.Salutation}}"},
			AB:       &email.ABTest{B: email.Template{Subject: "B: 事例のご紹介"}, SamplePercent: 40, Metric: "opens", WaitMinutes: 60}}
		bad := in
		bad.AB = &email.ABTest{SamplePercent: 70, Metric: "opens", WaitMinutes: 60, B: email.Template{Subject: "x"}}
		if _, err := f.email.Create(ctx, f.mkt, bad); fieldOf(err) != "ab_test.sample_percent" {
			t.Errorf("a 70 %% sample: %v", err)
		}
		c, err := f.email.Create(ctx, f.mkt, in)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.email.Send(ctx, f.mkt, c.ID, "https://ryorin.example"); err != nil {
			t.Fatal(err)
		}
		f.drain(t)
		count := func(cond string) int {
			var n int
			if err := d.Reader().QueryRowContext(ctx, db.Rebind(d.Dialect, `SELECT COUNT(*) FROM campaign_recipients WHERE campaign_id = ? AND `+cond), c.ID).Scan(&n); err != nil {
				t.Fatal(err)
			}
			return n
		}
		a, b, all := count("variant = 'A'"), count("variant = 'B'"), count("1 = 1")
		if a == 0 || b == 0 || a+b != all || all < 12 || all > 36 {
			t.Fatalf("the test sent A to %d and B to %d (%d in all), want both in a sample of about 24 of 60", a, b, all)
		}
		// B's recipients open it; A's do not.
		if err := d.Write(ctx, "test", func(tx *db.Tx) error {
			_, err := tx.ExecContext(ctx, `UPDATE campaign_recipients SET opens = 1, first_open_at = ? WHERE campaign_id = ? AND variant = 'B'`, db.Millis(f.clock.Now()), c.ID)
			return err
		}); err != nil {
			t.Fatal(err)
		}
		f.clock.Advance(59 * time.Minute)
		f.drain(t)
		if n := count("1 = 1"); n != all {
			t.Fatalf("%d recipients before the wait is over, want still %d", n, all)
		}
		f.clock.Advance(time.Minute)
		f.drain(t)
		got, err := f.email.Get(ctx, f.mkt, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.Status != email.StatusSent || got.AB.Winner != "B" || count("1 = 1") != 60 || count("variant = 'B'") != 60-a {
			t.Errorf("after the wait: %s, winner %q, %d recipients, %d got B; want sent, B, 60, %d", got.Status, got.AB.Winner, count("1 = 1"), count("variant = 'B'"), 60-a)
		}
		if n := len(f.received(t)); n != 60 {
			t.Errorf("the sink received %d messages, want 60 (one each)", n)
		}
		rep, err := f.email.Report(ctx, f.mkt, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(rep.Variants) != 2 || rep.Variants[0].Variant != "A" || rep.Variants[0].OpenRate != 0 || rep.Variants[1].Messages != int64(60-a) {
			t.Errorf("variants %+v, want A (no opens, %d) and B (%d)", rep.Variants, a, 60-a)
		}
	})
}

func fieldOf(err error) string {
	if e, ok := errs.As(err); ok {
		return e.Field
	}
	return ""
}
