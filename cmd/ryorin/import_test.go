package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/text/encoding/japanese"
)

func TestImportExport_CommandLineOnBothEngines(t *testing.T) {
	engines := []string{"sqlite"}
	if os.Getenv("RYORIN_TEST_DATABASE_URL") != "" {
		engines = append(engines, "postgres")
	}
	for _, name := range engines {
		t.Run(name, func(t *testing.T) {
			vars := map[string]string{"RYORIN_DATA": filepath.Join(t.TempDir(), "data")}
			if name == "postgres" {
				vars["RYORIN_DATABASE_URL"] = freshPostgres(t)
			}
			e := testEnv(vars)
			ctx := context.Background()
			csv, err := japanese.ShiftJIS.NewEncoder().String("メールアドレス,姓,名,会社名,備考\r\n" +
				"taro@example.jp,山田,太郎,株式会社テスト,部長\r\nbad,佐藤,花子,,\r\nhanako@example.jp,鈴木,花子,テスト(株),課長\r\n")
			if err != nil {
				t.Fatal(err)
			}
			file := filepath.Join(t.TempDir(), "名簿.csv")
			if err := os.WriteFile(file, []byte(csv), 0o644); err != nil {
				t.Fatal(err)
			}
			var out, errb bytes.Buffer
			// Flags may follow the file name.
			if err := run(ctx, []string{"import", "contacts", file, "--map", "備考=title", "--mode", "update"}, e, nil, &out, &errb); err != nil {
				t.Fatalf("import: %v\n%s", err, errb.String())
			}
			if !strings.Contains(out.String(), "import 1 done: created 2, updated 0, skipped 0, failed 1, companies created 1") {
				t.Errorf("import output: %s", out.String())
			}
			for _, want := range []string{"shift_jis", "備考", "→ title", "rows in"} {
				if !strings.Contains(errb.String(), want) {
					t.Errorf("progress output lacks %q:\n%s", want, errb.String())
				}
			}
			out.Reset()
			if err := run(ctx, []string{"import", "errors", "1"}, e, nil, &out, &errb); err != nil || !strings.Contains(out.String(), "\n3,email,") {
				t.Errorf("errors: %v %q", err, out.String())
			}
			out.Reset()
			if err := run(ctx, []string{"export", "contacts", "--col", "email,company,title", "--lang", "ja"}, e, nil, &out, &errb); err != nil {
				t.Fatal(err)
			}
			if want := "\ufeff姓,名,姓(カナ),名(カナ),メールアドレス,会社名,役職\n山田,太郎,,,taro@example.jp,株式会社テスト,部長\n鈴木,花子,,,hanako@example.jp,株式会社テスト,課長\n"; out.String() != want {
				t.Errorf("export:\n%q\nwant\n%q", out.String(), want)
			}
			out.Reset()
			if err := run(ctx, []string{"import", "undo", "1"}, e, nil, &out, &errb); err != nil || !strings.Contains(out.String(), "import 1 undone") {
				t.Fatalf("undo: %v %s", err, out.String())
			}
			out.Reset()
			if err := run(ctx, []string{"import", "list"}, e, nil, &out, &errb); err != nil || !strings.Contains(out.String(), "undone") {
				t.Errorf("list: %v %s", err, out.String())
			}
			if err := run(ctx, []string{"import", "contacts"}, e, nil, &out, &errb); err == nil {
				t.Error("import without a file accepted")
			}
		})
	}
}

func TestImport_DealsAndCompaniesFromTheCommandLine(t *testing.T) {
	e := testEnv(map[string]string{"RYORIN_DATA": filepath.Join(t.TempDir(), "data")})
	ctx := context.Background()
	dir := t.TempDir()
	companies := filepath.Join(dir, "companies.csv")
	deals := filepath.Join(dir, "deals.csv")
	if err := os.WriteFile(companies, []byte("会社名,法人番号\n株式会社テスト,\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(deals, []byte("Opportunity Name,Account Name,Amount,Stage,Close Date,Ref\n"+
		"大型案件,テスト(株),\"¥1,200,000\",,2024/4/1,X-1\n新規,新しい会社,500,,令和6年4月1日,X-2\n壊れた,,abc,,,X-3\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	var out, errb bytes.Buffer
	if err := run(ctx, []string{"import", "companies", companies}, e, nil, &out, &errb); err != nil {
		t.Fatalf("import companies: %v\n%s", err, errb.String())
	}
	if !strings.Contains(out.String(), "import 1 done: created 1,") {
		t.Errorf("companies: %s", out.String())
	}
	out.Reset()
	if err := run(ctx, []string{"import", "deals", deals, "--map", "Ref=external_id", "--mode", "skip"}, e, nil, &out, &errb); err != nil {
		t.Fatalf("import deals: %v\n%s", err, errb.String())
	}
	if !strings.Contains(out.String(), "import 2 done: created 2, updated 0, skipped 0, failed 1, companies created 1") {
		t.Errorf("deals: %s", out.String())
	}
	if !strings.Contains(errb.String(), "salesforce columns") || !strings.Contains(errb.String(), "→ external_id") {
		t.Errorf("progress output:\n%s", errb.String())
	}
	out.Reset()
	if err := run(ctx, []string{"import", "errors", "2"}, e, nil, &out, &errb); err != nil || !strings.Contains(out.String(), "\n4,amount,") {
		t.Errorf("errors: %v %q", err, out.String())
	}
	acts := filepath.Join(dir, "activities.csv")
	if err := os.WriteFile(acts, []byte("種別,件名,日時,通話結果,案件ID\n電話,架電,2024/4/2 10:00,アポ獲得,X-1\nFAX,送付,,,X-1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out.Reset()
	if err := run(ctx, []string{"import", "activities", acts}, e, nil, &out, &errb); err != nil {
		t.Fatalf("import activities: %v\n%s", err, errb.String())
	}
	if !strings.Contains(out.String(), "import 3 done: created 1, updated 0, skipped 0, failed 1") {
		t.Errorf("activities: %s", out.String())
	}
	out.Reset()
	if err := run(ctx, []string{"import", "undo", "3"}, e, nil, &out, &errb); err != nil || !strings.Contains(out.String(), "import 3 undone") {
		t.Fatalf("undo activities: %v %s", err, out.String())
	}
	out.Reset()
	if err := run(ctx, []string{"import", "undo", "2"}, e, nil, &out, &errb); err != nil || !strings.Contains(out.String(), "import 2 undone") {
		t.Fatalf("undo: %v %s", err, out.String())
	}
}
