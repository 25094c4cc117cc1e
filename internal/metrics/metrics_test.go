package metrics_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/ryorin/ryorin/internal/db"
	"github.com/ryorin/ryorin/internal/dbtest"
	"github.com/ryorin/ryorin/internal/insight"
	"github.com/ryorin/ryorin/internal/metrics"
	"github.com/ryorin/ryorin/internal/platform"
)

func TestMain(m *testing.M) { os.Exit(dbtest.Main(m)) }

func get(t *testing.T, url string, hdr ...string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

func TestMetrics_CountsRequestsAndReadsQueueMailAndEvents(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		now := time.Now()
		if err := platform.EnsureWorkspace(ctx, d, 1, "T", now); err != nil {
			t.Fatal(err)
		}
		if err := d.Write(ctx, "test", func(tx *db.Tx) error {
			_, _, err := platform.Enqueue(ctx, tx, 1, "mail.send", map[string]int{"id": 1}, platform.EnqueueOptions{RunAt: now.Add(-time.Minute)}, now, nil)
			return err
		}); err != nil {
			t.Fatal(err)
		}
		if _, err := platform.IngestEvents(ctx, d, platform.System(1), []platform.EventInput{{ID: "e1", Kind: "page_view", VisitorID: "visitor-1"}}, now); err != nil {
			t.Fatal(err)
		}
		m := metrics.New(d)
		mux := http.NewServeMux()
		mux.HandleFunc("/api/v1/x", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNotFound) })
		mux.HandleFunc("/contacts", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") })
		mux.Handle("GET /metrics", m.Handler(""))
		srv := httptest.NewServer(m.Middleware(mux))
		defer srv.Close()
		get(t, srv.URL+"/api/v1/x")
		get(t, srv.URL+"/contacts")
		get(t, srv.URL+"/contacts")
		code, body := get(t, srv.URL+"/metrics")
		for _, want := range []string{
			`ryorin_http_requests_total{area="api",method="GET",status="4xx"} 1`,
			`ryorin_http_requests_total{area="ui",method="GET",status="2xx"} 2`,
			`ryorin_http_request_duration_seconds_count{area="ui"} 2`,
			`ryorin_jobs{kind="mail.send",status="queued"} 1`,
			`ryorin_job_oldest_due_seconds{kind="mail.send"} 6`,
			`ryorin_events_stored_total 1`,
		} {
			if code != 200 || !strings.Contains(body, want) {
				t.Errorf("metrics lack %q:\n%s", want, body)
			}
		}
		// Through a proxy (not loopback any more), and with a token.
		if code, _ := get(t, srv.URL+"/metrics", "X-Forwarded-For", "203.0.113.9"); code != 403 {
			t.Errorf("a proxied scrape without a token: %d", code)
		}
		tok := httptest.NewServer(metrics.New(d).Handler("s3cret"))
		defer tok.Close()
		if code, _ := get(t, tok.URL); code != 401 {
			t.Errorf("no token: %d", code)
		}
		if code, _ := get(t, tok.URL, "Authorization", "Bearer s3cret"); code != 200 {
			t.Errorf("with the token: %d", code)
		}
	})
}

func TestMetrics_ReportTheReportCacheWhenItIsOn(t *testing.T) {
	m := metrics.New(nil)
	var off strings.Builder
	if err := m.Write(context.Background(), &off); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(off.String(), "ryorin_report_cache") {
		t.Errorf("report cache figures without a cache:\n%s", off.String())
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	insight.StartCache(ctx, nil)
	var on strings.Builder
	if err := m.Write(ctx, &on); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`ryorin_report_cache_requests_total{outcome="hit"} 0`, "ryorin_report_cache_entries 0", "ryorin_report_cache_refresh_seconds_total 0"} {
		if !strings.Contains(on.String(), want) {
			t.Errorf("metrics lack %q:\n%s", want, on.String())
		}
	}
}
