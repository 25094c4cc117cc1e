package platform_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/ryorin/ryorin/internal/db"
	"github.com/ryorin/ryorin/internal/dbtest"
	"github.com/ryorin/ryorin/internal/errs"
	"github.com/ryorin/ryorin/internal/platform"
)

func TestRetention_OldEventsAreRolledUpThenDeletedInBatches(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		now := time.Date(2027, 6, 1, 0, 0, 0, 0, time.UTC)
		if err := platform.EnsureWorkspace(ctx, d, 1, "T", now); err != nil {
			t.Fatal(err)
		}
		admin := platform.Actor{WorkspaceID: 1, Role: platform.RoleAdmin, Kind: platform.ActorCLI}
		if err := platform.SetEventRetention(ctx, d, admin, 30, now); !errs.Is(err, errs.Invalid) {
			t.Fatalf("a retention shorter than lead scoring reads: %v", err)
		}
		if err := platform.SetEventRetention(ctx, d, platform.Actor{WorkspaceID: 1, Role: platform.RoleSales}, 400, now); !errs.Is(err, errs.Forbidden) {
			t.Fatalf("a rep changed retention: %v", err)
		}
		if err := platform.SetEventRetention(ctx, d, admin, 400, now); err != nil {
			t.Fatal(err)
		}
		old := now.AddDate(0, 0, -500)
		recent := now.AddDate(0, 0, -10)
		var evs []platform.EventInput
		for i := range 2500 { // more than one batch
			at := old
			evs = append(evs, platform.EventInput{ID: fmt.Sprintf("o%d", i), Kind: "page_view", VisitorID: "visitor-1", OccurredAt: &at})
		}
		evs = append(evs, platform.EventInput{ID: "r1", Kind: "page_view", VisitorID: "visitor-1", OccurredAt: &recent})
		for i := 0; i < len(evs); i += 1000 {
			if _, err := platform.IngestEvents(ctx, d, platform.System(1), evs[i:min(i+1000, len(evs))], now); err != nil {
				t.Fatal(err)
			}
		}
		n, err := platform.ApplyEventRetention(ctx, d, 1, now, time.UTC)
		if err != nil || n != 2500 {
			t.Fatalf("deleted %d, %v", n, err)
		}
		var left, rolled int
		_ = d.Reader().QueryRowContext(ctx, `SELECT COUNT(*) FROM events`).Scan(&left)
		_ = d.Reader().QueryRowContext(ctx, `SELECT SUM(anonymous) FROM event_rollups WHERE day = ?`, old.Format(time.DateOnly)).Scan(&rolled)
		if left != 1 || rolled != 2500 {
			t.Fatalf("left %d events, rolled up %d", left, rolled)
		}
	})
}
