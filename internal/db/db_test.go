package db_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ryorin/ryorin/internal/db"
	"github.com/ryorin/ryorin/internal/dbtest"
)

func TestMain(m *testing.M) { os.Exit(dbtest.Main(m)) }

func TestRebind_NumbersPlaceholdersOutsideLiterals(t *testing.T) {
	cases := []struct{ in, want string }{
		{"SELECT 1", "SELECT 1"},
		{"a = ? AND b = ?", "a = $1 AND b = $2"},
		{"x = '?' AND y = ?", "x = '?' AND y = $1"},
		{"-- why?\nz = ?", "-- why?\nz = $1"},
		{`"we?ird" = ?`, `"we?ird" = $1`},
	}
	for _, c := range cases {
		if got := db.Rebind(db.Postgres, c.in); got != c.want {
			t.Errorf("rebind(%q) = %q, want %q", c.in, got, c.want)
		}
		if got := db.Rebind(db.SQLite, c.in); got != c.in {
			t.Errorf("sqlite rebind changed %q", c.in)
		}
	}
}

func TestMigrate_AppliesOnceOnBothEngines(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		n, err := d.Migrate(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if n != 0 {
			t.Fatalf("second migrate applied %d migrations, want 0", n)
		}
		p, err := d.Pending(ctx)
		if err != nil || p != 0 {
			t.Fatalf("pending = %d, %v", p, err)
		}
	})
}

func TestWrite_RollsBackOnError(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		err := d.Write(ctx, "test", func(tx *db.Tx) error {
			if _, err := tx.ExecContext(ctx, `INSERT INTO workspaces (id, name, signing_key, created_at, updated_at) VALUES (?, ?, ?, ?, ?)`, 99, "x", "k", 1, 1); err != nil {
				return err
			}
			return os.ErrInvalid
		})
		if err == nil {
			t.Fatal("want error")
		}
		var n int
		if err := d.Reader().QueryRowContext(ctx, `SELECT COUNT(*) FROM workspaces WHERE id = 99`).Scan(&n); err != nil || n != 0 {
			t.Fatalf("rows after rollback = %d, %v", n, err)
		}
	})
}

// Read's queries see one snapshot: a commit made between two of them does
// not show in the second (on SQLite the connection keeps its page cache for
// the whole run; on PostgreSQL the transaction is repeatable read).
func TestRead_QueriesSeeOneSnapshot(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		count := func(q db.Querier) int {
			t.Helper()
			var n int
			if err := q.QueryRowContext(ctx, `SELECT COUNT(*) FROM workspaces WHERE id = ?`, 98).Scan(&n); err != nil {
				t.Fatal(err)
			}
			return n
		}
		err := d.Read(ctx, func(q db.Querier) error {
			before := count(q)
			if err := d.Write(ctx, "test", func(tx *db.Tx) error {
				_, err := tx.ExecContext(ctx, `INSERT INTO workspaces (id, name, signing_key, created_at, updated_at) VALUES (?, ?, ?, ?, ?)`, 98, "x", "k", 1, 1)
				return err
			}); err != nil {
				return err
			}
			if after := count(q); after != before {
				t.Errorf("inside Read: %d rows, then %d after another commit", before, after)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if n := count(d.Reader()); n != 1 {
			t.Errorf("after Read: %d rows, want 1", n)
		}
	})
}

func TestFlushLater_OnlyForItsOwnTransaction(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		mode := func(tx *db.Tx) string {
			if tx.Dialect() != db.Postgres {
				return "on"
			}
			var m string
			if err := tx.QueryRowContext(ctx, `SHOW synchronous_commit`).Scan(&m); err != nil {
				t.Fatal(err)
			}
			return m
		}
		var in, after string
		if err := d.Write(ctx, "test", func(tx *db.Tx) error {
			if err := tx.FlushLater(ctx); err != nil {
				return err
			}
			in = mode(tx)
			_, err := tx.ExecContext(ctx, `INSERT INTO workspaces (id, name, signing_key, created_at, updated_at) VALUES (?, ?, ?, ?, ?)`, 98, "x", "k", 1, 1)
			return err
		}); err != nil {
			t.Fatal(err)
		}
		if err := d.Write(ctx, "test", func(tx *db.Tx) error { after = mode(tx); return nil }); err != nil {
			t.Fatal(err)
		}
		if want := map[db.Dialect]string{db.Postgres: "off", db.SQLite: "on"}[d.Dialect]; in != want || after != "on" {
			t.Fatalf("synchronous_commit in the transaction %q (want %q), in the next %q", in, want, after)
		}
		var n int
		if err := d.Reader().QueryRowContext(ctx, `SELECT COUNT(*) FROM workspaces WHERE id = 98`).Scan(&n); err != nil || n != 1 {
			t.Fatalf("committed rows = %d, %v", n, err)
		}
	})
}

func TestOpenSQLite_PathsWithURICharactersOpenTheNamedFile(t *testing.T) {
	for _, name := range []string{"a#1.db", "b?x=1.db", "c%23.db", "営業 データ.db"} {
		dir := t.TempDir()
		path := filepath.Join(dir, name)
		d, err := db.OpenSQLite(context.Background(), path)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if err := d.Write(context.Background(), "t", func(tx *db.Tx) error {
			_, err := tx.ExecContext(context.Background(), `CREATE TABLE t (x)`)
			return err
		}); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		d.Close()
		if _, err := os.Stat(path); err != nil {
			t.Errorf("%s: the database is not at the given path: %v", name, err)
		}
		entries, _ := os.ReadDir(dir)
		for _, e := range entries {
			// ryorin.db's files, and its search index ryorin.search.db's
			if !strings.HasPrefix(e.Name(), strings.TrimSuffix(name, ".db")) {
				t.Errorf("%s: a file with another name was created: %q", name, e.Name())
			}
		}
	}
}

func TestPlaceholdersAndRows_RepeatWithCommas(t *testing.T) {
	for _, tc := range []struct {
		got, want string
	}{
		{db.Placeholders(0), ""},
		{db.Placeholders(1), "?"},
		{db.Placeholders(3), "?, ?, ?"},
		{db.Rows(0, "(?, ?)"), ""},
		{db.Rows(1, "(?, ?)"), "(?, ?)"},
		{db.Rows(3, "(?, ?)"), "(?, ?), (?, ?), (?, ?)"},
	} {
		if tc.got != tc.want {
			t.Errorf("got %q, want %q", tc.got, tc.want)
		}
	}
}

func TestWriteBulk_LetsWaitingWritersGoFirst(t *testing.T) {
	ctx := context.Background()
	d, err := db.OpenSQLite(ctx, filepath.Join(t.TempDir(), "bulk.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	release := make(chan struct{})
	held := make(chan struct{})
	var mu sync.Mutex
	var order []string
	note := func(s string) func(*db.Tx) error {
		return func(*db.Tx) error { mu.Lock(); order = append(order, s); mu.Unlock(); return nil }
	}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		_ = d.Write(ctx, "holder", func(*db.Tx) error { close(held); <-release; return nil })
	}()
	<-held
	// Three requests queue for the writer, then a bulk batch: without the
	// yield the pool hands the writer to a random waiter, and the batch
	// would come last only one time in four.
	for _, name := range []string{"a", "b", "c"} {
		wg.Add(1)
		go func() { defer wg.Done(); _ = d.Write(ctx, name, note(name)) }()
	}
	time.Sleep(50 * time.Millisecond)
	wg.Add(1)
	go func() { defer wg.Done(); _ = d.WriteBulk(ctx, "bulk", note("bulk")) }()
	time.Sleep(50 * time.Millisecond)
	close(release)
	wg.Wait()
	if len(order) != 4 || order[3] != "bulk" {
		t.Fatalf("order %v: the bulk batch went before a waiting request", order)
	}
}

func TestAnalyze_RefreshesTheNamedTablesStatistics(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		err := d.Write(ctx, "test", func(tx *db.Tx) error {
			for _, t := range []string{"stat_a", "stat_b", "stat_c"} {
				if _, err := tx.ExecContext(ctx, `CREATE TABLE `+t+` (id INTEGER PRIMARY KEY, v TEXT);
					CREATE INDEX `+t+`_v ON `+t+` (v)`); err != nil {
					return err
				}
				if _, err := tx.ExecContext(ctx, `INSERT INTO `+t+` (id, v) VALUES (1, 'x'), (2, 'y')`); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if err := d.Analyze(ctx, "stat_a", "stat_b"); err != nil {
			t.Fatal(err)
		}
		// stat_c is not named: it must stay without statistics.
		q := `SELECT COUNT(DISTINCT tbl) FROM sqlite_stat1 WHERE tbl LIKE 'stat_%'`
		if d.Dialect == db.Postgres {
			q = `SELECT COUNT(*) FROM pg_stat_user_tables WHERE relname LIKE 'stat_%' AND last_analyze IS NOT NULL`
		}
		var n int
		if err := d.Reader().QueryRowContext(ctx, q).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n != 2 {
			t.Errorf("%d tables have fresh statistics, want the 2 named", n)
		}
		if err := d.Analyze(ctx, "no_such_table"); err == nil {
			t.Error("analyzing a table that does not exist: no error")
		}
	})
}
