package platform

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/ryorin/ryorin/internal/clock"
	"github.com/ryorin/ryorin/internal/db"
	"github.com/ryorin/ryorin/internal/errs"
)

// Notifications tell a user that something needs them. Each is stored for the
// in-app list; by the user's preferences for its kind it is also mailed to
// them, and posted to the workspace's chat channels (Slack, Microsoft Teams,
// Chatwork) that take that kind. A dedupe key makes notifying idempotent.
//
// Channel webhook URLs and tokens are secrets: they are never logged, never
// written to the audit log and never returned whole by the API.

// NotifyChatJob is the job kind that posts one notification to one channel.
const NotifyChatJob = "notify.chat"

// ChatworkAPI is Chatwork's API base URL.
const ChatworkAPI = "https://api.chatwork.com/v2"

// Notification is what to tell a user.
type Notification struct {
	Kind  string // e.g. "task.due", "deal.assigned"
	Title string
	Body  string
	Link  string // absolute, or a path under the workspace's public base URL
	// DedupeKey makes Notify idempotent per user: a second call with the same
	// key notifies nobody. Empty means the notification is never deduplicated.
	DedupeKey string
}

// StoredNotification is a notification in a user's in-app list.
type StoredNotification struct {
	ID        int64      `json:"id"`
	Kind      string     `json:"kind"`
	Title     string     `json:"title"`
	Body      string     `json:"body"`
	Link      string     `json:"link"`
	CreatedAt time.Time  `json:"created_at"`
	ReadAt    *time.Time `json:"read_at,omitempty"`
}

// NotificationPref is how a user wants notifications of one kind.
type NotificationPref struct {
	Kind  string `json:"kind"`
	InApp bool   `json:"in_app"`
	Email bool   `json:"email"`
	Chat  bool   `json:"chat"`
}

// emailByDefault are the kinds a user gets by email unless they turn it off:
// a lead assigned to them must not wait for the next time they open Ryorin.
var emailByDefault = map[string]bool{"lead.assigned": true}

// DefaultNotificationPref is the preference of a kind the user never set.
func DefaultNotificationPref(kind string) NotificationPref {
	return NotificationPref{Kind: kind, InApp: true, Email: emailByDefault[kind], Chat: true}
}

// Notifier creates notifications and delivers them.
type Notifier struct {
	DB     *db.DB
	Clock  clock.Clock
	Log    *slog.Logger
	Jobs   *Jobs
	Mailer *Mailer
	HTTP   *http.Client
	// ChatworkBaseURL overrides ChatworkAPI (tests).
	ChatworkBaseURL string
}

// Register registers the chat delivery job handler.
func (n *Notifier) Register() { n.Jobs.Handle(NotifyChatJob, n.handleChat) }

var notifyKind = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,63}$`)

// Notify notifies user userID of workspace ws inside tx. With a dedupe key
// already used for this user it does nothing and returns the earlier
// notification's id with created=false. A user who turned in-app off for the
// kind still gets the row (so dedupe holds), already marked read.
func (n *Notifier) Notify(ctx context.Context, tx *db.Tx, ws, userID int64, nt Notification) (id int64, created bool, err error) {
	if !notifyKind.MatchString(nt.Kind) {
		return 0, false, errs.Field("kind", "must be lower-case letters, digits, '.', '_' or '-'")
	}
	nt.Title = strings.TrimSpace(nt.Title)
	if nt.Title == "" {
		return 0, false, errs.Field("title", "is required")
	}
	if nt.DedupeKey == "" {
		nt.DedupeKey = "once:" + randomHex(12)
	}
	u, err := GetUser(ctx, tx, ws, userID)
	if err != nil {
		return 0, false, err
	}
	pref, err := notificationPref(ctx, tx, ws, userID, nt.Kind)
	if err != nil {
		return 0, false, err
	}
	now := n.Clock.Now()
	var readAt any
	if !pref.InApp {
		readAt = db.Millis(now)
	}
	err = tx.QueryRowContext(ctx, `-- platform.Notify
		INSERT INTO notifications (workspace_id, user_id, kind, title, body, link, dedupe_key, created_at, read_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (workspace_id, user_id, dedupe_key) DO NOTHING RETURNING id`,
		ws, userID, nt.Kind, nt.Title, nt.Body, nt.Link, nt.DedupeKey, db.Millis(now), readAt).Scan(&id)
	if db.NoRows(err) {
		err = tx.QueryRowContext(ctx, `-- platform.Notify.existing
			SELECT id FROM notifications WHERE workspace_id = ? AND user_id = ? AND dedupe_key = ?`, ws, userID, nt.DedupeKey).Scan(&id)
		if err != nil {
			return 0, false, fmt.Errorf("platform.Notify: %w", err)
		}
		return id, false, nil
	}
	if err != nil {
		return 0, false, fmt.Errorf("platform.Notify: %w", err)
	}
	if !u.Active {
		return id, true, nil
	}
	if pref.Email && n.Mailer != nil {
		link, err := absoluteLink(ctx, tx, ws, nt.Link)
		if err != nil {
			return 0, false, err
		}
		text := nt.Body
		if link != "" {
			text = strings.TrimSpace(text + "\n\n" + link)
		}
		if text == "" {
			text = nt.Title
		}
		if _, err := n.Mailer.Queue(ctx, tx, ws, OutboundMessage{Kind: "notification", To: u.Email, Subject: nt.Title, Text: text + "\n",
			RefType: "notification", RefID: id}); err != nil {
			return 0, false, err
		}
	}
	if pref.Chat {
		chans, err := listChannels(ctx, tx, ws)
		if err != nil {
			return 0, false, err
		}
		for _, c := range chans {
			if !c.Enabled || !c.takes(nt.Kind) {
				continue
			}
			key := "chat:" + strconv.FormatInt(id, 10) + ":" + strconv.FormatInt(c.ID, 10)
			if _, _, err := Enqueue(ctx, tx, ws, NotifyChatJob, chatJob{Notification: id, Channel: c.ID},
				EnqueueOptions{UniqueKey: key, MaxAttempts: 8}, now, n.Jobs); err != nil {
				return 0, false, err
			}
		}
	}
	return id, true, nil
}

// absoluteLink turns a path into a URL under the workspace's public base URL.
func absoluteLink(ctx context.Context, q db.Querier, ws int64, link string) (string, error) {
	if link == "" || strings.Contains(link, "://") {
		return link, nil
	}
	w, err := GetWorkspace(ctx, q, ws)
	if err != nil {
		return "", err
	}
	if w.PublicBaseURL == "" {
		return link, nil
	}
	return w.PublicBaseURL + "/" + strings.TrimLeft(link, "/"), nil
}

const notificationCols = `id, kind, title, body, link, created_at, read_at`

func scanNotification(s interface{ Scan(...any) error }) (StoredNotification, error) {
	var x StoredNotification
	var c int64
	var r *int64
	err := s.Scan(&x.ID, &x.Kind, &x.Title, &x.Body, &x.Link, &c, &r)
	x.CreatedAt = db.Time(c)
	if r != nil {
		t := db.Time(*r)
		x.ReadAt = &t
	}
	return x, err
}

// ListNotifications returns a user's notifications, newest first: those with
// an id below beforeID when it is not zero, only unread ones if asked.
func ListNotifications(ctx context.Context, q db.Querier, ws, userID int64, unreadOnly bool, beforeID int64, limit int) ([]StoredNotification, error) {
	sql := `-- platform.ListNotifications
		SELECT ` + notificationCols + ` FROM notifications WHERE workspace_id = ? AND user_id = ?`
	args := []any{ws, userID}
	if unreadOnly {
		sql += ` AND read_at IS NULL`
	}
	if beforeID > 0 {
		sql += ` AND id < ?`
		args = append(args, beforeID)
	}
	if limit <= 0 || limit > 200 {
		limit = 50
	}
	sql += ` ORDER BY id DESC LIMIT ?`
	args = append(args, limit)
	rows, err := q.QueryContext(ctx, sql, args...)
	if err != nil {
		return nil, fmt.Errorf("platform.ListNotifications: %w", err)
	}
	defer rows.Close()
	out := []StoredNotification{}
	for rows.Next() {
		x, err := scanNotification(rows)
		if err != nil {
			return nil, fmt.Errorf("platform.ListNotifications: %w", err)
		}
		out = append(out, x)
	}
	return out, rows.Err()
}

// UnreadCount returns how many unread notifications a user has.
func UnreadCount(ctx context.Context, q db.Querier, ws, userID int64) (int, error) {
	var n int
	err := q.QueryRowContext(ctx, `-- platform.UnreadCount
		SELECT COUNT(*) FROM notifications WHERE workspace_id = ? AND user_id = ? AND read_at IS NULL`, ws, userID).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("platform.UnreadCount: %w", err)
	}
	return n, nil
}

// MarkRead marks one of the actor's own notifications read.
func MarkRead(ctx context.Context, d *db.DB, a Actor, id int64, now time.Time) (StoredNotification, error) {
	var out StoredNotification
	err := d.Write(ctx, "platform.MarkRead", func(tx *db.Tx) error {
		if _, err := tx.ExecContext(ctx, `-- platform.MarkRead
			UPDATE notifications SET read_at = ? WHERE workspace_id = ? AND user_id = ? AND id = ? AND read_at IS NULL`,
			db.Millis(now), a.WorkspaceID, a.UserID, id); err != nil {
			return fmt.Errorf("platform.MarkRead: %w", err)
		}
		var err error
		out, err = scanNotification(tx.QueryRowContext(ctx, `-- platform.MarkRead.get
			SELECT `+notificationCols+` FROM notifications WHERE workspace_id = ? AND user_id = ? AND id = ?`, a.WorkspaceID, a.UserID, id))
		if db.NoRows(err) {
			return errs.NotFoundf("notification %d not found", id)
		}
		return err
	})
	return out, err
}

// MarkAllRead marks all the actor's notifications read and returns how many
// were unread.
func MarkAllRead(ctx context.Context, d *db.DB, a Actor, now time.Time) (int, error) {
	var n int64
	err := d.Write(ctx, "platform.MarkAllRead", func(tx *db.Tx) error {
		res, err := tx.ExecContext(ctx, `-- platform.MarkAllRead
			UPDATE notifications SET read_at = ? WHERE workspace_id = ? AND user_id = ? AND read_at IS NULL`,
			db.Millis(now), a.WorkspaceID, a.UserID)
		if err != nil {
			return fmt.Errorf("platform.MarkAllRead: %w", err)
		}
		n, err = res.RowsAffected()
		return err
	})
	return int(n), err
}

func notificationPref(ctx context.Context, q db.Querier, ws, userID int64, kind string) (NotificationPref, error) {
	p := NotificationPref{Kind: kind}
	err := q.QueryRowContext(ctx, `-- platform.notificationPref
		SELECT in_app, email, chat FROM notification_prefs WHERE workspace_id = ? AND user_id = ? AND kind = ?`,
		ws, userID, kind).Scan(&p.InApp, &p.Email, &p.Chat)
	if db.NoRows(err) {
		return DefaultNotificationPref(kind), nil
	}
	if err != nil {
		return p, fmt.Errorf("platform.notificationPref: %w", err)
	}
	return p, nil
}

// GetPrefs returns the preferences a user has set, by kind. Kinds not listed
// follow DefaultNotificationPref.
func GetPrefs(ctx context.Context, q db.Querier, ws, userID int64) ([]NotificationPref, error) {
	rows, err := q.QueryContext(ctx, `-- platform.GetPrefs
		SELECT kind, in_app, email, chat FROM notification_prefs WHERE workspace_id = ? AND user_id = ? ORDER BY kind`, ws, userID)
	if err != nil {
		return nil, fmt.Errorf("platform.GetPrefs: %w", err)
	}
	defer rows.Close()
	out := []NotificationPref{}
	for rows.Next() {
		var p NotificationPref
		if err := rows.Scan(&p.Kind, &p.InApp, &p.Email, &p.Chat); err != nil {
			return nil, fmt.Errorf("platform.GetPrefs: %w", err)
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

// SetPrefs stores the actor's own preferences for the kinds given; other
// kinds keep theirs. It returns all the actor's stored preferences.
func SetPrefs(ctx context.Context, d *db.DB, a Actor, prefs []NotificationPref) ([]NotificationPref, error) {
	if a.UserID == 0 {
		return nil, errs.E(errs.Forbidden, "", "only users have notification preferences")
	}
	for i, p := range prefs {
		if !notifyKind.MatchString(p.Kind) {
			return nil, errs.Field(fmt.Sprintf("kinds[%d].kind", i), "must be lower-case letters, digits, '.', '_' or '-'")
		}
	}
	var out []NotificationPref
	err := d.Write(ctx, "platform.SetPrefs", func(tx *db.Tx) error {
		for _, p := range prefs {
			if _, err := tx.ExecContext(ctx, `-- platform.SetPrefs
				INSERT INTO notification_prefs (workspace_id, user_id, kind, in_app, email, chat) VALUES (?, ?, ?, ?, ?, ?)
				ON CONFLICT (workspace_id, user_id, kind) DO UPDATE SET in_app = excluded.in_app, email = excluded.email, chat = excluded.chat`,
				a.WorkspaceID, a.UserID, p.Kind, p.InApp, p.Email, p.Chat); err != nil {
				return fmt.Errorf("platform.SetPrefs: %w", err)
			}
		}
		var err error
		out, err = GetPrefs(ctx, tx, a.WorkspaceID, a.UserID)
		return err
	})
	return out, err
}

// Chat channel kinds (NotificationChannel.Kind).
const (
	ChatSlack    = "slack"
	ChatTeams    = "teams"
	ChatChatwork = "chatwork"
)

// NotificationChannel is a chat destination as shown to admins: the webhook
// URL and the token are secrets, shown only as a short hint.
type NotificationChannel struct {
	ID       int64     `json:"id"`
	Kind     string    `json:"kind" doc:"slack, teams or chatwork"`
	Name     string    `json:"name"`
	URLHint  string    `json:"url_hint" doc:"the webhook host and its last characters; for Chatwork, the room id"`
	TokenSet bool      `json:"token_set"`
	Kinds    []string  `json:"kinds" doc:"notification kinds posted here; empty means all"`
	Enabled  bool      `json:"enabled"`
	Created  time.Time `json:"created_at"`

	url, token string
}

// ChannelInput creates or changes a chat channel. For Slack and Teams, URL is
// the incoming-webhook URL. For Chatwork, URL is the room: its id, or the
// room's address in the browser (…/#!rid123456); Token is the API token sent
// as X-ChatWorkToken. On update, an empty URL or Token keeps the stored one.
type ChannelInput struct {
	Kind    string   `json:"kind" doc:"slack, teams or chatwork"`
	Name    string   `json:"name"`
	URL     string   `json:"url,omitempty" doc:"webhook URL (Slack, Teams) or room id / room URL (Chatwork); secret, write-only"`
	Token   string   `json:"token,omitempty" doc:"Chatwork API token; secret, write-only"`
	Kinds   []string `json:"kinds,omitempty" doc:"notification kinds to post; empty means all"`
	Enabled *bool    `json:"enabled,omitempty" doc:"default true"`
}

func (c NotificationChannel) takes(kind string) bool {
	if len(c.Kinds) == 0 {
		return true
	}
	for _, k := range c.Kinds {
		if k == kind {
			return true
		}
	}
	return false
}

func hint(url, kind string) string {
	if kind == ChatChatwork {
		return "room " + url
	}
	host := ""
	if i := strings.Index(url, "://"); i >= 0 {
		host = url[i+3:]
		if j := strings.IndexByte(host, '/'); j >= 0 {
			host = host[:j]
		}
	}
	if len(url) <= 12 {
		return host + "/…"
	}
	return host + "/…" + url[len(url)-4:]
}

const channelCols = `id, kind, name, url, token, kinds, enabled, created_at`

func scanChannel(s interface{ Scan(...any) error }) (NotificationChannel, error) {
	var c NotificationChannel
	var kinds string
	var created int64
	err := s.Scan(&c.ID, &c.Kind, &c.Name, &c.url, &c.token, &kinds, &c.Enabled, &created)
	c.Kinds = splitList(kinds)
	c.Created = db.Time(created)
	c.URLHint = hint(c.url, c.Kind)
	c.TokenSet = c.token != ""
	return c, err
}

func listChannels(ctx context.Context, q db.Querier, ws int64) ([]NotificationChannel, error) {
	rows, err := q.QueryContext(ctx, `-- platform.ListNotificationChannels
		SELECT `+channelCols+` FROM notification_channels WHERE workspace_id = ? ORDER BY name, id`, ws)
	if err != nil {
		return nil, fmt.Errorf("platform.ListNotificationChannels: %w", err)
	}
	defer rows.Close()
	out := []NotificationChannel{}
	for rows.Next() {
		c, err := scanChannel(rows)
		if err != nil {
			return nil, fmt.Errorf("platform.ListNotificationChannels: %w", err)
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

func getChannel(ctx context.Context, q db.Querier, ws, id int64) (NotificationChannel, error) {
	c, err := scanChannel(q.QueryRowContext(ctx, `-- platform.getChannel
		SELECT `+channelCols+` FROM notification_channels WHERE workspace_id = ? AND id = ?`, ws, id))
	if db.NoRows(err) {
		return c, errs.NotFoundf("notification channel %d not found", id)
	}
	if err != nil {
		return c, fmt.Errorf("platform.getChannel(%d): %w", id, err)
	}
	return c, nil
}

// ListNotificationChannels returns the workspace's chat channels, secrets redacted.
// Only admins may.
func ListNotificationChannels(ctx context.Context, q db.Querier, a Actor) ([]NotificationChannel, error) {
	if !a.Is(RoleAdmin) {
		return nil, errs.E(errs.Forbidden, "", "only admins manage notification channels")
	}
	return listChannels(ctx, q, a.WorkspaceID)
}

var chatworkRoom = regexp.MustCompile(`^(?:https?://[^#]*#!rid)?([0-9]{1,20})$`)

// SaveNotificationChannel creates (id 0) or changes a chat channel. Only admins may. The
// audit log records its name, kind, kinds and whether it is enabled, never
// its URL or token.
func SaveNotificationChannel(ctx context.Context, d *db.DB, a Actor, id int64, in ChannelInput, now time.Time) (NotificationChannel, error) {
	if !a.Is(RoleAdmin) {
		return NotificationChannel{}, errs.E(errs.Forbidden, "", "only admins manage notification channels")
	}
	in.Name = strings.TrimSpace(in.Name)
	if in.Name == "" {
		return NotificationChannel{}, errs.Field("name", "is required")
	}
	switch in.Kind {
	case ChatSlack, ChatTeams, ChatChatwork:
	default:
		return NotificationChannel{}, errs.Field("kind", "must be slack, teams or chatwork")
	}
	in.URL, in.Token = strings.TrimSpace(in.URL), strings.TrimSpace(in.Token)
	if in.URL != "" || id == 0 {
		if in.Kind == ChatChatwork {
			m := chatworkRoom.FindStringSubmatch(in.URL)
			if m == nil {
				return NotificationChannel{}, errs.Field("url", "must be a Chatwork room id or the room's URL (…#!rid123456)")
			}
			in.URL = m[1]
		} else if u, err := url.Parse(in.URL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			return NotificationChannel{}, errs.Field("url", "must be an http(s) webhook URL")
		}
	}
	if strings.ContainsAny(in.Token, "\r\n") {
		return NotificationChannel{}, errs.Field("token", "must be one line")
	}
	kinds := []string{}
	for i, k := range in.Kinds {
		if k = strings.TrimSpace(k); k == "" {
			continue
		}
		if !notifyKind.MatchString(k) {
			return NotificationChannel{}, errs.Field(fmt.Sprintf("kinds[%d]", i), "is not a notification kind")
		}
		kinds = append(kinds, k)
	}
	enabled := in.Enabled == nil || *in.Enabled
	var out NotificationChannel
	err := d.Write(ctx, "platform.SaveNotificationChannel", func(tx *db.Tx) error {
		action := "create"
		if id == 0 {
			if in.Kind == ChatChatwork && in.Token == "" {
				return errs.Field("token", "a Chatwork API token is required")
			}
			err := tx.QueryRowContext(ctx, `-- platform.SaveNotificationChannel
				INSERT INTO notification_channels (workspace_id, kind, name, url, token, kinds, enabled, created_at)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
				a.WorkspaceID, in.Kind, in.Name, in.URL, in.Token, strings.Join(kinds, ","), enabled, db.Millis(now)).Scan(&id)
			if err != nil {
				return fmt.Errorf("platform.SaveNotificationChannel: %w", err)
			}
		} else {
			action = "update"
			old, err := getChannel(ctx, tx, a.WorkspaceID, id)
			if err != nil {
				return err
			}
			if in.URL == "" {
				if old.Kind != in.Kind {
					return errs.Field("url", "is required when changing the channel kind")
				}
				in.URL = old.url
			}
			if in.Token == "" {
				in.Token = old.token
			}
			if _, err := tx.ExecContext(ctx, `-- platform.SaveNotificationChannel.update
				UPDATE notification_channels SET kind = ?, name = ?, url = ?, token = ?, kinds = ?, enabled = ?
				WHERE workspace_id = ? AND id = ?`, in.Kind, in.Name, in.URL, in.Token, strings.Join(kinds, ","), enabled,
				a.WorkspaceID, id); err != nil {
				return fmt.Errorf("platform.SaveNotificationChannel: %w", err)
			}
		}
		var err error
		if out, err = getChannel(ctx, tx, a.WorkspaceID, id); err != nil {
			return err
		}
		return Audit(ctx, tx, a, now, action, "notification_channel", id,
			map[string]any{"name": out.Name, "kind": out.Kind, "kinds": out.Kinds, "enabled": out.Enabled})
	})
	return out, err
}

// DeleteNotificationChannel removes a chat channel. Only admins may.
func DeleteNotificationChannel(ctx context.Context, d *db.DB, a Actor, id int64, now time.Time) error {
	if !a.Is(RoleAdmin) {
		return errs.E(errs.Forbidden, "", "only admins manage notification channels")
	}
	return d.Write(ctx, "platform.DeleteNotificationChannel", func(tx *db.Tx) error {
		c, err := getChannel(ctx, tx, a.WorkspaceID, id)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `-- platform.DeleteNotificationChannel
			DELETE FROM notification_channels WHERE workspace_id = ? AND id = ?`, a.WorkspaceID, id); err != nil {
			return fmt.Errorf("platform.DeleteNotificationChannel: %w", err)
		}
		return Audit(ctx, tx, a, now, "delete", "notification_channel", id, map[string]any{"name": c.Name, "kind": c.Kind})
	})
}

type chatJob struct {
	Notification int64 `json:"notification"`
	Channel      int64 `json:"channel"`
}

// handleChat posts one notification to one channel. A reclaimed job (its
// worker died mid-post) is not posted again: the post may have gone
// through, and the user still has it in the app. 429 and 5xx answers and
// network errors are retried; other 4xx answers fail at once.
func (n *Notifier) handleChat(ctx context.Context, j Job) error {
	var p chatJob
	if err := j.Decode(&p); err != nil {
		return Permanent(fmt.Errorf("notify.chat payload: %w", err))
	}
	if j.Reclaimed {
		return Unknown(errors.New("an earlier attempt was interrupted mid-post; not posting again"))
	}
	c, err := getChannel(ctx, n.DB.Reader(), j.WorkspaceID, p.Channel)
	if errs.Is(err, errs.NotFound) {
		return nil // the channel was deleted since
	}
	if err != nil {
		return err
	}
	if !c.Enabled {
		return nil
	}
	nt, err := scanNotification(n.DB.Reader().QueryRowContext(ctx, `-- platform.handleChat
		SELECT `+notificationCols+` FROM notifications WHERE workspace_id = ? AND id = ?`, j.WorkspaceID, p.Notification))
	if db.NoRows(err) {
		return nil // deleted with its user
	}
	if err != nil {
		return err
	}
	link, err := absoluteLink(ctx, n.DB.Reader(), j.WorkspaceID, nt.Link)
	if err != nil {
		return err
	}
	rest := nt.Body
	if link != "" {
		rest = strings.TrimSpace(rest + "\n" + link)
	}
	text := strings.TrimSpace(nt.Title + "\n" + rest)
	var req *http.Request
	switch c.Kind {
	case ChatChatwork:
		base := n.ChatworkBaseURL
		if base == "" {
			base = ChatworkAPI
		}
		form := url.Values{"body": {"[info][title]" + nt.Title + "[/title]" + rest + "[/info]"}}
		req, err = http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimRight(base, "/")+"/rooms/"+url.PathEscape(c.url)+"/messages",
			strings.NewReader(form.Encode()))
		if err == nil {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.Header.Set("X-ChatWorkToken", c.token)
		}
	default: // Slack and Teams incoming webhooks both take {"text": …}
		b, _ := json.Marshal(map[string]string{"text": text})
		req, err = http.NewRequestWithContext(ctx, http.MethodPost, c.url, bytes.NewReader(b))
		if err == nil {
			req.Header.Set("Content-Type", "application/json")
		}
	}
	if err != nil {
		// The error would quote the URL, which is secret.
		return Permanent(fmt.Errorf("%s channel %d: the stored URL is not usable", c.Kind, c.ID))
	}
	hc := n.HTTP
	if hc == nil {
		hc = &http.Client{Timeout: 20 * time.Second}
	}
	res, err := hc.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // url.Error quotes the secret URL
		}
		return fmt.Errorf("%s channel %d: %v", c.Kind, c.ID, err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(res.Body, 512))
	if res.StatusCode >= 200 && res.StatusCode < 300 {
		return nil
	}
	err = fmt.Errorf("%s channel %d: HTTP %d: %s", c.Kind, c.ID, res.StatusCode, strings.TrimSpace(string(body)))
	if res.StatusCode == http.StatusTooManyRequests || res.StatusCode >= 500 || res.StatusCode == http.StatusRequestTimeout {
		return err
	}
	return Permanent(err)
}
