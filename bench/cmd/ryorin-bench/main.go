// Command ryorin-bench generates a data set and measures a real `ryorin
// serve` process against it over HTTP: list, search, timeline and ingest
// latencies, and the server's peak memory. See docs/benchmarks.md.
package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/ryorin/ryorin/bench"
	"github.com/ryorin/ryorin/internal/db"
	"github.com/ryorin/ryorin/internal/platform"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "ryorin-bench:", err)
		os.Exit(1)
	}
}

func run() error {
	size := flag.String("size", "S", "data set: XS, S, M or L")
	dbURL := flag.String("database-url", "", "postgres://… (default: SQLite in -data)")
	data := flag.String("data", "", "SQLite data directory (default: bench/out/<size>)")
	bin := flag.String("bin", "", "ryorin binary (default: built into a temp dir)")
	n := flag.Int("n", 200, "requests per latency scenario")
	events := flag.Int("events", 200_000, "events to ingest in the throughput scenario")
	cpuProfile := flag.String("cpuprofile", "", "write a CPU profile of the in-process work (-lead) to this file")
	tracked := flag.Int("track", 100_000, "events to post to the tracking endpoint (0: skip)")
	trackPer := flag.Int("track-per-post", 1, "events per tracking post")
	trackClients := flag.Int("track-clients", 64, "concurrent tracking clients")
	mqlN := flag.Int("mql", 0, "after the HTTP scenarios, time this many new MQLs from form submit to routed owner, with 1,000 events/s arriving")
	leadRuns := flag.Int("lead", 0, "instead of the HTTP scenarios, run the lead batch work (backtest, full rescore) in process this many times")
	segRuns := flag.Int("segments", 0, "instead of the HTTP scenarios, time segment counts and a full recompute in process this many times")
	reportRuns := flag.Int("reports", 0, "instead of the HTTP scenarios, time the shared reports (KPIs, funnel, channels, attribution, reps) in process this many times")
	served := flag.Duration("reports-served", 0, "instead of the other HTTP scenarios, open the shared report screens in turn for this long, with 2,000 events/s arriving, and time what a viewer waits")
	segLive := flag.Int("segment-live", 0, "instead of the other HTTP scenarios, time this many new events until they show in a segment's membership, with 1,000 events/s arriving")
	flag.Parse()
	sz, ok := bench.Sizes[*size]
	if !ok {
		return fmt.Errorf("unknown size %q", *size)
	}
	ctx := context.Background()
	if *data == "" {
		*data = filepath.Join("bench", "out", sz.Name)
	}
	d, err := db.Open(ctx, *dbURL, *data)
	if err != nil {
		return err
	}
	if _, err := d.Migrate(ctx); err != nil {
		return err
	}
	var contacts int
	_ = d.Reader().QueryRowContext(ctx, `SELECT COUNT(*) FROM contacts`).Scan(&contacts)
	if contacts == 0 {
		start := time.Now()
		err := bench.Generate(ctx, d, sz, func(s string) { fmt.Fprintf(os.Stderr, "  %s (%s)\n", s, time.Since(start).Round(time.Second)) })
		if err != nil {
			return err
		}
		fmt.Fprintf(os.Stderr, "generated %s in %s\n", sz.Name, time.Since(start).Round(time.Second))
	} else if contacts < sz.Contacts || contacts > sz.Contacts+sz.Contacts/100 {
		// (A few more are fine: the MQL scenario creates its contacts.)
		return fmt.Errorf("the database holds %d contacts, not size %s; use an empty one", contacts, sz.Name)
	}
	if *reportRuns > 0 {
		defer d.Close()
		if err := bench.EnrichForReports(ctx, d, func(s string) { fmt.Fprintln(os.Stderr, "  "+s) }); err != nil {
			return err
		}
		rs, err := bench.ReportRun(ctx, d, *reportRuns, func(s string) { fmt.Fprintln(os.Stderr, "  "+s) })
		if err != nil {
			return err
		}
		fmt.Printf("\n### Shared reports, %s, size %s\n\n", engineName(*dbURL), sz.Name)
		fmt.Print(bench.Markdown(rs))
		return nil
	}
	if *segRuns > 0 {
		defer d.Close()
		rs, err := bench.SegmentRun(ctx, d, *segRuns, func(s string) { fmt.Fprintln(os.Stderr, "  "+s) })
		if err != nil {
			return err
		}
		fmt.Printf("\n### Segments, %s, size %s\n\n", engineName(*dbURL), sz.Name)
		fmt.Print(bench.Markdown(rs))
		return nil
	}
	if *leadRuns > 0 {
		defer d.Close()
		if *cpuProfile != "" {
			f, err := os.Create(*cpuProfile)
			if err != nil {
				return err
			}
			if err := pprof.StartCPUProfile(f); err != nil {
				return err
			}
			defer pprof.StopCPUProfile()
		}
		rs, err := bench.LeadRun(ctx, d, *leadRuns, func(s string) { fmt.Fprintln(os.Stderr, "  "+s) })
		if err != nil {
			return err
		}
		fmt.Printf("\n### Lead batch work, %s, size %s\n\n", engineName(*dbURL), sz.Name)
		fmt.Print(bench.Markdown(rs))
		return nil
	}
	if *served > 0 {
		if err := bench.EnrichForReports(ctx, d, func(s string) { fmt.Fprintln(os.Stderr, "  "+s) }); err != nil {
			return err
		}
	}
	// A browser session for the page scenarios, as if user 1 had signed in.
	session, err := platform.CreateSession(ctx, d, 1, 1, false, "127.0.0.1", "ryorin-bench", time.Now())
	if err != nil {
		return err
	}
	d.Close()

	if *bin == "" {
		dir, err := os.MkdirTemp("", "ryorin-bench")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		*bin = filepath.Join(dir, "ryorin")
		if out, err := exec.Command("go", "build", "-o", *bin, "./cmd/ryorin").CombinedOutput(); err != nil {
			return fmt.Errorf("build: %v\n%s", err, out)
		}
	}
	common := []string{"--data", *data}
	if *dbURL != "" {
		common = []string{"--database-url", *dbURL}
	}
	tok, err := exec.Command(*bin, append([]string{"token", "create", "--email", "user1@bench.example"}, common...)...).Output()
	if err != nil {
		return fmt.Errorf("token: %w", err)
	}
	pr, pw := io.Pipe()
	slow := &slowTx{}
	go slow.scan(pr)
	srv, base, err := bench.StartServer(*bin, common, pw)
	if err != nil {
		return err
	}
	defer func() { _ = srv.Process.Signal(syscall.SIGTERM); _ = srv.Wait() }()
	c := &bench.Client{Base: base, Token: strings.TrimSpace(string(tok)), Session: session, HTTP: &http.Client{Timeout: 60 * time.Second}}
	// What every HTTP run ends with: the server's memory and its slow writes.
	serverReport := func() {
		hwm, rss := bench.MemOf(srv.Process.Pid)
		fmt.Printf("\n`ryorin serve` memory after the run: peak RSS (VmHWM) %s, current RSS %s (target < 300 MB)\n", hwm, rss)
		slowN, worst, names := slow.result()
		fmt.Printf("Write transactions over 50 ms logged by the server during the run: %d (longest %d ms) %v\n", slowN, worst, names)
	}
	if *served > 0 {
		rs, err := bench.ReportsServed(ctx, c, sz, *served, 2000)
		if err != nil {
			return err
		}
		fmt.Printf("\n### Shared report screens as served, %s, size %s\n\n", engineName(*dbURL), sz.Name)
		fmt.Print(bench.Markdown(rs))
		serverReport()
		return nil
	}
	if *segLive > 0 {
		r, err := bench.SegmentLatency(ctx, c, sz, *segLive, 1000)
		if err != nil {
			return err
		}
		fmt.Printf("\n### Segment membership latency, %s, size %s\n\n", engineName(*dbURL), sz.Name)
		fmt.Print(bench.Markdown([]bench.Result{r}))
		serverReport()
		return nil
	}
	rs, err := bench.Run(ctx, c, sz, *n, *events)
	if err != nil {
		return err
	}
	if *mqlN > 0 {
		r, err := bench.MQLLatency(ctx, c, sz, *mqlN, 1000)
		if err != nil {
			return err
		}
		rs = append(rs, r)
	}
	if *tracked > 0 {
		res, err := bench.TrackIngest(ctx, c, *tracked, *trackPer, *trackClients)
		if err != nil {
			return err
		}
		rs = append(rs, res)
	}
	fmt.Printf("\n### %s, size %s (%d contacts, %d companies, %d events, %d deals)\n\n", engineName(*dbURL), sz.Name, sz.Contacts, sz.Companies, sz.Events, sz.Deals)
	fmt.Print(bench.Markdown(rs))
	serverReport()
	return nil
}

// slowTx counts the server's "slow write transaction" warnings.
type slowTx struct {
	mu    sync.Mutex
	n     int
	worst int
	names map[string]int
}

func (s *slowTx) scan(r io.Reader) {
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		line := sc.Text()
		if !strings.Contains(line, "slow write transaction") {
			fmt.Fprintln(os.Stderr, line)
			continue
		}
		ms := 0
		if i := strings.Index(line, "ms="); i >= 0 {
			ms, _ = strconv.Atoi(strings.Fields(line[i+3:])[0])
		}
		name := "?"
		if i := strings.Index(line, "tx="); i >= 0 {
			name = strings.Fields(line[i+3:])[0]
		}
		s.mu.Lock()
		s.n++
		s.worst = max(s.worst, ms)
		if s.names == nil {
			s.names = map[string]int{}
		}
		s.names[name]++
		s.mu.Unlock()
	}
}

func (s *slowTx) result() (int, int, map[string]int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.n, s.worst, s.names
}

// memOf reads a process's peak and current resident set size from /proc.
func engineName(dbURL string) string {
	if dbURL != "" {
		return "PostgreSQL"
	}
	return "SQLite"
}
