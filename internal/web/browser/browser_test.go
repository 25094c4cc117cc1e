// Package browser_test drives Ryorin's UI in a real headless Chromium: the
// main flows a marketer or rep goes through, with screenshots.
package browser_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/ryorin/ryorin/internal/app"
	"github.com/ryorin/ryorin/internal/crm"
	"github.com/ryorin/ryorin/internal/db"
	"github.com/ryorin/ryorin/internal/dbtest"
	"github.com/ryorin/ryorin/internal/platform"
)

func TestMain(m *testing.M) { os.Exit(dbtest.Main(m)) }

func chromium(t *testing.T) string {
	for _, p := range []string{os.Getenv("RYORIN_CHROMIUM"), "/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"} {
		if p == "" {
			continue
		}
		if _, err := exec.LookPath(p); err == nil {
			return p
		}
	}
	t.Skip("browser tests skipped: no Chromium found (apt-get install chromium, or set RYORIN_CHROMIUM)")
	return ""
}

// shots is where screenshots go: RYORIN_SCREENSHOTS if set (the README's
// images are made this way), else the test's temp dir.
func shots(t *testing.T) string {
	if d := os.Getenv("RYORIN_SCREENSHOTS"); d != "" {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		return d
	}
	return t.TempDir()
}

type fixture struct {
	url    string
	dealID int64
	lost   int64
}

func seed(t *testing.T, d *db.DB, a *app.App) fixture {
	ctx := context.Background()
	now := time.Now()
	cli := platform.CLI(1)
	admin, err := platform.CreateUser(ctx, d, cli, platform.NewUser{Email: "admin@example.com", Name: "山田 太郎", Role: platform.RoleAdmin, Password: "correct horse battery", Locale: "ja"}, now)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := platform.CreateUser(ctx, d, cli, platform.NewUser{Email: "rep@example.com", Name: "佐藤 健一", Role: platform.RoleSales}, now)
	if err != nil {
		t.Fatal(err)
	}
	as := admin.Actor(1, platform.ActorUser)
	s := func(v string) *string { return &v }
	co, err := a.CRM.CreateCompany(ctx, as, crm.CompanyInput{Name: s("株式会社ひかりテクノロジー"), Domain: s("hikari-tech.example.jp"), Industry: s("software")})
	if err != nil {
		t.Fatal(err)
	}
	ct, err := a.CRM.CreateContact(ctx, as, crm.ContactInput{FamilyName: s("鈴木"), GivenName: s("一郎"), FamilyNameKana: s("スズキ"), GivenNameKana: s("イチロウ"),
		Email: s("suzuki@hikari-tech.example.jp"), Title: s("情報システム部長"), CompanyID: &co.ID, OwnerID: &rep.ID})
	if err != nil {
		t.Fatal(err)
	}
	p, err := a.CRM.DefaultPipeline(ctx, d.Reader(), 1)
	if err != nil {
		t.Fatal(err)
	}
	amount := 2400000.0
	deal, err := a.CRM.CreateDeal(ctx, as, crm.DealInput{Name: s("ひかりテクノロジー 全社導入"), Amount: &amount, CompanyID: &co.ID, OwnerID: &rep.ID,
		Contacts: &[]crm.DealContact{{ContactID: ct.ID, Role: "decision_maker"}}})
	if err != nil {
		t.Fatal(err)
	}
	for i, name := range []string{"東和物産 PoC", "Pacific Labs pilot", "大阪データ 更新"} {
		amt := float64(500000 * (i + 1))
		st := p.Stages[i+1].ID
		if _, err := a.CRM.CreateDeal(ctx, as, crm.DealInput{Name: s(name), Amount: &amt, StageID: &st, OwnerID: &admin.ID}); err != nil {
			t.Fatal(err)
		}
	}
	return fixture{dealID: deal.ID, lost: p.Stages[len(p.Stages)-1].ID}
}

// TestBrowser_MainFlows logs in, creates a contact, logs a call, moves a deal
// on the board, switches the language, and saves screenshots of each screen.
func TestBrowser_MainFlows(t *testing.T) {
	bin := chromium(t)
	d := dbtest.Open(t, db.SQLite)
	a, err := app.OpenOn(context.Background(), app.Config{InsecureCookies: true, Version: "test"}, d)
	if err != nil {
		t.Fatal(err)
	}
	f := seed(t, d, a)
	srv := httptest.NewServer(a.Handler())
	defer srv.Close()
	f.url = srv.URL
	dir := shots(t)

	ctx := browser(t, bin, 90*time.Second, chromedp.Flag("lang", "ja-JP"))

	type act = chromedp.Action[chromedp.Void]
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
	text := func(sel string) string {
		t.Helper()
		v, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
		if err != nil {
			t.Fatalf("text of %s: %v", sel, err)
		}
		return v
	}
	// waitText waits until the element's text contains want (after a form
	// post the old page is still there for a moment).
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
	type css = chromedp.CSS
	type id = chromedp.ID
	js := func(src string) act { return chromedp.Evaluate[chromedp.Void](src) }

	do("login",
		chromedp.Navigate(f.url+"/contacts"),
		chromedp.WaitVisible(id("email")),
		shot("login"),
		chromedp.SendKeys(id("email"), "admin@example.com"),
		chromedp.SendKeys(id("password"), "correct horse battery"),
		chromedp.Submit(id("password")),
		chromedp.WaitVisible(css("[data-testid=contacts-table]")),
	)
	if url, _ := chromedp.Run(ctx, chromedp.Location()); !strings.HasSuffix(url, "/contacts") {
		t.Fatalf("after login at %s, want /contacts", url)
	}
	do("contacts list", shot("contacts-ja"))

	do("create contact",
		chromedp.Click(css("[data-testid=new-contact]")),
		chromedp.WaitVisible(id("family_name")),
		chromedp.SendKeys(id("family_name"), "高橋"),
		chromedp.SendKeys(id("given_name"), "美咲"),
		chromedp.SendKeys(id("email"), "misaki.takahashi@example.jp"),
		chromedp.Submit(id("email")),
		chromedp.WaitVisible(css("[data-testid=record-name]")),
	)
	if got := text("[data-testid=record-name]"); got != "高橋 美咲" {
		t.Fatalf("new contact page shows %q", got)
	}

	do("log a call",
		chromedp.SendKeys(id("subject"), "初回架電"),
		chromedp.SetValue(id("outcome"), "appointment"),
		chromedp.SendKeys(id("body"), "来週火曜にデモの約束"),
		chromedp.Submit(id("subject")),
		chromedp.WaitVisible(css("[data-testid=timeline]")),
	)
	if got := waitText("[data-testid=timeline]", "初回架電"); !strings.Contains(got, "アポ獲得") {
		t.Fatalf("timeline after logging a call: %q", got)
	}

	do("contact page", chromedp.Navigate(f.url+"/contacts/1"), chromedp.WaitVisible(css("[data-testid=timeline]")), shot("contact-ja"))

	// Move a deal on the board: drag the card to the next column. Headless
	// Chromium's native drag events are unreliable, so the test dispatches
	// the same DOM drag events a user's drag produces.
	target := ".col[data-stage]:nth-child(2)"
	do("board",
		chromedp.Navigate(f.url+"/deals/board"),
		chromedp.WaitVisible(css(fmt.Sprintf("[data-testid=card-%d]", f.dealID))),
		shot("board-ja"),
		js(fmt.Sprintf(`(function(){
			var card=document.querySelector('[data-testid=card-%d]'), col=document.querySelector(%q);
			var dt=new DataTransfer();
			card.dispatchEvent(new DragEvent('dragstart',{bubbles:true,dataTransfer:dt}));
			col.dispatchEvent(new DragEvent('dragover',{bubbles:true,cancelable:true,dataTransfer:dt}));
			col.dispatchEvent(new DragEvent('drop',{bubbles:true,cancelable:true,dataTransfer:dt}));
			card.dispatchEvent(new DragEvent('dragend',{bubbles:true,dataTransfer:dt}));
			return true;})()`, f.dealID, target)),
		chromedp.Sleep(500*time.Millisecond),
		chromedp.WaitVisible(css(fmt.Sprintf("%s [data-testid=card-%d]", target, f.dealID))),
	)
	p, _ := a.CRM.DefaultPipeline(context.Background(), d.Reader(), 1)
	for i := 0; ; i++ {
		dl, err := a.CRM.GetDeal(context.Background(), d.Reader(), platform.System(1), f.dealID)
		if err != nil {
			t.Fatal(err)
		}
		if dl.StageID == p.Stages[1].ID {
			break
		}
		if i == 50 {
			t.Fatalf("deal stage after drag = %d, want %d", dl.StageID, p.Stages[1].ID)
		}
		time.Sleep(100 * time.Millisecond)
	}

	do("switch to English",
		chromedp.Navigate(f.url+"/contacts/1"),
		chromedp.WaitVisible(css("[data-testid=timeline]")),
		js(`document.querySelectorAll('.menu details').forEach(function(d){d.open=true})`),
		chromedp.SetValue(id("lang"), "en"),
		chromedp.Click(css("[data-testid=set-lang]")),
		chromedp.Sleep(300*time.Millisecond),
		chromedp.WaitVisible(css("[data-testid=timeline]")),
	)
	if got := waitText("nav.nav", "Contacts"); !strings.Contains(got, "Deal board") {
		t.Fatalf("navigation after switching to English: %q", got)
	}
	do("english screens",
		shot("contact-en"),
		chromedp.Navigate(f.url+"/deals/board"), chromedp.WaitVisible(css("[data-testid=board]")), shot("board-en"),
		chromedp.Navigate(f.url+"/contacts"), chromedp.WaitVisible(css("[data-testid=contacts-table]")), shot("contacts-en"),
		chromedp.Navigate(f.url+"/"), chromedp.WaitVisible(css(".kpi")), shot("home-en"),
	)

	// A phone-sized window still shows the record.
	do("phone",
		chromedp.EmulateViewport(390, 844),
		chromedp.Navigate(f.url+"/contacts/1"),
		chromedp.WaitVisible(css("[data-testid=record-name]")),
		shot("contact-phone"),
	)
	t.Logf("screenshots in %s", dir)
}

// TestBrowser_DemoScreenshots loads the demo data set and photographs the
// main screens in Japanese and English for the README. It runs only when
// RYORIN_SCREENSHOTS names a folder (go test ./internal/web/browser/ -run
// Demo with RYORIN_SCREENSHOTS=docs/screenshots); the flows themselves are
// checked by TestBrowser_MainFlows.
func TestBrowser_DemoScreenshots(t *testing.T) {
	if os.Getenv("RYORIN_SCREENSHOTS") == "" {
		t.Skip("set RYORIN_SCREENSHOTS=docs/screenshots to photograph the demo")
	}
	dir := shots(t)
	bin := chromium(t)
	d := dbtest.Open(t, db.SQLite)
	a, err := app.OpenOn(context.Background(), app.Config{Version: "demo"}, d) // Secure cookies, as `serve` sends them
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.LoadDemo(context.Background()); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(a.Handler())
	defer srv.Close()
	ctx := browser(t, bin, 120*time.Second)
	type act = chromedp.Action[chromedp.Void]
	shot := func(name string) act {
		return func(ctx context.Context, tg *chromedp.Target) (chromedp.Void, error) {
			buf, err := chromedp.Screenshot(chromedp.CSS("body"))(ctx, tg)
			if err != nil {
				return chromedp.Void{}, err
			}
			return chromedp.Void{}, os.WriteFile(filepath.Join(dir, name+".png"), buf, 0o644)
		}
	}
	var contactID int64
	if err := d.Reader().QueryRowContext(context.Background(), `SELECT contact_id FROM timeline WHERE contact_id IS NOT NULL GROUP BY contact_id ORDER BY COUNT(*) DESC LIMIT 1`).Scan(&contactID); err != nil {
		t.Fatal(err)
	}
	steps := []act{
		chromedp.Navigate(srv.URL + "/login"),
		chromedp.WaitVisible(chromedp.ID("email")),
		chromedp.SendKeys(chromedp.ID("email"), "admin@demo.ryorin.example"),
		chromedp.SendKeys(chromedp.ID("password"), "ryorin-demo-2026"),
		chromedp.Submit(chromedp.ID("password")),
		chromedp.WaitVisible(chromedp.CSS(".kpi")),
	}
	for _, lang := range []string{"ja", "en"} {
		steps = append(steps,
			chromedp.Evaluate[chromedp.Void](`document.querySelectorAll('.menu details').forEach(function(d){d.open=true})`),
			chromedp.SetValue(chromedp.ID("lang"), lang),
			chromedp.Click(chromedp.CSS("[data-testid=set-lang]")),
			chromedp.Sleep(400*time.Millisecond),
			chromedp.Navigate(srv.URL+"/"), chromedp.WaitVisible(chromedp.CSS(".kpi")), shot("home-"+lang),
			chromedp.Navigate(srv.URL+"/contacts"), chromedp.WaitVisible(chromedp.CSS("[data-testid=contacts-table]")), shot("contacts-"+lang),
			chromedp.Navigate(fmt.Sprintf("%s/contacts/%d", srv.URL, contactID)), chromedp.WaitVisible(chromedp.CSS("[data-testid=timeline]")), shot("contact-"+lang),
			chromedp.Navigate(srv.URL+"/deals/board"), chromedp.WaitVisible(chromedp.CSS("[data-testid=board]")), shot("board-"+lang),
			chromedp.Navigate(srv.URL+"/settings/pipelines"), chromedp.WaitVisible(chromedp.CSS("main")), shot("settings-pipelines-"+lang),
			chromedp.Navigate(srv.URL+"/leads"), chromedp.WaitVisible(chromedp.CSS("[data-testid=lead-queue]")), shot("lead-queue-"+lang),
			chromedp.Navigate(srv.URL+"/leads/definitions/2"), chromedp.WaitVisible(chromedp.CSS("[data-testid=backtest]")), shot("lead-definition-"+lang),
			chromedp.Navigate(srv.URL+"/leads/feedback"), chromedp.WaitVisible(chromedp.CSS("[data-testid=feed]")), shot("lead-feedback-"+lang),
		)
	}
	if err := chromedp.Do(ctx, steps...); err != nil {
		t.Fatal(err)
	}
}

// browser starts Chromium for a test with the usual flags plus extra, and
// returns a context for chromedp that ends after timeout or with the test.
func browser(t *testing.T, bin string, timeout time.Duration, extra ...chromedp.ExecAllocatorOption) context.Context {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(bin), chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-component-update", true), chromedp.Flag("disable-sync", true), chromedp.WindowSize(1360, 900))
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), append(opts, extra...)...)
	ctx, cancelTab := chromedp.NewContext(actx)
	ctx, cancel := context.WithTimeout(ctx, timeout)
	t.Cleanup(func() { cancel(); cancelTab(); cancelAlloc() })
	return ctx
}
