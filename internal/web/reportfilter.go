package web

import (
	"context"
	"net/url"
	"strconv"

	"github.com/ryorin/ryorin/internal/crm"
	"github.com/ryorin/ryorin/internal/insight"
	"github.com/ryorin/ryorin/internal/marketing/campaigns"
	"github.com/ryorin/ryorin/internal/platform"
)

// ReportFilter is the filter form the KPI screen and the funnel, channel
// and rep reports share: what was asked, the choices of each select, and
// which parts this report honours (the others are shown disabled, saying
// why).
type ReportFilter struct {
	// Report names the screen ("funnel", "channels", "reps", "kpis") for
	// its note on how the filter narrows it.
	Report    string
	F         insight.KPIFilter
	Scope     insight.FilterScope
	Channels  []platform.Channel
	Campaigns []campaigns.Campaign
	Teams     []platform.Team
	Pipelines []crm.Pipeline
}

// parseKPIFilter reads the filter's query parameters; a number that does
// not parse counts as not set, as the form never sends one.
func parseKPIFilter(q url.Values) insight.KPIFilter {
	f := insight.KPIFilter{Channel: q.Get("channel")}
	f.CampaignID, _ = strconv.ParseInt(q.Get("campaign_id"), 10, 64)
	f.TeamID, _ = strconv.ParseInt(q.Get("team_id"), 10, 64)
	f.OwnerID, _ = strconv.ParseInt(q.Get("owner_id"), 10, 64)
	f.PipelineID, _ = strconv.ParseInt(q.Get("pipeline_id"), 10, 64)
	return f
}

// reportFilter parses the filter of a request and loads the form's
// choices. Parts the scope does not honour are dropped, so the numbers
// shown never pretend to a narrowing that did not happen.
func (s *Server) reportFilter(ctx context.Context, ws int64, report string, q url.Values, scope insight.FilterScope) (ReportFilter, error) {
	rf := ReportFilter{Report: report, F: parseKPIFilter(q), Scope: scope}
	if !scope.Channel {
		rf.F.Channel = ""
	}
	if !scope.Campaign {
		rf.F.CampaignID = 0
	}
	if !scope.Team {
		rf.F.TeamID = 0
	}
	if !scope.Owner {
		rf.F.OwnerID = 0
	}
	if !scope.Pipeline {
		rf.F.PipelineID = 0
	}
	rd := s.DB.Reader()
	var err error
	if rf.Channels, err = platform.ListChannels(ctx, rd, ws); err != nil {
		return rf, err
	}
	if rf.Campaigns, err = s.Campaigns.List(ctx, rd, ws); err != nil {
		return rf, err
	}
	if rf.Teams, err = platform.ListTeams(ctx, rd, ws); err != nil {
		return rf, err
	}
	if rf.Pipelines, err = s.CRM.Pipelines(ctx, rd, ws); err != nil {
		return rf, err
	}
	return rf, nil
}

// Query is the filter as query parameters ("&channel=email&team_id=3"),
// for links such as the CSV download that must keep it.
func (rf ReportFilter) Query() string {
	v := url.Values{}
	if rf.F.Channel != "" {
		v.Set("channel", rf.F.Channel)
	}
	for k, n := range map[string]int64{"campaign_id": rf.F.CampaignID, "team_id": rf.F.TeamID, "owner_id": rf.F.OwnerID, "pipeline_id": rf.F.PipelineID} {
		if n != 0 {
			v.Set(k, strconv.FormatInt(n, 10))
		}
	}
	if len(v) == 0 {
		return ""
	}
	return "&" + v.Encode()
}
