package insight

import (
	"context"
	"testing"
	"time"

	"github.com/ryorin/ryorin/internal/clock"
	"github.com/ryorin/ryorin/internal/crm"
	"github.com/ryorin/ryorin/internal/db"
	"github.com/ryorin/ryorin/internal/dbtest"
	"github.com/ryorin/ryorin/internal/platform"
)

// TestCache_ServesKeptResultsNoOlderThanMaxAgeAndRefreshesThem follows one
// slow KPI result through the cache with a moved clock: kept and served
// while young, recomputed in the background once due, recomputed before
// answering once older than MaxAge, dropped when nobody asks; a fast result
// is never kept, and a transaction always reads live.
func TestCache_ServesKeptResultsNoOlderThanMaxAgeAndRefreshesThem(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		t0 := time.Date(2026, 11, 10, 3, 0, 0, 0, time.UTC)
		fc := clock.NewFake(t0)
		if err := platform.EnsureWorkspace(ctx, d, 1, "T", t0); err != nil {
			t.Fatal(err)
		}
		w, err := platform.GetWorkspace(ctx, d.Reader(), 1)
		if err != nil {
			t.Fatal(err)
		}
		cs := crm.New(d, fc)
		n := 0
		add := func() {
			t.Helper()
			n++
			e := string(rune('a'+n)) + "@cache.example"
			if _, err := cs.CreateContact(ctx, platform.System(1), crm.ContactInput{Email: &e}); err != nil {
				t.Fatal(err)
			}
		}
		month, _ := PeriodOf(w, "month", 0, t0)
		count := func(q db.Querier) float64 {
			t.Helper()
			ks, err := ComputeOnly(ctx, q, w, month, KPIFilter{}, []string{"new_contacts"})
			if err != nil {
				t.Fatal(err)
			}
			return ks[0].Value
		}
		wall := t0
		c := newCache(nil, func() time.Time { return wall })
		c.Slow = 0 // every result counts as slow here: the clock does not move while computing
		c.activate()
		t.Cleanup(func() {
			cacheMu.Lock()
			activeCache = nil
			cacheMu.Unlock()
		})

		add()
		if got := count(d.Reader()); got != 1 {
			t.Fatalf("first computation: %v, want 1", got)
		}
		add()
		wall = wall.Add(10 * time.Second)
		if got := count(d.Reader()); got != 1 {
			t.Errorf("10 s later: %v, want the kept 1", got)
		}
		c.refresh(ctx) // not due yet: a result that computes in no time is refreshed 5 s before MaxAge
		if got := count(d.Reader()); got != 1 {
			t.Errorf("after a refresh that was not due: %v, want 1", got)
		}
		var live float64
		if err := d.Write(ctx, "t", func(tx *db.Tx) error { live = count(tx); return nil }); err != nil {
			t.Fatal(err)
		}
		if live != 2 {
			t.Errorf("inside a transaction: %v, want the live 2", live)
		}
		wall = wall.Add(c.MaxAge - 5*time.Second - 10*time.Second)
		c.refresh(ctx)
		if got := count(d.Reader()); got != 2 {
			t.Errorf("after the background refresh: %v, want 2", got)
		}
		add()
		wall = wall.Add(c.MaxAge + time.Second) // the refresher fell behind
		if got := count(d.Reader()); got != 3 {
			t.Errorf("past MaxAge: %v, want a fresh 3", got)
		}
		if st := c.Stats(); st.Hits != 3 || st.Refreshed != 1 || st.Kept != 2 {
			t.Errorf("stats %+v, want 3 hits, 1 refresh, 2 kept", st)
		}
		wall = wall.Add(c.Idle + time.Second)
		c.refresh(ctx)
		c.mu.Lock()
		left := len(c.entries)
		c.mu.Unlock()
		if left != 0 {
			t.Errorf("%d entries left after %s idle, want 0", left, c.Idle)
		}

		c.Slow = time.Hour // now nothing is slow enough to keep
		add()
		if got := count(d.Reader()); got != 4 {
			t.Errorf("fast computation: %v, want 4", got)
		}
		add()
		if got := count(d.Reader()); got != 5 {
			t.Errorf("a fast result was kept: %v, want 5", got)
		}
	})
}
