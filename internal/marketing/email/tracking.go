package email

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/ryorin/ryorin/internal/crm"
	"github.com/ryorin/ryorin/internal/db"
	"github.com/ryorin/ryorin/internal/errs"
	"github.com/ryorin/ryorin/internal/platform"
	"github.com/ryorin/ryorin/internal/track"
)

// Tracking records what recipients do with a campaign's mail: the open pixel,
// tracked clicks and unsubscribes, all from signed links. A forged or altered
// token is Unauthenticated and changes nothing. Counters live on the send log;
// each open and click is also an event for the contact (the lead scorer and
// segments read those), deduplicated per minute so a reload is one event.

// Open records that a recipient opened the campaign's mail.
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
	return s.DB.Write(ctx, "email.Open", func(tx *db.Tx) error {
		res, err := tx.ExecContext(ctx, `-- email.Open
			UPDATE campaign_recipients SET opens = opens + 1, first_open_at = COALESCE(first_open_at, ?)
			WHERE workspace_id = ? AND campaign_id = ? AND contact_id = ?`, db.Millis(now), ws, cl.C, cl.K)
		if err != nil {
			return fmt.Errorf("email.Open: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return nil // not in the send log (e.g. a preview)
		}
		return s.event(ctx, tx, ws, platform.EventEmailOpen, cl.C, cl.K, "", now)
	})
}

// Click records a tracked click and returns where to send the visitor: the
// URL signed in the token (so never anywhere else), with a signed identify
// parameter so web tracking joins the visit to the contact.
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
	// A content share link is different per recipient: the report and the
	// event name the asset's page instead (and keep the token out of both).
	counted := cl.U
	if cl.R != "" {
		counted = cl.R
	}
	err = s.DB.Write(ctx, "email.Click", func(tx *db.Tx) error {
		res, err := tx.ExecContext(ctx, `-- email.Click
			UPDATE campaign_recipients SET clicks = clicks + 1 WHERE workspace_id = ? AND campaign_id = ? AND contact_id = ?`, ws, cl.C, cl.K)
		if err != nil {
			return fmt.Errorf("email.Click: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return nil // not in the send log (e.g. a preview)
		}
		if _, err := tx.ExecContext(ctx, `-- email.Click.link
			INSERT INTO campaign_clicks (workspace_id, campaign_id, contact_id, url, clicks, first_at) VALUES (?, ?, ?, ?, 1, ?)
			ON CONFLICT (workspace_id, campaign_id, contact_id, url) DO UPDATE SET clicks = campaign_clicks.clicks + 1`,
			ws, cl.C, cl.K, counted, db.Millis(now)); err != nil {
			return fmt.Errorf("email.Click: %w", err)
		}
		return s.event(ctx, tx, ws, platform.EventEmailClick, cl.C, cl.K, counted, now)
	})
	if err != nil {
		return "", err
	}
	if rid, err := track.IdentifyToken(w.SigningKey(), cl.K, now.Add(30*24*time.Hour)); err == nil {
		q := dest.Query()
		q.Set(track.IdentifyParam, rid)
		dest.RawQuery = q.Encode()
	}
	return dest.String(), nil
}

func (s *Service) event(ctx context.Context, tx *db.Tx, ws int64, kind string, campaign, contact int64, link string, now time.Time) error {
	id := fmt.Sprintf("%s:%d:%d:%d", kind, campaign, contact, now.Unix()/60)
	if link != "" {
		id = fmt.Sprintf("%s:%d:%d:%d:%x", kind, campaign, contact, now.Unix()/60, hash32(link))
	}
	props := map[string]any{"campaign_id": campaign}
	_, rejected, err := platform.StoreEvents(ctx, tx, ws, []platform.EventInput{{ID: id, Kind: kind, ContactID: contact, URL: link,
		UTMMedium: "email", Channel: "email", Properties: props}}, now)
	if err != nil {
		return err
	}
	if len(rejected) > 0 && rejected[0].Field != "contact_id" { // a deleted contact is no error
		return fmt.Errorf("email.event: %s %s", rejected[0].Field, rejected[0].Message)
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

// UnsubscribeState is what the unsubscribe page shows.
type UnsubscribeState struct {
	// Email is the address, partly masked.
	Email string
	// Done is true when the address no longer receives marketing email.
	Done bool
}

func (s *Service) unsubClaim(ctx context.Context, ws int64, token string) (openClaim, error) {
	var cl openClaim
	w, err := platform.GetWorkspace(ctx, s.DB.Reader(), ws)
	if err != nil {
		return cl, err
	}
	// An unsubscribe link never stops working because it is old: only its
	// signature is checked against a far expiry.
	if err := platform.VerifyLink(w.SigningKey(), purposeUnsub, token, s.Clock.Now(), &cl); err != nil {
		return cl, err
	}
	return cl, nil
}

// UnsubscribeStatus reads the state an unsubscribe link's page shows.
func (s *Service) UnsubscribeStatus(ctx context.Context, ws int64, token string) (UnsubscribeState, error) {
	var st UnsubscribeState
	cl, err := s.unsubClaim(ctx, ws, token)
	if err != nil {
		return st, err
	}
	rs, err := loadRecipients(ctx, s.DB.Reader(), ws, `c.id = ?`, cl.K)
	if err != nil {
		return st, err
	}
	if len(rs) == 0 { // the contact was deleted: nothing is sent to them
		return UnsubscribeState{Done: true}, nil
	}
	return UnsubscribeState{Email: mask(rs[0].Email), Done: rs[0].Consent == "revoked" || rs[0].Suppressed}, nil
}

// Unsubscribe revokes the contact's email consent and adds the address to the
// suppression list. It works for a deleted campaign, and again changes nothing.
func (s *Service) Unsubscribe(ctx context.Context, ws int64, token string) (UnsubscribeState, error) {
	cl, err := s.unsubClaim(ctx, ws, token)
	if err != nil {
		return UnsubscribeState{}, err
	}
	now := s.Clock.Now()
	var st UnsubscribeState
	err = s.DB.Write(ctx, "email.Unsubscribe", func(tx *db.Tx) error {
		rs, err := loadRecipients(ctx, tx, ws, `c.id = ?`, cl.K)
		if err != nil || len(rs) == 0 {
			st.Done = true
			return err
		}
		r := rs[0]
		st = UnsubscribeState{Email: mask(r.Email), Done: true}
		sys := platform.System(ws)
		if r.Consent != "revoked" {
			revoked, source := "revoked", fmt.Sprintf("unsubscribe link (campaign %d)", cl.C)
			if _, err := s.CRM.UpdateContactTx(ctx, tx, sys, r.ContactID, crm.ContactInput{ConsentEmail: &revoked, ConsentSource: &source},
				platform.Cause{Kind: "email"}); err != nil {
				return err
			}
		}
		if r.Email != "" {
			if _, err := tx.ExecContext(ctx, `-- email.Unsubscribe.suppress
				INSERT INTO email_suppressions (workspace_id, email, reason, contact_id, created_at) VALUES (?, ?, 'unsubscribed', ?, ?)
				ON CONFLICT (workspace_id, email) DO NOTHING`, ws, strings.ToLower(r.Email), r.ContactID, db.Millis(now)); err != nil {
				return fmt.Errorf("email.Unsubscribe: %w", err)
			}
		}
		res, err := tx.ExecContext(ctx, `-- email.Unsubscribe.log
			UPDATE campaign_recipients SET unsubscribed_at = ? WHERE workspace_id = ? AND campaign_id = ? AND contact_id = ? AND unsubscribed_at IS NULL`,
			db.Millis(now), ws, cl.C, cl.K)
		if err != nil {
			return fmt.Errorf("email.Unsubscribe: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 && r.Consent == "revoked" {
			return nil // already done
		}
		_, err = platform.AppendTimeline(ctx, tx, sys, platform.TimelineEntry{At: now, Kind: "email.unsubscribed", ContactID: r.ContactID,
			RefType: "email_campaign", RefID: cl.C}, map[string]any{"campaign_id": cl.C})
		return err
	})
	return st, err
}

// mask shows enough of an address for its owner to recognise it.
func mask(addr string) string {
	local, domain, ok := strings.Cut(addr, "@")
	if !ok || local == "" {
		return ""
	}
	r := []rune(local)
	return string(r[:1]) + strings.Repeat("*", min(len(r)-1, 5)) + "@" + domain
}

// Suppress adds an address to the suppression list by hand (e.g. a person
// who asked by phone); no marketing email goes to it whatever its consent.
func (s *Service) Suppress(ctx context.Context, a platform.Actor, address, reason string) error {
	if err := canEdit(a); err != nil {
		return err
	}
	e, ok := platform.NormalizeEmail(address)
	if !ok {
		return errs.Field("email", "is not a valid email address")
	}
	if reason = strings.TrimSpace(reason); reason == "" {
		reason = "manual"
	}
	return s.DB.Write(ctx, "email.Suppress", func(tx *db.Tx) error {
		_, err := tx.ExecContext(ctx, `-- email.Suppress
			INSERT INTO email_suppressions (workspace_id, email, reason, created_at) VALUES (?, ?, ?, ?)
			ON CONFLICT (workspace_id, email) DO NOTHING`, a.WorkspaceID, strings.ToLower(e), trimRunes(reason, 200), db.Millis(s.Clock.Now()))
		return err
	})
}

func trimRunes(s string, n int) string {
	r := []rune(s)
	if len(r) > n {
		return string(r[:n])
	}
	return s
}
