package sales

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/ryorin/ryorin/internal/db"
	"github.com/ryorin/ryorin/internal/dbtest"
)

// TestHotLeads_StaysOnTheSignalIndex checks the query plan: the partial
// index names its event kinds, so a kind added to SignalKinds but not to the
// index (or the other way round) would send the query to a scan of the day's
// events. On PostgreSQL the tables are empty, so sequential scans are turned
// off for the check.
func TestHotLeads_StaysOnTheSignalIndex(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		marks := strings.TrimSuffix(strings.Repeat("?, ", len(PricingPaths)), ", ")
		args := []any{int64(1), db.Millis(time.Now()), int64(1), db.Millis(time.Now())}
		for _, p := range PricingPaths {
			args = append(args, p)
		}
		args = append(args, int64(1), int64(1))
		explain := "EXPLAIN QUERY PLAN "
		if d.Dialect == db.Postgres {
			explain = "EXPLAIN "
		}
		var plan []string
		err := d.Write(ctx, "test plan", func(tx *db.Tx) error {
			if d.Dialect == db.Postgres {
				if _, err := tx.ExecContext(ctx, "SET LOCAL enable_seqscan = off"); err != nil {
					return err
				}
			}
			rows, err := tx.QueryContext(ctx, explain+hotLeadsSQL(marks), args...)
			if err != nil {
				return err
			}
			defer rows.Close()
			cols, _ := rows.Columns()
			for rows.Next() {
				vals := make([]any, len(cols))
				ptrs := make([]any, len(cols))
				for i := range vals {
					ptrs[i] = &vals[i]
				}
				if err := rows.Scan(ptrs...); err != nil {
					return err
				}
				for _, v := range vals {
					if b, ok := v.([]byte); ok {
						v = string(b)
					}
					if s, ok := v.(string); ok {
						plan = append(plan, s)
					}
				}
			}
			return rows.Err()
		})
		if err != nil {
			t.Fatal(err)
		}
		text := strings.Join(plan, "\n")
		// Only the signal index is checked: for the pricing page views an
		// empty SQLite database (no ANALYZE statistics) picks events_contact
		// over events_known_page, which the real data sets do not.
		if !strings.Contains(text, "events_signal_time") {
			t.Errorf("the plan does not use events_signal_time:\n%s", text)
		}
	})
}
