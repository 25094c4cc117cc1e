package sales

import (
	"context"
	"fmt"
	"time"

	"github.com/ryorin/ryorin/internal/crm"
	"github.com/ryorin/ryorin/internal/db"
	"github.com/ryorin/ryorin/internal/errs"
	"github.com/ryorin/ryorin/internal/platform"
	"github.com/ryorin/ryorin/internal/quote"
)

// AvgDiscountFormula says how CompetitorDiscount.AvgDiscount is computed;
// the screens show the same sentence from the catalogue
// (comp.avg_discount.formula).
const AvgDiscountFormula = "Σ line discounts ÷ Σ line list amounts (quantity × unit price, one period for recurring lines), " +
	"over the closed (won or lost) deals linked to the competitor, each deal converted to the base currency at its close date: a discount-weighted by amount, not an average of percentages"

// CompetitorDiscount is what we gave away on price against one competitor.
type CompetitorDiscount struct {
	CompetitorID     int64    `json:"-"`
	Currency         string   `json:"currency" doc:"the workspace's base currency"`
	ListAmount       float64  `json:"closed_list_amount" doc:"Σ list amounts of the line items of closed deals against the competitor, base currency"`
	DiscountAmount   float64  `json:"closed_discount_amount" doc:"Σ discounts of those line items, base currency"`
	AvgDiscount      *float64 `json:"avg_discount,omitempty" doc:"closed_discount_amount ÷ closed_list_amount, 0–1 (absent when no closed deal has line items)"`
	PricedDeals      int      `json:"priced_deals" doc:"closed deals whose line items are counted"`
	UnconvertedDeals int      `json:"unconverted_deals,omitempty" doc:"closed deals left out: no exchange rate for their currency at their close date"`
}

// CompetitorReport is a competitor's card with our win rate and average
// discount against them.
type CompetitorReport struct {
	crm.CompetitorCard
	WinRate *float64 `json:"win_rate,omitempty" doc:"won ÷ (won + lost), 0–1 (absent when nothing closed)"`
	CompetitorDiscount
}

// CompetitorDiscounts computes the average discount per competitor, by
// AvgDiscountFormula: every line of every won or lost deal linked to a
// competitor counts once for that competitor (a deal against two
// competitors counts for both). only, when not 0, limits it to one competitor.
func (s *Service) CompetitorDiscounts(ctx context.Context, q db.Querier, ws, only int64) (map[int64]CompetitorDiscount, error) {
	w, err := platform.GetWorkspace(ctx, q, ws)
	if err != nil {
		return nil, err
	}
	rows, err := q.QueryContext(ctx, `-- sales.CompetitorDiscounts
		SELECT dc.competitor_id, d.id, d.currency, d.closed_at, COALESCE(d.close_date, ''),
			li.quantity_milli, li.unit_price, li.discount_kind, li.discount_value
		FROM deal_competitors dc
		JOIN deals d ON d.workspace_id = dc.workspace_id AND d.id = dc.deal_id
		JOIN deal_line_items li ON li.workspace_id = d.workspace_id AND li.deal_id = d.id
		WHERE dc.workspace_id = ? AND d.status IN ('won', 'lost') AND (? = 0 OR dc.competitor_id = ?)
		ORDER BY dc.competitor_id, d.id`, ws, only, only)
	if err != nil {
		return nil, fmt.Errorf("sales.CompetitorDiscounts: %w", err)
	}
	type key struct{ comp, deal int64 }
	type dealSum struct {
		currency, date  string
		gross, discount int64
	}
	sums := map[key]*dealSum{}
	var order []key
	for rows.Next() {
		var k key
		var l quote.Line
		var currency, closeDate string
		var closedAt *int64
		if err := rows.Scan(&k.comp, &k.deal, &currency, &closedAt, &closeDate, &l.QuantityMilli, &l.UnitPrice, &l.DiscountKind, &l.DiscountValue); err != nil {
			rows.Close()
			return nil, fmt.Errorf("sales.CompetitorDiscounts: %w", err)
		}
		ds := sums[k]
		if ds == nil {
			date := closeDate
			if closedAt != nil {
				date = db.Time(*closedAt).In(w.Location()).Format(time.DateOnly)
			}
			if date == "" {
				date = s.Clock.Now().In(w.Location()).Format(time.DateOnly)
			}
			ds = &dealSum{currency: currency, date: date}
			sums[k] = ds
			order = append(order, k)
		}
		gross := l.Gross()
		ds.gross += gross
		ds.discount += gross - max(l.Total(), 0)
	}
	if err := rows.Close(); err != nil {
		return nil, fmt.Errorf("sales.CompetitorDiscounts: %w", err)
	}
	type total struct {
		gross, discount int64
		deals, skipped  int
	}
	totals := map[int64]*total{}
	for _, k := range order {
		ds := sums[k]
		t := totals[k.comp]
		if t == nil {
			t = &total{}
			totals[k.comp] = t
		}
		g, err1 := platform.ToBase(ctx, q, w, ds.gross, ds.currency, ds.date)
		dsc, err2 := platform.ToBase(ctx, q, w, ds.discount, ds.currency, ds.date)
		if err1 != nil || err2 != nil {
			if noRate(err1) || noRate(err2) {
				t.skipped++
				continue
			}
			return nil, fmt.Errorf("sales.CompetitorDiscounts: %w", firstErr(err1, err2))
		}
		t.gross += g
		t.discount += dsc
		t.deals++
	}
	out := map[int64]CompetitorDiscount{}
	for comp, t := range totals {
		cd := CompetitorDiscount{CompetitorID: comp, Currency: w.BaseCurrency, ListAmount: platform.FromMinor(t.gross, w.BaseCurrency),
			DiscountAmount: platform.FromMinor(t.discount, w.BaseCurrency), PricedDeals: t.deals, UnconvertedDeals: t.skipped}
		if t.gross > 0 {
			v := float64(t.discount) / float64(t.gross)
			cd.AvgDiscount = &v
		}
		out[comp] = cd
	}
	return out, nil
}

// noRate is ToBase's refusal for a currency without a rate at the date.
func noRate(err error) bool {
	e, ok := errs.As(err)
	return ok && e.Kind == errs.Unprocessable && e.Field == "currency"
}

func firstErr(errs ...error) error {
	for _, e := range errs {
		if e != nil {
			return e
		}
	}
	return nil
}

// CompetitorReports lists competitors by name with their cards, win rates
// and average discounts.
func (s *Service) CompetitorReports(ctx context.Context, q db.Querier, ws int64) ([]CompetitorReport, error) {
	cards, err := s.CRM.CompetitorCards(ctx, q, ws)
	if err != nil {
		return nil, err
	}
	disc, err := s.CompetitorDiscounts(ctx, q, ws, 0)
	if err != nil {
		return nil, err
	}
	w, err := platform.GetWorkspace(ctx, q, ws)
	if err != nil {
		return nil, err
	}
	out := make([]CompetitorReport, len(cards))
	for i, c := range cards {
		out[i] = report(c, disc[c.ID], w.BaseCurrency)
	}
	return out, nil
}

// CompetitorReportOf is one competitor's report.
func (s *Service) CompetitorReportOf(ctx context.Context, q db.Querier, ws, id int64) (CompetitorReport, error) {
	c, err := s.CRM.CompetitorCardOf(ctx, q, ws, id)
	if err != nil {
		return CompetitorReport{}, err
	}
	disc, err := s.CompetitorDiscounts(ctx, q, ws, id)
	if err != nil {
		return CompetitorReport{}, err
	}
	w, err := platform.GetWorkspace(ctx, q, ws)
	if err != nil {
		return CompetitorReport{}, err
	}
	return report(c, disc[id], w.BaseCurrency), nil
}

func report(c crm.CompetitorCard, d CompetitorDiscount, base string) CompetitorReport {
	r := CompetitorReport{CompetitorCard: c, CompetitorDiscount: d}
	r.CompetitorID, r.Currency = c.ID, base
	if c.Won+c.Lost > 0 {
		v := c.WinRate()
		r.WinRate = &v
	}
	return r
}
