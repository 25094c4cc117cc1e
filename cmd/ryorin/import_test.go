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
