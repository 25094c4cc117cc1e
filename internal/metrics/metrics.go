// Package metrics exposes Ryorin's operating figures in the Prometheus text
// format: HTTP requests and their latency (counted by a middleware), and
// figures read from the database when scraped (job queue depth and age,
// emails by outcome, events stored). It has no dependencies; the format is
// small enough to write by hand.
package metrics

import (
	"context"
	"fmt"
	"io"
	"math"
	"net/http"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ryorin/ryorin/internal/db"
	"github.com/ryorin/ryorin/internal/insight"
)

// buckets are the request-latency histogram's upper bounds, in seconds.
var buckets = []float64{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5}

type series struct {
	count  atomic.Int64
	sumUS  atomic.Int64 // microseconds
	bucket []atomic.Int64
}

// Registry holds the request figures and reads the rest on each scrape.
type Registry struct {
	DB    *db.DB
	Start time.Time

	mu     sync.Mutex
	series map[[3]string]*series // area, method, status class
}

// New returns a registry reading from d.
func New(d *db.DB) *Registry {
	return &Registry{DB: d, Start: time.Now(), series: map[[3]string]*series{}}
}

// area groups paths so the label set stays small whatever the URLs.
func area(path string) string {
	switch {
	case strings.HasPrefix(path, "/api/v1/public/"), strings.HasPrefix(path, "/f/"):
		return "forms"
	case strings.HasPrefix(path, "/api/"):
		return "api"
	case strings.HasPrefix(path, "/t/"), path == "/t.js":
		return "tracking"
	case strings.HasPrefix(path, "/static/"):
		return "static"
	case path == "/metrics", path == "/healthz", path == "/readyz":
		return "ops"
	default:
		return "ui"
	}
}

type recorder struct {
	http.ResponseWriter
	status int
}

func (r *recorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *recorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return r.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the real writer (flush, deadlines).
func (r *recorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

// Middleware counts each request and its duration.
func (m *Registry) Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &recorder{ResponseWriter: w}
		next.ServeHTTP(rec, r)
		if rec.status == 0 {
			rec.status = http.StatusOK
		}
		m.observe(area(r.URL.Path), r.Method, fmt.Sprintf("%dxx", rec.status/100), time.Since(start))
	})
}

func (m *Registry) observe(a, method, class string, d time.Duration) {
	switch method {
	case "GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS":
	default:
		method = "other"
	}
	key := [3]string{a, method, class}
	m.mu.Lock()
	s := m.series[key]
	if s == nil {
		s = &series{bucket: make([]atomic.Int64, len(buckets))}
		m.series[key] = s
	}
	m.mu.Unlock()
	s.count.Add(1)
	s.sumUS.Add(d.Microseconds())
	sec := d.Seconds()
	for i, b := range buckets {
		if sec <= b {
			s.bucket[i].Add(1)
		}
	}
}

// Write writes every metric in the text exposition format.
func (m *Registry) Write(ctx context.Context, w io.Writer) error {
	fmt.Fprintln(w, "# HELP ryorin_http_requests_total HTTP requests by area, method and status class.")
	fmt.Fprintln(w, "# TYPE ryorin_http_requests_total counter")
	m.mu.Lock()
	keys := make([][3]string, 0, len(m.series))
	for k := range m.series {
		keys = append(keys, k)
	}
	m.mu.Unlock()
	sort.Slice(keys, func(i, j int) bool { return strings.Join(keys[i][:], " ") < strings.Join(keys[j][:], " ") })
	get := func(k [3]string) *series { m.mu.Lock(); defer m.mu.Unlock(); return m.series[k] }
	for _, k := range keys {
		fmt.Fprintf(w, "ryorin_http_requests_total{area=%q,method=%q,status=%q} %d\n", k[0], k[1], k[2], get(k).count.Load())
	}
	fmt.Fprintln(w, "# HELP ryorin_http_request_duration_seconds HTTP request latency by area.")
	fmt.Fprintln(w, "# TYPE ryorin_http_request_duration_seconds histogram")
	byArea := map[string][]int64{}
	sums, counts := map[string]int64{}, map[string]int64{}
	for _, k := range keys {
		s := get(k)
		b := byArea[k[0]]
		if b == nil {
			b = make([]int64, len(buckets))
		}
		for i := range buckets {
			b[i] += s.bucket[i].Load()
		}
		byArea[k[0]] = b
		sums[k[0]] += s.sumUS.Load()
		counts[k[0]] += s.count.Load()
	}
	areas := make([]string, 0, len(byArea))
	for a := range byArea {
		areas = append(areas, a)
	}
	sort.Strings(areas)
	for _, a := range areas {
		for i, b := range buckets {
			fmt.Fprintf(w, "ryorin_http_request_duration_seconds_bucket{area=%q,le=%q} %d\n", a, trimFloat(b), byArea[a][i])
		}
		fmt.Fprintf(w, "ryorin_http_request_duration_seconds_bucket{area=%q,le=\"+Inf\"} %d\n", a, counts[a])
		fmt.Fprintf(w, "ryorin_http_request_duration_seconds_sum{area=%q} %s\n", a, trimFloat(float64(sums[a])/1e6))
		fmt.Fprintf(w, "ryorin_http_request_duration_seconds_count{area=%q} %d\n", a, counts[a])
	}
	fmt.Fprintln(w, "# HELP ryorin_uptime_seconds Seconds since the process started.")
	fmt.Fprintln(w, "# TYPE ryorin_uptime_seconds gauge")
	fmt.Fprintf(w, "ryorin_uptime_seconds %s\n", trimFloat(math.Round(time.Since(m.Start).Seconds())))
	if st, kept, ok := insight.ActiveCacheStats(); ok {
		fmt.Fprintln(w, "# HELP ryorin_report_cache_requests_total Shared report computations asked for, by outcome (hit: a kept result at most 60 s old).")
		fmt.Fprintln(w, "# TYPE ryorin_report_cache_requests_total counter")
		fmt.Fprintf(w, "ryorin_report_cache_requests_total{outcome=\"hit\"} %d\n", st.Hits)
		fmt.Fprintf(w, "ryorin_report_cache_requests_total{outcome=\"miss\"} %d\n", st.Misses)
		fmt.Fprintln(w, "# HELP ryorin_report_cache_refresh_seconds_total Time spent recomputing kept report results in the background.")
		fmt.Fprintln(w, "# TYPE ryorin_report_cache_refresh_seconds_total counter")
		fmt.Fprintf(w, "ryorin_report_cache_refresh_seconds_total %s\n", trimFloat(st.RefreshTime.Seconds()))
		fmt.Fprintln(w, "# HELP ryorin_report_cache_entries Report results kept (slow to compute, recently viewed).")
		fmt.Fprintln(w, "# TYPE ryorin_report_cache_entries gauge")
		fmt.Fprintf(w, "ryorin_report_cache_entries %d\n", kept)
	}
	if m.DB == nil {
		return nil
	}
	return m.writeDB(ctx, w)
}

// writeDB reads the figures kept in the database, each with one indexed
// query.
func (m *Registry) writeDB(ctx context.Context, w io.Writer) error {
	q := m.DB.Reader()
	now := time.Now().UnixMilli()
	rows, err := q.QueryContext(ctx, `SELECT kind, status, COUNT(*), MIN(run_at) FROM jobs WHERE status IN ('queued', 'running') GROUP BY kind, status ORDER BY kind, status`)
	if err != nil {
		return err
	}
	fmt.Fprintln(w, "# HELP ryorin_jobs Durable jobs waiting or running, by kind.")
	fmt.Fprintln(w, "# TYPE ryorin_jobs gauge")
	var ages []string
	for rows.Next() {
		var kind, status string
		var n, oldest int64
		if err := rows.Scan(&kind, &status, &n, &oldest); err != nil {
			rows.Close()
			return err
		}
		fmt.Fprintf(w, "ryorin_jobs{kind=%q,status=%q} %d\n", kind, status, n)
		if status == "queued" {
			age := max(0, now-oldest) // a job due in the future has waited nothing yet
			ages = append(ages, fmt.Sprintf("ryorin_job_oldest_due_seconds{kind=%q} %s", kind, trimFloat(float64(age)/1000)))
		}
	}
	rows.Close()
	fmt.Fprintln(w, "# HELP ryorin_job_oldest_due_seconds How long the oldest queued job of a kind has been due.")
	fmt.Fprintln(w, "# TYPE ryorin_job_oldest_due_seconds gauge")
	for _, a := range ages {
		fmt.Fprintln(w, a)
	}
	rows, err = q.QueryContext(ctx, `SELECT status, COUNT(*) FROM mail_messages GROUP BY status ORDER BY status`)
	if err != nil {
		return err
	}
	fmt.Fprintln(w, "# HELP ryorin_emails Emails by outcome (queued, sending, sent, failed, unknown).")
	fmt.Fprintln(w, "# TYPE ryorin_emails gauge")
	for rows.Next() {
		var status string
		var n int64
		if err := rows.Scan(&status, &n); err != nil {
			rows.Close()
			return err
		}
		fmt.Fprintf(w, "ryorin_emails{status=%q} %d\n", status, n)
	}
	rows.Close()
	var events int64
	if err := q.QueryRowContext(ctx, `SELECT COALESCE(MAX(id), 0) FROM events`).Scan(&events); err != nil {
		return err
	}
	fmt.Fprintln(w, "# HELP ryorin_events_stored_total Events ever stored (the highest event id).")
	fmt.Fprintln(w, "# TYPE ryorin_events_stored_total counter")
	fmt.Fprintf(w, "ryorin_events_stored_total %d\n", events)
	return rows.Err()
}

func trimFloat(f float64) string {
	return strings.TrimRight(strings.TrimRight(fmt.Sprintf("%.6f", f), "0"), ".")
}

// Handler serves /metrics. With a token, a scraper must send it as a bearer
// token; without one, only loopback clients are answered (a scraper on the
// same host, or through an SSH tunnel).
func (m *Registry) Handler(token string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if token != "" {
			if r.Header.Get("Authorization") != "Bearer "+token {
				http.Error(w, "unauthorized", http.StatusUnauthorized)
				return
			}
		} else if !loopback(r.RemoteAddr) || r.Header.Get("X-Forwarded-For") != "" {
			http.Error(w, "forbidden: set --metrics-token to scrape from another host", http.StatusForbidden)
			return
		}
		w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
		ctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
		defer cancel()
		if err := m.Write(ctx, w); err != nil {
			fmt.Fprintf(w, "# error reading the database: %v\n", err)
		}
	})
}

func loopback(remote string) bool {
	host := remote
	if i := strings.LastIndexByte(remote, ':'); i >= 0 {
		host = remote[:i]
	}
	host = strings.Trim(host, "[]")
	return host == "127.0.0.1" || host == "::1" || strings.HasPrefix(host, "127.")
}
