package quotemail

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/ryorin/ryorin/internal/db"
	"github.com/ryorin/ryorin/internal/errs"
	"github.com/ryorin/ryorin/internal/i18n"
	"github.com/ryorin/ryorin/internal/platform"
	"github.com/ryorin/ryorin/internal/sales"
)

// The public link's signed token: its own purpose, so no other signed link
// (a tracking pixel, an unsubscribe) ever opens a quote.
const (
	purposeView = "quote.view"
	viewTTL     = 400 * 24 * time.Hour
	// ViewWindow is how long repeated views of one send count as one for the
	// timeline and the owner's notification (reloads, the PDF after the page).
	ViewWindow = 30 * time.Minute
	// EventQuoteView is the event kind of a customer viewing a sent quote.
	EventQuoteView = "quote_view"
)

type viewClaim struct {
	S int64 `json:"s"` // the quote_sends row
}

// SignView returns the token of the public link of send id.
func SignView(key []byte, id int64, now time.Time) (string, error) {
	return platform.SignLink(key, purposeView, viewClaim{S: id}, now.Add(viewTTL))
}

// ParsePath splits the last segment of a public quote URL, "<token>" (the
// page) or "<token>.pdf" (the PDF). It checks only the shape; the token's
// signature is checked by View.
func ParsePath(file string) (token string, pdf bool, ok bool) {
	token, pdf = strings.CutSuffix(file, ".pdf")
	if token == "" || len(token) > 1024 {
		return "", false, false
	}
	for i := 0; i < len(token); i++ {
		c := token[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
			return "", false, false
		}
	}
	return token, pdf, true
}

// ParseView verifies a public link's token and returns its send's id. A
// forged, altered or expired token is Unauthenticated.
func ParseView(key []byte, token string, now time.Time) (int64, error) {
	var cl viewClaim
	if err := platform.VerifyLink(key, purposeView, token, now, &cl); err != nil {
		return 0, err
	}
	if cl.S <= 0 {
		return 0, errs.E(errs.Unauthenticated, "token", "this link is not valid")
	}
	return cl.S, nil
}

// View returns the quote version a public link shows and records the view:
// the send's counters every time; when no view was noted in the last
// ViewWindow, a quote_view event on the contact's timeline, a quote.viewed
// entry on the deal's and a notification to the deal's owner (noted_at,
// set in the same statement, so two simultaneous views note one). A forged
// token records nothing.
func (s *Service) View(ctx context.Context, ws int64, token string) (sales.Quote, error) {
	now := s.Clock.Now()
	w, err := platform.GetWorkspace(ctx, s.DB.Reader(), ws)
	if err != nil {
		return sales.Quote{}, err
	}
	id, err := ParseView(w.SigningKey(), token, now)
	if err != nil {
		return sales.Quote{}, err
	}
	sys := platform.System(ws)
	var out sales.Quote
	err = s.DB.Write(ctx, "quotemail.View", func(tx *db.Tx) error {
		var quoteID, dealID, contactID, noted int64
		err := tx.QueryRowContext(ctx, `-- quotemail.View
			UPDATE quote_sends SET views = views + 1, first_viewed_at = COALESCE(first_viewed_at, ?), last_viewed_at = ?,
				noted_at = CASE WHEN noted_at IS NULL OR noted_at <= ? THEN ? ELSE noted_at END
			WHERE workspace_id = ? AND id = ? RETURNING quote_id, deal_id, contact_id, noted_at`,
			db.Millis(now), db.Millis(now), db.Millis(now.Add(-ViewWindow)), db.Millis(now), ws, id).Scan(&quoteID, &dealID, &contactID, &noted)
		if db.NoRows(err) {
			return errs.NotFoundf("quote not found") // the deal, quote or contact was deleted
		}
		if err != nil {
			return fmt.Errorf("quotemail.View: %w", err)
		}
		var version int
		if err := tx.QueryRowContext(ctx, `-- quotemail.View version
			SELECT version FROM quotes WHERE workspace_id = ? AND id = ?`, ws, quoteID).Scan(&version); err != nil {
			return fmt.Errorf("quotemail.View: %w", err)
		}
		if out, err = s.Sales.GetQuote(ctx, tx, sys, dealID, version); err != nil {
			return err
		}
		if noted != db.Millis(now) {
			return nil // noted within the window: counted, told already
		}
		ref := fmt.Sprintf("%s-%d", out.Number, out.Version)
		stored, _, err := platform.StoreEvents(ctx, tx, ws, []platform.EventInput{{ID: fmt.Sprintf("quote:view:%d:%d", id, noted), Kind: EventQuoteView,
			ContactID: contactID, UTMMedium: "email", Channel: "email",
			Properties: map[string]any{"quote": ref, "deal_id": dealID, "quote_send_id": id}}}, now)
		if err != nil {
			return err
		}
		if len(stored) == 0 || !stored[0] {
			return nil // a view in the same millisecond noted it already
		}
		name, err := s.contactName(ctx, tx, ws, contactID)
		if err != nil {
			return err
		}
		d, err := s.CRM.GetDeal(ctx, tx, sys, dealID)
		if err != nil {
			return err
		}
		if _, err := platform.AppendTimeline(ctx, tx, sys, platform.TimelineEntry{At: now, Kind: "quote.viewed", DealID: dealID, CompanyID: d.CompanyID,
			RefType: "quote", RefID: quoteID}, map[string]any{"number": out.Number, "version": out.Version, "contact": name, "contact_id": contactID}); err != nil {
			return err
		}
		if s.Notify == nil || d.OwnerID == 0 {
			return nil
		}
		lang := i18n.JA
		if u, err := platform.GetUser(ctx, tx, ws, d.OwnerID); err == nil {
			lang, _ = i18n.Parse(u.Locale)
		}
		_, _, err = s.Notify.Notify(ctx, tx, ws, d.OwnerID, platform.Notification{Kind: "quote.viewed",
			Title: i18n.T(lang, "notify.quote_viewed", "name", name, "quote", ref), Body: d.Name, Link: fmt.Sprintf("/deals/%d#quotes", dealID),
			DedupeKey: fmt.Sprintf("quote.viewed:%d:%d", id, noted)})
		return err
	})
	return out, err
}
