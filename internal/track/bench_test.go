package track_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/ryorin/ryorin/internal/db"
	"github.com/ryorin/ryorin/internal/dbtest"
	"github.com/ryorin/ryorin/internal/track"
)

// BenchmarkCollector_Batch measures one write transaction of n events from
// n/2 visitors, without HTTP: the cost the group commit amortises.
func BenchmarkCollector_Batch(b *testing.B) {
	for _, n := range []int{1, 10, 50, 200} {
		b.Run(fmt.Sprintf("events=%d", n), func(b *testing.B) {
			d := dbtest.Open(b, db.SQLite)
			e := setup(&testing.T{}, d)
			defer e.col.Close()
			k := 0
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				p := track.Payload{VisitorID: fmt.Sprintf("visitor-b-%06d", i%5000)}
				for j := 0; j < n; j++ {
					k++
					p.Hits = append(p.Hits, track.Hit{ID: fmt.Sprintf("hit-%010d", k), Kind: "page_view", URL: "https://www.example.jp/pricing?utm_source=x"})
				}
				if _, err := e.col.Collect(context.Background(), 1, p, 0); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N*n)/b.Elapsed().Seconds(), "events/s")
		})
	}
}
