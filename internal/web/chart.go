package web

import (
	"encoding/csv"
	"fmt"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/ryorin/ryorin/internal/httpx"
	"github.com/ryorin/ryorin/internal/i18n"
	"github.com/ryorin/ryorin/internal/insight"
)

// Chart is a line chart drawn as SVG on the server: each series has its
// own dash pattern and marker shape, and every point its value as a title,
// so it reads without colour; the same numbers are in the table below it.
type Chart struct {
	ID      string
	Title   string
	W, H    int
	Right   float64 // x of the plot's right edge
	Series  []ChartSeries
	XLabels []ChartLabel
	YTicks  []ChartLabel
	Table   ChartTable
	CSV     string // address of the same data as CSV
}

// ChartSeries is one line.
type ChartSeries struct {
	Name   string
	Class  string // s0, s1, … (colour and dash pattern)
	Marker string // circle, square, triangle
	Path   string
	Points []ChartPoint
}

// ChartPoint is one point with its value shown on hover.
type ChartPoint struct {
	X, Y  float64
	Label string
}

// ChartLabel is an axis label at a position.
type ChartLabel struct {
	At   float64
	Text string
}

// ChartTable is the chart's data as a table.
type ChartTable struct {
	Head []string
	Rows [][]string
}

var markers = []string{"circle", "square", "triangle", "diamond"}

// lineChart draws the series keys of t (labels from names) in a w×h box.
func lineChart(p Page, id, title string, t insight.Trend, keys []string, names []string, money bool, currency string) Chart {
	const left, right, top, bottom = 64.0, 28.0, 12.0, 28.0
	c := Chart{ID: id, Title: title, W: 640, H: 220, Right: 640 - right}
	plotW, plotH := float64(c.W)-left-right, float64(c.H)-top-bottom
	maxV := 0.0
	for _, k := range keys {
		for _, v := range t.Series(k) {
			maxV = math.Max(maxV, v)
		}
	}
	maxV = niceCeil(maxV)
	n := len(t.Periods)
	x := func(i int) float64 {
		if n == 1 {
			return left + plotW/2
		}
		return left + plotW*float64(i)/float64(n-1)
	}
	y := func(v float64) float64 { return top + plotH*(1-v/maxV) }
	format := func(v float64) string {
		if money {
			return i18n.Money(v, currency)
		}
		return i18n.Number(int64(math.Round(v)))
	}
	for i := 0; i <= 4; i++ {
		v := maxV * float64(i) / 4
		c.YTicks = append(c.YTicks, ChartLabel{At: y(v), Text: shortNumber(v)})
	}
	step := max(1, n/6)
	for i, per := range t.Periods {
		if i%step == 0 || i == n-1 {
			c.XLabels = append(c.XLabels, ChartLabel{At: x(i), Text: p.Short(per.From)})
		}
	}
	c.Table.Head = append([]string{p.T("chart.period")}, names...)
	for i, per := range t.Periods {
		row := []string{p.Date(per.From)}
		for _, k := range keys {
			row = append(row, format(t.Series(k)[i]))
		}
		c.Table.Rows = append(c.Table.Rows, row)
	}
	for si, k := range keys {
		s := ChartSeries{Name: names[si], Class: "s" + strconv.Itoa(si), Marker: markers[si%len(markers)]}
		var path strings.Builder
		for i, v := range t.Series(k) {
			px, py := x(i), y(v)
			if i == 0 {
				fmt.Fprintf(&path, "M%.1f %.1f", px, py)
			} else {
				fmt.Fprintf(&path, " L%.1f %.1f", px, py)
			}
			s.Points = append(s.Points, ChartPoint{X: px, Y: py, Label: names[si] + " " + p.Date(t.Periods[i].From) + ": " + format(v)})
		}
		s.Path = path.String()
		c.Series = append(c.Series, s)
	}
	return c
}

// niceCeil rounds a maximum up to 1, 2, 2.5 or 5 × a power of ten (at least 4).
func niceCeil(v float64) float64 {
	if v <= 4 {
		return 4
	}
	mag := math.Pow(10, math.Floor(math.Log10(v)))
	for _, m := range []float64{1, 2, 2.5, 5, 10} {
		if v <= m*mag {
			return m * mag
		}
	}
	return 10 * mag
}

// shortNumber formats an axis value compactly (12k, 3.5M).
func shortNumber(v float64) string {
	switch {
	case v >= 1e8:
		return strconv.FormatFloat(v/1e6, 'f', 0, 64) + "M"
	case v >= 1e6:
		return strconv.FormatFloat(v/1e6, 'f', 1, 64) + "M"
	case v >= 1e4:
		return strconv.FormatFloat(v/1e3, 'f', 0, 64) + "k"
	}
	return strconv.FormatFloat(v, 'f', 0, 64)
}

// Short formats a day as a compact axis label (11/3; Nov 3).
func (p Page) Short(t time.Time) string {
	t = t.In(p.Loc)
	if p.Lang == i18n.JA {
		return fmt.Sprintf("%d/%d", int(t.Month()), t.Day())
	}
	return t.Format("Jan 2")
}

// trendCSV serves a trend as CSV (UTF-8 with BOM): a row per period, a
// column per figure, the same numbers the chart draws.
func (s *Server) trendCSV(w http.ResponseWriter, r *http.Request, c *rctx) error {
	q := r.URL.Query()
	unit := q.Get("unit")
	if unit != "month" {
		unit = "week"
	}
	n, _ := strconv.Atoi(q.Get("n"))
	var keys []string
	for _, k := range q["key"] {
		if slices.Contains(insight.TrendKeys, k) {
			keys = append(keys, k)
		}
	}
	if len(keys) == 0 {
		keys = insight.TrendKeys
	}
	t, err := insight.TrendOf(r.Context(), s.DB.Reader(), c.WS, unit, n, keys, insight.KPIFilter{}, c.Now)
	if err != nil {
		return err
	}
	p := s.base(c, c.Lang, "kpi.title", "reports")
	return s.download(w, "trend-"+c.Now.In(c.Loc).Format("20060102")+".csv", func(d *httpx.Download) error {
		if _, err := d.Write([]byte("\uFEFF")); err != nil {
			return err
		}
		cw := csv.NewWriter(d)
		head := []string{p.T("chart.period")}
		for _, k := range keys {
			head = append(head, p.T("kpi."+k))
		}
		if err := cw.Write(head); err != nil {
			return err
		}
		for i, per := range t.Periods {
			row := []string{per.From.In(c.Loc).Format(time.DateOnly)}
			for _, k := range keys {
				row = append(row, strconv.FormatFloat(t.Series(k)[i], 'f', -1, 64))
			}
			if err := cw.Write(row); err != nil {
				return err
			}
		}
		cw.Flush()
		return cw.Error()
	})
}
