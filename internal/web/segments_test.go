package web_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"testing"

	"github.com/ryorin/ryorin/internal/crm"
	"github.com/ryorin/ryorin/internal/db"
	"github.com/ryorin/ryorin/internal/dbtest"
	"github.com/ryorin/ryorin/internal/platform"
)

func TestSegmentEditor_BuildsPreviewsAndSavesWithoutJS(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := start(t, d, true)
		e.login()
		ctx := context.Background()
		a := platform.CLI(1)
		s := func(v string) *string { return &v }
		var ids []int64
		for i, title := range []string{"CTO", "Engineer", "CEO"} {
			ct, err := e.crm.CreateContact(ctx, a, crm.ContactInput{FamilyName: s("田中"), GivenName: s(fmt.Sprint(i)), Email: s(fmt.Sprintf("t%d@example.jp", i)), Title: s(title)})
			if err != nil {
				t.Fatal(err)
			}
			ids = append(ids, ct.ID)
		}
		form := url.Values{"name": {"Chiefs"}, "c.0.0.field": {"title"}, "c.0.0.op": {"starts_with"}, "c.0.0.value": {"c"}}
		// Preview: the count and the first contacts, no save.
		form.Set("do", "preview")
		code, body, _ := e.post("/segments", form)
		if code != 200 || !strings.Contains(body, `data-live-count>2<`) || !strings.Contains(body, "田中") {
			t.Fatalf("preview: %d %.500s", code, body)
		}
		// Add a row to group 0, then an OR group.
		form.Set("do", "add:0")
		if _, body, _ = e.post("/segments", form); !strings.Contains(body, `name="c.0.1.field"`) {
			t.Fatalf("add condition: %.300s", body)
		}
		form.Set("do", "addgroup")
		if _, body, _ = e.post("/segments", form); !strings.Contains(body, `name="c.1.0.field"`) || !strings.Contains(body, `data-testid="or"`) {
			t.Fatalf("add group: %.300s", body)
		}
		// Switching a row's field keeps the row valid: the old operator is replaced.
		bad := url.Values{"name": {"x"}, "c.0.0.field": {"visited_page"}, "c.0.0.op": {"starts_with"}, "c.0.0.value": {"c"}, "do": {"preview"}}
		if code, body, _ := e.post("/segments", bad); code != 200 || !strings.Contains(body, `name="c.0.0.days"`) || strings.Contains(body, `role="alert"`) {
			t.Fatalf("field switch: %d %.300s", code, body)
		}
		// A wrong value is shown beside its row.
		bad = url.Values{"name": {"x"}, "c.0.0.field": {"visited_page"}, "c.0.0.op": {"at_least"}, "c.0.0.count": {"5000"}, "c.0.0.days": {"7"}, "do": {"preview"}}
		if _, body, _ := e.post("/segments", bad); !strings.Contains(body, "1〜1000") {
			t.Fatalf("bad count: %.300s", body)
		}
		// The live count endpoint answers JSON.
		res, err := e.c.PostForm(e.srv.URL+"/segments/count", form)
		if err != nil {
			t.Fatal(err)
		}
		var out map[string]any
		_ = json.NewDecoder(res.Body).Decode(&out)
		res.Body.Close()
		if out["count"] != float64(2) {
			t.Fatalf("count endpoint: %v", out)
		}
		// Save without a name: refused, the rows kept.
		form = url.Values{"c.0.0.field": {"title"}, "c.0.0.op": {"starts_with"}, "c.0.0.value": {"c"}, "do": {"save"}}
		if code, body, _ := e.post("/segments", form); code != 422 || !strings.Contains(body, `value="c"`) {
			t.Fatalf("save without name: %d %.300s", code, body)
		}
		form.Set("name", "Chiefs")
		if code, _, at := e.post("/segments", form); code != 200 || !strings.HasPrefix(at, "/segments/") {
			t.Fatalf("save: %d at %s", code, at)
		}
		// Lists: create, add two contacts with the bulk bar, see it on the contact page, remove one.
		if code, _, at := e.post("/lists", url.Values{"name": {"展示会 2026"}}); code != 200 || at != "/lists/1" {
			t.Fatalf("list: %d %s", code, at)
		}
		if code, body, _ := e.post("/lists", url.Values{"name": {"展示会 2026"}}); code != 422 || !strings.Contains(body, "同じ名前のリスト") {
			t.Fatalf("duplicate list: %d", code)
		}
		if _, body := e.get("/contacts"); !strings.Contains(body, `data-testid="bulk-list"`) {
			t.Fatal("bulk bar lacks add to list")
		}
		code, _, _ = e.post("/contacts/bulk", url.Values{"action": {"list"}, "list_id": {"1"}, "id": {fmt.Sprint(ids[0]), fmt.Sprint(ids[1])}, "back": {"/contacts"}})
		if code != 200 {
			t.Fatalf("bulk add: %d", code)
		}
		if _, body := e.get(fmt.Sprintf("/contacts/%d", ids[0])); !strings.Contains(body, `href="/lists/1">展示会 2026</a>`) {
			t.Fatalf("contact page lacks the list: %.200s", body)
		}
		if _, body := e.get("/lists/1"); strings.Count(body, `name="id"`) != 2 {
			t.Fatalf("list page: %.300s", body)
		}
		e.post("/lists/1/remove", url.Values{"id": {fmt.Sprint(ids[0])}})
		if _, body := e.get("/lists/1"); strings.Count(body, `name="id"`) != 1 {
			t.Fatalf("after remove: %.300s", body)
		}
		e.post(fmt.Sprintf("/contacts/%d/lists", ids[2]), url.Values{"list_id": {"1"}})
		if _, body := e.get("/lists/1"); strings.Count(body, `name="id"`) != 2 {
			t.Fatalf("after contact page add: %.300s", body)
		}
	})
}
