package lead

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/ryorin/ryorin/internal/lead/rules"
)

// BenchmarkFirstMQL replays contacts with a spread of event counts under the
// default definition, as the backtest does for each contact with events in
// its window.
func BenchmarkFirstMQL(b *testing.B) {
	c, err := DefaultBody().Compile()
	if err != nil {
		b.Fatal(err)
	}
	now := time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)
	from := now.AddDate(0, 0, -7*BacktestWeeks)
	r := rand.New(rand.NewPCG(1, 2))
	kinds := []string{"page_view", "page_view", "page_view", "email_open", "email_click", "content_view"}
	paths := []string{"/", "/pricing", "/blog/a", "/products", "/case-studies"}
	type contact struct {
		f   rules.Facts
		evs []rules.Event
	}
	cs := make([]contact, 200)
	for i := range cs {
		n := 1 + r.IntN(20)
		evs := make([]rules.Event, n)
		for j := range evs {
			evs[j] = rules.Event{Kind: kinds[r.IntN(len(kinds))], Path: paths[r.IntN(len(paths))],
				At: from.Add(-30 * 24 * time.Hour).Add(time.Duration(r.Int64N(int64(now.Sub(from) + 30*24*time.Hour))))}
		}
		for a := 1; a < len(evs); a++ { // oldest first
			for k := a; k > 0 && evs[k].At.Before(evs[k-1].At); k-- {
				evs[k], evs[k-1] = evs[k-1], evs[k]
			}
		}
		cs[i] = contact{rules.Facts{Title: []string{"部長", "担当", "CTO"}[i%3], Email: "a@example.co.jp", Employees: 50 * (i % 10)}, evs}
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		x := &cs[i%len(cs)]
		env := rules.NewEnv(x.f)
		if _, _, _, err := c.firstMQL(env, map[string]bool{}, from.Add(-time.Hour), from, now, x.evs); err != nil {
			b.Fatal(err)
		}
	}
}
