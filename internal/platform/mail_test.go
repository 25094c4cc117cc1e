package platform_test

import (
	"bytes"
	"context"
	"io"
	"mime"
	"net"
	"net/mail"
	"strings"
	"testing"
	"time"

	"github.com/ryorin/ryorin/internal/db"
	"github.com/ryorin/ryorin/internal/dbtest"
	"github.com/ryorin/ryorin/internal/errs"
	"github.com/ryorin/ryorin/internal/platform"
	"github.com/ryorin/ryorin/internal/smtptest"
)

// newMailer returns a mailer whose workspace sends through srv (nil: no
// SMTP configured).
func newMailer(t *testing.T, d *db.DB, srv *smtptest.Server) (*platform.Mailer, *platform.Jobs) {
	t.Helper()
	q, fc := newJobs(t, d)
	m := &platform.Mailer{DB: d, Clock: fc, Jobs: q, Timeout: 5 * time.Second}
	m.Register()
	if srv != nil {
		_, err := platform.SetSMTP(context.Background(), d, platform.CLI(1), platform.SMTPSettings{Host: srv.Host(), Port: srv.Port(), TLS: "none",
			FromAddress: "noreply@example.jp", FromName: "両輪 営業部", Username: "", Password: "s3cret-pass"}, fc.Now())
		if err != nil {
			t.Fatal(err)
		}
	}
	return m, q
}

func queueMail(t *testing.T, m *platform.Mailer, msg platform.OutboundMessage) int64 {
	t.Helper()
	var id int64
	err := m.DB.Write(context.Background(), "test", func(tx *db.Tx) error {
		var err error
		id, err = m.Queue(context.Background(), tx, 1, msg)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func getMail(t *testing.T, d *db.DB, id int64) platform.MailMessage {
	t.Helper()
	mm, err := platform.GetMail(context.Background(), d.Reader(), 1, id)
	if err != nil {
		t.Fatal(err)
	}
	return mm
}

var jpMail = platform.OutboundMessage{Kind: "test", To: "taro@example.com", Subject: "【重要】ご案内：新製品発表会のお知らせ",
	Text: "山田様\n\nいつもお世話になっております。", HTML: "<p>山田様</p>",
	Headers: map[string]string{"List-Unsubscribe": "<https://ryorin.example/u/abc>", "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"}}

func TestMail_QueuedMailIsDeliveredOnceAndMarkedSent(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		srv := smtptest.Start(t)
		m, q := newMailer(t, d, srv)
		id := queueMail(t, m, jpMail)
		if mm := getMail(t, d, id); mm.Status != platform.MailQueued || !strings.HasPrefix(mm.MessageID, "<mail-") || !strings.HasSuffix(mm.MessageID, "@example.jp>") {
			t.Fatalf("queued row: %+v", mm)
		}
		for i := 0; i < 2; i++ {
			if _, err := q.RunOnce(context.Background()); err != nil {
				t.Fatal(err)
			}
		}
		msgs := srv.Messages()
		if len(msgs) != 1 {
			t.Fatalf("server got %d messages", len(msgs))
		}
		mm := getMail(t, d, id)
		if mm.Status != platform.MailSent || mm.SentAt == nil || mm.Attempts != 1 {
			t.Fatalf("after send: %+v", mm)
		}
		if msgs[0].From != "noreply@example.jp" || len(msgs[0].To) != 1 || msgs[0].To[0] != "taro@example.com" {
			t.Fatalf("envelope: %s → %v", msgs[0].From, msgs[0].To)
		}
		parsed, err := mail.ReadMessage(bytes.NewReader(msgs[0].Data))
		if err != nil {
			t.Fatal(err)
		}
		subj, err := new(mime.WordDecoder).DecodeHeader(parsed.Header.Get("Subject"))
		if err != nil || subj != jpMail.Subject {
			t.Fatalf("subject %q decodes to %q, %v", parsed.Header.Get("Subject"), subj, err)
		}
		if got := parsed.Header.Get("Message-Id"); got != mm.MessageID {
			t.Fatalf("Message-ID %q, stored %q", got, mm.MessageID)
		}
		if parsed.Header.Get("List-Unsubscribe") != "<https://ryorin.example/u/abc>" || parsed.Header.Get("List-Unsubscribe-Post") != "List-Unsubscribe=One-Click" {
			t.Fatalf("unsubscribe headers: %v", parsed.Header)
		}
		from, err := (&mail.AddressParser{WordDecoder: new(mime.WordDecoder)}).Parse(parsed.Header.Get("From"))
		if err != nil || from.Name != "両輪 営業部" || from.Address != "noreply@example.jp" {
			t.Fatalf("From %q: %v %v", parsed.Header.Get("From"), from, err)
		}
		body, _ := io.ReadAll(parsed.Body)
		if !strings.Contains(parsed.Header.Get("Content-Type"), "multipart/alternative") || len(body) == 0 {
			t.Fatalf("content type %q", parsed.Header.Get("Content-Type"))
		}
		if bytes.Contains(msgs[0].Data, []byte("s3cret-pass")) {
			t.Fatal("the SMTP password leaked into the message")
		}
		counts, err := platform.MailCounts(context.Background(), d.Reader())
		if err != nil || counts[platform.MailSent] != 1 {
			t.Fatalf("counts %v %v", counts, err)
		}
	})
}

func TestMail_TemporaryFailureRetriesAfterBackoffThenSucceeds(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		srv := smtptest.Start(t)
		m, q := newMailer(t, d, srv)
		fc := m.Clock.(interface{ Advance(time.Duration) })
		srv.FailTemporarily()
		id := queueMail(t, m, jpMail)
		q.RunOnce(context.Background())
		mm := getMail(t, d, id)
		if mm.Status != platform.MailQueued || !strings.Contains(mm.LastError, "451") || len(srv.Messages()) != 0 {
			t.Fatalf("after 4xx: %+v", mm)
		}
		srv.Succeed()
		q.RunOnce(context.Background())
		if len(srv.Messages()) != 0 {
			t.Fatal("retried before the backoff")
		}
		fc.Advance(time.Hour)
		q.RunOnce(context.Background())
		if mm := getMail(t, d, id); mm.Status != platform.MailSent || mm.Attempts != 2 || len(srv.Messages()) != 1 {
			t.Fatalf("after retry: %+v, %d messages", mm, len(srv.Messages()))
		}
	})
}

func TestMail_ConnectionRefusedIsTemporary(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		m, q := newMailer(t, d, nil)
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		port := ln.Addr().(*net.TCPAddr).Port
		ln.Close()
		if _, err := platform.SetSMTP(context.Background(), d, platform.CLI(1), platform.SMTPSettings{Host: "127.0.0.1", Port: port, TLS: "none", FromAddress: "a@example.jp"}, t0); err != nil {
			t.Fatal(err)
		}
		id := queueMail(t, m, jpMail)
		q.RunOnce(context.Background())
		if mm := getMail(t, d, id); mm.Status != platform.MailQueued || mm.LastError == "" {
			t.Fatalf("after refused connection: %+v", mm)
		}
	})
}

func TestMail_PermanentFailureIsNotRetried(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		srv := smtptest.Start(t)
		m, q := newMailer(t, d, srv)
		srv.FailPermanently()
		id := queueMail(t, m, jpMail)
		q.RunOnce(context.Background())
		m.Clock.(interface{ Advance(time.Duration) }).Advance(2 * time.Hour)
		srv.Succeed()
		q.RunOnce(context.Background())
		mm := getMail(t, d, id)
		if mm.Status != platform.MailFailed || !strings.Contains(mm.LastError, "550") || mm.Attempts != 1 || len(srv.Messages()) != 0 {
			t.Fatalf("after 5xx: %+v, %d messages", mm, len(srv.Messages()))
		}
		if c, _ := platform.JobCounts(context.Background(), d.Reader()); c[platform.JobFailed] != 1 {
			t.Fatalf("jobs %v", c)
		}
	})
}

func TestMail_NoSMTPConfiguredFailsWithAClearError(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		m, q := newMailer(t, d, nil)
		id := queueMail(t, m, jpMail)
		q.RunOnce(context.Background())
		if mm := getMail(t, d, id); mm.Status != platform.MailFailed || !strings.Contains(mm.LastError, "no SMTP server is configured") {
			t.Fatalf("%+v", mm)
		}
	})
}

func TestMail_ReclaimedJobWhoseRowIsSendingBecomesUnknownAndIsNotResent(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		srv := smtptest.Start(t)
		m, q := newMailer(t, d, srv)
		id := queueMail(t, m, jpMail)
		// A worker committed 'sending', started the SMTP conversation and died.
		err := d.Write(context.Background(), "crash", func(tx *db.Tx) error {
			if _, err := tx.ExecContext(context.Background(), `UPDATE mail_messages SET status = 'sending', attempts = 1 WHERE id = ?`, id); err != nil {
				return err
			}
			_, err := tx.ExecContext(context.Background(), `UPDATE jobs SET status = 'running', attempts = 1, locked_by = 'dead', locked_until = ? WHERE kind = 'mail.send'`,
				db.Millis(t0.Add(5*time.Minute)))
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		m.Clock.(interface{ Advance(time.Duration) }).Advance(6 * time.Minute)
		if n, err := q.RunOnce(context.Background()); n != 1 || err != nil {
			t.Fatalf("reclaim ran %d, %v", n, err)
		}
		if mm := getMail(t, d, id); mm.Status != platform.MailUnknown || mm.LastError == "" {
			t.Fatalf("%+v", mm)
		}
		if len(srv.Messages()) != 0 {
			t.Fatal("a message that may already have been delivered was sent again")
		}
		if c, _ := platform.JobCounts(context.Background(), d.Reader()); c[platform.JobUnknown] != 1 {
			t.Fatalf("jobs %v", c)
		}
	})
}

func TestMail_QueueValidates(t *testing.T) {
	d := dbtest.Open(t, db.SQLite)
	m, _ := newMailer(t, d, nil)
	for field, msg := range map[string]platform.OutboundMessage{
		"to":      {To: "not an address", Subject: "x", Text: "x"},
		"subject": {To: "a@example.com", Subject: "x\r\nBcc: evil@example.com", Text: "x"},
		"text":    {To: "a@example.com", Subject: "x"},
		"headers": {To: "a@example.com", Subject: "x", Text: "x", Headers: map[string]string{"Bcc": "evil@example.com"}},
	} {
		err := m.DB.Write(context.Background(), "test", func(tx *db.Tx) error {
			_, err := m.Queue(context.Background(), tx, 1, msg)
			return err
		})
		if e, ok := errs.As(err); !ok || e.Field != field {
			t.Errorf("%s: %v", field, err)
		}
	}
}

func TestSMTPSettings_AdminOnlyValidatedPasswordKeptAndNeverAudited(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		if err := platform.EnsureWorkspace(ctx, d, 1, "Test", t0); err != nil {
			t.Fatal(err)
		}
		good := platform.SMTPSettings{Host: "smtp.example.jp", Port: 587, Username: "u", Password: "first-secret", FromAddress: "info@example.jp"}
		if _, err := platform.SetSMTP(ctx, d, platform.Actor{WorkspaceID: 1, Role: platform.RoleSales, Kind: platform.ActorUser, UserID: 9}, good, t0); !errs.Is(err, errs.Forbidden) {
			t.Fatalf("sales rep: %v", err)
		}
		for field, s := range map[string]platform.SMTPSettings{
			"host": {FromAddress: "a@example.jp"}, "port": {Host: "h", Port: 70000, FromAddress: "a@example.jp"},
			"tls": {Host: "h", TLS: "ssl3", FromAddress: "a@example.jp"}, "from_address": {Host: "h", FromAddress: "nope"},
		} {
			if _, err := platform.SetSMTP(ctx, d, platform.CLI(1), s, t0); errs.KindOf(err) != errs.Invalid {
				t.Errorf("%s: %v", field, err)
			} else if e, _ := errs.As(err); e.Field != field {
				t.Errorf("%s: field %q", field, e.Field)
			}
		}
		v, err := platform.SetSMTP(ctx, d, platform.CLI(1), good, t0)
		if err != nil || !v.PasswordSet || v.TLS != "starttls" {
			t.Fatalf("%+v %v", v, err)
		}
		good.Password, good.Host = "", "smtp2.example.jp"
		if _, err := platform.SetSMTP(ctx, d, platform.CLI(1), good, t0); err != nil {
			t.Fatal(err)
		}
		w, _ := platform.GetWorkspace(ctx, d.Reader(), 1)
		if w.SMTP().Password != "first-secret" || w.SMTP().Host != "smtp2.example.jp" {
			t.Fatalf("stored %+v", w.SMTP().View())
		}
		entries, err := platform.ListAudit(ctx, d.Reader(), 1, platform.AuditFilter{ObjectType: "smtp_settings"})
		if err != nil || len(entries) != 2 {
			t.Fatalf("audit %d entries, %v", len(entries), err)
		}
		for _, e := range entries {
			if strings.Contains(string(e.Changes), "secret") {
				t.Fatalf("password in the audit log: %s", e.Changes)
			}
		}
	})
}

func TestMail_SendTestReportsTheServersAnswer(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		srv := smtptest.Start(t)
		m, _ := newMailer(t, d, srv)
		if err := m.SendTest(context.Background(), 1, "admin@example.com"); err != nil || len(srv.Messages()) != 1 {
			t.Fatalf("send test: %v, %d messages", err, len(srv.Messages()))
		}
		srv.FailPermanently()
		err := m.SendTest(context.Background(), 1, "admin@example.com")
		if !errs.Is(err, errs.Unprocessable) || !strings.Contains(err.Error(), "550") {
			t.Fatalf("refused: %v", err)
		}
	})
}
