package bench_test

import (
	"bytes"
	"context"
	"fmt"
	"testing"

	"github.com/ryorin/ryorin/bench"
	"github.com/ryorin/ryorin/internal/clock"
	"github.com/ryorin/ryorin/internal/crm"
	"github.com/ryorin/ryorin/internal/dataio"
	"github.com/ryorin/ryorin/internal/db"
	"github.com/ryorin/ryorin/internal/dbtest"
	"github.com/ryorin/ryorin/internal/platform"
)

// TestImportCSV_CountsAreWhatTheGeneratorPromises imports a small generated
// file on both engines, with and without existing contacts, and checks the
// exact counts the import benchmark relies on.
func TestImportCSV_CountsAreWhatTheGeneratorPromises(t *testing.T) {
	for _, existing := range []int{0, 300} {
		// One subtest per size: dbtest.Each run twice under one test would
		// name the second "sqlite#01", and a '#' in a SQLite file URI ends
		// the path, so both runs would share one database file.
		t.Run(fmt.Sprintf("existing_%d", existing), func(t *testing.T) {
			dbtest.Each(t, func(t *testing.T, d *db.DB) {
				ctx := context.Background()
				if err := bench.SeedContacts(ctx, d, existing); err != nil {
					t.Fatal(err)
				}
				var csv bytes.Buffer
				exp, err := bench.WriteImportCSV(&csv, 2000, existing, 3)
				if err != nil {
					t.Fatal(err)
				}
				if exp.Failed < 5 || exp.Updated < 100 {
					t.Fatalf("generator: %+v", exp)
				}
				if err := platform.EnsureWorkspace(ctx, d, 1, "Bench", bench.Epoch); err != nil {
					t.Fatal(err)
				}
				fc := clock.NewFake(bench.Epoch)
				svc := dataio.New(d, fc, crm.New(d, fc), nil)
				a := platform.CLI(1)
				im, err := svc.Create(ctx, a, dataio.Contacts, "gen.csv", &csv)
				if err != nil {
					t.Fatal(err)
				}
				if _, err := svc.Start(ctx, a, im.ID, nil, dataio.ModeUpdate); err != nil {
					t.Fatal(err)
				}
				if err := svc.Run(ctx, 1, im.ID, dataio.RunOptions{}); err != nil {
					t.Fatal(err)
				}
				im, _ = svc.Get(ctx, d.Reader(), 1, im.ID)
				if int(im.Created) != exp.Created || int(im.Updated) != exp.Updated || int(im.Failed) != exp.Failed ||
					int(im.CompaniesCreated) != exp.Companies {
					t.Errorf("import %d/%d/%d/%d, generator expects %+v", im.Created, im.Updated, im.Failed, im.CompaniesCreated, exp)
				}
			})
		})
	}
}
