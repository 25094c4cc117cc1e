package segments_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/ryorin/ryorin/internal/clock"
	"github.com/ryorin/ryorin/internal/crm"
	"github.com/ryorin/ryorin/internal/db"
	"github.com/ryorin/ryorin/internal/dbtest"
	"github.com/ryorin/ryorin/internal/errs"
	"github.com/ryorin/ryorin/internal/marketing/segments"
	"github.com/ryorin/ryorin/internal/platform"
)

func TestMain(m *testing.M) { os.Exit(dbtest.Main(m)) }

var t0 = time.Date(2026, 4, 1, 9, 0, 0, 0, time.UTC)

type fixture struct {
	d     *db.DB
	clock *clock.Fake
	crm   *crm.Service
	seg   *segments.Service
	mkt   platform.Actor
	rep   platform.Actor
	ids   map[string]int64 // contact name → id
	names map[int64]string
}

func ptr[T any](v T) *T { return &v }

// setup builds a small world: two companies, four contacts with custom
// properties, scores and a history of events.
func setup(t *testing.T, d *db.DB) *fixture {
	t.Helper()
	ctx := context.Background()
	if err := platform.EnsureWorkspace(ctx, d, 1, "Test", t0); err != nil {
		t.Fatal(err)
	}
	cli := platform.CLI(1)
	mk, err := platform.CreateUser(ctx, d, cli, platform.NewUser{Email: "mkt@example.com", Name: "Marketer", Role: platform.RoleMarketing}, t0)
	if err != nil {
		t.Fatal(err)
	}
	rp, err := platform.CreateUser(ctx, d, cli, platform.NewUser{Email: "rep@example.com", Name: "Rep", Role: platform.RoleSales}, t0)
	if err != nil {
		t.Fatal(err)
	}
	fc := clock.NewFake(t0)
	cs := crm.New(d, fc)
	f := &fixture{d: d, clock: fc, crm: cs, seg: segments.New(d, fc, cs), ids: map[string]int64{}, names: map[int64]string{},
		mkt: platform.Actor{WorkspaceID: 1, UserID: mk.ID, Role: platform.RoleMarketing, Kind: platform.ActorUser},
		rep: platform.Actor{WorkspaceID: 1, UserID: rp.ID, Role: platform.RoleSales, Kind: platform.ActorUser}}
	for _, p := range []crm.PropertyDefinition{
		{ObjectType: "contact", Key: "budget", LabelEN: "Budget", Type: crm.PropNumber},
		{ObjectType: "contact", Key: "interests", LabelEN: "Interests", Type: crm.PropMultiChoice, Options: []crm.Option{{Value: "ai", LabelEN: "AI"}, {Value: "crm", LabelEN: "CRM"}}},
		{ObjectType: "contact", Key: "newsletter", LabelEN: "Newsletter", Type: crm.PropBool},
		{ObjectType: "contact", Key: "plan", LabelEN: "Plan", Type: crm.PropSingleChoice, Options: []crm.Option{{Value: "a", LabelEN: "A"}, {Value: "b", LabelEN: "B"}}},
		{ObjectType: "contact", Key: "note", LabelEN: "Note", Type: crm.PropText},
	} {
		if _, err := cs.SaveProperty(ctx, cli, 0, p); err != nil {
			t.Fatal(err)
		}
	}
	acme, err := cs.CreateCompany(ctx, cli, crm.CompanyInput{Name: ptr("Acme"), Industry: ptr("IT"), Employees: ptr(int64(500)), Address: &crm.Address{Prefecture: "東京都"}})
	if err != nil {
		t.Fatal(err)
	}
	beta, err := cs.CreateCompany(ctx, cli, crm.CompanyInput{Name: ptr("Beta 製作所"), Industry: ptr("製造"), Employees: ptr(int64(20)), Address: &crm.Address{Prefecture: "大阪府"}})
	if err != nil {
		t.Fatal(err)
	}
	stage := func(s platform.Stage) *platform.Stage { return &s }
	for _, c := range []struct {
		name string
		in   crm.ContactInput
		fit  string
		eng  float64
	}{
		{"alice", crm.ContactInput{Email: ptr("alice@acme.example"), Title: ptr("CTO"), Department: ptr("情報システム部"), CompanyID: &acme.ID, OwnerID: &rp.ID, LifecycleStage: stage(platform.StageLead),
			Props: map[string]any{"budget": 100.0, "interests": []any{"ai", "crm"}, "newsletter": true, "plan": "a", "note": "50%_off"}}, "A", 40},
		{"bob", crm.ContactInput{Email: ptr("bob@acme.example"), Title: ptr("Engineer"), CompanyID: &acme.ID, LifecycleStage: stage(platform.StageMQL),
			Props: map[string]any{"budget": 5.0, "plan": "b"}}, "B", 12},
		{"carol", crm.ContactInput{Email: ptr("carol@beta.example"), Title: ptr("CEO"), CompanyID: &beta.ID, LifecycleStage: stage(platform.StageCustomer),
			Props: map[string]any{"interests": []any{"crm"}, "newsletter": false}}, "C", 0},
		{"dave", crm.ContactInput{FamilyName: ptr("山田"), LifecycleStage: stage(platform.StageLead)}, "", 0},
	} {
		ct, err := cs.CreateContact(ctx, cli, c.in)
		if err != nil {
			t.Fatal(c.name, err)
		}
		f.ids[c.name], f.names[ct.ID] = ct.ID, c.name
		if c.fit == "" {
			continue // dave was never scored: he has no contact_scores row
		}
		if err := d.Write(ctx, "test scores", func(tx *db.Tx) error {
			_, err := tx.ExecContext(ctx, `INSERT INTO contact_scores (workspace_id, contact_id, fit_grade, engagement_score) VALUES (1, ?, ?, ?)`, ct.ID, c.fit, c.eng)
			return err
		}); err != nil {
			t.Fatal(err)
		}
	}
	day := 24 * time.Hour
	f.events(t, []ev{
		{"alice", platform.EventPageView, "https://acme.example/pricing", 1 * day},
		{"alice", platform.EventPageView, "https://acme.example/pricing/enterprise", 2 * day},
		{"alice", platform.EventPageView, "https://acme.example/pricing", 5 * day},
		{"alice", platform.EventPageView, "https://acme.example/blog/x", 40 * day},
		{"alice", platform.EventEmailClick, "https://acme.example/case", 1 * day},
		{"bob", platform.EventFormSubmit, "https://ryorin.example/f/webinar", 2 * day},
		{"bob", platform.EventPageView, "https://acme.example/pricing_old", 3 * day},
		{"carol", platform.EventEmailOpen, "", 10 * day},
		{"carol", platform.EventContentView, "https://ryorin.example/c/whitepaper", 20 * day},
	})
	return f
}

type ev struct {
	who, kind, url string
	ago            time.Duration
}

var evSeq int

func (f *fixture) events(t *testing.T, evs []ev) {
	t.Helper()
	var in []platform.EventInput
	for _, e := range evs {
		evSeq++
		at := f.clock.Now().Add(-e.ago)
		in = append(in, platform.EventInput{ID: fmt.Sprintf("t-%d", evSeq), Kind: e.kind, ContactID: f.ids[e.who], URL: e.url, OccurredAt: &at})
	}
	res, err := platform.IngestEvents(context.Background(), f.d, platform.System(1), in, f.clock.Now())
	if err != nil || len(res.Errors) > 0 {
		t.Fatal(err, res.Errors)
	}
}

func (f *fixture) who(ids []int64) string {
	var out []string
	for _, id := range ids {
		out = append(out, f.names[id])
	}
	sort.Strings(out)
	return strings.Join(out, ",")
}

// preview parses a definition and previews it: who matches (names, sorted)
// and the count it reports.
func (f *fixture) preview(t *testing.T, def string) (string, int64, segments.Definition) {
	t.Helper()
	ctx := context.Background()
	d, err := f.seg.ParseDefinition(ctx, 1, []byte(def))
	if err != nil {
		t.Fatal(err)
	}
	p, err := f.seg.PreviewDefinition(ctx, 1, d)
	if err != nil {
		t.Fatal(err)
	}
	var ids []int64
	for _, m := range p.Contacts {
		ids = append(ids, m.ContactID)
	}
	if int(p.Count) != len(ids) {
		t.Errorf("count %d, %d contacts listed", p.Count, len(ids))
	}
	return f.who(ids), p.Count, d
}

func cond(field, op, value string) string {
	return fmt.Sprintf(`{"field":%q,"op":%q,"value":%q}`, field, op, value)
}

func behav(field, op string, count, days int, path string) string {
	return fmt.Sprintf(`{"field":%q,"op":%q,"count":%d,"days":%d,"path":%q}`, field, op, count, days, path)
}

// def builds {"groups":[{"conditions":[...]}, ...]} from groups of conditions.
func def(groups ...[]string) string {
	var gs []string
	for _, g := range groups {
		gs = append(gs, `{"conditions":[`+strings.Join(g, ",")+`]}`)
	}
	return `{"groups":[` + strings.Join(gs, ",") + `]}`
}

func TestPreview_EachOperatorOnBothEngines(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := setup(t, d)
		ctx := context.Background()
		list, err := f.seg.CreateList(ctx, f.mkt, segments.ListInput{Name: "Booth visitors"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.seg.AddToList(ctx, f.mkt, list.ID, []int64{f.ids["bob"], f.ids["dave"]}); err != nil {
			t.Fatal(err)
		}
		owner := fmt.Sprint(f.rep.UserID)
		lid := fmt.Sprint(list.ID)
		for _, tc := range []struct {
			name, def, want string
		}{
			{"stage eq", def([]string{cond("lifecycle_stage", "eq", "lead")}), "alice,dave"},
			{"stage neq", def([]string{cond("lifecycle_stage", "neq", "lead")}), "bob,carol"},
			{"owner eq", def([]string{cond("owner_id", "eq", owner)}), "alice"},
			{"owner neq includes unowned", def([]string{cond("owner_id", "neq", owner)}), "bob,carol,dave"},
			{"owner empty", def([]string{cond("owner_id", "empty", "")}), "bob,carol,dave"},
			{"owner not empty", def([]string{cond("owner_id", "not_empty", "")}), "alice"},
			{"title contains, case-insensitive", def([]string{cond("title", "contains", "c")}), "alice,carol"},
			{"title starts_with", def([]string{cond("title", "starts_with", "eng")}), "bob"},
			{"title empty", def([]string{cond("title", "empty", "")}), "dave"},
			{"department Japanese contains", def([]string{cond("department", "contains", "システム")}), "alice"},
			{"email not_empty", def([]string{cond("email", "not_empty", "")}), "alice,bob,carol"},
			{"email neq keeps no-email contacts", def([]string{cond("email", "neq", "bob@acme.example")}), "alice,carol,dave"},
			{"company industry", def([]string{cond("company.industry", "eq", "製造")}), "carol"},
			{"company employees gte", def([]string{cond("company.employees", "gte", "100")}), "alice,bob"},
			{"company employees lte", def([]string{cond("company.employees", "lte", "100")}), "carol"},
			{"company prefecture", def([]string{cond("company.prefecture", "eq", "東京都")}), "alice,bob"},
			{"company name contains", def([]string{cond("company.name", "contains", "製作所")}), "carol"},
			{"fit grade", def([]string{cond("fit_grade", "eq", "A")}), "alice"},
			{"engagement gte", def([]string{cond("engagement_score", "gte", "10")}), "alice,bob"},
			{"engagement lte counts the unscored as 0", def([]string{cond("engagement_score", "lte", "10")}), "carol,dave"},
			{"fit grade neq counts the unscored as no grade", def([]string{cond("fit_grade", "neq", "A")}), "bob,carol,dave"},
			{"fit grade empty is the unscored", def([]string{cond("fit_grade", "empty", "")}), "dave"},
			{"prop number gte", def([]string{cond("prop.budget", "gte", "50")}), "alice"},
			{"prop number empty", def([]string{cond("prop.budget", "empty", "")}), "carol,dave"},
			{"prop multi contains", def([]string{cond("prop.interests", "contains", "crm")}), "alice,carol"},
			{"prop multi empty", def([]string{cond("prop.interests", "empty", "")}), "bob,dave"},
			{"prop bool true", def([]string{cond("prop.newsletter", "eq", "true")}), "alice"},
			{"prop bool false", def([]string{cond("prop.newsletter", "eq", "false")}), "carol"},
			{"prop choice eq", def([]string{cond("prop.plan", "eq", "b")}), "bob"},
			{"prop choice not empty", def([]string{cond("prop.plan", "not_empty", "")}), "alice,bob"},
			{"prop text with LIKE wildcards is literal", def([]string{cond("prop.note", "contains", "%_")}), "alice"},
			{"prop text wildcard does not match others", def([]string{cond("prop.note", "contains", "_x")}), ""},
			{"list in", def([]string{cond("list", "in", lid)}), "bob,dave"},
			{"list not_in", def([]string{cond("list", "not_in", lid)}), "alice,carol"},
			{"visited page prefix, at least 3 in 7 days", def([]string{behav("visited_page", "at_least", 3, 7, "/pricing")}), "alice"},
			{"visited page prefix, at least 3 in 4 days", def([]string{behav("visited_page", "at_least", 3, 4, "/pricing")}), ""},
			{"visited page prefix, at least 2 in 4 days", def([]string{behav("visited_page", "at_least", 2, 4, "/pricing")}), "alice"},
			{"visited page prefix is literal text", def([]string{behav("visited_page", "at_least", 1, 4, "/pricing_")}), "bob"},
			{"visited page, window excludes old visit", def([]string{behav("visited_page", "at_least", 1, 30, "/blog")}), ""},
			{"visited page, window includes old visit", def([]string{behav("visited_page", "at_least", 1, 60, "/blog")}), "alice"},
			{"visited any page", def([]string{behav("visited_page", "at_least", 0, 30, "")}), "alice,bob"},
			{"no visit in 30 days", def([]string{behav("visited_page", "none", 0, 30, "")}), "carol,dave"},
			{"form submit, specific", def([]string{behav("form_submit", "at_least", 1, 7, "webinar")}), "bob"},
			{"form submit, other form", def([]string{behav("form_submit", "at_least", 1, 7, "other")}), ""},
			{"form submit, any", def([]string{behav("form_submit", "at_least", 1, 7, "")}), "bob"},
			{"email opened in 14 days", def([]string{behav("email_open", "at_least", 1, 14, "")}), "carol"},
			{"email opened in 7 days", def([]string{behav("email_open", "at_least", 1, 7, "")}), ""},
			{"email clicked", def([]string{behav("email_click", "at_least", 1, 7, "")}), "alice"},
			{"content viewed", def([]string{behav("content_view", "at_least", 1, 30, "/c/")}), "carol"},
			{"AND within a group", def([]string{cond("company.industry", "eq", "IT"), cond("lifecycle_stage", "eq", "mql")}), "bob"},
			{"OR between groups", def([]string{cond("fit_grade", "eq", "A")}, []string{cond("lifecycle_stage", "eq", "customer")}), "alice,carol"},
			{"three conditions mixed", def([]string{cond("lifecycle_stage", "neq", "customer"), cond("company.employees", "gte", "100"), behav("visited_page", "at_least", 2, 7, "/pricing")}), "alice"},
			{"AND/OR with behaviour and list", def([]string{cond("list", "in", lid), behav("form_submit", "at_least", 1, 7, "")}, []string{behav("email_click", "at_least", 1, 7, "")}), "alice,bob"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				got, count, def := f.preview(t, tc.def)
				if got != tc.want {
					t.Errorf("got %q (count %d), want %q", got, count, tc.want)
				}
				// The per-contact probes the refresher uses agree with the
				// set form the count chose.
				props, _ := f.crm.Properties(ctx, d.Reader(), 1, "contact")
				q, err := segments.Compile(def, props, 1, f.clock.Now())
				if err != nil {
					t.Fatal(err)
				}
				var n int64
				if err := d.Reader().QueryRowContext(ctx, `SELECT COUNT(*) FROM contacts c WHERE c.workspace_id = 1 AND `+q.Where, q.Args...).Scan(&n); err != nil || n != count {
					t.Errorf("probe form counts %d (%v), set form %d", n, err, count)
				}
			})
		}
	})
}

// Engagement decays by time with no new events (ADR 0026): a contact scored
// 12 under a 14-day half-life leaves "engagement ≥ 10" two weeks later,
// though nothing rescored it, and the preview shows the decayed figure.
func TestPreview_EngagementDecaysByTimeWithoutNewEvents(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := setup(t, d)
		ctx := context.Background()
		if err := d.Write(ctx, "test scores", func(tx *db.Tx) error {
			_, err := tx.ExecContext(ctx, `UPDATE contact_scores SET half_life_days = 14, scored_at = ? WHERE contact_id = ?`, db.Millis(f.clock.Now()), f.ids["bob"])
			return err
		}); err != nil {
			t.Fatal(err)
		}
		engaged := def([]string{cond("engagement_score", "gte", "10")})
		if got, _, _ := f.preview(t, engaged); got != "alice,bob" {
			t.Fatalf("just scored: %q, want alice,bob", got)
		}
		f.clock.Advance(14 * 24 * time.Hour)
		if got, _, _ := f.preview(t, engaged); got != "alice" {
			t.Errorf("two weeks later: %q, want alice (bob's 12 decayed to 6)", got)
		}
		bob, err := f.crm.GetContact(ctx, d.Reader(), f.mkt, f.ids["bob"])
		if err != nil || bob.Score.Engagement != 6 {
			t.Errorf("bob's engagement read two weeks later = %v, %v; want 6", bob.Score.Engagement, err)
		}
	})
}

func TestParse_RefusesUnknownNamingTheField(t *testing.T) {
	props := []crm.PropertyDefinition{{ObjectType: "contact", Key: "budget", Type: crm.PropNumber}}
	for _, tc := range []struct{ in, field string }{
		{`{"groups":[{"conditions":[{"field":"salary","op":"eq","value":"1"}]}]}`, "groups[0].conditions[0].field"},
		{`{"groups":[{"conditions":[{"field":"title","op":"eq","value":"x"}]},{"conditions":[{"field":"title","op":"gte","value":"1"}]}]}`, "groups[1].conditions[0].op"},
		{`{"groups":[{"conditions":[{"field":"prop.nope","op":"eq","value":"1"}]}]}`, "groups[0].conditions[0].field"},
		{`{"groups":[{"conditions":[{"field":"prop.budget","op":"gte","value":"lots"}]}]}`, "groups[0].conditions[0].value"},
		{`{"groups":[{"conditions":[{"field":"visited_page","op":"at_least","days":0}]}]}`, "groups[0].conditions[0].days"},
		{`{"groups":[{"conditions":[{"field":"lifecycle_stage","op":"eq","value":"king"}]}]}`, "groups[0].conditions[0].value"},
		{`{"groups":[{"conditions":[{"field":"title","op":"eq","value":"x","colour":"red"}]}]}`, "definition"},
		{`{"groups":[]}`, "groups"},
		{`{"groups":[{"conditions":[]}]}`, "groups[0].conditions"},
		{`[1]`, "definition"},
	} {
		_, err := segments.Parse([]byte(tc.in), props)
		var e *errs.Error
		if !errorsAs(err, &e) || e.Kind != errs.Invalid || e.Field != tc.field {
			t.Errorf("%s: got %v, want invalid %s", tc.in, err, tc.field)
		}
	}
}

func errorsAs(err error, e **errs.Error) bool {
	for err != nil {
		if x, ok := err.(*errs.Error); ok {
			*e = x
			return true
		}
		u, ok := err.(interface{ Unwrap() error })
		if !ok {
			return false
		}
		err = u.Unwrap()
	}
	return false
}

// segmentEvents returns "kind:name" of the segment events recorded.
func (f *fixture) segmentEvents(t *testing.T) []string {
	t.Helper()
	rows, err := f.d.Reader().QueryContext(context.Background(), `SELECT kind, contact_id FROM events WHERE workspace_id = 1 AND kind IN ('segment_entered', 'segment_left') ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var k string
		var id int64
		if err := rows.Scan(&k, &id); err != nil {
			t.Fatal(err)
		}
		out = append(out, k+":"+f.names[id])
	}
	return out
}

func (f *fixture) members(t *testing.T, id int64) string {
	t.Helper()
	p, err := f.seg.SegmentMembers(context.Background(), f.d.Reader(), 1, id, 0, 200)
	if err != nil {
		t.Fatal(err)
	}
	var ids []int64
	for _, m := range p.Items {
		ids = append(ids, m.ContactID)
	}
	return f.who(ids)
}

func TestRefresher_RecordsEnterAndLeave(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := setup(t, d)
		ctx := context.Background()
		r := &segments.Refresher{Segments: f.seg}
		if _, err := r.Follow(ctx, 1); err != nil { // sets the marks
			t.Fatal(err)
		}
		sg, err := f.seg.CreateSegment(ctx, f.mkt, segments.SegmentInput{Name: "Pricing visitors",
			Definition: json.RawMessage(def([]string{behav("visited_page", "at_least", 2, 7, "/pricing/")}, []string{cond("title", "eq", "CEO")}))})
		if err != nil {
			t.Fatal(err)
		}
		if left, err := r.RecomputeDue(ctx, 1, time.Second); err != nil || left {
			t.Fatal(left, err)
		}
		if got := f.members(t, sg.ID); got != "carol" {
			t.Fatalf("first fill: %q", got)
		}
		if ev := f.segmentEvents(t); len(ev) != 0 {
			t.Fatalf("first fill recorded events: %v", ev)
		}
		// A new page view: the follower moves alice in and records it.
		f.events(t, []ev{{"alice", platform.EventPageView, "https://acme.example/pricing/team", 0}})
		if _, err := r.Follow(ctx, 1); err != nil {
			t.Fatal(err)
		}
		if got := f.members(t, sg.ID); got != "alice,carol" {
			t.Fatalf("after event: %q", got)
		}
		// A changed contact: carol's title no longer matches.
		f.clock.Advance(time.Second)
		if _, err := f.crm.UpdateContact(ctx, platform.CLI(1), f.ids["carol"], crm.ContactInput{Title: ptr("Chair")}, platform.Cause{}); err != nil {
			t.Fatal(err)
		}
		if _, err := r.Follow(ctx, 1); err != nil {
			t.Fatal(err)
		}
		if got := f.members(t, sg.ID); got != "alice" {
			t.Fatalf("after update: %q", got)
		}
		// Time passes: the window no longer holds two visits; the periodic
		// full recompute moves alice out.
		f.clock.Advance(8 * 24 * time.Hour)
		if _, err := r.RecomputeDue(ctx, 1, time.Second); err != nil {
			t.Fatal(err)
		}
		if got := f.members(t, sg.ID); got != "" {
			t.Fatalf("after window: %q", got)
		}
		want := []string{"segment_entered:alice", "segment_left:carol", "segment_left:alice"}
		if got := f.segmentEvents(t); strings.Join(got, " ") != strings.Join(want, " ") {
			t.Fatalf("events %v, want %v", got, want)
		}
		got, err := f.seg.GetSegment(ctx, d.Reader(), 1, sg.ID)
		if err != nil || got.Members != 0 || got.RefreshedAt == nil {
			t.Fatalf("segment %+v %v", got, err)
		}
		// The change is on the contact's timeline.
		var n int
		if err := d.Reader().QueryRowContext(ctx, `SELECT COUNT(*) FROM timeline WHERE workspace_id = 1 AND contact_id = ? AND kind IN ('event.segment_entered', 'event.segment_left')`, f.ids["alice"]).Scan(&n); err != nil || n != 2 {
			t.Fatalf("timeline entries %d %v", n, err)
		}
	})
}

func TestLists_MembershipDrivesSegmentsAtOnce(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := setup(t, d)
		ctx := context.Background()
		l, err := f.seg.CreateList(ctx, f.mkt, segments.ListInput{Name: "展示会 2026"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.seg.CreateList(ctx, f.mkt, segments.ListInput{Name: "展示会 2026"}); errs.KindOf(err) != errs.Conflict {
			t.Fatalf("duplicate name: %v", err)
		}
		sg, err := f.seg.CreateSegment(ctx, f.mkt, segments.SegmentInput{Name: "Booth, IT",
			Definition: json.RawMessage(def([]string{cond("list", "in", fmt.Sprint(l.ID)), cond("company.industry", "eq", "IT")}))})
		if err != nil {
			t.Fatal(err)
		}
		if err := f.seg.RefreshSegment(ctx, 1, sg.ID); err != nil {
			t.Fatal(err)
		}
		n, err := f.seg.AddToList(ctx, f.rep, l.ID, []int64{f.ids["alice"], f.ids["carol"], f.ids["alice"]})
		if err != nil || n != 2 {
			t.Fatalf("added %d %v", n, err)
		}
		if got := f.members(t, sg.ID); got != "alice" {
			t.Fatalf("members %q", got)
		}
		if _, err := f.seg.RemoveFromList(ctx, f.mkt, l.ID, []int64{f.ids["alice"]}); err != nil {
			t.Fatal(err)
		}
		if got := f.members(t, sg.ID); got != "" {
			t.Fatalf("members after remove %q", got)
		}
		if got := strings.Join(f.segmentEvents(t), " "); got != "segment_entered:alice segment_left:alice" {
			t.Fatalf("events %q", got)
		}
		if _, err := f.seg.AddToList(ctx, f.mkt, l.ID, []int64{999999}); errs.KindOf(err) != errs.Invalid {
			t.Fatalf("unknown contact: %v", err)
		}
		lists, err := f.seg.ContactLists(ctx, d.Reader(), 1, f.ids["carol"])
		if err != nil || len(lists) != 1 || lists[0].Name != "展示会 2026" || lists[0].Members != 1 {
			t.Fatalf("contact lists %+v %v", lists, err)
		}
		if _, err := f.seg.UpdateList(ctx, f.mkt, l.ID, segments.ListInput{Name: "Trade show"}); err != nil {
			t.Fatal(err)
		}
		if err := f.seg.DeleteList(ctx, f.rep, l.ID); errs.KindOf(err) != errs.Forbidden {
			t.Fatalf("rep deletes list: %v", err)
		}
		if err := f.seg.DeleteList(ctx, f.mkt, l.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := f.seg.GetList(ctx, d.Reader(), 1, l.ID); errs.KindOf(err) != errs.NotFound {
			t.Fatalf("deleted list: %v", err)
		}
	})
}

// A count whose OR-groups each read an event set starts from the union of
// those sets; when one group has no set, nothing bounds the matches and
// there is no union. (That both forms count the same is checked by
// TestPreview_EachOperatorOnBothEngines.)
func TestCompileWith_OrGroupsWithEventSetsStartFromTheirUnion(t *testing.T) {
	d, err := segments.Parse([]byte(def(
		[]string{behav("form_submit", "at_least", 1, 14, ""), cond("title", "contains", "部長")},
		[]string{behav("email_open", "at_least", 1, 7, ""), cond("company.employees", "gte", "1000")})), nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name  string
		sets  map[segments.Spot]bool
		union bool
	}{
		{"both groups read a set", map[segments.Spot]bool{{Group: 0, Cond: 0}: true, {Group: 1, Cond: 0}: true}, true},
		{"one group probes", map[segments.Spot]bool{{Group: 0, Cond: 0}: true}, false},
	} {
		q, err := segments.CompileWith(d, nil, 1, t0, tc.sets)
		if err != nil {
			t.Fatal(err)
		}
		if got := strings.HasPrefix(q.Where, "c.id IN (") && strings.Contains(q.Where, " UNION "); got != tc.union {
			t.Errorf("%s: union driver %v, want %v: %s", tc.name, got, tc.union, q.Where)
		}
		if n := strings.Count(q.Where, "?"); n != len(q.Args) {
			t.Errorf("%s: %d placeholders, %d args", tc.name, n, len(q.Args))
		}
	}
}
