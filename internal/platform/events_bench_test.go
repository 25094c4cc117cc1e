package platform_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/ryorin/ryorin/internal/db"
	"github.com/ryorin/ryorin/internal/dbtest"
	"github.com/ryorin/ryorin/internal/platform"
)

// BenchmarkIngestEvents measures the store side of event ingest (no HTTP):
// batches of 1000 page views, 30 % identified.
func BenchmarkIngestEvents(b *testing.B) {
	for _, e := range dbtest.Engines() {
		b.Run(string(e), func(b *testing.B) {
			d := dbtest.Open(b, e)
			ctx := context.Background()
			if err := platform.EnsureWorkspace(ctx, d, 1, "B", t0); err != nil {
				b.Fatal(err)
			}
			err := d.Write(ctx, "contacts", func(tx *db.Tx) error {
				for i := 0; i < 100; i++ {
					if _, err := tx.ExecContext(ctx, `INSERT INTO contacts (workspace_id, email, lifecycle_changed_at, created_at, updated_at) VALUES (1, ?, 1, 1, 1)`, fmt.Sprintf("c%d@example.com", i)); err != nil {
						return err
					}
				}
				return nil
			})
			if err != nil {
				b.Fatal(err)
			}
			b.ResetTimer()
			n := 0
			for i := 0; i < b.N; i++ {
				batch := make([]platform.EventInput, 1000)
				for j := range batch {
					n++
					batch[j] = platform.EventInput{ID: fmt.Sprintf("e%d", n), Kind: "page_view", VisitorID: fmt.Sprintf("v%d", n%5000),
						URL: "https://ryorin.example/pricing", Referrer: "https://www.google.co.jp/"}
					if j%10 < 3 {
						batch[j].ContactID = int64(1 + j%100)
					}
				}
				res, err := platform.IngestEvents(ctx, d, platform.System(1), batch, t0)
				if err != nil || res.Accepted != 1000 {
					b.Fatalf("%+v %v", res, err)
				}
			}
			b.ReportMetric(float64(b.N*1000)/b.Elapsed().Seconds(), "events/s")
		})
	}
}
