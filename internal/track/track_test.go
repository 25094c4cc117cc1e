package track_test

import (
	"context"
	"fmt"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/ryorin/ryorin/internal/clock"
	"github.com/ryorin/ryorin/internal/crm"
	"github.com/ryorin/ryorin/internal/db"
	"github.com/ryorin/ryorin/internal/dbtest"
	"github.com/ryorin/ryorin/internal/lead"
	"github.com/ryorin/ryorin/internal/platform"
	"github.com/ryorin/ryorin/internal/track"
)

func TestMain(m *testing.M) { os.Exit(dbtest.Main(m)) }

var t0 = time.Date(2026, 4, 1, 9, 0, 0, 0, time.UTC)

type env struct {
	d   *db.DB
	fc  *clock.Fake
	col *track.Collector
	crm *crm.Service
}

func setup(t *testing.T, d *db.DB) *env {
	t.Helper()
	fc := clock.NewFake(t0)
	if err := platform.EnsureWorkspace(context.Background(), d, 1, "T", t0); err != nil {
		t.Fatal(err)
	}
	col := &track.Collector{DB: d, Clock: fc}
	t.Cleanup(col.Close)
	return &env{d: d, fc: fc, col: col, crm: crm.New(d, fc)}
}

func hit(id, kind, url, ref string) track.Hit {
	return track.Hit{ID: id, Kind: kind, URL: url, Referrer: ref, Title: "Page " + id}
}

func (e *env) collect(t *testing.T, vid string, hits ...track.Hit) int {
	t.Helper()
	n, err := e.col.Collect(context.Background(), 1, track.Payload{VisitorID: vid, Hits: hits}, 0)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func sessions(t *testing.T, d *db.DB, vid string) []track.Session {
	t.Helper()
	s, err := track.ListVisitorSessions(context.Background(), d.Reader(), 1, vid, 50)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func count(t *testing.T, d *db.DB, q string, args ...any) int {
	t.Helper()
	var n int
	if err := d.Reader().QueryRowContext(context.Background(), q, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestCollect_SessionsEndAfterThirtyIdleMinutesAndGetAChannel(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := setup(t, d)
		vid := "visitor-aaaa-0001"
		if n := e.collect(t, vid, hit("hit-0000001", "page_view", "https://shop.example.jp/", "https://www.google.co.jp/")); n != 1 {
			t.Fatalf("stored %d", n)
		}
		e.fc.Advance(29 * time.Minute)
		e.collect(t, vid, hit("hit-0000002", "page_view", "https://shop.example.jp/pricing", "https://shop.example.jp/"),
			track.Hit{ID: "hit-0000003", Kind: "outbound_click", URL: "https://shop.example.jp/pricing", Target: "https://partner.example.com/x"})
		e.fc.Advance(31 * time.Minute)
		e.collect(t, vid, hit("hit-0000004", "page_view", "https://shop.example.jp/blog", ""))
		e.fc.Advance(5 * time.Minute)
		e.collect(t, vid, hit("hit-0000005", "page_view", "https://shop.example.jp/?utm_source=google&utm_medium=cpc&utm_campaign=spring", "https://www.google.co.jp/"))
		e.fc.Advance(time.Minute)
		e.collect(t, vid, hit("hit-0000006", "webinar_signup", "https://shop.example.jp/webinar", ""))

		got := sessions(t, d, vid)
		if len(got) != 3 {
			t.Fatalf("want 3 sessions (idle gap, then a new campaign), got %+v", got)
		}
		newest, mid, first := got[0], got[1], got[2]
		if first.Channel != platform.ChannelOrganicSearch || first.PageViews != 2 || first.Events != 3 {
			t.Errorf("first session: %+v", first)
		}
		if mid.Channel != platform.ChannelDirect || mid.PageViews != 1 {
			t.Errorf("session after 31 idle minutes: %+v", mid)
		}
		if newest.Channel != platform.ChannelPaidSearch || newest.UTMCampaign != "spring" || newest.Events != 2 {
			t.Errorf("campaign session: %+v", newest)
		}
		// Events carry their session's channel and campaign, so reports need no join.
		if n := count(t, d, `SELECT COUNT(*) FROM events WHERE visitor_id = ? AND channel = 'paid_search' AND utm_campaign = 'spring'`, vid); n != 2 {
			t.Errorf("events of the campaign session: %d", n)
		}
		var title, kind string
		if err := d.Reader().QueryRowContext(context.Background(), `SELECT kind, properties->>'title' FROM events WHERE event_uid = ?`, "w."+vid+".hit-0000002").Scan(&kind, &title); err != nil {
			t.Fatal(err)
		}
		if kind != "page_view" || title != "Page hit-0000002" {
			t.Errorf("stored %s %q", kind, title)
		}
	})
}

func TestCollect_AResentPostIsStoredOnce(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := setup(t, d)
		h := hit("hit-dup-001", "page_view", "https://shop.example.jp/", "")
		if n := e.collect(t, "visitor-dup-01", h, h); n != 1 {
			t.Fatalf("first post stored %d", n)
		}
		if n := e.collect(t, "visitor-dup-01", h); n != 0 {
			t.Fatalf("resent post stored %d", n)
		}
		s := sessions(t, d, "visitor-dup-01")
		if len(s) != 1 || s[0].PageViews != 1 {
			t.Fatalf("sessions after a resend: %+v", s)
		}
	})
}

func TestCollect_ConcurrentRequestsShareCommits(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := setup(t, d)
		const n = 64
		var wg sync.WaitGroup
		errc := make(chan error, n)
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				p := track.Payload{VisitorID: fmt.Sprintf("visitor-conc-%04d", i%16), Hits: []track.Hit{
					hit(fmt.Sprintf("hit-conc-%04d-a", i), "page_view", "https://shop.example.jp/a", ""),
					hit(fmt.Sprintf("hit-conc-%04d-b", i), "page_view", "https://shop.example.jp/b", "")}}
				stored, err := e.col.Collect(context.Background(), 1, p, 0)
				if err == nil && stored != 2 {
					err = fmt.Errorf("request %d stored %d", i, stored)
				}
				errc <- err
			}()
		}
		wg.Wait()
		close(errc)
		for err := range errc {
			if err != nil {
				t.Fatal(err)
			}
		}
		if got := count(t, d, `SELECT COUNT(*) FROM events WHERE kind = 'page_view'`); got != 2*n {
			t.Fatalf("stored %d events, want %d", got, 2*n)
		}
		if got := count(t, d, `SELECT SUM(page_views) FROM track_sessions`); got != 2*n {
			t.Fatalf("session page views %d, want %d", got, 2*n)
		}
		if got := count(t, d, `SELECT COUNT(*) FROM track_sessions`); got != 16 {
			t.Fatalf("%d sessions for 16 visitors", got)
		}
		st := e.col.Stats.View()
		t.Logf("%d requests in %d transactions", n, st.Batches)
		if st.Batches >= n {
			t.Errorf("every request had its own transaction (%d)", st.Batches)
		}
	})
}

func TestCollect_ChannelRulesComeBeforeTheDefaultClassifier(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := setup(t, d)
		ctx := context.Background()
		set := track.DefaultSettings()
		set.ChannelRules = []track.ChannelRule{{Field: "utm_source", Value: "PRTimes", Channel: "referral"},
			{Field: "referrer_host", Value: "partner.example.com", Channel: "events_offline"}}
		if _, err := track.SaveSettings(ctx, d, platform.System(1), set, t0); err != nil {
			t.Fatal(err)
		}
		bad := set
		bad.ChannelRules = []track.ChannelRule{{Field: "utm_source", Value: "x", Channel: "no_such_channel"}}
		if _, err := track.SaveSettings(ctx, d, platform.System(1), bad, t0); err == nil {
			t.Fatal("a rule naming an unknown channel was saved")
		}
		e.collect(t, "visitor-rule-01", hit("hit-rule-001", "page_view", "https://shop.example.jp/?utm_source=prtimes&utm_medium=social", ""))
		e.collect(t, "visitor-rule-02", hit("hit-rule-002", "page_view", "https://shop.example.jp/", "https://blog.partner.example.com/post"))
		e.collect(t, "visitor-rule-03", hit("hit-rule-003", "page_view", "https://shop.example.jp/", "https://twitter.com/x"))
		for vid, want := range map[string]string{"visitor-rule-01": "referral", "visitor-rule-02": "events_offline", "visitor-rule-03": "social"} {
			if s := sessions(t, d, vid); len(s) != 1 || s[0].Channel != want {
				t.Errorf("%s: %+v, want %s", vid, s, want)
			}
		}
	})
}

func TestIdentifyVisitor_EarlierPageViewsJoinTheContactAndItsScore(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := setup(t, d)
		ctx := context.Background()
		ls := lead.New(d, e.fc)
		if err := ls.EnsureDefault(ctx, 1); err != nil {
			t.Fatal(err)
		}
		sc := &lead.Scorer{Lead: ls, CRM: e.crm}
		if _, err := sc.ScoreNewEvents(ctx, 1); err != nil { // sets the marks
			t.Fatal(err)
		}
		vid := "visitor-stitch-1"
		e.collect(t, vid, hit("hit-st-0001", "page_view", "https://shop.example.jp/pricing", "https://www.google.com/"),
			hit("hit-st-0002", "page_view", "https://shop.example.jp/pricing/enterprise", ""))
		email := "sato@example.jp"
		c, err := e.crm.CreateContact(ctx, platform.System(1), crm.ContactInput{Email: &email})
		if err != nil {
			t.Fatal(err)
		}
		// Before: anonymous, nothing on the contact.
		if evs, _ := platform.ListContactEvents(ctx, d.Reader(), 1, c.ID, 0, 0, 50); len(evs) != 0 {
			t.Fatalf("contact has events before identification: %+v", evs)
		}
		e.fc.Advance(time.Minute)
		var moved int
		err = d.Write(ctx, "test", func(tx *db.Tx) error {
			moved, err = track.IdentifyVisitor(ctx, tx, 1, vid, c.ID, e.fc.Now())
			return err
		})
		if err != nil || moved != 2 {
			t.Fatalf("moved %d, %v", moved, err)
		}
		evs, err := platform.ListContactEvents(ctx, d.Reader(), 1, c.ID, 0, 0, 50)
		if err != nil {
			t.Fatal(err)
		}
		if len(evs) != 3 || evs[0].Kind != track.KindIdentified {
			t.Fatalf("contact events after identification: %+v", evs)
		}
		if n := count(t, d, `SELECT COUNT(*) FROM timeline WHERE contact_id = ? AND kind = 'event.page_view'`, c.ID); n != 2 {
			t.Errorf("%d page views on the timeline", n)
		}
		// The pricing page seen before the visitor was known makes the
		// contact a hot lead for its owner.
		if n := count(t, d, `SELECT COUNT(*) FROM contact_signals WHERE contact_id = ?`, c.ID); n != 1 {
			t.Errorf("%d signal rows for the identified contact", n)
		}
		if s, _ := track.ListContactSessions(ctx, d.Reader(), 1, c.ID, 10); len(s) != 1 || s[0].Channel != platform.ChannelOrganicSearch {
			t.Errorf("contact sessions: %+v", s)
		}
		// Later events go straight to the contact.
		e.fc.Advance(time.Minute)
		e.collect(t, vid, hit("hit-st-0003", "page_view", "https://shop.example.jp/pricing", ""))
		if n := count(t, d, `SELECT COUNT(*) FROM events WHERE contact_id = ? AND kind = 'page_view'`, c.ID); n != 3 {
			t.Errorf("%d page views on the contact after a new visit", n)
		}
		if n := count(t, d, `SELECT COUNT(*) FROM timeline WHERE contact_id = ? AND kind = 'event.page_view'`, c.ID); n != 3 {
			t.Errorf("%d page views on the timeline after a new visit", n)
		}
		// The live scorer sees the stitched page views (the default definition
		// gives points for /pricing).
		if _, err := sc.ScoreNewEvents(ctx, 1); err != nil {
			t.Fatal(err)
		}
		got, _ := e.crm.GetContact(ctx, d.Reader(), platform.System(1), c.ID)
		if got.Score.Engagement < 20 {
			t.Fatalf("engagement %v after three /pricing views: %+v", got.Score.Engagement, got.Score)
		}
		// Identifying again moves nothing and records nothing new.
		err = d.Write(ctx, "test", func(tx *db.Tx) error {
			moved, err = track.IdentifyVisitor(ctx, tx, 1, vid, c.ID, e.fc.Now())
			return err
		})
		if err != nil || moved != 0 {
			t.Fatalf("second identify moved %d, %v", moved, err)
		}
		if n := count(t, d, `SELECT COUNT(*) FROM events WHERE kind = ?`, track.KindIdentified); n != 1 {
			t.Fatalf("%d identify events", n)
		}
	})
}

func TestCollect_AValidIdentifyTokenAttachesTheVisitor(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := setup(t, d)
		ctx := context.Background()
		email := "suzuki@example.jp"
		c, err := e.crm.CreateContact(ctx, platform.System(1), crm.ContactInput{Email: &email})
		if err != nil {
			t.Fatal(err)
		}
		w, _ := platform.GetWorkspace(ctx, d.Reader(), 1)
		tok, err := track.IdentifyToken(w.SigningKey(), c.ID, t0.Add(24*time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		if id, err := track.VerifyIdentifyToken(w.SigningKey(), tok, t0); err != nil || id != c.ID {
			t.Fatalf("verify: %d %v", id, err)
		}
		if _, err := track.VerifyIdentifyToken(w.SigningKey(), tok[:len(tok)-2]+"xx", t0); err == nil {
			t.Fatal("a tampered token verified")
		}
		if _, err := track.VerifyIdentifyToken(w.SigningKey(), tok, t0.Add(25*time.Hour)); err == nil {
			t.Fatal("an expired token verified")
		}
		e.collect(t, "visitor-mail-01", hit("hit-mail-001", "page_view", "https://shop.example.jp/", ""))
		p := track.Payload{VisitorID: "visitor-mail-01", Hits: []track.Hit{hit("hit-mail-002", "page_view", "https://shop.example.jp/case?utm_medium=email", "")}}
		if _, err := e.col.Collect(ctx, 1, p, c.ID); err != nil {
			t.Fatal(err)
		}
		if n := count(t, d, `SELECT COUNT(*) FROM events WHERE contact_id = ? AND kind = 'page_view'`, c.ID); n != 2 {
			t.Fatalf("%d page views on the contact", n)
		}
		// A token for a contact deleted since the email was sent spoils nothing.
		p = track.Payload{VisitorID: "visitor-mail-02", Hits: []track.Hit{hit("hit-mail-003", "page_view", "https://shop.example.jp/", "")}}
		if n, err := e.col.Collect(ctx, 1, p, 999999); err != nil || n != 1 {
			t.Fatalf("token of a missing contact: stored %d, %v", n, err)
		}
	})
}

func TestExpireVisitors_RollsUpAndDeletesOnlyAnonymousVisitors(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := setup(t, d)
		ctx := context.Background()
		set := track.DefaultSettings()
		set.RetentionDays = 30
		if _, err := track.SaveSettings(ctx, d, platform.System(1), set, t0); err != nil {
			t.Fatal(err)
		}
		for i := range 3 {
			vid := fmt.Sprintf("visitor-old-%03d", i)
			e.collect(t, vid, hit(fmt.Sprintf("hit-old-%03d-a", i), "page_view", "https://shop.example.jp/pricing", ""),
				hit(fmt.Sprintf("hit-old-%03d-b", i), "page_view", "https://shop.example.jp/pricing", ""))
		}
		email := "known@example.jp"
		c, _ := e.crm.CreateContact(ctx, platform.System(1), crm.ContactInput{Email: &email})
		e.collect(t, "visitor-known-1", hit("hit-known-01", "page_view", "https://shop.example.jp/pricing", ""))
		if err := d.Write(ctx, "t", func(tx *db.Tx) error {
			_, err := track.IdentifyVisitor(ctx, tx, 1, "visitor-known-1", c.ID, e.fc.Now())
			return err
		}); err != nil {
			t.Fatal(err)
		}
		e.fc.Advance(20 * 24 * time.Hour)
		e.collect(t, "visitor-recent1", hit("hit-recent-01", "page_view", "https://shop.example.jp/", ""))

		e.fc.Advance(11 * 24 * time.Hour) // the first visitors are now 31 days old
		n, err := track.ExpireVisitors(ctx, d, 1, e.fc.Now())
		if err != nil || n != 3 {
			t.Fatalf("expired %d, %v", n, err)
		}
		if got := count(t, d, `SELECT COUNT(*) FROM events WHERE visitor_id LIKE 'visitor-old-%'`); got != 0 {
			t.Errorf("%d events of expired visitors remain", got)
		}
		if got := count(t, d, `SELECT COUNT(*) FROM track_sessions WHERE visitor_id LIKE 'visitor-old-%'`); got != 0 {
			t.Errorf("%d sessions of expired visitors remain", got)
		}
		if got := count(t, d, `SELECT COUNT(*) FROM events WHERE visitor_id IN ('visitor-known-1', 'visitor-recent1') AND kind = 'page_view'`); got != 2 {
			t.Errorf("identified or recent visitors lost events: %d left", got)
		}
		daily, err := track.ListDaily(ctx, d.Reader(), 1, "2026-01-01", "2026-12-31")
		if err != nil {
			t.Fatal(err)
		}
		if len(daily) != 1 || daily[0] != (track.DailyCount{Day: "2026-04-01", Path: "/pricing", Channel: "direct", PageViews: 6, Visitors: 3, Sessions: 3}) {
			t.Fatalf("roll-up: %+v", daily)
		}
		if n, _ := track.ExpireVisitors(ctx, d, 1, e.fc.Now()); n != 0 {
			t.Fatalf("expired %d on a second run", n)
		}
	})
}
