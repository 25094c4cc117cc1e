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
		a, err := app.OpenOn(ctx, app.Config{}, d)
		if err != nil {
			t.Fatal(err)
		}
		srv := httptest.NewServer(a.Handler())
		defer srv.Close()
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
		if len(rs) != 17 {
			t.Fatalf("%d results", len(rs))
		}
		t.Log("\n" + bench.Markdown(rs))
	})
}
