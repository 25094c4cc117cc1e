package db_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ryorin/ryorin/internal/db"
)

func TestBackup_ACopyTakenWhileInUseRestoresIntoAStoppedInstall(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	d, err := db.Open(ctx, "", filepath.Join(dir, "data"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	write := func(name string) {
		t.Helper()
		if err := d.Write(ctx, "test", func(tx *db.Tx) error {
			_, err := tx.ExecContext(ctx, `INSERT INTO work_marks (workspace_id, name, value) VALUES (1, ?, 1)`, name)
			return err
		}); err != nil {
			t.Fatal(err)
		}
	}
	write("before-backup")
	backup := filepath.Join(dir, "backup.db")
	if err := d.Backup(ctx, backup); err != nil {
		t.Fatal(err)
	}
	if err := d.Backup(ctx, backup); err == nil || !strings.Contains(err.Error(), "already exists") {
		t.Fatalf("backup over an existing file: %v", err)
	}
	write("after-backup")
	// While the database is open, restoring over it is refused.
	if err := db.Restore(ctx, backup, filepath.Join(dir, "data")); err == nil || !strings.Contains(err.Error(), "in use") {
		t.Fatalf("restore over an open database: %v", err)
	}
	d.Close()
	if err := db.Restore(ctx, filepath.Join(dir, "nothing.db"), filepath.Join(dir, "data")); err == nil {
		t.Fatal("restored from a missing file")
	}
	junk := filepath.Join(dir, "junk.db")
	if err := os.WriteFile(junk, []byte("not a database"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := db.Restore(ctx, junk, filepath.Join(dir, "data")); err == nil {
		t.Fatal("restored from a file that is not a backup")
	}
	if err := db.Restore(ctx, backup, filepath.Join(dir, "data")); err != nil {
		t.Fatal(err)
	}
	d, err = db.Open(ctx, "", filepath.Join(dir, "data"))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	var names []string
	rows, err := d.Reader().QueryContext(ctx, `SELECT name FROM work_marks ORDER BY name`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var n string
		_ = rows.Scan(&n)
		names = append(names, n)
	}
	rows.Close()
	if strings.Join(names, ",") != "before-backup" {
		t.Fatalf("restored marks: %v", names)
	}
	if _, err := os.Stat(filepath.Join(dir, "data", "ryorin.db.before-restore")); err != nil {
		t.Fatalf("the replaced database was not kept: %v", err)
	}
}

func TestBackup_PostgreSQLPointsToPgDump(t *testing.T) {
	d := &db.DB{Dialect: db.Postgres}
	if err := d.Backup(context.Background(), "x"); !errors.Is(err, db.ErrPostgresBackup) {
		t.Fatalf("postgres backup: %v", err)
	}
}
