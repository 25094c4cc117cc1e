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
	"syscall"
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
	srv, _, err := bench.StartServer(*bin, common, os.Stderr)
	if err != nil {
		return err
	}
	stop := func() { _ = srv.Process.Signal(syscall.SIGTERM); _ = srv.Wait() }
	start := time.Now()
	if err := bench.StartSend(ctx, d, id); err != nil {
		stop()
		return err
	}
	var hwms []string
	killed := *killAt <= 0
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	lastCheck := time.Now()
	for range tick.C {
		if time.Since(start) > *timeout {
			stop()
			return fmt.Errorf("not finished after %s: %d at the sink", *timeout, sink.Total())
		}
		if !killed && float64(sink.Total()) >= *killAt*float64(*n) {
			hwm, _ := bench.MemOf(srv.Process.Pid)
			hwms = append(hwms, hwm)
			_ = srv.Process.Signal(syscall.SIGKILL)
			_ = srv.Wait()
			fmt.Printf("kill -9 at %d messages at the sink, %s after the start\n", sink.Total(), time.Since(start).Round(time.Millisecond))
			killed = true
			if srv, _, err = bench.StartServer(*bin, common, os.Stderr); err != nil {
				return err
			}
			continue
		}
		if time.Since(lastCheck) < time.Second {
			continue
		}
		lastCheck = time.Now()
		done, err := finished(ctx, d, id)
		if err != nil {
			stop()
			return err
		}
		if done {
			break
		}
	}
	took := time.Since(start)
	hwm, _ := bench.MemOf(srv.Process.Pid)
	hwms = append(hwms, hwm)
	stop()
	per, total, first, last := sink.Snapshot()
	tally, err := bench.Tally(ctx, d, id)
	if err != nil {
		return err
	}
	r := tally.Report
	fmt.Printf("\ncampaign %s: %d recipients; report: sent %d, unknown %d, failed %d, queued %d, skipped %d\n",
		tally.Status, r.Recipients, r.Sent, r.Unknown, r.Failed, r.Queued, r.SkippedTotal())
	fmt.Printf("sink: %d messages to %d addresses; first to last message %s = %.0f messages/s; start of the send to finished %s = %.0f messages/s\n",
		total, len(per), last.Sub(first).Round(time.Millisecond), float64(total)/last.Sub(first).Seconds(),
		took.Round(time.Millisecond), float64(total)/took.Seconds())
	fmt.Printf("`ryorin serve` peak RSS (VmHWM) per process: %v (target < 200 MB)\n", hwms)
	if bad := bench.CheckSend(*n, tally, per); len(bad) > 0 {
		for _, b := range bad {
			fmt.Println("MISMATCH:", b)
		}
		return fmt.Errorf("the sink and the send log disagree")
	}
	fmt.Println("check: every recipient is in the send log; each logged sent has exactly one message at the sink, each unknown at most one; the report's sent count equals the sink's")
	return nil
}

// finished reports whether the campaign is sent and none of its messages
// is still queued or being sent.
func finished(ctx context.Context, d *db.DB, id int64) (bool, error) {
	var status string
	var open int
	if err := d.Reader().QueryRowContext(ctx, `SELECT status FROM email_campaigns WHERE workspace_id = 1 AND id = ?`, id).Scan(&status); err != nil {
		return false, err
	}
	if status != "sent" {
		return false, nil
	}
	err := d.Reader().QueryRowContext(ctx, `SELECT COUNT(*) FROM mail_messages
		WHERE workspace_id = 1 AND ref_type = 'email_campaign' AND ref_id = ? AND status IN ('queued', 'sending')`, id).Scan(&open)
	return open == 0, err
}
