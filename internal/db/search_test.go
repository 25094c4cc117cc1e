package db_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/ryorin/ryorin/internal/db"
)

// searchIDs returns the contacts whose search text contains q, through the
// search file's trigram index, after the index caught up.
func searchIDs(t *testing.T, d *db.DB, q string) []int64 {
	t.Helper()
	ctx := context.Background()
	if err := d.SearchCatchUp(ctx, time.Minute); err != nil {
		t.Fatal(err)
	}
	rows, err := d.Reader().QueryContext(ctx, `SELECT id FROM contacts WHERE id IN (SELECT rowid FROM `+db.SearchTable("contacts")+
		` WHERE contacts_fts MATCH ?) ORDER BY id`, `"`+q+`"`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	return ids
}

// searchDB is a migrated SQLite database with one workspace.
type searchDB struct {
	t *testing.T
	d *db.DB
}

func newSearchDB(t *testing.T, path string) *searchDB {
	d := reopen(t, path)
	if _, err := d.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	f := &searchDB{t, d}
	f.exec(`INSERT INTO workspaces (id, name, signing_key, created_at, updated_at) VALUES (1, 'w', 'k', 0, 0)`)
	return f
}

func (f *searchDB) exec(q string, args ...any) {
	f.t.Helper()
	ctx := context.Background()
	if err := f.d.Write(ctx, "t", func(tx *db.Tx) error { _, err := tx.ExecContext(ctx, q, args...); return err }); err != nil {
		f.t.Fatal(err)
	}
}

func reopen(t *testing.T, path string) *db.DB {
	t.Helper()
	d, err := db.OpenSQLite(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// add inserts contact id with this search text (and an email made from it).
func (f *searchDB) add(id int, text string) {
	f.t.Helper()
	f.exec(`INSERT INTO contacts (id, workspace_id, email, search_text, props, lifecycle_changed_at, created_at, updated_at) VALUES (?, 1, ?, ?, '{}', 0, 0, 0)`,
		id, fmt.Sprintf("c%d@example.jp", id), text)
}

func TestSearchIndex_FollowsWritesAndIsRebuiltWhenItsFileIsGone(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "ryorin.db")
	f := newSearchDB(t, path)
	d, exec := f.d, f.exec
	for i, text := range []string{"tanaka taro 田中太郎", "suzuki ichiro 鈴木一郎", "tanabe hanako 田辺花子"} {
		f.add(i+1, text)
	}
	if got := searchIDs(t, d, "tana"); !slices.Equal(got, []int64{1, 3}) {
		t.Fatalf("tana: %v, want [1 3]", got)
	}
	exec(`UPDATE contacts SET search_text = 'yamada taro 山田太郎' WHERE id = 1`)
	exec(`DELETE FROM contacts WHERE id = 3`)
	// SQLite hands the highest id out again once its row is gone.
	f.add(3, "kondo 近藤")
	if got := searchIDs(t, d, "tana"); len(got) != 0 {
		t.Errorf("tana after the change, the delete and the reuse of id 3: %v, want none", got)
	}
	if got := searchIDs(t, d, "kondo"); !slices.Equal(got, []int64{3}) {
		t.Errorf("kondo: %v, want [3]", got)
	}
	if got := searchIDs(t, d, "山田太"); !slices.Equal(got, []int64{1}) {
		t.Errorf("山田太: %v, want [1]", got)
	}
	var queued int
	if err := d.Reader().QueryRowContext(ctx, `SELECT COUNT(*) FROM search_queue`).Scan(&queued); err != nil || queued != 0 {
		t.Errorf("the queue holds %d rows after the index caught up (%v)", queued, err)
	}
	d.Close()

	// The file holds derived data: without it, the index is filled again.
	for _, f := range []string{".search.db", ".search.db-wal", ".search.db-shm"} {
		_ = os.Remove(filepath.Join(filepath.Dir(path), "ryorin"+f))
	}
	d = reopen(t, path)
	f.d = d
	defer d.Close()
	if got := searchIDs(t, d, "一郎"); len(got) != 0 {
		t.Errorf("一郎 (two characters, no trigram): %v", got)
	}
	if got := searchIDs(t, d, "鈴木一"); !slices.Equal(got, []int64{2}) {
		t.Errorf("鈴木一 after the rebuild: %v, want [2]", got)
	}
	if got := searchIDs(t, d, "taro"); !slices.Equal(got, []int64{1}) {
		t.Errorf("taro after the rebuild: %v, want [1]", got)
	}
}

func TestSearchIndex_AFileOfAnotherCopyOfTheDatabaseIsRebuilt(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	path := filepath.Join(dir, "ryorin.db")
	f := newSearchDB(t, path)
	d, add := f.d, f.add
	add(1, "ogawa 小川")
	if err := d.Backup(ctx, filepath.Join(dir, "then.db")); err != nil {
		t.Fatal(err)
	}
	add(2, "ishii 石井")
	add(3, "maeda 前田")
	if got := searchIDs(t, d, "ishii"); !slices.Equal(got, []int64{2}) {
		t.Fatalf("ishii: %v", got)
	}
	d.Close()
	// The older database put back by hand, beside the newer search file.
	if err := os.Rename(filepath.Join(dir, "then.db"), path); err != nil {
		t.Fatal(err)
	}
	d = reopen(t, path)
	f.d = d
	defer d.Close()
	// Its next contact gets id 2 and queue entry 2 again, both of which the
	// search file has seen.
	add(2, "harada 原田")
	if got := searchIDs(t, d, "ishii"); len(got) != 0 {
		t.Errorf("ishii is found in a database that never had it: %v", got)
	}
	if got := searchIDs(t, d, "harada"); !slices.Equal(got, []int64{2}) {
		t.Errorf("harada: %v, want [2]", got)
	}
	if got := searchIDs(t, d, "ogawa"); !slices.Equal(got, []int64{1}) {
		t.Errorf("ogawa: %v, want [1]", got)
	}
}
