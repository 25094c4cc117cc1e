package platform

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/ryorin/ryorin/internal/db"
)

// TimelineEntry is one line of the shared timeline: an activity, a stage or
// lifecycle change, a marketing touch. It may belong to a contact, a company
// and a deal at once. The timeline is append-only.
type TimelineEntry struct {
	ID          int64           `json:"id"`
	At          time.Time       `json:"at"`
	Kind        string          `json:"kind"`
	ContactID   int64           `json:"contact_id,omitempty"`
	CompanyID   int64           `json:"company_id,omitempty"`
	DealID      int64           `json:"deal_id,omitempty"`
	ActorUserID int64           `json:"actor_user_id,omitempty"`
	RefType     string          `json:"ref_type,omitempty"`
	RefID       int64           `json:"ref_id,omitempty"`
	Data        json.RawMessage `json:"data,omitempty"`
}

// AppendTimeline writes one entry inside tx. data is marshalled to JSON.
func AppendTimeline(ctx context.Context, tx db.Execer, a Actor, e TimelineEntry, data any) (int64, error) {
	var js any
	if data != nil {
		b, err := json.Marshal(data)
		if err != nil {
			return 0, fmt.Errorf("platform.AppendTimeline: %w", err)
		}
		js = string(b)
	} else if e.Data != nil {
		js = string(e.Data)
	}
	var id int64
	err := tx.QueryRowContext(ctx, `-- platform.AppendTimeline
		INSERT INTO timeline (workspace_id, at, kind, contact_id, company_id, deal_id, actor_user_id, ref_type, ref_id, data)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		a.WorkspaceID, db.Millis(e.At), e.Kind, db.NullInt(e.ContactID), db.NullInt(e.CompanyID), db.NullInt(e.DealID),
		a.UserRef(), e.RefType, db.NullInt(e.RefID), js).Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("platform.AppendTimeline(%s): %w", e.Kind, err)
	}
	return id, nil
}

// TimelineQuery selects one record's timeline page.
type TimelineQuery struct {
	Subject  string // "contact", "company" or "deal"
	ID       int64
	Kinds    []string // optional filter
	BeforeAt int64    // cursor (epoch ms) …
	BeforeID int64    // … and id of the last entry already seen
	Limit    int
}

// ListTimeline returns a page of a record's timeline, newest first. It is a
// single index range scan, so it stays fast at thousands of entries.
func ListTimeline(ctx context.Context, q db.Querier, ws int64, tq TimelineQuery) ([]TimelineEntry, error) {
	col := map[string]string{"contact": "contact_id", "company": "company_id", "deal": "deal_id"}[tq.Subject]
	if col == "" {
		return nil, fmt.Errorf("platform.ListTimeline: bad subject %q", tq.Subject)
	}
	sql := `-- platform.ListTimeline
		SELECT id, at, kind, COALESCE(contact_id, 0), COALESCE(company_id, 0), COALESCE(deal_id, 0),
		       COALESCE(actor_user_id, 0), ref_type, COALESCE(ref_id, 0), data
		FROM timeline WHERE workspace_id = ? AND ` + col + ` = ?`
	args := []any{ws, tq.ID}
	if len(tq.Kinds) > 0 {
		sql += ` AND kind IN (` + db.Placeholders(len(tq.Kinds)) + `)`
		for _, k := range tq.Kinds {
			args = append(args, k)
		}
	}
	if tq.BeforeID != 0 {
		sql += ` AND (at < ? OR (at = ? AND id < ?))`
		args = append(args, tq.BeforeAt, tq.BeforeAt, tq.BeforeID)
	}
	if tq.Limit <= 0 || tq.Limit > 200 {
		tq.Limit = 50
	}
	sql += ` ORDER BY at DESC, id DESC LIMIT ?`
	args = append(args, tq.Limit)
	rows, err := q.QueryContext(ctx, sql, args...)
	if err != nil {
		return nil, fmt.Errorf("platform.ListTimeline: %w", err)
	}
	defer rows.Close()
	out := []TimelineEntry{}
	for rows.Next() {
		var e TimelineEntry
		var at int64
		var data *string
		if err := rows.Scan(&e.ID, &at, &e.Kind, &e.ContactID, &e.CompanyID, &e.DealID, &e.ActorUserID, &e.RefType, &e.RefID, &data); err != nil {
			return nil, fmt.Errorf("platform.ListTimeline: %w", err)
		}
		e.At = db.Time(at)
		if data != nil {
			e.Data = json.RawMessage(*data)
		}
		out = append(out, e)
	}
	return out, rows.Err()
}
