package dataio_test

import (
	"bytes"
	"context"
	"io"
	"os"
	"testing"

	"github.com/ryorin/ryorin/bench"
	"github.com/ryorin/ryorin/internal/crm"
	"github.com/ryorin/ryorin/internal/dataio"
	"github.com/ryorin/ryorin/internal/db"
	"github.com/ryorin/ryorin/internal/dbtest"
)

// BenchmarkImport_Contacts imports a generated 20,000-row CSV (10 %
// duplicates of existing contacts, 1 % bad rows) into SQLite per iteration.
// The end-to-end numbers are in docs/benchmarks.md (bench/cmd/ryorin-import-bench).
func BenchmarkImport_Contacts(b *testing.B) {
	const rows, existing = 20_000, 20_000
	var csv bytes.Buffer
	exp, err := bench.WriteImportCSV(&csv, rows, existing, 1)
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		b.StopTimer()
		d := dbtest.Open(b, benchEngine())
		ctx := context.Background()
		if err := bench.SeedContacts(ctx, d, existing); err != nil {
			b.Fatal(err)
		}
		f := setupB(b, d)
		im, err := f.io.Create(ctx, f.admin, dataio.Contacts, "b.csv", bytes.NewReader(csv.Bytes()))
		if err != nil {
			b.Fatal(err)
		}
		if _, err := f.io.Start(ctx, f.admin, im.ID, nil, dataio.ModeUpdate); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		if err := f.io.Run(ctx, 1, im.ID, dataio.RunOptions{}); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		im, _ = f.io.Get(ctx, d.Reader(), 1, im.ID)
		if int(im.Created) != exp.Created || int(im.Updated) != exp.Updated || int(im.Failed) != exp.Failed {
			b.Fatalf("counts %+v, want %+v", im, exp)
		}
		b.StartTimer()
	}
	b.ReportMetric(float64(rows*b.N)/b.Elapsed().Seconds(), "rows/s")
}

// benchEngine is SQLite, or PostgreSQL with RYORIN_BENCH_ENGINE=postgres
// (and RYORIN_TEST_DATABASE_URL set).
func benchEngine() db.Dialect {
	if os.Getenv("RYORIN_BENCH_ENGINE") == "postgres" {
		return db.Postgres
	}
	return db.SQLite
}

// BenchmarkExport_Contacts streams 50,000 contacts to CSV per iteration.
func BenchmarkExport_Contacts(b *testing.B) {
	const n = 50_000
	d := dbtest.Open(b, benchEngine())
	ctx := context.Background()
	if err := bench.SeedContacts(ctx, d, n); err != nil {
		b.Fatal(err)
	}
	f := setupB(b, d)
	for b.Loop() {
		got, err := f.io.ExportContacts(ctx, io.Discard, f.admin, crm.ContactFilter{}, dataio.ExportOptions{Cols: dataio.ContactColumns})
		if err != nil || got != n {
			b.Fatalf("%d, %v", got, err)
		}
	}
	b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "rows/s")
}
