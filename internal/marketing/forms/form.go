// Package forms owns marketing forms: their definition (fields mapped to
// contact and company properties, consent text, thank-you message or
// redirect, double opt-in), the parsing and validation of a visitor's post,
// spam traps, and turning a submission into a contact with consent, a
// timeline entry and an event the lead scorer reads. It writes to the
// substrate in platform and to the record through crm; it never imports web,
// api, httpx or app.
package forms

import (
	"context"
	"crypto/rand"
	"encoding/base32"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/ryorin/ryorin/internal/clock"
	"github.com/ryorin/ryorin/internal/crm"
	"github.com/ryorin/ryorin/internal/db"
	"github.com/ryorin/ryorin/internal/errs"
	"github.com/ryorin/ryorin/internal/i18n"
	"github.com/ryorin/ryorin/internal/platform"
)

// MaxFields bounds a form's fields.
const MaxFields = 40

// VisitorLinker attaches an anonymous visitor's earlier history (page views,
// sessions) to the contact a form identified. Web tracking provides it; it is
// called after the submission commits, and a nil linker is skipped.
type VisitorLinker interface {
	LinkVisitor(ctx context.Context, ws int64, visitorID string, contactID int64) error
}

// RateLimiter allows or refuses one more submission from a key (the client
// IP) at a moment; httpx.Limiter is one.
type RateLimiter interface {
	Allow(key string, now time.Time) bool
}

// Service runs the forms use cases.
type Service struct {
	DB     *db.DB
	Clock  clock.Clock
	CRM    *crm.Service
	Mailer *platform.Mailer
	Log    *slog.Logger
	// Visitors links a visitor's anonymous history to the contact; nil until
	// web tracking is wired in.
	Visitors VisitorLinker
	// Limit is the per-IP submission limit; nil allows everything.
	Limit RateLimiter
	// MinFillTime is the time trap: a post sooner than this after the form
	// was rendered is spam (default 3 s).
	MinFillTime time.Duration
}

// New returns a Service.
func New(d *db.DB, c clock.Clock, cs *crm.Service, m *platform.Mailer, log *slog.Logger) *Service {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Service{DB: d, Clock: clock.Millis(c), CRM: cs, Mailer: m, Log: log, MinFillTime: 3 * time.Second}
}

// Form is a form as the builder saves it.
type Form struct {
	ID              int64      `json:"id"`
	Key             string     `json:"key" doc:"the public id in /f/{key}"`
	Name            string     `json:"name"`
	Fields          []Field    `json:"fields"`
	ConsentEnabled  bool       `json:"consent_enabled" doc:"show a consent checkbox for marketing email"`
	ConsentRequired bool       `json:"consent_required" doc:"the form cannot be sent without ticking it"`
	ConsentTextJA   string     `json:"consent_text_ja,omitempty"`
	ConsentTextEN   string     `json:"consent_text_en,omitempty"`
	ThanksJA        string     `json:"thanks_ja,omitempty"`
	ThanksEN        string     `json:"thanks_en,omitempty"`
	RedirectURL     string     `json:"redirect_url,omitempty" doc:"where to send the visitor after a submission; its host must be in allowed_domains"`
	AllowedDomains  []string   `json:"allowed_domains" doc:"hosts (and their subdomains) the form may redirect to"`
	DoubleOptIn     bool       `json:"double_opt_in" doc:"consent is recorded only when the visitor confirms by the emailed link"`
	Archived        bool       `json:"archived"`
	Submissions     int64      `json:"submissions"`
	LastSubmission  *time.Time `json:"last_submission_at,omitempty"`
	CreatedAt       time.Time  `json:"created_at"`
	UpdatedAt       time.Time  `json:"updated_at"`

	// props are the custom contact properties the form's fields use.
	props map[string]crm.PropertyDefinition
	ws    int64
}

// FormInput is a form's definition as the builder or the API sends it; it
// replaces the whole definition.
type FormInput struct {
	Name            string   `json:"name"`
	Fields          []Field  `json:"fields"`
	ConsentEnabled  bool     `json:"consent_enabled"`
	ConsentRequired bool     `json:"consent_required"`
	ConsentTextJA   string   `json:"consent_text_ja,omitempty"`
	ConsentTextEN   string   `json:"consent_text_en,omitempty"`
	ThanksJA        string   `json:"thanks_ja,omitempty"`
	ThanksEN        string   `json:"thanks_en,omitempty"`
	RedirectURL     string   `json:"redirect_url,omitempty"`
	AllowedDomains  []string `json:"allowed_domains,omitempty"`
	DoubleOptIn     bool     `json:"double_opt_in"`
	Archived        bool     `json:"archived"`
}

// Input returns the form's definition as an input, for editing.
func (f Form) Input() FormInput {
	return FormInput{Name: f.Name, Fields: f.Fields, ConsentEnabled: f.ConsentEnabled, ConsentRequired: f.ConsentRequired,
		ConsentTextJA: f.ConsentTextJA, ConsentTextEN: f.ConsentTextEN, ThanksJA: f.ThanksJA, ThanksEN: f.ThanksEN,
		RedirectURL: f.RedirectURL, AllowedDomains: f.AllowedDomains, DoubleOptIn: f.DoubleOptIn, Archived: f.Archived}
}

// ConsentText is the consent text in lang (the other language when empty).
func (f Form) ConsentText(lang i18n.Lang) string { return pick(lang, f.ConsentTextJA, f.ConsentTextEN) }

// Thanks is the thank-you message in lang, or the default one.
func (f Form) Thanks(lang i18n.Lang) string {
	if t := pick(lang, f.ThanksJA, f.ThanksEN); t != "" {
		return t
	}
	return i18n.T(lang, "forms.public.thanks_default")
}

// Prop returns the custom property definition of a prop.<key> field.
func (f Form) Prop(key string) (crm.PropertyDefinition, bool) {
	d, ok := f.props[strings.TrimPrefix(key, "prop.")]
	return d, ok
}

func pick(lang i18n.Lang, ja, en string) string {
	if lang == i18n.EN {
		ja, en = en, ja
	}
	if ja != "" {
		return ja
	}
	return en
}

var hostRe = regexp.MustCompile(`^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)*[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(:[0-9]{1,5})?$`)

// validate checks and normalizes a definition against the workspace's
// contact properties.
func (in *FormInput) validate(defs []crm.PropertyDefinition) (map[string]crm.PropertyDefinition, error) {
	in.Name = strings.TrimSpace(in.Name)
	if in.Name == "" {
		return nil, errs.Field("name", "is required")
	}
	if len(in.Name) > 200 {
		return nil, errs.Field("name", "is longer than 200 bytes")
	}
	if len(in.Fields) == 0 {
		return nil, errs.Field("fields", "a form needs at least the email field")
	}
	if len(in.Fields) > MaxFields {
		return nil, errs.Field("fields", "at most %d fields", MaxFields)
	}
	byKey := map[string]crm.PropertyDefinition{}
	for _, d := range defs {
		byKey[d.Key] = d
	}
	used := map[string]crm.PropertyDefinition{}
	seen := map[string]bool{}
	hasEmail := false
	for i := range in.Fields {
		f := &in.Fields[i]
		f.Key, f.LabelJA, f.LabelEN = strings.TrimSpace(f.Key), strings.TrimSpace(f.LabelJA), strings.TrimSpace(f.LabelEN)
		name := fmt.Sprintf("fields[%d]", i)
		if seen[f.Key] {
			return nil, errs.Field(name+".key", "%q appears twice", f.Key)
		}
		seen[f.Key] = true
		if len(f.LabelJA) > 300 || len(f.LabelEN) > 300 {
			return nil, errs.Field(name+".label", "is longer than 300 bytes")
		}
		if p, ok := strings.CutPrefix(f.Key, "prop."); ok {
			d, ok := byKey[p]
			if !ok {
				return nil, errs.Rule(name+".key", "%q is not a contact property of this workspace", p)
			}
			used[p] = d
			continue
		}
		if _, ok := standard(f.Key); !ok {
			return nil, errs.Field(name+".key", "%q is not a field a form can have", f.Key)
		}
		if f.Key == "email" {
			hasEmail = true
			f.Required = true // the contact is found by it
		}
	}
	if !hasEmail {
		return nil, errs.Field("fields", "a form needs the email field")
	}
	for _, d := range defs {
		if _, ok := used[d.Key]; d.Required && !ok {
			return nil, errs.Rule("fields", "the contact property %q is required, so the form must ask for it", d.Key)
		}
	}
	for i, f := range in.Fields {
		if d, ok := used[strings.TrimPrefix(f.Key, "prop.")]; ok && d.Required && !f.Required {
			in.Fields[i].Required = true
		}
	}
	for _, t := range []*string{&in.ConsentTextJA, &in.ConsentTextEN, &in.ThanksJA, &in.ThanksEN} {
		*t = strings.TrimSpace(*t)
		if len(*t) > 5000 {
			return nil, errs.Field("consent_text", "texts are at most 5,000 bytes")
		}
	}
	if in.ConsentEnabled && in.ConsentTextJA == "" && in.ConsentTextEN == "" {
		return nil, errs.Field("consent_text_ja", "a consent checkbox needs its text (Japanese or English)")
	}
	if !in.ConsentEnabled {
		in.ConsentRequired = false
	}
	if in.DoubleOptIn && !in.ConsentEnabled {
		return nil, errs.Rule("double_opt_in", "double opt-in confirms consent, so the form needs a consent checkbox")
	}
	var doms []string
	for _, d := range in.AllowedDomains {
		d = strings.TrimSuffix(strings.ToLower(strings.TrimSpace(d)), ".")
		if d == "" {
			continue
		}
		if !hostRe.MatchString(d) {
			return nil, errs.Field("allowed_domains", "%q is not a host name", d)
		}
		doms = append(doms, d)
	}
	if len(doms) > 50 {
		return nil, errs.Field("allowed_domains", "at most 50 domains")
	}
	in.AllowedDomains = doms
	in.RedirectURL = strings.TrimSpace(in.RedirectURL)
	if in.RedirectURL != "" && !AllowedRedirect(in.RedirectURL, doms) {
		return nil, errs.Field("redirect_url", "must be an http(s) URL on one of the allowed domains")
	}
	return used, nil
}

// AllowedRedirect reports whether target is an absolute http(s) URL whose
// host is one of domains or a subdomain of one. Anything else (relative
// paths, other schemes, user info, look-alike hosts) is refused, so a form
// can never become an open redirect.
func AllowedRedirect(target string, domains []string) bool {
	if target == "" || len(target) > 2000 || strings.ContainsAny(target, "\r\n\t\\ ") {
		return false
	}
	u, err := url.Parse(target)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.User != nil || u.Host == "" || u.Opaque != "" {
		return false
	}
	host := strings.ToLower(u.Host)
	for _, d := range domains {
		d = strings.ToLower(d)
		if host == d || strings.HasSuffix(host, "."+d) {
			return true
		}
	}
	return false
}

var keyEnc = base32.NewEncoding("abcdefghijkmnpqrstuvwxyz23456789").WithPadding(base32.NoPadding)

// newKey returns a random, unguessable public key for a form.
func newKey() string {
	b := make([]byte, 10)
	_, _ = rand.Read(b)
	return keyEnc.EncodeToString(b)
}

// canEdit: forms are marketing's; admins and managers may change them too.
func canEdit(a platform.Actor) error {
	if a.Kind == platform.ActorSystem || a.Kind == platform.ActorCLI || a.Is(platform.RoleAdmin, platform.RoleManager, platform.RoleMarketing) {
		return nil
	}
	return errs.E(errs.Forbidden, "", "only marketing, managers and admins edit forms")
}

// Create saves a new form.
func (s *Service) Create(ctx context.Context, a platform.Actor, in FormInput) (Form, error) {
	return s.save(ctx, a, 0, in)
}

// Update replaces a form's definition; its key stays.
func (s *Service) Update(ctx context.Context, a platform.Actor, id int64, in FormInput) (Form, error) {
	return s.save(ctx, a, id, in)
}

func (s *Service) save(ctx context.Context, a platform.Actor, id int64, in FormInput) (Form, error) {
	var f Form
	if err := canEdit(a); err != nil {
		return f, err
	}
	err := s.DB.Write(ctx, "forms.save", func(tx *db.Tx) error {
		defs, err := s.CRM.Properties(ctx, tx, a.WorkspaceID, "contact")
		if err != nil {
			return err
		}
		if _, err := in.validate(defs); err != nil {
			return err
		}
		now := s.Clock.Now()
		fields, _ := json.Marshal(in.Fields)
		doms := strings.Join(in.AllowedDomains, "\n")
		action := "update"
		if id == 0 {
			action = "create"
			err = tx.QueryRowContext(ctx, `-- forms.Create
				INSERT INTO forms (workspace_id, key, name, fields, consent_enabled, consent_required, consent_text_ja, consent_text_en,
					thanks_ja, thanks_en, redirect_url, allowed_domains, double_opt_in, archived, created_by, created_at, updated_at)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
				a.WorkspaceID, newKey(), in.Name, string(fields), in.ConsentEnabled, in.ConsentRequired, in.ConsentTextJA, in.ConsentTextEN,
				in.ThanksJA, in.ThanksEN, in.RedirectURL, doms, in.DoubleOptIn, in.Archived, a.UserRef(), db.Millis(now), db.Millis(now)).Scan(&id)
			if err != nil {
				return fmt.Errorf("forms.Create: %w", err)
			}
		} else {
			res, err := tx.ExecContext(ctx, `-- forms.Update
				UPDATE forms SET name = ?, fields = ?, consent_enabled = ?, consent_required = ?, consent_text_ja = ?, consent_text_en = ?,
					thanks_ja = ?, thanks_en = ?, redirect_url = ?, allowed_domains = ?, double_opt_in = ?, archived = ?, updated_at = ?
				WHERE workspace_id = ? AND id = ?`,
				in.Name, string(fields), in.ConsentEnabled, in.ConsentRequired, in.ConsentTextJA, in.ConsentTextEN, in.ThanksJA, in.ThanksEN,
				in.RedirectURL, doms, in.DoubleOptIn, in.Archived, db.Millis(now), a.WorkspaceID, id)
			if err != nil {
				return fmt.Errorf("forms.Update(%d): %w", id, err)
			}
			if n, _ := res.RowsAffected(); n == 0 {
				return errs.NotFoundf("form %d not found", id)
			}
		}
		if f, err = s.get(ctx, tx, a.WorkspaceID, "id = ?", id); err != nil {
			return err
		}
		return platform.Audit(ctx, tx, a, now, action, "form", id, in)
	})
	return f, err
}

// Delete removes a form and its submissions (the contacts stay).
func (s *Service) Delete(ctx context.Context, a platform.Actor, id int64) error {
	if err := canEdit(a); err != nil {
		return err
	}
	return s.DB.Write(ctx, "forms.Delete", func(tx *db.Tx) error {
		f, err := s.get(ctx, tx, a.WorkspaceID, "id = ?", id)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `-- forms.Delete
			DELETE FROM forms WHERE workspace_id = ? AND id = ?`, a.WorkspaceID, id); err != nil {
			return fmt.Errorf("forms.Delete(%d): %w", id, err)
		}
		return platform.Audit(ctx, tx, a, s.Clock.Now(), "delete", "form", id, map[string]string{"name": f.Name})
	})
}

const formCols = `id, key, name, fields, consent_enabled, consent_required, consent_text_ja, consent_text_en, thanks_ja, thanks_en,
	redirect_url, allowed_domains, double_opt_in, archived, submission_count, last_submission_at, created_at, updated_at`

func scanForm(sc interface{ Scan(...any) error }) (Form, error) {
	var f Form
	var fields, doms string
	var last *int64
	var cr, up int64
	err := sc.Scan(&f.ID, &f.Key, &f.Name, &fields, &f.ConsentEnabled, &f.ConsentRequired, &f.ConsentTextJA, &f.ConsentTextEN,
		&f.ThanksJA, &f.ThanksEN, &f.RedirectURL, &doms, &f.DoubleOptIn, &f.Archived, &f.Submissions, &last, &cr, &up)
	if err != nil {
		return f, err
	}
	if err := json.Unmarshal([]byte(fields), &f.Fields); err != nil {
		return f, fmt.Errorf("forms: form %d fields: %w", f.ID, err)
	}
	f.AllowedDomains = []string{}
	if doms != "" {
		f.AllowedDomains = strings.Split(doms, "\n")
	}
	if last != nil {
		t := db.Time(*last)
		f.LastSubmission = &t
	}
	f.CreatedAt, f.UpdatedAt = db.Time(cr), db.Time(up)
	return f, nil
}

// get loads one form by a condition ("id = ?" or "key = ?") with the
// definitions of the properties its fields use.
func (s *Service) get(ctx context.Context, q db.Querier, ws int64, cond string, arg any) (Form, error) {
	f, err := scanForm(q.QueryRowContext(ctx, `-- forms.get
		SELECT `+formCols+` FROM forms WHERE workspace_id = ? AND `+cond, ws, arg))
	if db.NoRows(err) {
		return f, errs.NotFoundf("form %v not found", arg)
	}
	if err != nil {
		return f, fmt.Errorf("forms.get(%v): %w", arg, err)
	}
	f.ws = ws
	f.props = map[string]crm.PropertyDefinition{}
	for _, fl := range f.Fields {
		if strings.HasPrefix(fl.Key, "prop.") {
			defs, err := s.CRM.Properties(ctx, q, ws, "contact")
			if err != nil {
				return f, err
			}
			for _, d := range defs {
				f.props[d.Key] = d
			}
			break
		}
	}
	return f, nil
}

// Get loads a form by id.
func (s *Service) Get(ctx context.Context, a platform.Actor, id int64) (Form, error) {
	return s.get(ctx, s.DB.Reader(), a.WorkspaceID, "id = ?", id)
}

// ByKey loads a form by its public key.
func (s *Service) ByKey(ctx context.Context, ws int64, key string) (Form, error) {
	if len(key) > 64 {
		return Form{}, errs.NotFoundf("form not found")
	}
	return s.get(ctx, s.DB.Reader(), ws, "key = ?", key)
}

// List returns the workspace's forms, newest first, with their submission
// counts (kept as a running total, so the list never counts rows).
func (s *Service) List(ctx context.Context, a platform.Actor) ([]Form, error) {
	rows, err := s.DB.Reader().QueryContext(ctx, `-- forms.List
		SELECT `+formCols+` FROM forms WHERE workspace_id = ? ORDER BY archived, id DESC LIMIT 500`, a.WorkspaceID)
	if err != nil {
		return nil, fmt.Errorf("forms.List: %w", err)
	}
	defer rows.Close()
	out := []Form{}
	for rows.Next() {
		f, err := scanForm(rows)
		if err != nil {
			return nil, err
		}
		f.ws = a.WorkspaceID
		out = append(out, f)
	}
	return out, rows.Err()
}
