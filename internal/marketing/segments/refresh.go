package segments

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/ryorin/ryorin/internal/db"
	"github.com/ryorin/ryorin/internal/platform"
)

// Event kinds recorded when membership changes.
const (
	EventEntered = "segment_entered"
	EventLeft    = "segment_left"
)

// Refresh tuning: how many contact ids one full-recompute step covers, how
// often each segment is fully recomputed (time windows move even when no
// data does), and how many new events one follow step reads.
const (
	fullWindow   = 5000
	FullEvery    = 15 * time.Minute
	followEvents = 5000
)

// RefreshContacts re-evaluates every filled segment for the given contacts
// and records who entered and who left. It returns the number of changes.
func (s *Service) RefreshContacts(ctx context.Context, ws int64, ids []int64) (int, error) {
	if len(ids) == 0 {
		return 0, nil
	}
	segs, err := querySegments(ctx, s.DB.Reader(), `-- segments.RefreshContacts
		SELECT `+segmentCols+` FROM segments WHERE workspace_id = ? AND filled_at IS NOT NULL ORDER BY id`, ws)
	if err != nil {
		return 0, err
	}
	props, err := s.CRM.Properties(ctx, s.DB.Reader(), ws, "contact")
	if err != nil {
		return 0, err
	}
	now := s.Clock.Now()
	qs := make([]Query, len(segs))
	for i, sg := range segs {
		if qs[i], err = Compile(sg.Definition, props, ws, now); err != nil {
			return 0, err
		}
	}
	total := 0
	for start := 0; start < len(ids); start += 500 {
		chunk := ids[start:min(start+500, len(ids))]
		in := "(" + db.Placeholders(len(chunk)) + ")"
		idArgs := make([]any, len(chunk))
		for i, id := range chunk {
			idArgs[i] = id
		}
		// Every segment's reads for the chunk in one read transaction: the
		// same contacts' rows and index pages are read once for all of them.
		match, cur := make([]map[int64]bool, len(segs)), make([]map[int64]bool, len(segs))
		err := s.DB.Read(ctx, func(q db.Querier) error {
			for i, sg := range segs {
				var err error
				if match[i], err = idSet(ctx, q, `-- segments.RefreshContacts match
					SELECT c.id FROM contacts c WHERE c.workspace_id = ? AND c.id IN `+in+` AND `+qs[i].Where,
					append(append([]any{ws}, idArgs...), qs[i].Args...)...); err != nil {
					return err
				}
				if cur[i], err = idSet(ctx, q, `-- segments.RefreshContacts members
					SELECT contact_id FROM segment_members WHERE workspace_id = ? AND segment_id = ? AND contact_id IN `+in,
					append([]any{ws, sg.ID}, idArgs...)...); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return total, fmt.Errorf("segments.RefreshContacts: %w", err)
		}
		for i, sg := range segs {
			n, err := s.apply(ctx, ws, sg, match[i], cur[i], true, now)
			if err != nil {
				return total, err
			}
			total += n
		}
	}
	return total, nil
}

func idSet(ctx context.Context, q db.Querier, sql string, args ...any) (map[int64]bool, error) {
	rows, err := q.QueryContext(ctx, sql, args...)
	if err != nil {
		return nil, fmt.Errorf("segments: %w", err)
	}
	defer rows.Close()
	out := map[int64]bool{}
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		out[id] = true
	}
	return out, rows.Err()
}

// apply moves a segment's stored membership from cur to match in one write
// transaction. Inserts and deletes are guarded, so a change another worker
// already made is neither counted nor recorded twice.
func (s *Service) apply(ctx context.Context, ws int64, sg Segment, match, cur map[int64]bool, record bool, now time.Time) (int, error) {
	var enter, leave []int64
	for id := range match {
		if !cur[id] {
			enter = append(enter, id)
		}
	}
	for id := range cur {
		if !match[id] {
			leave = append(leave, id)
		}
	}
	if len(enter)+len(leave) == 0 {
		return 0, nil
	}
	sort.Slice(enter, func(i, j int) bool { return enter[i] < enter[j] })
	sort.Slice(leave, func(i, j int) bool { return leave[i] < leave[j] })
	n := 0
	err := s.DB.WriteBulk(ctx, "segments.apply", func(tx *db.Tx) error {
		var evs []platform.EventInput
		at := now
		ev := func(kind string, id int64) {
			evs = append(evs, platform.EventInput{ID: fmt.Sprintf("%s:%d:%d:%d", kind, sg.ID, id, db.Millis(now)), Kind: kind, OccurredAt: &at,
				ContactID: id, Properties: map[string]any{"segment_id": sg.ID, "segment": sg.Name}})
		}
		delta := int64(0)
		for _, id := range enter {
			res, err := tx.ExecContext(ctx, `-- segments.apply enter
				INSERT INTO segment_members (workspace_id, segment_id, contact_id, entered_at) VALUES (?, ?, ?, ?)
				ON CONFLICT (workspace_id, segment_id, contact_id) DO NOTHING`, ws, sg.ID, id, db.Millis(now))
			if err != nil {
				return err
			}
			if k, _ := res.RowsAffected(); k > 0 {
				delta++
				ev(EventEntered, id)
			}
		}
		for _, id := range leave {
			res, err := tx.ExecContext(ctx, `-- segments.apply leave
				DELETE FROM segment_members WHERE workspace_id = ? AND segment_id = ? AND contact_id = ?`, ws, sg.ID, id)
			if err != nil {
				return err
			}
			if k, _ := res.RowsAffected(); k > 0 {
				delta--
				ev(EventLeft, id)
			}
		}
		n = len(evs)
		if _, err := tx.ExecContext(ctx, `UPDATE segments SET member_count = member_count + ? WHERE workspace_id = ? AND id = ?`, delta, ws, sg.ID); err != nil {
			return err
		}
		if !record || len(evs) == 0 {
			return nil
		}
		_, _, err := platform.StoreEvents(ctx, tx, ws, evs, now)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("segments.apply(%d): %w", sg.ID, err)
	}
	return n, nil
}

// RefreshSegment recomputes a segment's whole membership now, in windows of
// contact ids with one write transaction each, and marks it refreshed. The
// first fill of a new segment records no events; later ones record every
// change (a definition edit, a time window that moved).
func (s *Service) RefreshSegment(ctx context.Context, ws, id int64) error {
	var after int64
	for {
		next, done, err := s.refreshStep(ctx, ws, id, after, time.Time{})
		if err != nil || done {
			return err
		}
		after = next
	}
}

// refreshStep recomputes the window of contacts after the id given and,
// after the last window, marks the segment refreshed. With a deadline it
// keeps going window after window until the deadline passes.
func (s *Service) refreshStep(ctx context.Context, ws, id, after int64, deadline time.Time) (next int64, done bool, err error) {
	sg, err := s.GetSegment(ctx, s.DB.Reader(), ws, id)
	if err != nil {
		return 0, true, err
	}
	var filled *int64
	if err := s.DB.Reader().QueryRowContext(ctx, `SELECT filled_at FROM segments WHERE workspace_id = ? AND id = ?`, ws, id).Scan(&filled); err != nil {
		return 0, true, err
	}
	props, err := s.CRM.Properties(ctx, s.DB.Reader(), ws, "contact")
	if err != nil {
		return 0, true, err
	}
	var maxID int64
	if err := s.DB.Reader().QueryRowContext(ctx, `SELECT COALESCE(MAX(id), 0) FROM contacts WHERE workspace_id = ?`, ws).Scan(&maxID); err != nil {
		return 0, true, err
	}
	for {
		now := s.Clock.Now()
		q, err := Compile(sg.Definition, props, ws, now)
		if err != nil {
			return 0, true, err
		}
		hi := after + fullWindow
		match, err := idSet(ctx, s.DB.Reader(), `-- segments.RefreshSegment match
			SELECT c.id FROM contacts c WHERE c.workspace_id = ? AND c.id > ? AND c.id <= ? AND `+q.Where,
			append([]any{ws, after, hi}, q.Args...)...)
		if err != nil {
			return 0, true, err
		}
		cur, err := idSet(ctx, s.DB.Reader(), `-- segments.RefreshSegment members
			SELECT contact_id FROM segment_members WHERE workspace_id = ? AND segment_id = ? AND contact_id > ? AND contact_id <= ?`, ws, id, after, hi)
		if err != nil {
			return 0, true, err
		}
		if _, err := s.apply(ctx, ws, sg, match, cur, filled != nil, now); err != nil {
			return 0, true, err
		}
		after = hi
		if after >= maxID {
			break
		}
		if deadline.IsZero() || time.Now().After(deadline) {
			return after, false, nil
		}
	}
	now := db.Millis(s.Clock.Now())
	err = s.DB.Write(ctx, "segments.RefreshSegment done", func(tx *db.Tx) error {
		// Only when the definition did not change meanwhile; else the next
		// pass recomputes it under the new one.
		_, err := tx.ExecContext(ctx, `-- segments.RefreshSegment done
			UPDATE segments SET refreshed_at = ?, filled_at = COALESCE(filled_at, ?),
			member_count = (SELECT COUNT(*) FROM segment_members m WHERE m.workspace_id = segments.workspace_id AND m.segment_id = segments.id)
			WHERE workspace_id = ? AND id = ? AND updated_at = ?`, now, now, ws, id, db.Millis(sg.UpdatedAt))
		return err
	})
	return 0, true, err
}

// Refresher keeps memberships current with no cron to set up: it follows new
// events and changed contacts from marks in work_marks (so a restart
// resumes), and recomputes each segment fully every FullEvery, a bounded
// slice of work per tick so following never waits long behind it.
type Refresher struct {
	Segments *Service
	// progress of the full recompute in flight: segment id → last contact id done.
	full map[int64]int64
}

// Follow re-evaluates the contacts of events stored and contacts changed
// since the marks, and advances them; it returns how many contacts it read.
func (r *Refresher) Follow(ctx context.Context, ws int64) (int, error) {
	s := r.Segments
	d := s.DB
	marks := map[string]int64{}
	rows, err := d.Reader().QueryContext(ctx, `SELECT name, value FROM work_marks WHERE workspace_id = ? AND name LIKE 'segments.%'`, ws)
	if err != nil {
		return 0, err
	}
	for rows.Next() {
		var k string
		var v int64
		if err := rows.Scan(&k, &v); err != nil {
			rows.Close()
			return 0, err
		}
		marks[k] = v
	}
	rows.Close()
	if _, ok := marks["segments.events"]; !ok {
		// First run: follow what changes from now on; the full recompute
		// covers everything older.
		var maxEv int64
		if err := d.Reader().QueryRowContext(ctx, `SELECT COALESCE(MAX(id), 0) FROM events WHERE workspace_id = ?`, ws).Scan(&maxEv); err != nil {
			return 0, err
		}
		return 0, r.setMarks(ctx, ws, map[string]int64{"segments.events": maxEv, "segments.updated_at": db.Millis(s.Clock.Now()), "segments.updated_id": 0})
	}
	seen := map[int64]bool{}
	var ids []int64
	add := func(id int64) {
		if !seen[id] {
			seen[id] = true
			ids = append(ids, id)
		}
	}
	next := map[string]int64{}
	last, err := platform.ContactEventsSince(ctx, d.Reader(), ws, marks["segments.events"], followEvents,
		"kind NOT IN ('segment_entered', 'segment_left')", func(_, cid int64) { add(cid) })
	if err != nil {
		return 0, err
	}
	if last != marks["segments.events"] {
		next["segments.events"] = last
	}
	// Contacts changed since the mark.
	if _, err := platform.ChangedSince(ctx, d.Reader(), "contacts", ws, marks["segments.updated_at"], marks["segments.updated_id"], 1000, func(id, u int64) {
		add(id)
		next["segments.updated_at"], next["segments.updated_id"] = u, id
	}); err != nil {
		return 0, err
	}
	if len(next) == 0 {
		return 0, nil
	}
	if _, err := s.RefreshContacts(ctx, ws, ids); err != nil {
		return 0, err
	}
	return len(ids), r.setMarks(ctx, ws, next)
}

func (r *Refresher) setMarks(ctx context.Context, ws int64, marks map[string]int64) error {
	return r.Segments.DB.Write(ctx, "segments.setMarks", func(tx *db.Tx) error {
		for k, v := range marks {
			if _, err := tx.ExecContext(ctx, `INSERT INTO work_marks (workspace_id, name, value) VALUES (?, ?, ?)
				ON CONFLICT (workspace_id, name) DO UPDATE SET value = excluded.value`, ws, k, v); err != nil {
				return err
			}
		}
		return nil
	})
}

// RecomputeDue spends up to budget on full recomputes of segments that are
// new, edited, or last refreshed more than FullEvery ago, resuming a
// recompute left unfinished by the previous call. It reports whether work is
// left.
func (r *Refresher) RecomputeDue(ctx context.Context, ws int64, budget time.Duration) (bool, error) {
	s := r.Segments
	if r.full == nil {
		r.full = map[int64]int64{}
	}
	cut := db.Millis(s.Clock.Now().Add(-FullEvery))
	rows, err := s.DB.Reader().QueryContext(ctx, `-- segments.RecomputeDue
		SELECT id FROM segments WHERE workspace_id = ? AND (refreshed_at IS NULL OR refreshed_at < ?) ORDER BY refreshed_at IS NOT NULL, refreshed_at, id`, ws, cut)
	if err != nil {
		return false, err
	}
	var due []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return false, err
		}
		due = append(due, id)
	}
	rows.Close()
	deadline := time.Now().Add(budget)
	for i, id := range due {
		next, done, err := s.refreshStep(ctx, ws, id, r.full[id], deadline)
		if err != nil {
			return true, err
		}
		if !done {
			r.full[id] = next
			return true, nil
		}
		delete(r.full, id)
		if i < len(due)-1 && time.Now().After(deadline) {
			return true, nil
		}
	}
	return false, nil
}

// Run follows changes every interval and recomputes due segments in the time
// left, until ctx ends.
func (r *Refresher) Run(ctx context.Context, ws int64, every time.Duration, onErr func(error)) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		for {
			n, err := r.Follow(ctx, ws)
			if err != nil && ctx.Err() == nil && onErr != nil {
				onErr(err)
			}
			if n == 0 || err != nil {
				break
			}
		}
		if _, err := r.RecomputeDue(ctx, ws, every); err != nil && ctx.Err() == nil && onErr != nil {
			onErr(err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
