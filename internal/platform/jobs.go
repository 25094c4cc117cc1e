package platform

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/ryorin/ryorin/internal/clock"
	"github.com/ryorin/ryorin/internal/db"
)

// Durable jobs live in the jobs table: enqueued in the same transaction as
// the business write that needs them, claimed with a lease, retried with
// backoff, and resumed after a crash or restart (an expired lease makes a
// running job claimable again). See docs/adr/0004-jobs-in-the-database.md.

// Job statuses.
const (
	JobQueued  = "queued"
	JobRunning = "running"
	JobDone    = "done"
	JobFailed  = "failed"  // gave up after max attempts, or a permanent error
	JobUnknown = "unknown" // the outcome cannot be known (e.g. crash mid-send); counted, never repeated
)

// Job is one unit of durable work.
type Job struct {
	ID          int64
	WorkspaceID int64
	Kind        string
	Payload     json.RawMessage
	Attempts    int // including this one
	MaxAttempts int
	// Reclaimed is true when an earlier attempt started and never reported
	// back (its worker crashed or was killed). Handlers whose side effects
	// cannot be checked must treat this as "maybe already done".
	Reclaimed bool
	RunAt     time.Time
}

// Decode unmarshals the payload into v.
func (j Job) Decode(v any) error { return json.Unmarshal(j.Payload, v) }

// JobHandler does a job. A nil error marks it done; an error retries it with
// backoff; Permanent(err) fails it at once; Unknown(err) records an unknown
// outcome.
type JobHandler func(ctx context.Context, j Job) error

// FinishingHandler does a job like a JobHandler and also returns its last
// writes (nil: none), which go into the transaction that records the job's
// result: one write transaction less per job. When they fail, the job is
// recorded without them as Unknown.
type FinishingHandler func(ctx context.Context, j Job) (last func(ctx context.Context, tx *db.Tx) error, err error)

type permanentErr struct{ error }
type unknownErr struct{ error }

// Permanent marks an error as not worth retrying.
func Permanent(err error) error { return permanentErr{err} }

// Unknown marks an outcome that cannot be known; the job is not retried.
func Unknown(err error) error { return unknownErr{err} }

func (e permanentErr) Unwrap() error { return e.error }
func (e unknownErr) Unwrap() error   { return e.error }

// EnqueueOptions tune one job.
type EnqueueOptions struct {
	RunAt       time.Time // zero: now
	UniqueKey   string    // at most one job per (kind, key) ever: makes enqueueing idempotent
	MaxAttempts int       // default 10
	Priority    int       // higher runs first
}

// Enqueue adds a job inside tx. With a UniqueKey that already exists it adds
// nothing and returns inserted=false. Pass a *Jobs as waker to have the
// runner pick the job up as soon as tx commits.
func Enqueue(ctx context.Context, tx *db.Tx, ws int64, kind string, payload any, o EnqueueOptions, now time.Time, waker *Jobs) (id int64, inserted bool, err error) {
	b, err := json.Marshal(payload)
	if err != nil {
		return 0, false, fmt.Errorf("platform.Enqueue(%s): %w", kind, err)
	}
	if o.RunAt.IsZero() {
		o.RunAt = now
	}
	if o.MaxAttempts <= 0 {
		o.MaxAttempts = 10
	}
	err = tx.QueryRowContext(ctx, `-- platform.Enqueue
		INSERT INTO jobs (workspace_id, kind, payload, priority, run_at, max_attempts, unique_key, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (workspace_id, kind, unique_key) WHERE unique_key IS NOT NULL DO NOTHING RETURNING id`,
		ws, kind, string(b), o.Priority, db.Millis(o.RunAt), o.MaxAttempts, db.NullString(o.UniqueKey), db.Millis(now)).Scan(&id)
	if db.NoRows(err) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, fmt.Errorf("platform.Enqueue(%s): %w", kind, err)
	}
	if waker != nil {
		tx.AfterCommit(waker.Wake)
	}
	return id, true, nil
}

// Jobs runs the registered handlers over the jobs table.
type Jobs struct {
	DB    *db.DB
	Clock clock.Clock
	Log   *slog.Logger
	// Lease is how long a claimed job is reserved for its worker; a job whose
	// lease ran out without a result is claimed again (Reclaimed).
	Lease time.Duration
	// Batch is how many jobs one claim takes (a bounded write).
	Batch int
	// Poll is how often the runner looks for due jobs when not woken.
	Poll time.Duration
	// LaneWorkers is how many jobs of the own lane (see OwnLane) run at
	// once (default 4).
	LaneWorkers int

	mu       sync.Mutex
	handlers map[string]FinishingHandler
	periodic []periodicJob
	worker   string
	wake     chan struct{}
	// lane holds the kinds Run gives a runner of their own (mail), so a
	// long job of another kind does not hold them up, and they not it.
	lane     []string
	laneWake chan struct{}
}

type periodicJob struct {
	kind  string
	every time.Duration
}

// NewJobs returns a runner with sensible defaults.
func NewJobs(d *db.DB, c clock.Clock, log *slog.Logger) *Jobs {
	host, _ := os.Hostname()
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Jobs{DB: d, Clock: c, Log: log, Lease: 5 * time.Minute, Batch: 10, Poll: time.Second, LaneWorkers: 4,
		handlers: map[string]FinishingHandler{}, worker: host + ":" + strconv.Itoa(os.Getpid()) + ":" + strconv.Itoa(rand.IntN(1e6)),
		wake: make(chan struct{}, 1), laneWake: make(chan struct{}, 1)}
}

// Handle registers the handler for a kind of job.
func (q *Jobs) Handle(kind string, h JobHandler) {
	q.HandleFinishing(kind, func(ctx context.Context, j Job) (func(context.Context, *db.Tx) error, error) {
		return nil, h(ctx, j)
	})
}

// HandleFinishing registers a handler whose last writes are made with the
// job's result.
func (q *Jobs) HandleFinishing(kind string, h FinishingHandler) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.handlers[kind] = h
}

// Every makes kind run once per interval (workspace 1), however many servers
// run: each slot's job has a unique key.
func (q *Jobs) Every(kind string, every time.Duration, h JobHandler) {
	q.Handle(kind, h)
	q.mu.Lock()
	q.periodic = append(q.periodic, periodicJob{kind, every})
	q.mu.Unlock()
}

// OwnLane makes Run run jobs of these kinds in a second runner beside the
// main one. RunOnce still runs every kind.
func (q *Jobs) OwnLane(kinds ...string) {
	q.mu.Lock()
	q.lane = append(q.lane, kinds...)
	q.mu.Unlock()
}

// Wake makes the runners look for jobs now.
func (q *Jobs) Wake() {
	for _, ch := range []chan struct{}{q.wake, q.laneWake} {
		select {
		case ch <- struct{}{}:
		default:
		}
	}
}

// laneFilter selects which kinds a runner claims: all (0), those of the
// own lane (1) or all others (-1).
type laneFilter int

const (
	laneAll   laneFilter = 0
	laneOwn   laneFilter = 1
	laneOther laneFilter = -1
)

// kindCond is the claim's condition on kind for a runner, with its args.
func (q *Jobs) kindCond(f laneFilter) (string, []any) {
	q.mu.Lock()
	kinds := append([]string(nil), q.lane...)
	q.mu.Unlock()
	if f == laneAll || len(kinds) == 0 {
		if f == laneOwn {
			return " AND 1 = 0", nil
		}
		return "", nil
	}
	args := make([]any, len(kinds))
	for i, k := range kinds {
		args[i] = k
	}
	in := "IN (" + strings.TrimSuffix(strings.Repeat("?,", len(kinds)), ",") + ")"
	if f == laneOther {
		in = "NOT " + in
	}
	return " AND kind " + in, args
}

// schedulePeriodic enqueues the current slot of every periodic job.
func (q *Jobs) schedulePeriodic(ctx context.Context) error {
	q.mu.Lock()
	ps := append([]periodicJob(nil), q.periodic...)
	q.mu.Unlock()
	if len(ps) == 0 {
		return nil
	}
	now := q.Clock.Now()
	return q.DB.Write(ctx, "platform.schedulePeriodic", func(tx *db.Tx) error {
		for _, p := range ps {
			slot := now.Truncate(p.every)
			key := slot.UTC().Format(time.RFC3339)
			if _, _, err := Enqueue(ctx, tx, DefaultWorkspace, p.kind, map[string]string{"slot": key},
				EnqueueOptions{RunAt: slot, UniqueKey: key, MaxAttempts: 3}, now, nil); err != nil {
				return err
			}
		}
		return nil
	})
}

// claim takes up to Batch due jobs: queued ones whose time has come, and
// running ones whose lease expired.
func (q *Jobs) claim(ctx context.Context, f laneFilter) ([]Job, error) {
	now := db.Millis(q.Clock.Now())
	kc, kargs := q.kindCond(f)
	lock := ""
	if q.DB.Dialect == db.Postgres {
		lock = " FOR UPDATE SKIP LOCKED"
	}
	var out []Job
	err := q.DB.Write(ctx, "platform.claimJobs", func(tx *db.Tx) error {
		rows, err := tx.QueryContext(ctx, `-- platform.claimJobs
			UPDATE jobs SET status = 'running', attempts = attempts + 1, locked_by = ?, locked_until = ?
			WHERE id IN (
				SELECT id FROM jobs
				WHERE ((status = 'queued' AND run_at <= ?) OR (status = 'running' AND locked_until < ?))`+kc+`
				ORDER BY priority DESC, run_at, id LIMIT ?`+lock+`)
			RETURNING id, workspace_id, kind, payload, attempts, max_attempts, run_at, status`,
			append(append([]any{q.worker, now + q.Lease.Milliseconds(), now, now}, kargs...), q.Batch)...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var j Job
			var payload *string
			var runAt int64
			var st string
			if err := rows.Scan(&j.ID, &j.WorkspaceID, &j.Kind, &payload, &j.Attempts, &j.MaxAttempts, &runAt, &st); err != nil {
				return err
			}
			if payload != nil {
				j.Payload = json.RawMessage(*payload)
			}
			j.RunAt = db.Time(runAt)
			out = append(out, j)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("platform.claimJobs: %w", err)
	}
	// A job claimed with attempts > 1 whose previous attempt left no error
	// may have been cut off mid-run; tell the handler.
	for i := range out {
		if out[i].Attempts > 1 {
			var lastErr string
			if err := q.DB.Reader().QueryRowContext(ctx, `-- platform.claimJobs reclaimed
				SELECT last_error FROM jobs WHERE id = ?`, out[i].ID).Scan(&lastErr); err != nil {
				return nil, fmt.Errorf("platform.claimJobs: %w", err)
			}
			out[i].Reclaimed = lastErr == ""
		}
	}
	return out, nil
}

// RunOnce claims and runs due jobs until none are left, and returns how many
// ran. Tests call it after moving the clock; the background loop calls it on
// every tick.
func (q *Jobs) RunOnce(ctx context.Context) (int, error) {
	return q.runOnce(ctx, laneAll)
}

func (q *Jobs) runOnce(ctx context.Context, f laneFilter) (int, error) {
	if f != laneOwn {
		if err := q.schedulePeriodic(ctx); err != nil {
			return 0, err
		}
	}
	total := 0
	for {
		jobs, err := q.claim(ctx, f)
		if err != nil {
			return total, err
		}
		if len(jobs) == 0 {
			return total, nil
		}
		// The own lane's jobs (mail: each its own SMTP conversation) run
		// side by side; every other kind one after another.
		par := 1
		if f == laneOwn {
			par = max(1, q.LaneWorkers)
		}
		var wg sync.WaitGroup
		sem := make(chan struct{}, par)
		for _, j := range jobs {
			if ctx.Err() != nil {
				q.release(j)
				continue
			}
			sem <- struct{}{}
			wg.Go(func() {
				defer func() { <-sem }()
				last, err := q.exec(ctx, j)
				q.finish(ctx, j, last, err)
			})
			total++
		}
		wg.Wait()
		if ctx.Err() != nil {
			return total, ctx.Err()
		}
	}
}

func (q *Jobs) exec(ctx context.Context, j Job) (last func(context.Context, *db.Tx) error, err error) {
	q.mu.Lock()
	h := q.handlers[j.Kind]
	q.mu.Unlock()
	if h == nil {
		return nil, Permanent(fmt.Errorf("no handler for job kind %q", j.Kind))
	}
	defer func() {
		if p := recover(); p != nil {
			last, err = nil, fmt.Errorf("panic: %v\n%s", p, debug.Stack())
		}
	}()
	jctx, cancel := context.WithTimeout(ctx, q.Lease-5*time.Second)
	defer cancel()
	return h(jctx, j)
}

// finish records a job's result, with the handler's last writes if any.
func (q *Jobs) finish(ctx context.Context, j Job, last func(context.Context, *db.Tx) error, err error) {
	now := q.Clock.Now()
	status, runAt, msg := JobDone, j.RunAt, ""
	var perm permanentErr
	var unk unknownErr
	switch {
	case err == nil:
	case errors.As(err, &unk):
		status, msg = JobUnknown, err.Error()
	case errors.As(err, &perm) || j.Attempts >= j.MaxAttempts:
		status, msg = JobFailed, err.Error()
	default:
		status, msg = JobQueued, err.Error()
		runAt = now.Add(Backoff(j.Attempts))
	}
	if msg == "" && err != nil {
		msg = "error"
	}
	if len(msg) > 2000 {
		msg = msg[:2000]
	}
	if err != nil {
		q.Log.Warn("job did not succeed", "job", j.ID, "kind", j.Kind, "attempt", j.Attempts, "status", status, "err", err)
	}
	var finished any
	if status != JobQueued {
		finished = db.Millis(now)
	}
	// A background context: the result must be written even during shutdown.
	wctx := context.WithoutCancel(ctx)
	var lastErr error
	werr := q.DB.Write(wctx, "platform.finishJob", func(tx *db.Tx) error {
		if last != nil {
			// A finishing handler's result may be lost with a server
			// crash (db.Tx.FlushLater): the job is then claimed again as
			// cut off, which such a handler must treat as its work having
			// maybe been done (mail: 'sending' becomes unknown).
			if err := tx.FlushLater(wctx); err != nil {
				return err
			}
			if lastErr = last(wctx, tx); lastErr != nil {
				return lastErr
			}
		}
		_, err := tx.ExecContext(wctx, `-- platform.finishJob
			UPDATE jobs SET status = ?, run_at = ?, last_error = ?, locked_by = '', locked_until = NULL, finished_at = ?
			WHERE id = ? AND locked_by = ?`, status, db.Millis(runAt), msg, finished, j.ID, q.worker)
		return err
	})
	if werr != nil && lastErr != nil {
		// The handler's work is done but its last writes are not: what
		// became of it cannot be known from the database.
		q.finish(ctx, j, nil, Unknown(fmt.Errorf("the job's last writes failed: %w (result: %v)", lastErr, err)))
		return
	}
	if werr != nil {
		q.Log.Error("job result not recorded; it will be reclaimed when its lease ends", "job", j.ID, "err", werr)
	}
}

// release hands an unstarted claimed job back, without counting the attempt.
func (q *Jobs) release(j Job) {
	_ = q.DB.Write(context.Background(), "platform.releaseJob", func(tx *db.Tx) error {
		_, err := tx.ExecContext(context.Background(), `-- platform.releaseJob
			UPDATE jobs SET status = 'queued', attempts = attempts - 1, locked_by = '',
			locked_until = NULL WHERE id = ? AND locked_by = ?`, j.ID, q.worker)
		return err
	})
}

// ReclaimDead makes the jobs left 'running' by a process of this host that
// no longer exists (killed, crashed) claimable now instead of when their
// lease runs out; they are claimed as Reclaimed, so a handler that cannot
// know how far the dead attempt got still treats it as cut off. Workers
// are named host:pid:random; a process that exists (or a pid reused since)
// keeps its jobs until the lease ends.
func (q *Jobs) ReclaimDead(ctx context.Context) (int, error) {
	host, _, _ := strings.Cut(q.worker, ":")
	rows, err := q.DB.Reader().QueryContext(ctx, `-- platform.ReclaimDead
		SELECT DISTINCT locked_by FROM jobs WHERE status = 'running' AND locked_by LIKE ?`, host+":%")
	if err != nil {
		return 0, fmt.Errorf("platform.ReclaimDead: %w", err)
	}
	var dead []string
	for rows.Next() {
		var w string
		if err := rows.Scan(&w); err != nil {
			rows.Close()
			return 0, fmt.Errorf("platform.ReclaimDead: %w", err)
		}
		parts := strings.Split(w, ":")
		if len(parts) != 3 || w == q.worker {
			continue
		}
		pid, err := strconv.Atoi(parts[1])
		if err != nil || pid <= 0 {
			continue
		}
		if err := syscall.Kill(pid, 0); errors.Is(err, syscall.ESRCH) {
			dead = append(dead, w)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, err
	}
	n := 0
	for _, w := range dead {
		err := q.DB.Write(ctx, "platform.ReclaimDead", func(tx *db.Tx) error {
			res, err := tx.ExecContext(ctx, `UPDATE jobs SET locked_until = 0 WHERE status = 'running' AND locked_by = ?`, w)
			if err != nil {
				return err
			}
			k, _ := res.RowsAffected()
			n += int(k)
			return nil
		})
		if err != nil {
			return n, fmt.Errorf("platform.ReclaimDead: %w", err)
		}
	}
	return n, nil
}

// Backoff is the wait before retry n: 2^n seconds with ±25 % jitter, capped at an hour.
func Backoff(attempt int) time.Duration {
	d := time.Duration(1<<min(attempt, 12)) * time.Second
	d = min(d, time.Hour)
	return d + time.Duration(rand.Int64N(int64(d/2))) - d/4
}

// Run processes jobs until ctx ends. On return, no job of this runner is left
// running: each was finished, or released for another worker.
func (q *Jobs) Run(ctx context.Context) {
	if n, err := q.ReclaimDead(ctx); err != nil {
		q.Log.Error("reclaiming the jobs of a stopped process", "err", err)
	} else if n > 0 {
		q.Log.Warn("jobs left running by a process that is gone are taken up again", "jobs", n)
	}
	q.mu.Lock()
	own := len(q.lane) > 0
	q.mu.Unlock()
	if !own {
		q.loop(ctx, laneAll, q.wake)
		return
	}
	var wg sync.WaitGroup
	wg.Go(func() { q.loop(ctx, laneOwn, q.laneWake) })
	q.loop(ctx, laneOther, q.wake)
	wg.Wait()
}

func (q *Jobs) loop(ctx context.Context, f laneFilter, wake <-chan struct{}) {
	t := time.NewTicker(q.Poll)
	defer t.Stop()
	for {
		if _, err := q.runOnce(ctx, f); err != nil && ctx.Err() == nil {
			q.Log.Error("job runner", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-wake:
		}
	}
}

// JobCounts returns how many jobs are in each status, for metrics and the
// admin screen.
func JobCounts(ctx context.Context, q db.Querier) (map[string]int, error) {
	return countBy(ctx, q, "platform.JobCounts", `-- platform.JobCounts
		SELECT status, COUNT(*) FROM jobs GROUP BY status`)
}

// countBy runs a "SELECT key, COUNT(*) … GROUP BY key" query into a map.
func countBy(ctx context.Context, q db.Querier, name, query string, args ...any) (map[string]int, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var s string
		var n int
		if err := rows.Scan(&s, &n); err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		out[s] = n
	}
	return out, rows.Err()
}

// PruneJobs deletes finished jobs older than keep, in bounded batches so no
// write transaction holds SQLite's writer for long.
func PruneJobs(ctx context.Context, d *db.DB, now time.Time, keep time.Duration) (int, error) {
	total := 0
	cut := db.Millis(now.Add(-keep))
	for {
		var n int64
		err := d.Write(ctx, "platform.PruneJobs", func(tx *db.Tx) error {
			res, err := tx.ExecContext(ctx, `-- platform.PruneJobs
				DELETE FROM jobs WHERE id IN (SELECT id FROM jobs WHERE status = 'done' AND finished_at < ? LIMIT 1000)`, cut)
			if err != nil {
				return err
			}
			n, err = res.RowsAffected()
			return err
		})
		if err != nil {
			return total, err
		}
		total += int(n)
		if n < 1000 {
			return total, nil
		}
	}
}
