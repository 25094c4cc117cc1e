package lead

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"time"

	"github.com/ryorin/ryorin/internal/crm"
	"github.com/ryorin/ryorin/internal/db"
	"github.com/ryorin/ryorin/internal/i18n"
	"github.com/ryorin/ryorin/internal/lead/rules"
	"github.com/ryorin/ryorin/internal/platform"
)

// scoreHistory is how far back a contact's events count.
const scoreHistory = 180 * 24 * time.Hour

// Scorer keeps contacts' scores current: it reads events stored since its
// mark (a row in work_marks, so a restart resumes) and rescores the contacts
// they belong to, moving those who now meet the active definition's MQL
// criteria to MQL with the rule as the cause.
type Scorer struct {
	Lead *Service
	CRM  *crm.Service
	// Notify, when set, tells a lead's new owner in the app (and by email,
	// by their preferences).
	Notify *platform.Notifier

	mu       sync.Mutex
	compiled *Compiled
	version  int
}

// active returns the active definition, compiled once per version.
func (sc *Scorer) active(ctx context.Context, ws int64) (*Compiled, int, error) {
	var id int64
	var version int
	err := sc.Lead.DB.Reader().QueryRowContext(ctx, `-- lead.Scorer.active
		SELECT id, version FROM lead_definitions WHERE workspace_id = ? AND status = 'active'`, ws).Scan(&id, &version)
	if err != nil {
		return nil, 0, fmt.Errorf("lead: active definition: %w", err)
	}
	sc.mu.Lock()
	defer sc.mu.Unlock()
	if sc.compiled != nil && sc.version == version {
		return sc.compiled, version, nil
	}
	d, err := sc.Lead.Get(ctx, sc.Lead.DB.Reader(), ws, id)
	if err != nil {
		return nil, 0, err
	}
	c, err := d.Body.Compile()
	if err != nil {
		return nil, 0, err
	}
	sc.compiled, sc.version = c, version
	return c, version, nil
}

// ScoreNewEvents rescores the contacts of events stored since the last run,
// and the contacts whose record changed (title, company, properties…), and
// advances both marks; it returns how many contacts it rescored.
func (sc *Scorer) ScoreNewEvents(ctx context.Context, ws int64) (int, error) {
	n, err := sc.scoreEvents(ctx, ws)
	if err != nil {
		return n, err
	}
	m, err := sc.scoreUpdated(ctx, ws)
	return n + m, err
}

// scoreUpdated rescores contacts updated since its mark, kept as the
// (updated_at, id) of the last one read.
func (sc *Scorer) scoreUpdated(ctx context.Context, ws int64) (int, error) {
	d := sc.Lead.DB
	var at, id int64
	err := d.Reader().QueryRowContext(ctx, `SELECT value FROM work_marks WHERE workspace_id = ? AND name = 'lead.updated_at'`, ws).Scan(&at)
	if db.NoRows(err) {
		// First run: contacts changed from now on.
		return 0, sc.setMarks(ctx, ws, map[string]int64{"lead.updated_at": db.Millis(sc.Lead.Clock.Now()), "lead.updated_id": 0})
	}
	if err != nil {
		return 0, err
	}
	if err := d.Reader().QueryRowContext(ctx, `SELECT COALESCE(MAX(value), 0) FROM work_marks WHERE workspace_id = ? AND name = 'lead.updated_id'`, ws).Scan(&id); err != nil {
		return 0, err
	}
	rows, err := d.Reader().QueryContext(ctx, `-- lead.scoreUpdated
		SELECT id, updated_at FROM contacts WHERE workspace_id = ? AND (updated_at > ? OR (updated_at = ? AND id > ?))
		ORDER BY updated_at, id LIMIT 500`, ws, at, at, id)
	if err != nil {
		return 0, err
	}
	var ids []int64
	lastAt, lastID := at, id
	for rows.Next() {
		var cid, u int64
		if err := rows.Scan(&cid, &u); err != nil {
			rows.Close()
			return 0, err
		}
		ids = append(ids, cid)
		lastAt, lastID = u, cid
	}
	rows.Close()
	for _, cid := range ids {
		if _, err := sc.Rescore(ctx, ws, cid); err != nil {
			return 0, err
		}
	}
	if len(ids) == 0 {
		return 0, nil
	}
	return len(ids), sc.setMarks(ctx, ws, map[string]int64{"lead.updated_at": lastAt, "lead.updated_id": lastID})
}

func (sc *Scorer) setMarks(ctx context.Context, ws int64, marks map[string]int64) error {
	return sc.Lead.DB.Write(ctx, "lead.setMarks", func(tx *db.Tx) error {
		for name, v := range marks {
			if _, err := tx.ExecContext(ctx, `INSERT INTO work_marks (workspace_id, name, value) VALUES (?, ?, ?)
				ON CONFLICT (workspace_id, name) DO UPDATE SET value = excluded.value`, ws, name, v); err != nil {
				return err
			}
		}
		return nil
	})
}

func (sc *Scorer) scoreEvents(ctx context.Context, ws int64) (int, error) {
	d := sc.Lead.DB
	var mark int64
	err := d.Reader().QueryRowContext(ctx, `SELECT value FROM work_marks WHERE workspace_id = ? AND name = 'lead.scored_events'`, ws).Scan(&mark)
	if db.NoRows(err) {
		// First run on this database: score what arrives from now on. Older
		// events are scored by a full recompute, not by the live scorer.
		return 0, sc.SetMark(ctx, ws, -1)
	}
	if err != nil {
		return 0, err
	}
	rows, err := d.Reader().QueryContext(ctx, `-- lead.ScoreNewEvents
		SELECT id, contact_id FROM events WHERE workspace_id = ? AND id > ? AND contact_id IS NOT NULL ORDER BY id LIMIT 2000`, ws, mark)
	if err != nil {
		return 0, err
	}
	var contacts []int64
	seen := map[int64]bool{}
	last := mark
	for rows.Next() {
		var id, cid int64
		if err := rows.Scan(&id, &cid); err != nil {
			rows.Close()
			return 0, err
		}
		last = id
		if !seen[cid] {
			seen[cid] = true
			contacts = append(contacts, cid)
		}
	}
	rows.Close()
	for _, cid := range contacts {
		if _, err := sc.Rescore(ctx, ws, cid); err != nil {
			return 0, err
		}
	}
	if last == mark {
		return 0, nil
	}
	return len(contacts), sc.SetMark(ctx, ws, last)
}

// SetMark sets the id of the last event the live scorer has read; -1 means
// the newest event stored now.
func (sc *Scorer) SetMark(ctx context.Context, ws, mark int64) error {
	return sc.Lead.DB.Write(ctx, "lead.SetMark", func(tx *db.Tx) error {
		if mark < 0 {
			if err := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(id), 0) FROM events WHERE workspace_id = ?`, ws).Scan(&mark); err != nil {
				return err
			}
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO work_marks (workspace_id, name, value) VALUES (?, 'lead.scored_events', ?)
			ON CONFLICT (workspace_id, name) DO UPDATE SET value = excluded.value`, ws, mark)
		return err
	})
}

// Drain rescores until no new events are left (the demo loader uses it).
func (sc *Scorer) Drain(ctx context.Context, ws int64) error {
	for {
		n, err := sc.ScoreNewEvents(ctx, ws)
		if err != nil || n == 0 {
			return err
		}
	}
}

// Rescore computes one contact's scores now, stores them with their
// explanation, and applies the MQL and disqualification criteria: a lead
// (or subscriber, or recycled contact) that meets MQL becomes MQL; one that
// meets the disqualification criteria before reaching sales is disqualified.
// Scores never move a contact backwards in the funnel.
func (sc *Scorer) Rescore(ctx context.Context, ws, contactID int64) (Score, error) {
	c, version, err := sc.active(ctx, ws)
	if err != nil {
		return Score{}, err
	}
	sys := platform.System(ws)
	q := sc.Lead.DB.Reader()
	ct, err := sc.CRM.GetContact(ctx, q, sys, contactID)
	if err != nil {
		return Score{}, err
	}
	now := sc.Lead.Clock.Now()
	f := rules.Facts{Title: ct.Title, Department: ct.Department, Email: ct.Email, Stage: string(ct.LifecycleStage),
		Channel: ct.OriginalChannel, Props: ct.Props, Now: now}
	var company *crm.Company
	if ct.CompanyID != 0 {
		if co, err := sc.CRM.GetCompany(ctx, q, sys, ct.CompanyID); err == nil {
			company = &co
			f.Industry, f.Prefecture = co.Industry, co.Address.Prefecture
			if co.Employees != nil {
				f.Employees = int(*co.Employees)
			}
			if co.AnnualRevenue != nil {
				f.AnnualRevenue = float64(*co.AnnualRevenue)
			}
		}
	}
	evs, err := platform.ListContactEvents(ctx, q, ws, contactID, 0, 0, 200)
	if err != nil {
		return Score{}, err
	}
	for _, e := range evs {
		if now.Sub(e.OccurredAt) <= scoreHistory {
			f.Events = append(f.Events, rules.Event{Kind: e.Kind, Path: e.Path, At: e.OccurredAt})
		}
	}
	s, err := c.Score(f)
	if err != nil {
		return s, err
	}
	lines, _ := json.Marshal(s.Lines)
	err = sc.Lead.DB.Write(ctx, "lead.Rescore", func(tx *db.Tx) error {
		if _, err := tx.ExecContext(ctx, `-- lead.Rescore
			UPDATE contacts SET fit_score = ?, fit_grade = ?, engagement_score = ?, score_lines = ?, scored_at = ?, scored_version = ?
			WHERE workspace_id = ? AND id = ?`, s.Fit, s.FitGrade, s.Engagement, string(lines), db.Millis(now), version, ws, contactID); err != nil {
			return err
		}
		early := ct.LifecycleStage == platform.StageSubscriber || ct.LifecycleStage == platform.StageLead || ct.LifecycleStage == platform.StageRecycled
		var to platform.Stage
		switch {
		case s.Disqualified && (early || ct.LifecycleStage == platform.StageMQL):
			to = platform.StageDisqualified
		case s.MQL && early:
			to = platform.StageMQL
		default:
			return nil
		}
		cause := platform.Cause{Kind: "rule", Ref: fmt.Sprintf("definition v%d: %s", version, map[platform.Stage]string{platform.StageMQL: "mql", platform.StageDisqualified: "disqualify"}[to])}
		if _, err := sc.CRM.UpdateContactTx(ctx, tx, sys, contactID, crm.ContactInput{LifecycleStage: &to}, cause); err != nil {
			return err
		}
		if to != platform.StageMQL || ct.OwnerID != 0 {
			return nil
		}
		// A new MQL without an owner is routed in the same transaction, so
		// a crash never leaves it MQL and unassigned, or assigned twice.
		f.Fit, f.FitGrade, f.Engagement = s.Fit, s.FitGrade, s.Engagement
		as, err := sc.Lead.route(ctx, tx, ws, ct, company, f)
		if err != nil || as.OwnerID == 0 {
			return err
		}
		if _, err := sc.CRM.UpdateContactTx(ctx, tx, sys, contactID, crm.ContactInput{OwnerID: &as.OwnerID}, platform.Cause{}); err != nil {
			return err
		}
		if _, err := platform.AppendTimeline(ctx, tx, sys, platform.TimelineEntry{At: now, Kind: "lead.assigned", ContactID: contactID, CompanyID: ct.CompanyID},
			map[string]any{"owner_id": as.OwnerID, "reason": as.Reason}); err != nil {
			return err
		}
		if sc.Notify == nil {
			return nil
		}
		owner, err := platform.GetUser(ctx, tx, ws, as.OwnerID)
		if err != nil {
			return err
		}
		lang, _ := i18n.Parse(owner.Locale)
		name := i18n.PersonName(lang, ct.FamilyName, ct.GivenName)
		if name == "" {
			name = ct.Email
		}
		_, _, err = sc.Notify.Notify(ctx, tx, ws, as.OwnerID, platform.Notification{Kind: "lead.assigned",
			Title: i18n.T(lang, "notify.lead_assigned", "name", name), Body: i18n.T(lang, "notify.lead_assigned_body", "reason", as.Reason),
			Link: fmt.Sprintf("/contacts/%d", contactID), DedupeKey: fmt.Sprintf("lead.assigned:%d:%d", contactID, as.OwnerID)})
		return err
	})
	return s, err
}

// Run rescores contacts with new events every interval until ctx ends.
func (sc *Scorer) Run(ctx context.Context, ws int64, every time.Duration, onErr func(error)) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		for {
			n, err := sc.ScoreNewEvents(ctx, ws)
			if err != nil && ctx.Err() == nil && onErr != nil {
				onErr(err)
			}
			if n == 0 || err != nil {
				break
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
