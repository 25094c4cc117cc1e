package lead_test

import (
	"testing"
	"time"

	"github.com/ryorin/ryorin/internal/lead"
	"github.com/ryorin/ryorin/internal/lead/rules"
)

func TestScore_FitGradeEngagementDecayCapsAndMQL(t *testing.T) {
	now := time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)
	c, err := lead.DefaultBody().Compile()
	if err != nil {
		t.Fatal(err)
	}
	f := rules.Facts{Title: "情報システム部長", Email: "a@hikari.example.jp", Employees: 350, Now: now, Events: []rules.Event{
		{Kind: "page_view", Path: "/pricing", At: now.Add(-time.Hour)},
		{Kind: "page_view", Path: "/pricing", At: now.Add(-2 * time.Hour)},
		{Kind: "page_view", Path: "/pricing", At: now.Add(-3 * time.Hour)}, // over the daily cap of 20
		{Kind: "form_submit", At: now.Add(-14 * 24 * time.Hour)},           // one half-life ago: 15 points
	}}
	s, err := c.Score(f)
	if err != nil {
		t.Fatal(err)
	}
	if s.Fit != 50 || s.FitGrade != "A" {
		t.Errorf("fit = %v (%s), want 50 (A)", s.Fit, s.FitGrade)
	}
	// /pricing: 10 + 10 (cap 20), barely decayed; page views: 3 × 1; form: 30 × 0.5.
	if s.Engagement < 37 || s.Engagement > 38.1 {
		t.Errorf("engagement = %v, want about 38", s.Engagement)
	}
	if s.MQL {
		t.Error("fit A but engagement under 50 and no form in 7 days: not MQL")
	}
	hot := f
	hot.Events = append(append([]rules.Event(nil), f.Events...), rules.Event{Kind: "form_submit", At: now.Add(-time.Hour)})
	if s4, _ := c.Score(hot); !s4.MQL {
		t.Errorf("a form submitted an hour ago makes an MQL (engagement %v)", s4.Engagement)
	}
	later := f
	later.Now = now.Add(60 * 24 * time.Hour)
	s2, _ := c.Score(later)
	if s2.Engagement >= s.Engagement/4 {
		t.Errorf("decay: engagement %v two months later, was %v", s2.Engagement, s.Engagement)
	}
	if len(s.Lines) == 0 {
		t.Error("no explanation lines")
	}
	free := rules.Facts{Email: "x@gmail.com", Now: now}
	s3, _ := c.Score(free)
	if s3.FitGrade != "D" || s3.Fit != -20 {
		t.Errorf("free mail: fit %v (%s)", s3.Fit, s3.FitGrade)
	}
}

// TestScore_DailyCapStartsAgainEachDay checks the cap per calendar day: three
// pricing views on each of two days earn the cap twice, not once.
func TestScore_DailyCapStartsAgainEachDay(t *testing.T) {
	now := time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)
	b := lead.DefaultBody()
	b.HalfLifeDays = 365 // little decay over two days
	c, err := b.Compile()
	if err != nil {
		t.Fatal(err)
	}
	var evs []rules.Event
	for _, day := range []int{2, 1} {
		for h := range 3 {
			evs = append(evs, rules.Event{Kind: "page_view", Path: "/pricing", At: now.Add(-time.Duration(day*24+h) * time.Hour)})
		}
	}
	one, err := c.Score(rules.Facts{Now: now, Events: evs[3:]})
	if err != nil {
		t.Fatal(err)
	}
	two, err := c.Score(rules.Facts{Now: now, Events: evs})
	if err != nil {
		t.Fatal(err)
	}
	if d := two.Engagement - 2*one.Engagement; d < -0.5 || d > 0.5 {
		t.Errorf("two capped days: %v, want twice one day's %v", two.Engagement, one.Engagement)
	}
}
