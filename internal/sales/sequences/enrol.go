package sequences

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/ryorin/ryorin/internal/bizcal"
	"github.com/ryorin/ryorin/internal/db"
	"github.com/ryorin/ryorin/internal/errs"
	"github.com/ryorin/ryorin/internal/platform"
)

// Enrolment statuses. Every status but active is final.
const (
	StatusActive        = "active"
	StatusFinished      = "finished"       // ran its last step
	StatusReplied       = "replied"        // the contact wrote back
	StatusMeetingBooked = "meeting_booked" // a meeting was logged with the contact
	StatusConverted     = "converted"      // the contact became a customer
	StatusBounced       = "bounced"        // the next email cannot be delivered (no address, bounced)
	StatusUnsubscribed  = "unsubscribed"   // the contact asked for no mail (complaint, do not contact)
	StatusEnded         = "ended"          // the rep ended it
	StatusFailed        = "failed"         // a step kept failing
)

// Statuses lists the enrolment statuses.
var Statuses = []string{StatusActive, StatusFinished, StatusReplied, StatusMeetingBooked, StatusConverted, StatusBounced, StatusUnsubscribed, StatusEnded, StatusFailed}

// Enrolment is a contact's place in a sequence.
type Enrolment struct {
	ID           int64      `json:"id"`
	SequenceID   int64      `json:"sequence_id"`
	SequenceName string     `json:"sequence_name"`
	ContactID    int64      `json:"contact_id"`
	ContactName  string     `json:"contact_name"`
	UserID       int64      `json:"user_id" doc:"the rep who enrolled the contact: the sender and the tasks' owner"`
	Status       string     `json:"status" doc:"active, finished, replied, meeting_booked, converted, bounced, unsubscribed, ended or failed"`
	StepIndex    int        `json:"step_index" doc:"the next step to run (0-based)"`
	StepCount    int        `json:"step_count"`
	NextAction   string     `json:"next_action,omitempty" doc:"the next step's action while active"`
	NextRunAt    *time.Time `json:"next_run_at,omitempty" doc:"when the next step is due while active"`
	EndReason    string     `json:"end_reason,omitempty"`
	LastError    string     `json:"last_error,omitempty"`
	EnrolledAt   time.Time  `json:"enrolled_at"`
	EndedAt      *time.Time `json:"ended_at,omitempty"`
}

// dueAt is when a step that waits delay business days after from is due:
// at 9:00 in the workspace's zone on the delay-th working day after from's
// day (weekends, Japanese holidays and 年末年始 skipped). A delay of 0 is due
// at from itself, or at the next working day's 9:00 when from is a day off.
func dueAt(from time.Time, delay int, loc *time.Location) time.Time {
	cal := bizcal.Standard(loc)
	lt := from.In(loc)
	day := time.Date(lt.Year(), lt.Month(), lt.Day(), 9, 0, 0, 0, loc)
	if delay == 0 {
		if cal.WorkingDay(day) {
			return from
		}
		delay = 1
	}
	for i := 0; i < 3660 && delay > 0; i++ {
		day = time.Date(day.Year(), day.Month(), day.Day()+1, 9, 0, 0, 0, loc)
		if cal.WorkingDay(day) {
			delay--
		}
	}
	return day
}

// DueAt is exported for tests and screens: see dueAt.
func DueAt(from time.Time, delay int, loc *time.Location) time.Time { return dueAt(from, delay, loc) }

func location(ctx context.Context, q db.Querier, ws int64) *time.Location {
	if w, err := platform.GetWorkspace(ctx, q, ws); err == nil {
		return w.Location()
	}
	return time.UTC
}

// Enrol puts a contact into a sequence the actor may use, with the actor as
// its sender. A contact is in a sequence at most once at a time.
func (s *Service) Enrol(ctx context.Context, a platform.Actor, sequenceID, contactID int64) (Enrolment, error) {
	if err := canUse(a); err != nil {
		return Enrolment{}, err
	}
	var id int64
	err := s.DB.Write(ctx, "sequences.Enrol", func(tx *db.Tx) error {
		sq, err := get(ctx, tx, a, sequenceID)
		if err != nil {
			return err
		}
		c, err := s.CRM.GetContact(ctx, tx, a, contactID)
		if err != nil {
			if errs.Is(err, errs.NotFound) {
				return errs.Field("contact_id", "contact %d does not exist", contactID)
			}
			return err
		}
		now := s.Clock.Now()
		next := dueAt(now, sq.Steps[0].DelayDays, location(ctx, tx, a.WorkspaceID))
		err = tx.QueryRowContext(ctx, `-- sequences.Enrol
			INSERT INTO sequence_enrolments (workspace_id, sequence_id, contact_id, user_id, status, step_index, next_run_at, enrolled_at)
			VALUES (?, ?, ?, ?, 'active', 0, ?, ?) ON CONFLICT (workspace_id, sequence_id, contact_id) WHERE status = 'active' DO NOTHING RETURNING id`,
			a.WorkspaceID, sq.ID, c.ID, a.UserID, db.Millis(next), db.Millis(now)).Scan(&id)
		if db.NoRows(err) {
			return errs.E(errs.Conflict, "contact_id", "the contact is already in this sequence")
		}
		if err != nil {
			return fmt.Errorf("sequences.Enrol: %w", err)
		}
		_, err = platform.AppendTimeline(ctx, tx, a, platform.TimelineEntry{At: now, Kind: "sequence.enrolled", ContactID: c.ID,
			RefType: "sequence_enrolment", RefID: id}, map[string]any{"sequence_id": sq.ID, "sequence": sq.Name})
		return err
	})
	if err != nil {
		return Enrolment{}, err
	}
	return s.GetEnrolment(ctx, a, id)
}

// End stops an active enrolment at the rep's request. The enrolling rep,
// the sequence's owner and managers may end it.
func (s *Service) End(ctx context.Context, a platform.Actor, id int64) (Enrolment, error) {
	if err := canUse(a); err != nil {
		return Enrolment{}, err
	}
	e, err := s.GetEnrolment(ctx, a, id)
	if err != nil {
		return e, err
	}
	var owner int64
	if err := s.DB.Reader().QueryRowContext(ctx, `SELECT owner_id FROM sequences WHERE workspace_id = ? AND id = ?`, a.WorkspaceID, e.SequenceID).Scan(&owner); err != nil {
		return e, fmt.Errorf("sequences.End: %w", err)
	}
	if e.UserID != a.UserID && owner != a.UserID && !a.Is(platform.RoleAdmin, platform.RoleManager) {
		return e, errs.E(errs.Forbidden, "", "only the rep who enrolled the contact (or the sequence's owner, or a manager) ends it")
	}
	if e.Status != StatusActive {
		return e, errs.E(errs.Conflict, "status", "the enrolment has already ended (%s)", e.Status)
	}
	err = s.DB.Write(ctx, "sequences.End", func(tx *db.Tx) error {
		return s.end(ctx, tx, a, e.ID, e.ContactID, e.SequenceID, e.SequenceName, e.StepIndex, StatusEnded, "rep", s.Clock.Now())
	})
	if err == errNotDue {
		err = errs.E(errs.Conflict, "status", "the enrolment has already ended")
	}
	if err != nil {
		return e, err
	}
	return s.GetEnrolment(ctx, a, id)
}

// end closes an active enrolment with a status and reason, on the timeline.
func (s *Service) end(ctx context.Context, tx *db.Tx, a platform.Actor, id, contactID, seqID int64, seqName string, step int, status, reason string, now time.Time) error {
	res, err := tx.ExecContext(ctx, `-- sequences.end
		UPDATE sequence_enrolments SET status = ?, end_reason = ?, ended_at = ? WHERE workspace_id = ? AND id = ? AND status = 'active'`,
		status, reason, db.Millis(now), a.WorkspaceID, id)
	if err != nil {
		return fmt.Errorf("sequences.end: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return errNotDue
	}
	_, err = platform.AppendTimeline(ctx, tx, a, platform.TimelineEntry{At: now, Kind: "sequence.ended", ContactID: contactID,
		RefType: "sequence_enrolment", RefID: id}, map[string]any{"sequence_id": seqID, "sequence": seqName, "status": status, "reason": reason, "step": step})
	return err
}

const enrolCols = `e.id, e.sequence_id, s.name, s.steps, e.contact_id, c.family_name, c.given_name, COALESCE(c.email, ''), e.user_id, e.status,
	e.step_index, e.next_run_at, e.end_reason, e.last_error, e.enrolled_at, e.ended_at`
const enrolFrom = ` FROM sequence_enrolments e
	JOIN sequences s ON s.workspace_id = e.workspace_id AND s.id = e.sequence_id
	JOIN contacts c ON c.workspace_id = e.workspace_id AND c.id = e.contact_id`

func scanEnrolment(sc interface{ Scan(...any) error }) (Enrolment, error) {
	var e Enrolment
	var steps, family, given, addr string
	var next, enrolled int64
	var ended *int64
	if err := sc.Scan(&e.ID, &e.SequenceID, &e.SequenceName, &steps, &e.ContactID, &family, &given, &addr, &e.UserID, &e.Status,
		&e.StepIndex, &next, &e.EndReason, &e.LastError, &enrolled, &ended); err != nil {
		return e, err
	}
	e.ContactName = strings.TrimSpace(family + " " + given)
	if e.ContactName == "" {
		e.ContactName = addr
	}
	e.EnrolledAt = db.Time(enrolled)
	if ended != nil {
		t := db.Time(*ended)
		e.EndedAt = &t
	}
	var st []Step
	if err := jsonUnmarshal(steps, &st); err != nil {
		return e, err
	}
	e.StepCount = len(st)
	if e.Status == StatusActive {
		t := db.Time(next)
		e.NextRunAt = &t
		if e.StepIndex < len(st) {
			e.NextAction = st[e.StepIndex].Action
		}
	}
	return e, nil
}

// GetEnrolment returns an enrolment in a sequence the actor may see.
func (s *Service) GetEnrolment(ctx context.Context, a platform.Actor, id int64) (Enrolment, error) {
	e, err := scanEnrolment(s.DB.Reader().QueryRowContext(ctx, `-- sequences.GetEnrolment
		SELECT `+enrolCols+enrolFrom+` WHERE e.workspace_id = ? AND e.id = ? AND (s.shared OR s.owner_id = ? OR e.user_id = ?)`,
		a.WorkspaceID, id, a.UserID, a.UserID))
	if db.NoRows(err) {
		return e, errs.NotFoundf("enrolment %d", id)
	}
	if err != nil {
		return e, fmt.Errorf("sequences.GetEnrolment(%d): %w", id, err)
	}
	return e, nil
}

// EnrolmentFilter selects enrolments: of a sequence, of a contact, active only.
type EnrolmentFilter struct {
	SequenceID int64
	ContactID  int64
	ActiveOnly bool
	Limit      int
}

// Enrolments lists enrolments (active first, then newest) in sequences the
// actor may see.
func (s *Service) Enrolments(ctx context.Context, a platform.Actor, f EnrolmentFilter) ([]Enrolment, error) {
	q := `-- sequences.Enrolments
		SELECT ` + enrolCols + enrolFrom + ` WHERE e.workspace_id = ? AND (s.shared OR s.owner_id = ? OR e.user_id = ?)`
	args := []any{a.WorkspaceID, a.UserID, a.UserID}
	if f.SequenceID != 0 {
		q += ` AND e.sequence_id = ?`
		args = append(args, f.SequenceID)
	}
	if f.ContactID != 0 {
		q += ` AND e.contact_id = ?`
		args = append(args, f.ContactID)
	}
	if f.ActiveOnly {
		q += ` AND e.status = 'active'`
	}
	if f.Limit <= 0 || f.Limit > 500 {
		f.Limit = 500
	}
	q += ` ORDER BY CASE WHEN e.status = 'active' THEN 0 ELSE 1 END, e.enrolled_at DESC, e.id DESC LIMIT ?`
	args = append(args, f.Limit)
	rows, err := s.DB.Reader().QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("sequences.Enrolments: %w", err)
	}
	defer rows.Close()
	var out []Enrolment
	for rows.Next() {
		e, err := scanEnrolment(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, rows.Err()
}
