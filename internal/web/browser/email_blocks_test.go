package browser_test

import (
	"context"
	"fmt"
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
	"github.com/ryorin/ryorin/internal/marketing/content"
	"github.com/ryorin/ryorin/internal/marketing/segments"
	"github.com/ryorin/ryorin/internal/platform"
)

// TestBrowser_EmailBlockEditor composes an email from blocks: a text block
// typed into shows in the live preview, a button with a javascript: link
// gets the server's error on that block, fixing it clears the error, the
// phone toggle narrows the preview to 375px, and saving keeps the blocks.
func TestBrowser_EmailBlockEditor(t *testing.T) {
	bin := chromium(t)
	d := dbtest.Open(t, db.SQLite)
	a, err := app.OpenOn(context.Background(), app.Config{InsecureCookies: true, Version: "test"}, d)
	if err != nil {
		t.Fatal(err)
	}
	seed(t, d, a)
	if _, err := a.Segments.CreateList(context.Background(), platform.CLI(1), segments.ListInput{Name: "展示会"}); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(a.Handler())
	defer srv.Close()
	dir := shots(t)
	ctx := browser(t, bin, 90*time.Second, chromedp.Flag("lang", "ja-JP"))

	type act = chromedp.Action[chromedp.Void]
	type css = chromedp.CSS
	type id = chromedp.ID
	do := func(step string, actions ...act) {
		t.Helper()
		if err := chromedp.Do(ctx, actions...); err != nil {
			t.Fatalf("%s: %v", step, err)
		}
	}
	js := func(src string) act { return chromedp.Evaluate[chromedp.Void](src) }
	// waitJS polls a JavaScript expression until it is true.
	waitJS := func(what, expr string) {
		t.Helper()
		for i := 0; i < 100; i++ {
			if ok, _ := chromedp.Run(ctx, chromedp.Evaluate[bool](expr)); ok {
				return
			}
			time.Sleep(50 * time.Millisecond)
		}
		page, _ := chromedp.Run(ctx, chromedp.Text(css("main")))
		t.Fatalf("%s: never true: %s\n%s", what, expr, page)
	}
	do("login and open the editor",
		chromedp.Navigate(srv.URL+"/email/campaigns/new?mode=blocks"),
		chromedp.WaitVisible(id("email")),
		chromedp.SendKeys(id("email"), "admin@example.com"),
		chromedp.SendKeys(id("password"), "correct horse battery"),
		chromedp.Submit(id("password")),
		chromedp.WaitVisible(css("[data-testid=block-editor] .be-block textarea")),
	)
	// Typing into the first text block updates the JSON and the preview.
	do("type", chromedp.SendKeys(css("[data-testid=block-editor] .be-block textarea"), "春のご案内です"))
	waitJS("preview shows the text", `document.getElementById("preview_frame").srcdoc.includes("春のご案内です")`)
	// Add a button (the top level's add control) with a javascript: link.
	do("add a button", js(`void (function () {
		var add = document.querySelector("#block-editor > .be-list > .be-add");
		add.querySelector("select").value = "button";
		add.querySelector("button").click(); })()`),
		chromedp.WaitVisible(css(`[data-path="blocks[1]"] input`)),
		chromedp.SendKeys(css(`[data-path="blocks[1]"] label:nth-of-type(1) input`), "詳しく見る"),
		chromedp.SetValue(css(`[data-path="blocks[1]"] label:nth-of-type(2) input`), "javascript:alert(1)"),
		js(`document.querySelector('[data-path="blocks[1]"] label:nth-of-type(2) input').dispatchEvent(new Event("input", {bubbles: true}))`),
	)
	waitJS("error on the button block", `(function () { var e = document.querySelector('[data-path="blocks[1]"].bad .be-err'); return !!e && e.textContent.includes("URL"); })()`)
	do("shot", chromedp.Sleep(100*time.Millisecond), screenshot(dir, "email-blocks-error"))
	do("fix the link",
		chromedp.SetValue(css(`[data-path="blocks[1]"] label:nth-of-type(2) input`), "https://example.jp/spring"),
		js(`document.querySelector('[data-path="blocks[1]"] label:nth-of-type(2) input').dispatchEvent(new Event("input", {bubbles: true}))`),
	)
	waitJS("error cleared, button previewed", `!document.querySelector(".be-err") && document.getElementById("preview_frame").srcdoc.includes("詳しく見る")`)
	do("phone width", chromedp.Click(id("preview_phone")), chromedp.Sleep(400*time.Millisecond))
	waitJS("iframe at 375px", `document.getElementById("preview_frame").getBoundingClientRect().width === 375`)
	do("shot", screenshot(dir, "email-blocks-phone"))
	// A variant holding columns, pasted as JSON, is drawn nested; an error
	// deep inside is shown on the innermost block.
	do("paste a nested document", js(`void (function () { var s = document.getElementById("blocks");
		s.value = JSON.stringify({blocks: [{type: "variant", by: "interest", options: [{topic: "pricing", blocks: [{type: "columns", columns: [
			[{type: "text", text: "左"}], [{type: "image", url: "https://example.jp/a.png", alt: ""}]]}]}], default: [{type: "text", text: "既定"}]}]});
		s.dispatchEvent(new Event("change", {bubbles: true})); })()`))
	waitJS("nested error at the image", `!!document.querySelector('[data-path="blocks[0].options[0].blocks[0].columns[1][0]"].bad .be-err')`)
	do("shot", screenshot(dir, "email-blocks-nested"))
	do("fix the alt text", chromedp.SendKeys(css(`[data-path="blocks[0].options[0].blocks[0].columns[1][0]"] label:nth-of-type(2) input`), "製品写真"))
	waitJS("error cleared", `!document.querySelector(".be-err") && document.getElementById("preview_frame").srcdoc.includes("既定")`)
	do("save",
		chromedp.SendKeys(id("name"), "春のご案内"),
		js(`void (function () { var s = document.getElementById("audience"); s.value = s.options[s.options.length - 1].value; })()`),
		chromedp.Click(css("[data-testid=save-campaign]")),
		chromedp.WaitVisible(css("[data-testid=edit-draft]")),
	)
	html, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector("[data-testid=campaign-preview-frame]").srcdoc`))
	if err != nil || !strings.Contains(html, "既定") || !strings.Contains(html, "max-width:600px") {
		t.Errorf("saved campaign preview: %v %.500s", err, html)
	}
}

func screenshot(dir, name string) chromedp.Action[chromedp.Void] {
	return func(ctx context.Context, tg *chromedp.Target) (chromedp.Void, error) {
		buf, err := chromedp.FullScreenshot(100)(ctx, tg)
		if err != nil {
			return chromedp.Void{}, err
		}
		return chromedp.Void{}, os.WriteFile(filepath.Join(dir, name+".png"), buf, 0o644)
	}
}

// TestBrowser_EmailContentBlock adds a content block, picks a published
// asset from the picker (fetched from the server), and sees its card in the
// live preview.
func TestBrowser_EmailContentBlock(t *testing.T) {
	bin := chromium(t)
	d := dbtest.Open(t, db.SQLite)
	a, err := app.OpenOn(context.Background(), app.Config{InsecureCookies: true, Version: "test"}, d)
	if err != nil {
		t.Fatal(err)
	}
	seed(t, d, a)
	x, err := a.Content.Create(context.Background(), platform.CLI(1), content.AssetInput{Kind: "case_study", Title: "導入事例：東邦精機",
		Description: "商談化率が1.8倍に", URL: "https://example.jp/case", Status: content.StatusPublished}, nil)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(a.Handler())
	defer srv.Close()
	dir := shots(t)
	ctx := browser(t, bin, 60*time.Second, chromedp.Flag("lang", "ja-JP"))
	waitJS := func(what, expr string) {
		t.Helper()
		for i := 0; i < 100; i++ {
			if ok, _ := chromedp.Run(ctx, chromedp.Evaluate[bool](expr)); ok {
				return
			}
			time.Sleep(50 * time.Millisecond)
		}
		t.Fatalf("%s: never true: %s", what, expr)
	}
	if err := chromedp.Do(ctx,
		chromedp.Navigate(srv.URL+"/email/campaigns/new?mode=blocks"),
		chromedp.WaitVisible(chromedp.ID("email")),
		chromedp.SendKeys(chromedp.ID("email"), "admin@example.com"),
		chromedp.SendKeys(chromedp.ID("password"), "correct horse battery"),
		chromedp.Submit(chromedp.ID("password")),
		chromedp.WaitVisible(chromedp.CSS("[data-testid=block-editor] .be-block textarea")),
		chromedp.Evaluate[chromedp.Void](`void (function () {
			var add = document.querySelector("#block-editor > .be-list > .be-add");
			add.querySelector("select").value = "content";
			add.querySelector("button").click(); })()`),
	); err != nil {
		t.Fatal(err)
	}
	pick := `document.querySelector('[data-path="blocks[1]"] [data-testid=asset-picker]')`
	waitJS("the picker lists the asset", fmt.Sprintf(`!!%s && %s.options.length === 2`, pick, pick))
	if err := chromedp.Do(ctx, chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`void (function () { var s = %s;
		s.value = "%d"; s.dispatchEvent(new Event("change", {bubbles: true})); })()`, pick, x.ID))); err != nil {
		t.Fatal(err)
	}
	waitJS("the preview shows the card", `(function () { var h = document.getElementById("preview_frame").srcdoc;
		return h.includes("導入事例：東邦精機") && h.includes("商談化率が1.8倍に") && h.includes("詳しく見る"); })()`)
	waitJS("the picker shows the card too", `document.querySelector('[data-path="blocks[1]"]').textContent.includes("商談化率が1.8倍に")`)
	if err := chromedp.Do(ctx, chromedp.Sleep(200*time.Millisecond), screenshot(dir, "email-blocks-content")); err != nil {
		t.Fatal(err)
	}
}
