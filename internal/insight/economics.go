package insight

import (
	"context"
	"fmt"
	"time"

	"github.com/ryorin/ryorin/internal/db"
	"github.com/ryorin/ryorin/internal/platform"
)

// Economics are the unit economics of a period: what winning a customer
// cost and what a customer is worth (ADR 0013 explains the LTV formula).
type Economics struct {
	// Spend and SalesCost are entered per month; the months that start in
	// the period count. Minor units of the base currency.
	Spend     int64 `json:"spend"`
	SalesCost int64 `json:"sales_cost"`
	// NewCustomers are deals of type "new" won in the period.
	NewCustomers int `json:"new_customers"`
	// CAC is (spend + sales cost) ÷ new customers (0 without new customers).
	CAC int64 `json:"cac"`
	// ARPA is the average annual value of the new-business deals won in
	// the twelve months up to the period's end: a recurring amount made
	// yearly, else the one-time amount.
	ARPA int64 `json:"arpa"`
	// Retention is renewals won ÷ renewals decided in those twelve months;
	// RenewalsDecided says how many there were.
	Retention       float64 `json:"retention"`
	RenewalsDecided int     `json:"renewals_decided"`
	// LifetimeYears is 1 ÷ (1 − retention), at most 10; 1 when no renewal
	// was decided yet (only what is known).
	LifetimeYears float64 `json:"lifetime_years"`
	// LTV is ARPA × lifetime.
	LTV int64 `json:"ltv"`
	// LTVToCAC is LTV ÷ CAC (0 without CAC).
	LTVToCAC    float64 `json:"ltv_to_cac"`
	MissingRate int     `json:"missing_rate,omitempty"`
}

// MaxLifetimeYears caps the lifetime when almost every customer renews.
const MaxLifetimeYears = 10

// EconomicsOf computes CAC and LTV for a period.
func EconomicsOf(ctx context.Context, q db.Querier, w platform.Workspace, p Period) (Economics, error) {
	var e Economics
	months := monthsIn(w, p)
	if len(months) > 0 {
		for _, src := range []struct {
			query string
			dst   *int64
		}{{`SELECT month, amount, currency FROM spend_entries WHERE workspace_id = ? AND month >= ? AND month <= ?`, &e.Spend},
			{`SELECT month, amount, currency FROM sales_costs WHERE workspace_id = ? AND month >= ? AND month <= ?`, &e.SalesCost}} {
			if err := scanRows(ctx, q, func(r scanner) error {
				var month, cur string
				var amount int64
				if err := r.Scan(&month, &amount, &cur); err != nil {
					return err
				}
				b, err := platform.ToBase(ctx, q, w, amount, cur, month+"-01")
				if err != nil {
					e.MissingRate++
					return nil
				}
				*src.dst += b
				return nil
			}, src.query, w.ID, months[0], months[len(months)-1]); err != nil {
				return e, fmt.Errorf("economics costs: %w", err)
			}
		}
	}
	if err := q.QueryRowContext(ctx, `SELECT COUNT(*) FROM deals WHERE workspace_id = ? AND status = 'won' AND deal_type = 'new' AND closed_at >= ? AND closed_at < ?`,
		w.ID, db.Millis(p.From), db.Millis(p.To)).Scan(&e.NewCustomers); err != nil {
		return e, fmt.Errorf("economics customers: %w", err)
	}
	if e.NewCustomers > 0 {
		e.CAC = (e.Spend + e.SalesCost) / int64(e.NewCustomers)
	}
	yearAgo := db.Millis(p.To.AddDate(-1, 0, 0))
	var total int64
	var n int
	if err := scanRows(ctx, q, func(r scanner) error {
		var amount, rec, closed int64
		var interval, cur string
		if err := r.Scan(&amount, &rec, &interval, &cur, &closed); err != nil {
			return err
		}
		yearly := amount
		switch interval {
		case "month":
			yearly = rec * 12
		case "year":
			yearly = rec
		}
		b, err := platform.ToBase(ctx, q, w, yearly, cur, db.Time(closed).In(w.Location()).Format(time.DateOnly))
		if err != nil {
			e.MissingRate++
			return nil
		}
		total += b
		n++
		return nil
	}, `SELECT amount, recurring_amount, recurring_interval, currency, closed_at FROM deals WHERE workspace_id = ? AND status = 'won' AND deal_type = 'new' AND closed_at >= ? AND closed_at < ?`,
		w.ID, yearAgo, db.Millis(p.To)); err != nil {
		return e, fmt.Errorf("economics ARPA: %w", err)
	}
	if n > 0 {
		e.ARPA = total / int64(n)
	}
	var won int
	if err := q.QueryRowContext(ctx, `SELECT COUNT(*), COALESCE(SUM(CASE WHEN status = 'won' THEN 1 ELSE 0 END), 0) FROM deals
		WHERE workspace_id = ? AND deal_type = 'renewal' AND status IN ('won', 'lost') AND closed_at >= ? AND closed_at < ?`,
		w.ID, yearAgo, db.Millis(p.To)).Scan(&e.RenewalsDecided, &won); err != nil {
		return e, fmt.Errorf("economics renewals: %w", err)
	}
	e.LifetimeYears = 1
	if e.RenewalsDecided > 0 {
		e.Retention = float64(won) / float64(e.RenewalsDecided)
		if churn := 1 - e.Retention; churn > 1.0/MaxLifetimeYears {
			e.LifetimeYears = 1 / churn
		} else {
			e.LifetimeYears = MaxLifetimeYears
		}
	}
	e.LTV = int64(float64(e.ARPA) * e.LifetimeYears)
	if e.CAC > 0 {
		e.LTVToCAC = float64(e.LTV) / float64(e.CAC)
	}
	return e, nil
}
