package salesmail

import (
	"context"
	"fmt"
	"html"
	netmail "net/mail"
	"strings"
	"time"

	"github.com/ryorin/ryorin/internal/clock"
	"github.com/ryorin/ryorin/internal/crm"
	"github.com/ryorin/ryorin/internal/db"
	"github.com/ryorin/ryorin/internal/errs"
	"github.com/ryorin/ryorin/internal/marketing/email"
	"github.com/ryorin/ryorin/internal/platform"
)

// Directions of a message, as crm spells an activity's direction.
const (
	Outbound = "outbound"
	Inbound  = "inbound"
)

// MaxBody bounds a message's body.
const MaxBody = 100_000

// Service sends and logs one-to-one sales email.
type Service struct {
	DB     *db.DB
	Clock  clock.Clock
	CRM    *crm.Service
	Mailer *platform.Mailer
	// Email lists the templates a rep may start from; optional.
	Email *email.Service
}

// New returns a Service.
func New(d *db.DB, c clock.Clock, cs *crm.Service, m *platform.Mailer, es *email.Service) *Service {
	return &Service{DB: d, Clock: clock.Millis(c), CRM: cs, Mailer: m, Email: es}
}

// Email is one logged sales message, outbound or inbound.
type Email struct {
	ID          int64      `json:"id"`
	Direction   string     `json:"direction" doc:"outbound or inbound"`
	ContactID   int64      `json:"contact_id"`
	DealID      int64      `json:"deal_id,omitempty"`
	UserID      int64      `json:"user_id,omitempty" doc:"the rep who sent it, or to whom the reply was addressed"`
	ActivityID  int64      `json:"activity_id,omitempty"`
	ReplyToID   int64      `json:"reply_to_id,omitempty" doc:"inbound: the outbound email it answers"`
	From        string     `json:"from"`
	To          string     `json:"to"`
	Subject     string     `json:"subject"`
	Body        string     `json:"body"`
	MessageID   string     `json:"message_id,omitempty"`
	Status      string     `json:"status,omitempty" doc:"outbound: the mail's status (queued, sending, sent, failed, unknown)"`
	Opens       int64      `json:"opens"`
	Clicks      int64      `json:"clicks"`
	FirstOpenAt *time.Time `json:"first_open_at,omitempty"`
	LastOpenAt  *time.Time `json:"last_open_at,omitempty"`
	LastClickAt *time.Time `json:"last_click_at,omitempty"`
	CreatedAt   time.Time  `json:"created_at"`
}

// SendInput is a message a rep composes. Subject and Body are templates over
// the contact's fields ({{.FamilyName}}, {{.Salutation}}, …); with
// TemplateID and no subject or body, the template's are used.
type SendInput struct {
	Subject    string `json:"subject,omitempty"`
	Body       string `json:"body,omitempty" doc:"plain text; links are tracked"`
	TemplateID int64  `json:"template_id,omitempty" doc:"an email template (campaign) whose subject and plain-text body fill what is left empty"`
	DealID     int64  `json:"deal_id,omitempty"`
	// IdempotencyKey makes a repeated send one message ("" for none).
	IdempotencyKey string `json:"-"`
	// BaseURL is where tracking links point when the workspace has no
	// public base URL.
	BaseURL string `json:"-"`
}

// Blocked suppression reasons: an address that bounced hard, complained or
// asked for no contact at all gets no mail, not even one-to-one. An
// unsubscribe (or a manual suppression) stops marketing mail only.
var blockingReasons = []string{"bounce", "bounced", "hard_bounce", "complaint", "spam_complaint", "do_not_contact"}

// Blocked reports why mail to address must not be sent ("" when it may).
func Blocked(ctx context.Context, q db.Querier, ws int64, address string) (string, error) {
	var reason string
	err := q.QueryRowContext(ctx, `-- salesmail.Blocked
		SELECT reason FROM email_suppressions WHERE workspace_id = ? AND email = ?`, ws, strings.ToLower(strings.TrimSpace(address))).Scan(&reason)
	if db.NoRows(err) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("salesmail.Blocked: %w", err)
	}
	for _, r := range blockingReasons {
		if strings.EqualFold(strings.TrimSpace(reason), r) {
			return r, nil
		}
	}
	return "", nil
}

// Send composes, queues and logs a message from rep a to contact contactID.
// With an IdempotencyKey seen before, it returns that message and sends
// nothing.
func (s *Service) Send(ctx context.Context, a platform.Actor, contactID int64, in SendInput) (Email, error) {
	p, err := s.prepare(ctx, a, &in)
	if err != nil {
		return Email{}, err
	}
	var out Email
	err = s.DB.Write(ctx, "salesmail.Send", func(tx *db.Tx) error {
		out, err = s.send(ctx, tx, a, contactID, in, p)
		return err
	})
	return out, err
}

// SendTx is Send inside the caller's write transaction (a sequence step):
// the message, its mail job and its activity commit or roll back with the
// caller's work.
func (s *Service) SendTx(ctx context.Context, tx *db.Tx, a platform.Actor, contactID int64, in SendInput) (Email, error) {
	p, err := s.prepare(ctx, a, &in)
	if err != nil {
		return Email{}, err
	}
	return s.send(ctx, tx, a, contactID, in, p)
}

// prepare checks a message and parses its templates.
func (s *Service) prepare(ctx context.Context, a platform.Actor, in *SendInput) (*email.Parsed, error) {
	var zero *email.Parsed
	if a.UserID == 0 {
		return zero, errs.E(errs.Forbidden, "", "only a signed-in user sends email from a record")
	}
	if len(in.IdempotencyKey) > 200 {
		return zero, errs.Field("idempotency_key", "is longer than 200 characters")
	}
	if err := s.fillFromTemplate(ctx, a.WorkspaceID, in); err != nil {
		return zero, err
	}
	in.Subject = strings.TrimSpace(in.Subject)
	if in.Subject == "" || strings.ContainsAny(in.Subject, "\r\n") || len(in.Subject) > 500 {
		return zero, errs.Field("subject", "is required, one line of at most 500 bytes")
	}
	if strings.TrimSpace(in.Body) == "" {
		return zero, errs.Field("body", "is required")
	}
	if len(in.Body) > MaxBody {
		return zero, errs.Field("body", "is longer than %d bytes", MaxBody)
	}
	return email.Parse(email.Template{Subject: in.Subject, Text: in.Body})
}

func (s *Service) send(ctx context.Context, tx *db.Tx, a platform.Actor, contactID int64, in SendInput, p *email.Parsed) (Email, error) {
	var out Email
	err := func() error {
		if in.IdempotencyKey != "" {
			if e, err := getBy(ctx, tx, a.WorkspaceID, `e.direction = ? AND e.idem_key = ?`, Outbound, in.IdempotencyKey); err == nil {
				out = e
				return nil
			} else if !errs.Is(err, errs.NotFound) {
				return err
			}
		}
		c, err := s.CRM.GetContact(ctx, tx, a, contactID)
		if err != nil {
			return err
		}
		if c.Email == "" {
			return errs.Rule("to", "this contact has no email address")
		}
		if reason, err := Blocked(ctx, tx, a.WorkspaceID, c.Email); err != nil {
			return err
		} else if reason != "" {
			return errs.Rule("to", "mail to this address is blocked (%s)", reason)
		}
		if in.DealID != 0 {
			if _, err := s.CRM.GetDeal(ctx, tx, a, in.DealID); err != nil {
				return errs.Rule("deal_id", "deal %d does not exist", in.DealID)
			}
		}
		rep, err := platform.GetUser(ctx, tx, a.WorkspaceID, a.UserID)
		if err != nil {
			return err
		}
		w, err := platform.GetWorkspace(ctx, tx, a.WorkspaceID)
		if err != nil {
			return err
		}
		st, err := GetSettings(ctx, tx, a.WorkspaceID)
		if err != nil {
			return err
		}
		company := ""
		if c.CompanyID != 0 {
			names, err := s.CRM.CompanyNames(ctx, tx, a.WorkspaceID, []int64{c.CompanyID})
			if err != nil {
				return err
			}
			company = names[c.CompanyID]
		}
		rd, err := p.Render(email.Fields{Email: c.Email, FamilyName: c.FamilyName, GivenName: c.GivenName, Company: company,
			Title: c.Title, Department: c.Department, Salutation: email.Salutation(company, c.FamilyName)})
		if err != nil {
			return err
		}
		now := s.Clock.Now()
		var id int64
		err = tx.QueryRowContext(ctx, `-- salesmail.Send
		INSERT INTO sales_emails (workspace_id, direction, contact_id, deal_id, user_id, from_addr, to_addr, subject, body, idem_key, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (workspace_id, direction, idem_key) WHERE idem_key <> '' DO NOTHING RETURNING id`, a.WorkspaceID, Outbound, c.ID,
			db.NullInt(in.DealID), a.UserID, rep.Email, c.Email, rd.Subject, rd.Text, in.IdempotencyKey, db.Millis(now)).Scan(&id)
		if db.NoRows(err) { // the same key committed meanwhile (PostgreSQL): that message stands
			out, err = getBy(ctx, tx, a.WorkspaceID, `e.direction = ? AND e.idem_key = ?`, Outbound, in.IdempotencyKey)
			return err
		}
		if err != nil {
			return fmt.Errorf("salesmail.Send: %w", err)
		}
		base := strings.TrimRight(w.PublicBaseURL, "/")
		if base == "" {
			base = strings.TrimRight(in.BaseURL, "/")
		}
		lk := linker{key: w.SigningKey(), base: base, id: id, now: now}
		text, htm, err := lk.render(rd.Text)
		if err != nil {
			return err
		}
		replyTo := rep.Email
		if st.InboundDomain != "" {
			replyTo = ReplyAddress(w.SigningKey(), st.InboundDomain, rep.ID)
		}
		headers := map[string]string{"Reply-To": formatAddress(rep.Name, replyTo)}
		mid, err := s.Mailer.Queue(ctx, tx, a.WorkspaceID, platform.OutboundMessage{Kind: "sales", To: c.Email, Subject: rd.Subject,
			Text: text, HTML: htm, Headers: headers, RefType: "sales_email", RefID: id})
		if err != nil {
			return err
		}
		mm, err := platform.GetMail(ctx, tx, a.WorkspaceID, mid)
		if err != nil {
			return err
		}
		kind, dir, body := "email", Outbound, rd.Text
		act, err := s.CRM.LogActivityTx(ctx, tx, a, crm.ActivityInput{Kind: &kind, Direction: &dir, Subject: &rd.Subject, Body: &body,
			ContactID: &c.ID, DealID: nonZero(in.DealID)})
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `-- salesmail.Send.links
		UPDATE sales_emails SET mail_id = ?, message_id = ?, activity_id = ? WHERE workspace_id = ? AND id = ?`,
			mid, mm.MessageID, act.ID, a.WorkspaceID, id); err != nil {
			return fmt.Errorf("salesmail.Send: %w", err)
		}
		out, err = getBy(ctx, tx, a.WorkspaceID, `e.id = ?`, id)
		return err
	}()
	return out, err
}

func nonZero(v int64) *int64 {
	if v == 0 {
		return nil
	}
	return &v
}

// formatAddress is "Name <addr>" as a header carries it: a non-ASCII name
// as an RFC 2047 encoded word (the mailer would otherwise encode the whole
// value, address included, and break it), an ASCII one quoted.
func formatAddress(name, addr string) string {
	name = strings.Join(strings.Fields(name), " ")
	if name == "" {
		return addr
	}
	return (&netmail.Address{Name: name, Address: addr}).String()
}

func (s *Service) fillFromTemplate(ctx context.Context, ws int64, in *SendInput) error {
	if in.TemplateID == 0 || (strings.TrimSpace(in.Subject) != "" && strings.TrimSpace(in.Body) != "") {
		return nil
	}
	ts, err := s.Templates(ctx, ws)
	if err != nil {
		return err
	}
	for _, t := range ts {
		if t.ID == in.TemplateID {
			if strings.TrimSpace(in.Subject) == "" {
				in.Subject = t.Subject
			}
			if strings.TrimSpace(in.Body) == "" {
				in.Body = t.Body
			}
			return nil
		}
	}
	return errs.Field("template_id", "template %d does not exist or has no plain-text body", in.TemplateID)
}

// Template is an email template a rep may start from.
type Template struct {
	ID      int64  `json:"id"`
	Name    string `json:"name"`
	Subject string `json:"subject"`
	Body    string `json:"body"`
}

// Templates lists the email templates with a plain-text body (the
// marketing email templates), newest first.
func (s *Service) Templates(ctx context.Context, ws int64) ([]Template, error) {
	if s.Email == nil {
		return nil, nil
	}
	cs, err := s.Email.Templates(ctx, s.DB.Reader(), ws)
	if err != nil {
		return nil, err
	}
	var out []Template
	for _, c := range cs {
		if strings.TrimSpace(c.Template.Text) != "" {
			out = append(out, Template{ID: c.ID, Name: c.Name, Subject: c.Template.Subject, Body: c.Template.Text})
		}
	}
	return out, nil
}

// linker rewrites a plain-text body's links into signed click links and
// builds the HTML part with the open pixel.
type linker struct {
	key  []byte
	base string
	id   int64
	now  time.Time
}

func (l linker) render(text string) (string, string, error) {
	if l.base == "" {
		return text, "", nil // nowhere to point tracking links: plain text only
	}
	var ferr error
	tracked := func(u string) string {
		tok, err := platform.SignLink(l.key, purposeClick, clickClaim{E: l.id, U: u}, l.now.Add(trackTTL))
		if err != nil {
			ferr = err
			return u
		}
		return l.base + "/e/sc/" + tok
	}
	var hb strings.Builder
	hb.WriteString(`<div style="font-family:sans-serif;white-space:pre-wrap">`)
	last := 0
	var tb strings.Builder
	// URLs end where the marketing mail's do (Japanese punctuation, brackets
	// the URL did not open): one finder for every mail Ryorin tracks.
	for _, m := range email.TextURLs(text) {
		u := text[m[0]:m[1]]
		t := tracked(u)
		tb.WriteString(text[last:m[0]])
		tb.WriteString(t)
		hb.WriteString(html.EscapeString(text[last:m[0]]))
		hb.WriteString(`<a href="` + html.EscapeString(t) + `">` + html.EscapeString(u) + `</a>`)
		last = m[1]
	}
	tb.WriteString(text[last:])
	hb.WriteString(html.EscapeString(text[last:]))
	hb.WriteString(`</div>`)
	if ferr != nil {
		return "", "", ferr
	}
	tok, err := platform.SignLink(l.key, purposeOpen, openClaim{E: l.id}, l.now.Add(trackTTL))
	if err != nil {
		return "", "", err
	}
	hb.WriteString(`<img src="` + l.base + "/e/so/" + tok + `.gif" width="1" height="1" alt="">`)
	return tb.String(), hb.String(), nil
}
