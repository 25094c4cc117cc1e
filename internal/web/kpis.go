package web

import (
	"fmt"
	"net/http"

	"github.com/ryorin/ryorin/internal/i18n"
	"github.com/ryorin/ryorin/internal/insight"
)

// KPIPage shows the shared KPIs for a period beside the one before.
type KPIPage struct {
	Page
	Period, Prev insight.Period
	Items        []insight.KPI
	Before       map[string]insight.KPI
	Offset       int
	Currency     string
	RF           ReportFilter
	FilterHow    string
	Social       insight.Social
}

// Show formats a KPI value by its unit.
func (p *KPIPage) Show(k insight.KPI) string {
	switch k.Unit {
	case "ratio":
		if k.Of == 0 {
			return "—"
		}
		return fmt.Sprintf("%.1f%%", 100*k.Value)
	case "money":
		return i18n.Money(k.Value, p.Currency)
	case "multiple":
		if k.Value == 0 {
			return "—"
		}
		return fmt.Sprintf("%.1f×", k.Value)
	}
	return i18n.Number(int64(k.Value))
}

// OfN formats a ratio's denominator.
func (p *KPIPage) OfN(k insight.KPI) string { return i18n.Number(int64(k.Of)) }

// Range formats the period's dates.
func (p *KPIPage) Range(q insight.Period) string {
	return p.Date(q.From) + " – " + p.Date(q.To.AddDate(0, 0, -1))
}

func (s *Server) kpis(w http.ResponseWriter, r *http.Request, c *rctx) error {
	ctx := r.Context()
	ws := c.WS
	var err error
	data := &KPIPage{Page: s.base(c, c.Lang, "kpi.title", "reports"), Currency: ws.BaseCurrency, Before: map[string]insight.KPI{}}
	data.Tab = "kpis"
	if data.Period, data.Offset, err = c.period(r.URL.Query(), "month"); err != nil {
		return err
	}
	if data.Prev, err = insight.PeriodOf(ws, data.Period.Name, data.Offset+1, c.Now); err != nil {
		return err
	}
	data.FilterHow = insight.FilterFormula
	if data.RF, err = s.reportFilter(ctx, ws.ID, "kpis", r.URL.Query(), insight.FilterScope{Channel: true, Campaign: true, Team: true, Owner: true, Pipeline: true, How: insight.FilterFormula}); err != nil {
		return err
	}
	rd := s.DB.Reader()
	if data.Items, err = insight.ComputeFiltered(ctx, rd, ws, data.Period, data.RF.F); err != nil {
		return err
	}
	if data.Social, err = insight.SocialOf(ctx, rd, ws, data.Period, data.RF.F); err != nil {
		return err
	}
	before, err := insight.ComputeFiltered(ctx, rd, ws, data.Prev, data.RF.F)
	if err != nil {
		return err
	}
	for _, k := range before {
		data.Before[k.Key] = k
	}
	return s.show(w, c, "kpis", data)
}
