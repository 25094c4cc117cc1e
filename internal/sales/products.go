package sales

import (
	"context"
	"fmt"
	"math"
	"strings"

	"github.com/ryorin/ryorin/internal/db"
	"github.com/ryorin/ryorin/internal/errs"
	"github.com/ryorin/ryorin/internal/platform"
	"github.com/ryorin/ryorin/internal/quote"
)

// Product is an entry of the price list.
type Product struct {
	ID          int64             `json:"id"`
	Code        string            `json:"code"`
	Name        string            `json:"name"`
	UnitPrice   float64           `json:"unit_price" doc:"in major units of currency"`
	Currency    string            `json:"currency"`
	TaxCategory quote.TaxCategory `json:"tax_category" doc:"standard (10%) or reduced (8%)"`
	Billing     quote.Billing     `json:"billing" doc:"one_time, month or year"`
	Active      bool              `json:"active"`
}

// ProductInput holds product fields to set; nil fields are left alone.
type ProductInput struct {
	Code        *string  `json:"code,omitempty"`
	Name        *string  `json:"name,omitempty"`
	UnitPrice   *float64 `json:"unit_price,omitempty"`
	Currency    *string  `json:"currency,omitempty"`
	TaxCategory *string  `json:"tax_category,omitempty"`
	Billing     *string  `json:"billing,omitempty"`
	Active      *bool    `json:"active,omitempty"`
}

func (in ProductInput) apply(p *Product) error {
	if in.Code != nil {
		p.Code = strings.TrimSpace(*in.Code)
	}
	if p.Code == "" {
		return errs.Field("code", "is required")
	}
	if len(p.Code) > 64 {
		return errs.Field("code", "is longer than 64 characters")
	}
	if in.Name != nil {
		p.Name = strings.TrimSpace(*in.Name)
	}
	if p.Name == "" {
		return errs.Field("name", "is required")
	}
	if in.Currency != nil {
		p.Currency = strings.ToUpper(strings.TrimSpace(*in.Currency))
	}
	if !platform.ValidCurrency(p.Currency) {
		return errs.Field("currency", "unknown currency %q", p.Currency)
	}
	if in.UnitPrice != nil {
		p.UnitPrice = *in.UnitPrice
	}
	if math.IsNaN(p.UnitPrice) || p.UnitPrice < 0 || p.UnitPrice > 1e15 || platform.ToMinor(p.UnitPrice, p.Currency) > quote.MaxUnitPrice {
		return errs.Field("unit_price", "must be between 0 and 10^12")
	}
	if in.TaxCategory != nil {
		p.TaxCategory = quote.TaxCategory(*in.TaxCategory)
	}
	if !p.TaxCategory.Valid() {
		return errs.Field("tax_category", "must be standard or reduced")
	}
	if in.Billing != nil {
		p.Billing = quote.Billing(*in.Billing)
	}
	if !p.Billing.Valid() {
		return errs.Field("billing", "must be one_time, month or year")
	}
	if in.Active != nil {
		p.Active = *in.Active
	}
	return nil
}

// canSell reports whether the actor may edit the price list and deals' lines.
func canSell(a platform.Actor) bool {
	return a.Is(platform.RoleAdmin, platform.RoleManager, platform.RoleSales)
}

const productCols = `id, code, name, unit_price, currency, tax_category, billing, active`

func scanProduct(sc interface{ Scan(...any) error }) (Product, error) {
	var p Product
	var minor int64
	err := sc.Scan(&p.ID, &p.Code, &p.Name, &minor, &p.Currency, &p.TaxCategory, &p.Billing, &p.Active)
	p.UnitPrice = platform.FromMinor(minor, p.Currency)
	return p, err
}

// Products lists the price list by code; activeOnly leaves out retired products.
func (s *Service) Products(ctx context.Context, q db.Querier, ws int64, activeOnly bool) ([]Product, error) {
	rows, err := q.QueryContext(ctx, `-- sales.Products
		SELECT `+productCols+` FROM products WHERE workspace_id = ? AND (active OR NOT ?) ORDER BY code`, ws, activeOnly)
	if err != nil {
		return nil, fmt.Errorf("sales.Products: %w", err)
	}
	defer rows.Close()
	out := []Product{}
	for rows.Next() {
		p, err := scanProduct(rows)
		if err != nil {
			return nil, fmt.Errorf("sales.Products: %w", err)
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

// GetProduct loads one product.
func (s *Service) GetProduct(ctx context.Context, q db.Querier, ws, id int64) (Product, error) {
	p, err := scanProduct(q.QueryRowContext(ctx, `-- sales.GetProduct
		SELECT `+productCols+` FROM products WHERE workspace_id = ? AND id = ?`, ws, id))
	if db.NoRows(err) {
		return p, errs.NotFoundf("product %d not found", id)
	}
	if err != nil {
		return p, fmt.Errorf("sales.GetProduct(%d): %w", id, err)
	}
	return p, nil
}

// CreateProduct adds a product to the price list (admins, managers, sales).
// Its code is unique in the workspace.
func (s *Service) CreateProduct(ctx context.Context, a platform.Actor, in ProductInput) (Product, error) {
	if !canSell(a) {
		return Product{}, errs.E(errs.Forbidden, "", "only admins, managers and sales edit the price list")
	}
	p := Product{TaxCategory: quote.Standard, Billing: quote.OneTime, Active: true}
	now := s.Clock.Now()
	err := s.DB.Write(ctx, "sales.CreateProduct", func(tx *db.Tx) error {
		if in.Currency == nil {
			w, err := platform.GetWorkspace(ctx, tx, a.WorkspaceID)
			if err != nil {
				return err
			}
			p.Currency = w.BaseCurrency
		}
		if err := in.apply(&p); err != nil {
			return err
		}
		err := tx.QueryRowContext(ctx, `-- sales.CreateProduct
			INSERT INTO products (workspace_id, code, name, unit_price, currency, tax_category, billing, active, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
			a.WorkspaceID, p.Code, p.Name, platform.ToMinor(p.UnitPrice, p.Currency), p.Currency, p.TaxCategory, p.Billing, p.Active,
			db.Millis(now), db.Millis(now)).Scan(&p.ID)
		if db.IsUniqueViolation(err) {
			return errs.E(errs.Conflict, "code", "a product with this code already exists")
		}
		if err != nil {
			return fmt.Errorf("sales.CreateProduct: %w", err)
		}
		return platform.Audit(ctx, tx, a, now, "create", "product", p.ID, p)
	})
	return p, err
}

// UpdateProduct changes a product. Lines and quotes already made keep the
// price they were made with.
func (s *Service) UpdateProduct(ctx context.Context, a platform.Actor, id int64, in ProductInput) (Product, error) {
	if !canSell(a) {
		return Product{}, errs.E(errs.Forbidden, "", "only admins, managers and sales edit the price list")
	}
	var p Product
	now := s.Clock.Now()
	err := s.DB.Write(ctx, "sales.UpdateProduct", func(tx *db.Tx) error {
		var err error
		if p, err = s.GetProduct(ctx, tx, a.WorkspaceID, id); err != nil {
			return err
		}
		before := p
		if err := in.apply(&p); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `-- sales.UpdateProduct
			UPDATE products SET code = ?, name = ?, unit_price = ?, currency = ?, tax_category = ?, billing = ?, active = ?, updated_at = ?
			WHERE workspace_id = ? AND id = ?`,
			p.Code, p.Name, platform.ToMinor(p.UnitPrice, p.Currency), p.Currency, p.TaxCategory, p.Billing, p.Active, db.Millis(now),
			a.WorkspaceID, id)
		if db.IsUniqueViolation(err) {
			return errs.E(errs.Conflict, "code", "a product with this code already exists")
		}
		if err != nil {
			return fmt.Errorf("sales.UpdateProduct: %w", err)
		}
		return platform.Audit(ctx, tx, a, now, "update", "product", id, platform.Diff(before, p))
	})
	return p, err
}
