package quotemail

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/ryorin/ryorin/internal/clock"
	"github.com/ryorin/ryorin/internal/crm"
	"github.com/ryorin/ryorin/internal/db"
	"github.com/ryorin/ryorin/internal/errs"
	"github.com/ryorin/ryorin/internal/platform"
	"github.com/ryorin/ryorin/internal/sales"
	"github.com/ryorin/ryorin/internal/salesmail"
)

// LinkPlaceholder marks where the quote's link goes in a message body; a
// body without it gets the link on a line of its own at the end.
const LinkPlaceholder = "[quote_link]"

// Service sends quotes and records their views.
type Service struct {
	DB     *db.DB
	Clock  clock.Clock
	CRM    *crm.Service
	Sales  *sales.Service
	Mail   *salesmail.Service
	Notify *platform.Notifier // tells the deal's owner of a view; optional
}

// New returns a Service.
func New(d *db.DB, c clock.Clock, cs *crm.Service, ss *sales.Service, sm *salesmail.Service, n *platform.Notifier) *Service {
	return &Service{DB: d, Clock: clock.Millis(c), CRM: cs, Sales: ss, Mail: sm, Notify: n}
}

// Send is one quote version mailed to one contact, with what the customer
// did with it.
type Send struct {
	ID            int64      `json:"id"`
	QuoteID       int64      `json:"quote_id"`
	DealID        int64      `json:"deal_id"`
	Number        string     `json:"number"`
	Version       int        `json:"version"`
	ContactID     int64      `json:"contact_id"`
	SalesEmailID  int64      `json:"sales_email_id,omitempty"`
	SentBy        int64      `json:"sent_by,omitempty"`
	SentAt        time.Time  `json:"sent_at"`
	Views         int64      `json:"views"`
	FirstViewedAt *time.Time `json:"first_viewed_at,omitempty"`
	LastViewedAt  *time.Time `json:"last_viewed_at,omitempty"`
}

// SendInput is the message a rep sends with a quote. Subject and body are
// salesmail templates ({{.FamilyName}} …); LinkPlaceholder in the body is
// replaced by the quote's link.
type SendInput struct {
	Version   int    `json:"version" doc:"the issued quote version to send"`
	ContactID int64  `json:"contact_id" doc:"one of the deal's contacts"`
	Subject   string `json:"subject,omitempty" doc:"default: the prefilled subject in the quote's language"`
	Body      string `json:"body,omitempty" doc:"plain text; [quote_link] is replaced by the link (appended when absent); default: the prefilled body"`
	// IdempotencyKey makes a repeated send one message ("" for none).
	IdempotencyKey string `json:"-"`
	// BaseURL is where links point when the workspace has no public base URL.
	BaseURL string `json:"-"`
}

// Draft is the prefilled subject and body for sending quote q, in the
// quote's language (the customer reads it, not the rep).
func Draft(q sales.Quote, repName string) (subject, body string) {
	ref := fmt.Sprintf("%s-%d", q.Number, q.Version)
	if q.Lang == "en" {
		return fmt.Sprintf("Quotation %s: %s", ref, q.Document.Subject),
			"Dear {{.GivenName}} {{.FamilyName}},\n\nThank you for your time. Please find our quotation " + ref + " for " + q.Document.Subject +
				" at the link below (a PDF can be downloaded from the page).\n\n" + LinkPlaceholder +
				"\n\nThe quotation is valid until " + q.ValidUntil + ". Please let me know if you have any questions.\n\nBest regards,\n" + repName
	}
	return fmt.Sprintf("御見積書 %s（%s）のご送付", ref, q.Document.Subject),
		"{{.Salutation}}\n\nいつもお世話になっております。\n" + q.Document.Subject + "の御見積書（" + ref + "）をお送りいたします。\n" +
			"下記のリンクからご覧いただけます（PDFもダウンロードいただけます）。\n\n" + LinkPlaceholder +
			"\n\n有効期限は" + q.ValidUntil + "です。ご不明な点がございましたら、お気軽にお問い合わせください。\n\n何卒よろしくお願い申し上げます。\n" + repName
}

// Send mails quote version in.Version of deal dealID to in.ContactID, one of
// the deal's contacts, through salesmail (an email activity with tracked
// links), and records the send. With an IdempotencyKey seen before it
// returns that send and mails nothing.
func (s *Service) Send(ctx context.Context, a platform.Actor, dealID int64, in SendInput) (Send, error) {
	var out Send
	if !a.Is(platform.RoleAdmin, platform.RoleManager, platform.RoleSales) || a.UserID == 0 {
		return out, errs.E(errs.Forbidden, "", "only admins, managers and sales send quotes")
	}
	if len(in.IdempotencyKey) > 200 {
		return out, errs.Field("idempotency_key", "is longer than 200 characters")
	}
	now := s.Clock.Now()
	err := s.DB.Write(ctx, "quotemail.Send", func(tx *db.Tx) error {
		if in.IdempotencyKey != "" {
			if x, err := s.sendBy(ctx, tx, a.WorkspaceID, `s.idem_key = ?`, in.IdempotencyKey); err == nil {
				out = x
				return nil
			} else if !errs.Is(err, errs.NotFound) {
				return err
			}
		}
		d, err := s.CRM.GetDeal(ctx, tx, a, dealID)
		if err != nil {
			return err
		}
		q, err := s.Sales.GetQuote(ctx, tx, a, dealID, in.Version)
		if err != nil {
			if errs.Is(err, errs.NotFound) {
				return errs.Field("version", "quote version %d does not exist", in.Version)
			}
			return err
		}
		onDeal := false
		for _, dc := range d.Contacts {
			onDeal = onDeal || dc.ContactID == in.ContactID
		}
		if !onDeal {
			return errs.Field("contact_id", "is not one of the deal's contacts")
		}
		w, err := platform.GetWorkspace(ctx, tx, a.WorkspaceID)
		if err != nil {
			return err
		}
		base := strings.TrimRight(w.PublicBaseURL, "/")
		if base == "" {
			base = strings.TrimRight(in.BaseURL, "/")
		}
		if base == "" {
			return errs.Rule("base_url", "set the workspace's public base URL first: the customer needs a link to open")
		}
		if strings.TrimSpace(in.Subject) == "" || strings.TrimSpace(in.Body) == "" {
			rep, err := platform.GetUser(ctx, tx, a.WorkspaceID, a.UserID)
			if err != nil {
				return err
			}
			subj, body := Draft(q, rep.Name)
			if strings.TrimSpace(in.Subject) == "" {
				in.Subject = subj
			}
			if strings.TrimSpace(in.Body) == "" {
				in.Body = body
			}
		}
		var id int64
		err = tx.QueryRowContext(ctx, `-- quotemail.Send
			INSERT INTO quote_sends (workspace_id, quote_id, deal_id, contact_id, sent_by, sent_at, idem_key) VALUES (?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (workspace_id, idem_key) WHERE idem_key <> '' DO NOTHING RETURNING id`,
			a.WorkspaceID, q.ID, dealID, in.ContactID, a.UserID, db.Millis(now), in.IdempotencyKey).Scan(&id)
		if db.NoRows(err) { // the same key committed meanwhile (PostgreSQL): that send stands
			out, err = s.sendBy(ctx, tx, a.WorkspaceID, `s.idem_key = ?`, in.IdempotencyKey)
			return err
		}
		if err != nil {
			return fmt.Errorf("quotemail.Send: %w", err)
		}
		tok, err := SignView(w.SigningKey(), id, now)
		if err != nil {
			return err
		}
		link := base + "/q/" + tok
		body := in.Body
		if strings.Contains(body, LinkPlaceholder) {
			body = strings.ReplaceAll(body, LinkPlaceholder, link)
		} else {
			body = strings.TrimRight(body, "\n") + "\n\n" + link + "\n"
		}
		key := ""
		if in.IdempotencyKey != "" {
			key = "quote:" + in.IdempotencyKey
		}
		em, err := s.Mail.SendTx(ctx, tx, a, in.ContactID, salesmail.SendInput{Subject: in.Subject, Body: body, DealID: dealID,
			IdempotencyKey: key, BaseURL: base})
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `-- quotemail.Send.email
			UPDATE quote_sends SET sales_email_id = ? WHERE workspace_id = ? AND id = ?`, em.ID, a.WorkspaceID, id); err != nil {
			return fmt.Errorf("quotemail.Send: %w", err)
		}
		name, err := s.contactName(ctx, tx, a.WorkspaceID, in.ContactID)
		if err != nil {
			return err
		}
		if _, err := platform.AppendTimeline(ctx, tx, a, platform.TimelineEntry{At: now, Kind: "quote.sent", DealID: dealID, CompanyID: d.CompanyID,
			RefType: "quote", RefID: q.ID}, map[string]any{"number": q.Number, "version": q.Version, "contact": name, "contact_id": in.ContactID}); err != nil {
			return err
		}
		if err := platform.Audit(ctx, tx, a, now, "send", "quote", q.ID, map[string]any{"deal_id": dealID, "contact_id": in.ContactID, "send_id": id}); err != nil {
			return err
		}
		out, err = s.sendBy(ctx, tx, a.WorkspaceID, `s.id = ?`, id)
		return err
	})
	return out, err
}

func (s *Service) contactName(ctx context.Context, q db.Querier, ws, id int64) (string, error) {
	c, err := s.CRM.GetContact(ctx, q, platform.System(ws), id)
	if err != nil {
		return "", err
	}
	name := strings.TrimSpace(c.FamilyName + " " + c.GivenName)
	if name == "" {
		name = c.Email
	}
	return name, nil
}

const sendCols = `s.id, s.quote_id, s.deal_id, q.number, q.version, s.contact_id, COALESCE(s.sales_email_id, 0), COALESCE(s.sent_by, 0),
	s.sent_at, s.views, s.first_viewed_at, s.last_viewed_at`

func scanSend(sc interface{ Scan(...any) error }) (Send, error) {
	var x Send
	var number, sent int64
	var first, last *int64
	if err := sc.Scan(&x.ID, &x.QuoteID, &x.DealID, &number, &x.Version, &x.ContactID, &x.SalesEmailID, &x.SentBy, &sent, &x.Views, &first, &last); err != nil {
		return x, err
	}
	x.Number, x.SentAt = sales.FormatNumber(number), db.Time(sent)
	if first != nil {
		t := db.Time(*first)
		x.FirstViewedAt = &t
	}
	if last != nil {
		t := db.Time(*last)
		x.LastViewedAt = &t
	}
	return x, nil
}

func (s *Service) sendBy(ctx context.Context, q db.Querier, ws int64, where string, args ...any) (Send, error) {
	x, err := scanSend(q.QueryRowContext(ctx, `-- quotemail.sendBy
		SELECT `+sendCols+` FROM quote_sends s JOIN quotes q ON q.workspace_id = s.workspace_id AND q.id = s.quote_id
		WHERE s.workspace_id = ? AND `+where, append([]any{ws}, args...)...))
	if db.NoRows(err) {
		return x, errs.NotFoundf("quote send not found")
	}
	if err != nil {
		return x, fmt.Errorf("quotemail.sendBy: %w", err)
	}
	return x, nil
}

// Sends lists the quotes sent on a deal the actor may see, newest first.
func (s *Service) Sends(ctx context.Context, q db.Querier, a platform.Actor, dealID int64) ([]Send, error) {
	if _, err := s.CRM.GetDeal(ctx, q, a, dealID); err != nil {
		return nil, err
	}
	rows, err := q.QueryContext(ctx, `-- quotemail.Sends
		SELECT `+sendCols+` FROM quote_sends s JOIN quotes q ON q.workspace_id = s.workspace_id AND q.id = s.quote_id
		WHERE s.workspace_id = ? AND s.deal_id = ? ORDER BY s.sent_at DESC, s.id DESC`, a.WorkspaceID, dealID)
	if err != nil {
		return nil, fmt.Errorf("quotemail.Sends: %w", err)
	}
	defer rows.Close()
	out := []Send{}
	for rows.Next() {
		x, err := scanSend(rows)
		if err != nil {
			return nil, fmt.Errorf("quotemail.Sends: %w", err)
		}
		out = append(out, x)
	}
	return out, rows.Err()
}
