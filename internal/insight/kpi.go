// Package insight computes the KPIs both teams share. Each figure has one
// definition here — its formula in words and the query that counts it — so
// every screen and API answer shows the same number for the same period.
// Periods follow the workspace's time zone, fiscal year and week start;
// amounts are converted to the base currency by the rate table.
package insight

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/ryorin/ryorin/internal/db"
	"github.com/ryorin/ryorin/internal/errs"
	"github.com/ryorin/ryorin/internal/platform"
)

// Period is a half-open time range with the name it was asked by.
type Period struct {
	Name string    `json:"name" enum:"week,month,quarter,year,custom"`
	From time.Time `json:"from"`
	To   time.Time `json:"to"`
}

// PeriodOf resolves a named period containing now ("week", "month",
// "quarter" and "year" follow the workspace's week start and fiscal year),
// or shifted back by offset periods (1 = the one before).
func PeriodOf(w platform.Workspace, name string, offset int, now time.Time) (Period, error) {
	loc := w.Location()
	n := now.In(loc)
	day := time.Date(n.Year(), n.Month(), n.Day(), 0, 0, 0, 0, loc)
	var from time.Time
	var step func(t time.Time, k int) time.Time
	switch name {
	case "week":
		from = day.AddDate(0, 0, -((int(day.Weekday()) - w.WeekStart + 7) % 7))
		step = func(t time.Time, k int) time.Time { return t.AddDate(0, 0, 7*k) }
	case "month", "":
		name = "month"
		from = time.Date(n.Year(), n.Month(), 1, 0, 0, 0, 0, loc)
		step = func(t time.Time, k int) time.Time { return t.AddDate(0, k, 0) }
	case "quarter", "year":
		fy := w.FiscalYearStartMonth
		if fy < 1 || fy > 12 {
			fy = 1
		}
		months := 3
		if name == "year" {
			months = 12
		}
		// Months since the fiscal year's start, rounded down to the period.
		since := (int(n.Month()) - fy + 12) % 12
		start := time.Date(n.Year(), n.Month(), 1, 0, 0, 0, 0, loc).AddDate(0, -(since % months), 0)
		from = start
		step = func(t time.Time, k int) time.Time { return t.AddDate(0, months*k, 0) }
	default:
		return Period{}, errs.Field("period", "must be week, month, quarter or year")
	}
	if offset < 0 || offset > 120 {
		return Period{}, errs.Field("offset", "must be 0 to 120")
	}
	from = step(from, -offset)
	return Period{Name: name, From: from, To: step(from, 1)}, nil
}

// KPI is one figure for a period, with how it is computed.
type KPI struct {
	Key     string  `json:"key"`
	Value   float64 `json:"value"`
	Unit    string  `json:"unit" enum:"count,ratio,money,multiple"`
	Formula string  `json:"formula" doc:"how the figure is computed, in English"`
	// Of is the denominator of a ratio (0 when not a ratio or empty).
	Of float64 `json:"of,omitempty"`
	// Unfiltered is set when the filter asked for does not narrow this
	// figure (e.g. a pipeline for new contacts; CAC and LTV for any filter).
	Unfiltered bool `json:"unfiltered,omitempty"`
}

type def struct {
	key, unit, formula string
	// query counts in [from, to); for ratios a second query is the denominator.
	num, den string
	// on is what the query counts (contacts, lifecycle, deals, activities),
	// which says how a filter narrows it.
	on string
}

// defs are the KPIs defined once. Each query takes (workspace, from, to).
var defs = []def{
	{key: "new_contacts", unit: "count", formula: "contacts created in the period",
		num: `SELECT COUNT(*) FROM contacts WHERE workspace_id = ? AND created_at >= ? AND created_at < ?`, on: "contacts"},
	{key: "new_mqls", unit: "count", formula: "contacts that became MQL in the period (each once)",
		num: `SELECT COUNT(DISTINCT contact_id) FROM lifecycle_history WHERE workspace_id = ? AND to_stage = 'mql' AND at >= ? AND at < ?`, on: "lifecycle"},
	{key: "new_sqls", unit: "count", formula: "contacts sales accepted (became SQL) in the period",
		num: `SELECT COUNT(DISTINCT contact_id) FROM lifecycle_history WHERE workspace_id = ? AND to_stage = 'sql' AND at >= ? AND at < ?`, on: "lifecycle"},
	{key: "mql_to_sql", unit: "ratio", formula: "SQLs ÷ MQLs in the period",
		num: `SELECT COUNT(DISTINCT contact_id) FROM lifecycle_history WHERE workspace_id = ? AND to_stage = 'sql' AND at >= ? AND at < ?`,
		den: `SELECT COUNT(DISTINCT contact_id) FROM lifecycle_history WHERE workspace_id = ? AND to_stage = 'mql' AND at >= ? AND at < ?`, on: "lifecycle"},
	{key: "deals_created", unit: "count", formula: "deals created in the period (商談数)",
		num: `SELECT COUNT(*) FROM deals WHERE workspace_id = ? AND created_at >= ? AND created_at < ?`, on: "deals"},
	{key: "deals_won", unit: "count", formula: "deals won in the period",
		num: `SELECT COUNT(*) FROM deals WHERE workspace_id = ? AND status = 'won' AND closed_at >= ? AND closed_at < ?`, on: "deals"},
	{key: "win_rate", unit: "ratio", formula: "deals won ÷ deals won or lost in the period",
		num: `SELECT COUNT(*) FROM deals WHERE workspace_id = ? AND status = 'won' AND closed_at >= ? AND closed_at < ?`,
		den: `SELECT COUNT(*) FROM deals WHERE workspace_id = ? AND status IN ('won', 'lost') AND closed_at >= ? AND closed_at < ?`, on: "deals"},
	{key: "calls", unit: "count", formula: "calls logged in the period (架電数)",
		num: `SELECT COUNT(*) FROM activities WHERE workspace_id = ? AND kind = 'call' AND occurred_at >= ? AND occurred_at < ?`, on: "activities"},
	{key: "connect_rate", unit: "ratio", formula: "calls that reached the person (担当者接続 or アポ獲得) ÷ calls (通電率)",
		num: `SELECT COUNT(*) FROM activities WHERE workspace_id = ? AND kind = 'call' AND call_outcome IN ('connected', 'appointment') AND occurred_at >= ? AND occurred_at < ?`,
		den: `SELECT COUNT(*) FROM activities WHERE workspace_id = ? AND kind = 'call' AND occurred_at >= ? AND occurred_at < ?`, on: "activities"},
	{key: "appointments", unit: "count", formula: "calls with the outcome アポ獲得 in the period (アポ数)",
		num: `SELECT COUNT(*) FROM activities WHERE workspace_id = ? AND kind = 'call' AND call_outcome = 'appointment' AND occurred_at >= ? AND occurred_at < ?`, on: "activities"},
}

// Compute returns every KPI for a period, revenue and average deal size
// last (converted to the base currency at each deal's close date).
func Compute(ctx context.Context, q db.Querier, w platform.Workspace, p Period) ([]KPI, error) {
	return ComputeFiltered(ctx, q, w, p, KPIFilter{})
}

// ComputeFiltered is Compute narrowed by a filter. A figure the filter does
// not fully apply to (see FilterFormula) is computed as far as it applies
// and marked Unfiltered.
func ComputeFiltered(ctx context.Context, q db.Querier, w platform.Workspace, p Period, f KPIFilter) ([]KPI, error) {
	return ComputeOnly(ctx, q, w, p, f, nil)
}

// ComputeOnly is ComputeFiltered for the KPIs named in keys only (nil: all),
// so a screen that shows a few cards runs only their queries.
func ComputeOnly(ctx context.Context, q db.Querier, w platform.Workspace, p Period, f KPIFilter, keys []string) ([]KPI, error) {
	return cached(ctx, q, cacheKey("kpis", w.ID, p.From.UnixMilli(), p.To.UnixMilli(), f, keys), func(ctx context.Context) ([]KPI, error) {
		return computeOnly(ctx, q, w, p, f, keys)
	})
}

func computeOnly(ctx context.Context, q db.Querier, w platform.Workspace, p Period, f KPIFilter, keys []string) ([]KPI, error) {
	need := func(ks ...string) bool {
		if keys == nil {
			return true
		}
		for _, k := range ks {
			if slices.Contains(keys, k) {
				return true
			}
		}
		return false
	}
	from, to := db.Millis(p.From), db.Millis(p.To)
	out := make([]KPI, 0, len(defs)+2)
	// Several figures share a count (MQLs are new_mqls and mql_to_sql's
	// denominator, won deals are deals_won and win_rate's numerator…): each
	// distinct query runs once.
	counted := map[string]float64{}
	count := func(query string, args []any) (float64, error) {
		if v, ok := counted[query]; ok {
			return v, nil
		}
		var v float64
		if err := q.QueryRowContext(ctx, query, args...).Scan(&v); err != nil {
			return 0, err
		}
		counted[query] = v
		return v, nil
	}
	for _, d := range defs {
		if !need(d.key) {
			continue
		}
		cond, cargs, applies := f.cond(d.on, w.ID)
		args := append([]any{w.ID, from, to}, cargs...)
		num, err := count(d.num+cond, args)
		if err != nil {
			return nil, fmt.Errorf("insight %s: %w", d.key, err)
		}
		k := KPI{Key: d.key, Unit: d.unit, Formula: d.formula, Value: num, Unfiltered: !applies}
		if d.den != "" {
			den, err := count(d.den+cond, args)
			if err != nil {
				return nil, fmt.Errorf("insight %s: %w", d.key, err)
			}
			k.Of, k.Value = den, 0
			if den > 0 {
				k.Value = num / den
			}
		}
		out = append(out, k)
	}
	if need("revenue", "avg_deal_size") {
		var revenue int64
		var counted float64
		if err := eachWon(ctx, q, w, from, to, f, func(_, base int64) {
			revenue += base
			counted++
		}); err != nil {
			return nil, err
		}
		major := platform.FromMinor(revenue, w.BaseCurrency)
		out = append(out, KPI{Key: "revenue", Unit: "money", Value: major, Formula: "amounts of deals won in the period, in the base currency"})
		avg := KPI{Key: "avg_deal_size", Unit: "money", Formula: "revenue ÷ deals won (those with a known exchange rate)", Of: counted}
		if counted > 0 {
			avg.Value = major / counted
		}
		out = append(out, avg)
	}
	if need("social_engagements", "social_engagement_rate") {
		so, err := SocialOf(ctx, q, w, p, f)
		if err != nil {
			return nil, err
		}
		out = append(out,
			KPI{Key: "social_engagements", Unit: "count", Value: float64(so.Total.Engagements), Formula: SocialFormula, Unfiltered: so.Unfiltered},
			KPI{Key: "social_engagement_rate", Unit: "ratio", Value: so.Total.Rate(), Of: float64(so.Total.Impressions), Formula: SocialFormula, Unfiltered: so.Unfiltered})
	}
	cur, whole := w.BaseCurrency, !f.Empty()
	if need("cac", "ltv", "ltv_to_cac") {
		e, err := EconomicsOf(ctx, q, w, p)
		if err != nil {
			return nil, err
		}
		out = append(out,
			KPI{Key: "cac", Unit: "money", Value: platform.FromMinor(e.CAC, cur), Of: float64(e.NewCustomers), Unfiltered: whole,
				Formula: "(marketing spend + sales cost of the months starting in the period) ÷ new-business deals won in the period"},
			KPI{Key: "ltv", Unit: "money", Value: platform.FromMinor(e.LTV, cur), Unfiltered: whole,
				Formula: "ARPA (average yearly value of new-business deals won in the last 12 months) × lifetime (1 ÷ (1 − renewal rate), at most 10 years; 1 year without renewal history)"},
			KPI{Key: "ltv_to_cac", Unit: "multiple", Value: e.LTVToCAC, Formula: "LTV ÷ CAC", Unfiltered: whole})
	}
	if need("renewal_rate", "repeat_rate") {
		as, err := AfterSaleOf(ctx, q, w, p)
		if err != nil {
			return nil, err
		}
		out = append(out,
			KPI{Key: "renewal_rate", Unit: "ratio", Value: as.RenewalRate, Of: float64(as.RenewalsDecided), Formula: RenewalRateFormula, Unfiltered: whole},
			KPI{Key: "repeat_rate", Unit: "ratio", Value: as.RepeatRate, Of: float64(as.Customers), Formula: RepeatRateFormula, Unfiltered: whole})
	}
	return out, nil
}

// eachWon calls fn with the close time and the base-currency amount of each
// deal won in [from, to) that f keeps; a deal in a currency without a rate
// for its day is left out, not guessed. The revenue KPI and its trend both
// count revenue this way.
func eachWon(ctx context.Context, q db.Querier, w platform.Workspace, from, to int64, f KPIFilter, fn func(at, base int64)) error {
	cond, args, _ := f.cond("deals", w.ID)
	type won struct {
		amount, at int64
		cur        string
	}
	var list []won
	err := scanRows(ctx, q, func(s scanner) error {
		var x won
		if err := s.Scan(&x.amount, &x.cur, &x.at); err != nil {
			return err
		}
		list = append(list, x)
		return nil
	}, `SELECT amount, currency, closed_at FROM deals WHERE workspace_id = ? AND status = 'won' AND closed_at >= ? AND closed_at < ?`+cond,
		append([]any{w.ID, from, to}, args...)...)
	if err != nil {
		return fmt.Errorf("insight won deals: %w", err)
	}
	for _, x := range list {
		base, err := platform.ToBase(ctx, q, w, x.amount, x.cur, db.Time(x.at).In(w.Location()).Format(time.DateOnly))
		if err != nil {
			continue
		}
		fn(x.at, base)
	}
	return nil
}
