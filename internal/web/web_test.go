package web_test

import (
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ryorin/ryorin/internal/clock"
	"github.com/ryorin/ryorin/internal/crm"
	"github.com/ryorin/ryorin/internal/db"
	"github.com/ryorin/ryorin/internal/dbtest"
	"github.com/ryorin/ryorin/internal/lead"
	"github.com/ryorin/ryorin/internal/platform"
	"github.com/ryorin/ryorin/internal/web"
)

func TestMain(m *testing.M) { os.Exit(dbtest.Main(m)) }

type env struct {
	t       *testing.T
	srv     *httptest.Server
	web     *web.Server
	c       *http.Client
	crm     *crm.Service
	d       *db.DB
	mu      sync.Mutex
	renders map[string]bool
	clock   *clock.Fake
}

func start(t *testing.T, d *db.DB, withUser bool) *env {
	t.Helper()
	ctx := context.Background()
	fc := clock.NewFake(time.Date(2026, 4, 1, 1, 0, 0, 0, time.UTC))
	if err := platform.EnsureWorkspace(ctx, d, 1, "T", fc.Now()); err != nil {
		t.Fatal(err)
	}
	svc := crm.New(d, fc)
	if err := svc.EnsureDefaults(ctx, 1, "ja"); err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, d: d, crm: svc, renders: map[string]bool{}, clock: fc}
	ls := lead.New(d, fc)
	if err := ls.EnsureDefault(ctx, 1); err != nil {
		t.Fatal(err)
	}
	if err := ls.EnsureReasons(ctx, 1); err != nil {
		t.Fatal(err)
	}
	w, err := web.New(web.Deps{DB: d, Clock: fc, CRM: svc, Lead: ls, Workspace: 1, OnRender: func(n string) {
		e.mu.Lock()
		e.renders[n] = true
		e.mu.Unlock()
	}})
	if err != nil {
		t.Fatal(err)
	}
	e.web = w
	e.srv = httptest.NewServer(http.NewCrossOriginProtection().Handler(w))
	t.Cleanup(e.srv.Close)
	jar, _ := cookiejar.New(nil)
	e.c = &http.Client{Jar: jar}
	if withUser {
		if _, err := platform.CreateUser(ctx, d, platform.CLI(1), platform.NewUser{Email: "admin@example.com", Name: "山田 太郎", Role: platform.RoleAdmin, Password: "correct horse battery"}, fc.Now()); err != nil {
			t.Fatal(err)
		}
	}
	return e
}

func (e *env) get(path string, headers ...string) (int, string) {
	e.t.Helper()
	req, _ := http.NewRequest("GET", e.srv.URL+path, nil)
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	res, err := e.c.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

func (e *env) post(path string, form url.Values) (int, string, string) {
	e.t.Helper()
	res, err := e.c.PostForm(e.srv.URL+path, form)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b), res.Request.URL.Path
}

func (e *env) login() {
	e.t.Helper()
	code, body, at := e.post("/login", url.Values{"email": {"admin@example.com"}, "password": {"correct horse battery"}, "next": {"/"}})
	if code != 200 || at != "/" {
		e.t.Fatalf("login: %d at %s: %.300s", code, at, body)
	}
}

// TestPages_EveryTemplateRendersInBothLanguages signs in, visits every page
// with data on it, in Japanese and in English, and checks every template was
// rendered by this test (the settings templates by the settings test).
func TestPages_EveryTemplateRendersInBothLanguages(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := start(t, d, false)
		// No users yet: the set-up page creates the first admin.
		if code, body := e.get("/"); code != 200 || !strings.Contains(body, `action="/setup"`) {
			t.Fatalf("first start: %d %.200s", code, body)
		}
		code, body, at := e.post("/setup", url.Values{"name": {"山田 太郎"}, "email": {"admin@example.com"}, "password": {"correct horse battery"}, "password2": {"correct horse battery"}})
		if code != 200 || at != "/" {
			t.Fatalf("setup: %d at %s %.200s", code, at, body)
		}
		ctx := context.Background()
		a := platform.Actor{WorkspaceID: 1, UserID: 1, Role: platform.RoleAdmin, Kind: platform.ActorUser}
		s := func(v string) *string { return &v }
		co, err := e.crm.CreateCompany(ctx, a, crm.CompanyInput{Name: s("株式会社テスト")})
		if err != nil {
			t.Fatal(err)
		}
		ct, err := e.crm.CreateContact(ctx, a, crm.ContactInput{FamilyName: s("鈴木"), GivenName: s("一郎"), Email: s("ichiro@example.jp"), CompanyID: &co.ID})
		if err != nil {
			t.Fatal(err)
		}
		amt := 1000000.0
		deal, err := e.crm.CreateDeal(ctx, a, crm.DealInput{Name: s("導入案件"), Amount: &amt, CompanyID: &co.ID, Contacts: &[]crm.DealContact{{ContactID: ct.ID}}})
		if err != nil {
			t.Fatal(err)
		}
		pages := []string{"/", "/contacts", "/contacts?q=鈴木&col=email&col=phone&col=title&col=channel&col=created", "/contacts/new",
			"/contacts/1", "/contacts/1?edit=1", "/contacts/1?tl=sales", "/companies", "/companies/1", "/deals", "/deals/board",
			"/deals/1", "/deals/1?lose=6", "/search?q=鈴木", "/notifications", "/deals/new?contact_id=1", "/companies/new", "/companies/1?edit=1", "/deals/1?edit=1", "/companies?col=corporate_number&col=created&col=last_activity&col=employees", "/deals?col=type&col=recurring&col=created&col=last_activity&col=amount"}
		for _, lang := range []string{"ja", "en"} {
			if code, _, _ := e.post("/settings/language", url.Values{"lang": {lang}}); code != 200 {
				t.Fatalf("set language %s: %d", lang, code)
			}
			for _, p := range pages {
				code, body := e.get(p)
				if code != 200 {
					t.Errorf("%s %s: %d %.300s", lang, p, code, body)
				}
				if strings.Contains(body, "ZgotmplZ") {
					t.Errorf("%s %s: unsafe value in template output", lang, p)
				}
			}
			_, body := e.get("/contacts/1")
			want := map[string]string{"ja": "コンタクト", "en": "Contacts"}[lang]
			if !strings.Contains(body, want) {
				t.Errorf("%s page lacks %q", lang, want)
			}
		}
		if code, _ := e.get("/contacts/999"); code != 404 {
			t.Errorf("missing contact: %d", code)
		}
		_ = deal
		// The public pages: login, two-factor, errors.
		e.post("/logout", nil)
		e.get("/login?lang=en")
		e.get("/login/totp")
		e.post("/login", url.Values{"email": {"admin@example.com"}, "password": {"wrong password!"}})
		if code, _ := e.get("/static/nope/nothing.css"); code != 404 {
			t.Errorf("unknown asset: %d", code)
		}
		e.mu.Lock()
		defer e.mu.Unlock()
		var missing []string
		for _, n := range e.web.Templates() {
			// settings_* templates are rendered and checked by
			// TestSettings_EveryPageRendersInBothLanguages.
			if !e.renders[n] && !strings.HasPrefix(n, "settings_") {
				missing = append(missing, n)
			}
		}
		sort.Strings(missing)
		if len(missing) > 0 {
			t.Errorf("templates no test renders: %v", missing)
		}
	})
}

func TestLogin_NextNeverLeavesTheSite(t *testing.T) {
	e := start(t, dbtest.Open(t, db.SQLite), true)
	for _, next := range []string{"//evil.example/x", "https://evil.example/", "/\\evil.example", "javascript:alert(1)", "/contacts?q=x"} {
		e.c.Jar, _ = cookiejar.New(nil)
		code, _, at := e.post("/login", url.Values{"email": {"admin@example.com"}, "password": {"correct horse battery"}, "next": {next}})
		want := "/"
		if next == "/contacts?q=x" {
			want = "/contacts"
		}
		if code != 200 || at != want {
			t.Errorf("next=%q: landed on %s (%d), want %s", next, at, code, want)
		}
	}
}

func TestForms_CrossSitePostIsRefused(t *testing.T) {
	e := start(t, dbtest.Open(t, db.SQLite), true)
	e.login()
	req, _ := http.NewRequest("POST", e.srv.URL+"/contacts", strings.NewReader("email=evil%40example.com"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	res, err := e.c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusForbidden {
		t.Fatalf("cross-site form post: %d, want 403", res.StatusCode)
	}
}

func TestContactForm_ShowsErrorsNextToTheFieldAndEscapesInput(t *testing.T) {
	e := start(t, dbtest.Open(t, db.SQLite), true)
	e.login()
	code, body, _ := e.post("/contacts", url.Values{"family_name": {`<script>alert(1)</script>`}, "email": {"not-an-email"}})
	if code != http.StatusUnprocessableEntity {
		t.Fatalf("bad email: %d", code)
	}
	if !strings.Contains(body, `class="field bad"`) || !strings.Contains(body, "メールアドレスの形式が正しくありません") {
		t.Errorf("no field error shown: %.500s", body)
	}
	if strings.Contains(body, "<script>alert(1)</script>") {
		t.Error("input echoed unescaped")
	}
	code, _, at := e.post("/contacts", url.Values{"family_name": {`<script>alert(1)</script>`}, "email": {"ok@example.com"}})
	if code != 200 || !strings.HasPrefix(at, "/contacts/") {
		t.Fatalf("create: %d at %s", code, at)
	}
	_, page := e.get(at)
	if strings.Contains(page, "<script>alert(1)</script>") || !strings.Contains(page, "&lt;script&gt;") {
		t.Error("record page does not escape the name")
	}
}

func TestContacts_BulkChangeOwnerAndDelete(t *testing.T) {
	e := start(t, dbtest.Open(t, db.SQLite), true)
	e.login()
	ctx := context.Background()
	a := platform.Actor{WorkspaceID: 1, UserID: 1, Role: platform.RoleAdmin, Kind: platform.ActorUser}
	rep, err := platform.CreateUser(ctx, e.d, platform.CLI(1), platform.NewUser{Email: "rep@example.com", Name: "Rep", Role: platform.RoleSales}, e.clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, m := range []string{"a@example.com", "b@example.com", "c@example.com"} {
		m := m
		c, err := e.crm.CreateContact(ctx, a, crm.ContactInput{Email: &m})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, itoa(c.ID))
	}
	code, _, _ := e.post("/contacts/bulk", url.Values{"action": {"owner"}, "owner_id": {itoa(rep.ID)}, "id": ids[:2], "back": {"/contacts"}})
	if code != 200 {
		t.Fatalf("bulk owner: %d", code)
	}
	p, _ := e.crm.ListContacts(ctx, a, crm.ContactFilter{OwnerID: rep.ID})
	if len(p.Items) != 2 {
		t.Fatalf("owner changed on %d contacts, want 2", len(p.Items))
	}
	e.post("/contacts/bulk", url.Values{"action": {"delete"}, "id": ids, "back": {"//evil.example"}})
	p, _ = e.crm.ListContacts(ctx, a, crm.ContactFilter{})
	if len(p.Items) != 0 {
		t.Fatalf("%d contacts left after bulk delete", len(p.Items))
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func TestForms_CreateCompanyThenADealFromItsContact(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := start(t, d, true)
		e.login()
		code, _, at := e.post("/companies", url.Values{"name": {"株式会社みらい"}, "corporate_number": {"7000012050002"}, "postal_code": {"1000001"}, "prefecture": {"東京都"}})
		if code != 200 || at != "/companies/1" {
			t.Fatalf("create company: %d at %s", code, at)
		}
		if code, body, _ := e.post("/companies", url.Values{"name": {"x"}, "corporate_number": {"123"}}); code != 422 || !strings.Contains(body, "法人番号を入力してください") {
			t.Fatalf("bad corporate number: %d", code)
		}
		code, _, at = e.post("/contacts", url.Values{"family_name": {"田中"}, "email": {"tanaka@mirai.example.jp"}, "company_id": {"1"}})
		if code != 200 || at != "/contacts/1" {
			t.Fatalf("create contact: %d at %s", code, at)
		}
		code, body, at := e.post("/deals/new", url.Values{"contact_id": {"1"}, "name": {"みらい 導入"}, "amount": {"1,200,000"}, "currency": {"JPY"}, "type": {"new"}})
		if code != 200 || at != "/deals/1" {
			t.Fatalf("create deal: %d at %s %.300s", code, at, body)
		}
		a := platform.Actor{WorkspaceID: 1, UserID: 1, Role: platform.RoleAdmin}
		dl, err := e.crm.GetDeal(context.Background(), d.Reader(), a, 1)
		if err != nil || dl.Amount != 1200000 || dl.CompanyID != 1 || len(dl.Contacts) != 1 {
			t.Fatalf("deal = %+v, %v", dl, err)
		}
		ct, _ := e.crm.GetContact(context.Background(), d.Reader(), a, 1)
		if ct.LifecycleStage != platform.StageOpportunity {
			t.Errorf("contact stage after deal = %s", ct.LifecycleStage)
		}
		if code, _, _ := e.post("/deals/new", url.Values{"name": {"x"}, "amount": {"abc"}}); code != 422 {
			t.Errorf("bad amount: %d", code)
		}
	})
}

func TestViews_SaveShareAndReuse(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := start(t, d, true)
		ctx := context.Background()
		team, err := platform.SaveTeam(ctx, d, platform.CLI(1), 0, platform.NewTeam{Name: "営業部", Function: "sales"}, e.clock.Now())
		if err != nil {
			t.Fatal(err)
		}
		tid := team.ID
		if _, err := platform.UpdateUser(ctx, d, platform.CLI(1), 1, platform.UserPatch{TeamID: &tid}, e.clock.Now()); err != nil {
			t.Fatal(err)
		}
		mate, err := platform.CreateUser(ctx, d, platform.CLI(1), platform.NewUser{Email: "mate@example.com", Name: "Mate", Role: platform.RoleSales, TeamID: tid, Password: "correct horse battery"}, e.clock.Now())
		if err != nil {
			t.Fatal(err)
		}
		e.login()
		code, _, at := e.post("/views", url.Values{"object_type": {"contact"}, "name": {"自分のMQL"}, "query": {"stage=mql&owner=1&cursor=zzz"}, "shared": {"1"}})
		if code != 200 || at != "/contacts" {
			t.Fatalf("save view: %d at %s", code, at)
		}
		_, body := e.get("/contacts")
		if !strings.Contains(body, "自分のMQL") || !strings.Contains(body, "/contacts?owner=1&amp;stage=mql") {
			t.Fatalf("view not listed: %.200s", body)
		}
		// A team mate sees the shared view; a private one they would not.
		v, err := platform.ListViews(ctx, d.Reader(), mate.Actor(1, platform.ActorUser), "contact")
		if err != nil || len(v) != 1 || v[0].Query != "owner=1&stage=mql" {
			t.Fatalf("team mate's views = %+v, %v", v, err)
		}
		if code, _, _ := e.post("/views/"+itoa(v[0].ID)+"/delete", url.Values{"back": {"/contacts"}}); code != 200 {
			t.Fatalf("delete: %d", code)
		}
		if v, _ := platform.ListViews(ctx, d.Reader(), mate.Actor(1, platform.ActorUser), "contact"); len(v) != 0 {
			t.Fatalf("views after delete: %v", v)
		}
	})
}

func TestContacts_FilterByCustomProperty(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := start(t, d, true)
		e.login()
		ctx := context.Background()
		a := platform.Actor{WorkspaceID: 1, UserID: 1, Role: platform.RoleAdmin, Kind: platform.ActorUser}
		if _, err := e.crm.SaveProperty(ctx, a, 0, crm.PropertyDefinition{ObjectType: "contact", Key: "plan", LabelEN: "Plan", LabelJA: "プラン",
			Type: crm.PropSingleChoice, Options: []crm.Option{{Value: "pro", LabelEN: "Pro", LabelJA: "プロ"}, {Value: "free", LabelEN: "Free", LabelJA: "無料"}}}); err != nil {
			t.Fatal(err)
		}
		for _, c := range []struct{ mail, plan string }{{"pro1@example.com", "pro"}, {"free1@example.com", "free"}, {"pro2@example.com", "pro"}} {
			m := c.mail
			if _, err := e.crm.CreateContact(ctx, a, crm.ContactInput{Email: &m, Props: map[string]any{"plan": c.plan}}); err != nil {
				t.Fatal(err)
			}
		}
		// Bulk: set the property on the free contact.
		if code, _, _ := e.post("/contacts/bulk", url.Values{"action": {"prop"}, "prop": {"plan"}, "value": {"pro"}, "id": {"2"}, "back": {"/contacts"}}); code != 200 {
			t.Fatalf("bulk set property: %d", code)
		}
		if code, _, _ := e.post("/contacts/bulk", url.Values{"action": {"prop"}, "prop": {"plan"}, "value": {"enterprise"}, "id": {"1"}, "back": {"/contacts"}}); code != 422 {
			t.Fatalf("bulk set a value not among the options: %d, want 422", code)
		}
		code, body := e.get("/contacts?prop.plan=pro")
		if code != 200 || strings.Count(body, "@example.com</td>") != 3 {
			t.Fatalf("after bulk set, %d pro contacts", strings.Count(body, "@example.com</td>"))
		}
		e.post("/contacts/bulk", url.Values{"action": {"prop"}, "prop": {"plan"}, "value": {"free"}, "id": {"2"}, "back": {"/contacts"}})
		code, body = e.get("/contacts?prop.plan=pro")
		if code != 200 || strings.Count(body, "@example.com</td>") != 2 || strings.Contains(body, "free1@example.com") {
			t.Fatalf("filtered list: %d, %d rows", code, strings.Count(body, "@example.com</td>"))
		}
		if !strings.Contains(body, "プラン") {
			t.Error("property filter not offered")
		}
	})
}

func TestDealPage_EditFieldsAndShowErrorsNextToThem(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := start(t, d, true)
		e.login()
		ctx := context.Background()
		a := platform.Actor{WorkspaceID: 1, UserID: 1, Role: platform.RoleAdmin, Kind: platform.ActorUser}
		n := "案件"
		dl, err := e.crm.CreateDeal(ctx, a, crm.DealInput{Name: &n})
		if err != nil {
			t.Fatal(err)
		}
		path := "/deals/" + itoa(dl.ID)
		code, _, at := e.post(path, url.Values{"name": {"大型案件"}, "amount": {"3,000,000"}, "close_date": {"2026-06-30"}, "recurring_amount": {"250000"}, "recurring_interval": {"month"}, "owner_id": {"1"}})
		if code != 200 || at != path {
			t.Fatalf("save: %d at %s", code, at)
		}
		got, _ := e.crm.GetDeal(ctx, d.Reader(), a, dl.ID)
		if got.Name != "大型案件" || got.Amount != 3000000 || got.CloseDate != "2026-06-30" || got.RecurringAmount != 250000 {
			t.Fatalf("deal after save = %+v", got)
		}
		code, body, at := e.post(path, url.Values{"close_date": {"30/06/2026"}})
		if code != http.StatusUnprocessableEntity || !strings.HasSuffix(at, path) || !strings.Contains(body, `class="field bad"`) || !strings.Contains(body, "日付（YYYY-MM-DD）") {
			t.Fatalf("bad date: %d at %s, error not next to the field", code, at)
		}
	})
}

func TestDealsAndCompanies_BulkActionsAndPropertyFilters(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := start(t, d, true)
		e.login()
		ctx := context.Background()
		a := platform.Actor{WorkspaceID: 1, UserID: 1, Role: platform.RoleAdmin, Kind: platform.ActorUser}
		rep, err := platform.CreateUser(ctx, d, platform.CLI(1), platform.NewUser{Email: "rep@example.com", Name: "Rep", Role: platform.RoleSales}, e.clock.Now())
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.crm.SaveProperty(ctx, a, 0, crm.PropertyDefinition{ObjectType: "company", Key: "tier", LabelEN: "Tier", LabelJA: "ランク", Type: crm.PropText}); err != nil {
			t.Fatal(err)
		}
		var dealIDs []string
		for i, name := range []string{"株式会社A", "株式会社B"} {
			n, tier := name, []string{"gold", "silver"}[i]
			co, err := e.crm.CreateCompany(ctx, a, crm.CompanyInput{Name: &n, Props: map[string]any{"tier": tier}})
			if err != nil {
				t.Fatal(err)
			}
			dl, err := e.crm.CreateDeal(ctx, a, crm.DealInput{Name: &n, CompanyID: &co.ID})
			if err != nil {
				t.Fatal(err)
			}
			dealIDs = append(dealIDs, itoa(dl.ID))
		}
		_, body := e.get("/companies?prop.tier=gold")
		if !strings.Contains(body, "株式会社A") || strings.Contains(body, "株式会社B") || !strings.Contains(body, "ランク") {
			t.Fatalf("company property filter did not apply")
		}
		if code, _, _ := e.post("/deals/bulk", url.Values{"action": {"owner"}, "owner_id": {itoa(rep.ID)}, "id": dealIDs, "back": {"/deals"}}); code != 200 {
			t.Fatalf("bulk owner: %d", code)
		}
		p, _ := e.crm.ListDeals(ctx, a, crm.DealFilter{OwnerID: rep.ID})
		if len(p.Items) != 2 {
			t.Fatalf("deals owned by the rep = %d", len(p.Items))
		}
		if code, _, _ := e.post("/companies/bulk", url.Values{"action": {"delete"}, "id": {"1"}, "back": {"/companies"}}); code != 200 {
			t.Fatalf("bulk delete: %d", code)
		}
		cs, _ := e.crm.ListCompanies(ctx, a, crm.CompanyFilter{})
		if len(cs.Items) != 1 {
			t.Fatalf("companies left = %d", len(cs.Items))
		}
	})
}

func TestLists_ShowTheChosenColumns(t *testing.T) {
	d := dbtest.Open(t, db.SQLite)
	e := start(t, d, true)
	e.login()
	ctx := context.Background()
	a := platform.Actor{WorkspaceID: 1, UserID: 1, Role: platform.RoleAdmin, Kind: platform.ActorUser}
	s := func(v string) *string { return &v }
	co, err := e.crm.CreateCompany(ctx, a, crm.CompanyInput{Name: s("株式会社列"), CorporateNumber: s("7000012050002")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.crm.CreateContact(ctx, a, crm.ContactInput{Email: s("col@example.com"), Phone: s("03-1111-2222"), CompanyID: &co.ID}); err != nil {
		t.Fatal(err)
	}
	rec, iv := 50000.0, "month"
	if _, err := e.crm.CreateDeal(ctx, a, crm.DealInput{Name: s("列の案件"), RecurringAmount: &rec, RecurringInterval: &iv}); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ path, on, cell string }{
		{"/contacts?col=phone", `value="phone" checked`, "03-1111-2222"},
		{"/companies?col=corporate_number", `value="corporate_number" checked`, "7000012050002"},
		{"/deals?col=recurring", `value="recurring" checked`, "¥50,000"},
	} {
		code, body := e.get(c.path)
		if code != 200 || !strings.Contains(body, c.on) || !strings.Contains(body, c.cell) {
			t.Errorf("%s: column not chosen or not shown (%d)", c.path, code)
		}
		if strings.Contains(body, `value="email" checked`) {
			t.Errorf("%s: an unchosen column is checked", c.path)
		}
	}
}

func TestContactPage_SalesAcceptsOrRejectsALead(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := start(t, d, true)
		e.login()
		ctx := context.Background()
		a := platform.Actor{WorkspaceID: 1, UserID: 1, Role: platform.RoleAdmin, Kind: platform.ActorUser}
		mql := platform.StageMQL
		var ids []int64
		for _, m := range []string{"x@example.com", "y@example.com"} {
			m := m
			c, err := e.crm.CreateContact(ctx, a, crm.ContactInput{Email: &m, LifecycleStage: &mql})
			if err != nil {
				t.Fatal(err)
			}
			ids = append(ids, c.ID)
		}
		_, body := e.get("/contacts/" + itoa(ids[0]))
		if !strings.Contains(body, `data-testid="feedback"`) || !strings.Contains(body, "予算がない") {
			t.Fatal("no feedback form on an MQL")
		}
		e.post("/contacts/"+itoa(ids[0])+"/feedback", url.Values{"decision": {"accept"}, "rating": {"4"}})
		e.post("/contacts/"+itoa(ids[1])+"/feedback", url.Values{"decision": {"reject"}, "reason": {"bad_data"}, "note": {"番号違い"}})
		for i, want := range []platform.Stage{platform.StageSQL, platform.StageDisqualified} {
			got, _ := e.crm.GetContact(ctx, d.Reader(), a, ids[i])
			if got.LifecycleStage != want {
				t.Errorf("contact %d: %s, want %s", i, got.LifecycleStage, want)
			}
		}
		_, body = e.get("/contacts/" + itoa(ids[0]))
		if strings.Contains(body, `data-testid="feedback"`) || !strings.Contains(body, "営業がリードを受け入れました") {
			t.Error("after acceptance: form still shown or timeline silent")
		}
	})
}
