package web

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"strconv"
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

// alignmentKPIs are the cards the meeting looks at first.
var alignmentKPIs = []string{"new_contacts", "new_mqls", "new_sqls", "mql_to_sql", "deals_created", "deals_won", "win_rate", "revenue"}

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
	data, err := s.alignmentData(ctx, c, ws, kind, off)
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
// month) off periods back, as c's user sees it.
func (s *Server) alignmentData(ctx context.Context, c *rctx, ws platform.Workspace, kind string, off int) (*AlignmentPage, error) {
	p, err := insight.PeriodOf(ws, kind, off, c.Now)
	if err != nil {
		if p, err = insight.PeriodOf(ws, kind, 1, c.Now); err != nil {
			return nil, err
		}
		off = 1
	}
	data := &AlignmentPage{Page: s.base(c, c.Lang, "align.title", "reports"), Period: p, Offset: off, Kind: kind, Before: map[string]insight.KPI{},
		Reasons: map[string]string{}, CompNames: map[int64]string{}, Currency: ws.BaseCurrency}
	data.Tab = "alignment"
	all, err := insight.ComputeOnly(ctx, s.DB.Reader(), ws, p, insight.KPIFilter{}, alignmentKPIs)
	if err != nil {
		return nil, err
	}
	prev, err := insight.PeriodOf(ws, kind, off+1, c.Now)
	if err != nil {
		return nil, err
	}
	before, err := insight.ComputeOnly(ctx, s.DB.Reader(), ws, prev, insight.KPIFilter{}, alignmentKPIs)
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
	if data.Funnel, err = insight.FunnelByCohort(ctx, s.DB.Reader(), ws, 3, "", c.Now); err != nil {
		return nil, err
	}
	if data.Channels, err = insight.ChannelQualityOf(ctx, s.DB.Reader(), ws, p); err != nil {
		return nil, err
	}
	cs, err := s.Campaigns.List(ctx, s.DB.Reader(), c.Actor.WorkspaceID)
	if err != nil {
		return nil, err
	}
	from, to := p.From.In(c.Loc).Format(time.DateOnly), p.To.In(c.Loc).Format(time.DateOnly)
	for _, x := range cs {
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
		if data.Voices, _, _, err = s.Lead.Feed(ctx, s.DB.Reader(), c.Actor.WorkspaceID, lead.FeedQuery{Kind: "voice", From: p.From, To: p.To, Limit: 6}); err != nil {
			return nil, err
		}
		if data.Rejected, _, _, err = s.Lead.Feed(ctx, s.DB.Reader(), c.Actor.WorkspaceID, lead.FeedQuery{Kind: "rejected", From: p.From, To: p.To, Limit: 6}); err != nil {
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
