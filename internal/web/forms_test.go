package web_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/ryorin/ryorin/internal/crm"
	"github.com/ryorin/ryorin/internal/db"
	"github.com/ryorin/ryorin/internal/dbtest"
	"github.com/ryorin/ryorin/internal/platform"
)

// builderPost is what the builder sends for a lead form with a redirect.
func builderPost(name string) url.Values {
	return url.Values{"name": {name}, "use.email": {"1"}, "pos.email": {"1"},
		"use.family_name": {"1"}, "req.family_name": {"1"}, "pos.family_name": {"2"}, "label_ja.family_name": {"お名前（姓）"},
		"use.company": {"1"}, "pos.company": {"3"}, "use.prefecture": {"1"}, "pos.prefecture": {"4"},
		"consent_enabled": {"1"}, "consent_text_ja": {"お知らせメールの受信に同意します"}, "consent_text_en": {"I agree to receive news by email"},
		"thanks_ja": {"資料をお送りします"}, "thanks_en": {"We will send you the paper"}, "allowed_domains": {"example.co.jp"}}
}

var renderTokenRe = regexp.MustCompile(`name="_t" value="([^"]+)"`)

// hostedToken opens the hosted page and returns its render token.
func (e *env) hostedToken(key, lang string) string {
	e.t.Helper()
	code, body := e.get("/f/"+key+"?lang="+lang+"&utm_source=newsletter&utm_medium=email", "Referer", "https://mail.example.com/")
	if code != 200 {
		e.t.Fatalf("hosted page: %d %.300s", code, body)
	}
	m := renderTokenRe.FindStringSubmatch(body)
	if m == nil {
		e.t.Fatalf("no token on the hosted page")
	}
	return m[1]
}

func TestFormsUI_EveryPageRendersInBothLanguages(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := start(t, d, true)
		e.login()
		// The builder refuses a redirect off the allowed domains, next to the field, keeping the input.
		bad := builderPost("資料請求フォーム")
		bad.Set("redirect_url", "https://evil.example/")
		code, body, _ := e.post("/forms", bad)
		if code != 422 || !strings.Contains(body, "allowed domains") || !strings.Contains(body, "資料請求フォーム") {
			t.Fatalf("bad redirect: %d %.500s", code, body)
		}
		code, body, at := e.post("/forms", builderPost("資料請求フォーム"))
		if code != 200 || !strings.HasPrefix(at, "/forms/") {
			t.Fatalf("create: %d at %s %.300s", code, at, body)
		}
		id := strings.TrimPrefix(at, "/forms/")
		key := regexp.MustCompile(`/f/([a-z0-9]+)`).FindStringSubmatch(body)[1]
		if !strings.Contains(body, `/f/`+key+`.js`) || !strings.Contains(body, `name=&#34;_t&#34;`) {
			t.Errorf("the form page lacks its embed codes")
		}

		for _, lang := range []string{"ja", "en"} {
			if code, _, _ := e.post("/settings/language", url.Values{"lang": {lang}}); code != 200 {
				t.Fatalf("language %s", lang)
			}
			for _, p := range []string{"/forms", "/forms/new", "/forms/" + id, "/forms/" + id + "/edit"} {
				code, body := e.get(p)
				if code != 200 || strings.Contains(body, "ZgotmplZ") || regexp.MustCompile(`>forms\.[a-z_.]+<|"forms\.[a-z_.]+"`).MatchString(body) {
					t.Errorf("%s %s: %d, or a raw key / unsafe value: %.300s", lang, p, code, body)
				}
			}
		}

		// A visitor: errors in their language next to the field, input kept.
		for _, c := range []struct{ lang, want string }{{"ja", "正しいメールアドレス"}, {"en", "valid email address"}} {
			tok := e.hostedToken(key, c.lang)
			e.clock.Advance(10 * time.Second)
			code, body, _ := e.post("/f/"+key, url.Values{"_t": {tok}, "lang": {c.lang}, "email": {"taro@"}, "family_name": {"<山田>"}})
			if code != 422 || !strings.Contains(body, c.want) || !strings.Contains(body, `value="&lt;山田&gt;"`) {
				t.Errorf("%s: invalid post: %d %.600s", c.lang, code, body)
			}
		}
		tok := e.hostedToken(key, "ja")
		e.clock.Advance(10 * time.Second)
		code, body, _ = e.post("/f/"+key, url.Values{"_t": {tok}, "lang": {"ja"}, "email": {"Hanako@Example.jp"}, "family_name": {"佐藤"},
			"company": {"株式会社テスト"}, "prefecture": {"大阪府"}, "consent": {"1"}, "utm_source": {"newsletter"}, "utm_medium": {"email"}})
		if code != 200 || !strings.Contains(body, "資料をお送りします") || !strings.Contains(body, `data-testid="hosted-done"`) {
			t.Fatalf("submit: %d %.500s", code, body)
		}
		c, err := e.crm.ContactByEmail(t.Context(), d.Reader(), platform.System(1), "hanako@example.jp")
		if err != nil || c.FamilyName != "佐藤" || c.Consent.Email != "granted" || c.OriginalChannel != platform.ChannelEmail {
			t.Fatalf("contact = %+v, %v", c, err)
		}
		// The submission shows on the form's page and on the contact's timeline.
		_, body = e.get("/forms/" + id)
		if !strings.Contains(body, "hanako@example.jp") || !strings.Contains(body, "大阪府") {
			t.Errorf("form page lacks the submission")
		}
		_, body = e.get("/contacts/" + itoa(c.ID) + "?tl=marketing")
		if !strings.Contains(body, "資料請求フォーム") {
			t.Errorf("contact timeline lacks the form submission: %.2000s", body)
		}
		// The script embed and its JSON post (as fetch sends it).
		code, js := e.get("/f/"+key+".js?lang=en", "Accept-Language", "en")
		if code != 200 || !strings.Contains(js, `"action":"`) || strings.Contains(js, "<script") {
			t.Errorf("script: %d %.300s", code, js)
		}
		jsTok := regexp.MustCompile(`"token":"([^"]+)"`).FindStringSubmatch(js)[1]
		e.clock.Advance(10 * time.Second)
		req, _ := http.NewRequest("POST", e.srv.URL+"/f/"+key, strings.NewReader(url.Values{"_t": {jsTok}, "lang": {"en"}, "email": {"bad"}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Accept", "application/json")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var out struct {
			OK     bool              `json:"ok"`
			Errors map[string]string `json:"errors"`
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if err := json.Unmarshal(b, &out); err != nil || res.StatusCode != 422 || out.OK || !strings.Contains(out.Errors["email"], "valid email") ||
			!strings.Contains(out.Errors["family_name"], "fill in") || res.Header.Get("Access-Control-Allow-Origin") != "*" {
			t.Errorf("JSON post: %d %s %+v", res.StatusCode, b, res.Header)
		}
		// A confirmation link that is not one of ours.
		if code, body := e.get("/f/confirm/forged.token"); code != 400 || !strings.Contains(body, "無効") && !strings.Contains(body, "not valid") {
			t.Errorf("forged confirm: %d %.300s", code, body)
		}
		if code, _ := e.get("/f/nosuchform"); code != 404 {
			t.Errorf("unknown form: %d", code)
		}

		e.mu.Lock()
		defer e.mu.Unlock()
		for _, n := range e.web.Templates() {
			if strings.HasPrefix(n, "form") && !e.renders[n] {
				t.Errorf("template %s is not rendered by this test", n)
			}
		}
	})
}

func TestFormsUI_RedirectGoesOnlyToAllowedDomains(t *testing.T) {
	e := start(t, dbtest.Open(t, db.SQLite), true)
	e.login()
	p := builderPost("LP")
	p.Set("redirect_url", "https://www.example.co.jp/thanks")
	_, body, _ := e.post("/forms", p)
	key := regexp.MustCompile(`/f/([a-z0-9]+)`).FindStringSubmatch(body)[1]
	e.c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	defer func() { e.c.CheckRedirect = nil }()
	for _, c := range []struct{ redirect, want string }{
		{"https://evil.example/phish", "https://www.example.co.jp/thanks"},
		{"https://lp.example.co.jp/done?x=1", "https://lp.example.co.jp/done?x=1"},
	} {
		tok := e.hostedToken(key, "ja")
		e.clock.Advance(10 * time.Second)
		res, err := e.c.PostForm(e.srv.URL+"/f/"+key, url.Values{"_t": {tok}, "email": {"r" + itoa(int64(len(c.redirect))) + "@example.jp"},
			"family_name": {"R"}, "_redirect": {c.redirect}})
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != c.want {
			t.Errorf("_redirect=%s: %d → %q, want %q", c.redirect, res.StatusCode, res.Header.Get("Location"), c.want)
		}
	}
	if _, err := e.crm.ListContacts(t.Context(), platform.System(1), crm.ContactFilter{}); err != nil {
		t.Fatal(err)
	}
}
