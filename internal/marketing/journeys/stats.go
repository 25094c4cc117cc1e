package journeys

import (
	"context"
	"fmt"
	"time"

	"github.com/ryorin/ryorin/internal/db"
	"github.com/ryorin/ryorin/internal/errs"
	"github.com/ryorin/ryorin/internal/platform"
)

// StepStats is how many contacts are at a step now, have passed it, and
// left the journey at it.
type StepStats struct {
	StepID string `json:"step_id"`
	At     int64  `json:"at" doc:"enrolments at this step now (waiting or due)"`
	Passed int64  `json:"passed" doc:"enrolments that executed this step"`
	Exited int64  `json:"exited" doc:"enrolments that ended at this step (completed, exited, converted or failed)"`
}

// Stats is a journey's flow: per step, and by enrolment status.
type Stats struct {
	Steps    []StepStats      `json:"steps"`
	ByStatus map[string]int64 `json:"by_status"`
}

// Stats counts a journey's enrolments per step and status.
func (s *Service) Stats(ctx context.Context, a platform.Actor, id int64) (Stats, error) {
	st := Stats{ByStatus: map[string]int64{}}
	j, err := s.Get(ctx, a, id)
	if err != nil {
		return st, err
	}
	q := s.DB.Reader()
	by := map[string]*StepStats{}
	for _, x := range j.Definition.Steps {
		st.Steps = append(st.Steps, StepStats{StepID: x.ID})
	}
	for i := range st.Steps {
		by[st.Steps[i].StepID] = &st.Steps[i]
	}
	rows, err := q.QueryContext(ctx, `-- journeys.Stats enrolments
		SELECT status, current_step, COUNT(*) FROM journey_enrolments WHERE workspace_id = ? AND journey_id = ? GROUP BY status, current_step`, a.WorkspaceID, id)
	if err != nil {
		return st, fmt.Errorf("journeys.Stats: %w", err)
	}
	for rows.Next() {
		var status, step string
		var n int64
		if err := rows.Scan(&status, &step, &n); err != nil {
			rows.Close()
			return st, err
		}
		st.ByStatus[status] += n
		if x := by[step]; x != nil {
			if status == EnrolActive {
				x.At += n
			} else {
				x.Exited += n
			}
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return st, err
	}
	rows, err = q.QueryContext(ctx, `-- journeys.Stats runs
		SELECT step_id, COUNT(*) FROM journey_step_runs WHERE workspace_id = ? AND journey_id = ? GROUP BY step_id`, a.WorkspaceID, id)
	if err != nil {
		return st, fmt.Errorf("journeys.Stats: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var step string
		var n int64
		if err := rows.Scan(&step, &n); err != nil {
			return st, err
		}
		if x := by[step]; x != nil {
			x.Passed = n
		}
	}
	return st, rows.Err()
}

// EmailCampaigns returns the automated campaign of each email step (by step
// id), whose page shows the step's send log, opens and clicks.
func (s *Service) EmailCampaigns(ctx context.Context, a platform.Actor, id int64) (map[string]int64, error) {
	rows, err := s.DB.Reader().QueryContext(ctx, `-- journeys.EmailCampaigns
		SELECT step_id, campaign_id FROM journey_emails WHERE workspace_id = ? AND journey_id = ?`, a.WorkspaceID, id)
	if err != nil {
		return nil, fmt.Errorf("journeys.EmailCampaigns: %w", err)
	}
	defer rows.Close()
	out := map[string]int64{}
	for rows.Next() {
		var step string
		var c int64
		if err := rows.Scan(&step, &c); err != nil {
			return nil, err
		}
		out[step] = c
	}
	return out, rows.Err()
}

// Enrolment is one contact's place in a journey.
type Enrolment struct {
	ID          int64      `json:"id"`
	JourneyID   int64      `json:"journey_id"`
	ContactID   int64      `json:"contact_id"`
	ContactName string     `json:"contact_name,omitempty"`
	Email       string     `json:"email,omitempty"`
	Status      string     `json:"status" doc:"active, completed, exited, converted or failed"`
	Step        string     `json:"step" doc:"the current step (or the step it ended at)"`
	NextRunAt   *time.Time `json:"next_run_at,omitempty" doc:"active: when the step is due"`
	ExitReason  string     `json:"exit_reason,omitempty"`
	LastError   string     `json:"last_error,omitempty"`
	EnrolledAt  time.Time  `json:"enrolled_at"`
	EndedAt     *time.Time `json:"ended_at,omitempty"`
}

// EnrolmentQuery selects a page of enrolments.
type EnrolmentQuery struct {
	Status string // optional
	Before int64  // cursor: the last id seen
	Limit  int
}

// Enrolments lists a journey's enrolments, newest first.
func (s *Service) Enrolments(ctx context.Context, a platform.Actor, id int64, eq EnrolmentQuery) ([]Enrolment, error) {
	if _, err := s.Get(ctx, a, id); err != nil {
		return nil, err
	}
	sql := `-- journeys.Enrolments
		SELECT e.id, e.journey_id, e.contact_id, c.family_name, c.given_name, COALESCE(c.email, ''), e.status, e.current_step, e.next_run_at,
			e.exit_reason, e.last_error, e.enrolled_at, e.ended_at
		FROM journey_enrolments e JOIN contacts c ON c.workspace_id = e.workspace_id AND c.id = e.contact_id
		WHERE e.workspace_id = ? AND e.journey_id = ?`
	args := []any{a.WorkspaceID, id}
	if eq.Status != "" {
		switch eq.Status {
		case EnrolActive, EnrolCompleted, EnrolExited, EnrolConverted, EnrolFailed:
		default:
			return nil, errs.Field("status", "must be active, completed, exited, converted or failed")
		}
		sql += ` AND e.status = ?`
		args = append(args, eq.Status)
	}
	if eq.Before > 0 {
		sql += ` AND e.id < ?`
		args = append(args, eq.Before)
	}
	if eq.Limit <= 0 || eq.Limit > 200 {
		eq.Limit = 50
	}
	rows, err := s.DB.Reader().QueryContext(ctx, sql+` ORDER BY e.id DESC LIMIT ?`, append(args, eq.Limit)...)
	if err != nil {
		return nil, fmt.Errorf("journeys.Enrolments: %w", err)
	}
	defer rows.Close()
	out := []Enrolment{}
	for rows.Next() {
		var e Enrolment
		var family, given string
		var next, enrolled int64
		var ended *int64
		if err := rows.Scan(&e.ID, &e.JourneyID, &e.ContactID, &family, &given, &e.Email, &e.Status, &e.Step, &next, &e.ExitReason,
			&e.LastError, &enrolled, &ended); err != nil {
			return nil, fmt.Errorf("journeys.Enrolments: %w", err)
		}
		e.ContactName = family
		if given != "" {
			e.ContactName += " " + given
		}
		e.EnrolledAt = db.Time(enrolled)
		if e.Status == EnrolActive {
			t := db.Time(next)
			e.NextRunAt = &t
		}
		if ended != nil {
			t := db.Time(*ended)
			e.EndedAt = &t
		}
		out = append(out, e)
	}
	return out, rows.Err()
}
