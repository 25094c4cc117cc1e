package journeys

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/ryorin/ryorin/internal/bizcal"
	"github.com/ryorin/ryorin/internal/crm"
	"github.com/ryorin/ryorin/internal/db"
	"github.com/ryorin/ryorin/internal/i18n"
	"github.com/ryorin/ryorin/internal/lead"
	"github.com/ryorin/ryorin/internal/lead/rules"
	"github.com/ryorin/ryorin/internal/marketing/email"
	"github.com/ryorin/ryorin/internal/platform"
)

// Enrolment statuses.
const (
	EnrolActive    = "active"
	EnrolCompleted = "completed" // walked past the last step
	EnrolExited    = "exited"    // an exit step, or its step was removed
	EnrolConverted = "converted" // met the goal
	EnrolFailed    = "failed"    // a step kept failing
)

// maxAttempts is how often a failing step is tried before the enrolment
// fails (with backoff between tries).
const maxAttempts = 5

// errNotDue means another worker moved the enrolment first (or it is no
// longer due); the step's transaction is rolled back and nothing happened.
var errNotDue = errors.New("journeys: enrolment not due")

// Tick follows triggers, then advances due enrolments until none is due or
// the budget is spent. It returns how many contacts it enrolled and how many
// steps it ran.
func (s *Service) Tick(ctx context.Context, ws int64) (enrolled, steps int, err error) {
	deadline := time.Now().Add(s.Budget)
	for time.Now().Before(deadline) {
		n, caughtUp, err := s.Follow(ctx, ws)
		enrolled += n
		if err != nil {
			return enrolled, steps, err
		}
		if caughtUp {
			break
		}
	}
	n, err := s.FollowDates(ctx, ws)
	enrolled += n
	if err != nil {
		return enrolled, steps, err
	}
	for time.Now().Before(deadline) {
		n, handled, err := s.Advance(ctx, ws)
		steps += n
		if err != nil || handled < s.Batch {
			return enrolled, steps, err
		}
	}
	return enrolled, steps, nil
}

// Advance runs the due steps of up to Batch enrolments of active journeys.
// Each enrolment goes on, one write transaction per step, until it waits,
// ends or fails. It returns how many steps ran and how many enrolments it
// took up (fewer than Batch: none is left due).
func (s *Service) Advance(ctx context.Context, ws int64) (ran, handled int, err error) {
	now := s.Clock.Now()
	ids, err := db.Int64s(ctx, s.DB.Reader(), `-- journeys.Advance due
		SELECT e.id FROM journey_enrolments e
		JOIN journeys j ON j.workspace_id = e.workspace_id AND j.id = e.journey_id
		WHERE e.workspace_id = ? AND e.status = 'active' AND e.next_run_at <= ? AND j.status = ?
		ORDER BY e.next_run_at, e.id LIMIT ?`, ws, db.Millis(now), StatusActive, s.Batch)
	if err != nil {
		return 0, 0, fmt.Errorf("journeys.Advance: %w", err)
	}
	for _, id := range ids {
		for range MaxSteps + 1 {
			if err := ctx.Err(); err != nil {
				return ran, len(ids), err
			}
			step, more, err := s.runStep(ctx, ws, id)
			if errors.Is(err, errNotDue) {
				break
			}
			if err != nil && ctx.Err() != nil {
				return ran, len(ids), ctx.Err() // shutting down: not the step's fault
			}
			if err != nil {
				if ferr := s.recordFailure(ctx, ws, id, err); ferr != nil {
					return ran, len(ids), ferr
				}
				break
			}
			if step != "" {
				ran++
				if s.afterStep != nil {
					if err := s.afterStep(id, step); err != nil {
						return ran, len(ids), err
					}
				}
			}
			if !more {
				break
			}
		}
	}
	return ran, len(ids), nil
}

// enrolment is the row a step works on.
type enrolment struct {
	ID, JourneyID, ContactID int64
	Step                     string
	StepEnteredAt            time.Time
	Attempts                 int
}

// runStep runs the current step of enrolment id in one write transaction.
// It returns the step that ran ("" when it only computed a wait, or the
// enrolment ended before a step), and whether the enrolment is due again now.
func (s *Service) runStep(ctx context.Context, ws, id int64) (ran string, more bool, err error) {
	err = s.DB.Write(ctx, "journeys.runStep", func(tx *db.Tx) error {
		ran, more = "", false
		now := s.Clock.Now()
		var e enrolment
		var entered int64
		err := tx.QueryRowContext(ctx, `-- journeys.runStep load
			SELECT e.id, e.journey_id, e.contact_id, e.current_step, e.step_entered_at, e.attempts FROM journey_enrolments e
			JOIN journeys j ON j.workspace_id = e.workspace_id AND j.id = e.journey_id
			WHERE e.workspace_id = ? AND e.id = ? AND e.status = 'active' AND e.next_run_at <= ? AND j.status = ?`,
			ws, id, db.Millis(now), StatusActive).Scan(&e.ID, &e.JourneyID, &e.ContactID, &e.Step, &entered, &e.Attempts)
		if db.NoRows(err) {
			return errNotDue
		}
		if err != nil {
			return err
		}
		e.StepEnteredAt = db.Time(entered)
		j, err := getJourney(ctx, tx, ws, e.JourneyID)
		if err != nil {
			return err
		}
		d := j.Definition
		i := d.stepIndex(e.Step)
		if i < 0 {
			return s.end(ctx, tx, ws, j, e, EnrolExited, "step_removed", now)
		}
		st := d.Steps[i]
		if d.Goal != "" {
			met, err := s.condition(ctx, tx, ws, e.ContactID, d.Goal, now)
			if err != nil {
				return err
			}
			if met {
				return s.end(ctx, tx, ws, j, e, EnrolConverted, "goal", now)
			}
		}
		if st.Type == StepWait {
			until := s.waitUntil(ctx, tx, ws, *st.Wait, e.StepEnteredAt)
			if now.Before(until) {
				_, err := tx.ExecContext(ctx, `-- journeys.runStep wait
					UPDATE journey_enrolments SET next_run_at = ? WHERE workspace_id = ? AND id = ?`, db.Millis(until), ws, e.ID)
				return err
			}
		}
		// The step's record comes first: if it is there already, an earlier
		// run executed this step and committed, and nothing here may repeat.
		res, err := tx.ExecContext(ctx, `-- journeys.runStep record
			INSERT INTO journey_step_runs (workspace_id, enrolment_id, journey_id, step_id, outcome, ran_at) VALUES (?, ?, ?, ?, '', ?)
			ON CONFLICT (workspace_id, enrolment_id, step_id) DO NOTHING`, ws, e.ID, e.JourneyID, st.ID, db.Millis(now))
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return errNotDue
		}
		outcome, next, err := s.execute(ctx, tx, ws, j, e, i, now)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE journey_step_runs SET outcome = ? WHERE workspace_id = ? AND enrolment_id = ? AND step_id = ?`,
			outcome, ws, e.ID, st.ID); err != nil {
			return err
		}
		if _, err := platform.AppendTimeline(ctx, tx, platform.System(ws), platform.TimelineEntry{At: now, Kind: "journey.step", ContactID: e.ContactID,
			RefType: "journey_enrolment", RefID: e.ID}, map[string]any{"journey_id": j.ID, "journey": j.Name, "step": st.ID, "type": st.Type, "outcome": outcome}); err != nil {
			return err
		}
		if s.beforeCommit != nil {
			if err := s.beforeCommit(e.ID, st.ID); err != nil {
				return err
			}
		}
		ran = st.ID
		switch {
		case st.Type == StepExit:
			return s.end(ctx, tx, ws, j, e, EnrolExited, "exit_step", now)
		case next == "":
			return s.end(ctx, tx, ws, j, e, EnrolCompleted, "", now)
		}
		res, err = tx.ExecContext(ctx, `-- journeys.runStep move
			UPDATE journey_enrolments SET current_step = ?, step_entered_at = ?, next_run_at = ?, attempts = 0, last_error = ''
			WHERE workspace_id = ? AND id = ? AND current_step = ? AND status = 'active'`, next, db.Millis(now), db.Millis(now), ws, e.ID, e.Step)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return errNotDue
		}
		more = true
		return nil
	})
	return ran, more, err
}

// end closes an enrolment with a status and reason.
func (s *Service) end(ctx context.Context, tx *db.Tx, ws int64, j Journey, e enrolment, status, reason string, now time.Time) error {
	res, err := tx.ExecContext(ctx, `-- journeys.end
		UPDATE journey_enrolments SET status = ?, exit_reason = ?, ended_at = ?, next_run_at = ? WHERE workspace_id = ? AND id = ? AND status = 'active'`,
		status, reason, db.Millis(now), db.Millis(now), ws, e.ID)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return errNotDue
	}
	_, err = platform.AppendTimeline(ctx, tx, platform.System(ws), platform.TimelineEntry{At: now, Kind: "journey.ended", ContactID: e.ContactID,
		RefType: "journey_enrolment", RefID: e.ID}, map[string]any{"journey_id": j.ID, "journey": j.Name, "status": status, "reason": reason, "step": e.Step})
	return err
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
	s.Log.Warn("journey step failed", "enrolment", id, "err", cause)
	return s.DB.Write(context.WithoutCancel(ctx), "journeys.recordFailure", func(tx *db.Tx) error {
		var attempts int
		if err := tx.QueryRowContext(ctx, `SELECT attempts FROM journey_enrolments WHERE workspace_id = ? AND id = ? AND status = 'active'`, ws, id).Scan(&attempts); err != nil {
			if db.NoRows(err) {
				return nil
			}
			return err
		}
		attempts++
		if attempts >= maxAttempts {
			_, err := tx.ExecContext(ctx, `UPDATE journey_enrolments SET status = ?, exit_reason = 'error', last_error = ?, attempts = ?, ended_at = ?
				WHERE workspace_id = ? AND id = ?`, EnrolFailed, msg, attempts, db.Millis(now), ws, id)
			return err
		}
		_, err := tx.ExecContext(ctx, `UPDATE journey_enrolments SET last_error = ?, attempts = ?, next_run_at = ? WHERE workspace_id = ? AND id = ?`,
			msg, attempts, db.Millis(now.Add(platform.Backoff(attempts+4))), ws, id)
		return err
	})
}

// condition evaluates a rule on the contact now.
func (s *Service) condition(ctx context.Context, q db.Querier, ws, contactID int64, src string, now time.Time) (bool, error) {
	r, err := rules.Compile(src, rules.Condition)
	if err != nil {
		return false, err
	}
	f, _, _, err := lead.ContactFacts(ctx, q, s.CRM, ws, contactID, now)
	if err != nil {
		return false, err
	}
	return r.Bool(f)
}

// waitUntil is when a wait that began at from ends: after the duration, then
// at the next time of day, then at the next business moment. It depends only
// on from, so computing it again gives the same answer.
func (s *Service) waitUntil(ctx context.Context, q db.Querier, ws int64, w WaitStep, from time.Time) time.Time {
	loc := time.UTC
	if wsp, err := platform.GetWorkspace(ctx, q, ws); err == nil {
		loc = wsp.Location()
	}
	t := from
	if d, err := ParseDuration(w.Duration); err == nil && w.Duration != "" {
		t = t.Add(d)
	}
	if w.Until != "" {
		h, _ := strconv.Atoi(w.Until[:2])
		m, _ := strconv.Atoi(w.Until[3:])
		lt := t.In(loc)
		at := time.Date(lt.Year(), lt.Month(), lt.Day(), h, m, 0, 0, loc)
		if at.Before(lt) {
			at = time.Date(lt.Year(), lt.Month(), lt.Day()+1, h, m, 0, 0, loc)
		}
		t = at
	}
	if w.BusinessHours {
		t = bizcal.Standard(loc).Add(t, 0)
	}
	return t
}

// execute does step i's work inside tx and returns its outcome and the next
// step ("" at the end).
func (s *Service) execute(ctx context.Context, tx *db.Tx, ws int64, j Journey, e enrolment, i int, now time.Time) (outcome, next string, err error) {
	d := j.Definition
	st := d.Steps[i]
	next = d.after(i)
	sys := platform.System(ws)
	switch st.Type {
	case StepWait:
		return "waited", next, nil
	case StepExit:
		return "exited", "", nil
	case StepEmail:
		cid, err := s.stepCampaign(ctx, tx, ws, j.ID, st.ID)
		if err != nil {
			return "", "", err
		}
		out, err := s.Email.SendAutomatedTx(ctx, tx, ws, cid, e.ContactID)
		return out, next, err
	case StepBranch:
		b := st.Branch
		var yes bool
		if b.Condition != "" {
			if yes, err = s.condition(ctx, tx, ws, e.ContactID, b.Condition, now); err != nil {
				return "", "", err
			}
		} else {
			cid, err := s.stepCampaign(ctx, tx, ws, j.ID, b.EmailStep)
			if err != nil {
				return "", "", err
			}
			opened, clicked, err := email.Engagement(ctx, tx, ws, cid, e.ContactID)
			if err != nil {
				return "", "", err
			}
			yes = clicked || (b.Engagement == "opened" && opened)
		}
		def := ""
		if i+1 < len(d.Steps) {
			def = d.Steps[i+1].ID
		}
		if yes {
			return "yes", or(b.Yes, def), nil
		}
		return "no", or(b.No, def), nil
	case StepSetProperty:
		in, err := s.propertyInput(ctx, tx, ws, *st.Property)
		if err != nil {
			return "", "", err
		}
		_, err = s.CRM.UpdateContactTx(ctx, tx, sys, e.ContactID, in, platform.Cause{Kind: "journey", Ref: fmt.Sprintf("journey %d: %s", j.ID, st.ID)})
		return "set", next, err
	case StepAddList, StepRemoveList:
		changed, err := s.Segments.ChangeListTx(ctx, tx, sys, st.List.ListID, e.ContactID, st.Type == StepAddList)
		if err != nil {
			return "", "", err
		}
		if !changed {
			return "unchanged", next, nil
		}
		return "changed", next, nil
	case StepNotifyOwner:
		owner, name, err := s.owner(ctx, tx, ws, e.ContactID)
		if err != nil || owner == 0 {
			return "no_owner", next, err
		}
		u, err := platform.GetUser(ctx, tx, ws, owner)
		if err != nil {
			return "", "", err
		}
		lang, _ := i18n.Parse(u.Locale)
		_, _, err = s.Notify.Notify(ctx, tx, ws, owner, platform.Notification{Kind: "journey.notify",
			Title: i18n.T(lang, "notify.journey", "journey", j.Name, "name", name), Body: st.Notify.Message,
			Link: fmt.Sprintf("/contacts/%d", e.ContactID), DedupeKey: fmt.Sprintf("journey:%d:%s", e.ID, st.ID)})
		return "notified", next, err
	case StepCreateTask:
		owner, _, err := s.owner(ctx, tx, ws, e.ContactID)
		if err != nil || owner == 0 {
			return "no_owner", next, err
		}
		due := 24 * time.Hour
		if st.Task.DueIn != "" {
			due, _ = ParseDuration(st.Task.DueIn)
		}
		kind, at := "task", now.Add(due)
		if _, err := s.CRM.LogActivityTx(ctx, tx, sys, crm.ActivityInput{Kind: &kind, Subject: &st.Task.Subject, DueAt: &at,
			OwnerID: &owner, ContactID: &e.ContactID}); err != nil {
			return "", "", err
		}
		return "created", next, nil
	case StepHandOff:
		owner, err := s.Scorer.HandOffTx(ctx, tx, ws, e.ContactID, platform.Cause{Kind: "journey", Ref: fmt.Sprintf("journey %d: %s", j.ID, st.ID)})
		if err != nil {
			return "", "", err
		}
		if owner == 0 {
			return "unassigned", next, nil
		}
		return "owner " + strconv.FormatInt(owner, 10), next, nil
	}
	return "", "", fmt.Errorf("journeys: unknown step type %q", st.Type)
}

func or(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func (s *Service) stepCampaign(ctx context.Context, q db.Querier, ws, journey int64, step string) (int64, error) {
	var id int64
	err := q.QueryRowContext(ctx, `SELECT campaign_id FROM journey_emails WHERE workspace_id = ? AND journey_id = ? AND step_id = ?`, ws, journey, step).Scan(&id)
	if db.NoRows(err) {
		return 0, fmt.Errorf("journeys: step %q has no email campaign (activate the journey again)", step)
	}
	return id, err
}

func (s *Service) owner(ctx context.Context, q db.Querier, ws, contactID int64) (int64, string, error) {
	var owner int64
	var family, given, addr string
	err := q.QueryRowContext(ctx, `SELECT COALESCE(owner_id, 0), family_name, given_name, COALESCE(email, '') FROM contacts WHERE workspace_id = ? AND id = ?`,
		ws, contactID).Scan(&owner, &family, &given, &addr)
	if err != nil {
		return 0, "", fmt.Errorf("journeys.owner: %w", err)
	}
	name := strings.TrimSpace(family + " " + given)
	if name == "" {
		name = addr
	}
	return owner, name, nil
}

// propertyInput turns a property step into a contact change, typing a custom
// property's value by its definition.
func (s *Service) propertyInput(ctx context.Context, q db.Querier, ws int64, p PropertyStep) (crm.ContactInput, error) {
	var in crm.ContactInput
	switch p.Name {
	case "title":
		in.Title = &p.Value
	case "department":
		in.Department = &p.Value
	case "lifecycle_stage":
		st := platform.Stage(p.Value)
		in.LifecycleStage = &st
	default:
		key := strings.TrimPrefix(p.Name, "props.")
		defs, err := s.CRM.Properties(ctx, q, ws, "contact")
		if err != nil {
			return in, err
		}
		var v any = p.Value
		for _, d := range defs {
			if d.Key != key {
				continue
			}
			switch {
			case p.Value == "":
				v = nil
			case d.Type == crm.PropNumber:
				v = json.Number(p.Value)
			case d.Type == crm.PropBool:
				v = p.Value == "true"
			case d.Type == crm.PropMultiChoice:
				var list []any
				for _, x := range strings.Split(p.Value, ",") {
					list = append(list, strings.TrimSpace(x))
				}
				v = list
			}
		}
		in.Props = map[string]any{key: v}
	}
	return in, nil
}
