package api_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/ryorin/ryorin/internal/db"
	"github.com/ryorin/ryorin/internal/dbtest"
	"github.com/ryorin/ryorin/internal/platform"
	"github.com/ryorin/ryorin/internal/smtptest"
)

func (e *env) notify(userID int64, nt platform.Notification) int64 {
	e.t.Helper()
	var id int64
	err := e.app.DB.Write(context.Background(), "test", func(tx *db.Tx) error {
		var err error
		id, _, err = e.app.Notifier.Notify(context.Background(), tx, 1, userID, nt)
		return err
	})
	if err != nil {
		e.t.Fatal(err)
	}
	return id
}

func TestAPI_NotificationsAreMineToListAndMarkRead(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := start(t, d)
		first := e.notify(e.salesID, platform.Notification{Kind: "task.due", Title: "期限です", Link: "/tasks/1", DedupeKey: "t1"})
		e.notify(e.salesID, platform.Notification{Kind: "task.due", Title: "二件目", DedupeKey: "t2"})
		e.notify(e.salesID, platform.Notification{Kind: "task.due", Title: "dup", DedupeKey: "t2"})

		if r := e.do(e.sales, "GET", "/api/v1/notifications/unread-count", nil); r.status != 200 || r.body["unread"] != 2.0 {
			t.Fatalf("unread: %d %s", r.status, r.raw)
		}
		r := e.do(e.sales, "GET", "/api/v1/notifications?limit=1", nil)
		items, _ := r.body["items"].([]any)
		if r.status != 200 || len(items) != 1 || items[0].(map[string]any)["title"] != "二件目" || r.body["next_cursor"] == nil {
			t.Fatalf("page 1: %d %s", r.status, r.raw)
		}
		r = e.do(e.sales, "GET", "/api/v1/notifications?limit=1&cursor="+r.body["next_cursor"].(string), nil)
		if items, _ := r.body["items"].([]any); len(items) != 1 || items[0].(map[string]any)["title"] != "期限です" {
			t.Fatalf("page 2: %s", r.raw)
		}
		if r := e.do(e.admin, "GET", "/api/v1/notifications", nil); r.status != 200 || len(r.body["items"].([]any)) != 0 {
			t.Fatalf("admin sees someone else's notifications: %s", r.raw)
		}
		if r := e.do(e.admin, "POST", fmt.Sprintf("/api/v1/notifications/%d/read", first), nil); r.status != 404 {
			t.Fatalf("admin marking the rep's notification: %d", r.status)
		}
		if r := e.do(e.sales, "POST", fmt.Sprintf("/api/v1/notifications/%d/read", first), nil); r.status != 200 || r.body["read_at"] == nil {
			t.Fatalf("mark read: %d %s", r.status, r.raw)
		}
		if r := e.do(e.sales, "GET", "/api/v1/notifications?unread=true", nil); len(r.body["items"].([]any)) != 1 {
			t.Fatalf("unread list: %s", r.raw)
		}
		if r := e.do(e.sales, "GET", "/api/v1/notifications?unread=maybe", nil); r.status != 400 || r.errField() != "unread" {
			t.Fatalf("bad unread: %d %s", r.status, r.raw)
		}
		if r := e.do(e.sales, "POST", "/api/v1/notifications/read-all", nil); r.status != 200 || r.body["marked"] != 1.0 {
			t.Fatalf("read-all: %d %s", r.status, r.raw)
		}
	})
}

func TestAPI_NotificationPrefs(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := start(t, d)
		r := e.do(e.sales, "GET", "/api/v1/notification-prefs", nil)
		if def, _ := r.body["defaults"].(map[string]any); r.status != 200 || def["in_app"] != true || def["email"] != false || def["chat"] != true {
			t.Fatalf("defaults: %d %s", r.status, r.raw)
		}
		r = e.do(e.sales, "PUT", "/api/v1/notification-prefs", map[string]any{"kinds": []map[string]any{{"kind": "task.due", "in_app": true, "email": true, "chat": false}}})
		if kinds, _ := r.body["kinds"].([]any); r.status != 200 || len(kinds) != 1 || kinds[0].(map[string]any)["email"] != true {
			t.Fatalf("set: %d %s", r.status, r.raw)
		}
		if r := e.do(e.sales, "PUT", "/api/v1/notification-prefs", map[string]any{"kinds": []map[string]any{{"kind": "NO GOOD"}}}); r.status != 400 || r.errField() != "kinds[0].kind" {
			t.Fatalf("bad kind: %d %s", r.status, r.raw)
		}
		e.notify(e.salesID, platform.Notification{Kind: "task.due", Title: "メールも"})
		if n := e.count("mail_messages"); n != 1 {
			t.Fatalf("%d mails queued", n)
		}
	})
}

func TestAPI_NotificationChannelsAreAdminOnlyAndNeverShowSecrets(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := start(t, d)
		secret := "https://hooks.slack.com/services/T1/B1/verysecrettokenABCD"
		body := map[string]any{"kind": "slack", "name": "営業", "url": secret, "kinds": []string{"deal.won"}}
		if r := e.do(e.sales, "POST", "/api/v1/notification-channels", body); r.status != 403 {
			t.Fatalf("sales create: %d", r.status)
		}
		if r := e.do(e.sales, "GET", "/api/v1/notification-channels", nil); r.status != 403 {
			t.Fatalf("sales list: %d", r.status)
		}
		r := e.do(e.admin, "POST", "/api/v1/notification-channels", body)
		if r.status != 201 || strings.Contains(r.raw, "verysecret") || r.body["url_hint"] != "hooks.slack.com/…ABCD" {
			t.Fatalf("create: %d %s", r.status, r.raw)
		}
		id := int64(r.body["id"].(float64))
		if r := e.do(e.admin, "POST", "/api/v1/notification-channels", map[string]any{"kind": "slack", "name": "x", "url": "javascript:alert(1)"}); r.status != 400 || r.errField() != "url" {
			t.Fatalf("bad url: %d %s", r.status, r.raw)
		}
		if r := e.do(e.admin, "POST", "/api/v1/notification-channels", map[string]any{"kind": "line", "name": "x", "url": "https://x.example"}); r.status != 400 || r.errField() != "kind" {
			t.Fatalf("bad kind: %d %s", r.status, r.raw)
		}
		r = e.do(e.admin, "GET", "/api/v1/notification-channels", nil)
		if r.status != 200 || strings.Contains(r.raw, "verysecret") || !strings.Contains(r.raw, "営業") {
			t.Fatalf("list: %d %s", r.status, r.raw)
		}
		if r := e.do(e.admin, "GET", "/api/v1/audit?object_type=notification_channel", nil); strings.Contains(r.raw, "verysecret") {
			t.Fatalf("secret in the audit log: %s", r.raw)
		}
		if r := e.do(e.admin, "DELETE", fmt.Sprintf("/api/v1/notification-channels/%d", id), nil); r.status != 204 {
			t.Fatalf("delete: %d %s", r.status, r.raw)
		}
		if r := e.do(e.admin, "DELETE", fmt.Sprintf("/api/v1/notification-channels/%d", id), nil); r.status != 404 {
			t.Fatalf("delete again: %d", r.status)
		}
	})
}

func TestAPI_SMTPSettingsHideThePasswordAndTestMailReportsErrors(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := start(t, d)
		srv := smtptest.Start(t)
		settings := map[string]any{"host": srv.Host(), "port": srv.Port(), "tls": "none", "username": "", "password": "pa55word-xyz",
			"from_address": "info@example.jp", "from_name": "両輪"}
		if r := e.do(e.sales, "PUT", "/api/v1/settings/smtp", settings); r.status != 403 {
			t.Fatalf("sales: %d", r.status)
		}
		r := e.do(e.admin, "PUT", "/api/v1/settings/smtp", settings)
		if r.status != 200 || r.body["password_set"] != true || strings.Contains(r.raw, "pa55word") {
			t.Fatalf("put: %d %s", r.status, r.raw)
		}
		r = e.do(e.admin, "GET", "/api/v1/settings/smtp", nil)
		if r.status != 200 || r.body["password_set"] != true || r.body["host"] != srv.Host() || strings.Contains(r.raw, "pa55word") {
			t.Fatalf("get: %d %s", r.status, r.raw)
		}
		for _, p := range []string{"/api/v1/workspace", "/api/v1/audit"} {
			if r := e.do(e.admin, "GET", p, nil); strings.Contains(r.raw, "pa55word") {
				t.Fatalf("password leaked by %s: %s", p, r.raw)
			}
		}
		if r := e.do(e.admin, "PUT", "/api/v1/settings/smtp", map[string]any{"host": "h", "tls": "ssl", "from_address": "a@example.jp"}); r.status != 400 || r.errField() != "tls" {
			t.Fatalf("bad tls: %d %s", r.status, r.raw)
		}
		if r := e.do(e.admin, "POST", "/api/v1/settings/smtp/test", map[string]any{"to": "admin@example.com"}); r.status != 200 || r.body["sent"] != true {
			t.Fatalf("test: %d %s", r.status, r.raw)
		}
		if n := len(srv.Messages()); n != 1 {
			t.Fatalf("server got %d", n)
		}
		srv.FailPermanently()
		if r := e.do(e.admin, "POST", "/api/v1/settings/smtp/test", map[string]any{"to": "admin@example.com"}); r.status != 422 || !strings.Contains(r.raw, "550") {
			t.Fatalf("refused test: %d %s", r.status, r.raw)
		}
		if r := e.do(e.admin, "POST", "/api/v1/settings/smtp/test", map[string]any{"to": "nope"}); r.status != 400 || r.errField() != "to" {
			t.Fatalf("bad to: %d %s", r.status, r.raw)
		}
	})
}
