package bench_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/ryorin/ryorin/bench"
	"github.com/ryorin/ryorin/internal/db"
	"github.com/ryorin/ryorin/internal/dbtest"
	"github.com/ryorin/ryorin/internal/platform"
)

// TestTracking_KillNineLosesNoAcknowledgedEvent runs the real binary, posts
// tracking events from many clients, kills the server with SIGKILL in the
// middle, and checks that every event it acknowledged is in the database.
func TestTracking_KillNineLosesNoAcknowledgedEvent(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	bin := os.Getenv("RYORIN_BIN")
	if bin == "" {
		bin = filepath.Join(t.TempDir(), "ryorin")
		if out, err := exec.Command("go", "build", "-o", bin, "../cmd/ryorin").CombinedOutput(); err != nil {
			t.Fatalf("build: %v\n%s", err, out)
		}
	}
	engines := map[string]string{"sqlite": "sqlite:" + filepath.Join(t.TempDir(), "kill.db")}
	if os.Getenv(dbtest.EnvURL) != "" {
		engines["postgres"] = ""
	}
	for name, url := range engines {
		t.Run(name, func(t *testing.T) {
			if name == "postgres" {
				url = dbtest.URLOf(dbtest.Open(t, db.Postgres))
			}
			// Each client is its own visitor address behind a trusted proxy,
			// so the per-IP rate limit applies per visitor as in production.
			ctx := context.Background()
			pre, err := db.Open(ctx, url, "")
			if err != nil {
				t.Fatal(err)
			}
			if _, err := pre.Migrate(ctx); err != nil {
				t.Fatal(err)
			}
			if err := platform.EnsureWorkspace(ctx, pre, 1, "Kill", time.Now()); err != nil {
				t.Fatal(err)
			}
			if err := pre.Write(ctx, "test", func(tx *db.Tx) error {
				_, err := tx.ExecContext(ctx, `UPDATE workspaces SET trusted_proxies = '127.0.0.1/32'`)
				return err
			}); err != nil {
				t.Fatal(err)
			}
			pre.Close()
			srv, base, err := bench.StartServer(bin, []string{"--database-url", url}, io.Discard)
			if err != nil {
				t.Fatal(err)
			}
			defer srv.Process.Kill()
			var mu sync.Mutex
			acked := map[string]bool{}
			var sent int
			var wg sync.WaitGroup
			stop := make(chan struct{})
			hc := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
			for c := 0; c < 32; c++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := 0; ; i++ {
						select {
						case <-stop:
							return
						default:
						}
						var ids []string
						var evs []string
						for j := 0; j < 1+i%3; j++ {
							id := fmt.Sprintf("k%02d%06d%d", c, i, j)
							ids = append(ids, id)
							evs = append(evs, fmt.Sprintf(`{"id":%q,"kind":"page_view","url":"https://www.example.jp/p%d"}`, id, j))
						}
						body := fmt.Sprintf(`{"vid":"killvisitor%03d","events":[%s]}`, c*10+i%10, strings.Join(evs, ","))
						req, _ := http.NewRequest("POST", base+"/t/collect", strings.NewReader(body))
						req.Header.Set("User-Agent", "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36")
						req.Header.Set("X-Forwarded-For", fmt.Sprintf("10.0.%d.%d", c, i%250))
						res, err := hc.Do(req)
						mu.Lock()
						sent += len(ids)
						mu.Unlock()
						if err != nil {
							return // the server is gone
						}
						var out struct {
							Stored int `json:"stored"`
						}
						b, _ := io.ReadAll(res.Body)
						res.Body.Close()
						if res.StatusCode == 429 {
							time.Sleep(100 * time.Millisecond)
							continue
						}
						if res.StatusCode != 200 || json.Unmarshal(b, &out) != nil || out.Stored != len(ids) {
							t.Errorf("post: %d %s", res.StatusCode, b)
							return
						}
						mu.Lock()
						for _, id := range ids {
							acked[id] = true
						}
						mu.Unlock()
					}
				}()
			}
			time.Sleep(1500 * time.Millisecond)
			if err := srv.Process.Signal(syscall.SIGKILL); err != nil {
				t.Fatal(err)
			}
			_ = srv.Wait()
			close(stop)
			wg.Wait()
			d, err := db.Open(ctx, url, "")
			if err != nil {
				t.Fatal(err)
			}
			defer d.Close()
			rows, err := d.Reader().QueryContext(ctx, `SELECT event_uid FROM events WHERE kind = 'page_view'`)
			if err != nil {
				t.Fatal(err)
			}
			stored := map[string]bool{}
			for rows.Next() {
				var uid string
				if err := rows.Scan(&uid); err != nil {
					t.Fatal(err)
				}
				stored[uid[strings.LastIndexByte(uid, '.')+1:]] = true
			}
			rows.Close()
			lost := 0
			for id := range acked {
				if !stored[id] {
					lost++
				}
			}
			t.Logf("%s: %d events sent, %d acknowledged before the kill, %d stored, %d acknowledged but lost", name, sent, len(acked), len(stored), lost)
			if len(acked) < 100 {
				t.Fatalf("only %d events acknowledged: the test proved nothing", len(acked))
			}
			if lost > 0 {
				t.Fatalf("%d acknowledged events lost", lost)
			}
		})
	}
}
