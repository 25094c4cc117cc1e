package web_test

import (
	"bytes"
	"context"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/ryorin/ryorin/internal/crm"
	"github.com/ryorin/ryorin/internal/dataio"
	"github.com/ryorin/ryorin/internal/db"
	"github.com/ryorin/ryorin/internal/dbtest"
	"github.com/ryorin/ryorin/internal/platform"
)

// uploadFile posts the import form and returns the status, body and the
// path the client ended on.
func (e *env) uploadFile(object, name, data string) (int, string, string) {
	e.t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	_ = mw.WriteField("object_type", object)
	fw, _ := mw.CreateFormFile("file", name)
	_, _ = io.WriteString(fw, data)
	_ = mw.Close()
	req, _ := http.NewRequest("POST", e.srv.URL+"/imports", &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	res, err := e.c.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b), res.Request.URL.Path
}

var importPath = regexp.MustCompile(`^/imports/(\d+)$`)

func TestImportPages_UploadMapRunUndo(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := start(t, d, true)
		e.login()
		ctx := context.Background()
		csv := "会社名,氏名,メール,備考\n株式会社テスト,山田 太郎,taro@example.jp,初回\n株式会社テスト,鈴木 花子,not-an-email,\n"
		for _, lang := range []string{"ja", "en"} {
			if code, _, _ := e.post("/settings/language", url.Values{"lang": {lang}}); code != 200 {
				t.Fatal(code)
			}
			if code, body := e.get("/imports?object=company"); code != 200 || !strings.Contains(body, `value="company" selected`) {
				t.Fatalf("imports page: %d", code)
			}
			// Upload: the mapping screen guesses the columns and shows samples.
			code, body, at := e.uploadFile("contact", "名簿.csv", csv)
			m := importPath.FindStringSubmatch(at)
			if code != 200 || m == nil {
				t.Fatalf("upload: %d at %s %.300s", code, at, body)
			}
			id := m[1]
			for _, want := range []string{`name="map_0"`, `<option value="company_name" selected>`, `<option value="full_name" selected>`,
				`<option value="email" selected>`, "山田 太郎", "名簿.csv"} {
				if !strings.Contains(body, want) {
					t.Errorf("%s mapping screen lacks %s", lang, want)
				}
			}
			// A mapping without email or name is refused on the same screen.
			code, body, _ = e.post("/imports/"+id+"/start", url.Values{"map_0": {"company_name"}, "map_1": {""}, "map_2": {""}, "map_3": {""}, "mode": {"update"}})
			if code != 422 || !strings.Contains(body, "warnbox") {
				t.Errorf("bad mapping: %d", code)
			}
			// Start with the guess, the last column moved to the title.
			code, body, at = e.post("/imports/"+id+"/start", url.Values{"map_0": {"company_name"}, "map_1": {"full_name"}, "map_2": {"email"},
				"map_3": {"title"}, "mode": {"update"}})
			if code != 200 || at != "/imports/"+id || !strings.Contains(body, `http-equiv="refresh"`) {
				t.Fatalf("start: %d at %s", code, at)
			}
			imID := int64(0)
			for _, c := range id {
				imID = imID*10 + int64(c-'0')
			}
			if err := e.io.Run(ctx, 1, imID, dataio.RunOptions{}); err != nil {
				t.Fatal(err)
			}
			code, body = e.get("/imports/" + id)
			if code != 200 || strings.Contains(body, `http-equiv="refresh"`) || !strings.Contains(body, `/imports/`+id+`/errors.csv`) ||
				!strings.Contains(body, `aria-valuenow="100"`) {
				t.Fatalf("result page: %d %.500s", code, body)
			}
			code, body = e.get("/imports/" + id + "/errors.csv")
			if code != 200 || !strings.Contains(body, "3,email,") {
				t.Errorf("errors csv: %d %q", code, body)
			}
			c, err := e.crm.ContactByEmail(ctx, d.Reader(), platform.System(1), "taro@example.jp")
			if err != nil || c.Title != "初回" || c.CompanyID == 0 {
				t.Fatalf("imported contact = %+v, %v", c, err)
			}
			// Undo from the result page.
			if code, _, _ := e.post("/imports/"+id+"/undo", nil); code != 200 {
				t.Fatalf("undo: %d", code)
			}
			if err := e.io.RunUndo(ctx, 1, imID); err != nil {
				t.Fatal(err)
			}
			if _, err := e.crm.ContactByEmail(ctx, d.Reader(), platform.System(1), "taro@example.jp"); err == nil {
				t.Error("undo left the contact")
			}
			if code, body := e.get("/imports"); code != 200 || !strings.Contains(body, "名簿.csv") {
				t.Errorf("list: %d", code)
			}
		}
		// Cancelling on the mapping screen deletes the upload.
		_, _, at := e.uploadFile("contact", "cancel.csv", csv)
		if m := importPath.FindStringSubmatch(at); m == nil {
			t.Fatalf("upload at %s", at)
		} else if code, _, at := e.post("/imports/"+m[1]+"/delete", nil); code != 200 || at != "/imports" {
			t.Errorf("cancel: %d at %s", code, at)
		} else if code, _ := e.get("/imports/" + m[1]); code != 404 {
			t.Errorf("cancelled import still there: %d", code)
		}
		// A file with a header only is refused with a message, in the form.
		if code, body, _ := e.uploadFile("contact", "x.csv", "email\n"); code != 422 || !strings.Contains(body, "header line but no rows") {
			t.Errorf("header-only file: %d", code)
		}
		e.mu.Lock()
		for _, n := range []string{"imports", "import_mapping", "import"} {
			if !e.renders[n] {
				t.Errorf("template %s not rendered", n)
			}
		}
		e.mu.Unlock()
	})
}

func TestImportPages_DealsUploadMapRunUndo(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := start(t, d, true)
		e.login()
		ctx := context.Background()
		if err := e.crm.EnsureDefaults(ctx, 1, "ja"); err != nil {
			t.Fatal(err)
		}
		if code, body := e.get("/imports?object=deal"); code != 200 || !strings.Contains(body, `value="deal" selected`) {
			t.Fatalf("imports page: %d", code)
		}
		csv := "Record ID,Deal Name,Amount,Deal Stage,Close Date,Associated Company\n" +
			"H-1,大型案件,\"¥1,200,000\",closedwon,2024/4/1,株式会社テスト\nH-2,壊れた,abc,,,\n"
		code, body, at := e.uploadFile("deal", "deals.csv", csv)
		m := importPath.FindStringSubmatch(at)
		if code != 200 || m == nil {
			t.Fatalf("upload: %d at %s %.300s", code, at, body)
		}
		id := m[1]
		for _, want := range []string{`<option value="external_id" selected>`, `<option value="name" selected>`, `<option value="amount" selected>`,
			`<option value="stage" selected>`, `<option value="close_date" selected>`, `<option value="company_name" selected>`, "hubspot", "大型案件"} {
			if !strings.Contains(body, want) {
				t.Errorf("mapping screen lacks %s", want)
			}
		}
		code, _, at = e.post("/imports/"+id+"/start", url.Values{"map_0": {"external_id"}, "map_1": {"name"}, "map_2": {"amount"},
			"map_3": {"stage"}, "map_4": {"close_date"}, "map_5": {"company_name"}, "mode": {"update"}})
		if code != 200 || at != "/imports/"+id {
			t.Fatalf("start: %d at %s", code, at)
		}
		imID := int64(0)
		for _, c := range id {
			imID = imID*10 + int64(c-'0')
		}
		if err := e.io.Run(ctx, 1, imID, dataio.RunOptions{}); err != nil {
			t.Fatal(err)
		}
		code, body = e.get("/imports/" + id)
		if code != 200 || !strings.Contains(body, `/imports/`+id+`/errors.csv`) {
			t.Fatalf("result page: %d %.500s", code, body)
		}
		if code, body := e.get("/imports/" + id + "/errors.csv"); code != 200 || !strings.Contains(body, "3,amount,") {
			t.Errorf("errors csv: %d %q", code, body)
		}
		var status string
		if err := d.Reader().QueryRowContext(ctx, `SELECT status FROM deals WHERE external_id = 'H-1'`).Scan(&status); err != nil || status != "won" {
			t.Fatalf("imported deal: %s %v", status, err)
		}
		if code, _, _ := e.post("/imports/"+id+"/undo", nil); code != 200 {
			t.Fatalf("undo: %d", code)
		}
		if err := e.io.RunUndo(ctx, 1, imID); err != nil {
			t.Fatal(err)
		}
		var n int
		if err := d.Reader().QueryRowContext(ctx, `SELECT COUNT(*) FROM deals`).Scan(&n); err != nil || n != 0 {
			t.Errorf("%d deals after undo, %v", n, err)
		}
		// Activities: the same flow; a deal named in the file must exist.
		dealName := "継続案件"
		if _, err := e.crm.CreateDeal(ctx, platform.System(1), crm.DealInput{Name: &dealName}); err != nil {
			t.Fatal(err)
		}
		code, body, at = e.uploadFile("activity", "calls.csv", "種別,件名,日時,通話結果,案件名\n電話,架電,2024/4/2,不在,継続案件\nメモ,x,,,ない案件\n")
		m = importPath.FindStringSubmatch(at)
		if code != 200 || m == nil || !strings.Contains(body, `<option value="call_outcome" selected>`) || !strings.Contains(body, `<option value="deal_name" selected>`) {
			t.Fatalf("activities upload: %d at %s %.300s", code, at, body)
		}
		code, _, _ = e.post("/imports/"+m[1]+"/start", url.Values{"map_0": {"kind"}, "map_1": {"subject"}, "map_2": {"occurred_at"},
			"map_3": {"call_outcome"}, "map_4": {"deal_name"}, "mode": {"update"}})
		if code != 200 {
			t.Fatalf("start activities: %d", code)
		}
		imID = 0
		for _, c := range m[1] {
			imID = imID*10 + int64(c-'0')
		}
		if err := e.io.Run(ctx, 1, imID, dataio.RunOptions{}); err != nil {
			t.Fatal(err)
		}
		if code, body := e.get("/imports/" + m[1] + "/errors.csv"); code != 200 || !strings.Contains(body, "3,deal_name,") {
			t.Errorf("activities errors csv: %d %q", code, body)
		}
		if err := d.Reader().QueryRowContext(ctx, `SELECT COUNT(*) FROM activities WHERE call_outcome = 'no_answer'`).Scan(&n); err != nil || n != 1 {
			t.Errorf("%d activities imported, %v", n, err)
		}
	})
}

func TestExportPages_ExportExactlyTheListsFiltersAndColumns(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := start(t, d, true)
		e.login()
		ctx := context.Background()
		a := platform.Actor{WorkspaceID: 1, UserID: 1, Role: platform.RoleAdmin, Kind: platform.ActorUser}
		s := func(v string) *string { return &v }
		co, _ := e.crm.CreateCompany(ctx, a, crm.CompanyInput{Name: s("株式会社テスト"), Industry: s("製造")})
		for _, n := range []string{"鈴木", "佐藤"} {
			if _, err := e.crm.CreateContact(ctx, a, crm.ContactInput{FamilyName: s(n), GivenName: s("一郎"), Email: s(n + "@example.jp"), Title: s("部長"), CompanyID: &co.ID}); err != nil {
				t.Fatal(err)
			}
		}
		_, body := e.get("/contacts?q=" + url.QueryEscape("鈴木") + "&col=email&col=title")
		want := `href="/contacts/export?col=email&amp;col=title&amp;q=%E9%88%B4%E6%9C%A8"`
		if !strings.Contains(body, want) {
			t.Fatalf("contacts page lacks the export link %s", want)
		}
		code, csv := e.get("/contacts/export?col=email&col=title&q=" + url.QueryEscape("鈴木"))
		if code != 200 || csv != "\ufeff姓,名,姓(カナ),名(カナ),メールアドレス,役職\n鈴木,一郎,,,鈴木@example.jp,部長\n" {
			t.Errorf("contacts export: %d %q", code, csv)
		}
		code, csv = e.get("/companies/export?col=industry")
		if code != 200 || csv != "\ufeff会社名,会社名(カナ),業種\n株式会社テスト,,製造\n" {
			t.Errorf("companies export: %d %q", code, csv)
		}
		if code, _ := e.get("/contacts/export?col=nonsense"); code != 400 {
			t.Errorf("bad column: %d", code)
		}
	})
}
