package web_test

import (
	"context"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/ryorin/ryorin/internal/crm"
	"github.com/ryorin/ryorin/internal/db"
	"github.com/ryorin/ryorin/internal/dbtest"
	"github.com/ryorin/ryorin/internal/platform"
)

var tokenRe = regexp.MustCompile(`ryo_[a-z2-7]{20,}`)

// loginAs signs in as another user, in a fresh cookie jar.
func (e *env) loginAs(email, password string) {
	e.t.Helper()
	e.c.Jar, _ = cookiejar.New(nil)
	code, body, at := e.post("/login", url.Values{"email": {email}, "password": {password}, "next": {"/"}})
	if code != 200 || at != "/" {
		e.t.Fatalf("login as %s: %d at %s: %.300s", email, code, at, body)
	}
}

// mustPost posts a form and fails unless it lands on want with 200.
func (e *env) mustPost(path string, form url.Values, want string) string {
	e.t.Helper()
	code, body, at := e.post(path, form)
	if code != 200 || at != want {
		e.t.Fatalf("POST %s: %d at %s, want %s: %.600s", path, code, at, want, body)
	}
	return body
}

// TestSettings_EveryPageRendersInBothLanguages visits every settings screen,
// with data on it, as an admin in Japanese and English, and checks that
// every settings template was rendered (the general page test leaves
// settings_* templates to this one).
func TestSettings_EveryPageRendersInBothLanguages(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := start(t, d, true)
		e.login()
		e.mustPost("/settings/teams", url.Values{"name": {"東京営業部"}, "function": {"sales"}, "manager_id": {"1"}}, "/settings/teams")
		e.mustPost("/settings/properties", url.Values{"object_type": {"contact"}, "key": {"rank"}, "label_ja": {"ランク"}, "label_en": {"Rank"},
			"type": {"single_choice"}, "options": {"a=Aランク|Rank A\nb=B"}}, "/settings/properties")
		e.mustPost("/settings/workspace/rates", url.Values{"currency": {"USD"}, "valid_from": {"2026-01-01"}, "rate": {"150.5"}}, "/settings/workspace")
		e.mustPost("/settings/notifications", url.Values{"kind": {"slack"}, "name": {"#sales"}, "url": {"https://hooks.slack.com/services/T000/B000/XXXXSECRET"}}, "/settings/notifications")
		e.mustPost("/settings/tokens", url.Values{"name": {"script"}}, "/settings/tokens")
		pages := []string{"/settings", "/settings/profile", "/settings/users", "/settings/users?edit=1", "/settings/teams", "/settings/teams?edit=1",
			"/settings/pipelines", "/settings/pipelines/1", "/settings/pipelines/new", "/settings/properties", "/settings/properties?edit=1",
			"/settings/workspace", "/settings/tokens", "/settings/notifications", "/settings/audit", "/settings/audit?type=team&user=1", "/settings/tracking", "/settings/webhooks", "/settings/quotes"}
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
				if strings.Contains(body, "settings.") && regexp.MustCompile(`>settings\.[a-z_.]+<`).MatchString(body) {
					t.Errorf("%s %s: untranslated key in %s", lang, p, regexp.MustCompile(`>settings\.[a-z_.]+<`).FindString(body))
				}
			}
			want := map[string]string{"ja": "監査ログ", "en": "Audit log"}[lang]
			if _, body := e.get("/settings"); !strings.Contains(body, want) || !strings.Contains(body, `href="/settings"`) {
				t.Errorf("%s settings index lacks %q or the navigation link", lang, want)
			}
		}
		// The two-factor set-up view of the profile, and the rendered list of
		// templates this test is responsible for.
		if code, body, _ := e.post("/settings/profile/totp", nil); code != 200 || !strings.Contains(body, "otpauth://totp/") {
			t.Errorf("totp set-up: %d", code)
		}
		e.mu.Lock()
		defer e.mu.Unlock()
		var missing []string
		for _, n := range e.web.Templates() {
			if strings.HasPrefix(n, "settings_") && !e.renders[n] {
				missing = append(missing, n)
			}
		}
		sort.Strings(missing)
		if len(missing) > 0 {
			t.Errorf("settings templates no test renders: %v", missing)
		}
	})
}

func TestSettings_SalesUserCannotOpenAdminPages(t *testing.T) {
	e := start(t, dbtest.Open(t, db.SQLite), true)
	if _, err := platform.CreateUser(context.Background(), e.d, platform.CLI(1), platform.NewUser{Email: "rep@example.com", Name: "Rep",
		Role: platform.RoleSales, Password: "sales password 1"}, e.clock.Now()); err != nil {
		t.Fatal(err)
	}
	e.loginAs("rep@example.com", "sales password 1")
	for _, p := range []string{"/settings/users", "/settings/teams", "/settings/pipelines", "/settings/pipelines/1", "/settings/pipelines/new",
		"/settings/properties", "/settings/workspace", "/settings/notifications", "/settings/audit"} {
		if code, _ := e.get(p); code != 403 {
			t.Errorf("sales GET %s: %d, want 403", p, code)
		}
	}
	posts := map[string]url.Values{
		"/settings/users":               {"email": {"x@example.com"}, "name": {"X"}, "role": {"admin"}, "password": {"long enough password"}},
		"/settings/users/2":             {"name": {"Rep"}, "role": {"admin"}, "active": {"true"}},
		"/settings/teams":               {"name": {"T"}},
		"/settings/pipelines/1":         {"name": {"P"}},
		"/settings/properties":          {"object_type": {"contact"}, "key": {"k"}, "label_en": {"K"}, "type": {"text"}},
		"/settings/workspace":           {"name": {"Mine"}},
		"/settings/workspace/smtp":      {"host": {"smtp.example.com"}, "from_address": {"a@example.com"}},
		"/settings/workspace/smtp/test": {"to": {"a@example.com"}},
		"/settings/notifications":       {"kind": {"slack"}, "name": {"n"}, "url": {"https://example.com/hook"}},
	}
	for p, form := range posts {
		if code, _, _ := e.post(p, form); code != 403 {
			t.Errorf("sales POST %s: %d, want 403", p, code)
		}
	}
	u, _ := platform.GetUser(context.Background(), e.d.Reader(), 1, 2)
	if u.Role != platform.RoleSales {
		t.Errorf("sales user promoted themselves to %s", u.Role)
	}
	code, body := e.get("/settings")
	if code != 200 || strings.Contains(body, `href="/settings/users"`) || strings.Contains(body, `href="/settings/audit"`) {
		t.Errorf("settings index shows admin links to a sales user (%d)", code)
	}
	for _, p := range []string{"/settings/profile", "/settings/tokens"} {
		if code, _ := e.get(p); code != 200 {
			t.Errorf("sales GET %s: %d", p, code)
		}
	}
}

func TestSettings_FormsCreateUsersTeamsPropertiesAndStages(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := start(t, d, true)
		e.login()
		// A team, then a user in it.
		e.mustPost("/settings/teams", url.Values{"name": {"大阪営業部"}, "function": {"sales"}}, "/settings/teams")
		if _, body := e.get("/settings/teams"); !strings.Contains(body, "大阪営業部") {
			t.Error("new team not listed")
		}
		teams, _ := platform.ListTeams(context.Background(), e.d.Reader(), 1)
		if len(teams) != 1 {
			t.Fatalf("%d teams", len(teams))
		}
		team := itoa(teams[0].ID)
		// A bad email is shown next to the field, the password is not echoed.
		code, body, _ := e.post("/settings/users", url.Values{"email": {"not-an-email"}, "name": {"佐藤 花子"}, "role": {"sales"}, "team_id": {team}, "password": {"hanako password"}})
		if code != 422 || !strings.Contains(body, `class="field bad"`) || !strings.Contains(body, "メールアドレスの形式が正しくありません") || strings.Contains(body, "hanako password") {
			t.Errorf("bad user form: %d", code)
		}
		e.mustPost("/settings/users", url.Values{"email": {"hanako@example.jp"}, "name": {"佐藤 花子"}, "role": {"sales"}, "team_id": {team}, "password": {"hanako password"}}, "/settings/users")
		if _, body := e.get("/settings/users"); !strings.Contains(body, "hanako@example.jp") || !strings.Contains(body, "大阪営業部") {
			t.Error("new user not listed with their team")
		}
		hanako, err := platform.UserByEmail(context.Background(), e.d.Reader(), 1, "hanako@example.jp")
		if err != nil {
			t.Fatal(err)
		}
		// Promote her; the audit log shows the change from → to.
		e.mustPost("/settings/users/"+itoa(hanako.ID), url.Values{"name": {"佐藤 花子"}, "role": {"manager"}, "team_id": {team}, "active": {"true"}}, "/settings/users")
		_, body = e.get("/settings/audit?type=user")
		if !strings.Contains(body, "sales → <strong>manager</strong>") {
			t.Errorf("audit log lacks the role change: %.2000s", body)
		}
		// A custom property with options; a duplicate key is refused next to the field.
		e.mustPost("/settings/properties", url.Values{"object_type": {"deal"}, "key": {"budget"}, "label_ja": {"予算感"}, "label_en": {"Budget"},
			"type": {"multi_choice"}, "options": {"low=低|Low\nhigh=高|High"}, "required": {"1"}}, "/settings/properties")
		code, body, _ = e.post("/settings/properties", url.Values{"object_type": {"deal"}, "key": {"budget"}, "label_en": {"Again"}, "type": {"text"}})
		if code != 422 || !strings.Contains(body, "already exists") {
			t.Errorf("duplicate property: %d", code)
		}
		_, body = e.get("/settings/properties")
		if !strings.Contains(body, "予算感") || !strings.Contains(body, "<code>budget</code>") || !strings.Contains(body, "data-confirm") {
			t.Error("new property not listed with a confirmed delete")
		}
		defs, _ := e.crm.Properties(context.Background(), e.d.Reader(), 1, "deal")
		if len(defs) != 1 || len(defs[0].Options) != 2 || defs[0].Options[1].LabelEN != "High" || !defs[0].Required {
			t.Fatalf("property stored as %+v", defs)
		}
		e.mustPost("/settings/properties/"+itoa(defs[0].ID), url.Values{"label_ja": {"予算"}, "label_en": {"Budget"}, "options": {"low=低|Low"}}, "/settings/properties")
		if defs, _ = e.crm.Properties(context.Background(), e.d.Reader(), 1, "deal"); defs[0].LabelJA != "予算" || len(defs[0].Options) != 1 || defs[0].Required {
			t.Errorf("property edit stored as %+v", defs[0])
		}
		e.mustPost("/settings/properties/"+itoa(defs[0].ID)+"/delete", nil, "/settings/properties")
		if defs, _ = e.crm.Properties(context.Background(), e.d.Reader(), 1, ""); len(defs) != 0 {
			t.Errorf("%d properties left after delete", len(defs))
		}

		// Pipelines: add a stage, reorder by position, and try to remove a stage holding a deal.
		p, err := e.crm.DefaultPipeline(context.Background(), e.d.Reader(), 1)
		if err != nil {
			t.Fatal(err)
		}
		form := url.Values{"name": {p.Name}, "n": {itoa(int64(len(p.Stages) + 1))}}
		for i, st := range p.Stages {
			k := "s" + itoa(int64(i)) + "."
			form.Set(k+"id", itoa(st.ID))
			form.Set(k+"name", st.Name)
			form.Set(k+"probability", itoa(int64(st.Probability)))
			form.Set(k+"kind", st.Kind)
			form.Set(k+"pos", itoa(int64(i+1)*10))
		}
		n := "s" + itoa(int64(len(p.Stages))) + "."
		form.Set(n+"name", "契約手続き")
		form.Set(n+"probability", "90")
		form.Set(n+"kind", "open")
		form.Set(n+"pos", "45") // between negotiation (40) and won (50)
		e.mustPost("/settings/pipelines/"+itoa(p.ID), form, "/settings/pipelines")
		if _, body := e.get("/settings/pipelines"); !strings.Contains(body, "契約手続き") {
			t.Error("new stage not listed")
		}
		p2, _ := e.crm.GetPipeline(context.Background(), e.d.Reader(), 1, p.ID)
		if len(p2.Stages) != len(p.Stages)+1 || p2.Stages[4].Name != "契約手続き" || p2.Stages[4].Probability != 90 {
			t.Fatalf("stages after adding: %+v", p2.Stages)
		}
		a := platform.Actor{WorkspaceID: 1, UserID: 1, Role: platform.RoleAdmin, Kind: platform.ActorUser}
		name := "導入案件"
		stage := p2.Stages[0].ID
		if _, err := e.crm.CreateDeal(context.Background(), a, crm.DealInput{Name: &name, StageID: &stage}); err != nil {
			t.Fatal(err)
		}
		form = url.Values{"name": {p2.Name}, "n": {itoa(int64(len(p2.Stages)))}}
		for i, st := range p2.Stages {
			k := "s" + itoa(int64(i)) + "."
			form.Set(k+"id", itoa(st.ID))
			form.Set(k+"name", st.Name)
			form.Set(k+"probability", itoa(int64(st.Probability)))
			form.Set(k+"kind", st.Kind)
			form.Set(k+"pos", itoa(int64(i)))
		}
		form.Set("s0.remove", "1")
		code, body, _ = e.post("/settings/pipelines/"+itoa(p.ID), form)
		if code != 422 || !strings.Contains(body, "still holds 1 deals") || !strings.Contains(body, "契約手続き") {
			t.Errorf("removing a stage with a deal: %d %.300s", code, body)
		}
		// A new pipeline from the blank form.
		e.mustPost("/settings/pipelines", url.Values{"name": {"パートナー経由"}, "n": {"3"},
			"s0.name": {"紹介"}, "s0.probability": {"20"}, "s0.kind": {"open"}, "s0.pos": {"1"},
			"s1.name": {"受注"}, "s1.kind": {"won"}, "s1.pos": {"2"}, "s2.name": {"失注"}, "s2.kind": {"lost"}, "s2.pos": {"3"}}, "/settings/pipelines")
		if _, body := e.get("/settings/pipelines"); !strings.Contains(body, "パートナー経由") {
			t.Error("new pipeline not listed")
		}
	})
}

func TestSettings_SecretsAreNotEchoed(t *testing.T) {
	e := start(t, dbtest.Open(t, db.SQLite), true)
	e.login()
	const pw = "smtp-Pa55word-xyz"
	smtp := url.Values{"host": {"127.0.0.1"}, "port": {"1"}, "tls": {"none"}, "username": {"mailer"}, "password": {pw},
		"from_address": {"crm@example.jp"}, "from_name": {"Ryorin"}}
	e.mustPost("/settings/workspace/smtp", smtp, "/settings/workspace")
	bad := url.Values{}
	for k, v := range smtp {
		bad[k] = v
	}
	bad.Set("from_address", "nope")
	code, body, _ := e.post("/settings/workspace/smtp", bad)
	if code != 422 || strings.Contains(body, pw) || !strings.Contains(body, "メールアドレスの形式が正しくありません") {
		t.Errorf("bad SMTP form: %d, password echoed: %v", code, strings.Contains(body, pw))
	}
	// Saving with an empty password keeps the stored one.
	smtp.Set("password", "")
	e.mustPost("/settings/workspace/smtp", smtp, "/settings/workspace")
	ws, _ := platform.GetWorkspace(context.Background(), e.d.Reader(), 1)
	if ws.SMTP().Password != pw {
		t.Error("an empty password field replaced the stored password")
	}
	// The test mail reports the server's refusal next to the form.
	code, body, _ = e.post("/settings/workspace/smtp/test", url.Values{"to": {"me@example.jp"}})
	if code != 422 || !strings.Contains(body, "flash err") || strings.Contains(body, pw) {
		t.Errorf("test mail to a closed port: %d", code)
	}
	for _, p := range []string{"/settings/workspace", "/settings/audit", "/settings/audit?type=smtp_settings", "/settings", "/settings/profile"} {
		if _, body := e.get(p); strings.Contains(body, pw) {
			t.Errorf("%s shows the SMTP password", p)
		}
	}
	// API tokens: the secret is on the creation page once, and never again.
	code, body, _ = e.post("/settings/tokens", url.Values{"name": {"nightly export"}})
	secret := tokenRe.FindString(body)
	if code != 200 || secret == "" || strings.Count(body, secret) != 1 {
		t.Fatalf("token creation page: %d, secret %q shown %d times", code, secret, strings.Count(body, secret))
	}
	if _, err := platform.ActorForToken(context.Background(), e.d, secret, e.clock.Now()); err != nil {
		t.Errorf("the shown secret does not work: %v", err)
	}
	for _, p := range []string{"/settings/tokens", "/settings/audit", "/settings/profile"} {
		if _, body := e.get(p); strings.Contains(body, secret) {
			t.Errorf("%s shows the token secret", p)
		}
	}
	if _, body := e.get("/settings/tokens"); !strings.Contains(body, "nightly export") || !strings.Contains(body, secret[:8]) {
		t.Error("token not listed by name and prefix")
	}
	toks, _ := platform.ListTokens(context.Background(), e.d.Reader(), 1, 1)
	e.mustPost("/settings/tokens/"+itoa(toks[0].ID)+"/revoke", nil, "/settings/tokens")
	if _, err := platform.ActorForToken(context.Background(), e.d, secret, e.clock.Now()); err == nil {
		t.Error("revoked token still works")
	}
	// Chat webhook URLs are shown redacted.
	hook := "https://hooks.slack.com/services/T000/B000/abcdefSECRETwxyz"
	e.mustPost("/settings/notifications", url.Values{"kind": {"slack"}, "name": {"#sales"}, "url": {hook}}, "/settings/notifications")
	if _, body := e.get("/settings/notifications"); strings.Contains(body, hook) || !strings.Contains(body, "hooks.slack.com/…wxyz") {
		t.Error("the webhook URL is not redacted")
	}
}

func TestSettings_ProfilePasswordAndTwoFactor(t *testing.T) {
	e := start(t, dbtest.Open(t, db.SQLite), true)
	e.login()
	e.mustPost("/settings/profile", url.Values{"name": {"山田 太郎"}, "locale": {"en"}, "time_zone": {"Europe/Berlin"}}, "/settings/profile")
	if code, body, _ := e.post("/settings/profile", url.Values{"name": {"山田 太郎"}, "locale": {"en"}, "time_zone": {"Mars/Olympus"}}); code != 422 || !strings.Contains(body, "unknown time zone") {
		t.Errorf("bad time zone: %d", code)
	}
	code, body, _ := e.post("/settings/profile/password", url.Values{"current": {"wrong password!"}, "password": {"a new long password"}, "password2": {"a new long password"}})
	if code != 422 || !strings.Contains(body, "current password is wrong") {
		t.Errorf("wrong current password: %d", code)
	}
	body = e.mustPost("/settings/profile/password", url.Values{"current": {"correct horse battery"}, "password": {"a new long password"}, "password2": {"a new long password"}}, "/settings/profile")
	if !strings.Contains(body, "Password changed.") {
		t.Error("no flash after password change")
	}
	if code, _ := e.get("/settings/profile"); code != 200 {
		t.Errorf("session lost after password change: %d", code)
	}
	if _, err := platform.Login(context.Background(), e.d, 1, "admin@example.com", "a new long password"); err != nil {
		t.Error("new password does not work")
	}
	// Two-factor: the secret is shown as text; a wrong code is refused, the right one turns it on.
	_, body, _ = e.post("/settings/profile/totp", nil)
	m := regexp.MustCompile(`data-testid="totp-secret">([A-Z2-7]+)<`).FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no secret shown: %.500s", body)
	}
	if code, body, _ := e.post("/settings/profile/totp/enable", url.Values{"code": {"000000"}}); code != 422 || !strings.Contains(body, "does not match") {
		t.Errorf("wrong code: %d", code)
	}
	c, _ := platform.TOTPCode(m[1], e.clock.Now())
	e.mustPost("/settings/profile/totp/enable", url.Values{"code": {c}}, "/settings/profile")
	if u, _ := platform.GetUser(context.Background(), e.d.Reader(), 1, 1); !u.TOTPEnabled || u.TimeZone != "Europe/Berlin" {
		t.Errorf("user after profile changes: totp %v, zone %q", u.TOTPEnabled, u.TimeZone)
	}
	// Notification preferences.
	e.mustPost("/settings/profile/notifications", url.Values{"kind": {"deal.won", "task.due"}, "email.deal.won": {"1"}, "in_app.task.due": {"1"}}, "/settings/profile")
	prefs, _ := platform.GetPrefs(context.Background(), e.d.Reader(), 1, 1)
	if len(prefs) != 2 || prefs[0].Kind != "deal.won" || !prefs[0].Email || prefs[0].InApp || prefs[1].Chat || !prefs[1].InApp {
		t.Errorf("prefs stored as %+v", prefs)
	}
}

func TestSettings_WebhookIsAddedWithItsSecretShownOnceAndErrorsInPlace(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := start(t, d, true)
		e.login()
		code, body, _ := e.post("/settings/webhooks", url.Values{"url": {"ftp://nope"}, "event_type": {"contact.created"}})
		if code != 422 || !strings.Contains(body, `value="ftp://nope"`) || !strings.Contains(body, "checked") {
			t.Fatalf("bad URL: %d %.2000s", code, body)
		}
		code, body, _ = e.post("/settings/webhooks", url.Values{"url": {"https://hooks.example.jp/ryorin"}, "event_type": {"contact.created", "deal.won"}})
		if code != 200 || !strings.Contains(body, `data-testid="webhook-secret"`) || !strings.Contains(body, "whsec_") {
			t.Fatalf("create: %d %.2000s", code, body)
		}
		if _, again := e.get("/settings/webhooks"); strings.Contains(again, "whsec_") || !strings.Contains(again, "hooks.example.jp") {
			t.Fatal("the secret is shown again, or the webhook is missing")
		}
	})
}

func TestSettings_RetentionRefusesTooShortAPeriodAndSavesAValidOne(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := start(t, d, true)
		e.login()
		code, body, _ := e.post("/settings/workspace/retention", url.Values{"event_days": {"30"}})
		if code != 422 || !strings.Contains(body, `value="30"`) {
			t.Fatalf("30 days: %d", code)
		}
		if code, _, _ := e.post("/settings/workspace/retention", url.Values{"event_days": {"730"}}); code != 200 {
			t.Fatalf("730 days: %d", code)
		}
		if days, _ := platform.EventRetention(context.Background(), d.Reader(), 1); days != 730 {
			t.Fatalf("stored %d", days)
		}
	})
}
