package web

import (
	"io"
	"strconv"
	"time"

	"github.com/ryorin/ryorin/internal/insight"
	"github.com/ryorin/ryorin/internal/quote"
)

// writeAlignmentPDF writes the alignment report as an A4 PDF with the
// Japanese font embedded: the same sections and numbers as the page.
func writeAlignmentPDF(w io.Writer, p *AlignmentPage, created time.Time) error {
	title := p.T("align.title") + " " + p.Date(p.Period.From) + " – " + p.Date(p.Period.To.AddDate(0, 0, -1))
	pdf, font := quote.NewA4(title, p.T("align.title"), created)
	cw := quote.ContentWidth
	font(15)
	pdf.CellFormat(cw, 9, p.T("align.title"), "", 1, "L", false, 0, "")
	font(9)
	pdf.CellFormat(cw, 5, p.Date(p.Period.From)+" – "+p.Date(p.Period.To.AddDate(0, 0, -1)), "", 1, "L", false, 0, "")
	if f := p.FilterSummary(); f != "" {
		pdf.CellFormat(cw, 5, p.T("rf.filtered")+" "+f, "", 1, "L", false, 0, "")
	}
	pdf.Ln(3)
	// heading starts a section; with a filter set, it says how the filter
	// leaves the section out (alignmentSections).
	heading := func(s string, section ...string) {
		if len(section) > 0 {
			if n := p.SectionNote(section[0]); n != "" {
				s += "  (" + n + ")"
			}
		}
		pdf.Ln(3)
		font(11)
		pdf.SetTextColor(31, 78, 121)
		pdf.CellFormat(cw, 7, s, "B", 1, "L", false, 0, "")
		pdf.SetTextColor(28, 36, 48)
		font(9)
		pdf.Ln(1)
	}
	// table draws rows with the first column left-aligned and the others
	// right-aligned, widths as shares of the content width.
	table := func(shares []float64, head []string, rows [][]string) {
		widths := make([]float64, len(shares))
		for i, s := range shares {
			widths[i] = s * cw
		}
		row := func(cells []string, header bool) {
			if header {
				pdf.SetFillColor(248, 250, 252)
			}
			for i, c := range cells {
				align := "R"
				if i == 0 {
					align = "L"
				}
				lines := quote.Wrap(pdf, c, widths[i]-2)
				if len(lines) > 0 {
					c = lines[0]
				}
				pdf.CellFormat(widths[i], 6, c, "B", 0, align, header, 0, "")
			}
			pdf.Ln(-1)
		}
		if head != nil {
			row(head, true)
		}
		for _, r := range rows {
			row(r, false)
		}
	}
	text := func(s string) {
		for _, l := range quote.Wrap(pdf, s, cw) {
			pdf.CellFormat(cw, 5, l, "", 1, "L", false, 0, "")
		}
	}
	// bars draws a chart's rows as grey bars of distinct shades with a dark
	// outline and the value written beside each, so it reads in black and
	// white; funnel bars are centred.
	bars := func(c BarChart) {
		if len(c.Rows) == 0 {
			return
		}
		labelW, valueW := 0.25*cw, 0.2*cw
		plotW := cw - labelW - valueW
		scale := plotW / (c.Right - c.Left)
		shades := []int{90, 140, 180, 120, 200, 160}
		pdf.SetDrawColor(28, 36, 48)
		_, pageH := pdf.GetPageSize()
		_, _, _, bottom := pdf.GetMargins()
		for _, r := range c.Rows {
			if pdf.GetY()+5 > pageH-bottom {
				pdf.AddPage() // before the row: the bar is drawn at the row's y
			}
			x, y := pdf.GetX(), pdf.GetY()
			pdf.CellFormat(labelW, 5, r.Label, "", 0, "L", false, 0, "")
			right := x + labelW
			for _, sg := range r.Segs {
				g := shades[sg.Key%len(shades)]
				pdf.SetFillColor(g, g, g)
				bx := x + labelW + (sg.X-c.Left)*scale
				pdf.Rect(bx, y+0.8, max(sg.W*scale, 0.5), 3.4, "FD")
				right = max(right, bx+sg.W*scale)
			}
			if c.Funnel {
				right = x + labelW + plotW
			}
			pdf.SetXY(right+1.5, y)
			pdf.CellFormat(valueW, 5, r.Value, "", 1, "L", false, 0, "")
			pdf.SetX(x)
		}
		pdf.Ln(2)
	}
	var kpis [][]string
	for _, k := range p.KPIs {
		kpis = append(kpis, []string{p.T("kpi." + k.Key), p.KPIShow(k), p.KPIShow(p.Before[k.Key])})
	}
	table([]float64{0.5, 0.25, 0.25}, []string{"", p.T("align.actual"), p.T("kpi.before")}, kpis)

	heading("1. "+p.T("plan.pacing"), "pacing")
	if p.Pace == nil {
		text(p.T("align.no_plan"))
	} else {
		if p.Pace.Behind != "" {
			text(p.T("plan.behind", "step", p.StepName(p.Pace.Behind)))
		} else {
			text(p.T("plan.on_track"))
		}
		var rows [][]string
		for i, s := range p.PlanSteps() {
			rows = append(rows, []string{p.StepName(s), p.Num(p.Pace.Actual[i]), p.Num(int64(p.Pace.Expected[i] + 0.5))})
		}
		table([]float64{0.5, 0.25, 0.25}, []string{"", p.T("align.actual"), p.T("align.expected")}, rows)
	}

	heading("2. "+p.T("funnel.title"), "funnel")
	bars(p.FunnelChart)
	var frows [][]string
	for _, c := range p.Funnel.Cohorts {
		r := []string{c.Month}
		for _, n := range c.Reached {
			r = append(r, p.Num(n))
		}
		frows = append(frows, r)
	}
	table([]float64{0.2, 0.16, 0.16, 0.16, 0.16, 0.16}, []string{p.T("funnel.cohort"), p.T("funnel.created"), "MQL", "SQL", p.Stage("opportunity"), p.Stage("customer")}, frows)

	heading("3. "+p.T("align.campaigns"), "campaigns")
	var crows [][]string
	for _, c := range p.Campaigns {
		roi := "—"
		if c.R.Spend != 0 {
			roi = p.Percent(c.R.ROI)
		}
		crows = append(crows, []string{c.C.Name, p.Num(c.R.Members), p.Num(c.R.MQLs), p.Num(c.R.Deals), p.Yen(c.R.Revenue), p.Yen(c.R.Spend), roi})
	}
	if crows == nil {
		text(p.T("align.no_campaigns"))
	} else {
		table([]float64{0.3, 0.1, 0.1, 0.1, 0.15, 0.15, 0.1}, []string{p.T("camp.name"), p.T("camp.members"), p.T("camp.mqls"), p.T("camp.deals"), p.T("kpi.revenue"), p.T("camp.spend"), "ROI"}, crows)
	}

	heading("4. "+p.T("chq.title"), "channels")
	bars(p.ChannelChart)
	var qrows [][]string
	for _, r := range p.Channels.Rows {
		if r.Leads == 0 {
			continue
		}
		acc := "—"
		if r.Accepted+r.Rejected > 0 {
			acc = p.PctOf(r.AcceptRate())
		}
		qrows = append(qrows, []string{p.Channel(r.Channel), p.Num(r.Leads), p.PctOf(r.MQLRate()), acc, p.Num(r.Won), p.Yen(r.Revenue)})
	}
	table([]float64{0.3, 0.12, 0.14, 0.14, 0.1, 0.2}, []string{p.T("funnel.channel"), p.T("chq.leads"), p.T("chq.mql_rate"), p.T("chq.accept_rate"), p.T("chq.won"), p.T("kpi.revenue")}, qrows)

	heading("5. "+p.T("align.sla"), "sla")
	if s := p.SLA; s != nil {
		table([]float64{0.25, 0.25, 0.25, 0.25}, []string{p.T("align.handed"), p.T("align.in_time"), p.T("align.breached"), p.T("align.untouched")},
			[][]string{{p.Num(s.Handed), p.PctOf(s.MetRate()), p.Num(s.Breached), p.Num(s.Untouched)}})
	} else {
		text("—")
	}

	heading("6. "+p.T("chq.top_reasons"), "reasons")
	for _, r := range p.Channels.Total.TopReasons {
		text(p.ReasonLabel(r.Reason) + ": " + strconv.Itoa(r.Count))
	}
	for _, f := range p.Rejected {
		if f.Text != "" {
			text("“" + f.Text + "” — " + p.UserName(f.UserID))
		}
	}

	heading("7. "+p.T("align.voices"), "voices")
	for _, f := range p.Voices {
		text("“" + f.Text + "” — " + p.UserName(f.UserID))
	}
	if len(p.Voices) == 0 {
		text("—")
	}

	heading("8. "+p.T("align.news_and_changes"), "news")
	for _, n := range p.News {
		text(n.Title + " (" + p.CompNames[n.CompetitorID] + ") " + p.Date(n.At))
	}
	for _, d := range p.DefChange {
		text(p.T("align.definition_active", "version", d.Version))
	}
	if len(p.News) == 0 && len(p.DefChange) == 0 {
		text("—")
	}

	closed := func(n string, list []insight.ClosedDeal) {
		heading(n, "won")
		var rows [][]string
		for i, d := range list {
			if i == 15 {
				break
			}
			name := d.Name + "  " + p.UserName(d.OwnerID)
			if d.LostReason != "" {
				name += " · " + d.LostReason
			}
			rows = append(rows, []string{name, p.Money(p.Major(d.Amount, d.Currency), d.Currency)})
		}
		if rows == nil {
			text("—")
			return
		}
		table([]float64{0.75, 0.25}, nil, rows)
	}
	closed("9. "+p.T("align.won")+" ("+strconv.Itoa(len(p.Won))+")", p.Won)
	closed("10. "+p.T("align.lost")+" ("+strconv.Itoa(len(p.Lost))+")", p.Lost)
	return pdf.Output(w)
}
