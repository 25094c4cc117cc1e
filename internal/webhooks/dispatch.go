package webhooks

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/ryorin/ryorin/internal/db"
)

// dispatchBatch bounds each dispatch transaction.
const dispatchBatch = 500

type event struct {
	uid, typ string
	at       time.Time
	payload  map[string]any
}

// Dispatch turns new audit entries and timeline entries into deliveries for
// the subscriptions that want them, advancing its marks in the same
// transaction, so a restart neither skips nor repeats an event. A
// subscription receives events from its creation on. It returns how many
// deliveries it wrote.
func (s *Service) Dispatch(ctx context.Context, ws int64) (int, error) {
	lag := s.Lag
	if lag == 0 {
		lag = 2 * time.Second
	}
	total := 0
	for {
		now := s.Clock.Now()
		upto := db.Millis(now.Add(-lag))
		n, more := 0, false
		err := s.DB.Write(ctx, "webhooks.Dispatch", func(tx *db.Tx) error {
			var auditMark, tlMark int64
			for name, dst := range map[string]*int64{"webhooks.audit": &auditMark, "webhooks.timeline": &tlMark} {
				err := tx.QueryRowContext(ctx, `SELECT value FROM work_marks WHERE workspace_id = ? AND name = ?`, ws, name).Scan(dst)
				if db.NoRows(err) {
					// First run: start from now, not from history.
					table := map[string]string{"webhooks.audit": "audit_log", "webhooks.timeline": "timeline"}[name]
					if err := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(id), 0) FROM `+table+` WHERE workspace_id = ?`, ws).Scan(dst); err != nil {
						return err
					}
					continue
				}
				if err != nil {
					return err
				}
			}
			subs, err := s.Subscriptions(ctx, tx, ws)
			if err != nil {
				return err
			}
			var evs []event
			rows, err := tx.QueryContext(ctx, `SELECT id, at, action, object_type, COALESCE(object_id, 0), COALESCE(actor_user_id, 0), changes FROM audit_log
				WHERE workspace_id = ? AND id > ? AND at <= ? AND object_type IN ('contact', 'company', 'deal') AND action IN ('create', 'update', 'delete')
				ORDER BY id LIMIT ?`, ws, auditMark, upto, dispatchBatch)
			if err != nil {
				return err
			}
			lastAudit := auditMark
			for rows.Next() {
				var id, at, obj, actor int64
				var action, typ string
				var changes *string
				if err := rows.Scan(&id, &at, &action, &typ, &obj, &actor, &changes); err != nil {
					rows.Close()
					return err
				}
				lastAudit = id
				data := map[string]any{"object_type": typ, "object_id": obj, "action": action}
				if actor != 0 {
					data["actor_user_id"] = actor
				}
				if changes != nil {
					data["changes"] = json.RawMessage(*changes)
				}
				evs = append(evs, event{uid: fmt.Sprintf("audit-%d", id), typ: typ + "." + action + "d", at: db.Time(at), payload: data})
			}
			rows.Close()
			// Audit entries past the batch, or between the rows read and the
			// newest, are picked up next round.
			more = lastAudit-auditMark >= dispatchBatch
			rows, err = tx.QueryContext(ctx, `SELECT id, at, kind, COALESCE(contact_id, 0), COALESCE(company_id, 0), COALESCE(deal_id, 0), data FROM timeline
				WHERE workspace_id = ? AND id > ? AND at <= ? ORDER BY id LIMIT ?`, ws, tlMark, upto, dispatchBatch)
			if err != nil {
				return err
			}
			lastTL, seen := tlMark, 0
			for rows.Next() {
				var id, at, contact, company, deal int64
				var kind string
				var data *string
				if err := rows.Scan(&id, &at, &kind, &contact, &company, &deal, &data); err != nil {
					rows.Close()
					return err
				}
				lastTL, seen = id, seen+1
				typ, ok := timelineKinds[kind]
				if !ok {
					continue
				}
				p := map[string]any{}
				for k, v := range map[string]int64{"contact_id": contact, "company_id": company, "deal_id": deal} {
					if v != 0 {
						p[k] = v
					}
				}
				if data != nil {
					p["details"] = json.RawMessage(*data)
				}
				evs = append(evs, event{uid: fmt.Sprintf("timeline-%d", id), typ: typ, at: db.Time(at), payload: p})
			}
			rows.Close()
			more = more || seen >= dispatchBatch
			for _, e := range evs {
				for _, sub := range subs {
					if !sub.Active || !slices.Contains(sub.EventTypes, e.typ) || e.at.Before(sub.CreatedAt) {
						continue
					}
					body, _ := json.Marshal(map[string]any{"id": e.uid, "type": e.typ, "occurred_at": e.at, "workspace_id": ws, "data": e.payload})
					id, err := s.addDelivery(ctx, tx, ws, sub.ID, e.uid, e.typ, string(body), now)
					if err != nil {
						return err
					}
					if id != 0 {
						n++
					}
				}
			}
			for name, v := range map[string]int64{"webhooks.audit": lastAudit, "webhooks.timeline": lastTL} {
				if _, err := tx.ExecContext(ctx, `INSERT INTO work_marks (workspace_id, name, value) VALUES (?, ?, ?)
					ON CONFLICT (workspace_id, name) DO UPDATE SET value = excluded.value`, ws, name, v); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return total, err
		}
		total += n
		if !more {
			return total, nil
		}
	}
}
