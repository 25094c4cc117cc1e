package web_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/ryorin/ryorin/internal/crm"
	"github.com/ryorin/ryorin/internal/db"
	"github.com/ryorin/ryorin/internal/dbtest"
	"github.com/ryorin/ryorin/internal/marketing/content"
	"github.com/ryorin/ryorin/internal/platform"
)

func TestEmailUI_BlockEditorPreviewsAsAContactAndShowsErrorsAtTheBlock(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := start(t, d, true)
		e.login()
		ctx := context.Background()
		s := func(v string) *string { return &v }
		ct, err := e.crm.CreateContact(ctx, platform.CLI(1), crm.ContactInput{FamilyName: s("鈴木"), Email: s("suzuki@example.jp"),
			ConsentEmail: s("granted"), ConsentSource: s("test")})
		if err != nil {
			t.Fatal(err)
		}
		if err := d.Write(ctx, "test", func(tx *db.Tx) error {
			_, _, err := platform.StoreEvents(ctx, tx, 1, []platform.EventInput{{ID: "pv1", Kind: "page_view", ContactID: ct.ID,
				URL: "https://example.jp/pricing/team"}}, e.clock.Now())
			return err
		}); err != nil {
			t.Fatal(err)
		}
		if code, _, _ := e.post("/lists", url.Values{"name": {"展示会"}}); code != 200 {
			t.Fatalf("create list: %d", code)
		}
		for _, lang := range []string{"en", "ja"} {
			if code, _, _ := e.post("/settings/language", url.Values{"lang": {lang}}); code != 200 {
				t.Fatalf("set language %s: %d", lang, code)
			}
			code, body := e.get("/email/campaigns/new?mode=blocks")
			want := map[string][]string{"en": {"Preview as", "Phone width (375px)", "Add block"}, "ja": {"表示する受信者", "スマートフォン幅（375px）", "ブロックを追加"}}[lang]
			want = append(want, `data-testid="block-editor"`, "blocks.js", `value="blocks" checked`, fmt.Sprintf(`<option value="%d">鈴木 &lt;suzuki@example.jp&gt; · pricing</option>`, ct.ID))
			for _, w := range want {
				if code != 200 || !strings.Contains(body, w) {
					t.Errorf("%s editor: %d, lacks %q", lang, code, w)
				}
			}
		}
		if code, body := e.get(fmt.Sprintf("/contacts/%d", ct.ID)); code != 200 || !strings.Contains(body, `data-testid="interests"`) || !strings.Contains(body, "pricing") {
			t.Errorf("contact page interests: %d", code)
		}
		doc := `{"blocks":[{"type":"heading","text":"{{Salutation}}"},
			{"type":"variant","by":"interest","options":[{"topic":"pricing","blocks":[{"type":"button","label":"料金表","url":"https://example.jp/pricing"}]}],
			 "default":[{"type":"text","text":"ご案内"}]}]}`
		form := url.Values{"name": {"ブロックのご案内"}, "audience": {"list:1"}, "subject": {"{{.Salutation}} ご案内"}, "mode": {"blocks"},
			"blocks": {doc}, "topics": {"pricing, 事例"}, "preview_contact": {fmt.Sprint(ct.ID)}}
		// The live preview as the contact shows the pricing variant.
		code, body, _ := e.post("/email/campaigns/preview", form)
		var pv struct {
			Subject, HTML, Text string
			Error               *struct{ Path, Message string }
		}
		if err := json.Unmarshal([]byte(body), &pv); code != 200 || err != nil || pv.Error != nil {
			t.Fatalf("preview: %d %v %.300s", code, err, body)
		}
		if !strings.Contains(pv.HTML, "料金表") || strings.Contains(pv.HTML, "ご案内</p>") || pv.Subject != "鈴木様 ご案内" {
			t.Errorf("preview as the contact: %q %.2000s", pv.Subject, pv.HTML)
		}
		// An error names the block's path, in preview and on save.
		bad := url.Values{}
		for k, v := range form {
			bad[k] = v
		}
		bad.Set("blocks", `{"blocks":[{"type":"text","text":"a"},{"type":"columns","columns":[[],[{"type":"button","label":"x","url":"javascript:alert(1)"}]]}]}`)
		_, body, _ = e.post("/email/campaigns/preview", bad)
		if err := json.Unmarshal([]byte(body), &pv); err != nil || pv.Error == nil || pv.Error.Path != "blocks[1].columns[1][0].url" {
			t.Errorf("preview error: %s", body)
		}
		code, body, _ = e.post("/email/campaigns", bad)
		if code != http.StatusUnprocessableEntity || !strings.Contains(body, `data-error-path="blocks[1].columns[1][0].url"`) ||
			!strings.Contains(body, "http、https または mailto") || !strings.Contains(body, "javascript:alert(1)") {
			i := strings.Index(body, "block-editor")
			t.Errorf("save with a bad block: %d %s", code, body[max(i-300, 0):min(i+1500, len(body))])
		}
		// Saved, shown on the campaign page (phone width), edited again.
		code, body, at := e.post("/email/campaigns", form)
		if code != 200 || at != "/email/campaigns/1" || !strings.Contains(body, "ご案内") {
			t.Fatalf("save: %d at %s %t", code, at, strings.Contains(body, "料金表"))
		}
		if code, body := e.get(fmt.Sprintf("/email/campaigns/1?contact=%d&phone=1", ct.ID)); code != 200 || !strings.Contains(body, `be-frame phone`) || !strings.Contains(body, "料金表") {
			t.Errorf("campaign page on a phone: %d", code)
		}
		code, body = e.get("/email/campaigns/1/edit")
		if code != 200 || !strings.Contains(body, `action="/email/campaigns/1"`) || !strings.Contains(body, "料金表") || !strings.Contains(body, `value="pricing, 事例"`) {
			t.Errorf("edit page: %d", code)
		}
		form.Set("name", "改訂版")
		if code, body, at := e.post("/email/campaigns/1", form); code != 200 || at != "/email/campaigns/1" || !strings.Contains(body, "改訂版") {
			t.Errorf("update: %d at %s", code, at)
		}
		// Topic rules in settings.
		if code, _, _ := e.post("/settings/tracking/topics", url.Values{"topic_rules": {"/plans pricing\n/jirei case_studies"}}); code != 200 {
			t.Errorf("save topic rules: %d", code)
		}
		if code, body := e.get("/settings/tracking"); code != 200 || !strings.Contains(body, "/jirei case_studies") {
			t.Errorf("topic rules not shown: %d", code)
		}
		if code, body, _ := e.post("/settings/tracking/topics", url.Values{"topic_rules": {"plans"}}); code != http.StatusUnprocessableEntity || !strings.Contains(body, "rules[0]") {
			t.Errorf("bad topic rule: %d", code)
		}
	})
}

func TestEmailUI_ContentBlockPickerListsPublishedAssetsAndPreviewsTheCard(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := start(t, d, true)
		e.login()
		ctx := context.Background()
		cli := platform.CLI(1)
		pub, err := e.content.Create(ctx, cli, content.AssetInput{Kind: "white_paper", Title: "名刺管理の始め方", Description: "三つの手順",
			URL: "https://example.jp/wp", Status: content.StatusPublished}, nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.content.Create(ctx, cli, content.AssetInput{Kind: "slides", Title: "下書きの資料", URL: "https://example.jp/d"}, nil); err != nil {
			t.Fatal(err)
		}
		code, body := e.get("/email/content-assets")
		var list struct {
			Assets []struct {
				ID                 int64
				Title, Description string
				KindLabel          string `json:"kind_label"`
			}
		}
		if err := json.Unmarshal([]byte(body), &list); code != 200 || err != nil || len(list.Assets) != 1 || list.Assets[0].ID != pub.ID {
			t.Fatalf("picker: %d %v %s", code, err, body)
		}
		form := url.Values{"name": {"資料のご案内"}, "audience": {"list:1"}, "subject": {"ご案内"}, "mode": {"blocks"},
			"blocks": {fmt.Sprintf(`{"blocks":[{"type":"content","asset_id":%d,"label":"読む"}]}`, pub.ID)}}
		code, body, _ = e.post("/email/campaigns/preview", form)
		if code != 200 || !strings.Contains(body, "名刺管理の始め方") || !strings.Contains(body, "三つの手順") || !strings.Contains(body, "読む") {
			t.Errorf("preview with a content block: %d %.1500s", code, body)
		}
		form.Set("blocks", `{"blocks":[{"type":"content","asset_id":424242}]}`)
		_, body, _ = e.post("/email/campaigns/preview", form)
		if !strings.Contains(body, `"path":"blocks[0].asset_id"`) {
			t.Errorf("preview with a missing asset: %s", body)
		}
	})
}
