package forms_test

import (
	"context"
	"encoding/json"
	"io"
	"mime/quotedprintable"
	"net/url"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ryorin/ryorin/internal/clock"
	"github.com/ryorin/ryorin/internal/crm"
	"github.com/ryorin/ryorin/internal/db"
	"github.com/ryorin/ryorin/internal/dbtest"
	"github.com/ryorin/ryorin/internal/errs"
	"github.com/ryorin/ryorin/internal/httpx"
	"github.com/ryorin/ryorin/internal/i18n"
	"github.com/ryorin/ryorin/internal/lead"
	"github.com/ryorin/ryorin/internal/marketing/forms"
	"github.com/ryorin/ryorin/internal/platform"
	"github.com/ryorin/ryorin/internal/smtptest"
)

func TestMain(m *testing.M) { os.Exit(dbtest.Main(m)) }

var t0 = time.Date(2026, 4, 1, 9, 0, 0, 0, time.UTC)

type fixture struct {
	d     *db.DB
	clock *clock.Fake
	crm   *crm.Service
	forms *forms.Service
	jobs  *platform.Jobs
	mkt   platform.Actor
	rep   platform.Actor
}

func setup(t *testing.T, d *db.DB) fixture {
	t.Helper()
	ctx := context.Background()
	if err := platform.EnsureWorkspace(ctx, d, 1, "Test", t0); err != nil {
		t.Fatal(err)
	}
	cli := platform.CLI(1)
	mkt, err := platform.CreateUser(ctx, d, cli, platform.NewUser{Email: "mkt@example.com", Name: "Marketer", Role: platform.RoleMarketing}, t0)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := platform.CreateUser(ctx, d, cli, platform.NewUser{Email: "rep@example.com", Name: "Rep", Role: platform.RoleSales}, t0)
	if err != nil {
		t.Fatal(err)
	}
	fc := clock.NewFake(t0)
	cs := crm.New(d, fc)
	jobs := platform.NewJobs(d, fc, nil)
	m := &platform.Mailer{DB: d, Clock: fc, Jobs: jobs, Timeout: 5 * time.Second}
	m.Register()
	return fixture{d: d, clock: fc, crm: cs, forms: forms.New(d, fc, cs, m, nil), jobs: jobs,
		mkt: mkt.Actor(1, platform.ActorUser), rep: rep.Actor(1, platform.ActorUser)}
}

func leadForm() forms.FormInput {
	return forms.FormInput{Name: "資料請求", Fields: []forms.Field{
		{Key: "email", Required: true}, {Key: "family_name", Required: true}, {Key: "given_name"},
		{Key: "family_name_kana"}, {Key: "company"}, {Key: "prefecture"}, {Key: "phone"}, {Key: "title"},
	}, ConsentEnabled: true, ConsentTextJA: "メールマガジンの配信に同意します", ConsentTextEN: "I agree to receive newsletters",
		ThanksJA: "ありがとうございました", ThanksEN: "Thanks!", AllowedDomains: []string{"example.co.jp"}}
}

func (f fixture) create(t *testing.T, in forms.FormInput) forms.Form {
	t.Helper()
	fm, err := f.forms.Create(context.Background(), f.mkt, in)
	if err != nil {
		t.Fatal(err)
	}
	return fm
}

// post renders the form (a token), waits like a person, and posts values.
func (f fixture) post(t *testing.T, fm forms.Form, lang i18n.Lang, v url.Values) forms.Outcome {
	t.Helper()
	tok, err := f.forms.RenderToken(context.Background(), fm)
	if err != nil {
		t.Fatal(err)
	}
	v.Set(forms.InputToken, tok)
	f.clock.Advance(20 * time.Second)
	return f.send(t, fm, lang, v)
}

func (f fixture) send(t *testing.T, fm forms.Form, lang i18n.Lang, v url.Values) forms.Outcome {
	t.Helper()
	out, err := f.forms.Submit(context.Background(), forms.SubmitRequest{Workspace: 1, Key: fm.Key, Values: v, Lang: lang, IP: "203.0.113.9",
		BaseURL: "https://ryorin.example"})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func vals(kv ...string) url.Values {
	v := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		v.Add(kv[i], kv[i+1])
	}
	return v
}

func TestSubmit_CreatesContactThenUpdatesTheSameEmailCaseInsensitively(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := setup(t, d)
		ctx := context.Background()
		fm := f.create(t, leadForm())
		out := f.post(t, fm, i18n.JA, vals("email", "Taro.Yamada@Example.co.jp", "family_name", "山田", "given_name", "太郎",
			"family_name_kana", "ヤマダ", "company", "株式会社ＡＢＣ商事", "prefecture", "東京都", "phone", "03-1234-5678",
			"page_url", "https://www.example.co.jp/whitepaper?utm_source=google&utm_medium=cpc&utm_campaign=spring", "ryorin_vid", "visitor-123"))
		if out.Errors != nil || out.Spam || out.Submission == nil {
			t.Fatalf("outcome = %+v", out)
		}
		sys := platform.System(1)
		c, err := f.crm.ContactByEmail(ctx, d.Reader(), sys, "taro.yamada@example.co.jp")
		if err != nil {
			t.Fatal(err)
		}
		if c.FamilyName != "山田" || c.FamilyNameKana != "ヤマダ" || c.Phone != "03-1234-5678" || c.OriginalSource != "資料請求" ||
			c.OriginalChannel != platform.ChannelPaidSearch {
			t.Errorf("new contact = %+v", c)
		}
		co, err := f.crm.GetCompany(ctx, d.Reader(), sys, c.CompanyID)
		if err != nil || co.Name != "株式会社ＡＢＣ商事" || co.Address.Prefecture != "東京都" {
			t.Errorf("company = %+v, %v", co, err)
		}
		if s := out.Submission; s.ContactID != c.ID || s.VisitorID != "visitor-123" || s.UTM["utm_campaign"] != "spring" || s.Channel != platform.ChannelPaidSearch {
			t.Errorf("submission = %+v", s)
		}

		// The same person again, email in other case, company written another way: one contact, one company.
		out2 := f.post(t, fm, i18n.JA, vals("email", "TARO.YAMADA@example.co.jp", "family_name", "山田", "title", "部長", "company", "ABC商事(株)"))
		if out2.Submission == nil || out2.Submission.ContactID != c.ID {
			t.Fatalf("second submission = %+v", out2.Submission)
		}
		c2, _ := f.crm.GetContact(ctx, d.Reader(), sys, c.ID)
		if c2.Title != "部長" || c2.Phone != "03-1234-5678" || c2.GivenName != "太郎" || c2.CompanyID != c.CompanyID {
			t.Errorf("updated contact = %+v (empty inputs must not clear values)", c2)
		}
		page, err := f.crm.ListContacts(ctx, sys, crm.ContactFilter{})
		if err != nil || len(page.Items) != 1 {
			t.Errorf("contacts = %d, %v", len(page.Items), err)
		}
		got, _ := f.forms.Get(ctx, f.mkt, fm.ID)
		if got.Submissions != 2 {
			t.Errorf("submission count = %d", got.Submissions)
		}
		tl, _ := platform.ListTimeline(ctx, d.Reader(), 1, platform.TimelineQuery{Subject: "contact", ID: c.ID, Kinds: []string{"form.submitted"}})
		if len(tl) != 2 || !strings.Contains(string(tl[0].Data), "資料請求") {
			t.Errorf("timeline = %+v", tl)
		}
		evs, _ := platform.ListContactEvents(ctx, d.Reader(), 1, c.ID, 0, 0, 10)
		if len(evs) != 2 || evs[0].Kind != platform.EventFormSubmit {
			t.Fatalf("events = %+v", evs)
		}
		var props map[string]any
		if evs[1].Path != "/f/"+fm.Key || evs[1].URL == "" {
			t.Errorf("the event is recorded at the form's path with the page's URL: %q %q", evs[1].Path, evs[1].URL)
		}
		if err := json.Unmarshal(evs[0].Properties, &props); err != nil || props["form_key"] != fm.Key || props["form_id"] != float64(fm.ID) {
			t.Errorf("event properties = %s", evs[0].Properties)
		}
	})
}

func TestSubmit_FeedsLeadScoring(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := setup(t, d)
		ctx := context.Background()
		ls := lead.New(d, f.clock)
		if err := ls.EnsureDefault(ctx, 1); err != nil {
			t.Fatal(err)
		}
		sc := &lead.Scorer{Lead: ls, CRM: f.crm}
		if err := sc.SetMark(ctx, 1, -1); err != nil {
			t.Fatal(err)
		}
		fm := f.create(t, leadForm())
		out := f.post(t, fm, i18n.JA, vals("email", "hana@example.com", "family_name", "佐藤"))
		if _, err := sc.ScoreNewEvents(ctx, 1); err != nil {
			t.Fatal(err)
		}
		c, _ := f.crm.GetContact(ctx, d.Reader(), platform.System(1), out.Submission.ContactID)
		// The default definition: a form submitted in the last 7 days makes an MQL.
		if c.LifecycleStage != platform.StageMQL || c.Score.Engagement <= 0 {
			t.Errorf("after a form submit: stage %s, engagement %v", c.LifecycleStage, c.Score.Engagement)
		}
	})
}

func TestSubmit_ConsentIsStoredWithTheTextShown(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := setup(t, d)
		ctx := context.Background()
		fm := f.create(t, leadForm())
		out := f.post(t, fm, i18n.EN, vals("email", "jane@example.com", "family_name", "Doe", "consent", "on"))
		c, _ := f.crm.GetContact(ctx, d.Reader(), platform.System(1), out.Submission.ContactID)
		if c.Consent.Email != "granted" || c.Consent.At == nil || !c.Consent.At.Equal(f.clock.Now()) || c.Consent.Source != "form:"+itoa(fm.ID) {
			t.Errorf("consent = %+v", c.Consent)
		}
		page, _ := f.forms.ListSubmissions(ctx, f.mkt, fm.ID, "", 10)
		if s := page.Items[0]; !s.ConsentGiven || s.ConsentText != "I agree to receive newsletters" || s.Lang != "en" {
			t.Errorf("stored submission = %+v", s)
		}
		// Without the tick, consent is left as it was.
		out = f.post(t, fm, i18n.JA, vals("email", "ken@example.com", "family_name", "木村"))
		c, _ = f.crm.GetContact(ctx, d.Reader(), platform.System(1), out.Submission.ContactID)
		if c.Consent.Email != "unknown" {
			t.Errorf("consent without the tick = %+v", c.Consent)
		}
	})
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func TestSubmit_SpamTrapsDropPostsSilently(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := setup(t, d)
		ctx := context.Background()
		fm := f.create(t, leadForm())
		good := func() url.Values { return vals("email", "bot@example.com", "family_name", "Bot") }

		v := good()
		v.Set(forms.InputHoneypot, "http://spam.example")
		if out := f.post(t, fm, i18n.JA, v); !out.Spam || out.Submission != nil || out.Message == "" {
			t.Errorf("honeypot: %+v", out)
		}
		tok, _ := f.forms.RenderToken(ctx, fm)
		v = good()
		v.Set(forms.InputToken, tok)
		f.clock.Advance(time.Second) // faster than a person fills a form
		if out := f.send(t, fm, i18n.JA, v); !out.Spam {
			t.Errorf("time trap: %+v", out)
		}
		if out := f.send(t, fm, i18n.JA, good()); !out.Spam {
			t.Errorf("no render token: %+v", out)
		}
		v = good()
		v.Set(forms.InputToken, tok[:len(tok)-3]+"abc")
		f.clock.Advance(time.Minute)
		if out := f.send(t, fm, i18n.JA, v); !out.Spam {
			t.Errorf("forged token: %+v", out)
		}
		// A page left open past the token's life is asked again, not dropped.
		v = good()
		v.Set(forms.InputToken, tok)
		f.clock.Advance(8 * 24 * time.Hour)
		if out := f.send(t, fm, i18n.EN, v); out.Spam || out.Errors[forms.FormError] == "" || out.Values.Get("email") != "bot@example.com" {
			t.Errorf("expired token: %+v", out)
		}
		if _, err := f.crm.ContactByEmail(ctx, d.Reader(), platform.System(1), "bot@example.com"); !errs.Is(err, errs.NotFound) {
			t.Errorf("a trapped post created a contact: %v", err)
		}
		if got, _ := f.forms.Get(ctx, f.mkt, fm.ID); got.Submissions != 0 {
			t.Errorf("trapped posts counted: %d", got.Submissions)
		}
	})
}

func TestSubmit_RateLimitPerIP(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := setup(t, d)
		f.forms.Limit = httpx.NewLimiter(time.Minute, 2)
		fm := f.create(t, leadForm())
		ctx := context.Background()
		for i := 0; i < 3; i++ {
			tok, _ := f.forms.RenderToken(ctx, fm)
			v := vals("email", "a"+strconv.Itoa(i)+"@example.com", "family_name", "A", forms.InputToken, tok)
			f.clock.Advance(5 * time.Second)
			_, err := f.forms.Submit(ctx, forms.SubmitRequest{Workspace: 1, Key: fm.Key, Values: v, Lang: i18n.JA, IP: "198.51.100.7"})
			if i < 2 && err != nil {
				t.Fatalf("post %d: %v", i, err)
			}
			if i == 2 && !errs.Is(err, errs.RateLimited) {
				t.Errorf("third post within the minute: %v", err)
			}
		}
		// Another address is not limited by the first one's posts.
		tok, _ := f.forms.RenderToken(ctx, fm)
		f.clock.Advance(5 * time.Second)
		if _, err := f.forms.Submit(ctx, forms.SubmitRequest{Workspace: 1, Key: fm.Key, Values: vals("email", "z@example.com", "family_name", "Z", forms.InputToken, tok),
			Lang: i18n.JA, IP: "198.51.100.8"}); err != nil {
			t.Errorf("other IP: %v", err)
		}
	})
}

func TestRedirect_OnlyToAllowedDomains(t *testing.T) {
	doms := []string{"example.co.jp"}
	for target, want := range map[string]bool{
		"https://example.co.jp/thanks":             true,
		"https://www.example.co.jp/thanks?x=1":     true,
		"http://lp.example.co.jp/":                 true,
		"https://evil.example/thanks":              false,
		"https://example.co.jp.evil.example/":      false,
		"https://evilexample.co.jp/":               false,
		"//evil.example/":                          false,
		"/thanks":                                  false,
		"javascript:alert(1)":                      false,
		"https://example.co.jp@evil.example/":      false,
		"https://user@example.co.jp/":              false,
		"https://example.co.jp\\@evil.example/":    false,
		"https://example.co.jp/\r\nLocation: x":    false,
		"data:text/html,<script>alert(1)</script>": false,
	} {
		if got := forms.AllowedRedirect(target, doms); got != want {
			t.Errorf("AllowedRedirect(%q) = %v, want %v", target, got, want)
		}
	}
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := setup(t, d)
		in := leadForm()
		in.RedirectURL = "https://evil.example/thanks"
		if _, err := f.forms.Create(context.Background(), f.mkt, in); !errs.Is(err, errs.Invalid) {
			t.Errorf("a redirect off the allowed domains was saved: %v", err)
		}
		in.RedirectURL = "https://www.example.co.jp/thanks"
		fm := f.create(t, in)
		out := f.post(t, fm, i18n.JA, vals("email", "r1@example.com", "family_name", "R", "_redirect", "https://evil.example/phish"))
		if out.Redirect != "https://www.example.co.jp/thanks" {
			t.Errorf("an embed's redirect off the list must fall back to the form's: %q", out.Redirect)
		}
		out = f.post(t, fm, i18n.JA, vals("email", "r2@example.com", "family_name", "R", "_redirect", "https://lp.example.co.jp/done"))
		if out.Redirect != "https://lp.example.co.jp/done" {
			t.Errorf("an allowed embed redirect: %q", out.Redirect)
		}
		if _, err := f.forms.Create(context.Background(), f.rep, leadForm()); !errs.Is(err, errs.Forbidden) {
			t.Errorf("a sales rep built a form: %v", err)
		}
	})
}

func TestSubmit_DoubleOptInRecordsConsentOnlyOnConfirm(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := setup(t, d)
		ctx := context.Background()
		srv := smtptest.Start(t)
		if _, err := platform.SetSMTP(ctx, d, platform.CLI(1), platform.SMTPSettings{Host: srv.Host(), Port: srv.Port(), TLS: "none",
			FromAddress: "noreply@example.jp", FromName: "両輪"}, f.clock.Now()); err != nil {
			t.Fatal(err)
		}
		in := leadForm()
		in.DoubleOptIn = true
		fm := f.create(t, in)
		out := f.post(t, fm, i18n.JA, vals("email", "doi@example.com", "family_name", "確認", "consent", "1"))
		if out.Submission.Status != forms.StatusPending || !strings.Contains(out.Message, "確認メール") {
			t.Fatalf("outcome = %+v", out)
		}
		sys := platform.System(1)
		c, _ := f.crm.GetContact(ctx, d.Reader(), sys, out.Submission.ContactID)
		if c.Consent.Email != "unknown" {
			t.Errorf("consent before confirming = %+v", c.Consent)
		}
		if _, err := f.jobs.RunOnce(ctx); err != nil {
			t.Fatal(err)
		}
		msgs := srv.Messages()
		if len(msgs) != 1 || msgs[0].To[0] != "doi@example.com" {
			t.Fatalf("messages = %+v", msgs)
		}
		body, _ := io.ReadAll(quotedprintable.NewReader(strings.NewReader(string(msgs[0].Data))))
		m := regexp.MustCompile(`https://ryorin\.example/f/confirm/([A-Za-z0-9_.-]+)`).FindSubmatch(body)
		if m == nil {
			t.Fatalf("no confirmation link in:\n%s", body)
		}
		if !strings.Contains(string(body), "メールマガジンの配信に同意します") {
			t.Errorf("the email does not show the consent text:\n%s", body)
		}
		if _, err := f.forms.Confirm(ctx, 1, string(m[1])+"x"); !errs.Is(err, errs.Unauthenticated) {
			t.Errorf("a tampered link: %v", err)
		}
		f.clock.Advance(time.Hour)
		conf, err := f.forms.Confirm(ctx, 1, string(m[1]))
		if err != nil || conf.Already || conf.Submission.Status != forms.StatusConfirmed {
			t.Fatalf("confirm = %+v, %v", conf, err)
		}
		c, _ = f.crm.GetContact(ctx, d.Reader(), sys, c.ID)
		if c.Consent.Email != "granted" || !c.Consent.At.Equal(f.clock.Now()) || !strings.Contains(c.Consent.Source, "double opt-in") {
			t.Errorf("consent after confirming = %+v", c.Consent)
		}
		if again, err := f.forms.Confirm(ctx, 1, string(m[1])); err != nil || !again.Already {
			t.Errorf("second click = %+v, %v", again, err)
		}
	})
}

func TestSubmit_DoublePostIsOneSubmission(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := setup(t, d)
		ctx := context.Background()
		fm := f.create(t, leadForm())
		tok, _ := f.forms.RenderToken(ctx, fm)
		v := vals("email", "twice@example.com", "family_name", "二重", forms.InputToken, tok)
		f.clock.Advance(10 * time.Second)
		first := f.send(t, fm, i18n.JA, v)
		second := f.send(t, fm, i18n.JA, v)
		if first.Replayed || !second.Replayed || second.Submission.ID != first.Submission.ID {
			t.Errorf("first %+v, second %+v", first.Submission, second.Submission)
		}
		got, _ := f.forms.Get(ctx, f.mkt, fm.ID)
		page, _ := f.forms.ListSubmissions(ctx, f.mkt, fm.ID, "", 10)
		if got.Submissions != 1 || len(page.Items) != 1 {
			t.Errorf("count %d, rows %d", got.Submissions, len(page.Items))
		}
		evs, _ := platform.ListContactEvents(ctx, d.Reader(), 1, first.Submission.ContactID, 0, 0, 10)
		if len(evs) != 1 {
			t.Errorf("events = %d", len(evs))
		}
	})
}

func TestSubmit_ValidationErrorsInTheVisitorsLanguageKeepInput(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := setup(t, d)
		in := leadForm()
		in.ConsentRequired = true
		fm := f.create(t, in)
		bad := func() url.Values {
			return vals("email", "not-an-email", "family_name", "", "family_name_kana", "Yamada", "phone", "12", "prefecture", "Atlantis", "company", "株式会社テスト")
		}
		for _, c := range []struct {
			lang i18n.Lang
			want map[string]string
		}{
			{i18n.JA, map[string]string{"email": "正しいメールアドレス", "family_name": "必須", "family_name_kana": "カタカナ", "phone": "8〜15桁",
				"prefecture": "選択肢", "consent": "同意"}},
			{i18n.EN, map[string]string{"email": "valid email", "family_name": "fill in", "family_name_kana": "kana", "phone": "8 to 15 digits",
				"prefecture": "options", "consent": "agree"}},
		} {
			out := f.post(t, fm, c.lang, bad())
			if out.Submission != nil || len(out.Errors) != len(c.want) {
				t.Errorf("%s: errors = %v", c.lang, out.Errors)
			}
			for field, frag := range c.want {
				if !strings.Contains(out.Errors[field], frag) {
					t.Errorf("%s: %s error = %q, want it to contain %q", c.lang, field, out.Errors[field], frag)
				}
			}
			if out.Values.Get("company") != "株式会社テスト" {
				t.Errorf("%s: input not kept", c.lang)
			}
		}
	})
}

func TestSubmit_PlainHTMLEmbedSkipsTheTimeTrapAndDedupesByContent(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := setup(t, d)
		ctx := context.Background()
		fm := f.create(t, leadForm())
		tok, err := f.forms.EmbedToken(ctx, fm)
		if err != nil {
			t.Fatal(err)
		}
		// A static page's token is as old as the snippet: months later, posted at once, it is taken.
		f.clock.Advance(90 * 24 * time.Hour)
		v := vals("email", "static@example.com", "family_name", "静的", forms.InputToken, tok)
		first := f.send(t, fm, i18n.JA, v)
		second := f.send(t, fm, i18n.JA, v)
		if first.Spam || first.Submission == nil || !second.Replayed || second.Submission.ID != first.Submission.ID {
			t.Fatalf("first %+v, second %+v", first, second)
		}
		// The honeypot still applies.
		v.Set(forms.InputHoneypot, "x")
		if out := f.send(t, fm, i18n.JA, v); !out.Spam {
			t.Errorf("honeypot with the embed token: %+v", out)
		}
		// The same values on another day are a new submission.
		v.Del(forms.InputHoneypot)
		f.clock.Advance(24 * time.Hour)
		if out := f.send(t, fm, i18n.JA, v); out.Replayed {
			t.Errorf("next day's post was taken as a replay")
		}
		// A token made for another form is refused as spam.
		other := f.create(t, leadForm())
		v2 := vals("email", "x@example.com", "family_name", "X", forms.InputToken, tok)
		if out := f.send(t, other, i18n.JA, v2); !out.Spam {
			t.Errorf("another form's token: %+v", out)
		}
	})
}

func TestSubmit_CustomPropertiesAreTypedAndRequiredOnesMustBeAsked(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := setup(t, d)
		ctx := context.Background()
		cli := platform.CLI(1)
		if _, err := f.crm.SaveProperty(ctx, cli, 0, crm.PropertyDefinition{ObjectType: "contact", Key: "interest", LabelJA: "関心", LabelEN: "Interest",
			Type: crm.PropMultiChoice, Options: []crm.Option{{Value: "ma", LabelJA: "MA", LabelEN: "MA"}, {Value: "sfa", LabelJA: "SFA", LabelEN: "SFA"}}}); err != nil {
			t.Fatal(err)
		}
		if _, err := f.crm.SaveProperty(ctx, cli, 0, crm.PropertyDefinition{ObjectType: "contact", Key: "seats", LabelJA: "利用人数", LabelEN: "Seats",
			Type: crm.PropNumber}); err != nil {
			t.Fatal(err)
		}
		in := leadForm()
		in.Fields = append(in.Fields, forms.Field{Key: "prop.interest", Required: true}, forms.Field{Key: "prop.seats"})
		fm := f.create(t, in)
		out := f.post(t, fm, i18n.EN, vals("email", "p@example.com", "family_name", "P", "prop.seats", "many"))
		if out.Errors["prop.interest"] == "" || !strings.Contains(out.Errors["prop.seats"], "number") {
			t.Errorf("errors = %v", out.Errors)
		}
		v := vals("email", "p@example.com", "family_name", "P", "prop.seats", "１,２００", "prop.interest", "ma")
		v.Add("prop.interest", "sfa")
		out = f.post(t, fm, i18n.EN, v)
		if out.Errors != nil {
			t.Fatalf("errors = %v", out.Errors)
		}
		c, _ := f.crm.GetContact(ctx, d.Reader(), platform.System(1), out.Submission.ContactID)
		if c.Props["seats"] != 1200.0 || len(c.Props["interest"].([]any)) != 2 {
			t.Errorf("props = %#v", c.Props)
		}
		// A required contact property must be on the form.
		if _, err := f.crm.SaveProperty(ctx, cli, 0, crm.PropertyDefinition{ObjectType: "contact", Key: "industry_code", LabelJA: "業種", LabelEN: "Industry",
			Type: crm.PropText, Required: true}); err != nil {
			t.Fatal(err)
		}
		if _, err := f.forms.Create(ctx, f.mkt, leadForm()); !errs.Is(err, errs.Unprocessable) {
			t.Errorf("a form without a required property: %v", err)
		}
		if _, err := f.forms.Create(ctx, f.mkt, forms.FormInput{Name: "x", Fields: []forms.Field{{Key: "email"}, {Key: "prop.nope"}}}); !errs.Is(err, errs.Unprocessable) {
			t.Errorf("an unknown property: %v", err)
		}
	})
}
