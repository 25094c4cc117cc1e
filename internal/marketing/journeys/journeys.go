package journeys

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
	"github.com/ryorin/ryorin/internal/lead"
	"github.com/ryorin/ryorin/internal/marketing/email"
	"github.com/ryorin/ryorin/internal/marketing/segments"
	"github.com/ryorin/ryorin/internal/platform"
)

// Journey statuses: only an active journey enrols and advances.
const (
	StatusDraft  = "draft"
	StatusActive = "active"
	StatusPaused = "paused"
)

// TickJob is the periodic job that follows triggers and advances enrolments.
const TickJob = "journeys.tick"

// Service runs journeys.
type Service struct {
	DB       *db.DB
	Clock    clock.Clock
	CRM      *crm.Service
	Email    *email.Service
	Segments *segments.Service
	Scorer   *lead.Scorer
	Notify   *platform.Notifier
	Jobs     *platform.Jobs
	Log      *slog.Logger
	// Batch is how many due enrolments one pass reads; each step is still
	// its own short write transaction.
	Batch int
	// Budget bounds one tick's work, so a backlog drains over several ticks.
	Budget time.Duration
	// Lag is how old an event or lifecycle change must be before the
	// trigger follower reads it (see Follow).
	Lag time.Duration
	// afterStep, when set (tests), runs after each committed step; an error
	// stops the pass as a crash would.
	afterStep func(enrolment int64, step string) error
	// beforeCommit, when set (tests), runs inside a step's transaction after
	// its side effects; an error rolls the whole step back.
	beforeCommit func(enrolment int64, step string) error
}

// New returns a Service; call Register to run its periodic job.
func New(d *db.DB, c clock.Clock, cs *crm.Service, es *email.Service, seg *segments.Service, sc *lead.Scorer, n *platform.Notifier, jobs *platform.Jobs, log *slog.Logger) *Service {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Service{DB: d, Clock: clock.Millis(c), CRM: cs, Email: es, Segments: seg, Scorer: sc, Notify: n, Jobs: jobs, Log: log,
		Batch: 100, Budget: 5 * time.Second, Lag: 5 * time.Second}
}

// Register makes the job runner tick journeys every 10 seconds.
func (s *Service) Register() {
	s.Jobs.Every(TickJob, 10*time.Second, func(ctx context.Context, j platform.Job) error {
		_, _, err := s.Tick(ctx, j.WorkspaceID)
		return err
	})
}

// Journey is a nurture journey.
type Journey struct {
	ID            int64      `json:"id"`
	Name          string     `json:"name"`
	Description   string     `json:"description,omitempty"`
	Status        string     `json:"status" doc:"draft, active or paused"`
	Definition    Definition `json:"definition"`
	AllowReentry  bool       `json:"allow_reentry" doc:"a contact who left may enter again (never twice at once)"`
	EnrolledCount int64      `json:"enrolled_count"`
	ActivatedAt   *time.Time `json:"activated_at,omitempty"`
	CreatedAt     time.Time  `json:"created_at"`
	UpdatedAt     time.Time  `json:"updated_at"`
}

// Input is a journey as the editor or the API sends it.
type Input struct {
	Name         string          `json:"name"`
	Description  string          `json:"description,omitempty"`
	Definition   json.RawMessage `json:"definition" doc:"trigger, goal and steps (see Definition)"`
	AllowReentry bool            `json:"allow_reentry,omitempty"`
}

func canEdit(a platform.Actor) error {
	if a.Kind == platform.ActorSystem || a.Kind == platform.ActorCLI || a.Is(platform.RoleAdmin, platform.RoleMarketing) {
		return nil
	}
	return errs.E(errs.Forbidden, "", "only marketing and admins manage journeys")
}

// parse validates an input, including what only the database can tell:
// that the form, segment, templates and lists it names exist.
func (s *Service) parse(ctx context.Context, q db.Querier, ws int64, in *Input) (Definition, error) {
	in.Name = strings.TrimSpace(in.Name)
	if in.Name == "" || len(in.Name) > 200 {
		return Definition{}, errs.Field("name", "is required (at most 200 characters)")
	}
	if len(in.Description) > 2000 {
		return Definition{}, errs.Field("description", "is longer than 2,000 bytes")
	}
	if len(in.Definition) == 0 {
		return Definition{}, errs.Field("definition", "is required")
	}
	d, err := ParseDefinition(in.Definition)
	if err != nil {
		return d, err
	}
	exists := func(field, table string, id int64, extra string) error {
		var one int
		err := q.QueryRowContext(ctx, `-- journeys.parse exists
			SELECT 1 FROM `+table+` WHERE workspace_id = ? AND id = ?`+extra, ws, id).Scan(&one)
		if db.NoRows(err) {
			return errs.Field(field, "no such %s (id %d)", strings.TrimSuffix(strings.TrimPrefix(table, "contact_"), "s"), id)
		}
		return err
	}
	if d.Trigger.Kind == TriggerForm && d.Trigger.FormID != 0 {
		if err := exists("trigger.form_id", "forms", d.Trigger.FormID, ""); err != nil {
			return d, err
		}
	}
	if d.Trigger.Kind == TriggerDate {
		var typ string
		err := q.QueryRowContext(ctx, `SELECT type FROM property_definitions WHERE workspace_id = ? AND object_type = 'contact' AND key = ?`,
			ws, d.Trigger.Property).Scan(&typ)
		if db.NoRows(err) || (err == nil && typ != string(crm.PropDate)) {
			return d, errs.Field("trigger.property", "no custom date property %q on contacts", d.Trigger.Property)
		}
		if err != nil {
			return d, err
		}
	}
	if d.Trigger.Kind == TriggerSegment {
		if err := exists("trigger.segment_id", "segments", d.Trigger.SegmentID, ""); err != nil {
			return d, err
		}
	}
	for i, st := range d.Steps {
		switch {
		case st.Email != nil:
			err = exists(fmt.Sprintf("steps[%d].email.template_id", i), "email_campaigns", st.Email.TemplateID,
				" AND deleted_at IS NULL AND audience_kind <> '"+email.AudienceJourney+"'")
		case st.List != nil:
			err = exists(fmt.Sprintf("steps[%d].list.list_id", i), "contact_lists", st.List.ListID, "")
		}
		if err != nil {
			return d, err
		}
	}
	return d, nil
}

// Create saves a draft journey.
func (s *Service) Create(ctx context.Context, a platform.Actor, in Input) (Journey, error) {
	return s.save(ctx, a, 0, in)
}

// Update replaces a draft or paused journey's name and definition. An active
// journey must be paused first, so no contact moves while its steps change.
// Contacts at a step that no longer exists leave when the journey resumes.
func (s *Service) Update(ctx context.Context, a platform.Actor, id int64, in Input) (Journey, error) {
	return s.save(ctx, a, id, in)
}

func (s *Service) save(ctx context.Context, a platform.Actor, id int64, in Input) (Journey, error) {
	var j Journey
	if err := canEdit(a); err != nil {
		return j, err
	}
	ws := a.WorkspaceID
	now := db.Millis(s.Clock.Now())
	err := s.DB.Write(ctx, "journeys.save", func(tx *db.Tx) error {
		d, err := s.parse(ctx, tx, ws, &in)
		if err != nil {
			return err
		}
		def, _ := json.Marshal(d)
		action := "update"
		if id == 0 {
			action = "create"
			err = tx.QueryRowContext(ctx, `-- journeys.Create
				INSERT INTO journeys (workspace_id, name, description, definition, allow_reentry, created_by, created_at, updated_at)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`, ws, in.Name, in.Description, string(def), in.AllowReentry,
				db.NullInt(a.UserID), now, now).Scan(&id)
		} else {
			old, gerr := getJourney(ctx, tx, ws, id)
			if gerr != nil {
				return gerr
			}
			if old.Status == StatusActive {
				return errs.E(errs.Conflict, "", "pause the journey before changing it")
			}
			_, err = tx.ExecContext(ctx, `-- journeys.Update
				UPDATE journeys SET name = ?, description = ?, definition = ?, allow_reentry = ?, updated_at = ? WHERE workspace_id = ? AND id = ?`,
				in.Name, in.Description, string(def), in.AllowReentry, now, ws, id)
		}
		if db.IsUniqueViolation(err) {
			return errs.E(errs.Conflict, "name", "another journey has this name")
		}
		if err != nil {
			return fmt.Errorf("journeys.save: %w", err)
		}
		if j, err = getJourney(ctx, tx, ws, id); err != nil {
			return err
		}
		return platform.Audit(ctx, tx, a, s.Clock.Now(), action, "journey", id, map[string]any{"name": j.Name, "steps": len(d.Steps)})
	})
	return j, err
}

// Activate starts (or resumes) a journey: from now on its trigger enrols
// contacts and enrolments advance. Each email step's automated campaign gets
// the current template of the campaign it names. baseURL is where links in
// its mail point when the workspace has no public base URL.
func (s *Service) Activate(ctx context.Context, a platform.Actor, id int64, baseURL string) (Journey, error) {
	var j Journey
	if err := canEdit(a); err != nil {
		return j, err
	}
	ws := a.WorkspaceID
	now := s.Clock.Now()
	err := s.DB.Write(ctx, "journeys.Activate", func(tx *db.Tx) error {
		var err error
		if j, err = getJourney(ctx, tx, ws, id); err != nil {
			return err
		}
		if j.Status == StatusActive {
			return nil
		}
		raw, _ := json.Marshal(j.Definition)
		if _, err := s.parse(ctx, tx, ws, &Input{Name: j.Name, Definition: raw}); err != nil {
			return err
		}
		w, err := platform.GetWorkspace(ctx, tx, ws)
		if err != nil {
			return err
		}
		if j.hasEmail() && w.SMTP().FromAddress == "" {
			return errs.E(errs.Invalid, "", "no sender address is configured: set one under Settings → SMTP")
		}
		for i, st := range j.Definition.Steps {
			if st.Email == nil {
				continue
			}
			var cid int64
			err := tx.QueryRowContext(ctx, `SELECT campaign_id FROM journey_emails WHERE workspace_id = ? AND journey_id = ? AND step_id = ?`, ws, id, st.ID).Scan(&cid)
			if err != nil && !db.NoRows(err) {
				return err
			}
			cid, err = s.Email.SaveAutomatedTx(ctx, tx, ws, cid, j.Name+" / "+st.ID, id, st.Email.TemplateID, baseURL)
			if err != nil {
				if errs.Is(err, errs.NotFound) {
					return errs.Field(fmt.Sprintf("steps[%d].email.template_id", i), "no such email template")
				}
				return err
			}
			if _, err := tx.ExecContext(ctx, `-- journeys.Activate email
				INSERT INTO journey_emails (workspace_id, journey_id, step_id, campaign_id) VALUES (?, ?, ?, ?)
				ON CONFLICT (workspace_id, journey_id, step_id) DO UPDATE SET campaign_id = excluded.campaign_id`, ws, id, st.ID, cid); err != nil {
				return err
			}
		}
		// Only what happens from now on enrols: not events from before, nor
		// from while the journey was paused.
		activated := db.Millis(now)
		if _, err := tx.ExecContext(ctx, `-- journeys.Activate
			UPDATE journeys SET status = ?, activated_at = ?, updated_at = ? WHERE workspace_id = ? AND id = ?`,
			StatusActive, activated, db.Millis(now), ws, id); err != nil {
			return err
		}
		if j, err = getJourney(ctx, tx, ws, id); err != nil {
			return err
		}
		return platform.Audit(ctx, tx, a, now, "activate", "journey", id, map[string]any{"name": j.Name})
	})
	return j, err
}

func (j Journey) hasEmail() bool {
	for _, st := range j.Definition.Steps {
		if st.Email != nil {
			return true
		}
	}
	return false
}

// Pause stops a journey: nobody enters and nobody moves until it is
// activated again, when everyone resumes where they were.
func (s *Service) Pause(ctx context.Context, a platform.Actor, id int64) (Journey, error) {
	var j Journey
	if err := canEdit(a); err != nil {
		return j, err
	}
	now := s.Clock.Now()
	err := s.DB.Write(ctx, "journeys.Pause", func(tx *db.Tx) error {
		var err error
		if j, err = getJourney(ctx, tx, a.WorkspaceID, id); err != nil {
			return err
		}
		if j.Status != StatusActive {
			return errs.E(errs.Conflict, "", "only an active journey can be paused")
		}
		if _, err := tx.ExecContext(ctx, `-- journeys.Pause
			UPDATE journeys SET status = ?, updated_at = ? WHERE workspace_id = ? AND id = ?`, StatusPaused, db.Millis(now), a.WorkspaceID, id); err != nil {
			return err
		}
		if j, err = getJourney(ctx, tx, a.WorkspaceID, id); err != nil {
			return err
		}
		return platform.Audit(ctx, tx, a, now, "pause", "journey", id, map[string]any{"name": j.Name})
	})
	return j, err
}

const journeyCols = `id, name, description, status, definition, allow_reentry, enrolled_count, activated_at, created_at, updated_at`

func scanJourney(sc interface{ Scan(...any) error }) (Journey, error) {
	var j Journey
	var def string
	var activated *int64
	var created, updated int64
	if err := sc.Scan(&j.ID, &j.Name, &j.Description, &j.Status, &def, &j.AllowReentry, &j.EnrolledCount, &activated, &created, &updated); err != nil {
		return j, err
	}
	if err := json.Unmarshal([]byte(def), &j.Definition); err != nil {
		return j, fmt.Errorf("journey %d definition: %w", j.ID, err)
	}
	j.CreatedAt, j.UpdatedAt = db.Time(created), db.Time(updated)
	if activated != nil {
		t := db.Time(*activated)
		j.ActivatedAt = &t
	}
	return j, nil
}

func getJourney(ctx context.Context, q db.Querier, ws, id int64) (Journey, error) {
	j, err := scanJourney(q.QueryRowContext(ctx, `-- journeys.Get
		SELECT `+journeyCols+` FROM journeys WHERE workspace_id = ? AND id = ?`, ws, id))
	if db.NoRows(err) {
		return j, errs.NotFoundf("journey %d not found", id)
	}
	if err != nil {
		return j, fmt.Errorf("journeys.Get(%d): %w", id, err)
	}
	return j, nil
}

// Get returns one journey.
func (s *Service) Get(ctx context.Context, a platform.Actor, id int64) (Journey, error) {
	return getJourney(ctx, s.DB.Reader(), a.WorkspaceID, id)
}

// List returns the workspace's journeys by name.
func (s *Service) List(ctx context.Context, a platform.Actor) ([]Journey, error) {
	rows, err := s.DB.Reader().QueryContext(ctx, `-- journeys.List
		SELECT `+journeyCols+` FROM journeys WHERE workspace_id = ? ORDER BY name, id LIMIT 500`, a.WorkspaceID)
	if err != nil {
		return nil, fmt.Errorf("journeys.List: %w", err)
	}
	defer rows.Close()
	out := []Journey{}
	for rows.Next() {
		j, err := scanJourney(rows)
		if err != nil {
			return nil, fmt.Errorf("journeys.List: %w", err)
		}
		out = append(out, j)
	}
	return out, rows.Err()
}
