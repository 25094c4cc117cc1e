package demo

import (
	"fmt"
	"time"

	"github.com/ryorin/ryorin/internal/insight"
	"github.com/ryorin/ryorin/internal/marketing/campaigns"
	"github.com/ryorin/ryorin/internal/platform"
)

// loadCampaigns records the demo's marketing efforts: search and social ads
// and SEO content running all along, a trade show and a webinar, with
// spend per month and members joined when they first came (so the campaign
// pages and the channel report show what followed), and sales cost per
// month for CAC.
func (l *loader) loadCampaigns() error {
	svc := campaigns.New(l.d, l.clk)
	mkt := l.user("mkt1").actor()
	admin := l.admin.actor()
	day := 24 * time.Hour
	startDay := l.start.In(l.jst).Format(time.DateOnly)
	type plan struct {
		in      campaigns.Input
		monthly int64 // spend per month while it runs
		once    int64 // spend in its first month
		channel string
		status  func(i int) string
		from    time.Time
		to      time.Time
	}
	show := l.end.Add(-50 * day)
	web := l.end.Add(-30 * day)
	plans := []plan{
		{in: campaigns.Input{Name: new("リスティング広告(通年)"), Kind: new("search_ads"), Channel: new("paid_search"), UTMCampaign: new("search-always-on"),
			StartsOn: new(startDay), Status: new("active"), Budget: new(int64(2600000))}, monthly: 400000, channel: "paid_search",
			status: func(int) string { return "responded" }, from: l.start, to: l.end},
		{in: campaigns.Input{Name: new("SNS広告(LinkedIn・X)"), Kind: new("social_ads"), Channel: new("social"), UTMCampaign: new("social-2026"),
			StartsOn: new(startDay), Status: new("active"), Budget: new(int64(1500000))}, monthly: 250000, channel: "social",
			status: func(int) string { return "responded" }, from: l.start, to: l.end},
		{in: campaigns.Input{Name: new("SEO記事「MA・SFA連携ガイド」"), Kind: new("seo_content"), Channel: new("organic_search"), UTMCampaign: new("seo-guide"),
			StartsOn: new(startDay), Status: new("active"), Budget: new(int64(900000))}, monthly: 150000, channel: "organic_search",
			status: func(int) string { return "responded" }, from: l.start, to: l.end},
		{in: campaigns.Input{Name: new("Japan IT Week 秋 出展"), Kind: new("trade_show"), Channel: new("events_offline"), UTMCampaign: new("itweek-autumn"),
			StartsOn: new(show.In(l.jst).Format(time.DateOnly)), EndsOn: new(show.Add(2 * day).In(l.jst).Format(time.DateOnly)), Status: new("completed"),
			Budget: new(int64(2000000)), Notes: new("ブース 2小間。名刺交換はその週のうちに全件インポート。")}, once: 1800000, channel: "events_offline",
			status: func(i int) string { return "met" }, from: l.start, to: l.end},
		{in: campaigns.Input{Name: new("ウェビナー「インサイドセールス立ち上げ実践」"), Kind: new("webinar"), Channel: new("email"), UTMCampaign: new("webinar-is-2026"),
			StartsOn: new(web.In(l.jst).Format(time.DateOnly)), EndsOn: new(web.In(l.jst).Format(time.DateOnly)), Status: new("completed"), Budget: new(int64(300000))},
			once: 220000, channel: "email",
			status: func(i int) string { return []string{"attended", "attended", "registered", "no_show"}[i%4] }, from: l.end.Add(-90 * day), to: l.end},
	}
	for _, p := range plans {
		start, _ := time.ParseInLocation(time.DateOnly, *p.in.StartsOn, l.jst)
		l.clk.Set(start.Add(-7 * day))
		c, err := svc.Create(l.ctx, mkt, p.in)
		if err != nil {
			return fmt.Errorf("campaign %s: %w", *p.in.Name, err)
		}
		for m := time.Date(start.Year(), start.Month(), 1, 0, 0, 0, 0, l.jst); m.Before(l.end); m = m.AddDate(0, 1, 0) {
			amount := p.monthly
			if m.Year() == start.Year() && m.Month() == start.Month() {
				amount += p.once
			}
			if amount == 0 {
				continue
			}
			// ±10 % around the plan, in thousands of yen.
			amount = amount / 1000 * int64(90+l.intn(0, 20)) / 100 * 1000
			if _, err := svc.SetSpend(l.ctx, mkt, campaigns.SpendEntry{Month: m.Format("2006-01"), CampaignID: c.ID, Amount: amount}); err != nil {
				return err
			}
		}
		n := 0
		for _, ct := range l.contacts {
			if ct.channel != p.channel || ct.id == 0 || ct.created.Before(p.from) || ct.created.After(p.to) || ct.customer || !l.chance(0.7) {
				continue
			}
			l.clk.Set(ct.created.Add(time.Minute))
			if _, err := svc.SetMembers(l.ctx, mkt, c.ID, []int64{ct.id}, p.status(n)); err != nil {
				return fmt.Errorf("campaign %s member: %w", *p.in.Name, err)
			}
			n++
		}
	}
	// Sales cost (salaries and tools) per month, for CAC.
	l.clk.Set(l.end)
	for m := time.Date(l.start.In(l.jst).Year(), l.start.In(l.jst).Month(), 1, 0, 0, 0, 0, l.jst); m.Before(l.end); m = m.AddDate(0, 1, 0) {
		if _, err := svc.SetSalesCost(l.ctx, admin, campaigns.SalesCost{Month: m.Format("2006-01"), Amount: 4500000}); err != nil {
			return err
		}
	}
	return nil
}

// loadPlan agrees this fiscal quarter's goal plan: a stretch goal, 2.3 × the last
// three months' revenue, worked back with the measured rates, approved by the marketing
// manager and the field sales manager, so pacing has something to show.
func (l *loader) loadPlan() error {
	l.clk.Set(l.end)
	w, err := platform.GetWorkspace(l.ctx, l.d.Reader(), ws)
	if err != nil {
		return err
	}
	// The last three months' revenue, as the run rate to beat.
	last := insight.Period{Name: "custom", From: l.end.AddDate(0, -3, 0), To: l.end}
	ks, err := insight.Compute(l.ctx, l.d.Reader(), w, last)
	if err != nil {
		return err
	}
	var goal int64
	for _, k := range ks {
		if k.Key == "revenue" {
			goal = platform.ToMinor(k.Value*2.3/1e6, w.BaseCurrency) * 1e6
		}
	}
	if goal <= 0 {
		goal = 300_000_000
	}
	pl := insight.NewPlanner(l.d, l.clk)
	p, err := pl.Create(l.ctx, l.user("mkt_mgr").actor(), insight.PlanInput{Name: "今期の売上計画(挑戦目標)", Period: "quarter", RevenueGoal: goal})
	if err != nil {
		return fmt.Errorf("plan: %w", err)
	}
	for _, who := range []string{"mkt_mgr", "fs_mgr"} {
		if _, err := pl.Approve(l.ctx, l.user(who).actor(), p.ID); err != nil {
			return fmt.Errorf("plan approval: %w", err)
		}
	}
	return nil
}
