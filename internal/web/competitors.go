package web

import (
	"context"
	"fmt"
	"net/http"

	"github.com/ryorin/ryorin/internal/crm"
	"github.com/ryorin/ryorin/internal/i18n"
	"github.com/ryorin/ryorin/internal/sales"
)

// CompetitorsPage lists competitors with their record against us.
type CompetitorsPage struct {
	Page
	Items []sales.CompetitorReport
	News  []crm.News
	Names map[int64]string
}

// Pct formats a competitor's win rate as a whole percentage, or — when
// nothing closed.
func (p Page) Pct(c sales.CompetitorReport) string {
	if c.WinRate == nil {
		return "—"
	}
	return fmt.Sprintf("%.0f%%", 100**c.WinRate)
}

// AvgDiscount formats a competitor's average discount to one decimal, or —
// when no closed deal against them has line items.
func (p Page) AvgDiscount(c sales.CompetitorReport) string {
	if c.AvgDiscount == nil {
		return "—"
	}
	return fmt.Sprintf("%.1f%%", 100**c.AvgDiscount)
}

// competitorReports are the competitors with their records; without the
// sales service, their cards with no discount figures.
func (s *Server) competitorReports(ctx context.Context, ws int64) ([]sales.CompetitorReport, error) {
	if s.Sales != nil {
		return s.Sales.CompetitorReports(ctx, s.DB.Reader(), ws)
	}
	cards, err := s.CRM.CompetitorCards(ctx, s.DB.Reader(), ws)
	out := make([]sales.CompetitorReport, len(cards))
	for i, c := range cards {
		out[i].CompetitorCard = c
		if c.Won+c.Lost > 0 {
			v := c.WinRate()
			out[i].WinRate = &v
		}
	}
	return out, err
}

func (s *Server) competitorReportOf(ctx context.Context, ws, id int64) (sales.CompetitorReport, error) {
	if s.Sales != nil {
		return s.Sales.CompetitorReportOf(ctx, s.DB.Reader(), ws, id)
	}
	c, err := s.CRM.CompetitorCardOf(ctx, s.DB.Reader(), ws, id)
	out := sales.CompetitorReport{CompetitorCard: c}
	if c.Won+c.Lost > 0 {
		v := c.WinRate()
		out.WinRate = &v
	}
	return out, err
}

// CompetitorPage is one competitor's battle card, news and deals.
type CompetitorPage struct {
	Page
	C      sales.CompetitorReport
	News   []crm.News
	Deals  []crm.Deal
	Errors map[string]string
	In     map[string]string
}

func (s *Server) competitors(w http.ResponseWriter, r *http.Request, c *rctx) error {
	data := &CompetitorsPage{Page: s.base(c, c.Lang, "comp.title", "deals"), Names: map[int64]string{}}
	var err error
	if data.Items, err = s.competitorReports(r.Context(), c.Actor.WorkspaceID); err != nil {
		return err
	}
	for _, it := range data.Items {
		data.Names[it.ID] = it.Name
	}
	if data.News, err = s.CRM.ListNews(r.Context(), s.DB.Reader(), c.Actor.WorkspaceID, nil, 20); err != nil {
		return err
	}
	return s.show(w, c, "competitors", data)
}

func (s *Server) createCompetitorPage(w http.ResponseWriter, r *http.Request, c *rctx) error {
	co, err := s.CRM.CreateCompetitor(r.Context(), c.Actor, crm.Competitor{Name: r.PostFormValue("name"), Website: r.PostFormValue("website")})
	if _, msg, ok := formError(err); ok {
		flash(w, localize(c.Lang, msg))
		http.Redirect(w, r, "/competitors", http.StatusSeeOther)
		return nil
	}
	if err != nil {
		return err
	}
	return s.saved(w, r, c, "common.saved", fmt.Sprintf("/competitors/%d", co.ID))
}

func (s *Server) loadCompetitor(r *http.Request, c *rctx, id int64) (*CompetitorPage, error) {
	ctx := r.Context()
	card, err := s.competitorReportOf(ctx, c.Actor.WorkspaceID, id)
	if err != nil {
		return nil, err
	}
	data := &CompetitorPage{Page: s.base(c, c.Lang, "comp.title", "deals"), C: card, Errors: map[string]string{}, In: map[string]string{}}
	data.Title = card.Name
	if data.News, err = s.CRM.ListNews(ctx, s.DB.Reader(), c.Actor.WorkspaceID, []int64{id}, 50); err != nil {
		return nil, err
	}
	deals, err := s.CRM.ListDeals(ctx, c.Actor, crm.DealFilter{CompetitorID: id, Status: "open", Limit: 50})
	if err != nil {
		return nil, err
	}
	data.Deals = deals.Items
	return data, nil
}

func (s *Server) competitorPage(w http.ResponseWriter, r *http.Request, c *rctx) error {
	data, err := s.loadCompetitor(r, c, formInt(r.PathValue("id")))
	if err != nil {
		return err
	}
	return s.show(w, c, "competitor", data)
}

func (s *Server) updateCompetitorCard(w http.ResponseWriter, r *http.Request, c *rctx) error {
	id := formInt(r.PathValue("id"))
	f := func(k string) *string { v := r.PostFormValue(k); return &v }
	_, err := s.CRM.UpdateCard(r.Context(), c.Actor, id, crm.CardInput{Website: f("website"), Strengths: f("strengths"), Weaknesses: f("weaknesses"), Pricing: f("pricing")})
	if field, msg, ok := formError(err); ok {
		data, lerr := s.loadCompetitor(r, c, id)
		if lerr != nil {
			return lerr
		}
		data.Errors[field] = localize(c.Lang, msg)
		w.WriteHeader(http.StatusUnprocessableEntity)
		return s.show(w, c, "competitor", data)
	}
	if err != nil {
		return err
	}
	return s.saved(w, r, c, "common.saved", fmt.Sprintf("/competitors/%d", id))
}

func (s *Server) postCompetitorNews(w http.ResponseWriter, r *http.Request, c *rctx) error {
	id := formInt(r.PathValue("id"))
	_, err := s.CRM.PostNews(r.Context(), c.Actor, crm.News{CompetitorID: id, Title: r.PostFormValue("title"), Body: r.PostFormValue("body"), URL: r.PostFormValue("url")}, nil)
	if field, msg, ok := formError(err); ok {
		data, lerr := s.loadCompetitor(r, c, id)
		if lerr != nil {
			return lerr
		}
		data.Errors["news."+field] = localize(c.Lang, msg)
		data.In = map[string]string{"title": r.PostFormValue("title"), "body": r.PostFormValue("body"), "url": r.PostFormValue("url")}
		w.WriteHeader(http.StatusUnprocessableEntity)
		return s.show(w, c, "competitor", data)
	}
	if err != nil {
		return err
	}
	flash(w, i18n.T(c.Lang, "comp.news_posted"))
	http.Redirect(w, r, fmt.Sprintf("/competitors/%d", id), http.StatusSeeOther)
	return nil
}
