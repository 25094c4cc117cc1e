package platform

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	netmail "net/mail"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/ryorin/ryorin/internal/clock"
	"github.com/ryorin/ryorin/internal/db"
	"github.com/ryorin/ryorin/internal/errs"
)

// Outbound mail goes through the mail_messages table: Queue writes a row and a
// "mail.send" job in the caller's transaction; the job sends it over the
// workspace's SMTP server. A message moves queued → sending → sent, or to
// failed (permanent refusal) or unknown (an attempt was cut off after the
// message may have reached the server). It is never sent twice: a row found
// in 'sending' when its job runs again is marked unknown, not resent.

// Mail statuses.
const (
	MailQueued  = "queued"
	MailSending = "sending"
	MailSent    = "sent"
	MailFailed  = "failed"
	MailUnknown = "unknown"
)

// MailSendJob is the job kind that sends one queued message.
const MailSendJob = "mail.send"

// OutboundMessage is a message to queue.
type OutboundMessage struct {
	Kind    string // what sent it, e.g. "notification", "campaign"
	To      string
	Subject string
	Text    string
	HTML    string // optional; sent as an alternative to Text
	// Headers are extra header fields, e.g. List-Unsubscribe and
	// List-Unsubscribe-Post. They may not replace the fields Ryorin sets.
	Headers map[string]string
	RefType string // the record the message is about, if any
	RefID   int64
}

// Mailer queues and sends outbound mail.
type Mailer struct {
	DB    *db.DB
	Clock clock.Clock
	Log   *slog.Logger
	Jobs  *Jobs
	// Timeout bounds one SMTP conversation (default 30 s).
	Timeout time.Duration
	// OnBounce, when set, is told of each recipient the SMTP server refused
	// for good (a 5xx reply to RCPT), so the address can be suppressed.
	// Its error is logged; the message's outcome stays recorded either way.
	OnBounce func(ctx context.Context, ws int64, to, reason string) error

	pool smtpPool // connections kept open between batches
}

// reservedHeaders are set by the mailer and may not come from a row.
var reservedHeaders = map[string]bool{"from": true, "to": true, "cc": true, "bcc": true, "subject": true, "message-id": true,
	"date": true, "mime-version": true, "content-type": true, "content-transfer-encoding": true, "sender": true}

var headerName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9-]{0,75}$`)

// Queue validates msg, stores it as queued in tx and enqueues its sending job,
// which starts once tx commits. It returns the message id. Bulk mail uses a
// MailBatch instead: one job and one SMTP connection for many messages.
func (m *Mailer) Queue(ctx context.Context, tx *db.Tx, ws int64, msg OutboundMessage) (int64, error) {
	id, err := m.insert(ctx, tx, ws, msg, m.messageIDDomain(ctx, tx, ws))
	if err != nil {
		return 0, err
	}
	if _, _, err := Enqueue(ctx, tx, ws, MailSendJob, mailJob{ID: id}, EnqueueOptions{UniqueKey: "mail:" + strconv.FormatInt(id, 10), MaxAttempts: 8}, m.Clock.Now(), m.Jobs); err != nil {
		return 0, err
	}
	return id, nil
}

// messageIDDomain is the right-hand side of the Message-IDs Ryorin makes:
// the sender's domain when one is configured, so receivers see a real domain.
func (m *Mailer) messageIDDomain(ctx context.Context, tx *db.Tx, ws int64) string {
	if w, err := GetWorkspace(ctx, tx, ws); err == nil {
		return messageIDDomainOf(w)
	}
	return "ryorin"
}

func messageIDDomainOf(w Workspace) string {
	if _, d, ok := strings.Cut(w.SMTP().FromAddress, "@"); ok && d != "" {
		return d
	}
	return "ryorin"
}

// checkMail validates msg and returns it with its defaults and its headers
// as stored (JSON, or nil).
func checkMail(msg OutboundMessage) (OutboundMessage, any, error) {
	if a, err := netmail.ParseAddress(msg.To); err != nil || a.Address == "" {
		return msg, nil, errs.Field("to", "is not a valid email address")
	}
	if strings.TrimSpace(msg.Subject) == "" || strings.ContainsAny(msg.Subject, "\r\n") {
		return msg, nil, errs.Field("subject", "is required and must be one line")
	}
	if msg.Text == "" && msg.HTML == "" {
		return msg, nil, errs.Field("text", "a text or HTML body is required")
	}
	if msg.Kind == "" {
		msg.Kind = "other"
	}
	for k, v := range msg.Headers {
		if !headerName.MatchString(k) || reservedHeaders[strings.ToLower(k)] {
			return msg, nil, errs.Field("headers", "header %q may not be set", k)
		}
		if strings.ContainsAny(v, "\r\n") {
			return msg, nil, errs.Field("headers", "header %q must be one line", k)
		}
	}
	var headers any
	if len(msg.Headers) > 0 {
		b, err := json.Marshal(msg.Headers)
		if err != nil {
			return msg, nil, err
		}
		headers = string(b)
	}
	return msg, headers, nil
}

// insert validates msg and stores it as queued, with its Message-ID.
func (m *Mailer) insert(ctx context.Context, tx *db.Tx, ws int64, msg OutboundMessage, domain string) (int64, error) {
	ids, refused, err := m.insertMany(ctx, tx, ws, domain, []OutboundMessage{msg})
	if err != nil {
		return 0, err
	}
	return ids[0], refused[0]
}

// DeleteMail deletes queued messages that are not to be sent after all
// (their job finds them gone), with their bodies.
func DeleteMail(ctx context.Context, tx *db.Tx, ws int64, ids ...int64) error {
	for _, id := range ids {
		if _, err := tx.ExecContext(ctx, `-- platform.DeleteMail
			DELETE FROM mail_bodies WHERE workspace_id = ? AND mail_id = ?`, ws, id); err != nil {
			return fmt.Errorf("platform.DeleteMail(%d): %w", id, err)
		}
		if _, err := tx.ExecContext(ctx, `-- platform.DeleteMail
			DELETE FROM mail_messages WHERE workspace_id = ? AND id = ?`, ws, id); err != nil {
			return fmt.Errorf("platform.DeleteMail(%d): %w", id, err)
		}
	}
	return nil
}

type mailJob struct {
	ID int64 `json:"id"`
}

// Register registers the mail.send and mail.batch job handlers.
func (m *Mailer) Register() {
	m.Jobs.HandleFinishing(MailSendJob, m.handle)
	m.Jobs.HandleFinishing(MailBatchJob, m.handleBatch)
}

// MailMessage is a stored outbound message.
type MailMessage struct {
	ID        int64             `json:"id"`
	Kind      string            `json:"kind"`
	To        string            `json:"to"`
	Subject   string            `json:"subject"`
	Text      string            `json:"text"`
	HTML      string            `json:"html"`
	Headers   map[string]string `json:"headers,omitempty"`
	Status    string            `json:"status"`
	MessageID string            `json:"message_id"`
	Attempts  int               `json:"attempts"`
	LastError string            `json:"last_error,omitempty"`
	CreatedAt time.Time         `json:"created_at"`
	SentAt    *time.Time        `json:"sent_at,omitempty"`
}

// GetMail loads one outbound message.
func GetMail(ctx context.Context, q db.Querier, ws, id int64) (MailMessage, error) {
	var mm MailMessage
	var headers *string
	var created int64
	var sent *int64
	err := q.QueryRowContext(ctx, `-- platform.GetMail
		SELECT m.id, m.kind, m.to_addr, m.subject, COALESCE(b.text_body, ''), COALESCE(b.html_body, ''), b.headers, m.status, m.message_id,
			m.attempts, m.last_error, m.created_at, m.sent_at
		FROM mail_messages m LEFT JOIN mail_bodies b ON b.workspace_id = m.workspace_id AND b.mail_id = m.id
		WHERE m.workspace_id = ? AND m.id = ?`, ws, id).Scan(&mm.ID, &mm.Kind, &mm.To, &mm.Subject, &mm.Text, &mm.HTML,
		&headers, &mm.Status, &mm.MessageID, &mm.Attempts, &mm.LastError, &created, &sent)
	if db.NoRows(err) {
		return mm, errs.NotFoundf("mail message %d not found", id)
	}
	if err != nil {
		return mm, fmt.Errorf("platform.GetMail(%d): %w", id, err)
	}
	if headers != nil {
		if err := json.Unmarshal([]byte(*headers), &mm.Headers); err != nil {
			return mm, fmt.Errorf("platform.GetMail(%d) headers: %w", id, err)
		}
	}
	mm.CreatedAt = db.Time(created)
	if sent != nil {
		t := db.Time(*sent)
		mm.SentAt = &t
	}
	return mm, nil
}

func (m *Mailer) handle(ctx context.Context, j Job) (func(context.Context, *db.Tx) error, error) {
	var p mailJob
	if err := j.Decode(&p); err != nil {
		return nil, Permanent(fmt.Errorf("mail.send payload: %w", err))
	}
	return m.sendStored(ctx, j, []int64{p.ID})
}

func (m *Mailer) log() *slog.Logger {
	if m.Log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return m.Log
}

type smtpClass int

const (
	smtpTemporary smtpClass = iota
	smtpPermanent
	smtpUnknown
)

// MailCounts returns how many messages are in each status, for metrics and
// the admin screen.
func MailCounts(ctx context.Context, q db.Querier) (map[string]int, error) {
	return countBy(ctx, q, "platform.MailCounts", `-- platform.MailCounts
		SELECT status, COUNT(*) FROM mail_messages GROUP BY status`)
}

// SendTest sends a short message to to at once, over workspace ws's SMTP
// settings, without queueing it: the "send test" button and `ryorin mail
// test`. A refusal comes back as an Unprocessable error carrying the
// server's answer.
func (m *Mailer) SendTest(ctx context.Context, ws int64, to string) error {
	if a, err := netmail.ParseAddress(to); err != nil || a.Address == "" {
		return errs.Field("to", "is not a valid email address")
	}
	w, err := GetWorkspace(ctx, m.DB.Reader(), ws)
	if err != nil {
		return err
	}
	s := w.SMTP()
	if s.Host == "" || s.FromAddress == "" {
		return errs.Rule("smtp", "no SMTP server is configured")
	}
	now := m.Clock.Now()
	mm := MailMessage{To: to, Subject: "Ryorin テストメール / test message",
		Text: "Ryorin からのテストメールです。SMTP の設定は正しく動いています。\n\nThis is a test message from Ryorin: the SMTP settings work.\n\n" +
			now.In(w.Location()).Format("2006-01-02 15:04:05 MST") + "\n",
		MessageID: fmt.Sprintf("<test-%d.%s@ryorin>", now.UnixMilli(), randomHex(8))}
	if _, d, ok := strings.Cut(s.FromAddress, "@"); ok {
		mm.MessageID = fmt.Sprintf("<test-%d.%s@%s>", now.UnixMilli(), randomHex(8), d)
	}
	wm, err := encode(s, mm, now)
	if err != nil {
		return errs.Rule("smtp", "%v", err)
	}
	outs, _ := m.deliver(ctx, s, []wireMessage{wm})
	if outs[0] != nil {
		return errs.Rule("smtp", "the SMTP server did not accept the message: %v", outs[0])
	}
	return nil
}

// SMTPView is the SMTP settings as shown to admins: the password is never
// returned, only whether one is set.
type SMTPView struct {
	Host        string `json:"host"`
	Port        int    `json:"port"`
	Username    string `json:"username"`
	PasswordSet bool   `json:"password_set"`
	TLS         string `json:"tls" doc:"starttls, tls or none"`
	FromAddress string `json:"from_address"`
	FromName    string `json:"from_name"`
}

// View returns the settings without the password.
func (s SMTPSettings) View() SMTPView {
	return SMTPView{Host: s.Host, Port: s.Port, Username: s.Username, PasswordSet: s.Password != "", TLS: s.TLS,
		FromAddress: s.FromAddress, FromName: s.FromName}
}

// SetSMTP validates and stores workspace SMTP settings. Only admins may. An
// empty Password keeps the stored one. The audit log records the change
// without the password (only that it changed).
func SetSMTP(ctx context.Context, d *db.DB, a Actor, s SMTPSettings, now time.Time) (SMTPView, error) {
	if !a.Is(RoleAdmin) {
		return SMTPView{}, errs.E(errs.Forbidden, "", "only admins change the SMTP settings")
	}
	s.Host = strings.TrimSpace(s.Host)
	if s.Host == "" || strings.ContainsAny(s.Host, " \t/@\r\n") {
		return SMTPView{}, errs.Field("host", "must be a host name or IP address")
	}
	if s.TLS == "" {
		s.TLS = "starttls"
	}
	switch s.TLS {
	case "starttls", "tls", "none":
	default:
		return SMTPView{}, errs.Field("tls", "must be starttls, tls or none")
	}
	if s.Port == 0 {
		s.Port = map[string]int{"starttls": 587, "tls": 465, "none": 25}[s.TLS]
	}
	if s.Port < 1 || s.Port > 65535 {
		return SMTPView{}, errs.Field("port", "must be 1 to 65535")
	}
	addr, err := netmail.ParseAddress(strings.TrimSpace(s.FromAddress))
	if err != nil || addr.Address != strings.TrimSpace(s.FromAddress) || !strings.Contains(addr.Address, "@") {
		return SMTPView{}, errs.Field("from_address", "is not a valid email address")
	}
	s.FromAddress = addr.Address
	s.FromName = strings.TrimSpace(s.FromName)
	if strings.ContainsAny(s.FromName+s.Username+s.Password, "\r\n") {
		return SMTPView{}, errs.Field("from_name", "must be one line")
	}
	var out SMTPView
	err = d.Write(ctx, "platform.SetSMTP", func(tx *db.Tx) error {
		w, err := GetWorkspace(ctx, tx, a.WorkspaceID)
		if err != nil {
			return err
		}
		before := w.SMTP()
		passwordChanged := s.Password != "" && s.Password != before.Password
		if s.Password == "" {
			s.Password = before.Password
		}
		b, err := json.Marshal(s)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `-- platform.SetSMTP
			UPDATE workspaces SET smtp = ?, updated_at = ? WHERE id = ?`, string(b), db.Millis(now), a.WorkspaceID); err != nil {
			return fmt.Errorf("platform.SetSMTP: %w", err)
		}
		out = s.View()
		changes := Diff(before.View(), out)
		delete(changes, "password_set")
		if passwordChanged {
			changes["password"] = Change{From: "(hidden)", To: "(changed)"}
		}
		return Audit(ctx, tx, a, now, "update", "smtp_settings", a.WorkspaceID, changes)
	})
	return out, err
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
