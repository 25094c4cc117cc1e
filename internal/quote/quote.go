package quote

import (
	"fmt"
	"math/big"
	"strings"
	"unicode"

	"github.com/ryorin/ryorin/internal/errs"
)

// TaxCategory is a line's consumption tax category.
type TaxCategory string

// The consumption tax categories.
const (
	Standard TaxCategory = "standard" // 標準税率 10%
	Reduced  TaxCategory = "reduced"  // 軽減税率 8% (food, newspapers)
)

// RatePercent is the category's tax rate in percent.
func (c TaxCategory) RatePercent() int64 {
	if c == Reduced {
		return 8
	}
	return 10
}

// Valid reports whether c is a known category.
func (c TaxCategory) Valid() bool { return c == Standard || c == Reduced }

// Billing says whether a line is charged once or every month or year.
type Billing string

// The billing kinds.
const (
	OneTime Billing = "one_time"
	Monthly Billing = "month"
	Yearly  Billing = "year"
)

// Valid reports whether b is a known billing kind.
func (b Billing) Valid() bool { return b == OneTime || b == Monthly || b == Yearly }

// Rounding is how the tax of a rate's subtotal is rounded to the minor unit.
type Rounding string

// The rounding rules; Floor (切り捨て) is the default, as most sellers use.
const (
	Floor Rounding = "floor"
	Round Rounding = "round" // half away from zero (四捨五入)
	Ceil  Rounding = "ceil"
)

// Valid reports whether r is a known rounding rule.
func (r Rounding) Valid() bool { return r == Floor || r == Round || r == Ceil }

// The discount kinds of a line.
const (
	DiscountNone    = ""
	DiscountPercent = "percent" // DiscountValue in hundredths of a percent (1250 = 12.5%)
	DiscountAmount  = "amount"  // DiscountValue in minor units
)

// Limits keep every product of the arithmetic inside int64.
const (
	MaxQuantityMilli = 1_000_000_000     // one million units
	MaxUnitPrice     = 1_000_000_000_000 // minor units
	MaxLineTotal     = 1_000_000_000_000_000
)

// Line is one line of a quote or of a deal, in minor units of the currency.
type Line struct {
	ProductID     int64       `json:"product_id,omitempty"`
	Description   string      `json:"description"`
	QuantityMilli int64       `json:"quantity_milli"`
	UnitPrice     int64       `json:"unit_price"`
	DiscountKind  string      `json:"discount_kind,omitempty"`
	DiscountValue int64       `json:"discount_value,omitempty"`
	Billing       Billing     `json:"billing"`
	TaxCategory   TaxCategory `json:"tax_category"`
}

// Gross is quantity × unit price, rounded half away from zero to the minor unit.
func (l Line) Gross() int64 { return mulDivRound(l.QuantityMilli, l.UnitPrice, 1000) }

// Discount is the amount taken off the gross: a percentage of it, rounded
// half away from zero, or a fixed amount.
func (l Line) Discount() int64 {
	switch l.DiscountKind {
	case DiscountPercent:
		return mulDivRound(l.Gross(), l.DiscountValue, 10000)
	case DiscountAmount:
		return l.DiscountValue
	}
	return 0
}

// Total is the line's amount before tax: gross less discount.
func (l Line) Total() int64 { return l.Gross() - l.Discount() }

// DiscountBP is the line's discount as hundredths of a percent of its gross
// (what the approval threshold compares).
func (l Line) DiscountBP() int64 {
	g := l.Gross()
	if g <= 0 {
		return 0
	}
	return mulDivRound(l.Discount(), 10000, g)
}

// Check validates the line; field names are prefixed with at (e.g. "lines[2]").
func (l *Line) Check(at string) error {
	l.Description = strings.TrimSpace(l.Description)
	if l.Description == "" {
		return errs.Field(at+".description", "is required")
	}
	if len([]rune(l.Description)) > 500 {
		return errs.Field(at+".description", "is longer than 500 characters")
	}
	if l.QuantityMilli <= 0 || l.QuantityMilli > MaxQuantityMilli {
		return errs.Field(at+".quantity", "must be more than 0 and at most 1,000,000")
	}
	if l.UnitPrice < 0 || l.UnitPrice > MaxUnitPrice {
		return errs.Field(at+".unit_price", "must be between 0 and 10^12")
	}
	if l.Billing == "" {
		l.Billing = OneTime
	}
	if !l.Billing.Valid() {
		return errs.Field(at+".billing", "must be one_time, month or year")
	}
	if l.TaxCategory == "" {
		l.TaxCategory = Standard
	}
	if !l.TaxCategory.Valid() {
		return errs.Field(at+".tax_category", "must be standard or reduced")
	}
	switch l.DiscountKind {
	case DiscountNone:
		if l.DiscountValue != 0 {
			return errs.Field(at+".discount_kind", "is required with a discount")
		}
	case DiscountPercent:
		if l.DiscountValue < 0 || l.DiscountValue > 10000 {
			return errs.Field(at+".discount", "must be 0 to 100 percent")
		}
	case DiscountAmount:
		if l.DiscountValue < 0 || l.DiscountValue > l.Gross() {
			return errs.Field(at+".discount", "must be between 0 and the line's amount")
		}
	default:
		return errs.Field(at+".discount_kind", "must be percent or amount")
	}
	if l.Gross() > MaxLineTotal {
		return errs.Field(at+".amount", "quantity × unit price must be at most 10^15")
	}
	return nil
}

// RateTotal is the subtotal of the lines at one tax rate and its tax.
type RateTotal struct {
	Category    TaxCategory `json:"tax_category"`
	RatePercent int64       `json:"rate_percent"`
	Subtotal    int64       `json:"subtotal"`
	Tax         int64       `json:"tax"`
}

// Totals are a document's figures in minor units.
type Totals struct {
	Rates    []RateTotal `json:"rates"` // standard first, then reduced; only rates with lines
	Subtotal int64       `json:"subtotal"`
	Tax      int64       `json:"tax"`
	Total    int64       `json:"total"`
}

// Compute sums lines per tax rate and computes the consumption tax once per
// rate on that sum, rounded by r — never per line, which the qualified
// invoice rules forbid (one rounding per document per rate). A recurring line
// counts with one billing period.
func Compute(lines []Line, r Rounding) Totals {
	var t Totals
	for _, c := range []TaxCategory{Standard, Reduced} {
		rt := RateTotal{Category: c, RatePercent: c.RatePercent()}
		n := 0
		for _, l := range lines {
			if l.TaxCategory == c || (c == Standard && !l.TaxCategory.Valid()) {
				rt.Subtotal += l.Total()
				n++
			}
		}
		if n == 0 {
			continue
		}
		rt.Tax = Tax(rt.Subtotal, rt.RatePercent, r)
		t.Rates = append(t.Rates, rt)
		t.Subtotal += rt.Subtotal
		t.Tax += rt.Tax
	}
	t.Total = t.Subtotal + t.Tax
	return t
}

// Tax is subtotal × percent / 100 rounded to the minor unit by r.
func Tax(subtotal, percent int64, r Rounding) int64 {
	num := new(big.Int).Mul(big.NewInt(subtotal), big.NewInt(percent))
	q, m := new(big.Int).QuoRem(num, big.NewInt(100), new(big.Int))
	if m.Sign() == 0 {
		return q.Int64()
	}
	switch r {
	case Ceil:
		if num.Sign() > 0 {
			q.Add(q, big.NewInt(1))
		}
	case Round:
		if new(big.Int).Abs(m).Int64()*2 >= 100 {
			q.Add(q, big.NewInt(int64(num.Sign())))
		}
	default: // floor
		if num.Sign() < 0 {
			q.Sub(q, big.NewInt(1))
		}
	}
	return q.Int64()
}

// mulDivRound is a×b/c rounded half away from zero, without overflow in
// between (the result must fit in int64, which the limits ensure).
func mulDivRound(a, b, c int64) int64 {
	num := new(big.Int).Mul(big.NewInt(a), big.NewInt(b))
	q, m := new(big.Int).QuoRem(num, big.NewInt(c), new(big.Int))
	if new(big.Int).Abs(m).Int64()*2 >= c {
		q.Add(q, big.NewInt(int64(num.Sign())))
	}
	return q.Int64()
}

// NormalizeRegistration returns a qualified invoice issuer registration
// number (登録番号) in its canonical form "T" + 13 digits, accepting
// full-width characters, a lower-case t and separators (spaces, hyphens).
// An empty number stays empty (not yet registered).
func NormalizeRegistration(s string) (string, error) {
	var b strings.Builder
	for _, r := range s {
		if r >= 0xFF01 && r <= 0xFF5E { // full-width ASCII
			r -= 0xFEE0
		}
		if unicode.IsSpace(r) || r == '-' || r == 'ー' || r == '‐' || r == '−' {
			continue
		}
		b.WriteRune(unicode.ToUpper(r))
	}
	n := b.String()
	if n == "" {
		return "", nil
	}
	if len(n) != 14 || n[0] != 'T' {
		return "", errs.Field("registration_number", "must be T followed by 13 digits")
	}
	for _, r := range n[1:] {
		if r < '0' || r > '9' {
			return "", errs.Field("registration_number", "must be T followed by 13 digits")
		}
	}
	return n, nil
}

// FormatQuantity shows thousandths as a decimal without trailing zeros (1.5, 12).
func FormatQuantity(milli int64) string {
	s := fmt.Sprintf("%d.%03d", milli/1000, milli%1000)
	s = strings.TrimRight(s, "0")
	return strings.TrimSuffix(s, ".")
}
