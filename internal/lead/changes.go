package lead

import (
	"fmt"
	"sort"

	"github.com/ryorin/ryorin/internal/lead/rules"
)

// Change is one difference between two definition versions, for the
// agreement both teams sign: a rule added, removed or changed, or a setting
// changed.
type Change struct {
	Op   string `json:"op" enum:"added,removed,changed"`
	Part string `json:"part" enum:"fit_rule,engagement_rule,fit_grade,half_life_days,mql,disqualify"`
	Name string `json:"name,omitempty" doc:"the rule's name or the grade"`
	From string `json:"from,omitempty"`
	To   string `json:"to,omitempty"`
}

// Changes lists what changed from prev to cur, rules matched by name.
func Changes(prev, cur Body) []Change {
	var out []Change
	fit := func(r PointsRule) string { return fmt.Sprintf("%s → %+d", r.When, r.Points) }
	eng := func(r EngagementRule) string {
		s := r.Event
		if r.Path != "" {
			s += " " + r.Path
		}
		s += fmt.Sprintf(" %+d", r.Points)
		if r.DailyCap > 0 {
			s += fmt.Sprintf(" (≤%d/day)", r.DailyCap)
		}
		return s
	}
	out = append(out, diffNamed("fit_rule", prev.FitRules, cur.FitRules, func(r PointsRule) string { return r.Name }, fit)...)
	out = append(out, diffNamed("engagement_rule", prev.EngagementRules, cur.EngagementRules, func(r EngagementRule) string { return r.Name }, eng)...)
	for _, g := range []string{"A", "B", "C"} {
		if prev.FitGrades[g] != cur.FitGrades[g] {
			out = append(out, Change{Op: "changed", Part: "fit_grade", Name: g, From: fmt.Sprint(prev.FitGrades[g]), To: fmt.Sprint(cur.FitGrades[g])})
		}
	}
	if prev.HalfLifeDays != cur.HalfLifeDays {
		out = append(out, Change{Op: "changed", Part: "half_life_days", From: fmt.Sprint(prev.HalfLifeDays), To: fmt.Sprint(cur.HalfLifeDays)})
	}
	if prev.MQL != cur.MQL {
		out = append(out, Change{Op: "changed", Part: "mql", From: prev.MQL, To: cur.MQL})
	}
	if prev.Disqualify != cur.Disqualify {
		out = append(out, Change{Op: "changed", Part: "disqualify", From: prev.Disqualify, To: cur.Disqualify})
	}
	return out
}

func diffNamed[T any](part string, prev, cur []T, name func(T) string, show func(T) string) []Change {
	was := map[string]string{}
	for _, r := range prev {
		was[name(r)] = show(r)
	}
	var out []Change
	seen := map[string]bool{}
	for _, r := range cur {
		n := name(r)
		seen[n] = true
		old, ok := was[n]
		switch {
		case !ok:
			out = append(out, Change{Op: "added", Part: part, Name: n, To: show(r)})
		case old != show(r):
			out = append(out, Change{Op: "changed", Part: part, Name: n, From: old, To: show(r)})
		}
	}
	var gone []string
	for n := range was {
		if !seen[n] {
			gone = append(gone, n)
		}
	}
	sort.Strings(gone)
	for _, n := range gone {
		out = append(out, Change{Op: "removed", Part: part, Name: n, From: was[n]})
	}
	return out
}

// Properties lists the custom properties a definition's rules read, sorted,
// so an editor can flag those that do not exist.
func (b Body) Properties() []string {
	seen := map[string]bool{}
	srcs := []string{b.MQL, b.Disqualify}
	for _, r := range b.FitRules {
		srcs = append(srcs, r.When)
	}
	for _, src := range srcs {
		if src == "" {
			continue
		}
		r, err := rules.Compile(src, rules.Condition)
		if err != nil {
			continue
		}
		for _, p := range r.Props {
			seen[p] = true
		}
	}
	out := make([]string, 0, len(seen))
	for p := range seen {
		out = append(out, p)
	}
	sort.Strings(out)
	return out
}
