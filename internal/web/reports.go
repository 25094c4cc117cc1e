package web

import (
	"fmt"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/ryorin/ryorin/internal/dataio"
	"github.com/ryorin/ryorin/internal/httpx"
	"github.com/ryorin/ryorin/internal/insight"
	"github.com/ryorin/ryorin/internal/platform"
)

// FunnelPage shows conversion and time between stages by monthly cohort.
type FunnelPage struct {
	Page
	Funnel  insight.Funnel
	Months  int
	RF      ReportFilter
	Formula string
	Chart   BarChart
}

// StepLabel names funnel step i (0 = contacts created).
func (p *FunnelPage) StepLabel(i int) string {
	if i == 0 {
		return p.T("funnel.created")
	}
	return p.Stage(p.Funnel.Stages[i-1])
}

// Steps are the indexes of the funnel steps.
func (p *FunnelPage) Steps() []int {
	out := make([]int, len(p.Funnel.Stages)+1)
	for i := range out {
		out[i] = i
	}
	return out
}

// Days formats a median number of days.
func (p *FunnelPage) Days(d *float64) string {
	if d == nil {
		return "—"
	}
	return p.T("funnel.days", "n", strconv.FormatFloat(*d, 'f', 1, 64))
}

func (s *Server) funnel(w http.ResponseWriter, r *http.Request, c *rctx) error {
	ctx := r.Context()
	ws := c.WS
	var err error
	q := r.URL.Query()
	months, _ := strconv.Atoi(q.Get("months"))
	if months < 1 || months > 36 {
		months = 12
	}
	data := &FunnelPage{Page: s.base(c, c.Lang, "funnel.title", "reports"), Months: months, Formula: insight.FunnelFormula}
	data.Tab = "funnel"
	if data.RF, err = s.reportFilter(ctx, ws.ID, "funnel", q, insight.FunnelScope); err != nil {
		return err
	}
	if data.Funnel, err = insight.FunnelOf(ctx, s.DB.Reader(), ws, months, data.RF.F, c.Now); err != nil {
		return err
	}
	data.Chart = funnelChart(data.Page, data)
	if q.Get("format") == "csv" {
		return s.download(w, "funnel-"+c.Now.In(c.Loc).Format("20060102")+".csv", func(d *httpx.Download) error {
			return writeFunnelCSV(d, data)
		})
	}
	return s.show(w, c, "reports_funnel", data)
}

// writeFunnelCSV writes the table the screen shows: a row per cohort with
// each step's count, rate from the step before and median days.
func writeFunnelCSV(d *httpx.Download, p *FunnelPage) error {
	cw := dataio.NewCSVWriter(d) // with the BOM Excel needs
	head := []string{p.T("funnel.cohort")}
	for _, i := range p.Steps() {
		head = append(head, p.StepLabel(i))
		if i > 0 {
			head = append(head, p.StepLabel(i)+" %", p.StepLabel(i-1)+"→"+p.StepLabel(i)+" ("+p.T("funnel.median_days")+")")
		}
	}
	if err := cw.Write(head); err != nil {
		return err
	}
	for _, c := range append(p.Funnel.Cohorts, p.Funnel.Total) {
		month := c.Month
		if month == "" {
			month = p.T("funnel.total")
		}
		row := []string{month}
		for _, i := range p.Steps() {
			row = append(row, strconv.Itoa(c.Reached[i]))
			if i > 0 {
				rate, days := "", ""
				if c.Reached[i-1] > 0 {
					rate = fmt.Sprintf("%.1f", 100*c.Rate(i-1))
				}
				if m := c.MedianDays[i-1]; m != nil {
					days = strconv.FormatFloat(*m, 'f', 1, 64)
				}
				row = append(row, rate, days)
			}
		}
		if err := cw.Write(row); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// ChannelReportPage is the channel quality report for a period.
type ChannelReportPage struct {
	Page
	Q       insight.ChannelQuality
	Offset  int
	Reasons map[string]string
	Formula string
	MaxLead int
	RF      ReportFilter
	Chart   BarChart
}

// ReasonLabel names a rejection reason in the page's language.
func (p *ChannelReportPage) ReasonLabel(key string) string {
	if l, ok := p.Reasons[key]; ok {
		return l
	}
	return key
}

// RatioText formats a ratio as a percentage, or — when it has no base.
func (p *ChannelReportPage) RatioText(x float64, base int) string {
	if base == 0 {
		return "—"
	}
	return fmt.Sprintf("%.0f%%", 100*x)
}

// Bar is a row's lead count as a share of the largest, in percent.
func (p *ChannelReportPage) Bar(r insight.ChannelRow) int {
	if p.MaxLead == 0 {
		return 0
	}
	return 100 * r.Leads / p.MaxLead
}

func (s *Server) channelsReport(w http.ResponseWriter, r *http.Request, c *rctx) error {
	ctx := r.Context()
	ws := c.WS
	var err error
	q := r.URL.Query()
	p, off, err := c.period(q, "quarter")
	if err != nil {
		return err
	}
	data := &ChannelReportPage{Page: s.base(c, c.Lang, "chq.title", "reports"), Offset: off, Formula: insight.ChannelFormula, Reasons: map[string]string{}}
	data.Tab = "channels"
	if data.RF, err = s.reportFilter(ctx, ws.ID, "channels", q, insight.ChannelScope); err != nil {
		return err
	}
	if data.Q, err = insight.ChannelQualityFiltered(ctx, s.DB.Reader(), ws, p, data.RF.F); err != nil {
		return err
	}
	for _, row := range data.Q.Rows {
		data.MaxLead = max(data.MaxLead, row.Leads)
	}
	if s.Lead != nil {
		rs, err := s.Lead.Reasons(ctx, c.Actor.WorkspaceID)
		if err != nil {
			return err
		}
		for _, x := range rs {
			data.Reasons[x.Key] = x.Label(string(c.Lang))
		}
	}
	data.Chart = channelChart(data.Page, data, "/reports/channels?period="+p.Name+"&offset="+strconv.Itoa(off)+"&format=csv"+data.RF.Query())
	if q.Get("format") == "csv" {
		return s.download(w, "channels-"+p.From.In(c.Loc).Format("20060102")+".csv", func(d *httpx.Download) error {
			return writeChannelsCSV(d, data)
		})
	}
	return s.show(w, c, "reports_channels", data)
}

func writeChannelsCSV(d *httpx.Download, p *ChannelReportPage) error {
	cw := dataio.NewCSVWriter(d) // with the BOM Excel needs
	head := []string{p.T("funnel.channel"), p.T("chq.visits"), p.T("chq.leads"), p.T("chq.mqls"), p.T("chq.mql_rate"), p.T("chq.accepted"), p.T("chq.rejected"),
		p.T("chq.top_reasons"), p.T("chq.opportunities"), p.T("chq.customers"), p.T("chq.won"), p.T("chq.lost"), p.T("kpi.revenue"), p.T("camp.spend"), "CAC", "ROI"}
	if err := cw.Write(head); err != nil {
		return err
	}
	for _, r := range append(p.Q.Rows, p.Q.Total) {
		name := p.Channel(r.Channel)
		if r.Channel == "" {
			name = p.T("funnel.total")
		}
		var reasons []string
		for _, x := range r.TopReasons {
			reasons = append(reasons, fmt.Sprintf("%s (%d)", p.ReasonLabel(x.Reason), x.Count))
		}
		roi := ""
		if r.Spend > 0 {
			roi = fmt.Sprintf("%.1f", 100*r.ROI())
		}
		rate := ""
		if r.Leads > 0 {
			rate = fmt.Sprintf("%.1f", 100*r.MQLRate())
		}
		row := []string{name, strconv.Itoa(r.Visits), strconv.Itoa(r.Leads), strconv.Itoa(r.MQLs), rate, strconv.Itoa(r.Accepted), strconv.Itoa(r.Rejected),
			strings.Join(reasons, "; "), strconv.Itoa(r.Opportunities), strconv.Itoa(r.Customers), strconv.Itoa(r.Won), strconv.Itoa(r.Lost),
			strconv.FormatInt(r.Revenue, 10), strconv.FormatInt(r.Spend, 10), strconv.FormatInt(r.CAC(), 10), roi}
		if err := cw.Write(row); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// AttributionPage is the revenue of won deals shared among channels by a
// model, with the touch path of one deal when asked.
type AttributionPage struct {
	Page
	A        insight.Attribution
	Offset   int
	Models   []string
	Formula  string
	MaxRev   float64
	Path     *insight.DealPath
	PathDeal int64
}

// RevWidth is a row's credited revenue as a share of the largest.
func (p *AttributionPage) RevWidth(r insight.AttributionRow) int {
	if p.MaxRev == 0 {
		return 0
	}
	return int(100 * r.Revenue / p.MaxRev)
}

// PathSummary names a path's channels in order, with repeats in a row
// folded ("自然検索 ×3 → メール").
func (p *AttributionPage) PathSummary(ts []insight.Touch) string {
	var parts []string
	for i := 0; i < len(ts); {
		j := i
		for j < len(ts) && ts[j].Channel == ts[i].Channel {
			j++
		}
		name := p.Channel(ts[i].Channel)
		if name == "" {
			name = "?"
		}
		if j-i > 1 {
			name += fmt.Sprintf(" ×%d", j-i)
		}
		parts = append(parts, name)
		i = j
	}
	return strings.Join(parts, " → ")
}

// Minor formats credited minor units of the base currency.
func (p *AttributionPage) Minor(x float64) string { return p.Yen(int64(math.Round(x))) }

// Share formats a credit share.
func (p *AttributionPage) Share(x float64) string { return fmt.Sprintf("%.0f%%", 100*x) }

// DealsShare formats a credited number of deals.
func (p *AttributionPage) DealsShare(x float64) string { return strconv.FormatFloat(x, 'f', 1, 64) }

func (s *Server) attributionReport(w http.ResponseWriter, r *http.Request, c *rctx) error {
	ctx := r.Context()
	ws := c.WS
	var err error
	q := r.URL.Query()
	p, off, err := c.period(q, "quarter")
	if err != nil {
		return err
	}
	model := q.Get("model")
	if !slices.Contains(insight.Models, model) {
		model = "w_shaped"
	}
	data := &AttributionPage{Page: s.base(c, c.Lang, "attr.title", "reports"), Offset: off, Models: insight.Models, Formula: insight.ModelFormula[model]}
	data.Tab = "attribution"
	if data.A, err = insight.AttributionOf(ctx, s.DB.Reader(), ws, p, model); err != nil {
		return err
	}
	for _, row := range data.A.Rows {
		data.MaxRev = max(data.MaxRev, row.Revenue)
	}
	if id := formInt(q.Get("deal")); id != 0 {
		d, err := s.CRM.GetDeal(ctx, s.DB.Reader(), c.Actor, id)
		if err != nil {
			return err
		}
		end := c.Now
		if d.ClosedAt != nil {
			end = *d.ClosedAt
		}
		touches, err := insight.PathOf(ctx, s.DB.Reader(), c.Actor.WorkspaceID, id, d.CreatedAt, end, model)
		if err != nil {
			return err
		}
		data.Path = &insight.DealPath{DealID: id, Name: d.Name, CreatedAt: d.CreatedAt, WonAt: end, Touches: touches}
		data.PathDeal = id
	}
	return s.show(w, c, "reports_attribution", data)
}

// RepsPage is the rep performance report for a period.
type RepsPage struct {
	Page
	R         insight.RepPerformance
	Offset    int
	Formula   string
	TeamNames map[int64]string
	Kinds     []string
	RF        ReportFilter
	Chart     BarChart
}

// Pct formats a ratio with an empty base as —.
func (p *RepsPage) Pct(x float64, base int) string {
	if base == 0 {
		return "—"
	}
	return fmt.Sprintf("%.0f%%", 100*x)
}

// Cycle formats an average cycle in days.
func (p *RepsPage) Cycle(d *float64) string {
	if d == nil {
		return "—"
	}
	return p.T("funnel.days", "n", strconv.FormatFloat(*d, 'f', 1, 64))
}

// Row pairs the page with one row for the "reprow" partial.
func (p *RepsPage) Row(x insight.RepRow) map[string]any { return map[string]any{"P": p, "I": x} }

// TeamName names a team (0: no team).
func (p *RepsPage) TeamName(id int64) string {
	if n, ok := p.TeamNames[id]; ok {
		return n
	}
	return p.T("reps.no_team")
}

func (s *Server) repsReport(w http.ResponseWriter, r *http.Request, c *rctx) error {
	ctx := r.Context()
	ws := c.WS
	var err error
	q := r.URL.Query()
	p, off, err := c.period(q, "month")
	if err != nil {
		return err
	}
	data := &RepsPage{Page: s.base(c, c.Lang, "reps.title", "reports"), Offset: off, Formula: insight.RepFormula, TeamNames: map[int64]string{}, Kinds: insight.ActivityKinds}
	data.Tab = "reps"
	if data.RF, err = s.reportFilter(ctx, ws.ID, "reps", q, insight.RepScope); err != nil {
		return err
	}
	if data.R, err = insight.RepPerformanceFiltered(ctx, s.DB.Reader(), ws, p, data.RF.F); err != nil {
		return err
	}
	teams, err := platform.ListTeams(ctx, s.DB.Reader(), c.Actor.WorkspaceID)
	if err != nil {
		return err
	}
	for _, t := range teams {
		data.TeamNames[t.ID] = t.Name
	}
	data.Chart = repChart(data.Page, data, "/reports/reps?period="+p.Name+"&offset="+strconv.Itoa(off)+"&format=csv"+data.RF.Query())
	if q.Get("format") == "csv" {
		return s.download(w, "reps-"+p.From.In(c.Loc).Format("20060102")+".csv", func(d *httpx.Download) error {
			return writeRepsCSV(d, data)
		})
	}
	return s.show(w, c, "reports_reps", data)
}

// writeRepsCSV writes the rep table the screen shows: a row per rep, then
// per team and the total, with activities by kind in their own columns.
func writeRepsCSV(d *httpx.Download, p *RepsPage) error {
	cw := dataio.NewCSVWriter(d) // with the BOM Excel needs
	head := []string{p.T("reps.rep"), p.T("fc.team"), p.T("reps.leads"), p.T("reps.sla_met"), p.T("reps.first_touch_seconds"), p.T("kpi.calls"), p.T("reps.connected"), p.T("kpi.appointments")}
	for _, k := range p.Kinds {
		head = append(head, p.T("activity.kind."+k))
	}
	head = append(head, p.T("chq.won"), p.T("chq.lost"), p.T("kpi.revenue"), p.T("reps.cycle"), p.T("reps.quota"))
	if err := cw.Write(head); err != nil {
		return err
	}
	write := func(name, team string, x insight.RepRow) error {
		first, cycle := "", ""
		if x.MedianFirstTouchSeconds != nil {
			first = strconv.FormatInt(*x.MedianFirstTouchSeconds, 10)
		}
		if x.AvgCycleDays != nil {
			cycle = strconv.FormatFloat(*x.AvgCycleDays, 'f', 1, 64)
		}
		row := []string{name, team, strconv.Itoa(x.LeadsReceived), strconv.Itoa(x.SLAMet), first, strconv.Itoa(x.Calls), strconv.Itoa(x.Connected), strconv.Itoa(x.Appointments)}
		for _, k := range p.Kinds {
			row = append(row, strconv.Itoa(x.Activities[k]))
		}
		row = append(row, strconv.Itoa(x.Won), strconv.Itoa(x.Lost), strconv.FormatInt(x.Revenue, 10), cycle, strconv.FormatInt(x.Quota, 10))
		return cw.Write(row)
	}
	for _, x := range p.R.Reps {
		if err := write(x.Name, p.TeamName(x.TeamID), x); err != nil {
			return err
		}
	}
	for _, x := range p.R.Teams {
		if err := write("", p.TeamName(x.TeamID), x); err != nil {
			return err
		}
	}
	if err := write(p.T("funnel.total"), "", p.R.Total); err != nil {
		return err
	}
	cw.Flush()
	return cw.Error()
}
