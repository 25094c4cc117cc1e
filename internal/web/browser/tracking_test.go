package browser_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/ryorin/ryorin/internal/app"
	"github.com/ryorin/ryorin/internal/crm"
	"github.com/ryorin/ryorin/internal/db"
	"github.com/ryorin/ryorin/internal/dbtest"
	"github.com/ryorin/ryorin/internal/platform"
	"github.com/ryorin/ryorin/internal/track"
)

// customerSite is someone else's web site with the snippet pasted in.
const customerSite = `<!doctype html><html><head><meta charset="utf-8"><title>料金プラン | Shop</title>
<script>window.ryorin=window.ryorin||function(){(ryorin.q=ryorin.q||[]).push(arguments)};</script>
<script async src="%s"></script></head>
<body><h1>料金</h1><a id="out" href="https://partner.example.com/case">partner</a>
<form><input type="hidden" name="ryorin_vid" id="vid"></form>
<script>document.getElementById('out').addEventListener('click', function (e) { e.preventDefault(); });</script>
</body></html>`

// TestBrowser_SnippetTracksAVisitOnAnotherSite loads the snippet from Ryorin
// into a page of another site in a real Chromium and checks what arrives:
// the page view with its campaign, an outbound click, a custom event, the
// first-party cookie and the form field; then that Do Not Track and a
// missing consent keep everything at home.
func TestBrowser_SnippetTracksAVisitOnAnotherSite(t *testing.T) {
	bin := chromium(t)
	d := dbtest.Open(t, db.SQLite)
	a, err := app.OpenOn(context.Background(), app.Config{InsecureCookies: true, Version: "test"}, d)
	if err != nil {
		t.Fatal(err)
	}
	ryorin := httptest.NewServer(a.Handler())
	defer ryorin.Close()
	site := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		src := ryorin.URL + "/t.js"
		if r.URL.Path == "/consent" {
			src += "?after-change" // browsers cache t.js for 5 minutes
		}
		fmt.Fprintf(w, customerSite, src)
	}))
	defer site.Close()
	// localhost vs 127.0.0.1: the customer's site and Ryorin are different sites.
	siteURL := strings.Replace(site.URL, "127.0.0.1", "localhost", 1)

	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(bin), chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("no-first-run", true),
		// A visitor's browser, not one that announces automation (the bot
		// filter would rightly drop it).
		chromedp.Flag("enable-automation", false), chromedp.Flag("disable-blink-features", "AutomationControlled"),
		chromedp.UserAgent("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"))
	actx, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancel()
	ctx, cancel := chromedp.NewContext(actx)
	defer cancel()
	ctx, cancel = context.WithTimeout(ctx, 60*time.Second)
	defer cancel()

	count := func(q string, args ...any) int {
		var n int
		if err := d.Reader().QueryRowContext(context.Background(), q, args...).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	waitFor := func(what string, q string, want int) {
		t.Helper()
		for i := 0; i < 100; i++ {
			if count(q) >= want {
				return
			}
			time.Sleep(100 * time.Millisecond)
		}
		t.Fatalf("%s: %d rows, want %d", what, count(q), want)
	}

	js := func(src string) chromedp.Action[chromedp.Void] { return chromedp.Evaluate[chromedp.Void](src) }
	if err := chromedp.Do(ctx,
		chromedp.Navigate(siteURL+"/pricing?utm_source=google&utm_medium=cpc&utm_campaign=spring"),
		chromedp.WaitVisible(chromedp.CSS("#out")),
	); err != nil {
		t.Fatal(err)
	}
	waitFor("page view", `SELECT COUNT(*) FROM events WHERE kind = 'page_view'`, 1)
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS("#out")), js(`ryorin('track', 'demo_request', {plan: 'pro'})`)); err != nil {
		t.Fatal(err)
	}
	cookie, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.cookie`))
	if err != nil {
		t.Fatal(err)
	}
	field, err := chromedp.Run(ctx, chromedp.Value(chromedp.CSS("#vid")))
	if err != nil {
		t.Fatal(err)
	}
	waitFor("outbound click", `SELECT COUNT(*) FROM events WHERE kind = 'outbound_click'`, 1)
	waitFor("custom event", `SELECT COUNT(*) FROM events WHERE kind = 'demo_request'`, 1)
	vid := strings.TrimPrefix(cookie, track.VisitorCookie+"=")
	if !strings.HasPrefix(cookie, track.VisitorCookie+"=") || len(vid) < 8 || field != vid {
		t.Fatalf("cookie %q, form field %q", cookie, field)
	}
	if n := count(`SELECT COUNT(*) FROM events WHERE visitor_id = ?`, vid); n != 3 {
		t.Fatalf("%d events of visitor %s", n, vid)
	}
	var title, target, plan string
	if err := d.Reader().QueryRowContext(context.Background(), `SELECT
		(SELECT properties->>'title' FROM events WHERE kind = 'page_view'),
		(SELECT properties->>'target' FROM events WHERE kind = 'outbound_click'),
		(SELECT properties->>'plan' FROM events WHERE kind = 'demo_request')`).Scan(&title, &target, &plan); err != nil {
		t.Fatal(err)
	}
	if title != "料金プラン | Shop" || target != "https://partner.example.com/case" || plan != "pro" {
		t.Fatalf("title %q, target %q, plan %q", title, target, plan)
	}
	s, err := track.ListVisitorSessions(context.Background(), d.Reader(), 1, vid, 5)
	if err != nil || len(s) != 1 || s[0].Channel != platform.ChannelPaidSearch || s[0].UTMCampaign != "spring" || s[0].Events != 3 {
		t.Fatalf("sessions %+v, %v", s, err)
	}

	// A single-page app changes the URL: another page view, referred by the first.
	if err := chromedp.Do(ctx, js(`history.pushState({}, '', '/pricing/enterprise')`)); err != nil {
		t.Fatal(err)
	}
	waitFor("page view after pushState", `SELECT COUNT(*) FROM events WHERE kind = 'page_view' AND path = '/pricing/enterprise'`, 1)
	var ref string
	if err := d.Reader().QueryRowContext(context.Background(), `SELECT referrer FROM events WHERE path = '/pricing/enterprise'`).Scan(&ref); err != nil ||
		!strings.HasPrefix(ref, siteURL+"/pricing?utm_source=google") {
		t.Fatalf("referrer of the second page view: %q %v", ref, err)
	}

	// Arriving from a tracked email link: the signed _ryid joins the
	// visitor's history to the contact and is removed from the address bar.
	email := "suzuki@example.jp"
	ct, err := a.CRM.CreateContact(context.Background(), platform.System(1), crm.ContactInput{Email: &email})
	if err != nil {
		t.Fatal(err)
	}
	w, _ := platform.GetWorkspace(context.Background(), d.Reader(), 1)
	tok, err := track.IdentifyToken(w.SigningKey(), ct.ID, time.Now().Add(24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(ctx, chromedp.Navigate(siteURL+"/case?utm_medium=email&_ryid="+tok), chromedp.WaitVisible(chromedp.CSS("#out"))); err != nil {
		t.Fatal(err)
	}
	waitFor("events on the contact", fmt.Sprintf(`SELECT COUNT(*) FROM events WHERE contact_id = %d AND kind = 'page_view'`, ct.ID), 3)
	href, err := chromedp.Run(ctx, chromedp.Evaluate[string](`location.href`))
	if err != nil || strings.Contains(href, "_ryid") {
		t.Fatalf("address bar still has the token: %q %v", href, err)
	}
	if n := count(`SELECT COUNT(*) FROM events WHERE url LIKE '%_ryid%'`); n != 0 {
		t.Fatalf("%d stored URLs carry the token", n)
	}

	// Do Not Track: a fresh tab whose browser sends it records nothing.
	before := count(`SELECT COUNT(*) FROM events`)
	dctx, dcancel := chromedp.NewContext(ctx)
	defer dcancel()
	if err := chromedp.Do(dctx,
		chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			_, err := cdp.Call(ctx, tg, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{
				Source: `Object.defineProperty(navigator, 'doNotTrack', {get: function () { return '1'; }});`})
			return err
		}),
		chromedp.Navigate(siteURL+"/dnt"),
		chromedp.WaitVisible(chromedp.CSS("#out")),
		js(`ryorin('track', 'dnt_event')`),
		chromedp.Sleep(1500*time.Millisecond),
	); err != nil {
		t.Fatal(err)
	}
	if n := count(`SELECT COUNT(*) FROM events`); n != before {
		t.Fatalf("Do Not Track: %d events recorded", n-before)
	}

	// Consent required: nothing until the page says yes, then the held page view.
	set := track.DefaultSettings()
	set.ConsentRequired = true
	if _, err := track.SaveSettings(context.Background(), d, platform.System(1), set, time.Now()); err != nil {
		t.Fatal(err)
	}
	a.Tracker.Invalidate(1)
	cctx, ccancel := chromedp.NewContext(ctx)
	defer ccancel()
	if err := chromedp.Do(cctx,
		chromedp.Navigate(siteURL+"/consent"),
		chromedp.WaitVisible(chromedp.CSS("#out")),
		chromedp.Sleep(1500*time.Millisecond),
	); err != nil {
		t.Fatal(err)
	}
	if n := count(`SELECT COUNT(*) FROM events WHERE url LIKE '%/consent'`); n != 0 {
		t.Fatalf("%d events before consent", n)
	}
	if err := chromedp.Do(cctx, js(`ryorin('consent', true)`)); err != nil {
		t.Fatal(err)
	}
	waitFor("page view after consent", `SELECT COUNT(*) FROM events WHERE url LIKE '%/consent'`, 1)
}
