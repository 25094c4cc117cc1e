package web_test

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/ryorin/ryorin/internal/crm"
	"github.com/ryorin/ryorin/internal/db"
	"github.com/ryorin/ryorin/internal/dbtest"
	"github.com/ryorin/ryorin/internal/platform"
)

// TestQuotesUI_LinesIssueAndPrintInBothLanguages adds a product, sets the
// seller, edits a deal's lines with the plain form (an error first), issues a
// quote in Japanese and in English, and opens both as a page and a PDF.
func TestQuotesUI_LinesIssueAndPrintInBothLanguages(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := start(t, d, true)
		e.login()
		ctx := context.Background()
		a := platform.Actor{WorkspaceID: 1, UserID: 1, Role: platform.RoleAdmin, Kind: platform.ActorUser}
		s := func(v string) *string { return &v }
		co, err := e.crm.CreateCompany(ctx, a, crm.CompanyInput{Name: s("株式会社テスト")})
		if err != nil {
			t.Fatal(err)
		}
		deal, err := e.crm.CreateDeal(ctx, a, crm.DealInput{Name: s("基幹システム刷新"), CompanyID: &co.ID})
		if err != nil {
			t.Fatal(err)
		}
		dp := "/deals/" + itoa(deal.ID)
		e.mustPost("/settings/quotes/products", url.Values{"code": {"LIC"}, "name": {"年間ライセンス"}, "unit_price": {"120,000"}, "currency": {"JPY"},
			"tax_category": {"standard"}, "billing": {"year"}, "active": {"1"}}, "/settings/quotes")
		if code, body, _ := e.post("/settings/quotes/products", url.Values{"code": {"LIC"}, "name": {"x"}, "unit_price": {"1"}, "currency": {"JPY"}}); code != 422 || !strings.Contains(body, "このコードの商品は既にあります") {
			t.Errorf("duplicate product: %d %s", code, between(body, `role="alert"`, "</div>"))
		}
		if code, body, _ := e.post("/settings/quotes", url.Values{"seller_name": {"株式会社りょうりん"}, "registration_number": {"T123"}, "rounding": {"floor"}, "valid_days": {"30"}}); code != 422 || !strings.Contains(body, "T と13桁の数字で入力してください") {
			t.Errorf("bad registration number: %d", code)
		}
		e.mustPost("/settings/quotes", url.Values{"seller_name": {"株式会社りょうりん"}, "seller_address": {"東京都千代田区1-1"}, "registration_number": {"T1234567890123"},
			"rounding": {"floor"}, "valid_days": {"30"}, "approval_discount_pct": {"0"}}, "/settings/quotes")
		if code, body := e.get(dp + "?lines=1"); code != 200 || !strings.Contains(body, `data-testid="lines-form"`) || !strings.Contains(body, "LIC 年間ライセンス") {
			t.Fatalf("lines form: %d", code)
		}
		form := url.Values{"n": {"3"},
			"l.0.product_id": {"1"}, "l.0.quantity": {"2"}, "l.0.discount": {"10"}, "l.0.discount_kind": {"percent"},
			"l.1.product_id": {"0"}, "l.1.description": {"会議用お弁当"}, "l.1.quantity": {"10"}, "l.1.unit_price": {"abc"}, "l.1.tax_category": {"reduced"},
			"l.2.product_id": {"0"}, "l.2.quantity": {"1"}}
		if code, body, _ := e.post(dp+"/lines", form); code != 422 || !strings.Contains(body, "2行目の単価") {
			t.Errorf("bad line: %d %s", code, between(body, `data-testid="lines-error">`, "<"))
		}
		form.Set("l.1.unit_price", "1,080")
		form.Set("l.1.discount", "5")
		if code, body, _ := e.post(dp+"/lines", form); code != 422 || !strings.Contains(body, "2行目の値引の種類: 値引を入れた場合は必須です") {
			t.Errorf("discount without a kind: %d %s", code, between(body, `data-testid="lines-error">`, "<"))
		}
		form.Del("l.1.discount")
		e.mustPost(dp+"/lines", form, dp)
		after, _ := e.crm.GetDeal(ctx, d.Reader(), a, deal.ID)
		if after.Amount != 216000+10800 || after.RecurringAmount != 216000 || after.RecurringInterval != "year" {
			t.Errorf("deal figures: %v %v %s", after.Amount, after.RecurringAmount, after.RecurringInterval)
		}
		if _, body := e.get(dp + "?edit=1"); !strings.Contains(body, `data-testid="amount-from-lines"`) {
			t.Errorf("deal form lacks the note that lines set the amount")
		}
		if _, body := e.get(dp); !strings.Contains(body, `data-testid="lines-table"`) || !strings.Contains(body, "¥226,800") {
			t.Errorf("lines table missing")
		}
		for i, lang := range []string{"ja", "en"} {
			v := itoa(int64(i + 1))
			e.mustPost(dp+"/quotes", url.Values{"lang": {lang}}, dp+"/quotes/"+v)
			code, body := e.get(dp + "/quotes/" + v)
			want := map[string][]string{
				"ja": {"御見積書", "株式会社テスト 御中", "T1234567890123", "¥249,264", "10%対象", "8%対象", "※", "印", "2026年4月1日"},
				"en": {"Quotation", "Registration No.", "¥249,264", "Subject to 10%", "Consumption tax (8%)", "1 Apr 2026"},
			}[lang]
			for _, w := range want {
				if !strings.Contains(body, w) {
					t.Errorf("%s quote page lacks %q", lang, w)
				}
			}
			if code != 200 || strings.Contains(body, "ZgotmplZ") || strings.Contains(body, "quote.doc.") {
				t.Errorf("%s quote page: %d", lang, code)
			}
			res, err := e.c.Get(e.srv.URL + dp + "/quotes/" + v + ".pdf")
			if err != nil {
				t.Fatal(err)
			}
			head := make([]byte, 8)
			_, _ = res.Body.Read(head)
			res.Body.Close()
			if res.StatusCode != 200 || res.Header.Get("Content-Type") != "application/pdf" || !strings.HasPrefix(string(head), "%PDF-") {
				t.Errorf("%s pdf: %d %s %q", lang, res.StatusCode, res.Header.Get("Content-Type"), head)
			}
		}
		// Version 1 stays readable after version 2; the deal lists both; the timeline says so.
		if _, body := e.get(dp); !strings.Contains(body, "Q-000001 第2版") || !strings.Contains(body, "見積書 Q-000001 第1版を発行しました") {
			t.Errorf("deal page lacks the quote list or timeline entry")
		}
		// Signed out, neither the page nor the PDF is served.
		for _, p := range []string{dp + "/quotes/1", dp + "/quotes/1.pdf"} {
			res, err := http.Get(e.srv.URL + p)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(res.Body)
			res.Body.Close()
			if res.Request.URL.Path != "/login" || strings.Contains(string(b), "%PDF") || strings.Contains(string(b), "T1234567890123") {
				t.Errorf("signed out %s: %d at %s", p, res.StatusCode, res.Request.URL.Path)
			}
		}
		for _, p := range []string{dp + "/quotes/3", dp + "/quotes/x.pdf", dp + "/quotes/0"} {
			if code, _ := e.get(p); code != 404 {
				t.Errorf("%s: %d", p, code)
			}
		}
		e.mu.Lock()
		defer e.mu.Unlock()
		for _, n := range e.web.Templates() {
			if strings.HasPrefix(n, "quote") && !e.renders[n] {
				t.Errorf("template %s not rendered", n)
			}
		}
	})
}

func between(s, a, b string) string {
	i := strings.Index(s, a)
	if i < 0 {
		return ""
	}
	s = s[i+len(a):]
	if j := strings.Index(s, b); j >= 0 {
		return s[:j]
	}
	return s
}

// TestQuotesUI_ApprovalBeforeIssuingADeepDiscount: above the threshold the
// issue form gives way to a request; an admin approves on the deal page.
func TestQuotesUI_ApprovalBeforeIssuingADeepDiscount(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := start(t, d, true)
		e.login()
		e.mustPost("/settings/quotes", url.Values{"seller_name": {"株式会社りょうりん"}, "rounding": {"floor"}, "valid_days": {"30"}, "approval_discount_pct": {"15"}}, "/settings/quotes")
		a := platform.Actor{WorkspaceID: 1, UserID: 1, Role: platform.RoleAdmin, Kind: platform.ActorUser}
		name := "大型案件"
		deal, err := e.crm.CreateDeal(context.Background(), a, crm.DealInput{Name: &name})
		if err != nil {
			t.Fatal(err)
		}
		dp := "/deals/" + itoa(deal.ID)
		e.mustPost(dp+"/lines", url.Values{"n": {"1"}, "l.0.description": {"ライセンス"}, "l.0.quantity": {"1"}, "l.0.unit_price": {"100000"},
			"l.0.discount": {"30"}, "l.0.discount_kind": {"percent"}}, dp)
		_, body := e.get(dp)
		if !strings.Contains(body, `data-testid="approval-request"`) || strings.Contains(body, `data-testid="issue-quote"`) || !strings.Contains(body, "最大値引率 30% が承認基準 15%") {
			t.Fatalf("approval panel: %s", between(body, `data-testid="deal-quotes"`, "</div>\n</div>"))
		}
		if code, body, _ := e.post(dp+"/quotes", url.Values{"lang": {"ja"}}); code != 422 || !strings.Contains(body, "マネージャーの承認を依頼してください") {
			t.Errorf("issue without approval: %d", code)
		}
		e.mustPost(dp+"/approvals", url.Values{"note": {"競合対抗"}}, dp)
		_, body = e.get(dp)
		if !strings.Contains(body, "承認待ち") || !strings.Contains(body, `data-testid="approval-decide"`) || !strings.Contains(body, "値引（最大30%）の承認を依頼しました") {
			t.Fatalf("pending: %s", between(body, `data-testid="approval"`, "</form>"))
		}
		e.mustPost(dp+"/approvals/1/decision", url.Values{"decision": {"approve"}}, dp)
		_, body = e.get(dp)
		if !strings.Contains(body, "承認済み") || !strings.Contains(body, `data-testid="issue-quote"`) || !strings.Contains(body, "値引（最大30%）が承認されました") {
			t.Errorf("approved: %s", between(body, `data-testid="approval"`, "</form>"))
		}
		e.mustPost(dp+"/quotes", url.Values{"lang": {"en"}}, dp+"/quotes/1")
	})
}
