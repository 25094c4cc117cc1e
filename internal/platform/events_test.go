package platform_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/ryorin/ryorin/internal/db"
	"github.com/ryorin/ryorin/internal/dbtest"
	"github.com/ryorin/ryorin/internal/platform"
)

// workspaceWithContact makes workspace 1 with one contact and returns its id.
func workspaceWithContact(t *testing.T, d *db.DB, email string) int64 {
	t.Helper()
	ctx := context.Background()
	if err := platform.EnsureWorkspace(ctx, d, 1, "T", t0); err != nil {
		t.Fatal(err)
	}
	var cid int64
	if err := d.Write(ctx, "c", func(tx *db.Tx) error {
		return tx.QueryRowContext(ctx, `INSERT INTO contacts (workspace_id, email, lifecycle_changed_at, created_at, updated_at) VALUES (1, ?, 1, 1, 1) RETURNING id`, email).Scan(&cid)
	}); err != nil {
		t.Fatal(err)
	}
	return cid
}

func TestIngestEvents_IdempotentPartialAndOnTheTimeline(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		cid := workspaceWithContact(t, d, "v@example.com")
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

// ContactEventsSince moves its mark past anonymous events window by window,
// so a long run of them is read once, not on every call.
func TestContactEventsSince_SkipsAnonymousRunsAndKeepsItsMark(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		cid := workspaceWithContact(t, d, "w@example.com")
		defer func(w int64) { platform.ContactEventWindow = w }(platform.ContactEventWindow)
		platform.ContactEventWindow = 4
		ingest := func(prefix string, n int, contact int64) {
			t.Helper()
			var in []platform.EventInput
			for i := range n {
				in = append(in, platform.EventInput{ID: fmt.Sprintf("%s%d", prefix, i), Kind: "page_view", VisitorID: "anon", ContactID: contact})
			}
			if _, err := platform.IngestEvents(ctx, d, platform.System(1), in, t0); err != nil {
				t.Fatal(err)
			}
		}
		newest := func() int64 {
			var id int64
			_ = d.Reader().QueryRowContext(ctx, `SELECT MAX(id) FROM events`).Scan(&id)
			return id
		}
		var start int64
		_ = d.Reader().QueryRowContext(ctx, `SELECT COALESCE(MAX(id), 0) FROM events`).Scan(&start)
		ingest("a", 10, 0) // ten anonymous events, more than two windows
		ingest("c", 2, cid)
		var got []int64
		mark, err := platform.ContactEventsSince(ctx, d.Reader(), 1, start, 100, "", func(id, c int64) { got = append(got, c) })
		if err != nil || len(got) != 2 || got[0] != cid || mark != newest() {
			t.Fatalf("first call: contacts %v, mark %d (newest %d), %v", got, mark, newest(), err)
		}
		// Nothing new: the mark stays.
		got = nil
		if again, err := platform.ContactEventsSince(ctx, d.Reader(), 1, mark, 100, "", func(id, c int64) { got = append(got, c) }); err != nil || again != mark || len(got) != 0 {
			t.Fatalf("nothing new: mark %d → %d, %v, %v", mark, again, got, err)
		}
		// Anonymous events only: the mark moves to the newest, nothing is reported.
		ingest("b", 5, 0)
		if again, err := platform.ContactEventsSince(ctx, d.Reader(), 1, mark, 100, "", func(id, c int64) { got = append(got, c) }); err != nil || again != newest() || len(got) != 0 {
			t.Fatalf("anonymous only: mark %d, newest %d, %v, %v", again, newest(), got, err)
		}
		// A limit smaller than what the window holds stops at the last event read.
		ingest("d", 3, cid)
		got = nil
		part, err := platform.ContactEventsSince(ctx, d.Reader(), 1, newest()-3, 2, "", func(id, c int64) { got = append(got, id) })
		if err != nil || len(got) != 2 || part != got[1] {
			t.Fatalf("limit 2: read %v, mark %d, %v", got, part, err)
		}
	})
}
