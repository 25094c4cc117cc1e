// Package campaigns keeps every marketing effort as a record: ads, SEO
// content, webinars, trade shows (展示会), email programmes. A campaign has a
// channel, dates, a budget, its UTM code and members with a status; spend is
// entered per month (for a campaign, or for a channel as a whole) and sales
// cost per team and month. Identified events carrying the campaign's UTM code
// make their contact a member ("responded") through a durable mark, so
// tracking and forms attach their touches without knowing about campaigns.
// The KPI and channel reports read all of it for CAC and ROI.
package campaigns

import (
	"context"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/ryorin/ryorin/internal/clock"
	"github.com/ryorin/ryorin/internal/db"
	"github.com/ryorin/ryorin/internal/errs"
	"github.com/ryorin/ryorin/internal/platform"
)

// Kinds of campaign.
var Kinds = []string{"search_ads", "social_ads", "display_ads", "seo_content", "webinar", "trade_show", "email_programme", "seminar", "other"}

// Statuses of a campaign.
var Statuses = []string{"planned", "active", "completed", "cancelled"}

// MemberStatuses are the states of a contact in a campaign, in the order a
// contact usually passes them.
var MemberStatuses = []string{"targeted", "invited", "registered", "attended", "no_show", "met", "responded", "imported"}

// Campaign is one marketing effort.
type Campaign struct {
	ID          int64     `json:"id"`
	Name        string    `json:"name"`
	Kind        string    `json:"kind" enum:"search_ads,social_ads,display_ads,seo_content,webinar,trade_show,email_programme,seminar,other"`
	Channel     string    `json:"channel,omitempty" doc:"a channel key of the workspace's taxonomy"`
	UTMCampaign string    `json:"utm_campaign,omitempty" doc:"the utm_campaign value that identifies this campaign's touches"`
	StartsOn    string    `json:"starts_on,omitempty" doc:"YYYY-MM-DD"`
	EndsOn      string    `json:"ends_on,omitempty" doc:"YYYY-MM-DD"`
	Budget      int64     `json:"budget" doc:"in minor units of currency"`
	Currency    string    `json:"currency"`
	Status      string    `json:"status" enum:"planned,active,completed,cancelled"`
	Notes       string    `json:"notes,omitempty"`
	OwnerID     int64     `json:"owner_id,omitempty"`
	Members     int       `json:"members"`
	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at"`
}

// Input creates or changes a campaign; nil fields are left alone.
type Input struct {
	Name        *string `json:"name,omitempty"`
	Kind        *string `json:"kind,omitempty"`
	Channel     *string `json:"channel,omitempty"`
	UTMCampaign *string `json:"utm_campaign,omitempty"`
	StartsOn    *string `json:"starts_on,omitempty"`
	EndsOn      *string `json:"ends_on,omitempty"`
	Budget      *int64  `json:"budget,omitempty" doc:"in minor units of currency"`
	Currency    *string `json:"currency,omitempty"`
	Status      *string `json:"status,omitempty"`
	Notes       *string `json:"notes,omitempty"`
	OwnerID     *int64  `json:"owner_id,omitempty"`
}

// Service keeps campaigns, members and spend.
type Service struct {
	DB    *db.DB
	Clock clock.Clock
}

// New returns the campaign service.
func New(d *db.DB, c clock.Clock) *Service { return &Service{DB: d, Clock: clock.Millis(c)} }

const cols = `c.id, c.name, c.kind, c.channel, c.utm_campaign, c.starts_on, c.ends_on, c.budget, c.currency, c.status, c.notes, COALESCE(c.owner_id, 0), c.created_at, c.updated_at,
	(SELECT COUNT(*) FROM campaign_members m WHERE m.workspace_id = c.workspace_id AND m.campaign_id = c.id)`

func scan(s interface{ Scan(...any) error }) (Campaign, error) {
	var c Campaign
	var created, updated int64
	err := s.Scan(&c.ID, &c.Name, &c.Kind, &c.Channel, &c.UTMCampaign, &c.StartsOn, &c.EndsOn, &c.Budget, &c.Currency, &c.Status, &c.Notes, &c.OwnerID, &created, &updated, &c.Members)
	c.CreatedAt, c.UpdatedAt = db.Time(created), db.Time(updated)
	return c, err
}

// List returns the campaigns, newest start first.
func (s *Service) List(ctx context.Context, q db.Querier, ws int64) ([]Campaign, error) {
	rows, err := q.QueryContext(ctx, `SELECT `+cols+` FROM campaigns c WHERE c.workspace_id = ? ORDER BY c.starts_on DESC, c.id DESC`, ws)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []Campaign{}
	for rows.Next() {
		c, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// Get returns one campaign.
func (s *Service) Get(ctx context.Context, q db.Querier, ws, id int64) (Campaign, error) {
	c, err := scan(q.QueryRowContext(ctx, `SELECT `+cols+` FROM campaigns c WHERE c.workspace_id = ? AND c.id = ?`, ws, id))
	if db.NoRows(err) {
		return c, errs.NotFoundf("campaign %d not found", id)
	}
	return c, err
}

var utmRE = regexp.MustCompile(`^[A-Za-z0-9._~-]{1,100}$`)

// MayEdit reports whether a role may change campaigns and spend.
func MayEdit(r platform.Role) bool {
	return r == platform.RoleAdmin || r == platform.RoleManager || r == platform.RoleMarketing
}

func (s *Service) apply(ctx context.Context, q db.Querier, ws int64, c *Campaign, in Input) error {
	set := func(dst *string, src *string) {
		if src != nil {
			*dst = strings.TrimSpace(*src)
		}
	}
	set(&c.Name, in.Name)
	set(&c.Kind, in.Kind)
	set(&c.Channel, in.Channel)
	set(&c.UTMCampaign, in.UTMCampaign)
	set(&c.StartsOn, in.StartsOn)
	set(&c.EndsOn, in.EndsOn)
	set(&c.Currency, in.Currency)
	set(&c.Status, in.Status)
	set(&c.Notes, in.Notes)
	if in.Budget != nil {
		c.Budget = *in.Budget
	}
	if in.OwnerID != nil {
		c.OwnerID = *in.OwnerID
	}
	c.Currency = strings.ToUpper(c.Currency)
	switch {
	case c.Name == "":
		return errs.Field("name", "is required")
	case len(c.Name) > 200:
		return errs.Field("name", "is longer than 200 bytes")
	case !slices.Contains(Kinds, c.Kind):
		return errs.Field("kind", "must be one of %s", strings.Join(Kinds, ", "))
	case !slices.Contains(Statuses, c.Status):
		return errs.Field("status", "must be one of %s", strings.Join(Statuses, ", "))
	case c.UTMCampaign != "" && !utmRE.MatchString(c.UTMCampaign):
		return errs.Field("utm_campaign", "may hold only letters, digits and . _ ~ - (up to 100)")
	case c.Budget < 0:
		return errs.Field("budget", "must not be negative")
	case len(c.Notes) > 10000:
		return errs.Field("notes", "is longer than 10,000 bytes")
	}
	for _, d := range []struct{ v, field string }{{c.StartsOn, "starts_on"}, {c.EndsOn, "ends_on"}} {
		if d.v == "" {
			continue
		}
		if _, err := time.Parse(time.DateOnly, d.v); err != nil {
			return errs.Field(d.field, "must be a date YYYY-MM-DD")
		}
	}
	if c.StartsOn != "" && c.EndsOn != "" && c.EndsOn < c.StartsOn {
		return errs.Field("ends_on", "is before starts_on")
	}
	if !platform.ValidCurrency(c.Currency) {
		return errs.Field("currency", "unknown currency %q", c.Currency)
	}
	if c.Channel != "" {
		var n int
		if err := q.QueryRowContext(ctx, `SELECT COUNT(*) FROM channels WHERE workspace_id = ? AND key = ?`, ws, c.Channel).Scan(&n); err != nil {
			return err
		}
		if n == 0 {
			return errs.Field("channel", "is not a channel of this workspace")
		}
	}
	if c.OwnerID != 0 {
		if _, err := platform.GetUser(ctx, q, ws, c.OwnerID); err != nil {
			return errs.Field("owner_id", "is not a user of this workspace")
		}
	}
	if c.UTMCampaign != "" {
		var other int64
		err := q.QueryRowContext(ctx, `SELECT id FROM campaigns WHERE workspace_id = ? AND utm_campaign = ? AND id <> ?`, ws, c.UTMCampaign, c.ID).Scan(&other)
		if err == nil {
			e := errs.E(errs.Conflict, "utm_campaign", "utm_campaign %q is used by campaign %d", c.UTMCampaign, other)
			e.ExistingID = other
			return e
		}
		if !db.NoRows(err) {
			return err
		}
	}
	return nil
}

func nullID(id int64) any {
	if id == 0 {
		return nil
	}
	return id
}

// Create adds a campaign.
func (s *Service) Create(ctx context.Context, a platform.Actor, in Input) (Campaign, error) {
	if !MayEdit(a.Role) {
		return Campaign{}, errs.E(errs.Forbidden, "", "only marketing, managers and admins may create campaigns")
	}
	now := s.Clock.Now()
	c := Campaign{Kind: "other", Status: "planned", Currency: "JPY"}
	err := s.DB.Write(ctx, "campaigns.Create", func(tx *db.Tx) error {
		if w, err := platform.GetWorkspace(ctx, tx, a.WorkspaceID); err == nil && in.Currency == nil {
			c.Currency = w.BaseCurrency
		}
		if err := s.apply(ctx, tx, a.WorkspaceID, &c, in); err != nil {
			return err
		}
		if err := tx.QueryRowContext(ctx, `INSERT INTO campaigns (workspace_id, name, kind, channel, utm_campaign, starts_on, ends_on, budget, currency, status, notes, owner_id, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
			a.WorkspaceID, c.Name, c.Kind, c.Channel, c.UTMCampaign, c.StartsOn, c.EndsOn, c.Budget, c.Currency, c.Status, c.Notes, nullID(c.OwnerID), db.Millis(now), db.Millis(now)).Scan(&c.ID); err != nil {
			return err
		}
		return platform.Audit(ctx, tx, a, now, "create", "campaign", c.ID, in)
	})
	if err != nil {
		return Campaign{}, err
	}
	return s.Get(ctx, s.DB.Reader(), a.WorkspaceID, c.ID)
}

// Update changes a campaign.
func (s *Service) Update(ctx context.Context, a platform.Actor, id int64, in Input) (Campaign, error) {
	if !MayEdit(a.Role) {
		return Campaign{}, errs.E(errs.Forbidden, "", "only marketing, managers and admins may change campaigns")
	}
	now := s.Clock.Now()
	err := s.DB.Write(ctx, "campaigns.Update", func(tx *db.Tx) error {
		c, err := s.Get(ctx, tx, a.WorkspaceID, id)
		if err != nil {
			return err
		}
		if err := s.apply(ctx, tx, a.WorkspaceID, &c, in); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE campaigns SET name = ?, kind = ?, channel = ?, utm_campaign = ?, starts_on = ?, ends_on = ?, budget = ?, currency = ?, status = ?, notes = ?, owner_id = ?, updated_at = ?
			WHERE workspace_id = ? AND id = ?`,
			c.Name, c.Kind, c.Channel, c.UTMCampaign, c.StartsOn, c.EndsOn, c.Budget, c.Currency, c.Status, c.Notes, nullID(c.OwnerID), db.Millis(now), a.WorkspaceID, id); err != nil {
			return err
		}
		// Spend entered for the campaign follows its channel.
		if _, err := tx.ExecContext(ctx, `UPDATE spend_entries SET channel = ? WHERE workspace_id = ? AND campaign_id = ?`, c.Channel, a.WorkspaceID, id); err != nil {
			return err
		}
		return platform.Audit(ctx, tx, a, now, "update", "campaign", id, in)
	})
	if err != nil {
		return Campaign{}, err
	}
	return s.Get(ctx, s.DB.Reader(), a.WorkspaceID, id)
}

// Delete removes a campaign with its members and spend entries.
func (s *Service) Delete(ctx context.Context, a platform.Actor, id int64) error {
	if !MayEdit(a.Role) {
		return errs.E(errs.Forbidden, "", "only marketing, managers and admins may delete campaigns")
	}
	now := s.Clock.Now()
	return s.DB.Write(ctx, "campaigns.Delete", func(tx *db.Tx) error {
		if _, err := s.Get(ctx, tx, a.WorkspaceID, id); err != nil {
			return err
		}
		for _, q := range []string{`DELETE FROM campaign_members WHERE workspace_id = ? AND campaign_id = ?`,
			`DELETE FROM spend_entries WHERE workspace_id = ? AND campaign_id = ?`, `DELETE FROM campaigns WHERE workspace_id = ? AND id = ?`} {
			if _, err := tx.ExecContext(ctx, q, a.WorkspaceID, id); err != nil {
				return err
			}
		}
		return platform.Audit(ctx, tx, a, now, "delete", "campaign", id, nil)
	})
}

// checkMonth validates a "YYYY-MM" month.
func checkMonth(m string) error {
	if _, err := time.Parse("2006-01", m); err != nil || len(m) != 7 {
		return errs.Field("month", "must be a month YYYY-MM")
	}
	return nil
}

// SpendEntry is money spent in a month, on a campaign or a channel.
type SpendEntry struct {
	Month      string `json:"month" doc:"YYYY-MM"`
	Channel    string `json:"channel,omitempty"`
	CampaignID int64  `json:"campaign_id,omitempty"`
	Amount     int64  `json:"amount" doc:"in minor units of currency; 0 removes the entry"`
	Currency   string `json:"currency,omitempty"`
}

// SetSpend records the spend of a month for a campaign (its channel is taken
// from the campaign) or, without a campaign, for a channel; an amount of 0
// removes the entry. Entering the same month again replaces the amount.
func (s *Service) SetSpend(ctx context.Context, a platform.Actor, e SpendEntry) (SpendEntry, error) {
	if !MayEdit(a.Role) {
		return e, errs.E(errs.Forbidden, "", "only marketing, managers and admins may enter spend")
	}
	if err := checkMonth(e.Month); err != nil {
		return e, err
	}
	if e.Amount < 0 {
		return e, errs.Field("amount", "must not be negative")
	}
	now := s.Clock.Now()
	err := s.DB.Write(ctx, "campaigns.SetSpend", func(tx *db.Tx) error {
		w, err := platform.GetWorkspace(ctx, tx, a.WorkspaceID)
		if err != nil {
			return err
		}
		if e.Currency == "" {
			e.Currency = w.BaseCurrency
		}
		e.Currency = strings.ToUpper(e.Currency)
		if !platform.ValidCurrency(e.Currency) {
			return errs.Field("currency", "unknown currency %q", e.Currency)
		}
		if e.CampaignID != 0 {
			c, err := s.Get(ctx, tx, a.WorkspaceID, e.CampaignID)
			if err != nil {
				return errs.Field("campaign_id", "is not a campaign of this workspace")
			}
			e.Channel = c.Channel
		} else if e.Channel == "" {
			return errs.Field("channel", "is required when there is no campaign")
		} else {
			var n int
			if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM channels WHERE workspace_id = ? AND key = ?`, a.WorkspaceID, e.Channel).Scan(&n); err != nil {
				return err
			}
			if n == 0 {
				return errs.Field("channel", "is not a channel of this workspace")
			}
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM spend_entries WHERE workspace_id = ? AND month = ? AND campaign_id = ? AND (campaign_id <> 0 OR channel = ?)`,
			a.WorkspaceID, e.Month, e.CampaignID, e.Channel); err != nil {
			return err
		}
		if e.Amount > 0 {
			if _, err := tx.ExecContext(ctx, `INSERT INTO spend_entries (workspace_id, month, channel, campaign_id, amount, currency, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
				a.WorkspaceID, e.Month, e.Channel, e.CampaignID, e.Amount, e.Currency, db.Millis(now), db.Millis(now)); err != nil {
				return err
			}
		}
		return platform.Audit(ctx, tx, a, now, "set_spend", "campaign", e.CampaignID, e)
	})
	return e, err
}

// Spend lists the spend entries from month from to month to (inclusive),
// for one campaign when campaignID is not 0.
func (s *Service) Spend(ctx context.Context, q db.Querier, ws int64, from, to string, campaignID int64) ([]SpendEntry, error) {
	query := `SELECT month, channel, campaign_id, amount, currency FROM spend_entries WHERE workspace_id = ? AND month >= ? AND month <= ?`
	args := []any{ws, from, to}
	if campaignID != 0 {
		query += ` AND campaign_id = ?`
		args = append(args, campaignID)
	}
	rows, err := q.QueryContext(ctx, query+` ORDER BY month, channel, campaign_id`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []SpendEntry{}
	for rows.Next() {
		var e SpendEntry
		if err := rows.Scan(&e.Month, &e.Channel, &e.CampaignID, &e.Amount, &e.Currency); err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

// SalesCost is what sales cost in a month (salaries, tools), for a team or,
// with team 0, for sales as a whole.
type SalesCost struct {
	Month    string `json:"month" doc:"YYYY-MM"`
	TeamID   int64  `json:"team_id,omitempty"`
	Amount   int64  `json:"amount" doc:"in minor units of currency; 0 removes the entry"`
	Currency string `json:"currency,omitempty"`
}

// SetSalesCost records a month's sales cost (admins and managers).
func (s *Service) SetSalesCost(ctx context.Context, a platform.Actor, e SalesCost) (SalesCost, error) {
	if a.Role != platform.RoleAdmin && a.Role != platform.RoleManager {
		return e, errs.E(errs.Forbidden, "", "only managers and admins may enter sales cost")
	}
	if err := checkMonth(e.Month); err != nil {
		return e, err
	}
	if e.Amount < 0 {
		return e, errs.Field("amount", "must not be negative")
	}
	now := s.Clock.Now()
	err := s.DB.Write(ctx, "campaigns.SetSalesCost", func(tx *db.Tx) error {
		w, err := platform.GetWorkspace(ctx, tx, a.WorkspaceID)
		if err != nil {
			return err
		}
		if e.Currency == "" {
			e.Currency = w.BaseCurrency
		}
		e.Currency = strings.ToUpper(e.Currency)
		if !platform.ValidCurrency(e.Currency) {
			return errs.Field("currency", "unknown currency %q", e.Currency)
		}
		if e.TeamID != 0 {
			var n int
			if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM teams WHERE workspace_id = ? AND id = ?`, a.WorkspaceID, e.TeamID).Scan(&n); err != nil {
				return err
			}
			if n == 0 {
				return errs.Field("team_id", "is not a team of this workspace")
			}
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM sales_costs WHERE workspace_id = ? AND month = ? AND team_id = ?`, a.WorkspaceID, e.Month, e.TeamID); err != nil {
			return err
		}
		if e.Amount > 0 {
			if _, err := tx.ExecContext(ctx, `INSERT INTO sales_costs (workspace_id, month, team_id, amount, currency, updated_at) VALUES (?, ?, ?, ?, ?, ?)`,
				a.WorkspaceID, e.Month, e.TeamID, e.Amount, e.Currency, db.Millis(now)); err != nil {
				return err
			}
		}
		return platform.Audit(ctx, tx, a, now, "set_sales_cost", "workspace", a.WorkspaceID, e)
	})
	return e, err
}

// SalesCosts lists the sales cost entries from month from to month to.
func (s *Service) SalesCosts(ctx context.Context, q db.Querier, ws int64, from, to string) ([]SalesCost, error) {
	rows, err := q.QueryContext(ctx, `SELECT month, team_id, amount, currency FROM sales_costs WHERE workspace_id = ? AND month >= ? AND month <= ? ORDER BY month, team_id`, ws, from, to)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []SalesCost{}
	for rows.Next() {
		var e SalesCost
		if err := rows.Scan(&e.Month, &e.TeamID, &e.Amount, &e.Currency); err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, rows.Err()
}
