package bench_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"testing"
	"time"

	"github.com/ryorin/ryorin/bench"
	"github.com/ryorin/ryorin/internal/app"
	"github.com/ryorin/ryorin/internal/db"
	"github.com/ryorin/ryorin/internal/dbtest"
	"github.com/ryorin/ryorin/internal/platform"
)

func TestMain(m *testing.M) { os.Exit(dbtest.Main(m)) }

// TestBench_ExtraSmallRunsEveryScenario generates the XS data set and runs
// every benchmark scenario against it once over real HTTP, on both engines,
// so CI proves the generator and the scenarios work. Timings at this size
// mean nothing and are not asserted; docs/benchmarks.md has the real runs.
func TestBench_ExtraSmallRunsEveryScenario(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		sz := bench.Sizes["XS"]
		if err := bench.Generate(ctx, d, sz, nil); err != nil {
			t.Fatal(err)
		}
		var n int
		if err := d.Reader().QueryRowContext(ctx, `SELECT COUNT(*) FROM events`).Scan(&n); err != nil || n != sz.Events {
			t.Fatalf("events = %d, %v", n, err)
		}
		if err := d.Reader().QueryRowContext(ctx, `SELECT COUNT(*) FROM activities`).Scan(&n); err != nil || n != sz.Activities {
			t.Fatalf("activities = %d, %v", n, err)
		}
		a, err := app.OpenOn(ctx, app.Config{}, d)
		if err != nil {
			t.Fatal(err)
		}
		srv := httptest.NewServer(a.Handler())
		defer srv.Close()
		workers := a.StartWorkers(ctx) // the live scorer routes the MQL scenario's leads
		defer workers.Stop()
		_, tok, err := platform.CreateToken(ctx, d, platform.CLI(1), 1, "bench", nil, bench.Epoch)
		if err != nil {
			t.Fatal(err)
		}
		session, err := platform.CreateSession(ctx, d, 1, 1, false, "127.0.0.1", "bench", time.Now())
		if err != nil {
			t.Fatal(err)
		}
		rs, err := bench.Run(ctx, &bench.Client{Base: srv.URL, Token: tok, Session: session, HTTP: http.DefaultClient}, sz, 10, 2000)
		if err != nil {
			t.Fatal(err)
		}
		mql, err := bench.MQLLatency(ctx, &bench.Client{Base: srv.URL, Token: tok, HTTP: http.DefaultClient}, sz, 2, 200)
		if err != nil {
			t.Fatal(err)
		}
		rs = append(rs, mql)
		if len(rs) != 20 {
			t.Fatalf("%d results", len(rs))
		}
		tr, err := bench.TrackIngest(ctx, &bench.Client{Base: srv.URL, Token: tok, HTTP: http.DefaultClient}, 400, 4, 8)
		if err != nil {
			t.Fatal(err)
		}
		rs = append(rs, tr)
		served, err := bench.ReportsServed(ctx, &bench.Client{Base: srv.URL, Token: tok, Session: session, HTTP: http.DefaultClient}, sz, time.Second, 200)
		if err != nil {
			t.Fatal(err)
		}
		if len(served) != 9 || served[0].N == 0 {
			t.Fatalf("served reports: %+v, want nine screens opened more than once", served)
		}
		rs = append(rs, served...)
		t.Log("\n" + bench.Markdown(rs))
	})
}

// TestBench_LeadBatchWorkRunsOnTheExtraSmallSet runs the lead batch
// measurements once on XS, on both engines, so CI proves they work.
func TestBench_LeadBatchWorkRunsOnTheExtraSmallSet(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		if err := bench.Generate(ctx, d, bench.Sizes["XS"], nil); err != nil {
			t.Fatal(err)
		}
		rs, err := bench.LeadRun(ctx, d, 1, func(s string) { t.Log(s) })
		if err != nil {
			t.Fatal(err)
		}
		var scored int
		if err := d.Reader().QueryRowContext(ctx, `SELECT COUNT(*) FROM contact_scores WHERE scored_at IS NOT NULL`).Scan(&scored); err != nil || scored != bench.Sizes["XS"].Contacts {
			t.Fatalf("the full rescore scored %d of %d contacts (%v)", scored, bench.Sizes["XS"].Contacts, err)
		}
		if len(rs) != 2 || rs[0].P50 <= 0 || rs[1].P50 <= 0 {
			t.Fatalf("results: %+v", rs)
		}
		t.Log("\n" + bench.Markdown(rs))
	})
}

func TestBench_SharedReportsRunOnTheExtraSmallSet(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		if err := bench.Generate(ctx, d, bench.Sizes["XS"], nil); err != nil {
			t.Fatal(err)
		}
		if err := bench.EnrichForReports(ctx, d, nil); err != nil {
			t.Fatal(err)
		}
		rs, err := bench.ReportRun(ctx, d, 1, func(s string) { t.Log(s) })
		if err != nil {
			t.Fatal(err)
		}
		if len(rs) != 7 {
			t.Fatalf("results: %+v, want the seven reports", rs)
		}
		var snap int
		if err := d.Reader().QueryRowContext(ctx, `SELECT COUNT(*) FROM forecast_snapshots`).Scan(&snap); err != nil || snap == 0 {
			t.Fatalf("the forecast benchmark took no snapshot (%d rows, %v)", snap, err)
		}
		t.Log("\n" + bench.Markdown(rs))
	})
}
