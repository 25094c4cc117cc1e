package email

import (
	"context"
	"fmt"
	"strings"

	"github.com/ryorin/ryorin/internal/db"
	"github.com/ryorin/ryorin/internal/errs"
	"github.com/ryorin/ryorin/internal/i18n"
	"github.com/ryorin/ryorin/internal/platform"
)

// Automated campaigns are the mail of a journey's email steps: one campaign
// row per step (audience_kind "journey", status "automated"), holding the
// template it sends, so the step has its own send log, tracking counters and
// report, and is never listed with the campaigns people send by hand. Each
// message goes through sendOne like a campaign's, so consent, suppression,
// the unsubscribe link and the send log's one-row-per-contact key apply.

// Automated campaign markers.
const (
	AudienceJourney = "journey"
	StatusAutomated = "automated"
)

// Send outcomes of an automated message.
const (
	OutcomeQueued      = "queued"
	OutcomeAlreadySent = "already_sent"
)

// SaveAutomatedTx creates (id 0) or updates the automated campaign of one
// journey step inside tx, copying the template of the campaign templateID,
// and returns its id. name labels it in reports; baseURL is where its links
// point when the workspace has no public base URL.
func (s *Service) SaveAutomatedTx(ctx context.Context, tx *db.Tx, ws, id int64, name string, journeyID, templateID int64, baseURL string) (int64, error) {
	t, err := getCampaign(ctx, tx, ws, templateID)
	if err != nil {
		return 0, err
	}
	if _, err := Parse(t.Template); err != nil {
		return 0, err
	}
	w, err := platform.GetWorkspace(ctx, tx, ws)
	if err != nil {
		return 0, err
	}
	now := db.Millis(s.Clock.Now())
	base := publicBase(w, baseURL)
	if id != 0 {
		res, err := tx.ExecContext(ctx, `-- email.SaveAutomatedTx update
			UPDATE email_campaigns SET name = ?, subject = ?, html_body = ?, text_body = ?, base_url = CASE WHEN ? = '' THEN base_url ELSE ? END,
				updated_at = ?, deleted_at = NULL
			WHERE workspace_id = ? AND id = ? AND audience_kind = ?`,
			name, t.Template.Subject, t.Template.HTML, t.Template.Text, base, base, now, ws, id, AudienceJourney)
		if err != nil {
			return 0, fmt.Errorf("email.SaveAutomatedTx: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 1 {
			return id, nil
		}
	}
	err = tx.QueryRowContext(ctx, `-- email.SaveAutomatedTx
		INSERT INTO email_campaigns (workspace_id, name, subject, html_body, text_body, audience_kind, audience_id, status, base_url, started_at, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`, ws, name, t.Template.Subject, t.Template.HTML, t.Template.Text,
		AudienceJourney, journeyID, StatusAutomated, base, now, now, now).Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("email.SaveAutomatedTx: %w", err)
	}
	return id, nil
}

// SendAutomatedTx queues the automated campaign's message to one contact
// inside tx and returns the outcome: queued, a skip reason (no_email,
// no_consent, suppressed, render_error), or already_sent when the send log
// holds the contact already, in which case nothing is sent again.
func (s *Service) SendAutomatedTx(ctx context.Context, tx *db.Tx, ws, campaignID, contactID int64) (string, error) {
	c, err := getCampaign(ctx, tx, ws, campaignID)
	if err != nil {
		return "", err
	}
	if c.AudienceKind != AudienceJourney {
		return "", errs.E(errs.Conflict, "", "campaign %d is not an automated campaign", campaignID)
	}
	var prior string
	err = tx.QueryRowContext(ctx, `-- email.SendAutomatedTx.prior
		SELECT status FROM campaign_recipients WHERE workspace_id = ? AND campaign_id = ? AND contact_id = ?`, ws, campaignID, contactID).Scan(&prior)
	if err == nil {
		return OutcomeAlreadySent, nil
	}
	if !db.NoRows(err) {
		return "", fmt.Errorf("email.SendAutomatedTx: %w", err)
	}
	rs, err := loadRecipients(ctx, tx, ws, `c.id = ?`, contactID)
	if err != nil {
		return "", err
	}
	if len(rs) == 0 {
		return "", errs.NotFoundf("contact %d not found", contactID)
	}
	p, err := Parse(c.Template)
	if err != nil {
		return "", err
	}
	w, err := platform.GetWorkspace(ctx, tx, ws)
	if err != nil {
		return "", err
	}
	var base string
	if err := tx.QueryRowContext(ctx, `SELECT base_url FROM email_campaigns WHERE workspace_id = ? AND id = ?`, ws, campaignID).Scan(&base); err != nil {
		return "", fmt.Errorf("email.SendAutomatedTx: %w", err)
	}
	if w.PublicBaseURL != "" {
		base = strings.TrimRight(w.PublicBaseURL, "/")
	}
	now := s.Clock.Now()
	lk := linker{key: w.SigningKey(), base: base, now: now, campaign: campaignID, lang: i18n.Lang(w.DefaultLocale), smtp: w.SMTP()}
	if err := personalise(ctx, tx, ws, c.Blocks, rs, &lk, false); err != nil {
		return "", err
	}
	if err := s.sendOne(ctx, tx, ws, lk, p, rs[0], "", now); err != nil {
		return "", err
	}
	var status, reason string
	if err := tx.QueryRowContext(ctx, `-- email.SendAutomatedTx.outcome
		SELECT status, reason FROM campaign_recipients WHERE workspace_id = ? AND campaign_id = ? AND contact_id = ?`, ws, campaignID, contactID).
		Scan(&status, &reason); err != nil {
		return "", fmt.Errorf("email.SendAutomatedTx: %w", err)
	}
	if status == RecipientSkipped {
		return reason, nil
	}
	return OutcomeQueued, nil
}

// Engagement reports whether a contact opened and clicked the mail of a
// campaign (for a journey's engagement branch).
func Engagement(ctx context.Context, q db.Querier, ws, campaignID, contactID int64) (opened, clicked bool, err error) {
	var opens, clicks int64
	err = q.QueryRowContext(ctx, `-- email.Engagement
		SELECT opens, clicks FROM campaign_recipients WHERE workspace_id = ? AND campaign_id = ? AND contact_id = ?`, ws, campaignID, contactID).
		Scan(&opens, &clicks)
	if db.NoRows(err) {
		return false, false, nil
	}
	if err != nil {
		return false, false, fmt.Errorf("email.Engagement: %w", err)
	}
	return opens > 0, clicks > 0, nil
}

// Templates lists the campaigns whose template a journey's email step may
// send (every campaign people made, sent or not), newest first.
func (s *Service) Templates(ctx context.Context, q db.Querier, ws int64) ([]Campaign, error) {
	rows, err := q.QueryContext(ctx, `-- email.Templates
		SELECT `+campaignCols+` FROM email_campaigns WHERE workspace_id = ? AND deleted_at IS NULL AND audience_kind <> ?
		ORDER BY created_at DESC, id DESC LIMIT 500`, ws, AudienceJourney)
	if err != nil {
		return nil, fmt.Errorf("email.Templates: %w", err)
	}
	defer rows.Close()
	var out []Campaign
	for rows.Next() {
		c, err := scanCampaign(rows)
		if err != nil {
			return nil, fmt.Errorf("email.Templates: %w", err)
		}
		out = append(out, c)
	}
	return out, rows.Err()
}
