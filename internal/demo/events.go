package demo

import (
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/ryorin/ryorin/internal/db"
	"github.com/ryorin/ryorin/internal/platform"
)

// eventSink collects generated events with deterministic ids.
type eventSink struct {
	end time.Time
	evs []platform.EventInput
	// sessions summarise the visits as the tracker keeps them; a visitor's
	// sessions belong to the contact they became (stitch), as identifying
	// a visitor does.
	sessions []demoSession
	stitch   map[string]int64
}

type demoSession struct {
	uid, visitor, channel, campaign, source, medium, referrer, landing string
	contact                                                            int64
	start, last                                                        time.Time
	views                                                              int
}

func (s *eventSink) add(e platform.EventInput) {
	at := *e.OccurredAt
	if at.After(s.end) {
		at = s.end
	}
	e.OccurredAt = &at
	e.ID = fmt.Sprintf("demo-%07d", len(s.evs)+1)
	s.evs = append(s.evs, e)
}

// loadEvents ingests the marketing event stream: anonymous visits before a
// contact converts, the form they converted on, identified visits after,
// newsletter opens and clicks, content views, and visitors who never
// converted. It runs after the history, when every contact has its id.
func (l *loader) loadEvents() error {
	s := &eventSink{end: l.end, stitch: map[string]int64{}}
	for _, p := range l.contacts {
		p.visitorID = fmt.Sprintf("v-%016x", l.rng.Uint64())
		s.stitch[p.visitorID] = p.id
		web := p.channel != "events_offline" && p.channel != "other" && !p.customer
		if web {
			for range 1 + l.rng.IntN(2) {
				at := l.between(maxTime(p.created.Add(-days(30)), l.start), p.created.Add(-10*time.Minute))
				l.session(s, p.visitorID, 0, at, p.channel)
			}
			f := forms[l.rng.IntN(len(forms)-1)]
			if p.co == nil {
				f = forms[len(forms)-1]
			}
			at := p.created.Add(-time.Minute)
			s.add(platform.EventInput{Kind: platform.EventFormSubmit, OccurredAt: &at, ContactID: p.id, VisitorID: p.visitorID,
				URL: siteURL + f.path, Properties: map[string]any{"form": f.name}})
		}
		for range l.rng.IntN(3) {
			l.session(s, p.visitorID, p.id, l.between(p.created, l.end), pick(l.rng, []string{"direct", "direct", "organic_search", "email"}))
		}
		if p.consent == "granted" {
			// The monthly newsletter goes out on the second Tuesday-ish, 10:00 JST.
			for m := p.created.AddDate(0, 1, 0); m.Before(l.end); m = m.AddDate(0, 1, 0) {
				y, mo, _ := m.In(l.jst).Date()
				sent := time.Date(y, mo, 10, 10, 0, 0, 0, l.jst)
				if sent.Before(p.created) || sent.After(l.end) || !l.chance(0.45) {
					continue
				}
				campaign := "nl_" + sent.Format("2006_01")
				open := sent.Add(time.Duration(l.rng.IntN(48*60)) * time.Minute)
				s.add(platform.EventInput{Kind: platform.EventEmailOpen, OccurredAt: &open, ContactID: p.id, UTMCampaign: campaign,
					Channel: platform.ChannelEmail, Properties: map[string]any{"subject": sent.Format("ニュースレター 2006年1月号")}})
				if l.chance(0.35) {
					click := open.Add(time.Duration(10+l.rng.IntN(300)) * time.Second)
					page := pick(l.rng, sitePages)
					s.add(platform.EventInput{Kind: platform.EventEmailClick, OccurredAt: &click, ContactID: p.id, UTMCampaign: campaign,
						Channel: platform.ChannelEmail, URL: siteURL + page})
					l.session(s, p.visitorID, p.id, click.Add(5*time.Second), "email")
				}
			}
		}
		if l.chance(0.3) {
			c := pick(l.rng, contentPages)
			at := l.between(p.created, l.end)
			s.add(platform.EventInput{Kind: platform.EventContentView, OccurredAt: &at, ContactID: p.id, VisitorID: p.visitorID,
				URL: siteURL + c.path, Properties: map[string]any{"title": c.title}})
		}
	}
	for range l.n(1500) {
		visitor := fmt.Sprintf("v-%016x", l.rng.Uint64())
		for range 1 + l.rng.IntN(2) {
			l.session(s, visitor, 0, l.growthTime(l.start), pick(l.rng, []string{"organic_search", "organic_search", "paid_search", "social",
				"referral", "direct"}))
		}
	}
	slices.SortStableFunc(s.evs, func(a, b platform.EventInput) int { return a.OccurredAt.Compare(*b.OccurredAt) })
	if err := l.storeSessions(s.sessions); err != nil {
		return err
	}
	l.clk.Set(l.end)
	for i := 0; i < len(s.evs); i += platform.MaxEventBatch {
		batch := s.evs[i:min(i+platform.MaxEventBatch, len(s.evs))]
		res, err := platform.IngestEvents(l.ctx, l.d, l.sys, batch, l.end)
		if err != nil {
			return err
		}
		if len(res.Errors) > 0 {
			e := res.Errors[0]
			return fmt.Errorf("event %s rejected: %s %s", batch[e.Index].ID, e.Field, e.Message)
		}
	}
	l.log.Info("demo data: events ingested", "events", len(s.evs))
	return nil
}

// session adds one visit of a few page views arriving through channel.
func (l *loader) session(s *eventSink, visitor string, contactID int64, at time.Time, channel string) {
	sid := fmt.Sprintf("s-%012x", l.rng.Uint64()>>16)
	var ref, query string
	switch channel {
	case "organic_search":
		ref = pick(l.rng, []string{"https://www.google.com/", "https://www.google.co.jp/", "https://search.yahoo.co.jp/"})
	case "paid_search":
		query = "?utm_source=google&utm_medium=cpc&utm_campaign=" + pick(l.rng, []string{"crm_hikaku", "ma_tool", "sfa_brand"})
	case "social":
		ref = pick(l.rng, []string{"https://www.linkedin.com/", "https://t.co/", "https://www.facebook.com/"})
	case "email":
		query = "?utm_source=newsletter&utm_medium=email&utm_campaign=nl_" + at.In(l.jst).Format("2006_01")
	case "referral":
		ref = pick(l.rng, []string{"https://www.saas-review.example/crm", "https://partner.example/blog/ma"})
	}
	page := pick(l.rng, sitePages)
	prev := ""
	t := at
	ds := demoSession{uid: sid, visitor: visitor, channel: channel, referrer: ref, landing: siteURL + page + query, contact: contactID, start: at}
	if ds.contact == 0 {
		ds.contact = s.stitch[visitor]
	}
	if query != "" {
		v, _ := url.ParseQuery(strings.TrimPrefix(query, "?"))
		ds.source, ds.medium, ds.campaign = v.Get("utm_source"), v.Get("utm_medium"), v.Get("utm_campaign")
	}
	for i := range 1 + l.rng.IntN(4) {
		u := siteURL + page
		r := prev
		if i == 0 {
			u += query
			r = ref
		}
		tt := t
		s.add(platform.EventInput{Kind: platform.EventPageView, OccurredAt: &tt, ContactID: contactID, VisitorID: visitor,
			SessionID: sid, URL: u, Referrer: r})
		prev = siteURL + page
		ds.last, ds.views = tt, ds.views+1
		if l.chance(0.3) {
			page = "/pricing"
		} else {
			page = pick(l.rng, sitePages)
		}
		t = t.Add(time.Duration(20+l.rng.IntN(240)) * time.Second)
	}
	if ds.start.Before(s.end) {
		s.sessions = append(s.sessions, ds)
	}
}

// storeSessions writes the visits' summaries in bounded batches.
func (l *loader) storeSessions(ss []demoSession) error {
	for i := 0; i < len(ss); i += 500 {
		part := ss[i:min(i+500, len(ss))]
		err := l.d.Write(l.ctx, "demo.sessions", func(tx *db.Tx) error {
			for _, x := range part {
				var contact any
				if x.contact != 0 {
					contact = x.contact
				}
				last := x.last
				if last.After(l.end) {
					last = l.end
				}
				if _, err := tx.ExecContext(l.ctx, `INSERT INTO track_sessions (workspace_id, uid, visitor_id, contact_id, started_at, last_at, channel,
					utm_source, utm_medium, utm_campaign, referrer, landing_url, page_views, events) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
					ws, x.uid, x.visitor, contact, db.Millis(x.start), db.Millis(last), x.channel, x.source, x.medium, x.campaign, x.referrer, x.landing, x.views, x.views); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("sessions: %w", err)
		}
	}
	return nil
}

// loadNotifications gives every user a few recent notifications, the older
// ones already read.
func (l *loader) loadNotifications() error {
	n := &platform.Notifier{DB: l.d, Clock: l.clk, Log: l.log}
	var wonDeals, openDeals []*deal
	for _, d := range l.deals {
		switch {
		case d.won:
			wonDeals = append(wonDeals, d)
		case !d.lost:
			openDeals = append(openDeals, d)
		}
	}
	recentContact := func(owner *demoUser, skip int) *contact {
		for i := len(l.contacts) - 1; i >= 0; i-- {
			if p := l.contacts[i]; p.owner == owner && !p.customer {
				if skip == 0 {
					return p
				}
				skip--
			}
		}
		return l.contacts[len(l.contacts)-1]
	}
	name := func(p *contact) string {
		if p.en {
			return p.given + " " + p.family
		}
		return p.family + " " + p.given + " 様"
	}
	keys := []string{"admin", "mkt_mgr", "fs_mgr", "is_mgr", "mkt1", "mkt2", "fs1", "fs2", "is1", "is2"}
	for _, key := range keys {
		u := l.user(key)
		var list []platform.Notification
		switch {
		case key == "fs2":
			p := recentContact(u, 0)
			list = append(list, platform.Notification{Kind: "lead.assigned", Title: "New lead assigned to you", Body: name(p), Link: fmt.Sprintf("/contacts/%d", p.id)},
				platform.Notification{Kind: "task.due", Title: "You have tasks due today", Link: "/tasks"})
		case u.role == platform.RoleSales:
			for i := range 2 {
				p := recentContact(u, i)
				list = append(list, platform.Notification{Kind: "lead.assigned", Title: "新しいリードが割り当てられました", Body: name(p),
					Link: fmt.Sprintf("/contacts/%d", p.id)})
			}
			list = append(list, platform.Notification{Kind: "task.due", Title: "今日が期限のタスクがあります", Link: "/tasks"})
		case u.role == platform.RoleMarketing:
			p := recentContact(l.user("is1"), 2)
			list = append(list, platform.Notification{Kind: "form.submitted", Title: "フォームから新しいリードが登録されました", Body: name(p),
				Link: fmt.Sprintf("/contacts/%d", p.id)},
				platform.Notification{Kind: "campaign.report", Title: "ニュースレターの配信レポートが届きました", Link: "/reports/email"})
		case u.role == platform.RoleManager:
			list = append(list, platform.Notification{Kind: "report.weekly", Title: "週次パイプラインレポートが更新されました", Link: "/reports/pipeline"})
		default:
			list = append(list, platform.Notification{Kind: "system.demo", Title: "デモデータを読み込みました",
				Body: "全ユーザー共通のパスワードでサインインできます。", Link: "/"})
		}
		if len(wonDeals) > 0 && (u.role == platform.RoleManager || key == "fs1") {
			d := wonDeals[len(wonDeals)-1]
			list = append(list, platform.Notification{Kind: "deal.won", Title: "商談が受注になりました", Body: d.co.short,
				Link: fmt.Sprintf("/deals/%d", d.id)})
		}
		if len(openDeals) > 0 && u.role == platform.RoleSales && key != "fs2" {
			d := openDeals[len(openDeals)-1]
			list = append(list, platform.Notification{Kind: "deal.stage_changed", Title: "商談のステージが変更されました", Body: d.co.short,
				Link: fmt.Sprintf("/deals/%d", d.id)})
		}
		for i, nt := range list {
			at := l.end.Add(-time.Duration(len(list)-i) * time.Duration(2+l.rng.IntN(20)) * time.Hour)
			l.clk.Set(at)
			nt.DedupeKey = fmt.Sprintf("demo:%s:%d", key, i)
			var id int64
			err := l.d.Write(l.ctx, "demo.Notify", func(tx *db.Tx) error {
				var err error
				id, _, err = n.Notify(l.ctx, tx, ws, u.u.ID, nt)
				return err
			})
			if err != nil {
				return fmt.Errorf("notify %s: %w", u.email, err)
			}
			if i < len(list)/2 {
				if _, err := platform.MarkRead(l.ctx, l.d, u.actor(), id, at.Add(time.Hour)); err != nil {
					return fmt.Errorf("mark read: %w", err)
				}
			}
		}
	}
	l.clk.Set(l.end)
	return nil
}
