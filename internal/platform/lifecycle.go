package platform

import (
	"context"
	"fmt"
	"time"

	"github.com/ryorin/ryorin/internal/db"
)

// Stage is a contact's lifecycle stage. A lead is a contact at an early stage:
// there is no separate lead object that would lose history on conversion.
type Stage string

// The lifecycle stages, in funnel order, then the two side exits.
const (
	StageSubscriber   Stage = "subscriber"
	StageLead         Stage = "lead"
	StageMQL          Stage = "mql"
	StageSQL          Stage = "sql"
	StageOpportunity  Stage = "opportunity"
	StageCustomer     Stage = "customer"
	StageDisqualified Stage = "disqualified"
	StageRecycled     Stage = "recycled"
)

// Stages lists every lifecycle stage in display order.
var Stages = []Stage{StageSubscriber, StageLead, StageMQL, StageSQL, StageOpportunity, StageCustomer, StageDisqualified, StageRecycled}

// Valid reports whether s is a known stage.
func (s Stage) Valid() bool {
	for _, x := range Stages {
		if s == x {
			return true
		}
	}
	return false
}

// Rank is the stage's position in the funnel (subscriber 0 … customer 5);
// disqualified and recycled rank -1 because they leave the funnel.
func (s Stage) Rank() int {
	for i, x := range Stages[:6] {
		if s == x {
			return i
		}
	}
	return -1
}

// Cause says why a lifecycle stage changed.
type Cause struct {
	Kind string // "user", "api", "rule", "deal", "import", "form", "system"
	Ref  string // e.g. "definition 3 v2: mql", "deal 42 won"
}

// LifecycleChange is one row of lifecycle history.
type LifecycleChange struct {
	ID          int64     `json:"id"`
	ContactID   int64     `json:"contact_id"`
	At          time.Time `json:"at"`
	From        Stage     `json:"from,omitempty"`
	To          Stage     `json:"to"`
	CauseKind   string    `json:"cause_kind"`
	CauseRef    string    `json:"cause_ref,omitempty"`
	ActorUserID int64     `json:"actor_user_id,omitempty"`
}

// RecordLifecycle writes a stage change to lifecycle history and the timeline,
// inside tx. Updating the contact's own stage column is the caller's job (it
// owns the contacts table); this keeps the history in one place.
func RecordLifecycle(ctx context.Context, tx db.Execer, a Actor, contactID int64, at time.Time, from, to Stage, c Cause) error {
	if c.Kind == "" {
		c.Kind = string(a.Kind)
	}
	_, err := tx.ExecContext(ctx, `-- platform.RecordLifecycle
		INSERT INTO lifecycle_history (workspace_id, contact_id, at, from_stage, to_stage, cause_kind, cause_ref, actor_user_id)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
		a.WorkspaceID, contactID, db.Millis(at), string(from), string(to), c.Kind, c.Ref, a.UserRef())
	if err != nil {
		return fmt.Errorf("platform.RecordLifecycle: %w", err)
	}
	_, err = AppendTimeline(ctx, tx, a, TimelineEntry{At: at, Kind: "lifecycle.changed", ContactID: contactID},
		map[string]string{"from": string(from), "to": string(to), "cause": c.Kind, "ref": c.Ref})
	return err
}

// LifecycleHistory returns a contact's stage changes, oldest first.
func LifecycleHistory(ctx context.Context, q db.Querier, ws, contactID int64) ([]LifecycleChange, error) {
	rows, err := q.QueryContext(ctx, `-- platform.LifecycleHistory
		SELECT id, contact_id, at, from_stage, to_stage, cause_kind, cause_ref, COALESCE(actor_user_id, 0)
		FROM lifecycle_history WHERE workspace_id = ? AND contact_id = ? ORDER BY at, id`, ws, contactID)
	if err != nil {
		return nil, fmt.Errorf("platform.LifecycleHistory: %w", err)
	}
	defer rows.Close()
	out := []LifecycleChange{}
	for rows.Next() {
		var c LifecycleChange
		var at int64
		if err := rows.Scan(&c.ID, &c.ContactID, &at, &c.From, &c.To, &c.CauseKind, &c.CauseRef, &c.ActorUserID); err != nil {
			return nil, fmt.Errorf("platform.LifecycleHistory: %w", err)
		}
		c.At = db.Time(at)
		out = append(out, c)
	}
	return out, rows.Err()
}
