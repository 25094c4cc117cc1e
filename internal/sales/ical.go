package sales

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/ryorin/ryorin/internal/db"
	"github.com/ryorin/ryorin/internal/errs"
	"github.com/ryorin/ryorin/internal/i18n"
	"github.com/ryorin/ryorin/internal/platform"
)

// A calendar feed URL has to work without a session for as long as the user
// keeps it in their calendar app, so it cannot expire like a signed link. Its
// token is "<user>-<version>-<mac>": the MAC is HMAC-SHA256 with the
// workspace's signing key over the workspace, the user and the feed version.
// Resetting the feed bumps the version, which kills every earlier URL. No
// secret is stored beyond the workspace key.

func feedMAC(key []byte, ws, user int64, version int) string {
	m := hmac.New(sha256.New, key)
	fmt.Fprintf(m, "ryorin.calendar-feed.v1\x00%d\x00%d\x00%d", ws, user, version)
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

func feedVersion(ctx context.Context, q db.Querier, ws, user int64) (int, error) {
	var v int
	err := q.QueryRowContext(ctx, `-- sales.feedVersion
		SELECT version FROM calendar_feeds WHERE workspace_id = ? AND user_id = ?`, ws, user).Scan(&v)
	if db.NoRows(err) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("sales.feedVersion: %w", err)
	}
	return v, nil
}

// FeedToken returns the secret token of user's calendar feed.
func (s *Service) FeedToken(ctx context.Context, q db.Querier, ws, user int64) (string, error) {
	w, err := platform.GetWorkspace(ctx, q, ws)
	if err != nil {
		return "", err
	}
	v, err := feedVersion(ctx, q, ws, user)
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("%d-%d-%s", user, v, feedMAC(w.SigningKey(), ws, user, v)), nil
}

// ResetFeed invalidates the actor's calendar feed URL and returns the new token.
func (s *Service) ResetFeed(ctx context.Context, a platform.Actor) (string, error) {
	if a.UserID == 0 {
		return "", errs.E(errs.Forbidden, "", "only a user has a calendar feed")
	}
	now := s.Clock.Now()
	err := s.DB.Write(ctx, "sales.ResetFeed", func(tx *db.Tx) error {
		if _, err := tx.ExecContext(ctx, `-- sales.ResetFeed
			INSERT INTO calendar_feeds (workspace_id, user_id, version, updated_at) VALUES (?, ?, 1, ?)
			ON CONFLICT (workspace_id, user_id) DO UPDATE SET version = calendar_feeds.version + 1, updated_at = excluded.updated_at`,
			a.WorkspaceID, a.UserID, db.Millis(now)); err != nil {
			return fmt.Errorf("sales.ResetFeed: %w", err)
		}
		return platform.Audit(ctx, tx, a, now, "reset", "calendar_feed", a.UserID, nil)
	})
	if err != nil {
		return "", err
	}
	return s.FeedToken(ctx, s.DB.Reader(), a.WorkspaceID, a.UserID)
}

// FeedUser finds the active user a feed token belongs to. Any token that is
// malformed, forged, reset or of an inactive user is not found.
func (s *Service) FeedUser(ctx context.Context, q db.Querier, ws int64, token string) (platform.User, error) {
	nf := errs.NotFoundf("calendar feed not found")
	parts := strings.SplitN(token, "-", 3)
	if len(token) > 200 || len(parts) != 3 {
		return platform.User{}, nf
	}
	user, err1 := strconv.ParseInt(parts[0], 10, 64)
	version, err2 := strconv.Atoi(parts[1])
	if err1 != nil || err2 != nil || user <= 0 || version < 0 {
		return platform.User{}, nf
	}
	w, err := platform.GetWorkspace(ctx, q, ws)
	if err != nil {
		return platform.User{}, err
	}
	cur, err := feedVersion(ctx, q, ws, user)
	if err != nil {
		return platform.User{}, err
	}
	if cur != version || !hmac.Equal([]byte(parts[2]), []byte(feedMAC(w.SigningKey(), ws, user, version))) {
		return platform.User{}, nf
	}
	u, err := platform.GetUser(ctx, q, ws, user)
	if err != nil || !u.Active {
		return platform.User{}, nf
	}
	return u, nil
}

// Feed window: past meetings stay visible for a while; tasks done long ago
// drop out.
const (
	feedPast     = 60 * 24 * time.Hour
	feedFuture   = 366 * 24 * time.Hour
	feedDoneKeep = 30 * 24 * time.Hour
)

// Calendar renders user's meetings (VEVENT) and dated tasks (VTODO) as an
// RFC 5545 iCalendar document, labels in lang.
func (s *Service) Calendar(ctx context.Context, q db.Querier, ws int64, u platform.User, lang i18n.Lang) ([]byte, error) {
	now := s.Clock.Now()
	w, err := platform.GetWorkspace(ctx, q, ws)
	if err != nil {
		return nil, err
	}
	meetings, err := queryItems(ctx, q, "sales.Calendar meetings", itemSelect("a.occurred_at")+`
		WHERE a.workspace_id = ? AND a.owner_id = ? AND a.kind IN ('meeting', 'demo') AND a.occurred_at >= ? AND a.occurred_at < ?
		ORDER BY a.occurred_at + 0, a.id LIMIT 2000`, ws, u.ID, db.Millis(now.Add(-feedPast)), db.Millis(now.Add(feedFuture)))
	if err != nil {
		return nil, err
	}
	tasks, err := queryItems(ctx, q, "sales.Calendar tasks", itemSelect("a.due_at")+`
		WHERE a.workspace_id = ? AND a.owner_id = ? AND a.kind = 'task' AND a.due_at IS NOT NULL AND (a.done_at IS NULL OR a.done_at >= ?)
		ORDER BY a.due_at, a.id LIMIT 2000`, ws, u.ID, db.Millis(now.Add(-feedDoneKeep)))
	if err != nil {
		return nil, err
	}
	base := strings.TrimRight(w.PublicBaseURL, "/")
	var c ical
	c.prop("BEGIN", "VCALENDAR")
	c.prop("VERSION", "2.0")
	c.prop("PRODID", "-//Ryorin//Ryorin sales calendar//"+strings.ToUpper(string(lang)))
	c.prop("CALSCALE", "GREGORIAN")
	c.prop("METHOD", "PUBLISH")
	c.prop("X-WR-CALNAME", Text(i18n.T(lang, "today.ical_name", "name", u.Name)))
	c.prop("REFRESH-INTERVAL;VALUE=DURATION", "PT1H")
	stamp := utc(now)
	for _, m := range meetings {
		dur := time.Duration(m.DurationSeconds) * time.Second
		if dur <= 0 {
			dur = time.Hour
		}
		c.prop("BEGIN", "VEVENT")
		c.prop("UID", fmt.Sprintf("activity-%d-%d@ryorin", ws, m.ID))
		c.prop("DTSTAMP", stamp)
		c.prop("DTSTART", utc(m.At))
		c.prop("DTEND", utc(m.At.Add(dur)))
		c.prop("SUMMARY", Text(summary(lang, m)))
		c.record(base, m)
		c.prop("END", "VEVENT")
	}
	for _, t := range tasks {
		c.prop("BEGIN", "VTODO")
		c.prop("UID", fmt.Sprintf("activity-%d-%d@ryorin", ws, t.ID))
		c.prop("DTSTAMP", stamp)
		c.prop("DUE", utc(t.At))
		c.prop("SUMMARY", Text(summary(lang, t)))
		if t.DoneAt != nil {
			c.prop("STATUS", "COMPLETED")
			c.prop("COMPLETED", utc(*t.DoneAt))
		} else {
			c.prop("STATUS", "NEEDS-ACTION")
		}
		c.record(base, t)
		c.prop("END", "VTODO")
	}
	c.prop("END", "VCALENDAR")
	return c.b.Bytes(), nil
}

// summary is an item's title: its subject (or its kind) and whom it is with.
func summary(lang i18n.Lang, it Item) string {
	title := it.Subject
	if title == "" {
		title = i18n.T(lang, "activity.kind."+it.Kind)
	}
	who := i18n.PersonName(lang, it.FamilyName, it.GivenName)
	if who == "" {
		who = it.Email
	}
	if it.CompanyName != "" {
		if who != "" {
			who += " · "
		}
		who += it.CompanyName
	}
	if who == "" {
		who = it.DealName
	}
	if who != "" {
		title += " — " + who
	}
	return title
}

// ical builds an iCalendar document line by line.
type ical struct{ b bytes.Buffer }

// record adds the link to the item's record (when the workspace has a
// public address) and its deal name.
func (c *ical) record(base string, it Item) {
	if it.DealName != "" {
		c.prop("DESCRIPTION", Text(it.DealName))
	}
	if base == "" {
		return
	}
	switch {
	case it.ContactID != 0:
		c.prop("URL", fmt.Sprintf("%s/contacts/%d", base, it.ContactID))
	case it.DealID != 0:
		c.prop("URL", fmt.Sprintf("%s/deals/%d", base, it.DealID))
	case it.CompanyID != 0:
		c.prop("URL", fmt.Sprintf("%s/companies/%d", base, it.CompanyID))
	}
}

// prop writes one content line, folded (RFC 5545 §3.1): no line is longer
// than 75 octets before its CRLF; continuation lines start with a space; a
// UTF-8 character is never split.
func (c *ical) prop(name, value string) {
	line := name + ":" + value
	limit := 75
	for len(line) > limit {
		cut := limit
		for cut > 0 && !utf8.RuneStart(line[cut]) {
			cut--
		}
		c.b.WriteString(line[:cut])
		c.b.WriteString("\r\n ")
		line = line[cut:]
		limit = 74 // the leading space counts
	}
	c.b.WriteString(line)
	c.b.WriteString("\r\n")
}

// Text escapes a TEXT value (RFC 5545 §3.3.11): backslash, semicolon, comma
// and line breaks; other control characters are dropped.
func Text(s string) string {
	var b strings.Builder
	s = strings.ReplaceAll(s, "\r\n", "\n")
	for _, r := range s {
		switch {
		case r == '\\':
			b.WriteString(`\\`)
		case r == ';':
			b.WriteString(`\;`)
		case r == ',':
			b.WriteString(`\,`)
		case r == '\n' || r == '\r':
			b.WriteString(`\n`)
		case r < 0x20 && r != '\t', r == 0x7f:
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

func utc(t time.Time) string { return t.UTC().Format("20060102T150405Z") }
