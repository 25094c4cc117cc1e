package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"strings"
	"testing"

	"github.com/ryorin/ryorin/internal/db"
	"github.com/ryorin/ryorin/internal/dbtest"
)

func (e *env) upload(token, path, field, name, data string, fields ...string) resp {
	e.t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	for i := 0; i+1 < len(fields); i += 2 {
		_ = mw.WriteField(fields[i], fields[i+1])
	}
	fw, _ := mw.CreateFormFile(field, name)
	_, _ = io.WriteString(fw, data)
	_ = mw.Close()
	req, _ := http.NewRequest("POST", e.srv.URL+path, &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	out := resp{status: res.StatusCode, raw: string(raw), header: res.Header}
	_ = json.Unmarshal(raw, &out.body)
	return out
}

func TestAPI_ImportUploadRunsInTheBackgroundAndReportsBadRows(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := start(t, d)
		ctx := context.Background()
		csv := "Email,Last Name,First Name,Company\nyamada@example.jp,山田,太郎,株式会社テスト\nbad-email,佐藤,花子,\n"
		r := e.upload(e.admin, "/api/v1/imports?mode=update", "file", "list.csv", csv, "map", "Company=company_name")
		if r.status != 202 || r.body["status"] != "queued" || r.body["total_rows"] != float64(2) {
			t.Fatalf("%d %s", r.status, r.raw)
		}
		id := int64(r.body["id"].(float64))
		if _, err := e.app.Jobs.RunOnce(ctx); err != nil {
			t.Fatal(err)
		}
		r = e.do(e.admin, "GET", fmt.Sprintf("/api/v1/imports/%d", id), nil)
		if r.body["status"] != "done" || r.body["created"] != float64(1) || r.body["failed"] != float64(1) || r.body["companies_created"] != float64(1) {
			t.Fatalf("status: %s", r.raw)
		}
		r = e.do(e.admin, "GET", fmt.Sprintf("/api/v1/imports/%d/errors", id), nil)
		if r.status != 200 || !strings.HasPrefix(r.header.Get("Content-Type"), "text/csv") || !strings.Contains(r.raw, "\n3,email,") {
			t.Fatalf("errors csv: %d %q", r.status, r.raw)
		}
		// Sales may not import.
		if r := e.upload(e.sales, "/api/v1/imports", "file", "x.csv", csv); r.status != 403 {
			t.Errorf("sales upload: %d", r.status)
		}
		// A file without rows is refused with the field named.
		if r := e.upload(e.admin, "/api/v1/imports", "file", "x.csv", "email\n"); r.status != 400 || r.errField() != "file" {
			t.Errorf("empty file: %d %s", r.status, r.raw)
		}
		// A raw text/csv body works too.
		r = e.do(e.admin, "POST", "/api/v1/imports?object_type=company", "会社名,法人番号\n株式会社エー,7000012050002\n", "Content-Type", "text/csv")
		if r.status != 202 || r.body["object_type"] != "company" {
			t.Fatalf("raw body: %d %s", r.status, r.raw)
		}
		if _, err := e.app.Jobs.RunOnce(ctx); err != nil {
			t.Fatal(err)
		}
		// Export: the filter and the chosen columns, UTF-8 with BOM.
		r = e.do(e.admin, "GET", "/api/v1/contacts/export?q=yamada&col=email&col=company&lang=ja", nil)
		if r.status != 200 || r.raw != "\ufeff姓,名,姓(カナ),名(カナ),メールアドレス,会社名\n山田,太郎,,,yamada@example.jp,株式会社テスト\n" {
			t.Fatalf("export: %d %q", r.status, r.raw)
		}
		if r := e.do(e.admin, "GET", "/api/v1/contacts/export?col=secret", nil); r.status != 400 || r.errField() != "col" {
			t.Errorf("bad column: %d %s", r.status, r.raw)
		}
		r = e.do(e.admin, "GET", "/api/v1/companies/export?col=corporate_number", nil)
		if r.status != 200 || !strings.Contains(r.raw, "株式会社エー,,7000012050002") {
			t.Errorf("companies export: %q", r.raw)
		}
		// Undo.
		r = e.do(e.admin, "POST", fmt.Sprintf("/api/v1/imports/%d/undo", id), nil)
		if r.status != 202 || r.body["status"] != "undoing" {
			t.Fatalf("undo: %d %s", r.status, r.raw)
		}
		if _, err := e.app.Jobs.RunOnce(ctx); err != nil {
			t.Fatal(err)
		}
		if n := e.count("contacts"); n != 0 {
			t.Errorf("%d contacts after undo", n)
		}
		r = e.do(e.admin, "GET", "/api/v1/imports", nil)
		if r.status != 200 || !strings.Contains(r.raw, `"status":"undone"`) {
			t.Errorf("list: %s", r.raw)
		}
	})
}

func TestAPI_ImportDealsWithTheObjectTypeParameter(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := start(t, d)
		ctx := context.Background()
		csv := "Opportunity ID,Opportunity Name,Amount,Stage,Close Date\n006A,大型案件,\"1,200,000\",Closed Won,2024-04-01\n006B,壊れた,abc,,\n"
		r := e.upload(e.admin, "/api/v1/imports?object_type=deal&mode=skip", "file", "opps.csv", csv)
		if r.status != 202 || r.body["object_type"] != "deal" || r.body["preset"] != "salesforce" {
			t.Fatalf("%d %s", r.status, r.raw)
		}
		id := int64(r.body["id"].(float64))
		if _, err := e.app.Jobs.RunOnce(ctx); err != nil {
			t.Fatal(err)
		}
		r = e.do(e.admin, "GET", fmt.Sprintf("/api/v1/imports/%d", id), nil)
		if r.body["status"] != "done" || r.body["created"] != float64(1) || r.body["failed"] != float64(1) {
			t.Fatalf("status: %s", r.raw)
		}
		if n := e.count("deals"); n != 1 {
			t.Errorf("%d deals", n)
		}
		if r := e.do(e.admin, "POST", "/api/v1/imports?object_type=task", "a\nb\n", "Content-Type", "text/csv"); r.status != 400 || r.errField() != "object_type" {
			t.Errorf("unknown object: %d %s", r.status, r.raw)
		}
	})
}
