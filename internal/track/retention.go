package track

import (
	"context"
	"fmt"
	"time"

	"github.com/ryorin/ryorin/internal/db"
	"github.com/ryorin/ryorin/internal/platform"
)

// expireBatch is how many visitors one retention transaction removes.
const expireBatch = 100

// ExpireVisitors rolls up and deletes the workspace's anonymous visitors
// last seen before its retention period: their page views are added to
// track_daily (per day in the workspace's time zone, path and channel), then
// their events, sessions and visitor rows are deleted. Identified visitors
// are never touched. It works in bounded transactions and returns how many
// visitors it removed.
func ExpireVisitors(ctx context.Context, d *db.DB, ws int64, now time.Time) (int, error) {
	set, err := GetSettings(ctx, d.Reader(), ws)
	if err != nil {
		return 0, err
	}
	w, err := platform.GetWorkspace(ctx, d.Reader(), ws)
	if err != nil {
		return 0, err
	}
	loc := w.Location()
	cut := db.Millis(now.Add(-time.Duration(set.RetentionDays) * 24 * time.Hour))
	total := 0
	for {
		n := 0
		err := d.Write(ctx, "track.ExpireVisitors", func(tx *db.Tx) error {
			var err error
			n, err = expireSome(ctx, tx, ws, cut, loc)
			return err
		})
		if err != nil {
			return total, fmt.Errorf("track.ExpireVisitors: %w", err)
		}
		total += n
		if n < expireBatch || ctx.Err() != nil {
			return total, ctx.Err()
		}
	}
}

type dayKey struct{ day, path, channel string }

type dayCount struct {
	views              int64
	visitors, sessions map[string]bool
}

func expireSome(ctx context.Context, tx *db.Tx, ws, cut int64, loc *time.Location) (int, error) {
	lock := ""
	if tx.Dialect() == db.Postgres {
		lock = " FOR UPDATE SKIP LOCKED"
	}
	rows, err := tx.QueryContext(ctx, `-- track.expireSome
		SELECT visitor_id FROM track_visitors WHERE workspace_id = ? AND contact_id IS NULL AND last_seen < ?
		ORDER BY last_seen LIMIT ?`+lock, ws, cut, expireBatch)
	if err != nil {
		return 0, err
	}
	var ids []any
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return 0, err
		}
		ids = append(ids, id)
	}
	rows.Close()
	if err := rows.Err(); err != nil || len(ids) == 0 {
		return 0, err
	}
	in := " AND visitor_id IN (" + marks(len(ids)) + ")"
	args := append([]any{ws}, ids...)
	rows, err = tx.QueryContext(ctx, `-- track.expireSome events
		SELECT visitor_id, session_id, occurred_at, path, channel FROM events
		WHERE workspace_id = ? AND kind = 'page_view' AND contact_id IS NULL`+in, args...)
	if err != nil {
		return 0, err
	}
	counts := map[dayKey]*dayCount{}
	for rows.Next() {
		var vid, sid, path, ch string
		var at int64
		if err := rows.Scan(&vid, &sid, &at, &path, &ch); err != nil {
			rows.Close()
			return 0, err
		}
		k := dayKey{db.Time(at).In(loc).Format(time.DateOnly), trim(path, 1024), ch}
		c := counts[k]
		if c == nil {
			c = &dayCount{visitors: map[string]bool{}, sessions: map[string]bool{}}
			counts[k] = c
		}
		c.views++
		c.visitors[vid] = true
		c.sessions[sid] = true
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, err
	}
	for k, c := range counts {
		// Each visitor is rolled up exactly once (in the batch that deletes
		// it), so distinct counts per batch add up correctly.
		if _, err := tx.ExecContext(ctx, `-- track.expireSome rollup
			INSERT INTO track_daily (workspace_id, day, path, channel, page_views, visitors, sessions) VALUES (?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (workspace_id, day, path, channel) DO UPDATE SET page_views = track_daily.page_views + excluded.page_views,
				visitors = track_daily.visitors + excluded.visitors, sessions = track_daily.sessions + excluded.sessions`,
			ws, k.day, k.path, k.channel, c.views, len(c.visitors), len(c.sessions)); err != nil {
			return 0, err
		}
	}
	for _, q := range []string{
		`DELETE FROM events WHERE workspace_id = ? AND contact_id IS NULL` + in,
		`DELETE FROM track_sessions WHERE workspace_id = ? AND contact_id IS NULL` + in,
		`DELETE FROM track_visitors WHERE workspace_id = ? AND contact_id IS NULL` + in,
	} {
		if _, err := tx.ExecContext(ctx, "-- track.expireSome delete\n"+q, args...); err != nil {
			return 0, err
		}
	}
	return len(ids), nil
}

// DailyCount is one row of the anonymous-traffic roll-up.
type DailyCount struct {
	Day       string `json:"day"`
	Path      string `json:"path"`
	Channel   string `json:"channel"`
	PageViews int64  `json:"page_views"`
	Visitors  int64  `json:"visitors"`
	Sessions  int64  `json:"sessions"`
}

// ListDaily returns the roll-up between two days (YYYY-MM-DD, inclusive).
func ListDaily(ctx context.Context, q db.Querier, ws int64, from, to string) ([]DailyCount, error) {
	rows, err := q.QueryContext(ctx, `-- track.ListDaily
		SELECT day, path, channel, page_views, visitors, sessions FROM track_daily
		WHERE workspace_id = ? AND day >= ? AND day <= ? ORDER BY day, path, channel`, ws, from, to)
	if err != nil {
		return nil, fmt.Errorf("track.ListDaily: %w", err)
	}
	defer rows.Close()
	out := []DailyCount{}
	for rows.Next() {
		var c DailyCount
		if err := rows.Scan(&c.Day, &c.Path, &c.Channel, &c.PageViews, &c.Visitors, &c.Sessions); err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// Session is one visit: events of a visitor with no gap over SessionTimeout.
type Session struct {
	ID          int64     `json:"id"`
	VisitorID   string    `json:"visitor_id"`
	ContactID   int64     `json:"contact_id,omitempty"`
	StartedAt   time.Time `json:"started_at"`
	LastAt      time.Time `json:"last_at"`
	Channel     string    `json:"channel"`
	UTMSource   string    `json:"utm_source,omitempty"`
	UTMMedium   string    `json:"utm_medium,omitempty"`
	UTMCampaign string    `json:"utm_campaign,omitempty"`
	Referrer    string    `json:"referrer,omitempty"`
	LandingURL  string    `json:"landing_url"`
	PageViews   int       `json:"page_views"`
	Events      int       `json:"events"`
}

// ListContactSessions returns a contact's sessions, newest first.
func ListContactSessions(ctx context.Context, q db.Querier, ws, contactID int64, limit int) ([]Session, error) {
	return listSessions(ctx, q, "contact_id = ?", ws, contactID, limit)
}

// ListVisitorSessions returns a visitor's sessions, newest first.
func ListVisitorSessions(ctx context.Context, q db.Querier, ws int64, visitorID string, limit int) ([]Session, error) {
	return listSessions(ctx, q, "visitor_id = ?", ws, visitorID, limit)
}

func listSessions(ctx context.Context, q db.Querier, where string, ws int64, key any, limit int) ([]Session, error) {
	if limit <= 0 || limit > 200 {
		limit = 50
	}
	rows, err := q.QueryContext(ctx, `-- track.listSessions
		SELECT id, visitor_id, COALESCE(contact_id, 0), started_at, last_at, channel, utm_source, utm_medium, utm_campaign, referrer,
		       landing_url, page_views, events
		FROM track_sessions WHERE workspace_id = ? AND `+where+` ORDER BY started_at DESC, id DESC LIMIT ?`, ws, key, limit)
	if err != nil {
		return nil, fmt.Errorf("track.listSessions: %w", err)
	}
	defer rows.Close()
	out := []Session{}
	for rows.Next() {
		var s Session
		var st, la int64
		if err := rows.Scan(&s.ID, &s.VisitorID, &s.ContactID, &st, &la, &s.Channel, &s.UTMSource, &s.UTMMedium, &s.UTMCampaign,
			&s.Referrer, &s.LandingURL, &s.PageViews, &s.Events); err != nil {
			return nil, err
		}
		s.StartedAt, s.LastAt = db.Time(st), db.Time(la)
		out = append(out, s)
	}
	return out, rows.Err()
}

// ExpireAll runs ExpireVisitors for every workspace (the hourly
// track.retention job).
func ExpireAll(ctx context.Context, d *db.DB, now time.Time) error {
	rows, err := d.Reader().QueryContext(ctx, `SELECT id FROM workspaces ORDER BY id`)
	if err != nil {
		return fmt.Errorf("track.ExpireAll: %w", err)
	}
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return err
		}
		ids = append(ids, id)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for _, ws := range ids {
		if _, err := ExpireVisitors(ctx, d, ws, now); err != nil {
			return err
		}
	}
	return nil
}
