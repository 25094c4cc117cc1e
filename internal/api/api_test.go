package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/ryorin/ryorin/internal/app"
	"github.com/ryorin/ryorin/internal/clock"
	"github.com/ryorin/ryorin/internal/db"
	"github.com/ryorin/ryorin/internal/dbtest"
	"github.com/ryorin/ryorin/internal/platform"
)

func TestMain(m *testing.M) { os.Exit(dbtest.Main(m)) }

// env is a running Ryorin with an admin, a marketer and a sales rep.
type env struct {
	t                       *testing.T
	app                     *app.App
	srv                     *httptest.Server
	clock                   *clock.Fake
	admin, sales, mkt       string // API tokens
	adminID, salesID, mktID int64
}

func start(t *testing.T, d *db.DB) *env {
	t.Helper()
	ctx := context.Background()
	fc := clock.NewFake(time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC))
	a, err := app.OpenOn(ctx, app.Config{Clock: fc, InsecureCookies: true}, d)
	if err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, app: a, clock: fc}
	e.srv = httptest.NewServer(a.Handler())
	t.Cleanup(e.srv.Close)
	cli := platform.CLI(1)
	mk := func(email string, role platform.Role) (int64, string) {
		u, err := platform.CreateUser(ctx, d, cli, platform.NewUser{Email: email, Name: email, Role: role, Password: "correct horse battery"}, fc.Now())
		if err != nil {
			t.Fatal(err)
		}
		_, tok, err := platform.CreateToken(ctx, d, cli, u.ID, "test", nil, fc.Now())
		if err != nil {
			t.Fatal(err)
		}
		return u.ID, tok
	}
	e.adminID, e.admin = mk("admin@example.com", platform.RoleAdmin)
	e.salesID, e.sales = mk("rep@example.com", platform.RoleSales)
	e.mktID, e.mkt = mk("mkt@example.com", platform.RoleMarketing)
	return e
}

type resp struct {
	status int
	body   map[string]any
	raw    string
	header http.Header
}

func (r resp) errField() string {
	e, _ := r.body["error"].(map[string]any)
	f, _ := e["field"].(string)
	return f
}

func (e *env) do(token, method, path string, body any, headers ...string) resp {
	e.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		js, _ := json.Marshal(b)
		rd = bytes.NewReader(js)
	}
	req, _ := http.NewRequest(method, e.srv.URL+path, rd)
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	out := resp{status: res.StatusCode, raw: string(raw), header: res.Header}
	_ = json.Unmarshal(raw, &out.body)
	return out
}

func (e *env) count(table string) int {
	var n int
	if err := e.app.DB.Reader().QueryRowContext(context.Background(), "SELECT COUNT(*) FROM "+table).Scan(&n); err != nil {
		e.t.Fatal(err)
	}
	return n
}

func TestAPI_BadInputGetsTheRightStatusAndChangesNothing(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := start(t, d)
		first := e.do(e.admin, "POST", "/api/v1/contacts", map[string]any{"email": "a@example.com", "family_name": "山田"})
		if first.status != 201 {
			t.Fatalf("create: %d %s", first.status, first.raw)
		}
		id := int64(first.body["id"].(float64))
		contacts, audits := e.count("contacts"), e.count("audit_log")
		big := `{"family_name":"` + strings.Repeat("x", 2<<20) + `"}`
		cases := []struct {
			name, token, method, path string
			body                      any
			status                    int
			field                     string
		}{
			{"duplicate email", e.admin, "POST", "/api/v1/contacts", map[string]any{"email": "A@example.com"}, 409, "email"},
			{"unknown field", e.admin, "POST", "/api/v1/contacts", map[string]any{"emial": "b@example.com"}, 400, "emial"},
			{"wrong type", e.admin, "POST", "/api/v1/contacts", map[string]any{"email": 42}, 400, "email"},
			{"malformed JSON", e.admin, "POST", "/api/v1/contacts", `{"email":`, 400, ""},
			{"oversized body", e.admin, "POST", "/api/v1/contacts", big, 413, ""},
			{"invalid stage", e.admin, "POST", "/api/v1/deals", map[string]any{"name": "x", "stage_id": 9999}, 422, "stage_id"},
			{"lost without reason", e.admin, "POST", "/api/v1/deals", map[string]any{"name": "x", "stage_id": 6}, 422, "lost_reason"},
			{"no token", "", "GET", "/api/v1/contacts", nil, 401, ""},
			{"bad token", "ryo_nope", "GET", "/api/v1/contacts", nil, 401, ""},
			{"wrong role", e.sales, "POST", "/api/v1/users", map[string]any{"email": "x@example.com", "name": "x", "role": "admin"}, 403, ""},
			{"wrong role audit", e.mkt, "GET", "/api/v1/audit", nil, 403, ""},
			{"not found", e.admin, "GET", "/api/v1/contacts/99999", nil, 404, ""},
			{"bad id", e.admin, "GET", "/api/v1/contacts/abc", nil, 404, ""},
			{"bad filter", e.admin, "GET", "/api/v1/contacts?lifecycle_stage=hot", nil, 400, "lifecycle_stage"},
			{"bad cursor", e.admin, "GET", "/api/v1/contacts?cursor=zzz", nil, 400, "cursor"},
			{"unknown prop filter", e.admin, "GET", "/api/v1/contacts?prop.nope=1", nil, 400, "prop.nope"},
			{"bad patch", e.admin, "PATCH", "/api/v1/contacts/" + itoa(id), map[string]any{"lifecycle_stage": "hot"}, 400, "lifecycle_stage"},
			{"unknown route", e.admin, "GET", "/api/v1/nothing", nil, 404, ""},
		}
		for _, c := range cases {
			r := e.do(c.token, c.method, c.path, c.body)
			if r.status != c.status || (c.field != "" && r.errField() != c.field) {
				t.Errorf("%s: got %d field %q (%s), want %d field %q", c.name, r.status, r.errField(), trunc(r.raw), c.status, c.field)
			}
			if r.body["error"] == nil {
				t.Errorf("%s: no JSON error body: %s", c.name, trunc(r.raw))
			}
		}
		dup := e.do(e.admin, "POST", "/api/v1/contacts", map[string]any{"email": "a@example.com"})
		if got := dup.body["error"].(map[string]any)["existing_id"]; got != float64(id) {
			t.Errorf("conflict existing_id = %v, want %d", got, id)
		}
		if e.count("contacts") != contacts || e.count("audit_log") != audits || e.count("deals") != 0 {
			t.Errorf("failed requests changed data")
		}
	})
}

func itoa(n int64) string { b, _ := json.Marshal(n); return string(b) }

func trunc(s string) string {
	if len(s) > 200 {
		return s[:200]
	}
	return s
}

func TestAPI_IdempotencyKeyMakesCreatesSafeToRetry(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := start(t, d)
		body := map[string]any{"email": "idem@example.com"}
		r1 := e.do(e.admin, "POST", "/api/v1/contacts", body, "Idempotency-Key", "k1")
		r2 := e.do(e.admin, "POST", "/api/v1/contacts", body, "Idempotency-Key", "k1")
		if r1.status != 201 || r2.status != 201 || r1.raw != r2.raw || r2.header.Get("Idempotent-Replayed") != "true" {
			t.Fatalf("replay: %d %s / %d %s", r1.status, r1.raw, r2.status, r2.raw)
		}
		if n := e.count("contacts"); n != 1 {
			t.Fatalf("contacts = %d, want 1", n)
		}
		r3 := e.do(e.admin, "POST", "/api/v1/contacts", map[string]any{"email": "other@example.com"}, "Idempotency-Key", "k1")
		if r3.status != 422 {
			t.Fatalf("same key, other body: %d %s", r3.status, r3.raw)
		}
		// A failed create (bad input) is replayed as the same failure, not re-run.
		r4 := e.do(e.admin, "POST", "/api/v1/contacts", map[string]any{"email": "bad"}, "Idempotency-Key", "k2")
		r5 := e.do(e.admin, "POST", "/api/v1/contacts", map[string]any{"email": "bad"}, "Idempotency-Key", "k2")
		if r4.status != 400 || r5.status != 400 {
			t.Fatalf("failed create replay: %d %d", r4.status, r5.status)
		}
	})
}

var pathParam = regexp.MustCompile(`\{[a-z_]+\}`)

func TestOpenAPI_DescribesExactlyTheRoutesServed(t *testing.T) {
	e := start(t, dbtest.Open(t, db.SQLite))
	r := e.do("", "GET", "/api/v1/openapi.json", nil)
	if r.status != 200 {
		t.Fatal(r.status)
	}
	paths := r.body["paths"].(map[string]any)
	documented := map[string]bool{}
	for p, item := range paths {
		for m, o := range item.(map[string]any) {
			documented[strings.ToUpper(m)+" "+p] = true
			if o.(map[string]any)["operationId"] == "" {
				t.Errorf("%s %s has no operationId", m, p)
			}
			// Every documented route answers from a real handler, not the
			// catch-all: with a bad token it must say 401 (or, when public,
			// anything but the catch-all 404).
			res := e.do("ryo_bad", strings.ToUpper(m), pathParam.ReplaceAllString(p, "1"), nil)
			if res.status == 404 && strings.Contains(res.raw, "no API route") {
				t.Errorf("%s %s is documented but not routed", m, p)
			}
		}
	}
	for _, op := range e.app.API.Ops() {
		if !documented[op] {
			t.Errorf("route %s is not in the OpenAPI document", op)
		}
	}
	if len(documented) != len(e.app.API.Ops()) {
		t.Errorf("documented %d operations, routed %d", len(documented), len(e.app.API.Ops()))
	}
	docs := e.do("", "GET", "/api/docs", nil)
	if docs.status != 200 || !strings.Contains(docs.raw, "listContacts") {
		t.Errorf("docs page: %d", docs.status)
	}
}

func TestAPI_SessionLoginTwoFactorAndCrossSiteProtection(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := start(t, d)
		jar, _ := cookiejar.New(nil)
		c := &http.Client{Jar: jar}
		post := func(path, body string, headers ...string) *http.Response {
			req, _ := http.NewRequest("POST", e.srv.URL+path, strings.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			for i := 0; i+1 < len(headers); i += 2 {
				req.Header.Set(headers[i], headers[i+1])
			}
			res, err := c.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			return res
		}
		if res := post("/api/v1/auth/login", `{"email":"admin@example.com","password":"wrong password"}`); res.StatusCode != 401 {
			t.Fatalf("wrong password: %d", res.StatusCode)
		}
		res := post("/api/v1/auth/login", `{"email":"ADMIN@example.com","password":"correct horse battery"}`)
		if res.StatusCode != 200 {
			t.Fatalf("login: %d", res.StatusCode)
		}
		var sc *http.Cookie
		for _, ck := range res.Cookies() {
			if ck.Name == "ryorin_session" {
				sc = ck
			}
		}
		if sc == nil || !sc.HttpOnly || sc.SameSite != http.SameSiteLaxMode {
			t.Fatalf("session cookie = %+v", sc)
		}
		if res := post("/api/v1/contacts", `{"email":"s@example.com"}`); res.StatusCode != 201 {
			t.Fatalf("same-origin create with session: %d", res.StatusCode)
		}
		if res := post("/api/v1/contacts", `{"email":"evil@example.com"}`, "Sec-Fetch-Site", "cross-site", "Origin", "https://evil.example"); res.StatusCode != 403 {
			t.Fatalf("cross-site create with session: %d, want 403", res.StatusCode)
		}
		// Two-factor: enrol, then a login needs the code.
		req, _ := http.NewRequest("POST", e.srv.URL+"/api/v1/me/totp", nil)
		r2, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var setup map[string]string
		_ = json.NewDecoder(r2.Body).Decode(&setup)
		r2.Body.Close()
		code, _ := platform.TOTPCode(setup["secret"], e.clock.Now())
		if res := post("/api/v1/me/totp/enable", `{"code":"`+code+`"}`); res.StatusCode != 204 {
			t.Fatalf("enable totp: %d", res.StatusCode)
		}
		if res := post("/api/v1/auth/login", `{"email":"admin@example.com","password":"correct horse battery"}`); res.StatusCode != 401 {
			t.Fatalf("login without code: %d", res.StatusCode)
		}
		if res := post("/api/v1/auth/login", `{"email":"admin@example.com","password":"correct horse battery","totp_code":"`+code+`"}`); res.StatusCode != 200 {
			t.Fatalf("login with code: %d", res.StatusCode)
		}
		// Login is rate-limited per email.
		limited := false
		for i := 0; i < 12; i++ {
			if res := post("/api/v1/auth/login", `{"email":"rep@example.com","password":"nope nope nope"}`); res.StatusCode == 429 {
				limited = true
				break
			}
		}
		if !limited {
			t.Fatal("login was never rate-limited")
		}
	})
}

func TestAPI_SalesCanBeLimitedToTheirOwnRecords(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := start(t, d)
		mine := e.do(e.sales, "POST", "/api/v1/contacts", map[string]any{"email": "mine@example.com"})
		theirs := e.do(e.admin, "POST", "/api/v1/contacts", map[string]any{"email": "theirs@example.com", "owner_id": e.adminID})
		if mine.status != 201 || theirs.status != 201 {
			t.Fatal(mine.raw, theirs.raw)
		}
		path := "/api/v1/contacts/" + itoa(int64(theirs.body["id"].(float64)))
		if r := e.do(e.sales, "GET", path, nil); r.status != 200 {
			t.Fatalf("shared record by default: %d", r.status)
		}
		if r := e.do(e.admin, "PATCH", "/api/v1/workspace", map[string]any{"sales_own_records_only": true}); r.status != 200 {
			t.Fatalf("setting: %d %s", r.status, r.raw)
		}
		if r := e.do(e.sales, "GET", path, nil); r.status != 404 {
			t.Fatalf("other's record with own-only: %d", r.status)
		}
		if r := e.do(e.sales, "GET", "/api/v1/contacts", nil); len(r.body["items"].([]any)) != 1 {
			t.Fatalf("own-only list: %s", r.raw)
		}
		if r := e.do(e.mkt, "GET", path, nil); r.status != 200 {
			t.Fatalf("marketing still sees all: %d", r.status)
		}
		audit := e.do(e.admin, "GET", "/api/v1/audit?object_type=workspace", nil)
		items := audit.body["items"].([]any)
		if len(items) != 1 || !strings.Contains(audit.raw, "sales_own_records_only") {
			t.Fatalf("audit of the setting: %s", audit.raw)
		}
	})
}

func TestAPI_DealMovesThroughStagesAndContactsFollowTheLifecycle(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := start(t, d)
		c := e.do(e.sales, "POST", "/api/v1/contacts", map[string]any{"email": "buyer@example.com", "lifecycle_stage": "sql"})
		cid := int64(c.body["id"].(float64))
		deal := e.do(e.sales, "POST", "/api/v1/deals", map[string]any{"name": "Pilot", "amount": 1200000, "contacts": []any{map[string]any{"contact_id": cid, "role": "decision_maker"}}})
		if deal.status != 201 {
			t.Fatal(deal.raw)
		}
		did := itoa(int64(deal.body["id"].(float64)))
		if r := e.do(e.sales, "GET", "/api/v1/contacts/"+itoa(cid), nil); r.body["lifecycle_stage"] != "opportunity" {
			t.Fatalf("contact stage after deal: %v", r.body["lifecycle_stage"])
		}
		call := e.do(e.sales, "POST", "/api/v1/activities", map[string]any{"kind": "call", "deal_id": deal.body["id"], "contact_id": cid, "call_outcome": "appointment"})
		if call.status != 201 {
			t.Fatal(call.raw)
		}
		// Optimistic concurrency: a PATCH with If-Match set to an old ETag
		// is refused and saves nothing.
		got := e.do(e.sales, "GET", "/api/v1/deals/"+did, nil)
		etag := got.header.Get("ETag")
		if got.status != 200 || etag == "" {
			t.Fatalf("deal ETag: %d %q", got.status, etag)
		}
		e.clock.Advance(time.Second)
		if r := e.do(e.sales, "PATCH", "/api/v1/deals/"+did, map[string]any{"name": "先に保存"}, "If-Match", etag); r.status != 200 || r.header.Get("ETag") == etag {
			t.Fatalf("save with the current ETag: %d %s", r.status, r.raw)
		}
		if r := e.do(e.sales, "PATCH", "/api/v1/deals/"+did, map[string]any{"name": "上書き"}, "If-Match", etag); r.status != 409 || r.errField() != "version" {
			t.Fatalf("save with an old ETag: %d %s", r.status, r.raw)
		}
		if r := e.do(e.sales, "PATCH", "/api/v1/deals/"+did, map[string]any{"name": "x"}, "If-Match", "nonsense"); r.status != 400 || r.errField() != "If-Match" {
			t.Fatalf("save with a bad If-Match: %d %s", r.status, r.raw)
		}
		if r := e.do(e.sales, "GET", "/api/v1/deals/"+did, nil); r.body["name"] != "先に保存" {
			t.Fatalf("after the refused save the name is %v", r.body["name"])
		}
		if r := e.do(e.sales, "PATCH", "/api/v1/deals/"+did, map[string]any{"forecast_category": "maybe"}); r.status != 400 || r.errField() != "forecast_category" {
			t.Fatalf("bad forecast category: %d %s", r.status, r.raw)
		}
		if r := e.do(e.sales, "PATCH", "/api/v1/deals/"+did, map[string]any{"forecast_category": "commit"}); r.status != 200 || r.body["forecast_category"] != "commit" {
			t.Fatalf("forecast category: %d %s", r.status, r.raw)
		}
		if r := e.do(e.sales, "PATCH", "/api/v1/deals/"+did, map[string]any{"stage_id": 5}); r.status != 200 || r.body["status"] != "won" || r.body["closed_at"] == nil {
			t.Fatalf("win: %s", r.raw)
		}
		if r := e.do(e.sales, "GET", "/api/v1/contacts/"+itoa(cid), nil); r.body["lifecycle_stage"] != "customer" || r.body["last_activity_at"] == nil {
			t.Fatalf("contact after win: %s", r.raw)
		}
		tl := e.do(e.sales, "GET", "/api/v1/deals/"+did+"/timeline", nil)
		kinds := []string{}
		for _, it := range tl.body["items"].([]any) {
			kinds = append(kinds, it.(map[string]any)["kind"].(string))
		}
		if strings.Join(kinds, ",") != "deal.won,activity.call,deal.created" {
			t.Fatalf("deal timeline = %v", kinds)
		}
		h := e.do(e.sales, "GET", "/api/v1/contacts/"+itoa(cid)+"/lifecycle", nil)
		if !strings.Contains(h.raw, `"to":"customer"`) || !strings.Contains(h.raw, `"cause_kind":"deal"`) {
			t.Fatalf("lifecycle: %s", h.raw)
		}
	})
}

func TestAPI_PasswordChangeSignsOutOtherSessions(t *testing.T) {
	e := start(t, dbtest.Open(t, db.SQLite))
	login := func() *http.Client {
		jar, _ := cookiejar.New(nil)
		c := &http.Client{Jar: jar}
		res, err := c.Post(e.srv.URL+"/api/v1/auth/login", "application/json", strings.NewReader(`{"email":"admin@example.com","password":"correct horse battery"}`))
		if err != nil || res.StatusCode != 200 {
			t.Fatalf("login: %v %v", res, err)
		}
		res.Body.Close()
		return c
	}
	me := func(c *http.Client) int {
		res, err := c.Get(e.srv.URL + "/api/v1/me")
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode
	}
	here, there := login(), login()
	req, _ := http.NewRequest("PUT", e.srv.URL+"/api/v1/me/password", strings.NewReader(`{"password":"a new long password"}`))
	req.Header.Set("Content-Type", "application/json")
	res, err := here.Do(req)
	if err != nil || res.StatusCode != 204 {
		t.Fatalf("change password: %v %v", res, err)
	}
	res.Body.Close()
	if me(here) != 200 {
		t.Error("the session that changed the password was signed out")
	}
	if me(there) != 401 {
		t.Error("another session survived the password change")
	}
}

func TestAPI_LeadDefinitionDraftIsCheckedAndApproved(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := start(t, d)
		r := e.do(e.admin, "GET", "/api/v1/lead-definitions", nil)
		if r.status != 200 || !strings.Contains(r.raw, `"status":"active"`) {
			t.Fatalf("default definition: %d %s", r.status, trunc(r.raw))
		}
		bad := map[string]any{"body": map[string]any{"fit_rules": []any{map[string]any{"name": "x", "when": "employees >=", "points": 10}},
			"fit_grades": map[string]int{"A": 3, "B": 2, "C": 1}, "engagement_rules": []any{}, "half_life_days": 14, "mql": "true"}}
		r = e.do(e.mkt, "POST", "/api/v1/lead-definitions", bad)
		if r.status != 422 || r.errField() != "fit_rules[0].when" || !strings.Contains(r.raw, "line 1") {
			t.Fatalf("bad rule: %d %s", r.status, trunc(r.raw))
		}
		good := bad
		good["body"].(map[string]any)["fit_rules"] = []any{map[string]any{"name": "規模", "when": "employees >= 100", "points": 10}}
		r = e.do(e.mkt, "POST", "/api/v1/lead-definitions", good)
		if r.status != 201 || r.body["status"] != "draft" {
			t.Fatalf("draft: %d %s", r.status, trunc(r.raw))
		}
		id := itoa(int64(r.body["id"].(float64)))
		if bt := e.do(e.sales, "GET", "/api/v1/lead-definitions/"+id+"/backtest", nil); bt.status != 200 || len(bt.body["weeks"].([]any)) != 26 {
			t.Fatalf("backtest: %d %s", bt.status, trunc(bt.raw))
		}
		if ch := e.do(e.sales, "GET", "/api/v1/lead-definitions/"+id+"/changes", nil); ch.status != 200 || !strings.Contains(ch.raw, "規模") {
			t.Fatalf("changes: %d %s", ch.status, trunc(ch.raw))
		}
		if pr := e.do(e.sales, "GET", "/api/v1/lead-definitions/"+id+"/rescore", nil); pr.status != 200 {
			t.Fatalf("rescore progress: %d %s", pr.status, trunc(pr.raw))
		}
		// The marketer is in no team here, so may not approve.
		if r2 := e.do(e.mkt, "POST", "/api/v1/lead-definitions/"+itoa(int64(r.body["id"].(float64)))+"/approve", map[string]any{}); r2.status != 403 {
			t.Fatalf("approval outside a team: %d", r2.status)
		}
	})
}

func TestAPI_SalesFeedbackOnALead(t *testing.T) {
	e := start(t, dbtest.Open(t, db.SQLite))
	c := e.do(e.mkt, "POST", "/api/v1/contacts", map[string]any{"email": "lead@example.com", "lifecycle_stage": "mql"})
	path := "/api/v1/contacts/" + itoa(int64(c.body["id"].(float64))) + "/feedback"
	if r := e.do(e.sales, "POST", path, map[string]any{"decision": "reject"}); r.status != 422 || r.errField() != "reason" {
		t.Fatalf("reject without reason: %d %s", r.status, trunc(r.raw))
	}
	if r := e.do(e.sales, "GET", "/api/v1/feedback-reasons", nil); r.status != 200 || !strings.Contains(r.raw, "no_budget") {
		t.Fatalf("reasons: %d", r.status)
	}
	if r := e.do(e.sales, "POST", path, map[string]any{"decision": "reject", "reason": "no_budget", "rating": 2}); r.status != 201 {
		t.Fatalf("reject: %d %s", r.status, trunc(r.raw))
	}
	got := e.do(e.sales, "GET", "/api/v1/contacts/"+itoa(int64(c.body["id"].(float64))), nil)
	if got.body["lifecycle_stage"] != "recycled" {
		t.Fatalf("stage after rejection: %v", got.body["lifecycle_stage"])
	}
}

func TestAPI_SLAPoliciesQueueAndReport(t *testing.T) {
	e := start(t, dbtest.Open(t, db.SQLite))
	if r := e.do(e.sales, "GET", "/api/v1/sla-policies", nil); r.status != 200 || !strings.Contains(r.raw, `"key":"hot"`) {
		t.Fatalf("policies: %d %s", r.status, trunc(r.raw))
	}
	vip := map[string]any{"label_ja": "VIP", "label_en": "VIP", "condition": "employees >= 1000", "first_touch_minutes": 30, "second_action": "reassign", "second_limit_minutes": 60}
	if r := e.do(e.sales, "PUT", "/api/v1/sla-policies/vip", vip); r.status != 403 {
		t.Fatalf("a rep changed a policy: %d", r.status)
	}
	bad := map[string]any{"label_ja": "VIP", "label_en": "VIP", "condition": "employees >=", "first_touch_minutes": 30}
	if r := e.do(e.admin, "PUT", "/api/v1/sla-policies/vip", bad); r.status != 400 || r.errField() != "condition" {
		t.Fatalf("bad condition: %d %s", r.status, trunc(r.raw))
	}
	if r := e.do(e.admin, "PUT", "/api/v1/sla-policies/vip", vip); r.status != 200 || r.body["key"] != "vip" {
		t.Fatalf("save: %d %s", r.status, trunc(r.raw))
	}
	if r := e.do(e.sales, "GET", "/api/v1/lead-queue", nil); r.status != 200 || r.raw != "[]\n" && r.raw != "[]" {
		t.Fatalf("empty queue: %d %q", r.status, r.raw)
	}
	if r := e.do(e.sales, "GET", "/api/v1/sla-report?by=mood", nil); r.status != 400 || r.errField() != "by" {
		t.Fatalf("bad grouping: %d %s", r.status, trunc(r.raw))
	}
	if r := e.do(e.sales, "GET", "/api/v1/sla-report?from=2026-13-01", nil); r.status != 400 || r.errField() != "from" {
		t.Fatalf("bad date: %d %s", r.status, trunc(r.raw))
	}
	r := e.do(e.sales, "GET", "/api/v1/sla-report?by=team", nil)
	if r.status != 200 || !strings.Contains(r.raw, `"key":"total"`) {
		t.Fatalf("report: %d %s", r.status, trunc(r.raw))
	}
}

func TestAPI_PersonalDataExportAndErasureAreForAdmins(t *testing.T) {
	e := start(t, dbtest.Open(t, db.SQLite))
	c := e.do(e.admin, "POST", "/api/v1/contacts", map[string]any{"email": "privacy@example.jp", "family_name": "個人", "consent_email": "granted", "consent_source": "api"})
	id := itoa(int64(c.body["id"].(float64)))
	if r := e.do(e.sales, "GET", "/api/v1/contacts/"+id+"/export", nil); r.status != 403 {
		t.Fatalf("a rep exported personal data: %d", r.status)
	}
	if r := e.do(e.sales, "GET", "/api/v1/contacts/"+id+"/consent", nil); r.status != 200 || !strings.Contains(r.raw, `"granted"`) {
		t.Fatalf("consent records: %d %s", r.status, trunc(r.raw))
	}
	if r := e.do(e.admin, "GET", "/api/v1/contacts/"+id+"/export", nil); r.status != 200 || !strings.Contains(r.raw, "privacy@example.jp") {
		t.Fatalf("export: %d %s", r.status, trunc(r.raw))
	}
	if r := e.do(e.sales, "POST", "/api/v1/contacts/"+id+"/erase", nil); r.status != 403 {
		t.Fatalf("a rep erased a person: %d", r.status)
	}
	if r := e.do(e.admin, "POST", "/api/v1/contacts/"+id+"/erase", nil); r.status != 200 || !strings.Contains(r.raw, `"contacts":1`) {
		t.Fatalf("erase: %d %s", r.status, trunc(r.raw))
	}
	if r := e.do(e.admin, "GET", "/api/v1/contacts/"+id, nil); r.status != 404 {
		t.Fatalf("erased contact still answers: %d", r.status)
	}
}

func TestAPI_SalesLimitedToOwnRecordsCannotListSegmentMembers(t *testing.T) {
	e := start(t, dbtest.Open(t, db.SQLite))
	if r := e.do(e.admin, "PATCH", "/api/v1/workspace", map[string]any{"sales_own_records_only": true}); r.status != 200 {
		t.Fatalf("setting: %d %s", r.status, trunc(r.raw))
	}
	l := e.do(e.admin, "POST", "/api/v1/lists", map[string]any{"name": "展示会"})
	id := itoa(int64(l.body["id"].(float64)))
	if r := e.do(e.sales, "GET", "/api/v1/lists/"+id+"/members", nil); r.status != 403 {
		t.Fatalf("a rep limited to own records listed members: %d", r.status)
	}
	if r := e.do(e.admin, "GET", "/api/v1/lists/"+id+"/members", nil); r.status != 200 {
		t.Fatalf("admin: %d %s", r.status, trunc(r.raw))
	}
}

func TestAPI_KPIsForAPeriodWithTheirFormulas(t *testing.T) {
	e := start(t, dbtest.Open(t, db.SQLite))
	if r := e.do(e.sales, "GET", "/api/v1/kpis?period=quarter", nil); r.status != 200 || !strings.Contains(r.raw, `"key":"win_rate"`) || !strings.Contains(r.raw, `"formula"`) {
		t.Fatalf("kpis: %d %s", r.status, trunc(r.raw))
	}
	if r := e.do(e.sales, "GET", "/api/v1/kpis?period=decade", nil); r.status != 400 || r.errField() != "period" {
		t.Fatalf("bad period: %d %s", r.status, trunc(r.raw))
	}
	if r := e.do(e.sales, "GET", "/api/v1/funnel?months=3", nil); r.status != 200 || !strings.Contains(r.raw, `"cohorts":[{"month"`) || !strings.Contains(r.raw, `"formula"`) {
		t.Fatalf("funnel: %d %s", r.status, trunc(r.raw))
	}
	if r := e.do(e.sales, "GET", "/api/v1/channel-quality?period=year", nil); r.status != 200 || !strings.Contains(r.raw, `"channel":"organic_search"`) || !strings.Contains(r.raw, `"top_reasons":[]`) {
		t.Fatalf("channel quality: %d %s", r.status, trunc(r.raw))
	}
	if r := e.do(e.sales, "GET", "/api/v1/attribution?model=linear&period=year", nil); r.status != 200 || !strings.Contains(r.raw, `"model":"linear"`) {
		t.Fatalf("attribution: %d %s", r.status, trunc(r.raw))
	}
	if r := e.do(e.sales, "GET", "/api/v1/rep-performance?period=quarter", nil); r.status != 200 || !strings.Contains(r.raw, `"reps":[`) {
		t.Fatalf("rep performance: %d %s", r.status, trunc(r.raw))
	}
	if r := e.do(e.sales, "GET", "/api/v1/kpis?period=year&channel=email&team_id=1", nil); r.status != 200 || !strings.Contains(r.raw, `"filter":{"channel":"email","team_id":1}`) || !strings.Contains(r.raw, `"unfiltered":true`) {
		t.Fatalf("filtered KPIs: %d %s", r.status, trunc(r.raw))
	}
	if r := e.do(e.sales, "GET", "/api/v1/kpis?owner_id=abc", nil); r.status != 400 || r.errField() != "owner_id" {
		t.Fatalf("KPIs with a bad owner: %d %s", r.status, trunc(r.raw))
	}
	if r := e.do(e.sales, "GET", "/api/v1/forecast?period=quarter", nil); r.status != 200 || !strings.Contains(r.raw, `"total":{`) || !strings.Contains(r.raw, `"changes":[]`) {
		t.Fatalf("forecast: %d %s", r.status, trunc(r.raw))
	}
	if r := e.do(e.sales, "GET", "/api/v1/forecast?since=last-week", nil); r.status != 400 || r.errField() != "since" {
		t.Fatalf("forecast with a bad since: %d %s", r.status, trunc(r.raw))
	}
	if r := e.do(e.mkt, "POST", "/api/v1/goal-plans", map[string]any{"name": "来期", "period": "quarter", "offset": 1, "revenue_goal": 30000000, "avg_deal_size": 1000000,
		"rates": map[string]any{"visit_to_lead": 0.02, "lead_to_mql": 0.5, "mql_to_sql": 0.5, "sql_to_opportunity": 0.5, "opportunity_to_won": 0.25}}); r.status != 201 || !strings.Contains(r.raw, `"counts":[48000,960,480,240,120,30]`) {
		t.Fatalf("plan: %d %s", r.status, trunc(r.raw))
	}
	if r := e.do(e.mkt, "POST", "/api/v1/goal-plans", map[string]any{"name": "x", "period": "quarter", "revenue_goal": 1, "rates": map[string]any{"lead_to_mql": 2}}); r.status != 400 || r.errField() != "rates.lead_to_mql" {
		t.Fatalf("bad plan rate: %d %s", r.status, trunc(r.raw))
	}
	if r := e.do(e.sales, "GET", "/api/v1/goal-plans/1/pacing", nil); r.status != 200 || !strings.Contains(r.raw, `"expected":[`) {
		t.Fatalf("pacing: %d %s", r.status, trunc(r.raw))
	}
	if r := e.do(e.sales, "GET", "/api/v1/attribution?model=magic", nil); r.status != 400 || r.errField() != "model" {
		t.Fatalf("bad model: %d %s", r.status, trunc(r.raw))
	}
	if r := e.do(e.sales, "GET", "/api/v1/funnel?months=99", nil); r.status != 400 || r.errField() != "months" {
		t.Fatalf("bad months: %d %s", r.status, trunc(r.raw))
	}
}

func TestAPI_CampaignsMembersAndSpend(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := start(t, d)
		r := e.do(e.mkt, "POST", "/api/v1/campaigns", map[string]any{"name": "秋のウェビナー", "kind": "webinar", "channel": "email", "utm_campaign": "webinar-autumn"})
		if r.status != 201 {
			t.Fatalf("create: %d %s", r.status, trunc(r.raw))
		}
		id := fmt.Sprint(int64(r.body["id"].(float64)))
		if r := e.do(e.mkt, "POST", "/api/v1/campaigns", map[string]any{"name": "x", "kind": "billboard"}); r.status != 400 || r.errField() != "kind" {
			t.Errorf("bad kind: %d %s", r.status, trunc(r.raw))
		}
		if r := e.do(e.sales, "POST", "/api/v1/campaigns", map[string]any{"name": "x"}); r.status != 403 {
			t.Errorf("sales created a campaign: %d", r.status)
		}
		c := e.do(e.admin, "POST", "/api/v1/contacts", map[string]any{"email": "m@example.com"})
		cid := int64(c.body["id"].(float64))
		if r := e.do(e.mkt, "POST", "/api/v1/campaigns/"+id+"/members", map[string]any{"contact_ids": []int64{cid}, "status": "registered"}); r.status != 200 || r.body["changed"].(float64) != 1 {
			t.Errorf("members: %d %s", r.status, trunc(r.raw))
		}
		if r := e.do(e.sales, "GET", "/api/v1/campaigns/"+id+"/members", nil); r.status != 200 || !strings.Contains(r.raw, `"status":"registered"`) {
			t.Errorf("list members: %d %s", r.status, trunc(r.raw))
		}
		if r := e.do(e.mkt, "PUT", "/api/v1/spend", map[string]any{"month": "2026-03", "campaign_id": json.Number(id), "amount": 250000}); r.status != 200 || r.body["channel"] != "email" {
			t.Errorf("spend: %d %s", r.status, trunc(r.raw))
		}
		if r := e.do(e.mkt, "PUT", "/api/v1/spend", map[string]any{"month": "March", "channel": "email", "amount": 1}); r.status != 400 || r.errField() != "month" {
			t.Errorf("bad month: %d %s", r.status, trunc(r.raw))
		}
		if r := e.do(e.sales, "GET", "/api/v1/campaigns/"+id+"/results", nil); r.status != 200 || r.body["spend"].(float64) != 250000 || r.body["members"].(float64) != 1 {
			t.Errorf("results: %d %s", r.status, trunc(r.raw))
		}
		if r := e.do(e.sales, "GET", "/api/v1/spend?from=2026-01&to=2026-04", nil); r.status != 200 || !strings.Contains(r.raw, `"amount":250000`) {
			t.Errorf("list spend: %d %s", r.status, trunc(r.raw))
		}
		if r := e.do(e.mkt, "PUT", "/api/v1/sales-costs", map[string]any{"month": "2026-03", "amount": 1}); r.status != 403 {
			t.Errorf("marketing set sales cost: %d", r.status)
		}
		if r := e.do(e.admin, "PUT", "/api/v1/sales-costs", map[string]any{"month": "2026-03", "amount": 2000000}); r.status != 200 {
			t.Errorf("sales cost: %d %s", r.status, trunc(r.raw))
		}
	})
}
