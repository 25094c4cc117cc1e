package lead

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/ryorin/ryorin/internal/bizcal"
	"github.com/ryorin/ryorin/internal/crm"
	"github.com/ryorin/ryorin/internal/db"
	"github.com/ryorin/ryorin/internal/errs"
	"github.com/ryorin/ryorin/internal/lead/rules"
	"github.com/ryorin/ryorin/internal/platform"
)

// SLAPolicy says how fast sales must first touch a lead of one priority,
// counted in business time on the owner's team calendar. The first policy
// (by position) whose condition matches the lead at hand-off applies.
type SLAPolicy struct {
	Key                 string `json:"key" doc:"e.g. hot, normal"`
	LabelJA             string `json:"label_ja"`
	LabelEN             string `json:"label_en"`
	Position            int    `json:"position"`
	Condition           string `json:"condition" doc:"rule on the lead at hand-off, e.g. fit_grade == \"A\" || engagement >= 80"`
	FirstTouchMinutes   int    `json:"first_touch_minutes" doc:"business minutes to the first touch"`
	RemindBeforeMinutes int    `json:"remind_before_minutes" doc:"remind the owner this many business minutes before the deadline (0: no reminder)"`
	SecondLimitMinutes  int    `json:"second_limit_minutes" doc:"business minutes after the deadline at which second_action applies (0: never)"`
	SecondAction        string `json:"second_action" enum:"none,reassign,recycle" doc:"what happens to a lead still untouched at the second limit"`
}

// Label returns the policy's name in a language.
func (p SLAPolicy) Label(lang string) string {
	if lang == "ja" {
		return p.LabelJA
	}
	return p.LabelEN
}

// DefaultSLAPolicies are a new workspace's policies: hot leads within one
// business hour, others within one business day (9 hours on the standard
// calendar); a hot lead left alone a further day goes to another rep, a
// normal one left three days goes back to nurture.
var DefaultSLAPolicies = []SLAPolicy{
	{Key: "hot", LabelJA: "ホット", LabelEN: "Hot", Position: 0, Condition: `fit_grade == "A" || engagement >= 80`,
		FirstTouchMinutes: 60, RemindBeforeMinutes: 15, SecondLimitMinutes: 540, SecondAction: "reassign"},
	{Key: "normal", LabelJA: "通常", LabelEN: "Normal", Position: 1, Condition: "true",
		FirstTouchMinutes: 540, RemindBeforeMinutes: 60, SecondLimitMinutes: 1620, SecondAction: "recycle"},
}

var policyKey = regexp.MustCompile(`^[a-z0-9_]{1,40}$`)

// SLA states.
const (
	SLAOpen       = "open"       // waiting for the first touch, before the deadline
	SLAMet        = "met"        // touched before the deadline
	SLABreached   = "breached"   // deadline passed without a touch
	SLALate       = "late"       // touched after the deadline
	SLAReassigned = "reassigned" // taken from the owner at the second limit
	SLARecycled   = "recycled"   // sent back to nurture at the second limit
	SLAClosed     = "closed"     // the lead left the hand-off some other way (e.g. a deal was opened)
)

// SLA is the follow-up timer of one hand-off of a lead to a rep.
type SLA struct {
	ID              int64      `json:"id"`
	ContactID       int64      `json:"contact_id"`
	OwnerID         int64      `json:"owner_id"`
	TeamID          int64      `json:"team_id,omitempty"`
	Policy          string     `json:"policy"`
	Channel         string     `json:"channel,omitempty"`
	State           string     `json:"state" enum:"open,met,breached,late,reassigned,recycled,closed"`
	StartedAt       time.Time  `json:"started_at"`
	RemindAt        *time.Time `json:"remind_at,omitempty"`
	DueAt           time.Time  `json:"due_at"`
	SecondAt        *time.Time `json:"second_at,omitempty"`
	RemindedAt      *time.Time `json:"reminded_at,omitempty"`
	BreachedAt      *time.Time `json:"breached_at,omitempty"`
	TouchedAt       *time.Time `json:"touched_at,omitempty"`
	TouchKind       string     `json:"touch_kind,omitempty"`
	ResponseSeconds *int64     `json:"response_seconds,omitempty" doc:"business seconds from hand-off to first touch"`
	ClosedAt        *time.Time `json:"closed_at,omitempty"`
}

// Waiting reports whether the lead still waits for its first touch.
func (x SLA) Waiting() bool { return x.State == SLAOpen || x.State == SLABreached }

const slaCols = `id, contact_id, owner_id, COALESCE(team_id, 0), policy, channel, state, started_at, remind_at, due_at, second_at,
	reminded_at, breached_at, touched_at, touch_kind, response_seconds, closed_at`

// scanSLA scans the slaCols, then any extra columns into extra.
func scanSLA(s interface{ Scan(...any) error }, extra ...any) (SLA, error) {
	var x SLA
	var started, due int64
	var remind, second, reminded, breached, touched, closed, resp sql.NullInt64
	err := s.Scan(append([]any{&x.ID, &x.ContactID, &x.OwnerID, &x.TeamID, &x.Policy, &x.Channel, &x.State, &started, &remind, &due, &second,
		&reminded, &breached, &touched, &x.TouchKind, &resp, &closed}, extra...)...)
	x.StartedAt, x.DueAt = db.Time(started), db.Time(due)
	x.RemindAt, x.SecondAt, x.RemindedAt, x.BreachedAt, x.TouchedAt, x.ClosedAt =
		db.TimePtr(remind), db.TimePtr(second), db.TimePtr(reminded), db.TimePtr(breached), db.TimePtr(touched), db.TimePtr(closed)
	if resp.Valid {
		x.ResponseSeconds = &resp.Int64
	}
	return x, err
}

// EnsureSLAPolicies gives a workspace the default policies when it has none.
func (s *Service) EnsureSLAPolicies(ctx context.Context, ws int64) error {
	return s.DB.Write(ctx, "lead.EnsureSLAPolicies", func(tx *db.Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM sla_policies WHERE workspace_id = ?`, ws).Scan(&n); err != nil || n > 0 {
			return err
		}
		for _, p := range DefaultSLAPolicies {
			if err := putPolicy(ctx, tx, ws, p); err != nil {
				return err
			}
		}
		return nil
	})
}

func putPolicy(ctx context.Context, tx *db.Tx, ws int64, p SLAPolicy) error {
	_, err := tx.ExecContext(ctx, `-- lead.putPolicy
		INSERT INTO sla_policies (workspace_id, key, label_ja, label_en, position, condition, first_touch_minutes, remind_before_minutes,
			second_limit_minutes, second_action) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (workspace_id, key) DO UPDATE SET label_ja = excluded.label_ja, label_en = excluded.label_en, position = excluded.position,
			condition = excluded.condition, first_touch_minutes = excluded.first_touch_minutes, remind_before_minutes = excluded.remind_before_minutes,
			second_limit_minutes = excluded.second_limit_minutes, second_action = excluded.second_action`,
		ws, p.Key, p.LabelJA, p.LabelEN, p.Position, p.Condition, p.FirstTouchMinutes, p.RemindBeforeMinutes, p.SecondLimitMinutes, p.SecondAction)
	return err
}

// SLAPolicies lists a workspace's policies in the order they are tried.
func (s *Service) SLAPolicies(ctx context.Context, q db.Querier, ws int64) ([]SLAPolicy, error) {
	rows, err := q.QueryContext(ctx, `-- lead.SLAPolicies
		SELECT key, label_ja, label_en, position, condition, first_touch_minutes, remind_before_minutes, second_limit_minutes, second_action
		FROM sla_policies WHERE workspace_id = ? ORDER BY position, key`, ws)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []SLAPolicy
	for rows.Next() {
		var p SLAPolicy
		if err := rows.Scan(&p.Key, &p.LabelJA, &p.LabelEN, &p.Position, &p.Condition, &p.FirstTouchMinutes, &p.RemindBeforeMinutes,
			&p.SecondLimitMinutes, &p.SecondAction); err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

// SaveSLAPolicy creates or changes a policy (admins and managers). It
// applies to hand-offs from now on; running timers keep their deadlines.
func (s *Service) SaveSLAPolicy(ctx context.Context, a platform.Actor, p SLAPolicy) (SLAPolicy, error) {
	if !a.Is(platform.RoleAdmin, platform.RoleManager) {
		return p, errs.E(errs.Forbidden, "", "only admins and managers change SLA policies")
	}
	p.Key, p.Condition = strings.TrimSpace(p.Key), strings.TrimSpace(p.Condition)
	p.LabelJA, p.LabelEN = strings.TrimSpace(p.LabelJA), strings.TrimSpace(p.LabelEN)
	switch {
	case !policyKey.MatchString(p.Key):
		return p, errs.Field("key", "must be 1–40 lower-case letters, digits or _")
	case p.LabelJA == "" || p.LabelEN == "":
		return p, errs.Field("label_en", "both labels are required")
	case p.FirstTouchMinutes <= 0 || p.FirstTouchMinutes > 60*24*30:
		return p, errs.Field("first_touch_minutes", "must be between 1 and 43,200")
	case p.RemindBeforeMinutes < 0 || p.RemindBeforeMinutes >= p.FirstTouchMinutes && p.RemindBeforeMinutes != 0:
		return p, errs.Field("remind_before_minutes", "must be less than first_touch_minutes")
	case p.SecondLimitMinutes < 0 || p.SecondLimitMinutes > 60*24*90:
		return p, errs.Field("second_limit_minutes", "must be between 0 and 129,600")
	}
	if p.SecondAction == "" {
		p.SecondAction = "none"
	}
	if p.SecondAction != "none" && p.SecondAction != "reassign" && p.SecondAction != "recycle" {
		return p, errs.Field("second_action", "must be none, reassign or recycle")
	}
	if p.Condition == "" {
		p.Condition = "true"
	}
	if _, err := rules.Compile(p.Condition, rules.Condition); err != nil {
		return p, errs.Field("condition", "%v", err)
	}
	err := s.DB.Write(ctx, "lead.SaveSLAPolicy", func(tx *db.Tx) error {
		if err := putPolicy(ctx, tx, a.WorkspaceID, p); err != nil {
			return err
		}
		return platform.Audit(ctx, tx, a, s.Clock.Now(), "update", "sla_policy", 0, p)
	})
	return p, err
}

// TeamCalendar is the business calendar a team's SLA timers count in.
type TeamCalendar struct {
	TeamID      int64            `json:"team_id"`
	OpenMinute  int              `json:"open_minute" doc:"minutes after midnight the team opens, e.g. 540 for 9:00"`
	CloseMinute int              `json:"close_minute" doc:"minutes after midnight the team closes, e.g. 1080 for 18:00"`
	Weekdays    string           `json:"weekdays" doc:"working weekdays as digits, 0 = Sunday, e.g. 12345"`
	Holidays    bool             `json:"holidays" doc:"closed on Japanese public holidays"`
	Closures    []bizcal.Closure `json:"closures,omitempty" doc:"yearly closures such as 年末年始"`
}

// Calendar turns the stored form into a bizcal.Calendar in loc.
func (t TeamCalendar) Calendar(loc *time.Location) bizcal.Calendar {
	c := bizcal.Calendar{Loc: loc, Open: time.Duration(t.OpenMinute) * time.Minute, Close: time.Duration(t.CloseMinute) * time.Minute,
		Holidays: t.Holidays, Closures: t.Closures}
	for _, r := range t.Weekdays {
		if r >= '0' && r <= '6' {
			c.Weekdays[r-'0'] = true
		}
	}
	return c
}

// SetTeamCalendar stores a team's business calendar (admins and managers).
func (s *Service) SetTeamCalendar(ctx context.Context, a platform.Actor, t TeamCalendar) (TeamCalendar, error) {
	if !a.Is(platform.RoleAdmin, platform.RoleManager) {
		return t, errs.E(errs.Forbidden, "", "only admins and managers change team calendars")
	}
	if err := t.Calendar(time.UTC).Validate(); err != nil {
		return t, errs.Field("weekdays", "%v", err)
	}
	for i, c := range t.Closures {
		if c.FromMonth < 1 || c.FromMonth > 12 || c.UntilMonth < 1 || c.UntilMonth > 12 || c.FromDay < 1 || c.FromDay > 31 || c.UntilDay < 1 || c.UntilDay > 31 {
			return t, errs.Field(fmt.Sprintf("closures[%d]", i), "months must be 1–12 and days 1–31")
		}
	}
	closures, _ := json.Marshal(t.Closures)
	err := s.DB.Write(ctx, "lead.SetTeamCalendar", func(tx *db.Tx) error {
		if _, err := platform.GetTeam(ctx, tx, a.WorkspaceID, t.TeamID); err != nil {
			return errs.Rule("team_id", "team %d does not exist", t.TeamID)
		}
		if _, err := tx.ExecContext(ctx, `-- lead.SetTeamCalendar
			INSERT INTO team_calendars (workspace_id, team_id, open_minute, close_minute, weekdays, holidays, closures) VALUES (?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (workspace_id, team_id) DO UPDATE SET open_minute = excluded.open_minute, close_minute = excluded.close_minute,
				weekdays = excluded.weekdays, holidays = excluded.holidays, closures = excluded.closures`,
			a.WorkspaceID, t.TeamID, t.OpenMinute, t.CloseMinute, t.Weekdays, t.Holidays, string(closures)); err != nil {
			return err
		}
		return platform.Audit(ctx, tx, a, s.Clock.Now(), "update", "team_calendar", t.TeamID, t)
	})
	return t, err
}

// teamCalendar returns a team's stored calendar, or the standard Japanese
// office calendar, in the workspace's time zone.
func (s *Service) teamCalendar(ctx context.Context, q db.Querier, ws, team int64) (bizcal.Calendar, error) {
	w, err := platform.GetWorkspace(ctx, q, ws)
	if err != nil {
		return bizcal.Calendar{}, err
	}
	loc := w.Location()
	t := TeamCalendar{TeamID: team}
	var closures *string
	err = q.QueryRowContext(ctx, `SELECT open_minute, close_minute, weekdays, holidays, closures FROM team_calendars WHERE workspace_id = ? AND team_id = ?`,
		ws, team).Scan(&t.OpenMinute, &t.CloseMinute, &t.Weekdays, &t.Holidays, &closures)
	if db.NoRows(err) {
		return bizcal.Standard(loc), nil
	}
	if err != nil {
		return bizcal.Calendar{}, err
	}
	if closures != nil {
		_ = json.Unmarshal([]byte(*closures), &t.Closures)
	}
	c := t.Calendar(loc)
	if c.Validate() != nil {
		return bizcal.Standard(loc), nil
	}
	return c, nil
}

// TeamCalendarOf returns the calendar a team's timers count in.
func (s *Service) TeamCalendarOf(ctx context.Context, q db.Querier, ws, team int64) (TeamCalendar, error) {
	c, err := s.teamCalendar(ctx, q, ws, team)
	if err != nil {
		return TeamCalendar{}, err
	}
	t := TeamCalendar{TeamID: team, OpenMinute: int(c.Open / time.Minute), CloseMinute: int(c.Close / time.Minute), Holidays: c.Holidays, Closures: c.Closures}
	for d, on := range c.Weekdays {
		if on {
			t.Weekdays += strconv.Itoa(d)
		}
	}
	return t, nil
}

// startSLA starts the follow-up timer of a lead just handed to owner, inside
// the hand-off's transaction, with the first policy whose condition matches.
// Any timer still waiting on the contact is closed first, so a contact has at
// most one waiting timer.
func (s *Service) startSLA(ctx context.Context, tx *db.Tx, ws, contactID, owner int64, channel string, f rules.Facts, now time.Time) (SLA, error) {
	if _, err := tx.ExecContext(ctx, `UPDATE lead_slas SET state = ?, closed_at = ? WHERE workspace_id = ? AND contact_id = ? AND state IN (?, ?)`,
		SLAClosed, db.Millis(now), ws, contactID, SLAOpen, SLABreached); err != nil {
		return SLA{}, err
	}
	ps, err := s.SLAPolicies(ctx, tx, ws)
	if err != nil || len(ps) == 0 {
		return SLA{}, err
	}
	pol := ps[len(ps)-1]
	for _, p := range ps {
		r, err := rules.Compile(p.Condition, rules.Condition)
		if err != nil {
			continue
		}
		if ok, err := r.Bool(f); err == nil && ok {
			pol = p
			break
		}
	}
	u, err := platform.GetUser(ctx, tx, ws, owner)
	if err != nil {
		return SLA{}, err
	}
	cal, err := s.teamCalendar(ctx, tx, ws, u.TeamID)
	if err != nil {
		return SLA{}, err
	}
	x := SLA{ContactID: contactID, OwnerID: owner, TeamID: u.TeamID, Policy: pol.Key, Channel: channel, State: SLAOpen, StartedAt: now,
		DueAt: cal.Add(now, time.Duration(pol.FirstTouchMinutes)*time.Minute)}
	if pol.RemindBeforeMinutes > 0 {
		t := cal.Add(now, time.Duration(pol.FirstTouchMinutes-pol.RemindBeforeMinutes)*time.Minute)
		x.RemindAt = &t
	}
	if pol.SecondLimitMinutes > 0 && pol.SecondAction != "none" {
		t := cal.Add(now, time.Duration(pol.FirstTouchMinutes+pol.SecondLimitMinutes)*time.Minute)
		x.SecondAt = &t
	}
	err = tx.QueryRowContext(ctx, `-- lead.startSLA
		INSERT INTO lead_slas (workspace_id, contact_id, owner_id, team_id, policy, channel, state, started_at, remind_at, due_at, second_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		ws, contactID, owner, db.NullInt(x.TeamID), x.Policy, x.Channel, x.State, db.Millis(now), db.NullMillis(x.RemindAt), db.Millis(x.DueAt),
		db.NullMillis(x.SecondAt)).Scan(&x.ID)
	return x, err
}

// touchKinds are the activities that count as a first touch.
var touchKinds = map[string]bool{"call": true, "email": true, "meeting": true, "demo": true}

// TouchSLA records the first touch of a lead waiting for one, inside the
// caller's transaction: the timer is met (or late, after its deadline) and
// keeps the response time in business seconds. A touch of a lead that waits
// for nothing does nothing.
func (s *Service) TouchSLA(ctx context.Context, tx *db.Tx, ws, contactID int64, kind string, at time.Time) error {
	row := tx.QueryRowContext(ctx, `SELECT `+slaCols+` FROM lead_slas WHERE workspace_id = ? AND contact_id = ? AND state IN (?, ?) ORDER BY id DESC LIMIT 1`,
		ws, contactID, SLAOpen, SLABreached)
	x, err := scanSLA(row)
	if db.NoRows(err) {
		return nil
	}
	if err != nil {
		return err
	}
	if at.Before(x.StartedAt) {
		at = x.StartedAt
	}
	cal, err := s.teamCalendar(ctx, tx, ws, x.TeamID)
	if err != nil {
		return err
	}
	state := SLAMet
	if at.After(x.DueAt) {
		state = SLALate
	}
	resp := int64(cal.Between(x.StartedAt, at) / time.Second)
	_, err = tx.ExecContext(ctx, `-- lead.TouchSLA
		UPDATE lead_slas SET state = ?, touched_at = ?, touch_kind = ?, response_seconds = ?, closed_at = ?,
			breached_at = COALESCE(breached_at, CASE WHEN ? THEN due_at END) WHERE workspace_id = ? AND id = ?`,
		state, db.Millis(at), kind, resp, db.Millis(at), state == SLALate, ws, x.ID)
	return err
}

// TouchFromActivity is the CRM's activity hook: a logged call, email,
// meeting or demo with a contact, once it has happened, is a touch.
func (s *Service) TouchFromActivity(ctx context.Context, tx *db.Tx, ws int64, x crm.Activity, now time.Time) error {
	if x.ContactID == 0 || !touchKinds[x.Kind] || x.OccurredAt.After(now) {
		return nil
	}
	return s.TouchSLA(ctx, tx, ws, x.ContactID, x.Kind, now)
}

// ContactSLAs lists a contact's follow-up timers, newest first.
func (s *Service) ContactSLAs(ctx context.Context, q db.Querier, ws, contactID int64) ([]SLA, error) {
	rows, err := q.QueryContext(ctx, `SELECT `+slaCols+` FROM lead_slas WHERE workspace_id = ? AND contact_id = ? ORDER BY id DESC LIMIT 50`, ws, contactID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []SLA
	for rows.Next() {
		x, err := scanSLA(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, x)
	}
	return out, rows.Err()
}

// BackfillOptions tune BackfillSLAs.
type BackfillOptions struct {
	// FirePast leaves a second limit that has already passed in place, so
	// the next timer run applies it (reassign or recycle) as it would have
	// been applied. Reminders and breaches of the past never fire.
	FirePast bool
}

// BackfillSLAs gives contacts that became MQL before SLA timers existed
// (an upgraded install, an import, the demo) the timer they would have had,
// from their history: the latest hand-off to MQL of each owned contact
// without a timer, its first touch (a call, email, meeting or demo after it,
// or sales' verdict as the next stage change), and its state now. No
// reminder or escalation fires for a moment already past, and unless
// o.FirePast neither does a second limit. It returns how many timers it wrote.
func (s *Service) BackfillSLAs(ctx context.Context, ws int64, o BackfillOptions) (int, error) {
	now := s.Clock.Now()
	type cand struct {
		contact, owner int64
		at             time.Time
		channel, stage string
		f              rules.Facts
	}
	rows, err := s.DB.Reader().QueryContext(ctx, `-- lead.BackfillSLAs
		SELECT h.contact_id, MAX(h.at), c.owner_id, c.original_channel, c.lifecycle_stage, COALESCE(sc.fit_grade, ''), COALESCE(`+crm.EngagementSQL("sc", now)+`, 0)
		FROM lifecycle_history h JOIN contacts c ON c.workspace_id = h.workspace_id AND c.id = h.contact_id
		LEFT JOIN contact_scores sc ON sc.workspace_id = c.workspace_id AND sc.contact_id = c.id
		WHERE h.workspace_id = ? AND h.to_stage = 'mql' AND c.owner_id IS NOT NULL
			AND NOT EXISTS (SELECT 1 FROM lead_slas x WHERE x.workspace_id = h.workspace_id AND x.contact_id = h.contact_id)
		GROUP BY h.contact_id, c.owner_id, c.original_channel, c.lifecycle_stage, sc.fit_grade, sc.engagement_score, sc.half_life_days, sc.scored_at
		ORDER BY h.contact_id`, ws)
	if err != nil {
		return 0, err
	}
	var list []cand
	for rows.Next() {
		var c cand
		var at int64
		if err := rows.Scan(&c.contact, &at, &c.owner, &c.channel, &c.stage, &c.f.FitGrade, &c.f.Engagement); err != nil {
			rows.Close()
			return 0, err
		}
		c.at, c.f.Now = db.Time(at), db.Time(at)
		list = append(list, c)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, err
	}
	const batch = 200
	n := 0
	for i := 0; i < len(list); i += batch {
		part := list[i:min(i+batch, len(list))]
		err := s.DB.Write(ctx, "lead.BackfillSLAs", func(tx *db.Tx) error {
			for _, c := range part {
				x, err := s.startSLA(ctx, tx, ws, c.contact, c.owner, c.channel, c.f, c.at)
				if err != nil {
					return err
				}
				if x.ID == 0 {
					continue // no policies
				}
				// The first touch: an activity, or the next stage change.
				var act, moved sql.NullInt64
				var kind, to string
				if err := tx.QueryRowContext(ctx, `SELECT MIN(occurred_at) FROM activities WHERE workspace_id = ? AND contact_id = ?
					AND kind IN ('call', 'email', 'meeting', 'demo') AND occurred_at >= ? AND occurred_at <= ?`,
					ws, c.contact, db.Millis(c.at), db.Millis(now)).Scan(&act); err != nil {
					return err
				}
				err = tx.QueryRowContext(ctx, `SELECT at, to_stage FROM lifecycle_history WHERE workspace_id = ? AND contact_id = ? AND at > ?
					ORDER BY at, id LIMIT 1`, ws, c.contact, db.Millis(c.at)).Scan(&moved, &to)
				if err != nil && !db.NoRows(err) {
					return err
				}
				var touch *time.Time
				if act.Valid {
					t := db.Time(act.Int64)
					touch, kind = &t, "activity"
				}
				if moved.Valid && (touch == nil || db.Time(moved.Int64).Before(*touch)) {
					t := db.Time(moved.Int64)
					kind = map[string]string{"sql": "accept", "recycled": "reject", "disqualified": "reject"}[to]
					if kind != "" {
						touch = &t
					} else if touch == nil {
						// Moved on without a touch (e.g. straight to a deal).
						if _, err := tx.ExecContext(ctx, `UPDATE lead_slas SET state = ?, closed_at = ?, second_at = NULL WHERE workspace_id = ? AND id = ?`,
							SLAClosed, moved.Int64, ws, x.ID); err != nil {
							return err
						}
						n++
						continue
					}
				}
				if touch != nil {
					if kind == "activity" {
						if err := tx.QueryRowContext(ctx, `SELECT kind FROM activities WHERE workspace_id = ? AND contact_id = ? AND occurred_at = ? LIMIT 1`,
							ws, c.contact, db.Millis(*touch)).Scan(&kind); err != nil {
							return err
						}
					}
					if err := s.TouchSLA(ctx, tx, ws, c.contact, kind, *touch); err != nil {
						return err
					}
				}
				// Nothing that is already past fires now.
				if _, err := tx.ExecContext(ctx, `UPDATE lead_slas SET
					reminded_at = CASE WHEN remind_at IS NOT NULL AND remind_at <= ? THEN remind_at ELSE reminded_at END,
					breached_at = CASE WHEN breached_at IS NULL AND touched_at IS NULL AND due_at <= ? THEN due_at ELSE breached_at END,
					state = CASE WHEN state = 'open' AND due_at <= ? THEN 'breached' ELSE state END,
					second_at = CASE WHEN second_at IS NOT NULL AND second_at <= ? AND NOT ? THEN NULL ELSE second_at END
					WHERE workspace_id = ? AND id = ?`, db.Millis(now), db.Millis(now), db.Millis(now), db.Millis(now), o.FirePast, ws, x.ID); err != nil {
					return err
				}
				if touch == nil && c.stage != string(platform.StageMQL) {
					if _, err := tx.ExecContext(ctx, `UPDATE lead_slas SET state = ?, closed_at = ? WHERE workspace_id = ? AND id = ?`,
						SLAClosed, db.Millis(now), ws, x.ID); err != nil {
						return err
					}
				}
				n++
			}
			return nil
		})
		if err != nil {
			return n, err
		}
	}
	return n, nil
}
