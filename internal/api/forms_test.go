package api_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/ryorin/ryorin/internal/db"
	"github.com/ryorin/ryorin/internal/dbtest"
)

func TestFormsAPI_CRUDAndPublicJSONSubmit(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := start(t, d)
		def := map[string]any{"name": "Webinar", "fields": []map[string]any{{"key": "email"}, {"key": "family_name", "required": true},
			{"key": "company"}}, "consent_enabled": true, "consent_text_en": "Send me news", "consent_text_ja": "お知らせを受け取る",
			"allowed_domains": []string{"example.co.jp"}}
		if r := e.do(e.sales, "POST", "/api/v1/forms", def); r.status != 403 {
			t.Errorf("a sales rep created a form: %d", r.status)
		}
		bad := map[string]any{"name": "x", "fields": []map[string]any{{"key": "family_name"}}}
		if r := e.do(e.mkt, "POST", "/api/v1/forms", bad); r.status != 400 || r.errField() != "fields" {
			t.Errorf("a form without email: %d %s", r.status, r.raw)
		}
		r := e.do(e.mkt, "POST", "/api/v1/forms", def)
		if r.status != 201 {
			t.Fatalf("create: %d %s", r.status, r.raw)
		}
		id, key := int64(r.body["id"].(float64)), r.body["key"].(string)
		def["name"] = "Webinar (autumn)"
		def["redirect_url"] = "https://evil.example/"
		if r := e.do(e.mkt, "PUT", fmt.Sprintf("/api/v1/forms/%d", id), def); r.status != 400 || r.errField() != "redirect_url" {
			t.Errorf("open redirect saved: %d %s", r.status, r.raw)
		}
		delete(def, "redirect_url")
		if r := e.do(e.mkt, "PUT", fmt.Sprintf("/api/v1/forms/%d", id), def); r.status != 200 || r.body["name"] != "Webinar (autumn)" {
			t.Errorf("update: %d %s", r.status, r.raw)
		}

		// A visitor's JSON post from another site: not blocked by the cross-origin check, CORS open.
		pub := e.do("", "GET", "/api/v1/public/forms/"+key, nil)
		if pub.status != 200 || pub.header.Get("Access-Control-Allow-Origin") != "*" {
			t.Fatalf("public form: %d %s", pub.status, pub.raw)
		}
		tok := pub.body["token"].(string)
		e.clock.Advance(10 * time.Second)
		sub := map[string]any{"token": tok, "lang": "ja", "values": map[string]any{"email": "Mika@Example.jp"}, "consent": true}
		r = e.do("", "POST", "/api/v1/public/forms/"+key+"/submissions", sub, "Sec-Fetch-Site", "cross-site", "Origin", "https://www.example.co.jp")
		if r.status != 422 || !strings.Contains(r.raw, "必須") || r.header.Get("Access-Control-Allow-Origin") != "*" {
			t.Errorf("missing family name: %d %s", r.status, r.raw)
		}
		sub["values"] = map[string]any{"email": "Mika@Example.jp", "family_name": "藤井", "company": "株式会社フジ"}
		r = e.do("", "POST", "/api/v1/public/forms/"+key+"/submissions", sub, "Sec-Fetch-Site", "cross-site", "Idempotency-Key", "k-1")
		if r.status != 200 || r.body["ok"] != true || r.body["status"] != "received" {
			t.Fatalf("submit: %d %s", r.status, r.raw)
		}
		again := e.do("", "POST", "/api/v1/public/forms/"+key+"/submissions", sub, "Sec-Fetch-Site", "cross-site", "Idempotency-Key", "k-1")
		if again.body["submission_id"] != r.body["submission_id"] || again.body["replayed"] != true {
			t.Errorf("same Idempotency-Key twice: %s then %s", r.raw, again.raw)
		}
		// Other state-changing cross-site requests are still refused.
		if r := e.do(e.mkt, "POST", "/api/v1/forms", def, "Sec-Fetch-Site", "cross-site"); r.status != 403 {
			t.Errorf("cross-site form creation: %d", r.status)
		}

		list := e.do(e.sales, "GET", fmt.Sprintf("/api/v1/forms/%d/submissions", id), nil)
		items, _ := list.body["items"].([]any)
		if list.status != 200 || len(items) != 1 {
			t.Fatalf("submissions: %d %s", list.status, list.raw)
		}
		s := items[0].(map[string]any)
		if s["email"] != "mika@example.jp" || s["consent_text"] != "お知らせを受け取る" || s["contact_id"] == nil {
			t.Errorf("submission = %v", s)
		}
		forms := e.do(e.sales, "GET", "/api/v1/forms", nil)
		if !strings.Contains(forms.raw, `"submissions":1`) {
			t.Errorf("list: %s", forms.raw)
		}
		doc := e.do("", "GET", "/api/v1/openapi.json", nil)
		for _, p := range []string{"/api/v1/forms/{id}/submissions", "/api/v1/public/forms/{key}/submissions"} {
			if !strings.Contains(doc.raw, p) {
				t.Errorf("OpenAPI lacks %s", p)
			}
		}
		if r := e.do(e.mkt, "DELETE", fmt.Sprintf("/api/v1/forms/%d", id), nil); r.status != 204 {
			t.Errorf("delete: %d", r.status)
		}
		if r := e.do("", "GET", "/api/v1/public/forms/"+key, nil); r.status != 404 {
			t.Errorf("deleted form still public: %d", r.status)
		}
	})
}
