package platform_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ryorin/ryorin/internal/db"
	"github.com/ryorin/ryorin/internal/dbtest"
	"github.com/ryorin/ryorin/internal/errs"
	"github.com/ryorin/ryorin/internal/platform"
	"github.com/ryorin/ryorin/internal/smtptest"
)

// queueBatch queues n messages (to a0@…, a1@…) as one batch and returns
// their ids.
func queueBatch(t *testing.T, m *platform.Mailer, n int) []int64 {
	t.Helper()
	var ids []int64
	ctx := context.Background()
	err := m.DB.Write(ctx, "test", func(tx *db.Tx) error {
		b := m.NewBatch(ctx, tx, 1)
		for i := range n {
			msg := jpMail
			msg.Kind, msg.To = "campaign", fmt.Sprintf("a%d@example.com", i)
			id, err := b.Add(ctx, tx, msg)
			if err != nil {
				return err
			}
			ids = append(ids, id)
		}
		return b.Flush(ctx, tx)
	})
	if err != nil {
		t.Fatal(err)
	}
	return ids
}

func statuses(t *testing.T, d *db.DB, ids []int64) string {
	t.Helper()
	var s []string
	for _, id := range ids {
		s = append(s, getMail(t, d, id).Status)
	}
	return strings.Join(s, ",")
}

func TestMailBatch_OneJobAndOneConnectionDeliverTheWholeBatch(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		srv := smtptest.Start(t)
		m, q := newMailer(t, d, srv)
		ids := queueBatch(t, m, 5)
		if n, err := q.RunOnce(context.Background()); n != 1 || err != nil {
			t.Fatalf("ran %d jobs, %v", n, err)
		}
		if got := statuses(t, d, ids); got != "sent,sent,sent,sent,sent" {
			t.Fatalf("statuses %s", got)
		}
		msgs := srv.Messages()
		if len(msgs) != 5 || srv.Connections() != 1 {
			t.Fatalf("%d messages over %d connections", len(msgs), srv.Connections())
		}
		for i, msg := range msgs {
			if want := fmt.Sprintf("a%d@example.com", i); msg.To[0] != want || !strings.Contains(string(msg.Data), "List-Unsubscribe-Post") {
				t.Errorf("message %d to %v", i, msg.To)
			}
		}
	})
}

func TestMailBatch_EachMessageKeepsItsOwnOutcome(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		srv := smtptest.Start(t)
		m, q := newMailer(t, d, srv)
		var mu sync.Mutex
		var bounced []string
		m.OnBounce = func(_ context.Context, _ int64, to, _ string) error {
			mu.Lock()
			bounced = append(bounced, to)
			mu.Unlock()
			return nil
		}
		srv.Refuse("a1@example.com", 550) // gone for good
		srv.Refuse("a2@example.com", 451) // try later
		ids := queueBatch(t, m, 4)
		q.RunOnce(context.Background())
		if got := statuses(t, d, ids); got != "sent,failed,queued,sent" {
			t.Fatalf("after the first attempt: %s", got)
		}
		if len(bounced) != 1 || bounced[0] != "a1@example.com" {
			t.Fatalf("bounces %v", bounced)
		}
		if mm := getMail(t, d, ids[2]); !strings.Contains(mm.LastError, "451") {
			t.Fatalf("the deferred message's error: %q", mm.LastError)
		}
		// The retry, after the backoff, sends only the deferred message.
		srv.Refuse("a2@example.com", 0)
		m.Clock.(interface{ Advance(time.Duration) }).Advance(time.Hour)
		q.RunOnce(context.Background())
		if got := statuses(t, d, ids); got != "sent,failed,sent,sent" {
			t.Fatalf("after the retry: %s", got)
		}
		per := map[string]int{}
		for _, msg := range srv.Messages() {
			per[msg.To[0]]++
		}
		if len(per) != 3 || per["a0@example.com"] != 1 || per["a2@example.com"] != 1 || per["a3@example.com"] != 1 {
			t.Fatalf("delivered %v", per)
		}
	})
}

func TestMailBatch_ABatchCutOffMidSendIsUnknownAndNotResent(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		srv := smtptest.Start(t)
		m, q := newMailer(t, d, srv)
		ids := queueBatch(t, m, 3)
		// A worker committed 'sending' for the batch, started handing it
		// over and died.
		err := d.Write(context.Background(), "crash", func(tx *db.Tx) error {
			if _, err := tx.ExecContext(context.Background(), `UPDATE mail_messages SET status = 'sending', attempts = 1`); err != nil {
				return err
			}
			_, err := tx.ExecContext(context.Background(), `UPDATE jobs SET status = 'running', attempts = 1, locked_by = 'dead', locked_until = ? WHERE kind = 'mail.batch'`,
				db.Millis(t0.Add(5*time.Minute)))
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		m.Clock.(interface{ Advance(time.Duration) }).Advance(6 * time.Minute)
		if n, err := q.RunOnce(context.Background()); n != 1 || err != nil {
			t.Fatalf("reclaim ran %d, %v", n, err)
		}
		if got := statuses(t, d, ids); got != "unknown,unknown,unknown" {
			t.Fatalf("statuses %s", got)
		}
		if len(srv.Messages()) != 0 {
			t.Fatal("messages that may already have been delivered were sent again")
		}
		if c, _ := platform.JobCounts(context.Background(), d.Reader()); c[platform.JobUnknown] != 1 {
			t.Fatalf("jobs %v", c)
		}
	})
}

func TestJobs_MailRunsInItsOwnLaneBesideALongJob(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		srv := smtptest.Start(t)
		m, q := newMailer(t, d, srv)
		q.Poll = 20 * time.Millisecond
		q.OwnLane(platform.MailSendJob, platform.MailBatchJob)
		release := make(chan struct{})
		started := make(chan struct{})
		q.Handle("test.long", func(ctx context.Context, j platform.Job) error {
			close(started)
			select {
			case <-release:
			case <-ctx.Done():
			}
			return nil
		})
		enqueue(t, q, "test.long", platform.EnqueueOptions{})
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { q.Run(ctx); close(done) }()
		<-started
		queueBatch(t, m, 2)
		deadline := time.Now().Add(10 * time.Second)
		for len(srv.Messages()) < 2 && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
		got := len(srv.Messages())
		close(release)
		cancel()
		<-done
		if got != 2 {
			t.Fatalf("%d messages sent while the long job ran", got)
		}
	})
}

func TestJobs_ReclaimDeadTakesUpOnlyTheJobsOfAProcessThatIsGone(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		q, _ := newJobs(t, d)
		// A pid that surely belongs to no process: one that just exited.
		cmd := exec.Command("true")
		if err := cmd.Run(); err != nil {
			t.Fatal(err)
		}
		host, _ := os.Hostname()
		deadID, _ := enqueue(t, q, "test.dead", platform.EnqueueOptions{})
		liveID, _ := enqueue(t, q, "test.live", platform.EnqueueOptions{})
		far := db.Millis(t0.Add(time.Hour))
		if err := d.Write(context.Background(), "test", func(tx *db.Tx) error {
			for _, j := range []struct {
				id  int64
				pid int
			}{{deadID, cmd.Process.Pid}, {liveID, os.Getpid()}} {
				if _, err := tx.ExecContext(context.Background(), `UPDATE jobs SET status = 'running', attempts = 1, locked_by = ?, locked_until = ? WHERE id = ?`,
					fmt.Sprintf("%s:%d:42", host, j.pid), far, j.id); err != nil {
					return err
				}
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		n, err := q.ReclaimDead(context.Background())
		if err != nil || n != 1 {
			t.Fatalf("reclaimed %d, %v", n, err)
		}
		var ran []string
		q.Handle("test.dead", func(ctx context.Context, j platform.Job) error {
			if !j.Reclaimed {
				t.Error("the dead process's job is not marked reclaimed")
			}
			ran = append(ran, "dead")
			return nil
		})
		q.Handle("test.live", func(ctx context.Context, j platform.Job) error { ran = append(ran, "live"); return nil })
		if _, err := q.RunOnce(context.Background()); err != nil {
			t.Fatal(err)
		}
		if strings.Join(ran, ",") != "dead" {
			t.Fatalf("ran %v: only the dead process's job may run before its lease ends", ran)
		}
	})
}

func TestMailBatch_AddManyStoresTheValidAndNamesWhyTheOthersWereRefused(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		srv := smtptest.Start(t)
		m, q := newMailer(t, d, srv)
		ctx := context.Background()
		msgs := []platform.OutboundMessage{jpMail, jpMail, jpMail}
		msgs[0].To, msgs[1].To, msgs[2].To = "a@example.com", "not an address", "c@example.com"
		var ids []int64
		var refused []error
		if err := d.Write(ctx, "test", func(tx *db.Tx) error {
			b := m.NewBatch(ctx, tx, 1)
			var err error
			if ids, refused, err = b.AddMany(ctx, tx, msgs); err != nil {
				return err
			}
			return b.Flush(ctx, tx)
		}); err != nil {
			t.Fatal(err)
		}
		if ids[0] == 0 || ids[1] != 0 || ids[2] == 0 || refused[0] != nil || !errs.Is(refused[1], errs.Invalid) || refused[2] != nil {
			t.Fatalf("ids %v, refused %v", ids, refused)
		}
		if n, err := q.RunOnce(ctx); n != 1 || err != nil {
			t.Fatalf("ran %d jobs, %v", n, err)
		}
		if got := statuses(t, d, []int64{ids[0], ids[2]}); got != "sent,sent" {
			t.Fatalf("statuses %s", got)
		}
		if msgs := srv.Messages(); len(msgs) != 2 || msgs[0].To[0] != "a@example.com" || msgs[1].To[0] != "c@example.com" {
			t.Fatalf("delivered %+v", msgs)
		}
	})
}
