package insight

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/ryorin/ryorin/internal/db"
	"github.com/ryorin/ryorin/internal/errs"
	"github.com/ryorin/ryorin/internal/platform"
)

// ReportSchedule sends a report by email after each period: the alignment
// report of the week just ended on a weekday at an hour (the workspace's
// time zone), or of the month just ended on its first day at that hour.
type ReportSchedule struct {
	ID         int64      `json:"id"`
	Kind       string     `json:"kind" enum:"alignment"`
	Period     string     `json:"period" enum:"week,month"`
	Weekday    int        `json:"weekday" doc:"0 Sunday … 6 Saturday (weekly schedules)"`
	Hour       int        `json:"hour" doc:"0–23 in the workspace's time zone"`
	Recipients []int64    `json:"recipients" doc:"user ids"`
	LastSentAt *time.Time `json:"last_sent_for,omitempty" doc:"start of the last period sent"`
	CreatedBy  int64      `json:"created_by,omitempty"`
}

// SaveSchedule creates (id 0) or replaces a schedule. Admins and managers.
func SaveSchedule(ctx context.Context, d *db.DB, a platform.Actor, id int64, in ReportSchedule, now time.Time) (ReportSchedule, error) {
	if !a.Is(platform.RoleAdmin, platform.RoleManager) {
		return in, errs.E(errs.Forbidden, "", "only admins and managers schedule reports")
	}
	if in.Kind == "" {
		in.Kind = "alignment"
	}
	if in.Kind != "alignment" {
		return in, errs.Field("kind", "must be alignment")
	}
	if in.Period != "week" && in.Period != "month" {
		return in, errs.Field("period", "must be week or month")
	}
	if in.Weekday < 0 || in.Weekday > 6 {
		return in, errs.Field("weekday", "must be 0 (Sunday) to 6 (Saturday)")
	}
	if in.Hour < 0 || in.Hour > 23 {
		return in, errs.Field("hour", "must be 0 to 23")
	}
	slices.Sort(in.Recipients)
	in.Recipients = slices.Compact(in.Recipients)
	if len(in.Recipients) == 0 {
		return in, errs.Field("recipients", "choose at least one user")
	}
	err := d.Write(ctx, "insight.SaveSchedule", func(tx *db.Tx) error {
		users, err := platform.ListUsers(ctx, tx, a.WorkspaceID)
		if err != nil {
			return err
		}
		for _, r := range in.Recipients {
			if !slices.ContainsFunc(users, func(u platform.User) bool { return u.ID == r && u.Active }) {
				return errs.Rule("recipients", "user %d is not an active user", r)
			}
		}
		rec, _ := json.Marshal(in.Recipients)
		if id == 0 {
			if err := tx.QueryRowContext(ctx, `INSERT INTO report_schedules (workspace_id, kind, period, weekday, hour, recipients, created_by, created_at, updated_at)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`, a.WorkspaceID, in.Kind, in.Period, in.Weekday, in.Hour, string(rec),
				db.NullInt(a.UserID), db.Millis(now), db.Millis(now)).Scan(&in.ID); err != nil {
				return fmt.Errorf("insight.SaveSchedule: %w", err)
			}
		} else {
			res, err := tx.ExecContext(ctx, `UPDATE report_schedules SET kind = ?, period = ?, weekday = ?, hour = ?, recipients = ?, updated_at = ?
				WHERE workspace_id = ? AND id = ?`, in.Kind, in.Period, in.Weekday, in.Hour, string(rec), db.Millis(now), a.WorkspaceID, id)
			if err != nil {
				return fmt.Errorf("insight.SaveSchedule: %w", err)
			}
			if n, _ := res.RowsAffected(); n == 0 {
				return errs.NotFoundf("schedule %d not found", id)
			}
			in.ID = id
		}
		return platform.Audit(ctx, tx, a, now, "save", "report_schedule", in.ID, in)
	})
	return in, err
}

// DeleteSchedule removes a schedule. Admins and managers.
func DeleteSchedule(ctx context.Context, d *db.DB, a platform.Actor, id int64, now time.Time) error {
	if !a.Is(platform.RoleAdmin, platform.RoleManager) {
		return errs.E(errs.Forbidden, "", "only admins and managers schedule reports")
	}
	return d.Write(ctx, "insight.DeleteSchedule", func(tx *db.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM report_schedules WHERE workspace_id = ? AND id = ?`, a.WorkspaceID, id); err != nil {
			return fmt.Errorf("insight.DeleteSchedule: %w", err)
		}
		return platform.Audit(ctx, tx, a, now, "delete", "report_schedule", id, nil)
	})
}

// ListSchedules returns the workspace's report schedules.
func ListSchedules(ctx context.Context, q db.Querier, ws int64) ([]ReportSchedule, error) {
	out := []ReportSchedule{}
	err := scanRows(ctx, q, func(s scanner) error {
		var x ReportSchedule
		var rec string
		var last, by *int64
		if err := s.Scan(&x.ID, &x.Kind, &x.Period, &x.Weekday, &x.Hour, &rec, &last, &by); err != nil {
			return err
		}
		_ = json.Unmarshal([]byte(rec), &x.Recipients)
		if last != nil {
			t := db.Time(*last)
			x.LastSentAt = &t
		}
		if by != nil {
			x.CreatedBy = *by
		}
		out = append(out, x)
		return nil
	}, `SELECT id, kind, period, weekday, hour, COALESCE(recipients, '[]'), last_sent_for, created_by FROM report_schedules WHERE workspace_id = ? ORDER BY id`, ws)
	if err != nil {
		return nil, fmt.Errorf("insight.ListSchedules: %w", err)
	}
	return out, nil
}

// Due returns the period the schedule is to be sent for at now: the last
// complete week or month, once its send time (the schedule's weekday and
// hour after the week, the first day's hour after the month) has come and
// while it has not been sent.
func (s ReportSchedule) Due(w platform.Workspace, now time.Time) (Period, bool) {
	p, err := PeriodOf(w, s.Period, 1, now)
	if err != nil {
		return p, false
	}
	if s.LastSentAt != nil && !s.LastSentAt.Before(p.From) {
		return p, false
	}
	at := p.To.In(w.Location())
	if s.Period == "week" {
		for at.Weekday() != time.Weekday(s.Weekday) {
			at = at.AddDate(0, 0, 1)
		}
	}
	at = time.Date(at.Year(), at.Month(), at.Day(), s.Hour, 0, 0, 0, at.Location())
	return p, !now.Before(at)
}

// ClaimSchedule marks period p as sent for schedule id in tx, and reports
// whether this transaction claimed it (false: already sent).
func ClaimSchedule(ctx context.Context, tx *db.Tx, ws, id int64, p Period) (bool, error) {
	res, err := tx.ExecContext(ctx, `UPDATE report_schedules SET last_sent_for = ? WHERE workspace_id = ? AND id = ? AND (last_sent_for IS NULL OR last_sent_for < ?)`,
		db.Millis(p.From), ws, id, db.Millis(p.From))
	if err != nil {
		return false, fmt.Errorf("insight.ClaimSchedule: %w", err)
	}
	n, err := res.RowsAffected()
	return n == 1, err
}
