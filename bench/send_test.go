package bench_test

import (
	"context"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/ryorin/ryorin/bench"
	"github.com/ryorin/ryorin/internal/db"
	"github.com/ryorin/ryorin/internal/dbtest"
)

// TestCampaignSend_KillNineMidSendLeavesEveryRecipientOneMessageOrCountedUnknown
// runs the real binary, starts a campaign to 2,000 recipients, kills the
// server with SIGKILL part-way through and starts it again: afterwards
// every recipient has exactly one message at the sink, except those the
// report counts as unknown (at most one each, at most the batches that
// were in flight), and the report's sent count equals the sink's.
func TestCampaignSend_KillNineMidSendLeavesEveryRecipientOneMessageOrCountedUnknown(t *testing.T) {
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
	engines := map[string]string{"sqlite": ""}
	if os.Getenv(dbtest.EnvURL) != "" {
		engines["postgres"] = ""
	}
	const n = 2000
	for name := range engines {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			dir := t.TempDir()
			args := []string{"--data", filepath.Join(dir, "data")}
			url := ""
			if name == "postgres" {
				url = dbtest.URLOf(dbtest.Open(t, db.Postgres))
				args = []string{"--database-url", url}
			}
			if out, err := exec.Command(bin, append([]string{"migrate"}, args...)...).CombinedOutput(); err != nil {
				t.Fatalf("migrate: %v\n%s", err, out)
			}
			d, err := db.Open(ctx, url, filepath.Join(dir, "data"))
			if err != nil {
				t.Fatal(err)
			}
			defer d.Close()
			sink, err := bench.StartSendSink()
			if err != nil {
				t.Fatal(err)
			}
			defer sink.Close()
			id, err := bench.SetupSend(ctx, d, n, sink)
			if err != nil {
				t.Fatal(err)
			}
			r, err := bench.RunSend(ctx, d, id, sink, bin, args, n, 0.4, 3*time.Minute, io.Discard)
			if err != nil {
				t.Fatal(err)
			}
			if r.Killed == 0 || r.Killed >= n {
				t.Fatalf("the kill came at %d messages", r.Killed)
			}
			rep := r.Tally.Report
			if rep.Recipients != n || rep.Sent+rep.Unknown != n || rep.Failed != 0 || rep.Queued != 0 {
				t.Fatalf("report %+v", rep)
			}
			// At most the batches in flight are unknown: 4 lanes × 50
			// messages, one batch of the campaign's send.
			if rep.Unknown > 200 {
				t.Fatalf("%d unknown", rep.Unknown)
			}
			for _, b := range bench.CheckSend(n, r.Tally, r.Sink) {
				t.Error(b)
			}
			t.Logf("killed at %d; sent %d, unknown %d; sink %d", r.Killed, rep.Sent, rep.Unknown, r.Total)
		})
	}
}
