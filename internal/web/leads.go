package web

import (
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"time"

	"github.com/ryorin/ryorin/internal/crm"
	"github.com/ryorin/ryorin/internal/i18n"
	"github.com/ryorin/ryorin/internal/lead"
	"github.com/ryorin/ryorin/internal/platform"
)

// LeadQueuePage is the follow-up queue: leads waiting for their first touch.
type LeadQueuePage struct {
	Page
	Items    []lead.QueueItem
	Owner    int64
	Team     int64
	Teams    []platform.Team
	Policies map[string]lead.SLAPolicy
	Reasons  []lead.Reason
	Overdue  int
	DueSoon  int
	URL      string
}

// LeadName is a queued lead's name, or its email.
func (p LeadQueuePage) LeadName(it lead.QueueItem) string {
	if n := i18n.PersonName(p.Lang, it.FamilyName, it.GivenName); n != "" {
		return n
	}
	return it.Email
}

// PolicyLabel names an SLA policy in the page's language.
func (p LeadQueuePage) PolicyLabel(key string) string {
	if pol, ok := p.Policies[key]; ok {
		return pol.Label(string(p.Lang))
	}
	return key
}

// ReasonLabel is a reject reason's label in the page's language.
func (p LeadQueuePage) ReasonLabel(r lead.Reason) string { return r.Label(string(p.Lang)) }

// Deadline says how long until (or since) a deadline.
func (p Page) Deadline(t time.Time) string {
	d := t.Sub(p.Now)
	late := d < 0
	if late {
		d = -d
	}
	var s string
	switch {
	case d < time.Hour:
		s = p.T("sla.minutes", "count", int(d.Minutes()))
	case d < 48*time.Hour:
		s = p.T("sla.hours", "count", int(d.Hours()), "minutes", int(d.Minutes())%60)
	default:
		s = p.T("sla.days", "count", int(d.Hours()/24))
	}
	if late {
		return p.T("sla.overdue_by", "d", s)
	}
	return p.T("sla.due_in", "d", s)
}

// BizDuration formats business seconds (a response time) as hours and
// minutes.
func (p Page) BizDuration(sec *int64) string {
	if sec == nil {
		return "—"
	}
	m := *sec / 60
	if m < 60 {
		return p.T("sla.minutes", "count", m)
	}
	return p.T("sla.hours", "count", m/60, "minutes", m%60)
}

func (s *Server) leadQueue(w http.ResponseWriter, r *http.Request, c *rctx) error {
	if s.Lead == nil {
		return notFound()
	}
	ctx := r.Context()
	q := r.URL.Query()
	data := &LeadQueuePage{Page: s.base(c, c.Lang, "nav.leads", "leads"), Policies: map[string]lead.SLAPolicy{}, URL: r.URL.RequestURI()}
	data.Tab = "queue"
	switch {
	case q.Has("owner"):
		data.Owner = formInt(q.Get("owner"))
	case c.User.Role == platform.RoleSales:
		data.Owner = c.User.ID // a rep starts on their own queue
	}
	data.Team = formInt(q.Get("team"))
	if c.Actor.OwnRecordsOnly {
		data.Owner = c.User.ID
	}
	var err error
	if data.Items, err = s.Lead.Queue(ctx, s.DB.Reader(), c.Actor.WorkspaceID, lead.QueueQuery{OwnerID: data.Owner, TeamID: data.Team}); err != nil {
		return err
	}
	for _, it := range data.Items {
		switch {
		case it.Overdue:
			data.Overdue++
		case it.DueAt.Sub(data.Now) <= time.Hour:
			data.DueSoon++
		}
	}
	if data.Teams, err = platform.ListTeams(ctx, s.DB.Reader(), c.Actor.WorkspaceID); err != nil {
		return err
	}
	ps, err := s.Lead.SLAPolicies(ctx, s.DB.Reader(), c.Actor.WorkspaceID)
	if err != nil {
		return err
	}
	for _, p := range ps {
		data.Policies[p.Key] = p
	}
	if data.Reasons, err = s.Lead.Reasons(ctx, c.Actor.WorkspaceID); err != nil {
		return err
	}
	return s.show(w, c, "leads", data)
}

// SLAReportPage shows first-touch response times per rep, team, channel or
// priority over a period.
type SLAReportPage struct {
	Page
	Rows     []lead.SLARow
	By       string
	From, To string
	Policies map[string]lead.SLAPolicy
}

// RowLabel names a report row in the page's language.
func (p SLAReportPage) RowLabel(r lead.SLARow) string {
	switch {
	case r.Key == "total":
		return p.T("common.total")
	case p.By == "channel":
		if r.Key == "" {
			return p.T("channel.unknown")
		}
		return p.Channel(r.Key)
	case p.By == "policy":
		if pol, ok := p.Policies[r.Key]; ok {
			return pol.Label(string(p.Lang))
		}
	case (p.By == "team" || p.By == "owner") && r.Key == "0":
		return p.T("common.none")
	}
	return r.Label
}

// Pct formats a share as a whole percentage.
func (p SLAReportPage) Pct(r lead.SLARow) string { return fmt.Sprintf("%.0f%%", 100*r.MetRate()) }

func (s *Server) slaReport(w http.ResponseWriter, r *http.Request, c *rctx) error {
	if s.Lead == nil {
		return notFound()
	}
	q := r.URL.Query()
	data := &SLAReportPage{Page: s.base(c, c.Lang, "sla.report", "leads"), By: q.Get("by"), Policies: map[string]lead.SLAPolicy{}}
	data.Tab = "sla"
	if data.By == "" {
		data.By = "owner"
	}
	from, to, err := lead.ReportPeriod(q.Get("from"), q.Get("to"), c.Loc, c.Now)
	if _, msg, ok := formError(err); ok {
		data.Flash = localize(c.Lang, msg)
		from, to, _ = lead.ReportPeriod("", "", c.Loc, c.Now)
	}
	data.From, data.To = from.In(c.Loc).Format(time.DateOnly), to.AddDate(0, 0, -1).In(c.Loc).Format(time.DateOnly)
	data.Rows, err = s.Lead.SLAReport(r.Context(), s.DB.Reader(), c.Actor.WorkspaceID, from, to, data.By)
	if _, msg, ok := formError(err); ok {
		data.Flash = localize(c.Lang, msg)
		data.By = "owner"
		data.Rows, err = s.Lead.SLAReport(r.Context(), s.DB.Reader(), c.Actor.WorkspaceID, from, to, data.By)
	}
	if err != nil {
		return err
	}
	ps, err := s.Lead.SLAPolicies(r.Context(), s.DB.Reader(), c.Actor.WorkspaceID)
	if err != nil {
		return err
	}
	for _, p := range ps {
		data.Policies[p.Key] = p
	}
	return s.show(w, c, "sla_report", data)
}

// FeedPage is marketing's view of what sales passed back.
type FeedPage struct {
	Page
	Items                 []lead.FeedItem
	ByChannel, ByCampaign []lead.FeedCount
	Kind, Topic, ChannelF string
	Campaign, Reason      string
	From, To              string
	Topics                []string
	Reasons               map[string]string
	ReasonList            []lead.Reason
	Channels              []string
	More                  string // the next page's URL
}

// FeedName is a feed item's contact name in the page's language.
func (p FeedPage) FeedName(it lead.FeedItem) string {
	if n := i18n.PersonName(p.Lang, it.FamilyName, it.GivenName); n != "" {
		return n
	}
	return it.Email
}

// ReasonLabel names a reject reason.
func (p FeedPage) ReasonLabel(key string) string {
	if l, ok := p.Reasons[key]; ok {
		return l
	}
	return key
}

// TopReasons lists a count's reasons, most frequent first.
func (p FeedPage) TopReasons(fc lead.FeedCount) []string {
	type kv struct {
		k string
		n int
	}
	var list []kv
	for k, n := range fc.Reasons {
		list = append(list, kv{k, n})
	}
	sort.Slice(list, func(i, j int) bool { return list[i].n > list[j].n || list[i].n == list[j].n && list[i].k < list[j].k })
	var out []string
	for i, x := range list {
		if i == 3 {
			break
		}
		out = append(out, fmt.Sprintf("%s (%d)", p.ReasonLabel(x.k), x.n))
	}
	return out
}

// feedPage is how many feed items a page shows.
const feedPage = 30

// formTimeMillis reads a Unix-millisecond time (zero when absent or bad).
func formTimeMillis(v string) time.Time {
	ms, err := strconv.ParseInt(v, 10, 64)
	if err != nil || ms <= 0 {
		return time.Time{}
	}
	return time.UnixMilli(ms).UTC()
}

func (s *Server) feedbackFeed(w http.ResponseWriter, r *http.Request, c *rctx) error {
	if s.Lead == nil {
		return notFound()
	}
	ctx := r.Context()
	q := r.URL.Query()
	data := &FeedPage{Page: s.base(c, c.Lang, "feed.title", "leads"), Kind: q.Get("kind"), Topic: q.Get("topic"), ChannelF: q.Get("channel"),
		Campaign: q.Get("campaign"), Reason: q.Get("reason"), Topics: crm.VoiceTopics, Reasons: map[string]string{}}
	data.Tab = "feedback"
	from, to, err := lead.ReportPeriod(q.Get("from"), q.Get("to"), c.Loc, c.Now)
	if _, msg, ok := formError(err); ok {
		data.Flash = localize(c.Lang, msg)
		from, to, _ = lead.ReportPeriod("", "", c.Loc, c.Now)
	}
	if q.Get("from") == "" {
		from = to.AddDate(0, 0, -90) // a quarter by default: feedback is sparse
	}
	data.From, data.To = from.In(c.Loc).Format(time.DateOnly), to.AddDate(0, 0, -1).In(c.Loc).Format(time.DateOnly)
	data.Items, data.ByChannel, data.ByCampaign, err = s.Lead.Feed(ctx, s.DB.Reader(), c.Actor.WorkspaceID, lead.FeedQuery{Kind: data.Kind,
		Topic: data.Topic, Reason: data.Reason, Channel: data.ChannelF, Campaign: data.Campaign, From: from, To: to, Limit: feedPage,
		Before: formTimeMillis(q.Get("before"))})
	if _, msg, ok := formError(err); ok {
		data.Flash = localize(c.Lang, msg)
		data.Kind = ""
		data.Items, data.ByChannel, data.ByCampaign, err = s.Lead.Feed(ctx, s.DB.Reader(), c.Actor.WorkspaceID, lead.FeedQuery{From: from, To: to, Limit: 100})
	}
	if err != nil {
		return err
	}
	if len(data.Items) == feedPage {
		u := *r.URL
		v := u.Query()
		v.Set("before", strconv.FormatInt(data.Items[feedPage-1].At.UnixMilli(), 10))
		u.RawQuery = v.Encode()
		data.More = u.RequestURI()
	}
	if data.ReasonList, err = s.Lead.Reasons(ctx, c.Actor.WorkspaceID); err != nil {
		return err
	}
	for _, x := range data.ReasonList {
		data.Reasons[x.Key] = x.Label(string(c.Lang))
	}
	chs, err := platform.ListChannels(ctx, s.DB.Reader(), c.Actor.WorkspaceID)
	if err != nil {
		return err
	}
	for _, ch := range chs {
		data.Channels = append(data.Channels, ch.Key)
	}
	return s.show(w, c, "feedback", data)
}
