package interest_test

import (
	"context"
	"fmt"
	"math"
	"os"
	"testing"
	"time"

	"github.com/ryorin/ryorin/internal/clock"
	"github.com/ryorin/ryorin/internal/crm"
	"github.com/ryorin/ryorin/internal/db"
	"github.com/ryorin/ryorin/internal/dbtest"
	"github.com/ryorin/ryorin/internal/errs"
	"github.com/ryorin/ryorin/internal/marketing/interest"
	"github.com/ryorin/ryorin/internal/platform"
)

func TestMain(m *testing.M) { os.Exit(dbtest.Main(m)) }

var t0 = time.Date(2026, 4, 1, 9, 0, 0, 0, time.UTC)

func ptr[T any](v T) *T { return &v }

func TestDecay_HalvesEachHalfLife(t *testing.T) {
	for _, tc := range []struct {
		age  time.Duration
		want float64
	}{{0, 1}, {-time.Hour, 1}, {interest.HalfLife, 0.5}, {2 * interest.HalfLife, 0.25}, {interest.HalfLife / 2, math.Sqrt2 / 2}} {
		if got := interest.Decay(tc.age); math.Abs(got-tc.want) > 1e-9 {
			t.Errorf("Decay(%v) = %v, want %v", tc.age, got, tc.want)
		}
	}
}

func TestTopicFor_LongestWholeSegmentPrefix(t *testing.T) {
	rules := []interest.Rule{{Prefix: "/pricing", Topic: "pricing"}, {Prefix: "/pricing/enterprise/", Topic: "enterprise"}, {Prefix: "/blog", Topic: "blog"}}
	for path, want := range map[string]string{"/pricing": "pricing", "/pricing/team": "pricing", "/pricing/enterprise/a": "enterprise",
		"/pricingplans": "", "/": "", "/blog/2026/x": "blog"} {
		if got := interest.TopicFor(rules, path); got != want {
			t.Errorf("TopicFor(%q) = %q, want %q", path, got, want)
		}
	}
}

func TestParseRules_NamesTheLine(t *testing.T) {
	rs, err := interest.ParseRules("/pricing Pricing\n\n/cases case_studies\n")
	if err != nil || len(rs) != 2 || rs[0].Topic != "pricing" {
		t.Fatalf("%v %v", rs, err)
	}
	if _, err := interest.ParseRules("/a a\nno-slash topic"); err == nil {
		t.Error("a prefix without / was accepted")
	} else if e, _ := errs.As(err); e.Field != "rules[1]" {
		t.Errorf("field %q", e.Field)
	}
}

// The profile sums page views (by topic rule), content views (by their
// topics property) and clicks in tagged campaigns, each decayed by its age.
func TestProfiles_WeighEngagementsWithDecay(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		if err := platform.EnsureWorkspace(ctx, d, 1, "Test", t0); err != nil {
			t.Fatal(err)
		}
		cli := platform.CLI(1)
		cs := crm.New(d, clock.NewFake(t0))
		var ids []int64
		for _, name := range []string{"山田", "佐藤", "無関心"} {
			c, err := cs.CreateContact(ctx, cli, crm.ContactInput{FamilyName: ptr(name)})
			if err != nil {
				t.Fatal(err)
			}
			ids = append(ids, c.ID)
		}
		yamada, sato, none := ids[0], ids[1], ids[2]
		var campaign int64
		if err := d.Write(ctx, "test", func(tx *db.Tx) error {
			return tx.QueryRowContext(ctx, `INSERT INTO email_campaigns (workspace_id, name, subject, audience_kind, audience_id, created_at, updated_at, topics)
				VALUES (1, 'c', 's', 'list', 1, 0, 0, '["security","pricing"]') RETURNING id`).Scan(&campaign)
		}); err != nil {
			t.Fatal(err)
		}
		now := t0.Add(90 * 24 * time.Hour)
		day := 24 * time.Hour
		ev := func(n int, kind string, contact int64, url string, age time.Duration, props map[string]any) platform.EventInput {
			at := now.Add(-age)
			return platform.EventInput{ID: fmt.Sprintf("e%d", n), Kind: kind, ContactID: contact, URL: url, OccurredAt: &at, Properties: props}
		}
		in := []platform.EventInput{
			// 山田: pricing pages now and a month ago; a case study viewed today.
			ev(1, "page_view", yamada, "https://example.com/pricing", 0, nil),
			ev(2, "page_view", yamada, "https://example.com/pricing/team", 30*day, nil),
			ev(3, "content_view", yamada, "", 0, map[string]any{"topics": []any{"Case_Studies", "pricing"}}),
			ev(4, "page_view", yamada, "https://example.com/about", 0, nil),
			// 佐藤: a click in the security/pricing campaign 60 days ago, and
			// a content view with a malformed topics property.
			ev(5, "email_click", sato, "https://example.com/x", 60*day, map[string]any{"campaign_id": campaign}),
			ev(6, "content_view", sato, "", 0, map[string]any{"topics": "security"}),
			// Too old to count.
			ev(7, "page_view", sato, "https://example.com/blog/a", 400*day, nil),
		}
		if err := d.Write(ctx, "test", func(tx *db.Tx) error {
			_, rej, err := platform.StoreEvents(ctx, tx, 1, in, now)
			if len(rej) > 0 {
				return fmt.Errorf("rejected: %+v", rej)
			}
			return err
		}); err != nil {
			t.Fatal(err)
		}
		ps, err := interest.Profiles(ctx, d.Reader(), 1, ids, now)
		if err != nil {
			t.Fatal(err)
		}
		want := map[int64]interest.Profile{
			yamada: {{Topic: "pricing", Weight: 3.5}, {Topic: "case_studies", Weight: 2}},
			sato:   {{Topic: "pricing", Weight: 0.75}, {Topic: "security", Weight: 0.75}},
		}
		for _, c := range []int64{yamada, sato} {
			if fmt.Sprint(ps[c]) != fmt.Sprint(want[c]) {
				t.Errorf("contact %d: %v, want %v", c, ps[c], want[c])
			}
		}
		if p, ok := ps[none]; ok {
			t.Errorf("no engagement, yet a profile: %v", p)
		}
		// Thirty days later everything counts half.
		ps, err = interest.Profiles(ctx, d.Reader(), 1, []int64{yamada}, now.Add(interest.HalfLife))
		if err != nil {
			t.Fatal(err)
		}
		if got := ps[yamada]; len(got) != 2 || got[0].Weight != 1.75 || got[1].Weight != 1 || got.Top() != "pricing" {
			t.Errorf("after a half-life: %v", got)
		}
		// Rules the workspace saves replace the defaults; an empty list stays empty.
		if err := interest.SetRules(ctx, d, cli, []interest.Rule{{Prefix: "/about", Topic: "company"}}, now); err != nil {
			t.Fatal(err)
		}
		ps, err = interest.Profiles(ctx, d.Reader(), 1, []int64{yamada}, now)
		if err != nil {
			t.Fatal(err)
		}
		if fmt.Sprint(ps[yamada]) != fmt.Sprint(interest.Profile{{Topic: "case_studies", Weight: 2}, {Topic: "pricing", Weight: 2}, {Topic: "company", Weight: 1}}) {
			t.Errorf("with saved rules: %v", ps[yamada])
		}
		if err := interest.SetRules(ctx, d, cli, nil, now); err != nil {
			t.Fatal(err)
		}
		if rs, err := interest.Rules(ctx, d.Reader(), 1); err != nil || len(rs) != 0 {
			t.Errorf("emptied rules: %v %v", rs, err)
		}
	})
}
