// Package app wires Ryorin together: it opens the database, migrates it,
// builds the services and the HTTP handler, and runs the background workers.
// cmd/ryorin and end-to-end tests both start the whole program through it.
package app

import (
	"context"
	"fmt"
	"github.com/ryorin/ryorin/internal/errs"
	"github.com/ryorin/ryorin/internal/i18n"
	"log/slog"
	"net/http"
	"time"

	"github.com/ryorin/ryorin/internal/api"
	"github.com/ryorin/ryorin/internal/clock"
	"github.com/ryorin/ryorin/internal/crm"
	"github.com/ryorin/ryorin/internal/dataio"
	"github.com/ryorin/ryorin/internal/db"
	"github.com/ryorin/ryorin/internal/httpx"
	"github.com/ryorin/ryorin/internal/insight"
	"github.com/ryorin/ryorin/internal/lead"
	"github.com/ryorin/ryorin/internal/marketing/campaigns"
	"github.com/ryorin/ryorin/internal/marketing/content"
	"github.com/ryorin/ryorin/internal/marketing/email"
	"github.com/ryorin/ryorin/internal/marketing/forms"
	"github.com/ryorin/ryorin/internal/marketing/journeys"
	"github.com/ryorin/ryorin/internal/marketing/segments"
	"github.com/ryorin/ryorin/internal/metrics"
	"github.com/ryorin/ryorin/internal/platform"
	"github.com/ryorin/ryorin/internal/sales"
	"github.com/ryorin/ryorin/internal/sales/quotemail"
	"github.com/ryorin/ryorin/internal/sales/sequences"
	"github.com/ryorin/ryorin/internal/salesmail"
	"github.com/ryorin/ryorin/internal/track"
	"github.com/ryorin/ryorin/internal/trackhttp"
	"github.com/ryorin/ryorin/internal/web"
	"github.com/ryorin/ryorin/internal/webhooks"
)

// Config is everything Ryorin is started with.
type Config struct {
	Addr            string
	DataDir         string
	DatabaseURL     string
	Demo            bool
	InsecureCookies bool
	// MetricsToken, when set, is the bearer token /metrics requires;
	// unset, /metrics answers loopback clients only.
	MetricsToken string
	Version      string
	Clock        clock.Clock
	Log          *slog.Logger
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
	// Webhooks sends events to other systems.
	Webhooks *webhooks.Service
	// Metrics counts requests and serves /metrics.
	Metrics *metrics.Registry
	// Mailer sends outbound mail; Notifier creates and delivers notifications.
	Mailer   *platform.Mailer
	Notifier *platform.Notifier
	// Forms builds forms and takes their submissions.
	Forms *forms.Service
	// Email runs email templates, campaigns, their tracking and unsubscribes.
	Email *email.Service
	// Campaigns keeps marketing campaigns, their members and spend.
	Campaigns *campaigns.Service
	// Planner keeps goal plans and checks their pacing.
	Planner *insight.Planner
	// Segments runs lists and segments; SegmentRefresher keeps memberships current.
	Segments         *segments.Service
	SegmentRefresher *segments.Refresher
	// Journeys runs nurture journeys (their periodic job follows triggers
	// and advances enrolments).
	Journeys *journeys.Service
	// Tracker stores web-tracking posts (group commit); TrackHTTP serves
	// the snippet and the public collect endpoint.
	Tracker   *track.Collector
	TrackHTTP *trackhttp.Handler
	// IO runs CSV imports and exports.
	IO *dataio.Service
	// Sales runs the rep's day: today page, calendar feed, daily reports.
	Sales *sales.Service
	// SalesMail sends one-to-one email from records and logs replies.
	SalesMail *salesmail.Service
	QuoteMail *quotemail.Service
	// Content is the content library shared by marketing and sales.
	Content *content.Service
	// Sequences runs reps' sales sequences (its periodic job advances due
	// enrolments).
	Sequences *sequences.Service
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
	d.OnSlowTx = func(name string, dur, commit time.Duration) {
		if dur > 50*time.Millisecond {
			cfg.Log.Warn("slow write transaction", "tx", name, "ms", dur.Milliseconds(), "commit_ms", commit.Milliseconds())
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
	a.Tracker = &track.Collector{DB: d, Clock: cfg.Clock, Log: cfg.Log}
	a.TrackHTTP = trackhttp.New(trackhttp.Deps{DB: d, Clock: cfg.Clock, Log: cfg.Log, Collector: a.Tracker, Workspace: platform.DefaultWorkspace})
	a.IO = dataio.New(d, cfg.Clock, a.CRM, cfg.Log)
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
	if err := a.Lead.EnsureSLAPolicies(ctx, platform.DefaultWorkspace); err != nil {
		return nil, fmt.Errorf("app: SLA policies: %w", err)
	}
	a.Scorer = &lead.Scorer{Lead: a.Lead, CRM: a.CRM, Notify: a.Notifier}
	a.Forms = forms.New(d, cfg.Clock, a.CRM, a.Mailer, cfg.Log)
	// One limit per client IP shared by the hosted page, the embeds and the
	// JSON API: a burst of 10 posts, then one every 6 seconds.
	a.Forms.Limit = httpx.NewLimiter(6*time.Second, 10)
	// A form submission joins the visitor's earlier page views to the contact.
	a.Forms.Visitors = track.Linker{DB: d, Clock: cfg.Clock}
	a.Segments = segments.New(d, cfg.Clock, a.CRM)
	a.SegmentRefresher = &segments.Refresher{Segments: a.Segments}
	a.Email = email.New(d, cfg.Clock, a.CRM, a.Mailer, a.Jobs, cfg.Log)
	a.Email.Register()
	a.Campaigns = campaigns.New(d, cfg.Clock)
	a.Jobs.Every("campaigns.attach", time.Minute, func(ctx context.Context, j platform.Job) error {
		// Catch up in bounded batches, for at most half a minute per slot.
		deadline := time.Now().Add(30 * time.Second)
		for time.Now().Before(deadline) {
			n, err := a.Campaigns.Attach(ctx, j.WorkspaceID, 500)
			if err != nil || n < 500 {
				return err
			}
		}
		return nil
	})
	a.Planner = insight.NewPlanner(d, cfg.Clock)
	a.Jobs.Every("plan.pacing", time.Hour, func(ctx context.Context, j platform.Job) error {
		_, err := a.Planner.CheckPacing(ctx, j.WorkspaceID, a.Notifier)
		return err
	})
	// A weekly forecast snapshot, taken in the first hour the week's is
	// missing (and resumed after a restart).
	a.Jobs.Every("forecast.snapshot", time.Hour, func(ctx context.Context, j platform.Job) error {
		w, err := platform.GetWorkspace(ctx, d.Reader(), j.WorkspaceID)
		if err != nil {
			return err
		}
		_, err = insight.TakeForecastSnapshot(ctx, d, w, cfg.Clock.Now())
		return err
	})
	a.Journeys = journeys.New(d, cfg.Clock, a.CRM, a.Email, a.Segments, a.Scorer, a.Notifier, a.Jobs, cfg.Log)
	a.Journeys.Register()
	a.CRM.ActivityHooks = append(a.CRM.ActivityHooks, a.Lead.TouchFromActivity)
	a.Lead.Jobs = a.Jobs
	a.Jobs.Handle(lead.RescoreAllKind, func(ctx context.Context, j platform.Job) error {
		var p struct {
			Version int `json:"version"`
		}
		if err := j.Decode(&p); err != nil {
			return platform.Permanent(err)
		}
		return a.Scorer.RescoreAll(ctx, j.WorkspaceID, p.Version)
	})
	a.Jobs.Every("lead.sla", time.Minute, func(ctx context.Context, j platform.Job) error {
		_, err := a.Scorer.RunSLATimers(ctx, j.WorkspaceID)
		return err
	})
	a.Jobs.Handle(crm.CompetitorNewsKind, a.tellCompetitorNews)
	a.Webhooks = &webhooks.Service{DB: d, Clock: cfg.Clock, Jobs: a.Jobs, HTTP: &http.Client{Timeout: 10 * time.Second}}
	a.Jobs.Handle(webhooks.DeliverKind, a.Webhooks.Deliver)
	a.Jobs.Every("webhooks.dispatch", 5*time.Second, func(ctx context.Context, j platform.Job) error {
		_, err := a.Webhooks.Dispatch(ctx, j.WorkspaceID)
		return err
	})
	a.Sales = sales.New(d, cfg.Clock, a.Lead, a.Notifier)
	a.Sales.CRM = a.CRM
	a.Jobs.Every(sales.RenewalsKind, time.Hour, func(ctx context.Context, j platform.Job) error {
		// Bounded batches, each renewal its own short transaction; what is
		// left waits for the next slot.
		_, err := a.Sales.CreateRenewals(ctx, j.WorkspaceID, 500)
		return err
	})
	a.SalesMail = salesmail.New(d, cfg.Clock, a.CRM, a.Mailer, a.Email)
	a.Sequences = sequences.New(d, cfg.Clock, a.CRM, a.SalesMail, a.Jobs, cfg.Log)
	a.Sequences.Register()
	a.QuoteMail = quotemail.New(d, cfg.Clock, a.CRM, a.Sales, a.SalesMail, a.Notifier)
	a.Content = content.New(d, cfg.Clock, a.CRM, a.Notifier, cfg.Log)
	a.Web, err = web.New(web.Deps{DB: d, Clock: cfg.Clock, CRM: a.CRM, Lead: a.Lead, Scorer: a.Scorer, Forms: a.Forms, Sales: a.Sales, Segments: a.Segments, Log: cfg.Log, Workspace: platform.DefaultWorkspace,
		SecureCookies: !cfg.InsecureCookies, Version: cfg.Version, Tracker: a.Tracker, IO: a.IO, Email: a.Email, Campaigns: a.Campaigns, Journeys: a.Journeys,
		Mailer: a.Mailer, SalesMail: a.SalesMail, Sequences: a.Sequences, QuoteMail: a.QuoteMail, Content: a.Content})
	if err != nil {
		return nil, err
	}
	// Reports emailed on a schedule: checked every 15 minutes, each period
	// claimed with its mails in one transaction.
	a.Jobs.Every("reports.schedule", 15*time.Minute, func(ctx context.Context, j platform.Job) error {
		_, err := a.Web.SendScheduledReports(ctx, j.WorkspaceID)
		return err
	})
	a.API = api.New(api.Deps{DB: d, Clock: cfg.Clock, CRM: a.CRM, Lead: a.Lead, Scorer: a.Scorer, Forms: a.Forms, Sales: a.Sales, Segments: a.Segments, Mailer: a.Mailer, Notify: a.Notifier, Log: cfg.Log, Version: cfg.Version,
		Workspace: platform.DefaultWorkspace, SecureCookies: !cfg.InsecureCookies, Tracker: a.Tracker, IO: a.IO, Email: a.Email, Campaigns: a.Campaigns, Journeys: a.Journeys, SalesMail: a.SalesMail, Sequences: a.Sequences, QuoteMail: a.QuoteMail, Content: a.Content})
	return a, nil
}

// Close writes the tracking posts still queued, says goodbye on the SMTP
// connections kept open, then closes the database.
func (a *App) Close() error {
	a.Tracker.Close()
	a.Mailer.Close()
	return a.DB.Close()
}

// Handler is the whole HTTP surface: health checks, the API, and the UI.
func (a *App) Handler() http.Handler {
	mux := http.NewServeMux()
	if a.Metrics == nil {
		a.Metrics = metrics.New(a.DB)
	}
	mux.Handle("GET /metrics", a.Metrics.Handler(a.MetricsToken))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprintln(w, "ok")
	})
	mux.HandleFunc("GET /readyz", a.ready)
	mux.Handle("/api/", a.API)
	mux.Handle("/", a.Web)
	mux.Handle("GET /t.js", a.TrackHTTP)
	mux.Handle("/t/collect", a.TrackHTTP)
	cop := http.NewCrossOriginProtection()
	// Public form posts come from other sites by design; spam traps, a rate
	// limit and a size limit protect them instead.
	cop.AddInsecureBypassPattern("POST /f/{key}")
	cop.AddInsecureBypassPattern("POST /api/v1/public/forms/{key}/submissions")
	// The collect endpoint is public and cookie-less: any site with the
	// snippet posts to it (it answers with CORS headers instead).
	cop.AddInsecureBypassPattern("POST /t/collect")
	// RFC 8058 one-click unsubscribe: the mail provider posts from its own
	// servers. The signed token is the only authority it needs.
	cop.AddInsecureBypassPattern("POST /e/u/{token}")
	return a.Metrics.Middleware(securityHeaders(cop.Handler(mux)))
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

// tellCompetitorNews notifies every rep with an open deal against a
// competitor of news about it, once each (dedupe keys), in one transaction.
func (a *App) tellCompetitorNews(ctx context.Context, j platform.Job) error {
	var p struct {
		NewsID int64 `json:"news_id"`
	}
	if err := j.Decode(&p); err != nil {
		return platform.Permanent(err)
	}
	n, name, owners, err := a.CRM.NewsAudience(ctx, a.DB.Reader(), j.WorkspaceID, p.NewsID)
	if errs.Is(err, errs.NotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	return a.DB.Write(ctx, "app.tellCompetitorNews", func(tx *db.Tx) error {
		for owner, deal := range owners {
			if owner == n.PostedBy {
				continue
			}
			u, err := platform.GetUser(ctx, tx, j.WorkspaceID, owner)
			if err != nil {
				return err
			}
			lang, _ := i18n.Parse(u.Locale)
			if _, _, err := a.Notifier.Notify(ctx, tx, j.WorkspaceID, owner, platform.Notification{Kind: "competitor.news",
				Title: i18n.T(lang, "notify.competitor_news", "name", name, "title", n.Title), Body: n.Body,
				Link: fmt.Sprintf("/deals/%d", deal), DedupeKey: fmt.Sprintf("competitor.news:%d", n.ID)}); err != nil {
				return err
			}
		}
		return nil
	})
}
