package sales

import (
	"context"
	"fmt"
	"time"

	"github.com/ryorin/ryorin/internal/db"
	"github.com/ryorin/ryorin/internal/errs"
	"github.com/ryorin/ryorin/internal/platform"
)

// Quota is a monthly target for a rep or a team: revenue (closed-won, in the
// workspace's base currency) and a number of won deals.
type Quota struct {
	Scope   string  `json:"scope" doc:"user or team"`
	ScopeID int64   `json:"scope_id" doc:"the user's or the team's id"`
	Month   string  `json:"month" doc:"YYYY-MM"`
	Revenue float64 `json:"revenue" doc:"target revenue in major units of the base currency"`
	Deals   int     `json:"deals" doc:"target number of won deals"`
}

// Progress is how a rep (and their team) stands against this month's quota.
type Progress struct {
	Month         string  `json:"month"`
	Currency      string  `json:"currency"`
	Target        Quota   `json:"target" doc:"zero when no quota is set"`
	WonRevenue    float64 `json:"won_revenue"`
	WonDeals      int     `json:"won_deals"`
	TeamTarget    Quota   `json:"team_target"`
	TeamRevenue   float64 `json:"team_won_revenue"`
	TeamWonDeals  int     `json:"team_won_deals"`
	HasTeam       bool    `json:"has_team"`
	HasAnyTargets bool    `json:"has_any_targets"`
}

// RevenuePct is the share of the revenue target reached, in percent.
func (p Progress) RevenuePct() int { return pct(p.WonRevenue, p.Target.Revenue) }

// TeamRevenuePct is the team's share of its revenue target, in percent.
func (p Progress) TeamRevenuePct() int { return pct(p.TeamRevenue, p.TeamTarget.Revenue) }

func pct(a, b float64) int {
	if b <= 0 {
		return 0
	}
	return int(a * 100 / b)
}

// SetQuota sets (or, with zero targets, clears to zero) a monthly quota.
// Admins and managers only.
func (s *Service) SetQuota(ctx context.Context, a platform.Actor, q Quota) (Quota, error) {
	if !a.Is(platform.RoleAdmin, platform.RoleManager) {
		return q, errs.E(errs.Forbidden, "", "only admins and managers set quotas")
	}
	if q.Scope != "user" && q.Scope != "team" {
		return q, errs.Field("scope", "must be user or team")
	}
	if _, err := time.Parse("2006-01", q.Month); err != nil {
		return q, errs.Field("month", "must be a month, YYYY-MM")
	}
	if q.Revenue < 0 || q.Revenue > 1e15 {
		return q, errs.Field("revenue", "must be 0 or more")
	}
	if q.Deals < 0 || q.Deals > 1_000_000 {
		return q, errs.Field("deals", "must be 0 or more")
	}
	var ws platform.Workspace
	err := s.DB.Write(ctx, "sales.SetQuota", func(tx *db.Tx) error {
		var err error
		if ws, err = platform.GetWorkspace(ctx, tx, a.WorkspaceID); err != nil {
			return err
		}
		if q.Scope == "user" {
			_, err = platform.GetUser(ctx, tx, a.WorkspaceID, q.ScopeID)
		} else {
			_, err = platform.GetTeam(ctx, tx, a.WorkspaceID, q.ScopeID)
		}
		if errs.Is(err, errs.NotFound) {
			return errs.Rule("scope_id", "%s %d does not exist", q.Scope, q.ScopeID)
		}
		if err != nil {
			return err
		}
		now := s.Clock.Now()
		if _, err := tx.ExecContext(ctx, `-- sales.SetQuota
			INSERT INTO sales_quotas (workspace_id, scope, scope_id, month, revenue, deals, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (workspace_id, scope, scope_id, month) DO UPDATE SET revenue = excluded.revenue, deals = excluded.deals,
				updated_at = excluded.updated_at`, a.WorkspaceID, q.Scope, q.ScopeID, q.Month, platform.ToMinor(q.Revenue, ws.BaseCurrency),
			q.Deals, db.Millis(now)); err != nil {
			return fmt.Errorf("sales.SetQuota: %w", err)
		}
		return platform.Audit(ctx, tx, a, now, "set", "quota", q.ScopeID, q)
	})
	return q, err
}

func quotaOf(ctx context.Context, q db.Querier, ws int64, scope string, id int64, month, currency string) (Quota, bool, error) {
	out := Quota{Scope: scope, ScopeID: id, Month: month}
	var rev int64
	err := q.QueryRowContext(ctx, `-- sales.quotaOf
		SELECT revenue, deals FROM sales_quotas WHERE workspace_id = ? AND scope = ? AND scope_id = ? AND month = ?`,
		ws, scope, id, month).Scan(&rev, &out.Deals)
	if db.NoRows(err) {
		return out, false, nil
	}
	if err != nil {
		return out, false, fmt.Errorf("sales.quotaOf: %w", err)
	}
	out.Revenue = platform.FromMinor(rev, currency)
	return out, true, nil
}

// QuotaProgress compares user's (and their team's) closed-won deals of the
// month holding now (in loc) with the quotas. Only deals in the base currency
// count.
func (s *Service) QuotaProgress(ctx context.Context, q db.Querier, ws int64, u platform.User, loc *time.Location) (Progress, error) {
	w, err := platform.GetWorkspace(ctx, q, ws)
	if err != nil {
		return Progress{}, err
	}
	now := s.Clock.Now().In(loc)
	start := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, loc)
	end := start.AddDate(0, 1, 0)
	p := Progress{Month: start.Format("2006-01"), Currency: w.BaseCurrency}
	var ok1, ok2 bool
	if p.Target, ok1, err = quotaOf(ctx, q, ws, "user", u.ID, p.Month, w.BaseCurrency); err != nil {
		return p, err
	}
	var won int64
	if err := q.QueryRowContext(ctx, `-- sales.QuotaProgress user
		SELECT COUNT(*), COALESCE(SUM(amount), 0) FROM deals
		WHERE workspace_id = ? AND owner_id = ? AND status = 'won' AND closed_at >= ? AND closed_at < ? AND currency = ?`,
		ws, u.ID, db.Millis(start), db.Millis(end), w.BaseCurrency).Scan(&p.WonDeals, &won); err != nil {
		return p, fmt.Errorf("sales.QuotaProgress: %w", err)
	}
	p.WonRevenue = platform.FromMinor(won, w.BaseCurrency)
	if u.TeamID != 0 {
		p.HasTeam = true
		if p.TeamTarget, ok2, err = quotaOf(ctx, q, ws, "team", u.TeamID, p.Month, w.BaseCurrency); err != nil {
			return p, err
		}
		if err := q.QueryRowContext(ctx, `-- sales.QuotaProgress team
			SELECT COUNT(*), COALESCE(SUM(d.amount), 0) FROM deals d JOIN users u ON u.workspace_id = d.workspace_id AND u.id = d.owner_id
			WHERE d.workspace_id = ? AND u.team_id = ? AND d.status = 'won' AND d.closed_at >= ? AND d.closed_at < ? AND d.currency = ?`,
			ws, u.TeamID, db.Millis(start), db.Millis(end), w.BaseCurrency).Scan(&p.TeamWonDeals, &won); err != nil {
			return p, fmt.Errorf("sales.QuotaProgress team: %w", err)
		}
		p.TeamRevenue = platform.FromMinor(won, w.BaseCurrency)
	}
	p.HasAnyTargets = ok1 || ok2
	return p, nil
}
