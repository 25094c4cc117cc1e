package lead

import (
	"context"
	"fmt"
	"time"

	"github.com/ryorin/ryorin/internal/crm"
	"github.com/ryorin/ryorin/internal/db"
	"github.com/ryorin/ryorin/internal/i18n"
	"github.com/ryorin/ryorin/internal/lead/rules"
	"github.com/ryorin/ryorin/internal/platform"
)

// slaBatch bounds each timer transaction, so the SQLite writer is never held
// long however many timers fall due together.
const slaBatch = 100

// RunSLATimers fires every SLA timer that has fallen due: reminders to the
// owner, breaches (escalated to the owner's team manager), and the second
// limit (reassign to another rep of the team, or recycle to nurture). Each
// timer's change and its notifications commit together, with dedupe keys, so
// a crash between batches repeats nothing. It returns how many timers moved.
func (sc *Scorer) RunSLATimers(ctx context.Context, ws int64) (int, error) {
	total := 0
	for _, step := range []struct {
		name  string
		where string
		fire  func(ctx context.Context, tx *db.Tx, ws int64, x SLA, stage platform.Stage, now time.Time) error
	}{
		{"remind", `state = 'open' AND reminded_at IS NULL AND remind_at IS NOT NULL AND remind_at <= ?`, sc.remind},
		{"breach", `state = 'open' AND due_at <= ?`, sc.breach},
		{"second", `state = 'breached' AND second_at IS NOT NULL AND second_at <= ?`, sc.second},
	} {
		for {
			now := sc.Lead.Clock.Now()
			n := 0
			err := sc.Lead.DB.Write(ctx, "lead.sla."+step.name, func(tx *db.Tx) error {
				rows, err := tx.QueryContext(ctx, `SELECT `+slaCols+` FROM lead_slas WHERE workspace_id = ? AND `+step.where+` ORDER BY due_at, id LIMIT ?`,
					ws, db.Millis(now), slaBatch)
				if err != nil {
					return err
				}
				var due []SLA
				for rows.Next() {
					x, err := scanSLA(rows)
					if err != nil {
						rows.Close()
						return err
					}
					due = append(due, x)
				}
				rows.Close()
				if err := rows.Err(); err != nil {
					return err
				}
				for _, x := range due {
					var stage platform.Stage
					err := tx.QueryRowContext(ctx, `SELECT lifecycle_stage FROM contacts WHERE workspace_id = ? AND id = ?`, ws, x.ContactID).Scan(&stage)
					if db.NoRows(err) {
						stage = ""
					} else if err != nil {
						return err
					}
					// A lead that has moved on (a deal, a disqualification, a
					// deleted record) waits for nothing any more.
					if stage != platform.StageMQL {
						if _, err := tx.ExecContext(ctx, `UPDATE lead_slas SET state = ?, closed_at = ? WHERE workspace_id = ? AND id = ?`,
							SLAClosed, db.Millis(now), ws, x.ID); err != nil {
							return err
						}
						continue
					}
					if err := step.fire(ctx, tx, ws, x, stage, now); err != nil {
						return fmt.Errorf("sla %d %s: %w", x.ID, step.name, err)
					}
				}
				n = len(due)
				return nil
			})
			if err != nil {
				return total, err
			}
			total += n
			if n < slaBatch {
				break
			}
		}
	}
	return total, nil
}

func (sc *Scorer) remind(ctx context.Context, tx *db.Tx, ws int64, x SLA, _ platform.Stage, now time.Time) error {
	if _, err := tx.ExecContext(ctx, `UPDATE lead_slas SET reminded_at = ? WHERE workspace_id = ? AND id = ?`, db.Millis(now), ws, x.ID); err != nil {
		return err
	}
	return sc.notifySLA(ctx, tx, ws, x.OwnerID, x, "lead.sla_reminder", "notify.sla_reminder", "notify.sla_reminder_body")
}

func (sc *Scorer) breach(ctx context.Context, tx *db.Tx, ws int64, x SLA, _ platform.Stage, now time.Time) error {
	if _, err := tx.ExecContext(ctx, `UPDATE lead_slas SET state = ?, breached_at = ? WHERE workspace_id = ? AND id = ?`,
		SLABreached, db.Millis(x.DueAt), ws, x.ID); err != nil {
		return err
	}
	sys := platform.System(ws)
	if _, err := platform.AppendTimeline(ctx, tx, sys, platform.TimelineEntry{At: x.DueAt, Kind: "lead.sla_breached", ContactID: x.ContactID,
		RefType: "sla", RefID: x.ID}, map[string]any{"owner_id": x.OwnerID, "policy": x.Policy}); err != nil {
		return err
	}
	if err := sc.notifySLA(ctx, tx, ws, x.OwnerID, x, "lead.sla_breached", "notify.sla_breached", "notify.sla_breached_body"); err != nil {
		return err
	}
	// Escalation: the manager of the owner's team hears of it too.
	if x.TeamID != 0 {
		t, err := platform.GetTeam(ctx, tx, ws, x.TeamID)
		if err == nil && t.ManagerID != 0 && t.ManagerID != x.OwnerID {
			return sc.notifySLA(ctx, tx, ws, t.ManagerID, x, "lead.sla_escalated", "notify.sla_escalated", "notify.sla_breached_body")
		}
	}
	return nil
}

// second applies the policy's second limit to a lead still untouched.
func (sc *Scorer) second(ctx context.Context, tx *db.Tx, ws int64, x SLA, _ platform.Stage, now time.Time) error {
	var action string
	err := tx.QueryRowContext(ctx, `SELECT second_action FROM sla_policies WHERE workspace_id = ? AND key = ?`, ws, x.Policy).Scan(&action)
	if err != nil && !db.NoRows(err) {
		return err
	}
	sys := platform.System(ws)
	at := *x.SecondAt
	switch action {
	case "reassign":
		owner := int64(0)
		if x.TeamID != 0 {
			if owner, err = sc.Lead.pickRep(ctx, tx, ws, x.TeamID, x.OwnerID); err != nil {
				return err
			}
		}
		if owner != 0 {
			if _, err := tx.ExecContext(ctx, `UPDATE lead_slas SET state = ?, closed_at = ? WHERE workspace_id = ? AND id = ?`,
				SLAReassigned, db.Millis(at), ws, x.ID); err != nil {
				return err
			}
			if _, err := sc.CRM.UpdateContactTx(ctx, tx, sys, x.ContactID, crm.ContactInput{OwnerID: &owner}, platform.Cause{}); err != nil {
				return err
			}
			if _, err := platform.AppendTimeline(ctx, tx, sys, platform.TimelineEntry{At: at, Kind: "lead.assigned", ContactID: x.ContactID},
				map[string]any{"owner_id": owner, "reason": "SLA: reassigned after no first touch", "previous_owner_id": x.OwnerID}); err != nil {
				return err
			}
			nx, err := sc.Lead.startSLA(ctx, tx, ws, x.ContactID, owner, x.Channel, sc.factsAt(ctx, tx, ws, x.ContactID, now), now)
			if err != nil {
				return err
			}
			return sc.notifySLA(ctx, tx, ws, owner, nx, "lead.assigned", "notify.sla_reassigned", "notify.sla_reassigned_body")
		}
		// Nobody else can take it: the lead goes back to nurture rather
		// than wait for ever.
		fallthrough
	case "recycle":
		if _, err := tx.ExecContext(ctx, `UPDATE lead_slas SET state = ?, closed_at = ? WHERE workspace_id = ? AND id = ?`,
			SLARecycled, db.Millis(at), ws, x.ID); err != nil {
			return err
		}
		to := platform.StageRecycled
		_, err := sc.CRM.UpdateContactTx(ctx, tx, sys, x.ContactID, crm.ContactInput{LifecycleStage: &to},
			platform.Cause{Kind: "sla", Ref: "no first touch by the second limit (" + x.Policy + ")"})
		return err
	default:
		_, err := tx.ExecContext(ctx, `UPDATE lead_slas SET second_at = NULL WHERE workspace_id = ? AND id = ?`, ws, x.ID)
		return err
	}
}

// factsAt gives the rules what they need to pick a policy for a lead being
// handed on: its current scores.
func (sc *Scorer) factsAt(ctx context.Context, tx *db.Tx, ws, contactID int64, now time.Time) (f rules.Facts) {
	f.Now = now
	_ = tx.QueryRowContext(ctx, `SELECT sc.fit_score, sc.fit_grade, `+crm.EngagementSQL("sc", now)+` FROM contact_scores sc WHERE sc.workspace_id = ? AND sc.contact_id = ?`,
		ws, contactID).Scan(&f.Fit, &f.FitGrade, &f.Engagement)
	return f
}

// notifySLA tells a user about a lead's timer, once per timer and kind.
func (sc *Scorer) notifySLA(ctx context.Context, tx *db.Tx, ws, userID int64, x SLA, kind, title, body string) error {
	if sc.Notify == nil || userID == 0 {
		return nil
	}
	u, err := platform.GetUser(ctx, tx, ws, userID)
	if err != nil {
		return err
	}
	lang, _ := i18n.Parse(u.Locale)
	var family, given, email string
	if err := tx.QueryRowContext(ctx, `SELECT family_name, given_name, email FROM contacts WHERE workspace_id = ? AND id = ?`, ws, x.ContactID).
		Scan(&family, &given, &email); err != nil && !db.NoRows(err) {
		return err
	}
	name := i18n.PersonName(lang, family, given)
	if name == "" {
		name = email
	}
	w, err := platform.GetWorkspace(ctx, tx, ws)
	if err != nil {
		return err
	}
	due := x.DueAt.In(w.Location()).Format("2006-01-02 15:04")
	_, _, err = sc.Notify.Notify(ctx, tx, ws, userID, platform.Notification{Kind: kind,
		Title: i18n.T(lang, title, "name", name), Body: i18n.T(lang, body, "due", due),
		Link: fmt.Sprintf("/contacts/%d", x.ContactID), DedupeKey: fmt.Sprintf("%s:%d:%d", kind, x.ID, userID)})
	return err
}
