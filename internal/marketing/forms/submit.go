package forms

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/ryorin/ryorin/internal/crm"
	"github.com/ryorin/ryorin/internal/db"
	"github.com/ryorin/ryorin/internal/errs"
	"github.com/ryorin/ryorin/internal/i18n"
	"github.com/ryorin/ryorin/internal/platform"
)

// Submission statuses.
const (
	StatusReceived  = "received"  // stored; consent (if ticked) recorded at once
	StatusPending   = "pending"   // double opt-in: waiting for the visitor to confirm
	StatusConfirmed = "confirmed" // double opt-in confirmed; consent recorded
)

// renderTTL is how long a rendered form may be posted.
const renderTTL = 7 * 24 * time.Hour

// confirmTTL is how long a double opt-in link works.
const confirmTTL = 14 * 24 * time.Hour

// renderClaim is what a rendered form's token carries: which form, when it
// was rendered (the time trap), and a nonce that makes a double post of the
// same rendered form one submission.
type renderClaim struct {
	F int64  `json:"f"`
	T int64  `json:"t"`
	N string `json:"n"`
}

// RenderToken returns the signed token a rendered form carries in its _t
// input.
func (s *Service) RenderToken(ctx context.Context, f Form) (string, error) {
	ws, err := platform.GetWorkspace(ctx, s.DB.Reader(), f.ws)
	if err != nil {
		return "", err
	}
	now := s.Clock.Now()
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	return platform.SignLink(ws.SigningKey(), "form-render", renderClaim{F: f.ID, T: now.UnixMilli(), N: hex.EncodeToString(b)}, now.Add(renderTTL))
}

// EmbedToken returns the long-lived token of the plain-HTML embed. A static
// page cannot carry a render time, so posts with it skip the time trap (the
// honeypot and the rate limit still apply) and are made idempotent by their
// content instead.
func (s *Service) EmbedToken(ctx context.Context, f Form) (string, error) {
	ws, err := platform.GetWorkspace(ctx, s.DB.Reader(), f.ws)
	if err != nil {
		return "", err
	}
	return platform.SignLink(ws.SigningKey(), "form-render", renderClaim{F: f.ID}, s.Clock.Now().AddDate(5, 0, 0))
}

// contentKey digests a post's values (without the token) and the UTC day.
func contentKey(v url.Values, now time.Time) string {
	h := sha256.New()
	fmt.Fprintf(h, "%s\n", now.UTC().Format(time.DateOnly))
	for _, k := range sortedKeys(v) {
		if k == InputToken {
			continue
		}
		for _, x := range v[k] {
			fmt.Fprintf(h, "%q=%q\n", k, x)
		}
	}
	return hex.EncodeToString(h.Sum(nil))
}

// Submission is one stored post of a form.
type Submission struct {
	ID           int64             `json:"id"`
	FormID       int64             `json:"form_id"`
	ContactID    int64             `json:"contact_id,omitempty"`
	Email        string            `json:"email"`
	Data         map[string]any    `json:"data" doc:"the values as sent, by field key"`
	Status       string            `json:"status" doc:"received, pending (double opt-in not yet confirmed) or confirmed"`
	ConsentGiven bool              `json:"consent_given"`
	ConsentText  string            `json:"consent_text,omitempty" doc:"the consent text the visitor saw, in their language"`
	Lang         string            `json:"lang"`
	VisitorID    string            `json:"visitor_id,omitempty"`
	PageURL      string            `json:"page_url,omitempty"`
	Referrer     string            `json:"referrer,omitempty"`
	UTM          map[string]string `json:"utm,omitempty"`
	Channel      string            `json:"channel,omitempty"`
	IP           string            `json:"ip,omitempty"`
	CreatedAt    time.Time         `json:"created_at"`
	ConfirmedAt  *time.Time        `json:"confirmed_at,omitempty"`
}

// SubmitRequest is one post to a form.
type SubmitRequest struct {
	Workspace int64
	Key       string
	Values    url.Values
	Lang      i18n.Lang
	IP        string
	UserAgent string
	// VisitorCookie is the ryorin_vid cookie, when the browser sent one; it
	// wins over the hidden ryorin_vid input.
	VisitorCookie string
	// Referer is the request's Referer header: the embedding page when the
	// post carries no page_url.
	Referer string
	// BaseURL is this server's address as the visitor reached it, for the
	// confirmation link when the workspace has no public base URL.
	BaseURL string
	// IdempotencyKey is the API's Idempotency-Key; the render token's nonce
	// is used when it is empty.
	IdempotencyKey string
}

// Outcome says what a post did.
type Outcome struct {
	Form       Form        `json:"-"`
	Submission *Submission `json:"submission,omitempty"`
	// Spam is true when a trap caught the post; it was not stored, and the
	// visitor sees the usual thank-you (bots learn nothing).
	Spam bool `json:"-"`
	// Replayed is true when the same post had been stored already.
	Replayed bool        `json:"replayed"`
	Errors   FieldErrors `json:"errors,omitempty"`
	Redirect string      `json:"redirect,omitempty"`
	Message  string      `json:"message,omitempty"`
	// Values is the post as read, to re-render the form with the input kept.
	Values url.Values `json:"-"`
}

// FormPath is where a form's submissions are recorded in the event store
// (the event's path): an engagement rule {event: form_submit, path: /f/<key>}
// scores one form.
func FormPath(f Form) string { return "/f/" + f.Key }

// FormError is the key of an error about the whole post, not one field.
const FormError = "_form"

// Submit handles one post: traps, validation, then in one transaction the
// submission, the contact (created or updated, found by email), its company,
// consent, a timeline entry and a form_submit event for scoring, and the
// double opt-in email. Field errors come back in the Outcome, not as an
// error; a refused rate limit is a RateLimited error.
func (s *Service) Submit(ctx context.Context, r SubmitRequest) (Outcome, error) {
	now := s.Clock.Now()
	f, err := s.ByKey(ctx, r.Workspace, r.Key)
	if err != nil {
		return Outcome{}, err
	}
	if f.Archived {
		return Outcome{}, errs.NotFoundf("form %q is closed", r.Key)
	}
	out := Outcome{Form: f, Values: r.Values}
	if s.Limit != nil && !s.Limit.Allow(r.IP, now) {
		return out, errs.E(errs.RateLimited, "", "%s", i18n.T(r.Lang, "forms.err.rate_limited"))
	}
	post, fe := ParsePost(f, r.Values, r.Lang)
	if post.Honeypot != "" {
		s.Log.Info("form post caught by the honeypot", "form", f.ID, "ip", r.IP)
		return s.spam(out, f, post), nil
	}
	ws, err := platform.GetWorkspace(ctx, s.DB.Reader(), r.Workspace)
	if err != nil {
		return out, err
	}
	var claim renderClaim
	if err := platform.VerifyLink(ws.SigningKey(), "form-render", post.Token, now, &claim); err != nil || claim.F != f.ID {
		if e, ok := errs.As(err); ok && strings.Contains(e.Message, "expired") {
			// A page left open too long: not spam, ask for the post again.
			out.Errors = FieldErrors{FormError: i18n.T(r.Lang, "forms.err.expired")}
			for k, v := range fe {
				out.Errors[k] = v
			}
			return out, nil
		}
		s.Log.Info("form post without a valid render token", "form", f.ID, "ip", r.IP)
		return s.spam(out, f, post), nil
	}
	if claim.T != 0 && now.Sub(time.UnixMilli(claim.T)) < s.MinFillTime {
		s.Log.Info("form post caught by the time trap", "form", f.ID, "ip", r.IP)
		return s.spam(out, f, post), nil
	}
	if fe != nil {
		out.Errors = fe
		return out, nil
	}
	if r.VisitorCookie != "" && len(r.VisitorCookie) <= 128 {
		post.VisitorID = r.VisitorCookie
	}
	if post.PageURL == "" {
		post.PageURL = httpURL(r.Referer)
	}
	key := r.IdempotencyKey
	switch {
	case key != "":
	case claim.T == 0:
		// A static HTML embed has no per-render nonce: the same values sent
		// to the same form on the same day are one submission.
		key = "static:" + contentKey(r.Values, now)
	default:
		key = "render:" + claim.N
	}
	if len(key) > 200 {
		return out, errs.Field("Idempotency-Key", "must be at most 200 characters")
	}
	var sub Submission
	var fresh bool
	// A concurrent first post with the same email can win the contact's
	// unique email on PostgreSQL; the retry then finds and updates it.
	for attempt := 0; ; attempt++ {
		err = s.DB.Write(ctx, "forms.Submit", func(tx *db.Tx) error {
			var err error
			sub, fresh, err = s.store(ctx, tx, ws, f, post, r, key, now)
			return err
		})
		if errs.Is(err, errs.Conflict) && attempt == 0 {
			continue
		}
		break
	}
	if err != nil {
		if e, ok := errs.As(err); ok && (e.Kind == errs.Invalid || e.Kind == errs.Unprocessable) {
			// A value the record refuses (e.g. a property rule): show it at the field.
			field := strings.TrimPrefix(e.Field, "props.")
			if field != e.Field {
				field = "prop." + field
			}
			if field == "" {
				field = FormError
			}
			out.Errors = FieldErrors{field: e.Message}
			return out, nil
		}
		return out, err
	}
	out.Submission, out.Replayed = &sub, !fresh
	if fresh && s.Visitors != nil && sub.VisitorID != "" && sub.ContactID != 0 {
		if err := s.Visitors.LinkVisitor(ctx, r.Workspace, sub.VisitorID, sub.ContactID); err != nil {
			s.Log.Warn("form: visitor history not linked", "visitor", sub.VisitorID, "contact", sub.ContactID, "err", err)
		}
	}
	s.finish(&out, f, post, sub.Status == StatusPending)
	return out, nil
}

// spam answers a trapped post like a good one, without storing it.
func (s *Service) spam(out Outcome, f Form, post Post) Outcome {
	out.Spam = true
	s.finish(&out, f, post, false)
	return out
}

// finish sets the thank-you message and the redirect (the embed's own, when
// it is on an allowed domain; else the form's).
func (s *Service) finish(out *Outcome, f Form, post Post, pending bool) {
	out.Message = f.Thanks(post.Lang)
	if pending {
		out.Message += "\n" + i18n.T(post.Lang, "forms.public.check_inbox")
	}
	switch {
	case post.Redirect != "" && AllowedRedirect(post.Redirect, f.AllowedDomains):
		out.Redirect = post.Redirect
	case f.RedirectURL != "" && AllowedRedirect(f.RedirectURL, f.AllowedDomains):
		out.Redirect = f.RedirectURL
	}
}

// store writes a validated post inside tx. fresh is false when the same post
// (same idempotency key) was stored before; that one is returned.
func (s *Service) store(ctx context.Context, tx *db.Tx, ws platform.Workspace, f Form, post Post, r SubmitRequest, key string, now time.Time) (Submission, bool, error) {
	sys := platform.System(ws.ID)
	channel := platform.ClassifyChannel(post.UTM["utm_source"], post.UTM["utm_medium"], post.Referrer, post.PageURL)
	if ok, err := platform.ChannelExists(ctx, tx, ws.ID, channel); err != nil {
		return Submission{}, false, err
	} else if !ok {
		channel = ""
	}
	data := map[string]any{}
	for k, v := range post.Values {
		data[k] = v
	}
	for k, v := range post.Props {
		data["prop."+k] = v
	}
	js, _ := json.Marshal(data)
	status := StatusReceived
	if f.DoubleOptIn && post.Consent {
		status = StatusPending
	}
	consentText := ""
	if f.ConsentEnabled {
		consentText = f.ConsentText(post.Lang)
	}
	sub := Submission{FormID: f.ID, Email: post.Values["email"], Data: data, Status: status, ConsentGiven: post.Consent,
		ConsentText: consentText, Lang: string(post.Lang), VisitorID: post.VisitorID, PageURL: post.PageURL, Referrer: post.Referrer,
		UTM: post.UTM, Channel: channel, IP: r.IP, CreatedAt: now}
	err := tx.QueryRowContext(ctx, `-- forms.Submit
		INSERT INTO form_submissions (workspace_id, form_id, idem_key, email, data, status, consent_given, consent_text, lang, visitor_id,
			page_url, referrer, utm_source, utm_medium, utm_campaign, utm_term, utm_content, channel, ip, user_agent, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (workspace_id, form_id, idem_key) DO NOTHING RETURNING id`,
		ws.ID, f.ID, key, sub.Email, string(js), status, post.Consent, consentText, sub.Lang, sub.VisitorID, sub.PageURL, sub.Referrer,
		post.UTM["utm_source"], post.UTM["utm_medium"], post.UTM["utm_campaign"], post.UTM["utm_term"], post.UTM["utm_content"],
		channel, r.IP, trimTo(r.UserAgent, 500), db.Millis(now)).Scan(&sub.ID)
	if db.NoRows(err) {
		prev, err := s.submissionWhere(ctx, tx, ws.ID, "form_id = ? AND idem_key = ?", f.ID, key)
		return prev, false, err
	}
	if err != nil {
		return sub, false, fmt.Errorf("forms.Submit: %w", err)
	}
	c, err := s.upsertContact(ctx, tx, sys, f, post, channel, status, now)
	if err != nil {
		return sub, false, err
	}
	sub.ContactID = c.ID
	if _, err := tx.ExecContext(ctx, `-- forms.Submit contact
		UPDATE form_submissions SET contact_id = ? WHERE workspace_id = ? AND id = ?`, c.ID, ws.ID, sub.ID); err != nil {
		return sub, false, fmt.Errorf("forms.Submit: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `-- forms.Submit count
		UPDATE forms SET submission_count = submission_count + 1, last_submission_at = ? WHERE workspace_id = ? AND id = ?`,
		db.Millis(now), ws.ID, f.ID); err != nil {
		return sub, false, fmt.Errorf("forms.Submit: %w", err)
	}
	if _, err := platform.AppendTimeline(ctx, tx, sys, platform.TimelineEntry{At: now, Kind: "form.submitted", ContactID: c.ID,
		CompanyID: c.CompanyID, RefType: "form_submission", RefID: sub.ID},
		map[string]any{"form_id": f.ID, "form": f.Name, "url": sub.PageURL, "channel": channel, "consent": post.Consent, "status": status}); err != nil {
		return sub, false, err
	}
	props := map[string]any{"form_id": f.ID, "form_key": f.Key, "form_name": f.Name, "submission_id": sub.ID}
	if _, _, err := platform.RecordEventTx(ctx, tx, ws.ID, platform.EventInput{ID: fmt.Sprintf("form-submission-%d", sub.ID),
		Kind: platform.EventFormSubmit, ContactID: c.ID, VisitorID: sub.VisitorID, URL: sub.PageURL, Referrer: sub.Referrer,
		UTMSource: post.UTM["utm_source"], UTMMedium: post.UTM["utm_medium"], UTMCampaign: post.UTM["utm_campaign"], Channel: channel,
		Properties: props}, FormPath(f), now); err != nil {
		return sub, false, err
	}
	if status == StatusPending {
		if err := s.queueConfirmation(ctx, tx, ws, f, sub, r.BaseURL, now); err != nil {
			return sub, false, err
		}
	}
	return sub, true, nil
}

// upsertContact creates the contact of a post or updates the one with its
// email. Values the visitor left empty never clear what is on record.
func (s *Service) upsertContact(ctx context.Context, tx *db.Tx, sys platform.Actor, f Form, post Post, channel, status string, now time.Time) (crm.Contact, error) {
	var in crm.ContactInput
	for _, k := range sortedKeys(post.Values) {
		v := post.Values[k]
		switch k {
		case "email":
			in.Email = &v
		case "family_name":
			in.FamilyName = &v
		case "given_name":
			in.GivenName = &v
		case "family_name_kana":
			in.FamilyNameKana = &v
		case "given_name_kana":
			in.GivenNameKana = &v
		case "phone":
			in.Phone = &v
		case "title":
			in.Title = &v
		case "department":
			in.Department = &v
		}
	}
	if len(post.Props) > 0 {
		in.Props = post.Props
	}
	existing, err := s.CRM.ContactByEmail(ctx, tx, sys, post.Values["email"])
	if err != nil && !errs.Is(err, errs.NotFound) {
		return existing, err
	}
	found := err == nil
	if post.Consent && status != StatusPending && (!found || existing.Consent.Email != "granted") {
		granted, src := "granted", consentSource(f, false)
		in.ConsentEmail, in.ConsentSource = &granted, &src
	}
	if name := post.Values["company"]; name != "" && (!found || existing.CompanyID == 0) {
		var cin crm.CompanyInput
		if p := post.Values["prefecture"]; p != "" {
			cin.Address = &crm.Address{Prefecture: p, Country: "JP"}
		}
		co, _, err := s.CRM.MatchOrCreateCompanyTx(ctx, tx, sys, name, cin)
		if err != nil {
			return crm.Contact{}, err
		}
		in.CompanyID = &co.ID
	}
	cause := platform.Cause{Kind: "form", Ref: fmt.Sprintf("form %d", f.ID)}
	if found {
		return s.CRM.UpdateContactTx(ctx, tx, sys, existing.ID, in, cause)
	}
	src := f.Name
	in.OriginalSource = &src
	if channel != "" {
		in.OriginalChannel = &channel
	}
	return s.CRM.CreateContactTx(ctx, tx, sys, in, cause)
}

// consentSource is how a contact's consent was given: the form, and whether
// it was confirmed by double opt-in.
func consentSource(f Form, confirmed bool) string {
	if confirmed {
		return fmt.Sprintf("form:%d double opt-in", f.ID)
	}
	return fmt.Sprintf("form:%d", f.ID)
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
