package bench_test

import (
	"context"
	"testing"

	"github.com/ryorin/ryorin/bench"
	"github.com/ryorin/ryorin/internal/db"
	"github.com/ryorin/ryorin/internal/dbtest"
)

// The floor writes every contact and company it says it wrote, each contact
// with a company and one lifecycle row, also with two transactions at once.
func TestInsertFloor_WritesEveryContactWithItsLifecycleRow(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		if err := bench.SeedContacts(ctx, d, 50); err != nil {
			t.Fatal(err)
		}
		res, err := bench.InsertFloor(ctx, d, 1234, 60, 100, 2, 1)
		if err != nil {
			t.Fatal(err)
		}
		if res.Contacts != 1234 || res.Companies != 60 {
			t.Fatalf("result %+v", res)
		}
		var contacts, life, companies, orphans int
		q := d.Reader()
		for _, c := range []struct {
			sql string
			dst *int
		}{
			{`SELECT COUNT(*) FROM contacts WHERE email LIKE 'new%'`, &contacts},
			{`SELECT COUNT(*) FROM lifecycle_history WHERE cause_ref = 'floor'`, &life},
			{`SELECT COUNT(*) FROM companies`, &companies},
			{`SELECT COUNT(*) FROM contacts WHERE email LIKE 'new%' AND (company_id IS NULL OR id NOT IN (SELECT contact_id FROM lifecycle_history))`, &orphans},
		} {
			if err := q.QueryRowContext(ctx, c.sql).Scan(c.dst); err != nil {
				t.Fatal(err)
			}
		}
		if contacts != 1234 || life != 1234 || companies != 60 || orphans != 0 {
			t.Errorf("contacts %d, lifecycle rows %d, companies %d, without company or lifecycle row %d; want 1234, 1234, 60, 0",
				contacts, life, companies, orphans)
		}
	})
}
