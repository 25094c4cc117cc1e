package db

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	sqlite "modernc.org/sqlite"
)

// SQLite's search index (ADR 0028). The trigram index of contacts' and
// companies' search text lives in its own file beside the database,
// attached to every reader as "search", with its own single writer: the
// indexer below. Writers of the main database only append the changed row
// to search_queue (a trigger), so filling FTS5 no longer costs the main
// writer anything, and it is filled in transactions of a few thousand rows
// on the other core instead of a few hundred inside each write. The file
// holds derived data only: when it is missing it is rebuilt from the tables.
//
// Searches first apply what is queued (SearchCatchUp), so a request sees the
// rows written before it; behind a large backlog (an import) they search what
// is indexed so far and the background indexer catches up.

// SearchTables are the tables with a search index: each has search_text.
var SearchTables = []string{"contacts", "companies"}

// searchBatch is how many rows one indexer transaction applies.
const searchBatch = 2000

// searchIndex is the search file's writer and the indexer's state.
type searchIndex struct {
	path string
	w    *sql.DB
	mu   sync.Mutex // one indexer batch at a time
	// closed is set by DB.Close, under mu.
	closed bool
	// checked says the file was found to belong to this database (under mu).
	checked bool
	// filled says the initial fill is done, so an empty queue means the
	// index is current.
	filled atomic.Bool
}

const searchSchema = `
CREATE VIRTUAL TABLE IF NOT EXISTS contacts_fts USING fts5(search_text, content='', contentless_delete=1, tokenize='trigram');
CREATE VIRTUAL TABLE IF NOT EXISTS companies_fts USING fts5(search_text, content='', contentless_delete=1, tokenize='trigram');
-- queue_mark: the last search_queue entry applied; backfill_<table>: the
-- last id of the table indexed by the initial fill (-1 when it is done).
CREATE TABLE IF NOT EXISTS search_state (key TEXT PRIMARY KEY, val INTEGER NOT NULL);
`

// searchPath is the search file of the database at path: ryorin.db →
// ryorin.search.db.
func searchPath(path string) string {
	return strings.TrimSuffix(path, filepath.Ext(path)) + ".search.db"
}

func sqliteURI(path string) string {
	return "file:" + strings.NewReplacer("%", "%25", "?", "%3f", "#", "%23").Replace(path)
}

// openSearch opens the search file's writer with the main database's
// pragmas (WAL, busy timeout, synchronous=NORMAL) and a small cache.
func openSearch(ctx context.Context, path, pragmas string) (*searchIndex, error) {
	w, err := sql.Open("sqlite", sqliteURI(path)+"?"+pragmas+"&_pragma=cache_size(-4096)&_txlock=immediate")
	if err != nil {
		return nil, err
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	w.SetConnMaxIdleTime(0)
	if _, err := w.ExecContext(ctx, searchSchema); err != nil {
		w.Close()
		return nil, fmt.Errorf("search index %s: %w", path, err)
	}
	return &searchIndex{path: path, w: w}, nil
}

// attachSearch opens reader connections with the search file attached.
type attachSearch struct {
	dsn, search string
	drv         *sqlite.Driver
}

func (c attachSearch) Connect(ctx context.Context) (driver.Conn, error) {
	conn, err := c.drv.Open(c.dsn)
	if err != nil {
		return nil, err
	}
	_, err = conn.(driver.ExecerContext).ExecContext(ctx, `ATTACH DATABASE ? AS search`, []driver.NamedValue{{Ordinal: 1, Value: c.search}})
	if err != nil {
		conn.Close()
		return nil, fmt.Errorf("attach the search index: %w", err)
	}
	return conn, nil
}

func (c attachSearch) Driver() driver.Driver { return c.drv }

// SearchTable is the name a query uses for table's trigram index: on SQLite
// the FTS5 table in the attached search file. Use it as
// "SELECT rowid FROM "+SearchTable(t)+" WHERE "+t+"_fts MATCH ?".
func SearchTable(table string) string { return "search." + table + "_fts" }

// SearchCatchUp applies what is queued for the search index, for up to
// budget, so a search sees the rows written before it. It returns nil when
// it ran out of budget (the search then uses what is indexed); PostgreSQL:
// nothing to do.
func (db *DB) SearchCatchUp(ctx context.Context, budget time.Duration) error {
	if db.search == nil {
		return nil
	}
	// The usual case, nothing queued, without waiting for an indexer batch
	// that may be running.
	var queued bool
	err := db.r.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM search_queue)`).Scan(&queued)
	if err == nil && !queued && db.search.filled.Load() {
		return nil
	}
	_, err = db.indexSearch(ctx, time.Now().Add(budget))
	return err
}

// RunSearchIndexer keeps the search index in step until ctx ends: it looks
// for queued rows every interval and applies them all. PostgreSQL: it
// returns at once.
func (db *DB) RunSearchIndexer(ctx context.Context, interval time.Duration, onErr func(error)) {
	if db.search == nil {
		return
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if _, err := db.indexSearch(ctx, time.Time{}); err != nil && ctx.Err() == nil && onErr != nil {
			onErr(err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// indexSearch applies batches until nothing is left or until (a zero
// until: no limit). It reports whether it caught up.
func (db *DB) indexSearch(ctx context.Context, until time.Time) (bool, error) {
	s := db.search
	for {
		if !until.IsZero() && time.Now().After(until) {
			return false, nil
		}
		// One batch at a time under the lock, so Close waits for one only.
		s.mu.Lock()
		n, err := 0, error(nil)
		if !s.closed {
			n, err = db.searchStep(ctx)
		}
		s.mu.Unlock()
		if err != nil {
			if isNoQueue(err) { // not migrated yet
				return true, nil
			}
			return false, err
		}
		if n == 0 {
			return true, nil
		}
	}
}

func isNoQueue(err error) bool { return strings.Contains(err.Error(), "no such table: search_queue") }

// searchStep applies one batch: of the initial fill while one is due, else
// of the queue. It returns how many rows it applied.
func (db *DB) searchStep(ctx context.Context) (int, error) {
	s := db.search
	state, err := s.state(ctx)
	if err != nil {
		return 0, err
	}
	if _, ok := state["queue_mark"]; !ok {
		// A new search file: note the queue's end, then fill every table
		// from its first row. Rows changed meanwhile are queued after
		// the mark and applied again once the fill is done. (Another
		// process's indexer may have begun: its start stands. Two indexers
		// only apply some rows twice, which changes nothing.)
		var mark int64
		if err := db.r.QueryRowContext(ctx, `SELECT COALESCE(MAX(seq), 0) FROM search_queue`).Scan(&mark); err != nil {
			return 0, err
		}
		_, err := s.w.ExecContext(ctx, `INSERT OR IGNORE INTO search_state (key, val) VALUES ('queue_mark', ?), ('backfill_contacts', 0), ('backfill_companies', 0)`, mark)
		return 1, err
	}
	if !s.checked {
		// A search file whose mark is past the last queue entry this
		// database ever made belongs to another copy of it (an older
		// ryorin.db put back by hand): start again from the tables.
		var last int64
		err := db.r.QueryRowContext(ctx, `SELECT COALESCE((SELECT seq FROM sqlite_sequence WHERE name = 'search_queue'), 0)`).Scan(&last)
		if err != nil {
			return 0, err
		}
		if state["queue_mark"] > last {
			return 1, db.searchWrite(ctx, func(tx *sql.Tx) error {
				for _, t := range SearchTables {
					if _, err := tx.ExecContext(ctx, `INSERT INTO `+t+`_fts (`+t+`_fts) VALUES ('delete-all')`); err != nil {
						return err
					}
				}
				_, err := tx.ExecContext(ctx, `DELETE FROM search_state`)
				return err
			})
		}
		s.checked = true
	}
	for _, t := range SearchTables {
		if after := state["backfill_"+t]; after >= 0 {
			return db.searchFill(ctx, t, after)
		}
	}
	s.filled.Store(true)
	return db.searchQueue(ctx, state["queue_mark"])
}

func (s *searchIndex) state(ctx context.Context) (map[string]int64, error) {
	rows, err := s.w.QueryContext(ctx, `SELECT key, val FROM search_state`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	m := map[string]int64{}
	for rows.Next() {
		var k string
		var v int64
		if err := rows.Scan(&k, &v); err != nil {
			return nil, err
		}
		m[k] = v
	}
	return m, rows.Err()
}

// doc is a row's search text.
type doc struct {
	id   int64
	text string
}

// readDocs reads (id, search_text) rows.
func (db *DB) readDocs(ctx context.Context, query string, args ...any) ([]doc, error) {
	rows, err := db.r.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var docs []doc
	for rows.Next() {
		var d doc
		if err := rows.Scan(&d.id, &d.text); err != nil {
			return nil, err
		}
		docs = append(docs, d)
	}
	return docs, rows.Err()
}

// searchFill indexes the next rows of table after id `after`.
func (db *DB) searchFill(ctx context.Context, table string, after int64) (int, error) {
	docs, err := db.readDocs(ctx, `SELECT id, search_text FROM `+table+` WHERE id > ? ORDER BY id LIMIT ?`, after, searchBatch)
	if err != nil {
		return 0, err
	}
	next := int64(-1) // done
	if len(docs) == searchBatch {
		next = docs[len(docs)-1].id
	}
	err = db.searchWrite(ctx, func(tx *sql.Tx) error {
		if err := insertDocs(ctx, tx, table, docs); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `UPDATE search_state SET val = ? WHERE key = ?`, next, "backfill_"+table)
		return err
	})
	return len(docs) + 1, err
}

// searchQueue applies the queue entries after mark: each row named is
// removed from its index and, if it still exists, indexed with its current
// text. Entries applied are then deleted from the queue.
func (db *DB) searchQueue(ctx context.Context, mark int64) (int, error) {
	var last int64
	byTable := map[string][]int64{} // the distinct rows named, per table
	rows, err := db.r.QueryContext(ctx, `SELECT seq, tbl, row_id FROM search_queue WHERE seq > ? ORDER BY seq LIMIT ?`, mark, searchBatch)
	if err != nil {
		return 0, err
	}
	n := 0
	for rows.Next() {
		var table string
		var id int64
		if err := rows.Scan(&last, &table, &id); err != nil {
			rows.Close()
			return 0, err
		}
		n++
		if slices.Contains(SearchTables, table) {
			byTable[table] = append(byTable[table], id)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil || n == 0 {
		return 0, err
	}
	// The current text of each row (read after the queue, so at least as new
	// as the change queued); a row not found was deleted.
	texts := map[string][]doc{}
	for table, ids := range byTable {
		slices.Sort(ids)
		byTable[table] = slices.Compact(ids)
		list, _ := json.Marshal(byTable[table])
		texts[table], err = db.readDocs(ctx, `SELECT id, search_text FROM `+table+` WHERE id IN (SELECT value FROM json_each(?))
			ORDER BY id`, string(list))
		if err != nil {
			return 0, err
		}
	}
	err = db.searchWrite(ctx, func(tx *sql.Tx) error {
		// FTS5 flushes what it holds in memory as a new segment whenever
		// a write does not continue in ascending rowid order or switches
		// between delete and insert; each segment is merged again later.
		// So: every delete in id order, then every insert in id order.
		for table, ids := range byTable {
			// Ids only grow, so a row above the highest one indexed (a new
			// row, as in an import) has nothing to delete: that saves a
			// fifth of the cost of indexing it.
			var top int64
			err := tx.QueryRowContext(ctx, `SELECT rowid FROM `+table+`_fts ORDER BY rowid DESC LIMIT 1`).Scan(&top)
			if err != nil && !errors.Is(err, sql.ErrNoRows) {
				return err
			}
			for _, id := range ids {
				if id > top {
					break
				}
				if _, err := tx.ExecContext(ctx, `DELETE FROM `+table+`_fts WHERE rowid = ?`, id); err != nil {
					return err
				}
			}
			if err := insertDocs(ctx, tx, table, texts[table]); err != nil {
				return err
			}
		}
		_, err := tx.ExecContext(ctx, `UPDATE search_state SET val = ? WHERE key = 'queue_mark'`, last)
		return err
	})
	if err != nil {
		return 0, err
	}
	// Applied: the queue rows can go (a crash before this only leaves rows
	// at or below the mark, which the next run deletes). After an initial
	// fill that is the whole queue of before it, so a few thousand rows per
	// transaction.
	for {
		var gone int64
		err = db.WriteBulk(ctx, "db.searchQueueDone", func(tx *Tx) error {
			res, err := tx.ExecContext(ctx, `DELETE FROM search_queue WHERE seq IN
				(SELECT seq FROM search_queue WHERE seq <= ? ORDER BY seq LIMIT 5000)`, last)
			if err == nil {
				gone, err = res.RowsAffected()
			}
			return err
		})
		if err != nil || gone < 5000 {
			return n, err
		}
	}
}

// insertDocs adds docs, in id order, to table's index.
func insertDocs(ctx context.Context, tx *sql.Tx, table string, docs []doc) error {
	for _, d := range docs {
		if _, err := tx.ExecContext(ctx, `INSERT INTO `+table+`_fts (rowid, search_text) VALUES (?, ?)`, d.id, d.text); err != nil {
			return err
		}
	}
	return nil
}

func (db *DB) searchWrite(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := db.search.w.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	return tx.Commit()
}
