package quote

import (
	"testing"
)

// FuzzCompute checks the document's figures against each other for any
// valid lines: each rate's tax is its subtotal × rate within one minor unit,
// the rounding rules are ordered floor ≤ round ≤ ceil, and the total adds up.
func FuzzCompute(f *testing.F) {
	f.Add(int64(1000), int64(335), int64(0), int64(2000), int64(110), int64(500), true)
	f.Add(int64(MaxQuantityMilli), int64(999_999), int64(10000), int64(1), int64(1), int64(0), false)
	f.Add(int64(1), int64(1), int64(3333), int64(3), int64(7), int64(1), true)
	f.Fuzz(func(t *testing.T, q1, p1, d1, q2, p2, d2 int64, reduced bool) {
		cat := Standard
		if reduced {
			cat = Reduced
		}
		lines := []Line{
			{Description: "a", QuantityMilli: q1, UnitPrice: p1, DiscountKind: DiscountPercent, DiscountValue: d1},
			{Description: "b", QuantityMilli: q2, UnitPrice: p2, DiscountKind: DiscountAmount, DiscountValue: d2, TaxCategory: cat},
		}
		for i := range lines {
			if lines[i].Check("l") != nil {
				return
			}
			if tot := lines[i].Total(); tot < 0 || tot > lines[i].Gross() {
				t.Fatalf("line %d total %d outside 0..gross %d", i, tot, lines[i].Gross())
			}
		}
		fl, rd, cl := Compute(lines, Floor), Compute(lines, Round), Compute(lines, Ceil)
		if fl.Subtotal != lines[0].Total()+lines[1].Total() {
			t.Fatalf("subtotal %d", fl.Subtotal)
		}
		for i, r := range fl.Rates {
			exact := float64(r.Subtotal) * float64(r.RatePercent) / 100
			if float64(r.Tax) > exact+1e-6*exact+1e-9 || float64(r.Tax) < exact-1-1e-6*exact {
				t.Fatalf("floor tax %d for %f", r.Tax, exact)
			}
			if !(r.Tax <= rd.Rates[i].Tax && rd.Rates[i].Tax <= cl.Rates[i].Tax && cl.Rates[i].Tax-r.Tax <= 1) {
				t.Fatalf("rounding order: %d %d %d", r.Tax, rd.Rates[i].Tax, cl.Rates[i].Tax)
			}
		}
		for _, x := range []Totals{fl, rd, cl} {
			var sub, tax int64
			for _, r := range x.Rates {
				sub, tax = sub+r.Subtotal, tax+r.Tax
			}
			if sub != x.Subtotal || tax != x.Tax || x.Total != x.Subtotal+x.Tax {
				t.Fatalf("totals do not add up: %+v", x)
			}
		}
	})
}
