package platform_test

import (
	"context"
	"errors"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ryorin/ryorin/internal/clock"
	"github.com/ryorin/ryorin/internal/db"
	"github.com/ryorin/ryorin/internal/dbtest"
	"github.com/ryorin/ryorin/internal/platform"
)

func TestMain(m *testing.M) { os.Exit(dbtest.Main(m)) }

var t0 = time.Date(2026, 4, 1, 9, 0, 0, 0, time.UTC)

func newJobs(t *testing.T, d *db.DB) (*platform.Jobs, *clock.Fake) {
	t.Helper()
	if err := platform.EnsureWorkspace(context.Background(), d, 1, "Test", t0); err != nil {
		t.Fatal(err)
	}
	fc := clock.NewFake(t0)
	return platform.NewJobs(d, fc, nil), fc
}

func enqueue(t *testing.T, q *platform.Jobs, kind string, o platform.EnqueueOptions) (int64, bool) {
	t.Helper()
	var id int64
	var ins bool
	err := q.DB.Write(context.Background(), "test", func(tx *db.Tx) error {
		var err error
		id, ins, err = platform.Enqueue(context.Background(), tx, 1, kind, map[string]int{"n": 1}, o, q.Clock.Now(), q)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return id, ins
}

func status(t *testing.T, d *db.DB, id int64) (string, int) {
	var s string
	var n int
	if err := d.Reader().QueryRowContext(context.Background(), `SELECT status, attempts FROM jobs WHERE id = ?`, id).Scan(&s, &n); err != nil {
		t.Fatal(err)
	}
	return s, n
}

func TestJobs_RunOnceDoesDueJobsExactlyOnce(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		q, fc := newJobs(t, d)
		var runs atomic.Int32
		q.Handle("hello", func(ctx context.Context, j platform.Job) error { runs.Add(1); return nil })
		id, _ := enqueue(t, q, "hello", platform.EnqueueOptions{})
		later, _ := enqueue(t, q, "hello", platform.EnqueueOptions{RunAt: t0.Add(time.Hour)})
		if n, err := q.RunOnce(context.Background()); err != nil || n != 1 {
			t.Fatalf("first run: %d, %v", n, err)
		}
		if s, _ := status(t, d, id); s != platform.JobDone {
			t.Fatalf("status = %s", s)
		}
		if n, _ := q.RunOnce(context.Background()); n != 0 {
			t.Fatalf("ran %d jobs again", n)
		}
		fc.Advance(time.Hour)
		if n, _ := q.RunOnce(context.Background()); n != 1 || runs.Load() != 2 {
			t.Fatalf("scheduled job: ran %d, total %d", n, runs.Load())
		}
		if s, _ := status(t, d, later); s != platform.JobDone {
			t.Fatalf("later status = %s", s)
		}
	})
}

func TestJobs_UniqueKeyEnqueuesOnce(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		q, _ := newJobs(t, d)
		_, a := enqueue(t, q, "send", platform.EnqueueOptions{UniqueKey: "notification:7"})
		_, b := enqueue(t, q, "send", platform.EnqueueOptions{UniqueKey: "notification:7"})
		if !a || b {
			t.Fatalf("inserted = %v, %v", a, b)
		}
	})
}

func TestJobs_FailuresRetryWithBackoffThenGiveUp(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		q, fc := newJobs(t, d)
		var runs atomic.Int32
		q.Handle("flaky", func(ctx context.Context, j platform.Job) error { runs.Add(1); return errors.New("smtp down") })
		id, _ := enqueue(t, q, "flaky", platform.EnqueueOptions{MaxAttempts: 3})
		q.RunOnce(context.Background())
		if s, n := status(t, d, id); s != platform.JobQueued || n != 1 {
			t.Fatalf("after 1st failure: %s %d", s, n)
		}
		q.RunOnce(context.Background()) // not due yet: backoff
		if runs.Load() != 1 {
			t.Fatalf("retried before backoff: %d runs", runs.Load())
		}
		for i := 0; i < 2; i++ {
			fc.Advance(time.Hour)
			q.RunOnce(context.Background())
		}
		if s, n := status(t, d, id); s != platform.JobFailed || n != 3 || runs.Load() != 3 {
			t.Fatalf("after max attempts: %s %d runs=%d", s, n, runs.Load())
		}
	})
}

func TestJobs_PanicsAndPermanentErrorsFailWithoutRetry(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		q, fc := newJobs(t, d)
		q.Handle("bad", func(ctx context.Context, j platform.Job) error { return platform.Permanent(errors.New("bad address")) })
		q.Handle("boom", func(ctx context.Context, j platform.Job) error { panic("boom") })
		bad, _ := enqueue(t, q, "bad", platform.EnqueueOptions{})
		boom, _ := enqueue(t, q, "boom", platform.EnqueueOptions{MaxAttempts: 1})
		q.RunOnce(context.Background())
		fc.Advance(2 * time.Hour)
		q.RunOnce(context.Background())
		for _, id := range []int64{bad, boom} {
			if s, n := status(t, d, id); s != platform.JobFailed || n != 1 {
				t.Errorf("job %d: %s after %d attempts", id, s, n)
			}
		}
	})
}

func TestJobs_FinishingHandlersLastWritesGoWithTheResultOrMakeItUnknown(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		q, _ := newJobs(t, d)
		ctx := context.Background()
		mark := func(name string) func(context.Context, *db.Tx) error {
			return func(ctx context.Context, tx *db.Tx) error {
				_, err := tx.ExecContext(ctx, `UPDATE workspaces SET name = ? WHERE id = 1`, name)
				return err
			}
		}
		q.HandleFinishing("good", func(ctx context.Context, j platform.Job) (func(context.Context, *db.Tx) error, error) {
			return mark("written with the result"), nil
		})
		q.HandleFinishing("broken", func(ctx context.Context, j platform.Job) (func(context.Context, *db.Tx) error, error) {
			return func(ctx context.Context, tx *db.Tx) error {
				if err := mark("half")(ctx, tx); err != nil {
					return err
				}
				_, err := tx.ExecContext(ctx, `UPDATE no_such_table SET x = 1`)
				return err
			}, nil
		})
		good, _ := enqueue(t, q, "good", platform.EnqueueOptions{})
		if _, err := q.RunOnce(ctx); err != nil {
			t.Fatal(err)
		}
		name := func() string {
			var n string
			if err := d.Reader().QueryRowContext(ctx, `SELECT name FROM workspaces WHERE id = 1`).Scan(&n); err != nil {
				t.Fatal(err)
			}
			return n
		}
		if s, _ := status(t, d, good); s != platform.JobDone || name() != "written with the result" {
			t.Fatalf("good job: %s, name %q", s, name())
		}
		broken, _ := enqueue(t, q, "broken", platform.EnqueueOptions{})
		if _, err := q.RunOnce(ctx); err != nil {
			t.Fatal(err)
		}
		// The failed writes leave nothing, and the job is not retried: its
		// work happened, what became of it is unknown.
		if s, n := status(t, d, broken); s != platform.JobUnknown || n != 1 || name() != "written with the result" {
			t.Fatalf("broken job: %s after %d attempts, name %q", s, n, name())
		}
	})
}

func TestJobs_CrashedJobIsReclaimedAfterItsLeaseAndSaysSo(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		q, fc := newJobs(t, d)
		id, _ := enqueue(t, q, "send", platform.EnqueueOptions{})
		// Simulate a worker that claimed the job and died: running, with a lease.
		err := d.Write(context.Background(), "crash", func(tx *db.Tx) error {
			_, err := tx.ExecContext(context.Background(), `UPDATE jobs SET status = 'running', attempts = 1, locked_by = 'dead', locked_until = ? WHERE id = ?`,
				db.Millis(t0.Add(5*time.Minute)), id)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		var reclaimed atomic.Bool
		q.Handle("send", func(ctx context.Context, j platform.Job) error {
			reclaimed.Store(j.Reclaimed)
			return platform.Unknown(errors.New("the previous attempt may have sent it"))
		})
		if n, _ := q.RunOnce(context.Background()); n != 0 {
			t.Fatal("took a job whose lease is still valid")
		}
		fc.Advance(6 * time.Minute)
		if n, _ := q.RunOnce(context.Background()); n != 1 || !reclaimed.Load() {
			t.Fatalf("reclaim: ran %d, reclaimed=%v", n, reclaimed.Load())
		}
		if s, _ := status(t, d, id); s != platform.JobUnknown {
			t.Fatalf("status = %s, want unknown", s)
		}
		counts, err := platform.JobCounts(context.Background(), d.Reader())
		if err != nil || counts[platform.JobUnknown] != 1 {
			t.Fatalf("counts = %v, %v", counts, err)
		}
	})
}

func TestJobs_PeriodicJobRunsOncePerSlot(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		q, fc := newJobs(t, d)
		var runs atomic.Int32
		q.Every("prune", time.Hour, func(ctx context.Context, j platform.Job) error { runs.Add(1); return nil })
		q.RunOnce(context.Background())
		q.RunOnce(context.Background())
		if runs.Load() != 1 {
			t.Fatalf("runs in one slot = %d", runs.Load())
		}
		fc.Advance(time.Hour)
		q.RunOnce(context.Background())
		if runs.Load() != 2 {
			t.Fatalf("runs after next slot = %d", runs.Load())
		}
	})
}

func TestJobs_RunStopsCleanlyOnCancel(t *testing.T) {
	d := dbtest.Open(t, db.SQLite)
	q, _ := newJobs(t, d)
	q.Poll = 10 * time.Millisecond
	done := make(chan struct{})
	q.Handle("x", func(ctx context.Context, j platform.Job) error { close(done); return nil })
	ctx, cancel := context.WithCancel(context.Background())
	stopped := make(chan struct{})
	go func() { q.Run(ctx); close(stopped) }()
	enqueue(t, q, "x", platform.EnqueueOptions{})
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("job never ran")
	}
	cancel()
	select {
	case <-stopped:
	case <-time.After(5 * time.Second):
		t.Fatal("runner did not stop")
	}
}

func TestBackoff_GrowsAndIsCapped(t *testing.T) {
	if b := platform.Backoff(1); b < time.Second || b > 3*time.Second {
		t.Errorf("Backoff(1) = %v", b)
	}
	if b := platform.Backoff(30); b > 75*time.Minute {
		t.Errorf("Backoff(30) = %v", b)
	}
}

func TestTOTP_AbandonedReSetupKeepsTheCurrentFactor(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		if err := platform.EnsureWorkspace(ctx, d, 1, "T", t0); err != nil {
			t.Fatal(err)
		}
		u, err := platform.CreateUser(ctx, d, platform.CLI(1), platform.NewUser{Email: "a@example.com", Name: "A", Role: platform.RoleAdmin}, t0)
		if err != nil {
			t.Fatal(err)
		}
		a := u.Actor(1, platform.ActorUser)
		first, err := platform.BeginTOTP(ctx, d, a)
		if err != nil {
			t.Fatal(err)
		}
		if platform.VerifyUserTOTP(ctx, d.Reader(), 1, u.ID, "000000", t0) {
			t.Fatal("2FA on before it was confirmed")
		}
		code, _ := platform.TOTPCode(first, t0)
		if err := platform.EnableTOTP(ctx, d, a, code, t0); err != nil {
			t.Fatal(err)
		}
		if !platform.VerifyUserTOTP(ctx, d.Reader(), 1, u.ID, code, t0) {
			t.Fatal("confirmed factor not accepted")
		}
		// Start a new set-up and walk away: the first factor still works.
		if _, err := platform.BeginTOTP(ctx, d, a); err != nil {
			t.Fatal(err)
		}
		if !platform.VerifyUserTOTP(ctx, d.Reader(), 1, u.ID, code, t0) {
			t.Fatal("an abandoned re-set-up turned the current factor off")
		}
	})
}

func TestUsers_TheLastAdminCannotBeDemotedOrDeactivated(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		if err := platform.EnsureWorkspace(ctx, d, 1, "T", t0); err != nil {
			t.Fatal(err)
		}
		u, err := platform.CreateUser(ctx, d, platform.CLI(1), platform.NewUser{Email: "a@example.com", Name: "A", Role: platform.RoleAdmin}, t0)
		if err != nil {
			t.Fatal(err)
		}
		a := u.Actor(1, platform.ActorUser)
		sales, off := platform.RoleSales, false
		if _, err := platform.UpdateUser(ctx, d, a, u.ID, platform.UserPatch{Role: &sales}, t0); err == nil {
			t.Fatal("demoted the last admin")
		}
		if _, err := platform.UpdateUser(ctx, d, a, u.ID, platform.UserPatch{Active: &off}, t0); err == nil {
			t.Fatal("deactivated the last admin")
		}
		if _, err := platform.CreateUser(ctx, d, platform.CLI(1), platform.NewUser{Email: "b@example.com", Name: "B", Role: platform.RoleAdmin}, t0); err != nil {
			t.Fatal(err)
		}
		if _, err := platform.UpdateUser(ctx, d, a, u.ID, platform.UserPatch{Role: &sales}, t0); err != nil {
			t.Fatalf("with another admin, demotion refused: %v", err)
		}
	})
}
