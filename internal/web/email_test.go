package web_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/ryorin/ryorin/internal/crm"
	"github.com/ryorin/ryorin/internal/db"
	"github.com/ryorin/ryorin/internal/dbtest"
	"github.com/ryorin/ryorin/internal/platform"
	"github.com/ryorin/ryorin/internal/smtptest"
)

func TestEmailUI_CampaignPagesAndPublicLinksInBothLanguages(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := start(t, d, true)
		e.login()
		ctx := context.Background()
		srv := smtptest.Start(t)
		if _, err := platform.SetSMTP(ctx, d, platform.CLI(1), platform.SMTPSettings{Host: srv.Host(), Port: srv.Port(), TLS: "none",
			FromAddress: "news@example.jp", FromName: "両輪"}, e.clock.Now()); err != nil {
			t.Fatal(err)
		}
		s := func(v string) *string { return &v }
		ct, err := e.crm.CreateContact(ctx, platform.CLI(1), crm.ContactInput{FamilyName: s("鈴木"), Email: s("suzuki@example.jp"),
			ConsentEmail: s("granted"), ConsentSource: s("test")})
		if err != nil {
			t.Fatal(err)
		}
		if code, body, at := e.post("/lists", url.Values{"name": {"展示会"}}); code != 200 || at != "/lists/1" {
			t.Fatalf("create list: %d at %s %.300s", code, at, body)
		}
		if _, err := e.seg.AddToList(ctx, platform.CLI(1), 1, []int64{ct.ID}); err != nil {
			t.Fatal(err)
		}
		// A template that does not parse is refused, naming the line, with the input kept.
		bad := url.Values{"name": {"春のご案内"}, "audience": {"list:1"}, "subject": {"{{.Salutation}}"},
			"html": {"<p>ok</p>\n<p>{{.Nickname}}</p>"}, "text": {""}}
		code, body, _ := e.post("/email/campaigns", bad)
		if code != http.StatusUnprocessableEntity || !strings.Contains(body, "line 2") || !strings.Contains(body, "春のご案内") {
			t.Fatalf("broken template: %d %.600s", code, body)
		}
		good := bad
		good.Set("html", `<p>{{.Salutation}}</p><p><a href="https://example.co.jp/case">事例</a></p>`)
		// An A/B test with nothing in variant B is refused next to the test's fields.
		noB := url.Values{}
		for k, v := range good {
			noB[k] = v
		}
		noB.Set("ab_sample", "20")
		if code, body, _ := e.post("/email/campaigns", noB); code != http.StatusUnprocessableEntity || !strings.Contains(body, `data-testid="ab-test" open`) {
			t.Fatalf("A/B test without a variant: %d", code)
		}
		code, body, at := e.post("/email/campaigns", good)
		if code != 200 || at != "/email/campaigns/1" || !strings.Contains(body, "鈴木様") {
			t.Fatalf("create: %d at %s %.600s", code, at, body)
		}
		for _, lang := range []string{"ja", "en"} {
			if code, _, _ := e.post("/settings/language", url.Values{"lang": {lang}}); code != 200 {
				t.Fatalf("set language %s: %d", lang, code)
			}
			for _, p := range []string{"/email/campaigns", "/email/campaigns/new", "/email/campaigns/1", "/email/campaigns/1?confirm=1", "/email/campaigns/1?contact=999"} {
				if code, body := e.get(p); code != 200 || strings.Contains(body, "ZgotmplZ") {
					t.Errorf("%s %s: %d %.300s", lang, p, code, body)
				}
			}
		}
		if _, body := e.get("/email/campaigns/1?confirm=1"); !strings.Contains(body, `data-testid="send-confirm"`) {
			t.Errorf("no confirmation step: %.300s", body)
		}
		// Scheduled for tomorrow with a rate and a window, then taken back.
		tomorrow := e.clock.Now().Add(24 * time.Hour).In(time.FixedZone("JST", 9*3600)).Format("2006-01-02T15:04")
		if code, body, _ := e.post("/email/campaigns/1/send", url.Values{"send_at": {tomorrow}, "per_minute": {"100"}, "window_start": {"9"}, "window_end": {"18"}}); code != 200 || !strings.Contains(body, `data-testid="scheduled"`) {
			t.Fatalf("schedule: %d %.300s", code, body)
		}
		if code, body, _ := e.post("/email/campaigns/1/unschedule", nil); code != 200 || strings.Contains(body, `data-testid="scheduled"`) || !strings.Contains(body, `data-testid="send-now"`) {
			t.Fatalf("unschedule: %d %.300s", code, body)
		}
		if code, body, _ := e.post("/email/campaigns/1/send", nil); code != 200 || !strings.Contains(body, `data-testid="report"`) {
			t.Fatalf("send: %d %.300s", code, body)
		}
		for i := 0; i < 5; i++ {
			if _, err := e.jobs.RunOnce(ctx); err != nil {
				t.Fatal(err)
			}
		}
		msgs := srv.Messages()
		if len(msgs) != 1 {
			t.Fatalf("sink has %d messages", len(msgs))
		}
		raw := strings.ReplaceAll(string(msgs[0].Data), "=\r\n", "")
		unsub := regexp.MustCompile(`/e/u/([A-Za-z0-9_.-]+)>`).FindStringSubmatch(raw)
		open := regexp.MustCompile(`/e/o/([A-Za-z0-9_.-]+)\.gif`).FindStringSubmatch(raw)
		if unsub == nil || open == nil {
			t.Fatalf("no links in %s", raw)
		}

		// The public links, signed out.
		e.post("/logout", nil)
		res, err := e.c.Get(e.srv.URL + "/e/o/" + open[1] + ".gif")
		if err != nil || res.StatusCode != 200 || res.Header.Get("Content-Type") != "image/gif" {
			t.Fatalf("pixel: %v %v", res, err)
		}
		res.Body.Close()
		noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		for _, p := range []string{"/e/c/forged.token", "/e/c/" + open[1]} {
			res, err := noRedirect.Get(e.srv.URL + p)
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			if res.StatusCode != 404 || res.Header.Get("Location") != "" {
				t.Errorf("GET %s: %d to %q", p, res.StatusCode, res.Header.Get("Location"))
			}
		}
		if code, body := e.get("/e/u/forged.token"); code != 400 || !strings.Contains(body, "無効") {
			t.Errorf("forged unsubscribe: %d %.300s", code, body)
		}
		if code, body := e.get("/e/u/" + unsub[1] + "?lang=en"); code != 200 || !strings.Contains(body, `data-testid="unsubscribe-confirm"`) || !strings.Contains(body, "s*****@example.jp") {
			t.Fatalf("unsubscribe page: %d %.500s", code, body)
		}
		// RFC 8058 one-click: a cross-site POST with the one-click body.
		req, _ := http.NewRequest("POST", e.srv.URL+"/e/u/"+unsub[1], strings.NewReader("List-Unsubscribe=One-Click"))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		res, err = http.DefaultClient.Do(req)
		if err != nil || res.StatusCode != 200 {
			t.Fatalf("one-click: %v %v", res, err)
		}
		res.Body.Close()
		got, _ := e.crm.GetContact(ctx, d.Reader(), platform.System(1), ct.ID)
		if got.Consent.Email != "revoked" {
			t.Errorf("consent after one-click = %+v", got.Consent)
		}
		if code, body := e.get("/e/u/" + unsub[1]); code != 200 || !strings.Contains(body, "停止しました") {
			t.Errorf("after unsubscribing: %d %.300s", code, body)
		}
		e.mu.Lock()
		defer e.mu.Unlock()
		for _, n := range e.web.Templates() {
			if strings.HasPrefix(n, "email") && !e.renders[n] {
				t.Errorf("template %s is not rendered by this test", n)
			}
		}
	})
}
