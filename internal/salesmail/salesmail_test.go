package salesmail_test

import (
	"context"
	"errors"
	"fmt"
	"net/mail"
	"net/url"
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
	"github.com/ryorin/ryorin/internal/platform"
	"github.com/ryorin/ryorin/internal/salesmail"
	"github.com/ryorin/ryorin/internal/smtptest"
)

func TestMain(m *testing.M) { os.Exit(dbtest.Main(m)) }

var t0 = time.Date(2026, 4, 1, 9, 0, 0, 0, time.UTC)

func ptr[T any](v T) *T { return &v }

type fixture struct {
	d       *db.DB
	clock   *clock.Fake
	crm     *crm.Service
	sm      *salesmail.Service
	jobs    *platform.Jobs
	srv     *smtptest.Server
	admin   platform.Actor
	rep     platform.Actor
	contact crm.Contact
}

func setup(t *testing.T, d *db.DB) *fixture {
	t.Helper()
	ctx := context.Background()
	if err := platform.EnsureWorkspace(ctx, d, 1, "Test", t0); err != nil {
		t.Fatal(err)
	}
	cli := platform.CLI(1)
	rp, err := platform.CreateUser(ctx, d, cli, platform.NewUser{Email: "rep@ryorin.example", Name: "伊藤 さくら", Role: platform.RoleSales}, t0)
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
	f := &fixture{d: d, clock: fc, crm: cs, sm: salesmail.New(d, fc, cs, m, nil), jobs: jobs, srv: srv, admin: cli,
		rep: rp.Actor(1, platform.ActorUser)}
	co, err := cs.CreateCompany(ctx, f.rep, crm.CompanyInput{Name: ptr("株式会社両輪")})
	if err != nil {
		t.Fatal(err)
	}
	f.contact, err = cs.CreateContact(ctx, f.rep, crm.ContactInput{FamilyName: ptr("山田"), GivenName: ptr("太郎"),
		Email: ptr("taro@customer.example"), CompanyID: &co.ID})
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func fieldOf(err error) string {
	var e *errs.Error
	if errors.As(err, &e) {
		return e.Field
	}
	return ""
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

var trackRe = regexp.MustCompile(`https://crm\.example/e/(so|sc)/([A-Za-z0-9_.-]+?)(\.gif)?["\s<]`)

func TestSend_QueuesTrackedMailLogsActivityAndCountsOpensAndClicks(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := setup(t, d)
		if _, err := f.sm.SaveSettings(ctx, f.admin, salesmail.Settings{InboundDomain: "reply.ryorin.example"}); err != nil {
			t.Fatal(err)
		}
		if _, err := f.crm.SavePipeline(ctx, f.admin, 0, crm.PipelineInput{Name: "営業", IsDefault: true, Stages: []crm.PipelineStage{
			{Name: "提案", Kind: "open", Probability: 30}, {Name: "受注", Kind: "won", Probability: 100}, {Name: "失注", Kind: "lost"}}}); err != nil {
			t.Fatal(err)
		}
		dl, err := f.crm.CreateDeal(ctx, f.rep, crm.DealInput{Name: ptr("導入案件"), Contacts: &[]crm.DealContact{{ContactID: f.contact.ID}}})
		if err != nil {
			t.Fatal(err)
		}
		in := salesmail.SendInput{Subject: "{{.FamilyName}}様 ご提案の件", Body: "{{.Salutation}}\n\n資料は「https://example.com/doc?a=1&b=2」をご覧ください。\n",
			DealID: dl.ID, IdempotencyKey: "form:abc", BaseURL: "https://crm.example"}
		e, err := f.sm.Send(ctx, f.rep, f.contact.ID, in)
		if err != nil {
			t.Fatal(err)
		}
		// The same key again (a double-submitted form): the same message.
		again, err := f.sm.Send(ctx, f.rep, f.contact.ID, in)
		if err != nil || again.ID != e.ID {
			t.Fatalf("resend = %+v, %v; want the first message %d", again, err, e.ID)
		}
		if e.Subject != "山田様 ご提案の件" || !strings.HasPrefix(e.Body, "株式会社両輪 山田様") || e.DealID != dl.ID || e.ActivityID == 0 {
			t.Fatalf("email = %+v", e)
		}
		f.runJobs(t)
		f.runJobs(t) // a retried job run sends nothing more
		msgs := f.srv.Messages()
		if len(msgs) != 1 {
			t.Fatalf("%d messages sent, want 1", len(msgs))
		}
		raw := string(msgs[0].Data)
		if msgs[0].To[0] != "taro@customer.example" {
			t.Fatalf("to = %v", msgs[0].To)
		}
		parsed, err := mail.ReadMessage(strings.NewReader(raw))
		if err != nil {
			t.Fatal(err)
		}
		rt, err := parsed.Header.AddressList("Reply-To")
		mine, _ := f.sm.MyReplyAddress(ctx, f.rep)
		if err != nil || len(rt) != 1 || rt[0].Name != "伊藤 さくら" || rt[0].Address != mine || mine == "" {
			t.Fatalf("Reply-To = %v, %v in:\n%s", rt, err, raw)
		}
		e, err = f.sm.Get(ctx, f.rep, e.ID)
		if err != nil || e.Status != platform.MailSent || e.MessageID == "" || !strings.Contains(raw, e.MessageID) {
			t.Fatalf("after sending: %+v, %v", e, err)
		}
		unfolded := strings.NewReplacer("=\r\n", "", "=3D", "=").Replace(raw)
		var open, click string
		for _, m := range trackRe.FindAllStringSubmatch(unfolded, -1) {
			if m[1] == "so" {
				open = m[2]
			} else {
				click = m[2]
			}
		}
		if open == "" || click == "" {
			t.Fatalf("no pixel or tracked link in:\n%s", unfolded)
		}
		if strings.Contains(unfolded, `href="https://example.com/doc`) {
			t.Fatal("a link was not rewritten")
		}
		for range 2 {
			if err := f.sm.Open(ctx, 1, open); err != nil {
				t.Fatal(err)
			}
			f.clock.Advance(2 * time.Minute)
		}
		dest, err := f.sm.Click(ctx, 1, click)
		// The link ends at the Japanese bracket, not with the sentence after
		// it (the redirect adds the visitor's _ryid).
		du, _ := url.Parse(dest)
		if err != nil || du == nil || du.Host != "example.com" || du.Path != "/doc" || du.Query().Get("a") != "1" || du.Query().Get("b") != "2" {
			t.Fatalf("click → %q, %v", dest, err)
		}
		if err := f.sm.Open(ctx, 1, open+"x"); !errs.Is(err, errs.Unauthenticated) {
			t.Fatalf("forged open: %v", err)
		}
		list, err := f.sm.List(ctx, f.rep, f.contact.ID)
		if err != nil || len(list) != 1 || list[0].Opens != 2 || list[0].Clicks != 1 || list[0].LastOpenAt == nil {
			t.Fatalf("list = %+v, %v", list, err)
		}
		// Logged once, as an outbound email on the contact, company and deal.
		var acts, tl, events int
		if err := d.Reader().QueryRowContext(ctx, `SELECT COUNT(*) FROM activities WHERE kind = 'email' AND direction = 'outbound'
			AND contact_id = ? AND deal_id = ? AND company_id = ?`, f.contact.ID, dl.ID, f.contact.CompanyID).Scan(&acts); err != nil || acts != 1 {
			t.Fatalf("activities = %d, %v", acts, err)
		}
		if err := d.Reader().QueryRowContext(ctx, `SELECT COUNT(*) FROM timeline WHERE contact_id = ? AND kind = 'activity.email'`,
			f.contact.ID).Scan(&tl); err != nil || tl != 1 {
			t.Fatalf("timeline = %d, %v", tl, err)
		}
		if err := d.Reader().QueryRowContext(ctx, `SELECT COUNT(*) FROM events WHERE contact_id = ? AND kind IN ('email_open', 'email_click')`,
			f.contact.ID).Scan(&events); err != nil || events != 3 {
			t.Fatalf("events = %d, %v", events, err)
		}
		if err := d.Reader().QueryRowContext(ctx, `SELECT COUNT(*) FROM timeline WHERE contact_id = ? AND kind IN ('event.email_open', 'event.email_click')`,
			f.contact.ID).Scan(&tl); err != nil || tl != 3 {
			t.Fatalf("open/click timeline entries = %d, %v", tl, err)
		}
	})
}

func TestSend_RefusesWhatMustNotBeSent(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := setup(t, d)
		ok := salesmail.SendInput{Subject: "件名", Body: "本文"}
		for _, c := range []struct {
			name  string
			in    salesmail.SendInput
			field string
		}{
			{"no subject", salesmail.SendInput{Body: "x"}, "subject"},
			{"no body", salesmail.SendInput{Subject: "x"}, "body"},
			{"bad template", salesmail.SendInput{Subject: "x", Body: "{{.Nope}}"}, "text"},
			{"unknown template", salesmail.SendInput{TemplateID: 99}, "template_id"},
			{"no such deal", salesmail.SendInput{Subject: "x", Body: "y", DealID: 999}, "deal_id"},
		} {
			if _, err := f.sm.Send(ctx, f.rep, f.contact.ID, c.in); fieldOf(err) != c.field {
				t.Errorf("%s: %v, want an error naming %s", c.name, err, c.field)
			}
		}
		// Unsubscribed from marketing: one-to-one mail still goes.
		exec(t, d, `INSERT INTO email_suppressions (workspace_id, email, reason, created_at) VALUES (1, ?, 'unsubscribed', 0)`, f.contact.Email)
		if _, err := f.sm.Send(ctx, f.rep, f.contact.ID, ok); err != nil {
			t.Fatalf("unsubscribed contact: %v", err)
		}
		exec(t, d, `UPDATE email_suppressions SET reason = 'bounce' WHERE email = ?`, f.contact.Email)
		if _, err := f.sm.Send(ctx, f.rep, f.contact.ID, ok); fieldOf(err) != "to" {
			t.Fatalf("bounced address: %v", err)
		}
		noMail, err := f.crm.CreateContact(ctx, f.rep, crm.ContactInput{FamilyName: ptr("佐藤")})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.sm.Send(ctx, f.rep, noMail.ID, ok); fieldOf(err) != "to" {
			t.Fatalf("no address: %v", err)
		}
	})
}

func TestInbound_LogsReplyOnContactLinkedToOriginalAndAttributedByReplyAddress(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := setup(t, d)
		if _, err := f.sm.SaveSettings(ctx, f.admin, salesmail.Settings{InboundDomain: "Reply.Ryorin.example"}); err != nil {
			t.Fatal(err)
		}
		out, err := f.sm.Send(ctx, f.rep, f.contact.ID, salesmail.SendInput{Subject: "ご提案", Body: "よろしくお願いします"})
		if err != nil {
			t.Fatal(err)
		}
		addr, err := f.sm.MyReplyAddress(ctx, f.rep)
		if err != nil || !strings.HasPrefix(addr, fmt.Sprintf("reply+%d.", f.rep.UserID)) || !strings.HasSuffix(addr, "@reply.ryorin.example") {
			t.Fatalf("reply address %q, %v", addr, err)
		}
		raw := "From: =?UTF-8?B?5bGx55Sw?= <Taro@Customer.example>\r\nTo: " + strings.ToUpper(addr[:6]) + addr[6:] +
			"\r\nSubject: Re: ご提案\r\nMessage-ID: <r1@customer.example>\r\nIn-Reply-To: " + out.MessageID +
			"\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nありがとうございます。\r\n"
		m, err := salesmail.ParseInbound([]byte(fmt.Sprintf(`{"raw": %q}`, raw)))
		if err != nil {
			t.Fatal(err)
		}
		api := platform.System(1)
		in, err := f.sm.Inbound(ctx, api, m)
		if err != nil {
			t.Fatal(err)
		}
		if in.Direction != salesmail.Inbound || in.ContactID != f.contact.ID || in.ReplyToID != out.ID || in.UserID != f.rep.UserID ||
			in.Subject != "Re: ご提案" || !strings.Contains(in.Body, "ありがとうございます") {
			t.Fatalf("inbound = %+v", in)
		}
		// The forwarder retries: logged once.
		again, err := f.sm.Inbound(ctx, api, m)
		if err != nil || again.ID != in.ID {
			t.Fatalf("again = %+v, %v", again, err)
		}
		var n int
		if err := d.Reader().QueryRowContext(ctx, `SELECT COUNT(*) FROM activities WHERE kind = 'email' AND direction = 'inbound' AND contact_id = ? AND owner_id = ?`,
			f.contact.ID, f.rep.UserID).Scan(&n); err != nil || n != 1 {
			t.Fatalf("inbound activities = %d, %v", n, err)
		}
		// A forged reply address attributes nothing; an unknown sender is refused naming from.
		if u := salesmail.ReplyUser([]byte("0123456789abcdef0123456789abcdef"), "reply.ryorin.example", addr); u != 0 {
			t.Fatalf("address verified under another key: %d", u)
		}
		_, err = f.sm.Inbound(ctx, api, salesmail.InboundMessage{From: "nobody@else.example", Subject: "x"})
		if fieldOf(err) != "from" {
			t.Fatalf("unknown sender: %v", err)
		}
	})
}

func TestSend_ConcurrentSubmitsWithOneKeySendOnce(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := setup(t, d)
		in := salesmail.SendInput{Subject: "件名", Body: "本文", IdempotencyKey: "form:same"}
		ids := make(chan int64, 4)
		errc := make(chan error, 4)
		for range 4 {
			go func() {
				e, err := f.sm.Send(ctx, f.rep, f.contact.ID, in)
				ids <- e.ID
				errc <- err
			}()
		}
		first := int64(0)
		for range 4 {
			id, err := <-ids, <-errc
			if err != nil {
				t.Fatal(err)
			}
			if first == 0 {
				first = id
			}
			if id != first {
				t.Fatalf("ids %d and %d for one key", first, id)
			}
		}
		f.runJobs(t)
		if n := len(f.srv.Messages()); n != 1 {
			t.Fatalf("%d messages sent, want 1", n)
		}
	})
}
