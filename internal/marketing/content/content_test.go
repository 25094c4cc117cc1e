package content_test

import (
	"bytes"
	"context"
	"errors"
	"net/url"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ryorin/ryorin/internal/clock"
	"github.com/ryorin/ryorin/internal/crm"
	"github.com/ryorin/ryorin/internal/db"
	"github.com/ryorin/ryorin/internal/dbtest"
	"github.com/ryorin/ryorin/internal/errs"
	"github.com/ryorin/ryorin/internal/marketing/content"
	"github.com/ryorin/ryorin/internal/marketing/forms"
	"github.com/ryorin/ryorin/internal/platform"
	"github.com/ryorin/ryorin/internal/privacy"
	"github.com/ryorin/ryorin/internal/sales"
)

func TestMain(m *testing.M) { os.Exit(dbtest.Main(m)) }

var t0 = time.Date(2026, 4, 1, 9, 0, 0, 0, time.UTC)

func ptr[T any](v T) *T { return &v }

type fixture struct {
	d       *db.DB
	clock   *clock.Fake
	crm     *crm.Service
	c       *content.Service
	forms   *forms.Service
	mkt     platform.Actor
	rep     platform.Actor
	contact crm.Contact
}

func setup(t *testing.T, d *db.DB) *fixture {
	t.Helper()
	ctx := context.Background()
	if err := platform.EnsureWorkspace(ctx, d, 1, "Test", t0); err != nil {
		t.Fatal(err)
	}
	cli := platform.CLI(1)
	rp, err := platform.CreateUser(ctx, d, cli, platform.NewUser{Email: "rep@ryorin.example", Name: "伊藤 さくら", Role: platform.RoleSales, Locale: "ja"}, t0)
	if err != nil {
		t.Fatal(err)
	}
	mk, err := platform.CreateUser(ctx, d, cli, platform.NewUser{Email: "mkt@ryorin.example", Name: "佐藤 花子", Role: platform.RoleMarketing}, t0)
	if err != nil {
		t.Fatal(err)
	}
	fc := clock.NewFake(t0)
	cs := crm.New(d, fc)
	n := &platform.Notifier{DB: d, Clock: fc, Jobs: platform.NewJobs(d, fc, nil)}
	f := &fixture{d: d, clock: fc, crm: cs, c: content.New(d, fc, cs, n, nil), forms: forms.New(d, fc, cs, nil, nil),
		rep: rp.Actor(1, platform.ActorUser), mkt: mk.Actor(1, platform.ActorUser)}
	f.contact, err = cs.CreateContact(ctx, f.rep, crm.ContactInput{FamilyName: ptr("山田"), GivenName: ptr("太郎"), Email: ptr("taro@customer.example")})
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func fieldOf(err error) string {
	var e *errs.Error
	if errors.As(err, &e) {
		return e.Field
	}
	return ""
}

func count(t *testing.T, d *db.DB, q string, args ...any) int {
	t.Helper()
	var n int
	if err := d.Reader().QueryRowContext(context.Background(), q, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func (f *fixture) asset(t *testing.T, in content.AssetInput, file *content.File) content.Asset {
	t.Helper()
	x, err := f.c.Create(context.Background(), f.mkt, in, file)
	if err != nil {
		t.Fatal(err)
	}
	return x
}

func TestContent_CreateListFilter(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := setup(t, d)
		ctx := context.Background()
		a := f.asset(t, content.AssetInput{Kind: "case_study", Title: "製造業のDX事例", Description: "工場の見える化", URL: "https://example.co.jp/case",
			Topics: []string{"DX", "製造", "DX"}, Industry: "製造業", Stage: "decision", Status: content.StatusPublished}, nil)
		if len(a.Topics) != 2 || a.Key == "" || a.Status != "published" {
			t.Fatalf("asset = %+v", a)
		}
		f.clock.Advance(time.Minute)
		b := f.asset(t, content.AssetInput{Kind: "white_paper", Title: "MA導入ガイド", Topics: []string{"MA, リード育成"}, Industry: "IT", Stage: "awareness"},
			&content.File{Name: `..\evil/guide.pdf`, ContentType: "application/pdf", Data: []byte("%PDF-1.4 test")})
		if b.FileName != "guide.pdf" || b.FileSize != 13 || b.ContentType != "application/pdf" || len(b.Topics) != 2 {
			t.Fatalf("file asset = %+v", b)
		}
		data, err := f.c.FileData(ctx, 1, b.ID)
		if err != nil || string(data) != "%PDF-1.4 test" {
			t.Fatalf("file data = %q, %v", data, err)
		}
		for _, tc := range []struct {
			name string
			f    content.Filter
			want []int64
		}{
			{"all", content.Filter{}, []int64{b.ID, a.ID}},
			{"kind", content.Filter{Kind: "case_study"}, []int64{a.ID}},
			{"topic", content.Filter{Topic: "リード育成"}, []int64{b.ID}},
			{"industry", content.Filter{Industry: "製造業"}, []int64{a.ID}},
			{"stage", content.Filter{Stage: "awareness"}, []int64{b.ID}},
			{"search", content.Filter{Q: "見える化"}, []int64{a.ID}},
			{"search like chars", content.Filter{Q: "%"}, nil},
			{"published", content.Filter{Status: "published"}, []int64{a.ID}},
		} {
			got, err := f.c.List(ctx, f.rep, tc.f)
			if err != nil {
				t.Fatal(err)
			}
			var ids []int64
			for _, x := range got {
				ids = append(ids, x.ID)
			}
			if len(ids) != len(tc.want) || (len(ids) > 0 && ids[0] != tc.want[0]) {
				t.Errorf("%s: got %v, want %v", tc.name, ids, tc.want)
			}
		}
		fc, err := f.c.ListFacets(ctx, f.rep)
		if err != nil || len(fc.Topics) != 4 || len(fc.Industries) != 2 {
			t.Fatalf("facets = %+v, %v", fc, err)
		}
		// Edit: an address replaces the file.
		up, err := f.c.Update(ctx, f.rep, b.ID, content.AssetInput{Kind: "link", Title: "MA導入ガイド（Web版）", URL: "https://example.co.jp/ma"}, nil)
		if err != nil || up.IsFile() || up.URL == "" || len(up.Topics) != 0 {
			t.Fatalf("update = %+v, %v", up, err)
		}
		if _, err := f.c.FileData(ctx, 1, b.ID); !errs.Is(err, errs.NotFound) {
			t.Fatalf("file kept after switching to an address: %v", err)
		}
		if _, err := f.c.Archive(ctx, f.rep, a.ID); err != nil {
			t.Fatal(err)
		}
		if got, _ := f.c.List(ctx, f.rep, content.Filter{}); len(got) != 1 {
			t.Fatalf("archived asset still listed: %d", len(got))
		}
	})
}

func TestContent_RefusesBadInput(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := setup(t, d)
		ctx := context.Background()
		for _, tc := range []struct {
			in    content.AssetInput
			file  *content.File
			field string
		}{
			{content.AssetInput{Kind: "poster", Title: "x", URL: "https://a.example"}, nil, "kind"},
			{content.AssetInput{Kind: "link", Title: " ", URL: "https://a.example"}, nil, "title"},
			{content.AssetInput{Kind: "link", Title: "x", URL: "javascript:alert(1)"}, nil, "url"},
			{content.AssetInput{Kind: "link", Title: "x"}, nil, "url"},
			{content.AssetInput{Kind: "link", Title: "x", URL: "https://a.example", Stage: "later"}, nil, "stage"},
			{content.AssetInput{Kind: "link", Title: "x", URL: "https://a.example", FormID: 999}, nil, "form_id"},
			{content.AssetInput{Kind: "slides", Title: "x"}, &content.File{Name: "a.pdf", Data: nil}, "file"},
			{content.AssetInput{Kind: "slides", Title: "x"}, &content.File{Name: "big.pdf", Data: bytes.Repeat([]byte{1}, content.MaxFileSize+1)}, "file"},
		} {
			if _, err := f.c.Create(ctx, f.mkt, tc.in, tc.file); fieldOf(err) != tc.field {
				t.Errorf("%+v: err = %v, want a %s error", tc.in, err, tc.field)
			}
		}
		// Exactly the limit is fine.
		x, err := f.c.Create(ctx, f.mkt, content.AssetInput{Kind: "slides", Title: "max"}, &content.File{Name: "max.bin", Data: make([]byte, content.MaxFileSize)})
		if err != nil || x.FileSize != content.MaxFileSize {
			t.Fatalf("file at the limit: %+v, %v", x.FileSize, err)
		}
		if err := content.CheckFileSize(content.MaxFileSize + 1); fieldOf(err) != "file" {
			t.Fatalf("CheckFileSize: %v", err)
		}
	})
}

func TestContent_ShareLinkViewRecordsEventTimelineAndNotification(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := setup(t, d)
		ctx := context.Background()
		x := f.asset(t, content.AssetInput{Kind: "case_study", Title: "物流DX事例", URL: "https://example.co.jp/logi", Topics: []string{"物流", "DX"}}, nil)
		link, err := f.c.Share(ctx, f.rep, x.ID, f.contact.ID, "https://crm.example.jp")
		if err != nil || !strings.HasPrefix(link, "https://crm.example.jp/c/s/") {
			t.Fatalf("share = %q, %v", link, err)
		}
		tok := strings.TrimPrefix(link, "https://crm.example.jp/c/s/")
		op, err := f.c.OpenShare(ctx, 1, tok, "https://crm.example.jp")
		if err != nil || op.Access == "" || op.Asset.ID != x.ID {
			t.Fatalf("open = %+v, %v", op, err)
		}
		var props string
		if err := d.Reader().QueryRowContext(ctx, `SELECT properties FROM events WHERE workspace_id = 1 AND kind = 'content_view' AND contact_id = ?`,
			f.contact.ID).Scan(&props); err != nil {
			t.Fatal(err)
		}
		for _, want := range []string{`"asset_id":` + itoa(x.ID), `"topics":["DX","物流"]`} {
			if !strings.Contains(strings.ReplaceAll(props, " ", ""), want) {
				t.Errorf("event properties %s lack %s", props, want)
			}
		}
		if n := count(t, d, `SELECT COUNT(*) FROM timeline WHERE workspace_id = 1 AND contact_id = ? AND kind = 'event.content_view'`, f.contact.ID); n != 1 {
			t.Fatalf("timeline entries = %d", n)
		}
		var title string
		if err := d.Reader().QueryRowContext(ctx, `SELECT title FROM notifications WHERE workspace_id = 1 AND user_id = ? AND kind = 'content.viewed'`,
			f.rep.UserID).Scan(&title); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(title, "山田 太郎") || !strings.Contains(title, "物流DX事例") || !strings.Contains(title, "伊藤 さくら") {
			t.Fatalf("notification title = %q", title)
		}
		// The owner's today page lists the view as re-engagement, naming the asset.
		day, err := sales.New(d, f.clock, nil, nil).TodayFor(ctx, d.Reader(), 1, f.rep.UserID, time.UTC)
		if err != nil {
			t.Fatal(err)
		}
		if len(day.Hot) != 1 || len(day.Hot[0].Signals) != 1 {
			t.Fatalf("hot leads = %+v", day.Hot)
		}
		if sg := day.Hot[0].Signals[0]; sg.Kind != "content_view" || sg.Detail != "物流DX事例" || sg.AssetID != x.ID {
			t.Errorf("today's signal = %+v", sg)
		}
		// Again 10 minutes later: a view and an event, but no second notification.
		f.clock.Advance(10 * time.Minute)
		if _, err := f.c.OpenShare(ctx, 1, tok, "https://crm.example.jp"); err != nil {
			t.Fatal(err)
		}
		if n := count(t, d, `SELECT COUNT(*) FROM notifications WHERE kind = 'content.viewed'`); n != 1 {
			t.Fatalf("notifications within the window = %d", n)
		}
		if n := count(t, d, `SELECT COUNT(*) FROM events WHERE kind = 'content_view'`); n != 2 {
			t.Fatalf("events = %d", n)
		}
		// An hour later the owner hears again.
		f.clock.Advance(time.Hour)
		if _, err := f.c.OpenShare(ctx, 1, tok, "https://crm.example.jp"); err != nil {
			t.Fatal(err)
		}
		if n := count(t, d, `SELECT COUNT(*) FROM notifications WHERE kind = 'content.viewed'`); n != 2 {
			t.Fatalf("notifications after the window = %d", n)
		}
		got, err := f.c.Get(ctx, f.rep, x.ID)
		if err != nil || got.Views != 3 {
			t.Fatalf("views = %d, %v", got.Views, err)
		}
		views, err := f.c.RecentViews(ctx, f.rep, x.ID, 10)
		if err != nil || len(views) != 3 || views[0].ContactID != f.contact.ID || views[0].SharedBy != f.rep.UserID || views[0].Source != "share" {
			t.Fatalf("recent views = %+v, %v", views, err)
		}
		// The access token opens the asset; its address comes from the record.
		res, err := f.c.Resolve(ctx, 1, op.Access)
		if err != nil || res.URL != "https://example.co.jp/logi" {
			t.Fatalf("resolve = %+v, %v", res, err)
		}
		// Other callers get the same kind of link.
		u, err := f.c.TrackedURL(ctx, 1, x.ID, f.contact.ID, 0, "https://crm.example.jp/")
		if err != nil || !strings.HasPrefix(u, "https://crm.example.jp/c/s/") {
			t.Fatalf("tracked url = %q, %v", u, err)
		}
		// Erasing the person removes their views; the asset's count stays.
		ps := &privacy.Service{DB: d, CRM: f.crm, Clock: f.clock}
		if _, err := ps.EraseContact(ctx, platform.CLI(1), f.contact.ID); err != nil {
			t.Fatal(err)
		}
		if n := count(t, d, `SELECT COUNT(*) FROM content_views WHERE contact_id IS NOT NULL`); n != 0 {
			t.Fatalf("views of an erased contact kept: %d", n)
		}
	})
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func TestContent_TamperedTokenRecordsNothing(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := setup(t, d)
		ctx := context.Background()
		x := f.asset(t, content.AssetInput{Kind: "link", Title: "料金表", URL: "https://example.co.jp/price"}, nil)
		link, err := f.c.Share(ctx, f.rep, x.ID, f.contact.ID, "")
		if err != nil {
			t.Fatal(err)
		}
		tok := strings.TrimPrefix(link, "/c/s/")
		body, mac, _ := strings.Cut(tok, ".")
		flipped := []byte(body)
		flipped[3] ^= 1
		for _, bad := range []string{"", "x", body, string(flipped) + "." + mac, body + "." + mac[:len(mac)-2] + "AA", tok + "x"} {
			if _, err := f.c.OpenShare(ctx, 1, bad, ""); !errs.Is(err, errs.NotFound) {
				t.Errorf("OpenShare(%q) = %v, want NotFound", bad, err)
			}
			if _, err := f.c.Resolve(ctx, 1, bad); !errs.Is(err, errs.NotFound) {
				t.Errorf("Resolve(%q) = %v, want NotFound", bad, err)
			}
		}
		// A share token is not an access token and vice versa.
		if _, err := f.c.Resolve(ctx, 1, tok); !errs.Is(err, errs.NotFound) {
			t.Errorf("share token opened the asset directly: %v", err)
		}
		if n := count(t, d, `SELECT COUNT(*) FROM content_views`) + count(t, d, `SELECT COUNT(*) FROM events`) + count(t, d, `SELECT COUNT(*) FROM notifications`); n != 0 {
			t.Fatalf("tampered tokens recorded %d rows", n)
		}
		// An archived asset's links stop working.
		if _, err := f.c.Archive(ctx, f.mkt, x.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := f.c.OpenShare(ctx, 1, tok, "https://crm.example.jp"); !errs.Is(err, errs.NotFound) {
			t.Fatalf("archived asset opened: %v", err)
		}
		// Expired after a year and a day.
		y := f.asset(t, content.AssetInput{Kind: "link", Title: "y", URL: "https://example.co.jp/y"}, nil)
		link, _ = f.c.Share(ctx, f.rep, y.ID, f.contact.ID, "")
		f.clock.Advance(367 * 24 * time.Hour)
		if _, err := f.c.OpenShare(ctx, 1, strings.TrimPrefix(link, "/c/s/"), ""); !errs.Is(err, errs.NotFound) {
			t.Fatalf("expired link opened: %v", err)
		}
	})
}

func TestContent_GatedAssetNeedsTheForm(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := setup(t, d)
		ctx := context.Background()
		fm, err := f.forms.Create(ctx, f.mkt, forms.FormInput{Name: "資料請求", Fields: []forms.Field{{Key: "email", Required: true}}})
		if err != nil {
			t.Fatal(err)
		}
		x := f.asset(t, content.AssetInput{Kind: "white_paper", Title: "ホワイトペーパー", Status: content.StatusPublished, FormID: fm.ID},
			&content.File{Name: "wp.pdf", Data: []byte("%PDF")})
		op, err := f.c.OpenPublic(ctx, 1, x.Key, "https://crm.example.jp")
		if err != nil || !op.Gated || op.Access != "" {
			t.Fatalf("gated open = %+v, %v", op, err)
		}
		if n := count(t, d, `SELECT COUNT(*) FROM content_views`); n != 0 {
			t.Fatalf("a gated page view before the form counted: %d", n)
		}
		op, err = f.c.Unlock(ctx, 1, x.Key, f.contact.ID, "https://crm.example.jp")
		if err != nil || op.Access == "" {
			t.Fatalf("unlock = %+v, %v", op, err)
		}
		if res, err := f.c.Resolve(ctx, 1, op.Access); err != nil || res.ID != x.ID {
			t.Fatalf("resolve = %+v, %v", res, err)
		}
		if n := count(t, d, `SELECT COUNT(*) FROM events WHERE kind = 'content_view' AND contact_id = ?`, f.contact.ID); n != 1 {
			t.Fatalf("events = %d", n)
		}
		// Drafts have no public page.
		dr := f.asset(t, content.AssetInput{Kind: "link", Title: "draft", URL: "https://example.co.jp/d"}, nil)
		if _, err := f.c.OpenPublic(ctx, 1, dr.Key, ""); !errs.Is(err, errs.NotFound) {
			t.Fatalf("draft opened: %v", err)
		}
		if _, err := f.c.OpenPublic(ctx, 1, "../"+url.PathEscape(dr.Key), ""); !errs.Is(err, errs.NotFound) {
			t.Fatalf("bad key: %v", err)
		}
	})
}

func TestContent_BattleCards(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := setup(t, d)
		ctx := context.Background()
		co, err := f.crm.CreateCompetitor(ctx, f.mkt, crm.Competitor{Name: "競合A社"})
		if err != nil {
			t.Fatal(err)
		}
		x := f.asset(t, content.AssetInput{Kind: "slides", Title: "A社比較表", URL: "https://example.co.jp/vs-a"}, nil)
		if err := f.c.LinkBattleCard(ctx, f.rep, co.ID, x.ID, true); err != nil {
			t.Fatal(err)
		}
		if err := f.c.LinkBattleCard(ctx, f.rep, co.ID, x.ID, true); err != nil {
			t.Fatalf("linking twice: %v", err)
		}
		cards, err := f.c.BattleCards(ctx, f.rep, co.ID)
		if err != nil || len(cards) != 1 || cards[0].ID != x.ID {
			t.Fatalf("cards = %+v, %v", cards, err)
		}
		if err := f.c.LinkBattleCard(ctx, f.rep, co.ID, 999, true); fieldOf(err) != "asset_id" {
			t.Fatalf("unknown asset: %v", err)
		}
		if err := f.c.LinkBattleCard(ctx, f.rep, co.ID, x.ID, false); err != nil {
			t.Fatal(err)
		}
		if cards, _ := f.c.BattleCards(ctx, f.rep, co.ID); len(cards) != 0 {
			t.Fatalf("unlinked card still shown")
		}
	})
}
