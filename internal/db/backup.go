package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// ErrPostgresBackup says a PostgreSQL database is backed up with its own tools.
var ErrPostgresBackup = errors.New("PostgreSQL is backed up with pg_dump (e.g. pg_dump -Fc -f ryorin.dump $RYORIN_DATABASE_URL) and restored with pg_restore; see the README")

// Backup writes a consistent copy of a SQLite database to path (which must
// not exist) while it stays in use: VACUUM INTO reads one snapshot, so
// writes going on during the copy are either wholly in it or not at all.
func (db *DB) Backup(ctx context.Context, path string) error {
	if db.Dialect != SQLite {
		return ErrPostgresBackup
	}
	if _, err := os.Stat(path); err == nil {
		return fmt.Errorf("db.Backup: %s already exists; choose a new file", path)
	}
	// Its own connection: readers are query-only, and the writer must stay
	// free for the product while the copy runs.
	c, err := sql.Open("sqlite", sqliteURI(db.path)+"?_pragma=busy_timeout(10000)")
	if err != nil {
		return err
	}
	defer c.Close()
	if _, err := c.ExecContext(ctx, `VACUUM INTO ?`, path); err != nil {
		return fmt.Errorf("db.Backup: %w", err)
	}
	return nil
}

// Restore replaces the SQLite database in dataDir with the backup at src,
// after checking that src is a Ryorin database and that nothing has the
// current one open (a running `ryorin serve` must be stopped first). The
// database being replaced is kept beside it as ryorin.db.before-restore.
func Restore(ctx context.Context, src, dataDir string) error {
	if err := checkBackup(ctx, src); err != nil {
		return err
	}
	if err := os.MkdirAll(dataDir, 0o750); err != nil {
		return err
	}
	dst := filepath.Join(dataDir, "ryorin.db")
	if _, err := os.Stat(dst); err == nil {
		if err := checkUnused(ctx, dst); err != nil {
			return err
		}
		old := dst + ".before-restore"
		_ = os.Remove(old)
		// A clean close above checkpointed the WAL, so the file alone is
		// the whole database.
		if err := os.Rename(dst, old); err != nil {
			return fmt.Errorf("db.Restore: keep the current database: %w", err)
		}
		_ = os.Remove(dst + "-wal")
		_ = os.Remove(dst + "-shm")
	}
	// The search index is rebuilt from the restored tables (ADR 0028).
	for _, f := range []string{"", "-wal", "-shm"} {
		_ = os.Remove(searchPath(dst) + f)
	}
	tmp := dst + ".restoring"
	if err := copyFile(src, tmp); err != nil {
		return fmt.Errorf("db.Restore: %w", err)
	}
	return os.Rename(tmp, dst)
}

// checkBackup opens src read-only and looks for Ryorin's migration table.
func checkBackup(ctx context.Context, src string) error {
	if _, err := os.Stat(src); err != nil {
		return fmt.Errorf("db.Restore: %w", err)
	}
	c, err := sql.Open("sqlite", sqliteURI(src)+"?mode=ro&_pragma=query_only(1)")
	if err != nil {
		return err
	}
	defer c.Close()
	var n int
	if err := c.QueryRowContext(ctx, `SELECT COUNT(*) FROM schema_migrations`).Scan(&n); err != nil || n == 0 {
		return fmt.Errorf("db.Restore: %s is not a Ryorin backup (%v)", src, err)
	}
	if err := c.QueryRowContext(ctx, `PRAGMA integrity_check`).Scan(new(string)); err != nil {
		return fmt.Errorf("db.Restore: %s fails the integrity check: %w", src, err)
	}
	return nil
}

// checkUnused refuses while another process has the database open: in WAL
// mode an exclusive locking connection cannot start while others read.
func checkUnused(ctx context.Context, path string) error {
	c, err := sql.Open("sqlite", sqliteURI(path)+"?_pragma=busy_timeout(200)&_pragma=locking_mode(EXCLUSIVE)")
	if err != nil {
		return err
	}
	defer c.Close()
	c.SetMaxOpenConns(1)
	if _, err := c.ExecContext(ctx, `BEGIN EXCLUSIVE; COMMIT`); err != nil {
		return fmt.Errorf("db.Restore: the database is in use (stop ryorin serve first): %w", err)
	}
	// Leave it checkpointed so the main file holds everything.
	_, _ = c.ExecContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`)
	return nil
}

func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o640)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	if err := out.Sync(); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
