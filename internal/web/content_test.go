package web_test

import (
	"bytes"
	"context"
	"fmt"
	"html"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/ryorin/ryorin/internal/crm"
	"github.com/ryorin/ryorin/internal/db"
	"github.com/ryorin/ryorin/internal/dbtest"
	"github.com/ryorin/ryorin/internal/marketing/content"
	"github.com/ryorin/ryorin/internal/marketing/forms"
	"github.com/ryorin/ryorin/internal/platform"
)

// postContent posts the asset form as multipart, with a file when name is set.
func (e *env) postContent(path string, fields map[string]string, name string, data []byte) (int, string, string) {
	e.t.Helper()
	var b bytes.Buffer
	mw := multipart.NewWriter(&b)
	for k, v := range fields {
		_ = mw.WriteField(k, v)
	}
	if name != "" {
		fw, _ := mw.CreateFormFile("file", name)
		_, _ = fw.Write(data)
	}
	mw.Close()
	req, _ := http.NewRequest("POST", e.srv.URL+path, &b)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	res, err := e.c.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(body), res.Request.URL.Path
}

// visit fetches a public URL as a stranger: no cookies, no redirects followed.
func (e *env) visit(method, u string, form url.Values) *http.Response {
	e.t.Helper()
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	var res *http.Response
	var err error
	if method == "POST" {
		res, err = c.PostForm(u, form)
	} else {
		res, err = c.Get(u)
	}
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() { res.Body.Close() })
	return res
}

func readAll(res *http.Response) string {
	b, _ := io.ReadAll(res.Body)
	return string(b)
}

var accessRe = regexp.MustCompile(`href="(/c/a/[^"]+)"`)

func TestContentUI_LibraryShareAndGate(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := start(t, d, true)
		e.login()
		ctx := context.Background()
		admin := platform.Actor{WorkspaceID: 1, UserID: 1, Role: platform.RoleAdmin, Kind: platform.ActorUser}
		s := func(v string) *string { return &v }
		owner := int64(1)
		ct, err := e.crm.CreateContact(ctx, admin, crm.ContactInput{FamilyName: s("鈴木"), GivenName: s("一郎"), Email: s("ichiro@example.jp"), OwnerID: &owner})
		if err != nil {
			t.Fatal(err)
		}
		comp, err := e.crm.CreateCompetitor(ctx, admin, crm.Competitor{Name: "競合B社"})
		if err != nil {
			t.Fatal(err)
		}

		// Add a file asset through the form; a file over 20 MB is refused next to the field.
		fields := map[string]string{"title": "製造業の導入事例", "kind": "case_study", "topics": "DX, 製造", "industry": "製造業", "stage": "decision", "status": "published", "description": "<b>工場</b>の見える化"}
		code, body, _ := e.postContent("/content", fields, "big.pdf", make([]byte, content.MaxFileSize+1))
		if code != 422 || !strings.Contains(body, "20 MB") || !strings.Contains(body, "製造業の導入事例") {
			t.Fatalf("big file: %d %.300s", code, body)
		}
		code, body, at := e.postContent("/content", fields, "事例.pdf", []byte("%PDF-1.4 case"))
		if code != 200 || !regexp.MustCompile(`^/content/\d+$`).MatchString(at) {
			t.Fatalf("create: %d at %s %.300s", code, at, body)
		}
		id := strings.TrimPrefix(at, "/content/")
		if strings.Contains(body, "<b>工場</b>") {
			t.Fatalf("description not escaped")
		}
		// A link asset gated behind a form.
		fm, err := e.forms.Create(ctx, admin, forms.FormInput{Name: "資料請求", Fields: []forms.Field{{Key: "email", Required: true}, {Key: "family_name"}}})
		if err != nil {
			t.Fatal(err)
		}
		code, body, at = e.postContent("/content", map[string]string{"title": "MAガイド", "kind": "white_paper", "url": "https://docs.example.co.jp/ma", "topics": "MA",
			"status": "published", "form_id": fmt.Sprint(fm.ID)}, "", nil)
		if code != 200 {
			t.Fatalf("create gated: %d %.300s", code, body)
		}
		gatedID := strings.TrimPrefix(at, "/content/")
		if code, _, _ := e.post("/competitors/"+fmt.Sprint(comp.ID)+"/battle-cards", url.Values{"asset_id": {gatedID}}); code != 200 {
			t.Fatalf("battle card: %d", code)
		}

		// Every page, in both languages, with no raw keys.
		for _, lang := range []string{"ja", "en"} {
			if code, _, _ := e.post("/settings/language", url.Values{"lang": {lang}}); code != 200 {
				t.Fatalf("language %s", lang)
			}
			for _, p := range []string{"/content", "/content?topic=DX&stage=decision&kind=case_study&industry=" + url.QueryEscape("製造業") + "&q=" + url.QueryEscape("導入"),
				"/content/new", "/content/" + id, "/content/" + id + "/edit", fmt.Sprintf("/competitors/%d", comp.ID), fmt.Sprintf("/contacts/%d", ct.ID)} {
				code, body := e.get(p)
				if code != 200 || strings.Contains(body, "ZgotmplZ") || regexp.MustCompile(`>content\.[a-z_.]+<|"content\.[a-z_.]+"`).MatchString(body) {
					t.Errorf("%s %s: %d, or a raw key / unsafe value: %.300s", lang, p, code, body)
				}
			}
		}
		_, list := e.get("/content?topic=MA")
		if !strings.Contains(list, "MAガイド") || strings.Contains(list, "製造業の導入事例") {
			t.Errorf("topic filter: %.500s", list)
		}
		if _, cp := e.get(fmt.Sprintf("/competitors/%d", comp.ID)); !strings.Contains(cp, `data-testid="battle-cards"`) || !strings.Contains(cp, "MAガイド") {
			t.Errorf("battle card not on the competitor page")
		}

		// A rep makes the contact's tracked link from the contact's page.
		_, cpage := e.get(fmt.Sprintf("/contacts/%d?share_asset=%s", ct.ID, id))
		m := regexp.MustCompile(`data-testid="content-share-link"|value="([^"]*/c/s/[^"]+)"`).FindAllStringSubmatch(cpage, -1)
		link := ""
		for _, x := range m {
			if x[1] != "" {
				link = html.UnescapeString(x[1])
			}
		}
		if link == "" {
			t.Fatalf("no share link on the contact page")
		}
		res := e.visit("GET", link, nil)
		page := readAll(res)
		if res.StatusCode != 200 || !strings.Contains(page, "製造業の導入事例") {
			t.Fatalf("share link: %d %.300s", res.StatusCode, page)
		}
		acc := accessRe.FindStringSubmatch(page)
		if acc == nil {
			t.Fatalf("no download on the shared page")
		}
		dl := e.visit("GET", e.srv.URL+html.UnescapeString(acc[1]), nil)
		if dl.StatusCode != 200 || !strings.HasPrefix(dl.Header.Get("Content-Disposition"), "attachment;") || dl.Header.Get("X-Content-Type-Options") != "nosniff" ||
			!strings.Contains(dl.Header.Get("Content-Disposition"), "filename*=UTF-8''%E4%BA%8B%E4%BE%8B.pdf") || readAll(dl) != "%PDF-1.4 case" {
			t.Fatalf("download: %d %v", dl.StatusCode, dl.Header)
		}
		var events, notes int
		_ = d.Reader().QueryRowContext(ctx, `SELECT COUNT(*) FROM events WHERE kind = 'content_view' AND contact_id = ?`, ct.ID).Scan(&events)
		_ = d.Reader().QueryRowContext(ctx, `SELECT COUNT(*) FROM notifications WHERE kind = 'content.viewed' AND user_id = 1`).Scan(&notes)
		if events != 1 || notes != 1 {
			t.Fatalf("events %d, notifications %d", events, notes)
		}
		if _, tl := e.get(fmt.Sprintf("/contacts/%d", ct.ID)); !strings.Contains(tl, "製造業の導入事例") {
			t.Errorf("the view is not on the contact's timeline")
		}
		if _, ap := e.get("/content/" + id); !strings.Contains(ap, "鈴木 一郎") || !strings.Contains(ap, `data-testid="content-views">1<`) {
			t.Errorf("the asset page lacks its viewer")
		}

		// From a deal's page, for one of its contacts.
		other, err := e.crm.CreateContact(ctx, admin, crm.ContactInput{FamilyName: s("高橋"), Email: s("takahashi@example.jp")})
		if err != nil {
			t.Fatal(err)
		}
		deal, err := e.crm.CreateDeal(ctx, admin, crm.DealInput{Name: s("導入案件"), Contacts: &[]crm.DealContact{{ContactID: ct.ID}, {ContactID: other.ID}}})
		if err != nil {
			t.Fatal(err)
		}
		if _, dp := e.get(fmt.Sprintf("/deals/%d?share_asset=%s&share_contact=%d", deal.ID, id, other.ID)); !strings.Contains(dp, `data-testid="content-share-link"`) ||
			!strings.Contains(dp, "高橋") || !strings.Contains(dp, `name="share_contact"`) {
			t.Errorf("no share link on the deal page")
		}

		// Tampered links are 404s and record nothing; a share token never opens the asset directly.
		tok := link[strings.Index(link, "/c/s/")+5:]
		for _, bad := range []string{"/c/s/" + tok[:len(tok)-3] + "AAA", "/c/s/" + strings.Replace(tok, ".", "x.", 1), "/c/a/" + tok, "/c/a/nope", "/c/zzzz"} {
			if r := e.visit("GET", e.srv.URL+bad, nil); r.StatusCode != 404 {
				t.Errorf("%s: %d", bad, r.StatusCode)
			}
		}
		_ = d.Reader().QueryRowContext(ctx, `SELECT COUNT(*) FROM events WHERE kind = 'content_view'`).Scan(&events)
		if events != 1 {
			t.Fatalf("tampered links recorded events: %d", events)
		}

		// The gated asset: the form first, then the asset; the link leads to the stored address only.
		x, err := e.content.Get(ctx, admin, formInt64(gatedID))
		if err != nil {
			t.Fatal(err)
		}
		res = e.visit("GET", e.srv.URL+"/c/"+x.Key+"?lang=ja", nil)
		page = readAll(res)
		if res.StatusCode != 200 || !strings.Contains(page, `data-testid="hosted-form"`) || accessRe.MatchString(page) {
			t.Fatalf("gated page: %d %.400s", res.StatusCode, page)
		}
		rt := renderTokenRe.FindStringSubmatch(page)[1]
		e.clock.Advance(10 * time.Second)
		res = e.visit("POST", e.srv.URL+"/c/"+x.Key, url.Values{"email": {"bad"}, "_t": {rt}, "lang": {"ja"}})
		if page = readAll(res); res.StatusCode != 422 || accessRe.MatchString(page) {
			t.Fatalf("bad post: %d %.300s", res.StatusCode, page)
		}
		res = e.visit("POST", e.srv.URL+"/c/"+x.Key, url.Values{"email": {"hanako@example.co.jp"}, "family_name": {"佐藤"}, "_t": {rt}, "lang": {"ja"},
			"redirect": {"https://evil.example/"}})
		page = readAll(res)
		acc = accessRe.FindStringSubmatch(page)
		if res.StatusCode != 200 || acc == nil {
			t.Fatalf("valid post: %d %.500s", res.StatusCode, page)
		}
		found, err := e.crm.ListContacts(ctx, admin, crm.ContactFilter{Email: "hanako@example.co.jp"})
		if err != nil || len(found.Items) != 1 {
			t.Fatalf("the submission made no contact: %v", err)
		}
		go1 := e.visit("GET", e.srv.URL+html.UnescapeString(acc[1]), nil)
		if go1.StatusCode != 302 || go1.Header.Get("Location") != "https://docs.example.co.jp/ma" {
			t.Fatalf("access redirect: %d %s", go1.StatusCode, go1.Header.Get("Location"))
		}
		_ = d.Reader().QueryRowContext(ctx, `SELECT COUNT(*) FROM events WHERE kind = 'content_view' AND contact_id = ?`, found.Items[0].ID).Scan(&events)
		if events != 1 {
			t.Fatalf("gated view events: %d", events)
		}

		// Archive: the public page goes.
		if code, _, _ := e.post("/content/"+gatedID+"/archive", url.Values{}); code != 200 {
			t.Fatalf("archive: %d", code)
		}
		if r := e.visit("GET", e.srv.URL+"/c/"+x.Key, nil); r.StatusCode != 404 {
			t.Fatalf("archived public page: %d", r.StatusCode)
		}
		if r := e.visit("GET", e.srv.URL+html.UnescapeString(acc[1]), nil); r.StatusCode != 404 {
			t.Fatalf("archived access link: %d", r.StatusCode)
		}

		for _, n := range e.web.Templates() {
			if strings.HasPrefix(n, "content") && !e.renders[n] {
				t.Errorf("template %s is rendered by no test", n)
			}
		}
	})
}

func formInt64(s string) int64 {
	var n int64
	fmt.Sscan(s, &n)
	return n
}
