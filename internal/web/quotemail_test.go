package web_test

import (
	"context"
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
	"github.com/ryorin/ryorin/internal/sales"
	"github.com/ryorin/ryorin/internal/smtptest"
)

// TestQuoteMailUI_SendFromDealOnceCustomerViewsPageAndPDF sends an English
// quote from the deal page (a double submit sends once), follows the mailed
// link as the customer, and sees the view on the deal page and in the
// owner's notifications; a tampered link is a 404 that records nothing.
func TestQuoteMailUI_SendFromDealOnceCustomerViewsPageAndPDF(t *testing.T) {
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
		ct, err := e.crm.CreateContact(ctx, a, crm.ContactInput{FamilyName: s("Smith"), GivenName: s("Jane"), Email: s("jane@customer.example")})
		if err != nil {
			t.Fatal(err)
		}
		dl, err := e.crm.CreateDeal(ctx, a, crm.DealInput{Name: s("ERP renewal"), OwnerID: &a.UserID, Contacts: &[]crm.DealContact{{ContactID: ct.ID}}})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.sales.SaveQuoteSettings(ctx, a, sales.QuoteSettings{SellerName: "Ryorin KK", RegistrationNumber: "T1234567890123", ValidDays: 30}); err != nil {
			t.Fatal(err)
		}
		if _, _, err := e.sales.SaveLineItems(ctx, a, dl.ID, []sales.LineItemInput{{Description: s("Licence"), Quantity: 3, UnitPrice: func(v float64) *float64 { return &v }(100000)}}); err != nil {
			t.Fatal(err)
		}
		q, err := e.sales.IssueQuote(ctx, a, dl.ID, sales.IssueInput{Lang: "en"})
		if err != nil {
			t.Fatal(err)
		}
		dp := "/deals/" + itoa(dl.ID)
		code, body := e.get(dp)
		if code != 200 {
			t.Fatalf("deal page: %d %.2000s", code, body)
		}
		m := regexp.MustCompile(`action="` + dp + `/quotes/1/send">\s*<input type="hidden" name="nonce" value="([0-9a-f]+)"`).FindStringSubmatch(body)
		if m == nil || !strings.Contains(body, "Quotation "+q.Number+"-1") || !strings.Contains(body, "[quote_link]") {
			t.Fatalf("no prefilled English send form on the deal page:\n%s", between(body, `id="quotes"`, "</details>"))
		}
		form := url.Values{"nonce": {m[1]}, "contact_id": {itoa(ct.ID)}, "subject": {"Your quotation " + q.Number}, "body": {"Dear {{.GivenName}},\n\nHere it is: [quote_link]\n"}}
		for range 2 {
			if code, body, at := e.post(dp+"/quotes/1/send", form); code != 200 || at != dp {
				t.Fatalf("send: %d at %s %.300s", code, at, body)
			}
		}
		// Refused with the typed text kept: a contact not on the deal.
		if code, body, _ := e.post(dp+"/quotes/1/send", url.Values{"contact_id": {itoa(ct.ID + 99)}, "subject": {"s"}, "body": {"残す本文"}}); code != 422 ||
			!strings.Contains(body, "商談の担当者から選んでください") || !strings.Contains(body, "残す本文") || !strings.Contains(body, `data-testid="send-quote-error"`) {
			t.Errorf("contact not on the deal: %d %s", code, between(body, `data-testid="send-quote-error">`, "<"))
		}
		if code, body, _ := e.post(dp+"/quotes/7/send", url.Values{"contact_id": {itoa(ct.ID)}}); code != 404 && code != 422 {
			t.Errorf("unknown version: %d %.200s", code, body)
		}
		for range 5 {
			if _, err := e.jobs.RunOnce(ctx); err != nil {
				t.Fatal(err)
			}
		}
		msgs := srv.Messages()
		if len(msgs) != 1 {
			t.Fatalf("%d messages sent, want 1", len(msgs))
		}
		raw := strings.NewReplacer("=\r\n", "", "=3D", "=").Replace(string(msgs[0].Data))
		click := regexp.MustCompile(`/e/sc/([A-Za-z0-9_.-]+)"`).FindStringSubmatch(raw)
		if click == nil || !strings.Contains(raw, "Dear Jane,") {
			t.Fatalf("no tracked link in:\n%s", raw)
		}
		nc := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		res, err := nc.Get(e.srv.URL + "/e/sc/" + click[1])
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		loc, _ := url.Parse(res.Header.Get("Location"))
		if res.StatusCode != 302 || loc == nil || !strings.HasPrefix(loc.Path, "/q/") {
			t.Fatalf("tracked link: %d → %s", res.StatusCode, res.Header.Get("Location"))
		}
		// The customer, without a session.
		anon := &http.Client{}
		get := func(p string) (int, string, string) {
			t.Helper()
			res, err := anon.Get(e.srv.URL + p)
			if err != nil {
				t.Fatal(err)
			}
			defer res.Body.Close()
			var b strings.Builder
			_, _ = io.Copy(&b, res.Body)
			return res.StatusCode, res.Header.Get("Content-Type"), b.String()
		}
		tampered := loc.Path[:len(loc.Path)-3] + "abc"
		if code, _, _ := get(tampered); code != 404 {
			t.Errorf("tampered token: %d", code)
		}
		if code, _, _ := get("/q/" + "x.y"); code != 404 {
			t.Errorf("junk token: %d", code)
		}
		var views int
		if err := d.Reader().QueryRowContext(ctx, `SELECT views FROM quote_sends`).Scan(&views); err != nil || views != 0 {
			t.Fatalf("views after bad tokens = %d, %v", views, err)
		}
		code, _, page := get(loc.Path + "?" + loc.RawQuery)
		if code != 200 || !strings.Contains(page, "Quotation") || !strings.Contains(page, loc.Path+".pdf") || strings.Contains(page, `href="/deals/`) {
			t.Fatalf("public page: %d\n%.600s", code, page)
		}
		if code, ctype, pdf := get(loc.Path + ".pdf"); code != 200 || ctype != "application/pdf" || !strings.HasPrefix(pdf, "%PDF") {
			t.Errorf("public PDF: %d %s", code, ctype)
		}
		e.clock.Advance(time.Minute)
		_, body = e.get(dp)
		if !strings.Contains(body, `data-testid="quote-sent"`) || !strings.Contains(body, `data-testid="quote-viewed"`) {
			t.Errorf("the deal page does not show the send and the view:\n%s", between(body, `id="quotes"`, "<details"))
		}
		ns, err := platform.ListNotifications(ctx, d.Reader(), 1, 1, false, 0, 20)
		if err != nil {
			t.Fatal(err)
		}
		told := 0
		for _, n := range ns {
			if n.Kind == "quote.viewed" {
				told++
			}
		}
		if told != 1 {
			t.Errorf("owner told %d times of the page and PDF views, want 1", told)
		}
	})
}
