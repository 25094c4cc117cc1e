package app

import (
	"context"
	"fmt"

	"github.com/ryorin/ryorin/internal/demo"
	"github.com/ryorin/ryorin/internal/platform"
)

// LoadDemo loads the demo data set into an empty database, ending at the
// app's current time. On a database that already holds contacts it does
// nothing, so `ryorin serve --demo` can run on every start.
func (a *App) LoadDemo(ctx context.Context) (demo.Summary, error) {
	a.Log.Info("loading the demo data set")
	sum, err := demo.LoadWith(ctx, a.DB, a.Log, demo.Options{Now: a.Clock.Now()})
	if err != nil {
		return sum, fmt.Errorf("app.LoadDemo: %w", err)
	}
	if sum.Skipped {
		a.Log.Info("demo data not loaded", "reason", sum.Reason)
		return sum, nil
	}
	a.Log.Info("demo data loaded", "summary", sum)
	// Score the demo's contacts from their history under the default lead
	// definition, so MQLs and score breakdowns are there on first sight.
	if err := a.Scorer.SetMark(ctx, platform.DefaultWorkspace, 0); err != nil {
		return sum, fmt.Errorf("app.LoadDemo: %w", err)
	}
	if err := a.Scorer.Drain(ctx, platform.DefaultWorkspace); err != nil {
		return sum, fmt.Errorf("app.LoadDemo: scoring: %w", err)
	}
	return sum, nil
}
