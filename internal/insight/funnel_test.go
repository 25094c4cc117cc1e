package insight_test

import (
	"context"
	"testing"
	"time"

	"github.com/ryorin/ryorin/internal/clock"
	"github.com/ryorin/ryorin/internal/crm"
	"github.com/ryorin/ryorin/internal/db"
	"github.com/ryorin/ryorin/internal/dbtest"
	"github.com/ryorin/ryorin/internal/insight"
	"github.com/ryorin/ryorin/internal/platform"
)

// The fixture, in Tokyo time (now = 2026-11-10):
//
//	October cohort (created 10-05): A mql +2d, sql +3d, opportunity +5d, customer +10d;
//	                                B mql +4d then recycled; C nothing.
//	November cohort (created 11-02): D straight to sql +1d (channel email); E nothing;
//	                                 G created as a customer (counts, but has no times).
//	May (outside three months): F mql.
func TestFunnelByCohort_CountsReachedStepsAndMedianDays(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		tokyo, _ := time.LoadLocation("Asia/Tokyo")
		fc := clock.NewFake(time.Date(2026, 5, 1, 10, 0, 0, 0, tokyo))
		if err := platform.EnsureWorkspace(ctx, d, 1, "T", fc.Now()); err != nil {
			t.Fatal(err)
		}
		cs := crm.New(d, fc)
		if err := cs.EnsureDefaults(ctx, 1, "ja"); err != nil {
			t.Fatal(err)
		}
		sys := platform.System(1)
		create := func(email, channel string) int64 {
			in := crm.ContactInput{Email: new(email)}
			if channel != "" {
				in.OriginalChannel = new(channel)
			}
			c, err := cs.CreateContact(ctx, sys, in)
			if err != nil {
				t.Fatal(err)
			}
			return c.ID
		}
		move := func(id int64, st platform.Stage) {
			if _, err := cs.UpdateContact(ctx, sys, id, crm.ContactInput{LifecycleStage: &st}, platform.Cause{Kind: "user"}); err != nil {
				t.Fatal(err)
			}
		}
		day := 24 * time.Hour
		f := create("f@x.jp", "")
		move(f, platform.StageMQL)

		oct := time.Date(2026, 10, 5, 9, 0, 0, 0, tokyo)
		fc.Set(oct)
		a, b := create("a@x.jp", ""), create("b@x.jp", "")
		create("c@x.jp", "")
		for _, s := range []struct {
			at    time.Duration
			id    int64
			stage platform.Stage
		}{
			{2 * day, a, platform.StageMQL}, {3 * day, a, platform.StageSQL}, {4 * day, b, platform.StageMQL},
			{5 * day, a, platform.StageOpportunity}, {6 * day, b, platform.StageRecycled}, {10 * day, a, platform.StageCustomer},
		} {
			fc.Set(oct.Add(s.at))
			move(s.id, s.stage)
		}
		nov := time.Date(2026, 11, 2, 9, 0, 0, 0, tokyo)
		fc.Set(nov)
		dd := create("d@x.jp", "email")
		create("e@x.jp", "")
		cust := platform.StageCustomer
		if _, err := cs.CreateContact(ctx, sys, crm.ContactInput{Email: new("g@x.jp"), LifecycleStage: &cust}); err != nil {
			t.Fatal(err)
		}
		fc.Set(nov.Add(day))
		move(dd, platform.StageSQL)

		w, _ := platform.GetWorkspace(ctx, d.Reader(), 1)
		now := time.Date(2026, 11, 10, 12, 0, 0, 0, tokyo)
		fn, err := insight.FunnelByCohort(ctx, d.Reader(), w, 3, "", now)
		if err != nil {
			t.Fatal(err)
		}
		n := func(x float64) *float64 { return &x }
		want := []struct {
			month   string
			reached []int
			days    []*float64
		}{
			{"2026-11", []int{3, 2, 2, 1, 1}, []*float64{n(1), n(0), nil, nil}},
			{"2026-10", []int{3, 2, 1, 1, 1}, []*float64{n(3), n(1), n(2), n(5)}},
			{"2026-09", []int{0, 0, 0, 0, 0}, []*float64{nil, nil, nil, nil}},
			{"", []int{6, 4, 3, 2, 2}, []*float64{n(2), n(0.5), n(2), n(5)}},
		}
		got := append(fn.Cohorts, fn.Total)
		if len(got) != len(want) {
			t.Fatalf("%d cohorts, want %d", len(got), len(want)-1)
		}
		for i, w := range want {
			g := got[i]
			if g.Month != w.month || !equalInts(g.Reached, w.reached) || !equalDays(g.MedianDays, w.days) {
				t.Errorf("cohort %q: %s %v %v, want %s %v %v", w.month, g.Month, g.Reached, show(g.MedianDays), w.month, w.reached, show(w.days))
			}
		}
		if r := fn.Cohorts[1].Rate(0); r < 0.666 || r > 0.667 {
			t.Errorf("October lead→MQL rate %v, want 2/3", r)
		}
		if r := fn.Cohorts[2].Rate(0); r != 0 {
			t.Errorf("empty cohort rate %v, want 0", r)
		}

		fn, err = insight.FunnelByCohort(ctx, d.Reader(), w, 3, "email", now)
		if err != nil {
			t.Fatal(err)
		}
		if !equalInts(fn.Total.Reached, []int{1, 1, 1, 0, 0}) {
			t.Errorf("email channel: %v, want [1 1 1 0 0]", fn.Total.Reached)
		}
		if _, err := insight.FunnelByCohort(ctx, d.Reader(), w, 0, "", now); err == nil {
			t.Error("0 months accepted")
		}
	})
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func equalDays(a, b []*float64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if (a[i] == nil) != (b[i] == nil) || (a[i] != nil && (*a[i]-*b[i] > 1e-9 || *b[i]-*a[i] > 1e-9)) {
			return false
		}
	}
	return true
}

func show(xs []*float64) []any {
	out := make([]any, len(xs))
	for i, x := range xs {
		if x != nil {
			out[i] = *x
		}
	}
	return out
}
