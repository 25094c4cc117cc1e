package lead

import (
	"context"
	"fmt"
	"strings"

	"github.com/ryorin/ryorin/internal/crm"
	"github.com/ryorin/ryorin/internal/db"
	"github.com/ryorin/ryorin/internal/errs"
	"github.com/ryorin/ryorin/internal/lead/rules"
	"github.com/ryorin/ryorin/internal/platform"
)

// RoutingRule sends MQLs whose facts meet Condition to a team.
type RoutingRule struct {
	ID        int64  `json:"id"`
	Position  int    `json:"position"`
	Name      string `json:"name"`
	Condition string `json:"condition" doc:"a rule, e.g. prefecture == '大阪府'"`
	TeamID    int64  `json:"team_id"`
}

// TeamRouting says how a team shares leads out.
type TeamRouting struct {
	TeamID   int64  `json:"team_id"`
	Method   string `json:"method" doc:"round_robin or least_loaded"`
	Capacity int    `json:"capacity" doc:"most open MQLs a rep may hold; 0 for no limit"`
}

// Assignment is who a lead went to, and why.
type Assignment struct {
	OwnerID int64  `json:"owner_id"`
	Reason  string `json:"reason"`
}

// SaveRoutingRule adds a rule (admins and managers).
func (s *Service) SaveRoutingRule(ctx context.Context, a platform.Actor, r RoutingRule) (RoutingRule, error) {
	if !a.Is(platform.RoleAdmin, platform.RoleManager) {
		return r, errs.E(errs.Forbidden, "", "only admins and managers change lead routing")
	}
	r.Name = strings.TrimSpace(r.Name)
	if r.Name == "" {
		return r, errs.Field("name", "is required")
	}
	if _, err := rules.Compile(r.Condition, rules.Condition); err != nil {
		if e, ok := err.(*rules.Error); ok {
			return r, errs.Rule("condition", "line %d, column %d: %s", e.Line, e.Column, e.Message)
		}
		return r, err
	}
	now := s.Clock.Now()
	err := s.DB.Write(ctx, "lead.SaveRoutingRule", func(tx *db.Tx) error {
		if _, err := platform.GetTeam(ctx, tx, a.WorkspaceID, r.TeamID); err != nil {
			return errs.Rule("team_id", "team %d does not exist", r.TeamID)
		}
		err := tx.QueryRowContext(ctx, `-- lead.SaveRoutingRule
			INSERT INTO routing_rules (workspace_id, position, name, condition, team_id, created_at) VALUES (?, ?, ?, ?, ?, ?) RETURNING id`,
			a.WorkspaceID, r.Position, r.Name, r.Condition, r.TeamID, db.Millis(now)).Scan(&r.ID)
		if err != nil {
			return fmt.Errorf("lead.SaveRoutingRule: %w", err)
		}
		return platform.Audit(ctx, tx, a, now, "create", "routing_rule", r.ID, r)
	})
	return r, err
}

// SetTeamRouting sets how a team shares leads (admins and managers).
func (s *Service) SetTeamRouting(ctx context.Context, a platform.Actor, t TeamRouting) error {
	if !a.Is(platform.RoleAdmin, platform.RoleManager) {
		return errs.E(errs.Forbidden, "", "only admins and managers change lead routing")
	}
	if t.Method != "round_robin" && t.Method != "least_loaded" {
		return errs.Field("method", "must be round_robin or least_loaded")
	}
	if t.Capacity < 0 {
		return errs.Field("capacity", "must not be negative")
	}
	return s.DB.Write(ctx, "lead.SetTeamRouting", func(tx *db.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO routing_teams (workspace_id, team_id, method, capacity) VALUES (?, ?, ?, ?)
			ON CONFLICT (workspace_id, team_id) DO UPDATE SET method = excluded.method, capacity = excluded.capacity`,
			a.WorkspaceID, t.TeamID, t.Method, t.Capacity)
		return err
	})
}

// route picks an owner for a new MQL inside tx: the account's owner when the
// company has one; else the first routing rule that matches sends it to a
// team, where the next rep by the team's method gets it, skipping reps who
// are out of office or at capacity. An empty Assignment means nobody fits.
func (s *Service) route(ctx context.Context, tx *db.Tx, ws int64, ct crm.Contact, co *crm.Company, f rules.Facts) (Assignment, error) {
	if co != nil && co.OwnerID != 0 {
		var active bool
		err := tx.QueryRowContext(ctx, `SELECT active AND NOT out_of_office FROM users WHERE workspace_id = ? AND id = ?`, ws, co.OwnerID).Scan(&active)
		if err == nil && active {
			return Assignment{OwnerID: co.OwnerID, Reason: "account owner"}, nil
		}
	}
	rows, err := tx.QueryContext(ctx, `-- lead.route
		SELECT name, condition, team_id FROM routing_rules WHERE workspace_id = ? ORDER BY position, id`, ws)
	if err != nil {
		return Assignment{}, err
	}
	type rr struct {
		name, cond string
		team       int64
	}
	var list []rr
	for rows.Next() {
		var r rr
		if err := rows.Scan(&r.name, &r.cond, &r.team); err != nil {
			rows.Close()
			return Assignment{}, err
		}
		list = append(list, r)
	}
	rows.Close()
	for _, r := range list {
		p, err := rules.Compile(r.cond, rules.Condition)
		if err != nil {
			continue // a rule saved before a language change; skip rather than block routing
		}
		ok, err := p.Bool(f)
		if err != nil || !ok {
			continue
		}
		owner, err := s.pickRep(ctx, tx, ws, r.team, 0)
		if err != nil {
			return Assignment{}, err
		}
		if owner != 0 {
			return Assignment{OwnerID: owner, Reason: "rule: " + r.name}, nil
		}
	}
	return Assignment{}, nil
}

// pickRep chooses the next rep of a team for a lead, never the one excluded
// (the rep a lead is being taken from).
func (s *Service) pickRep(ctx context.Context, tx *db.Tx, ws, team, exclude int64) (int64, error) {
	method, capacity := "round_robin", 0
	err := tx.QueryRowContext(ctx, `SELECT method, capacity FROM routing_teams WHERE workspace_id = ? AND team_id = ?`, ws, team).Scan(&method, &capacity)
	if err != nil && !db.NoRows(err) {
		return 0, err
	}
	rows, err := tx.QueryContext(ctx, `-- lead.pickRep
		SELECT u.id, (SELECT COUNT(*) FROM contacts c WHERE c.workspace_id = u.workspace_id AND c.owner_id = u.id AND c.lifecycle_stage = 'mql')
		FROM users u WHERE u.workspace_id = ? AND u.team_id = ? AND u.active = TRUE AND u.out_of_office = FALSE ORDER BY u.id`, ws, team)
	if err != nil {
		return 0, err
	}
	type rep struct{ id, load int64 }
	var reps []rep
	for rows.Next() {
		var r rep
		if err := rows.Scan(&r.id, &r.load); err != nil {
			rows.Close()
			return 0, err
		}
		if r.id != exclude && (capacity == 0 || r.load < int64(capacity)) {
			reps = append(reps, r)
		}
	}
	rows.Close()
	if len(reps) == 0 {
		return 0, nil
	}
	if method == "least_loaded" {
		best := reps[0]
		for _, r := range reps[1:] {
			if r.load < best.load {
				best = r
			}
		}
		return best.id, nil
	}
	// Round-robin: the first rep after the one who got the last lead.
	mark := fmt.Sprintf("route.rr.%d", team)
	var last int64
	if err := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(value), 0) FROM work_marks WHERE workspace_id = ? AND name = ?`, ws, mark).Scan(&last); err != nil {
		return 0, err
	}
	next := reps[0]
	for _, r := range reps {
		if r.id > last {
			next = r
			break
		}
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO work_marks (workspace_id, name, value) VALUES (?, ?, ?)
		ON CONFLICT (workspace_id, name) DO UPDATE SET value = excluded.value`, ws, mark, next.id)
	return next.id, err
}

// RoutingRules lists the rules in the order they are tried.
func (s *Service) RoutingRules(ctx context.Context, q db.Querier, ws int64) ([]RoutingRule, error) {
	rows, err := q.QueryContext(ctx, `SELECT id, position, name, condition, team_id FROM routing_rules WHERE workspace_id = ? ORDER BY position, id`, ws)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []RoutingRule{}
	for rows.Next() {
		var r RoutingRule
		if err := rows.Scan(&r.ID, &r.Position, &r.Name, &r.Condition, &r.TeamID); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// DeleteRoutingRule removes a rule (admins and managers).
func (s *Service) DeleteRoutingRule(ctx context.Context, a platform.Actor, id int64) error {
	if !a.Is(platform.RoleAdmin, platform.RoleManager) {
		return errs.E(errs.Forbidden, "", "only admins and managers change lead routing")
	}
	return s.DB.Write(ctx, "lead.DeleteRoutingRule", func(tx *db.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM routing_rules WHERE workspace_id = ? AND id = ?`, a.WorkspaceID, id)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return errs.NotFoundf("routing rule %d not found", id)
		}
		return platform.Audit(ctx, tx, a, s.Clock.Now(), "delete", "routing_rule", id, nil)
	})
}

// TeamRoutings returns each team's lead-sharing settings (teams without
// any share round-robin with no capacity limit).
func (s *Service) TeamRoutings(ctx context.Context, q db.Querier, ws int64) (map[int64]TeamRouting, error) {
	rows, err := q.QueryContext(ctx, `SELECT team_id, method, capacity FROM routing_teams WHERE workspace_id = ?`, ws)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[int64]TeamRouting{}
	for rows.Next() {
		var t TeamRouting
		if err := rows.Scan(&t.TeamID, &t.Method, &t.Capacity); err != nil {
			return nil, err
		}
		out[t.TeamID] = t
	}
	return out, rows.Err()
}
