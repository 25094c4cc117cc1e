package platform_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ryorin/ryorin/internal/db"
	"github.com/ryorin/ryorin/internal/dbtest"
	"github.com/ryorin/ryorin/internal/errs"
	"github.com/ryorin/ryorin/internal/platform"
)

// hook is an httptest server standing in for Slack, Teams or Chatwork.
type hook struct {
	*httptest.Server
	mu       sync.Mutex
	reqs     []hookReq
	failures []int // statuses to answer before succeeding
}

type hookReq struct {
	Path, Token, ContentType string
	Body                     []byte
}

func newHook(t *testing.T) *hook {
	h := &hook{}
	h.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		h.mu.Lock()
		defer h.mu.Unlock()
		if len(h.failures) > 0 {
			st := h.failures[0]
			h.failures = h.failures[1:]
			w.WriteHeader(st)
			return
		}
		h.reqs = append(h.reqs, hookReq{r.URL.Path, r.Header.Get("X-ChatWorkToken"), r.Header.Get("Content-Type"), b})
		w.Write([]byte("ok"))
	}))
	t.Cleanup(h.Close)
	return h
}

func (h *hook) got() []hookReq {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]hookReq(nil), h.reqs...)
}

type notifyEnv struct {
	n    *platform.Notifier
	q    *platform.Jobs
	d    *db.DB
	user platform.User
	adv  func(time.Duration)
}

func newNotifier(t *testing.T, d *db.DB) *notifyEnv {
	t.Helper()
	m, q := newMailer(t, d, nil)
	n := &platform.Notifier{DB: d, Clock: m.Clock, Jobs: q, Mailer: m, HTTP: &http.Client{Timeout: 5 * time.Second}}
	n.Register()
	u, err := platform.CreateUser(context.Background(), d, platform.CLI(1), platform.NewUser{Email: "rep@example.com", Name: "営業 太郎", Role: platform.RoleSales}, t0)
	if err != nil {
		t.Fatal(err)
	}
	return &notifyEnv{n: n, q: q, d: d, user: u, adv: m.Clock.(interface{ Advance(time.Duration) }).Advance}
}

func (e *notifyEnv) notify(t *testing.T, nt platform.Notification) (int64, bool) {
	t.Helper()
	var id int64
	var created bool
	err := e.d.Write(context.Background(), "test", func(tx *db.Tx) error {
		var err error
		id, created, err = e.n.Notify(context.Background(), tx, 1, e.user.ID, nt)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return id, created
}

func (e *notifyEnv) channel(t *testing.T, in platform.ChannelInput) platform.NotificationChannel {
	t.Helper()
	c, err := platform.SaveNotificationChannel(context.Background(), e.d, platform.CLI(1), 0, in, t0)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func (e *notifyEnv) run(t *testing.T) {
	t.Helper()
	if _, err := e.q.RunOnce(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func TestNotify_SameDedupeKeyNotifiesOnceAndChannelGetsItOnce(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := newNotifier(t, d)
		slack := newHook(t)
		e.channel(t, platform.ChannelInput{Kind: platform.ChatSlack, Name: "営業チャンネル", URL: slack.URL + "/services/T0/B0/secretpart"})
		nt := platform.Notification{Kind: "task.due", Title: "タスクの期限です", Body: "見積書を送る", Link: "/tasks/7", DedupeKey: "task:7:due"}
		id1, c1 := e.notify(t, nt)
		id2, c2 := e.notify(t, nt)
		if !c1 || c2 || id1 != id2 {
			t.Fatalf("created %v %v, ids %d %d", c1, c2, id1, id2)
		}
		e.run(t)
		e.run(t)
		got := slack.got()
		if len(got) != 1 || got[0].Path != "/services/T0/B0/secretpart" || got[0].ContentType != "application/json" {
			t.Fatalf("slack got %+v", got)
		}
		var body map[string]string
		if err := json.Unmarshal(got[0].Body, &body); err != nil || !strings.Contains(body["text"], "タスクの期限です") || !strings.Contains(body["text"], "/tasks/7") {
			t.Fatalf("slack body %s", got[0].Body)
		}
		items, err := platform.ListNotifications(context.Background(), d.Reader(), 1, e.user.ID, true, 0, 10)
		if err != nil || len(items) != 1 || items[0].Title != nt.Title {
			t.Fatalf("list %+v %v", items, err)
		}
		if n, _ := platform.UnreadCount(context.Background(), d.Reader(), 1, e.user.ID); n != 1 {
			t.Fatalf("unread %d", n)
		}
	})
}

func TestNotify_ChannelRetriesServerErrorsButPostsOnce(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := newNotifier(t, d)
		teams := newHook(t)
		teams.failures = []int{503, 429}
		bad := newHook(t)
		bad.failures = []int{404, 404, 404}
		e.channel(t, platform.ChannelInput{Kind: platform.ChatTeams, Name: "Teams", URL: teams.URL + "/webhookb2/abc"})
		e.channel(t, platform.ChannelInput{Kind: platform.ChatSlack, Name: "Gone", URL: bad.URL + "/gone"})
		e.notify(t, platform.Notification{Kind: "deal.won", Title: "受注しました", DedupeKey: "deal:1:won"})
		e.run(t)
		for i := 0; i < 3; i++ {
			e.adv(time.Hour)
			e.run(t)
		}
		if got := teams.got(); len(got) != 1 {
			t.Fatalf("teams got %d posts", len(got))
		}
		c, _ := platform.JobCounts(context.Background(), d.Reader())
		if c[platform.JobDone] != 1 || c[platform.JobFailed] != 1 {
			t.Fatalf("jobs %v (a 404 must fail at once, the 503/429 must retry)", c)
		}
		var lastErr string
		d.Reader().QueryRowContext(context.Background(), `SELECT last_error FROM jobs WHERE status = 'failed'`).Scan(&lastErr)
		if strings.Contains(lastErr, bad.URL) || !strings.Contains(lastErr, "404") {
			t.Fatalf("last_error %q", lastErr)
		}
	})
}

func TestNotify_ChatworkGetsTokenHeaderAndFormBody(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := newNotifier(t, d)
		cw := newHook(t)
		e.n.ChatworkBaseURL = cw.URL + "/v2"
		c := e.channel(t, platform.ChannelInput{Kind: platform.ChatChatwork, Name: "CW", URL: "https://www.chatwork.com/#!rid123456", Token: "cw-token-abcdef"})
		if c.URLHint != "room 123456" || !c.TokenSet {
			t.Fatalf("channel %+v", c)
		}
		e.notify(t, platform.Notification{Kind: "form.submitted", Title: "フォーム送信", Body: "資料請求がありました"})
		e.run(t)
		got := cw.got()
		if len(got) != 1 || got[0].Path != "/v2/rooms/123456/messages" || got[0].Token != "cw-token-abcdef" ||
			got[0].ContentType != "application/x-www-form-urlencoded" {
			t.Fatalf("chatwork got %+v", got)
		}
		form, err := url.ParseQuery(string(got[0].Body))
		if err != nil || !strings.Contains(form.Get("body"), "フォーム送信") || !strings.Contains(form.Get("body"), "資料請求がありました") {
			t.Fatalf("form %q %v", got[0].Body, err)
		}
	})
}

func TestNotify_KindsFilterChoosesChannels(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := newNotifier(t, d)
		deals, all := newHook(t), newHook(t)
		e.channel(t, platform.ChannelInput{Kind: platform.ChatSlack, Name: "deals", URL: deals.URL + "/x", Kinds: []string{"deal.won", "deal.lost"}})
		e.channel(t, platform.ChannelInput{Kind: platform.ChatSlack, Name: "all", URL: all.URL + "/y"})
		off := false
		e.channel(t, platform.ChannelInput{Kind: platform.ChatSlack, Name: "disabled", URL: all.URL + "/z", Enabled: &off})
		e.notify(t, platform.Notification{Kind: "deal.won", Title: "won"})
		e.notify(t, platform.Notification{Kind: "task.due", Title: "due"})
		e.run(t)
		if len(deals.got()) != 1 || len(all.got()) != 2 {
			t.Fatalf("deals got %d, all got %d", len(deals.got()), len(all.got()))
		}
	})
}

func TestNotify_PrefsTurnEmailOnAndChatOff(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := newNotifier(t, d)
		slack := newHook(t)
		e.channel(t, platform.ChannelInput{Kind: platform.ChatSlack, Name: "s", URL: slack.URL + "/x"})
		me := e.user.Actor(1, platform.ActorUser)
		prefs, err := platform.SetPrefs(context.Background(), d, me, []platform.NotificationPref{{Kind: "task.due", InApp: true, Email: true, Chat: false}})
		if err != nil || len(prefs) != 1 || !prefs[0].Email {
			t.Fatalf("%+v %v", prefs, err)
		}
		if _, err := platform.SetPrefs(context.Background(), d, me, []platform.NotificationPref{{Kind: "Bad Kind!"}}); errs.KindOf(err) != errs.Invalid {
			t.Fatalf("bad kind: %v", err)
		}
		id, _ := e.notify(t, platform.Notification{Kind: "task.due", Title: "期限", Body: "本日まで"})
		var to, subject, refType string
		var refID int64
		err = d.Reader().QueryRowContext(context.Background(), `SELECT to_addr, subject, ref_type, ref_id FROM mail_messages`).Scan(&to, &subject, &refType, &refID)
		if err != nil || to != "rep@example.com" || subject != "期限" || refType != "notification" || refID != id {
			t.Fatalf("mail row: %s %s %s %d %v", to, subject, refType, refID, err)
		}
		e.run(t)
		if len(slack.got()) != 0 {
			t.Fatal("chat was off for this kind")
		}
		// Other kinds keep the defaults: no email.
		e.notify(t, platform.Notification{Kind: "deal.won", Title: "x"})
		var n int
		d.Reader().QueryRowContext(context.Background(), `SELECT COUNT(*) FROM mail_messages`).Scan(&n)
		if n != 1 {
			t.Fatalf("%d mails", n)
		}
	})
}

func TestNotify_ReadMarksAndInAppOff(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := newNotifier(t, d)
		ctx := context.Background()
		me := e.user.Actor(1, platform.ActorUser)
		a, _ := e.notify(t, platform.Notification{Kind: "a", Title: "1"})
		e.notify(t, platform.Notification{Kind: "a", Title: "2"})
		e.notify(t, platform.Notification{Kind: "a", Title: "3"})
		other := platform.Actor{WorkspaceID: 1, UserID: 999, Role: platform.RoleAdmin, Kind: platform.ActorUser}
		if _, err := platform.MarkRead(ctx, d, other, a, t0); !errs.Is(err, errs.NotFound) {
			t.Fatalf("someone else's notification: %v", err)
		}
		x, err := platform.MarkRead(ctx, d, me, a, t0)
		if err != nil || x.ReadAt == nil {
			t.Fatalf("%+v %v", x, err)
		}
		page, _ := platform.ListNotifications(ctx, d.Reader(), 1, e.user.ID, false, 0, 2)
		if len(page) != 2 || page[0].Title != "3" {
			t.Fatalf("page 1 %+v", page)
		}
		page2, _ := platform.ListNotifications(ctx, d.Reader(), 1, e.user.ID, false, page[1].ID, 2)
		if len(page2) != 1 || page2[0].ID != a {
			t.Fatalf("page 2 %+v", page2)
		}
		if n, err := platform.MarkAllRead(ctx, d, me, t0); err != nil || n != 2 {
			t.Fatalf("mark all: %d %v", n, err)
		}
		platform.SetPrefs(ctx, d, me, []platform.NotificationPref{{Kind: "quiet", InApp: false}})
		e.notify(t, platform.Notification{Kind: "quiet", Title: "shh"})
		if n, _ := platform.UnreadCount(ctx, d.Reader(), 1, e.user.ID); n != 0 {
			t.Fatalf("unread %d with in-app off", n)
		}
	})
}

func TestNotificationChannels_ValidatedRedactedAndKeptOutOfTheAuditLog(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := newNotifier(t, d)
		ctx := context.Background()
		for field, in := range map[string]platform.ChannelInput{
			"kind":  {Kind: "line", Name: "x", URL: "https://example.com/x"},
			"url":   {Kind: platform.ChatSlack, Name: "x", URL: "ftp://example.com/x"},
			"name":  {Kind: platform.ChatSlack, URL: "https://example.com/x"},
			"token": {Kind: platform.ChatChatwork, Name: "x", URL: "123"},
		} {
			_, err := platform.SaveNotificationChannel(ctx, d, platform.CLI(1), 0, in, t0)
			if e, ok := errs.As(err); !ok || e.Field != field {
				t.Errorf("%s: %v", field, err)
			}
		}
		sales := e.user.Actor(1, platform.ActorUser)
		if _, err := platform.ListNotificationChannels(ctx, d.Reader(), sales); !errs.Is(err, errs.Forbidden) {
			t.Fatalf("sales listing channels: %v", err)
		}
		secret := "https://hooks.slack.com/services/T000/B000/XXXXsecretXXXXwxyz"
		c := e.channel(t, platform.ChannelInput{Kind: platform.ChatSlack, Name: "s", URL: secret})
		upd, err := platform.SaveNotificationChannel(ctx, d, platform.CLI(1), c.ID, platform.ChannelInput{Kind: platform.ChatSlack, Name: "renamed", Kinds: []string{"deal.won"}}, t0)
		if err != nil || upd.Name != "renamed" || upd.URLHint != c.URLHint {
			t.Fatalf("update keeps the URL: %+v %v", upd, err)
		}
		list, err := platform.ListNotificationChannels(ctx, d.Reader(), platform.CLI(1))
		if err != nil || len(list) != 1 {
			t.Fatal(list, err)
		}
		js, _ := json.Marshal(list)
		if strings.Contains(string(js), "secret") || !strings.Contains(string(js), "hooks.slack.com/…wxyz") {
			t.Fatalf("listing %s", js)
		}
		if err := platform.DeleteNotificationChannel(ctx, d, platform.CLI(1), c.ID, t0); err != nil {
			t.Fatal(err)
		}
		entries, _ := platform.ListAudit(ctx, d.Reader(), 1, platform.AuditFilter{ObjectType: "notification_channel"})
		if len(entries) != 3 {
			t.Fatalf("%d audit entries", len(entries))
		}
		for _, en := range entries {
			if strings.Contains(string(en.Changes), "secret") {
				t.Fatalf("secret in audit: %s", en.Changes)
			}
		}
	})
}
