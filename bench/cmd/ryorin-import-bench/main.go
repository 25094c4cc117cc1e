// Command ryorin-import-bench measures CSV import and export end to end with
// the real `ryorin` binary: it seeds existing contacts, writes a generated
// contacts CSV (10 % duplicates of existing contacts, 1 % bad rows), runs
// `ryorin import contacts FILE`, checks the counts are exactly what the file
// holds, then times `ryorin export contacts`. See docs/benchmarks.md.
package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/ryorin/ryorin/bench"
	"github.com/ryorin/ryorin/internal/db"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "ryorin-import-bench:", err)
		os.Exit(1)
	}
}

func run() error {
	rows := flag.Int("rows", 100_000, "rows in the CSV file")
	existing := flag.Int("existing", 100_000, "contacts in the database before the import")
	url := flag.String("database-url", "", "an empty PostgreSQL database (default: a new SQLite database in -dir)")
	dir := flag.String("dir", "", "work directory (default: a new temporary one, removed at the end)")
	bin := flag.String("bin", "", "ryorin binary (default: go build ./cmd/ryorin)")
	killAt := flag.Float64("kill-at", 0, "kill -9 the import when this fraction of rows is committed, then resume it (0: no kill)")
	profile := flag.String("cpuprofile", "", "write a CPU profile of the import (the CLI's, or serve's with -mixed) to this file")
	floor := flag.Bool("floor", false, "instead of importing, insert the contacts and companies the file would create straight into their tables (bench.InsertFloor): the engine's and schema's floor for this import")
	floorTx := flag.Int("floor-tx", 1000, "contacts per transaction with -floor")
	floorWriters := flag.Int("floor-writers", 1, "with -floor: transactions at once (PostgreSQL; SQLite has one writer)")
	floorDrop := flag.String("floor-drop", "", "with -floor: indexes to drop first (comma-separated), to see what each costs")
	mixed := flag.Int("mixed", 0, "events/s posted to the batch API of a running `ryorin serve` while it imports the file (uploaded through the API); 0: import with the CLI")
	flag.Parse()
	ctx := context.Background()
	if *dir == "" {
		d, err := os.MkdirTemp("", "ryorin-import-bench")
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
	// Migrate with the binary, then seed the existing contacts directly.
	if out, err := exec.Command(*bin, append([]string{"migrate"}, common...)...).CombinedOutput(); err != nil {
		return fmt.Errorf("migrate: %v\n%s", err, out)
	}
	d, err := db.Open(ctx, *url, filepath.Join(*dir, "data"))
	if err != nil {
		return err
	}
	t := time.Now()
	if err := bench.SeedContacts(ctx, d, *existing); err != nil {
		return err
	}
	if err := d.Optimize(ctx, true); err != nil {
		return err
	}
	// SQLite: existing contacts are searchable before the import starts, as
	// they would be in a running installation (ADR 0028).
	if err := d.SearchCatchUp(ctx, time.Hour); err != nil {
		return err
	}
	fmt.Printf("seeded and indexed %d existing contacts in %s\n", *existing, time.Since(t).Round(time.Millisecond))
	path := filepath.Join(*dir, "contacts.csv")
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	bw := bufio.NewWriterSize(f, 1<<20)
	exp, err := bench.WriteImportCSV(bw, *rows, *existing, 1)
	if err == nil {
		err = bw.Flush()
	}
	if err == nil {
		err = f.Close()
	}
	if err != nil {
		return err
	}
	st, _ := os.Stat(path)
	fmt.Printf("CSV: %d rows, %.1f MB; expect created %d, updated %d, failed %d, companies %d\n", exp.Rows,
		float64(st.Size())/1e6, exp.Created, exp.Updated, exp.Failed, exp.Companies)

	if *floor {
		defer d.Close()
		return floorRun(ctx, d, exp.Created, exp.Companies, *floorTx, *floorWriters, *floorDrop)
	}

	imp := exec.Command(*bin, append([]string{"import", "contacts", path, "--log-level", "warn"}, common...)...)
	imp.Stdout, imp.Stderr = os.Stdout, os.Stderr
	if *profile != "" {
		imp.Env = append(os.Environ(), "RYORIN_CPUPROFILE="+*profile)
	}
	t = time.Now()
	var took time.Duration
	if *mixed > 0 {
		if took, err = mixedRun(ctx, *bin, common, *dir, path, *existing, *mixed, *profile); err != nil {
			return err
		}
		fmt.Printf("\nimport through `ryorin serve`: %d rows in %s = %.0f rows/s end to end (upload, row count, mapping, import)\n",
			exp.Rows, took.Round(10*time.Millisecond), float64(exp.Rows)/took.Seconds())
	} else if *killAt > 0 {
		if took, err = killAndResume(ctx, d, imp, *bin, common, int64(*killAt*float64(exp.Rows))); err != nil {
			return err
		}
	} else {
		if err := runWatched(imp); err != nil {
			return fmt.Errorf("import: %w", err)
		}
		took = time.Since(t)
	}
	if *mixed == 0 {
		fmt.Printf("\nimport: %d rows in %s = %.0f rows/s end to end (upload into the database, row count, mapping, import); peak RSS %s; CPU %s\n",
			exp.Rows, took.Round(10*time.Millisecond), float64(exp.Rows)/took.Seconds(), maxRSS(imp), cpuTime(imp))
	}

	var created, updated, failed, companies, contacts int
	err = d.Reader().QueryRowContext(ctx, `SELECT created_count, updated_count, failed_count, companies_created FROM imports ORDER BY id DESC LIMIT 1`).
		Scan(&created, &updated, &failed, &companies)
	if err != nil {
		return err
	}
	if err := d.Reader().QueryRowContext(ctx, `SELECT COUNT(*) FROM contacts`).Scan(&contacts); err != nil {
		return err
	}
	ok := created == exp.Created && updated == exp.Updated && failed == exp.Failed && companies == exp.Companies &&
		contacts == *existing+exp.Created
	fmt.Printf("counts: created %d, updated %d, failed %d, companies %d, contacts now %d — exact: %v\n", created, updated, failed,
		companies, contacts, ok)
	d.Close()
	if !ok {
		return fmt.Errorf("counts differ from the file's")
	}

	ex := exec.Command(*bin, append([]string{"export", "contacts", "--col", "email,company,stage,owner,phone,title,created"}, common...)...)
	out, err := os.Create(filepath.Join(*dir, "export.csv"))
	if err != nil {
		return err
	}
	defer out.Close()
	ex.Stdout, ex.Stderr = out, os.Stderr
	t = time.Now()
	if err := runWatched(ex); err != nil {
		return fmt.Errorf("export: %w", err)
	}
	took = time.Since(t)
	fmt.Printf("export: %d rows in %s = %.0f rows/s; peak RSS %s\n", contacts, took.Round(10*time.Millisecond),
		float64(contacts)/took.Seconds(), maxRSS(ex))
	return nil
}

// peaks holds the peak RSS runWatched saw for each command.
var peaks = map[*exec.Cmd]string{}

// runWatched runs c and records its peak RSS from /proc (VmHWM, read every
// 50 ms and as it ends). Not from rusage: a child's ru_maxrss also counts the
// image of this process it was started from, before exec.
func runWatched(c *exec.Cmd) error {
	if err := c.Start(); err != nil {
		return err
	}
	done := make(chan error, 1)
	go func() { done <- c.Wait() }()
	peak := "?"
	for {
		if hwm, _ := bench.MemOf(c.Process.Pid); hwm != "?" {
			peak = hwm
		}
		select {
		case err := <-done:
			peaks[c] = peak
			return err
		case <-time.After(50 * time.Millisecond):
		}
	}
}

func maxRSS(c *exec.Cmd) string {
	if p, ok := peaks[c]; ok {
		return p
	}
	return "?"
}

// cpuTime is the user and system CPU time the command used: on a shared
// machine it varies less than the wall time. (On PostgreSQL most of the work
// is in the server, which this does not count.)
func cpuTime(c *exec.Cmd) string {
	if c.ProcessState == nil {
		return "?"
	}
	return fmt.Sprintf("%s user + %s sys", c.ProcessState.UserTime().Round(10*time.Millisecond),
		c.ProcessState.SystemTime().Round(10*time.Millisecond))
}

// killAndResume starts the import, kills it with SIGKILL once at least
// `at` rows are committed, then runs `ryorin import resume`, and returns the
// wall time of both (which includes the wait for the killed run's lease).
func killAndResume(ctx context.Context, d *db.DB, imp *exec.Cmd, bin string, common []string, at int64) (time.Duration, error) {
	start := time.Now()
	if err := imp.Start(); err != nil {
		return 0, err
	}
	var id, done int64
	for done < at {
		time.Sleep(100 * time.Millisecond)
		_ = d.Reader().QueryRowContext(ctx, `SELECT id, rows_done FROM imports ORDER BY id DESC LIMIT 1`).Scan(&id, &done)
	}
	_ = imp.Process.Signal(syscall.SIGKILL)
	_ = imp.Wait()
	first := time.Since(start)
	_ = d.Reader().QueryRowContext(ctx, `SELECT rows_done FROM imports WHERE id = ?`, id).Scan(&done)
	fmt.Printf("\nkilled (SIGKILL) after %s with %d rows committed; resuming (waits for the dead run's lease, 2 minutes)\n", first.Round(10*time.Millisecond), done)
	res := exec.Command(bin, append([]string{"import", "resume", fmt.Sprint(id), "--log-level", "warn"}, common...)...)
	res.Stdout, res.Stderr = os.Stdout, os.Stderr
	rs := time.Now()
	if err := res.Run(); err != nil {
		return 0, fmt.Errorf("resume: %w", err)
	}
	fmt.Printf("resume: %s wall time, including the wait for the lease\n", time.Since(rs).Round(10*time.Millisecond))
	return time.Since(start), nil
}

// mixedRun starts `ryorin serve`, posts `rate` events/s to its batch API (50
// per post, random existing contacts) and, once they flow, uploads the CSV
// through POST /api/v1/imports; it waits for the import job to finish, then
// stops the events and prints their latency. It returns the import's time
// from the start of the upload to the job's end.
func mixedRun(ctx context.Context, bin string, common []string, dir, csvPath string, contacts, rate int, profile string) (time.Duration, error) {
	add := exec.Command(bin, append([]string{"user", "add", "--email", "importer@bench.example", "--name", "Importer", "--role", "admin"}, common...)...)
	add.Stdin = strings.NewReader("bench-importer-password\n")
	if out, err := add.CombinedOutput(); err != nil {
		return 0, fmt.Errorf("user add: %v\n%s", err, out)
	}
	tok, err := exec.Command(bin, append([]string{"token", "create", "--email", "importer@bench.example"}, common...)...).Output()
	if err != nil {
		return 0, fmt.Errorf("token: %w", err)
	}
	logf, err := os.Create(filepath.Join(dir, "serve.log"))
	if err != nil {
		return 0, err
	}
	defer logf.Close()
	if profile != "" {
		os.Setenv("RYORIN_CPUPROFILE", profile) // serve's, written when it stops
	}
	srv, base, err := bench.StartServer(bin, common, logf)
	os.Unsetenv("RYORIN_CPUPROFILE")
	if err != nil {
		return 0, err
	}
	defer func() { _ = srv.Process.Signal(syscall.SIGTERM); _ = srv.Wait() }()
	c := &bench.Client{Base: base, Token: strings.TrimSpace(string(tok)), HTTP: &http.Client{Timeout: 10 * time.Minute}}
	stop := bench.Arrive(ctx, c, contacts, rate, "mixed")
	time.Sleep(3 * time.Second)   // events flowing before the import starts
	file, err := os.Open(csvPath) // streamed: the bench's memory stays out of the children's peak RSS
	if err != nil {
		return 0, err
	}
	defer file.Close()
	start := time.Now()
	b, err := c.Send(ctx, "POST", "/api/v1/imports?mode=update", "text/csv", file)
	if err != nil {
		return 0, fmt.Errorf("upload: %w", err)
	}
	var im struct {
		ID       int64  `json:"id"`
		Status   string `json:"status"`
		RowsDone int64  `json:"rows_done"`
		Error    string `json:"error"`
	}
	if err := json.Unmarshal(b, &im); err != nil {
		return 0, err
	}
	fmt.Printf("uploaded in %s (import %d); importing with %d events/s arriving\n", time.Since(start).Round(10*time.Millisecond), im.ID, rate)
	for im.Status != "done" && im.Status != "failed" {
		time.Sleep(200 * time.Millisecond)
		if b, err = c.Send(ctx, "GET", fmt.Sprintf("/api/v1/imports/%d", im.ID), "", nil); err != nil {
			return 0, err
		}
		if err := json.Unmarshal(b, &im); err != nil {
			return 0, err
		}
	}
	took := time.Since(start)
	posts, err := stop()
	if err != nil {
		return 0, fmt.Errorf("events: %w", err)
	}
	var lat []time.Duration
	for _, p := range posts {
		if !p.At.Before(start) {
			lat = append(lat, p.Took)
		}
	}
	if len(lat) == 0 {
		return 0, fmt.Errorf("no events were posted during the import")
	}
	if im.Status != "done" {
		return 0, fmt.Errorf("import %d failed: %s", im.ID, im.Error)
	}
	slices.Sort(lat)
	q := func(p float64) time.Duration {
		return lat[min(len(lat)-1, int(p*float64(len(lat))))].Round(100 * time.Microsecond)
	}
	fmt.Printf("events during the import: %d posts of 50 (%d events/s asked); latency p50 %s, p95 %s, p99 %s, max %s (target p99 < 100 ms)\n",
		len(lat), rate, q(0.50), q(0.95), q(0.99), lat[len(lat)-1].Round(100*time.Microsecond))
	hwm, _ := bench.MemOf(srv.Process.Pid)
	log, _ := os.ReadFile(filepath.Join(dir, "serve.log"))
	fmt.Printf("`ryorin serve` peak RSS %s; write transactions over 50 ms logged: %s\n", hwm, slowTxs(log))
	return took, nil
}

// slowTxs summarises serve's "slow write transaction" warnings: how many
// there were per transaction name, and the longest.
func slowTxs(log []byte) string {
	type agg struct{ n, max, commits int }
	by := map[string]*agg{}
	total := 0
	for _, line := range bytes.Split(log, []byte("\n")) {
		if !bytes.Contains(line, []byte("slow write transaction")) {
			continue
		}
		var name string
		var ms, commit int
		for _, f := range strings.Fields(string(line)) {
			if v, ok := strings.CutPrefix(f, "tx="); ok {
				name = v
			}
			if v, ok := strings.CutPrefix(f, "ms="); ok {
				fmt.Sscan(v, &ms)
			}
			if v, ok := strings.CutPrefix(f, "commit_ms="); ok {
				fmt.Sscan(v, &commit)
			}
		}
		if by[name] == nil {
			by[name] = &agg{}
		}
		by[name].n++
		by[name].max = max(by[name].max, ms)
		if commit*2 > ms {
			by[name].commits++
		}
		total++
	}
	out := fmt.Sprint(total)
	for name, a := range by {
		out += fmt.Sprintf("; %s %d (longest %d ms, %d mostly in the commit)", name, a.n, a.max, a.commits)
	}
	return out
}

// floorRun times bench.InsertFloor for the contacts the file would create,
// after dropping the indexes named in drop.
func floorRun(ctx context.Context, d *db.DB, n, companies, perTx, writers int, drop string) error {
	for _, ix := range strings.Split(drop, ",") {
		if ix = strings.TrimSpace(ix); ix == "" {
			continue
		}
		if err := d.Write(ctx, "bench.floorDrop", func(tx *db.Tx) error {
			_, err := tx.ExecContext(ctx, `DROP INDEX `+ix)
			return err
		}); err != nil {
			return fmt.Errorf("drop index %s: %w", ix, err)
		}
		fmt.Printf("dropped index %s\n", ix)
	}
	f, err := bench.InsertFloor(ctx, d, n, companies, perTx, writers, 1)
	if err != nil {
		return err
	}
	fmt.Printf("floor: %d companies in %s; %d contacts with their lifecycle rows, %d per transaction, %d at once, in %s = %.0f rows/s\n",
		f.Companies, f.CompaniesTook.Round(time.Millisecond), f.Contacts, perTx, writers, f.ContactsTook.Round(time.Millisecond),
		float64(f.Contacts)/f.ContactsTook.Seconds())
	return nil
}
