package crm

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"time"

	"github.com/ryorin/ryorin/internal/db"
	"github.com/ryorin/ryorin/internal/errs"
	"github.com/ryorin/ryorin/internal/platform"
)

// ExitCriteria are the checks a stage may require before a deal leaves it
// for a later stage: an activity of a kind logged on the deal, a contact in
// a role, an amount, a close date, a quote sent to the customer (a
// quote_sends row, written by sales/quotemail).
var ExitCriteria = []string{"activity:call", "activity:meeting", "activity:demo", "activity:email",
	"contact_role:decision_maker", "contact_role:champion", "amount", "close_date", "quote_sent"}

// StageGuide is guided selling for one pipeline stage.
type StageGuide struct {
	StageID  int64    `json:"stage_id"`
	Guidance string   `json:"guidance,omitempty" doc:"what the rep should do in this stage"`
	Criteria []string `json:"criteria,omitempty" doc:"exit criteria checked before a deal moves to a later stage"`
	RotDays  int      `json:"rot_days,omitempty" doc:"days without activity after which a deal here is rotting (0: never)"`
}

// SetStageGuide stores a stage's guide (admins and managers).
func (s *Service) SetStageGuide(ctx context.Context, a platform.Actor, g StageGuide) (StageGuide, error) {
	if !a.Is(platform.RoleAdmin, platform.RoleManager) {
		return g, errs.E(errs.Forbidden, "", "only admins and managers change stage guidance")
	}
	g.Guidance = strings.TrimSpace(g.Guidance)
	if len(g.Guidance) > 5000 {
		return g, errs.Field("guidance", "is longer than 5,000 bytes")
	}
	for _, c := range g.Criteria {
		if !slices.Contains(ExitCriteria, c) {
			return g, errs.Field("criteria", "unknown criterion %q", c)
		}
	}
	if g.RotDays < 0 || g.RotDays > 365 {
		return g, errs.Field("rot_days", "must be 0 to 365")
	}
	crit, _ := json.Marshal(g.Criteria)
	now := s.Clock.Now()
	err := s.DB.Write(ctx, "crm.SetStageGuide", func(tx *db.Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM pipeline_stages WHERE workspace_id = ? AND id = ?`, a.WorkspaceID, g.StageID).Scan(&n); err != nil {
			return err
		}
		if n == 0 {
			return errs.NotFoundf("stage %d not found", g.StageID)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO stage_guides (workspace_id, stage_id, guidance, criteria, rot_days, updated_at) VALUES (?, ?, ?, ?, ?, ?)
			ON CONFLICT (workspace_id, stage_id) DO UPDATE SET guidance = excluded.guidance, criteria = excluded.criteria, rot_days = excluded.rot_days,
				updated_at = excluded.updated_at`, a.WorkspaceID, g.StageID, g.Guidance, string(crit), g.RotDays, db.Millis(now)); err != nil {
			return err
		}
		return platform.Audit(ctx, tx, a, now, "update", "stage_guide", g.StageID, g)
	})
	return g, err
}

// StageGuides returns every stage's guide by stage id.
func (s *Service) StageGuides(ctx context.Context, q db.Querier, ws int64) (map[int64]StageGuide, error) {
	rows, err := q.QueryContext(ctx, `SELECT stage_id, guidance, criteria, rot_days FROM stage_guides WHERE workspace_id = ?`, ws)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[int64]StageGuide{}
	for rows.Next() {
		var g StageGuide
		var crit *string
		if err := rows.Scan(&g.StageID, &g.Guidance, &crit, &g.RotDays); err != nil {
			return nil, err
		}
		if crit != nil {
			_ = json.Unmarshal([]byte(*crit), &g.Criteria)
		}
		out[g.StageID] = g
	}
	return out, rows.Err()
}

// unmetCriteria lists the exit criteria of a deal's stage it does not meet.
func (s *Service) unmetCriteria(ctx context.Context, q db.Querier, ws int64, d Deal, stageID int64) ([]string, error) {
	var crit *string
	err := q.QueryRowContext(ctx, `SELECT criteria FROM stage_guides WHERE workspace_id = ? AND stage_id = ?`, ws, stageID).Scan(&crit)
	if db.NoRows(err) || crit == nil {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var list []string
	_ = json.Unmarshal([]byte(*crit), &list)
	var missing []string
	for _, c := range list {
		ok := false
		switch {
		case c == "amount":
			ok = d.Amount > 0
		case c == "close_date":
			ok = d.CloseDate != ""
		case c == "quote_sent":
			var n int
			if err := q.QueryRowContext(ctx, `SELECT COUNT(*) FROM quote_sends WHERE workspace_id = ? AND deal_id = ?`, ws, d.ID).Scan(&n); err != nil {
				return nil, err
			}
			ok = n > 0
		case strings.HasPrefix(c, "activity:"):
			var n int
			if err := q.QueryRowContext(ctx, `SELECT COUNT(*) FROM activities WHERE workspace_id = ? AND deal_id = ? AND kind = ?`,
				ws, d.ID, strings.TrimPrefix(c, "activity:")).Scan(&n); err != nil {
				return nil, err
			}
			ok = n > 0
		case strings.HasPrefix(c, "contact_role:"):
			role := strings.TrimPrefix(c, "contact_role:")
			for _, dc := range d.Contacts {
				ok = ok || dc.Role == role
			}
		}
		if !ok {
			missing = append(missing, c)
		}
	}
	return missing, nil
}

// UnmetCriteria is unmetCriteria for screens: what a deal still lacks to
// leave its stage.
func (s *Service) UnmetCriteria(ctx context.Context, q db.Querier, ws int64, d Deal) ([]string, error) {
	return s.unmetCriteria(ctx, q, ws, d, d.StageID)
}

// Rotting reports whether an open deal has gone without activity past its
// stage's limit, and for how many days.
func Rotting(d Deal, g StageGuide, now time.Time) (bool, int) {
	if d.Status != "open" || g.RotDays <= 0 {
		return false, 0
	}
	last := d.StageChangedAt
	if d.LastActivityAt != nil && d.LastActivityAt.After(last) {
		last = *d.LastActivityAt
	}
	days := int(now.Sub(last).Hours() / 24)
	return days >= g.RotDays, days
}

// criteriaError says which exit criteria stop a move.
func criteriaError(missing []string) error {
	return errs.Rule("stage_id", "exit criteria not met: %s", strings.Join(missing, ", "))
}
