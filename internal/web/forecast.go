package web

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/ryorin/ryorin/internal/crm"
	"github.com/ryorin/ryorin/internal/i18n"
	"github.com/ryorin/ryorin/internal/insight"
	"github.com/ryorin/ryorin/internal/platform"
)

// ForecastPage is the data of the forecast roll-up.
type ForecastPage struct {
	Page
	F         insight.Forecast
	Offset    int
	TeamID    int64
	OwnerID   int64
	Teams     []platform.Team
	TeamNames map[int64]string
	Deals     []insight.ForecastDeal
	MoreDeals int
	Mine      bool // limited to the rep's own records
	Back      string
}

// Amt formats minor units of the base currency.
func (p *ForecastPage) Amt(minor int64) string {
	return i18n.Money(platform.FromMinor(minor, p.F.Currency), p.F.Currency)
}

// Delta formats a change in minor units with its sign.
func (p *ForecastPage) Delta(now, then int64) string {
	d := now - then
	if d >= 0 {
		return "+" + p.Amt(d)
	}
	return "−" + p.Amt(-d)
}

// Width is x as a share of the largest of the bar's scale, in percent.
func (p *ForecastPage) Width(x int64) string {
	scale := max(p.F.Total.Target, p.F.Total.BestCaseTotal+p.F.Total.Pipeline, 1)
	return strconv.FormatFloat(min(100, 100*float64(x)/float64(scale)), 'f', 1, 64)
}

// TeamName names a team (0: no team).
func (p *ForecastPage) TeamName(id int64) string {
	if n, ok := p.TeamNames[id]; ok {
		return n
	}
	return p.T("reps.no_team")
}

// Cat names a forecast category.
func (p *ForecastPage) Cat(c string) string { return p.T("fc.cat." + c) }

// Change describes one change since the snapshot.
func (p *ForecastPage) Change(c insight.ForecastChange) string {
	switch c.Kind {
	case "slipped":
		to := p.Date(c.To)
		if c.To == "" {
			to = "—"
		}
		return p.T("fc.ch.slipped", "from", p.Date(c.From), "to", to)
	case "category":
		return p.T("fc.ch.category", "from", p.Cat(c.From), "to", p.Cat(c.To))
	case "added":
		return p.T("fc.ch.added", "to", p.Date(c.To))
	}
	return p.T("fc.ch." + c.Kind)
}

// Row pairs the page with one row for the "fcrow" partial.
func (p *ForecastPage) Row(x insight.ForecastRow) map[string]any {
	return map[string]any{"P": p, "I": x}
}

func (s *Server) forecastPage(w http.ResponseWriter, r *http.Request, c *rctx) error {
	ctx := r.Context()
	ws := c.WS
	var err error
	q := r.URL.Query()
	p, off, err := c.period(q, "quarter")
	if err != nil {
		return err
	}
	data := &ForecastPage{Page: s.base(c, c.Lang, "fc.title", "forecast"), Offset: off, TeamNames: map[int64]string{}, Mine: c.Actor.OwnRecordsOnly,
		Back: localPath(r.URL.RequestURI())}
	data.TeamID, _ = strconv.ParseInt(q.Get("team_id"), 10, 64)
	data.OwnerID, _ = strconv.ParseInt(q.Get("owner_id"), 10, 64)
	f := insight.ForecastFilter{TeamID: data.TeamID, OwnerID: data.OwnerID, Since: q.Get("since")}
	if data.F, err = insight.ForecastFor(ctx, s.DB.Reader(), c.Actor, ws, p, f, c.Now); err != nil {
		return err
	}
	if data.Teams, err = platform.ListTeams(ctx, s.DB.Reader(), c.Actor.WorkspaceID); err != nil {
		return err
	}
	for _, t := range data.Teams {
		data.TeamNames[t.ID] = t.Name
	}
	data.Deals = data.F.Deals
	if len(data.Deals) > 100 {
		data.Deals = data.Deals[:100]
	}
	data.MoreDeals = data.F.DealCount - len(data.Deals)
	return s.show(w, c, "forecast", data)
}

// setForecastCategory is the forecast page's one-field edit of a deal.
func (s *Server) setForecastCategory(w http.ResponseWriter, r *http.Request, c *rctx) error {
	id := formInt(r.PathValue("id"))
	cat := strings.TrimSpace(r.PostFormValue("forecast_category"))
	back := localPath(r.PostFormValue("back"))
	if back == "/" {
		back = fmt.Sprintf("/deals/%d", id)
	}
	_, err := s.CRM.UpdateDeal(r.Context(), c.Actor, id, crm.DealInput{ForecastCategory: &cat})
	if _, msg, ok := formError(err); ok {
		flash(w, localize(c.Lang, msg))
		http.Redirect(w, r, back, http.StatusSeeOther)
		return nil
	}
	if err != nil {
		return err
	}
	flash(w, i18n.T(c.Lang, "common.saved"))
	http.Redirect(w, r, back, http.StatusSeeOther)
	return nil
}
