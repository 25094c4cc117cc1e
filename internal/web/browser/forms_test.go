package browser_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/ryorin/ryorin/internal/app"
	"github.com/ryorin/ryorin/internal/db"
	"github.com/ryorin/ryorin/internal/dbtest"
	"github.com/ryorin/ryorin/internal/platform"
)

// TestBrowser_FormFlow builds a form in the UI, submits its hosted page as a
// visitor, finds the new contact with the submission on its timeline, then
// submits the script embed from a page on another origin (fetch with CORS).
func TestBrowser_FormFlow(t *testing.T) {
	bin := chromium(t)
	d := dbtest.Open(t, db.SQLite)
	a, err := app.OpenOn(context.Background(), app.Config{InsecureCookies: true, Version: "test"}, d)
	if err != nil {
		t.Fatal(err)
	}
	// The time trap stays on, shorter, so the test does not wait seconds.
	a.Forms.MinFillTime = 300 * time.Millisecond
	seed(t, d, a)
	srv := httptest.NewServer(a.Handler())
	defer srv.Close()
	dir := shots(t)

	ctx := browser(t, bin, 90*time.Second, chromedp.Flag("lang", "ja-JP"))

	type act = chromedp.Action[chromedp.Void]
	type css = chromedp.CSS
	type id = chromedp.ID
	shot := func(name string) act {
		return func(ctx context.Context, tg *chromedp.Target) (chromedp.Void, error) {
			buf, err := chromedp.FullScreenshot(100)(ctx, tg)
			if err != nil {
				return chromedp.Void{}, err
			}
			return chromedp.Void{}, os.WriteFile(filepath.Join(dir, name+".png"), buf, 0o644)
		}
	}
	do := func(step string, actions ...act) {
		t.Helper()
		if err := chromedp.Do(ctx, actions...); err != nil {
			t.Fatalf("%s: %v", step, err)
		}
	}
	waitText := func(sel, want string) string {
		t.Helper()
		var got string
		for i := 0; i < 100; i++ {
			got, _ = chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
			if strings.Contains(got, want) {
				return got
			}
			time.Sleep(50 * time.Millisecond)
		}
		t.Fatalf("%s never showed %q; it shows %q", sel, want, got)
		return ""
	}

	do("login",
		chromedp.Navigate(srv.URL+"/forms"),
		chromedp.WaitVisible(id("email")),
		chromedp.SendKeys(id("email"), "admin@example.com"),
		chromedp.SendKeys(id("password"), "correct horse battery"),
		chromedp.Submit(id("password")),
		chromedp.WaitVisible(css("[data-testid=new-form]")),
	)
	do("build a form",
		chromedp.Click(css("[data-testid=new-form]")),
		chromedp.WaitVisible(id("name")),
		chromedp.SendKeys(id("name"), "資料請求フォーム"),
		chromedp.Click(css("[data-testid=use-family_name_kana]")),
		chromedp.Click(css("[data-testid=use-phone]")),
		chromedp.Click(css("[data-testid=use-prefecture]")),
		chromedp.Click(css("[data-testid=consent-enabled]")),
		chromedp.SendKeys(id("allowed_domains"), "example.co.jp"),
		shot("form-builder"),
		chromedp.Click(css("[data-testid=save-form]")),
		chromedp.WaitVisible(css("[data-testid=hosted-url]")),
	)
	hosted, err := chromedp.Run(ctx, chromedp.Value(css("[data-testid=hosted-url]")))
	if err != nil || !strings.Contains(hosted, "/f/") {
		t.Fatalf("hosted URL %q, %v", hosted, err)
	}
	key := hosted[strings.LastIndex(hosted, "/")+1:]

	do("visitor sends the hosted form with a mistake",
		chromedp.Navigate(hosted+"?lang=ja&utm_source=google&utm_medium=cpc&utm_campaign=spring"),
		chromedp.WaitVisible(id("f-email")),
		shot("form-hosted"),
		chromedp.SendKeys(id("f-email"), "hanako.sato@example.co.jp"),
		chromedp.SendKeys(id("f-family_name_kana"), "sato"),
		chromedp.SendKeys(id("f-family_name"), "佐藤"),
		chromedp.SendKeys(id("f-given_name"), "花子"),
		chromedp.SendKeys(id("f-company"), "株式会社みらい商事"),
		chromedp.SetValue(id("f-prefecture"), "大阪府"),
		chromedp.Click(css("[data-testid=consent]")),
		chromedp.Sleep(400*time.Millisecond),
		chromedp.Click(css(".hosted-submit")),
		chromedp.WaitVisible(css(".field.bad")),
		shot("form-hosted-error"),
	)
	waitText(".field.bad .err", "カタカナ")
	// The input is kept; only the furigana needs correcting.
	if v, _ := chromedp.Run(ctx, chromedp.Value(id("f-company"))); v != "株式会社みらい商事" {
		t.Fatalf("company input not kept: %q", v)
	}
	do("correct and send",
		chromedp.SetValue(id("f-family_name_kana"), "サトウ"),
		chromedp.Sleep(400*time.Millisecond),
		chromedp.Click(css(".hosted-submit")),
		chromedp.WaitVisible(css("[data-testid=hosted-done]")),
		shot("form-hosted-done"),
	)

	do("the form's page lists the submission",
		chromedp.Navigate(srv.URL+"/forms"),
		chromedp.WaitVisible(css("[data-testid=forms-table]")),
		shot("form-list"),
		chromedp.Click(css("[data-testid=forms-table] a.name")),
		chromedp.WaitVisible(css("[data-testid=submissions-table]")),
		shot("form-view"),
	)
	waitText("[data-testid=submissions-table]", "hanako.sato@example.co.jp")
	do("the contact is on record, with the form on its timeline",
		chromedp.Navigate(srv.URL+"/contacts?q=hanako.sato"),
		chromedp.WaitVisible(css("[data-testid=contacts-table]")),
		chromedp.Click(css("[data-testid=contacts-table] a.name")),
		chromedp.WaitVisible(css("[data-testid=timeline]")),
		shot("form-contact"),
	)
	waitText("[data-testid=timeline]", "資料請求フォーム")
	c, err := a.CRM.ContactByEmail(context.Background(), d.Reader(), platform.System(1), "hanako.sato@example.co.jp")
	if err != nil || c.Consent.Email != "granted" || c.OriginalChannel != platform.ChannelPaidSearch {
		t.Fatalf("contact = %+v, %v", c, err)
	}

	// The script embed on a page of another site.
	site := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Partner site</title></head>
<body style="font-family:sans-serif;max-width:640px;margin:40px auto"><h1>Download our white paper</h1>
<div id="ryorin-form-%s"></div><script src="%s/f/%s.js?lang=en" async></script></body></html>`, key, srv.URL, key)
	}))
	defer site.Close()
	do("script embed",
		chromedp.Navigate(site.URL+"/lp?utm_source=newsletter&utm_medium=email"),
		chromedp.WaitVisible(css(".ryorin-form input[name=email]")),
		chromedp.SendKeys(css(".ryorin-form input[name=email]"), "emily.clark@example.com"),
		chromedp.SendKeys(css(".ryorin-form input[name=family_name]"), "Clark"),
		shot("form-embed"),
		chromedp.Sleep(400*time.Millisecond),
		chromedp.Click(css(".ryorin-form button")),
	)
	waitText(".ryorin-form[role=status]", "Thank you")
	do("script embed done", shot("form-embed-done"))
	c, err = a.CRM.ContactByEmail(context.Background(), d.Reader(), platform.System(1), "emily.clark@example.com")
	if err != nil || c.OriginalChannel != platform.ChannelEmail {
		t.Fatalf("embed contact = %+v, %v", c, err)
	}
}
