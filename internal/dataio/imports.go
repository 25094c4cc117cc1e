package dataio

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"strconv"
	"time"

	"github.com/ryorin/ryorin/internal/clock"
	"github.com/ryorin/ryorin/internal/crm"
	"github.com/ryorin/ryorin/internal/db"
	"github.com/ryorin/ryorin/internal/errs"
	"github.com/ryorin/ryorin/internal/platform"
)

// Import statuses.
const (
	StatusDraft   = "draft"   // uploaded; the mapping is not confirmed yet
	StatusQueued  = "queued"  // waiting for the job runner
	StatusRunning = "running" // rows are being committed
	StatusDone    = "done"
	StatusFailed  = "failed"
	StatusUndoing = "undoing"
	StatusUndone  = "undone"
)

// Dedupe modes: what a row matching an existing record does.
const (
	ModeUpdate = "update" // fill the existing record with the row's non-empty values
	ModeSkip   = "skip"   // leave the existing record alone
	ModeCreate = "create" // always create; a contact's email must still be unique
)

// Job kinds.
const (
	JobImport = "import.run"
	JobUndo   = "import.undo"
)

// Import is one CSV import and its progress.
type Import struct {
	ID               int64      `json:"id"`
	ObjectType       string     `json:"object_type" doc:"contact, company, deal or activity"`
	Status           string     `json:"status" doc:"draft, queued, running, done, failed, undoing, undone"`
	Mode             string     `json:"mode" doc:"update, skip or create"`
	FileName         string     `json:"file_name"`
	FileSize         int64      `json:"file_size"`
	Encoding         string     `json:"encoding" doc:"utf-8, utf-8-bom or shift_jis"`
	Header           []string   `json:"header"`
	Mapping          []string   `json:"mapping" doc:"the field each column is imported as (\"\" = not imported)"`
	Preset           string     `json:"preset,omitempty" doc:"the export format recognised: hubspot, salesforce, sansan, eight"`
	TotalRows        int64      `json:"total_rows"`
	RowsDone         int64      `json:"rows_done" doc:"data rows committed so far"`
	Created          int64      `json:"created"`
	Updated          int64      `json:"updated"`
	Skipped          int64      `json:"skipped"`
	Failed           int64      `json:"failed"`
	CompaniesCreated int64      `json:"companies_created"`
	Error            string     `json:"error,omitempty"`
	CreatedBy        int64      `json:"created_by,omitempty"`
	CreatedAt        time.Time  `json:"created_at"`
	StartedAt        *time.Time `json:"started_at,omitempty"`
	FinishedAt       *time.Time `json:"finished_at,omitempty"`
	UndoneAt         *time.Time `json:"undone_at,omitempty"`
}

// Percent is how far the import has got, 0–100.
func (im Import) Percent() int {
	if im.TotalRows == 0 {
		if im.Status == StatusDone {
			return 100
		}
		return 0
	}
	return int(im.RowsDone * 100 / im.TotalRows)
}

// Service runs imports and exports.
type Service struct {
	DB    *db.DB
	Clock clock.Clock
	CRM   *crm.Service
	Log   *slog.Logger
	// Jobs, when set, is woken when an import is queued.
	Jobs *platform.Jobs
	// Lease is how long a worker owns a running import without committing a
	// batch; after that another worker (or a restart) takes it over.
	Lease time.Duration
	// BatchTarget is how long one batch's write transaction should take; the
	// batch size adapts to it. SQLite has one writer, so it must stay short.
	BatchTarget time.Duration
	// Slice is how long one job runs an import or undo before it hands over
	// to a follow-up job, so one big import does not hold up other jobs.
	Slice time.Duration
	// AnalyzeAfter is how many records an import writes before, at its end,
	// it refreshes PostgreSQL's statistics of the tables it wrote.
	AnalyzeAfter int64
	worker       string
}

// New returns a Service.
func New(d *db.DB, c clock.Clock, crmSvc *crm.Service, log *slog.Logger) *Service {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	host, _ := os.Hostname()
	target := 30 * time.Millisecond
	if d.Dialect == db.Postgres {
		target = 250 * time.Millisecond
	}
	return &Service{DB: d, Clock: clock.Millis(c), CRM: crmSvc, Log: log, Lease: 2 * time.Minute, BatchTarget: target, Slice: 20 * time.Second,
		AnalyzeAfter: 10_000,
		worker:       host + ":" + strconv.Itoa(os.Getpid()) + ":" + strconv.Itoa(rand.IntN(1e6))}
}

// Register adds the import and undo job handlers to a job runner.
func (s *Service) Register(j *platform.Jobs) {
	s.Jobs = j
	j.Handle(JobImport, func(ctx context.Context, job platform.Job) error {
		var p struct {
			ImportID int64 `json:"import_id"`
		}
		if err := job.Decode(&p); err != nil {
			return platform.Permanent(err)
		}
		err := s.Run(ctx, job.WorkspaceID, p.ImportID, RunOptions{For: s.Slice})
		if errors.Is(err, ErrPaused) {
			return s.continueLater(ctx, job, JobImport, p.ImportID)
		}
		var fe fatalError
		if errors.As(err, &fe) || (err != nil && !errors.Is(err, ErrBusy) && job.Attempts >= job.MaxAttempts) {
			s.fail(context.WithoutCancel(ctx), job.WorkspaceID, p.ImportID, err)
		}
		return err
	})
	j.Every("import.prune_drafts", time.Hour, func(ctx context.Context, job platform.Job) error {
		_, err := s.PruneDrafts(ctx, 24*time.Hour)
		return err
	})
	j.Handle(JobUndo, func(ctx context.Context, job platform.Job) error {
		var p struct {
			ImportID int64 `json:"import_id"`
		}
		if err := job.Decode(&p); err != nil {
			return platform.Permanent(err)
		}
		err := s.runUndo(ctx, job.WorkspaceID, p.ImportID, s.Slice)
		if errors.Is(err, ErrPaused) {
			return s.continueLater(ctx, job, JobUndo, p.ImportID)
		}
		return err
	})
}

// continueLater queues the next slice of a long import or undo as a new job,
// so the runner serves the jobs queued meanwhile before it goes on.
func (s *Service) continueLater(ctx context.Context, job platform.Job, kind string, id int64) error {
	return s.DB.Write(ctx, "dataio.continueLater", func(tx *db.Tx) error {
		_, _, err := platform.Enqueue(ctx, tx, job.WorkspaceID, kind, map[string]int64{"import_id": id},
			platform.EnqueueOptions{UniqueKey: fmt.Sprintf("%s:%d:after:%d", kind, id, job.ID), MaxAttempts: 20}, s.Clock.Now(), s.Jobs)
		return err
	})
}

const importCols = `id, object_type, status, mode, file_name, file_size, encoding, header, mapping, total_rows, rows_done,
	created_count, updated_count, skipped_count, failed_count, companies_created, error, COALESCE(created_by, 0), created_at,
	started_at, finished_at, undone_at`

func scanImport(sc interface{ Scan(...any) error }) (Import, error) {
	var im Import
	var header, mapping *string
	var created int64
	var started, finished, undone *int64
	err := sc.Scan(&im.ID, &im.ObjectType, &im.Status, &im.Mode, &im.FileName, &im.FileSize, &im.Encoding, &header, &mapping,
		&im.TotalRows, &im.RowsDone, &im.Created, &im.Updated, &im.Skipped, &im.Failed, &im.CompaniesCreated, &im.Error,
		&im.CreatedBy, &created, &started, &finished, &undone)
	if err != nil {
		return im, err
	}
	if header != nil {
		_ = json.Unmarshal([]byte(*header), &im.Header)
	}
	if mapping != nil {
		_ = json.Unmarshal([]byte(*mapping), &im.Mapping)
	}
	im.Preset = DetectPresetFor(im.ObjectType, im.Header)
	im.CreatedAt = db.Time(created)
	im.StartedAt, im.FinishedAt, im.UndoneAt = timePtr(started), timePtr(finished), timePtr(undone)
	return im, nil
}

func timePtr(ms *int64) *time.Time {
	if ms == nil {
		return nil
	}
	t := db.Time(*ms)
	return &t
}

// Get loads one import.
func (s *Service) Get(ctx context.Context, q db.Querier, ws, id int64) (Import, error) {
	im, err := scanImport(q.QueryRowContext(ctx, `-- dataio.Get
		SELECT `+importCols+` FROM imports WHERE workspace_id = ? AND id = ?`, ws, id))
	if db.NoRows(err) {
		return im, errs.NotFoundf("import %d not found", id)
	}
	if err != nil {
		return im, fmt.Errorf("dataio.Get(%d): %w", id, err)
	}
	return im, nil
}

// List returns the workspace's imports, newest first.
func (s *Service) List(ctx context.Context, ws int64, limit int) ([]Import, error) {
	if limit <= 0 || limit > 200 {
		limit = 50
	}
	rows, err := s.DB.Reader().QueryContext(ctx, `-- dataio.List
		SELECT `+importCols+` FROM imports WHERE workspace_id = ? ORDER BY created_at DESC, id DESC LIMIT ?`, ws, limit)
	if err != nil {
		return nil, fmt.Errorf("dataio.List: %w", err)
	}
	defer rows.Close()
	out := []Import{}
	for rows.Next() {
		im, err := scanImport(rows)
		if err != nil {
			return nil, fmt.Errorf("dataio.List: %w", err)
		}
		out = append(out, im)
	}
	return out, rows.Err()
}

// chunkSize is how much of an uploaded file one row of import_chunks holds
// (and one write transaction stores). 1 MiB chunks took 80–86 ms to commit
// on SQLite, over the one-writer rule's 50 ms; a quarter of that does not.
// Readers take chunks of any size, so files stored earlier read the same.
const chunkSize = 256 << 10

// Create stores an uploaded file as a draft import: it checks the file is
// CSV with a header and at least one row, counts the rows, and guesses the
// mapping. The file streams through; memory stays bounded.
func (s *Service) Create(ctx context.Context, a platform.Actor, object, fileName string, file io.Reader) (Import, error) {
	if !ValidObject(object) {
		return Import{}, errs.Field("object_type", "must be contact, company, deal or activity")
	}
	now := s.Clock.Now()
	var id int64
	err := s.DB.Write(ctx, "dataio.Create", func(tx *db.Tx) error {
		return tx.QueryRowContext(ctx, `-- dataio.Create
			INSERT INTO imports (workspace_id, object_type, status, mode, file_name, created_by, created_at)
			VALUES (?, ?, 'draft', 'update', ?, ?, ?) RETURNING id`,
			a.WorkspaceID, object, fileName, a.UserRef(), db.Millis(now)).Scan(&id)
	})
	if err != nil {
		return Import{}, fmt.Errorf("dataio.Create: %w", err)
	}
	size, err := s.storeChunks(ctx, a.WorkspaceID, id, file)
	if err == nil {
		err = s.inspect(ctx, a.WorkspaceID, id, object, size)
	}
	if err != nil {
		_ = s.delete(context.WithoutCancel(ctx), a.WorkspaceID, id)
		return Import{}, err
	}
	return s.Get(ctx, s.DB.Reader(), a.WorkspaceID, id)
}

func (s *Service) storeChunks(ctx context.Context, ws, id int64, file io.Reader) (int64, error) {
	buf := make([]byte, chunkSize)
	var size int64
	for seq := 0; ; seq++ {
		n, err := io.ReadFull(file, buf)
		if n > 0 {
			size += int64(n)
			werr := s.DB.WriteBulk(ctx, "dataio.storeChunk", func(tx *db.Tx) error {
				_, err := tx.ExecContext(ctx, `-- dataio.storeChunk
					INSERT INTO import_chunks (workspace_id, import_id, seq, data) VALUES (?, ?, ?, ?)`, ws, id, seq, buf[:n])
				return err
			})
			if werr != nil {
				return size, fmt.Errorf("dataio.storeChunks: %w", werr)
			}
		}
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return size, nil
		}
		if err != nil {
			return size, fmt.Errorf("dataio.storeChunks: %w", err)
		}
	}
}

// inspect reads the stored file once: encoding, header, row count, guess.
func (s *Service) inspect(ctx context.Context, ws, id int64, object string, size int64) error {
	rd, n, err := CountRows(s.fileReader(ctx, ws, id))
	if err != nil {
		return err
	}
	if n == 0 {
		return errs.Field("file", "the file has a header but no rows")
	}
	fields, err := s.Fields(ctx, ws, object)
	if err != nil {
		return err
	}
	header, _ := json.Marshal(rd.Header)
	mapping, _ := json.Marshal(guess(object, fields, rd.Header, ""))
	return s.DB.Write(ctx, "dataio.inspect", func(tx *db.Tx) error {
		_, err := tx.ExecContext(ctx, `-- dataio.inspect
			UPDATE imports SET encoding = ?, header = ?, mapping = ?, total_rows = ?, file_size = ? WHERE workspace_id = ? AND id = ?`,
			rd.Encoding, string(header), string(mapping), n, size, ws, id)
		return err
	})
}

// Sample returns the first n data rows of a draft import's file, for the
// mapping screen.
func (s *Service) Sample(ctx context.Context, ws, id int64, n int) ([][]string, error) {
	rd, err := NewReader(s.fileReader(ctx, ws, id))
	if err != nil {
		return nil, err
	}
	var out [][]string
	for len(out) < n {
		row, err := rd.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return out, err
		}
		out = append(out, append([]string(nil), row.Fields...))
	}
	return out, nil
}

// Start confirms a draft import's mapping and mode and queues it.
func (s *Service) Start(ctx context.Context, a platform.Actor, id int64, mapping []string, mode string) (Import, error) {
	im, err := s.Get(ctx, s.DB.Reader(), a.WorkspaceID, id)
	if err != nil {
		return im, err
	}
	if im.Status != StatusDraft {
		return im, errs.E(errs.Conflict, "status", "import %d has already been started", id)
	}
	if mapping == nil {
		mapping = im.Mapping
	}
	fields, err := s.Fields(ctx, a.WorkspaceID, im.ObjectType)
	if err != nil {
		return im, err
	}
	if err := validateMapping(im.ObjectType, fields, im.Header, mapping); err != nil {
		return im, err
	}
	switch mode {
	case "":
		mode = ModeUpdate
	case ModeUpdate, ModeSkip, ModeCreate:
	default:
		return im, errs.Field("mode", "must be update, skip or create")
	}
	mj, _ := json.Marshal(mapping)
	err = s.DB.Write(ctx, "dataio.Start", func(tx *db.Tx) error {
		res, err := tx.ExecContext(ctx, `-- dataio.Start
			UPDATE imports SET status = 'queued', mapping = ?, mode = ? WHERE workspace_id = ? AND id = ? AND status = 'draft'`,
			string(mj), mode, a.WorkspaceID, id)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return errs.E(errs.Conflict, "status", "import %d has already been started", id)
		}
		_, _, err = platform.Enqueue(ctx, tx, a.WorkspaceID, JobImport, map[string]int64{"import_id": id},
			platform.EnqueueOptions{UniqueKey: "import:" + strconv.FormatInt(id, 10), MaxAttempts: 20}, s.Clock.Now(), s.Jobs)
		return err
	})
	if err != nil {
		return im, err
	}
	return s.Get(ctx, s.DB.Reader(), a.WorkspaceID, id)
}

func validateMapping(object string, fields []Field, header, mapping []string) error {
	if len(mapping) != len(header) {
		return errs.Field("mapping", "needs one entry per column (%d), got %d", len(header), len(mapping))
	}
	seen := map[string]bool{}
	for _, k := range mapping {
		if k == "" {
			continue
		}
		if _, ok := lookup(fields, k); !ok {
			return errs.Field("mapping", "%q is not a field of a %s", k, object)
		}
		if seen[k] {
			return errs.Field("mapping", "%q is mapped to two columns", k)
		}
		seen[k] = true
	}
	switch {
	case object == Contacts && !seen["email"] && !seen["family_name"] && !seen["given_name"] && !seen["full_name"]:
		return errs.Field("mapping", "map a column to the email or a name")
	case object == Companies && !seen["name"] && !seen["domain"]:
		return errs.Field("mapping", "map a column to the company name or domain")
	case object == Deals && !seen["name"]:
		return errs.Field("mapping", "map a column to the deal name")
	case object == Activities && !seen["kind"]:
		return errs.Field("mapping", "map a column to the activity's kind")
	case object == Activities && !seen["contact_email"] && !seen["company_name"] && !seen["company_domain"] &&
		!seen["company_corporate_number"] && !seen["deal_external_id"] && !seen["deal_name"]:
		return errs.Field("mapping", "map a column to the contact's email, the company or the deal")
	}
	return nil
}

// MappingFromHeaders builds an import's mapping from "column heading →
// field" pairs on top of its guessed one; an empty field drops the column.
func (s *Service) MappingFromHeaders(ctx context.Context, ws int64, im Import, pairs map[string]string) ([]string, error) {
	out := append([]string(nil), im.Mapping...)
	for col, field := range pairs {
		found := false
		for i, h := range im.Header {
			if h == col || foldHeader(h) == foldHeader(col) {
				found = true
				for j := range out { // a field moved here leaves its guessed column
					if out[j] == field && field != "" {
						out[j] = ""
					}
				}
				out[i] = field
			}
		}
		if !found {
			return nil, errs.Field("mapping", "the file has no column %q", col)
		}
	}
	fields, err := s.Fields(ctx, ws, im.ObjectType)
	if err != nil {
		return nil, err
	}
	return out, validateMapping(im.ObjectType, fields, im.Header, out)
}

// DeleteDraft removes an import that was uploaded but never started, with
// its stored file.
func (s *Service) DeleteDraft(ctx context.Context, a platform.Actor, id int64) error {
	im, err := s.Get(ctx, s.DB.Reader(), a.WorkspaceID, id)
	if err != nil {
		return err
	}
	if im.Status != StatusDraft {
		return errs.E(errs.Conflict, "status", "import %d has been started; undo it instead", id)
	}
	return s.delete(ctx, a.WorkspaceID, id)
}

// PruneDrafts deletes drafts older than keep (uploads nobody mapped), so
// their files do not stay in the database.
func (s *Service) PruneDrafts(ctx context.Context, keep time.Duration) (int, error) {
	rows, err := s.DB.Reader().QueryContext(ctx, `-- dataio.PruneDrafts
		SELECT workspace_id, id FROM imports WHERE status = 'draft' AND created_at < ? ORDER BY id LIMIT 100`,
		db.Millis(s.Clock.Now().Add(-keep)))
	if err != nil {
		return 0, fmt.Errorf("dataio.PruneDrafts: %w", err)
	}
	var ids [][2]int64
	for rows.Next() {
		var ws, id int64
		if err := rows.Scan(&ws, &id); err != nil {
			rows.Close()
			return 0, err
		}
		ids = append(ids, [2]int64{ws, id})
	}
	rows.Close()
	for _, x := range ids {
		if err := s.delete(ctx, x[0], x[1]); err != nil {
			return 0, err
		}
	}
	return len(ids), rows.Err()
}

// delete removes an import and everything it stored (not the records it made).
func (s *Service) delete(ctx context.Context, ws, id int64) error {
	if err := s.dropChunks(ctx, ws, id); err != nil {
		return err
	}
	return s.DB.Write(ctx, "dataio.delete", func(tx *db.Tx) error {
		for _, q := range []string{`DELETE FROM import_errors WHERE workspace_id = ? AND import_id = ?`,
			`DELETE FROM import_records WHERE workspace_id = ? AND import_id = ?`, `DELETE FROM imports WHERE workspace_id = ? AND id = ?`} {
			if _, err := tx.ExecContext(ctx, "-- dataio.delete\n"+q, ws, id); err != nil {
				return err
			}
		}
		return nil
	})
}

// dropChunks deletes a file's chunks a few at a time.
func (s *Service) dropChunks(ctx context.Context, ws, id int64) error {
	for {
		var n int64
		err := s.DB.WriteBulk(ctx, "dataio.dropChunks", func(tx *db.Tx) error {
			res, err := tx.ExecContext(ctx, `-- dataio.dropChunks
				DELETE FROM import_chunks WHERE workspace_id = ? AND import_id = ? AND seq IN (
					SELECT seq FROM import_chunks WHERE workspace_id = ? AND import_id = ? ORDER BY seq LIMIT 8)`, ws, id, ws, id)
			if err != nil {
				return err
			}
			n, err = res.RowsAffected()
			return err
		})
		if err != nil || n == 0 {
			return err
		}
	}
}

// fileReader streams an import's stored file, one chunk at a time.
func (s *Service) fileReader(ctx context.Context, ws, id int64) io.Reader {
	return &chunkReader{ctx: ctx, q: s.DB.Reader(), ws: ws, id: id}
}

type chunkReader struct {
	ctx    context.Context
	q      db.Querier
	ws, id int64
	seq    int
	buf    []byte
	done   bool
}

func (r *chunkReader) Read(p []byte) (int, error) {
	for len(r.buf) == 0 {
		if r.done {
			return 0, io.EOF
		}
		err := r.q.QueryRowContext(r.ctx, `-- dataio.readChunk
			SELECT data FROM import_chunks WHERE workspace_id = ? AND import_id = ? AND seq = ?`, r.ws, r.id, r.seq).Scan(&r.buf)
		if db.NoRows(err) {
			r.done = true
			continue
		}
		if err != nil {
			return 0, fmt.Errorf("dataio: read file chunk %d: %w", r.seq, err)
		}
		r.seq++
	}
	n := copy(p, r.buf)
	r.buf = r.buf[n:]
	return n, nil
}
