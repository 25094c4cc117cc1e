package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"

	"github.com/ryorin/ryorin/internal/db"
	"github.com/ryorin/ryorin/internal/dbtest"
)

func TestSequencesAPI_CreateEnrolRunAndEndWithFieldErrors(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := start(t, d)
		for _, c := range []struct {
			body  any
			field string
		}{
			{map[string]any{"name": "x", "steps": []any{map[string]any{"action": "call"}, map[string]any{"action": "call", "delay_days": -1}}}, "steps[1].delay_days"},
			{map[string]any{"name": "x", "steps": []any{map[string]any{"action": "fax"}}}, "steps[0].action"},
			{map[string]any{"name": "x", "steps": []any{map[string]any{"action": "email", "body": "b"}}}, "steps[0].subject"},
			{map[string]any{"name": "x", "steps": []any{map[string]any{"action": "call", "colour": 1}}}, "steps"},
			{map[string]any{"name": "x", "steps": "call"}, "steps"},
			{map[string]any{"name": "x"}, "steps"},
			{map[string]any{"steps": []any{map[string]any{"action": "call"}}}, "name"},
		} {
			if r := e.do(e.sales, "POST", "/api/v1/sequences", c.body); r.status/100 != 4 || r.errField() != c.field {
				t.Errorf("%v: %d %s, want a 4xx naming %s", c.body, r.status, r.raw, c.field)
			}
		}
		r := e.do(e.sales, "POST", "/api/v1/sequences", map[string]any{"name": "Cold outreach", "shared": false, "steps": []any{
			map[string]any{"delay_days": 0, "action": "email", "subject": "Hello {{.FamilyName}}", "body": "Hi"},
			map[string]any{"delay_days": 2, "action": "call", "note": "ask about budget"}}})
		if r.status != 201 || r.body["shared"] != false {
			t.Fatalf("create: %d %s", r.status, r.raw)
		}
		id := int64(r.body["id"].(float64))
		if r := e.do(e.admin, "GET", fmt.Sprintf("/api/v1/sequences/%d", id), nil); r.status != 404 {
			t.Errorf("another user sees a private sequence: %d", r.status)
		}
		r = e.do(e.sales, "PUT", fmt.Sprintf("/api/v1/sequences/%d", id), map[string]any{"name": "Cold outreach", "steps": []any{
			map[string]any{"action": "email", "subject": "Hello {{.FamilyName}}", "body": "Hi"}}})
		if r.status != 200 || r.body["shared"] != true || len(r.body["steps"].([]any)) != 1 {
			t.Fatalf("update: %d %s", r.status, r.raw)
		}
		r = e.do(e.sales, "POST", "/api/v1/contacts", map[string]any{"email": "kato@customer.jp", "family_name": "加藤"})
		cid := int64(r.body["id"].(float64))
		path := fmt.Sprintf("/api/v1/sequences/%d/enrolments", id)
		if r := e.do(e.sales, "POST", path, map[string]any{"contact_id": 99999}); r.status/100 != 4 || r.errField() != "contact_id" {
			t.Errorf("unknown contact: %d %s", r.status, r.raw)
		}
		r = e.do(e.sales, "POST", path, map[string]any{"contact_id": cid})
		if r.status != 201 || r.body["status"] != "active" || r.body["next_action"] != "email" {
			t.Fatalf("enrol: %d %s", r.status, r.raw)
		}
		eid := int64(r.body["id"].(float64))
		if r := e.do(e.sales, "POST", path, map[string]any{"contact_id": cid}); r.status != 409 {
			t.Errorf("enrol twice: %d %s", r.status, r.raw)
		}
		if r := e.do(e.sales, "GET", path, nil); r.status != 200 || listLen(r.raw) != 1 {
			t.Errorf("list enrolments: %d %s", r.status, r.raw)
		}
		if r := e.do(e.sales, "GET", "/api/v1/sequences", nil); r.status != 200 || listLen(r.raw) != 1 {
			t.Errorf("list: %d %s", r.status, r.raw)
		}
		if r := e.do(e.sales, "POST", fmt.Sprintf("/api/v1/enrolments/%d/end", eid), nil); r.status != 200 || r.body["status"] != "ended" {
			t.Fatalf("end: %d %s", r.status, r.raw)
		}
		if r := e.do(e.sales, "POST", fmt.Sprintf("/api/v1/enrolments/%d/end", eid), nil); r.status != 409 {
			t.Errorf("end twice: %d %s", r.status, r.raw)
		}
		if n, err := e.app.Sequences.Tick(context.Background(), 1); err != nil || n != 0 {
			t.Errorf("an ended enrolment ran %d steps: %v", n, err)
		}
	})
}

// listLen is the length of a JSON array response (-1 if it is not one).
func listLen(raw string) int {
	var l []any
	if err := json.Unmarshal([]byte(raw), &l); err != nil {
		return -1
	}
	return len(l)
}
