package lead

import (
	"fmt"
	"math"
	"sort"
	"strings"

	"github.com/ryorin/ryorin/internal/lead/rules"
)

// Line is one line of a score's explanation: which rule, how many points.
type Line struct {
	Rule   string  `json:"rule"`
	Points float64 `json:"points"`
	Detail string  `json:"detail,omitempty"`
}

// Score is a contact's fit and engagement under a definition, with the
// lines that explain them and whether the contact meets the MQL and
// disqualification criteria.
type Score struct {
	Fit          float64 `json:"fit"`
	FitGrade     string  `json:"fit_grade"`
	Engagement   float64 `json:"engagement"`
	MQL          bool    `json:"mql"`
	Disqualified bool    `json:"disqualified"`
	Lines        []Line  `json:"lines"`
}

// Compiled is a definition ready to score many contacts: every rule compiled once.
type Compiled struct {
	Body       Body
	fit        []*rules.Rule
	mql        *rules.Rule
	disqualify *rules.Rule
	fitStatic  bool // no fit rule reads events or the time
}

// readsBehaviour reports whether a rule may depend on events or the time
// (conservatively, by the helpers' names).
func readsBehaviour(src string) bool {
	return strings.Contains(src, "visits") || strings.Contains(src, "count") || strings.Contains(src, "submitted")
}

// Compile compiles a definition's rules.
func (b Body) Compile() (*Compiled, error) {
	if err := b.Validate(); err != nil {
		return nil, err
	}
	c := &Compiled{Body: b, fitStatic: true}
	for _, r := range b.FitRules {
		if readsBehaviour(r.When) {
			c.fitStatic = false
		}
		p, err := rules.Compile(r.When, rules.Condition)
		if err != nil {
			return nil, err
		}
		c.fit = append(c.fit, p)
	}
	var err error
	if c.mql, err = rules.Compile(b.MQL, rules.Condition); err != nil {
		return nil, err
	}
	if strings.TrimSpace(b.Disqualify) != "" {
		if c.disqualify, err = rules.Compile(b.Disqualify, rules.Condition); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// Score computes a contact's score at f.Now. Engagement decays continuously
// by the half-life (no nightly batch: the same events give a lower score
// later), and each rule earns at most its daily cap per calendar day.
func (c *Compiled) Score(f rules.Facts) (Score, error) { return c.score(f, true) }

// Figures is Score without the explanation lines: what the scorers store
// (the lines are computed again when one contact is shown, by Explain).
func (c *Compiled) Figures(f rules.Facts) (Score, error) { return c.score(f, false) }

func (c *Compiled) score(f rules.Facts, explain bool) (Score, error) {
	x := rules.NewEnv(f)
	fp, err := c.fitOf(x)
	if err != nil {
		return Score{}, err
	}
	return c.scoreWith(fp, x, true, explain)
}

// fitPart is the fit half of a score. When no fit rule reads behaviour
// (fitStatic), it does not change with time, and a replay computes it once.
type fitPart struct {
	fit   float64
	grade string
	lines []Line
}

func (c *Compiled) fitOf(x *rules.Env) (fitPart, error) { return c.fitMemo(x, nil) }

// fitMemo is fitOf with the results of rule sources already evaluated for
// this contact (by another definition with the same rule, in a backtest).
// Only valid while no fit rule reads behaviour (fitStatic).
func (c *Compiled) fitMemo(x *rules.Env, memo map[string]bool) (fitPart, error) {
	var fp fitPart
	x.F.Fit, x.F.FitGrade, x.F.Engagement = 0, "", 0 // fit rules never see a score
	for i, r := range c.Body.FitRules {
		ok, seen := memo[r.When]
		if !seen {
			var err error
			if ok, err = c.fit[i].BoolIn(x); err != nil {
				return fp, fmt.Errorf("fit rule %q: %w", r.Name, err)
			}
			if memo != nil {
				memo[r.When] = ok
			}
		}
		if ok {
			fp.fit += float64(r.Points)
			fp.lines = append(fp.lines, Line{Rule: r.Name, Points: float64(r.Points)})
		}
	}
	fp.grade = "D"
	for _, g := range []string{"A", "B", "C"} {
		if fp.fit >= float64(c.Body.FitGrades[g]) {
			fp.grade = g
			break
		}
	}
	return fp, nil
}

// scoreWith adds engagement and the criteria to a fit part. Without dq the
// disqualification criteria are left unevaluated (a replay needs them only
// for the final moment); without explain it leaves out the explanation
// lines (a backtest evaluates millions of moments and reads only the
// figures and the criteria).
func (c *Compiled) scoreWith(fp fitPart, x *rules.Env, dq, explain bool) (Score, error) {
	f := &x.F
	s := Score{Fit: fp.fit, FitGrade: fp.grade}
	if explain {
		s.Lines = append([]Line(nil), fp.lines...)
	}
	half := float64(c.Body.HalfLifeDays) * 24
	events := f.Events
	if !sort.SliceIsSorted(events, func(i, j int) bool { return events[i].At.Before(events[j].At) }) {
		events = append([]rules.Event(nil), f.Events...)
		sort.SliceStable(events, func(i, j int) bool { return events[i].At.Before(events[j].At) })
	}
	for _, r := range c.Body.EngagementRules {
		// Events are in time order, so a calendar day's events are
		// together: the daily cap needs only the current day's points.
		var day, today int
		var todayPts, pts float64
		n := 0
		for _, e := range events {
			if e.Kind != r.Event || e.At.After(f.Now) || (r.Path != "" && !strings.HasPrefix(e.Path, r.Path)) {
				continue
			}
			raw := float64(r.Points)
			if r.DailyCap > 0 {
				y, m, d := e.At.Date()
				if day = y*10000 + int(m)*100 + d; day != today {
					today, todayPts = day, 0
				}
				raw = math.Min(raw, float64(r.DailyCap)-todayPts)
				if raw <= 0 {
					continue
				}
				todayPts += raw
			}
			age := f.Now.Sub(e.At).Hours()
			pts += raw * math.Exp2(-age/half) // 0.5^(age/half), a third of Pow's cost
			n++
		}
		if n > 0 {
			pts = math.Round(pts*10) / 10
			s.Engagement += pts
			if explain {
				s.Lines = append(s.Lines, Line{Rule: r.Name, Points: pts, Detail: fmt.Sprintf("×%d", n)})
			}
		}
	}
	s.Engagement = math.Round(s.Engagement*10) / 10
	f.Fit, f.FitGrade, f.Engagement = s.Fit, s.FitGrade, s.Engagement
	var err error
	if s.MQL, err = c.mql.BoolIn(x); err != nil {
		return s, fmt.Errorf("mql: %w", err)
	}
	if dq && c.disqualify != nil {
		if s.Disqualified, err = c.disqualify.BoolIn(x); err != nil {
			return s, fmt.Errorf("disqualify: %w", err)
		}
	}
	return s, nil
}
