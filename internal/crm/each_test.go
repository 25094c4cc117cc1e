package crm_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/ryorin/ryorin/internal/crm"
	"github.com/ryorin/ryorin/internal/db"
	"github.com/ryorin/ryorin/internal/dbtest"
)

// TestEachContact_ReadsEveryPageOnceInIDOrderAndStopsOnErrors runs the
// read-ahead over more than two pages: every contact once, in id order; an
// error from the callback stops it with that error; a cancelled context is
// an error, not a short success.
func TestEachContact_ReadsEveryPageOnceInIDOrderAndStopsOnErrors(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := setup(t, d)
		ctx := context.Background()
		const n = 2345
		if err := d.Write(ctx, "t", func(tx *db.Tx) error {
			for lo := 0; lo < n; lo += 500 {
				var b strings.Builder
				var args []any
				for i := lo; i < min(lo+500, n); i++ {
					if i > lo {
						b.WriteString(", ")
					}
					b.WriteString("(1, ?, 'lead', ?, ?, ?)")
					args = append(args, fmt.Sprintf("each%04d@example.jp", i), t0.UnixMilli(), t0.UnixMilli(), t0.UnixMilli())
				}
				if _, err := tx.ExecContext(ctx, `INSERT INTO contacts (workspace_id, email, lifecycle_stage, lifecycle_changed_at, created_at, updated_at) VALUES `+b.String(), args...); err != nil {
					return err
				}
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		var last int64
		seen, pages := 0, 0
		if err := f.crm.EachContact(ctx, f.admin, crm.ContactFilter{}, func(cs []crm.Contact) error {
			pages++
			for _, c := range cs {
				if c.ID <= last {
					t.Fatalf("contact %d after %d: not in id order", c.ID, last)
				}
				last = c.ID
				seen++
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		if seen != n || pages != 3 {
			t.Errorf("%d contacts in %d pages, want %d in 3", seen, pages, n)
		}
		stop := errors.New("stop here")
		calls := 0
		err := f.crm.EachContact(ctx, f.admin, crm.ContactFilter{}, func([]crm.Contact) error { calls++; return stop })
		if !errors.Is(err, stop) || calls != 1 {
			t.Errorf("callback error: %v after %d calls, want %v after 1", err, calls, stop)
		}
		cctx, cancel := context.WithCancel(ctx)
		calls = 0
		err = f.crm.EachContact(cctx, f.admin, crm.ContactFilter{}, func([]crm.Contact) error {
			calls++
			cancel()
			return nil
		})
		if err == nil || calls == 3 {
			t.Errorf("cancelled after the first page: %v after %d pages, want an error before the end", err, calls)
		}
	})
}
