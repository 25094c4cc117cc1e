package crm

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/ryorin/ryorin/internal/db"
	"github.com/ryorin/ryorin/internal/errs"
	"github.com/ryorin/ryorin/internal/platform"
)

// Contact is one person, for their whole life with the business: a lead is a
// contact at an early lifecycle stage, never a separate record.
type Contact struct {
	ID                 int64          `json:"id"`
	Email              string         `json:"email,omitempty"`
	FamilyName         string         `json:"family_name,omitempty"`
	GivenName          string         `json:"given_name,omitempty"`
	FamilyNameKana     string         `json:"family_name_kana,omitempty"`
	GivenNameKana      string         `json:"given_name_kana,omitempty"`
	Phone              string         `json:"phone,omitempty"`
	Mobile             string         `json:"mobile,omitempty"`
	Title              string         `json:"title,omitempty"`
	Department         string         `json:"department,omitempty"`
	CompanyID          int64          `json:"company_id,omitempty"`
	OwnerID            int64          `json:"owner_id,omitempty"`
	LifecycleStage     platform.Stage `json:"lifecycle_stage"`
	LifecycleChangedAt time.Time      `json:"lifecycle_changed_at"`
	OriginalSource     string         `json:"original_source,omitempty"`
	OriginalChannel    string         `json:"original_channel,omitempty"`
	Consent            Consent        `json:"consent"`
	Props              map[string]any `json:"props"`
	CreatedAt          time.Time      `json:"created_at"`
	UpdatedAt          time.Time      `json:"updated_at"`
	LastActivityAt     *time.Time     `json:"last_activity_at,omitempty"`
	Score              ContactScore   `json:"score"`
}

// ContactScore is a contact's lead scores under the active definition, kept
// by the lead scorer (read-only here).
type ContactScore struct {
	Fit        float64         `json:"fit"`
	FitGrade   string          `json:"fit_grade,omitempty"`
	Engagement float64         `json:"engagement" doc:"engagement decayed to the time of reading"`
	Lines      json.RawMessage `json:"lines,omitempty" doc:"the rules that gave the points (on a single contact's read)"`
	ScoredAt   *time.Time      `json:"scored_at,omitempty"`
}

// Consent records whether a contact agreed to marketing email (特定電子メール法).
type Consent struct {
	Email  string     `json:"email"` // unknown, granted, revoked
	At     *time.Time `json:"at,omitempty"`
	Source string     `json:"source,omitempty"`
}

// ContactInput holds contact fields to set; nil fields are left alone.
type ContactInput struct {
	Email           *string         `json:"email,omitempty"`
	FamilyName      *string         `json:"family_name,omitempty"`
	GivenName       *string         `json:"given_name,omitempty"`
	FamilyNameKana  *string         `json:"family_name_kana,omitempty"`
	GivenNameKana   *string         `json:"given_name_kana,omitempty"`
	Phone           *string         `json:"phone,omitempty"`
	Mobile          *string         `json:"mobile,omitempty"`
	Title           *string         `json:"title,omitempty"`
	Department      *string         `json:"department,omitempty"`
	CompanyID       *int64          `json:"company_id,omitempty"`
	OwnerID         *int64          `json:"owner_id,omitempty"`
	LifecycleStage  *platform.Stage `json:"lifecycle_stage,omitempty"`
	OriginalSource  *string         `json:"original_source,omitempty"`
	OriginalChannel *string         `json:"original_channel,omitempty"`
	ConsentEmail    *string         `json:"consent_email,omitempty"`
	ConsentSource   *string         `json:"consent_source,omitempty"`
	Props           map[string]any  `json:"props,omitempty"`
}

func (in ContactInput) apply(c *Contact, now time.Time) error {
	set := func(dst *string, src *string, field string, max int) error {
		if src == nil {
			return nil
		}
		v := strings.TrimSpace(*src)
		if len(v) > max {
			return errs.Field(field, "is longer than %d bytes", max)
		}
		*dst = v
		return nil
	}
	for _, f := range []struct {
		dst   *string
		src   *string
		field string
	}{
		{&c.FamilyName, in.FamilyName, "family_name"}, {&c.GivenName, in.GivenName, "given_name"},
		{&c.FamilyNameKana, in.FamilyNameKana, "family_name_kana"}, {&c.GivenNameKana, in.GivenNameKana, "given_name_kana"},
		{&c.Phone, in.Phone, "phone"}, {&c.Mobile, in.Mobile, "mobile"}, {&c.Title, in.Title, "title"},
		{&c.Department, in.Department, "department"}, {&c.OriginalSource, in.OriginalSource, "original_source"},
		{&c.Consent.Source, in.ConsentSource, "consent_source"},
	} {
		if err := set(f.dst, f.src, f.field, 500); err != nil {
			return err
		}
	}
	if in.Email != nil {
		if strings.TrimSpace(*in.Email) == "" {
			c.Email = ""
		} else {
			e, ok := platform.NormalizeEmail(*in.Email)
			if !ok {
				return errs.Field("email", "is not a valid email address")
			}
			c.Email = e
		}
	}
	if in.CompanyID != nil {
		c.CompanyID = *in.CompanyID
	}
	if in.OwnerID != nil {
		c.OwnerID = *in.OwnerID
	}
	if in.LifecycleStage != nil {
		if !in.LifecycleStage.Valid() {
			return errs.Field("lifecycle_stage", "must be one of subscriber, lead, mql, sql, opportunity, customer, disqualified, recycled")
		}
	}
	if in.OriginalChannel != nil {
		c.OriginalChannel = strings.TrimSpace(*in.OriginalChannel)
	}
	if in.ConsentEmail != nil {
		switch *in.ConsentEmail {
		case "unknown", "granted", "revoked":
		default:
			return errs.Field("consent_email", "must be unknown, granted or revoked")
		}
		if c.Consent.Email != *in.ConsentEmail {
			c.Consent.Email = *in.ConsentEmail
			t := now
			c.Consent.At = &t
		}
	}
	if c.Email == "" && c.FamilyName == "" && c.GivenName == "" {
		return errs.Field("email", "a contact needs an email address or a name")
	}
	return nil
}

const contactCols = `id, COALESCE(email, ''), family_name, given_name, family_name_kana, given_name_kana, phone, mobile, title,
	department, COALESCE(company_id, 0), COALESCE(owner_id, 0), lifecycle_stage, lifecycle_changed_at, original_source,
	original_channel, consent_email, consent_at, consent_source, props, created_at, updated_at, last_activity_at`

func scanContact(sc interface{ Scan(...any) error }) (Contact, error) {
	var c Contact
	var props *string
	var lc, cr, up, last int64
	var consentAt *int64
	err := sc.Scan(&c.ID, &c.Email, &c.FamilyName, &c.GivenName, &c.FamilyNameKana, &c.GivenNameKana, &c.Phone, &c.Mobile,
		&c.Title, &c.Department, &c.CompanyID, &c.OwnerID, &c.LifecycleStage, &lc, &c.OriginalSource, &c.OriginalChannel,
		&c.Consent.Email, &consentAt, &c.Consent.Source, &props, &cr, &up, &last)
	c.Props = unmarshalProps(props)
	c.LifecycleChangedAt, c.CreatedAt, c.UpdatedAt = db.Time(lc), db.Time(cr), db.Time(up)
	if last != 0 {
		t := db.Time(last)
		c.LastActivityAt = &t
	}
	if consentAt != nil {
		t := db.Time(*consentAt)
		c.Consent.At = &t
	}
	return c, err
}

func contactSearch(c Contact) string {
	return searchText(c.FamilyName+c.GivenName, c.GivenName+" "+c.FamilyName, c.FamilyNameKana+c.GivenNameKana, c.Email,
		NormalizePhone(c.Phone), NormalizePhone(c.Mobile))
}

// validateRefs checks the contact's company, owner and channel exist.
func (s *Service) validateContactRefs(ctx context.Context, tx db.Querier, a platform.Actor, c Contact) error {
	if c.CompanyID != 0 {
		if _, err := s.GetCompany(ctx, tx, platform.System(a.WorkspaceID), c.CompanyID); err != nil {
			return errs.Rule("company_id", "company %d does not exist", c.CompanyID)
		}
	}
	if err := checkUser(ctx, tx, a.WorkspaceID, c.OwnerID, "owner_id"); err != nil {
		return err
	}
	if c.OriginalChannel != "" {
		ok, err := platform.ChannelExists(ctx, tx, a.WorkspaceID, c.OriginalChannel)
		if err != nil {
			return err
		}
		if !ok {
			return errs.Rule("original_channel", "%q is not a channel of this workspace", c.OriginalChannel)
		}
	}
	return nil
}

// CreateContact adds a contact and writes its first lifecycle stage to the
// history. A duplicate email is a Conflict naming the existing contact.
func (s *Service) CreateContact(ctx context.Context, a platform.Actor, in ContactInput) (Contact, error) {
	var c Contact
	err := s.DB.Write(ctx, "crm.CreateContact", func(tx *db.Tx) error {
		var err error
		c, err = s.CreateContactTx(ctx, tx, a, in, platform.Cause{})
		return err
	})
	return c, err
}

// CreateContactTx is CreateContact inside a caller's transaction, so forms and
// imports can create contacts together with their own records.
func (s *Service) CreateContactTx(ctx context.Context, tx *db.Tx, a platform.Actor, in ContactInput, cause platform.Cause) (Contact, error) {
	now := s.Clock.Now()
	c := Contact{LifecycleStage: platform.StageLead, LifecycleChangedAt: now, Consent: Consent{Email: "unknown"},
		CreatedAt: now, UpdatedAt: now}
	if in.OwnerID == nil && a.UserID != 0 && a.Role == platform.RoleSales {
		in.OwnerID = &a.UserID
	}
	if err := in.apply(&c, now); err != nil {
		return c, err
	}
	if in.LifecycleStage != nil {
		c.LifecycleStage = *in.LifecycleStage
	}
	if err := s.validateContactRefs(ctx, tx, a, c); err != nil {
		return c, err
	}
	defs, err := s.Properties(ctx, tx, a.WorkspaceID, "contact")
	if err != nil {
		return c, err
	}
	if c.Props, err = mergeProps(defs, nil, in.Props, true); err != nil {
		return c, err
	}
	err = tx.QueryRowContext(ctx, `-- crm.CreateContact
		INSERT INTO contacts (workspace_id, email, family_name, given_name, family_name_kana, given_name_kana, phone, phone_norm,
			mobile, title, department, company_id, owner_id, lifecycle_stage, lifecycle_changed_at, original_source,
			original_channel, consent_email, consent_at, consent_source, props, search_text, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		a.WorkspaceID, db.NullString(c.Email), c.FamilyName, c.GivenName, c.FamilyNameKana, c.GivenNameKana, c.Phone,
		NormalizePhone(c.Phone), c.Mobile, c.Title, c.Department, db.NullInt(c.CompanyID), db.NullInt(c.OwnerID),
		string(c.LifecycleStage), db.Millis(now), c.OriginalSource, c.OriginalChannel, c.Consent.Email,
		db.NullMillis(c.Consent.At), c.Consent.Source, marshalProps(c.Props), contactSearch(c), db.Millis(now), db.Millis(now)).Scan(&c.ID)
	if db.IsUniqueViolation(err) {
		e := errs.E(errs.Conflict, "email", "a contact with this email already exists")
		_ = s.DB.Reader().QueryRowContext(ctx, `SELECT id FROM contacts WHERE workspace_id = ? AND email = ?`, a.WorkspaceID, c.Email).Scan(&e.ExistingID)
		return c, e
	}
	if err != nil {
		return c, fmt.Errorf("crm.CreateContact: %w", err)
	}
	if _, err := platform.AppendTimeline(ctx, tx, a, platform.TimelineEntry{At: now, Kind: "contact.created", ContactID: c.ID, CompanyID: c.CompanyID},
		map[string]string{"source": c.OriginalSource, "channel": c.OriginalChannel}); err != nil {
		return c, err
	}
	if err := platform.RecordLifecycle(ctx, tx, a, c.ID, now, "", c.LifecycleStage, cause); err != nil {
		return c, err
	}
	return c, platform.Audit(ctx, tx, a, now, "create", "contact", c.ID, c)
}

// GetContact loads one contact the actor may see.
func (s *Service) GetContact(ctx context.Context, q db.Querier, a platform.Actor, id int64) (Contact, error) {
	c, err := scanContact(q.QueryRowContext(ctx, `-- crm.GetContact
		SELECT `+contactCols+` FROM contacts WHERE workspace_id = ? AND id = ?`, a.WorkspaceID, id))
	if db.NoRows(err) || (err == nil && !canSee(a, c.OwnerID)) {
		return c, errs.NotFoundf("contact %d not found", id)
	}
	if err != nil {
		return c, fmt.Errorf("crm.GetContact(%d): %w", id, err)
	}
	one := []Contact{c}
	err = s.fillScores(ctx, q, a.WorkspaceID, one)
	return one[0], err
}

// ContactByEmail loads the contact with an email address.
func (s *Service) ContactByEmail(ctx context.Context, q db.Querier, a platform.Actor, email string) (Contact, error) {
	email, _ = platform.NormalizeEmail(email)
	c, err := scanContact(q.QueryRowContext(ctx, `-- crm.ContactByEmail
		SELECT `+contactCols+` FROM contacts WHERE workspace_id = ? AND email = ?`, a.WorkspaceID, email))
	if db.NoRows(err) || (err == nil && !canSee(a, c.OwnerID)) {
		return c, errs.NotFoundf("no contact with email %q", email)
	}
	if err != nil {
		return c, fmt.Errorf("crm.ContactByEmail(%q): %w", email, err)
	}
	one := []Contact{c}
	err = s.fillScores(ctx, q, a.WorkspaceID, one)
	return one[0], err
}

// UpdateContact changes the given fields of a contact. A lifecycle change is
// written to the history with cause (or the actor when cause is empty).
func (s *Service) UpdateContact(ctx context.Context, a platform.Actor, id int64, in ContactInput, cause platform.Cause) (Contact, error) {
	var c Contact
	err := s.DB.Write(ctx, "crm.UpdateContact", func(tx *db.Tx) error {
		var err error
		c, err = s.UpdateContactTx(ctx, tx, a, id, in, cause)
		return err
	})
	return c, err
}

// UpdateContactTx is UpdateContact inside a caller's transaction.
func (s *Service) UpdateContactTx(ctx context.Context, tx *db.Tx, a platform.Actor, id int64, in ContactInput, cause platform.Cause) (Contact, error) {
	now := s.Clock.Now()
	c, err := s.GetContact(ctx, tx, a, id)
	if err != nil {
		return c, err
	}
	before := c
	if err := in.apply(&c, now); err != nil {
		return c, err
	}
	if in.CompanyID != nil || in.OwnerID != nil || in.OriginalChannel != nil {
		if err := s.validateContactRefs(ctx, tx, a, c); err != nil {
			return c, err
		}
	}
	if in.Props != nil {
		defs, err := s.Properties(ctx, tx, a.WorkspaceID, "contact")
		if err != nil {
			return c, err
		}
		if c.Props, err = mergeProps(defs, c.Props, in.Props, false); err != nil {
			return c, err
		}
	}
	if in.LifecycleStage != nil && *in.LifecycleStage != c.LifecycleStage {
		if err := platform.RecordLifecycle(ctx, tx, a, id, now, c.LifecycleStage, *in.LifecycleStage, cause); err != nil {
			return c, err
		}
		c.LifecycleStage, c.LifecycleChangedAt = *in.LifecycleStage, now
	}
	c.UpdatedAt = now
	_, err = tx.ExecContext(ctx, `-- crm.UpdateContact
		UPDATE contacts SET email = ?, family_name = ?, given_name = ?, family_name_kana = ?, given_name_kana = ?, phone = ?,
			phone_norm = ?, mobile = ?, title = ?, department = ?, company_id = ?, owner_id = ?, lifecycle_stage = ?,
			lifecycle_changed_at = ?, original_source = ?, original_channel = ?, consent_email = ?, consent_at = ?,
			consent_source = ?, props = ?, search_text = ?, updated_at = ?
		WHERE workspace_id = ? AND id = ?`,
		db.NullString(c.Email), c.FamilyName, c.GivenName, c.FamilyNameKana, c.GivenNameKana, c.Phone, NormalizePhone(c.Phone),
		c.Mobile, c.Title, c.Department, db.NullInt(c.CompanyID), db.NullInt(c.OwnerID), string(c.LifecycleStage),
		db.Millis(c.LifecycleChangedAt), c.OriginalSource, c.OriginalChannel, c.Consent.Email, db.NullMillis(c.Consent.At),
		c.Consent.Source, marshalProps(c.Props), contactSearch(c), db.Millis(now), a.WorkspaceID, id)
	if db.IsUniqueViolation(err) {
		e := errs.E(errs.Conflict, "email", "a contact with this email already exists")
		_ = s.DB.Reader().QueryRowContext(ctx, `SELECT id FROM contacts WHERE workspace_id = ? AND email = ?`, a.WorkspaceID, c.Email).Scan(&e.ExistingID)
		return c, e
	}
	if err != nil {
		return c, fmt.Errorf("crm.UpdateContact: %w", err)
	}
	return c, platform.Audit(ctx, tx, a, now, "update", "contact", id, platform.Diff(before, c))
}

// DeleteContact removes a contact and its activities.
func (s *Service) DeleteContact(ctx context.Context, a platform.Actor, id int64) error {
	return s.DB.Write(ctx, "crm.DeleteContact", func(tx *db.Tx) error {
		c, err := s.GetContact(ctx, tx, a, id)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `-- crm.DeleteContact
			DELETE FROM contacts WHERE workspace_id = ? AND id = ?`, a.WorkspaceID, id); err != nil {
			return fmt.Errorf("crm.DeleteContact: %w", err)
		}
		return platform.Audit(ctx, tx, a, s.Clock.Now(), "delete", "contact", id, map[string]string{"email": c.Email})
	})
}

// ContactFilter selects contacts for a list.
type ContactFilter struct {
	OwnerID   int64
	Stage     platform.Stage
	CompanyID int64
	Q         string // partial match on name (kanji, kana, Latin), email, phone
	Email     string
	Props     map[string]string
	Sort      string // "-last_activity_at" (default), "-created_at", "-updated_at", "updated_at"
	Cursor    string
	Limit     int
}

// ListContacts returns a page of contacts.
func (s *Service) ListContacts(ctx context.Context, a platform.Actor, f ContactFilter) (Page[Contact], error) {
	var out Page[Contact]
	w, err := s.contactWhere(ctx, a, f)
	if err != nil {
		return out, err
	}
	sorts := map[string]sortSpec[Contact]{
		"name":              {nameOrder(s.DB.Dialect), false, func(c Contact) any { return contactSearch(c) }},
		"-last_activity_at": {"last_activity_at", true, func(c Contact) any { return millisPtr(c.LastActivityAt) }},
		"-created_at":       {"created_at", true, func(c Contact) any { return db.Millis(c.CreatedAt) }},
		"-updated_at":       {"updated_at", true, func(c Contact) any { return db.Millis(c.UpdatedAt) }},
		"updated_at":        {"updated_at", false, func(c Contact) any { return db.Millis(c.UpdatedAt) }},
	}
	if f.Sort == "" {
		f.Sort = "-last_activity_at"
		if f.Q != "" && shortQuery(f.Q) {
			// A one- or two-character search is a prefix search on the name
			// (family name first); its matches come back in name order, which
			// the prefix index yields directly however many there are.
			f.Sort = "name"
		}
	}
	sp, ok := sorts[f.Sort]
	if !ok {
		return out, errs.Field("sort", "must be one of name, -last_activity_at, -created_at, -updated_at, updated_at")
	}
	page, err := listPage(ctx, s.DB.Reader(), "crm.ListContacts", "SELECT "+contactCols+" FROM contacts", w, sp, f.Cursor, f.Limit,
		scanContact, func(c Contact) int64 { return c.ID })
	if err != nil {
		return page, err
	}
	return page, s.fillScores(ctx, s.DB.Reader(), a.WorkspaceID, page.Items)
}

// contactWhere turns a filter into SQL conditions, with the actor's
// visibility rules; lists and exports share it.
func (s *Service) contactWhere(ctx context.Context, a platform.Actor, f ContactFilter) (where, error) {
	w := where{sql: "workspace_id = ?", args: []any{a.WorkspaceID}}
	if a.OwnRecordsOnly {
		w.and("owner_id = ?", a.UserID)
	}
	if f.OwnerID != 0 {
		w.and("owner_id = ?", f.OwnerID)
	}
	if f.Stage != "" {
		if !f.Stage.Valid() {
			return w, errs.Field("lifecycle_stage", "unknown lifecycle stage %q", f.Stage)
		}
		w.and("lifecycle_stage = ?", string(f.Stage))
	}
	if f.CompanyID != 0 {
		w.and("company_id = ?", f.CompanyID)
	}
	if f.Email != "" {
		e, _ := platform.NormalizeEmail(f.Email)
		w.and("email = ?", e)
	}
	if f.Q != "" {
		cond, args, err := s.search(ctx, "contacts", f.Q)
		if err != nil {
			return w, err
		}
		w.and(cond, args...)
	}
	if len(f.Props) > 0 {
		defs, err := s.Properties(ctx, s.DB.Reader(), a.WorkspaceID, "contact")
		if err != nil {
			return w, err
		}
		if err := w.props(defs, f.Props); err != nil {
			return w, err
		}
	}
	return w, nil
}

func millisPtr(t *time.Time) int64 {
	if t == nil {
		return 0
	}
	return db.Millis(*t)
}

// ContactSearchText is the folded text a contact's name search matches; bulk
// loaders (imports, the benchmark generator) store it the same way.
func ContactSearchText(c Contact) string { return contactSearch(c) }

// CompanySearchText is the folded text a company's name search matches.
func CompanySearchText(c Company) string { return companySearch(c) }

// DealSearchText is the folded text a deal's name search matches, for
// writers of deals in bulk (imports).
func DealSearchText(name string) string { return searchText(name) }
