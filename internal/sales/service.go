package sales

import (
	"context"
	"fmt"

	"github.com/ryorin/ryorin/internal/clock"
	"github.com/ryorin/ryorin/internal/crm"
	"github.com/ryorin/ryorin/internal/db"
	"github.com/ryorin/ryorin/internal/errs"
	"github.com/ryorin/ryorin/internal/lead"
	"github.com/ryorin/ryorin/internal/platform"
)

// Service runs the sales workspace's use cases.
type Service struct {
	DB    *db.DB
	Clock clock.Clock
	// Lead gives the follow-up queue; without it the today page has no
	// lead block.
	Lead *lead.Service
	// Notify tells reps about manager comments; optional in tests.
	Notify *platform.Notifier
	// CRM updates a deal's amount when its line items change, in the same
	// transaction. New sets one up; wiring replaces it with the shared one.
	CRM *crm.Service
}

// New returns a Service.
func New(d *db.DB, c clock.Clock, l *lead.Service, n *platform.Notifier) *Service {
	return &Service{DB: d, Clock: clock.Millis(c), Lead: l, Notify: n, CRM: crm.New(d, c)}
}

// DefaultStaleDays is how long an open deal may go without activity before
// the today page lists it, unless the workspace says otherwise.
const DefaultStaleDays = 14

// Settings are the workspace's sales settings.
type Settings struct {
	StaleDealDays int `json:"stale_deal_days" doc:"days without activity after which an open deal is listed as stale (1–365, default 14)"`
	// RenewalLeadDays is how long before a renewal date its renewal deal
	// and task are created; 0 in a change keeps the current value.
	RenewalLeadDays int `json:"renewal_lead_days,omitempty" doc:"days before a won recurring deal's renewal date that its renewal deal and task are created (1–365, default 90; 0 or absent keeps the current value)"`
}

// GetSettings returns the workspace's sales settings (defaults when unset).
func (s *Service) GetSettings(ctx context.Context, q db.Querier, ws int64) (Settings, error) {
	st := Settings{StaleDealDays: DefaultStaleDays, RenewalLeadDays: DefaultRenewalLeadDays}
	err := q.QueryRowContext(ctx, `-- sales.GetSettings
		SELECT stale_deal_days, renewal_lead_days FROM sales_settings WHERE workspace_id = ?`, ws).Scan(&st.StaleDealDays, &st.RenewalLeadDays)
	if err != nil && !db.NoRows(err) {
		return st, fmt.Errorf("sales.GetSettings: %w", err)
	}
	return st, nil
}

// SaveSettings changes the workspace's sales settings (admins and managers).
func (s *Service) SaveSettings(ctx context.Context, a platform.Actor, st Settings) (Settings, error) {
	if !a.Is(platform.RoleAdmin, platform.RoleManager) {
		return st, errs.E(errs.Forbidden, "", "only admins and managers change sales settings")
	}
	if st.StaleDealDays < 1 || st.StaleDealDays > 365 {
		return st, errs.Field("stale_deal_days", "must be 1 to 365")
	}
	if st.RenewalLeadDays < 0 || st.RenewalLeadDays > 365 {
		return st, errs.Field("renewal_lead_days", "must be 1 to 365")
	}
	err := s.DB.Write(ctx, "sales.SaveSettings", func(tx *db.Tx) error {
		if st.RenewalLeadDays == 0 {
			cur, err := s.GetSettings(ctx, tx, a.WorkspaceID)
			if err != nil {
				return err
			}
			st.RenewalLeadDays = cur.RenewalLeadDays
		}
		if _, err := tx.ExecContext(ctx, `-- sales.SaveSettings
			INSERT INTO sales_settings (workspace_id, stale_deal_days, renewal_lead_days) VALUES (?, ?, ?)
			ON CONFLICT (workspace_id) DO UPDATE SET stale_deal_days = excluded.stale_deal_days, renewal_lead_days = excluded.renewal_lead_days`,
			a.WorkspaceID, st.StaleDealDays, st.RenewalLeadDays); err != nil {
			return fmt.Errorf("sales.SaveSettings: %w", err)
		}
		return platform.Audit(ctx, tx, a, s.Clock.Now(), "update", "sales_settings", a.WorkspaceID, st)
	})
	return st, err
}
