// Package app wires Ryorin together: it opens the database, migrates it,
// builds the services and the HTTP handler, and runs the background workers.
// cmd/ryorin and end-to-end tests both start the whole program through it.
package app

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/ryorin/ryorin/internal/api"
	"github.com/ryorin/ryorin/internal/clock"
	"github.com/ryorin/ryorin/internal/crm"
	"github.com/ryorin/ryorin/internal/db"
	"github.com/ryorin/ryorin/internal/lead"
	"github.com/ryorin/ryorin/internal/platform"
	"github.com/ryorin/ryorin/internal/web"
)

// Config is everything Ryorin is started with.
type Config struct {
	Addr            string
	DataDir         string
	DatabaseURL     string
	Demo            bool
	InsecureCookies bool
	Version         string
	Clock           clock.Clock
	Log             *slog.Logger
}

// App is a running Ryorin: database, services, HTTP handler.
type App struct {
	Config
	DB   *db.DB
	CRM  *crm.Service
	Lead *lead.Service
	// Scorer keeps lead scores current as events arrive.
	Scorer *lead.Scorer
	API    *api.Server
	Web    *web.Server
	Jobs   *platform.Jobs
	// Mailer sends outbound mail; Notifier creates and delivers notifications.
	Mailer   *platform.Mailer
	Notifier *platform.Notifier
}

// Open opens and migrates the database and builds the services.
func Open(ctx context.Context, cfg Config) (*App, error) {
	if cfg.Clock == nil {
		cfg.Clock = clock.System{}
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	d, err := db.Open(ctx, cfg.DatabaseURL, cfg.DataDir)
	if err != nil {
		return nil, err
	}
	a, err := openOn(ctx, cfg, d)
	if err != nil {
		d.Close()
		return nil, err
	}
	return a, nil
}

// OpenOn builds the app on an already open database (tests).
func OpenOn(ctx context.Context, cfg Config, d *db.DB) (*App, error) {
	if cfg.Clock == nil {
		cfg.Clock = clock.System{}
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	return openOn(ctx, cfg, d)
}

func openOn(ctx context.Context, cfg Config, d *db.DB) (*App, error) {
	cfg.Clock = clock.Millis(cfg.Clock)
	d.OnSlowTx = func(name string, dur time.Duration) {
		if dur > 50*time.Millisecond {
			cfg.Log.Warn("slow write transaction", "tx", name, "ms", dur.Milliseconds())
		}
	}
	n, err := d.Migrate(ctx)
	if err != nil {
		return nil, err
	}
	if n > 0 {
		cfg.Log.Info("database migrated", "applied", n, "engine", string(d.Dialect))
	}
	now := cfg.Clock.Now()
	if err := platform.EnsureWorkspace(ctx, d, platform.DefaultWorkspace, "Ryorin", now); err != nil {
		return nil, err
	}
	a := &App{Config: cfg, DB: d, CRM: crm.New(d, cfg.Clock), Jobs: platform.NewJobs(d, cfg.Clock, cfg.Log)}
	a.Mailer = &platform.Mailer{DB: d, Clock: cfg.Clock, Log: cfg.Log, Jobs: a.Jobs}
	a.Notifier = &platform.Notifier{DB: d, Clock: cfg.Clock, Log: cfg.Log, Jobs: a.Jobs, Mailer: a.Mailer,
		HTTP: &http.Client{Timeout: 20 * time.Second}}
	a.registerJobs()
	if err := a.CRM.EnsureDefaults(ctx, platform.DefaultWorkspace, "ja"); err != nil {
		return nil, fmt.Errorf("app: default pipeline: %w", err)
	}
	a.Lead = lead.New(d, cfg.Clock)
	if err := a.Lead.EnsureDefault(ctx, platform.DefaultWorkspace); err != nil {
		return nil, fmt.Errorf("app: default lead definition: %w", err)
	}
	if err := a.Lead.EnsureReasons(ctx, platform.DefaultWorkspace); err != nil {
		return nil, fmt.Errorf("app: feedback reasons: %w", err)
	}
	a.Scorer = &lead.Scorer{Lead: a.Lead, CRM: a.CRM, Notify: a.Notifier}
	a.Web, err = web.New(web.Deps{DB: d, Clock: cfg.Clock, CRM: a.CRM, Lead: a.Lead, Log: cfg.Log, Workspace: platform.DefaultWorkspace,
		SecureCookies: !cfg.InsecureCookies, Version: cfg.Version})
	if err != nil {
		return nil, err
	}
	a.API = api.New(api.Deps{DB: d, Clock: cfg.Clock, CRM: a.CRM, Lead: a.Lead, Mailer: a.Mailer, Notify: a.Notifier, Log: cfg.Log, Version: cfg.Version,
		Workspace: platform.DefaultWorkspace, SecureCookies: !cfg.InsecureCookies})
	return a, nil
}

// Close closes the database.
func (a *App) Close() error { return a.DB.Close() }

// Handler is the whole HTTP surface: health checks, the API, and the UI.
func (a *App) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprintln(w, "ok")
	})
	mux.HandleFunc("GET /readyz", a.ready)
	mux.Handle("/api/", a.API)
	mux.Handle("/", a.Web)
	cop := http.NewCrossOriginProtection()
	return securityHeaders(cop.Handler(mux))
}

// ready answers 200 when the database is reachable and fully migrated.
func (a *App) ready(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	if err := a.DB.Ping(ctx); err != nil {
		a.Log.Error("readyz: database unreachable", "err", err)
		w.WriteHeader(http.StatusServiceUnavailable)
		fmt.Fprintln(w, "database unreachable")
		return
	}
	if n, err := a.DB.Pending(ctx); err != nil || n > 0 {
		w.WriteHeader(http.StatusServiceUnavailable)
		fmt.Fprintf(w, "%d migrations pending\n", n)
		return
	}
	fmt.Fprintln(w, "ready")
}

func securityHeaders(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hd := w.Header()
		hd.Set("X-Content-Type-Options", "nosniff")
		hd.Set("X-Frame-Options", "DENY")
		hd.Set("Referrer-Policy", "strict-origin-when-cross-origin")
		hd.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'")
		h.ServeHTTP(w, r)
	})
}
