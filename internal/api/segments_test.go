package api_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/ryorin/ryorin/internal/db"
	"github.com/ryorin/ryorin/internal/dbtest"
)

func TestSegmentsAPI_ListsSegmentsPreviewAndRefusals(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := start(t, d)
		var ids []int64
		for i, stage := range []string{"lead", "lead", "customer"} {
			r := e.do(e.admin, "POST", "/api/v1/contacts", map[string]any{"email": fmt.Sprintf("p%d@example.jp", i), "family_name": "佐藤", "lifecycle_stage": stage})
			if r.status != 201 {
				t.Fatalf("contact: %d %s", r.status, r.raw)
			}
			ids = append(ids, int64(r.body["id"].(float64)))
		}
		if r := e.do(e.sales, "POST", "/api/v1/lists", map[string]any{"name": "x"}); r.status != 403 {
			t.Errorf("a rep created a list: %d", r.status)
		}
		r := e.do(e.mkt, "POST", "/api/v1/lists", map[string]any{"name": "展示会リスト"})
		if r.status != 201 {
			t.Fatalf("list: %d %s", r.status, r.raw)
		}
		lid := int64(r.body["id"].(float64))
		r = e.do(e.sales, "POST", fmt.Sprintf("/api/v1/lists/%d/members", lid), map[string]any{"contact_ids": []int64{ids[0], ids[2]}})
		if r.status != 200 || r.body["changed"] != float64(2) {
			t.Fatalf("add members: %d %s", r.status, r.raw)
		}
		r = e.do(e.sales, "GET", fmt.Sprintf("/api/v1/lists/%d/members?limit=1", lid), nil)
		if items, _ := r.body["items"].([]any); r.status != 200 || len(items) != 1 || r.body["next_cursor"] != float64(ids[0]) {
			t.Fatalf("members page: %d %s", r.status, r.raw)
		}
		def := map[string]any{"groups": []any{map[string]any{"conditions": []any{
			map[string]any{"field": "lifecycle_stage", "op": "eq", "value": "lead"},
			map[string]any{"field": "list", "op": "in", "value": fmt.Sprint(lid)},
		}}}}
		r = e.do(e.sales, "POST", "/api/v1/segments/preview", map[string]any{"definition": def})
		if r.status != 200 || r.body["count"] != float64(1) {
			t.Fatalf("preview: %d %s", r.status, r.raw)
		}
		bad := map[string]any{"groups": []any{map[string]any{"conditions": []any{map[string]any{"field": "salary", "op": "gte", "value": "1"}}}}}
		if r := e.do(e.mkt, "POST", "/api/v1/segments", map[string]any{"name": "x", "definition": bad}); r.status != 400 || r.errField() != "groups[0].conditions[0].field" || !strings.Contains(r.raw, "salary") {
			t.Errorf("unknown field: %d %s", r.status, r.raw)
		}
		r = e.do(e.mkt, "POST", "/api/v1/segments", map[string]any{"name": "Booth leads", "definition": def})
		if r.status != 201 {
			t.Fatalf("segment: %d %s", r.status, r.raw)
		}
		sid := int64(r.body["id"].(float64))
		if left, err := e.app.SegmentRefresher.RecomputeDue(context.Background(), 1, 0); err != nil || left {
			t.Fatal(left, err)
		}
		r = e.do(e.sales, "GET", fmt.Sprintf("/api/v1/segments/%d/members", sid), nil)
		if items, _ := r.body["items"].([]any); r.status != 200 || len(items) != 1 {
			t.Fatalf("segment members: %d %s", r.status, r.raw)
		}
		if r := e.do(e.sales, "GET", fmt.Sprintf("/api/v1/segments/%d", sid), nil); r.body["members"] != float64(1) {
			t.Errorf("segment: %s", r.raw)
		}
		if r := e.do(e.mkt, "DELETE", fmt.Sprintf("/api/v1/segments/%d", sid), nil); r.status != 204 {
			t.Errorf("delete: %d %s", r.status, r.raw)
		}
		if r := e.do(e.mkt, "GET", fmt.Sprintf("/api/v1/segments/%d", sid), nil); r.status != 404 {
			t.Errorf("deleted segment: %d", r.status)
		}
	})
}
