package platform

import (
	"context"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/ryorin/ryorin/internal/db"
	"github.com/ryorin/ryorin/internal/errs"
)

// currencyExponent is the number of minor-unit digits of the currencies
// Ryorin accepts. Amounts are stored as integers in minor units.
var currencyExponent = map[string]int{
	"JPY": 0, "KRW": 0, "USD": 2, "EUR": 2, "GBP": 2, "CNY": 2, "TWD": 2, "HKD": 2,
	"SGD": 2, "AUD": 2, "CAD": 2, "CHF": 2, "THB": 2, "INR": 2, "VND": 0, "PHP": 2,
	"IDR": 2, "MYR": 2, "NZD": 2,
}

// ValidCurrency reports whether c is an accepted ISO 4217 code.
func ValidCurrency(c string) bool { _, ok := currencyExponent[c]; return ok }

// Currencies lists the accepted currency codes.
func Currencies() []string {
	out := make([]string, 0, len(currencyExponent))
	for c := range currencyExponent {
		out = append(out, c)
	}
	return out
}

// ToMinor converts an amount in major units (e.g. 1234.56 USD) to minor units.
func ToMinor(amount float64, currency string) int64 {
	return int64(math.Round(amount * math.Pow10(currencyExponent[currency])))
}

// FromMinor converts minor units back to major units for display and the API.
func FromMinor(minor int64, currency string) float64 {
	e := currencyExponent[currency]
	if e == 0 {
		return float64(minor)
	}
	return float64(minor) / math.Pow10(e)
}

// ExchangeRate says how many units of the base currency one unit of Currency
// was worth from ValidFrom (a date) on.
type ExchangeRate struct {
	Currency  string  `json:"currency"`
	ValidFrom string  `json:"valid_from"`
	Rate      float64 `json:"rate"`
}

// SetExchangeRate stores a rate. Only admins and managers may call it.
func SetExchangeRate(ctx context.Context, d *db.DB, a Actor, r ExchangeRate, now time.Time) error {
	if !a.Is(RoleAdmin, RoleManager) {
		return errs.E(errs.Forbidden, "", "only admins and managers set exchange rates")
	}
	r.Currency = strings.ToUpper(r.Currency)
	if !ValidCurrency(r.Currency) {
		return errs.Field("currency", "unknown currency %q", r.Currency)
	}
	if _, err := time.Parse(time.DateOnly, r.ValidFrom); err != nil {
		return errs.Field("valid_from", "must be a date YYYY-MM-DD")
	}
	if r.Rate <= 0 || math.IsInf(r.Rate, 0) || math.IsNaN(r.Rate) {
		return errs.Field("rate", "must be a positive number")
	}
	return d.Write(ctx, "platform.SetExchangeRate", func(tx *db.Tx) error {
		_, err := tx.ExecContext(ctx, `-- platform.SetExchangeRate
			INSERT INTO exchange_rates (workspace_id, currency, valid_from, rate) VALUES (?, ?, ?, ?)
			ON CONFLICT (workspace_id, currency, valid_from) DO UPDATE SET rate = excluded.rate`,
			a.WorkspaceID, r.Currency, r.ValidFrom, r.Rate)
		if err != nil {
			return fmt.Errorf("platform.SetExchangeRate: %w", err)
		}
		return Audit(ctx, tx, a, now, "update", "exchange_rate", 0, r)
	})
}

// ListExchangeRates returns every stored rate, newest first per currency.
func ListExchangeRates(ctx context.Context, q db.Querier, ws int64) ([]ExchangeRate, error) {
	rows, err := q.QueryContext(ctx, `-- platform.ListExchangeRates
		SELECT currency, valid_from, rate FROM exchange_rates WHERE workspace_id = ? ORDER BY currency, valid_from DESC`, ws)
	if err != nil {
		return nil, fmt.Errorf("platform.ListExchangeRates: %w", err)
	}
	defer rows.Close()
	out := []ExchangeRate{}
	for rows.Next() {
		var r ExchangeRate
		if err := rows.Scan(&r.Currency, &r.ValidFrom, &r.Rate); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// ToBase converts minor units of currency on date (YYYY-MM-DD) to minor units
// of the workspace's base currency, using the latest rate valid on that date.
// It fails with Unprocessable when no rate is known.
func ToBase(ctx context.Context, q db.Querier, w Workspace, minor int64, currency, date string) (int64, error) {
	if currency == w.BaseCurrency {
		return minor, nil
	}
	var rate float64
	err := q.QueryRowContext(ctx, `-- platform.ToBase
		SELECT rate FROM exchange_rates WHERE workspace_id = ? AND currency = ? AND valid_from <= ?
		ORDER BY valid_from DESC LIMIT 1`, w.ID, currency, date).Scan(&rate)
	if db.NoRows(err) {
		return 0, errs.Rule("currency", "no exchange rate for %s on %s", currency, date)
	}
	if err != nil {
		return 0, fmt.Errorf("platform.ToBase: %w", err)
	}
	return ToMinor(FromMinor(minor, currency)*rate, w.BaseCurrency), nil
}

// MinorDigits is the number of minor-unit digits of currency (0 for yen).
func MinorDigits(currency string) int { return currencyExponent[currency] }
