package salesmail

import (
	"context"
	"fmt"
	"net/url"
	"time"

	"github.com/ryorin/ryorin/internal/db"
	"github.com/ryorin/ryorin/internal/errs"
	"github.com/ryorin/ryorin/internal/platform"
	"github.com/ryorin/ryorin/internal/track"
)

// Signed link purposes, distinct from marketing email's so a token made
// for one never counts for the other.
const (
	purposeOpen  = "salesmail.open"
	purposeClick = "salesmail.click"
	trackTTL     = 366 * 24 * time.Hour
)

type openClaim struct {
	E int64 `json:"e"`
}

type clickClaim struct {
	E int64  `json:"e"`
	U string `json:"u"`
}

// Open records that the recipient opened message token names: the
// message's counters and an email_open event on the contact's timeline
// (one per minute, so a reload is one event). A forged token is
// Unauthenticated and changes nothing.
func (s *Service) Open(ctx context.Context, ws int64, token string) error {
	now := s.Clock.Now()
	w, err := platform.GetWorkspace(ctx, s.DB.Reader(), ws)
	if err != nil {
		return err
	}
	var cl openClaim
	if err := platform.VerifyLink(w.SigningKey(), purposeOpen, token, now, &cl); err != nil {
		return err
	}
	return s.DB.Write(ctx, "salesmail.Open", func(tx *db.Tx) error {
		var contact int64
		err := tx.QueryRowContext(ctx, `-- salesmail.Open
			UPDATE sales_emails SET opens = opens + 1, first_open_at = COALESCE(first_open_at, ?), last_open_at = ?
			WHERE workspace_id = ? AND id = ? RETURNING contact_id`, db.Millis(now), db.Millis(now), ws, cl.E).Scan(&contact)
		if db.NoRows(err) {
			return nil // the contact (and so the message) was deleted
		}
		if err != nil {
			return fmt.Errorf("salesmail.Open: %w", err)
		}
		return event(ctx, tx, ws, platform.EventEmailOpen, cl.E, contact, "", now)
	})
}

// Click records a tracked click and returns where to send the visitor: the
// URL signed in the token, with a signed identify parameter so web tracking
// joins the visit to the contact.
func (s *Service) Click(ctx context.Context, ws int64, token string) (string, error) {
	now := s.Clock.Now()
	w, err := platform.GetWorkspace(ctx, s.DB.Reader(), ws)
	if err != nil {
		return "", err
	}
	var cl clickClaim
	if err := platform.VerifyLink(w.SigningKey(), purposeClick, token, now, &cl); err != nil {
		return "", err
	}
	dest, err := url.Parse(cl.U)
	if err != nil || (dest.Scheme != "http" && dest.Scheme != "https") || dest.Host == "" {
		return "", errs.Field("token", "this link is not valid")
	}
	var contact int64
	err = s.DB.Write(ctx, "salesmail.Click", func(tx *db.Tx) error {
		err := tx.QueryRowContext(ctx, `-- salesmail.Click
			UPDATE sales_emails SET clicks = clicks + 1, last_click_at = ? WHERE workspace_id = ? AND id = ? RETURNING contact_id`,
			db.Millis(now), ws, cl.E).Scan(&contact)
		if db.NoRows(err) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("salesmail.Click: %w", err)
		}
		return event(ctx, tx, ws, platform.EventEmailClick, cl.E, contact, cl.U, now)
	})
	if err != nil {
		return "", err
	}
	if contact != 0 {
		if rid, err := track.IdentifyToken(w.SigningKey(), contact, now.Add(30*24*time.Hour)); err == nil {
			q := dest.Query()
			q.Set(track.IdentifyParam, rid)
			dest.RawQuery = q.Encode()
		}
	}
	return dest.String(), nil
}

func event(ctx context.Context, tx *db.Tx, ws int64, kind string, emailID, contact int64, link string, now time.Time) error {
	id := fmt.Sprintf("sales:%s:%d:%d", kind, emailID, now.Unix()/60)
	if link != "" {
		id += fmt.Sprintf(":%x", hash32(link))
	}
	_, rejected, err := platform.StoreEvents(ctx, tx, ws, []platform.EventInput{{ID: id, Kind: kind, ContactID: contact, URL: link,
		UTMMedium: "email", Channel: "email", Properties: map[string]any{"sales_email_id": emailID}}}, now)
	if err != nil {
		return err
	}
	if len(rejected) > 0 && rejected[0].Field != "contact_id" {
		return fmt.Errorf("salesmail.event: %s %s", rejected[0].Field, rejected[0].Message)
	}
	return nil
}

func hash32(s string) uint32 {
	h := uint32(2166136261)
	for i := 0; i < len(s); i++ {
		h = (h ^ uint32(s[i])) * 16777619
	}
	return h
}
