package api_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/ryorin/ryorin/internal/db"
	"github.com/ryorin/ryorin/internal/dbtest"
	"github.com/ryorin/ryorin/internal/platform"
	"github.com/ryorin/ryorin/internal/smtptest"
)

func TestEmailAPI_CreatePreviewSendReport(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := start(t, d)
		ctx := context.Background()
		srv := smtptest.Start(t)
		if _, err := platform.SetSMTP(ctx, d, platform.CLI(1), platform.SMTPSettings{Host: srv.Host(), Port: srv.Port(), TLS: "none",
			FromAddress: "news@example.jp", FromName: "両輪"}, e.clock.Now()); err != nil {
			t.Fatal(err)
		}
		r := e.do(e.admin, "POST", "/api/v1/contacts", map[string]any{"email": "kato@example.jp", "family_name": "加藤", "consent_email": "granted"})
		if r.status != 201 {
			t.Fatalf("contact: %d %s", r.status, r.raw)
		}
		cid := int64(r.body["id"].(float64))
		r = e.do(e.mkt, "POST", "/api/v1/lists", map[string]any{"name": "顧客"})
		lid := int64(r.body["id"].(float64))
		e.do(e.mkt, "POST", fmt.Sprintf("/api/v1/lists/%d/members", lid), map[string]any{"contact_ids": []int64{cid}})
		in := map[string]any{"name": "ご案内", "audience_kind": "list", "audience_id": lid,
			"template": map[string]any{"subject": "{{.Salutation}}", "text": "本文\n{{.Oops}}"}}
		if r := e.do(e.mkt, "POST", "/api/v1/email/campaigns", in); r.status != 400 || r.errField() != "text" || !strings.Contains(r.raw, "line 2") {
			t.Errorf("broken template: %d %s", r.status, r.raw)
		}
		in["template"] = map[string]any{"subject": "{{.Salutation}}", "text": "{{.Salutation}}\n本文"}
		if r := e.do(e.sales, "POST", "/api/v1/email/campaigns", in); r.status != 403 {
			t.Errorf("a rep created a campaign: %d", r.status)
		}
		r = e.do(e.mkt, "POST", "/api/v1/email/campaigns", in)
		if r.status != 201 {
			t.Fatalf("create: %d %s", r.status, r.raw)
		}
		id := int64(r.body["id"].(float64))
		if r := e.do(e.mkt, "GET", fmt.Sprintf("/api/v1/email/campaigns/%d/preview?contact=%d", id, cid), nil); r.status != 200 || r.body["subject"] != "加藤様" {
			t.Errorf("preview: %d %s", r.status, r.raw)
		}
		if r := e.do(e.mkt, "POST", fmt.Sprintf("/api/v1/email/campaigns/%d/send", id), map[string]any{"per_minute": -5}); r.status != 400 || r.errField() != "per_minute" {
			t.Fatalf("bad rate: %d %s", r.status, r.raw)
		}
		if r := e.do(e.mkt, "POST", "/api/v1/email/bounces", map[string]any{"events": []any{map[string]any{"email": "gone@example.jp", "type": "bounce", "detail": "550 5.1.1"}}}); r.status != 200 || r.body["recorded"] != 1.0 {
			t.Fatalf("bounces: %d %s", r.status, r.raw)
		}
		if r := e.do(e.mkt, "POST", "/api/v1/email/bounces", map[string]any{"events": []any{map[string]any{"email": "x@example.jp", "type": "soft"}}}); r.status != 400 || r.errField() != "events[0].type" {
			t.Fatalf("bad bounce: %d %s", r.status, r.raw)
		}
		later := e.clock.Now().Add(48 * time.Hour).Format(time.RFC3339)
		if r := e.do(e.mkt, "POST", fmt.Sprintf("/api/v1/email/campaigns/%d/send", id), map[string]any{"send_at": later, "per_minute": 50, "window_start": 9, "window_end": 18}); r.status != 200 || r.body["status"] != "scheduled" || r.body["per_minute"] != 50.0 {
			t.Fatalf("schedule: %d %s", r.status, r.raw)
		}
		if r := e.do(e.mkt, "POST", fmt.Sprintf("/api/v1/email/campaigns/%d/unschedule", id), nil); r.status != 200 || r.body["status"] != "draft" {
			t.Fatalf("unschedule: %d %s", r.status, r.raw)
		}
		if r := e.do(e.mkt, "POST", fmt.Sprintf("/api/v1/email/campaigns/%d/send", id), nil); r.status != 200 || r.body["status"] != "sending" {
			t.Fatalf("send: %d %s", r.status, r.raw)
		}
		for i := 0; i < 5; i++ {
			if _, err := e.app.Jobs.RunOnce(ctx); err != nil {
				t.Fatal(err)
			}
		}
		r = e.do(e.mkt, "GET", fmt.Sprintf("/api/v1/email/campaigns/%d/report", id), nil)
		if r.status != 200 || r.body["sent"] != float64(1) || r.body["recipients"] != float64(1) || len(srv.Messages()) != 1 {
			t.Errorf("report: %d %s (sink %d)", r.status, r.raw, len(srv.Messages()))
		}
	})
}

func TestEmailAPI_BlockCampaignAndContactInterests(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := start(t, d)
		r := e.do(e.admin, "POST", "/api/v1/contacts", map[string]any{"email": "kato@example.jp", "family_name": "加藤", "consent_email": "granted"})
		cid := int64(r.body["id"].(float64))
		r = e.do(e.mkt, "POST", "/api/v1/events/batch", map[string]any{"events": []any{
			map[string]any{"id": "cv1", "kind": "content_view", "contact_id": cid, "properties": map[string]any{"topics": []string{"case_studies"}}}}})
		if r.status >= 300 {
			t.Fatalf("events: %d %s", r.status, r.raw)
		}
		r = e.do(e.mkt, "POST", "/api/v1/lists", map[string]any{"name": "顧客"})
		lid := int64(r.body["id"].(float64))
		blocks := map[string]any{"blocks": []any{
			map[string]any{"type": "variant", "by": "interest", "options": []any{map[string]any{"topic": "case_studies",
				"blocks": []any{map[string]any{"type": "text", "text": "事例のご紹介"}}}}, "default": []any{map[string]any{"type": "text", "text": "ご案内"}}},
			map[string]any{"type": "image", "url": "javascript:alert(1)", "alt": "x"}}}
		in := map[string]any{"name": "ブロック", "audience_kind": "list", "audience_id": lid, "template": map[string]any{"subject": "{{.Salutation}}"},
			"blocks": blocks, "topics": []string{"case_studies"}}
		if r := e.do(e.mkt, "POST", "/api/v1/email/campaigns", in); r.status != 400 || r.errField() != "blocks[1].url" {
			t.Errorf("javascript: URL: %d %s", r.status, r.raw)
		}
		blocks["blocks"] = blocks["blocks"].([]any)[:1]
		r = e.do(e.mkt, "POST", "/api/v1/email/campaigns", in)
		if r.status != 201 || r.body["blocks"] == nil {
			t.Fatalf("create: %d %s", r.status, r.raw)
		}
		id := int64(r.body["id"].(float64))
		if r := e.do(e.mkt, "GET", fmt.Sprintf("/api/v1/email/campaigns/%d/preview?contact=%d", id, cid), nil); r.status != 200 || !strings.Contains(fmt.Sprint(r.body["html"]), "事例のご紹介") {
			t.Errorf("preview: %d %s", r.status, r.raw)
		}
		if r := e.do(e.sales, "GET", fmt.Sprintf("/api/v1/contacts/%d/interests", cid), nil); r.status != 200 || !strings.Contains(r.raw, `"topic":"case_studies"`) {
			t.Errorf("interests: %d %s", r.status, r.raw)
		}
	})
}
