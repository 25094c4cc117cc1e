package web_test

import (
	"context"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/ryorin/ryorin/internal/crm"
	"github.com/ryorin/ryorin/internal/db"
	"github.com/ryorin/ryorin/internal/dbtest"
	"github.com/ryorin/ryorin/internal/platform"
)

// TestToday_PageQuickLogAndCalendarFeed signs in as a user with a day's
// work, logs a call from the today page and comes back to it, and reads
// the private calendar feed before and after resetting its address.
func TestToday_PageQuickLogAndCalendarFeed(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := start(t, d, true)
		ctx := context.Background()
		a := platform.Actor{WorkspaceID: 1, UserID: 1, Role: platform.RoleAdmin, Kind: platform.ActorUser}
		s := func(v string) *string { return &v }
		k := func(v string) *string { return &v }
		now := e.clock.Now()
		ct, err := e.crm.CreateContact(ctx, a, crm.ContactInput{FamilyName: s("鈴木"), GivenName: s("一郎"), Email: s("ichiro@example.jp"), OwnerID: &a.UserID})
		if err != nil {
			t.Fatal(err)
		}
		due := now.Add(-3 * time.Hour)
		if _, err := e.crm.LogActivity(ctx, a, crm.ActivityInput{Kind: k("task"), Subject: s("見積書を送る"), DueAt: &due, ContactID: &ct.ID}); err != nil {
			t.Fatal(err)
		}
		at := now.Add(2 * time.Hour)
		if _, err := e.crm.LogActivity(ctx, a, crm.ActivityInput{Kind: k("meeting"), Subject: s("初回訪問"), OccurredAt: &at, ContactID: &ct.ID}); err != nil {
			t.Fatal(err)
		}
		err = d.Write(ctx, "test event", func(tx *db.Tx) error {
			ago := now.Add(-time.Hour)
			for _, ev := range []platform.EventInput{
				{ID: "p1", Kind: "page_view", URL: "https://example.jp/pricing"},
				// As quotemail and the content library record them.
				{ID: "q1", Kind: "quote_view", Properties: map[string]any{"quote": "Q-2026-0012-1", "deal_id": 5}},
				{ID: "c1", Kind: "content_view", URL: "https://example.jp/c/3", Properties: map[string]any{"asset_id": 3, "title": "料金表 2026"}},
				// The click on the quote mail's signed link: its token is not shown.
				{ID: "k1", Kind: "email_click", URL: "https://crm.example.jp/q/AAAAsecret.token"},
			} {
				ev.ContactID, ev.OccurredAt = ct.ID, &ago
				if _, _, err := platform.RecordEventTx(ctx, tx, 1, ev, "", now); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		e.login()
		code, body := e.get("/today")
		if code != 200 {
			t.Fatalf("today: %d %.300s", code, body)
		}
		if strings.Contains(body, "AAAAsecret") || !strings.Contains(body, "メールのリンクをクリック ·") {
			t.Errorf("the click on a signed quote link shows its token, or is missing")
		}
		for _, want := range []string{"見積書を送る", "初回訪問", "料金ページを閲覧 /pricing", `<a href="/deals/5#quotes">見積書 Q-2026-0012-1 を開封</a>`, `<a href="/content/3">「料金表 2026」を閲覧</a>`, `action="/contacts/1/activities"`, `name="back" value="/today"`, "12:00"} {
			if !strings.Contains(body, want) {
				t.Errorf("today page lacks %q", want)
			}
		}
		// One click: a call logged from the today page comes back to it.
		code, _, path := e.post("/contacts/1/activities", url.Values{"kind": {"call"}, "call_outcome": {"connected"}, "back": {"/today"}})
		if code != 200 || path != "/today" {
			t.Errorf("quick log: %d at %s", code, path)
		}
		acts, err := e.crm.ListActivities(ctx, a, crm.ActivityFilter{ContactID: ct.ID, Kind: "call"})
		if err != nil || len(acts.Items) != 1 || acts.Items[0].CallOutcome != "connected" {
			t.Errorf("logged call: %+v %v", acts.Items, err)
		}
		// An outside "back" goes home, not off-site.
		if _, _, path := e.post("/contacts/1/activities", url.Values{"kind": {"email"}, "back": {"https://evil.example/"}}); path != "/" {
			t.Errorf("off-site back went to %s", path)
		}

		// The feed needs no session; a wrong token is a 404.
		feed := regexp.MustCompile(`data-testid="feed-url">[^<]*(/ical/[^<]+\.ics)<`).FindStringSubmatch(body)
		if feed == nil {
			t.Fatal("no feed URL on the today page")
		}
		anon := &http.Client{}
		res, err := anon.Get(e.srv.URL + feed[1])
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != 200 || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/calendar") {
			t.Errorf("feed: %d %s", res.StatusCode, res.Header.Get("Content-Type"))
		}
		for _, bad := range []string{"/ical/1-0-forged.ics", "/ical/nothing", strings.TrimSuffix(feed[1], ".ics")} {
			if res, err := anon.Get(e.srv.URL + bad); err != nil || res.StatusCode != 404 {
				t.Errorf("%s: %v %v", bad, res.StatusCode, err)
			}
		}
		if code, _, _ := e.post("/today/calendar/reset", nil); code != 200 {
			t.Errorf("reset: %d", code)
		}
		if res, err := anon.Get(e.srv.URL + feed[1]); err != nil || res.StatusCode != 404 {
			t.Errorf("old feed after reset: %v %v", res.StatusCode, err)
		}
		// A manager's setting for quiet deals.
		if code, _, _ := e.post("/today/settings", url.Values{"stale_deal_days": {"30"}}); code != 200 {
			t.Errorf("settings: %d", code)
		}
		if _, body := e.get("/today"); !strings.Contains(body, `value="30"`) {
			t.Error("stale days not saved")
		}
		// A monthly target shows as progress.
		if code, _, _ := e.post("/today/quota", url.Values{"target": {"user:1"}, "month": {"2026-04"}, "revenue": {"2,000,000"}, "deals": {"2"}}); code != 200 {
			t.Errorf("quota: %d", code)
		}
		if _, body := e.get("/today"); !strings.Contains(body, "目標 ￥2,000,000 の 0%") && !strings.Contains(body, "目標 ¥2,000,000 の 0%") {
			t.Errorf("quota progress not shown: %s", regexp.MustCompile(`(?s)kpi-quota.{0,600}`).FindString(body))
		}
	})
}

// TestDailyReport_SubmitAndManagerComment: the rep submits from the page,
// the manager sees who has not submitted and comments, the rep is told.
func TestDailyReport_SubmitAndManagerComment(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := start(t, d, true)
		ctx := context.Background()
		cli := platform.CLI(1)
		tm, err := platform.SaveTeam(ctx, d, cli, 0, platform.NewTeam{Name: "営業一課", Function: "sales", ManagerID: 1}, e.clock.Now())
		if err != nil {
			t.Fatal(err)
		}
		for _, u := range []platform.NewUser{{Email: "rep@example.com", Name: "田中 次郎", Role: platform.RoleSales, TeamID: tm.ID, Password: "correct horse battery"},
			{Email: "rep2@example.com", Name: "高橋 三郎", Role: platform.RoleSales, TeamID: tm.ID, Password: "correct horse battery"}} {
			if _, err := platform.CreateUser(ctx, d, cli, u, e.clock.Now()); err != nil {
				t.Fatal(err)
			}
		}
		rep := platform.Actor{WorkspaceID: 1, UserID: 2, Role: platform.RoleSales, Kind: platform.ActorUser, TeamID: tm.ID}
		s := func(v string) *string { return &v }
		ct, err := e.crm.CreateContact(ctx, rep, crm.ContactInput{FamilyName: s("佐々木"), Email: s("sasaki@example.jp")})
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range []string{"no_answer", "appointment"} {
			if _, err := e.crm.LogActivity(ctx, rep, crm.ActivityInput{Kind: s("call"), CallOutcome: s(o), ContactID: &ct.ID}); err != nil {
				t.Fatal(err)
			}
		}
		// The rep signs in and submits.
		jar, _ := cookiejar.New(nil)
		e.c.Jar = jar
		if code, _, at := e.post("/login", url.Values{"email": {"rep@example.com"}, "password": {"correct horse battery"}, "next": {"/today"}}); code != 200 || at != "/today" {
			t.Fatalf("rep login: %d %s", code, at)
		}
		code, body := e.get("/reports/daily")
		if code != 200 || !strings.Contains(body, `data-testid="daily-calls">2<`) || !strings.Contains(body, "アポ獲得 1") {
			t.Fatalf("draft: %d %.200s", code, body)
		}
		if code, _, _ := e.post("/reports/daily", url.Values{"date": {"2026-04-02"}, "comment": {"x"}}); code != 422 {
			t.Errorf("future day: %d", code)
		}
		code, body, at := e.post("/reports/daily", url.Values{"date": {"2026-04-01"}, "comment": {"<script>alert(1)</script> 明日再訪"}})
		if code != 200 || at != "/reports/daily" || !strings.Contains(body, "&lt;script&gt;alert(1)&lt;/script&gt; 明日再訪") || strings.Contains(body, "<script>alert") {
			t.Errorf("submitted: %d at %s", code, at)
		}
		if code, _ := e.get("/reports/daily/team"); code != 403 {
			t.Errorf("rep read the team page: %d", code)
		}
		if code, _ := e.get("/today?user=1"); code != 200 {
			t.Errorf("rep today with user: %d", code)
		}

		// The manager (the admin, who manages the team).
		jar, _ = cookiejar.New(nil)
		e.c.Jar = jar
		e.login()
		code, body = e.get("/reports/daily/team?date=2026-04-01")
		if code != 200 || !strings.Contains(body, `data-testid="team-submitted">1<`) || !strings.Contains(body, `data-testid="team-missing">1<`) ||
			!strings.Contains(body, "田中 次郎") || !strings.Contains(body, "高橋 三郎") {
			t.Fatalf("team page: %d", code)
		}
		id := regexp.MustCompile(`action="/reports/daily/(\d+)/comment"`).FindStringSubmatch(body)
		if id == nil {
			t.Fatal("no comment form")
		}
		if code, _, _ := e.post("/reports/daily/"+id[1]+"/comment", url.Values{"comment": {"決裁者の同席をお願いしてください"}, "back": {"/reports/daily/team?date=2026-04-01"}}); code != 200 {
			t.Errorf("comment: %d", code)
		}
		if _, body := e.get("/reports/daily?date=2026-04-01&user=2"); !strings.Contains(body, "決裁者の同席をお願いしてください") {
			t.Error("manager comment not on the rep's report")
		}
		ns, err := platform.ListNotifications(ctx, d.Reader(), 1, 2, true, 0, 10)
		if err != nil || len(ns) != 1 || ns[0].Link != "/reports/daily?date=2026-04-01" {
			t.Errorf("rep notified: %+v %v", ns, err)
		}
	})
}
