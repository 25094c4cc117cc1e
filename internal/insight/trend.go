package insight

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/ryorin/ryorin/internal/db"
	"github.com/ryorin/ryorin/internal/platform"
)

// TrendKeys are the figures a trend can follow, each counted as the KPI of
// the same key counts it (new contacts, new MQLs and SQLs each contact once
// per period, deals won by close time, revenue in the base currency).
var TrendKeys = []string{"new_contacts", "new_mqls", "new_sqls", "deals_won", "revenue"}

// Trend is a few KPIs over consecutive periods (weeks or months), oldest
// first, for a chart and its table.
type Trend struct {
	Unit    string      `json:"unit" enum:"week,month"`
	Keys    []string    `json:"keys"`
	Periods []Period    `json:"periods"`
	Values  [][]float64 `json:"values" doc:"values[k][i]: key k in period i; revenue in major units of the base currency"`
	Filter  *KPIFilter  `json:"filter,omitempty"`
	Formula string      `json:"formula"`
	index   map[string]int
}

// Series returns the values of one key.
func (t Trend) Series(key string) []float64 {
	if i, ok := t.index[key]; ok {
		return t.Values[i]
	}
	return nil
}

// TrendOf computes keys over the last n periods of unit (week or month)
// up to and including the one holding now, narrowed by f. Each series is
// one query over the whole range, bucketed here by period boundaries, so
// the cost does not grow with n.
func TrendOf(ctx context.Context, q db.Querier, w platform.Workspace, unit string, n int, keys []string, f KPIFilter, now time.Time) (Trend, error) {
	// The result depends on now only through the day it falls on, which is in the key.
	return cached(ctx, q, cacheKey("trend", w.ID, unit, n, keys, f, now.In(w.Location()).Format(time.DateOnly)), func(ctx context.Context) (Trend, error) {
		return trendOf(ctx, q, w, unit, n, keys, f, now)
	})
}

func trendOf(ctx context.Context, q db.Querier, w platform.Workspace, unit string, n int, keys []string, f KPIFilter, now time.Time) (Trend, error) {
	if n < 1 || n > 60 {
		n = 12
	}
	t := Trend{Unit: unit, Keys: keys, index: map[string]int{}, Formula: "each figure counted per period as its KPI is"}
	if !f.Empty() {
		t.Filter = &f
	}
	for i := n - 1; i >= 0; i-- {
		p, err := PeriodOf(w, unit, i, now)
		if err != nil {
			return t, err
		}
		t.Periods = append(t.Periods, p)
	}
	from, to := db.Millis(t.Periods[0].From), db.Millis(t.Periods[n-1].To)
	bucket := func(ms int64) int {
		i := sort.Search(n, func(i int) bool { return db.Millis(t.Periods[i].To) > ms })
		if i >= n || ms < db.Millis(t.Periods[i].From) {
			return -1
		}
		return i
	}
	for k, key := range keys {
		t.index[key] = k
		vals := make([]float64, n)
		var on, query string
		switch key {
		case "new_contacts":
			on, query = "contacts", `SELECT id, created_at FROM contacts WHERE workspace_id = ? AND created_at >= ? AND created_at < ?`
		case "new_mqls", "new_sqls":
			stage := map[string]string{"new_mqls": "mql", "new_sqls": "sql"}[key]
			on, query = "lifecycle", `SELECT contact_id, at FROM lifecycle_history WHERE workspace_id = ? AND to_stage = '`+stage+`' AND at >= ? AND at < ?`
		case "deals_won":
			on, query = "deals", `SELECT id, closed_at FROM deals WHERE workspace_id = ? AND status = 'won' AND closed_at >= ? AND closed_at < ?`
		case "revenue":
			// summed below from the won deals, as the revenue KPI is
		default:
			return t, fmt.Errorf("insight.TrendOf: unknown key %q", key)
		}
		if key == "revenue" {
			if err := eachWon(ctx, q, w, from, to, f, func(at, base int64) {
				if i := bucket(at); i >= 0 {
					vals[i] += platform.FromMinor(base, w.BaseCurrency)
				}
			}); err != nil {
				return t, fmt.Errorf("insight.TrendOf %s: %w", key, err)
			}
			t.Values = append(t.Values, vals)
			continue
		}
		cond, cargs, _ := f.cond(on, w.ID)
		args := append([]any{w.ID, from, to}, cargs...)
		// Each contact (or deal) once per period.
		seen := make([]map[int64]bool, n)
		err := scanRows(ctx, q, func(s scanner) error {
			var id, at int64
			if err := s.Scan(&id, &at); err != nil {
				return err
			}
			i := bucket(at)
			if i < 0 {
				return nil
			}
			if seen[i] == nil {
				seen[i] = map[int64]bool{}
			}
			if !seen[i][id] {
				seen[i][id] = true
				vals[i]++
			}
			return nil
		}, query+cond, args...)
		if err != nil {
			return t, fmt.Errorf("insight.TrendOf %s: %w", key, err)
		}
		t.Values = append(t.Values, vals)
	}
	return t, nil
}
