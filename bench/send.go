package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/mail"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/ryorin/ryorin/internal/clock"
	"github.com/ryorin/ryorin/internal/crm"
	"github.com/ryorin/ryorin/internal/db"
	"github.com/ryorin/ryorin/internal/marketing/email"
	"github.com/ryorin/ryorin/internal/marketing/segments"
	"github.com/ryorin/ryorin/internal/platform"
)

// SendSink is a local SMTP server that counts the messages each address
// receives, as the campaign-send benchmark's "local SMTP sink". It keeps no
// bodies, so its own memory stays small however many messages arrive.
type SendSink struct {
	srv  *smtp.Server
	Host string
	Port int

	mu          sync.Mutex
	per         map[string]int
	total       int
	first, last time.Time
}

// StartSendSink listens on 127.0.0.1 at a free port.
func StartSendSink() (*SendSink, error) {
	s := &SendSink{per: map[string]int{}}
	srv := smtp.NewServer(smtp.BackendFunc(func(c *smtp.Conn) (smtp.Session, error) { return &sinkSession{s: s}, nil }))
	srv.Domain = "localhost"
	srv.ReadTimeout = 30 * time.Second
	srv.WriteTimeout = 30 * time.Second
	srv.MaxMessageBytes = 10 << 20
	srv.ErrorLog = log.New(io.Discard, "", 0)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	host, port, _ := net.SplitHostPort(ln.Addr().String())
	s.srv, s.Host = srv, host
	s.Port, _ = strconv.Atoi(port)
	go func() { _ = srv.Serve(ln) }()
	return s, nil
}

// Close stops the sink.
func (s *SendSink) Close() { _ = s.srv.Close() }

// Total is how many messages have arrived.
func (s *SendSink) Total() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.total
}

// Snapshot returns a copy of the per-address counts, the total and the
// times of the first and the last message.
func (s *SendSink) Snapshot() (per map[string]int, total int, first, last time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	per = make(map[string]int, len(s.per))
	for k, v := range s.per {
		per[k] = v
	}
	return per, s.total, s.first, s.last
}

type sinkSession struct {
	s  *SendSink
	to []string
}

func (x *sinkSession) Reset()                                    { x.to = nil }
func (x *sinkSession) Logout() error                             { return nil }
func (x *sinkSession) Mail(string, *smtp.MailOptions) error      { return nil }
func (x *sinkSession) Rcpt(to string, _ *smtp.RcptOptions) error { x.to = append(x.to, to); return nil }

func (x *sinkSession) Data(r io.Reader) error {
	// The body is read to the end (as a real server would) and dropped; the
	// To header must name the envelope recipient, so a message built for
	// one contact and delivered to another would show.
	m, err := mail.ReadMessage(r)
	if err != nil {
		return err
	}
	if _, err := io.Copy(io.Discard, m.Body); err != nil {
		return err
	}
	if len(x.to) != 1 {
		return errors.New("one recipient per campaign message expected")
	}
	hdr, err := mail.ParseAddress(m.Header.Get("To"))
	if err != nil || !strings.EqualFold(hdr.Address, x.to[0]) {
		return fmt.Errorf("the To header %q does not match the envelope %q", m.Header.Get("To"), x.to[0])
	}
	now := time.Now()
	x.s.mu.Lock()
	x.s.per[strings.ToLower(x.to[0])]++
	x.s.total++
	if x.s.first.IsZero() {
		x.s.first = now
	}
	x.s.last = now
	x.s.mu.Unlock()
	return nil
}

// SendAddress is the address of the i-th recipient of the send benchmark.
func SendAddress(i int) string { return fmt.Sprintf("r%07d@send.example", i) }

// SetupSend prepares workspace 1 of a migrated, empty database for the
// campaign-send benchmark: n contacts with recorded email consent on a
// static list, the sink as SMTP server, and a draft campaign to the list
// whose template is personalised and carries two links (tracked per
// recipient when sent). It returns the campaign's id.
func SetupSend(ctx context.Context, d *db.DB, n int, sink *SendSink) (int64, error) {
	now := time.Now()
	if err := platform.EnsureWorkspace(ctx, d, 1, "Send bench", now); err != nil {
		return 0, err
	}
	cli := platform.CLI(1)
	if _, err := platform.SetSMTP(ctx, d, cli, platform.SMTPSettings{Host: sink.Host, Port: sink.Port, TLS: "none",
		FromAddress: "news@ryorin.example", FromName: "両輪マーケティング"}, now); err != nil {
		return 0, err
	}
	ms := now.UnixMilli()
	if err := batches(ctx, d, "bench.sendContacts", n, 400, func(i int, b *batch) {
		c := crm.Contact{Email: SendAddress(i), FamilyName: familyNames[i%len(familyNames)][0], GivenName: givenNames[i%len(givenNames)][0]}
		b.row(`INSERT INTO contacts (workspace_id, email, family_name, given_name, lifecycle_stage, lifecycle_changed_at, consent_email, consent_at,
			consent_source, props, search_text, created_at, updated_at) VALUES `,
			"(1, ?, ?, ?, 'lead', ?, 'granted', ?, 'form: bench', '{}', ?, ?, ?)", c.Email, c.FamilyName, c.GivenName, ms, ms, crm.ContactSearchText(c), ms, ms)
	}); err != nil {
		return 0, err
	}
	fc := clock.System{}
	cs := crm.New(d, fc)
	seg := segments.New(d, fc, cs)
	l, err := seg.CreateList(ctx, cli, segments.ListInput{Name: fmt.Sprintf("send bench %d", now.UnixNano())})
	if err != nil {
		return 0, err
	}
	// The list in bounded batches of contact ids.
	var lo, hi int64
	if err := d.Reader().QueryRowContext(ctx, `SELECT COALESCE(MIN(id), 0), COALESCE(MAX(id), 0) FROM contacts WHERE workspace_id = 1`).Scan(&lo, &hi); err != nil {
		return 0, err
	}
	for from := lo; from <= hi; from += 5000 {
		if err := d.Write(ctx, "bench.sendList", func(tx *db.Tx) error {
			_, err := tx.ExecContext(ctx, `INSERT INTO list_members (workspace_id, list_id, contact_id, added_at)
				SELECT 1, ?, id, ? FROM contacts WHERE workspace_id = 1 AND id >= ? AND id < ?`, l.ID, ms, from, from+5000)
			return err
		}); err != nil {
			return 0, err
		}
	}
	es := email.New(d, fc, cs, &platform.Mailer{DB: d, Clock: fc}, nil, nil)
	c, err := es.Create(ctx, cli, email.CampaignInput{Name: "send bench", AudienceKind: email.AudienceList, AudienceID: l.ID,
		Template: email.Template{
			Subject: "{{.Salutation}}、新機能のご案内",
			HTML: `<p>{{.Salutation}}</p><p>いつもありがとうございます。両輪の新しいレポートをご紹介します。</p>
<p><a href="https://ryorin.example/features/reports?utm_source=email">詳しく見る</a></p>
<p><a href="https://ryorin.example/case-studies">導入事例</a></p>`,
			Text: "{{.Salutation}}\n\n両輪の新しいレポートをご紹介します。\nhttps://ryorin.example/features/reports\n",
		}})
	if err != nil {
		return 0, err
	}
	return c.ID, nil
}

// StartSend starts the campaign's send (one durable job for a running
// server to pick up).
func StartSend(ctx context.Context, d *db.DB, id int64) error {
	fc := clock.System{}
	es := email.New(d, fc, crm.New(d, fc), &platform.Mailer{DB: d, Clock: fc}, nil, nil)
	_, err := es.Send(ctx, platform.CLI(1), id, "http://127.0.0.1:8080")
	return err
}

// SendTally is a campaign's send log as the database has it.
type SendTally struct {
	Status string
	// Queuing is how long the campaign's job took to decide every
	// recipient and queue their messages (started to finished).
	Queuing time.Duration
	Report  email.Report
	ByEmail map[string]string // recipient address → mail status (queued, sending, sent, failed, unknown) or "skipped"
}

// Tally reads the campaign's status, its report and each recipient's
// outcome.
func Tally(ctx context.Context, d *db.DB, id int64) (SendTally, error) {
	t := SendTally{ByEmail: map[string]string{}}
	fc := clock.System{}
	es := email.New(d, fc, crm.New(d, fc), &platform.Mailer{DB: d, Clock: fc}, nil, nil)
	c, err := es.Get(ctx, platform.CLI(1), id)
	if err != nil {
		return t, err
	}
	t.Status = c.Status
	if c.StartedAt != nil && c.FinishedAt != nil {
		t.Queuing = c.FinishedAt.Sub(*c.StartedAt)
	}
	if t.Report, err = es.Report(ctx, platform.CLI(1), id); err != nil {
		return t, err
	}
	rows, err := d.Reader().QueryContext(ctx, `SELECT LOWER(c.email), r.status, COALESCE(m.status, '')
		FROM campaign_recipients r
		JOIN contacts c ON c.workspace_id = r.workspace_id AND c.id = r.contact_id
		LEFT JOIN mail_messages m ON m.workspace_id = r.workspace_id AND m.id = r.mail_id
		WHERE r.workspace_id = 1 AND r.campaign_id = ?`, id)
	if err != nil {
		return t, err
	}
	defer rows.Close()
	for rows.Next() {
		var addr, rs, ms string
		if err := rows.Scan(&addr, &rs, &ms); err != nil {
			return t, err
		}
		if rs == email.RecipientSkipped {
			ms = "skipped"
		}
		t.ByEmail[addr] = ms
	}
	return t, rows.Err()
}

// CheckSend compares what the sink received with the send log of a
// finished campaign to n recipients: every recipient is in the log; one
// logged sent has exactly one message at the sink; one logged unknown has
// at most one; nobody has two; the report's sent count equals the sink's
// messages to recipients logged sent. It returns a description of every
// difference (nil: none).
func CheckSend(n int, t SendTally, per map[string]int) []string {
	var bad []string
	note := func(f string, a ...any) {
		if len(bad) < 20 {
			bad = append(bad, fmt.Sprintf(f, a...))
		}
	}
	sentAtSink := 0
	for i := range n {
		addr := SendAddress(i)
		st, ok := t.ByEmail[addr]
		got := per[addr]
		switch {
		case !ok:
			note("%s is not in the send log (%d at the sink)", addr, got)
		case got > 1:
			note("%s received %d messages", addr, got)
		case st == platform.MailSent && got != 1:
			note("%s is logged sent but the sink has %d", addr, got)
		case st == platform.MailUnknown:
		case st != platform.MailSent:
			note("%s is logged %s (sink: %d)", addr, st, got)
		}
		if st == platform.MailSent {
			sentAtSink += got
		}
	}
	for addr := range per {
		if _, ok := t.ByEmail[addr]; !ok {
			note("the sink received mail for %s, who is not in the send log", addr)
		}
	}
	if int64(sentAtSink) != t.Report.Sent {
		note("report: %d sent, sink: %d messages to recipients logged sent", t.Report.Sent, sentAtSink)
	}
	return bad
}

// SendRun is one measured campaign send.
type SendRun struct {
	Took    time.Duration // from the start of the send until every message is settled
	Killed  int           // messages at the sink when the server was killed (0: not killed)
	PeakRSS []string      // each server process's VmHWM
	Sink    map[string]int
	Total   int
	First   time.Time
	Last    time.Time
	Tally   SendTally
}

// RunSend sends campaign id (set up by SetupSend in d) through `bin serve`
// started with args, optionally kills the server with SIGKILL once killAt
// of the n recipients have arrived at the sink and starts it again, and
// waits until the campaign is sent and none of its messages is queued or
// being sent.
func RunSend(ctx context.Context, d *db.DB, id int64, sink *SendSink, bin string, args []string, n int, killAt float64, timeout time.Duration, stderr io.Writer) (SendRun, error) {
	var r SendRun
	srv, _, err := StartServer(bin, args, stderr)
	if err != nil {
		return r, err
	}
	stop := func(c *exec.Cmd) { _ = c.Process.Signal(syscall.SIGTERM); _ = c.Wait() }
	start := time.Now()
	if err := StartSend(ctx, d, id); err != nil {
		stop(srv)
		return r, err
	}
	killed := killAt <= 0
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	lastCheck := time.Now()
	for range tick.C {
		if time.Since(start) > timeout {
			stop(srv)
			return r, fmt.Errorf("not finished after %s: %d at the sink", timeout, sink.Total())
		}
		if !killed && float64(sink.Total()) >= killAt*float64(n) {
			hwm, _ := MemOf(srv.Process.Pid)
			r.PeakRSS = append(r.PeakRSS, hwm)
			_ = srv.Process.Signal(syscall.SIGKILL)
			_ = srv.Wait()
			r.Killed, killed = sink.Total(), true
			if srv, _, err = StartServer(bin, args, stderr); err != nil {
				return r, err
			}
			continue
		}
		if time.Since(lastCheck) < 100*time.Millisecond {
			continue
		}
		lastCheck = time.Now()
		done, err := sendFinished(ctx, d, id)
		if err != nil {
			stop(srv)
			return r, err
		}
		if done {
			break
		}
	}
	r.Took = time.Since(start)
	hwm, _ := MemOf(srv.Process.Pid)
	r.PeakRSS = append(r.PeakRSS, hwm)
	stop(srv)
	r.Sink, r.Total, r.First, r.Last = sink.Snapshot()
	r.Tally, err = Tally(ctx, d, id)
	return r, err
}

// sendFinished reports whether the campaign is sent and none of its
// messages is still queued or being sent.
func sendFinished(ctx context.Context, d *db.DB, id int64) (bool, error) {
	var status string
	var open int
	if err := d.Reader().QueryRowContext(ctx, `SELECT status FROM email_campaigns WHERE workspace_id = 1 AND id = ?`, id).Scan(&status); err != nil {
		return false, err
	}
	if status != email.StatusSent {
		return false, nil
	}
	err := d.Reader().QueryRowContext(ctx, `SELECT COUNT(*) FROM mail_messages
		WHERE workspace_id = 1 AND ref_type = 'email_campaign' AND ref_id = ? AND status IN ('queued', 'sending')`, id).Scan(&open)
	return open == 0, err
}
