// Package lead owns lead management: versioned lead definitions both teams
// approve, and (next) scoring, routing, the follow-up SLA and sales
// feedback. Rules are written in the language of package rules. It writes
// to the platform substrate and imports db, errs, clock, platform and rules,
// never web or api.
package lead

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/ryorin/ryorin/internal/clock"
	"github.com/ryorin/ryorin/internal/db"
	"github.com/ryorin/ryorin/internal/errs"
	"github.com/ryorin/ryorin/internal/lead/rules"
	"github.com/ryorin/ryorin/internal/platform"
)

// PointsRule adds points when its condition holds.
type PointsRule struct {
	Name   string `json:"name"`
	When   string `json:"when" doc:"a condition in the rule language, e.g. employees >= 100"`
	Points int    `json:"points"`
}

// EngagementRule gives points for each event of a kind (and path prefix: the
// page for page views, /f/<key> for a form's submissions), decayed by age,
// with at most DailyCap points a day.
type EngagementRule struct {
	Name     string `json:"name"`
	Event    string `json:"event" doc:"page_view, form_submit, email_open, email_click, content_view, …"`
	Path     string `json:"path,omitempty" doc:"a path prefix such as /pricing; for form_submit, /f/<form key> selects one form"`
	Points   int    `json:"points"`
	DailyCap int    `json:"daily_cap,omitempty" doc:"at most this many points from this rule per day (0: no cap)"`
}

// Body is a definition's content: how fit and engagement are scored and what
// makes a marketing-qualified lead.
type Body struct {
	FitRules        []PointsRule     `json:"fit_rules"`
	FitGrades       map[string]int   `json:"fit_grades" doc:"minimum fit points per grade, e.g. {\"A\": 60, \"B\": 40, \"C\": 20}"`
	EngagementRules []EngagementRule `json:"engagement_rules"`
	HalfLifeDays    int              `json:"half_life_days" doc:"engagement points halve after this many days"`
	MQL             string           `json:"mql" doc:"condition that makes a contact MQL; may use fit_grade and engagement"`
	Disqualify      string           `json:"disqualify,omitempty" doc:"condition that disqualifies a contact"`
}

// Definition is one version of the lead definition.
type Definition struct {
	ID          int64      `json:"id"`
	Version     int        `json:"version"`
	Status      string     `json:"status" doc:"draft, active or archived"`
	Body        Body       `json:"body"`
	ChangeNote  string     `json:"change_note,omitempty"`
	CreatedBy   int64      `json:"created_by,omitempty"`
	CreatedAt   time.Time  `json:"created_at"`
	ActivatedAt *time.Time `json:"activated_at,omitempty"`
	Approvals   []Approval `json:"approvals"`
}

// Approval is one side's sign-off on a draft.
type Approval struct {
	Side   string    `json:"side" doc:"marketing or sales"`
	UserID int64     `json:"user_id,omitempty"`
	Note   string    `json:"note,omitempty"`
	At     time.Time `json:"at"`
}

var eventKindRe = regexp.MustCompile(`^[a-z][a-z0-9_]{0,63}$`)

// Service runs lead management.
type Service struct {
	DB    *db.DB
	Clock clock.Clock
	// Jobs, when set, is woken when a job is enqueued (e.g. the full
	// rescore after a new definition becomes active).
	Jobs *platform.Jobs
}

// New returns a Service.
func New(d *db.DB, c clock.Clock) *Service { return &Service{DB: d, Clock: clock.Millis(c)} }

// Validate compiles every rule; an error names the rule by its field path
// and says line and column.
func (b Body) Validate() error {
	check := func(field, src string, k rules.Kind) error {
		if _, err := rules.Compile(src, k); err != nil {
			if e, ok := err.(*rules.Error); ok {
				return errs.Rule(field, "line %d, column %d: %s", e.Line, e.Column, e.Message)
			}
			return errs.Rule(field, "%s", err.Error())
		}
		return nil
	}
	for i, r := range b.FitRules {
		if strings.TrimSpace(r.Name) == "" {
			return errs.Field(fmt.Sprintf("fit_rules[%d].name", i), "is required")
		}
		if r.Points < -1000 || r.Points > 1000 {
			return errs.Field(fmt.Sprintf("fit_rules[%d].points", i), "must be between -1000 and 1000")
		}
		if err := check(fmt.Sprintf("fit_rules[%d].when", i), r.When, rules.Condition); err != nil {
			return err
		}
	}
	for i, r := range b.EngagementRules {
		if strings.TrimSpace(r.Name) == "" {
			return errs.Field(fmt.Sprintf("engagement_rules[%d].name", i), "is required")
		}
		if !eventKindRe.MatchString(r.Event) {
			return errs.Field(fmt.Sprintf("engagement_rules[%d].event", i), "must be an event kind such as page_view")
		}
		if r.Points < -1000 || r.Points > 1000 || r.DailyCap < 0 {
			return errs.Field(fmt.Sprintf("engagement_rules[%d].points", i), "must be between -1000 and 1000, with a daily cap of 0 or more")
		}
	}
	for _, g := range []string{"A", "B", "C"} {
		if _, ok := b.FitGrades[g]; !ok {
			return errs.Field("fit_grades", "needs thresholds for A, B and C")
		}
	}
	if !(b.FitGrades["A"] >= b.FitGrades["B"] && b.FitGrades["B"] >= b.FitGrades["C"]) {
		return errs.Rule("fit_grades", "thresholds must fall from A to C")
	}
	if b.HalfLifeDays < 1 || b.HalfLifeDays > 365 {
		return errs.Field("half_life_days", "must be 1 to 365")
	}
	if err := check("mql", b.MQL, rules.Condition); err != nil {
		return err
	}
	if strings.TrimSpace(b.Disqualify) != "" {
		if err := check("disqualify", b.Disqualify, rules.Condition); err != nil {
			return err
		}
	}
	return nil
}

// DefaultBody is where a new install starts: firmographic fit, behaviour
// engagement, MQL at fit B or better with engagement, or a demo request.
func DefaultBody() Body {
	return Body{
		FitRules: []PointsRule{
			{Name: "決裁に関わる役職", When: `title contains "部長" || title contains "課長" || title contains "取締役" || title contains "Director" || title contains "Manager"`, Points: 30},
			{Name: "従業員100名以上", When: `employees >= 100`, Points: 20},
			{Name: "従業員1,000名以上", When: `employees >= 1000`, Points: 10},
			{Name: "フリーメール", When: `free_mail`, Points: -20},
		},
		FitGrades: map[string]int{"A": 50, "B": 30, "C": 10},
		EngagementRules: []EngagementRule{
			{Name: "料金ページの閲覧", Event: "page_view", Path: "/pricing", Points: 10, DailyCap: 20},
			{Name: "ページ閲覧", Event: "page_view", Points: 1, DailyCap: 5},
			{Name: "フォーム送信", Event: "form_submit", Points: 30},
			{Name: "メールのクリック", Event: "email_click", Points: 5, DailyCap: 10},
			{Name: "コンテンツの閲覧", Event: "content_view", Points: 5, DailyCap: 10},
		},
		HalfLifeDays: 14,
		MQL:          `(fit_grade in ["A", "B"] && engagement >= 50) || submitted("7d")`,
		Disqualify:   `email_domain endsWith ".invalid"`,
	}
}

// EnsureDefault creates version 1 from DefaultBody, active, on a workspace
// that has no definition yet.
func (s *Service) EnsureDefault(ctx context.Context, ws int64) error {
	var n int
	if err := s.DB.Reader().QueryRowContext(ctx, `SELECT COUNT(*) FROM lead_definitions WHERE workspace_id = ?`, ws).Scan(&n); err != nil {
		return fmt.Errorf("lead.EnsureDefault: %w", err)
	}
	if n > 0 {
		return nil
	}
	b, _ := json.Marshal(DefaultBody())
	now := db.Millis(s.Clock.Now())
	return s.DB.Write(ctx, "lead.EnsureDefault", func(tx *db.Tx) error {
		_, err := tx.ExecContext(ctx, `-- lead.EnsureDefault
			INSERT INTO lead_definitions (workspace_id, version, status, body, change_note, created_at, activated_at)
			VALUES (?, 1, 'active', ?, 'Ryorin default', ?, ?)`, ws, string(b), now, now)
		return err
	})
}

// CreateDraft stores a new version as a draft (any marketing, sales, manager
// or admin user may propose one).
func (s *Service) CreateDraft(ctx context.Context, a platform.Actor, body Body, note string) (Definition, error) {
	if err := body.Validate(); err != nil {
		return Definition{}, err
	}
	now := s.Clock.Now()
	b, _ := json.Marshal(body)
	var id int64
	err := s.DB.Write(ctx, "lead.CreateDraft", func(tx *db.Tx) error {
		var v int
		if err := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) + 1 FROM lead_definitions WHERE workspace_id = ?`, a.WorkspaceID).Scan(&v); err != nil {
			return err
		}
		err := tx.QueryRowContext(ctx, `-- lead.CreateDraft
			INSERT INTO lead_definitions (workspace_id, version, status, body, change_note, created_by, created_at)
			VALUES (?, ?, 'draft', ?, ?, ?, ?) RETURNING id`, a.WorkspaceID, v, string(b), strings.TrimSpace(note), a.UserRef(), db.Millis(now)).Scan(&id)
		if err != nil {
			return fmt.Errorf("lead.CreateDraft: %w", err)
		}
		return platform.Audit(ctx, tx, a, now, "create", "lead_definition", id, map[string]any{"version": v, "note": note})
	})
	if err != nil {
		return Definition{}, err
	}
	return s.Get(ctx, s.DB.Reader(), a.WorkspaceID, id)
}

// Approve signs a draft off for the approver's side: marketing if they are in
// a marketing team, sales if in a sales team (managers count for their own
// team). When both sides have approved — two different people — the draft
// becomes the active definition and the previous one is archived.
func (s *Service) Approve(ctx context.Context, a platform.Actor, id int64, note string) (Definition, error) {
	now := s.Clock.Now()
	err := s.DB.Write(ctx, "lead.Approve", func(tx *db.Tx) error {
		d, err := s.Get(ctx, tx, a.WorkspaceID, id)
		if err != nil {
			return err
		}
		if d.Status != "draft" {
			return errs.Rule("status", "only a draft can be approved; this version is %s", d.Status)
		}
		side, err := platform.ApproverSide(ctx, tx, a, "lead definitions")
		if err != nil {
			return err
		}
		for _, ap := range d.Approvals {
			if ap.Side == side {
				return errs.E(errs.Conflict, "side", "the %s side has already approved this version", side)
			}
			if ap.UserID == a.UserID {
				return errs.Rule("user_id", "the two approvals must come from two different people")
			}
		}
		if _, err := tx.ExecContext(ctx, `-- lead.Approve
			INSERT INTO lead_definition_approvals (workspace_id, definition_id, side, user_id, note, at) VALUES (?, ?, ?, ?, ?, ?)`,
			a.WorkspaceID, id, side, a.UserRef(), strings.TrimSpace(note), db.Millis(now)); err != nil {
			return fmt.Errorf("lead.Approve: %w", err)
		}
		if err := platform.Audit(ctx, tx, a, now, "approve", "lead_definition", id, map[string]any{"side": side, "note": note}); err != nil {
			return err
		}
		if len(d.Approvals)+1 < 2 {
			return nil
		}
		if _, err := tx.ExecContext(ctx, `UPDATE lead_definitions SET status = 'archived' WHERE workspace_id = ? AND status = 'active'`, a.WorkspaceID); err != nil {
			return err
		}
		if _, err = tx.ExecContext(ctx, `UPDATE lead_definitions SET status = 'active', activated_at = ? WHERE workspace_id = ? AND id = ?`,
			db.Millis(now), a.WorkspaceID, id); err != nil {
			return err
		}
		return s.enqueueRescore(ctx, tx, a.WorkspaceID, d.Version, now)
	})
	if err != nil {
		return Definition{}, err
	}
	return s.Get(ctx, s.DB.Reader(), a.WorkspaceID, id)
}

// Get loads one version with its approvals.
func (s *Service) Get(ctx context.Context, q db.Querier, ws, id int64) (Definition, error) {
	var d Definition
	var body string
	var created int64
	var by, act *int64
	err := q.QueryRowContext(ctx, `-- lead.Get
		SELECT id, version, status, body, change_note, created_by, created_at, activated_at FROM lead_definitions
		WHERE workspace_id = ? AND id = ?`, ws, id).Scan(&d.ID, &d.Version, &d.Status, &body, &d.ChangeNote, &by, &created, &act)
	if db.NoRows(err) {
		return d, errs.NotFoundf("lead definition %d not found", id)
	}
	if err != nil {
		return d, fmt.Errorf("lead.Get(%d): %w", id, err)
	}
	if err := json.Unmarshal([]byte(body), &d.Body); err != nil {
		return d, fmt.Errorf("lead.Get(%d): %w", id, err)
	}
	if by != nil {
		d.CreatedBy = *by
	}
	d.CreatedAt = db.Time(created)
	if act != nil {
		t := db.Time(*act)
		d.ActivatedAt = &t
	}
	rows, err := q.QueryContext(ctx, `SELECT side, COALESCE(user_id, 0), note, at FROM lead_definition_approvals
		WHERE workspace_id = ? AND definition_id = ? ORDER BY at`, ws, id)
	if err != nil {
		return d, err
	}
	defer rows.Close()
	d.Approvals = []Approval{}
	for rows.Next() {
		var ap Approval
		var at int64
		if err := rows.Scan(&ap.Side, &ap.UserID, &ap.Note, &at); err != nil {
			return d, err
		}
		ap.At = db.Time(at)
		d.Approvals = append(d.Approvals, ap)
	}
	return d, rows.Err()
}

// List returns every version, newest first.
func (s *Service) List(ctx context.Context, ws int64) ([]Definition, error) {
	rows, err := s.DB.Reader().QueryContext(ctx, `-- lead.List
		SELECT id FROM lead_definitions WHERE workspace_id = ? ORDER BY version DESC`, ws)
	if err != nil {
		return nil, fmt.Errorf("lead.List: %w", err)
	}
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return nil, err
		}
		ids = append(ids, id)
	}
	rows.Close()
	out := []Definition{}
	for _, id := range ids {
		d, err := s.Get(ctx, s.DB.Reader(), ws, id)
		if err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, nil
}

// Previous returns the version a definition is compared with: the one active
// when it was proposed (for a draft, the active one now), else the version
// before it. ok is false for the first version.
func (s *Service) Previous(ctx context.Context, q db.Querier, ws int64, d Definition) (Definition, bool, error) {
	var id int64
	var err error
	if d.Status == "draft" {
		err = q.QueryRowContext(ctx, `SELECT id FROM lead_definitions WHERE workspace_id = ? AND status = 'active'`, ws).Scan(&id)
	} else {
		err = q.QueryRowContext(ctx, `SELECT id FROM lead_definitions WHERE workspace_id = ? AND version < ? AND status <> 'draft'
			ORDER BY version DESC LIMIT 1`, ws, d.Version).Scan(&id)
	}
	if db.NoRows(err) || id == d.ID {
		return Definition{}, false, nil
	}
	if err != nil {
		return Definition{}, false, err
	}
	p, err := s.Get(ctx, q, ws, id)
	return p, err == nil, err
}
