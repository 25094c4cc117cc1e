package demo_test

import (
	"context"
	"log/slog"
	"testing"

	"github.com/ryorin/ryorin/internal/clock"
	"github.com/ryorin/ryorin/internal/crm"
	"github.com/ryorin/ryorin/internal/db"
	"github.com/ryorin/ryorin/internal/dbtest"
	"github.com/ryorin/ryorin/internal/demo"
	"github.com/ryorin/ryorin/internal/marketing/segments"
)

// TestLoadSegments: the demo's list and segments exist and are filled, and
// those that read no scores have members (the app scores the demo before
// loading them; this test does not).
func TestLoadSegments(t *testing.T) {
	d := dbtest.Open(t, db.SQLite)
	open(t, d)
	ctx := context.Background()
	if _, err := demo.LoadWith(ctx, d, slog.New(slog.DiscardHandler), demo.Options{Scale: 0.2, Now: now}); err != nil {
		t.Fatal(err)
	}
	fc := clock.NewFake(now)
	svc := segments.New(d, fc, crm.New(d, fc))
	if err := demo.LoadSegments(ctx, d, svc); err != nil {
		t.Fatal(err)
	}
	lists, err := svc.Lists(ctx, d.Reader(), 1)
	if err != nil || len(lists) != 1 || lists[0].Members == 0 {
		t.Fatalf("lists %+v %v", lists, err)
	}
	segs, err := svc.Segments(ctx, d.Reader(), 1)
	if err != nil || len(segs) != 3 {
		t.Fatalf("segments %+v %v", segs, err)
	}
	for _, sg := range segs {
		if sg.RefreshedAt == nil || (sg.Members == 0 && sg.Name != "IT業界の高適合リード") {
			t.Errorf("segment %q: %d members, refreshed %v", sg.Name, sg.Members, sg.RefreshedAt)
		}
	}
	if n := q(t, d, `SELECT COUNT(*) FROM events WHERE kind IN ('segment_entered', 'segment_left')`); n != 0 {
		t.Errorf("the first fill recorded %d events", n)
	}
}
