package web

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/ryorin/ryorin/internal/errs"
	"github.com/ryorin/ryorin/internal/insight"
	"github.com/ryorin/ryorin/internal/platform"
)

// PlansPage lists goal plans with a form for a new one, its rates filled
// in from the last twelve months.
type PlansPage struct {
	Page
	Plans    []insight.Plan
	Measured insight.Rates
	AvgDeal  int64
	MayDraft bool
	Errors   FormErrors
	In       map[string]string
}

// PlanPage is one plan: what it needs, its approvals and its pacing.
type PlanPage struct {
	Page
	P      insight.Plan
	Pace   *insight.Pacing
	Steps  []string
	Errors FormErrors
}

// StepName names a plan step.
func (p Page) StepName(s string) string { return p.T("plan.step." + s) }

// PctOf formats a 0–1 rate as a percentage with one decimal.
func (p Page) PctOf(x float64) string { return strconv.FormatFloat(100*x, 'f', 1, 64) + "%" }

// PaceWidth is actual ÷ expected as a bar width (capped at 100).
func (p *PlanPage) PaceWidth(i int) int {
	if p.Pace == nil || p.Pace.Expected[i] == 0 {
		return 0
	}
	return min(100, int(100*float64(p.Pace.Actual[i])/p.Pace.Expected[i]))
}

// PaceRatio formats actual ÷ expected.
func (p *PlanPage) PaceRatio(i int) string {
	if p.Pace == nil || p.Pace.Expected[i] < 1 {
		return "—"
	}
	return fmt.Sprintf("%.0f%%", 100*float64(p.Pace.Actual[i])/p.Pace.Expected[i])
}

// ExpectedN formats the expected count by today.
func (p *PlanPage) ExpectedN(i int) string { return p.Num(int64(p.Pace.Expected[i] + 0.5)) }

func mayDraftPlan(r platform.Role) bool {
	return r == platform.RoleAdmin || r == platform.RoleManager || r == platform.RoleMarketing
}

func (s *Server) plansPage(w http.ResponseWriter, r *http.Request, c *rctx) error {
	data := &PlansPage{Page: s.base(c, c.Lang, "plan.title", "reports"), MayDraft: mayDraftPlan(c.Actor.Role), In: map[string]string{}}
	return s.showPlans(w, r, c, data)
}

func (s *Server) showPlans(w http.ResponseWriter, r *http.Request, c *rctx, data *PlansPage) error {
	ctx := r.Context()
	data.Tab = "plans"
	ws := c.WS
	var err error
	pl := insight.NewPlanner(s.DB, s.Clock)
	if data.Plans, err = pl.List(ctx, s.DB.Reader(), ws); err != nil {
		return err
	}
	if data.Measured, data.AvgDeal, _, err = insight.MeasuredRates(ctx, s.DB.Reader(), ws, c.Now); err != nil {
		return err
	}
	if len(data.In) == 0 {
		r := data.Measured
		pct := func(x float64) string { return strconv.FormatFloat(100*x, 'f', 1, 64) }
		data.In = map[string]string{"period": "quarter", "offset": "1", "avg_deal_size": strconv.FormatInt(data.AvgDeal, 10),
			"visit_to_lead": pct(r.VisitToLead), "lead_to_mql": pct(r.LeadToMQL), "mql_to_sql": pct(r.MQLToSQL), "sql_to_opportunity": pct(r.SQLToOpp), "opportunity_to_won": pct(r.OppToWon)}
	}
	return s.show(w, c, "plans", data)
}

// planForm reads the new-plan form: money in yen, rates in percent.
func planForm(r *http.Request) (insight.PlanInput, error) {
	num := func(k string) (float64, error) {
		v := strings.ReplaceAll(strings.TrimSpace(r.PostFormValue(k)), ",", "")
		if v == "" {
			return 0, nil
		}
		x, err := strconv.ParseFloat(v, 64)
		if err != nil || x != x {
			return 0, errs.Field(k, "must be a number")
		}
		return x, nil
	}
	in := insight.PlanInput{Name: strings.TrimSpace(r.PostFormValue("name")), Period: r.PostFormValue("period")}
	in.Offset, _ = strconv.Atoi(r.PostFormValue("offset"))
	goal, err := num("revenue_goal")
	if err != nil {
		return in, err
	}
	avg, err := num("avg_deal_size")
	if err != nil {
		return in, err
	}
	in.RevenueGoal, in.AvgDealSize = platform.ToMinor(goal, "JPY"), platform.ToMinor(avg, "JPY")
	var rates insight.Rates
	for _, f := range []struct {
		key string
		dst *float64
	}{{"visit_to_lead", &rates.VisitToLead}, {"lead_to_mql", &rates.LeadToMQL}, {"mql_to_sql", &rates.MQLToSQL}, {"sql_to_opportunity", &rates.SQLToOpp}, {"opportunity_to_won", &rates.OppToWon}} {
		x, err := num(f.key)
		if err != nil {
			return in, err
		}
		*f.dst = x / 100
	}
	in.Rates = &rates
	return in, nil
}

var planFields = []string{"name", "period", "offset", "revenue_goal", "avg_deal_size", "visit_to_lead", "lead_to_mql", "mql_to_sql", "sql_to_opportunity", "opportunity_to_won"}

func (s *Server) createPlanPage(w http.ResponseWriter, r *http.Request, c *rctx) error {
	in, err := planForm(r)
	var p insight.Plan
	if err == nil {
		p, err = insight.NewPlanner(s.DB, s.Clock).Create(r.Context(), c.Actor, in)
	}
	if e, ok := errs.As(err); ok && strings.HasPrefix(e.Field, "rates.") {
		e.Field = strings.TrimPrefix(e.Field, "rates.")
	}
	if fe, ok := formErrors(c.Lang, err, planFields...); ok {
		data := &PlansPage{Page: s.base(c, c.Lang, "plan.title", "reports"), MayDraft: true, Errors: fe, In: formValues(r)}
		w.WriteHeader(http.StatusUnprocessableEntity)
		return s.showPlans(w, r, c, data)
	}
	if err != nil {
		return err
	}
	return s.saved(w, r, c, "common.saved", fmt.Sprintf("/reports/plans/%d", p.ID))
}

func (s *Server) planPage(w http.ResponseWriter, r *http.Request, c *rctx) error {
	data, err := s.loadPlan(r, c, formInt(r.PathValue("id")))
	if err != nil {
		return err
	}
	return s.show(w, c, "plan", data)
}

func (s *Server) loadPlan(r *http.Request, c *rctx, id int64) (*PlanPage, error) {
	ctx := r.Context()
	ws := c.WS
	var err error
	p, err := insight.NewPlanner(s.DB, s.Clock).Get(ctx, s.DB.Reader(), ws, id)
	if err != nil {
		return nil, err
	}
	data := &PlanPage{Page: s.base(c, c.Lang, "plan.title", "reports"), P: p, Steps: insight.PlanSteps, Errors: FormErrors{}}
	data.Tab, data.Title = "plans", p.Name
	if p.Status == "active" || c.Now.After(p.Period.From) {
		pace, err := insight.PaceOf(ctx, s.DB.Reader(), ws, p, c.Now)
		if err != nil {
			return nil, err
		}
		data.Pace = &pace
	}
	return data, nil
}

func (s *Server) approvePlanPage(w http.ResponseWriter, r *http.Request, c *rctx) error {
	id := formInt(r.PathValue("id"))
	_, err := insight.NewPlanner(s.DB, s.Clock).Approve(r.Context(), c.Actor, id)
	if fe, ok := formErrors(c.Lang, err); ok {
		data, lerr := s.loadPlan(r, c, id)
		if lerr != nil {
			return lerr
		}
		data.Errors = fe
		w.WriteHeader(http.StatusUnprocessableEntity)
		return s.show(w, c, "plan", data)
	}
	if e, ok := errs.As(err); ok && e.Kind == errs.Forbidden {
		data, lerr := s.loadPlan(r, c, id)
		if lerr != nil {
			return lerr
		}
		data.Errors = FormErrors{"": localize(c.Lang, e.Message)}
		w.WriteHeader(http.StatusForbidden)
		return s.show(w, c, "plan", data)
	}
	if err != nil {
		return err
	}
	return s.saved(w, r, c, "plan.approved", fmt.Sprintf("/reports/plans/%d", id))
}
