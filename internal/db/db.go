// Package db opens Ryorin's database (embedded SQLite or PostgreSQL), applies
// the embedded migrations, and hides the few dialect differences behind small
// helpers: placeholders, transactions, and a handful of SQL fragments.
// It must not import any other package of ours except errs.
package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" driver
	sqlite "modernc.org/sqlite"        // registers the "sqlite" driver
)

// Dialect names the SQL engine.
type Dialect string

// The supported engines.
const (
	SQLite   Dialect = "sqlite"
	Postgres Dialect = "postgres"
)

// DB is an open database: a writer pool and a reader pool. On SQLite the
// writer holds exactly one connection (SQLite has one writer at a time) and
// readers are many; on PostgreSQL both are the same pool.
type DB struct {
	Dialect Dialect
	w       *sql.DB
	r       *sql.DB
	path    string // SQLite: the database file
	// OnSlowTx is told how long each write transaction held the writer (d)
	// and how much of it was the commit (on SQLite: writing the WAL, and a
	// checkpoint when one falls to the writer). serve logs those over 50 ms;
	// tests use it to prove bulk work commits in small batches.
	OnSlowTx func(name string, d, commit time.Duration)

	walMu sync.Mutex
	// walRaised counts the RaiseWALAutocheckpoint calls not yet restored;
	// while it is above zero every commit starts a background checkpoint on
	// a reader unless one is running (ckRunning; ADR 0023).
	walRaised atomic.Int32
	walPrev   int // the threshold before the first of them
	ckRunning atomic.Bool
	// waiting counts Write calls waiting for the writer; on SQLite
	// WriteBulk lets them go first.
	waiting atomic.Int32
	// search is SQLite's search index file (ADR 0028); nil on PostgreSQL.
	search *searchIndex
}

// Open opens the database named by url. An empty url or one starting with
// "sqlite:" or "file:" means SQLite; "postgres://" or "postgresql://" means
// PostgreSQL. For SQLite, dataDir holds the file ryorin.db.
func Open(ctx context.Context, url, dataDir string) (*DB, error) {
	if strings.HasPrefix(url, "postgres://") || strings.HasPrefix(url, "postgresql://") {
		return openPostgres(ctx, url)
	}
	path := strings.TrimPrefix(strings.TrimPrefix(url, "sqlite:"), "file:")
	if path == "" {
		if dataDir == "" {
			dataDir = "ryorin-data"
		}
		if err := os.MkdirAll(dataDir, 0o750); err != nil {
			return nil, fmt.Errorf("db.Open: create data dir: %w", err)
		}
		path = filepath.Join(dataDir, "ryorin.db")
	}
	return OpenSQLite(ctx, path)
}

// WriterCacheKiB and ReaderCacheKiB are the SQLite page caches' cache_size
// of the writer and of each reader, in KiB (see OpenSQLite for the memory
// they take).
const (
	WriterCacheKiB = 16 << 10
	ReaderCacheKiB = 4 << 10
)

// OpenSQLite opens (creating if needed) the SQLite database at path.
func OpenSQLite(ctx context.Context, path string) (*DB, error) {
	// busy_timeout comes first so every later pragma already waits for locks.
	pragmas := "_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=foreign_keys(1)" +
		"&_pragma=synchronous(NORMAL)&_pragma=temp_store(MEMORY)&_pragma=journal_size_limit(67108864)"
	// The writer checkpoints the WAL itself when it passes 4,000 pages (16 MB;
	// SQLite's default is 1,000). Hot pages (the right edge of append-ordered
	// indexes, visitor and session rows) are rewritten by commit after commit,
	// so a longer interval copies each of them once instead of four times and
	// fsyncs the database a quarter as often: tracking ingest gained about
	// 15 % (docs/benchmarks.md). `serve` and imports raise it further and
	// checkpoint from a reader after each commit (RaiseWALAutocheckpoint).
	// A background-only checkpointer was tried and rejected: under sustained
	// writes a PASSIVE checkpoint never catches up, so the WAL never resets
	// and grows without bound (80 GB in one benchmark run); the writer's own
	// threshold stays the bound.
	// The path goes into a URI: escape what would end it early ('?' starts the
	// query, '#' a fragment) and '%', which SQLite decodes.
	uri := sqliteURI(path)
	// Page caches: 16 MB for the writer, 4 MB per reader (WriterCacheKiB,
	// ReaderCacheKiB). The allocator under modernc.org/sqlite rounds each
	// cached page (4 KiB plus SQLite's header of about 300 bytes) up to
	// 8 KiB, so a full cache takes about 1.8× its cache_size: the writer's
	// former 32 MB took 59 MB. These sizes cost what 32 MB and 8 MB were
	// meant to. At 1,000,000 contacts imported by serve with events arriving,
	// serve's peak RSS went from 317 to 247 MB with the import and the event
	// latency unchanged (ADR 0030).
	w, err := sql.Open("sqlite", uri+"?"+pragmas+fmt.Sprintf("&_pragma=cache_size(-%d)", WriterCacheKiB)+"&_pragma=wal_autocheckpoint(4000)&_txlock=immediate")
	if err != nil {
		return nil, fmt.Errorf("db.OpenSQLite(%q): %w", path, err)
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	w.SetConnMaxIdleTime(0)
	if err := w.PingContext(ctx); err != nil {
		w.Close()
		return nil, fmt.Errorf("db.OpenSQLite(%q): %w", path, err)
	}
	search, err := openSearch(ctx, searchPath(path), pragmas)
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("db.OpenSQLite(%q): %w", path, err)
	}
	// Readers see the search index's file as the schema "search".
	r := sql.OpenDB(attachSearch{dsn: uri + "?" + pragmas + fmt.Sprintf("&_pragma=cache_size(-%d)", ReaderCacheKiB) + "&_pragma=query_only(1)",
		search: sqliteURI(search.path), drv: &sqlite.Driver{}})
	n := max(4, runtime.NumCPU()*2)
	r.SetMaxOpenConns(n)
	r.SetMaxIdleConns(n)
	r.SetConnMaxIdleTime(5 * time.Minute)
	if err := r.PingContext(ctx); err != nil {
		w.Close()
		search.w.Close()
		return nil, fmt.Errorf("db.OpenSQLite(%q) readers: %w", path, err)
	}
	return &DB{Dialect: SQLite, w: w, r: r, path: path, search: search}, nil
}

func openPostgres(ctx context.Context, url string) (*DB, error) {
	p, err := sql.Open("pgx", url)
	if err != nil {
		return nil, fmt.Errorf("db.Open postgres: %w", err)
	}
	p.SetMaxOpenConns(20)
	p.SetMaxIdleConns(10)
	p.SetConnMaxIdleTime(5 * time.Minute)
	pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := p.PingContext(pctx); err != nil {
		p.Close()
		return nil, fmt.Errorf("db.Open postgres: %w", err)
	}
	return &DB{Dialect: Postgres, w: p, r: p}, nil
}

// Close closes both pools. On SQLite it first checkpoints the WAL.
func (db *DB) Close() error {
	if db.search != nil {
		db.search.mu.Lock() // a running indexer batch ends first
		db.search.closed = true
		_, _ = db.search.w.Exec("PRAGMA wal_checkpoint(TRUNCATE)")
		db.search.w.Close()
		db.search.mu.Unlock()
	}
	db.waitCheckpoint()
	if db.Dialect == SQLite {
		_, _ = db.w.Exec("PRAGMA wal_checkpoint(TRUNCATE)")
	}
	err := db.w.Close()
	if db.r != db.w {
		if e := db.r.Close(); err == nil {
			err = e
		}
	}
	return err
}

// SetWALAutocheckpoint sets after how many WAL pages the writer copies the
// WAL into the database file at the end of a commit (SQLite's default is
// 1,000), and returns the value it had. PostgreSQL: it does nothing.
func (db *DB) SetWALAutocheckpoint(ctx context.Context, pages int) (int, error) {
	if db.Dialect != SQLite {
		return 0, nil
	}
	var prev int
	if err := db.w.QueryRowContext(ctx, `PRAGMA wal_autocheckpoint`).Scan(&prev); err != nil {
		return 0, fmt.Errorf("db.SetWALAutocheckpoint: %w", err)
	}
	if _, err := db.w.ExecContext(ctx, fmt.Sprintf(`PRAGMA wal_autocheckpoint = %d`, pages)); err != nil {
		return 0, fmt.Errorf("db.SetWALAutocheckpoint: %w", err)
	}
	return prev, nil
}

// BulkWALPages is the writer's checkpoint threshold while the WAL is copied
// from a reader after each commit (serve, an import): 8,000 pages (32 MB of
// WAL, under journal_size_limit's 64 MB). An import batch writes about 1,000
// WAL pages (each new contact dirties a page in every randomly ordered
// index), so at the usual 4,000 every fourth batch copied the WAL inside its
// own commit, holding the writer. The writer still checkpoints itself past
// this threshold, so the WAL stays bounded when the background copy falls
// behind, and that checkpoint then has only the last commits left to copy.
// See ADR 0023.
const BulkWALPages = 8000

// RaiseWALAutocheckpoint sets the writer's checkpoint threshold to pages
// until the returned restore is called, for bulk work (an import) whose WAL
// is copied by Checkpoint meanwhile. Overlapping callers share it: the
// threshold goes back to what it was when the last of them restores, so two
// imports ending in either order never leave it raised. PostgreSQL: nothing.
func (db *DB) RaiseWALAutocheckpoint(ctx context.Context, pages int) (restore func(), err error) {
	if db.Dialect != SQLite {
		return func() {}, nil
	}
	db.walMu.Lock()
	defer db.walMu.Unlock()
	if db.walRaised.Load() == 0 {
		prev, err := db.SetWALAutocheckpoint(ctx, pages)
		if err != nil {
			return func() {}, err
		}
		db.walPrev = prev
	}
	db.walRaised.Add(1)
	var once sync.Once
	return func() {
		once.Do(func() {
			db.walMu.Lock()
			defer db.walMu.Unlock()
			left := db.walRaised.Add(-1)
			db.waitCheckpoint()
			if left == 0 {
				// Not the caller's context: it may be cancelled, the setting must go back.
				_, _ = db.SetWALAutocheckpoint(context.WithoutCancel(ctx), db.walPrev)
			}
		})
	}, nil
}

// kickCheckpoint starts a background checkpoint unless one is running.
func (db *DB) kickCheckpoint() {
	if !db.ckRunning.CompareAndSwap(false, true) {
		return
	}
	go func() {
		defer db.ckRunning.Store(false)
		_ = db.Checkpoint(context.Background()) // best effort: the writer's threshold is the bound
	}()
}

// waitCheckpoint waits for a background checkpoint to end.
func (db *DB) waitCheckpoint() {
	for db.ckRunning.Load() {
		time.Sleep(time.Millisecond)
	}
}

// Checkpoint copies what it can of the WAL into the database file on a
// reader connection (a PASSIVE checkpoint): the writer goes on meanwhile,
// instead of doing that copy itself at its next commit. PostgreSQL: it does
// nothing.
func (db *DB) Checkpoint(ctx context.Context) error {
	if db.Dialect != SQLite {
		return nil
	}
	var busy, log, done int
	if err := db.r.QueryRowContext(ctx, `PRAGMA wal_checkpoint(PASSIVE)`).Scan(&busy, &log, &done); err != nil {
		return fmt.Errorf("db.Checkpoint: %w", err)
	}
	return nil
}

// Ping checks that the database answers.
func (db *DB) Ping(ctx context.Context) error { return db.r.PingContext(ctx) }

// Querier runs read queries. Both *DB (on the reader pool) and *Tx satisfy it,
// so store functions can be called inside or outside a transaction.
type Querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
	Dialect() Dialect
}

// Execer runs statements that change data: only a *Tx, so that every write
// goes through a transaction on the single writer.
type Execer interface {
	Querier
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

// Reader returns a Querier on the reader pool.
func (db *DB) Reader() Querier { return reader{db} }

type reader struct{ db *DB }

func (r reader) QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	return r.db.r.QueryContext(ctx, r.db.Rebind(q), args...)
}
func (r reader) QueryRowContext(ctx context.Context, q string, args ...any) *sql.Row {
	return r.db.r.QueryRowContext(ctx, r.db.Rebind(q), args...)
}
func (r reader) Dialect() Dialect { return r.db.Dialect }

// Read runs fn in one read-only transaction on a reader connection: its
// queries see one snapshot and, on SQLite, share the connection's page
// cache. (SQLite drops a connection's cached pages whenever another
// connection has written since its last transaction, so under steady writes
// a run of separate queries reads every page again from the file; one
// transaction reads each page once.)
func (db *DB) Read(ctx context.Context, fn func(q Querier) error) error {
	opts := &sql.TxOptions{} // SQLite: a deferred transaction, which reads one snapshot
	if db.Dialect == Postgres {
		opts = &sql.TxOptions{ReadOnly: true, Isolation: sql.LevelRepeatableRead}
	}
	tx, err := db.r.BeginTx(ctx, opts)
	if err != nil {
		return err
	}
	defer func() { _ = tx.Rollback() }()
	return fn(readTx{tx, db})
}

// readTx is the Querier of Read.
type readTx struct {
	tx *sql.Tx
	db *DB
}

func (r readTx) QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	return r.tx.QueryContext(ctx, r.db.Rebind(q), args...)
}
func (r readTx) QueryRowContext(ctx context.Context, q string, args ...any) *sql.Row {
	return r.tx.QueryRowContext(ctx, r.db.Rebind(q), args...)
}
func (r readTx) Dialect() Dialect { return r.db.Dialect }

// IsReader reports whether q reads from a reader pool (what Reader returns)
// rather than inside a transaction, so what it sees is committed data only.
func IsReader(q Querier) bool {
	_, ok := q.(reader)
	return ok
}

// Tx is a write transaction. Queries written with ? placeholders are rebound
// for PostgreSQL.
type Tx struct {
	tx      *sql.Tx
	dialect Dialect
	after   []func()
	// On SQLite, a statement run a second time in the transaction is
	// prepared and kept for the rest of it: a batch that repeats a few
	// statements hundreds of times parses each once, not every time. (pgx
	// caches prepared statements per connection by itself.)
	seen  map[string]bool
	stmts map[string]*sql.Stmt
}

// stmt returns the transaction's prepared statement for q once q runs for
// the second time on SQLite, or nil to run q directly.
func (t *Tx) stmt(ctx context.Context, q string) *sql.Stmt {
	if t.dialect != SQLite {
		return nil
	}
	if st := t.stmts[q]; st != nil {
		return st
	}
	if !t.seen[q] {
		if t.seen == nil {
			t.seen = map[string]bool{}
		}
		t.seen[q] = true
		return nil
	}
	if len(t.stmts) >= 64 {
		return nil
	}
	st, err := t.tx.PrepareContext(ctx, q)
	if err != nil {
		return nil // run directly; the error, if real, shows there
	}
	if t.stmts == nil {
		t.stmts = map[string]*sql.Stmt{}
	}
	t.stmts[q] = st
	return st
}

// QueryContext runs a query in the transaction.
func (t *Tx) QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	if st := t.stmt(ctx, q); st != nil {
		return st.QueryContext(ctx, args...)
	}
	return t.tx.QueryContext(ctx, rebind(t.dialect, q), args...)
}

// QueryRowContext runs a query returning one row in the transaction.
func (t *Tx) QueryRowContext(ctx context.Context, q string, args ...any) *sql.Row {
	if st := t.stmt(ctx, q); st != nil {
		return st.QueryRowContext(ctx, args...)
	}
	return t.tx.QueryRowContext(ctx, rebind(t.dialect, q), args...)
}

// ExecContext runs a statement in the transaction.
func (t *Tx) ExecContext(ctx context.Context, q string, args ...any) (sql.Result, error) {
	if st := t.stmt(ctx, q); st != nil {
		return st.ExecContext(ctx, args...)
	}
	return t.tx.ExecContext(ctx, rebind(t.dialect, q), args...)
}

// PrepareContext prepares a statement for repeated use in the transaction
// (closed with the transaction at the latest).
func (t *Tx) PrepareContext(ctx context.Context, q string) (*sql.Stmt, error) {
	return t.tx.PrepareContext(ctx, rebind(t.dialect, q))
}

// Dialect returns the engine the transaction runs on.
func (t *Tx) Dialect() Dialect { return t.dialect }

// FlushLater lets the transaction's commit return before its WAL record is
// on disk (PostgreSQL's synchronous_commit off, for this transaction only).
// A server crash (not a crash of Ryorin) may then lose it with the
// transactions committed just before it, never one after a transaction
// that waited: the durability SQLite's synchronous=NORMAL gives every
// transaction. Use it only where losing the transaction leaves a state the
// code already recovers from. On SQLite it does nothing.
func (t *Tx) FlushLater(ctx context.Context) error {
	if t.dialect != Postgres {
		return nil
	}
	_, err := t.tx.ExecContext(ctx, `SET LOCAL synchronous_commit = off`)
	return err
}

// AfterCommit registers fn to run once the transaction has committed (e.g. to
// wake a worker). It does not run on rollback.
func (t *Tx) AfterCommit(fn func()) { t.after = append(t.after, fn) }

// Write runs fn in a write transaction named name (for slow-transaction logs),
// committing if fn returns nil and rolling back otherwise. On SQLite the
// transaction starts IMMEDIATE, so it holds the single writer from the start.
func (db *DB) Write(ctx context.Context, name string, fn func(tx *Tx) error) (err error) {
	return db.write(ctx, name, false, fn)
}

// bulkYield is the longest a WriteBulk waits for other writers to go first.
const bulkYield = 100 * time.Millisecond

// WriteBulk is Write for one batch of bulk work (an import): on SQLite it
// lets the Write calls already waiting for the writer go first (for up to
// 100 ms), so a request that writes waits behind at most the batch running
// when it came, not behind the next one too. The writer is otherwise handed
// to a random waiter (database/sql). PostgreSQL: the same as Write.
func (db *DB) WriteBulk(ctx context.Context, name string, fn func(tx *Tx) error) error {
	return db.write(ctx, name, true, fn)
}

func (db *DB) write(ctx context.Context, name string, bulk bool, fn func(tx *Tx) error) (err error) {
	if !bulk {
		db.waiting.Add(1)
	} else if db.Dialect == SQLite {
		for end := time.Now().Add(bulkYield); db.waiting.Load() > 0 && time.Now().Before(end); {
			time.Sleep(200 * time.Microsecond)
		}
	}
	stx, err := db.w.BeginTx(ctx, nil)
	if !bulk {
		db.waiting.Add(-1)
	}
	if err != nil {
		return fmt.Errorf("%s: begin: %w", name, err)
	}
	// Timed from the moment the writer is ours: waiting for it is not holding it.
	start := time.Now()
	tx := &Tx{tx: stx, dialect: db.Dialect}
	defer func() {
		if p := recover(); p != nil {
			_ = stx.Rollback()
			panic(p)
		}
		if err != nil {
			_ = stx.Rollback()
			return
		}
		committing := time.Now()
		if err = stx.Commit(); err != nil {
			err = fmt.Errorf("%s: commit: %w", name, err)
			return
		}
		if end := time.Now(); db.OnSlowTx != nil {
			db.OnSlowTx(name, end.Sub(start), end.Sub(committing))
		}
		if db.walRaised.Load() > 0 {
			db.kickCheckpoint()
		}
		for _, f := range tx.after {
			f()
		}
	}()
	return fn(tx)
}

// Placeholders returns n comma-separated ? placeholders ("?, ?, ?"), for an
// IN list; "" for n < 1.
func Placeholders(n int) string {
	if n < 1 {
		return ""
	}
	return "?" + strings.Repeat(", ?", n-1)
}

// Rows returns n copies of a VALUES row such as "(?, ?, ?)", comma-separated,
// for a multi-row INSERT or a VALUES list; "" for n < 1.
func Rows(n int, row string) string {
	if n < 1 {
		return ""
	}
	return row + strings.Repeat(", "+row, n-1)
}

// Rebind turns ? placeholders into $1, $2… on PostgreSQL. Question marks in
// string literals, quoted identifiers and comments are left alone.
func (db *DB) Rebind(q string) string { return rebind(db.Dialect, q) }

func rebind(d Dialect, q string) string {
	if d != Postgres || !strings.Contains(q, "?") {
		return q
	}
	var b strings.Builder
	b.Grow(len(q) + 16)
	n := 0
	var quote byte
	for i := 0; i < len(q); i++ {
		c := q[i]
		switch {
		case quote != 0:
			if c == quote {
				quote = 0
			}
			b.WriteByte(c)
		case c == '\'' || c == '"':
			quote = c
			b.WriteByte(c)
		case c == '-' && i+1 < len(q) && q[i+1] == '-':
			j := strings.IndexByte(q[i:], '\n')
			if j < 0 {
				j = len(q) - i
			}
			b.WriteString(q[i : i+j])
			i += j - 1
		case c == '?':
			n++
			fmt.Fprintf(&b, "$%d", n)
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// IsUniqueViolation reports whether err is a unique-constraint violation.
func IsUniqueViolation(err error) bool {
	if err == nil {
		return false
	}
	s := err.Error()
	return strings.Contains(s, "UNIQUE constraint failed") || strings.Contains(s, "SQLSTATE 23505")
}

// IsForeignKeyViolation reports whether err is a foreign-key violation.
func IsForeignKeyViolation(err error) bool {
	if err == nil {
		return false
	}
	s := err.Error()
	return strings.Contains(s, "FOREIGN KEY constraint failed") || strings.Contains(s, "SQLSTATE 23503")
}

// ErrNoRows is sql.ErrNoRows, re-exported so callers need not import database/sql.
var ErrNoRows = sql.ErrNoRows

// NoRows reports whether err means no row was found.
func NoRows(err error) bool { return errors.Is(err, sql.ErrNoRows) }

// Millis converts a time to the epoch milliseconds Ryorin stores.
func Millis(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

// Time converts stored epoch milliseconds to a UTC time; 0 is the zero time.
func Time(ms int64) time.Time {
	if ms == 0 {
		return time.Time{}
	}
	return time.UnixMilli(ms).UTC()
}

// NullMillis converts an optional time to a nullable column value.
func NullMillis(t *time.Time) any {
	if t == nil || t.IsZero() {
		return nil
	}
	return t.UnixMilli()
}

// TimePtr converts a nullable epoch-millisecond column to *time.Time.
func TimePtr(ms sql.NullInt64) *time.Time {
	if !ms.Valid {
		return nil
	}
	t := time.UnixMilli(ms.Int64).UTC()
	return &t
}

// NullInt converts 0 to NULL, for optional references.
func NullInt(v int64) any {
	if v == 0 {
		return nil
	}
	return v
}

// NullString converts "" to NULL.
func NullString(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// Rebind rewrites placeholders in q for dialect d (see DB.Rebind).
func Rebind(d Dialect, q string) string { return rebind(d, q) }

// Int64s runs a query whose rows are one integer each (usually ids) and
// returns them in order.
func Int64s(ctx context.Context, q Querier, query string, args ...any) ([]int64, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []int64
	for rows.Next() {
		var v int64
		if err := rows.Scan(&v); err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}
