package sales

import (
	"context"
	"fmt"
	"math"
	"strings"

	"github.com/ryorin/ryorin/internal/crm"
	"github.com/ryorin/ryorin/internal/db"
	"github.com/ryorin/ryorin/internal/errs"
	"github.com/ryorin/ryorin/internal/platform"
	"github.com/ryorin/ryorin/internal/quote"
)

// LineItem is one line of a deal, in major units of the deal's currency.
type LineItem struct {
	ID           int64             `json:"id"`
	ProductID    int64             `json:"product_id,omitempty"`
	Description  string            `json:"description"`
	Quantity     float64           `json:"quantity" doc:"up to three decimals"`
	UnitPrice    float64           `json:"unit_price"`
	DiscountKind string            `json:"discount_kind,omitempty" doc:"percent or amount"`
	Discount     float64           `json:"discount,omitempty" doc:"percent (up to two decimals) or an amount in major units"`
	Billing      quote.Billing     `json:"billing" doc:"one_time, month or year"`
	TaxCategory  quote.TaxCategory `json:"tax_category" doc:"standard (10%) or reduced (8%)"`
	Total        float64           `json:"total" doc:"quantity × unit price less discount, before tax (read only)"`
}

// LineItemInput is one line to save. With a product, omitted fields are
// taken from the price list (description, unit price, billing, tax category).
type LineItemInput struct {
	ProductID    int64    `json:"product_id,omitempty"`
	Description  *string  `json:"description,omitempty"`
	Quantity     float64  `json:"quantity" doc:"up to three decimals"`
	UnitPrice    *float64 `json:"unit_price,omitempty"`
	DiscountKind string   `json:"discount_kind,omitempty" doc:"percent or amount"`
	Discount     float64  `json:"discount,omitempty" doc:"percent (up to two decimals) or an amount in major units"`
	Billing      *string  `json:"billing,omitempty"`
	TaxCategory  *string  `json:"tax_category,omitempty"`
}

// LineItems lists a deal's lines in order (in minor units, as quotes use them).
func (s *Service) lineItems(ctx context.Context, q db.Querier, ws, dealID int64) ([]quote.Line, []int64, error) {
	rows, err := q.QueryContext(ctx, `-- sales.LineItems
		SELECT id, COALESCE(product_id, 0), description, quantity_milli, unit_price, discount_kind, discount_value, billing, tax_category
		FROM deal_line_items WHERE workspace_id = ? AND deal_id = ? ORDER BY position`, ws, dealID)
	if err != nil {
		return nil, nil, fmt.Errorf("sales.LineItems: %w", err)
	}
	defer rows.Close()
	var out []quote.Line
	var ids []int64
	for rows.Next() {
		var l quote.Line
		var id int64
		if err := rows.Scan(&id, &l.ProductID, &l.Description, &l.QuantityMilli, &l.UnitPrice, &l.DiscountKind, &l.DiscountValue, &l.Billing, &l.TaxCategory); err != nil {
			return nil, nil, fmt.Errorf("sales.LineItems: %w", err)
		}
		out = append(out, l)
		ids = append(ids, id)
	}
	return out, ids, rows.Err()
}

// LineItems returns the lines of a deal the actor may see.
func (s *Service) LineItems(ctx context.Context, q db.Querier, a platform.Actor, dealID int64) ([]LineItem, error) {
	d, err := s.CRM.GetDeal(ctx, q, a, dealID)
	if err != nil {
		return nil, err
	}
	lines, ids, err := s.lineItems(ctx, q, a.WorkspaceID, dealID)
	if err != nil {
		return nil, err
	}
	out := make([]LineItem, len(lines))
	for i, l := range lines {
		out[i] = toItem(l, ids[i], d.Currency)
	}
	return out, nil
}

func toItem(l quote.Line, id int64, currency string) LineItem {
	it := LineItem{ID: id, ProductID: l.ProductID, Description: l.Description, Quantity: float64(l.QuantityMilli) / 1000,
		UnitPrice: platform.FromMinor(l.UnitPrice, currency), DiscountKind: l.DiscountKind, Billing: l.Billing, TaxCategory: l.TaxCategory,
		Total: platform.FromMinor(l.Total(), currency)}
	switch l.DiscountKind {
	case quote.DiscountPercent:
		it.Discount = float64(l.DiscountValue) / 100
	case quote.DiscountAmount:
		it.Discount = platform.FromMinor(l.DiscountValue, currency)
	}
	return it
}

// toLine turns an input line into minor units, filling from its product.
func (s *Service) toLine(ctx context.Context, q db.Querier, ws int64, d crm.Deal, in LineItemInput, at string) (quote.Line, error) {
	l := quote.Line{ProductID: in.ProductID, DiscountKind: in.DiscountKind}
	if in.ProductID != 0 {
		p, err := s.GetProduct(ctx, q, ws, in.ProductID)
		if errs.Is(err, errs.NotFound) {
			return l, errs.Rule(at+".product_id", "product %d does not exist", in.ProductID)
		}
		if err != nil {
			return l, err
		}
		if p.Currency != d.Currency {
			return l, errs.Rule(at+".product_id", "the product is priced in %s and the deal in %s", p.Currency, d.Currency)
		}
		l.Description, l.UnitPrice, l.Billing, l.TaxCategory = p.Name, platform.ToMinor(p.UnitPrice, p.Currency), p.Billing, p.TaxCategory
	}
	if in.Description != nil && strings.TrimSpace(*in.Description) != "" {
		l.Description = *in.Description
	}
	if in.UnitPrice != nil {
		if math.IsNaN(*in.UnitPrice) || *in.UnitPrice < 0 || *in.UnitPrice > 1e15 {
			return l, errs.Field(at+".unit_price", "must be between 0 and 10^12")
		}
		l.UnitPrice = platform.ToMinor(*in.UnitPrice, d.Currency)
	}
	if in.Billing != nil && *in.Billing != "" {
		l.Billing = quote.Billing(*in.Billing)
	}
	if in.TaxCategory != nil && *in.TaxCategory != "" {
		l.TaxCategory = quote.TaxCategory(*in.TaxCategory)
	}
	if math.IsNaN(in.Quantity) || in.Quantity < 0 || in.Quantity > 1e6 {
		return l, errs.Field(at+".quantity", "must be more than 0 and at most 1,000,000")
	}
	l.QuantityMilli = int64(math.Round(in.Quantity * 1000))
	if in.Quantity > 0 && math.Abs(float64(l.QuantityMilli)-in.Quantity*1000) > 1e-6 {
		return l, errs.Field(at+".quantity", "may have at most three decimals")
	}
	if math.IsNaN(in.Discount) || in.Discount < 0 || in.Discount > 1e15 {
		return l, errs.Field(at+".discount", "must be between 0 and the line's amount")
	}
	switch in.DiscountKind {
	case quote.DiscountPercent:
		l.DiscountValue = int64(math.Round(in.Discount * 100))
	case quote.DiscountAmount:
		l.DiscountValue = platform.ToMinor(in.Discount, d.Currency)
	case "":
		if in.Discount != 0 {
			return l, errs.Field(at+".discount_kind", "is required with a discount")
		}
	}
	return l, l.Check(at)
}

// SaveLineItems replaces a deal's line items and, in the same transaction,
// sets the deal's figures from them through the deal update path (so the
// board's running totals and the audit log follow):
//
//   - amount = the sum of every line's total before tax (quantity × unit
//     price less discount), a recurring line counting one billing period;
//   - recurring_amount = the sum of the recurring lines per period: monthly
//     lines alone give a monthly amount, yearly lines alone a yearly one, and
//     a mix is expressed per year (a monthly line × 12); 0 without any.
//
// Saving no lines removes them and leaves the deal's amount as it was (the
// amount is then entered by hand again). Lines are in the deal's currency.
func (s *Service) SaveLineItems(ctx context.Context, a platform.Actor, dealID int64, in []LineItemInput) ([]LineItem, crm.Deal, error) {
	var out []LineItem
	var d crm.Deal
	if !canSell(a) {
		return nil, d, errs.E(errs.Forbidden, "", "only admins, managers and sales edit line items")
	}
	if len(in) > 200 {
		return nil, d, errs.Field("lines", "at most 200 lines")
	}
	err := s.DB.Write(ctx, "sales.SaveLineItems", func(tx *db.Tx) error {
		var err error
		if d, err = s.CRM.GetDeal(ctx, tx, a, dealID); err != nil {
			return err
		}
		lines := make([]quote.Line, len(in))
		for i, li := range in {
			if lines[i], err = s.toLine(ctx, tx, a.WorkspaceID, d, li, fmt.Sprintf("lines[%d]", i)); err != nil {
				return err
			}
		}
		if _, err := tx.ExecContext(ctx, `-- sales.SaveLineItems delete
			DELETE FROM deal_line_items WHERE workspace_id = ? AND deal_id = ?`, a.WorkspaceID, dealID); err != nil {
			return fmt.Errorf("sales.SaveLineItems: %w", err)
		}
		out = make([]LineItem, len(lines))
		for i, l := range lines {
			var id int64
			if err := tx.QueryRowContext(ctx, `-- sales.SaveLineItems
				INSERT INTO deal_line_items (workspace_id, deal_id, position, product_id, description, quantity_milli, unit_price,
					discount_kind, discount_value, billing, tax_category)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
				a.WorkspaceID, dealID, i, db.NullInt(l.ProductID), l.Description, l.QuantityMilli, l.UnitPrice, l.DiscountKind, l.DiscountValue,
				l.Billing, l.TaxCategory).Scan(&id); err != nil {
				return fmt.Errorf("sales.SaveLineItems: %w", err)
			}
			out[i] = toItem(l, id, d.Currency)
		}
		if err := platform.Audit(ctx, tx, a, s.Clock.Now(), "update", "deal_line_items", dealID, out); err != nil {
			return err
		}
		if len(lines) == 0 {
			return nil
		}
		amount, recurring, interval := DealFigures(lines)
		if amount > quote.MaxLineTotal {
			return errs.Field("lines", "the deal's total must be at most 10^15")
		}
		am, ra := platform.FromMinor(amount, d.Currency), platform.FromMinor(recurring, d.Currency)
		d, err = s.CRM.UpdateDealTx(ctx, tx, a, dealID, crm.DealInput{Amount: &am, RecurringAmount: &ra, RecurringInterval: &interval})
		return err
	})
	return out, d, err
}

// DealFigures derives a deal's amount and recurring amount (minor units) and
// interval from its lines; see SaveLineItems for the rule.
func DealFigures(lines []quote.Line) (amount, recurring int64, interval string) {
	var monthly, yearly int64
	var hasM, hasY bool
	for _, l := range lines {
		amount += l.Total()
		switch l.Billing {
		case quote.Monthly:
			monthly += l.Total()
			hasM = true
		case quote.Yearly:
			yearly += l.Total()
			hasY = true
		}
	}
	switch {
	case hasM && hasY:
		return amount, monthly*12 + yearly, "year"
	case hasM:
		return amount, monthly, "month"
	case hasY:
		return amount, yearly, "year"
	}
	return amount, 0, ""
}
