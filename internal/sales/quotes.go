package sales

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/ryorin/ryorin/internal/db"
	"github.com/ryorin/ryorin/internal/errs"
	"github.com/ryorin/ryorin/internal/platform"
	"github.com/ryorin/ryorin/internal/quote"
)

// QuoteSettings are the workspace's quote settings: the seller as printed
// on every quote, how consumption tax is rounded, how long a quote is valid
// by default, and the discount above which issuing needs a manager.
type QuoteSettings struct {
	SellerName          string         `json:"seller_name"`
	SellerAddress       string         `json:"seller_address"`
	RegistrationNumber  string         `json:"registration_number" doc:"適格請求書発行事業者の登録番号: T + 13 digits (full-width and hyphens accepted)"`
	Rounding            quote.Rounding `json:"rounding" doc:"floor (default), round or ceil; applied once per quote per tax rate"`
	ValidDays           int            `json:"valid_days" doc:"default validity of a quote in days (1–365, default 30)"`
	ApprovalDiscountPct int            `json:"approval_discount_pct" doc:"a line discounted by more than this percent needs a manager's approval before the quote is issued (0: never)"`
}

// GetQuoteSettings returns the workspace's quote settings (defaults when unset).
func (s *Service) GetQuoteSettings(ctx context.Context, q db.Querier, ws int64) (QuoteSettings, error) {
	st := QuoteSettings{Rounding: quote.Floor, ValidDays: 30}
	err := q.QueryRowContext(ctx, `-- sales.GetQuoteSettings
		SELECT seller_name, seller_address, registration_number, rounding, valid_days, approval_discount_pct
		FROM quote_settings WHERE workspace_id = ?`, ws).Scan(&st.SellerName, &st.SellerAddress, &st.RegistrationNumber, &st.Rounding,
		&st.ValidDays, &st.ApprovalDiscountPct)
	if err != nil && !db.NoRows(err) {
		return st, fmt.Errorf("sales.GetQuoteSettings: %w", err)
	}
	return st, nil
}

// SaveQuoteSettings changes the quote settings (admins and managers). The
// registration number is checked and stored as "T" + 13 digits.
func (s *Service) SaveQuoteSettings(ctx context.Context, a platform.Actor, st QuoteSettings) (QuoteSettings, error) {
	if !a.Is(platform.RoleAdmin, platform.RoleManager) {
		return st, errs.E(errs.Forbidden, "", "only admins and managers change quote settings")
	}
	st.SellerName, st.SellerAddress = strings.TrimSpace(st.SellerName), strings.TrimSpace(st.SellerAddress)
	if st.SellerName == "" {
		return st, errs.Field("seller_name", "is required")
	}
	var err error
	if st.RegistrationNumber, err = quote.NormalizeRegistration(st.RegistrationNumber); err != nil {
		return st, err
	}
	if st.Rounding == "" {
		st.Rounding = quote.Floor
	}
	if !st.Rounding.Valid() {
		return st, errs.Field("rounding", "must be floor, round or ceil")
	}
	if st.ValidDays < 1 || st.ValidDays > 365 {
		return st, errs.Field("valid_days", "must be 1 to 365")
	}
	if st.ApprovalDiscountPct < 0 || st.ApprovalDiscountPct > 100 {
		return st, errs.Field("approval_discount_pct", "must be 0 to 100")
	}
	now := s.Clock.Now()
	err = s.DB.Write(ctx, "sales.SaveQuoteSettings", func(tx *db.Tx) error {
		if _, err := tx.ExecContext(ctx, `-- sales.SaveQuoteSettings
			INSERT INTO quote_settings (workspace_id, seller_name, seller_address, registration_number, rounding, valid_days, approval_discount_pct, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (workspace_id) DO UPDATE SET seller_name = excluded.seller_name, seller_address = excluded.seller_address,
				registration_number = excluded.registration_number, rounding = excluded.rounding, valid_days = excluded.valid_days,
				approval_discount_pct = excluded.approval_discount_pct, updated_at = excluded.updated_at`,
			a.WorkspaceID, st.SellerName, st.SellerAddress, st.RegistrationNumber, st.Rounding, st.ValidDays, st.ApprovalDiscountPct, db.Millis(now)); err != nil {
			return fmt.Errorf("sales.SaveQuoteSettings: %w", err)
		}
		return platform.Audit(ctx, tx, a, now, "update", "quote_settings", a.WorkspaceID, st)
	})
	return st, err
}

// Quote is an issued quote: a numbered version of a deal's quote with its
// document as it was printed.
type Quote struct {
	ID         int64          `json:"id"`
	DealID     int64          `json:"deal_id"`
	Number     string         `json:"number" doc:"shared by every version of the deal's quote"`
	Version    int            `json:"version"`
	Lang       string         `json:"lang"`
	IssueDate  string         `json:"issue_date"`
	ValidUntil string         `json:"valid_until"`
	Currency   string         `json:"currency"`
	Subtotal   float64        `json:"subtotal" doc:"before tax, major units"`
	Tax        float64        `json:"tax"`
	Total      float64        `json:"total"`
	IssuedBy   int64          `json:"issued_by,omitempty"`
	IssuedAt   time.Time      `json:"issued_at"`
	Document   quote.Document `json:"document" doc:"the quote as printed; unlike the rest of the API its amounts are integers in minor units (minor_digits)"`
}

// IssueInput chooses a new quote's language and dates.
type IssueInput struct {
	Lang       string `json:"lang,omitempty" doc:"ja (default) or en"`
	IssueDate  string `json:"issue_date,omitempty" doc:"YYYY-MM-DD (default: today in the workspace's time zone)"`
	ValidUntil string `json:"valid_until,omitempty" doc:"YYYY-MM-DD (default: issue date + the settings' valid_days)"`
}

// FormatNumber is how a quote number is printed: Q-000012.
func FormatNumber(n int64) string { return fmt.Sprintf("Q-%06d", n) }

// IssueQuote snapshots the deal's line items into the next version of its
// quote (version 1 takes a new number). The document keeps the seller, the
// customer and the totals as they are now; later edits never change it.
// Consumption tax is computed once per tax rate on the document.
func (s *Service) IssueQuote(ctx context.Context, a platform.Actor, dealID int64, in IssueInput) (Quote, error) {
	var out Quote
	if !canSell(a) {
		return out, errs.E(errs.Forbidden, "", "only admins, managers and sales issue quotes")
	}
	if in.Lang == "" {
		in.Lang = "ja"
	}
	if in.Lang != "ja" && in.Lang != "en" {
		return out, errs.Field("lang", "must be ja or en")
	}
	now := s.Clock.Now()
	err := s.DB.Write(ctx, "sales.IssueQuote", func(tx *db.Tx) error {
		d, err := s.CRM.GetDeal(ctx, tx, a, dealID)
		if err != nil {
			return err
		}
		lines, _, err := s.lineItems(ctx, tx, a.WorkspaceID, dealID)
		if err != nil {
			return err
		}
		if len(lines) == 0 {
			return errs.Rule("lines", "the deal has no line items to quote")
		}
		st, err := s.GetQuoteSettings(ctx, tx, a.WorkspaceID)
		if err != nil {
			return err
		}
		if st.SellerName == "" {
			return errs.Rule("seller_name", "set the seller's name in the quote settings first")
		}
		if err := s.checkApproval(ctx, tx, a.WorkspaceID, dealID, st, lines); err != nil {
			return err
		}
		ws, err := platform.GetWorkspace(ctx, tx, a.WorkspaceID)
		if err != nil {
			return err
		}
		if in, err = in.withDates(now.In(ws.Location()), st.ValidDays); err != nil {
			return err
		}
		number, version, err := nextNumber(ctx, tx, a.WorkspaceID, dealID, now)
		if err != nil {
			return err
		}
		var customer string
		if d.CompanyID != 0 {
			co, err := s.CRM.GetCompany(ctx, tx, platform.System(a.WorkspaceID), d.CompanyID)
			if err != nil {
				return err
			}
			customer = co.Name
		}
		doc := quote.Document{Number: FormatNumber(number), Version: version + 1, Lang: in.Lang, IssueDate: in.IssueDate, ValidUntil: in.ValidUntil,
			Currency: d.Currency, MinorDigits: platform.MinorDigits(d.Currency), Customer: customer, Subject: d.Name,
			Seller:   quote.Party{Name: st.SellerName, Address: st.SellerAddress, RegistrationNumber: st.RegistrationNumber},
			Rounding: st.Rounding, Lines: lines, Totals: quote.Compute(lines, st.Rounding)}
		js, err := json.Marshal(doc)
		if err != nil {
			return err
		}
		out = Quote{DealID: dealID, Number: doc.Number, Version: doc.Version, Lang: doc.Lang, IssueDate: doc.IssueDate, ValidUntil: doc.ValidUntil,
			Currency: d.Currency, IssuedBy: a.UserID, IssuedAt: now, Document: doc}
		out.setTotals()
		if err := tx.QueryRowContext(ctx, `-- sales.IssueQuote
			INSERT INTO quotes (workspace_id, deal_id, number, version, lang, issue_date, valid_until, currency, subtotal, tax, total, document, issued_by, issued_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
			a.WorkspaceID, dealID, number, doc.Version, doc.Lang, doc.IssueDate, doc.ValidUntil, d.Currency, doc.Totals.Subtotal, doc.Totals.Tax,
			doc.Totals.Total, string(js), a.UserRef(), db.Millis(now)).Scan(&out.ID); err != nil {
			return fmt.Errorf("sales.IssueQuote: %w", err)
		}
		if _, err := platform.AppendTimeline(ctx, tx, a, platform.TimelineEntry{At: now, Kind: "quote.issued", DealID: dealID, CompanyID: d.CompanyID,
			RefType: "quote", RefID: out.ID}, map[string]any{"number": doc.Number, "version": doc.Version, "total": out.Total, "currency": d.Currency}); err != nil {
			return err
		}
		return platform.Audit(ctx, tx, a, now, "create", "quote", out.ID, map[string]any{"deal_id": dealID, "number": doc.Number, "version": doc.Version})
	})
	return out, err
}

// withDates fills in the default issue date (today) and validity, and checks them.
func (in IssueInput) withDates(today time.Time, validDays int) (IssueInput, error) {
	if in.IssueDate == "" {
		in.IssueDate = today.Format(time.DateOnly)
	}
	issued, err := time.Parse(time.DateOnly, in.IssueDate)
	if err != nil {
		return in, errs.Field("issue_date", "must be a date YYYY-MM-DD")
	}
	if in.ValidUntil == "" {
		in.ValidUntil = issued.AddDate(0, 0, validDays).Format(time.DateOnly)
	}
	if until, err := time.Parse(time.DateOnly, in.ValidUntil); err != nil {
		return in, errs.Field("valid_until", "must be a date YYYY-MM-DD")
	} else if until.Before(issued) {
		return in, errs.Field("valid_until", "must not be before the issue date")
	}
	return in, nil
}

// nextNumber returns the deal's quote number and the version before the new
// one: the deal's existing number, or the workspace's next number, taken by
// an update of the settings row, which serialises concurrent issues.
func nextNumber(ctx context.Context, tx *db.Tx, ws, dealID int64, now time.Time) (number int64, version int, err error) {
	err = tx.QueryRowContext(ctx, `-- sales.IssueQuote version
		SELECT number, version FROM quotes WHERE workspace_id = ? AND deal_id = ? ORDER BY version DESC LIMIT 1`,
		ws, dealID).Scan(&number, &version)
	if db.NoRows(err) {
		err = tx.QueryRowContext(ctx, `-- sales.IssueQuote number
			INSERT INTO quote_settings (workspace_id, next_number, updated_at) VALUES (?, 2, ?)
			ON CONFLICT (workspace_id) DO UPDATE SET next_number = quote_settings.next_number + 1
			RETURNING next_number - 1`, ws, db.Millis(now)).Scan(&number)
	}
	if err != nil {
		return 0, 0, fmt.Errorf("sales.IssueQuote number: %w", err)
	}
	return number, version, nil
}

func (q *Quote) setTotals() {
	t := q.Document.Totals
	q.Subtotal, q.Tax, q.Total = platform.FromMinor(t.Subtotal, q.Currency), platform.FromMinor(t.Tax, q.Currency), platform.FromMinor(t.Total, q.Currency)
}

const quoteCols = `id, deal_id, lang, issue_date, valid_until, currency, COALESCE(issued_by, 0), issued_at, document`

func scanQuote(sc interface{ Scan(...any) error }) (Quote, error) {
	var q Quote
	var at int64
	var doc string
	if err := sc.Scan(&q.ID, &q.DealID, &q.Lang, &q.IssueDate, &q.ValidUntil, &q.Currency, &q.IssuedBy, &at, &doc); err != nil {
		return q, err
	}
	q.IssuedAt = db.Time(at)
	if err := json.Unmarshal([]byte(doc), &q.Document); err != nil {
		return q, fmt.Errorf("quote %d: %w", q.ID, err)
	}
	q.Number, q.Version = q.Document.Number, q.Document.Version
	q.setTotals()
	return q, nil
}

// Quotes lists the versions of a deal's quote, newest first.
func (s *Service) Quotes(ctx context.Context, q db.Querier, a platform.Actor, dealID int64) ([]Quote, error) {
	if _, err := s.CRM.GetDeal(ctx, q, a, dealID); err != nil {
		return nil, err
	}
	rows, err := q.QueryContext(ctx, `-- sales.Quotes
		SELECT `+quoteCols+` FROM quotes WHERE workspace_id = ? AND deal_id = ? ORDER BY version DESC`, a.WorkspaceID, dealID)
	if err != nil {
		return nil, fmt.Errorf("sales.Quotes: %w", err)
	}
	defer rows.Close()
	out := []Quote{}
	for rows.Next() {
		x, err := scanQuote(rows)
		if err != nil {
			return nil, fmt.Errorf("sales.Quotes: %w", err)
		}
		out = append(out, x)
	}
	return out, rows.Err()
}

// GetQuote loads one version of a deal's quote.
func (s *Service) GetQuote(ctx context.Context, q db.Querier, a platform.Actor, dealID int64, version int) (Quote, error) {
	if _, err := s.CRM.GetDeal(ctx, q, a, dealID); err != nil {
		return Quote{}, err
	}
	x, err := scanQuote(q.QueryRowContext(ctx, `-- sales.GetQuote
		SELECT `+quoteCols+` FROM quotes WHERE workspace_id = ? AND deal_id = ? AND version = ?`, a.WorkspaceID, dealID, version))
	if db.NoRows(err) {
		return x, errs.NotFoundf("quote version %d of deal %d not found", version, dealID)
	}
	if err != nil {
		return x, fmt.Errorf("sales.GetQuote: %w", err)
	}
	return x, nil
}
