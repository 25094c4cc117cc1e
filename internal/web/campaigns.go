package web

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/ryorin/ryorin/internal/errs"
	"github.com/ryorin/ryorin/internal/marketing/campaigns"
	"github.com/ryorin/ryorin/internal/platform"
)

// MktCampaignsPage lists the marketing campaigns.
type MktCampaignsPage struct {
	Page
	Items    []campaigns.Campaign
	Channels []platform.Channel
	MayEdit  bool
	Errors   FormErrors
	In       map[string]string
}

// MktCampaignPage is one campaign: details, results, spend by month, members.
type MktCampaignPage struct {
	Page
	C         campaigns.Campaign
	Results   campaigns.Results
	Spend     []campaigns.SpendEntry
	Members   []campaigns.Member
	Counts    map[string]int
	Status    string
	Channels  []platform.Channel
	Lists     []ListOption
	MayEdit   bool
	Edit      bool
	Errors    FormErrors
	In        map[string]string
	ThisMonth string
	Limit     int
	Currency  string
}

// ListOption is a list a user can add to a campaign.
type ListOption struct {
	ID   int64
	Name string
}

// campaignFields are the fields of the campaign form.
var campaignFields = []string{"name", "kind", "channel", "utm_campaign", "starts_on", "ends_on", "budget", "status", "notes"}

// CampaignKinds, CampaignStatuses and MemberStatuses feed the selects.
func (p Page) CampaignKinds() []string    { return campaigns.Kinds }
func (p Page) CampaignStatuses() []string { return campaigns.Statuses }
func (p Page) MemberStatuses() []string   { return campaigns.MemberStatuses }

// Percent formats a ratio (e.g. ROI 1.5 → 150%).
func (p Page) Percent(x float64) string { return fmt.Sprintf("%.0f%%", 100*x) }

func (s *Server) mktCampaignsPage(w http.ResponseWriter, r *http.Request, c *rctx) error {
	data := &MktCampaignsPage{Page: s.base(c, c.Lang, "camp.title", "mktcampaigns"), MayEdit: campaigns.MayEdit(c.Actor.Role), In: map[string]string{}}
	return s.showCampaigns(w, r, c, data)
}

func (s *Server) showCampaigns(w http.ResponseWriter, r *http.Request, c *rctx, data *MktCampaignsPage) error {
	var err error
	if data.Items, err = s.Campaigns.List(r.Context(), s.DB.Reader(), c.Actor.WorkspaceID); err != nil {
		return err
	}
	if data.Channels, err = platform.ListChannels(r.Context(), s.DB.Reader(), c.Actor.WorkspaceID); err != nil {
		return err
	}
	return s.show(w, c, "campaigns", data)
}

// campaignInput reads the campaign form; the budget is in major units.
func campaignInput(r *http.Request) (campaigns.Input, error) {
	f := func(k string) *string { v := strings.TrimSpace(r.PostFormValue(k)); return &v }
	in := campaigns.Input{Name: f("name"), Kind: f("kind"), Channel: f("channel"), UTMCampaign: f("utm_campaign"),
		StartsOn: f("starts_on"), EndsOn: f("ends_on"), Notes: f("notes")}
	if st := r.PostFormValue("status"); st != "" {
		in.Status = &st
	}
	if v := strings.ReplaceAll(strings.TrimSpace(r.PostFormValue("budget")), ",", ""); v != "" {
		x, err := strconv.ParseFloat(v, 64)
		if err != nil {
			return in, errs.Field("budget", "must be a number")
		}
		b := platform.ToMinor(x, "JPY")
		in.Budget = &b
	} else {
		zero := int64(0)
		in.Budget = &zero
	}
	return in, nil
}

func (s *Server) createCampaignPage(w http.ResponseWriter, r *http.Request, c *rctx) error {
	in, err := campaignInput(r)
	var camp campaigns.Campaign
	if err == nil {
		camp, err = s.Campaigns.Create(r.Context(), c.Actor, in)
	}
	if fe, ok := formErrors(c.Lang, err, campaignFields...); ok {
		data := &MktCampaignsPage{Page: s.base(c, c.Lang, "camp.title", "mktcampaigns"), MayEdit: true, Errors: fe, In: formValues(r)}
		w.WriteHeader(http.StatusUnprocessableEntity)
		return s.showCampaigns(w, r, c, data)
	}
	if err != nil {
		return err
	}
	return s.saved(w, r, c, "common.saved", fmt.Sprintf("/campaigns/%d", camp.ID))
}

func (s *Server) loadCampaign(r *http.Request, c *rctx, id int64) (*MktCampaignPage, error) {
	ctx := r.Context()
	ws := c.WS
	var err error
	camp, err := s.Campaigns.Get(ctx, s.DB.Reader(), c.Actor.WorkspaceID, id)
	if err != nil {
		return nil, err
	}
	data := &MktCampaignPage{Page: s.base(c, c.Lang, "camp.title", "mktcampaigns"), C: camp, MayEdit: campaigns.MayEdit(c.Actor.Role),
		Errors: FormErrors{}, In: map[string]string{}, Status: r.URL.Query().Get("status"), ThisMonth: c.Now.In(c.Loc).Format("2006-01"), Currency: ws.BaseCurrency}
	data.Title = camp.Name
	data.In = map[string]string{"name": camp.Name, "kind": camp.Kind, "channel": camp.Channel, "utm_campaign": camp.UTMCampaign, "starts_on": camp.StartsOn,
		"ends_on": camp.EndsOn, "status": camp.Status, "notes": camp.Notes}
	if camp.Budget != 0 {
		data.In["budget"] = strconv.FormatFloat(platform.FromMinor(camp.Budget, camp.Currency), 'f', -1, 64)
	}
	if data.Results, err = s.Campaigns.ResultsOf(ctx, s.DB.Reader(), ws, id); err != nil {
		return nil, err
	}
	if data.Spend, err = s.Campaigns.Spend(ctx, s.DB.Reader(), c.Actor.WorkspaceID, "0000-01", "9999-12", id); err != nil {
		return nil, err
	}
	data.Limit = 50
	if r.URL.Query().Get("all") == "1" {
		data.Limit = 1000
	}
	if data.Members, err = s.Campaigns.Members(ctx, s.DB.Reader(), c.Actor.WorkspaceID, id, data.Status, data.Limit); err != nil {
		return nil, err
	}
	if data.Counts, err = s.Campaigns.StatusCounts(ctx, s.DB.Reader(), c.Actor.WorkspaceID, id); err != nil {
		return nil, err
	}
	if data.Channels, err = platform.ListChannels(ctx, s.DB.Reader(), c.Actor.WorkspaceID); err != nil {
		return nil, err
	}
	if s.Segments != nil {
		lists, err := s.Segments.Lists(ctx, s.DB.Reader(), c.Actor.WorkspaceID)
		if err != nil {
			return nil, err
		}
		for _, l := range lists {
			data.Lists = append(data.Lists, ListOption{ID: l.ID, Name: l.Name})
		}
	}
	return data, nil
}

func (s *Server) mktCampaignPage(w http.ResponseWriter, r *http.Request, c *rctx) error {
	data, err := s.loadCampaign(r, c, formInt(r.PathValue("id")))
	if err != nil {
		return err
	}
	data.Edit = r.URL.Query().Get("edit") == "1" && data.MayEdit
	return s.show(w, c, "campaign", data)
}

// campaignFormFailed re-renders the campaign page with errors next to the
// fields of the form that was posted, keeping what was typed.
func (s *Server) campaignFormFailed(w http.ResponseWriter, r *http.Request, c *rctx, id int64, prefix string, fe FormErrors, edit bool) error {
	data, err := s.loadCampaign(r, c, id)
	if err != nil {
		return err
	}
	for k, v := range fe {
		data.Errors[prefix+k] = v
	}
	data.In, data.Edit = formValues(r), edit
	w.WriteHeader(http.StatusUnprocessableEntity)
	return s.show(w, c, "campaign", data)
}

func (s *Server) updateCampaignPage(w http.ResponseWriter, r *http.Request, c *rctx) error {
	id := formInt(r.PathValue("id"))
	in, err := campaignInput(r)
	if err == nil {
		_, err = s.Campaigns.Update(r.Context(), c.Actor, id, in)
	}
	if fe, ok := formErrors(c.Lang, err, campaignFields...); ok {
		return s.campaignFormFailed(w, r, c, id, "", fe, true)
	}
	if err != nil {
		return err
	}
	return s.saved(w, r, c, "common.saved", fmt.Sprintf("/campaigns/%d", id))
}

func (s *Server) deleteCampaignPage(w http.ResponseWriter, r *http.Request, c *rctx) error {
	if err := s.Campaigns.Delete(r.Context(), c.Actor, formInt(r.PathValue("id"))); err != nil {
		return err
	}
	return s.saved(w, r, c, "common.deleted", "/campaigns")
}

func (s *Server) setCampaignSpendPage(w http.ResponseWriter, r *http.Request, c *rctx) error {
	id := formInt(r.PathValue("id"))
	e := campaigns.SpendEntry{Month: strings.TrimSpace(r.PostFormValue("month")), CampaignID: id}
	v := strings.ReplaceAll(strings.TrimSpace(r.PostFormValue("amount")), ",", "")
	x, err := strconv.ParseFloat(v, 64)
	if err != nil {
		err = errs.Field("amount", "must be a number")
	} else {
		e.Amount = platform.ToMinor(x, "JPY")
		_, err = s.Campaigns.SetSpend(r.Context(), c.Actor, e)
	}
	if fe, ok := formErrors(c.Lang, err, "month", "amount"); ok {
		return s.campaignFormFailed(w, r, c, id, "spend.", fe, false)
	}
	if err != nil {
		return err
	}
	return s.saved(w, r, c, "common.saved", fmt.Sprintf("/campaigns/%d#spend", id))
}

// addCampaignMembersPage adds contacts by email (one per line) or a whole
// list, with the chosen status.
func (s *Server) addCampaignMembersPage(w http.ResponseWriter, r *http.Request, c *rctx) error {
	ctx := r.Context()
	id := formInt(r.PathValue("id"))
	status := r.PostFormValue("status")
	var ids []int64
	var unknown []string
	for _, line := range strings.FieldsFunc(r.PostFormValue("emails"), func(r rune) bool { return r == '\n' || r == ',' || r == ' ' || r == '\r' }) {
		ct, err := s.CRM.ContactByEmail(ctx, s.DB.Reader(), c.Actor, line)
		if err != nil {
			unknown = append(unknown, line)
			continue
		}
		ids = append(ids, ct.ID)
	}
	if lid := formInt(r.PostFormValue("list_id")); lid != 0 && s.Segments != nil {
		for after := int64(0); ; {
			page, err := s.Segments.ListMembers(ctx, s.DB.Reader(), c.Actor.WorkspaceID, lid, after, 200)
			if err != nil {
				return err
			}
			for _, m := range page.Items {
				ids = append(ids, m.ContactID)
			}
			if page.NextCursor == 0 || len(page.Items) == 0 {
				break
			}
			after = page.NextCursor
		}
	}
	if len(unknown) > 0 {
		return s.campaignFormFailed(w, r, c, id, "members.", FormErrors{"emails": i18nT(c, "camp.unknown_emails", "list", strings.Join(unknown, ", "))}, false)
	}
	if len(ids) == 0 {
		return s.campaignFormFailed(w, r, c, id, "members.", FormErrors{"emails": i18nT(c, "camp.no_contacts")}, false)
	}
	n, err := s.Campaigns.SetMembers(ctx, c.Actor, id, ids, status)
	if fe, ok := formErrors(c.Lang, err, "status", "contact_ids"); ok {
		return s.campaignFormFailed(w, r, c, id, "members.", fe, false)
	}
	if err != nil {
		return err
	}
	flash(w, i18nT(c, "camp.members_changed", "n", strconv.Itoa(n)))
	http.Redirect(w, r, fmt.Sprintf("/campaigns/%d#members", id), http.StatusSeeOther)
	return nil
}

func (s *Server) removeCampaignMemberPage(w http.ResponseWriter, r *http.Request, c *rctx) error {
	id := formInt(r.PathValue("id"))
	if err := s.Campaigns.RemoveMember(r.Context(), c.Actor, id, formInt(r.PostFormValue("contact_id"))); err != nil {
		return err
	}
	return s.saved(w, r, c, "common.deleted", fmt.Sprintf("/campaigns/%d#members", id))
}

// Month formats "2026-04" for the page's language.
func (p Page) Month(m string) string {
	t, err := time.Parse("2006-01", m)
	if err != nil {
		return m
	}
	if p.Lang == "ja" {
		return fmt.Sprintf("%d年%d月", t.Year(), int(t.Month()))
	}
	return t.Format("Jan 2006")
}
