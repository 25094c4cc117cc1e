package web_test

import (
	"context"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/ryorin/ryorin/internal/crm"
	"github.com/ryorin/ryorin/internal/db"
	"github.com/ryorin/ryorin/internal/dbtest"
	"github.com/ryorin/ryorin/internal/platform"
	"github.com/ryorin/ryorin/internal/smtptest"
)

var nonceRe = regexp.MustCompile(`name="nonce" value="([0-9a-f]+)"`)

func TestSalesEmail_SendFromContactAndDealPagesOnceWithOpensOnTheTimeline(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := start(t, d, true)
		e.login()
		ctx := context.Background()
		srv := smtptest.Start(t)
		if _, err := platform.SetSMTP(ctx, d, platform.CLI(1), platform.SMTPSettings{Host: srv.Host(), Port: srv.Port(), TLS: "none",
			FromAddress: "sales@ryorin.example"}, e.clock.Now()); err != nil {
			t.Fatal(err)
		}
		a := platform.Actor{WorkspaceID: 1, UserID: 1, Role: platform.RoleAdmin, Kind: platform.ActorUser}
		s := func(v string) *string { return &v }
		ct, err := e.crm.CreateContact(ctx, a, crm.ContactInput{FamilyName: s("鈴木"), Email: s("suzuki@example.jp")})
		if err != nil {
			t.Fatal(err)
		}
		dl, err := e.crm.CreateDeal(ctx, a, crm.DealInput{Name: s("導入"), Contacts: &[]crm.DealContact{{ContactID: ct.ID}}})
		if err != nil {
			t.Fatal(err)
		}
		noMail, err := e.crm.CreateContact(ctx, a, crm.ContactInput{FamilyName: s("佐藤")})
		if err != nil {
			t.Fatal(err)
		}
		_, body := e.get("/contacts/" + itoa(ct.ID))
		m := nonceRe.FindStringSubmatch(body)
		if m == nil || !strings.Contains(body, `data-testid="send-email"`) {
			t.Fatalf("no send form on the contact page:\n%.500s", body)
		}
		form := url.Values{"nonce": {m[1]}, "subject": {"{{.FamilyName}}様 ご提案"}, "body": {"<b>資料</b> https://example.com/a"}}
		for range 2 { // a double submit sends once
			if code, body, at := e.post("/contacts/"+itoa(ct.ID)+"/emails", form); code != 200 || at != "/contacts/"+itoa(ct.ID) {
				t.Fatalf("send: %d at %s %.300s", code, at, body)
			}
		}
		// Refused with the typed text kept: empty subject; a contact without an address.
		if code, body, _ := e.post("/contacts/"+itoa(ct.ID)+"/emails", url.Values{"body": {"残す本文"}}); code != 422 || !strings.Contains(body, "残す本文") ||
			!strings.Contains(body, `data-testid="send-email-error"`) {
			t.Errorf("no subject: %d", code)
		}
		if code, body, _ := e.post("/contacts/"+itoa(noMail.ID)+"/emails", url.Values{"subject": {"x"}, "body": {"y"}}); code != 422 || !strings.Contains(body, "メールアドレスがありません") {
			t.Errorf("no address: %d", code)
		}
		// From the deal page, to its contact.
		_, body = e.get("/deals/" + itoa(dl.ID))
		m = nonceRe.FindStringSubmatch(body)
		if m == nil || !strings.Contains(body, "suzuki@example.jp") {
			t.Fatalf("no send form on the deal page")
		}
		if code, _, at := e.post("/deals/"+itoa(dl.ID)+"/emails", url.Values{"nonce": {m[1]}, "contact_id": {itoa(ct.ID)}, "subject": {"日程"}, "body": {"よろしくお願いします"}}); code != 200 || at != "/deals/"+itoa(dl.ID) {
			t.Fatalf("deal send: %d at %s", code, at)
		}
		for range 5 {
			if _, err := e.jobs.RunOnce(ctx); err != nil {
				t.Fatal(err)
			}
		}
		msgs := srv.Messages()
		if len(msgs) != 2 {
			t.Fatalf("%d messages sent, want 2", len(msgs))
		}
		raw := strings.NewReplacer("=\r\n", "", "=3D", "=").Replace(string(msgs[0].Data))
		if !strings.Contains(raw, "&lt;b&gt;") || strings.Contains(raw, "<b>資料") {
			t.Errorf("the HTML part does not escape the body:\n%s", raw)
		}
		pix := regexp.MustCompile(`/e/so/([A-Za-z0-9_.-]+)\.gif`).FindStringSubmatch(raw)
		click := regexp.MustCompile(`/e/sc/([A-Za-z0-9_.-]+)"`).FindStringSubmatch(raw)
		if pix == nil || click == nil {
			t.Fatalf("no tracking in:\n%s", raw)
		}
		if code, _ := e.get("/e/so/" + pix[1] + ".gif"); code != 200 {
			t.Errorf("pixel: %d", code)
		}
		nc := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		res, err := nc.Get(e.srv.URL + "/e/sc/" + click[1])
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != 302 || !strings.HasPrefix(res.Header.Get("Location"), "https://example.com/a") {
			t.Errorf("click: %d → %s", res.StatusCode, res.Header.Get("Location"))
		}
		if res, err := nc.Get(e.srv.URL + "/e/sc/" + click[1] + "x"); err != nil || res.StatusCode != 404 {
			t.Errorf("forged click: %v %v", res.StatusCode, err)
		}
		_, body = e.get("/contacts/" + itoa(ct.ID))
		if strings.Count(body, "開封 1 回・クリック 1 回") < 2 || !strings.Contains(body, "鈴木様 ご提案") {
			t.Errorf("the contact page does not show the email with its counts in the list and on the timeline")
		}
		_, body = e.get("/contacts/"+itoa(ct.ID), "Accept-Language", "en")
		if !strings.Contains(body, "Opened 1× · clicked 1×") {
			t.Errorf("no English counts")
		}
		// The reply address on the profile, once an admin sets the domain.
		if _, _, at := e.post("/settings/sales-email", url.Values{"inbound_domain": {"reply.ryorin.example"}}); at != "/settings/profile" {
			t.Fatalf("inbound domain went to %s", at)
		}
		if _, body := e.get("/settings/profile"); !regexp.MustCompile(`reply\+1\.[0-9a-f]{16}@reply\.ryorin\.example`).MatchString(html.UnescapeString(body)) {
			t.Errorf("no reply address on the profile")
		}
	})
}
