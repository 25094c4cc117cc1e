package lead_test

import (
	"context"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/ryorin/ryorin/internal/clock"
	"github.com/ryorin/ryorin/internal/crm"
	"github.com/ryorin/ryorin/internal/db"
	"github.com/ryorin/ryorin/internal/dbtest"
	"github.com/ryorin/ryorin/internal/errs"
	"github.com/ryorin/ryorin/internal/lead"
	"github.com/ryorin/ryorin/internal/platform"
)

func TestFeed_CustomerVoiceAndVerdictsFilteredAndCountedByChannelAndCampaign(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		ls, p := setup(t, d)
		fc := clock.NewFake(t0)
		ls.Clock = fc
		if err := ls.EnsureReasons(ctx, 1); err != nil {
			t.Fatal(err)
		}
		cs := crm.New(d, fc)
		sys := platform.System(1)
		mql := platform.StageMQL
		mk := func(email, channel string) int64 {
			c, err := cs.CreateContact(ctx, sys, crm.ContactInput{Email: new(email), OriginalChannel: new(channel), LifecycleStage: &mql})
			if err != nil {
				t.Fatal(err)
			}
			return c.ID
		}
		a, b := mk("a@example.jp", "paid_search"), mk("b@example.jp", "organic_search")
		if _, err := cs.LogActivity(ctx, p.rep, crm.ActivityInput{Kind: new("call"), ContactID: &a, Subject: new("価格の相談"),
			Body: new("競合より2割高いと言われた"), VoiceTopic: new("pricing"), VoiceCampaign: new("spring-webinar")}); err != nil {
			t.Fatal(err)
		}
		if _, err := cs.LogActivity(ctx, p.rep, crm.ActivityInput{Kind: new("task"), ContactID: &a, VoiceTopic: new("pricing")}); !errs.Is(err, errs.Invalid) {
			t.Fatalf("voice on a task: %v", err)
		}
		if _, err := cs.LogActivity(ctx, p.rep, crm.ActivityInput{Kind: new("note"), ContactID: &a, VoiceTopic: new("gossip")}); !errs.Is(err, errs.Invalid) {
			t.Fatalf("unknown topic: %v", err)
		}
		fc.Advance(time.Hour)
		if _, err := ls.GiveFeedback(ctx, cs, p.rep, a, lead.FeedbackInput{Decision: "accept", Rating: 5}); err != nil {
			t.Fatal(err)
		}
		if _, err := ls.GiveFeedback(ctx, cs, p.rep, b, lead.FeedbackInput{Decision: "reject", Reason: "no_budget", Note: "来期検討", Rating: 2}); err != nil {
			t.Fatal(err)
		}
		items, byChan, byCamp, err := ls.Feed(ctx, d.Reader(), 1, lead.FeedQuery{})
		if err != nil || len(items) != 3 {
			t.Fatalf("feed: %+v, %v", items, err)
		}
		if items[2].Kind != "voice" || items[2].Topic != "pricing" || items[2].Text != "価格の相談 — 競合より2割高いと言われた" || items[2].Channel != "paid_search" {
			t.Fatalf("oldest item: %+v", items[2])
		}
		counts := map[string]lead.FeedCount{}
		for _, c := range byChan {
			counts[c.Key] = c
		}
		if c := counts["paid_search"]; c.Voices != 1 || c.Accepted != 1 || c.Topics["pricing"] != 1 || c.RatingAvg != 5 {
			t.Fatalf("paid search: %+v", c)
		}
		if c := counts["organic_search"]; c.Rejected != 1 || c.Reasons["no_budget"] != 1 {
			t.Fatalf("organic: %+v", c)
		}
		if len(byCamp) != 1 || byCamp[0].Key != "spring-webinar" || byCamp[0].Voices != 1 {
			t.Fatalf("by campaign: %+v", byCamp)
		}
		only, _, _, err := ls.Feed(ctx, d.Reader(), 1, lead.FeedQuery{Kind: "rejected", Channel: "organic_search"})
		if err != nil || len(only) != 1 || only[0].Reason != "no_budget" || only[0].Text != "来期検討" {
			t.Fatalf("filtered: %+v, %v", only, err)
		}
		// Kind and period narrow each half of the union; ItemsOnly reads the
		// page alone, without summaries.
		half := t0.Add(30 * time.Minute)
		for _, c := range []struct {
			name  string
			q     lead.FeedQuery
			kinds string
		}{
			{"voice before the feedback", lead.FeedQuery{Kind: "voice", To: half, ItemsOnly: true, Limit: 6}, "voice"},
			{"accepted after half an hour", lead.FeedQuery{Kind: "accepted", From: half, ItemsOnly: true, Limit: 6}, "accepted"},
			{"rejected before half an hour", lead.FeedQuery{Kind: "rejected", To: half}, ""},
			{"everything after half an hour", lead.FeedQuery{From: half}, "accepted rejected"},
			{"the newest item only", lead.FeedQuery{Kind: "rejected", ItemsOnly: true, Limit: 1}, "rejected"},
		} {
			got, byChan, _, err := ls.Feed(ctx, d.Reader(), 1, c.q)
			var kinds []string
			for _, it := range got {
				kinds = append(kinds, it.Kind)
			}
			sort.Strings(kinds) // the two verdicts were given at the same moment
			if err != nil || strings.Join(kinds, " ") != c.kinds {
				t.Errorf("%s: %v, %v; want %q", c.name, kinds, err, c.kinds)
			}
			if c.q.ItemsOnly && byChan != nil {
				t.Errorf("%s: summaries %+v with ItemsOnly", c.name, byChan)
			}
		}
		if _, _, _, err := ls.Feed(ctx, d.Reader(), 1, lead.FeedQuery{Kind: "gossip"}); !errs.Is(err, errs.Invalid) {
			t.Fatalf("bad kind: %v", err)
		}
	})
}
