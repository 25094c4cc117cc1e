package dataio

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/ryorin/ryorin/internal/db"
	"github.com/ryorin/ryorin/internal/errs"
	"github.com/ryorin/ryorin/internal/platform"
	"golang.org/x/text/unicode/norm"
)

// RunOptions tune one run of an import.
type RunOptions struct {
	// Progress, when set, is called after every committed batch.
	Progress func(Import)
	// BatchRows fixes the batch size; 0 adapts it to BatchTarget.
	BatchRows int
	// StopAfterBatches ends the run with ErrStopped after that many batches,
	// keeping the lease as a crashed worker would (tests of resumption).
	StopAfterBatches int
	// For, when set, ends the run with ErrPaused after the first batch that
	// ends later than this, releasing the lease: the job runner then has a
	// turn for other work (emails, notifications) before the import goes on.
	For time.Duration
}

// ErrPaused is returned by a run that used up RunOptions.For.
var ErrPaused = errors.New("dataio: import paused to let other jobs run")

// ErrStopped is returned by a run stopped by RunOptions.StopAfterBatches.
var ErrStopped = errors.New("dataio: import stopped before the end")

// fatalError is a failure no retry can fix (the stored file is gone or
// unreadable): the job fails at once and the import is marked failed.
type fatalError struct{ error }

func (e fatalError) Unwrap() error { return e.error }

func fatal(err error) error { return platform.Permanent(fatalError{err}) }

// ErrBusy means another worker holds the import's lease; the job retries.
var ErrBusy = errors.New("dataio: the import is being run by another worker")

// badRow is a row that could not be imported, for the error report.
type badRow struct {
	Line   int
	Field  string
	Reason string
	Raw    []string
}

// batchCounts is what one batch did.
type batchCounts struct {
	Created, Updated, Skipped, Failed, Companies int64
}

// run is the state of one run of an import.
type run struct {
	s   *Service
	im  Import
	ws  int64
	rc  rowContext
	now time.Time
	// owner of created companies: the user who started the import
	owner int64
	// linked are the company ids earlier batches resolved each company name
	// of a row to; linking those of the batch being written.
	linked, linking map[companyRef]int64
}

// Run imports the rows of a queued (or interrupted) import that are not yet
// committed. Each batch's records, error rows, undo log and the import's
// progress commit in one transaction, so a crash at any point resumes after
// the last committed row and no row is imported twice.
func (s *Service) Run(ctx context.Context, ws, id int64, o RunOptions) error {
	im, err := s.claim(ctx, ws, id)
	if err != nil || im.Status != StatusRunning {
		return err
	}
	r := &run{s: s, im: im, ws: ws, owner: im.CreatedBy, linked: map[companyRef]int64{}, linking: map[companyRef]int64{}}
	if err := r.prepare(ctx); err != nil {
		return err
	}
	rd, err := NewReader(s.fileReader(ctx, ws, id))
	if err != nil {
		return fatal(err)
	}
	for i := int64(0); i < im.RowsDone; i++ { // rows already committed
		if _, err := rd.Next(); err != nil {
			return fatal(fmt.Errorf("dataio.Run: the file has fewer rows than committed: %w", err))
		}
	}
	size := o.BatchRows
	if size <= 0 {
		size = 250
	}
	// On SQLite the WAL is copied from a reader after each batch instead of
	// by the writer inside a commit (imports running at once share the
	// raise); on an error the usual threshold is as safe, only slower.
	if restoreWAL, err := s.DB.RaiseWALAutocheckpoint(ctx, db.BulkWALPages); err == nil {
		defer restoreWAL()
	}
	begin := time.Now()
	next := r.readAhead(ctx, rd, size)
	for batches := 1; ; batches++ {
		b := <-next
		if b.err != nil {
			return b.err
		}
		// Parse the next batch while this one is written: the CSV work runs
		// on the second core instead of between transactions.
		next = nil
		if !b.eof {
			next = r.readAhead(ctx, rd, size)
		}
		err := r.commitBatch(ctx, b, &size, o)
		if err == nil && !b.eof {
			if o.StopAfterBatches > 0 && batches >= o.StopAfterBatches {
				err = ErrStopped
			} else if o.For > 0 && time.Since(begin) > o.For {
				err = errPause
			}
		}
		if err != nil || b.eof {
			if next != nil {
				<-next // the reader is not ours to leave behind
			}
			if err == errPause {
				return r.pause(ctx)
			}
			if err != nil {
				return err
			}
			break
		}
	}
	return r.finish(ctx)
}

// errPause ends the batch loop to release the lease (RunOptions.For).
var errPause = errors.New("pause")

// batch is a run of parsed rows, not yet written.
type batch struct {
	recs     []record
	bad      []badRow
	consumed int64
	eof      bool
	err      error
}

// readAhead parses the next n rows in a goroutine; the channel gets the
// batch. Only one read may be in flight: rd is not shared.
func (r *run) readAhead(ctx context.Context, rd *Reader, n int) <-chan batch {
	ch := make(chan batch, 1)
	go func() {
		var b batch
		if b.err = ctx.Err(); b.err == nil {
			b.recs, b.bad, b.consumed, b.eof, b.err = r.read(rd, n)
		}
		ch <- b
	}()
	return ch
}

// commitBatch writes a parsed batch and adapts the size of the ones after it.
func (r *run) commitBatch(ctx context.Context, b batch, size *int, o RunOptions) error {
	if b.consumed == 0 {
		return nil
	}
	held, err := r.commit(ctx, b.recs, b.bad, b.consumed)
	if err != nil {
		return err
	}
	if o.BatchRows <= 0 {
		*size = adapt(*size, held, r.s.BatchTarget)
	}
	if o.Progress != nil {
		o.Progress(r.im)
	}
	return nil
}

// adapt sizes the next batch so its transaction takes about target. It
// grows by at most a quarter per batch and shrinks by at most half: a batch's
// time varies with the pages it dirties and with the checkpoint beside it, and
// doubling after a quick batch overshot into transactions of 75–125 ms
// (measured at 1,000,000 rows on SQLite: 178 batches over 75 ms when it
// doubled, 15 when it grew by a quarter, at the same speed within 4 %).
func adapt(size int, took, target time.Duration) int {
	if took <= 0 {
		return min(size*5/4, 5000)
	}
	next := int(float64(size) * float64(target) / float64(took))
	next = min(max(next, size/2), size*5/4)
	return min(max(next, 50), 5000)
}

// claim takes the import's lease: a queued import, a running one whose
// worker stopped renewing it, or one this worker already holds.
func (s *Service) claim(ctx context.Context, ws, id int64) (Import, error) {
	now := db.Millis(s.Clock.Now())
	var n int64
	err := s.DB.Write(ctx, "dataio.claim", func(tx *db.Tx) error {
		res, err := tx.ExecContext(ctx, `-- dataio.claim
			UPDATE imports SET status = 'running', locked_by = ?, locked_until = ?, started_at = COALESCE(started_at, ?)
			WHERE workspace_id = ? AND id = ? AND status IN ('queued', 'running')
			  AND (locked_until IS NULL OR locked_until < ? OR locked_by = ?)`,
			s.worker, now+s.Lease.Milliseconds(), now, ws, id, now, s.worker)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return Import{}, fmt.Errorf("dataio.claim: %w", err)
	}
	im, err := s.Get(ctx, s.DB.Reader(), ws, id)
	if err != nil {
		return im, platform.Permanent(err)
	}
	if n == 0 {
		if im.Status == StatusRunning || im.Status == StatusQueued {
			return im, ErrBusy
		}
		if im.Status == StatusDone { // finished before a crash cleaned up
			return im, s.dropChunks(ctx, ws, id)
		}
	}
	return im, nil
}

func (r *run) prepare(ctx context.Context) error {
	q := r.s.DB.Reader()
	w, err := platform.GetWorkspace(ctx, q, r.ws)
	if err != nil {
		return err
	}
	users, err := platform.ListUsers(ctx, q, r.ws)
	if err != nil {
		return err
	}
	owners := map[string]int64{}
	for _, u := range users {
		if u.Active {
			owners[strings.ToLower(u.Email)] = u.ID
			owners[strings.ToLower(norm.NFKC.String(u.Name))] = u.ID
		}
	}
	fields, err := r.s.Fields(ctx, r.ws, r.im.ObjectType)
	if err != nil {
		return err
	}
	r.rc = rowContext{Object: r.im.ObjectType, Mapping: r.im.Mapping, Fields: fieldMap(fields), Loc: w.Location(), Owners: owners,
		Currency: w.BaseCurrency}
	if r.im.ObjectType == Deals {
		ps, err := r.s.CRM.Pipelines(ctx, q, r.ws)
		if err != nil {
			return err
		}
		r.rc.Pipelines = newPipelineIndex(ps)
	}
	return nil
}

// read parses up to n rows outside any transaction.
func (r *run) read(rd *Reader, n int) (recs []record, bad []badRow, consumed int64, eof bool, err error) {
	for consumed < int64(n) {
		row, err := rd.Next()
		if errors.Is(err, io.EOF) {
			return recs, bad, consumed, true, nil
		}
		if err != nil {
			return recs, bad, consumed, false, err
		}
		consumed++
		rec, rerr := r.rc.toRecord(row)
		if rerr != nil {
			bad = append(bad, badRow{Line: row.Line, Field: rerr.Field, Reason: rerr.Reason, Raw: append([]string(nil), row.Fields...)})
			continue
		}
		recs = append(recs, rec)
	}
	return recs, bad, consumed, false, nil
}

// commit writes one batch and moves the import's progress in the same
// transaction. The progress update only applies if nobody else moved it
// (and the lease is still ours), otherwise the whole batch rolls back. It
// returns how long the batch held the writer (waiting for it not counted).
func (r *run) commit(ctx context.Context, recs []record, bad []badRow, consumed int64) (time.Duration, error) {
	r.now = r.s.Clock.Now()
	var c batchCounts
	var began time.Time
	err := r.s.DB.WriteBulk(ctx, "dataio.batch", func(tx *db.Tx) error {
		began = time.Now()
		if tx.Dialect() == db.Postgres {
			// The lookups are "IN (500 values)" statements run again and
			// again; after five runs PostgreSQL switches a prepared statement
			// to a generic plan, which for these scans the whole table
			// (measured: 400 ms instead of 8 ms per lookup at 40,000 contacts).
			if _, err := tx.ExecContext(ctx, `SET LOCAL plan_cache_mode = force_custom_plan`); err != nil {
				return err
			}
		}
		var err error
		switch r.im.ObjectType {
		case Companies:
			c, bad, err = r.companies(ctx, tx, recs, bad)
		case Deals:
			c, bad, err = r.deals(ctx, tx, recs, bad)
		case Activities:
			c, bad, err = r.activities(ctx, tx, recs, bad)
		default:
			c, bad, err = r.contacts(ctx, tx, recs, bad)
		}
		if err != nil {
			return err
		}
		if err := r.saveErrors(ctx, tx, bad); err != nil {
			return err
		}
		c.Failed = int64(len(bad))
		now := db.Millis(r.now)
		res, err := tx.ExecContext(ctx, `-- dataio.progress
			UPDATE imports SET rows_done = rows_done + ?, created_count = created_count + ?, updated_count = updated_count + ?,
				skipped_count = skipped_count + ?, failed_count = failed_count + ?, companies_created = companies_created + ?,
				locked_until = ?
			WHERE workspace_id = ? AND id = ? AND rows_done = ? AND locked_by = ? AND status = 'running'`,
			consumed, c.Created, c.Updated, c.Skipped, c.Failed, c.Companies, now+r.s.Lease.Milliseconds(),
			r.ws, r.im.ID, r.im.RowsDone, r.s.worker)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return ErrBusy
		}
		return nil
	})
	if err != nil {
		clear(r.linking)
		return 0, fmt.Errorf("dataio.Run(%d) rows %d–%d: %w", r.im.ID, r.im.RowsDone+1, r.im.RowsDone+consumed, err)
	}
	held := time.Since(began)
	r.linkedCommitted()
	r.im.RowsDone += consumed
	r.im.Created += c.Created
	r.im.Updated += c.Updated
	r.im.Skipped += c.Skipped
	r.im.Failed += c.Failed
	r.im.CompaniesCreated += c.Companies
	return held, nil
}

func (r *run) saveErrors(ctx context.Context, tx *db.Tx, bad []badRow) error {
	if len(bad) == 0 {
		return nil
	}
	sort.SliceStable(bad, func(i, j int) bool { return bad[i].Line < bad[j].Line })
	ins := newInserter("import_errors", "workspace_id:bigint", "import_id:bigint", "line:bigint", "field", "reason", "raw")
	for _, b := range bad {
		raw, _ := json.Marshal(b.Raw)
		ins.add(r.ws, r.im.ID, b.Line, b.Field, b.Reason, string(raw))
	}
	return ins.exec(ctx, tx, "dataio.saveErrors")
}

// finish marks the import done and writes its one audit and timeline entry.
func (r *run) finish(ctx context.Context) error {
	now := r.s.Clock.Now()
	actor := r.actor()
	summary := map[string]any{"file": r.im.FileName, "object_type": r.im.ObjectType, "mode": r.im.Mode, "rows": r.im.RowsDone,
		"created": r.im.Created, "updated": r.im.Updated, "skipped": r.im.Skipped, "failed": r.im.Failed,
		"companies_created": r.im.CompaniesCreated}
	err := r.s.DB.Write(ctx, "dataio.finish", func(tx *db.Tx) error {
		res, err := tx.ExecContext(ctx, `-- dataio.finish
			UPDATE imports SET status = 'done', finished_at = ?, locked_by = '', locked_until = NULL
			WHERE workspace_id = ? AND id = ? AND locked_by = ? AND status = 'running'`, db.Millis(now), r.ws, r.im.ID, r.s.worker)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return ErrBusy
		}
		if _, err := platform.AppendTimeline(ctx, tx, actor, platform.TimelineEntry{At: now, Kind: "import.done", RefType: "import", RefID: r.im.ID}, summary); err != nil {
			return err
		}
		return platform.Audit(ctx, tx, actor, now, "import", "import", r.im.ID, summary)
	})
	if err != nil {
		return fmt.Errorf("dataio.finish(%d): %w", r.im.ID, err)
	}
	r.im.Status = StatusDone
	r.analyze(ctx)
	return r.s.dropChunks(ctx, r.ws, r.im.ID)
}

// analyze refreshes the planner's statistics after a large import on
// PostgreSQL, where autovacuum's ANALYZE comes minutes later (measured: none
// had run when an export began just after a 1,000,000-row import). It is
// best effort: the import is done either way.
func (r *run) analyze(ctx context.Context) {
	if r.s.DB.Dialect != db.Postgres || r.im.Created+r.im.Updated < r.s.AnalyzeAfter {
		return
	}
	tables := map[string][]string{Contacts: {"contacts", "lifecycle_history"}, Companies: {"companies"}, Deals: {"deals"},
		Activities: {"activities"}}[r.im.ObjectType]
	if r.im.CompaniesCreated > 0 && r.im.ObjectType != Companies {
		tables = append(tables, "companies")
	}
	for _, t := range tables {
		if err := r.s.DB.Analyze(ctx, t); err != nil {
			r.s.Log.Warn("statistics not refreshed after an import", "import", r.im.ID, "table", t, "err", err)
		}
	}
}

// pause releases the import's lease so any worker may go on with it.
func (r *run) pause(ctx context.Context) error {
	err := r.s.DB.Write(ctx, "dataio.pause", func(tx *db.Tx) error {
		_, err := tx.ExecContext(ctx, `-- dataio.pause
			UPDATE imports SET locked_by = '', locked_until = NULL WHERE workspace_id = ? AND id = ? AND locked_by = ?`,
			r.ws, r.im.ID, r.s.worker)
		return err
	})
	if err != nil {
		return err
	}
	return ErrPaused
}

// actor is who the import's writes are recorded as: the user who uploaded it.
func (r *run) actor() platform.Actor {
	a := platform.System(r.ws)
	if r.im.CreatedBy != 0 {
		a.UserID, a.Kind = r.im.CreatedBy, platform.ActorUser
	}
	return a
}

// fail records an import the job gave up on.
func (s *Service) fail(ctx context.Context, ws, id int64, cause error) {
	msg := cause.Error()
	if len(msg) > 1000 {
		msg = msg[:1000]
	}
	err := s.DB.Write(ctx, "dataio.fail", func(tx *db.Tx) error {
		_, err := tx.ExecContext(ctx, `-- dataio.fail
			UPDATE imports SET status = 'failed', error = ?, finished_at = ?, locked_by = '', locked_until = NULL
			WHERE workspace_id = ? AND id = ? AND status IN ('queued', 'running')`, msg, db.Millis(s.Clock.Now()), ws, id)
		return err
	})
	if err != nil {
		s.Log.Error("import failure not recorded", "import", id, "err", err)
	}
}

// ErrorsCSV writes an import's error report: the line of each bad row, the
// field and the reason, then the row as it was in the file. UTF-8 with a
// byte-order mark, so Excel opens Japanese text correctly.
func (s *Service) ErrorsCSV(ctx context.Context, w io.Writer, ws, id int64, lang string) error {
	im, err := s.Get(ctx, s.DB.Reader(), ws, id)
	if err != nil {
		return err
	}
	cw := NewCSVWriter(w)
	head := []string{"line", "field", "error"}
	if lang == "ja" {
		head = []string{"行", "項目", "エラー"}
	}
	if err := cw.Write(append(head, im.Header...)); err != nil {
		return err
	}
	var after int64
	for {
		rows, err := s.DB.Reader().QueryContext(ctx, `-- dataio.ErrorsCSV
			SELECT id, line, field, reason, raw FROM import_errors WHERE workspace_id = ? AND import_id = ? AND id > ?
			ORDER BY id LIMIT 1000`, ws, id, after)
		if err != nil {
			return fmt.Errorf("dataio.ErrorsCSV: %w", err)
		}
		n := 0
		for rows.Next() {
			var line int64
			var field, reason, raw string
			if err := rows.Scan(&after, &line, &field, &reason, &raw); err != nil {
				rows.Close()
				return fmt.Errorf("dataio.ErrorsCSV: %w", err)
			}
			var vals []string
			_ = json.Unmarshal([]byte(raw), &vals)
			if err := cw.Write(append([]string{fmt.Sprint(line), field, reason}, vals...)); err != nil {
				rows.Close()
				return err
			}
			n++
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		cw.Flush()
		if err := cw.Error(); err != nil {
			return err
		}
		if n < 1000 {
			return nil
		}
	}
}

// notRunning is the error for actions that need a finished import.
func notRunning(id int64, status string) error {
	return errs.E(errs.Conflict, "status", "import %d is %s", id, status)
}
