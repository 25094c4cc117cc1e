package crm

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/ryorin/ryorin/internal/db"
	"github.com/ryorin/ryorin/internal/errs"
	"github.com/ryorin/ryorin/internal/platform"
)

// Deal is a sales opportunity moving through a pipeline.
type Deal struct {
	ID                int64          `json:"id"`
	Name              string         `json:"name"`
	PipelineID        int64          `json:"pipeline_id"`
	StageID           int64          `json:"stage_id"`
	CompanyID         int64          `json:"company_id,omitempty"`
	OwnerID           int64          `json:"owner_id,omitempty"`
	Type              string         `json:"type" doc:"new, upsell or renewal"`
	Amount            float64        `json:"amount" doc:"in major units of currency (yen, dollars)"`
	Currency          string         `json:"currency"`
	RecurringAmount   float64        `json:"recurring_amount,omitempty" doc:"per recurring_interval"`
	RecurringInterval string         `json:"recurring_interval,omitempty" doc:"month or year"`
	TermMonths        int            `json:"term_months,omitempty"`
	CloseDate         string         `json:"close_date,omitempty" doc:"expected (or actual) close date, YYYY-MM-DD"`
	Status            string         `json:"status" doc:"open, won or lost"`
	LostReason        string         `json:"lost_reason,omitempty"`
	ForecastCategory  string         `json:"forecast_category" doc:"the rep's call: pipeline, best_case, commit or omitted; empty: by stage probability; a won deal counts as closed and a lost one as omitted"`
	ClosedAt          *time.Time     `json:"closed_at,omitempty"`
	StageChangedAt    time.Time      `json:"stage_changed_at"`
	Contacts          []DealContact  `json:"contacts"`
	CompetitorIDs     []int64        `json:"competitor_ids"`
	Props             map[string]any `json:"props"`
	CreatedAt         time.Time      `json:"created_at"`
	UpdatedAt         time.Time      `json:"updated_at"`
	LastActivityAt    *time.Time     `json:"last_activity_at,omitempty"`
}

// DealContact links a contact to a deal with their role (decision maker …).
type DealContact struct {
	ContactID int64  `json:"contact_id"`
	Role      string `json:"role,omitempty" doc:"e.g. decision_maker, influencer, champion, user"`
}

// DealInput holds deal fields to set; nil fields are left alone.
type DealInput struct {
	Name              *string        `json:"name,omitempty"`
	PipelineID        *int64         `json:"pipeline_id,omitempty"`
	StageID           *int64         `json:"stage_id,omitempty"`
	CompanyID         *int64         `json:"company_id,omitempty"`
	OwnerID           *int64         `json:"owner_id,omitempty"`
	Type              *string        `json:"type,omitempty"`
	Amount            *float64       `json:"amount,omitempty"`
	Currency          *string        `json:"currency,omitempty"`
	RecurringAmount   *float64       `json:"recurring_amount,omitempty"`
	RecurringInterval *string        `json:"recurring_interval,omitempty"`
	TermMonths        *int           `json:"term_months,omitempty"`
	CloseDate         *string        `json:"close_date,omitempty"`
	LostReason        *string        `json:"lost_reason,omitempty"`
	ForecastCategory  *string        `json:"forecast_category,omitempty" doc:"pipeline, best_case, commit, omitted, or empty for by stage probability"`
	Contacts          *[]DealContact `json:"contacts,omitempty" doc:"replaces the deal's contacts"`
	CompetitorIDs     *[]int64       `json:"competitor_ids,omitempty" doc:"replaces the deal's competitors"`
	Props             map[string]any `json:"props,omitempty"`
	// IfVersion, when set, is the version (Deal.Version) the change was made
	// against: if the deal has changed since, nothing is saved and the error
	// is a Conflict on "version" (optimistic concurrency; the API takes it
	// from If-Match, the edit form from a hidden field).
	IfVersion *int64 `json:"-"`
}

// Version identifies a deal's state for optimistic concurrency: its last
// change time in milliseconds.
func (d Deal) Version() int64 { return db.Millis(d.UpdatedAt) }

func (in DealInput) apply(d *Deal) error {
	if in.Name != nil {
		d.Name = strings.TrimSpace(*in.Name)
	}
	if d.Name == "" {
		return errs.Field("name", "is required")
	}
	if in.Type != nil {
		d.Type = *in.Type
	}
	if d.Type != "new" && d.Type != "upsell" && d.Type != "renewal" {
		return errs.Field("type", "must be new, upsell or renewal")
	}
	if in.Currency != nil {
		d.Currency = strings.ToUpper(*in.Currency)
		if !platform.ValidCurrency(d.Currency) {
			return errs.Field("currency", "unknown currency %q", *in.Currency)
		}
	}
	if in.Amount != nil {
		if !(*in.Amount >= 0 && *in.Amount <= 1e15) { // also refuses NaN
			return errs.Field("amount", "must be between 0 and 10^15")
		}
		d.Amount = *in.Amount
	}
	if in.RecurringAmount != nil {
		if !(*in.RecurringAmount >= 0 && *in.RecurringAmount <= 1e15) { // also refuses NaN
			return errs.Field("recurring_amount", "must be between 0 and 10^15")
		}
		d.RecurringAmount = *in.RecurringAmount
	}
	if in.RecurringInterval != nil {
		if *in.RecurringInterval != "" && *in.RecurringInterval != "month" && *in.RecurringInterval != "year" {
			return errs.Field("recurring_interval", "must be month or year")
		}
		d.RecurringInterval = *in.RecurringInterval
	}
	if d.RecurringAmount > 0 && d.RecurringInterval == "" {
		return errs.Field("recurring_interval", "is required with a recurring amount")
	}
	if in.TermMonths != nil {
		if *in.TermMonths < 0 || *in.TermMonths > 1200 {
			return errs.Field("term_months", "must be 0 to 1200")
		}
		d.TermMonths = *in.TermMonths
	}
	if in.CloseDate != nil {
		if *in.CloseDate != "" {
			if _, err := time.Parse(time.DateOnly, *in.CloseDate); err != nil {
				return errs.Field("close_date", "must be a date YYYY-MM-DD")
			}
		}
		d.CloseDate = *in.CloseDate
	}
	if in.LostReason != nil {
		d.LostReason = strings.TrimSpace(*in.LostReason)
	}
	if in.ForecastCategory != nil {
		if *in.ForecastCategory != "" && !slices.Contains(ForecastCategories, *in.ForecastCategory) {
			return errs.Field("forecast_category", "must be pipeline, best_case, commit, omitted or empty")
		}
		d.ForecastCategory = *in.ForecastCategory
	}
	if in.CompanyID != nil {
		d.CompanyID = *in.CompanyID
	}
	if in.OwnerID != nil {
		d.OwnerID = *in.OwnerID
	}
	if in.Contacts != nil {
		d.Contacts = *in.Contacts
	}
	if in.CompetitorIDs != nil {
		d.CompetitorIDs = *in.CompetitorIDs
	}
	return nil
}

const dealCols = `id, name, pipeline_id, stage_id, COALESCE(company_id, 0), COALESCE(owner_id, 0), deal_type, amount, currency,
	recurring_amount, recurring_interval, term_months, COALESCE(close_date, ''), status, lost_reason, closed_at, stage_changed_at,
	props, created_at, updated_at, last_activity_at, forecast_category`

func scanDeal(sc interface{ Scan(...any) error }) (Deal, error) {
	var d Deal
	var amount, recurring, stageAt, cr, up, last int64
	var closed sql.NullInt64
	var props *string
	err := sc.Scan(&d.ID, &d.Name, &d.PipelineID, &d.StageID, &d.CompanyID, &d.OwnerID, &d.Type, &amount, &d.Currency,
		&recurring, &d.RecurringInterval, &d.TermMonths, &d.CloseDate, &d.Status, &d.LostReason, &closed, &stageAt,
		&props, &cr, &up, &last, &d.ForecastCategory)
	d.Amount = platform.FromMinor(amount, d.Currency)
	d.RecurringAmount = platform.FromMinor(recurring, d.Currency)
	d.ClosedAt, d.StageChangedAt, d.CreatedAt, d.UpdatedAt = db.TimePtr(closed), db.Time(stageAt), db.Time(cr), db.Time(up)
	if last != 0 {
		t := db.Time(last)
		d.LastActivityAt = &t
	}
	d.Props = unmarshalProps(props)
	d.Contacts, d.CompetitorIDs = []DealContact{}, []int64{}
	return d, err
}

// stageFor checks that stageID belongs to pipelineID and returns it.
func (s *Service) stageFor(ctx context.Context, q db.Querier, ws, pipelineID, stageID int64) (PipelineStage, error) {
	p, err := s.GetPipeline(ctx, q, ws, pipelineID)
	if errs.Is(err, errs.NotFound) {
		return PipelineStage{}, errs.Rule("pipeline_id", "pipeline %d does not exist", pipelineID)
	}
	if err != nil {
		return PipelineStage{}, err
	}
	if stageID == 0 {
		return p.Stages[0], nil
	}
	for _, st := range p.Stages {
		if st.ID == stageID {
			return st, nil
		}
	}
	return PipelineStage{}, errs.Rule("stage_id", "stage %d is not a stage of pipeline %q", stageID, p.Name)
}

// CreateDeal adds a deal. Its contacts move to the opportunity stage if they
// were earlier in the funnel.
func (s *Service) CreateDeal(ctx context.Context, a platform.Actor, in DealInput) (Deal, error) {
	var d Deal
	err := s.DB.Write(ctx, "crm.CreateDeal", func(tx *db.Tx) error {
		var err error
		d, err = s.CreateDealTx(ctx, tx, a, in)
		return err
	})
	return d, err
}

// CreateDealTx is CreateDeal inside the caller's transaction, for writes
// that create a deal together with something else (a renewal deal commits
// with the link to the deal it renews, so it is created exactly once).
func (s *Service) CreateDealTx(ctx context.Context, tx *db.Tx, a platform.Actor, in DealInput) (Deal, error) {
	now := s.Clock.Now()
	d := Deal{Type: "new", Currency: "JPY", Status: "open", StageChangedAt: now, CreatedAt: now, UpdatedAt: now,
		Contacts: []DealContact{}, CompetitorIDs: []int64{}}
	if in.OwnerID == nil && a.UserID != 0 {
		in.OwnerID = &a.UserID
	}
	err := func() error {
		ws, err := platform.GetWorkspace(ctx, tx, a.WorkspaceID)
		if err != nil {
			return err
		}
		if in.Currency == nil {
			d.Currency = ws.BaseCurrency
		}
		if err := in.apply(&d); err != nil {
			return err
		}
		if in.PipelineID == nil {
			p, err := s.DefaultPipeline(ctx, tx, a.WorkspaceID)
			if err != nil {
				return err
			}
			d.PipelineID = p.ID
		} else {
			d.PipelineID = *in.PipelineID
		}
		var stageID int64
		if in.StageID != nil {
			stageID = *in.StageID
		}
		st, err := s.stageFor(ctx, tx, a.WorkspaceID, d.PipelineID, stageID)
		if err != nil {
			return err
		}
		d.StageID = st.ID
		if err := s.applyStageKind(&d, st, now); err != nil {
			return err
		}
		if err := s.validateDealRefs(ctx, tx, a, d); err != nil {
			return err
		}
		defs, err := s.Properties(ctx, tx, a.WorkspaceID, "deal")
		if err != nil {
			return err
		}
		if d.Props, err = mergeProps(defs, nil, in.Props, true); err != nil {
			return err
		}
		err = tx.QueryRowContext(ctx, `-- crm.CreateDeal
			INSERT INTO deals (workspace_id, name, pipeline_id, stage_id, company_id, owner_id, deal_type, amount, currency,
				recurring_amount, recurring_interval, term_months, close_date, status, lost_reason, closed_at, stage_changed_at,
				props, search_text, created_at, updated_at, forecast_category)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
			a.WorkspaceID, d.Name, d.PipelineID, d.StageID, db.NullInt(d.CompanyID), db.NullInt(d.OwnerID), d.Type,
			platform.ToMinor(d.Amount, d.Currency), d.Currency, platform.ToMinor(d.RecurringAmount, d.Currency), d.RecurringInterval,
			d.TermMonths, db.NullString(d.CloseDate), d.Status, d.LostReason, db.NullMillis(d.ClosedAt), db.Millis(now),
			marshalProps(d.Props), searchText(d.Name), db.Millis(now), db.Millis(now), d.ForecastCategory).Scan(&d.ID)
		if err != nil {
			return fmt.Errorf("crm.CreateDeal: %w", err)
		}
		if err := s.saveDealLinks(ctx, tx, a.WorkspaceID, d); err != nil {
			return err
		}
		if err := adjustTotals(ctx, tx, a.WorkspaceID, d, +1); err != nil {
			return err
		}
		if _, err := platform.AppendTimeline(ctx, tx, a, platform.TimelineEntry{At: now, Kind: "deal.created", DealID: d.ID,
			CompanyID: d.CompanyID, ContactID: d.primaryContact()}, map[string]any{"name": d.Name, "stage": st.Name, "amount": d.Amount, "currency": d.Currency}); err != nil {
			return err
		}
		if err := s.advanceContacts(ctx, tx, a, d, now); err != nil {
			return err
		}
		return platform.Audit(ctx, tx, a, now, "create", "deal", d.ID, d)
	}()
	return d, err
}

func (d Deal) primaryContact() int64 {
	if len(d.Contacts) > 0 {
		return d.Contacts[0].ContactID
	}
	return 0
}

// applyStageKind sets the deal's status from its stage: a won or lost stage
// closes it, and a lost deal must say why.
func (s *Service) applyStageKind(d *Deal, st PipelineStage, now time.Time) error {
	prev := d.Status
	d.Status = st.Kind
	switch st.Kind {
	case "open":
		d.ClosedAt = nil
		d.LostReason = ""
	case "lost":
		if d.LostReason == "" {
			return errs.Rule("lost_reason", "a lost deal needs a lost reason")
		}
		fallthrough
	case "won":
		if prev != st.Kind || d.ClosedAt == nil {
			t := now
			d.ClosedAt = &t
			if d.CloseDate == "" || prev != st.Kind {
				d.CloseDate = now.Format(time.DateOnly)
			}
		}
	}
	return nil
}

func (s *Service) validateDealRefs(ctx context.Context, q db.Querier, a platform.Actor, d Deal) error {
	if d.CompanyID != 0 {
		if _, err := s.GetCompany(ctx, q, platform.System(a.WorkspaceID), d.CompanyID); err != nil {
			return errs.Rule("company_id", "company %d does not exist", d.CompanyID)
		}
	}
	if err := checkUser(ctx, q, a.WorkspaceID, d.OwnerID, "owner_id"); err != nil {
		return err
	}
	seen := map[int64]bool{}
	for i, c := range d.Contacts {
		if seen[c.ContactID] {
			return errs.Field(fmt.Sprintf("contacts[%d].contact_id", i), "contact %d is listed twice", c.ContactID)
		}
		seen[c.ContactID] = true
		if _, err := s.GetContact(ctx, q, platform.System(a.WorkspaceID), c.ContactID); err != nil {
			return errs.Rule(fmt.Sprintf("contacts[%d].contact_id", i), "contact %d does not exist", c.ContactID)
		}
	}
	for i, id := range d.CompetitorIDs {
		var n int
		if err := q.QueryRowContext(ctx, `SELECT COUNT(*) FROM competitors WHERE workspace_id = ? AND id = ?`, a.WorkspaceID, id).Scan(&n); err != nil {
			return err
		}
		if n == 0 {
			return errs.Rule(fmt.Sprintf("competitor_ids[%d]", i), "competitor %d does not exist", id)
		}
	}
	return nil
}

func (s *Service) saveDealLinks(ctx context.Context, tx *db.Tx, ws int64, d Deal) error {
	if _, err := tx.ExecContext(ctx, `DELETE FROM deal_contacts WHERE workspace_id = ? AND deal_id = ?`, ws, d.ID); err != nil {
		return err
	}
	for _, c := range d.Contacts {
		if _, err := tx.ExecContext(ctx, `INSERT INTO deal_contacts (workspace_id, deal_id, contact_id, role) VALUES (?, ?, ?, ?)`,
			ws, d.ID, c.ContactID, strings.TrimSpace(c.Role)); err != nil {
			return fmt.Errorf("crm.saveDealLinks: %w", err)
		}
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM deal_competitors WHERE workspace_id = ? AND deal_id = ?`, ws, d.ID); err != nil {
		return err
	}
	for _, id := range slices.Compact(slices.Sorted(slices.Values(d.CompetitorIDs))) {
		if _, err := tx.ExecContext(ctx, `INSERT INTO deal_competitors (workspace_id, deal_id, competitor_id) VALUES (?, ?, ?)`, ws, d.ID, id); err != nil {
			return fmt.Errorf("crm.saveDealLinks: %w", err)
		}
	}
	return nil
}

// advanceContacts moves the deal's contacts forward in the lifecycle: to
// opportunity while the deal is open, to customer when it is won. It never
// moves anyone backwards.
func (s *Service) advanceContacts(ctx context.Context, tx *db.Tx, a platform.Actor, d Deal, now time.Time) error {
	target := platform.StageOpportunity
	if d.Status == "won" {
		target = platform.StageCustomer
	} else if d.Status == "lost" {
		return nil
	}
	for _, dc := range d.Contacts {
		c, err := s.GetContact(ctx, tx, platform.System(a.WorkspaceID), dc.ContactID)
		if err != nil {
			return err
		}
		if c.LifecycleStage.Rank() >= target.Rank() && c.LifecycleStage.Rank() >= 0 {
			continue
		}
		cause := platform.Cause{Kind: "deal", Ref: fmt.Sprintf("deal %d %s", d.ID, d.Status)}
		if _, err := s.UpdateContactTx(ctx, tx, a, c.ID, ContactInput{LifecycleStage: &target}, cause); err != nil {
			return err
		}
	}
	return nil
}

func (s *Service) loadDealLinks(ctx context.Context, q db.Querier, ws int64, d *Deal) error {
	rows, err := q.QueryContext(ctx, `SELECT contact_id, role FROM deal_contacts WHERE workspace_id = ? AND deal_id = ? ORDER BY contact_id`, ws, d.ID)
	if err != nil {
		return err
	}
	for rows.Next() {
		var c DealContact
		if err := rows.Scan(&c.ContactID, &c.Role); err != nil {
			rows.Close()
			return err
		}
		d.Contacts = append(d.Contacts, c)
	}
	rows.Close()
	rows, err = q.QueryContext(ctx, `SELECT competitor_id FROM deal_competitors WHERE workspace_id = ? AND deal_id = ? ORDER BY competitor_id`, ws, d.ID)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return err
		}
		d.CompetitorIDs = append(d.CompetitorIDs, id)
	}
	return rows.Err()
}

// GetDeal loads one deal the actor may see, with its contacts and competitors.
func (s *Service) GetDeal(ctx context.Context, q db.Querier, a platform.Actor, id int64) (Deal, error) {
	d, err := scanDeal(q.QueryRowContext(ctx, `-- crm.GetDeal
		SELECT `+dealCols+` FROM deals WHERE workspace_id = ? AND id = ?`, a.WorkspaceID, id))
	if db.NoRows(err) || (err == nil && !canSee(a, d.OwnerID)) {
		return d, errs.NotFoundf("deal %d not found", id)
	}
	if err != nil {
		return d, fmt.Errorf("crm.GetDeal(%d): %w", id, err)
	}
	return d, s.loadDealLinks(ctx, q, a.WorkspaceID, &d)
}

// UpdateDeal changes a deal. Moving it to another stage is checked against
// its pipeline (a stage of another pipeline is Unprocessable), recorded on the
// timeline, and closes or reopens the deal by the stage's kind.
func (s *Service) UpdateDeal(ctx context.Context, a platform.Actor, id int64, in DealInput) (Deal, error) {
	var d Deal
	err := s.DB.Write(ctx, "crm.UpdateDeal", func(tx *db.Tx) error {
		var err error
		d, err = s.UpdateDealTx(ctx, tx, a, id, in)
		return err
	})
	return d, err
}

// UpdateDealTx is UpdateDeal inside the caller's transaction, for writes that
// change a deal together with something else (its line items set its
// amount), so the board's running totals move in the same commit.
func (s *Service) UpdateDealTx(ctx context.Context, tx *db.Tx, a platform.Actor, id int64, in DealInput) (Deal, error) {
	now := s.Clock.Now()
	var d Deal
	err := func() error {
		var err error
		if d, err = s.GetDeal(ctx, tx, a, id); err != nil {
			return err
		}
		before := d
		if in.IfVersion != nil && *in.IfVersion != d.Version() {
			return errs.E(errs.Conflict, "version", "the deal was changed by someone else since you opened it; nothing was saved")
		}
		if err := in.apply(&d); err != nil {
			return err
		}
		if in.PipelineID != nil {
			d.PipelineID = *in.PipelineID
		}
		stageID := d.StageID
		if in.StageID != nil {
			stageID = *in.StageID
		} else if in.PipelineID != nil && *in.PipelineID != before.PipelineID {
			stageID = 0 // first stage of the new pipeline
		}
		st, err := s.stageFor(ctx, tx, a.WorkspaceID, d.PipelineID, stageID)
		if err != nil {
			return err
		}
		d.StageID = st.ID
		moved := d.StageID != before.StageID
		if moved && st.Kind != "lost" && d.PipelineID == before.PipelineID {
			// Moving on (to a later stage, or won) needs the exit criteria
			// of the stage being left; moving back or to lost never does.
			old, err := s.stageFor(ctx, tx, a.WorkspaceID, before.PipelineID, before.StageID)
			if err != nil {
				return err
			}
			if st.Kind == "won" || st.Position > old.Position {
				missing, err := s.unmetCriteria(ctx, tx, a.WorkspaceID, d, before.StageID)
				if err != nil {
					return err
				}
				if len(missing) > 0 {
					return criteriaError(missing)
				}
			}
		}
		if moved || in.LostReason != nil {
			if err := s.applyStageKind(&d, st, now); err != nil {
				return err
			}
		}
		if moved {
			d.StageChangedAt = now
		}
		if err := s.validateDealRefs(ctx, tx, a, d); err != nil {
			return err
		}
		if in.Props != nil {
			defs, err := s.Properties(ctx, tx, a.WorkspaceID, "deal")
			if err != nil {
				return err
			}
			if d.Props, err = mergeProps(defs, d.Props, in.Props, false); err != nil {
				return err
			}
		}
		d.UpdatedAt = now
		_, err = tx.ExecContext(ctx, `-- crm.UpdateDeal
			UPDATE deals SET name = ?, pipeline_id = ?, stage_id = ?, company_id = ?, owner_id = ?, deal_type = ?, amount = ?,
				currency = ?, recurring_amount = ?, recurring_interval = ?, term_months = ?, close_date = ?, status = ?,
				lost_reason = ?, closed_at = ?, stage_changed_at = ?, props = ?, search_text = ?, updated_at = ?, forecast_category = ?
			WHERE workspace_id = ? AND id = ?`,
			d.Name, d.PipelineID, d.StageID, db.NullInt(d.CompanyID), db.NullInt(d.OwnerID), d.Type,
			platform.ToMinor(d.Amount, d.Currency), d.Currency, platform.ToMinor(d.RecurringAmount, d.Currency),
			d.RecurringInterval, d.TermMonths, db.NullString(d.CloseDate), d.Status, d.LostReason, db.NullMillis(d.ClosedAt),
			db.Millis(d.StageChangedAt), marshalProps(d.Props), searchText(d.Name), db.Millis(now), d.ForecastCategory, a.WorkspaceID, id)
		if err != nil {
			return fmt.Errorf("crm.UpdateDeal: %w", err)
		}
		if err := adjustTotals(ctx, tx, a.WorkspaceID, before, -1); err != nil {
			return err
		}
		if err := adjustTotals(ctx, tx, a.WorkspaceID, d, +1); err != nil {
			return err
		}
		if in.Contacts != nil || in.CompetitorIDs != nil {
			if err := s.saveDealLinks(ctx, tx, a.WorkspaceID, d); err != nil {
				return err
			}
		}
		if moved {
			old, _ := s.stageFor(ctx, tx, a.WorkspaceID, before.PipelineID, before.StageID)
			kind := "deal.stage_changed"
			if d.Status != "open" && before.Status != d.Status {
				kind = "deal." + d.Status
			}
			if _, err := platform.AppendTimeline(ctx, tx, a, platform.TimelineEntry{At: now, Kind: kind, DealID: d.ID, CompanyID: d.CompanyID,
				ContactID: d.primaryContact()}, map[string]any{"from": old.Name, "to": st.Name, "from_stage_id": before.StageID,
				"to_stage_id": d.StageID, "lost_reason": d.LostReason, "amount": d.Amount, "currency": d.Currency}); err != nil {
				return err
			}
		}
		if moved || in.Contacts != nil {
			if err := s.advanceContacts(ctx, tx, a, d, now); err != nil {
				return err
			}
		}
		return platform.Audit(ctx, tx, a, now, "update", "deal", id, platform.Diff(before, d))
	}()
	return d, err
}

// DeleteDeal removes a deal and its activities.
func (s *Service) DeleteDeal(ctx context.Context, a platform.Actor, id int64) error {
	return s.DB.Write(ctx, "crm.DeleteDeal", func(tx *db.Tx) error {
		d, err := s.GetDeal(ctx, tx, a, id)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `-- crm.DeleteDeal
			DELETE FROM deals WHERE workspace_id = ? AND id = ?`, a.WorkspaceID, id); err != nil {
			return fmt.Errorf("crm.DeleteDeal: %w", err)
		}
		if err := adjustTotals(ctx, tx, a.WorkspaceID, d, -1); err != nil {
			return err
		}
		return platform.Audit(ctx, tx, a, s.Clock.Now(), "delete", "deal", id, map[string]string{"name": d.Name})
	})
}

// DealFilter selects deals for a list.
type DealFilter struct {
	PipelineID int64
	StageID    int64
	OwnerID    int64
	CompanyID  int64
	ContactID  int64
	// CompetitorID: deals against this competitor.
	CompetitorID int64
	TeamID       int64 // deals owned by members of this team
	Status       string
	ClosedFrom   time.Time // closed deals only from this time on (open deals always pass)
	Q            string
	Props        map[string]string
	Sort         string // "-created_at" (default), "close_date", "-amount", "-updated_at", "updated_at"
	Cursor       string
	Limit        int
}

// ListDeals returns a page of deals (without their contact lists).
func (s *Service) ListDeals(ctx context.Context, a platform.Actor, f DealFilter) (Page[Deal], error) {
	var out Page[Deal]
	w := where{sql: "workspace_id = ?", args: []any{a.WorkspaceID}}
	if a.OwnRecordsOnly {
		w.and("owner_id = ?", a.UserID)
	}
	w.eq("pipeline_id", f.PipelineID, "stage_id", f.StageID, "owner_id", f.OwnerID, "company_id", f.CompanyID)
	if f.ContactID != 0 {
		w.and("id IN (SELECT deal_id FROM deal_contacts WHERE workspace_id = ? AND contact_id = ?)", a.WorkspaceID, f.ContactID)
	}
	if f.CompetitorID != 0 {
		w.and("id IN (SELECT deal_id FROM deal_competitors WHERE workspace_id = ? AND competitor_id = ?)", a.WorkspaceID, f.CompetitorID)
	}
	if f.TeamID != 0 {
		w.and("owner_id IN (SELECT id FROM users WHERE workspace_id = ? AND team_id = ?)", a.WorkspaceID, f.TeamID)
	}
	if !f.ClosedFrom.IsZero() {
		switch f.Status {
		case "won", "lost":
			// Said plainly, so the range seeks on a closed_at index: with the
			// OR, a board's won column at size L walked all 33,000 won deals
			// of its stage when none had closed in the last 30 days.
			w.and("closed_at >= ?", db.Millis(f.ClosedFrom))
		case "open":
		default:
			w.and("(status = 'open' OR closed_at >= ?)", db.Millis(f.ClosedFrom))
		}
	}
	if f.Status != "" {
		if f.Status != "open" && f.Status != "won" && f.Status != "lost" {
			return out, errs.Field("status", "must be open, won or lost")
		}
		w.and("status = ?", f.Status)
	}
	if f.Q != "" {
		cond, args := searchCond(s.DB.Dialect, "deals", f.Q)
		w.and(cond, args...)
	}
	if len(f.Props) > 0 {
		defs, err := s.Properties(ctx, s.DB.Reader(), a.WorkspaceID, "deal")
		if err != nil {
			return out, err
		}
		if err := w.props(defs, f.Props); err != nil {
			return out, err
		}
	}
	sorts := map[string]sortSpec[Deal]{
		"-created_at": {"created_at", true, func(d Deal) any { return db.Millis(d.CreatedAt) }},
		"-updated_at": {"updated_at", true, func(d Deal) any { return db.Millis(d.UpdatedAt) }},
		"updated_at":  {"updated_at", false, func(d Deal) any { return db.Millis(d.UpdatedAt) }},
		"-amount":     {"amount", true, func(d Deal) any { return platform.ToMinor(d.Amount, d.Currency) }},
		"close_date":  {"COALESCE(close_date, '9999-12-31')", false, func(d Deal) any { return orDate(d.CloseDate) }},
		"-closed_at":  {"closed_at", true, func(d Deal) any { return millisPtr(d.ClosedAt) }},
	}
	if f.Sort == "" {
		f.Sort = "-created_at"
	}
	sp, ok := sorts[f.Sort]
	if !ok {
		return out, errs.Field("sort", "must be one of -created_at, -updated_at, updated_at, -amount, close_date, -closed_at")
	}
	return listPage(ctx, s.DB.Reader(), "crm.ListDeals", "SELECT "+dealCols+" FROM deals", w, sp, f.Cursor, f.Limit,
		scanDeal, func(d Deal) int64 { return d.ID })
}

func orDate(s string) string {
	if s == "" {
		return "9999-12-31"
	}
	return s
}

// Competitor is a rival vendor seen on deals.
type Competitor struct {
	ID      int64  `json:"id"`
	Name    string `json:"name"`
	Website string `json:"website,omitempty"`
}

// CreateCompetitor adds a competitor; names are unique.
func (s *Service) CreateCompetitor(ctx context.Context, a platform.Actor, in Competitor) (Competitor, error) {
	in.Name = strings.TrimSpace(in.Name)
	if in.Name == "" {
		return in, errs.Field("name", "is required")
	}
	now := s.Clock.Now()
	err := s.DB.Write(ctx, "crm.CreateCompetitor", func(tx *db.Tx) error {
		err := tx.QueryRowContext(ctx, `-- crm.CreateCompetitor
			INSERT INTO competitors (workspace_id, name, website, created_at) VALUES (?, ?, ?, ?) RETURNING id`,
			a.WorkspaceID, in.Name, in.Website, db.Millis(now)).Scan(&in.ID)
		if db.IsUniqueViolation(err) {
			e := errs.E(errs.Conflict, "name", "a competitor with this name already exists")
			_ = s.DB.Reader().QueryRowContext(ctx, `SELECT id FROM competitors WHERE workspace_id = ? AND name = ?`, a.WorkspaceID, in.Name).Scan(&e.ExistingID)
			return e
		}
		if err != nil {
			return fmt.Errorf("crm.CreateCompetitor: %w", err)
		}
		return platform.Audit(ctx, tx, a, now, "create", "competitor", in.ID, in)
	})
	return in, err
}

// Competitors lists the workspace's competitors by name.
func (s *Service) Competitors(ctx context.Context, q db.Querier, ws int64) ([]Competitor, error) {
	rows, err := q.QueryContext(ctx, `-- crm.Competitors
		SELECT id, name, website FROM competitors WHERE workspace_id = ? ORDER BY name`, ws)
	if err != nil {
		return nil, fmt.Errorf("crm.Competitors: %w", err)
	}
	defer rows.Close()
	out := []Competitor{}
	for rows.Next() {
		var c Competitor
		if err := rows.Scan(&c.ID, &c.Name, &c.Website); err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// StageTotal is the count and sum of a stage's deals in one currency.
type StageTotal struct {
	StageID  int64
	Currency string
	Count    int
	Amount   float64 // major units
}

// BoardTotals sums a pipeline's deals per stage and currency, with the same
// owner, team and closed-since filters as the board's cards. Open deals come
// from the running totals (a few rows however many deals there are); closed
// deals from the deals table, by closing date.
func (s *Service) BoardTotals(ctx context.Context, a platform.Actor, f DealFilter) ([]StageTotal, error) {
	p, err := s.GetPipeline(ctx, s.DB.Reader(), a.WorkspaceID, f.PipelineID)
	if err != nil {
		return nil, err
	}
	var stageIDs []any
	for _, st := range p.Stages {
		stageIDs = append(stageIDs, st.ID)
	}
	owner := func(w *where) {
		if a.OwnRecordsOnly {
			w.and("owner_id = ?", a.UserID)
		}
		if f.OwnerID != 0 {
			w.and("owner_id = ?", f.OwnerID)
		}
		if f.TeamID != 0 {
			w.and("owner_id IN (SELECT id FROM users WHERE workspace_id = ? AND team_id = ?)", a.WorkspaceID, f.TeamID)
		}
	}
	open := where{sql: "workspace_id = ? AND stage_id IN (" + db.Placeholders(len(stageIDs)) + ")", args: append([]any{a.WorkspaceID}, stageIDs...)}
	owner(&open)
	out, err := s.stageTotals(ctx, `-- crm.BoardTotals open
		SELECT stage_id, currency, SUM(deal_count), SUM(amount) FROM deal_stage_totals WHERE `+open.sql+` GROUP BY stage_id, currency`, open.args)
	if err != nil {
		return nil, err
	}
	var closedIDs []any
	for _, st := range p.Stages {
		if st.Kind != "open" {
			closedIDs = append(closedIDs, st.ID)
		}
	}
	if len(closedIDs) == 0 {
		return out, nil
	}
	closed := where{sql: "workspace_id = ? AND stage_id IN (" + db.Placeholders(len(closedIDs)) + ")", args: append([]any{a.WorkspaceID}, closedIDs...)}
	if !f.ClosedFrom.IsZero() {
		closed.and("closed_at >= ?", db.Millis(f.ClosedFrom))
	}
	owner(&closed)
	more, err := s.stageTotals(ctx, `-- crm.BoardTotals closed
		SELECT stage_id, currency, COUNT(*), COALESCE(SUM(amount), 0) FROM deals WHERE `+closed.sql+` GROUP BY stage_id, currency`, closed.args)
	return append(out, more...), err
}

func (s *Service) stageTotals(ctx context.Context, q string, args []any) ([]StageTotal, error) {
	rows, err := s.DB.Reader().QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("crm.BoardTotals: %w", err)
	}
	defer rows.Close()
	var out []StageTotal
	for rows.Next() {
		var t StageTotal
		var minor int64
		if err := rows.Scan(&t.StageID, &t.Currency, &t.Count, &minor); err != nil {
			return nil, err
		}
		t.Amount = platform.FromMinor(minor, t.Currency)
		out = append(out, t)
	}
	return out, rows.Err()
}

// ForecastCategories are the categories a rep may set on an open deal. A won
// deal is always "closed" and a lost one "omitted".
var ForecastCategories = []string{"pipeline", "best_case", "commit", "omitted"}

// EffectiveForecastCategory is the category a deal counts in: closed when
// won, omitted when lost, else the rep's call, or by the stage's win
// probability when the rep has made none (80 % or more: commit; 50 % or more:
// best case; below: pipeline).
func EffectiveForecastCategory(status, set string, probability int) string {
	switch {
	case status == "won":
		return "closed"
	case status == "lost":
		return "omitted"
	case set != "":
		return set
	case probability >= 80:
		return "commit"
	case probability >= 50:
		return "best_case"
	}
	return "pipeline"
}
