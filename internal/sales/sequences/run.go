package sequences

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/ryorin/ryorin/internal/crm"
	"github.com/ryorin/ryorin/internal/db"
	"github.com/ryorin/ryorin/internal/i18n"
	"github.com/ryorin/ryorin/internal/platform"
	"github.com/ryorin/ryorin/internal/salesmail"
)

// maxAttempts is how often a failing step is tried before the enrolment
// fails (with backoff between tries).
const maxAttempts = 5

// errNotDue means another runner moved or ended the enrolment first (or it
// is no longer due); the step's transaction is rolled back and nothing
// happened.
var errNotDue = errors.New("sequences: enrolment not due")

func jsonUnmarshal(s string, v any) error {
	if err := json.Unmarshal([]byte(s), v); err != nil {
		return fmt.Errorf("sequences: stored steps: %w", err)
	}
	return nil
}

// Tick advances due enrolments until none is due or the budget is spent,
// and returns how many steps ran.
func (s *Service) Tick(ctx context.Context, ws int64) (int, error) {
	deadline := time.Now().Add(s.Budget)
	steps := 0
	for time.Now().Before(deadline) {
		n, handled, err := s.Advance(ctx, ws)
		steps += n
		if err != nil || handled < s.Batch {
			return steps, err
		}
	}
	return steps, nil
}

// Advance runs the due step of up to Batch enrolments, each in its own
// write transaction. It returns how many steps ran and how many enrolments
// it took up (fewer than Batch: none is left due).
func (s *Service) Advance(ctx context.Context, ws int64) (ran, handled int, err error) {
	ids, err := db.Int64s(ctx, s.DB.Reader(), `-- sequences.Advance due
		SELECT id FROM sequence_enrolments WHERE workspace_id = ? AND status = 'active' AND next_run_at <= ?
		ORDER BY next_run_at, id LIMIT ?`, ws, db.Millis(s.Clock.Now()), s.Batch)
	if err != nil {
		return 0, 0, fmt.Errorf("sequences.Advance: %w", err)
	}
	for _, id := range ids {
		if err := ctx.Err(); err != nil {
			return ran, len(ids), err
		}
		did, err := s.runStep(ctx, ws, id)
		if errors.Is(err, errNotDue) {
			continue
		}
		if err != nil && ctx.Err() != nil {
			return ran, len(ids), ctx.Err() // shutting down: not the step's fault
		}
		if err != nil {
			if ferr := s.recordFailure(ctx, ws, id, err); ferr != nil {
				return ran, len(ids), ferr
			}
			continue
		}
		if did {
			ran++
		}
	}
	return ran, len(ids), nil
}

type dueEnrolment struct {
	ID, SequenceID, ContactID, UserID int64
	Step                              int
	EnrolledAt                        time.Time
	SeqName                           string
	Steps                             []Step
}

// runStep runs the due step of enrolment id in one write transaction: stop
// checks, the step's record (first, ON CONFLICT DO NOTHING: no record, no
// work), the step's work, the timeline and the move to the next step. It
// reports whether a step ran.
func (s *Service) runStep(ctx context.Context, ws, id int64) (ran bool, err error) {
	err = s.DB.Write(ctx, "sequences.runStep", func(tx *db.Tx) error {
		ran = false
		now := s.Clock.Now()
		var e dueEnrolment
		var steps string
		var enrolled int64
		err := tx.QueryRowContext(ctx, `-- sequences.runStep load
			SELECT e.id, e.sequence_id, e.contact_id, e.user_id, e.step_index, e.enrolled_at, s.name, s.steps FROM sequence_enrolments e
			JOIN sequences s ON s.workspace_id = e.workspace_id AND s.id = e.sequence_id
			WHERE e.workspace_id = ? AND e.id = ? AND e.status = 'active' AND e.next_run_at <= ?`, ws, id, db.Millis(now)).
			Scan(&e.ID, &e.SequenceID, &e.ContactID, &e.UserID, &e.Step, &enrolled, &e.SeqName, &steps)
		if db.NoRows(err) {
			return errNotDue
		}
		if err != nil {
			return fmt.Errorf("sequences.runStep: %w", err)
		}
		e.EnrolledAt = db.Time(enrolled)
		if err := jsonUnmarshal(steps, &e.Steps); err != nil {
			return err
		}
		sys := platform.System(ws)
		if e.Step >= len(e.Steps) { // steps were removed by an edit
			return s.end(ctx, tx, sys, e.ID, e.ContactID, e.SequenceID, e.SeqName, e.Step, StatusFinished, "steps_removed", now)
		}
		st := e.Steps[e.Step]
		if status, reason, err := s.stopReason(ctx, tx, ws, e, st); err != nil {
			return err
		} else if status != "" {
			return s.end(ctx, tx, sys, e.ID, e.ContactID, e.SequenceID, e.SeqName, e.Step, status, reason, now)
		}
		// The step's record comes first: if it is there already, an earlier
		// run executed this step and committed, and nothing here may repeat.
		res, err := tx.ExecContext(ctx, `-- sequences.runStep record
			INSERT INTO sequence_step_runs (workspace_id, enrolment_id, step_index, action, ran_at) VALUES (?, ?, ?, ?, ?)
			ON CONFLICT (workspace_id, enrolment_id, step_index) DO NOTHING`, ws, e.ID, e.Step, st.Action, db.Millis(now))
		if err != nil {
			return fmt.Errorf("sequences.runStep record: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return errNotDue
		}
		rep, err := platform.GetUser(ctx, tx, ws, e.UserID)
		if err != nil {
			return err
		}
		actor := rep.Actor(ws, platform.ActorSystem)
		outcome, ref, err := s.execute(ctx, tx, actor, rep, e, st, now)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `-- sequences.runStep outcome
			UPDATE sequence_step_runs SET outcome = ?, ref_id = ? WHERE workspace_id = ? AND enrolment_id = ? AND step_index = ?`,
			outcome, db.NullInt(ref), ws, e.ID, e.Step); err != nil {
			return err
		}
		if _, err := platform.AppendTimeline(ctx, tx, actor, platform.TimelineEntry{At: now, Kind: "sequence.step", ContactID: e.ContactID,
			RefType: "sequence_enrolment", RefID: e.ID}, map[string]any{"sequence_id": e.SequenceID, "sequence": e.SeqName, "step": e.Step,
			"action": st.Action, "outcome": outcome}); err != nil {
			return err
		}
		if s.beforeCommit != nil {
			if err := s.beforeCommit(e.ID, e.Step); err != nil {
				return err
			}
		}
		ran = true
		if e.Step+1 >= len(e.Steps) {
			return s.end(ctx, tx, sys, e.ID, e.ContactID, e.SequenceID, e.SeqName, e.Step+1, StatusFinished, "", now)
		}
		next := dueAt(now, e.Steps[e.Step+1].DelayDays, location(ctx, tx, ws))
		res, err = tx.ExecContext(ctx, `-- sequences.runStep move
			UPDATE sequence_enrolments SET step_index = ?, next_run_at = ?, attempts = 0, last_error = ''
			WHERE workspace_id = ? AND id = ? AND step_index = ? AND status = 'active'`, e.Step+1, db.Millis(next), ws, e.ID, e.Step)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return errNotDue
		}
		return nil
	})
	return ran, err
}

// stopReason says whether the enrolment ends before step st: the contact
// replied (an inbound sales email or inbound email activity since
// enrolment), a meeting was logged with them since enrolment, they became a
// customer since enrolment, or the next step is an email that can no longer
// be sent.
func (s *Service) stopReason(ctx context.Context, q db.Querier, ws int64, e dueEnrolment, st Step) (status, reason string, err error) {
	since := db.Millis(e.EnrolledAt)
	var replied, met, converted bool
	err = q.QueryRowContext(ctx, `-- sequences.stopReason
		SELECT
			EXISTS (SELECT 1 FROM sales_emails WHERE workspace_id = ? AND contact_id = ? AND direction = 'inbound' AND created_at >= ?)
			OR EXISTS (SELECT 1 FROM activities WHERE workspace_id = ? AND contact_id = ? AND kind = 'email' AND direction = 'inbound' AND created_at >= ?),
			EXISTS (SELECT 1 FROM activities WHERE workspace_id = ? AND contact_id = ? AND kind IN ('meeting', 'demo') AND created_at >= ?),
			EXISTS (SELECT 1 FROM lifecycle_history WHERE workspace_id = ? AND contact_id = ? AND to_stage = 'customer' AND at >= ?)`,
		ws, e.ContactID, since, ws, e.ContactID, since, ws, e.ContactID, since, ws, e.ContactID, since).Scan(&replied, &met, &converted)
	if err != nil {
		return "", "", fmt.Errorf("sequences.stopReason: %w", err)
	}
	switch {
	case replied:
		return StatusReplied, "inbound_email", nil
	case met:
		return StatusMeetingBooked, "meeting", nil
	case converted:
		return StatusConverted, "customer", nil
	case st.Action != ActionEmail:
		return "", "", nil
	}
	var addr string
	if err := q.QueryRowContext(ctx, `SELECT COALESCE(email, '') FROM contacts WHERE workspace_id = ? AND id = ?`, ws, e.ContactID).Scan(&addr); err != nil {
		return "", "", fmt.Errorf("sequences.stopReason: %w", err)
	}
	if strings.TrimSpace(addr) == "" {
		return StatusBounced, "no_address", nil
	}
	blocked, err := salesmail.Blocked(ctx, q, ws, addr)
	switch {
	case err != nil:
		return "", "", err
	case blocked == "bounce" || blocked == "bounced" || blocked == "hard_bounce":
		return StatusBounced, blocked, nil
	case blocked != "":
		return StatusUnsubscribed, blocked, nil
	}
	return "", "", nil
}

// execute does a step's work inside tx as the enrolling rep.
func (s *Service) execute(ctx context.Context, tx *db.Tx, a platform.Actor, rep platform.User, e dueEnrolment, st Step, now time.Time) (outcome string, ref int64, err error) {
	switch st.Action {
	case ActionEmail:
		m, err := s.Mail.SendTx(ctx, tx, a, e.ContactID, salesmail.SendInput{Subject: st.Subject, Body: st.Body,
			IdempotencyKey: fmt.Sprintf("sequence:%d:%d", e.ID, e.Step)})
		if err != nil {
			return "", 0, err
		}
		return "sent", m.ID, nil
	case ActionCall, ActionTask:
		lang, _ := i18n.Parse(rep.Locale)
		subject := st.Subject
		if subject == "" {
			name, err := s.contactName(ctx, tx, a.WorkspaceID, e.ContactID)
			if err != nil {
				return "", 0, err
			}
			subject = i18n.T(lang, "sequences.task."+st.Action, "name", name)
		}
		if len(subject) > 500 {
			subject = subject[:500]
		}
		body := st.Note
		if body != "" {
			body += "\n\n"
		}
		body += i18n.T(lang, "sequences.task.from", "sequence", e.SeqName, "step", e.Step+1)
		kind, due := "task", endOfDay(now, location(ctx, tx, a.WorkspaceID))
		act, err := s.CRM.LogActivityTx(ctx, tx, a, crm.ActivityInput{Kind: &kind, Subject: &subject, Body: &body, DueAt: &due,
			OwnerID: &e.UserID, ContactID: &e.ContactID})
		if err != nil {
			return "", 0, err
		}
		return "task_created", act.ID, nil
	}
	return "", 0, fmt.Errorf("sequences: unknown action %q", st.Action)
}

// endOfDay is 18:00 of now's day in loc (the end of the standard office
// day), or now when that has passed: a step's task is due the day it runs.
func endOfDay(now time.Time, loc *time.Location) time.Time {
	lt := now.In(loc)
	t := time.Date(lt.Year(), lt.Month(), lt.Day(), 18, 0, 0, 0, loc)
	if t.Before(now) {
		return now
	}
	return t
}

func (s *Service) contactName(ctx context.Context, q db.Querier, ws, id int64) (string, error) {
	var family, given, addr string
	if err := q.QueryRowContext(ctx, `SELECT family_name, given_name, COALESCE(email, '') FROM contacts WHERE workspace_id = ? AND id = ?`, ws, id).
		Scan(&family, &given, &addr); err != nil {
		return "", fmt.Errorf("sequences.contactName: %w", err)
	}
	if n := strings.TrimSpace(family + " " + given); n != "" {
		return n, nil
	}
	return addr, nil
}

// recordFailure notes a failed step and retries it later with backoff; after
// maxAttempts the enrolment fails. The step's own transaction was rolled
// back, so nothing of it happened.
func (s *Service) recordFailure(ctx context.Context, ws, id int64, cause error) error {
	now := s.Clock.Now()
	msg := cause.Error()
	if len(msg) > 1000 {
		msg = msg[:1000]
	}
	s.Log.Warn("sequence step failed", "enrolment", id, "err", cause)
	return s.DB.Write(context.WithoutCancel(ctx), "sequences.recordFailure", func(tx *db.Tx) error {
		var attempts int
		if err := tx.QueryRowContext(ctx, `SELECT attempts FROM sequence_enrolments WHERE workspace_id = ? AND id = ? AND status = 'active'`, ws, id).Scan(&attempts); err != nil {
			if db.NoRows(err) {
				return nil
			}
			return err
		}
		attempts++
		if attempts >= maxAttempts {
			_, err := tx.ExecContext(ctx, `-- sequences.recordFailure failed
				UPDATE sequence_enrolments SET status = ?, end_reason = 'error', last_error = ?, attempts = ?, ended_at = ? WHERE workspace_id = ? AND id = ?`,
				StatusFailed, msg, attempts, db.Millis(now), ws, id)
			return err
		}
		_, err := tx.ExecContext(ctx, `-- sequences.recordFailure retry
			UPDATE sequence_enrolments SET last_error = ?, attempts = ?, next_run_at = ? WHERE workspace_id = ? AND id = ?`,
			msg, attempts, db.Millis(now.Add(platform.Backoff(attempts+4))), ws, id)
		return err
	})
}
