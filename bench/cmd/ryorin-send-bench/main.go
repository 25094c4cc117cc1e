// Command ryorin-send-bench measures an email campaign's send end to end
// with the real `ryorin serve`: n personalised recipients with tracked links
// delivered to a local SMTP sink, the rate at the sink and the server's peak
// memory; with -kill-at it kills the server with SIGKILL part-way, starts it
// again and checks that every recipient got exactly one message, except
// those the report counts as unknown (at most one each), and that the
// report's counts match the sink. See docs/benchmarks.md.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"time"

	"github.com/ryorin/ryorin/bench"
	"github.com/ryorin/ryorin/internal/db"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "ryorin-send-bench:", err)
		os.Exit(1)
	}
}

func run() error {
	n := flag.Int("n", 100_000, "recipients")
	url := flag.String("database-url", "", "an empty PostgreSQL database (default: a new SQLite database in -dir)")
	dir := flag.String("dir", "", "work directory (default: a new temporary one, removed at the end)")
	bin := flag.String("bin", "", "ryorin binary (default: go build ./cmd/ryorin)")
	killAt := flag.Float64("kill-at", 0, "kill -9 the server when this fraction of recipients has arrived at the sink, then start it again (0: no kill)")
	timeout := flag.Duration("timeout", 30*time.Minute, "give up after this long")
	flag.Parse()
	ctx := context.Background()
	if *dir == "" {
		d, err := os.MkdirTemp("", "ryorin-send-bench")
		if err != nil {
			return err
		}
		defer os.RemoveAll(d)
		*dir = d
	}
	if *bin == "" {
		*bin = filepath.Join(*dir, "ryorin")
		if out, err := exec.Command("go", "build", "-o", *bin, "./cmd/ryorin").CombinedOutput(); err != nil {
			return fmt.Errorf("build: %v\n%s", err, out)
		}
	}
	common := []string{"--data", filepath.Join(*dir, "data")}
	if *url != "" {
		common = []string{"--database-url", *url}
	}
	if out, err := exec.Command(*bin, append([]string{"migrate"}, common...)...).CombinedOutput(); err != nil {
		return fmt.Errorf("migrate: %v\n%s", err, out)
	}
	d, err := db.Open(ctx, *url, filepath.Join(*dir, "data"))
	if err != nil {
		return err
	}
	defer d.Close()
	sink, err := bench.StartSendSink()
	if err != nil {
		return err
	}
	defer sink.Close()
	t := time.Now()
	id, err := bench.SetupSend(ctx, d, *n, sink)
	if err != nil {
		return err
	}
	fmt.Printf("set up %d recipients in %s\n", *n, time.Since(t).Round(time.Millisecond))
	r, err := bench.RunSend(ctx, d, id, sink, *bin, common, *n, *killAt, *timeout, os.Stderr)
	if err != nil {
		return err
	}
	if r.Killed > 0 {
		fmt.Printf("kill -9 at %d messages at the sink, then started again\n", r.Killed)
	}
	rep := r.Tally.Report
	fmt.Printf("\ncampaign %s: %d recipients, all queued %s after the start; report: sent %d, unknown %d, failed %d, queued %d, skipped %d\n",
		r.Tally.Status, rep.Recipients, r.Tally.Queuing.Round(time.Millisecond), rep.Sent, rep.Unknown, rep.Failed, rep.Queued, rep.SkippedTotal())
	fmt.Printf("sink: %d messages to %d addresses; first to last message %s = %.0f messages/s; start of the send to finished %s = %.0f messages/s\n",
		r.Total, len(r.Sink), r.Last.Sub(r.First).Round(time.Millisecond), float64(r.Total)/r.Last.Sub(r.First).Seconds(),
		r.Took.Round(time.Millisecond), float64(r.Total)/r.Took.Seconds())
	fmt.Printf("`ryorin serve` peak RSS (VmHWM) per process: %v (target < 200 MB)\n", r.PeakRSS)
	if bad := bench.CheckSend(*n, r.Tally, r.Sink); len(bad) > 0 {
		for _, b := range bad {
			fmt.Println("MISMATCH:", b)
		}
		return fmt.Errorf("the sink and the send log disagree")
	}
	fmt.Println("check: every recipient is in the send log; each logged sent has exactly one message at the sink, each unknown at most one; the report's sent count equals the sink's")
	return nil
}
