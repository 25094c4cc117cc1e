package lead

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/ryorin/ryorin/internal/crm"
	"github.com/ryorin/ryorin/internal/db"
	"github.com/ryorin/ryorin/internal/errs"
	"github.com/ryorin/ryorin/internal/platform"
)

// Reason is why sales rejects a lead, and what then happens to it.
type Reason struct {
	Key     string `json:"key"`
	LabelJA string `json:"label_ja"`
	LabelEN string `json:"label_en"`
	Outcome string `json:"outcome" doc:"recycle (back to nurture) or disqualify"`
}

// Label returns the reason's name in a language.
func (r Reason) Label(lang string) string {
	if lang == "ja" {
		return r.LabelJA
	}
	return r.LabelEN
}

// DefaultReasons is the reject list a new workspace starts with.
var DefaultReasons = []Reason{
	{"not_decision_maker", "決裁者ではない", "Not the decision maker", "recycle"},
	{"no_budget", "予算がない", "No budget", "recycle"},
	{"bad_timing", "時期尚早", "Too early", "recycle"},
	{"competitor_customer", "競合の既存顧客", "Existing customer of a competitor", "recycle"},
	{"bad_data", "連絡先の誤り", "Bad contact data", "disqualify"},
	{"not_a_fit", "対象外の企業・個人", "Not a fit", "disqualify"},
}

// Feedback is a rep's verdict on a lead.
type Feedback struct {
	ID        int64     `json:"id"`
	ContactID int64     `json:"contact_id"`
	UserID    int64     `json:"user_id,omitempty"`
	Decision  string    `json:"decision" doc:"accept or reject"`
	Reason    string    `json:"reason,omitempty" doc:"a reason key; required to reject"`
	Note      string    `json:"note,omitempty"`
	Rating    int       `json:"rating,omitempty" doc:"lead quality, 1 to 5 (0: not rated)"`
	At        time.Time `json:"at"`
}

// FeedbackInput is what a rep sends.
type FeedbackInput struct {
	Decision string `json:"decision"`
	Reason   string `json:"reason,omitempty"`
	Note     string `json:"note,omitempty"`
	Rating   int    `json:"rating,omitempty"`
}

// EnsureReasons seeds the default reject reasons on a workspace without any.
func (s *Service) EnsureReasons(ctx context.Context, ws int64) error {
	var n int
	if err := s.DB.Reader().QueryRowContext(ctx, `SELECT COUNT(*) FROM feedback_reasons WHERE workspace_id = ?`, ws).Scan(&n); err != nil || n > 0 {
		return err
	}
	return s.DB.Write(ctx, "lead.EnsureReasons", func(tx *db.Tx) error {
		for i, r := range DefaultReasons {
			if _, err := tx.ExecContext(ctx, `INSERT INTO feedback_reasons (workspace_id, key, label_ja, label_en, outcome, position) VALUES (?, ?, ?, ?, ?, ?)`,
				ws, r.Key, r.LabelJA, r.LabelEN, r.Outcome, i); err != nil {
				return err
			}
		}
		return nil
	})
}

// Reasons lists the reject reasons in order.
func (s *Service) Reasons(ctx context.Context, ws int64) ([]Reason, error) {
	rows, err := s.DB.Reader().QueryContext(ctx, `-- lead.Reasons
		SELECT key, label_ja, label_en, outcome FROM feedback_reasons WHERE workspace_id = ? ORDER BY position, key`, ws)
	if err != nil {
		return nil, fmt.Errorf("lead.Reasons: %w", err)
	}
	defer rows.Close()
	out := []Reason{}
	for rows.Next() {
		var r Reason
		if err := rows.Scan(&r.Key, &r.LabelJA, &r.LabelEN, &r.Outcome); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// GiveFeedback records a rep's verdict and moves the lead on: accepted →
// SQL; rejected → recycled (back to nurture) or disqualified, as the reason
// says. The feedback, the stage change (with the reason as its cause) and a
// timeline entry are written in one transaction.
func (s *Service) GiveFeedback(ctx context.Context, cs *crm.Service, a platform.Actor, contactID int64, in FeedbackInput) (Feedback, error) {
	in.Note = strings.TrimSpace(in.Note)
	if in.Decision != "accept" && in.Decision != "reject" {
		return Feedback{}, errs.Field("decision", "must be accept or reject")
	}
	if in.Rating < 0 || in.Rating > 5 {
		return Feedback{}, errs.Field("rating", "must be 1 to 5 (or 0 for no rating)")
	}
	if len(in.Note) > 5000 {
		return Feedback{}, errs.Field("note", "is longer than 5,000 bytes")
	}
	now := s.Clock.Now()
	fb := Feedback{ContactID: contactID, UserID: a.UserID, Decision: in.Decision, Reason: in.Reason, Note: in.Note, Rating: in.Rating, At: now}
	err := s.DB.Write(ctx, "lead.GiveFeedback", func(tx *db.Tx) error {
		ct, err := cs.GetContact(ctx, tx, a, contactID)
		if err != nil {
			return err
		}
		to := platform.StageSQL
		cause := platform.Cause{Kind: "feedback", Ref: "accepted"}
		if in.Decision == "reject" {
			var outcome string
			err := tx.QueryRowContext(ctx, `SELECT outcome FROM feedback_reasons WHERE workspace_id = ? AND key = ?`, a.WorkspaceID, in.Reason).Scan(&outcome)
			if db.NoRows(err) {
				return errs.Rule("reason", "a rejection needs one of the workspace's reasons")
			}
			if err != nil {
				return err
			}
			to = platform.StageRecycled
			if outcome == "disqualify" {
				to = platform.StageDisqualified
			}
			cause.Ref = "rejected: " + in.Reason
		} else {
			fb.Reason = ""
		}
		if r := ct.LifecycleStage.Rank(); r >= platform.StageOpportunity.Rank() {
			return errs.Rule("decision", "this contact is already past the hand-off (%s)", ct.LifecycleStage)
		}
		err = tx.QueryRowContext(ctx, `-- lead.GiveFeedback
			INSERT INTO lead_feedback (workspace_id, contact_id, user_id, decision, reason, note, rating, at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
			a.WorkspaceID, contactID, a.UserRef(), fb.Decision, fb.Reason, fb.Note, fb.Rating, db.Millis(now)).Scan(&fb.ID)
		if err != nil {
			return fmt.Errorf("lead.GiveFeedback: %w", err)
		}
		if _, err := platform.AppendTimeline(ctx, tx, a, platform.TimelineEntry{At: now, Kind: "lead." + fb.Decision + "ed", ContactID: contactID,
			CompanyID: ct.CompanyID, RefType: "feedback", RefID: fb.ID}, map[string]any{"reason": fb.Reason, "note": fb.Note, "rating": fb.Rating}); err != nil {
			return err
		}
		if err := s.TouchSLA(ctx, tx, a.WorkspaceID, contactID, fb.Decision, now); err != nil {
			return err
		}
		if ct.LifecycleStage != to {
			if _, err := cs.UpdateContactTx(ctx, tx, a, contactID, crm.ContactInput{LifecycleStage: &to}, cause); err != nil {
				return err
			}
		}
		return platform.Audit(ctx, tx, a, now, fb.Decision, "lead", contactID, map[string]any{"reason": fb.Reason, "rating": fb.Rating})
	})
	return fb, err
}
