package browser_test

import (
	"context"
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
)

// TestBrowser_SegmentEditor builds a segment in the editor: the live count
// follows a changed value without a page load, switching a row's field
// re-renders the row with that field's operators, and saving shows the
// segment with its members filled by the refresher.
func TestBrowser_SegmentEditor(t *testing.T) {
	bin := chromium(t)
	d := dbtest.Open(t, db.SQLite)
	a, err := app.OpenOn(context.Background(), app.Config{InsecureCookies: true, Version: "test"}, d)
	if err != nil {
		t.Fatal(err)
	}
	seed(t, d, a)
	wctx, stop := context.WithCancel(context.Background())
	w := a.StartWorkers(wctx)
	defer func() { stop(); w.Stop() }()
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
	waitText := func(sel, want string) {
		t.Helper()
		var got string
		for i := 0; i < 100; i++ {
			got, _ = chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
			if strings.Contains(got, want) {
				return
			}
			time.Sleep(50 * time.Millisecond)
		}
		page, _ := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("main")))
		t.Fatalf("%s never showed %q; it shows %q\n%s", sel, want, got, page)
	}
	do("login",
		chromedp.Navigate(srv.URL+"/segments"),
		chromedp.WaitVisible(id("email")),
		chromedp.SendKeys(id("email"), "admin@example.com"),
		chromedp.SendKeys(id("password"), "correct horse battery"),
		chromedp.Submit(id("password")),
		chromedp.WaitVisible(css("[data-testid=new-segment]")),
		chromedp.Click(css("[data-testid=new-segment]")),
		chromedp.WaitVisible(id("name")),
	)
	// change sets a select's value and fires its change event, as a user does.
	change := func(name, value string) act {
		return chromedp.Evaluate[chromedp.Void](`void (function () { var e = document.querySelector('[name="` + name + `"]');
			if (e) { e.value = "` + value + `"; e.dispatchEvent(new Event("change", {bubbles: true})); } })()`)
	}
	// A new segment starts at "lifecycle stage is lead"; the seeded contact
	// has a deal, so it is an opportunity.
	waitText("[data-live-count]", "0")
	do("live count follows the value", change("c.0.0.value", "opportunity"))
	waitText("[data-live-count]", "1")
	do("switching the field re-renders the row", change("c.0.0.field", "title"),
		chromedp.WaitVisible(css(`input[name="c.0.0.value"]`)), chromedp.Sleep(300*time.Millisecond))
	do("contains", chromedp.SetValue(css(`input[name="c.0.0.value"]`), "部長"), change("c.0.0.op", "contains"),
		chromedp.Sleep(300*time.Millisecond), chromedp.WaitVisible(css(`input[name="c.0.0.value"]`)))
	waitText("[data-live-count]", "1")
	do("add an OR group and save",
		chromedp.SendKeys(id("name"), "情報システム部門"),
		chromedp.Click(css("[data-testid=add-0]")),
		chromedp.WaitVisible(css(`[data-testid=cond-0-1]`)),
		chromedp.Click(css("[data-testid=add-group]")),
		chromedp.WaitVisible(css(`[data-testid=or]`)),
		shot("segment-editor"),
		// The behaviour row just added would match nobody here: remove it.
		chromedp.Click(css(`[data-testid=cond-0-1] button[name=do]`)),
		chromedp.WaitNotPresent(css(`[data-testid=cond-0-1]`)),
		chromedp.Click(css("[data-testid=save]")),
		chromedp.WaitVisible(css("[data-testid=segment-members]")),
	)
	for i := 0; i < 100; i++ {
		do("reload", chromedp.Reload())
		if txt, _ := chromedp.Run(ctx, chromedp.Text(css("[data-testid=segment-members]"))); strings.Contains(txt, "鈴木") {
			do("shot", shot("segment-saved"))
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatal("the saved segment never showed its member")
}
