package journeys

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/ryorin/ryorin/internal/db"
	"github.com/ryorin/ryorin/internal/errs"
	"github.com/ryorin/ryorin/internal/marketing/segments"
	"github.com/ryorin/ryorin/internal/platform"
)

// Marks in work_marks: the last event and lifecycle-history row the trigger
// follower has read. They move in the same transaction as the enrolments the
// rows caused, so a restart neither misses nor repeats a trigger.
const (
	markEvents    = "journeys.events"
	markLifecycle = "journeys.lifecycle"
	// followBatch is how many rows of each source one pass reads.
	followBatch = 1000
	// enrolChunk is how many matching rows one write transaction enrols.
	enrolChunk = 100
)

// trigger is one thing that happened to a contact that may enrol them.
type trigger struct {
	mark    string // the mark it moves (its source)
	id      int64  // its row id in that source
	contact int64
	at      int64 // epoch ms it was recorded
	ref     string
	// an event …
	kind  string
	props map[string]any
	// … or a lifecycle change
	stage string
}

func (t trigger) matches(j Journey) bool {
	if j.ActivatedAt == nil || t.at < db.Millis(*j.ActivatedAt) {
		return false
	}
	tr := j.Definition.Trigger
	switch tr.Kind {
	case TriggerForm:
		return t.kind == platform.EventFormSubmit && (tr.FormID == 0 || propID(t.props, "form_id") == tr.FormID)
	case TriggerSegment:
		return t.kind == segments.EventEntered && propID(t.props, "segment_id") == tr.SegmentID
	case TriggerEvent:
		return t.kind == tr.Event
	case TriggerLifecycle:
		return t.stage != "" && (tr.Stage == "" || t.stage == tr.Stage)
	case TriggerRecycled:
		return t.stage == string(platform.StageRecycled)
	}
	return false
}

func propID(p map[string]any, key string) int64 {
	switch v := p[key].(type) {
	case float64:
		return int64(v)
	case string:
		n, _ := strconv.ParseInt(v, 10, 64)
		return n
	}
	return 0
}

// Follow enrols the contacts of events and lifecycle changes recorded since
// the marks in active journeys whose trigger they meet, and returns how many
// it enrolled and whether it caught up (read less than a full batch). On the
// first run it only sets the marks: triggers count from then on.
//
// Rows younger than Lag are left for the next pass: PostgreSQL hands out ids
// before commit, so a row with a smaller id may still become visible after a
// larger one; reading in id order only up to the first row younger than Lag
// keeps the mark from passing a row some transaction has not committed yet.
func (s *Service) Follow(ctx context.Context, ws int64) (enrolled int, caughtUp bool, err error) {
	n, full, err := s.follow(ctx, ws)
	return n, !full, err
}

func (s *Service) follow(ctx context.Context, ws int64) (int, bool, error) {
	q := s.DB.Reader()
	marks := map[string]int64{}
	for _, name := range []string{markEvents, markLifecycle} {
		var v int64
		err := q.QueryRowContext(ctx, `SELECT value FROM work_marks WHERE workspace_id = ? AND name = ?`, ws, name).Scan(&v)
		if db.NoRows(err) {
			return 0, false, s.DB.Write(ctx, "journeys.Follow.init", func(tx *db.Tx) error {
				var ev, lc int64
				if err := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(id), 0) FROM events WHERE workspace_id = ?`, ws).Scan(&ev); err != nil {
					return err
				}
				if err := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(id), 0) FROM lifecycle_history WHERE workspace_id = ?`, ws).Scan(&lc); err != nil {
					return err
				}
				return setMarks(ctx, tx, ws, map[string]int64{markEvents: ev, markLifecycle: lc})
			})
		}
		if err != nil {
			return 0, false, fmt.Errorf("journeys.Follow: %w", err)
		}
		marks[name] = v
	}
	var ts []trigger
	next := map[string]int64{markEvents: marks[markEvents], markLifecycle: marks[markLifecycle]}
	settled := db.Millis(s.Clock.Now().Add(-s.Lag))
	full := false
	rows, err := q.QueryContext(ctx, `-- journeys.Follow events
		SELECT id, kind, contact_id, received_at, properties FROM events
		WHERE workspace_id = ? AND id > ? AND contact_id IS NOT NULL ORDER BY id LIMIT ?`, ws, marks[markEvents], followBatch)
	if err != nil {
		return 0, false, fmt.Errorf("journeys.Follow: %w", err)
	}
	read, young := 0, false
	for rows.Next() {
		var id int64
		var t trigger
		var props *string
		if err := rows.Scan(&id, &t.kind, &t.contact, &t.at, &props); err != nil {
			rows.Close()
			return 0, false, fmt.Errorf("journeys.Follow: %w", err)
		}
		if read++; young || t.at > settled {
			young = true
			continue
		}
		if props != nil {
			_ = json.Unmarshal([]byte(*props), &t.props)
		}
		t.mark, t.id, t.ref = markEvents, id, "event "+strconv.FormatInt(id, 10)
		ts = append(ts, t)
		next[markEvents] = id
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, false, err
	}
	full = read == followBatch && !young
	rows, err = q.QueryContext(ctx, `-- journeys.Follow lifecycle
		SELECT id, contact_id, to_stage, at FROM lifecycle_history WHERE workspace_id = ? AND id > ? ORDER BY id LIMIT ?`,
		ws, marks[markLifecycle], followBatch)
	if err != nil {
		return 0, false, fmt.Errorf("journeys.Follow: %w", err)
	}
	read, young = 0, false
	for rows.Next() {
		var id int64
		var t trigger
		if err := rows.Scan(&id, &t.contact, &t.stage, &t.at); err != nil {
			rows.Close()
			return 0, false, fmt.Errorf("journeys.Follow: %w", err)
		}
		if read++; young || t.at > settled {
			young = true
			continue
		}
		t.mark, t.id, t.ref = markLifecycle, id, "lifecycle "+strconv.FormatInt(id, 10)
		ts = append(ts, t)
		next[markLifecycle] = id
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, false, err
	}
	full = full || (read == followBatch && !young)
	if next[markEvents] == marks[markEvents] && next[markLifecycle] == marks[markLifecycle] {
		return 0, false, nil
	}
	js, err := s.activeJourneys(ctx, ws)
	if err != nil {
		return 0, false, err
	}
	// The matching triggers are enrolled in chunks, each one short write
	// transaction that also moves the marks past the rows it covered.
	var hits []int
	for i, t := range ts {
		for _, j := range js {
			if t.matches(j) {
				hits = append(hits, i)
				break
			}
		}
	}
	n, done := 0, map[string]int64{markEvents: marks[markEvents], markLifecycle: marks[markLifecycle]}
	for start := 0; start == 0 || start < len(hits); start += enrolChunk {
		end := min(start+enrolChunk, len(hits))
		upto := next // the last chunk covers every row read
		if end < len(hits) {
			upto = map[string]int64{markEvents: done[markEvents], markLifecycle: done[markLifecycle]}
			for _, t := range ts[:hits[end]] {
				upto[t.mark] = max(upto[t.mark], t.id)
			}
		}
		err = s.DB.Write(ctx, "journeys.Follow", func(tx *db.Tx) error {
			k := 0
			for _, i := range hits[start:end] {
				t := ts[i]
				for _, j := range js {
					if !t.matches(j) {
						continue
					}
					ok, err := s.enrol(ctx, tx, ws, j, t.contact, t.ref)
					if err != nil {
						return err
					}
					if ok {
						k++
					}
				}
			}
			n += k
			if end == len(hits) {
				if err := s.wakeForGoals(ctx, tx, ws, js, ts); err != nil {
					return err
				}
			}
			return setMarks(ctx, tx, ws, upto)
		})
		if err != nil {
			return n, false, fmt.Errorf("journeys.Follow: %w", err)
		}
		done = upto
	}
	if n > 0 {
		s.Log.Info("journeys: enrolled", "contacts", n)
	}
	return n, full, nil
}

// wakeForGoals makes the waiting enrolments of contacts something just
// happened to due now, in journeys with a goal, so the goal is checked at
// once instead of when the wait ends (a wait's end depends only on when it
// began, so it is simply computed again).
func (s *Service) wakeForGoals(ctx context.Context, tx *db.Tx, ws int64, js []Journey, ts []trigger) error {
	var goals []any
	for _, j := range js {
		if j.Definition.Goal != "" {
			goals = append(goals, j.ID)
		}
	}
	if len(goals) == 0 || len(ts) == 0 {
		return nil
	}
	seen := map[int64]bool{}
	var contacts []any
	for _, t := range ts {
		if !seen[t.contact] {
			seen[t.contact] = true
			contacts = append(contacts, t.contact)
		}
	}
	now := db.Millis(s.Clock.Now())
	for i := 0; i < len(contacts); i += 500 {
		part := contacts[i:min(i+500, len(contacts))]
		args := append(append([]any{now, ws}, part...), goals...)
		if _, err := tx.ExecContext(ctx, `-- journeys.wakeForGoals
			UPDATE journey_enrolments SET next_run_at = ?
			WHERE workspace_id = ? AND status = 'active' AND contact_id IN (`+db.Placeholders(len(part))+`)
			AND journey_id IN (`+db.Placeholders(len(goals))+`) AND next_run_at > ?`, append(args, now)...); err != nil {
			return fmt.Errorf("journeys.wakeForGoals: %w", err)
		}
	}
	return nil
}

func setMarks(ctx context.Context, tx *db.Tx, ws int64, marks map[string]int64) error {
	for name, v := range marks {
		if _, err := tx.ExecContext(ctx, `INSERT INTO work_marks (workspace_id, name, value) VALUES (?, ?, ?)
			ON CONFLICT (workspace_id, name) DO UPDATE SET value = excluded.value`, ws, name, v); err != nil {
			return err
		}
	}
	return nil
}

func (s *Service) activeJourneys(ctx context.Context, ws int64) ([]Journey, error) {
	rows, err := s.DB.Reader().QueryContext(ctx, `-- journeys.activeJourneys
		SELECT `+journeyCols+` FROM journeys WHERE workspace_id = ? AND status = ? ORDER BY id`, ws, StatusActive)
	if err != nil {
		return nil, fmt.Errorf("journeys.activeJourneys: %w", err)
	}
	defer rows.Close()
	var out []Journey
	for rows.Next() {
		j, err := scanJourney(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, j)
	}
	return out, rows.Err()
}

// Enrol puts one contact into an active journey now (the API's manual
// enrolment and tests), under the same rules as a trigger: at most once at a
// time, and once ever unless the journey allows re-entry.
func (s *Service) Enrol(ctx context.Context, a platform.Actor, journeyID, contactID int64) (bool, error) {
	if err := canEdit(a); err != nil {
		return false, err
	}
	var ok bool
	err := s.DB.Write(ctx, "journeys.Enrol", func(tx *db.Tx) error {
		j, err := getJourney(ctx, tx, a.WorkspaceID, journeyID)
		if err != nil {
			return err
		}
		if j.Status != StatusActive {
			return nil
		}
		if _, err := s.CRM.GetContact(ctx, tx, a, contactID); err != nil {
			return err
		}
		ok, err = s.enrol(ctx, tx, a.WorkspaceID, j, contactID, "manual")
		return err
	})
	return ok, err
}

// Remove takes a contact out of a journey by hand: its running enrolment
// ends as exited (reason "removed") at the step it was at.
func (s *Service) Remove(ctx context.Context, a platform.Actor, journeyID, enrolmentID int64) error {
	if err := canEdit(a); err != nil {
		return err
	}
	return s.DB.Write(ctx, "journeys.Remove", func(tx *db.Tx) error {
		j, err := getJourney(ctx, tx, a.WorkspaceID, journeyID)
		if err != nil {
			return err
		}
		var e enrolment
		err = tx.QueryRowContext(ctx, `SELECT id, journey_id, contact_id, current_step FROM journey_enrolments
			WHERE workspace_id = ? AND id = ? AND journey_id = ? AND status = 'active'`, a.WorkspaceID, enrolmentID, journeyID).
			Scan(&e.ID, &e.JourneyID, &e.ContactID, &e.Step)
		if db.NoRows(err) {
			return errs.NotFoundf("no running enrolment %d in journey %d", enrolmentID, journeyID)
		}
		if err != nil {
			return err
		}
		now := s.Clock.Now()
		if err := s.end(ctx, tx, a.WorkspaceID, j, e, EnrolExited, "removed", now); err != nil {
			return err
		}
		return platform.Audit(ctx, tx, a, now, "remove", "journey_enrolment", e.ID, map[string]any{"journey_id": j.ID, "contact_id": e.ContactID})
	})
}

// enrol inserts an enrolment at the journey's first step, due now.
func (s *Service) enrol(ctx context.Context, tx *db.Tx, ws int64, j Journey, contact int64, ref string) (bool, error) {
	if !j.AllowReentry {
		var one int
		err := tx.QueryRowContext(ctx, `-- journeys.enrol once
			SELECT 1 FROM journey_enrolments WHERE workspace_id = ? AND journey_id = ? AND contact_id = ? LIMIT 1`, ws, j.ID, contact).Scan(&one)
		if err == nil {
			return false, nil
		}
		if !db.NoRows(err) {
			return false, err
		}
	}
	now := s.Clock.Now()
	var id int64
	err := tx.QueryRowContext(ctx, `-- journeys.enrol
		INSERT INTO journey_enrolments (workspace_id, journey_id, contact_id, status, current_step, step_entered_at, next_run_at, trigger_ref, enrolled_at)
		VALUES (?, ?, ?, 'active', ?, ?, ?, ?, ?)
		ON CONFLICT (workspace_id, journey_id, contact_id) WHERE status = 'active' DO NOTHING RETURNING id`,
		ws, j.ID, contact, j.Definition.Steps[0].ID, db.Millis(now), db.Millis(now), ref, db.Millis(now)).Scan(&id)
	if db.NoRows(err) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("journeys.enrol: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `UPDATE journeys SET enrolled_count = enrolled_count + 1 WHERE workspace_id = ? AND id = ?`, ws, j.ID); err != nil {
		return false, err
	}
	_, err = platform.AppendTimeline(ctx, tx, platform.System(ws), platform.TimelineEntry{At: now, Kind: "journey.enrolled", ContactID: contact,
		RefType: "journey_enrolment", RefID: id}, map[string]any{"journey_id": j.ID, "journey": j.Name, "trigger": ref})
	return err == nil, err
}
