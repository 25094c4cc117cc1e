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
	"golang.org/x/text/encoding/japanese"

	"github.com/ryorin/ryorin/internal/app"
	"github.com/ryorin/ryorin/internal/db"
	"github.com/ryorin/ryorin/internal/dbtest"
)

// TestBrowser_ImportFlow uploads a Shift_JIS business-card CSV, checks the
// mapping screen's guesses, starts the import, waits on the progress page
// for the result and photographs the mapping and result screens.
func TestBrowser_ImportFlow(t *testing.T) {
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
	text := "名刺交換日,会社名,部署名,役職,氏名,氏名（カナ）,メールアドレス,電話番号,携帯電話,URL\r\n" +
		"令和6年4月1日,株式会社ひかりテクノロジー,情報システム部,部長,田中 一郎,タナカ イチロウ,tanaka@hikari-tech.example.jp,０３－１２３４－５６７８,090-1111-2222,https://hikari-tech.example.jp\r\n" +
		"2024/5/20,東和物産株式会社,営業本部,課長,佐々木 花子,ササキ ハナコ,sasaki@towa.example.jp,06-0000-1111,,\r\n" +
		"45400,(株)大阪データ,開発部,主任,山口 誠,ヤマグチ マコト,yamaguchi@osaka-data.example.jp,,,\r\n" +
		"2024年13月1日,Pacific Labs,Sales,Manager,John Smith,,john@pacific.example.com,,,\r\n" +
		"2024-06-01,株式会社ひかりテクノロジー,経営企画室,室長,高橋 美咲,タカハシ ミサキ,not-an-email,,,\r\n"
	sjis, err := japanese.ShiftJIS.NewEncoder().String(text)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "sansan-名刺.csv")
	if err := os.WriteFile(path, []byte(sjis), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx := browser(t, bin, 90*time.Second)
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
	css := func(s string) chromedp.CSS { return chromedp.CSS(s) }
	err = chromedp.Do(ctx,
		chromedp.Navigate(srv.URL+"/contacts"),
		chromedp.WaitVisible(chromedp.ID("email")),
		chromedp.SendKeys(chromedp.ID("email"), "admin@example.com"),
		chromedp.SendKeys(chromedp.ID("password"), "correct horse battery"),
		chromedp.Submit(chromedp.ID("password")),
		chromedp.WaitVisible(css("[data-testid=import-contacts]")),
		chromedp.Click(css("[data-testid=import-contacts]")),
		chromedp.WaitVisible(css("[data-testid=import-upload]")),
		chromedp.SetUploadFiles(css("#i-file"), []string{path}),
		chromedp.Submit(css("#i-file")),
		chromedp.WaitVisible(css("[data-testid=import-mapping]")),
		shot("import-mapping-ja"),
	)
	if err != nil {
		t.Fatal(err)
	}
	for sel, want := range map[string]string{"map_1": "company_name", "map_4": "full_name", "map_5": "full_name_kana", "map_6": "email", "map_0": "created_at", "map_9": "company_domain"} {
		got, err := chromedp.Run(ctx, chromedp.Value(css("select[name="+sel+"]")))
		if err != nil || got != want {
			t.Errorf("%s guessed %q, want %q (%v)", sel, got, want, err)
		}
	}
	err = chromedp.Do(ctx,
		chromedp.Click(css("[data-testid=import-start]")),
		chromedp.WaitVisible(css("[data-testid=import-status]")),
	)
	if err != nil {
		t.Fatal(err)
	}
	var status string
	for i := 0; i < 100; i++ { // the page refreshes itself until the job ends
		status, _ = chromedp.Run(ctx, chromedp.Text(css("[data-testid=import-status]")))
		if strings.Contains(status, "完了") {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	if !strings.Contains(status, "完了") {
		t.Fatalf("status stayed %q", status)
	}
	if err := chromedp.Do(ctx, chromedp.WaitVisible(css("[data-testid=import-errors]")), shot("import-result-ja")); err != nil {
		t.Fatal(err)
	}
	body, _ := chromedp.Run(ctx, chromedp.Text(css("main")))
	if !strings.Contains(body, "3") {
		t.Errorf("result: %q", body)
	}
	var n int
	if err := d.Reader().QueryRowContext(context.Background(), `SELECT COUNT(*) FROM contacts WHERE email = 'tanaka@hikari-tech.example.jp' AND company_id IS NOT NULL`).Scan(&n); err != nil || n != 1 {
		t.Errorf("imported contact linked to its company: %d, %v", n, err)
	}
	t.Logf("screenshots in %s", dir)
}
