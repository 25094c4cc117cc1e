package web_test

import (
	"bytes"
	"context"
	"fmt"
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
	"github.com/ryorin/ryorin/internal/dataio"
	"github.com/ryorin/ryorin/internal/db"
	"github.com/ryorin/ryorin/internal/dbtest"
	"github.com/ryorin/ryorin/internal/lead"
	"github.com/ryorin/ryorin/internal/marketing/content"
	"github.com/ryorin/ryorin/internal/marketing/email"
	"github.com/ryorin/ryorin/internal/marketing/forms"
	"github.com/ryorin/ryorin/internal/marketing/journeys"
	"github.com/ryorin/ryorin/internal/marketing/segments"
	"github.com/ryorin/ryorin/internal/pdftest"
	"github.com/ryorin/ryorin/internal/platform"
	"github.com/ryorin/ryorin/internal/sales"
	"github.com/ryorin/ryorin/internal/sales/quotemail"
	"github.com/ryorin/ryorin/internal/sales/sequences"
	"github.com/ryorin/ryorin/internal/salesmail"
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
	lead    *lead.Service
	forms   *forms.Service
	io      *dataio.Service
	sales   *sales.Service
	seg     *segments.Service
	email   *email.Service
	jobs    *platform.Jobs
	jy      *journeys.Service
	sm      *salesmail.Service
	seq     *sequences.Service
	content *content.Service
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
	if err := ls.EnsureSLAPolicies(ctx, 1); err != nil {
		t.Fatal(err)
	}
	e.lead = ls
	e.forms = forms.New(d, fc, svc, nil, nil)
	e.io = dataio.New(d, fc, svc, nil)
	e.sales = sales.New(d, fc, ls, &platform.Notifier{DB: d, Clock: fc, Jobs: platform.NewJobs(d, fc, nil)})
	e.seg = segments.New(d, fc, svc)
	e.jobs = platform.NewJobs(d, fc, nil)
	mailer := &platform.Mailer{DB: d, Clock: fc, Jobs: e.jobs, Timeout: 5 * time.Second}
	mailer.Register()
	e.email = email.New(d, fc, svc, mailer, e.jobs, nil)
	e.email.Register()
	notifier := &platform.Notifier{DB: d, Clock: fc, Jobs: e.jobs}
	e.sm = salesmail.New(d, fc, svc, mailer, e.email)
	e.seq = sequences.New(d, fc, svc, e.sm, e.jobs, nil)
	e.content = content.New(d, fc, svc, notifier, nil)
	scorer := &lead.Scorer{Lead: ls, CRM: svc, Notify: notifier}
	e.jy = journeys.New(d, fc, svc, e.email, e.seg, scorer, notifier, e.jobs, nil)
	w, err := web.New(web.Deps{DB: d, Clock: fc, CRM: svc, Lead: ls, Scorer: scorer, Forms: e.forms, IO: e.io, Sales: e.sales, Segments: e.seg, Email: e.email, Journeys: e.jy, Mailer: mailer, SalesMail: e.sm, Sequences: e.seq, Content: e.content,
		QuoteMail: quotemail.New(d, fc, svc, e.sales, e.sm, notifier), Workspace: 1, OnRender: func(n string) {
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
		if _, err := e.crm.CreateCompetitor(ctx, a, crm.Competitor{Name: "競合A"}); err != nil {
			t.Fatal(err)
		}
		// A list and a segment for the segment pages.
		if code, body, at := e.post("/lists", url.Values{"name": {"展示会"}}); code != 200 || at != "/lists/1" {
			t.Fatalf("create list: %d at %s %.300s", code, at, body)
		}
		if code, body, at := e.post("/segments", url.Values{"name": {"Leads"}, "c.0.0.field": {"lifecycle_stage"}, "c.0.0.op": {"eq"}, "c.0.0.value": {"lead"}, "do": {"save"}}); code != 200 || at != "/segments/1" {
			t.Fatalf("create segment: %d at %s %.300s", code, at, body)
		}
		if _, _, at := e.post("/campaigns", url.Values{"name": {"展示会"}, "kind": {"trade_show"}, "status": {"active"}}); at != "/campaigns/1" {
			t.Fatalf("create campaign went to %q", at)
		}
		if _, _, at := e.post("/reports/plans", url.Values{"name": {"来期計画"}, "period": {"quarter"}, "offset": {"1"}, "revenue_goal": {"30,000,000"}, "avg_deal_size": {"1000000"},
			"visit_to_lead": {"2"}, "lead_to_mql": {"50"}, "mql_to_sql": {"50"}, "sql_to_opportunity": {"50"}, "opportunity_to_won": {"25"}}); at != "/reports/plans/1" {
			t.Fatalf("create plan went to %q", at)
		}
		if _, _, at := e.post("/deals/1/forecast", url.Values{"forecast_category": {"commit"}, "back": {"/forecast?period=quarter"}}); at != "/forecast" {
			t.Fatalf("set forecast category went to %q", at)
		}
		if _, body := e.get("/deals/1"); !strings.Contains(body, `data-testid="deal-forecast-category">コミット`) && !strings.Contains(body, `data-testid="deal-forecast-category">Commit`) {
			t.Errorf("the deal page does not show the category set")
		}
		if _, _, at := e.post("/deals/1/forecast", url.Values{"forecast_category": {"best_case"}, "back": {"https://evil.example/"}}); at != "/deals/1" {
			t.Errorf("an outside back address was followed: %q", at)
		}
		// An edit made against an old version of the deal is refused with the
		// latest values shown; nothing is saved.
		if code, body, _ := e.post("/deals/1", url.Values{"name": {"古い画面から"}, "version": {"1"}}); code != 409 || !strings.Contains(body, `data-testid="deal-conflict"`) {
			t.Errorf("stale deal edit: %d", code)
		}
		if _, body := e.get("/deals/1"); strings.Contains(body, "古い画面から") {
			t.Errorf("the stale edit was saved")
		}
		// A customer issue and a renewal for the after-sale pages.
		if code, body, at := e.post("/issues", url.Values{"subject": {"請求書の誤り"}, "contact_id": {"1"}, "priority": {"high"}, "category": {"trouble"}, "back": {"/contacts/1"}}); code != 200 || at != "/issues/1" {
			t.Fatalf("create issue: %d at %s %.300s", code, at, body)
		}
		renewed := wonRecurringDeal(t, e, co.ID, ct.ID)
		// A sequence with the contact enrolled, for the sequence pages and the contact page's box.
		if code, body, at := e.post("/sequences", url.Values{"name": {"初回フォロー"}, "shared": {"1"}, "steps.0.action": {"email"}, "steps.0.delay_days": {"0"},
			"steps.0.subject": {"{{.FamilyName}}様"}, "steps.0.body": {"本文"}, "steps.1.action": {"call"}, "steps.1.delay_days": {"2"}}); code != 200 || at != "/sequences/1" {
			t.Fatalf("create sequence: %d at %s %.300s", code, at, body)
		}
		if code, _, at := e.post("/contacts/1/sequences", url.Values{"sequence_id": {"1"}}); code != 200 || at != "/contacts/1" {
			t.Fatalf("enrol: %d at %s", code, at)
		}
		segPages := []string{"/renewals", "/renewals?days=180", "/issues", "/issues?status=resolved&priority=urgent&owner_id=1", "/issues?status=bogus", "/issues/1",
			fmt.Sprintf("/deals/%d", renewed.ID), fmt.Sprintf("/deals/%d", renewed.ID+1), "/segments", "/segments/new", "/segments/1", "/lists/1", "/campaigns/1", "/campaigns/1?edit=1", "/reports/plans", "/reports/plans/1"}
		pages := []string{"/", "/contacts", "/contacts?q=鈴木&col=email&col=phone&col=title&col=channel&col=created", "/contacts/new",
			"/contacts/1", "/contacts/1?edit=1", "/contacts/1?tl=sales", "/companies", "/companies/1", "/deals", "/deals/board",
			"/deals/1", "/deals/1?lose=6", "/search?q=鈴木", "/notifications", "/deals/new?contact_id=1", "/companies/new", "/companies/1?edit=1", "/deals/1?edit=1", "/companies?col=corporate_number&col=created&col=last_activity&col=employees", "/deals?col=type&col=recurring&col=created&col=last_activity&col=amount", "/leads", "/leads/sla?by=channel", "/leads/definitions", "/leads/definitions/1", "/leads/definitions/new", "/leads/feedback", "/leads/settings", "/duplicates", "/competitors", "/competitors/1", "/reports", "/reports?period=quarter&offset=1", "/reports?channel=email&team_id=1&owner_id=1&pipeline_id=1&campaign_id=1",
			"/reports/funnel", "/reports/funnel?months=3&channel=email", "/today", "/campaigns", "/reports/channels", "/reports/channels?period=year&offset=1", "/reports/attribution", "/reports/attribution?model=time_decay&deal=1", "/reports/reps", "/reports/reps?period=quarter", "/reports/reps?team_id=1&channel=email", "/reports/reps?format=csv", "/reports/social", "/reports/social?period=quarter&channel=social", "/reports/funnel?owner_id=1&campaign_id=1", "/reports/channels?pipeline_id=1&channel=email", "/reports/alignment", "/reports/alignment?period=month&offset=0", "/reports/daily", "/reports/daily/team",
			"/forecast", "/forecast?period=month&offset=1&since=2026-01-05", "/forecast?team_id=1&owner_id=1",
			"/sequences", "/sequences/new", "/sequences/1"}
		for _, lang := range []string{"ja", "en"} {
			if code, _, _ := e.post("/settings/language", url.Values{"lang": {lang}}); code != 200 {
				t.Fatalf("set language %s: %d", lang, code)
			}
			for _, p := range append(pages, segPages...) {
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
		if code, body := e.get("/reports/funnel?months=3&format=csv"); code != 200 || !strings.HasPrefix(body, "\uFEFF") || strings.Count(body, "\n") != 5 {
			t.Errorf("funnel CSV: %d %q", code, body)
		}
		for _, lang := range []string{"en", "ja"} {
			e.post("/settings/language", url.Values{"lang": {lang}})
			code, body := e.get("/reports/alignment?period=month&offset=0&format=pdf")
			if code != 200 || !strings.HasPrefix(body, "%PDF-") || !strings.Contains(body, "/FontFile2") || !strings.Contains(body, "utf8bizudgothic") || !strings.Contains(body, "%%EOF") {
				t.Errorf("alignment PDF (%s): %d %.40q", lang, code, body)
			}
			// The report's own words are drawn: its KPI cards and its sections.
			text := pdftest.Inflate([]byte(body))
			for _, want := range map[string][]string{"ja": {"新規MQL", "受注率", "失注"}, "en": {"New MQLs", "Win rate", "Lost"}}[lang] {
				if !bytes.Contains(text, pdftest.UTF16BE(want)) {
					t.Errorf("alignment PDF (%s) does not show %q", lang, want)
				}
			}
		}
		if code, body := e.get("/reports/channels?format=csv"); code != 200 || !strings.HasPrefix(body, "\uFEFF") || !strings.Contains(body, "ROI") {
			t.Errorf("channels CSV: %d %q", code, body)
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
			// form* templates: TestFormsUI_EveryPageRendersInBothLanguages; import* templates by TestImportPages_UploadMapRunUndo.
			// email* templates: TestEmailUI_CampaignPagesAndPublicLinksInBothLanguages.
			// quote* templates: TestQuotesUI_LinesIssueAndPrintInBothLanguages.
			// journey* templates: TestJourneysUI_EditorFlowViewAndTimelineInBothLanguages.
			// mail_* templates (emails): TestReportSchedule_EmailsLastWeeksReportOnceToEachRecipientInTheirLanguage.
			// content* templates: TestContentUI_LibraryShareAndGate.
			if !e.renders[n] && !strings.HasPrefix(n, "settings_") && !strings.HasPrefix(n, "form") && !strings.HasPrefix(n, "import") &&
				!strings.HasPrefix(n, "email") && !strings.HasPrefix(n, "quote") && !strings.HasPrefix(n, "journey") && !strings.HasPrefix(n, "mail_") &&
				!strings.HasPrefix(n, "content") {
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

func TestLeads_QueueShowsWaitingLeadsAndAcceptingTakesThemOff(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := start(t, d, true)
		e.login()
		ctx := context.Background()
		sys := platform.System(1)
		sc := &lead.Scorer{Lead: e.lead, CRM: e.crm}
		if _, err := sc.ScoreNewEvents(ctx, 1); err != nil {
			t.Fatal(err)
		}
		owner := int64(1)
		c, err := e.crm.CreateContact(ctx, sys, crm.ContactInput{Email: new("hot@example.jp"), FamilyName: new("高橋"), GivenName: new("花子"), OwnerID: &owner})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := platform.IngestEvents(ctx, d, sys, []platform.EventInput{{ID: "f1", Kind: "form_submit", ContactID: c.ID}}, e.clock.Now()); err != nil {
			t.Fatal(err)
		}
		if err := sc.Drain(ctx, 1); err != nil {
			t.Fatal(err)
		}
		_, page := e.get("/contacts/" + itoa(c.ID))
		if !strings.Contains(page, `data-testid="sla-due"`) {
			t.Fatal("the contact page does not show the first-touch deadline")
		}
		// The engagement rule's line, computed for the page (not stored).
		if _, lines, ok := strings.Cut(page, `data-testid="score-lines"`); !ok || !strings.Contains(lines[:strings.Index(lines, "</ul>")], "フォーム送信") {
			t.Fatal("the contact page does not explain the score")
		}
		_, body := e.get("/leads")
		if !strings.Contains(body, `data-testid="lead-queue"`) || !strings.Contains(body, "高橋 花子") || !strings.Contains(body, "あと") {
			t.Fatalf("queue: %.2000s", body)
		}
		code, _, at := e.post("/contacts/"+itoa(c.ID)+"/feedback", url.Values{"decision": {"accept"}, "back": {"/leads?owner=1"}})
		if code != 200 || at != "/leads" {
			t.Fatalf("accept from the queue went to %s (%d)", at, code)
		}
		_, body = e.get("/leads")
		if !strings.Contains(body, `data-testid="queue-empty"`) {
			t.Fatal("accepted lead still queued")
		}
		if code, _, at := e.post("/contacts/"+itoa(c.ID)+"/feedback", url.Values{"decision": {"accept"}, "back": {"//evil.example/"}}); at != "/" || code != 200 {
			t.Fatalf("open redirect through back: %s", at)
		}
		e.post("/settings/language", url.Values{"lang": {"en"}})
		_, body = e.get("/leads/sla?by=policy")
		if !strings.Contains(body, `data-testid="sla-report"`) || !strings.Contains(body, "100%") {
			t.Fatalf("report: %.3000s", body)
		}
		if code, body := e.get("/leads/sla?from=yesterday"); code != 200 || !strings.Contains(body, "flash") {
			t.Fatalf("bad date: %d", code)
		}
	})
}

func TestDefinitions_EditorShowsRuleErrorsInPlaceThenTheDraftWithItsBacktest(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := start(t, d, true)
		e.login()
		_, form := e.get("/leads/definitions/new")
		if !strings.Contains(form, `data-testid="definition-form"`) || !strings.Contains(form, "料金ページの閲覧") {
			t.Fatalf("editor does not start from the active version: %.500s", form)
		}
		v := url.Values{"fit_name": {"規模", "", ""}, "fit_when": {"employees >=", "", ""}, "fit_points": {"10", "", ""},
			"eng_name": {"料金", ""}, "eng_event": {"page_view", ""}, "eng_path": {"/pricing", ""}, "eng_points": {"10", ""}, "eng_cap": {"20", ""},
			"grade_a": {"60"}, "grade_b": {"40"}, "grade_c": {"20"}, "half_life_days": {"30"}, "mql": {`engagement >= 30`}, "note": {"<b>規模</b>を重視"}}
		code, body, _ := e.post("/leads/definitions", v)
		if code != 422 || !strings.Contains(body, "1行目") || !strings.Contains(body, `value="employees &gt;="`) || !strings.Contains(body, "&lt;b&gt;規模") {
			t.Fatalf("bad rule: %d %.3000s", code, body)
		}
		v.Set("fit_when", "employees >= 100")
		v["fit_when"] = []string{"employees >= 100", "", ""}
		code, body, at := e.post("/leads/definitions", v)
		if code != 200 || !strings.HasPrefix(at, "/leads/definitions/") || !strings.Contains(body, `data-testid="backtest"`) || !strings.Contains(body, `data-testid="changes"`) {
			t.Fatalf("draft page: %d at %s %.3000s", code, at, body)
		}
		if strings.Contains(body, `data-testid="unknown-props"`) {
			t.Fatal("flagged unknown properties where there are none")
		}
		v.Set("mql", `engagement >= 30 || props.budgett > 100`)
		_, body2, _ := e.post("/leads/definitions", v)
		if !strings.Contains(body2, `data-testid="unknown-props"`) || !strings.Contains(body2, "props.budgett") {
			t.Fatalf("an unknown property was not flagged: %.2000s", body2)
		}
		// The admin is in no marketing or sales team: the approval is refused with a message.
		code, body, _ = e.post(at+"/approve", url.Values{})
		if code != 200 || !strings.Contains(body, "flash") {
			t.Fatalf("approval outside a team: %d", code)
		}
		_, list := e.get("/leads/definitions")
		if !strings.Contains(list, "v3") || !strings.Contains(list, "下書き") {
			t.Fatalf("list: %.2000s", list)
		}
	})
}

func TestFeedback_RepMarksACallAsCustomerVoiceAndMarketingSeesIt(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := start(t, d, true)
		e.login()
		ctx := context.Background()
		c, err := e.crm.CreateContact(ctx, platform.System(1), crm.ContactInput{Email: new("voice@example.jp"), FamilyName: new("佐藤"), OriginalChannel: new("paid_search")})
		if err != nil {
			t.Fatal(err)
		}
		_, page := e.get("/contacts/" + itoa(c.ID))
		if !strings.Contains(page, `name="voice_topic"`) {
			t.Fatal("no customer-voice field on the activity form")
		}
		code, _, _ := e.post("/contacts/"+itoa(c.ID)+"/activities", url.Values{"kind": {"call"}, "subject": {"導入時期"}, "body": {"<script>競合A社と比較中</script>"},
			"voice_topic": {"competitor"}, "voice_campaign": {"秋の展示会"}})
		if code != 200 {
			t.Fatalf("log: %d", code)
		}
		_, body := e.get("/leads/feedback?kind=voice")
		if !strings.Contains(body, `data-testid="feed"`) || !strings.Contains(body, "競合") || !strings.Contains(body, "秋の展示会") ||
			!strings.Contains(body, "&lt;script&gt;競合A社と比較中") || strings.Contains(body, "<script>競合A社") {
			t.Fatalf("feed: %.4000s", body)
		}
		if code, body, _ := e.post("/contacts/"+itoa(c.ID)+"/activities", url.Values{"kind": {"task"}, "voice_topic": {"pricing"}}); code != 422 || !strings.Contains(body, "flash err") {
			t.Fatalf("voice on a task: %d", code)
		}
		if _, body := e.get("/contacts/" + itoa(c.ID)); !strings.Contains(body, "顧客の声として共有: 競合") {
			t.Fatal("the timeline does not show the voice topic")
		}
	})
}

func TestLeadSettings_AdminEditsPoliciesRulesAndTeamHoursWithErrorsInPlace(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := start(t, d, true)
		e.login()
		ctx := context.Background()
		team, err := platform.SaveTeam(ctx, d, platform.CLI(1), 0, platform.NewTeam{Name: "インサイドセールス", Function: "sales"}, e.clock.Now())
		if err != nil {
			t.Fatal(err)
		}
		tid := itoa(team.ID)
		code, body, _ := e.post("/leads/settings/rules", url.Values{"name": {"関西"}, "condition": {`prefecture ==`}, "team_id": {tid}, "position": {"1"}})
		if code != 422 || !strings.Contains(body, "条件: 1行目") || !strings.Contains(body, `value="prefecture =="`) {
			t.Fatalf("bad rule: %d %.3000s", code, body)
		}
		if code, _, _ := e.post("/leads/settings/rules", url.Values{"name": {"関西"}, "condition": {`prefecture == "大阪府"`}, "team_id": {tid}, "position": {"1"}}); code != 200 {
			t.Fatalf("add rule: %d", code)
		}
		rules, _ := e.lead.RoutingRules(ctx, d.Reader(), 1)
		if len(rules) != 1 || rules[0].Name != "関西" {
			t.Fatalf("rules: %+v", rules)
		}
		if code, _, _ := e.post("/leads/settings/policies", url.Values{"key": {"hot"}, "existing": {"1"}, "label_ja": {"ホット"}, "label_en": {"Hot"},
			"condition": {`fit_grade == "A"`}, "first_touch_minutes": {"30"}, "remind_before_minutes": {"10"}, "second_limit_minutes": {"120"}, "second_action": {"reassign"}}); code != 200 {
			t.Fatalf("save policy: %d", code)
		}
		ps, _ := e.lead.SLAPolicies(ctx, d.Reader(), 1)
		if ps[0].Key != "hot" || ps[0].FirstTouchMinutes != 30 || ps[0].Condition != `fit_grade == "A"` {
			t.Fatalf("policies: %+v", ps)
		}
		if code, body, _ := e.post("/leads/settings/teams/"+tid, url.Values{"method": {"least_loaded"}, "capacity": {"20"}, "open": {"10:00"}, "close": {"09:00"}, "weekday": {"1", "2"}}); code != 422 || !strings.Contains(body, `role="alert"`) {
			t.Fatalf("closing before opening: %d", code)
		}
		if code, _, _ := e.post("/leads/settings/teams/"+tid, url.Values{"method": {"least_loaded"}, "capacity": {"20"}, "open": {"10:00"}, "close": {"19:00"},
			"weekday": {"1", "2", "3", "4", "5", "6"}, "holidays": {"1"}}); code != 200 {
			t.Fatalf("save team: %d", code)
		}
		cal, _ := e.lead.TeamCalendarOf(ctx, d.Reader(), 1, team.ID)
		if cal.OpenMinute != 600 || cal.CloseMinute != 1140 || cal.Weekdays != "123456" || !cal.Holidays || len(cal.Closures) != 1 {
			t.Fatalf("calendar: %+v", cal)
		}
		if code, _, _ := e.post("/leads/settings/rules/"+itoa(rules[0].ID)+"/delete", url.Values{}); code != 200 {
			t.Fatalf("delete rule: %d", code)
		}
		if rules, _ := e.lead.RoutingRules(ctx, d.Reader(), 1); len(rules) != 0 {
			t.Fatalf("rule not deleted: %+v", rules)
		}
	})
}

func TestCompanyPage_EditErrorsShowNextToTheFieldWithTheInputKept(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := start(t, d, true)
		e.login()
		co, err := e.crm.CreateCompany(context.Background(), platform.System(1), crm.CompanyInput{Name: new("株式会社テスト")})
		if err != nil {
			t.Fatal(err)
		}
		code, body, _ := e.post("/companies/"+itoa(co.ID), url.Values{"name": {"株式会社テスト改"}, "corporate_number": {"1234567890123"}, "domain": {"test.example.jp"}})
		if code != 422 || !strings.Contains(body, `data-testid="company-edit"`) || !strings.Contains(body, `value="1234567890123"`) ||
			!strings.Contains(body, `value="株式会社テスト改"`) || !strings.Contains(body, `class="err"`) {
			t.Fatalf("bad corporate number: %d %.3000s", code, body)
		}
		got, _ := e.crm.GetCompany(context.Background(), d.Reader(), platform.System(1), co.ID)
		if got.Name != "株式会社テスト" {
			t.Fatalf("a refused save changed the name to %q", got.Name)
		}
	})
}

func TestPersonalData_AdminDownloadsThenErasesAfterTypingTheEmail(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := start(t, d, true)
		e.login()
		c, err := e.crm.CreateContact(context.Background(), platform.System(1), crm.ContactInput{Email: new("erase-me@example.jp"), FamilyName: new("消去"),
			ConsentEmail: new("granted"), ConsentSource: new("import")})
		if err != nil {
			t.Fatal(err)
		}
		id := itoa(c.ID)
		_, page := e.get("/contacts/" + id)
		if !strings.Contains(page, `data-testid="personal-data"`) || !strings.Contains(page, `data-testid="erase"`) || !strings.Contains(page, "import") {
			t.Fatal("no personal-data panel for an admin")
		}
		code, body := e.get("/contacts/" + id + "/export.json")
		if code != 200 || !strings.Contains(body, "erase-me@example.jp") || !strings.Contains(body, `"tables"`) {
			t.Fatalf("export: %d %.300s", code, body)
		}
		if _, _, at := e.post("/contacts/"+id+"/erase", url.Values{"confirm": {"someone@else.jp"}}); at != "/contacts/"+id {
			t.Fatalf("a wrong confirmation went on to %s", at)
		}
		if _, err := e.crm.GetContact(context.Background(), d.Reader(), platform.System(1), c.ID); err != nil {
			t.Fatalf("erased despite the wrong confirmation: %v", err)
		}
		if _, _, at := e.post("/contacts/"+id+"/erase", url.Values{"confirm": {"ERASE-ME@example.jp"}}); at != "/contacts" {
			t.Fatalf("erase went to %s", at)
		}
		if code, _ := e.get("/contacts/" + id); code != 404 {
			t.Fatalf("erased contact page: %d", code)
		}
	})
}

func TestGuidedStages_PlaybookShowsOnTheDealAndUnmetCriteriaStopTheMove(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := start(t, d, true)
		e.login()
		ctx := context.Background()
		ps, _ := e.crm.Pipelines(ctx, d.Reader(), 1)
		p := ps[0]
		first, second := p.Stages[0], p.Stages[1]
		if _, body := e.get("/settings/pipelines/" + itoa(p.ID)); !strings.Contains(body, `data-testid="stage-guides"`) {
			t.Fatal("no playbook forms on the pipeline page")
		}
		e.post("/settings/pipelines/"+itoa(p.ID)+"/stages/"+itoa(first.ID)+"/guide", url.Values{"guidance": {"課題と予算をヒアリングする"},
			"criteria": {"activity:demo", "amount"}, "rot_days": {"3"}})
		deal, err := e.crm.CreateDeal(ctx, platform.System(1), crm.DealInput{Name: new("ガイド付き案件"), StageID: &first.ID})
		if err != nil {
			t.Fatal(err)
		}
		_, body := e.get("/deals/" + itoa(deal.ID))
		if !strings.Contains(body, `data-testid="stage-guide"`) || !strings.Contains(body, "課題と予算をヒアリングする") || !strings.Contains(body, "デモの記録") {
			t.Fatalf("deal page without its playbook: %.2000s", body)
		}
		_, body, at := e.post("/deals/"+itoa(deal.ID)+"/move", url.Values{"stage_id": {itoa(second.ID)}, "back": {"/deals/board"}})
		if at != "/deals/board" || !strings.Contains(body, "次のステージに進むには") || !strings.Contains(body, "金額の入力") {
			t.Fatalf("refused move: at %s %.2000s", at, body)
		}
		if got, _ := e.crm.GetDeal(ctx, d.Reader(), platform.System(1), deal.ID); got.StageID != first.ID {
			t.Fatal("the deal moved despite unmet criteria")
		}
		e.clock.Advance(4 * 24 * time.Hour)
		if _, board := e.get("/deals/board"); !strings.Contains(board, `data-testid="rotting"`) {
			t.Fatal("an idle deal is not flagged on the board")
		}
	})
}

func TestDuplicates_ReviewMergeAndUndo(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := start(t, d, true)
		e.login()
		ctx := context.Background()
		sys := platform.System(1)
		a, _ := e.crm.CreateContact(ctx, sys, crm.ContactInput{Email: new("a@example.jp"), FamilyName: new("佐藤"), Phone: new("090-1111-2222")})
		b, _ := e.crm.CreateContact(ctx, sys, crm.ContactInput{Email: new("b@example.jp"), FamilyName: new("佐藤"), Phone: new("09011112222"), Title: new("課長")})
		_, body := e.get("/duplicates")
		if !strings.Contains(body, `data-testid="dup-group"`) || !strings.Contains(body, "電話番号が同じ") {
			t.Fatalf("duplicates page: %.2000s", body)
		}
		if _, _, at := e.post("/duplicates/merge", url.Values{"object": {"contact"}, "keep": {itoa(a.ID)}, "id": {itoa(a.ID), itoa(b.ID)}}); at != "/duplicates" {
			t.Fatalf("merge went to %s", at)
		}
		if _, err := e.crm.GetContact(ctx, d.Reader(), sys, b.ID); err == nil {
			t.Fatal("the merged contact remains")
		}
		_, body = e.get("/duplicates")
		if !strings.Contains(body, `data-testid="no-dups"`) || !strings.Contains(body, `data-testid="merges"`) {
			t.Fatalf("after the merge: %.2000s", body)
		}
		var mid int64
		_ = d.Reader().QueryRowContext(ctx, `SELECT id FROM merges`).Scan(&mid)
		e.post("/duplicates/merges/"+itoa(mid)+"/undo", url.Values{})
		if got, err := e.crm.GetContact(ctx, d.Reader(), sys, b.ID); err != nil || got.Title != "課長" {
			t.Fatalf("after undo: %+v %v", got, err)
		}
	})
}

func TestCompetitors_CardAndNewsPages(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := start(t, d, true)
		e.login()
		if _, _, at := e.post("/competitors", url.Values{"name": {"ライバル社"}}); !strings.HasPrefix(at, "/competitors/") {
			t.Fatalf("create went to %s", at)
		}
		comps, _ := e.crm.Competitors(context.Background(), d.Reader(), 1)
		id := itoa(comps[0].ID)
		if code, _, _ := e.post("/competitors/"+id, url.Values{"strengths": {"<b>安い</b>"}, "weaknesses": {"遅い"}, "pricing": {""}, "website": {""}}); code != 200 {
			t.Fatalf("card: %d", code)
		}
		if code, _, _ := e.post("/competitors/"+id+"/news", url.Values{"title": {""}}); code != 422 {
			t.Fatalf("empty news: %d", code)
		}
		e.post("/competitors/"+id+"/news", url.Values{"title": {"新製品を発表"}, "url": {"https://rival.example/n"}})
		_, body := e.get("/competitors/" + id)
		if !strings.Contains(body, "新製品を発表") || !strings.Contains(body, "&lt;b&gt;安い") {
			t.Fatalf("competitor page: %.2000s", body)
		}
		if _, list := e.get("/competitors"); !strings.Contains(list, "新製品を発表") || !strings.Contains(list, `data-testid="competitors"`) {
			t.Fatal("list without the news")
		}
	})
}

func TestCampaigns_CreateSpendAndMembersFromThePages(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := start(t, d, true)
		e.login()
		// An error is shown next to its field and what was typed is kept.
		code, body, _ := e.post("/campaigns", url.Values{"name": {"秋のウェビナー"}, "kind": {"webinar"}, "utm_campaign": {"bad code"}, "budget": {"300,000"}, "status": {"planned"}})
		if code != 422 || !strings.Contains(body, `value="秋のウェビナー"`) || !strings.Contains(body, `class="err"`) {
			t.Fatalf("bad utm: %d %.3000s", code, body)
		}
		_, _, at := e.post("/campaigns", url.Values{"name": {"秋のウェビナー"}, "kind": {"webinar"}, "channel": {"email"}, "utm_campaign": {"webinar-autumn"}, "budget": {"300,000"}, "status": {"active"}})
		if at != "/campaigns/1" {
			t.Fatalf("create went to %q", at)
		}
		if code, body, _ := e.post("/campaigns/1/spend", url.Values{"month": {"2026-04"}, "amount": {"ten"}}); code != 422 || !strings.Contains(body, `class="err"`) {
			t.Fatalf("bad amount: %d", code)
		}
		e.post("/campaigns/1/spend", url.Values{"month": {"2026-04"}, "amount": {"120,000"}})
		ct, err := e.crm.CreateContact(context.Background(), platform.System(1), crm.ContactInput{Email: new("sato@example.jp"), FamilyName: new("佐藤")})
		if err != nil {
			t.Fatal(err)
		}
		if code, body, _ := e.post("/campaigns/1/members", url.Values{"emails": {"sato@example.jp\nnobody@example.jp"}, "status": {"registered"}}); code != 422 || !strings.Contains(body, "nobody@example.jp") {
			t.Fatalf("unknown email: %d", code)
		}
		e.post("/campaigns/1/members", url.Values{"emails": {"sato@example.jp"}, "status": {"registered"}})
		code, body = e.get("/campaigns/1")
		if code != 200 {
			t.Fatalf("campaign page: %d %.500s", code, body)
		}
		for _, want := range []string{"佐藤", `data-testid="campaign-results"`, "¥120,000", "¥300,000"} {
			if !strings.Contains(body, want) {
				t.Errorf("campaign page lacks %q", want)
			}
		}
		if _, body := e.get("/contacts/" + itoa(ct.ID)); !strings.Contains(body, "/campaigns/1") {
			t.Error("the contact's timeline does not link the campaign")
		}
		if _, list := e.get("/campaigns"); !strings.Contains(list, "秋のウェビナー") || !strings.Contains(list, "utm_campaign=webinar-autumn") {
			t.Error("list lacks the campaign")
		}
		e.post("/campaigns/1/members/remove", url.Values{"contact_id": {itoa(ct.ID)}})
		if _, body := e.get("/campaigns/1"); strings.Contains(body, "sato@example.jp") {
			t.Error("member not removed")
		}
	})
}

func TestPlans_WorkBackFromTheFormAndRefuseBadInput(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := start(t, d, true)
		e.login()
		code, body, _ := e.post("/reports/plans", url.Values{"name": {"計画"}, "period": {"quarter"}, "revenue_goal": {"lots"}})
		if code != 422 || !strings.Contains(body, `class="err"`) || !strings.Contains(body, `value="計画"`) {
			t.Fatalf("bad goal: %d", code)
		}
		if code, body, _ := e.post("/reports/plans", url.Values{"name": {"計画"}, "period": {"quarter"}, "revenue_goal": {"1000000"}, "opportunity_to_won": {"150"}}); code != 422 || !strings.Contains(body, `class="err"`) {
			t.Fatalf("bad rate: %d", code)
		}
		_, _, at := e.post("/reports/plans", url.Values{"name": {"計画"}, "period": {"year"}, "offset": {"0"}, "revenue_goal": {"12,000,000"}, "avg_deal_size": {"1,000,000"},
			"visit_to_lead": {"2"}, "lead_to_mql": {"50"}, "mql_to_sql": {"50"}, "sql_to_opportunity": {"50"}, "opportunity_to_won": {"25"}})
		_, body = e.get(at)
		// 12 deals → 48 opportunities → 96 SQLs → 192 MQLs → 384 leads → 19,200 visits; 1 deal a month.
		for _, want := range []string{"19,200", "384", `data-testid="pacing"`, `data-testid="plan-approve"`} {
			if !strings.Contains(body, want) {
				t.Errorf("plan page lacks %q", want)
			}
		}
		// The admin is in no marketing or sales team: refused, with a reason.
		if code, body, _ := e.post(at+"/approve", nil); code != 403 || !strings.Contains(body, "flash err") {
			t.Errorf("approval outside the teams: %d", code)
		}
	})
}
