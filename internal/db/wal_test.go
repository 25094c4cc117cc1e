package db_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/ryorin/ryorin/internal/db"
)

// TestSQLite_WALStaysBoundedUnderSustainedWrites guards against a WAL that
// never resets: after many write transactions with no pause, the WAL file
// must stay near SQLite's checkpoint threshold, not grow with the data.
func TestSQLite_WALStaysBoundedUnderSustainedWrites(t *testing.T) {
	d, dir := blobDB(t)
	for i := 0; i < 1200; i++ { // ~1,200 × 50 rows × 800 bytes ≈ 48 MB of data, three times the threshold
		writeBlobs(t, d)
	}
	st, err := os.Stat(filepath.Join(dir, "t.db-wal"))
	if err != nil {
		t.Fatal(err)
	}
	if st.Size() > 24<<20 { // the threshold is 4,000 pages (16 MB)
		t.Fatalf("WAL is %d MB after sustained writes; it is not being checkpointed", st.Size()>>20)
	}
}

// An import raises the writer's checkpoint threshold and copies the WAL from
// a reader connection instead; the threshold must come back as it was.
func TestSQLite_CheckpointThresholdAndReaderCheckpoint(t *testing.T) {
	d, dir := blobDB(t)
	ctx := context.Background()
	prev, err := d.SetWALAutocheckpoint(ctx, 8000)
	if err != nil || prev != 4000 {
		t.Fatalf("threshold was %d, %v; want the 4000 OpenSQLite sets", prev, err)
	}
	for i := 0; i < 200; i++ {
		writeBlobs(t, d)
		if err := d.Checkpoint(ctx); err != nil {
			t.Fatal(err)
		}
	}
	// Checkpointed from a reader after every commit, the WAL restarts from
	// its beginning instead of growing to the raised threshold.
	if st, err := os.Stat(filepath.Join(dir, "t.db-wal")); err != nil || st.Size() > 4<<20 {
		t.Fatalf("WAL: %v, %v", st.Size(), err)
	}
	if prev, err := d.SetWALAutocheckpoint(ctx, prev); err != nil || prev != 8000 {
		t.Fatalf("threshold was %d, %v; want 8000", prev, err)
	}
}

// TestSQLite_OverlappingRaisesRestoreTheThresholdOnce: two bulk jobs raise
// the checkpoint threshold and end in the order they did not start; only the
// last one to end puts the threshold back, to what it was before both.
func TestSQLite_OverlappingRaisesRestoreTheThresholdOnce(t *testing.T) {
	d, err := db.OpenSQLite(context.Background(), filepath.Join(t.TempDir(), "t.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	ctx := context.Background()
	threshold := func() int {
		t.Helper()
		v, err := d.SetWALAutocheckpoint(ctx, 0)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := d.SetWALAutocheckpoint(ctx, v); err != nil {
			t.Fatal(err)
		}
		return v
	}
	first, err := d.RaiseWALAutocheckpoint(ctx, 8000)
	if err != nil {
		t.Fatal(err)
	}
	second, err := d.RaiseWALAutocheckpoint(ctx, 8000)
	if err != nil {
		t.Fatal(err)
	}
	first()
	first() // a second call does nothing
	if got := threshold(); got != 8000 {
		t.Errorf("one of two raises restored: threshold %d, want still 8000", got)
	}
	second()
	if got := threshold(); got != 4000 {
		t.Errorf("both restored: threshold %d, want the 4000 OpenSQLite sets", got)
	}
}

// TestSQLite_RaisedThresholdCommitsCheckpointInTheBackground: while the
// writer's threshold is raised (serve, imports), each commit starts a
// checkpoint on a reader, so the data reaches the database file although the
// writer itself never reaches its threshold.
func TestSQLite_RaisedThresholdCommitsCheckpointInTheBackground(t *testing.T) {
	d, dir := blobDB(t)
	ctx := context.Background()
	restore, err := d.RaiseWALAutocheckpoint(ctx, 8000)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 200; i++ { // about 8 MB: a quarter of the raised threshold
		writeBlobs(t, d)
	}
	// A checkpoint that ran beside the writes copies what was committed when
	// it started; later small commits start further ones. Without them the
	// writer, far below its threshold, never copies anything.
	var size int64
	for i := 0; i < 200 && size < 4<<20; i++ {
		if err := d.Write(ctx, "t", func(tx *db.Tx) error {
			_, err := tx.ExecContext(ctx, `INSERT INTO blob (v) VALUES ('x')`)
			return err
		}); err != nil {
			t.Fatal(err)
		}
		time.Sleep(5 * time.Millisecond)
		st, err := os.Stat(filepath.Join(dir, "t.db"))
		if err != nil {
			t.Fatal(err)
		}
		size = st.Size()
	}
	restore() // waits for the background checkpoint; copies nothing itself
	if size < 4<<20 {
		t.Fatalf("the database file holds %d KB after 8 MB of commits: nothing checkpointed them", size>>10)
	}
}

// blobDB opens a SQLite database in a temporary directory with a table of
// blobs; it returns the database and the directory.
func blobDB(t *testing.T) (*db.DB, string) {
	t.Helper()
	dir := t.TempDir()
	d, err := db.OpenSQLite(context.Background(), filepath.Join(dir, "t.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	ctx := context.Background()
	if err := d.Write(ctx, "t", func(tx *db.Tx) error {
		_, err := tx.ExecContext(ctx, `CREATE TABLE blob (id INTEGER PRIMARY KEY, v TEXT)`)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	return d, dir
}

// writeBlobs commits one transaction of 50 rows of 800 bytes (about 40 KB).
func writeBlobs(t *testing.T, d *db.DB) {
	t.Helper()
	ctx := context.Background()
	payload := fmt.Sprintf("%0800d", 7)
	if err := d.Write(ctx, "t", func(tx *db.Tx) error {
		for j := 0; j < 50; j++ {
			if _, err := tx.ExecContext(ctx, `INSERT INTO blob (v) VALUES (?)`, payload); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
}
