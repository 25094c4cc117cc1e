package lead_test

import (
	"testing"

	"github.com/ryorin/ryorin/internal/lead"
)

func TestChanges_NamesAddedRemovedAndChangedRulesAndSettings(t *testing.T) {
	prev := lead.DefaultBody()
	cur := lead.DefaultBody()
	cur.FitRules = append(cur.FitRules[1:], lead.PointsRule{Name: "製造業", When: `industry == "製造業"`, Points: 15})
	cur.EngagementRules[0].Points = 15
	cur.FitGrades = map[string]int{"A": 70, "B": prev.FitGrades["B"], "C": prev.FitGrades["C"]}
	cur.MQL = `engagement >= 80`
	got := lead.Changes(prev, cur)
	want := map[string]bool{
		"added fit_rule 製造業": true, "removed fit_rule " + prev.FitRules[0].Name: true,
		"changed engagement_rule " + prev.EngagementRules[0].Name: true, "changed fit_grade A": true, "changed mql ": true,
	}
	if len(got) != len(want) {
		t.Fatalf("changes: %+v", got)
	}
	for _, c := range got {
		if k := c.Op + " " + c.Part + " " + c.Name; !want[k] {
			t.Errorf("unexpected change %q (%+v)", k, c)
		}
	}
	if len(lead.Changes(prev, lead.DefaultBody())) != 0 {
		t.Error("identical bodies differ")
	}
}
