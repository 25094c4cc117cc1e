package platform

import (
	"context"
	"fmt"
	"time"

	"github.com/ryorin/ryorin/internal/db"
	"github.com/ryorin/ryorin/internal/errs"
)

// MinEventRetentionDays is the shortest event retention allowed: lead
// scoring reads 180 days of events and the backtest 26 weeks before that.
const MinEventRetentionDays = 400

// EventRetention returns how many days raw events are kept (0: for ever).
func EventRetention(ctx context.Context, q db.Querier, ws int64) (int, error) {
	var days int
	err := q.QueryRowContext(ctx, `SELECT event_days FROM retention_settings WHERE workspace_id = ?`, ws).Scan(&days)
	if db.NoRows(err) {
		return 0, nil
	}
	return days, err
}

// SetEventRetention sets how long raw events are kept (admins).
func SetEventRetention(ctx context.Context, d *db.DB, a Actor, days int, now time.Time) error {
	if !a.Is(RoleAdmin) {
		return errs.E(errs.Forbidden, "", "only admins change data retention")
	}
	if days != 0 && (days < MinEventRetentionDays || days > 3650) {
		return errs.Field("event_days", "must be 0 (keep for ever) or %d to 3650 days", MinEventRetentionDays)
	}
	return d.Write(ctx, "platform.SetEventRetention", func(tx *db.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO retention_settings (workspace_id, event_days) VALUES (?, ?)
			ON CONFLICT (workspace_id) DO UPDATE SET event_days = excluded.event_days`, a.WorkspaceID, days); err != nil {
			return err
		}
		return Audit(ctx, tx, a, now, "update", "retention", 0, map[string]int{"event_days": days})
	})
}

// retentionBatch bounds each delete.
const retentionBatch = 2000

// ApplyEventRetention deletes events older than the retention period, in
// batches; each batch first adds its events to the daily roll-up (counts by
// day, kind and channel, identified or anonymous) in the same transaction,
// so totals survive the deletion. It returns how many events it deleted.
func ApplyEventRetention(ctx context.Context, d *db.DB, ws int64, now time.Time, loc *time.Location) (int, error) {
	days, err := EventRetention(ctx, d.Reader(), ws)
	if err != nil || days == 0 {
		return 0, err
	}
	cut := db.Millis(now.AddDate(0, 0, -days))
	total := 0
	for {
		n := 0
		err := d.Write(ctx, "platform.ApplyEventRetention", func(tx *db.Tx) error {
			rows, err := tx.QueryContext(ctx, `SELECT id, occurred_at, kind, channel, contact_id IS NOT NULL FROM events
				WHERE workspace_id = ? AND occurred_at < ? ORDER BY id LIMIT ?`, ws, cut, retentionBatch)
			if err != nil {
				return err
			}
			type key struct{ day, kind, channel string }
			counts := map[key][2]int64{}
			var ids []any
			for rows.Next() {
				var id, at int64
				var k key
				var identified bool
				if err := rows.Scan(&id, &at, &k.kind, &k.channel, &identified); err != nil {
					rows.Close()
					return err
				}
				k.day = db.Time(at).In(loc).Format(time.DateOnly)
				c := counts[k]
				if identified {
					c[0]++
				} else {
					c[1]++
				}
				counts[k] = c
				ids = append(ids, id)
			}
			rows.Close()
			if err := rows.Err(); err != nil || len(ids) == 0 {
				return err
			}
			for k, c := range counts {
				if _, err := tx.ExecContext(ctx, `INSERT INTO event_rollups (workspace_id, day, kind, channel, identified, anonymous) VALUES (?, ?, ?, ?, ?, ?)
					ON CONFLICT (workspace_id, day, kind, channel) DO UPDATE SET identified = event_rollups.identified + excluded.identified,
						anonymous = event_rollups.anonymous + excluded.anonymous`, ws, k.day, k.kind, k.channel, c[0], c[1]); err != nil {
					return err
				}
			}
			ph := db.Placeholders(len(ids))
			if _, err := tx.ExecContext(ctx, `DELETE FROM events WHERE workspace_id = ? AND id IN (`+ph+`)`, append([]any{ws}, ids...)...); err != nil {
				return fmt.Errorf("platform.ApplyEventRetention: %w", err)
			}
			n = len(ids)
			return nil
		})
		if err != nil {
			return total, err
		}
		total += n
		if n < retentionBatch {
			return total, nil
		}
	}
}
