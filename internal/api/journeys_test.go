package api_test

import (
	"encoding/json"
	"fmt"
	"testing"

	"github.com/ryorin/ryorin/internal/db"
	"github.com/ryorin/ryorin/internal/dbtest"
)

func TestJourneysAPI_BadDefinitionsAre4xxNamingTheFieldAndTheLifecycleWorks(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := start(t, d)
		def := func(steps string) map[string]any {
			return map[string]any{"name": "育成", "definition": map[string]any{"trigger": map[string]any{"kind": "event", "event": "webinar_attended"},
				"steps": rawJSON(steps)}}
		}
		for _, c := range []struct {
			body   any
			status int
			field  string
		}{
			{def(`[{"type":"exit"},{"type":"exit"},{"type":"wait"}]`), 400, "steps[2].wait"},
			{def(`[{"type":"wait","wait":{"duration":"tomorrow"}}]`), 400, "steps[0].wait.duration"},
			{def(`[{"type":"email","email":{"template_id":42}}]`), 400, "steps[0].email.template_id"},
			{def(`[{"id":"a","type":"hand_off","next":"a"}]`), 400, "steps[0].next"},
			{map[string]any{"name": "x", "definition": map[string]any{"trigger": map[string]any{"kind": "someday"}, "steps": []any{}}}, 400, "trigger.kind"},
			{map[string]any{"name": "", "definition": map[string]any{}}, 400, "name"},
			{`{"name":"x","definition":{},"colour":"red"}`, 400, "colour"},
		} {
			r := e.do(e.mkt, "POST", "/api/v1/journeys", c.body)
			if r.status != c.status || r.errField() != c.field {
				t.Errorf("%v: %d field %q %s", c.body, r.status, r.errField(), r.raw)
			}
		}
		if r := e.do(e.sales, "POST", "/api/v1/journeys", def(`[{"type":"exit"}]`)); r.status != 403 {
			t.Errorf("a rep created a journey: %d", r.status)
		}
		r := e.do(e.mkt, "POST", "/api/v1/journeys", def(`[{"id":"w","type":"wait","wait":{"duration":"2d","until":"09:00","business_hours":true}},{"type":"hand_off"}]`))
		if r.status != 201 || r.body["status"] != "draft" {
			t.Fatalf("create: %d %s", r.status, r.raw)
		}
		id := int64(r.body["id"].(float64))
		path := fmt.Sprintf("/api/v1/journeys/%d", id)
		if r := e.do(e.mkt, "POST", path+"/activate", nil); r.status != 200 || r.body["status"] != "active" {
			t.Fatalf("activate: %d %s", r.status, r.raw)
		}
		if r := e.do(e.mkt, "PUT", path, def(`[{"type":"exit"}]`)); r.status != 409 {
			t.Errorf("editing an active journey: %d %s", r.status, r.raw)
		}
		r = e.do(e.admin, "POST", "/api/v1/contacts", map[string]any{"email": "kato@example.jp", "family_name": "加藤"})
		cid := int64(r.body["id"].(float64))
		if r := e.do(e.mkt, "POST", path+"/enrolments", map[string]any{"contact_id": cid}); r.status != 200 || r.body["enrolled"] != true {
			t.Errorf("enrol: %d %s", r.status, r.raw)
		}
		if r := e.do(e.mkt, "POST", path+"/enrolments", map[string]any{"contact_id": cid}); r.status != 200 || r.body["enrolled"] != false {
			t.Errorf("second enrol: %d %s", r.status, r.raw)
		}
		r = e.do(e.mkt, "GET", path+"/enrolments?status=active", nil)
		var list []map[string]any
		_ = json.Unmarshal([]byte(r.raw), &list)
		if r.status != 200 || len(list) != 1 || list[0]["step"] != "w" {
			t.Errorf("enrolments: %d %s", r.status, r.raw)
		}
		eid := int64(list[0]["id"].(float64))
		if r := e.do(e.mkt, "POST", fmt.Sprintf("%s/enrolments/%d/remove", path, eid), nil); r.status != 204 {
			t.Errorf("remove: %d %s", r.status, r.raw)
		}
		if r := e.do(e.mkt, "POST", fmt.Sprintf("%s/enrolments/%d/remove", path, eid), nil); r.status != 404 {
			t.Errorf("remove again: %d %s", r.status, r.raw)
		}
		r = e.do(e.mkt, "GET", path+"/enrolments?status=exited", nil)
		list = nil
		_ = json.Unmarshal([]byte(r.raw), &list)
		if len(list) != 1 || list[0]["exit_reason"] != "removed" {
			t.Errorf("after removal: %s", r.raw)
		}
		if r := e.do(e.mkt, "GET", path+"/enrolments?status=bogus", nil); r.status != 400 || r.errField() != "status" {
			t.Errorf("bad status filter: %d %s", r.status, r.raw)
		}
		if r := e.do(e.mkt, "POST", path+"/pause", nil); r.status != 200 || r.body["status"] != "paused" {
			t.Errorf("pause: %d %s", r.status, r.raw)
		}
		if r := e.do(e.mkt, "PUT", path, def(`[{"id":"w","type":"wait","wait":{"duration":"1d"}},{"type":"exit"}]`)); r.status != 200 {
			t.Errorf("update a paused journey: %d %s", r.status, r.raw)
		}
		if r := e.do(e.mkt, "GET", path+"/stats", nil); r.status != 200 {
			t.Errorf("stats: %d %s", r.status, r.raw)
		}
		r = e.do(e.mkt, "GET", "/api/v1/journeys", nil)
		_ = json.Unmarshal([]byte(r.raw), &list)
		if r.status != 200 || len(list) != 1 {
			t.Errorf("list: %d %s", r.status, r.raw)
		}
		if r := e.do(e.mkt, "GET", "/api/v1/journeys/999", nil); r.status != 404 {
			t.Errorf("missing journey: %d", r.status)
		}
	})
}

func rawJSON(s string) json.RawMessage { return json.RawMessage(s) }
