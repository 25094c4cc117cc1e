package email

import (
	"context"
	"fmt"
	"strings"

	"github.com/ryorin/ryorin/internal/db"
	"github.com/ryorin/ryorin/internal/errs"
	"github.com/ryorin/ryorin/internal/platform"
)

// Bounce kinds: a hard bounce (the address does not take mail) and a
// complaint (the recipient marked the mail as spam). Both suppress the
// address for every send, marketing and one-to-one (ADR 0015).
const (
	BounceHard      = "bounce"
	BounceComplaint = "complaint"
)

// BounceEvent is one bounce or complaint reported by a mail provider.
type BounceEvent struct {
	Email  string `json:"email"`
	Type   string `json:"type" enum:"bounce,complaint"`
	Detail string `json:"detail,omitempty" doc:"the provider's diagnostic, kept on the contact's timeline"`
}

// RecordBounce suppresses address for good (a stronger reason replaces an
// unsubscribe or a manual entry) and puts the bounce or complaint on the
// timeline of each contact with that address. Recording the same event
// again changes nothing.
func (s *Service) RecordBounce(ctx context.Context, ws int64, ev BounceEvent) error {
	addr, ok := platform.NormalizeEmail(ev.Email)
	if !ok {
		return errs.Field("email", "is not a valid email address")
	}
	if ev.Type != BounceHard && ev.Type != BounceComplaint {
		return errs.Field("type", "must be bounce or complaint")
	}
	addr = strings.ToLower(addr)
	now := s.Clock.Now()
	return s.DB.Write(ctx, "email.RecordBounce", func(tx *db.Tx) error {
		var prev string
		err := tx.QueryRowContext(ctx, `SELECT reason FROM email_suppressions WHERE workspace_id = ? AND email = ?`, ws, addr).Scan(&prev)
		if err != nil && !db.NoRows(err) {
			return fmt.Errorf("email.RecordBounce: %w", err)
		}
		if prev == ev.Type || (prev == BounceComplaint && ev.Type == BounceHard) {
			return nil // already recorded
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO email_suppressions (workspace_id, email, reason, created_at) VALUES (?, ?, ?, ?)
			ON CONFLICT (workspace_id, email) DO UPDATE SET reason = excluded.reason, created_at = excluded.created_at`,
			ws, addr, ev.Type, db.Millis(now)); err != nil {
			return fmt.Errorf("email.RecordBounce: %w", err)
		}
		rows, err := tx.QueryContext(ctx, `SELECT id FROM contacts WHERE workspace_id = ? AND lower(email) = ?`, ws, addr)
		if err != nil {
			return fmt.Errorf("email.RecordBounce: %w", err)
		}
		var ids []int64
		for rows.Next() {
			var id int64
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return err
			}
			ids = append(ids, id)
		}
		rows.Close()
		sys := platform.System(ws)
		for _, id := range ids {
			if _, err := platform.AppendTimeline(ctx, tx, sys, platform.TimelineEntry{At: now, Kind: "email." + ev.Type, ContactID: id},
				map[string]any{"detail": trimRunes(ev.Detail, 500)}); err != nil {
				return err
			}
		}
		return nil
	})
}

// RecordBounces records a provider's batch; it returns how many were
// recorded and the first bad event's error (by its index).
func (s *Service) RecordBounces(ctx context.Context, a platform.Actor, evs []BounceEvent) (int, error) {
	if err := canEdit(a); err != nil {
		return 0, err
	}
	if len(evs) > 1000 {
		return 0, errs.Field("events", "at most 1,000 events per request")
	}
	for i, ev := range evs {
		if err := s.RecordBounce(ctx, a.WorkspaceID, ev); err != nil {
			if e, ok := errs.As(err); ok && e.Field != "" {
				e.Field = fmt.Sprintf("events[%d].%s", i, e.Field)
				return i, e
			}
			return i, err
		}
	}
	return len(evs), nil
}

// bounceFromSMTP is the mailer's hook: a recipient refused for good by the
// SMTP server is a hard bounce.
func (s *Service) bounceFromSMTP(ctx context.Context, ws int64, to, reason string) error {
	return s.RecordBounce(ctx, ws, BounceEvent{Email: to, Type: BounceHard, Detail: reason})
}
