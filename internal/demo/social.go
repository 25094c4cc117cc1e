package demo

import (
	"time"

	"github.com/ryorin/ryorin/internal/marketing/social"
)

// loadSocial enters a year of social figures per network as marketing
// would type them in from each network's analytics: X and LinkedIn grow a
// little month by month, Instagram and note stay small, YouTube is counted
// under the "other" channel (video hosting, not a social feed), so the
// channel filter has something to narrow.
func (l *loader) loadSocial() error {
	svc := social.New(l.d, l.clk)
	mkt := l.user("mkt1").actor()
	type net struct {
		name, channel  string
		impressions    int64
		rate, clickPer float64 // engagements ÷ impressions, clicks ÷ impressions
		followers      int64
	}
	nets := []net{{"x", "social", 42000, 0.018, 0.006, 60}, {"linkedin", "social", 9000, 0.035, 0.012, 25},
		{"instagram", "social", 6000, 0.045, 0.002, 15}, {"note", "social", 3000, 0.03, 0.02, 8}, {"youtube", "other", 4000, 0.05, 0.01, 5}}
	last := time.Date(l.end.In(l.jst).Year(), l.end.In(l.jst).Month(), 1, 0, 0, 0, 0, l.jst)
	l.clk.Set(l.end)
	for i := 11; i >= 0; i-- {
		m := last.AddDate(0, -i, 0)
		grow := 1 + float64(11-i)*0.04
		for _, n := range nets {
			impr := int64(float64(n.impressions) * grow * float64(85+l.intn(0, 30)) / 100)
			st := social.Stat{Month: m.Format("2006-01"), Network: n.name, Channel: n.channel, Impressions: impr,
				Engagements: int64(float64(impr) * n.rate * float64(80+l.intn(0, 40)) / 100), Clicks: int64(float64(impr) * n.clickPer),
				FollowersGained: n.followers * int64(80+l.intn(0, 40)) / 100}
			if _, err := svc.Set(l.ctx, mkt, st); err != nil {
				return err
			}
		}
	}
	return nil
}
