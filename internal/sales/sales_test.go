package sales_test

import (
	"bytes"
	"context"
	"os"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/ryorin/ryorin/internal/clock"
	"github.com/ryorin/ryorin/internal/crm"
	"github.com/ryorin/ryorin/internal/db"
	"github.com/ryorin/ryorin/internal/dbtest"
	"github.com/ryorin/ryorin/internal/errs"
	"github.com/ryorin/ryorin/internal/lead"
	"github.com/ryorin/ryorin/internal/platform"
	"github.com/ryorin/ryorin/internal/sales"
)

func TestMain(m *testing.M) { os.Exit(dbtest.Main(m)) }

var (
	jst = time.FixedZone("JST", 9*3600)
	// t0 is Wednesday 1 April 2026, 10:00 in Tokyo.
	t0 = time.Date(2026, 4, 1, 10, 0, 0, 0, jst)
)

// world is a sales team: a manager, two reps, a customer and a deal.
type world struct {
	d       *db.DB
	fc      *clock.Fake
	cs      *crm.Service
	ss      *sales.Service
	mgr     platform.Actor
	rep     platform.Actor
	rep2    platform.Actor
	team    int64
	contact crm.Contact
	deal    crm.Deal
}

func newWorld(t *testing.T, d *db.DB) *world {
	t.Helper()
	ctx := context.Background()
	fc := clock.NewFake(t0.AddDate(0, 0, -30))
	if err := platform.EnsureWorkspace(ctx, d, 1, "T", fc.Now()); err != nil {
		t.Fatal(err)
	}
	w := &world{d: d, fc: fc, cs: crm.New(d, fc)}
	if err := w.cs.EnsureDefaults(ctx, 1, "ja"); err != nil {
		t.Fatal(err)
	}
	ls := lead.New(d, fc)
	n := &platform.Notifier{DB: d, Clock: fc, Jobs: platform.NewJobs(d, fc, nil)}
	w.ss = sales.New(d, fc, ls, n)
	cli := platform.CLI(1)
	tm, err := platform.SaveTeam(ctx, d, cli, 0, platform.NewTeam{Name: "第一営業部", Function: "sales"}, fc.Now())
	if err != nil {
		t.Fatal(err)
	}
	w.team = tm.ID
	mk := func(email, name string, role platform.Role) platform.Actor {
		u, err := platform.CreateUser(ctx, d, cli, platform.NewUser{Email: email, Name: name, Role: role, TeamID: tm.ID}, fc.Now())
		if err != nil {
			t.Fatal(err)
		}
		return u.Actor(1, platform.ActorUser)
	}
	w.mgr = mk("boss@example.com", "佐藤 課長", platform.RoleManager)
	w.rep = mk("rep@example.com", "田中 一郎", platform.RoleSales)
	w.rep2 = mk("rep2@example.com", "鈴木 花子", platform.RoleSales)
	if _, err := platform.SaveTeam(ctx, d, cli, tm.ID, platform.NewTeam{Name: "第一営業部", Function: "sales", ManagerID: w.mgr.UserID}, fc.Now()); err != nil {
		t.Fatal(err)
	}
	s := func(v string) *string { return &v }
	co, err := w.cs.CreateCompany(ctx, w.rep, crm.CompanyInput{Name: s("株式会社テスト")})
	if err != nil {
		t.Fatal(err)
	}
	if w.contact, err = w.cs.CreateContact(ctx, w.rep, crm.ContactInput{FamilyName: s("山本"), GivenName: s("健"), Email: s("ken@example.jp"),
		CompanyID: &co.ID, OwnerID: &w.rep.UserID}); err != nil {
		t.Fatal(err)
	}
	amt := 1200000.0
	if w.deal, err = w.cs.CreateDeal(ctx, w.rep, crm.DealInput{Name: s("基幹システム刷新"), Amount: &amt, CompanyID: &co.ID, OwnerID: &w.rep.UserID}); err != nil {
		t.Fatal(err)
	}
	return w
}

func (w *world) log(t *testing.T, a platform.Actor, in crm.ActivityInput) crm.Activity {
	t.Helper()
	if in.ContactID == nil && in.DealID == nil {
		in.ContactID = &w.contact.ID
	}
	x, err := w.cs.LogActivity(context.Background(), a, in)
	if err != nil {
		t.Fatal(err)
	}
	return x
}

func str(v string) *string      { return &v }
func at(t time.Time) *time.Time { return &t }
func kind(k string) *string     { return &k }
func boolp(b bool) *bool        { return &b }
func ids(items []sales.Item) []int64 {
	var out []int64
	for _, it := range items {
		out = append(out, it.ID)
	}
	return out
}

func TestToday_ListsTheRepsDayBlockByBlock(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		w := newWorld(t, d)
		// The deal was created 30 days ago and nothing was logged on it since.
		w.fc.Set(t0)
		overdue := w.log(t, w.rep, crm.ActivityInput{Kind: kind("task"), Subject: str("見積送付"), DueAt: at(t0.Add(-26 * time.Hour))})
		dueToday := w.log(t, w.rep, crm.ActivityInput{Kind: kind("task"), Subject: str("折り返し電話"), DueAt: at(t0.Add(5 * time.Hour))})
		w.log(t, w.rep, crm.ActivityInput{Kind: kind("task"), Subject: str("来週の準備"), DueAt: at(t0.Add(30 * time.Hour))})
		w.log(t, w.rep2, crm.ActivityInput{Kind: kind("task"), Subject: str("他人のタスク"), DueAt: at(t0.Add(time.Hour))})
		meeting := w.log(t, w.rep, crm.ActivityInput{Kind: kind("meeting"), Subject: str("定例"), OccurredAt: at(t0.Add(4 * time.Hour)), DealID: &w.deal.ID})
		w.log(t, w.rep, crm.ActivityInput{Kind: kind("meeting"), Subject: str("明日の商談"), OccurredAt: at(t0.Add(20 * time.Hour))})
		// Events: a pricing visit and a click count; a blog visit and an old
		// click do not.
		err := d.Write(ctx, "test events", func(tx *db.Tx) error {
			for i, e := range []platform.EventInput{
				{ID: "e1", Kind: "page_view", URL: "https://example.jp/pricing", OccurredAt: at(t0.Add(-2 * time.Hour))},
				{ID: "e2", Kind: "email_click", URL: "https://example.jp/case", OccurredAt: at(t0.Add(-1 * time.Hour))},
				{ID: "e3", Kind: "page_view", URL: "https://example.jp/blog", OccurredAt: at(t0.Add(-1 * time.Hour))},
				{ID: "e4", Kind: "email_click", URL: "https://example.jp/old", OccurredAt: at(t0.Add(-30 * time.Hour))},
			} {
				e.ContactID = w.contact.ID
				if _, _, err := platform.RecordEventTx(ctx, tx, 1, e, "", t0.Add(time.Duration(i)*time.Second)); err != nil {
					return err
				}
			}
			// A lead waiting for its first touch.
			_, err := tx.ExecContext(ctx, `INSERT INTO lead_slas (workspace_id, contact_id, owner_id, policy, state, started_at, due_at)
				VALUES (1, ?, ?, 'normal', 'open', ?, ?)`, w.contact.ID, w.rep.UserID, db.Millis(t0.Add(-time.Hour)), db.Millis(t0.Add(time.Hour)))
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		got, err := w.ss.TodayFor(ctx, d.Reader(), 1, w.rep.UserID, jst)
		if err != nil {
			t.Fatal(err)
		}
		if got.Day != "2026-04-01" {
			t.Errorf("day %s", got.Day)
		}
		if g := ids(got.Tasks); len(g) != 2 || g[0] != overdue.ID || g[1] != dueToday.ID {
			t.Errorf("tasks %v, want overdue %d then today %d", g, overdue.ID, dueToday.ID)
		}
		if !got.Tasks[0].Overdue || got.Tasks[1].Overdue || got.Tasks[0].FamilyName != "山本" || got.Tasks[0].CompanyName != "株式会社テスト" {
			t.Errorf("task details %+v", got.Tasks)
		}
		if g := ids(got.Meetings); len(g) != 1 || g[0] != meeting.ID || got.Meetings[0].DealName != "基幹システム刷新" {
			t.Errorf("meetings %+v", got.Meetings)
		}
		if len(got.Hot) != 1 || got.Hot[0].Count != 2 || got.Hot[0].Signals[0].Kind != "email_click" || got.Hot[0].Signals[1].Path != "/pricing" {
			t.Errorf("hot %+v", got.Hot)
		}
		if len(got.Leads) != 1 || got.Leads[0].ContactID != w.contact.ID {
			t.Errorf("leads %+v", got.Leads)
		}
		// The meeting logged on the deal today is in the future, so the deal
		// is still quiet: created 30 days ago, never touched.
		if len(got.Stale) != 1 || got.Stale[0].ID != w.deal.ID || got.Stale[0].LastActivityAt != nil || got.StaleDays != 14 {
			t.Errorf("stale %+v", got.Stale)
		}
		// A call on the deal takes it off the stale list; so does a longer limit.
		w.log(t, w.rep, crm.ActivityInput{Kind: kind("call"), DealID: &w.deal.ID, CallOutcome: str("connected")})
		if got, _ = w.ss.TodayFor(ctx, d.Reader(), 1, w.rep.UserID, jst); len(got.Stale) != 0 {
			t.Errorf("stale after a call: %+v", got.Stale)
		}
		// The other rep sees only their own task.
		other, err := w.ss.TodayFor(ctx, d.Reader(), 1, w.rep2.UserID, jst)
		if err != nil {
			t.Fatal(err)
		}
		if len(other.Tasks) != 1 || len(other.Meetings) != 0 || len(other.Hot) != 0 || len(other.Leads) != 0 {
			t.Errorf("other rep: %+v", other)
		}
	})
}

func TestSettings_StaleDaysIsValidatedAndUsed(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		w := newWorld(t, d)
		w.fc.Set(t0)
		if _, err := w.ss.SaveSettings(ctx, w.rep, sales.Settings{StaleDealDays: 7}); !errs.Is(err, errs.Forbidden) {
			t.Errorf("rep changed settings: %v", err)
		}
		if _, err := w.ss.SaveSettings(ctx, w.mgr, sales.Settings{StaleDealDays: 0}); !errs.Is(err, errs.Invalid) {
			t.Errorf("0 days: %v", err)
		}
		if _, err := w.ss.SaveSettings(ctx, w.mgr, sales.Settings{StaleDealDays: 45}); err != nil {
			t.Fatal(err)
		}
		got, err := w.ss.TodayFor(ctx, d.Reader(), 1, w.rep.UserID, jst)
		if err != nil {
			t.Fatal(err)
		}
		if got.StaleDays != 45 || len(got.Stale) != 0 {
			t.Errorf("45 days: %d %+v", got.StaleDays, got.Stale)
		}
	})
}

func TestDailyReport_DraftSubmitCommentAndTeamView(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		w := newWorld(t, d)
		w.fc.Set(t0)
		for _, o := range []string{"no_answer", "no_answer", "gatekeeper", "appointment"} {
			w.log(t, w.rep, crm.ActivityInput{Kind: kind("call"), CallOutcome: str(o)})
		}
		w.log(t, w.rep, crm.ActivityInput{Kind: kind("call")})
		w.log(t, w.rep, crm.ActivityInput{Kind: kind("email"), Subject: str("資料送付")})
		w.log(t, w.rep, crm.ActivityInput{Kind: kind("call"), CallOutcome: str("connected"), OccurredAt: at(t0.AddDate(0, 0, -1))}) // yesterday
		w.log(t, w.rep, crm.ActivityInput{Kind: kind("demo"), Subject: str("製品デモ"), OccurredAt: at(t0.Add(2 * time.Hour))})
		task := w.log(t, w.rep, crm.ActivityInput{Kind: kind("task"), Subject: str("見積作成"), DueAt: at(t0)})
		if _, err := w.cs.UpdateActivity(ctx, w.rep, task.ID, crm.ActivityInput{Done: boolp(true)}); err != nil {
			t.Fatal(err)
		}
		next := w.log(t, w.rep, crm.ActivityInput{Kind: kind("task"), Subject: str("稟議確認"), DueAt: at(t0.Add(24 * time.Hour))})
		stages, err := w.cs.Pipelines(ctx, d.Reader(), 1)
		if err != nil {
			t.Fatal(err)
		}
		to := stages[0].Stages[1].ID
		if _, err := w.cs.UpdateDeal(ctx, w.rep, w.deal.ID, crm.DealInput{StageID: &to}); err != nil {
			t.Fatal(err)
		}

		r, err := w.ss.Report(ctx, d.Reader(), w.rep, w.rep.UserID, "2026-04-01", jst)
		if err != nil {
			t.Fatal(err)
		}
		sum := r.Summary
		if r.Submitted() || sum.Calls != 5 || sum.Emails != 1 {
			t.Fatalf("draft: %+v", r)
		}
		want := []sales.OutcomeCount{{Outcome: "no_answer", Count: 2}, {Outcome: "gatekeeper", Count: 1}, {Outcome: "appointment", Count: 1}, {Outcome: "", Count: 1}}
		if len(sum.Outcomes) != len(want) {
			t.Fatalf("outcomes %+v", sum.Outcomes)
		}
		for i := range want {
			if sum.Outcomes[i] != want[i] {
				t.Errorf("outcome %d: %+v, want %+v", i, sum.Outcomes[i], want[i])
			}
		}
		if len(sum.Meetings) != 1 || sum.Meetings[0].Kind != "demo" || len(sum.TasksDone) != 1 || sum.TasksDone[0].ID != task.ID {
			t.Errorf("meetings/tasks done: %+v %+v", sum.Meetings, sum.TasksDone)
		}
		if len(sum.NextActions) != 1 || sum.NextActions[0].ID != next.ID {
			t.Errorf("next actions %+v", sum.NextActions)
		}
		if len(sum.DealsMoved) != 1 || sum.DealsMoved[0].DealID != w.deal.ID || sum.DealsMoved[0].To != stages[0].Stages[1].Name {
			t.Errorf("deals moved %+v", sum.DealsMoved)
		}

		// Another rep cannot read it; the manager can.
		if _, err := w.ss.Report(ctx, d.Reader(), w.rep2, w.rep.UserID, "2026-04-01", jst); !errs.Is(err, errs.NotFound) {
			t.Errorf("other rep read a report: %v", err)
		}
		// Bad input.
		if _, err := w.ss.SubmitReport(ctx, w.rep, "2026-04-02", "", jst); !errs.Is(err, errs.Unprocessable) {
			t.Errorf("future day: %v", err)
		}
		if _, err := w.ss.SubmitReport(ctx, w.rep, "4/1", "", jst); !errs.Is(err, errs.Invalid) {
			t.Errorf("bad day: %v", err)
		}
		if _, err := w.ss.SubmitReport(ctx, w.rep, "2026-04-01", strings.Repeat("あ", 4000), jst); !errs.Is(err, errs.Invalid) {
			t.Errorf("long comment: %v", err)
		}

		// Before submitting, the manager sees both reps as missing.
		rows, err := w.ss.TeamDay(ctx, d.Reader(), w.mgr, 0, "2026-04-01")
		if err != nil {
			t.Fatal(err)
		}
		if len(rows) != 2 || rows[0].Report != nil || rows[1].Report != nil {
			t.Fatalf("team before: %+v", rows)
		}
		sub, err := w.ss.SubmitReport(ctx, w.rep, "2026-04-01", "アポ1件獲得。<b>稟議</b>は来週。", jst)
		if err != nil {
			t.Fatal(err)
		}
		if !sub.Submitted() || sub.Summary.Calls != 5 || sub.ID == 0 {
			t.Fatalf("submitted %+v", sub)
		}
		// The manager was told.
		ns, err := platform.ListNotifications(ctx, d.Reader(), 1, w.mgr.UserID, true, 0, 10)
		if err != nil || len(ns) != 1 || ns[0].Kind != "daily_report.submitted" {
			t.Errorf("manager notifications %+v %v", ns, err)
		}
		// What is logged after submitting does not change the report.
		w.log(t, w.rep, crm.ActivityInput{Kind: kind("call"), CallOutcome: str("connected")})
		r, err = w.ss.Report(ctx, d.Reader(), w.mgr, w.rep.UserID, "2026-04-01", jst)
		if err != nil || r.Summary.Calls != 5 || r.Comment != "アポ1件獲得。<b>稟議</b>は来週。" {
			t.Errorf("stored report %+v %v", r, err)
		}
		rows, err = w.ss.TeamDay(ctx, d.Reader(), w.mgr, 0, "2026-04-01")
		if err != nil {
			t.Fatal(err)
		}
		var submitted, missing int
		for _, row := range rows {
			if row.Report != nil {
				submitted++
			} else {
				missing++
			}
		}
		if submitted != 1 || missing != 1 {
			t.Errorf("team after: %d submitted, %d missing", submitted, missing)
		}
		if _, err := w.ss.TeamDay(ctx, d.Reader(), w.rep, 0, "2026-04-01"); !errs.Is(err, errs.Forbidden) {
			t.Errorf("rep read the team: %v", err)
		}

		// Comments: a rep may not; the manager's reaches the rep.
		if _, err := w.ss.CommentReport(ctx, w.rep2, sub.ID, "いいね"); !errs.Is(err, errs.Forbidden) {
			t.Errorf("rep commented: %v", err)
		}
		if _, err := w.ss.CommentReport(ctx, w.mgr, sub.ID, "  "); !errs.Is(err, errs.Invalid) {
			t.Errorf("empty comment: %v", err)
		}
		if _, err := w.ss.CommentReport(ctx, w.mgr, 9999, "x"); !errs.Is(err, errs.NotFound) {
			t.Errorf("missing report: %v", err)
		}
		c, err := w.ss.CommentReport(ctx, w.mgr, sub.ID, "稟議の前に決裁者と会えるよう調整を。")
		if err != nil {
			t.Fatal(err)
		}
		if c.ManagerID != w.mgr.UserID || c.CommentedAt == nil || c.Comment != sub.Comment {
			t.Errorf("commented %+v", c)
		}
		ns, err = platform.ListNotifications(ctx, d.Reader(), 1, w.rep.UserID, true, 0, 10)
		if err != nil || len(ns) != 1 || ns[0].Kind != "daily_report.comment" || !strings.Contains(ns[0].Body, "決裁者") || ns[0].Title != "佐藤 課長 さんが 2026-04-01 の日報にコメントしました" {
			t.Errorf("rep notifications %+v %v", ns, err)
		}
		// Submitting again keeps the manager's comment.
		again, err := w.ss.SubmitReport(ctx, w.rep, "2026-04-01", "追記あり", jst)
		if err != nil || again.ManagerComment == "" || again.Summary.Calls != 6 || again.ID != sub.ID {
			t.Errorf("resubmitted %+v %v", again, err)
		}
	})
}

func TestCalendarFeed_TokenAndRFC5545(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		w := newWorld(t, d)
		w.fc.Set(t0)
		long := strings.Repeat("打ち合わせ, 価格; 条件\\確認 ", 6) + "\n2行目"
		w.log(t, w.rep, crm.ActivityInput{Kind: kind("meeting"), Subject: &long, OccurredAt: at(t0.Add(3 * time.Hour)), DealID: &w.deal.ID})
		task := w.log(t, w.rep, crm.ActivityInput{Kind: kind("task"), Subject: str("見積, 送付"), DueAt: at(t0.Add(time.Hour))})
		if _, err := w.cs.UpdateActivity(ctx, w.rep, task.ID, crm.ActivityInput{Done: boolp(true)}); err != nil {
			t.Fatal(err)
		}
		w.log(t, w.rep, crm.ActivityInput{Kind: kind("task"), Subject: str("期限なし")}) // no due date: not in the feed
		w.log(t, w.rep2, crm.ActivityInput{Kind: kind("meeting"), Subject: str("他人の会議"), OccurredAt: at(t0.Add(time.Hour))})

		tok, err := w.ss.FeedToken(ctx, d.Reader(), 1, w.rep.UserID)
		if err != nil {
			t.Fatal(err)
		}
		u, err := w.ss.FeedUser(ctx, d.Reader(), 1, tok)
		if err != nil || u.ID != w.rep.UserID {
			t.Fatalf("feed user %+v %v", u, err)
		}
		for _, bad := range []string{"", "x", tok + "x", strings.Replace(tok, "-0-", "-1-", 1), "3-0-" + tok[strings.LastIndex(tok, "-")+1:]} {
			if _, err := w.ss.FeedUser(ctx, d.Reader(), 1, bad); !errs.Is(err, errs.NotFound) {
				t.Errorf("token %q: %v", bad, err)
			}
		}
		ics, err := w.ss.Calendar(ctx, d.Reader(), 1, u, "ja")
		if err != nil {
			t.Fatal(err)
		}
		checkICS(t, ics)
		unfolded := strings.ReplaceAll(string(ics), "\r\n ", "")
		for _, want := range []string{"BEGIN:VCALENDAR\r\n", "BEGIN:VEVENT\r\n", "DTSTART:20260401T040000Z\r\n", "DTEND:20260401T050000Z\r\n",
			`SUMMARY:打ち合わせ\, 価格\; 条件\\確認 `, `\n2行目 — 株式会社テスト` + "\r\n", "DESCRIPTION:基幹システム刷新\r\n",
			"BEGIN:VTODO\r\n", `SUMMARY:見積\, 送付 — 山本 健 · 株式会社テスト` + "\r\n", "STATUS:COMPLETED\r\n", "DUE:20260401T020000Z\r\n", "END:VCALENDAR\r\n"} {
			if !strings.Contains(unfolded, want) {
				t.Errorf("feed lacks %q:\n%s", want, unfolded)
			}
		}
		for _, not := range []string{"他人の会議", "期限なし"} {
			if strings.Contains(unfolded, not) {
				t.Errorf("feed has %q", not)
			}
		}
		// Reset: the old URL stops working, the new one works.
		tok2, err := w.ss.ResetFeed(ctx, w.rep)
		if err != nil || tok2 == tok {
			t.Fatalf("reset %q %v", tok2, err)
		}
		if _, err := w.ss.FeedUser(ctx, d.Reader(), 1, tok); !errs.Is(err, errs.NotFound) {
			t.Errorf("old token after reset: %v", err)
		}
		if u, err := w.ss.FeedUser(ctx, d.Reader(), 1, tok2); err != nil || u.ID != w.rep.UserID {
			t.Errorf("new token: %v", err)
		}
		// A deactivated user's feed is gone.
		if _, err := platform.UpdateUser(ctx, d, platform.CLI(1), w.rep.UserID, platform.UserPatch{Active: boolp(false)}, t0); err != nil {
			t.Fatal(err)
		}
		if _, err := w.ss.FeedUser(ctx, d.Reader(), 1, tok2); !errs.Is(err, errs.NotFound) {
			t.Errorf("inactive user's feed: %v", err)
		}
	})
}

// checkICS checks the line rules of RFC 5545 §3.1: CRLF line ends, no line
// over 75 octets, continuation lines start with a space, and every line is
// whole UTF-8.
func checkICS(t *testing.T, ics []byte) {
	t.Helper()
	if !bytes.HasSuffix(ics, []byte("\r\n")) {
		t.Error("feed does not end with CRLF")
	}
	lines := bytes.Split(bytes.TrimSuffix(ics, []byte("\r\n")), []byte("\r\n"))
	folded := 0
	for i, l := range lines {
		if bytes.ContainsAny(l, "\r\n") {
			t.Errorf("line %d has a bare CR or LF: %q", i, l)
		}
		if len(l) > 75 {
			t.Errorf("line %d is %d octets: %q", i, len(l), l)
		}
		if !utf8.Valid(l) {
			t.Errorf("line %d splits a character: %q", i, l)
		}
		if len(l) > 0 && l[0] == ' ' {
			folded++
		}
	}
	if folded == 0 {
		t.Error("the long summary was not folded")
	}
}

func TestText_EscapesRFC5545(t *testing.T) {
	for in, want := range map[string]string{
		`a,b;c\d`:      `a\,b\;c\\d`,
		"1\r\n2\n3\r4": `1\n2\n3\n4`,
		"tab\tok\x01":  "tab\tok",
		"日本語":          "日本語",
	} {
		if got := sales.Text(in); got != want {
			t.Errorf("Text(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestQuota_ProgressCountsClosedWonThisMonth(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		w := newWorld(t, d)
		w.fc.Set(t0)
		for _, bad := range []sales.Quota{
			{Scope: "user", ScopeID: w.rep.UserID, Month: "2026-4", Revenue: 1},
			{Scope: "org", ScopeID: 1, Month: "2026-04"},
			{Scope: "user", ScopeID: w.rep.UserID, Month: "2026-04", Revenue: -1},
		} {
			if _, err := w.ss.SetQuota(ctx, w.mgr, bad); !errs.Is(err, errs.Invalid) {
				t.Errorf("%+v: %v", bad, err)
			}
		}
		if _, err := w.ss.SetQuota(ctx, w.mgr, sales.Quota{Scope: "user", ScopeID: 999, Month: "2026-04"}); !errs.Is(err, errs.Unprocessable) {
			t.Errorf("unknown user: %v", err)
		}
		if _, err := w.ss.SetQuota(ctx, w.rep, sales.Quota{Scope: "user", ScopeID: w.rep.UserID, Month: "2026-04", Revenue: 1}); !errs.Is(err, errs.Forbidden) {
			t.Errorf("rep set a quota: %v", err)
		}
		if _, err := w.ss.SetQuota(ctx, w.mgr, sales.Quota{Scope: "user", ScopeID: w.rep.UserID, Month: "2026-04", Revenue: 4_800_000, Deals: 4}); err != nil {
			t.Fatal(err)
		}
		if _, err := w.ss.SetQuota(ctx, w.mgr, sales.Quota{Scope: "team", ScopeID: w.team, Month: "2026-04", Revenue: 10_000_000, Deals: 8}); err != nil {
			t.Fatal(err)
		}
		ps, err := w.cs.Pipelines(ctx, d.Reader(), 1)
		if err != nil {
			t.Fatal(err)
		}
		var won int64
		for _, st := range ps[0].Stages {
			if st.Kind == "won" {
				won = st.ID
			}
		}
		if _, err := w.cs.UpdateDeal(ctx, w.rep, w.deal.ID, crm.DealInput{StageID: &won}); err != nil {
			t.Fatal(err)
		}
		u, err := platform.GetUser(ctx, d.Reader(), 1, w.rep.UserID)
		if err != nil {
			t.Fatal(err)
		}
		p, err := w.ss.QuotaProgress(ctx, d.Reader(), 1, u, jst)
		if err != nil {
			t.Fatal(err)
		}
		if p.Month != "2026-04" || p.WonDeals != 1 || p.WonRevenue != 1_200_000 || p.Target.Revenue != 4_800_000 || p.RevenuePct() != 25 {
			t.Errorf("rep progress %+v", p)
		}
		if !p.HasTeam || p.TeamWonDeals != 1 || p.TeamRevenuePct() != 12 || p.TeamTarget.Deals != 8 {
			t.Errorf("team progress %+v", p)
		}
		// Next month starts from nothing.
		w.fc.Set(time.Date(2026, 5, 1, 0, 30, 0, 0, jst))
		if p, err = w.ss.QuotaProgress(ctx, d.Reader(), 1, u, jst); err != nil || p.WonDeals != 0 || p.HasAnyTargets {
			t.Errorf("May: %+v %v", p, err)
		}
	})
}

// TestToday_QuoteAndContentViewsAreSignals records the events quotemail and
// the content library store when a customer opens a quote and views shared
// content (same kinds and properties), and checks they show as re-engagement
// with what was opened, on the contact owner's page only.
func TestToday_QuoteAndContentViewsAreSignals(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		w := newWorld(t, d)
		w.fc.Set(t0)
		theirs, err := w.cs.CreateContact(ctx, w.rep2, crm.ContactInput{FamilyName: str("小林"), Email: str("k@example.jp"), OwnerID: &w.rep2.UserID})
		if err != nil {
			t.Fatal(err)
		}
		err = d.Write(ctx, "test events", func(tx *db.Tx) error {
			for i, e := range []platform.EventInput{
				{ID: "q1", Kind: "quote_view", ContactID: w.contact.ID, OccurredAt: at(t0.Add(-3 * time.Hour)), Channel: "email",
					Properties: map[string]any{"quote": "Q-2026-0007-2", "deal_id": w.deal.ID, "quote_send_id": 1}},
				{ID: "c1", Kind: "content_view", ContactID: w.contact.ID, OccurredAt: at(t0.Add(-1 * time.Hour)), URL: "https://example.jp/c/7-case",
					Properties: map[string]any{"asset_id": 7, "title": "導入事例：製造業", "kind": "case_study", "source": "share"}},
				{ID: "q-old", Kind: "quote_view", ContactID: w.contact.ID, OccurredAt: at(t0.Add(-25 * time.Hour)),
					Properties: map[string]any{"quote": "Q-2026-0007-1", "deal_id": w.deal.ID}},
				{ID: "q2", Kind: "quote_view", ContactID: theirs.ID, OccurredAt: at(t0.Add(-2 * time.Hour)),
					Properties: map[string]any{"quote": "Q-2026-0009-1", "deal_id": 99}},
			} {
				if _, _, err := platform.RecordEventTx(ctx, tx, 1, e, "", t0.Add(time.Duration(i)*time.Second)); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		got, err := w.ss.TodayFor(ctx, d.Reader(), 1, w.rep.UserID, jst)
		if err != nil {
			t.Fatal(err)
		}
		if len(got.Hot) != 1 || got.Hot[0].ContactID != w.contact.ID || got.Hot[0].Count != 2 {
			t.Fatalf("hot %+v", got.Hot)
		}
		sg := got.Hot[0].Signals
		if sg[0].Kind != "content_view" || sg[0].Detail != "導入事例：製造業" || sg[0].AssetID != 7 {
			t.Errorf("content view %+v", sg[0])
		}
		if sg[1].Kind != "quote_view" || sg[1].Detail != "Q-2026-0007-2" || sg[1].DealID != w.deal.ID {
			t.Errorf("quote view %+v", sg[1])
		}
		other, err := w.ss.TodayFor(ctx, d.Reader(), 1, w.rep2.UserID, jst)
		if err != nil {
			t.Fatal(err)
		}
		if len(other.Hot) != 1 || other.Hot[0].ContactID != theirs.ID || len(other.Hot[0].Signals) != 1 || other.Hot[0].Signals[0].Detail != "Q-2026-0009-1" {
			t.Errorf("other rep's hot leads %+v", other.Hot)
		}
	})
}

// TestToday_HotLeadsFollowTheContactsOwner checks that the hot leads come from
// ingested events (the bulk path) and move with the contact when its owner
// changes: the rep's list is read from rows that carry the owner.
func TestToday_HotLeadsFollowTheContactsOwner(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		w := newWorld(t, d)
		w.fc.Set(t0)
		res, err := platform.IngestEvents(ctx, d, platform.System(1), []platform.EventInput{
			{ID: "p1", Kind: "page_view", ContactID: w.contact.ID, URL: "https://example.jp/ja/pricing", OccurredAt: at(t0.Add(-3 * time.Hour))},
			{ID: "p2", Kind: "page_view", ContactID: w.contact.ID, URL: "https://example.jp/ja/pricing", OccurredAt: at(t0.Add(-2 * time.Hour))},
			{ID: "b1", Kind: "page_view", ContactID: w.contact.ID, URL: "https://example.jp/blog", OccurredAt: at(t0.Add(-1 * time.Hour))},
		}, t0)
		if err != nil || res.Accepted != 3 {
			t.Fatalf("ingest %+v %v", res, err)
		}
		hot := func(user int64) []sales.HotLead {
			t.Helper()
			got, err := w.ss.TodayFor(ctx, d.Reader(), 1, user, jst)
			if err != nil {
				t.Fatal(err)
			}
			return got.Hot
		}
		if h := hot(w.rep.UserID); len(h) != 1 || h[0].Count != 2 || !h[0].Signals[0].At.Equal(t0.Add(-2*time.Hour)) {
			t.Fatalf("rep's hot leads %+v", h)
		}
		if _, err := w.cs.UpdateContact(ctx, w.mgr, w.contact.ID, crm.ContactInput{OwnerID: &w.rep2.UserID}, platform.Cause{}); err != nil {
			t.Fatal(err)
		}
		if h := hot(w.rep.UserID); len(h) != 0 {
			t.Errorf("the former owner still sees %+v", h)
		}
		if h := hot(w.rep2.UserID); len(h) != 1 || h[0].ContactID != w.contact.ID || h[0].Count != 2 {
			t.Errorf("the new owner sees %+v", h)
		}
		// A day later the signals have left the window.
		w.fc.Set(t0.Add(23 * time.Hour))
		if h := hot(w.rep2.UserID); len(h) != 0 {
			t.Errorf("a day later %+v", h)
		}
	})
}
