package lead

import (
	"context"
	"fmt"
	"runtime"
	"sync"
	"time"

	"github.com/ryorin/ryorin/internal/db"
	"github.com/ryorin/ryorin/internal/lead/rules"
	"github.com/ryorin/ryorin/internal/platform"
)

// RescoreAllKind is the durable job that rescores every contact when a new
// definition becomes active.
const RescoreAllKind = "lead.rescore_all"

// rescoreBatch bounds each write of the full rescore.
const rescoreBatch = 500

// RescoreProgress is how far the full rescore of a version has come.
type RescoreProgress struct {
	Version    int        `json:"version"`
	Done       int64      `json:"done"`
	Total      int64      `json:"total"`
	FinishedAt *time.Time `json:"finished_at,omitempty"`
}

func rescoreMark(version int, what string) string {
	return fmt.Sprintf("lead.rescore.v%d.%s", version, what)
}

// enqueueRescore asks for a full rescore under version, inside the
// transaction that activates it (once per version).
func (s *Service) enqueueRescore(ctx context.Context, tx *db.Tx, ws int64, version int, now time.Time) error {
	_, _, err := platform.Enqueue(ctx, tx, ws, RescoreAllKind, map[string]int{"version": version},
		platform.EnqueueOptions{UniqueKey: fmt.Sprintf("v%d", version)}, now, s.Jobs)
	return err
}

// Progress reports the full rescore of a version.
func (s *Service) Progress(ctx context.Context, q db.Querier, ws int64, version int) (RescoreProgress, error) {
	p := RescoreProgress{Version: version}
	rows, err := q.QueryContext(ctx, `SELECT name, value FROM work_marks WHERE workspace_id = ? AND name IN (?, ?, ?)`,
		ws, rescoreMark(version, "done"), rescoreMark(version, "total"), rescoreMark(version, "finished"))
	if err != nil {
		return p, err
	}
	defer rows.Close()
	for rows.Next() {
		var name string
		var v int64
		if err := rows.Scan(&name, &v); err != nil {
			return p, err
		}
		switch name {
		case rescoreMark(version, "done"):
			p.Done = v
		case rescoreMark(version, "total"):
			p.Total = v
		default:
			t := db.Time(v)
			p.FinishedAt = &t
		}
	}
	return p, rows.Err()
}

// upsertScores and onScoreConflict write one contact's scores into their
// own narrow table (migrations 0046, 0056), whose row has no index but its
// key: the figures and the half-life readers decay engagement by, no
// explanation (Scorer.Explain computes it for the one contact shown).
const (
	upsertScores = `INSERT INTO contact_scores
		(workspace_id, contact_id, fit_score, fit_grade, engagement_score, half_life_days, scored_at, scored_version)`
	onScoreConflict = `
		ON CONFLICT (workspace_id, contact_id) DO UPDATE SET fit_score = excluded.fit_score, fit_grade = excluded.fit_grade,
			engagement_score = excluded.engagement_score, half_life_days = excluded.half_life_days,
			scored_at = excluded.scored_at, scored_version = excluded.scored_version`
)

// RescoreAll rescores every contact under the active definition, if it is
// still version, streaming contacts and their events and writing scores in
// bounded batches. Each batch records how far it got in the same
// transaction, so a restart resumes after the last committed contact. A
// contact whose new score changes its stage (MQL, disqualified) goes
// through Rescore, so it is routed and notified exactly as live scoring
// would.
func (sc *Scorer) RescoreAll(ctx context.Context, ws int64, version int) error {
	c, v, err := sc.active(ctx, ws)
	if err != nil {
		return err
	}
	if v != version {
		return nil // a newer version took over; its own job rescores
	}
	q := sc.Lead.DB.Reader()
	var after, done int64
	marks := map[string]*int64{rescoreMark(version, "last"): &after, rescoreMark(version, "done"): &done}
	for name, dst := range marks {
		if err := q.QueryRowContext(ctx, `SELECT COALESCE(MAX(value), 0) FROM work_marks WHERE workspace_id = ? AND name = ?`, ws, name).Scan(dst); err != nil {
			return err
		}
	}
	if after == 0 {
		var total int64
		if err := q.QueryRowContext(ctx, `SELECT COUNT(*) FROM contacts WHERE workspace_id = ?`, ws).Scan(&total); err != nil {
			return err
		}
		if err := sc.setMarks(ctx, ws, map[string]int64{rescoreMark(version, "total"): total}); err != nil {
			return err
		}
	}
	now := sc.Lead.Clock.Now()
	var batch []scored
	var moves []int64
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		// Stage changes first, each in its own transaction; they are
		// idempotent, so a crash before the batch commits repeats them
		// harmlessly.
		for _, id := range moves {
			if _, err := sc.Rescore(ctx, ws, id); err != nil {
				return err
			}
		}
		done += int64(len(batch))
		last := batch[len(batch)-1].id
		err := sc.Lead.DB.WriteBulk(ctx, "lead.RescoreAll", func(tx *db.Tx) error {
			if err := writeScoresTx(ctx, tx, ws, batch, now, version, c.Body.HalfLifeDays); err != nil {
				return err
			}
			return setMarksTx(ctx, tx, ws, map[string]int64{rescoreMark(version, "last"): last, rescoreMark(version, "done"): done})
		})
		batch, moves = batch[:0], moves[:0]
		return err
	}
	// Contacts are read in order and scored a batch at a time on every CPU;
	// the batch is written in order, so the resume mark stays exact.
	type item struct {
		id  int64
		f   rules.Facts
		s   Score
		err error
	}
	var pending []item
	score := func() error {
		workers := max(1, min(runtime.GOMAXPROCS(0), 8))
		var wg sync.WaitGroup
		per := (len(pending) + workers - 1) / workers
		for w := 0; w < len(pending); w += per {
			part := pending[w:min(w+per, len(pending))]
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range part {
					part[i].s, part[i].err = c.Figures(part[i].f)
				}
			}()
		}
		wg.Wait()
		for _, it := range pending {
			if it.err != nil {
				return fmt.Errorf("contact %d: %w", it.id, it.err)
			}
			batch = append(batch, scored{it.id, it.s})
			if stageFor(platform.Stage(it.f.Stage), it.s) != "" {
				moves = append(moves, it.id)
			}
		}
		pending = pending[:0]
		return flush()
	}
	err = sc.Lead.replay(ctx, q, ws, after, now, now, len(c.Body.Properties()) > 0, func(id int64, f rules.Facts, _ time.Time, evs []rules.Event) error {
		if len(evs) > 200 { // as live scoring: the 200 newest events
			evs = evs[len(evs)-200:]
		}
		f.Now, f.Events = now, append([]rules.Event(nil), evs...)
		pending = append(pending, item{id: id, f: f})
		if len(pending) >= rescoreBatch {
			return score()
		}
		return nil
	})
	if err != nil {
		return err
	}
	if len(pending) > 0 {
		if err := score(); err != nil {
			return err
		}
	}
	return sc.setMarks(ctx, ws, map[string]int64{rescoreMark(version, "finished"): db.Millis(sc.Lead.Clock.Now())})
}

func setMarksTx(ctx context.Context, tx *db.Tx, ws int64, marks map[string]int64) error {
	for name, v := range marks {
		if _, err := tx.ExecContext(ctx, `INSERT INTO work_marks (workspace_id, name, value) VALUES (?, ?, ?)
			ON CONFLICT (workspace_id, name) DO UPDATE SET value = excluded.value`, ws, name, v); err != nil {
			return err
		}
	}
	return nil
}

// scored is one contact's new scores, ready to store.
type scored struct {
	id int64
	s  Score
}

// writeScoresTx stores a batch of contacts' scores in tx: on SQLite (in
// process) a prepared statement per row, the cheapest there; over the
// network one statement per chunk (an upsert from a VALUES list).
func writeScoresTx(ctx context.Context, tx *db.Tx, ws int64, batch []scored, now time.Time, version, halfLife int) error {
	if tx.Dialect() == db.SQLite {
		st, err := tx.PrepareContext(ctx, `-- lead.writeScores
			`+upsertScores+` VALUES (?, ?, ?, ?, ?, ?, ?, ?)`+onScoreConflict)
		if err != nil {
			return err
		}
		defer st.Close()
		for _, u := range batch {
			if _, err := st.ExecContext(ctx, ws, u.id, u.s.Fit, u.s.FitGrade, u.s.Engagement, halfLife, db.Millis(now), version); err != nil {
				return err
			}
		}
		return nil
	}
	const chunk = 250
	for i := 0; i < len(batch); i += chunk {
		part := batch[i:min(i+chunk, len(batch))]
		args := make([]any, 0, len(part)*4+4)
		for _, u := range part {
			args = append(args, u.id, u.s.Fit, u.s.FitGrade, u.s.Engagement)
		}
		args = append(args, ws, halfLife, db.Millis(now), version)
		row := "(CAST(? AS BIGINT), CAST(? AS DOUBLE PRECISION), CAST(? AS TEXT), CAST(? AS DOUBLE PRECISION))"
		if _, err := tx.ExecContext(ctx, `-- lead.writeScores
			WITH v(id, fit, grade, eng) AS (VALUES `+db.Rows(len(part), row)+`)
			`+upsertScores+` SELECT CAST(? AS BIGINT), v.id, v.fit, v.grade, v.eng, CAST(? AS INTEGER), CAST(? AS BIGINT), CAST(? AS INTEGER) FROM v`+
			onScoreConflict, args...); err != nil {
			return err
		}
	}
	return nil
}
