package sequences

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/ryorin/ryorin/internal/clock"
	"github.com/ryorin/ryorin/internal/crm"
	"github.com/ryorin/ryorin/internal/db"
	"github.com/ryorin/ryorin/internal/errs"
	"github.com/ryorin/ryorin/internal/platform"
	"github.com/ryorin/ryorin/internal/salesmail"
)

// TickJob is the periodic job that advances due enrolments.
const TickJob = "sequences.tick"

// Service keeps sequences and runs their enrolments.
type Service struct {
	DB    *db.DB
	Clock clock.Clock
	CRM   *crm.Service
	Mail  *salesmail.Service
	Jobs  *platform.Jobs
	Log   *slog.Logger
	// Batch is how many due enrolments one pass reads; each step is still
	// its own short write transaction.
	Batch int
	// Budget bounds one tick's work, so a backlog drains over several ticks.
	Budget time.Duration
	// beforeCommit, when set (tests), runs inside a step's transaction after
	// its side effects; an error rolls the whole step back.
	beforeCommit func(enrolment int64, step int) error
}

// New returns a Service; call Register to run its periodic job.
func New(d *db.DB, c clock.Clock, cs *crm.Service, m *salesmail.Service, jobs *platform.Jobs, log *slog.Logger) *Service {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Service{DB: d, Clock: clock.Millis(c), CRM: cs, Mail: m, Jobs: jobs, Log: log, Batch: 100, Budget: 5 * time.Second}
}

// Register makes the job runner tick sequences every minute.
func (s *Service) Register() {
	s.Jobs.Every(TickJob, time.Minute, func(ctx context.Context, j platform.Job) error {
		_, err := s.Tick(ctx, j.WorkspaceID)
		return err
	})
}

// Sequence is a series of timed steps a rep enrols contacts in.
type Sequence struct {
	ID        int64     `json:"id"`
	Name      string    `json:"name"`
	OwnerID   int64     `json:"owner_id"`
	OwnerName string    `json:"owner_name,omitempty"`
	Shared    bool      `json:"shared" doc:"visible to the whole team; false: only its owner sees and uses it"`
	Steps     []Step    `json:"steps"`
	Stats     Stats     `json:"stats"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// Stats counts a sequence's enrolments.
type Stats struct {
	Enrolled      int64   `json:"enrolled"`
	Active        int64   `json:"active"`
	Replied       int64   `json:"replied"`
	MeetingBooked int64   `json:"meeting_booked"`
	Finished      int64   `json:"finished"`
	ReplyRate     float64 `json:"reply_rate" doc:"replied / enrolled (0–1)"`
}

// Input is a sequence as a rep saves it.
type Input struct {
	Name   string `json:"name"`
	Shared bool   `json:"shared"`
	Steps  []Step `json:"steps"`
}

// Validate checks the input; errors name the field (steps[1].action).
func (in *Input) Validate() error {
	in.Name = strings.TrimSpace(in.Name)
	if in.Name == "" || len(in.Name) > MaxNameSize {
		return errs.Field("name", "is required, at most %d bytes", MaxNameSize)
	}
	return ValidateSteps(in.Steps)
}

func canUse(a platform.Actor) error {
	if a.UserID == 0 {
		return errs.E(errs.Forbidden, "", "sequences belong to users: sign in (or use a user's API token)")
	}
	return nil
}

func canEdit(a platform.Actor, sq Sequence) error {
	if sq.OwnerID == a.UserID || a.Is(platform.RoleAdmin, platform.RoleManager) {
		return nil
	}
	return errs.E(errs.Forbidden, "", "only the sequence's owner (or a manager) changes it")
}

// checkTemplates fills each email step's empty subject and body from its
// template, so a step keeps working if the template changes later.
func (s *Service) checkTemplates(ctx context.Context, ws int64, steps []Step) error {
	var ts []salesmail.Template
	for i := range steps {
		st := &steps[i]
		if st.Action != ActionEmail || st.TemplateID == 0 {
			continue
		}
		if ts == nil {
			var err error
			if ts, err = s.Mail.Templates(ctx, ws); err != nil {
				return err
			}
		}
		found := false
		for _, t := range ts {
			if t.ID == st.TemplateID {
				found = true
				if st.Subject == "" {
					st.Subject = strings.TrimSpace(t.Subject)
				}
				if strings.TrimSpace(st.Body) == "" {
					st.Body = t.Body
				}
			}
		}
		if !found {
			return errs.Field(fmt.Sprintf("steps[%d].template_id", i), "template %d does not exist or has no plain-text body", st.TemplateID)
		}
	}
	return ValidateSteps(steps)
}

// Save creates (id 0) or updates a sequence. Active enrolments continue
// with the new steps from their current position.
func (s *Service) Save(ctx context.Context, a platform.Actor, id int64, in Input) (Sequence, error) {
	if err := canUse(a); err != nil {
		return Sequence{}, err
	}
	if err := in.Validate(); err != nil {
		return Sequence{}, err
	}
	if err := s.checkTemplates(ctx, a.WorkspaceID, in.Steps); err != nil {
		return Sequence{}, err
	}
	steps, _ := json.Marshal(in.Steps)
	now := db.Millis(s.Clock.Now())
	ws := a.WorkspaceID
	err := s.DB.Write(ctx, "sequences.Save", func(tx *db.Tx) error {
		if id == 0 {
			if err := tx.QueryRowContext(ctx, `-- sequences.Save create
				INSERT INTO sequences (workspace_id, name, owner_id, shared, steps, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id`,
				ws, in.Name, a.UserID, in.Shared, string(steps), now, now).Scan(&id); err != nil {
				return fmt.Errorf("sequences.Save: %w", err)
			}
			return platform.Audit(ctx, tx, a, db.Time(now), "create", "sequence", id, map[string]any{"name": in.Name})
		}
		old, err := get(ctx, tx, a, id)
		if err != nil {
			return err
		}
		if err := canEdit(a, old); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `-- sequences.Save update
			UPDATE sequences SET name = ?, shared = ?, steps = ?, updated_at = ? WHERE workspace_id = ? AND id = ?`,
			in.Name, in.Shared, string(steps), now, ws, id); err != nil {
			return fmt.Errorf("sequences.Save: %w", err)
		}
		return platform.Audit(ctx, tx, a, db.Time(now), "update", "sequence", id, map[string]any{"name": in.Name})
	})
	if err != nil {
		return Sequence{}, err
	}
	return s.Get(ctx, a, id)
}

const seqCols = `s.id, s.name, s.owner_id, COALESCE(u.name, ''), s.shared, s.steps, s.created_at, s.updated_at`
const seqFrom = ` FROM sequences s LEFT JOIN users u ON u.workspace_id = s.workspace_id AND u.id = s.owner_id`

func scanSequence(sc interface{ Scan(...any) error }) (Sequence, error) {
	var sq Sequence
	var steps string
	var created, updated int64
	if err := sc.Scan(&sq.ID, &sq.Name, &sq.OwnerID, &sq.OwnerName, &sq.Shared, &steps, &created, &updated); err != nil {
		return sq, err
	}
	if err := json.Unmarshal([]byte(steps), &sq.Steps); err != nil {
		return sq, fmt.Errorf("sequence %d steps: %w", sq.ID, err)
	}
	sq.CreatedAt, sq.UpdatedAt = db.Time(created), db.Time(updated)
	return sq, nil
}

// get reads a sequence the actor may see (shared, or their own).
func get(ctx context.Context, q db.Querier, a platform.Actor, id int64) (Sequence, error) {
	sq, err := scanSequence(q.QueryRowContext(ctx, `-- sequences.get
		SELECT `+seqCols+seqFrom+` WHERE s.workspace_id = ? AND s.id = ? AND (s.shared OR s.owner_id = ?)`, a.WorkspaceID, id, a.UserID))
	if db.NoRows(err) {
		return sq, errs.NotFoundf("sequence %d", id)
	}
	if err != nil {
		return sq, fmt.Errorf("sequences.get(%d): %w", id, err)
	}
	return sq, nil
}

// Get returns a sequence the actor may see, with its counts.
func (s *Service) Get(ctx context.Context, a platform.Actor, id int64) (Sequence, error) {
	sq, err := get(ctx, s.DB.Reader(), a, id)
	if err != nil {
		return sq, err
	}
	st, err := s.stats(ctx, a.WorkspaceID, []int64{id})
	sq.Stats = st[id]
	return sq, err
}

// List returns the sequences the actor may use: the team's shared ones and
// their own, by name.
func (s *Service) List(ctx context.Context, a platform.Actor) ([]Sequence, error) {
	rows, err := s.DB.Reader().QueryContext(ctx, `-- sequences.List
		SELECT `+seqCols+seqFrom+` WHERE s.workspace_id = ? AND (s.shared OR s.owner_id = ?) ORDER BY s.name, s.id`, a.WorkspaceID, a.UserID)
	if err != nil {
		return nil, fmt.Errorf("sequences.List: %w", err)
	}
	defer rows.Close()
	var out []Sequence
	var ids []int64
	for rows.Next() {
		sq, err := scanSequence(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, sq)
		ids = append(ids, sq.ID)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	st, err := s.stats(ctx, a.WorkspaceID, ids)
	for i := range out {
		out[i].Stats = st[out[i].ID]
	}
	return out, err
}

func (s *Service) stats(ctx context.Context, ws int64, ids []int64) (map[int64]Stats, error) {
	out := map[int64]Stats{}
	if len(ids) == 0 {
		return out, nil
	}
	rows, err := s.DB.Reader().QueryContext(ctx, `-- sequences.stats
		SELECT sequence_id, status, COUNT(*) FROM sequence_enrolments WHERE workspace_id = ? GROUP BY sequence_id, status`, ws)
	if err != nil {
		return nil, fmt.Errorf("sequences.stats: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id, n int64
		var status string
		if err := rows.Scan(&id, &status, &n); err != nil {
			return nil, err
		}
		st := out[id]
		st.Enrolled += n
		switch status {
		case StatusActive:
			st.Active += n
		case StatusReplied:
			st.Replied += n
		case StatusMeetingBooked:
			st.MeetingBooked += n
		case StatusFinished:
			st.Finished += n
		}
		out[id] = st
	}
	for id, st := range out {
		if st.Enrolled > 0 {
			st.ReplyRate = float64(st.Replied) / float64(st.Enrolled)
			out[id] = st
		}
	}
	return out, rows.Err()
}
