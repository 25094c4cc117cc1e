package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"runtime/debug"
	"runtime/pprof"
	"time"

	"github.com/ryorin/ryorin/internal/app"
	"github.com/ryorin/ryorin/internal/db"
	demodata "github.com/ryorin/ryorin/internal/demo"
	"github.com/ryorin/ryorin/internal/insight"
)

func serveCmd(fs *flag.FlagSet, e env) func(context.Context, cmdIO) error {
	var c commonFlags
	c.register(fs, e)
	var addr, metricsToken string
	var demo, insecure bool
	stringFlag(fs, e, &addr, "addr", "RYORIN_ADDR", "127.0.0.1:8080", "address to listen on")
	boolFlag(fs, e, &demo, "demo", "RYORIN_DEMO", "load the demo data set into an empty database")
	stringFlag(fs, e, &metricsToken, "metrics-token", "RYORIN_METRICS_TOKEN", "", "bearer token a Prometheus scraper sends to /metrics (unset: loopback clients only)")
	boolFlag(fs, e, &insecure, "insecure-cookies", "RYORIN_INSECURE_COOKIES", "send session cookies without Secure (plain-HTTP development only)")
	return func(ctx context.Context, cio cmdIO) error {
		// The live heap is small (about 10 MB while a campaign goes out), so
		// the default GOGC=100 collects every few MB and a bulk send spent a
		// fifth of its CPU in the collector; 400 lets the heap reach about
		// 5× live before collecting, bounded by the soft limit below
		// (docs/benchmarks.md, "Campaign send"). GOGC in the environment
		// overrides this.
		if e("GOGC") == "" {
			debug.SetGCPercent(400)
		}
		// A small server: keep the Go heap's soft limit low so garbage from
		// big request bodies is collected before it shows up as memory.
		// GOMEMLIMIT in the environment overrides this.
		if e("GOMEMLIMIT") == "" {
			debug.SetMemoryLimit(120 << 20)
		}
		stop, err := startCPUProfile(e)
		if err != nil {
			return err
		}
		defer stop()
		cfg := c.config(cio.stderr)
		cfg.Addr, cfg.Demo, cfg.InsecureCookies, cfg.MetricsToken = addr, demo, insecure, metricsToken
		a, err := app.Open(ctx, cfg)
		if err != nil {
			return err
		}
		defer a.Close()
		if demo {
			sum, err := a.LoadDemo(ctx)
			if err != nil {
				return fmt.Errorf("demo data: %w", err)
			}
			if !sum.Skipped {
				fmt.Fprintf(cio.stdout, "Demo data loaded in %s: %d companies, %d contacts, %d deals, %d activities, %d events.\n",
					sum.Duration.Round(100*time.Millisecond), sum.Companies, sum.Contacts, sum.Deals, sum.Activities, sum.Events)
			}
			if ok, err := demodata.Loaded(ctx, a.DB); err != nil {
				return fmt.Errorf("demo data: %w", err)
			} else if ok {
				fmt.Fprintf(cio.stdout, "Demo sign-in: %s / password %s\n(every demo user, e.g. taro.yamada@demo.ryorin.example, has the same password)\n",
					demodata.AdminEmail, demodata.Password)
			}
		}
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			return err
		}
		srv := &http.Server{Handler: a.Handler(), ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 60 * time.Second,
			WriteTimeout: 120 * time.Second, IdleTimeout: 120 * time.Second, MaxHeaderBytes: 64 << 10}
		// On SQLite the WAL is copied into the database file by a background
		// checkpoint after each commit, on a reader connection, instead of by
		// the writer inside a commit every 4,000 pages (which then held the
		// single writer for the copy and its fsync: 15 % of its time in an
		// ingest profile at size L); the writer still checkpoints itself past
		// db.BulkWALPages, so the WAL stays bounded (ADR 0023).
		restoreWAL, err := a.DB.RaiseWALAutocheckpoint(ctx, db.BulkWALPages)
		if err != nil {
			return err
		}
		defer restoreWAL()
		workers := a.StartWorkers(ctx)
		// Slow report results are kept and refreshed while people look at
		// them (insight.Cache); stopped before the database closes.
		cctx, stopCache := context.WithCancel(ctx)
		defer stopCache()
		insight.StartCache(cctx, a.Log)
		fmt.Fprintf(cio.stdout, "Ryorin %s listening on http://%s (database: %s)\n", cfg.Version, ln.Addr(), a.DB.Dialect)
		errc := make(chan error, 1)
		go func() { errc <- srv.Serve(ln) }()
		select {
		case err := <-errc:
			workers.Stop()
			return err
		case <-ctx.Done():
		}
		// Shutdown order: stop taking HTTP, let workers finish or release
		// their jobs, then close the database (deferred).
		sctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		err = srv.Shutdown(sctx)
		workers.Stop()
		if errors.Is(err, http.ErrServerClosed) {
			err = nil
		}
		fmt.Fprintln(cio.stdout, "Ryorin stopped")
		return err
	}
}

func migrateCmd(fs *flag.FlagSet, e env) func(context.Context, cmdIO) error {
	var c commonFlags
	c.register(fs, e)
	return func(ctx context.Context, cio cmdIO) error {
		a, err := app.Open(ctx, c.config(cio.stderr))
		if err != nil {
			return err
		}
		defer a.Close()
		fmt.Fprintf(cio.stdout, "database (%s) is up to date\n", a.DB.Dialect)
		return nil
	}
}

// startCPUProfile writes a CPU profile of the whole command to the file
// RYORIN_CPUPROFILE names, for benchmarks (not a flag: a developer's tool,
// not a setting). The returned function stops it.
func startCPUProfile(e env) (func(), error) {
	path := e("RYORIN_CPUPROFILE")
	if path == "" {
		return func() {}, nil
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, err
	}
	return func() { pprof.StopCPUProfile(); f.Close() }, nil
}
