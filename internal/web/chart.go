package web

import (
	"fmt"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/ryorin/ryorin/internal/dataio"
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
	// The same filter parameters as the report screens (the KPIs take every
	// part), so a filtered report's trend link stays filtered.
	t, err := insight.TrendOf(r.Context(), s.DB.Reader(), c.WS, unit, n, keys, parseKPIFilter(q), c.Now)
	if err != nil {
		return err
	}
	p := s.base(c, c.Lang, "kpi.title", "reports")
	return s.download(w, "trend-"+c.Now.In(c.Loc).Format("20060102")+".csv", func(d *httpx.Download) error {
		cw := dataio.NewCSVWriter(d) // with the BOM Excel needs
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

// BarChart is a horizontal bar chart drawn as SVG on the server: one bar
// per row, split into segments when it is stacked, or centred and
// narrowing when it is a funnel. Each series fills with its own pattern
// (solid, hatched, dotted, crossed…) as well as its own colour, every bar
// carries its value as text and every segment its value as a title, so it
// reads without colour; the same numbers are in the table below it.
type BarChart struct {
	ID     string
	Title  string
	Desc   string // what the chart shows, for screen readers
	W, H   int
	Left   float64 // x of the plot's left edge (labels sit before it)
	Right  float64 // x of the plot's right edge
	AxisY  float64 // y of the value axis labels (0: none, as on a funnel)
	Rows   []BarRow
	Keys   []BarKey // the legend; empty for a single series
	Ticks  []ChartLabel
	Table  ChartTable
	CSV    string
	Funnel bool
}

// BarRow is one bar with its label and its value written beside it.
type BarRow struct {
	Label  string
	Y, H   float64
	Segs   []BarSeg
	Value  string
	ValueX float64
}

// BarSeg is one series' part of a bar.
type BarSeg struct {
	X, W  float64
	Key   int // series index: the fill pattern
	Title string
}

// BarKey is a legend entry.
type BarKey struct {
	Key  int
	Name string
}

// PatternKeys are the fill patterns a chart defines (series index mod 6).
var PatternKeys = []int{0, 1, 2, 3, 4, 5}

const barLeft, barRight, barRow, barGap, barTop = 150.0, 120.0, 20.0, 8.0, 8.0

// barChart draws rows × series values as horizontal bars, stacked when
// there is more than one series; format writes a value as text.
func barChart(p Page, id, title, desc string, labels, series []string, values [][]float64, format func(float64) string, csvURL string) BarChart {
	c := BarChart{ID: id, Title: title, Desc: desc, W: 640, Left: barLeft, Right: 640 - barRight, CSV: csvURL}
	n := len(labels)
	c.H = int(barTop + float64(n)*(barRow+barGap) + 24)
	c.AxisY = float64(c.H) - 8
	maxV := 0.0
	for _, vs := range values {
		sum := 0.0
		for _, v := range vs {
			sum += v
		}
		maxV = math.Max(maxV, sum)
	}
	maxV = niceCeil(maxV)
	plotW := c.Right - c.Left
	x := func(v float64) float64 { return c.Left + plotW*v/maxV }
	for i := 0; i <= 4; i++ {
		v := maxV * float64(i) / 4
		c.Ticks = append(c.Ticks, ChartLabel{At: x(v), Text: shortNumber(v)})
	}
	if len(series) > 1 {
		for k, name := range series {
			c.Keys = append(c.Keys, BarKey{Key: k % len(PatternKeys), Name: name})
		}
	}
	c.Table.Head = append([]string{""}, series...)
	if len(series) > 1 {
		c.Table.Head = append(c.Table.Head, p.T("funnel.total"))
	}
	for i, label := range labels {
		r := BarRow{Label: label, Y: barTop + float64(i)*(barRow+barGap), H: barRow}
		at, sum := 0.0, 0.0
		row := []string{label}
		for k, v := range values[i] {
			row = append(row, format(v))
			sum += v
			if v <= 0 {
				continue
			}
			r.Segs = append(r.Segs, BarSeg{X: x(at), W: x(at+v) - x(at), Key: k % len(PatternKeys), Title: label + " · " + series[k] + ": " + format(v)})
			at += v
		}
		if len(series) > 1 {
			row = append(row, format(sum))
		}
		r.Value, r.ValueX = format(sum), x(sum)+6
		c.Table.Rows = append(c.Table.Rows, row)
		c.Rows = append(c.Rows, r)
	}
	return c
}

// funnelChart draws the funnel's steps over all cohorts as centred bars
// narrowing with the count, each labelled with its count and its rate from
// the step before.
func funnelChart(p Page, fp *FunnelPage) BarChart {
	t := fp.Funnel.Total
	c := BarChart{ID: "funnel", Title: p.T("chart.funnel_title", "n", fp.Months), Desc: p.T("chart.funnel_desc"), W: 640, Left: barLeft, Right: 640 - barRight, Funnel: true}
	c.CSV = "/reports/funnel?months=" + strconv.Itoa(fp.Months) + "&format=csv" + fp.RF.Query()
	steps := fp.Steps()
	c.H = int(barTop + float64(len(steps))*(barRow+barGap) + 8)
	plotW := c.Right - c.Left
	top := 0
	if len(t.Reached) > 0 {
		top = t.Reached[0]
	}
	c.Table.Head = []string{p.T("chart.step"), p.T("chart.count"), p.T("chart.rate_prev"), p.T("funnel.median_days")}
	for _, i := range steps {
		n := t.Reached[i]
		label := fp.StepLabel(i)
		w := 0.0
		if top > 0 {
			w = math.Max(2, plotW*float64(n)/float64(top))
		}
		r := BarRow{Label: label, Y: barTop + float64(i)*(barRow+barGap), H: barRow, Value: i18n.Number(int64(n)), ValueX: c.Right + 6}
		rate, days := "", ""
		if i > 0 {
			rate = fp.Rate(n, t.Reached[i-1])
			days = fp.Days(t.MedianDays[i-1])
			r.Value += " (" + rate + ")"
		}
		if top > 0 {
			r.Segs = []BarSeg{{X: c.Left + (plotW-w)/2, W: w, Key: i % len(PatternKeys), Title: label + ": " + r.Value}}
		}
		c.Rows = append(c.Rows, r)
		c.Table.Rows = append(c.Table.Rows, []string{label, i18n.Number(int64(n)), rate, days})
	}
	return c
}

// channelChart draws the leads each channel brought in the period.
func channelChart(p Page, cp *ChannelReportPage, csvURL string) BarChart {
	var labels []string
	var vals [][]float64
	for _, r := range cp.Q.Rows {
		labels = append(labels, channelName(p, r.Channel))
		vals = append(vals, []float64{float64(r.Leads)})
	}
	return barChart(p, "channel-leads", p.T("chart.leads_by_channel"), p.T("chart.leads_by_channel_desc"), labels, []string{p.T("chq.leads")}, vals,
		func(v float64) string { return i18n.Number(int64(math.Round(v))) }, csvURL)
}

// repChart draws each rep's activities in the period stacked by kind.
func repChart(p Page, rp *RepsPage, csvURL string) BarChart {
	var labels, series []string
	for _, k := range rp.Kinds {
		series = append(series, p.T("activity.kind."+k))
	}
	var vals [][]float64
	for _, r := range rp.R.Reps {
		labels = append(labels, r.Name)
		row := make([]float64, len(rp.Kinds))
		for i, k := range rp.Kinds {
			row[i] = float64(r.Activities[k])
		}
		vals = append(vals, row)
	}
	return barChart(p, "rep-activities", p.T("chart.activities_by_rep"), p.T("chart.activities_by_rep_desc"), labels, series, vals,
		func(v float64) string { return i18n.Number(int64(math.Round(v))) }, csvURL)
}

func channelName(p Page, key string) string {
	if key == "" {
		return p.T("chart.no_channel")
	}
	return p.Channel(key)
}
