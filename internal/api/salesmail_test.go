package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/ryorin/ryorin/internal/db"
	"github.com/ryorin/ryorin/internal/dbtest"
	"github.com/ryorin/ryorin/internal/platform"
	"github.com/ryorin/ryorin/internal/smtptest"
)

func TestSalesEmailAPI_SendOnceListAndLogAReplyByAPI(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := start(t, d)
		ctx := context.Background()
		srv := smtptest.Start(t)
		if _, err := platform.SetSMTP(ctx, d, platform.CLI(1), platform.SMTPSettings{Host: srv.Host(), Port: srv.Port(), TLS: "none",
			FromAddress: "sales@example.jp"}, e.clock.Now()); err != nil {
			t.Fatal(err)
		}
		if r := e.do(e.sales, "PUT", "/api/v1/settings/sales-email", map[string]any{"inbound_domain": "reply.example.jp"}); r.status != 403 {
			t.Errorf("a rep set the inbound domain: %d", r.status)
		}
		if r := e.do(e.admin, "PUT", "/api/v1/settings/sales-email", map[string]any{"inbound_domain": "not a domain"}); r.status != 400 || r.errField() != "inbound_domain" {
			t.Errorf("bad domain: %d %s", r.status, r.raw)
		}
		if r := e.do(e.admin, "PUT", "/api/v1/settings/sales-email", map[string]any{"inbound_domain": "reply.example.jp"}); r.status != 200 {
			t.Fatalf("domain: %d %s", r.status, r.raw)
		}
		r := e.do(e.sales, "POST", "/api/v1/contacts", map[string]any{"email": "kato@customer.jp", "family_name": "加藤"})
		if r.status != 201 {
			t.Fatalf("contact: %d %s", r.status, r.raw)
		}
		cid := int64(r.body["id"].(float64))
		path := fmt.Sprintf("/api/v1/contacts/%d/emails", cid)
		for _, c := range []struct {
			body  any
			field string
		}{
			{map[string]any{"body": "x"}, "subject"},
			{map[string]any{"subject": "x"}, "body"},
			{map[string]any{"subject": "x", "body": "y", "nope": 1}, "nope"},
			{map[string]any{"subject": "x", "body": "{{.Oops}}"}, "text"},
		} {
			if r := e.do(e.sales, "POST", path, c.body); r.status/100 != 4 || r.errField() != c.field {
				t.Errorf("%v: %d %s, want a 4xx naming %s", c.body, r.status, r.raw, c.field)
			}
		}
		in := map[string]any{"subject": "{{.FamilyName}}様", "body": "ご確認ください https://example.jp/p"}
		r = e.do(e.sales, "POST", path, in, "Idempotency-Key", "k1")
		if r.status != 201 || r.body["subject"] != "加藤様" || r.body["direction"] != "outbound" {
			t.Fatalf("send: %d %s", r.status, r.raw)
		}
		if r := e.do(e.sales, "POST", path, in, "Idempotency-Key", "k1"); r.status != 201 || r.header.Get("Idempotent-Replayed") != "true" {
			t.Errorf("retry: %d %v", r.status, r.header)
		}
		for range 5 {
			if _, err := e.app.Jobs.RunOnce(ctx); err != nil {
				t.Fatal(err)
			}
		}
		if n := len(srv.Messages()); n != 1 {
			t.Fatalf("%d messages sent, want 1", n)
		}
		r = e.do(e.sales, "GET", path, nil)
		if r.status != 200 || !strings.Contains(r.raw, `"status":"sent"`) || !strings.Contains(r.raw, `"opens":0`) {
			t.Fatalf("list: %d %s", r.status, r.raw)
		}
		var list []map[string]any
		if err := json.Unmarshal([]byte(r.raw), &list); err != nil || len(list) != 1 {
			t.Fatalf("list: %v %s", err, r.raw)
		}
		mid := list[0]["message_id"].(string)
		addr := e.do(e.sales, "GET", "/api/v1/me/reply-address", nil).body["address"].(string)
		if !strings.HasPrefix(addr, fmt.Sprintf("reply+%d.", e.salesID)) {
			t.Fatalf("reply address %q", addr)
		}
		// A forwarder posts the reply with an admin's token; it is the rep's by the address.
		reply := map[string]any{"from": "加藤 <KATO@customer.jp>", "to": []string{addr}, "subject": "Re: 加藤様", "text": "承知しました",
			"message_id": "<r1@customer.jp>", "in_reply_to": mid}
		r = e.do(e.admin, "POST", "/api/v1/emails/inbound", reply)
		if r.status != 201 || r.body["direction"] != "inbound" || r.body["user_id"] != float64(e.salesID) || r.body["reply_to_id"] == nil {
			t.Fatalf("inbound: %d %s", r.status, r.raw)
		}
		if r := e.do(e.admin, "POST", "/api/v1/emails/inbound", map[string]any{"from": "nobody"}); r.status != 400 || r.errField() != "from" {
			t.Errorf("bad from: %d %s", r.status, r.raw)
		}
		if r := e.do("", "POST", "/api/v1/emails/inbound", reply); r.status != 401 {
			t.Errorf("no token: %d", r.status)
		}
		if r := e.do(e.sales, "GET", path, nil); !strings.Contains(r.raw, `"direction":"inbound"`) {
			t.Errorf("the reply is not listed: %s", r.raw)
		}
	})
}
