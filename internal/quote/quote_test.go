package quote

import (
	"testing"

	"github.com/ryorin/ryorin/internal/errs"
)

func TestCompute_TaxOncePerRateNotPerLine(t *testing.T) {
	// Three lines of ¥335 at 10%: rounding each line's tax down would give
	// 33×3 = 99; the document's rule taxes the ¥1,005 sum once: 100.5 → 100
	// (floor), 101 (round, ceil). Two lines of ¥110 at 8%: per line 8×2 = 16;
	// on the sum 17.6 → 17 / 18 / 18.
	lines := []Line{
		{Description: "a", QuantityMilli: 1000, UnitPrice: 335, TaxCategory: Standard},
		{Description: "b", QuantityMilli: 1000, UnitPrice: 335, TaxCategory: Standard},
		{Description: "c", QuantityMilli: 1000, UnitPrice: 335, TaxCategory: Standard},
		{Description: "d", QuantityMilli: 1000, UnitPrice: 110, TaxCategory: Reduced},
		{Description: "e", QuantityMilli: 1000, UnitPrice: 110, TaxCategory: Reduced},
	}
	for _, c := range []struct {
		r        Rounding
		std, red int64
	}{{Floor, 100, 17}, {Round, 101, 18}, {Ceil, 101, 18}} {
		got := Compute(lines, c.r)
		if len(got.Rates) != 2 || got.Rates[0].Subtotal != 1005 || got.Rates[0].Tax != c.std || got.Rates[1].Subtotal != 220 || got.Rates[1].Tax != c.red {
			t.Errorf("%s: %+v", c.r, got)
		}
		if got.Subtotal != 1225 || got.Tax != c.std+c.red || got.Total != 1225+c.std+c.red {
			t.Errorf("%s totals: %+v", c.r, got)
		}
	}
	// Only the rates that have lines are shown.
	if got := Compute(lines[:1], Floor); len(got.Rates) != 1 || got.Rates[0].RatePercent != 10 {
		t.Errorf("one rate: %+v", got)
	}
}

func TestLine_QuantityDiscountAndRounding(t *testing.T) {
	cases := []struct {
		l                Line
		gross, disc, tot int64
	}{
		{Line{QuantityMilli: 2500, UnitPrice: 1001}, 2503, 0, 2503},                                                           // 2502.5 → 2503
		{Line{QuantityMilli: 3000, UnitPrice: 10000, DiscountKind: DiscountPercent, DiscountValue: 1250}, 30000, 3750, 26250}, // 12.5%
		{Line{QuantityMilli: 1000, UnitPrice: 999, DiscountKind: DiscountPercent, DiscountValue: 500}, 999, 50, 949},          // 49.95 → 50
		{Line{QuantityMilli: 1000, UnitPrice: 50000, DiscountKind: DiscountAmount, DiscountValue: 5000}, 50000, 5000, 45000},
		{Line{QuantityMilli: MaxQuantityMilli, UnitPrice: MaxUnitPrice}, 1e18, 0, 1e18}, // no overflow (Check refuses it)
	}
	for i, c := range cases {
		if g, d, tot := c.l.Gross(), c.l.Discount(), c.l.Total(); g != c.gross || d != c.disc || tot != c.tot {
			t.Errorf("%d: gross %d discount %d total %d", i, g, d, tot)
		}
	}
	if bp := cases[1].l.DiscountBP(); bp != 1250 {
		t.Errorf("discount bp %d", bp)
	}
}

func TestLine_CheckNamesTheField(t *testing.T) {
	cases := map[string]Line{
		"lines[0].description":   {QuantityMilli: 1000},
		"lines[0].quantity":      {Description: "x"},
		"lines[0].unit_price":    {Description: "x", QuantityMilli: 1000, UnitPrice: -1},
		"lines[0].tax_category":  {Description: "x", QuantityMilli: 1000, TaxCategory: "zero"},
		"lines[0].billing":       {Description: "x", QuantityMilli: 1000, Billing: "weekly"},
		"lines[0].discount":      {Description: "x", QuantityMilli: 1000, UnitPrice: 100, DiscountKind: DiscountAmount, DiscountValue: 101},
		"lines[0].discount_kind": {Description: "x", QuantityMilli: 1000, DiscountKind: "free"},
		"lines[0].amount":        {Description: "x", QuantityMilli: MaxQuantityMilli, UnitPrice: MaxUnitPrice},
	}
	for field, l := range cases {
		err := l.Check("lines[0]")
		if e, ok := errs.As(err); !ok || e.Field != field {
			t.Errorf("%s: got %v", field, err)
		}
	}
	ok := Line{Description: " 保守 ", QuantityMilli: 1000, UnitPrice: 100}
	if err := ok.Check("lines[0]"); err != nil || ok.Description != "保守" || ok.Billing != OneTime || ok.TaxCategory != Standard {
		t.Errorf("defaults: %v %+v", err, ok)
	}
}

func TestNormalizeRegistration(t *testing.T) {
	for in, want := range map[string]string{"T1234567890123": "T1234567890123", "ｔ１２３４－５６７８－９０１２３": "T1234567890123", "T 1234 5678 90123": "T1234567890123", "": ""} {
		if got, err := NormalizeRegistration(in); err != nil || got != want {
			t.Errorf("%q: %q %v", in, got, err)
		}
	}
	for _, in := range []string{"1234567890123", "T123456789012", "T12345678901234", "X1234567890123", "T12345678901a3"} {
		if _, err := NormalizeRegistration(in); err == nil {
			t.Errorf("%q accepted", in)
		}
	}
}
