package platform

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/ryorin/ryorin/internal/db"
)

// AuditEntry is one line of the audit log: who changed what, when.
type AuditEntry struct {
	ID          int64           `json:"id"`
	At          time.Time       `json:"at"`
	ActorUserID int64           `json:"actor_user_id,omitempty"`
	ActorKind   ActorKind       `json:"actor_kind"`
	Action      string          `json:"action"`
	ObjectType  string          `json:"object_type"`
	ObjectID    int64           `json:"object_id,omitempty"`
	Changes     json.RawMessage `json:"changes,omitempty"`
	IP          string          `json:"ip,omitempty"`
}

// Change is one field's before and after, as stored in the audit log.
type Change struct {
	From any `json:"from"`
	To   any `json:"to"`
}

// Audit appends an entry to the audit log inside tx. changes may be nil, a
// map[string]Change, or any value that marshals to JSON. Secrets must never be
// passed here.
func Audit(ctx context.Context, tx db.Execer, a Actor, at time.Time, action, objectType string, objectID int64, changes any) error {
	var js any
	if changes != nil {
		b, err := json.Marshal(changes)
		if err != nil {
			return fmt.Errorf("platform.Audit: %w", err)
		}
		js = string(b)
	}
	_, err := tx.ExecContext(ctx, `-- platform.Audit
		INSERT INTO audit_log (workspace_id, at, actor_user_id, actor_kind, action, object_type, object_id, changes, ip)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		a.WorkspaceID, db.Millis(at), a.UserRef(), string(a.Kind), action, objectType, db.NullInt(objectID), js, a.IP)
	if err != nil {
		return fmt.Errorf("platform.Audit(%s %s): %w", action, objectType, err)
	}
	return nil
}

// AuditFilter selects audit entries.
type AuditFilter struct {
	ObjectType string
	ObjectID   int64
	ActorID    int64
	BeforeID   int64 // cursor: entries with a smaller id
	Limit      int
}

// ListAudit returns audit entries, newest first.
func ListAudit(ctx context.Context, q db.Querier, ws int64, f AuditFilter) ([]AuditEntry, error) {
	sql := `-- platform.ListAudit
		SELECT id, at, COALESCE(actor_user_id, 0), actor_kind, action, object_type, COALESCE(object_id, 0), changes, ip
		FROM audit_log WHERE workspace_id = ?`
	args := []any{ws}
	if f.ObjectType != "" {
		sql += ` AND object_type = ?`
		args = append(args, f.ObjectType)
	}
	if f.ObjectID != 0 {
		sql += ` AND object_id = ?`
		args = append(args, f.ObjectID)
	}
	if f.ActorID != 0 {
		sql += ` AND actor_user_id = ?`
		args = append(args, f.ActorID)
	}
	if f.BeforeID != 0 {
		sql += ` AND id < ?`
		args = append(args, f.BeforeID)
	}
	if f.Limit <= 0 || f.Limit > 500 {
		f.Limit = 100
	}
	sql += ` ORDER BY id DESC LIMIT ?`
	args = append(args, f.Limit)
	rows, err := q.QueryContext(ctx, sql, args...)
	if err != nil {
		return nil, fmt.Errorf("platform.ListAudit: %w", err)
	}
	defer rows.Close()
	var out []AuditEntry
	for rows.Next() {
		var e AuditEntry
		var at int64
		var ch *string
		if err := rows.Scan(&e.ID, &at, &e.ActorUserID, &e.ActorKind, &e.Action, &e.ObjectType, &e.ObjectID, &ch, &e.IP); err != nil {
			return nil, fmt.Errorf("platform.ListAudit: %w", err)
		}
		e.At = db.Time(at)
		if ch != nil {
			e.Changes = json.RawMessage(*ch)
		}
		out = append(out, e)
	}
	return out, rows.Err()
}
