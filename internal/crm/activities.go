package crm

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/ryorin/ryorin/internal/db"
	"github.com/ryorin/ryorin/internal/errs"
	"github.com/ryorin/ryorin/internal/platform"
)

// ActivityKinds lists the kinds of activity a rep can log.
var ActivityKinds = []string{"call", "email", "meeting", "demo", "note", "task"}

// CallOutcomes are the results of a call that inside-sales KPIs count:
// 不在 (no answer), 受付止まり (stopped at reception), 担当者接続 (reached the
// person), アポ獲得 (appointment set), plus voicemail and wrong number.
var CallOutcomes = []string{"no_answer", "gatekeeper", "connected", "appointment", "voicemail", "wrong_number"}

// Activity is something a person did with a customer: a call, an email, a
// meeting, a demo, a note or a task. It may concern a contact, a company and a
// deal at once, and is written to each one's timeline.
type Activity struct {
	ID              int64      `json:"id"`
	Kind            string     `json:"kind" doc:"call, email, meeting, demo, note or task"`
	Subject         string     `json:"subject,omitempty"`
	Body            string     `json:"body,omitempty"`
	OccurredAt      time.Time  `json:"occurred_at"`
	DueAt           *time.Time `json:"due_at,omitempty" doc:"tasks: when it is due"`
	DoneAt          *time.Time `json:"done_at,omitempty" doc:"tasks: when it was done"`
	CallOutcome     string     `json:"call_outcome,omitempty" doc:"calls: no_answer (不在), gatekeeper (受付止まり), connected (担当者接続), appointment (アポ獲得), voicemail, wrong_number"`
	Direction       string     `json:"direction,omitempty" doc:"inbound or outbound"`
	DurationSeconds int        `json:"duration_seconds,omitempty"`
	OwnerID         int64      `json:"owner_id,omitempty"`
	ContactID       int64      `json:"contact_id,omitempty"`
	CompanyID       int64      `json:"company_id,omitempty"`
	DealID          int64      `json:"deal_id,omitempty"`
	VoiceTopic      string     `json:"voice_topic,omitempty" doc:"customer voice: pricing, feature_request, competitor, objection, praise or other"`
	VoiceCampaign   string     `json:"voice_campaign,omitempty" doc:"customer voice: the campaign it concerns (e.g. its UTM code)"`
	CreatedBy       int64      `json:"created_by,omitempty"`
	CreatedAt       time.Time  `json:"created_at"`
	UpdatedAt       time.Time  `json:"updated_at"`
}

// ActivityInput holds activity fields to set; nil fields are left alone.
type ActivityInput struct {
	Kind            *string    `json:"kind,omitempty"`
	Subject         *string    `json:"subject,omitempty"`
	Body            *string    `json:"body,omitempty"`
	OccurredAt      *time.Time `json:"occurred_at,omitempty"`
	DueAt           *time.Time `json:"due_at,omitempty"`
	Done            *bool      `json:"done,omitempty" doc:"tasks: mark done or not done"`
	CallOutcome     *string    `json:"call_outcome,omitempty"`
	Direction       *string    `json:"direction,omitempty"`
	DurationSeconds *int       `json:"duration_seconds,omitempty"`
	OwnerID         *int64     `json:"owner_id,omitempty"`
	ContactID       *int64     `json:"contact_id,omitempty"`
	CompanyID       *int64     `json:"company_id,omitempty"`
	DealID          *int64     `json:"deal_id,omitempty"`
	VoiceTopic      *string    `json:"voice_topic,omitempty" doc:"marks the activity as customer voice: pricing, feature_request, competitor, objection, praise or other (empty: not voice)"`
	VoiceCampaign   *string    `json:"voice_campaign,omitempty"`
}

// VoiceTopics are what customer voice is about.
var VoiceTopics = []string{"pricing", "feature_request", "competitor", "objection", "praise", "other"}

func oneOf(v string, list []string) bool {
	for _, x := range list {
		if v == x {
			return true
		}
	}
	return false
}

func (in ActivityInput) apply(x *Activity, now time.Time) error {
	if in.Kind != nil {
		x.Kind = *in.Kind
	}
	if !oneOf(x.Kind, ActivityKinds) {
		return errs.Field("kind", "must be one of %s", strings.Join(ActivityKinds, ", "))
	}
	if in.Subject != nil {
		x.Subject = strings.TrimSpace(*in.Subject)
		if len(x.Subject) > 500 {
			return errs.Field("subject", "is longer than 500 bytes")
		}
	}
	if in.Body != nil {
		x.Body = *in.Body
		if len(x.Body) > 100_000 {
			return errs.Field("body", "is longer than 100,000 bytes")
		}
	}
	if in.OccurredAt != nil {
		x.OccurredAt = in.OccurredAt.UTC()
	}
	if in.DueAt != nil {
		t := in.DueAt.UTC()
		x.DueAt = &t
	}
	if in.Done != nil {
		if *in.Done && x.DoneAt == nil {
			t := now
			x.DoneAt = &t
		} else if !*in.Done {
			x.DoneAt = nil
		}
	}
	if in.CallOutcome != nil {
		x.CallOutcome = *in.CallOutcome
	}
	if x.CallOutcome != "" && (x.Kind != "call" || !oneOf(x.CallOutcome, CallOutcomes)) {
		return errs.Field("call_outcome", "is for calls only, one of %s", strings.Join(CallOutcomes, ", "))
	}
	if in.Direction != nil {
		x.Direction = *in.Direction
	}
	if x.Direction != "" && x.Direction != "inbound" && x.Direction != "outbound" {
		return errs.Field("direction", "must be inbound or outbound")
	}
	if in.DurationSeconds != nil {
		if *in.DurationSeconds < 0 || *in.DurationSeconds > 86400 {
			return errs.Field("duration_seconds", "must be 0 to 86400")
		}
		x.DurationSeconds = *in.DurationSeconds
	}
	if in.VoiceTopic != nil {
		x.VoiceTopic = strings.TrimSpace(*in.VoiceTopic)
	}
	if in.VoiceCampaign != nil {
		x.VoiceCampaign = strings.TrimSpace(*in.VoiceCampaign)
		if len(x.VoiceCampaign) > 200 {
			return errs.Field("voice_campaign", "is longer than 200 bytes")
		}
	}
	if x.VoiceTopic != "" && (!oneOf(x.VoiceTopic, VoiceTopics) || x.Kind == "task") {
		return errs.Field("voice_topic", "is for calls, emails, meetings, demos and notes, one of %s", strings.Join(VoiceTopics, ", "))
	}
	if x.VoiceTopic == "" {
		x.VoiceCampaign = ""
	}
	for _, p := range []struct {
		dst *int64
		src *int64
	}{{&x.OwnerID, in.OwnerID}, {&x.ContactID, in.ContactID}, {&x.CompanyID, in.CompanyID}, {&x.DealID, in.DealID}} {
		if p.src != nil {
			*p.dst = *p.src
		}
	}
	if x.ContactID == 0 && x.CompanyID == 0 && x.DealID == 0 {
		return errs.Field("contact_id", "an activity concerns a contact, a company or a deal")
	}
	return nil
}

const activityCols = `id, kind, subject, body, occurred_at, due_at, done_at, call_outcome, direction, duration_seconds, voice_topic, voice_campaign,
	COALESCE(owner_id, 0), COALESCE(contact_id, 0), COALESCE(company_id, 0), COALESCE(deal_id, 0), COALESCE(created_by, 0),
	created_at, updated_at`

func scanActivity(sc interface{ Scan(...any) error }) (Activity, error) {
	var x Activity
	var occ, cr, up int64
	var due, done sql.NullInt64
	err := sc.Scan(&x.ID, &x.Kind, &x.Subject, &x.Body, &occ, &due, &done, &x.CallOutcome, &x.Direction, &x.DurationSeconds,
		&x.VoiceTopic, &x.VoiceCampaign, &x.OwnerID, &x.ContactID, &x.CompanyID, &x.DealID, &x.CreatedBy, &cr, &up)
	x.OccurredAt, x.CreatedAt, x.UpdatedAt = db.Time(occ), db.Time(cr), db.Time(up)
	x.DueAt, x.DoneAt = db.TimePtr(due), db.TimePtr(done)
	return x, err
}

// resolveLinks checks the linked records exist (and may be seen), and fills
// in the company from the contact or deal when it was not given, so one
// logged call shows on the contact's, the company's and the deal's timeline.
func (s *Service) resolveLinks(ctx context.Context, q db.Querier, a platform.Actor, x *Activity) error {
	if x.ContactID != 0 {
		c, err := s.GetContact(ctx, q, a, x.ContactID)
		if err != nil {
			return errs.Rule("contact_id", "contact %d does not exist", x.ContactID)
		}
		if x.CompanyID == 0 {
			x.CompanyID = c.CompanyID
		}
	}
	if x.DealID != 0 {
		d, err := s.GetDeal(ctx, q, a, x.DealID)
		if err != nil {
			return errs.Rule("deal_id", "deal %d does not exist", x.DealID)
		}
		if x.CompanyID == 0 {
			x.CompanyID = d.CompanyID
		}
	}
	if x.CompanyID != 0 {
		if _, err := s.GetCompany(ctx, q, platform.System(a.WorkspaceID), x.CompanyID); err != nil {
			return errs.Rule("company_id", "company %d does not exist", x.CompanyID)
		}
	}
	return checkUser(ctx, q, a.WorkspaceID, x.OwnerID, "owner_id")
}

// LogActivity records an activity and, in the same transaction, writes it to
// the timeline and bumps last_activity_at on its contact, company and deal.
func (s *Service) LogActivity(ctx context.Context, a platform.Actor, in ActivityInput) (Activity, error) {
	var x Activity
	err := s.DB.Write(ctx, "crm.LogActivity", func(tx *db.Tx) error {
		var err error
		x, err = s.LogActivityTx(ctx, tx, a, in)
		return err
	})
	return x, err
}

// LogActivityTx is LogActivity inside a caller's transaction (a journey's
// task step commits the task with the step's record).
func (s *Service) LogActivityTx(ctx context.Context, tx *db.Tx, a platform.Actor, in ActivityInput) (Activity, error) {
	now := s.Clock.Now()
	x := Activity{OccurredAt: now, OwnerID: a.UserID, CreatedBy: a.UserID, CreatedAt: now, UpdatedAt: now}
	if err := in.apply(&x, now); err != nil {
		return x, err
	}
	if x.Kind == "task" && in.OccurredAt == nil && x.DueAt != nil {
		x.OccurredAt = *x.DueAt
	}
	if err := s.resolveLinks(ctx, tx, a, &x); err != nil {
		return x, err
	}
	if err := s.insertActivity(ctx, tx, a, &x, now); err != nil {
		return x, err
	}
	return x, nil
}

// insertActivity stores a resolved activity with its timeline entry, the
// last-activity bumps, the activity hooks and the audit entry.
func (s *Service) insertActivity(ctx context.Context, tx *db.Tx, a platform.Actor, x *Activity, now time.Time) error {
	err := tx.QueryRowContext(ctx, `-- crm.LogActivity
		INSERT INTO activities (workspace_id, kind, subject, body, occurred_at, due_at, done_at, call_outcome, direction,
			duration_seconds, voice_topic, voice_campaign, owner_id, contact_id, company_id, deal_id, created_by, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		a.WorkspaceID, x.Kind, x.Subject, x.Body, db.Millis(x.OccurredAt), db.NullMillis(x.DueAt), db.NullMillis(x.DoneAt),
		x.CallOutcome, x.Direction, x.DurationSeconds, x.VoiceTopic, x.VoiceCampaign, db.NullInt(x.OwnerID), db.NullInt(x.ContactID), db.NullInt(x.CompanyID),
		db.NullInt(x.DealID), a.UserRef(), db.Millis(now), db.Millis(now)).Scan(&x.ID)
	if err != nil {
		return fmt.Errorf("crm.LogActivity: %w", err)
	}
	if _, err := platform.AppendTimeline(ctx, tx, a, platform.TimelineEntry{At: x.OccurredAt, Kind: "activity." + x.Kind,
		ContactID: x.ContactID, CompanyID: x.CompanyID, DealID: x.DealID, RefType: "activity", RefID: x.ID},
		map[string]any{"subject": x.Subject, "outcome": x.CallOutcome, "direction": x.Direction, "voice_topic": x.VoiceTopic}); err != nil {
		return err
	}
	// Last activity is something that happened: a planned meeting or an
	// open task does not count until its time has come.
	if (x.Kind != "task" || x.DoneAt != nil) && !x.OccurredAt.After(now) {
		if err := s.touch(ctx, tx, a.WorkspaceID, x.ContactID, x.CompanyID, x.DealID, x.OccurredAt); err != nil {
			return err
		}
	}
	for _, h := range s.ActivityHooks {
		if err := h(ctx, tx, a.WorkspaceID, *x, now); err != nil {
			return err
		}
	}
	return platform.Audit(ctx, tx, a, now, "create", "activity", x.ID, map[string]any{"kind": x.Kind, "subject": x.Subject})
}

// touch moves last_activity_at forward (never back) on the linked records.
func (s *Service) touch(ctx context.Context, tx *db.Tx, ws, contactID, companyID, dealID int64, at time.Time) error {
	ms := db.Millis(at)
	for _, t := range []struct {
		table string
		id    int64
	}{{"contacts", contactID}, {"companies", companyID}, {"deals", dealID}} {
		if t.id == 0 {
			continue
		}
		if _, err := tx.ExecContext(ctx, `UPDATE `+t.table+` SET last_activity_at = ? WHERE workspace_id = ? AND id = ?
			AND (last_activity_at IS NULL OR last_activity_at < ?)`, ms, ws, t.id, ms); err != nil {
			return fmt.Errorf("crm.touch %s: %w", t.table, err)
		}
	}
	return nil
}

// GetActivity loads one activity.
func (s *Service) GetActivity(ctx context.Context, q db.Querier, a platform.Actor, id int64) (Activity, error) {
	x, err := scanActivity(q.QueryRowContext(ctx, `-- crm.GetActivity
		SELECT `+activityCols+` FROM activities WHERE workspace_id = ? AND id = ?`, a.WorkspaceID, id))
	if db.NoRows(err) || (err == nil && !canSee(a, x.OwnerID)) {
		return x, errs.NotFoundf("activity %d not found", id)
	}
	if err != nil {
		return x, fmt.Errorf("crm.GetActivity(%d): %w", id, err)
	}
	return x, nil
}

// UpdateActivity changes an activity, e.g. marks a task done.
func (s *Service) UpdateActivity(ctx context.Context, a platform.Actor, id int64, in ActivityInput) (Activity, error) {
	now := s.Clock.Now()
	var x Activity
	err := s.DB.Write(ctx, "crm.UpdateActivity", func(tx *db.Tx) error {
		var err error
		if x, err = s.GetActivity(ctx, tx, a, id); err != nil {
			return err
		}
		before := x
		if in.Kind != nil && *in.Kind != x.Kind {
			return errs.Field("kind", "an activity's kind cannot change; log a new one")
		}
		if err := in.apply(&x, now); err != nil {
			return err
		}
		if err := s.resolveLinks(ctx, tx, a, &x); err != nil {
			return err
		}
		x.UpdatedAt = now
		_, err = tx.ExecContext(ctx, `-- crm.UpdateActivity
			UPDATE activities SET subject = ?, body = ?, occurred_at = ?, due_at = ?, done_at = ?, call_outcome = ?, direction = ?,
				duration_seconds = ?, voice_topic = ?, voice_campaign = ?, owner_id = ?, contact_id = ?, company_id = ?, deal_id = ?, updated_at = ?
			WHERE workspace_id = ? AND id = ?`, x.Subject, x.Body, db.Millis(x.OccurredAt), db.NullMillis(x.DueAt),
			db.NullMillis(x.DoneAt), x.CallOutcome, x.Direction, x.DurationSeconds, x.VoiceTopic, x.VoiceCampaign, db.NullInt(x.OwnerID), db.NullInt(x.ContactID),
			db.NullInt(x.CompanyID), db.NullInt(x.DealID), db.Millis(now), a.WorkspaceID, id)
		if err != nil {
			return fmt.Errorf("crm.UpdateActivity: %w", err)
		}
		if x.Kind == "task" && before.DoneAt == nil && x.DoneAt != nil {
			if _, err := platform.AppendTimeline(ctx, tx, a, platform.TimelineEntry{At: now, Kind: "task.done", ContactID: x.ContactID,
				CompanyID: x.CompanyID, DealID: x.DealID, RefType: "activity", RefID: x.ID}, map[string]any{"subject": x.Subject}); err != nil {
				return err
			}
			if err := s.touch(ctx, tx, a.WorkspaceID, x.ContactID, x.CompanyID, x.DealID, now); err != nil {
				return err
			}
		}
		return platform.Audit(ctx, tx, a, now, "update", "activity", id, platform.Diff(before, x))
	})
	return x, err
}

// DeleteActivity removes an activity. Its timeline entry stays, as history.
func (s *Service) DeleteActivity(ctx context.Context, a platform.Actor, id int64) error {
	return s.DB.Write(ctx, "crm.DeleteActivity", func(tx *db.Tx) error {
		x, err := s.GetActivity(ctx, tx, a, id)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM activities WHERE workspace_id = ? AND id = ?`, a.WorkspaceID, id); err != nil {
			return fmt.Errorf("crm.DeleteActivity: %w", err)
		}
		return platform.Audit(ctx, tx, a, s.Clock.Now(), "delete", "activity", id, map[string]string{"kind": x.Kind, "subject": x.Subject})
	})
}

// ActivityFilter selects activities.
type ActivityFilter struct {
	ContactID, CompanyID, DealID, OwnerID int64
	Kind                                  string
	OpenTasks                             bool      // only tasks not done, by due date
	Until                                 time.Time // only activities that happened by then (not planned ones)
	Cursor                                string
	Limit                                 int
}

// ListActivities returns a page of activities, newest first (open tasks:
// soonest due first).
func (s *Service) ListActivities(ctx context.Context, a platform.Actor, f ActivityFilter) (Page[Activity], error) {
	w := where{sql: "workspace_id = ?", args: []any{a.WorkspaceID}}
	if a.OwnRecordsOnly {
		w.and("owner_id = ?", a.UserID)
	}
	w.eq("contact_id", f.ContactID, "company_id", f.CompanyID, "deal_id", f.DealID, "owner_id", f.OwnerID)
	if f.Kind != "" {
		if !oneOf(f.Kind, ActivityKinds) {
			return Page[Activity]{}, errs.Field("kind", "must be one of %s", strings.Join(ActivityKinds, ", "))
		}
		w.and("kind = ?", f.Kind)
	}
	if !f.Until.IsZero() {
		w.and("occurred_at <= ?", db.Millis(f.Until))
	}
	sp := sortSpec[Activity]{"occurred_at", true, func(x Activity) any { return db.Millis(x.OccurredAt) }}
	if f.OpenTasks {
		w.and("kind = 'task' AND done_at IS NULL")
		sp = sortSpec[Activity]{"COALESCE(due_at, 9223372036854775807)", false, func(x Activity) any {
			if x.DueAt == nil {
				return int64(9223372036854775807)
			}
			return db.Millis(*x.DueAt)
		}}
	}
	return listPage(ctx, s.DB.Reader(), "crm.ListActivities", "SELECT "+activityCols+" FROM activities", w, sp, f.Cursor, f.Limit,
		scanActivity, func(x Activity) int64 { return x.ID })
}
