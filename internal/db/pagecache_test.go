package db_test

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/ryorin/ryorin/internal/db"
)

// rssAnon is the process's resident anonymous memory in KiB, from /proc.
func rssAnon(t *testing.T) int {
	t.Helper()
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Skip("no /proc/self/status here:", err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "RssAnon:"); ok {
			n, err := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(v), " kB"))
			if err != nil {
				t.Fatal(err)
			}
			return n
		}
	}
	t.Skip("no RssAnon in /proc/self/status")
	return 0
}

// The writer's full page cache stays within the memory it is sized for:
// about 1.8× its cache_size, because the allocator under modernc.org/sqlite
// rounds every cached page up to 8 KiB (db.go). Raising the cache without
// that in mind takes serve past its memory target during a large import.
func TestOpenSQLite_AFullWriterCacheTakesAbout1_8TimesItsSize(t *testing.T) {
	ctx := context.Background()
	d, err := db.OpenSQLite(ctx, filepath.Join(t.TempDir(), "ryorin.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	before := rssAnon(t)
	// 12,000 rows of 3,000 bytes: about 47 MB of pages, more than the cache
	// holds, made inside SQLite so that Go's heap does not move.
	err = d.Write(ctx, "test.fill", func(tx *db.Tx) error {
		_, err := tx.ExecContext(ctx, `CREATE TABLE filler (id INTEGER PRIMARY KEY, b BLOB);
			WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < 12000)
			INSERT INTO filler SELECT x, randomblob(3000) FROM n`)
		if err != nil {
			return err
		}
		var total int64
		return tx.QueryRowContext(ctx, `SELECT SUM(LENGTH(b)) FROM filler`).Scan(&total)
	})
	if err != nil {
		t.Fatal(err)
	}
	grew := rssAnon(t) - before
	t.Logf("resident anonymous memory grew %d KiB with the writer's %d KiB cache full", grew, db.WriterCacheKiB)
	if grew < db.WriterCacheKiB || grew > db.WriterCacheKiB*25/10 {
		t.Errorf("a full %d KiB writer cache took %d KiB; want between 1× and 2.5× (about 1.8–2×)", db.WriterCacheKiB, grew)
	}
}
