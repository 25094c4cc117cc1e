package sales

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/ryorin/ryorin/internal/db"
	"github.com/ryorin/ryorin/internal/dbtest"
)

// TestHotLeads_ReadsTheRepsOwnRows checks the query plans of the hot-leads
// block and the overdue tasks (on the partial index, in its order): the rep's contacts come from the owner index of contact_signals
// (not a scan of the workspace's signals) and their signals from each
// contact's own events. On PostgreSQL the tables are empty, so sequential
// scans are turned off for the check.
func TestHotLeads_ReadsTheRepsOwnRows(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		now := db.Millis(time.Now())
		for _, c := range []struct {
			sql, index string
			args       []any
		}{
			{hotLeadsSQL, "contact_signals_owner", []any{int64(1), int64(1), now}},
			{hotSignalsSQL(2), "events_contact", []any{int64(1), now, int64(1), int64(2)}},
			{todayTasksSQL, "activities_open_tasks", []any{int64(1), int64(1), now}},
		} {
			plan := explain(t, ctx, d, c.sql, c.args...)
			if !strings.Contains(plan, c.index) {
				t.Errorf("the plan does not use %s:\n%s", c.index, plan)
			}
		}
	})
}

// explain returns the engine's query plan for sql as text.
func explain(t *testing.T, ctx context.Context, d *db.DB, sql string, args ...any) string {
	t.Helper()
	prefix := "EXPLAIN QUERY PLAN "
	if d.Dialect == db.Postgres {
		prefix = "EXPLAIN "
	}
	var plan []string
	err := d.Write(ctx, "test plan", func(tx *db.Tx) error {
		if d.Dialect == db.Postgres {
			if _, err := tx.ExecContext(ctx, "SET LOCAL enable_seqscan = off"); err != nil {
				return err
			}
		}
		rows, err := tx.QueryContext(ctx, prefix+sql, args...)
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
	return strings.Join(plan, "\n")
}
