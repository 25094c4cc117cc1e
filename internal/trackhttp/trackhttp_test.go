package trackhttp_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/ryorin/ryorin/internal/app"
	"github.com/ryorin/ryorin/internal/clock"
	"github.com/ryorin/ryorin/internal/crm"
	"github.com/ryorin/ryorin/internal/db"
	"github.com/ryorin/ryorin/internal/dbtest"
	"github.com/ryorin/ryorin/internal/marketing/forms"
	"github.com/ryorin/ryorin/internal/platform"
	"github.com/ryorin/ryorin/internal/track"
	"github.com/ryorin/ryorin/internal/trackhttp"
)

func TestMain(m *testing.M) { os.Exit(dbtest.Main(m)) }

var t0 = time.Date(2026, 4, 1, 9, 0, 0, 0, time.UTC)

const chromeUA = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"

type env struct {
	a   *app.App
	srv *httptest.Server
}

func start(t *testing.T, d *db.DB) *env {
	t.Helper()
	a, err := app.OpenOn(context.Background(), app.Config{Clock: clock.NewFake(t0)}, d)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(a.Handler())
	t.Cleanup(func() { srv.Close(); a.Tracker.Close() })
	return &env{a: a, srv: srv}
}

func post(vid string, ids ...string) string {
	var evs []string
	for _, id := range ids {
		evs = append(evs, fmt.Sprintf(`{"id":%q,"kind":"page_view","url":"https://shop.example.jp/pricing","title":"料金","referrer":"https://www.google.co.jp/"}`, id))
	}
	return fmt.Sprintf(`{"vid":%q,"consent":false,"events":[%s]}`, vid, strings.Join(evs, ","))
}

// send posts like the snippet does from another site: text/plain, Origin and
// Sec-Fetch-Site cross-site (which CrossOriginProtection would refuse on any
// other route).
func (e *env) send(t *testing.T, body string, hdr ...string) (*http.Response, string) {
	t.Helper()
	req, _ := http.NewRequest("POST", e.srv.URL+"/t/collect", strings.NewReader(body))
	req.Header.Set("Content-Type", "text/plain;charset=UTF-8")
	req.Header.Set("Origin", "https://shop.example.jp")
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	req.Header.Set("User-Agent", chromeUA)
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res, string(b)
}

func events(t *testing.T, d *db.DB) int {
	t.Helper()
	var n int
	if err := d.Reader().QueryRowContext(context.Background(), `SELECT COUNT(*) FROM events WHERE kind = 'page_view'`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestSnippet_IsSmallAndCarriesTheConsentSetting(t *testing.T) {
	gz := func(b []byte) int {
		var buf bytes.Buffer
		w, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
		w.Write(b)
		w.Close()
		return buf.Len()
	}
	if n := gz(trackhttp.Snippet(track.DefaultSettings())); n >= 5*1024 {
		t.Fatalf("t.js is %d bytes gzipped, over 5 KB", n)
	}
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := start(t, d)
		res, err := http.Get(e.srv.URL + "/t.js")
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != 200 || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/javascript") || !bytes.Contains(b, []byte(`var C = {"consent":false};`)) {
			t.Fatalf("%d %s %.200s", res.StatusCode, res.Header.Get("Content-Type"), b)
		}
		// Compressed for browsers that accept it (the default transport asks
		// for gzip and decompresses transparently).
		req, _ := http.NewRequest("GET", e.srv.URL+"/t.js", nil)
		req.Header.Set("Accept-Encoding", "gzip")
		zres, err := http.DefaultTransport.RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		zb, _ := io.ReadAll(zres.Body)
		zres.Body.Close()
		if zres.Header.Get("Content-Encoding") != "gzip" || len(zb) >= 5*1024 || len(zb) >= len(b) {
			t.Fatalf("gzip: %q, %d bytes", zres.Header.Get("Content-Encoding"), len(zb))
		}
		set := track.DefaultSettings()
		set.ConsentRequired = true
		if _, err := track.SaveSettings(context.Background(), d, platform.System(1), set, t0); err != nil {
			t.Fatal(err)
		}
		e.a.Tracker.Invalidate(1)
		res, _ = http.Get(e.srv.URL + "/t.js")
		b, _ = io.ReadAll(res.Body)
		res.Body.Close()
		if !bytes.Contains(b, []byte(`var C = {"consent":true};`)) {
			t.Fatal("the served script does not wait for consent after the setting changed")
		}
	})
}

func TestCollect_StoresACrossSitePostAndAnswersWithCORS(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := start(t, d)
		res, body := e.send(t, post("visitor-http-01", "hit-http-001", "hit-http-002"))
		if res.StatusCode != 200 || body != "{\"stored\":2}\n" || res.Header.Get("Access-Control-Allow-Origin") != "*" {
			t.Fatalf("%d %q %v", res.StatusCode, body, res.Header)
		}
		if n := events(t, d); n != 2 {
			t.Fatalf("%d events stored", n)
		}
		// A resend after a lost answer stores nothing twice.
		if res, body = e.send(t, post("visitor-http-01", "hit-http-001", "hit-http-002")); body != "{\"stored\":0}\n" {
			t.Fatalf("resend: %d %q", res.StatusCode, body)
		}
		req, _ := http.NewRequest("OPTIONS", e.srv.URL+"/t/collect", nil)
		req.Header.Set("Origin", "https://shop.example.jp")
		req.Header.Set("Access-Control-Request-Method", "POST")
		pre, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		pre.Body.Close()
		if pre.StatusCode != 204 || pre.Header.Get("Access-Control-Allow-Methods") != "POST" {
			t.Fatalf("preflight: %d %v", pre.StatusCode, pre.Header)
		}
	})
}

func TestCollect_GarbageIsA400AndCounted(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := start(t, d)
		for _, b := range []string{"", "garbage", `{"vid":"x"}`, `{"vid":"visitor-bad-01","events":[{"id":"hit-bad-001","kind":"form_submit","url":"https://a.example/"}]}`, "\x00\xff{"} {
			res, body := e.send(t, b)
			var eb struct {
				Error struct {
					Kind string `json:"kind"`
				} `json:"error"`
			}
			if res.StatusCode != 400 || json.Unmarshal([]byte(body), &eb) != nil || eb.Error.Kind != "invalid" {
				t.Fatalf("%q: %d %s", b, res.StatusCode, body)
			}
		}
		res, _ := e.send(t, `{"vid":"`+strings.Repeat("a", 70<<10)+`"}`)
		if res.StatusCode != 413 {
			t.Fatalf("oversized: %d", res.StatusCode)
		}
		if st := e.a.Tracker.Stats.View(); st.Invalid != 6 || st.Requests != 6 {
			t.Fatalf("counters: %+v", st)
		}
		if n := events(t, d); n != 0 {
			t.Fatalf("%d events stored from garbage", n)
		}
	})
}

func TestCollect_BotsDoNotTrackAndMissingConsentStoreNothing(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := start(t, d)
		cases := [][]string{
			{"User-Agent", "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"},
			{"User-Agent", "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/131.0.0.0 Safari/537.36"},
			{"User-Agent", "curl/8.5.0"},
			{"DNT", "1"},
			{"Sec-GPC", "1"},
		}
		for i, h := range cases {
			if res, body := e.send(t, post(fmt.Sprintf("visitor-bot-%02d", i), fmt.Sprintf("hit-bot-%03d", i)), h...); res.StatusCode != 204 {
				t.Fatalf("%v: %d %s", h, res.StatusCode, body)
			}
		}
		wd := `{"vid":"visitor-webdrv","wd":true,"events":[{"id":"hit-webdrv1","kind":"page_view","url":"https://a.example/"}]}`
		if res, _ := e.send(t, wd); res.StatusCode != 204 {
			t.Fatalf("navigator.webdriver: %d", res.StatusCode)
		}
		set := track.DefaultSettings()
		set.ConsentRequired = true
		if _, err := track.SaveSettings(context.Background(), d, platform.System(1), set, t0); err != nil {
			t.Fatal(err)
		}
		e.a.Tracker.Invalidate(1)
		if res, _ := e.send(t, post("visitor-noconsent", "hit-noconsent1")); res.StatusCode != 204 {
			t.Fatalf("without consent: %d", res.StatusCode)
		}
		if n := events(t, d); n != 0 {
			t.Fatalf("%d events stored", n)
		}
		st := e.a.Tracker.Stats.View()
		if st.Bots != 4 || st.DoNotTrack != 2 || st.NoConsent != 1 {
			t.Fatalf("counters: %+v", st)
		}
		consented := strings.Replace(post("visitor-consent1", "hit-consent01"), `"consent":false`, `"consent":true`, 1)
		if res, body := e.send(t, consented); res.StatusCode != 200 || events(t, d) != 1 {
			t.Fatalf("with consent: %d %s", res.StatusCode, body)
		}
	})
}

func TestCollect_OnlyAllowedOriginsMaySend(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := start(t, d)
		set := track.DefaultSettings()
		set.AllowedOrigins = []string{"https://www.example.jp"}
		if _, err := track.SaveSettings(context.Background(), d, platform.System(1), set, t0); err != nil {
			t.Fatal(err)
		}
		e.a.Tracker.Invalidate(1)
		if res, _ := e.send(t, post("visitor-origin1", "hit-origin01")); res.StatusCode != 403 {
			t.Fatalf("other origin: %d", res.StatusCode)
		}
		res, _ := e.send(t, post("visitor-origin1", "hit-origin02"), "Origin", "https://www.example.jp")
		if res.StatusCode != 200 || res.Header.Get("Access-Control-Allow-Origin") != "https://www.example.jp" {
			t.Fatalf("allowed origin: %d %v", res.StatusCode, res.Header)
		}
	})
}

func TestCollect_RateLimitedPerClientAddress(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		fc := clock.NewFake(t0)
		if err := platform.EnsureWorkspace(context.Background(), d, 1, "T", t0); err != nil {
			t.Fatal(err)
		}
		col := &track.Collector{DB: d, Clock: fc}
		defer col.Close()
		h := trackhttp.New(trackhttp.Deps{DB: d, Clock: fc, Collector: col, Workspace: 1, Burst: 3, Interval: time.Second})
		do := func(ip, id string) int {
			req := httptest.NewRequest("POST", "/t/collect", strings.NewReader(post("visitor-rate-"+ip, "hit-rate-"+id)))
			req.RemoteAddr = "203.0.113." + ip + ":5000"
			req.Header.Set("User-Agent", chromeUA)
			w := httptest.NewRecorder()
			h.ServeHTTP(w, req)
			return w.Code
		}
		for i := range 3 {
			if c := do("1", fmt.Sprintf("a%07d", i)); c != 200 {
				t.Fatalf("request %d: %d", i, c)
			}
		}
		if c := do("1", "a9999999"); c != 429 {
			t.Fatalf("fourth request in a second: %d", c)
		}
		if c := do("2", "b0000001"); c != 200 {
			t.Fatalf("another address: %d", c)
		}
		fc.Advance(time.Second)
		if c := do("1", "a0000010"); c != 200 {
			t.Fatalf("a second later: %d", c)
		}
		if st := col.Stats.View(); st.RateLimited != 1 {
			t.Fatalf("counters: %+v", st)
		}
	})
}

func TestCollect_AnEmailLinkTokenIdentifiesAndAForgedOneIsIgnored(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := start(t, d)
		ctx := context.Background()
		email := "tanaka@example.jp"
		c, err := e.a.CRM.CreateContact(ctx, platform.System(1), crm.ContactInput{Email: &email})
		if err != nil {
			t.Fatal(err)
		}
		w, _ := platform.GetWorkspace(ctx, d.Reader(), 1)
		tok, _ := track.IdentifyToken(w.SigningKey(), c.ID, t0.Add(30*24*time.Hour))
		e.send(t, post("visitor-forged1", "hit-forged01"))
		forged := strings.Replace(post("visitor-forged1", "hit-forged02"), `"consent":false`, `"consent":false,"rid":"`+tok[:len(tok)-3]+`abc"`, 1)
		if res, _ := e.send(t, forged); res.StatusCode != 200 {
			t.Fatalf("forged token: %d", res.StatusCode)
		}
		e.send(t, post("visitor-mail-02", "hit-mail2-01"))
		real := strings.Replace(post("visitor-mail-02", "hit-mail2-02"), `"consent":false`, `"consent":false,"rid":"`+tok+`"`, 1)
		if res, _ := e.send(t, real); res.StatusCode != 200 {
			t.Fatalf("valid token: %d", res.StatusCode)
		}
		evs, _ := platform.ListContactEvents(ctx, d.Reader(), 1, c.ID, 0, 0, 50)
		views := 0
		for _, ev := range evs {
			if ev.Kind == "page_view" {
				if ev.VisitorID != "visitor-mail-02" {
					t.Fatalf("event of another visitor on the contact: %+v", ev)
				}
				views++
			}
		}
		if views != 2 {
			t.Fatalf("%d page views on the contact: %+v", views, evs)
		}
	})
}

// TestRetentionJob_TheHourlyJobExpiresAnonymousVisitors runs the app's own
// periodic job (not the function it calls) after the retention period.
func TestRetentionJob_TheHourlyJobExpiresAnonymousVisitors(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		fc := clock.NewFake(t0)
		a, err := app.OpenOn(context.Background(), app.Config{Clock: fc}, d)
		if err != nil {
			t.Fatal(err)
		}
		srv := httptest.NewServer(a.Handler())
		defer srv.Close()
		defer a.Tracker.Close()
		e := &env{a: a, srv: srv}
		if res, body := e.send(t, post("visitor-expire1", "hit-expire-01", "hit-expire-02")); res.StatusCode != 200 {
			t.Fatalf("%d %s", res.StatusCode, body)
		}
		fc.Advance(179 * 24 * time.Hour)
		if _, err := a.Jobs.RunOnce(context.Background()); err != nil {
			t.Fatal(err)
		}
		if n := events(t, d); n != 2 {
			t.Fatalf("%d events left before the retention period ended", n)
		}
		fc.Advance(2 * 24 * time.Hour)
		if _, err := a.Jobs.RunOnce(context.Background()); err != nil {
			t.Fatal(err)
		}
		if n := events(t, d); n != 0 {
			t.Fatalf("%d events left after the retention period", n)
		}
		daily, err := track.ListDaily(context.Background(), d.Reader(), 1, "2026-04-01", "2026-04-01")
		if err != nil || len(daily) != 1 || daily[0].PageViews != 2 || daily[0].Channel != platform.ChannelOrganicSearch {
			t.Fatalf("roll-up %+v %v", daily, err)
		}
	})
}

func TestVisitorID_FromTheFormFieldOrTheCookie(t *testing.T) {
	form := httptest.NewRequest("POST", "/f/1", strings.NewReader("email=a%40b.jp&ryorin_vid=visitor-form-01"))
	form.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if got := trackhttp.VisitorID(form); got != "visitor-form-01" {
		t.Errorf("form field: %q", got)
	}
	cookie := httptest.NewRequest("POST", "/f/1", nil)
	cookie.AddCookie(&http.Cookie{Name: track.VisitorCookie, Value: "visitor-cookie-1"})
	if got := trackhttp.VisitorID(cookie); got != "visitor-cookie-1" {
		t.Errorf("cookie: %q", got)
	}
	bad := httptest.NewRequest("POST", "/f/1?ryorin_vid=%3Cscript%3E", nil)
	if got := trackhttp.VisitorID(bad); got != "" {
		t.Errorf("malformed id accepted: %q", got)
	}
}

// TestFormSubmit_JoinsTheVisitorsEarlierVisits goes through the app: page
// views from the snippet, then the hosted form's submission with the
// ryorin_vid field; the new contact has the page views and its session.
func TestFormSubmit_JoinsTheVisitorsEarlierVisits(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		fc := clock.NewFake(t0)
		a, err := app.OpenOn(context.Background(), app.Config{Clock: fc}, d)
		if err != nil {
			t.Fatal(err)
		}
		srv := httptest.NewServer(a.Handler())
		defer srv.Close()
		defer a.Tracker.Close()
		e := &env{a: a, srv: srv}
		if res, body := e.send(t, post("visitor-form-001", "hit-form-0001", "hit-form-0002")); res.StatusCode != 200 {
			t.Fatalf("%d %s", res.StatusCode, body)
		}
		ctx := context.Background()
		fm, err := a.Forms.Create(ctx, platform.System(1), forms.FormInput{Name: "資料請求", Fields: []forms.Field{{Key: "email", Required: true}},
			ThanksJA: "ありがとうございました", ThanksEN: "Thanks!"})
		if err != nil {
			t.Fatal(err)
		}
		tok, err := a.Forms.RenderToken(ctx, fm)
		if err != nil {
			t.Fatal(err)
		}
		fc.Advance(30 * time.Second)
		out, err := a.Forms.Submit(ctx, forms.SubmitRequest{Workspace: 1, Key: fm.Key, Lang: "ja", IP: "203.0.113.7", BaseURL: srv.URL,
			Values: url.Values{"email": {"form@example.jp"}, forms.InputToken: {tok}, forms.InputVisitor: {"visitor-form-001"}}})
		if err != nil || out.Submission == nil || out.Submission.ContactID == 0 {
			t.Fatalf("submit: %+v %v", out, err)
		}
		evs, err := platform.ListContactEvents(ctx, d.Reader(), 1, out.Submission.ContactID, 0, 0, 50)
		if err != nil {
			t.Fatal(err)
		}
		views := 0
		for _, ev := range evs {
			if ev.Kind == "page_view" && ev.VisitorID == "visitor-form-001" {
				views++
			}
		}
		if views != 2 {
			t.Fatalf("%d page views on the new contact: %+v", views, evs)
		}
		if s, _ := track.ListContactSessions(ctx, d.Reader(), 1, out.Submission.ContactID, 10); len(s) != 1 {
			t.Fatalf("sessions of the contact: %+v", s)
		}
	})
}
