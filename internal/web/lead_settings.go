package web

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/ryorin/ryorin/internal/errs"
	"github.com/ryorin/ryorin/internal/lead"
	"github.com/ryorin/ryorin/internal/platform"
)

// LeadSettingsPage holds how leads are handed over: SLA policies, routing
// rules, each team's sharing method and business calendar, reject reasons.
type LeadSettingsPage struct {
	Page
	Policies  []lead.SLAPolicy
	Rules     []lead.RoutingRule
	Teams     []platform.Team
	Routing   map[int64]lead.TeamRouting
	Calendars map[int64]lead.TeamCalendar
	Reasons   []lead.Reason
	CanEdit   bool
	// Errors are keyed by the form they belong to: "policy:<key>",
	// "policy:new", "rule:new", "team:<id>".
	Errors map[string]string
	// Input keeps what was typed into a refused form.
	Input map[string]string
}

// TeamName names a team id.
func (p *LeadSettingsPage) TeamName(id int64) string {
	for _, t := range p.Teams {
		if t.ID == id {
			return t.Name
		}
	}
	return "—"
}

// HHMM formats minutes after midnight as 09:00.
func (p *LeadSettingsPage) HHMM(m int) string { return fmt.Sprintf("%02d:%02d", m/60, m%60) }

// Works reports whether a calendar works on weekday d (0 = Sunday).
func (p *LeadSettingsPage) Works(c lead.TeamCalendar, d int) bool {
	return strings.ContainsRune(c.Weekdays, rune('0'+d))
}

// Weekdays lists 0–6 starting Monday, for the calendar form.
func (p *LeadSettingsPage) Weekdays() []int { return []int{1, 2, 3, 4, 5, 6, 0} }

// ReasonLabel names a reason in the page's language.
func (p *LeadSettingsPage) ReasonLabel(r lead.Reason) string { return r.Label(string(p.Lang)) }

// PolicyLabel names a policy in the page's language.
func (p *LeadSettingsPage) PolicyLabel(x lead.SLAPolicy) string { return x.Label(string(p.Lang)) }

func (s *Server) leadSettingsData(r *http.Request, c *rctx) (*LeadSettingsPage, error) {
	ctx := r.Context()
	q := s.DB.Reader()
	ws := c.Actor.WorkspaceID
	data := &LeadSettingsPage{Page: s.base(c, c.Lang, "lset.title", "leads"), Calendars: map[int64]lead.TeamCalendar{}, Errors: map[string]string{},
		Input: map[string]string{}, CanEdit: c.Actor.Is(platform.RoleAdmin, platform.RoleManager)}
	data.Tab = "settings"
	var err error
	if data.Policies, err = s.Lead.SLAPolicies(ctx, q, ws); err != nil {
		return nil, err
	}
	if data.Rules, err = s.Lead.RoutingRules(ctx, q, ws); err != nil {
		return nil, err
	}
	if data.Routing, err = s.Lead.TeamRoutings(ctx, q, ws); err != nil {
		return nil, err
	}
	teams, err := platform.ListTeams(ctx, q, ws)
	if err != nil {
		return nil, err
	}
	for _, t := range teams {
		if t.Function != "sales" {
			continue
		}
		data.Teams = append(data.Teams, t)
		if data.Calendars[t.ID], err = s.Lead.TeamCalendarOf(ctx, q, ws, t.ID); err != nil {
			return nil, err
		}
		if _, ok := data.Routing[t.ID]; !ok {
			data.Routing[t.ID] = lead.TeamRouting{TeamID: t.ID, Method: "round_robin"}
		}
	}
	if data.Reasons, err = s.Lead.Reasons(ctx, ws); err != nil {
		return nil, err
	}
	return data, nil
}

func (s *Server) leadSettings(w http.ResponseWriter, r *http.Request, c *rctx) error {
	if s.Lead == nil {
		return notFound()
	}
	data, err := s.leadSettingsData(r, c)
	if err != nil {
		return err
	}
	return s.show(w, c, "lead_settings", data)
}

// leadSettingsSaved redirects after a change, or shows the page again with
// the error in the form that caused it.
func (s *Server) leadSettingsSaved(w http.ResponseWriter, r *http.Request, c *rctx, form string, err error) error {
	if field, msg, ok := formError(err); ok || err != nil && isForbidden(err) {
		if !ok {
			msg = err.Error()
		}
		data, lerr := s.leadSettingsData(r, c)
		if lerr != nil {
			return lerr
		}
		text := localize(c.Lang, msg)
		if field != "" {
			text = s.fieldLabel(c, field) + ": " + text
		}
		data.Errors[form] = text
		for k, v := range r.PostForm {
			if len(v) > 0 {
				data.Input[form+"."+k] = v[0]
			}
		}
		w.WriteHeader(http.StatusUnprocessableEntity)
		return s.show(w, c, "lead_settings", data)
	}
	if err != nil {
		return err
	}
	return s.saved(w, r, c, "common.saved", "/leads/settings")
}

// fieldLabel names a form field in the user's language when the catalogue
// has it, else as the API names it.
func (s *Server) fieldLabel(c *rctx, field string) string {
	if t := i18nT(c, "lset.field."+field); t != "lset.field."+field {
		return t
	}
	return field
}

func (s *Server) saveSLAPolicy(w http.ResponseWriter, r *http.Request, c *rctx) error {
	if s.Lead == nil {
		return notFound()
	}
	atoi := func(k string) int { n, _ := strconv.Atoi(strings.TrimSpace(r.PostFormValue(k))); return n }
	p := lead.SLAPolicy{Key: strings.TrimSpace(r.PostFormValue("key")), LabelJA: r.PostFormValue("label_ja"), LabelEN: r.PostFormValue("label_en"),
		Position: atoi("position"), Condition: r.PostFormValue("condition"), FirstTouchMinutes: atoi("first_touch_minutes"),
		RemindBeforeMinutes: atoi("remind_before_minutes"), SecondLimitMinutes: atoi("second_limit_minutes"), SecondAction: r.PostFormValue("second_action")}
	form := "policy:new"
	if r.PostFormValue("existing") == "1" {
		form = "policy:" + p.Key
	}
	_, err := s.Lead.SaveSLAPolicy(r.Context(), c.Actor, p)
	return s.leadSettingsSaved(w, r, c, form, err)
}

func (s *Server) addRoutingRule(w http.ResponseWriter, r *http.Request, c *rctx) error {
	if s.Lead == nil {
		return notFound()
	}
	pos, _ := strconv.Atoi(r.PostFormValue("position"))
	_, err := s.Lead.SaveRoutingRule(r.Context(), c.Actor, lead.RoutingRule{Name: r.PostFormValue("name"), Condition: r.PostFormValue("condition"),
		TeamID: formInt(r.PostFormValue("team_id")), Position: pos})
	return s.leadSettingsSaved(w, r, c, "rule:new", err)
}

func (s *Server) deleteRoutingRule(w http.ResponseWriter, r *http.Request, c *rctx) error {
	if s.Lead == nil {
		return notFound()
	}
	err := s.Lead.DeleteRoutingRule(r.Context(), c.Actor, formInt(r.PathValue("id")))
	return s.leadSettingsSaved(w, r, c, "rule:new", err)
}

func (s *Server) saveTeamLeadSettings(w http.ResponseWriter, r *http.Request, c *rctx) error {
	if s.Lead == nil {
		return notFound()
	}
	if err := r.ParseForm(); err != nil {
		return err
	}
	team := formInt(r.PathValue("id"))
	form := fmt.Sprintf("team:%d", team)
	capacity, _ := strconv.Atoi(r.PostFormValue("capacity"))
	err := s.Lead.SetTeamRouting(r.Context(), c.Actor, lead.TeamRouting{TeamID: team, Method: r.PostFormValue("method"), Capacity: capacity})
	if err != nil {
		return s.leadSettingsSaved(w, r, c, form, err)
	}
	minutes := func(v string) int {
		h, m, _ := strings.Cut(v, ":")
		hh, _ := strconv.Atoi(h)
		mm, _ := strconv.Atoi(m)
		return hh*60 + mm
	}
	cal := lead.TeamCalendar{TeamID: team, OpenMinute: minutes(r.PostFormValue("open")), CloseMinute: minutes(r.PostFormValue("close")),
		Weekdays: strings.Join(r.PostForm["weekday"], ""), Holidays: r.PostFormValue("holidays") == "1"}
	if old, err := s.Lead.TeamCalendarOf(r.Context(), s.DB.Reader(), c.Actor.WorkspaceID, team); err == nil {
		cal.Closures = old.Closures // closures are kept (edited by API)
	}
	_, err = s.Lead.SetTeamCalendar(r.Context(), c.Actor, cal)
	return s.leadSettingsSaved(w, r, c, form, err)
}

func isForbidden(err error) bool { return errs.Is(err, errs.Forbidden) }
