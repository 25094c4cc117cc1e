package platform_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/ryorin/ryorin/internal/db"
	"github.com/ryorin/ryorin/internal/dbtest"
	"github.com/ryorin/ryorin/internal/platform"
)

func TestIngestEvents_IdempotentPartialAndOnTheTimeline(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		if err := platform.EnsureWorkspace(ctx, d, 1, "T", t0); err != nil {
			t.Fatal(err)
		}
		var cid int64
		err := d.Write(ctx, "c", func(tx *db.Tx) error {
			return tx.QueryRowContext(ctx, `INSERT INTO contacts (workspace_id, email, lifecycle_changed_at, created_at, updated_at) VALUES (1, 'v@example.com', 1, 1, 1) RETURNING id`).Scan(&cid)
		})
		if err != nil {
			t.Fatal(err)
		}
		a := platform.System(1)
		batch := []platform.EventInput{
			{ID: "e1", Kind: "page_view", Email: "V@example.com", URL: "https://ryorin.example/pricing?utm_source=google&utm_medium=cpc&utm_campaign=spring"},
			{ID: "e2", Kind: "page_view", VisitorID: "anon-1", URL: "https://ryorin.example/", Referrer: "https://www.google.co.jp/"},
			{ID: "e3", Kind: "Bad Kind"},
			{ID: "e4", Kind: "form_submit", ContactID: 999999},
			{ID: "e1", Kind: "page_view"}, // repeated inside the batch
		}
		res, err := platform.IngestEvents(ctx, d, a, batch, t0)
		if err != nil {
			t.Fatal(err)
		}
		if res.Accepted != 2 || res.Duplicates != 1 || len(res.Errors) != 2 {
			t.Fatalf("result = %+v", res)
		}
		if res.Errors[0].Index != 2 || res.Errors[0].Field != "kind" || res.Errors[1].Index != 3 || res.Errors[1].Field != "contact_id" {
			t.Fatalf("errors = %+v", res.Errors)
		}
		again, err := platform.IngestEvents(ctx, d, a, batch[:2], t0.Add(time.Minute))
		if err != nil || again.Accepted != 0 || again.Duplicates != 2 {
			t.Fatalf("resend = %+v, %v", again, err)
		}
		evs, err := platform.ListContactEvents(ctx, d.Reader(), 1, cid, 0, 0, 10)
		if err != nil || len(evs) != 1 {
			t.Fatalf("contact events = %v, %v", evs, err)
		}
		if evs[0].Channel != platform.ChannelPaidSearch || evs[0].UTMCampaign != "spring" || evs[0].Path != "/pricing" {
			t.Fatalf("event = %+v", evs[0])
		}
		tl, err := platform.ListTimeline(ctx, d.Reader(), 1, platform.TimelineQuery{Subject: "contact", ID: cid})
		if err != nil || len(tl) != 1 || tl[0].Kind != "event.page_view" {
			t.Fatalf("timeline = %+v, %v", tl, err)
		}
	})
}

func TestClassifyChannel(t *testing.T) {
	cases := []struct{ src, med, ref, page, want string }{
		{"google", "cpc", "", "", platform.ChannelPaidSearch},
		{"newsletter", "email", "", "", platform.ChannelEmail},
		{"", "", "https://www.google.co.jp/search?q=crm", "https://ryorin.example/", platform.ChannelOrganicSearch},
		{"", "", "https://search.yahoo.co.jp/", "", platform.ChannelOrganicSearch},
		{"", "", "https://t.co/abc", "", platform.ChannelSocial},
		{"twitter", "", "", "", platform.ChannelSocial},
		{"", "", "https://blog.example.org/post", "https://ryorin.example/", platform.ChannelReferral},
		{"", "", "https://ryorin.example/a", "https://ryorin.example/b", platform.ChannelDirect},
		{"", "", "", "", platform.ChannelDirect},
		{"", "webinar", "", "", platform.ChannelEvents},
		{"partner", "banner", "", "", platform.ChannelOther},
	}
	for _, c := range cases {
		if got := platform.ClassifyChannel(c.src, c.med, c.ref, c.page); got != c.want {
			t.Errorf("ClassifyChannel(%q,%q,%q) = %s, want %s", c.src, c.med, c.ref, got, c.want)
		}
	}
}

func TestIngestEvents_RejectsOversizedBatch(t *testing.T) {
	d := dbtest.Open(t, db.SQLite)
	batch := make([]platform.EventInput, platform.MaxEventBatch+1)
	_, err := platform.IngestEvents(context.Background(), d, platform.System(1), batch, t0)
	if err == nil || !strings.Contains(err.Error(), "events") {
		t.Fatalf("err = %v", err)
	}
}
