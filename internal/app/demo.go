package app

import (
	"context"
	"fmt"

	"github.com/ryorin/ryorin/internal/demo"
	"github.com/ryorin/ryorin/internal/lead"
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
	// A trade-show list and three segments, filled, for the segment screens.
	if err := demo.LoadSegments(ctx, a.DB, a.Segments); err != nil {
		return sum, fmt.Errorf("app.LoadDemo: %w", err)
	}
	// Topic rules, content views with topics and a draft campaign built
	// from blocks that varies by interest and by segment.
	if err := demo.LoadEmail(ctx, a.DB, a.Email, a.Clock.Now()); err != nil {
		return sum, fmt.Errorf("app.LoadDemo: %w", err)
	}
	// An open draft, proposed and approved by marketing, waiting for sales:
	// the definitions screen shows its backtest against the active version.
	if err := a.demoDraft(ctx); err != nil {
		return sum, fmt.Errorf("app.LoadDemo: draft definition: %w", err)
	}
	// Follow-up timers for the demo's hand-offs, from their history, so the
	// lead queue and the SLA report have something to show; leads left
	// untouched past the second limit are reassigned or recycled as the
	// policies say.
	if _, err := a.Lead.BackfillSLAs(ctx, platform.DefaultWorkspace, lead.BackfillOptions{FirePast: true}); err != nil {
		return sum, fmt.Errorf("app.LoadDemo: SLA history: %w", err)
	}
	if _, err := a.Scorer.RunSLATimers(ctx, platform.DefaultWorkspace); err != nil {
		return sum, fmt.Errorf("app.LoadDemo: SLA timers: %w", err)
	}
	return sum, nil
}

// demoDraft proposes a draft that weighs pricing-page visits and the
// industries that buy most, signed by marketing's manager only.
func (a *App) demoDraft(ctx context.Context) error {
	ws := platform.DefaultWorkspace
	author, err := platform.UserByEmail(ctx, a.DB.Reader(), ws, "sakura.ito@demo.ryorin.example")
	if err != nil {
		return err
	}
	mgr, err := platform.UserByEmail(ctx, a.DB.Reader(), ws, "misaki.takahashi@demo.ryorin.example")
	if err != nil {
		return err
	}
	body := lead.DefaultBody()
	body.FitRules = append(body.FitRules, lead.PointsRule{Name: "製造業・情報通信業", When: `industry in ["製造業", "情報通信業"]`, Points: 15})
	body.MQL = `(fit_grade in ["A", "B"] && engagement >= 40) || (fit_grade != "D" && visits("/pricing", "14d") >= 2) || submitted("7d")`
	d, err := a.Lead.CreateDraft(ctx, author.Actor(ws, platform.ActorUser), body, "料金ページを2回以上見た見込み客もMQLに。製造業・情報通信業を加点。")
	if err != nil {
		return err
	}
	_, err = a.Lead.Approve(ctx, mgr.Actor(ws, platform.ActorUser), d.ID, "マーケ側OK。営業の確認をお願いします。")
	return err
}
