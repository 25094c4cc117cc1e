package web

import (
	"math"
	"strconv"
	"testing"

	"github.com/ryorin/ryorin/internal/i18n"
	"github.com/ryorin/ryorin/internal/insight"
	"github.com/ryorin/ryorin/internal/platform"
)

// A stacked bar's segments sit end to end from the axis, a zero value
// draws nothing but still shows in the table, each series has its own fill
// pattern, and the bar's total is written beside it.
func TestBarChart_StacksSegmentsEndToEndWithOwnPatterns(t *testing.T) {
	p := Page{Lang: i18n.EN}
	format := func(v float64) string { return strconv.FormatFloat(v, 'f', 0, 64) }
	c := barChart(p, "t", "Title", "Desc", []string{"A", "B"}, []string{"call", "email", "demo"}, [][]float64{{3, 0, 5}, {1, 1, 1}}, format, "/x.csv")
	if len(c.Rows) != 2 || len(c.Keys) != 3 || c.Keys[0].Key == c.Keys[1].Key || c.Keys[1].Key == c.Keys[2].Key {
		t.Fatalf("rows %d keys %+v", len(c.Rows), c.Keys)
	}
	a := c.Rows[0]
	if len(a.Segs) != 2 || a.Segs[0].X != c.Left || math.Abs(a.Segs[1].X-(a.Segs[0].X+a.Segs[0].W)) > 1e-9 || a.Segs[1].Key != 2 {
		t.Errorf("row A segments %+v", a.Segs)
	}
	// 8 of a nice maximum of 10 (the axis rounds 8 up).
	if end := a.Segs[1].X + a.Segs[1].W; math.Abs(end-(c.Left+(c.Right-c.Left)*0.8)) > 1e-9 || a.Value != "8" {
		t.Errorf("row A ends at %v with %q", end, a.Value)
	}
	if got := c.Table.Rows[0]; len(got) != 5 || got[0] != "A" || got[1] != "3" || got[2] != "0" || got[3] != "5" || got[4] != "8" {
		t.Errorf("table row %v", got)
	}
	if c.Table.Head[4] != "All" || a.Segs[0].Title != "A · call: 3" {
		t.Errorf("head %v, title %q", c.Table.Head, a.Segs[0].Title)
	}
	// One series: no legend, no total column.
	one := barChart(p, "o", "T", "D", []string{"A"}, []string{"leads"}, [][]float64{{0}}, format, "")
	if len(one.Keys) != 0 || len(one.Table.Head) != 2 || len(one.Rows[0].Segs) != 0 {
		t.Errorf("single series %+v", one)
	}
}

// The funnel's bars are centred and narrow with the count; a step's value
// carries its rate from the step before.
func TestFunnelChart_CentresBarsAndShowsRates(t *testing.T) {
	p := Page{Lang: i18n.EN}
	fp := &FunnelPage{Page: p, Months: 3, Funnel: insight.Funnel{Stages: []platform.Stage{platform.StageMQL, platform.StageSQL},
		Total: insight.Cohort{Reached: []int{10, 5, 0}, MedianDays: []*float64{nil, nil}}}}
	c := funnelChart(p, fp)
	mid := (c.Left + c.Right) / 2
	if len(c.Rows) != 3 || len(c.Rows[2].Segs) != 1 {
		t.Fatalf("rows %+v", c.Rows)
	}
	for i, r := range c.Rows {
		s := r.Segs[0]
		if math.Abs(s.X+s.W/2-mid) > 1e-9 {
			t.Errorf("step %d not centred: %+v", i, s)
		}
	}
	if c.Rows[1].Segs[0].W*2 != c.Rows[0].Segs[0].W || c.Rows[1].Value != "5 (50%)" || c.Table.Rows[1][2] != "50%" || c.Table.Rows[0][0] != "Contacts created" {
		t.Errorf("step 1: %+v, table %v", c.Rows[1], c.Table.Rows)
	}
	if c.CSV != "/reports/funnel?months=3&format=csv" {
		t.Errorf("CSV %q", c.CSV)
	}
}
