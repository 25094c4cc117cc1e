package quote

import (
	"math"

	"github.com/ryorin/ryorin/internal/i18n"
)

// Party is the seller as printed on a quote.
type Party struct {
	Name               string `json:"name"`
	Address            string `json:"address,omitempty"`
	RegistrationNumber string `json:"registration_number,omitempty" doc:"登録番号, T + 13 digits"`
}

// Document is an issued quote as it was printed: a snapshot that later
// changes to the deal, products or settings never touch.
type Document struct {
	Number      string   `json:"number" doc:"the deal's quote number, shared by its versions"`
	Version     int      `json:"version"`
	Lang        string   `json:"lang" doc:"ja or en"`
	IssueDate   string   `json:"issue_date"`
	ValidUntil  string   `json:"valid_until"`
	Currency    string   `json:"currency"`
	MinorDigits int      `json:"minor_digits" doc:"0 for yen"`
	Customer    string   `json:"customer" doc:"the customer company's name"`
	Subject     string   `json:"subject" doc:"the deal's name"`
	Seller      Party    `json:"seller"`
	Rounding    Rounding `json:"rounding"`
	Lines       []Line   `json:"lines"`
	Totals      Totals   `json:"totals"`
}

// Language is the document's language (Japanese unless it says English).
func (d Document) Language() i18n.Lang {
	if d.Lang == "en" {
		return i18n.EN
	}
	return i18n.JA
}

// T translates a label into the document's language.
func (d Document) T(key string, args ...any) string { return i18n.T(d.Language(), key, args...) }

// Money formats minor units of the document's currency: ¥1,234,567.
func (d Document) Money(minor int64) string {
	return i18n.Money(float64(minor)/math.Pow10(d.MinorDigits), d.Currency)
}

// Qty formats a line's quantity.
func (d Document) Qty(l Line) string { return FormatQuantity(l.QuantityMilli) }

// HasReduced reports whether any line is at the reduced rate (the document
// then marks those lines, as the qualified invoice rules require).
func (d Document) HasReduced() bool {
	for _, l := range d.Lines {
		if l.TaxCategory == Reduced {
			return true
		}
	}
	return false
}

// Addressee is the customer's name as addressed: 「株式会社テスト 御中」 in
// Japanese, the name alone in English.
func (d Document) Addressee() string {
	if d.Customer == "" {
		return ""
	}
	if d.Language() == i18n.JA {
		return d.Customer + " 御中"
	}
	return d.Customer
}

// Percent shows a percentage discount: 12.5%.
func (d Document) Percent(l Line) string { return FormatQuantity(l.DiscountValue*10) + "%" }
