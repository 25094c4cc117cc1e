package email

import (
	"context"
	"fmt"

	"github.com/ryorin/ryorin/internal/platform"
)

// Report is a campaign's outcome, read from its send log and the mail
// messages it queued.
type Report struct {
	Recipients   int64            `json:"recipients" doc:"audience members handled so far"`
	Queued       int64            `json:"queued" doc:"messages not yet handed to the SMTP server"`
	Sent         int64            `json:"sent"`
	Failed       int64            `json:"failed"`
	Unknown      int64            `json:"unknown" doc:"interrupted mid-send; not resent"`
	Skipped      map[string]int64 `json:"skipped" doc:"by reason: no_email, no_consent, suppressed, render_error"`
	UniqueOpens  int64            `json:"unique_opens"`
	TotalOpens   int64            `json:"total_opens"`
	UniqueClicks int64            `json:"unique_clicks"`
	Links        []LinkClicks     `json:"links"`
	Unsubscribes int64            `json:"unsubscribes"`
	// Variants are an A/B test's results: A and B in the sample, then the
	// winner's rest (empty without a test).
	Variants []VariantResult `json:"variants"`
}

// VariantResult is one variant's share of an A/B test.
type VariantResult struct {
	Variant      string  `json:"variant" enum:"A,B"`
	Messages     int64   `json:"messages" doc:"recipients sent this variant (not skipped)"`
	UniqueOpens  int64   `json:"unique_opens"`
	UniqueClicks int64   `json:"unique_clicks"`
	OpenRate     float64 `json:"open_rate"`
	ClickRate    float64 `json:"click_rate"`
}

// LinkClicks counts the clicks on one link of a campaign.
type LinkClicks struct {
	URL      string `json:"url"`
	Clicks   int64  `json:"clicks"`
	Contacts int64  `json:"contacts"`
}

// SkippedTotal is the number of recipients skipped for any reason.
func (r Report) SkippedTotal() int64 {
	var n int64
	for _, v := range r.Skipped {
		n += v
	}
	return n
}

// Report reads a campaign's report.
func (s *Service) Report(ctx context.Context, a platform.Actor, id int64) (Report, error) {
	rep := Report{Skipped: map[string]int64{}, Variants: []VariantResult{}}
	if _, err := s.Get(ctx, a, id); err != nil {
		return rep, err
	}
	ws, q := a.WorkspaceID, s.DB.Reader()
	rows, err := q.QueryContext(ctx, `-- email.Report.status
		SELECT r.status, r.reason, COALESCE(m.status, ''), COUNT(*), SUM(CASE WHEN r.opens > 0 THEN 1 ELSE 0 END), SUM(r.opens),
			SUM(CASE WHEN r.clicks > 0 THEN 1 ELSE 0 END), SUM(CASE WHEN r.unsubscribed_at IS NULL THEN 0 ELSE 1 END)
		FROM campaign_recipients r
		LEFT JOIN mail_messages m ON m.workspace_id = r.workspace_id AND m.id = r.mail_id
		WHERE r.workspace_id = ? AND r.campaign_id = ?
		GROUP BY r.status, r.reason, m.status`, ws, id)
	if err != nil {
		return rep, fmt.Errorf("email.Report(%d): %w", id, err)
	}
	defer rows.Close()
	for rows.Next() {
		var status, reason, mail string
		var n, uo, to, uc, un int64
		if err := rows.Scan(&status, &reason, &mail, &n, &uo, &to, &uc, &un); err != nil {
			return rep, fmt.Errorf("email.Report(%d): %w", id, err)
		}
		rep.Recipients += n
		rep.UniqueOpens += uo
		rep.TotalOpens += to
		rep.UniqueClicks += uc
		rep.Unsubscribes += un
		if status == RecipientSkipped {
			rep.Skipped[reason] += n
			continue
		}
		switch mail {
		case platform.MailSent:
			rep.Sent += n
		case platform.MailFailed:
			rep.Failed += n
		case platform.MailUnknown:
			rep.Unknown += n
		default:
			rep.Queued += n
		}
	}
	if err := rows.Err(); err != nil {
		return rep, err
	}
	lrows, err := q.QueryContext(ctx, `-- email.Report.links
		SELECT url, SUM(clicks), COUNT(*) FROM campaign_clicks WHERE workspace_id = ? AND campaign_id = ?
		GROUP BY url ORDER BY SUM(clicks) DESC, url LIMIT 100`, ws, id)
	if err != nil {
		return rep, fmt.Errorf("email.Report(%d) links: %w", id, err)
	}
	defer lrows.Close()
	for lrows.Next() {
		var l LinkClicks
		if err := lrows.Scan(&l.URL, &l.Clicks, &l.Contacts); err != nil {
			return rep, err
		}
		rep.Links = append(rep.Links, l)
	}
	if err := lrows.Err(); err != nil {
		return rep, err
	}
	vrows, err := q.QueryContext(ctx, `-- email.Report.variants
		SELECT variant, COUNT(*), SUM(CASE WHEN opens > 0 THEN 1 ELSE 0 END), SUM(CASE WHEN clicks > 0 THEN 1 ELSE 0 END)
		FROM campaign_recipients WHERE workspace_id = ? AND campaign_id = ? AND variant <> '' AND status <> ?
		GROUP BY variant ORDER BY variant`, ws, id, RecipientSkipped)
	if err != nil {
		return rep, fmt.Errorf("email.Report(%d) variants: %w", id, err)
	}
	defer vrows.Close()
	for vrows.Next() {
		var v VariantResult
		if err := vrows.Scan(&v.Variant, &v.Messages, &v.UniqueOpens, &v.UniqueClicks); err != nil {
			return rep, err
		}
		if v.Messages > 0 {
			v.OpenRate, v.ClickRate = float64(v.UniqueOpens)/float64(v.Messages), float64(v.UniqueClicks)/float64(v.Messages)
		}
		rep.Variants = append(rep.Variants, v)
	}
	return rep, vrows.Err()
}
