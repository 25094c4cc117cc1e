package web

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/ryorin/ryorin/internal/crm"
	"github.com/ryorin/ryorin/internal/platform"
	"github.com/ryorin/ryorin/internal/salesmail"
)

// TimelineItem is one timeline entry as the page shows it.
type TimelineItem struct {
	At       time.Time
	Group    string // activity, event, deal, lifecycle, record
	Icon     string
	Title    string
	Detail   string
	Body     string
	Actor    string
	Link     string
	LinkText string
}

// TimelineView is a page of a record's timeline.
type TimelineView struct {
	Page  Page
	Items []TimelineItem
	Next  string
}

// timelineFilters maps the tabs above a timeline to entry kinds.
var timelineFilters = map[string][]string{
	"sales": {"activity.call", "activity.email", "activity.meeting", "activity.demo", "activity.note", "activity.task", "task.done",
		"deal.created", "deal.stage_changed", "deal.won", "deal.lost", "deal.renewal_created", "issue.opened", "issue.status_changed",
		"sequence.enrolled", "sequence.step", "sequence.ended"},
	"marketing": {"campaign.member", "form.submitted", "form.confirmed", "event.page_view", "event.form_submit", "event.email_open", "event.email_click", "event.content_view", "event.outbound_click", "event.visitor_identified", "event.segment_entered", "event.segment_left",
		"journey.enrolled", "journey.step", "journey.ended"},
	"changes": {"lifecycle.changed", "contact.created", "company.created"},
}

// timelineView loads a page of a record's timeline and describes each entry
// in the page's language.
func (s *Server) timelineView(ctx context.Context, p Page, ws int64, subject string, id int64, filter, cursor, base string) (TimelineView, error) {
	tq := platform.TimelineQuery{Subject: subject, ID: id, Kinds: timelineFilters[filter], Limit: 30}
	if at, before, ok := decodeCursor(cursor); ok {
		tq.BeforeAt, tq.BeforeID = at, before
	}
	entries, err := platform.ListTimeline(ctx, s.DB.Reader(), ws, tq)
	if err != nil {
		return TimelineView{}, err
	}
	var actIDs []int64
	for _, e := range entries {
		if e.RefType == "activity" {
			actIDs = append(actIDs, e.RefID)
		}
	}
	acts, err := s.CRM.ActivitiesByIDs(ctx, s.DB.Reader(), ws, actIDs)
	if err != nil {
		return TimelineView{}, err
	}
	var mails map[int64]salesmail.Email
	if s.SalesMail != nil {
		if mails, err = salesmail.ByActivities(ctx, s.DB.Reader(), ws, actIDs); err != nil {
			return TimelineView{}, err
		}
	}
	v := TimelineView{Page: p}
	for _, e := range entries {
		it := describe(p, e, acts)
		if m, ok := mails[e.RefID]; ok && e.RefType == "activity" {
			it.Detail = strings.TrimPrefix(it.Detail+" · "+emailStats(p, m), " · ")
		}
		v.Items = append(v.Items, it)
	}
	if len(entries) == tq.Limit {
		last := entries[len(entries)-1]
		v.Next = base + "cursor=" + encodeCursor(last.At.UnixMilli(), last.ID)
		if filter != "" {
			v.Next += "&tl=" + filter
		}
	}
	return v, nil
}

func describe(p Page, e platform.TimelineEntry, acts map[int64]crm.Activity) TimelineItem {
	var d map[string]any
	_ = json.Unmarshal(e.Data, &d)
	str := func(k string) string { v, _ := d[k].(string); return v }
	it := TimelineItem{At: e.At}
	if e.ActorUserID != 0 {
		it.Actor = p.UserName(e.ActorUserID)
	}
	kind, sub, _ := strings.Cut(e.Kind, ".")
	switch kind {
	case "activity":
		it.Group, it.Icon = "activity", sub
		it.Title = p.T("activity.kind." + sub)
		if s := str("subject"); s != "" {
			it.Title += ": " + s
		}
		if o := str("outcome"); o != "" {
			it.Detail = p.T("outcome." + o)
		}
		if v := str("voice_topic"); v != "" {
			voice := p.T("voice.mark") + ": " + p.T("voice.topic."+v)
			if it.Detail != "" {
				voice = it.Detail + " · " + voice
			}
			it.Detail = voice
		}
		if a, ok := acts[e.RefID]; ok {
			it.Body = a.Body
			if a.Kind == "task" && a.DueAt != nil {
				it.Detail = p.T("activity.due") + " " + p.DateTime(*a.DueAt)
				if a.DoneAt != nil {
					it.Detail += " · " + p.T("activity.done")
				}
			}
		}
	case "event":
		it.Group, it.Icon = "event", "event"
		key := "timeline.event." + sub
		if p.T(key) == key {
			it.Title = p.T("timeline.event.other", "kind", sub)
		} else {
			it.Title = p.T(key)
		}
		it.Detail = str("url")
		if c := str("channel"); c != "" {
			it.Detail = strings.TrimSpace(it.Detail + " · " + p.Channel(c))
		}
	case "deal":
		it.Group, it.Icon = "deal", "deal"
		switch sub {
		case "created":
			it.Title = p.T("timeline.deal.created", "name", str("name"))
		case "stage_changed":
			it.Title = p.T("timeline.deal.stage_changed", "from", str("from"), "to", str("to"))
		case "won":
			it.Title = p.T("timeline.deal.won")
		case "lost":
			it.Title = p.T("timeline.deal.lost", "reason", str("lost_reason"))
		case "renewal_created":
			it.Title = p.T("timeline.deal.renewal_created", "name", str("name"))
			it.Detail = p.T("renewal.date", "date", p.Date(str("date")))
			if e.RefID != 0 {
				it.Link, it.LinkText = fmt.Sprintf("/deals/%d", e.RefID), p.T("renewals.renewal_deal")
			}
			return it
		default:
			it.Title = e.Kind
		}
		if e.DealID != 0 {
			it.Link, it.LinkText = fmt.Sprintf("/deals/%d", e.DealID), p.T("deal.singular")
		}
	case "lifecycle":
		it.Group, it.Icon = "lifecycle", "stage"
		from, to := str("from"), str("to")
		if from == "" {
			it.Title = p.T("timeline.lifecycle.set", "to", p.Stage(platform.Stage(to)))
		} else {
			it.Title = p.T("timeline.lifecycle.changed", "from", p.Stage(platform.Stage(from)), "to", p.Stage(platform.Stage(to)))
		}
		switch cause := str("cause"); cause {
		case "deal", "rule", "import", "form", "journey":
			it.Detail = p.T("timeline.cause." + cause)
		}
	case "form":
		it.Group, it.Icon = "event", "form"
		it.Title = p.T("timeline.form."+sub, "form", str("form"))
		it.Detail = str("url")
		if c := str("channel"); c != "" {
			it.Detail = strings.TrimSpace(it.Detail + " · " + p.Channel(c))
		}
		if consent, _ := d["consent"].(bool); consent {
			key := "timeline.form.consent"
			if str("status") == "pending" {
				key = "timeline.form.consent_pending"
			}
			it.Detail = strings.TrimPrefix(it.Detail+" · "+p.T(key), " · ")
		}
		if id, ok := d["form_id"].(float64); ok {
			it.Link, it.LinkText = fmt.Sprintf("/forms/%d", int64(id)), p.T("nav.forms")
		}
	case "campaign":
		it.Group, it.Icon, it.Title = "event", "event", p.T("timeline."+e.Kind)
		if st := str("status"); st != "" {
			it.Detail = p.T("camp.ms." + st)
		}
		if e.RefID != 0 {
			it.Link, it.LinkText = fmt.Sprintf("/campaigns/%d", e.RefID), p.T("camp.title")
		}
	case "quote":
		it.Group, it.Icon = "deal", "deal"
		ver, _ := d["version"].(float64)
		it.Title = p.T("timeline."+e.Kind, "number", str("number"), "version", int(ver), "pct", str("pct"), "contact", str("contact"))
		if n := str("note"); n != "" {
			it.Detail = n
		}
		if e.DealID != 0 && ver > 0 {
			it.Link, it.LinkText = fmt.Sprintf("/deals/%d/quotes/%d", e.DealID, int(ver)), p.T("quotes.title")
		}
	case "issue":
		it.Group, it.Icon = "activity", "flag"
		status := func(k string) string { return p.T("issue.status." + str(k)) }
		it.Title = p.T("timeline."+e.Kind, "subject", str("subject"), "from", status("from"), "to", status("to"))
		if sub == "opened" {
			it.Detail = p.T("issue.category."+str("category")) + " · " + p.T("issue.priority."+str("priority"))
		}
		if e.RefID != 0 {
			it.Link, it.LinkText = fmt.Sprintf("/issues/%d", e.RefID), p.T("issue.singular")
		}
	case "journey":
		it.Group, it.Icon = "event", "mkt"
		it.Title = p.T("timeline.journey."+sub, "journey", str("journey"), "step", str("step"))
		switch sub {
		case "step":
			it.Detail = p.T("journeys.step."+str("type")) + " · " + str("outcome")
		case "ended":
			it.Detail = p.T("journeys.enrol." + str("status"))
		}
		if id, ok := d["journey_id"].(float64); ok {
			it.Link, it.LinkText = fmt.Sprintf("/journeys/%d", int64(id)), p.T("nav.journeys")
		}
	case "sequence":
		it.Group, it.Icon = "activity", "email"
		step := 0
		if n, ok := d["step"].(float64); ok {
			step = int(n) + 1
		}
		it.Title = p.T("timeline.sequence."+sub, "sequence", str("sequence"), "step", step,
			"action", p.T("seq.action."+str("action")), "status", p.T("seq.status."+str("status")))
		if id, ok := d["sequence_id"].(float64); ok {
			it.Link, it.LinkText = fmt.Sprintf("/sequences/%d", int64(id)), p.T("nav.sequences")
		}
	case "task":
		it.Group, it.Icon, it.Title = "activity", "task", p.T("timeline.task.done")
		it.Detail = str("subject")
	default:
		it.Group, it.Icon = "record", "note"
		key := "timeline." + e.Kind
		if t := p.T(key); t != key {
			it.Title = t
		} else {
			it.Title = e.Kind
		}
	}
	return it
}
