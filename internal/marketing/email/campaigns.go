package email

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/ryorin/ryorin/internal/clock"
	"github.com/ryorin/ryorin/internal/crm"
	"github.com/ryorin/ryorin/internal/db"
	"github.com/ryorin/ryorin/internal/errs"
	"github.com/ryorin/ryorin/internal/i18n"
	"github.com/ryorin/ryorin/internal/marketing/interest"
	"github.com/ryorin/ryorin/internal/platform"
)

// Campaign statuses.
const (
	StatusDraft     = "draft"
	StatusScheduled = "scheduled"
	StatusSending   = "sending"
	StatusSent      = "sent"
)

// Audience kinds.
const (
	AudienceList    = "list"
	AudienceSegment = "segment"
)

// SendJob is the job kind that sends one campaign.
const SendJob = "email.campaign_send"

// Service runs the email use cases.
type Service struct {
	DB     *db.DB
	Clock  clock.Clock
	CRM    *crm.Service
	Mailer *platform.Mailer
	Jobs   *platform.Jobs
	Log    *slog.Logger
	// Batch is how many audience members one send transaction handles.
	Batch int
}

// New returns a Service; call Register to run its send job.
func New(d *db.DB, c clock.Clock, cs *crm.Service, m *platform.Mailer, jobs *platform.Jobs, log *slog.Logger) *Service {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Service{DB: d, Clock: clock.Millis(c), CRM: cs, Mailer: m, Jobs: jobs, Log: log, Batch: 200}
}

// Register registers the campaign send job handler, and has the mailer
// report recipients the SMTP server refused for good as hard bounces.
func (s *Service) Register() {
	s.Jobs.Handle(SendJob, s.handleSend)
	if s.Mailer != nil && s.Mailer.OnBounce == nil {
		s.Mailer.OnBounce = s.bounceFromSMTP
	}
}

// Campaign is an email campaign.
type Campaign struct {
	ID           int64           `json:"id"`
	Name         string          `json:"name"`
	Template     Template        `json:"template"`
	AudienceKind string          `json:"audience_kind" doc:"list or segment"`
	AudienceID   int64           `json:"audience_id"`
	Status       string          `json:"status" doc:"draft, scheduled, sending or sent"`
	SendAt       *time.Time      `json:"send_at,omitempty" doc:"when the send starts (scheduled campaigns)"`
	PerMinute    int             `json:"per_minute,omitempty" doc:"at most this many recipients a minute (0: no limit)"`
	WindowStart  int             `json:"window_start,omitempty" doc:"sending window: first hour (workspace time zone)"`
	WindowEnd    int             `json:"window_end,omitempty" doc:"sending window: the hour it closes; equal to window_start: any time"`
	AB           ABTest          `json:"ab_test" doc:"an A/B test of the subject or content (sample_percent 0: none)"`
	Blocks       json.RawMessage `json:"blocks,omitempty" doc:"the block document the HTML and text bodies were compiled from (absent: raw HTML)"`
	Topics       []string        `json:"topics" doc:"topics the campaign is about; clicks in it add to the clicker's interest"`
	StartedAt    *time.Time      `json:"started_at,omitempty"`
	FinishedAt   *time.Time      `json:"finished_at,omitempty"`
	CreatedAt    time.Time       `json:"created_at"`
	UpdatedAt    time.Time       `json:"updated_at"`
}

// CampaignInput is a campaign as the form or the API sends it.
type CampaignInput struct {
	Name         string   `json:"name"`
	Template     Template `json:"template"`
	AudienceKind string   `json:"audience_kind" doc:"list or segment"`
	AudienceID   int64    `json:"audience_id"`
	AB           *ABTest  `json:"ab_test,omitempty" doc:"omit for no A/B test"`
	// Blocks, when present, is a block document; the template's HTML and
	// text are then compiled from it (its subject is still used).
	Blocks json.RawMessage `json:"blocks,omitempty" doc:"a block document (see the editor); when present the html and text bodies are compiled from it"`
	Topics []string        `json:"topics,omitempty" doc:"topics the campaign is about, e.g. pricing, case_studies"`
}

// ABTest sends variant B (its empty parts are A's) to half of a sample of
// the audience and A to the other half, waits, then sends the rest the
// variant with the higher unique open (or click) rate; a tie keeps A.
type ABTest struct {
	B             Template `json:"b"`
	SamplePercent int      `json:"sample_percent" doc:"share of the audience in the test, 0 (no test) or 2–50"`
	Metric        string   `json:"metric" enum:"opens,clicks"`
	WaitMinutes   int      `json:"wait_minutes" doc:"how long after the test to pick the winner (10–10080)"`
	Winner        string   `json:"winner,omitempty" enum:"A,B" doc:"set when the rest is sent"`
}

func (t ABTest) check() error {
	if t.SamplePercent == 0 {
		return nil
	}
	if t.SamplePercent < 2 || t.SamplePercent > 50 {
		return errs.Field("ab_test.sample_percent", "must be 0 (no test) or 2 to 50")
	}
	if t.Metric != "opens" && t.Metric != "clicks" {
		return errs.Field("ab_test.metric", "must be opens or clicks")
	}
	if t.WaitMinutes < 10 || t.WaitMinutes > 10080 {
		return errs.Field("ab_test.wait_minutes", "must be 10 to 10080 minutes")
	}
	if t.B.Subject == "" && t.B.HTML == "" && t.B.Text == "" {
		return errs.Field("ab_test.b", "variant B must differ in its subject or content")
	}
	if _, err := Parse(t.variant(Template{Subject: "x", HTML: "x", Text: "x"})); err != nil {
		if e, ok := errs.As(err); ok && e.Field != "" {
			e.Field = "ab_test.b." + e.Field
			return e
		}
		return err
	}
	return nil
}

// variant is template a with B's non-empty parts.
func (t ABTest) variant(a Template) Template {
	if t.B.Subject != "" {
		a.Subject = t.B.Subject
	}
	if t.B.HTML != "" {
		a.HTML = t.B.HTML
	}
	if t.B.Text != "" {
		a.Text = t.B.Text
	}
	return a
}

func canEdit(a platform.Actor) error {
	if a.Kind == platform.ActorSystem || a.Kind == platform.ActorCLI || a.Is(platform.RoleAdmin, platform.RoleMarketing) {
		return nil
	}
	return errs.E(errs.Forbidden, "", "only marketing and admins manage email campaigns")
}

func (in *CampaignInput) validate(ctx context.Context, q db.Querier, ws int64) error {
	in.Name = strings.TrimSpace(in.Name)
	if in.Name == "" || len(in.Name) > 200 {
		return errs.Field("name", "is required (at most 200 characters)")
	}
	if err := in.compile(ctx, q, ws); err != nil {
		return err
	}
	if _, err := Parse(in.Template); err != nil {
		return err
	}
	table := map[string]string{AudienceList: "contact_lists", AudienceSegment: "segments"}[in.AudienceKind]
	if table == "" {
		return errs.Field("audience_kind", "must be list or segment")
	}
	var one int
	err := q.QueryRowContext(ctx, `-- email.CampaignInput.validate
		SELECT 1 FROM `+table+` WHERE workspace_id = ? AND id = ?`, ws, in.AudienceID).Scan(&one)
	if db.NoRows(err) {
		return errs.Field("audience_id", "no such %s", in.AudienceKind)
	}
	return err
}

// Create saves a draft campaign.
func (s *Service) Create(ctx context.Context, a platform.Actor, in CampaignInput) (Campaign, error) {
	return s.save(ctx, a, 0, in)
}

// Update changes a draft campaign; a campaign that was sent is kept as sent.
func (s *Service) Update(ctx context.Context, a platform.Actor, id int64, in CampaignInput) (Campaign, error) {
	return s.save(ctx, a, id, in)
}

func (s *Service) save(ctx context.Context, a platform.Actor, id int64, in CampaignInput) (Campaign, error) {
	var c Campaign
	if err := canEdit(a); err != nil {
		return c, err
	}
	ws := a.WorkspaceID
	now := s.Clock.Now()
	action := "update"
	if id == 0 {
		action = "create"
	}
	if in.AB != nil {
		if err := in.AB.check(); err != nil {
			return c, err
		}
	}
	err := s.DB.Write(ctx, "email.saveCampaign", func(tx *db.Tx) error {
		if err := in.validate(ctx, tx, ws); err != nil {
			return err
		}
		if id == 0 {
			if err := tx.QueryRowContext(ctx, `-- email.Create
				INSERT INTO email_campaigns (workspace_id, name, subject, html_body, text_body, audience_kind, audience_id, created_by, created_at, updated_at, blocks_json, topics)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`, ws, in.Name, in.Template.Subject, in.Template.HTML, in.Template.Text,
				in.AudienceKind, in.AudienceID, db.NullInt(a.UserID), db.Millis(now), db.Millis(now), string(in.Blocks), topicsJSON(in.Topics)).Scan(&id); err != nil {
				return fmt.Errorf("email.Create: %w", err)
			}
		} else {
			old, err := getCampaign(ctx, tx, ws, id)
			if err != nil {
				return err
			}
			if old.Status != StatusDraft {
				return errs.E(errs.Conflict, "", "a campaign that has been sent cannot be changed")
			}
			if _, err := tx.ExecContext(ctx, `-- email.Update
				UPDATE email_campaigns SET name = ?, subject = ?, html_body = ?, text_body = ?, audience_kind = ?, audience_id = ?, updated_at = ?,
				blocks_json = ?, topics = ?
				WHERE workspace_id = ? AND id = ?`, in.Name, in.Template.Subject, in.Template.HTML, in.Template.Text, in.AudienceKind,
				in.AudienceID, db.Millis(now), string(in.Blocks), topicsJSON(in.Topics), ws, id); err != nil {
				return fmt.Errorf("email.Update: %w", err)
			}
		}
		var ab ABTest
		if in.AB != nil {
			ab = *in.AB
		}
		if ab.Metric == "" {
			ab.Metric = "opens"
		}
		if ab.WaitMinutes == 0 {
			ab.WaitMinutes = 240
		}
		if _, err := tx.ExecContext(ctx, `-- email.save ab
			UPDATE email_campaigns SET ab_subject = ?, ab_html = ?, ab_text = ?, ab_sample = ?, ab_metric = ?, ab_wait_minutes = ?
			WHERE workspace_id = ? AND id = ?`, ab.B.Subject, ab.B.HTML, ab.B.Text, ab.SamplePercent, ab.Metric, ab.WaitMinutes, ws, id); err != nil {
			return fmt.Errorf("email.save: %w", err)
		}
		var err error
		if c, err = getCampaign(ctx, tx, ws, id); err != nil {
			return err
		}
		return platform.Audit(ctx, tx, a, now, action, "email_campaign", id, map[string]any{"name": c.Name, "audience": c.AudienceKind, "audience_id": c.AudienceID})
	})
	return c, err
}

// Delete hides a campaign. Its row stays (marked deleted) so its id is never
// reused and links in mail already sent keep working.
func (s *Service) Delete(ctx context.Context, a platform.Actor, id int64) error {
	if err := canEdit(a); err != nil {
		return err
	}
	return s.DB.Write(ctx, "email.Delete", func(tx *db.Tx) error {
		c, err := getCampaign(ctx, tx, a.WorkspaceID, id)
		if err != nil {
			return err
		}
		if c.Status == StatusSending {
			return errs.E(errs.Conflict, "", "a campaign cannot be deleted while it is sending")
		}
		if c.AudienceKind == AudienceJourney {
			return errs.E(errs.Conflict, "", "this is a journey's email: change the journey instead")
		}
		now := s.Clock.Now()
		if _, err = tx.ExecContext(ctx, `-- email.Delete
			UPDATE email_campaigns SET deleted_at = ? WHERE workspace_id = ? AND id = ?`, db.Millis(now), a.WorkspaceID, id); err != nil {
			return err
		}
		return platform.Audit(ctx, tx, a, now, "delete", "email_campaign", id, map[string]any{"name": c.Name})
	})
}

const campaignCols = `id, name, subject, html_body, text_body, audience_kind, audience_id, status, started_at, finished_at, created_at, updated_at,
	send_at, per_minute, window_start, window_end, ab_subject, ab_html, ab_text, ab_sample, ab_metric, ab_wait_minutes, ab_winner,
	blocks_json, topics`

func scanCampaign(sc interface{ Scan(...any) error }) (Campaign, error) {
	var c Campaign
	var started, finished, sendAt *int64
	var created, updated int64
	var blocks, topics string
	err := sc.Scan(&c.ID, &c.Name, &c.Template.Subject, &c.Template.HTML, &c.Template.Text, &c.AudienceKind, &c.AudienceID,
		&c.Status, &started, &finished, &created, &updated, &sendAt, &c.PerMinute, &c.WindowStart, &c.WindowEnd,
		&c.AB.B.Subject, &c.AB.B.HTML, &c.AB.B.Text, &c.AB.SamplePercent, &c.AB.Metric, &c.AB.WaitMinutes, &c.AB.Winner,
		&blocks, &topics)
	if err != nil {
		return c, err
	}
	if blocks != "" {
		c.Blocks = json.RawMessage(blocks)
	}
	c.Topics = interest.ParseTopics(topics)
	if c.Topics == nil {
		c.Topics = []string{}
	}
	if sendAt != nil {
		t := db.Time(*sendAt)
		c.SendAt = &t
	}
	c.CreatedAt, c.UpdatedAt = db.Time(created), db.Time(updated)
	if started != nil {
		t := db.Time(*started)
		c.StartedAt = &t
	}
	if finished != nil {
		t := db.Time(*finished)
		c.FinishedAt = &t
	}
	return c, nil
}

func getCampaign(ctx context.Context, q db.Querier, ws, id int64) (Campaign, error) {
	c, err := scanCampaign(q.QueryRowContext(ctx, `-- email.Get
		SELECT `+campaignCols+` FROM email_campaigns WHERE workspace_id = ? AND id = ? AND deleted_at IS NULL`, ws, id))
	if db.NoRows(err) {
		return c, errs.NotFoundf("campaign %d not found", id)
	}
	if err != nil {
		return c, fmt.Errorf("email.Get(%d): %w", id, err)
	}
	return c, nil
}

// Get returns one campaign.
func (s *Service) Get(ctx context.Context, a platform.Actor, id int64) (Campaign, error) {
	if err := canEdit(a); err != nil {
		return Campaign{}, err
	}
	return getCampaign(ctx, s.DB.Reader(), a.WorkspaceID, id)
}

// List returns the workspace's campaigns, newest first (at most 500),
// without the automated campaigns of journeys.
func (s *Service) List(ctx context.Context, a platform.Actor) ([]Campaign, error) {
	if err := canEdit(a); err != nil {
		return nil, err
	}
	rows, err := s.DB.Reader().QueryContext(ctx, `-- email.List
		SELECT `+campaignCols+` FROM email_campaigns WHERE workspace_id = ? AND deleted_at IS NULL AND audience_kind <> ?
		ORDER BY created_at DESC, id DESC LIMIT 500`, a.WorkspaceID, AudienceJourney)
	if err != nil {
		return nil, fmt.Errorf("email.List: %w", err)
	}
	defer rows.Close()
	var out []Campaign
	for rows.Next() {
		c, err := scanCampaign(rows)
		if err != nil {
			return nil, fmt.Errorf("email.List: %w", err)
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// Preview renders the campaign for one contact (0: the audience's first
// member, or a sample person), with its real links.
func (s *Service) Preview(ctx context.Context, a platform.Actor, id, contactID int64, baseURL string) (Rendered, error) {
	c, err := s.Get(ctx, a, id)
	if err != nil {
		return Rendered{}, err
	}
	p, err := Parse(c.Template)
	if err != nil {
		return Rendered{}, err
	}
	ws, err := platform.GetWorkspace(ctx, s.DB.Reader(), a.WorkspaceID)
	if err != nil {
		return Rendered{}, err
	}
	var rs []recipient
	switch {
	case contactID == 0 && c.AudienceKind == AudienceJourney: // no audience: the sample person
	case contactID == 0: // the first member of the audience
		rs, err = audienceBatch(ctx, s.DB.Reader(), a.WorkspaceID, c, 0, 1)
	default:
		rs, err = loadRecipients(ctx, s.DB.Reader(), a.WorkspaceID, `c.id = ?`, contactID)
	}
	if err != nil {
		return Rendered{}, err
	}
	if len(rs) == 0 {
		if contactID != 0 {
			return Rendered{}, errs.NotFoundf("contact %d not found", contactID)
		}
		rs = []recipient{{Email: sample.Email, FamilyName: sample.FamilyName, GivenName: sample.GivenName, Company: sample.Company}}
	}
	lk := linker{key: ws.SigningKey(), base: publicBase(ws, baseURL), now: s.Clock.Now(), campaign: c.ID,
		lang: i18n.Lang(ws.DefaultLocale), smtp: ws.SMTP()}
	if err := personalise(ctx, s.DB.Reader(), a.WorkspaceID, c.Blocks, rs[:1], &lk, true); err != nil {
		return Rendered{}, err
	}
	r, _, err := lk.render(p, rs[0])
	return r, err
}

// Send starts sending a draft campaign now, as one durable job. baseURL is
// where links point when the workspace has no public base URL.
func (s *Service) Send(ctx context.Context, a platform.Actor, id int64, baseURL string) (Campaign, error) {
	return s.Schedule(ctx, a, id, baseURL, SendOptions{})
}

// SendOptions say when and how fast a campaign goes out.
type SendOptions struct {
	At          *time.Time `json:"send_at,omitempty" doc:"start then instead of now (at most a year ahead)"`
	PerMinute   int        `json:"per_minute,omitempty" doc:"at most this many recipients a minute (0: no limit)"`
	WindowStart int        `json:"window_start,omitempty" doc:"send only from this hour (0–23, workspace time zone)"`
	WindowEnd   int        `json:"window_end,omitempty" doc:"… until this hour (0–24); equal to window_start: any time"`
}

func (o SendOptions) check(now time.Time) error {
	if o.At != nil && (o.At.Before(now.Add(-time.Minute)) || o.At.After(now.AddDate(1, 0, 0))) {
		return errs.Field("send_at", "must be from now to a year ahead")
	}
	if o.PerMinute < 0 || o.PerMinute > 100000 {
		return errs.Field("per_minute", "must be 0 (no limit) to 100000")
	}
	if o.WindowStart < 0 || o.WindowStart > 23 {
		return errs.Field("window_start", "must be an hour, 0 to 23")
	}
	if o.WindowEnd < 0 || o.WindowEnd > 24 {
		return errs.Field("window_end", "must be an hour, 0 to 24")
	}
	return nil
}

// Schedule starts a draft campaign's send as one durable job: now or at
// o.At, at most o.PerMinute recipients a minute, and only within the hours
// of the sending window. Send is Schedule with no options.
func (s *Service) Schedule(ctx context.Context, a platform.Actor, id int64, baseURL string, o SendOptions) (Campaign, error) {
	var c Campaign
	if err := canEdit(a); err != nil {
		return c, err
	}
	ws := a.WorkspaceID
	now := s.Clock.Now()
	if err := o.check(now); err != nil {
		return c, err
	}
	start := now
	status := StatusSending
	if o.At != nil && o.At.After(now) {
		start, status = *o.At, StatusScheduled
	}
	err := s.DB.Write(ctx, "email.Send", func(tx *db.Tx) error {
		var err error
		if c, err = getCampaign(ctx, tx, ws, id); err != nil {
			return err
		}
		if c.Status != StatusDraft {
			return errs.E(errs.Conflict, "", "this campaign has already been sent")
		}
		if _, err := Parse(c.Template); err != nil {
			return err
		}
		if err := checkContent(ctx, tx, ws, c.Blocks); err != nil {
			return err
		}
		w, err := platform.GetWorkspace(ctx, tx, ws)
		if err != nil {
			return err
		}
		if w.SMTP().FromAddress == "" {
			return errs.E(errs.Invalid, "", "no sender address is configured: set one under Settings → SMTP")
		}
		phase := ""
		if c.AB.SamplePercent > 0 {
			phase = "test"
		}
		if _, err := tx.ExecContext(ctx, `-- email.Send
			UPDATE email_campaigns SET status = ?, base_url = ?, started_at = ?, send_at = ?, per_minute = ?, window_start = ?, window_end = ?, ab_phase = ?, updated_at = ?
			WHERE workspace_id = ? AND id = ?`,
			status, publicBase(w, baseURL), db.Millis(start), db.Millis(start), o.PerMinute, o.WindowStart, o.WindowEnd, phase, db.Millis(now), ws, id); err != nil {
			return fmt.Errorf("email.Send: %w", err)
		}
		// One job per start time: a campaign cancelled and scheduled again
		// gets a new job, and the old one finds its time changed and stops.
		if _, _, err := platform.Enqueue(ctx, tx, ws, SendJob, sendJob{Campaign: id, At: db.Millis(start)}, platform.EnqueueOptions{
			RunAt: start, UniqueKey: fmt.Sprintf("campaign:%d:%d", id, db.Millis(start)), MaxAttempts: 20}, now, s.Jobs); err != nil {
			return err
		}
		if err := platform.Audit(ctx, tx, a, now, "send", "email_campaign", id, map[string]any{"name": c.Name, "audience": c.AudienceKind,
			"audience_id": c.AudienceID, "send_at": start, "per_minute": o.PerMinute, "window": []int{o.WindowStart, o.WindowEnd}}); err != nil {
			return err
		}
		c, err = getCampaign(ctx, tx, ws, id)
		return err
	})
	return c, err
}

// Unschedule takes a scheduled campaign back to draft before it starts.
func (s *Service) Unschedule(ctx context.Context, a platform.Actor, id int64) (Campaign, error) {
	var c Campaign
	if err := canEdit(a); err != nil {
		return c, err
	}
	now := s.Clock.Now()
	err := s.DB.Write(ctx, "email.Unschedule", func(tx *db.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE email_campaigns SET status = ?, send_at = NULL, started_at = NULL, updated_at = ?
			WHERE workspace_id = ? AND id = ? AND status = ?`, StatusDraft, db.Millis(now), a.WorkspaceID, id, StatusScheduled)
		if err != nil {
			return fmt.Errorf("email.Unschedule: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return errs.E(errs.Conflict, "", "only a scheduled campaign that has not started can be taken back")
		}
		if err := platform.Audit(ctx, tx, a, now, "unschedule", "email_campaign", id, nil); err != nil {
			return err
		}
		c, err = getCampaign(ctx, tx, a.WorkspaceID, id)
		return err
	})
	return c, err
}

func publicBase(w platform.Workspace, fallback string) string {
	if w.PublicBaseURL != "" {
		return strings.TrimRight(w.PublicBaseURL, "/")
	}
	return strings.TrimRight(fallback, "/")
}
