package forms

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/ryorin/ryorin/internal/crm"
	"github.com/ryorin/ryorin/internal/db"
	"github.com/ryorin/ryorin/internal/errs"
	"github.com/ryorin/ryorin/internal/i18n"
	"github.com/ryorin/ryorin/internal/platform"
)

const submissionCols = `id, form_id, COALESCE(contact_id, 0), email, data, status, consent_given, consent_text, lang, visitor_id, page_url,
	referrer, utm_source, utm_medium, utm_campaign, utm_term, utm_content, channel, ip, created_at, confirmed_at`

func scanSubmission(sc interface{ Scan(...any) error }) (Submission, error) {
	var s Submission
	var data string
	var cr int64
	var conf *int64
	var utm [5]string
	err := sc.Scan(&s.ID, &s.FormID, &s.ContactID, &s.Email, &data, &s.Status, &s.ConsentGiven, &s.ConsentText, &s.Lang, &s.VisitorID,
		&s.PageURL, &s.Referrer, &utm[0], &utm[1], &utm[2], &utm[3], &utm[4], &s.Channel, &s.IP, &cr, &conf)
	if err != nil {
		return s, err
	}
	_ = json.Unmarshal([]byte(data), &s.Data)
	s.UTM = map[string]string{}
	for i, k := range UTMInputs {
		if utm[i] != "" {
			s.UTM[k] = utm[i]
		}
	}
	s.CreatedAt = db.Time(cr)
	if conf != nil {
		t := db.Time(*conf)
		s.ConfirmedAt = &t
	}
	return s, nil
}

func (s *Service) submissionWhere(ctx context.Context, q db.Querier, ws int64, cond string, args ...any) (Submission, error) {
	sub, err := scanSubmission(q.QueryRowContext(ctx, `-- forms.submissionWhere
		SELECT `+submissionCols+` FROM form_submissions WHERE workspace_id = ? AND `+cond, append([]any{ws}, args...)...))
	if db.NoRows(err) {
		return sub, errs.NotFoundf("submission not found")
	}
	if err != nil {
		return sub, fmt.Errorf("forms.submissionWhere: %w", err)
	}
	return sub, nil
}

// SubmissionPage is a page of a form's submissions, newest first.
type SubmissionPage struct {
	Items      []Submission `json:"items"`
	NextCursor string       `json:"next_cursor,omitempty"`
}

// ListSubmissions returns a page of a form's submissions, newest first; the
// cursor is the id of the last one seen.
func (s *Service) ListSubmissions(ctx context.Context, a platform.Actor, formID int64, cursor string, limit int) (SubmissionPage, error) {
	page := SubmissionPage{Items: []Submission{}}
	if _, err := s.Get(ctx, a, formID); err != nil {
		return page, err
	}
	if limit <= 0 || limit > 200 {
		limit = 50
	}
	q := `-- forms.ListSubmissions
		SELECT ` + submissionCols + ` FROM form_submissions WHERE workspace_id = ? AND form_id = ?`
	args := []any{a.WorkspaceID, formID}
	if cursor != "" {
		var before int64
		if _, err := fmt.Sscanf(cursor, "%d", &before); err != nil || before <= 0 {
			return page, errs.Field("cursor", "is not a cursor this API returned")
		}
		q += ` AND id < ?`
		args = append(args, before)
	}
	rows, err := s.DB.Reader().QueryContext(ctx, q+` ORDER BY id DESC LIMIT ?`, append(args, limit)...)
	if err != nil {
		return page, fmt.Errorf("forms.ListSubmissions: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		sub, err := scanSubmission(rows)
		if err != nil {
			return page, err
		}
		page.Items = append(page.Items, sub)
	}
	if len(page.Items) == limit {
		page.NextCursor = fmt.Sprint(page.Items[len(page.Items)-1].ID)
	}
	return page, rows.Err()
}

// confirmClaim is what a double opt-in link carries.
type confirmClaim struct {
	S int64 `json:"s"`
}

// queueConfirmation writes the double opt-in email, in the visitor's
// language, with a signed link that confirms this submission.
func (s *Service) queueConfirmation(ctx context.Context, tx *db.Tx, ws platform.Workspace, f Form, sub Submission, baseURL string, now time.Time) error {
	if s.Mailer == nil {
		return fmt.Errorf("forms: double opt-in needs a mailer")
	}
	tok, err := platform.SignLink(ws.SigningKey(), "form-confirm", confirmClaim{S: sub.ID}, now.Add(confirmTTL))
	if err != nil {
		return err
	}
	base := strings.TrimRight(ws.PublicBaseURL, "/")
	if base == "" {
		base = strings.TrimRight(baseURL, "/")
	}
	link := base + "/f/confirm/" + url.PathEscape(tok)
	lang := i18n.Lang(sub.Lang)
	_, err = s.Mailer.Queue(ctx, tx, ws.ID, platform.OutboundMessage{Kind: "form_confirmation", To: sub.Email,
		Subject: i18n.T(lang, "forms.mail.subject", "form", f.Name),
		Text:    i18n.T(lang, "forms.mail.body", "form", f.Name, "link", link, "consent", sub.ConsentText),
		RefType: "form_submission", RefID: sub.ID})
	return err
}

// Confirmation is what confirming a double opt-in did.
type Confirmation struct {
	Form       Form
	Submission Submission
	// Already is true when the link had been used before.
	Already bool
}

// Confirm records the consent of a double opt-in submission from its
// emailed link. Using the link again changes nothing.
func (s *Service) Confirm(ctx context.Context, wsID int64, token string) (Confirmation, error) {
	var out Confirmation
	now := s.Clock.Now()
	ws, err := platform.GetWorkspace(ctx, s.DB.Reader(), wsID)
	if err != nil {
		return out, err
	}
	var claim confirmClaim
	if err := platform.VerifyLink(ws.SigningKey(), "form-confirm", token, now, &claim); err != nil {
		return out, err
	}
	err = s.DB.Write(ctx, "forms.Confirm", func(tx *db.Tx) error {
		sub, err := s.submissionWhere(ctx, tx, wsID, "id = ?", claim.S)
		if err != nil {
			return err
		}
		f, err := s.get(ctx, tx, wsID, "id = ?", sub.FormID)
		if err != nil {
			return err
		}
		out.Form, out.Submission = f, sub
		if sub.Status != StatusPending {
			out.Already = true
			return nil
		}
		if _, err := tx.ExecContext(ctx, `-- forms.Confirm
			UPDATE form_submissions SET status = ?, confirmed_at = ? WHERE workspace_id = ? AND id = ?`,
			StatusConfirmed, db.Millis(now), wsID, sub.ID); err != nil {
			return fmt.Errorf("forms.Confirm: %w", err)
		}
		out.Submission.Status, out.Submission.ConfirmedAt = StatusConfirmed, &now
		if sub.ContactID == 0 { // the contact was deleted since
			return nil
		}
		sys := platform.System(wsID)
		c, err := s.CRM.GetContact(ctx, tx, sys, sub.ContactID)
		if err != nil {
			return err
		}
		if c.Consent.Email != "granted" { // an earlier consent keeps its date and source
			if c, err = s.CRM.UpdateContactTx(ctx, tx, sys, c.ID, crmConsent("granted", consentSource(f, true)), platform.Cause{Kind: "form"}); err != nil {
				return err
			}
		}
		_, err = platform.AppendTimeline(ctx, tx, sys, platform.TimelineEntry{At: now, Kind: "form.confirmed", ContactID: c.ID,
			CompanyID: c.CompanyID, RefType: "form_submission", RefID: sub.ID}, map[string]any{"form_id": f.ID, "form": f.Name})
		return err
	})
	return out, err
}

func crmConsent(status, source string) crm.ContactInput {
	return crm.ContactInput{ConsentEmail: &status, ConsentSource: &source}
}
