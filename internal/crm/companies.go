package crm

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/ryorin/ryorin/internal/db"
	"github.com/ryorin/ryorin/internal/errs"
	"github.com/ryorin/ryorin/internal/platform"
)

// Company is an organisation Ryorin sells to.
type Company struct {
	ID              int64          `json:"id"`
	Name            string         `json:"name"`
	NameNormalized  string         `json:"name_normalized"`
	NameKana        string         `json:"name_kana,omitempty"`
	Domain          string         `json:"domain,omitempty"`
	CorporateNumber string         `json:"corporate_number,omitempty"`
	Industry        string         `json:"industry,omitempty"`
	Employees       *int64         `json:"employees,omitempty"`
	AnnualRevenue   *int64         `json:"annual_revenue,omitempty"`
	Phone           string         `json:"phone,omitempty"`
	Website         string         `json:"website,omitempty"`
	Address         Address        `json:"address"`
	OwnerID         int64          `json:"owner_id,omitempty"`
	Props           map[string]any `json:"props"`
	CreatedAt       time.Time      `json:"created_at"`
	UpdatedAt       time.Time      `json:"updated_at"`
	LastActivityAt  *time.Time     `json:"last_activity_at,omitempty"`
}

// Address is a structured postal address (Japanese order: 〒, 都道府県, 市区町村, 番地, 建物).
type Address struct {
	PostalCode string `json:"postal_code,omitempty"`
	Prefecture string `json:"prefecture,omitempty"`
	City       string `json:"city,omitempty"`
	Line1      string `json:"line1,omitempty"`
	Line2      string `json:"line2,omitempty"`
	Country    string `json:"country,omitempty"`
}

// CompanyInput holds company fields to set; nil fields are left alone (on
// create, they take their defaults).
type CompanyInput struct {
	Name            *string        `json:"name,omitempty"`
	NameKana        *string        `json:"name_kana,omitempty"`
	Domain          *string        `json:"domain,omitempty"`
	CorporateNumber *string        `json:"corporate_number,omitempty"`
	Industry        *string        `json:"industry,omitempty"`
	Employees       *int64         `json:"employees,omitempty"`
	AnnualRevenue   *int64         `json:"annual_revenue,omitempty"`
	Phone           *string        `json:"phone,omitempty"`
	Website         *string        `json:"website,omitempty"`
	Address         *Address       `json:"address,omitempty"`
	OwnerID         *int64         `json:"owner_id,omitempty"`
	Props           map[string]any `json:"props,omitempty"`
}

func (in CompanyInput) apply(c *Company) error {
	set := func(dst *string, src *string) {
		if src != nil {
			*dst = strings.TrimSpace(*src)
		}
	}
	set(&c.Name, in.Name)
	set(&c.NameKana, in.NameKana)
	set(&c.Industry, in.Industry)
	set(&c.Phone, in.Phone)
	set(&c.Website, in.Website)
	if in.Domain != nil {
		c.Domain = NormalizeDomain(*in.Domain)
		if c.Domain != "" && (!strings.Contains(c.Domain, ".") || strings.ContainsAny(c.Domain, " \t")) {
			return errs.Field("domain", "is not a domain name")
		}
	}
	if in.CorporateNumber != nil {
		n := NormalizePhone(*in.CorporateNumber) // folds full-width digits, drops hyphens
		if n != "" && !ValidCorporateNumber(n) {
			return errs.Field("corporate_number", "must be a valid 13-digit corporate number (法人番号)")
		}
		c.CorporateNumber = n
	}
	if in.Employees != nil {
		if *in.Employees < 0 {
			return errs.Field("employees", "must not be negative")
		}
		c.Employees = in.Employees
	}
	if in.AnnualRevenue != nil {
		if *in.AnnualRevenue < 0 {
			return errs.Field("annual_revenue", "must not be negative")
		}
		c.AnnualRevenue = in.AnnualRevenue
	}
	if in.Address != nil {
		c.Address = *in.Address
		c.Address.PostalCode = normalizePostal(c.Address.PostalCode)
		if c.Address.Country == "" {
			c.Address.Country = "JP"
		}
	}
	if in.OwnerID != nil {
		c.OwnerID = *in.OwnerID
	}
	if c.Name == "" {
		return errs.Field("name", "is required")
	}
	if len(c.Name) > 500 {
		return errs.Field("name", "is longer than 500 bytes")
	}
	c.NameNormalized = NormalizeCompanyName(c.Name)
	return nil
}

func normalizePostal(p string) string {
	p = NormalizePhone(p)
	if len(p) == 7 {
		return p[:3] + "-" + p[3:]
	}
	return p
}

const companyCols = `id, name, name_norm, name_kana, COALESCE(domain, ''), COALESCE(corporate_number, ''), industry, employees,
	annual_revenue, phone, website, postal_code, prefecture, city, address_line1, address_line2, country,
	COALESCE(owner_id, 0), props, created_at, updated_at, last_activity_at`

func scanCompany(sc interface{ Scan(...any) error }) (Company, error) {
	var c Company
	var props *string
	var cr, up int64
	var last sql.NullInt64
	err := sc.Scan(&c.ID, &c.Name, &c.NameNormalized, &c.NameKana, &c.Domain, &c.CorporateNumber, &c.Industry, &c.Employees,
		&c.AnnualRevenue, &c.Phone, &c.Website, &c.Address.PostalCode, &c.Address.Prefecture, &c.Address.City,
		&c.Address.Line1, &c.Address.Line2, &c.Address.Country, &c.OwnerID, &props, &cr, &up, &last)
	c.Props = unmarshalProps(props)
	c.CreatedAt, c.UpdatedAt, c.LastActivityAt = db.Time(cr), db.Time(up), db.TimePtr(last)
	return c, err
}

// CreateCompany adds a company. A duplicate corporate number is a conflict
// naming the existing company.
func (s *Service) CreateCompany(ctx context.Context, a platform.Actor, in CompanyInput) (Company, error) {
	now := s.Clock.Now()
	c := Company{CreatedAt: now, UpdatedAt: now, Address: Address{Country: "JP"}}
	if in.OwnerID == nil && a.UserID != 0 {
		in.OwnerID = &a.UserID
	}
	if err := in.apply(&c); err != nil {
		return c, err
	}
	err := s.DB.Write(ctx, "crm.CreateCompany", func(tx *db.Tx) error {
		return s.insertCompany(ctx, tx, a, &c, in, now)
	})
	return c, err
}

// insertCompany stores a new company, already validated, inside tx.
func (s *Service) insertCompany(ctx context.Context, tx *db.Tx, a platform.Actor, c *Company, in CompanyInput, now time.Time) error {
	{
		if err := checkUser(ctx, tx, a.WorkspaceID, c.OwnerID, "owner_id"); err != nil {
			return err
		}
		defs, err := s.Properties(ctx, tx, a.WorkspaceID, "company")
		if err != nil {
			return err
		}
		if c.Props, err = mergeProps(defs, nil, in.Props, true); err != nil {
			return err
		}
		err = tx.QueryRowContext(ctx, `-- crm.CreateCompany
			INSERT INTO companies (workspace_id, name, name_norm, name_kana, domain, corporate_number, industry, employees,
				annual_revenue, phone, website, postal_code, prefecture, city, address_line1, address_line2, country,
				owner_id, props, search_text, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
			a.WorkspaceID, c.Name, c.NameNormalized, c.NameKana, db.NullString(c.Domain), db.NullString(c.CorporateNumber),
			c.Industry, c.Employees, c.AnnualRevenue, c.Phone, c.Website, c.Address.PostalCode, c.Address.Prefecture,
			c.Address.City, c.Address.Line1, c.Address.Line2, c.Address.Country, db.NullInt(c.OwnerID), marshalProps(c.Props),
			companySearch(*c), db.Millis(now), db.Millis(now)).Scan(&c.ID)
		if db.IsUniqueViolation(err) {
			e := errs.E(errs.Conflict, "corporate_number", "a company with this corporate number already exists")
			_ = s.DB.Reader().QueryRowContext(ctx, `SELECT id FROM companies WHERE workspace_id = ? AND corporate_number = ?`,
				a.WorkspaceID, c.CorporateNumber).Scan(&e.ExistingID)
			return e
		}
		if err != nil {
			return fmt.Errorf("crm.CreateCompany: %w", err)
		}
		if _, err := platform.AppendTimeline(ctx, tx, a, platform.TimelineEntry{At: now, Kind: "company.created", CompanyID: c.ID},
			map[string]string{"name": c.Name}); err != nil {
			return err
		}
		return platform.Audit(ctx, tx, a, now, "create", "company", c.ID, c)
	}
}

func companySearch(c Company) string {
	return searchText(c.Name, c.NameNormalized, c.NameKana, c.Domain, c.CorporateNumber)
}

// GetCompany loads one company the actor may see.
func (s *Service) GetCompany(ctx context.Context, q db.Querier, a platform.Actor, id int64) (Company, error) {
	c, err := scanCompany(q.QueryRowContext(ctx, `-- crm.GetCompany
		SELECT `+companyCols+` FROM companies WHERE workspace_id = ? AND id = ?`, a.WorkspaceID, id))
	if db.NoRows(err) || (err == nil && !canSee(a, c.OwnerID)) {
		return c, errs.NotFoundf("company %d not found", id)
	}
	if err != nil {
		return c, fmt.Errorf("crm.GetCompany(%d): %w", id, err)
	}
	return c, nil
}

// UpdateCompany changes the given fields of a company.
func (s *Service) UpdateCompany(ctx context.Context, a platform.Actor, id int64, in CompanyInput) (Company, error) {
	now := s.Clock.Now()
	var c Company
	err := s.DB.Write(ctx, "crm.UpdateCompany", func(tx *db.Tx) error {
		var err error
		if c, err = s.GetCompany(ctx, tx, a, id); err != nil {
			return err
		}
		before := c
		if err := in.apply(&c); err != nil {
			return err
		}
		if in.OwnerID != nil {
			if err := checkUser(ctx, tx, a.WorkspaceID, c.OwnerID, "owner_id"); err != nil {
				return err
			}
		}
		if in.Props != nil {
			defs, err := s.Properties(ctx, tx, a.WorkspaceID, "company")
			if err != nil {
				return err
			}
			if c.Props, err = mergeProps(defs, c.Props, in.Props, false); err != nil {
				return err
			}
		}
		c.UpdatedAt = now
		_, err = tx.ExecContext(ctx, `-- crm.UpdateCompany
			UPDATE companies SET name = ?, name_norm = ?, name_kana = ?, domain = ?, corporate_number = ?, industry = ?,
				employees = ?, annual_revenue = ?, phone = ?, website = ?, postal_code = ?, prefecture = ?, city = ?,
				address_line1 = ?, address_line2 = ?, country = ?, owner_id = ?, props = ?, search_text = ?, updated_at = ?
			WHERE workspace_id = ? AND id = ?`,
			c.Name, c.NameNormalized, c.NameKana, db.NullString(c.Domain), db.NullString(c.CorporateNumber), c.Industry,
			c.Employees, c.AnnualRevenue, c.Phone, c.Website, c.Address.PostalCode, c.Address.Prefecture, c.Address.City,
			c.Address.Line1, c.Address.Line2, c.Address.Country, db.NullInt(c.OwnerID), marshalProps(c.Props),
			companySearch(c), db.Millis(now), a.WorkspaceID, id)
		if db.IsUniqueViolation(err) {
			e := errs.E(errs.Conflict, "corporate_number", "a company with this corporate number already exists")
			_ = s.DB.Reader().QueryRowContext(ctx, `SELECT id FROM companies WHERE workspace_id = ? AND corporate_number = ?`,
				a.WorkspaceID, c.CorporateNumber).Scan(&e.ExistingID)
			return e
		}
		if err != nil {
			return fmt.Errorf("crm.UpdateCompany: %w", err)
		}
		return platform.Audit(ctx, tx, a, now, "update", "company", id, platform.Diff(before, c))
	})
	return c, err
}

// DeleteCompany removes a company; its contacts and deals stay, unlinked.
func (s *Service) DeleteCompany(ctx context.Context, a platform.Actor, id int64) error {
	return s.DB.Write(ctx, "crm.DeleteCompany", func(tx *db.Tx) error {
		c, err := s.GetCompany(ctx, tx, a, id)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `-- crm.DeleteCompany
			DELETE FROM companies WHERE workspace_id = ? AND id = ?`, a.WorkspaceID, id); err != nil {
			return fmt.Errorf("crm.DeleteCompany: %w", err)
		}
		return platform.Audit(ctx, tx, a, s.Clock.Now(), "delete", "company", id, map[string]string{"name": c.Name})
	})
}

// CompanyFilter selects companies for a list.
type CompanyFilter struct {
	OwnerID         int64
	Q               string // partial match on name, kana, domain
	Domain          string
	CorporateNumber string
	Props           map[string]string
	Sort            string // "name", "-created_at", "-updated_at", "updated_at"
	Cursor          string
	Limit           int
}

// ListCompanies returns a page of companies.
func (s *Service) ListCompanies(ctx context.Context, a platform.Actor, f CompanyFilter) (Page[Company], error) {
	var out Page[Company]
	w, err := s.companyWhere(ctx, a, f)
	if err != nil {
		return out, err
	}
	sorts := map[string]sortSpec[Company]{
		"name":        {"name_norm", false, func(c Company) any { return c.NameNormalized }},
		"-created_at": {"created_at", true, func(c Company) any { return db.Millis(c.CreatedAt) }},
		"-updated_at": {"updated_at", true, func(c Company) any { return db.Millis(c.UpdatedAt) }},
		"updated_at":  {"updated_at", false, func(c Company) any { return db.Millis(c.UpdatedAt) }},
	}
	if f.Sort == "" {
		f.Sort = "name"
	}
	sp, ok := sorts[f.Sort]
	if !ok {
		return out, errs.Field("sort", "must be one of name, -created_at, -updated_at, updated_at")
	}
	return listPage(ctx, s.DB.Reader(), "crm.ListCompanies", "SELECT "+companyCols+" FROM companies", w, sp, f.Cursor, f.Limit, scanCompany, func(c Company) int64 { return c.ID })
}

// companyWhere turns a filter into SQL conditions, with the actor's
// visibility rules; lists and exports share it.
func (s *Service) companyWhere(ctx context.Context, a platform.Actor, f CompanyFilter) (where, error) {
	w := where{sql: "workspace_id = ?", args: []any{a.WorkspaceID}}
	if a.OwnRecordsOnly {
		w.and("owner_id = ?", a.UserID)
	}
	if f.OwnerID != 0 {
		w.and("owner_id = ?", f.OwnerID)
	}
	if f.Domain != "" {
		w.and("domain = ?", NormalizeDomain(f.Domain))
	}
	if f.CorporateNumber != "" {
		w.and("corporate_number = ?", NormalizePhone(f.CorporateNumber))
	}
	if f.Q != "" {
		cond, args, err := s.search(ctx, "companies", f.Q)
		if err != nil {
			return w, err
		}
		w.and(cond, args...)
	}
	if len(f.Props) > 0 {
		defs, err := s.Properties(ctx, s.DB.Reader(), a.WorkspaceID, "company")
		if err != nil {
			return w, err
		}
		if err := w.props(defs, f.Props); err != nil {
			return w, err
		}
	}
	return w, nil
}
