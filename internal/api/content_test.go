package api_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/ryorin/ryorin/internal/db"
	"github.com/ryorin/ryorin/internal/dbtest"
	"github.com/ryorin/ryorin/internal/marketing/content"
)

func TestContentAPI_CreateUploadShareAndBattleCards(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := start(t, d)
		if r := e.do(e.mkt, "POST", "/api/v1/content", map[string]any{"kind": "link", "title": "x", "url": "javascript:alert(1)"}); r.status != 400 || r.errField() != "url" {
			t.Fatalf("bad url: %d %s", r.status, r.raw)
		}
		r := e.do(e.mkt, "POST", "/api/v1/content", map[string]any{"kind": "case_study", "title": "物流の導入事例", "url": "https://example.jp/case",
			"topics": []string{"物流", "DX"}, "stage": "decision", "status": "published"})
		if r.status != 201 {
			t.Fatalf("create: %d %s", r.status, r.raw)
		}
		id := int64(r.body["id"].(float64))
		if r := e.do(e.sales, "GET", "/api/v1/content?topic=DX&stage=decision", nil); r.status != 200 || !strings.Contains(r.raw, "物流の導入事例") {
			t.Fatalf("list: %d %s", r.status, r.raw)
		}
		if r := e.do(e.sales, "GET", "/api/v1/content?topic=none", nil); r.status != 200 || strings.TrimSpace(r.raw) != "[]" {
			t.Fatalf("filtered list: %d %s", r.status, r.raw)
		}
		// A file upload: too large is refused naming the field; a small one replaces the address.
		big := e.do(e.mkt, "PUT", fmt.Sprintf("/api/v1/content/%d/file?name=big.pdf", id), bytes.Repeat([]byte{'x'}, content.MaxFileSize+10))
		if big.status/100 != 4 || big.errField() != "file" {
			t.Fatalf("big upload: %d %.200s", big.status, big.raw)
		}
		up := e.do(e.mkt, "PUT", fmt.Sprintf("/api/v1/content/%d/file?name=%s", id, "case.pdf"), []byte("%PDF-1.4"))
		if up.status != 200 || up.body["file_name"] != "case.pdf" || up.body["url"] != nil {
			t.Fatalf("upload: %d %s", up.status, up.raw)
		}
		c := e.do(e.sales, "POST", "/api/v1/contacts", map[string]any{"email": "kato@customer.jp", "family_name": "加藤"})
		cid := int64(c.body["id"].(float64))
		sh := e.do(e.sales, "POST", fmt.Sprintf("/api/v1/content/%d/share", id), map[string]any{"contact_id": cid})
		link, _ := sh.body["url"].(string)
		if sh.status != 200 || !strings.Contains(link, "/c/s/") {
			t.Fatalf("share: %d %s", sh.status, sh.raw)
		}
		res, err := http.Get(link)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != 200 {
			t.Fatalf("open: %d", res.StatusCode)
		}
		v := e.do(e.mkt, "GET", fmt.Sprintf("/api/v1/content/%d/views", id), nil)
		var views []content.ViewRecord
		_ = json.Unmarshal([]byte(v.raw), &views)
		if v.status != 200 || len(views) != 1 || views[0].ContactID != cid || views[0].SharedBy != e.salesID {
			t.Fatalf("views: %d %s", v.status, v.raw)
		}
		// Battle cards.
		comp := e.do(e.admin, "POST", "/api/v1/competitors", map[string]any{"name": "競合C社"})
		if comp.status/100 != 2 {
			t.Fatalf("competitor: %d %s", comp.status, comp.raw)
		}
		coid := int64(comp.body["id"].(float64))
		if r := e.do(e.mkt, "PUT", fmt.Sprintf("/api/v1/competitors/%d/battle-cards/%d", coid, id), nil); r.status != 204 {
			t.Fatalf("link card: %d %s", r.status, r.raw)
		}
		if r := e.do(e.sales, "GET", fmt.Sprintf("/api/v1/competitors/%d/battle-cards", coid), nil); r.status != 200 || !strings.Contains(r.raw, "物流の導入事例") {
			t.Fatalf("cards: %d %s", r.status, r.raw)
		}
		if r := e.do(e.mkt, "POST", fmt.Sprintf("/api/v1/content/%d/archive", id), nil); r.status != 200 || r.body["status"] != "archived" {
			t.Fatalf("archive: %d %s", r.status, r.raw)
		}
		if r := e.do(e.mkt, "GET", "/api/v1/openapi.json", nil); !strings.Contains(r.raw, "/api/v1/content/{id}/share") {
			t.Errorf("the OpenAPI document lacks the content routes")
		}
	})
}
