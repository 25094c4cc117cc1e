package web

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/ryorin/ryorin/internal/crm"
	"github.com/ryorin/ryorin/internal/insight"
	"github.com/ryorin/ryorin/internal/lead"
	"github.com/ryorin/ryorin/internal/marketing/campaigns"
	"github.com/ryorin/ryorin/internal/platform"
)

// AlignmentPage is the one page for the regular marketing–sales meeting:
// a period (default: last week) seen by both teams.
type AlignmentPage struct {
	Page
	Period    insight.Period
	Offset    int
	Kind      string
	KPIs      []insight.KPI
	Before    map[string]insight.KPI
	Pace      *insight.Pacing
	Funnel    insight.Funnel
	Campaigns []CampaignResult
	Channels  insight.ChannelQuality
	SLA       *lead.SLARow
	Reasons   map[string]string
	Voices    []lead.FeedItem
	Rejected  []lead.FeedItem
	News      []crm.News
	CompNames map[int64]string
	DefChange []lead.Definition
	Won, Lost []insight.ClosedDeal
	Currency  string
	// RF is the filter (the shared report filter form); the mailed copy
	// has none.
	RF ReportFilter
	// FunnelChart and ChannelChart draw the funnel's and channel quality's
	// numbers; their CSV links keep the filter.
	FunnelChart, ChannelChart BarChart
	// Schedules are the emailed copies of this report (admins and managers).
	Schedules   []insight.ReportSchedule
	MaySchedule bool
	// Mail is set when the page is rendered as an email; Link is the full
	// report's address then.
	Mail bool
	Link string
}

// CampaignResult is a campaign that ran in the period with its results.
type CampaignResult struct {
	C campaigns.Campaign
	R campaigns.Results
}

// PlanSteps are the goal plan's steps, for the pacing table.
func (p *AlignmentPage) PlanSteps() []string { return insight.PlanSteps }

// KPIShow formats a KPI by its unit, as the KPI screen does.
func (p *AlignmentPage) KPIShow(k insight.KPI) string {
	return (&KPIPage{Page: p.Page, Currency: p.Currency}).Show(k)
}

// ReasonLabel names a rejection reason.
func (p *AlignmentPage) ReasonLabel(key string) string {
	if l, ok := p.Reasons[key]; ok {
		return l
	}
	return key
}

// alignmentSections says which parts of the filter each section of the
// report honours; a section missing here is not filtered at all.
var alignmentSections = map[string]insight.FilterScope{
	"kpis":      insight.AlignmentScope,
	"funnel":    insight.FunnelScope,
	"campaigns": {Channel: true, Campaign: true},
	"channels":  insight.ChannelScope,
	"reasons":   insight.ChannelScope,
}

// SectionNote says, when a filter is set, how it leaves section out: ""
// when the section honours every part set, "not filtered" when it honours
// none, else the parts it does honour.
func (p *AlignmentPage) SectionNote(section string) string {
	f := p.RF.F
	if f.Empty() {
		return ""
	}
	sc, ok := alignmentSections[section]
	if ok && sc.Applies(f) {
		return ""
	}
	var parts []string
	for _, x := range []struct {
		on, set bool
		key     string
	}{{sc.Channel, f.Channel != "", "kpi.f_channel"}, {sc.Campaign, f.CampaignID != 0, "kpi.f_campaign"}, {sc.Team, f.TeamID != 0, "fc.team"},
		{sc.Owner, f.OwnerID != 0, "common.owner"}, {sc.Pipeline, f.PipelineID != 0, "deal.pipeline"}} {
		if x.on && x.set {
			parts = append(parts, p.T(x.key))
		}
	}
	if len(parts) == 0 {
		return p.T("align.unfiltered")
	}
	return p.T("align.filtered_only", "parts", strings.Join(parts, ", "))
}

// FilterSummary names the filter's set parts and their values
// ("Channel: Email, Team: Sales 1"), for the printed copies.
func (p *AlignmentPage) FilterSummary() string {
	f, rf := p.RF.F, p.RF
	var out []string
	if f.Channel != "" {
		out = append(out, p.T("kpi.f_channel")+": "+channelName(p.Page, f.Channel))
	}
	for _, x := range rf.Campaigns {
		if x.ID == f.CampaignID {
			out = append(out, p.T("kpi.f_campaign")+": "+x.Name)
		}
	}
	for _, x := range rf.Teams {
		if x.ID == f.TeamID {
			out = append(out, p.T("fc.team")+": "+x.Name)
		}
	}
	if f.OwnerID != 0 {
		out = append(out, p.T("common.owner")+": "+p.UserName(f.OwnerID))
	}
	for _, x := range rf.Pipelines {
		if x.ID == f.PipelineID {
			out = append(out, p.T("deal.pipeline")+": "+x.Name)
		}
	}
	return strings.Join(out, ", ")
}

// URL is the address of path with the report's period and filter, for
// the links (PDF, the full channel report) that must keep them; format
// is added when set.
func (p *AlignmentPage) URL(path, format string) string {
	u := path + "?period=" + p.Kind + "&offset=" + strconv.Itoa(p.Offset) + p.RF.Query()
	if format != "" {
		u += "&format=" + format
	}
	return u
}

// TrendURL is the CSV of the report's KPIs that have a trend, by week (or
// month) over the last 12, with the filter.
func (p *AlignmentPage) TrendURL() string {
	u := "/reports/trend.csv?unit=" + p.Kind + "&n=12"
	for _, k := range alignmentKPIs {
		if slices.Contains(insight.TrendKeys, k) {
			u += "&key=" + k
		}
	}
	return u + p.RF.Query()
}

// FunnelURL is the funnel report over the same cohorts and filter.
func (p *AlignmentPage) FunnelURL() string {
	return "/reports/funnel?months=" + strconv.Itoa(alignmentFunnelMonths) + p.RF.Query()
}

// alignmentKPIs are the cards the meeting looks at first.
var alignmentKPIs = []string{"new_contacts", "new_mqls", "new_sqls", "mql_to_sql", "deals_created", "deals_won", "win_rate", "revenue"}

// alignmentFunnelMonths is how many monthly cohorts the report's funnel
// shows.
const alignmentFunnelMonths = 3

func (s *Server) alignmentReport(w http.ResponseWriter, r *http.Request, c *rctx) error {
	ctx := r.Context()
	q := r.URL.Query()
	ws := c.WS
	var err error
	kind := q.Get("period")
	if kind != "month" {
		kind = "week"
	}
	off := 1 // last week by default
	if v := q.Get("offset"); v != "" {
		off, _ = strconv.Atoi(v)
	}
	rf, err := s.reportFilter(ctx, ws.ID, "alignment", q, insight.AlignmentScope)
	if err != nil {
		return err
	}
	data, err := s.alignmentData(ctx, c, ws, kind, off, rf)
	if err != nil {
		return err
	}
	if q.Get("format") == "pdf" {
		var buf bytes.Buffer
		if err := writeAlignmentPDF(&buf, data, c.Now); err != nil {
			return fmt.Errorf("web.alignmentReport pdf: %w", err)
		}
		w.Header().Set("Content-Type", "application/pdf")
		w.Header().Set("Content-Disposition", `attachment; filename="alignment-`+data.Period.From.In(c.Loc).Format("20060102")+`.pdf"`)
		w.Header().Set("Cache-Control", "private, no-store")
		_, err := w.Write(buf.Bytes())
		return err
	}
	if c.Actor.Is(platform.RoleAdmin, platform.RoleManager) {
		data.MaySchedule = true
		if data.Schedules, err = insight.ListSchedules(ctx, s.DB.Reader(), ws.ID); err != nil {
			return err
		}
	}
	return s.show(w, c, "reports_alignment", data)
}

// alignmentData gathers the alignment report of the period kind (week or
// month) off periods back, as c's user sees it, narrowed by rf where each
// section honours it (alignmentSections).
func (s *Server) alignmentData(ctx context.Context, c *rctx, ws platform.Workspace, kind string, off int, rf ReportFilter) (*AlignmentPage, error) {
	p, err := insight.PeriodOf(ws, kind, off, c.Now)
	if err != nil {
		if p, err = insight.PeriodOf(ws, kind, 1, c.Now); err != nil {
			return nil, err
		}
		off = 1
	}
	data := &AlignmentPage{Page: s.base(c, c.Lang, "align.title", "reports"), Period: p, Offset: off, Kind: kind, Before: map[string]insight.KPI{},
		Reasons: map[string]string{}, CompNames: map[int64]string{}, Currency: ws.BaseCurrency, RF: rf}
	data.Tab = "alignment"
	f := rf.F
	all, err := insight.ComputeOnly(ctx, s.DB.Reader(), ws, p, f, alignmentKPIs)
	if err != nil {
		return nil, err
	}
	prev, err := insight.PeriodOf(ws, kind, off+1, c.Now)
	if err != nil {
		return nil, err
	}
	before, err := insight.ComputeOnly(ctx, s.DB.Reader(), ws, prev, f, alignmentKPIs)
	if err != nil {
		return nil, err
	}
	for _, k := range before {
		data.Before[k.Key] = k
	}
	for _, key := range alignmentKPIs {
		for _, k := range all {
			if k.Key == key {
				data.KPIs = append(data.KPIs, k)
			}
		}
	}
	// Pacing of the plan agreed for the period under way.
	pl := insight.NewPlanner(s.DB, s.Clock)
	plans, err := pl.List(ctx, s.DB.Reader(), ws)
	if err != nil {
		return nil, err
	}
	for _, x := range plans {
		if x.Status == "active" && !c.Now.Before(x.Period.From) && c.Now.Before(x.Period.To) {
			pace, err := insight.PaceOf(ctx, s.DB.Reader(), ws, x, c.Now)
			if err != nil {
				return nil, err
			}
			data.Pace = &pace
			break
		}
	}
	frf := rf
	frf.F.PipelineID = 0 // the funnel follows contacts (FunnelScope)
	if data.Funnel, err = insight.FunnelOf(ctx, s.DB.Reader(), ws, alignmentFunnelMonths, frf.F, c.Now); err != nil {
		return nil, err
	}
	if data.Channels, err = insight.ChannelQualityFiltered(ctx, s.DB.Reader(), ws, p, f); err != nil {
		return nil, err
	}
	data.FunnelChart = funnelChart(data.Page, &FunnelPage{Page: data.Page, Funnel: data.Funnel, Months: alignmentFunnelMonths, RF: frf})
	shown := data.Channels
	shown.Rows = nil
	for _, r := range data.Channels.Rows {
		if r.Leads > 0 { // as the table: channels that brought no lead are left out
			shown.Rows = append(shown.Rows, r)
		}
	}
	data.ChannelChart = channelChart(data.Page, &ChannelReportPage{Page: data.Page, Q: shown},
		"/reports/channels?period="+p.Name+"&offset="+strconv.Itoa(off)+"&format=csv"+rf.Query())
	cs, err := s.Campaigns.List(ctx, s.DB.Reader(), c.Actor.WorkspaceID)
	if err != nil {
		return nil, err
	}
	from, to := p.From.In(c.Loc).Format(time.DateOnly), p.To.In(c.Loc).Format(time.DateOnly)
	for _, x := range cs {
		if f.CampaignID != 0 && x.ID != f.CampaignID || f.Channel != "" && x.Channel != f.Channel {
			continue
		}
		if (x.StartsOn == "" || x.StartsOn < to) && (x.EndsOn == "" || x.EndsOn >= from) && x.Status != "planned" && x.Status != "cancelled" {
			res, err := s.Campaigns.ResultsOf(ctx, s.DB.Reader(), ws, x.ID)
			if err != nil {
				return nil, err
			}
			data.Campaigns = append(data.Campaigns, CampaignResult{C: x, R: res})
		}
	}
	if s.Lead != nil {
		rows, err := s.Lead.SLAReport(ctx, s.DB.Reader(), c.Actor.WorkspaceID, p.From, p.To, "owner")
		if err != nil {
			return nil, err
		}
		for i := range rows {
			if rows[i].Key == "total" {
				data.SLA = &rows[i]
			}
		}
		rs, err := s.Lead.Reasons(ctx, c.Actor.WorkspaceID)
		if err != nil {
			return nil, err
		}
		for _, x := range rs {
			data.Reasons[x.Key] = x.Label(string(c.Lang))
		}
		if data.Voices, _, _, err = s.Lead.Feed(ctx, s.DB.Reader(), c.Actor.WorkspaceID, lead.FeedQuery{Kind: "voice", From: p.From, To: p.To, Limit: 6, ItemsOnly: true}); err != nil {
			return nil, err
		}
		if data.Rejected, _, _, err = s.Lead.Feed(ctx, s.DB.Reader(), c.Actor.WorkspaceID, lead.FeedQuery{Kind: "rejected", From: p.From, To: p.To, Limit: 6, ItemsOnly: true}); err != nil {
			return nil, err
		}
		defs, err := s.Lead.List(ctx, c.Actor.WorkspaceID)
		if err != nil {
			return nil, err
		}
		for _, d := range defs {
			if d.ActivatedAt != nil && !d.ActivatedAt.Before(p.From) && d.ActivatedAt.Before(p.To) {
				data.DefChange = append(data.DefChange, d)
			}
		}
	}
	news, err := s.CRM.ListNews(ctx, s.DB.Reader(), c.Actor.WorkspaceID, nil, 50)
	if err != nil {
		return nil, err
	}
	for _, n := range news {
		if !n.At.Before(p.From) && n.At.Before(p.To) {
			data.News = append(data.News, n)
		}
	}
	comps, err := s.CRM.Competitors(ctx, s.DB.Reader(), c.Actor.WorkspaceID)
	if err != nil {
		return nil, err
	}
	for _, x := range comps {
		data.CompNames[x.ID] = x.Name
	}
	closed, err := insight.DealsClosed(ctx, s.DB.Reader(), c.Actor.WorkspaceID, p)
	if err != nil {
		return nil, err
	}
	for _, d := range closed {
		if d.Status == "won" {
			data.Won = append(data.Won, d)
		} else {
			data.Lost = append(data.Lost, d)
		}
	}
	return data, nil
}
