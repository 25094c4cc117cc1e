package dataio_test

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/ryorin/ryorin/internal/crm"
	"github.com/ryorin/ryorin/internal/dataio"
	"github.com/ryorin/ryorin/internal/db"
	"github.com/ryorin/ryorin/internal/dbtest"
	"github.com/ryorin/ryorin/internal/platform"
)

func TestExport_ContactsRoundTripWithJapaneseText(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := setup(t, d)
		ctx := context.Background()
		co, err := f.crm.CreateCompany(ctx, f.admin, crm.CompanyInput{Name: ptr("株式会社両輪, \"本社\"")})
		if err != nil {
			t.Fatal(err)
		}
		for i, n := range []string{"山田", "佐藤", "鈴木"} {
			in := crm.ContactInput{Email: ptr(string(rune('a'+i)) + "@example.jp"), FamilyName: ptr(n), GivenName: ptr("太郎"),
				FamilyNameKana: ptr("ヤマダ"), Title: ptr("部長\n兼 課長"), Phone: ptr("03-1234-5678"), CompanyID: &co.ID, OwnerID: &f.admin.UserID}
			if i == 2 {
				in.LifecycleStage = ptr(platform.StageCustomer)
			}
			if _, err := f.crm.CreateContact(ctx, f.admin, in); err != nil {
				t.Fatal(err)
			}
		}
		var buf bytes.Buffer
		cols := []string{"email", "company", "title", "stage", "owner"}
		n, err := f.io.ExportContacts(ctx, &buf, f.admin, crm.ContactFilter{Stage: platform.StageLead}, dataio.ExportOptions{Cols: cols, Lang: "ja"})
		if err != nil || n != 2 {
			t.Fatalf("exported %d, %v", n, err)
		}
		out := buf.String()
		if !strings.HasPrefix(out, "\ufeff姓,名,姓(カナ),名(カナ),メールアドレス,会社名,役職,ライフサイクルステージ,担当者\n") {
			t.Fatalf("head:\n%s", out)
		}
		if strings.Contains(out, "鈴木") {
			t.Error("the filter was not applied")
		}
		if !strings.Contains(out, `"株式会社両輪, ""本社"""`) || !strings.Contains(out, "\"部長\n兼 課長\"") || !strings.Contains(out, "管理 花子") {
			t.Errorf("values:\n%s", out)
		}
		// Import the export into a fresh workspace database: the same records come back.
		d2 := dbtest.Open(t, d.Dialect)
		f2 := setup(t, d2)
		im := f2.importCSV(t, dataio.Contacts, out, dataio.ModeUpdate)
		if counts(im) != "created 2 updated 0 skipped 0 failed 0" || im.CompaniesCreated != 1 {
			t.Fatalf("re-import: %s, mapping %q", counts(im), im.Mapping)
		}
		c, err := f2.crm.ContactByEmail(ctx, d2.Reader(), f2.admin, "a@example.jp")
		if err != nil || c.FamilyName != "山田" || c.Title != "部長\n兼 課長" || c.OwnerID != f2.admin.UserID || c.CompanyID == 0 {
			t.Fatalf("re-imported = %+v, %v", c, err)
		}
		co2, _ := f2.crm.GetCompany(ctx, d2.Reader(), f2.admin, c.CompanyID)
		if co2.Name != co.Name {
			t.Errorf("company %q, want %q", co2.Name, co.Name)
		}
	})
}

func TestExport_CompaniesAndUnknownColumns(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := setup(t, d)
		ctx := context.Background()
		for _, n := range []string{"株式会社エー", "ビー合同会社"} {
			if _, err := f.crm.CreateCompany(ctx, f.admin, crm.CompanyInput{Name: ptr(n), Employees: ptr(int64(120))}); err != nil {
				t.Fatal(err)
			}
		}
		var buf bytes.Buffer
		n, err := f.io.ExportCompanies(ctx, &buf, f.admin, crm.CompanyFilter{Q: "会社エー"}, dataio.ExportOptions{Cols: []string{"employees"}})
		if err != nil || n != 1 || buf.String() != "\ufeffCompany name,Company name (kana),Employees\n株式会社エー,,120\n" {
			t.Fatalf("%d, %v:\n%q", n, err, buf.String())
		}
		if _, err := f.io.ExportCompanies(ctx, &buf, f.admin, crm.CompanyFilter{}, dataio.ExportOptions{Cols: []string{"password"}}); err == nil {
			t.Error("an unknown column was accepted")
		}
	})
}
