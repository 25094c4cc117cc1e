package demo_test

import (
	"context"
	"log/slog"
	"strings"
	"testing"

	"github.com/ryorin/ryorin/internal/clock"
	"github.com/ryorin/ryorin/internal/crm"
	"github.com/ryorin/ryorin/internal/db"
	"github.com/ryorin/ryorin/internal/dbtest"
	"github.com/ryorin/ryorin/internal/demo"
	"github.com/ryorin/ryorin/internal/marketing/email"
	"github.com/ryorin/ryorin/internal/marketing/interest"
	"github.com/ryorin/ryorin/internal/marketing/segments"
	"github.com/ryorin/ryorin/internal/platform"
)

// TestLoadEmail: the demo's block campaign shows a contact whose top
// interest is pricing the pricing option and one interested in case studies
// the case studies.
func TestLoadEmail(t *testing.T) {
	d := dbtest.Open(t, db.SQLite)
	open(t, d)
	ctx := context.Background()
	if _, err := demo.LoadWith(ctx, d, slog.New(slog.DiscardHandler), demo.Options{Scale: 0.2, Now: now}); err != nil {
		t.Fatal(err)
	}
	fc := clock.NewFake(now)
	cs := crm.New(d, fc)
	if err := demo.LoadSegments(ctx, d, segments.New(d, fc, cs)); err != nil {
		t.Fatal(err)
	}
	es := email.New(d, fc, cs, nil, platform.NewJobs(d, fc, nil), nil)
	if err := demo.LoadEmail(ctx, d, es, now); err != nil {
		t.Fatal(err)
	}
	admin := platform.CLI(1)
	cs2, err := es.List(ctx, admin)
	if err != nil || len(cs2) != 1 || len(cs2[0].Blocks) == 0 {
		t.Fatalf("campaigns: %+v %v", cs2, err)
	}
	var ids []int64
	rows, err := d.Reader().QueryContext(ctx, `SELECT id FROM contacts WHERE workspace_id = 1`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var id int64
		_ = rows.Scan(&id)
		ids = append(ids, id)
	}
	rows.Close()
	ps, err := interest.Profiles(ctx, d.Reader(), 1, ids, now)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"pricing": "料金プランを見る", "case_studies": "製造業 A 社"}
	for topic, text := range want {
		found := false
		for id, p := range ps {
			if p.Top() != topic {
				continue
			}
			r, err := es.Preview(ctx, admin, cs2[0].ID, id, "https://ryorin.example")
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(r.HTML, text) {
				t.Errorf("contact %d (top %s) does not see %q", id, topic, text)
			}
			if !strings.Contains(r.HTML, "MAとSFA連携の教科書") || !strings.Contains(r.HTML, "無料でダウンロード") {
				t.Errorf("contact %d does not see the white paper's card", id)
			}
			found = true
			break
		}
		if !found {
			t.Errorf("no demo contact has %s as top interest", topic)
		}
	}
}
