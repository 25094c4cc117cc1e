package app

import (
	"context"
	"sync"
	"time"

	"github.com/ryorin/ryorin/internal/db"
	"github.com/ryorin/ryorin/internal/platform"
	"github.com/ryorin/ryorin/internal/track"
)

// Workers are the background loops started by serve.
type Workers struct {
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// registerJobs registers every job handler and periodic job of the product.
func (a *App) registerJobs() {
	a.Mailer.Register()
	// Mail is sent by a runner of its own: a campaign job queuing batches
	// and the batches going out over SMTP overlap instead of taking turns.
	a.Jobs.OwnLane(platform.MailSendJob, platform.MailBatchJob)
	a.Notifier.Register()
	a.IO.Register(a.Jobs)
	a.Jobs.Every("jobs.prune", 24*time.Hour, func(ctx context.Context, j platform.Job) error {
		_, err := platform.PruneJobs(ctx, a.DB, a.Clock.Now(), 7*24*time.Hour)
		return err
	})
	a.Jobs.Every("track.retention", time.Hour, func(ctx context.Context, j platform.Job) error {
		return track.ExpireAll(ctx, a.DB, a.Clock.Now())
	})
	a.Jobs.Every("events.retention", time.Hour, func(ctx context.Context, j platform.Job) error {
		w, err := platform.GetWorkspace(ctx, a.DB.Reader(), j.WorkspaceID)
		if err != nil {
			return err
		}
		_, err = platform.ApplyEventRetention(ctx, a.DB, j.WorkspaceID, a.Clock.Now(), w.Location())
		return err
	})
	a.Jobs.Every("db.optimize", 6*time.Hour, func(ctx context.Context, j platform.Job) error {
		return a.DB.Optimize(ctx, false)
	})
	a.Jobs.Every("idempotency.prune", time.Hour, func(ctx context.Context, j platform.Job) error {
		cut := db.Millis(a.Clock.Now().Add(-platform.IdempotencyTTL))
		return a.DB.Write(ctx, "idempotency.prune", func(tx *db.Tx) error {
			_, err := tx.ExecContext(ctx, `DELETE FROM idempotency_keys WHERE created_at < ?`, cut)
			return err
		})
	})
}

// StartWorkers starts the background job runner; Stop waits for it.
func (a *App) StartWorkers(ctx context.Context) *Workers {
	ctx, cancel := context.WithCancel(ctx)
	w := &Workers{cancel: cancel}
	w.wg.Add(4)
	go func() {
		defer w.wg.Done()
		a.Jobs.Run(ctx)
	}()
	go func() {
		defer w.wg.Done()
		a.Scorer.Run(ctx, platform.DefaultWorkspace, 250*time.Millisecond, func(err error) { a.Log.Error("lead scoring", "err", err) })
	}()
	go func() {
		defer w.wg.Done()
		a.SegmentRefresher.Run(ctx, platform.DefaultWorkspace, 500*time.Millisecond, func(err error) { a.Log.Error("segment refresh", "err", err) })
	}()
	go func() {
		defer w.wg.Done()
		a.DB.RunSearchIndexer(ctx, 250*time.Millisecond, func(err error) { a.Log.Error("search index", "err", err) })
	}()
	return w
}

// Stop stops the workers and waits until each job was finished or released.
func (w *Workers) Stop() {
	w.cancel()
	w.wg.Wait()
}
