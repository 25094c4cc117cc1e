package trackhttp_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/ryorin/ryorin/internal/app"
	"github.com/ryorin/ryorin/internal/db"
	"github.com/ryorin/ryorin/internal/dbtest"
	"github.com/ryorin/ryorin/internal/trackhttp"
)

// BenchmarkCollect posts one page view per request from many concurrent
// clients through the whole handler chain onto SQLite.
func BenchmarkCollect(b *testing.B) {
	d := dbtest.Open(b, db.SQLite)
	a, err := app.OpenOn(context.Background(), app.Config{}, d)
	if err != nil {
		b.Fatal(err)
	}
	var h http.Handler = trackhttp.New(trackhttp.Deps{DB: d, Clock: a.Clock, Collector: a.Tracker, Workspace: 1, Burst: 1 << 30})
	if os.Getenv("RYORIN_BENCH_FULL_CHAIN") != "" {
		h = a.Handler() // the app's own rate limit applies: use visitor addresses
		if err := d.Write(context.Background(), "bench", func(tx *db.Tx) error {
			_, err := tx.ExecContext(context.Background(), `UPDATE workspaces SET trusted_proxies = '127.0.0.1/32'`)
			return err
		}); err != nil {
			b.Fatal(err)
		}
	}
	srv := httptest.NewServer(h)
	defer srv.Close()
	hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 256}}
	var n atomic.Int64
	b.SetParallelism(32) // 64 clients on 2 cores
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := n.Add(1)
			body := fmt.Sprintf(`{"vid":"visitor%08d","events":[{"id":"hit%010d","kind":"page_view","url":"https://www.example.jp/p%d"}]}`, i%5000, i, i%50)
			req, _ := http.NewRequest("POST", srv.URL+"/t/collect", strings.NewReader(body))
			req.Header.Set("User-Agent", chromeUA)
			req.Header.Set("X-Forwarded-For", fmt.Sprintf("10.1.%d.%d", i%5000/250, i%250))
			res, err := hc.Do(req)
			if err != nil || res.StatusCode != 200 {
				b.Fatalf("%v %v", res, err)
			}
			io.Copy(io.Discard, res.Body) // so the connection is reused
			res.Body.Close()
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
	st := a.Tracker.Stats.View()
	b.ReportMetric(float64(b.N)/float64(max(st.Batches, 1)), "events/tx")
}
