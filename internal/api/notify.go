package api

import (
	"net/http"
	"strconv"

	"github.com/ryorin/ryorin/internal/errs"
	"github.com/ryorin/ryorin/internal/httpx"
	"github.com/ryorin/ryorin/internal/platform"
)

// NotificationPage is a page of the signed-in user's notifications.
type NotificationPage struct {
	Items      []platform.StoredNotification `json:"items"`
	NextCursor string                        `json:"next_cursor,omitempty"`
}

// UnreadCountResponse is how many notifications are unread.
type UnreadCountResponse struct {
	Unread int `json:"unread"`
}

// MarkedResponse says how many notifications were marked read.
type MarkedResponse struct {
	Marked int `json:"marked"`
}

// NotificationPrefs are the signed-in user's notification preferences.
type NotificationPrefs struct {
	Defaults platform.NotificationPref   `json:"defaults" doc:"what every kind not listed in kinds follows"`
	Kinds    []platform.NotificationPref `json:"kinds"`
}

// NotificationPrefsRequest sets preferences for the kinds listed; other
// kinds keep theirs.
type NotificationPrefsRequest struct {
	Kinds []platform.NotificationPref `json:"kinds"`
}

// SMTPRequest sets the outbound mail server.
type SMTPRequest struct {
	Host        string `json:"host"`
	Port        int    `json:"port,omitempty" doc:"default 587 (starttls), 465 (tls) or 25 (none)"`
	Username    string `json:"username,omitempty"`
	Password    string `json:"password,omitempty" doc:"write-only; empty keeps the stored password"`
	TLS         string `json:"tls,omitempty" doc:"starttls (default), tls or none"`
	FromAddress string `json:"from_address"`
	FromName    string `json:"from_name,omitempty"`
}

// TestMailRequest names who gets the test message.
type TestMailRequest struct {
	To string `json:"to"`
}

// TestMailResponse reports a test message the server accepted.
type TestMailResponse struct {
	Sent bool   `json:"sent"`
	To   string `json:"to"`
}

func (s *Server) notifyRoutes() []op {
	listQ := append([]param{{"unread", "boolean", "only unread notifications"}}, listParams...)
	return []op{
		{Method: "GET", Path: "/api/v1/notifications", ID: "listNotifications", Summary: "My notifications, newest first", Tag: "Notifications", Resp: NotificationPage{}, Query: listQ, H: s.listNotifications},
		{Method: "GET", Path: "/api/v1/notifications/unread-count", ID: "unreadNotificationCount", Summary: "How many of my notifications are unread", Tag: "Notifications", Resp: UnreadCountResponse{}, H: s.unreadCount},
		{Method: "POST", Path: "/api/v1/notifications/{id}/read", ID: "markNotificationRead", Summary: "Mark a notification read", Tag: "Notifications", Resp: platform.StoredNotification{}, H: s.markRead},
		{Method: "POST", Path: "/api/v1/notifications/read-all", ID: "markAllNotificationsRead", Summary: "Mark all my notifications read", Tag: "Notifications", Resp: MarkedResponse{}, H: s.markAllRead},
		{Method: "GET", Path: "/api/v1/notification-prefs", ID: "getNotificationPrefs", Summary: "My notification preferences", Tag: "Notifications", Resp: NotificationPrefs{}, H: s.getPrefs},
		{Method: "PUT", Path: "/api/v1/notification-prefs", ID: "setNotificationPrefs", Summary: "Set my notification preferences", Tag: "Notifications", Body: NotificationPrefsRequest{}, Resp: NotificationPrefs{}, H: s.setPrefs},
		{Method: "GET", Path: "/api/v1/notification-channels", ID: "listNotificationChannels", Summary: "List chat channels (secrets redacted)", Tag: "Notifications", Resp: []platform.NotificationChannel{}, Roles: admin, H: s.listNotificationChannels},
		{Method: "POST", Path: "/api/v1/notification-channels", ID: "createNotificationChannel", Summary: "Add a Slack, Teams or Chatwork channel", Tag: "Notifications", Body: platform.ChannelInput{}, Resp: platform.NotificationChannel{}, Status: http.StatusCreated, Roles: admin, Idempotent: true, H: s.createNotificationChannel},
		{Method: "DELETE", Path: "/api/v1/notification-channels/{id}", ID: "deleteNotificationChannel", Summary: "Remove a chat channel", Tag: "Notifications", Status: http.StatusNoContent, Roles: admin, H: s.deleteNotificationChannel},
		{Method: "GET", Path: "/api/v1/settings/smtp", ID: "getSMTP", Summary: "Outbound mail server settings (never the password)", Tag: "Workspace", Resp: platform.SMTPView{}, Roles: admin, H: s.getSMTP},
		{Method: "PUT", Path: "/api/v1/settings/smtp", ID: "setSMTP", Summary: "Set the outbound mail server", Tag: "Workspace", Body: SMTPRequest{}, Resp: platform.SMTPView{}, Roles: admin, H: s.setSMTP},
		{Method: "POST", Path: "/api/v1/settings/smtp/test", ID: "sendTestMail", Summary: "Send a test message now (422 with the server's answer on failure)", Tag: "Workspace", Body: TestMailRequest{}, Resp: TestMailResponse{}, Roles: admin, H: s.sendTestMail},
	}
}

func (s *Server) listNotifications(w http.ResponseWriter, r *http.Request, a platform.Actor) (any, error) {
	q := r.URL.Query()
	unread := false
	if v := q.Get("unread"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return nil, errs.Field("unread", "must be true or false")
		}
		unread = b
	}
	var before int64
	if c := q.Get("cursor"); c != "" {
		_, id, ok := decodeTimeCursor(c)
		if !ok {
			return nil, httpx.Errorf("cursor", "is not a cursor this API returned")
		}
		before = id
	}
	lim, err := queryLimit(r)
	if err != nil {
		return nil, err
	}
	if lim == 0 {
		lim = 50
	}
	items, err := platform.ListNotifications(r.Context(), s.DB.Reader(), a.WorkspaceID, a.UserID, unread, before, lim)
	if err != nil {
		return nil, err
	}
	p := NotificationPage{Items: items}
	if len(items) == lim {
		last := items[len(items)-1]
		p.NextCursor = encodeTimeCursor(last.CreatedAt.UnixMilli(), last.ID)
	}
	return p, nil
}

func (s *Server) unreadCount(w http.ResponseWriter, r *http.Request, a platform.Actor) (any, error) {
	n, err := platform.UnreadCount(r.Context(), s.DB.Reader(), a.WorkspaceID, a.UserID)
	return UnreadCountResponse{Unread: n}, err
}

func (s *Server) markRead(w http.ResponseWriter, r *http.Request, a platform.Actor) (any, error) {
	id, err := pathID(r, "id")
	if err != nil {
		return nil, err
	}
	return platform.MarkRead(r.Context(), s.DB, a, id, s.Clock.Now())
}

func (s *Server) markAllRead(w http.ResponseWriter, r *http.Request, a platform.Actor) (any, error) {
	n, err := platform.MarkAllRead(r.Context(), s.DB, a, s.Clock.Now())
	return MarkedResponse{Marked: n}, err
}

func (s *Server) prefs(r *http.Request, a platform.Actor) (any, error) {
	kinds, err := platform.GetPrefs(r.Context(), s.DB.Reader(), a.WorkspaceID, a.UserID)
	if err != nil {
		return nil, err
	}
	d := platform.DefaultNotificationPref("")
	return NotificationPrefs{Defaults: d, Kinds: kinds}, nil
}

func (s *Server) getPrefs(w http.ResponseWriter, r *http.Request, a platform.Actor) (any, error) {
	return s.prefs(r, a)
}

func (s *Server) setPrefs(w http.ResponseWriter, r *http.Request, a platform.Actor) (any, error) {
	var in NotificationPrefsRequest
	if err := decode(w, r, &in); err != nil {
		return nil, err
	}
	if _, err := platform.SetPrefs(r.Context(), s.DB, a, in.Kinds); err != nil {
		return nil, err
	}
	return s.prefs(r, a)
}

func (s *Server) listNotificationChannels(w http.ResponseWriter, r *http.Request, a platform.Actor) (any, error) {
	return platform.ListNotificationChannels(r.Context(), s.DB.Reader(), a)
}

func (s *Server) createNotificationChannel(w http.ResponseWriter, r *http.Request, a platform.Actor) (any, error) {
	var in platform.ChannelInput
	if err := decode(w, r, &in); err != nil {
		return nil, err
	}
	return platform.SaveNotificationChannel(r.Context(), s.DB, a, 0, in, s.Clock.Now())
}

func (s *Server) deleteNotificationChannel(w http.ResponseWriter, r *http.Request, a platform.Actor) (any, error) {
	id, err := pathID(r, "id")
	if err != nil {
		return nil, err
	}
	return nil, platform.DeleteNotificationChannel(r.Context(), s.DB, a, id, s.Clock.Now())
}

func (s *Server) getSMTP(w http.ResponseWriter, r *http.Request, a platform.Actor) (any, error) {
	ws, err := platform.GetWorkspace(r.Context(), s.DB.Reader(), a.WorkspaceID)
	if err != nil {
		return nil, err
	}
	return ws.SMTP().View(), nil
}

func (s *Server) setSMTP(w http.ResponseWriter, r *http.Request, a platform.Actor) (any, error) {
	var in SMTPRequest
	if err := decode(w, r, &in); err != nil {
		return nil, err
	}
	return platform.SetSMTP(r.Context(), s.DB, a, platform.SMTPSettings{Host: in.Host, Port: in.Port, Username: in.Username,
		Password: in.Password, TLS: in.TLS, FromAddress: in.FromAddress, FromName: in.FromName}, s.Clock.Now())
}

func (s *Server) sendTestMail(w http.ResponseWriter, r *http.Request, a platform.Actor) (any, error) {
	var in TestMailRequest
	if err := decode(w, r, &in); err != nil {
		return nil, err
	}
	if s.Mailer == nil {
		return nil, errs.E(errs.Internal, "", "mail is not set up in this server")
	}
	if err := s.Mailer.SendTest(r.Context(), a.WorkspaceID, in.To); err != nil {
		return nil, err
	}
	return TestMailResponse{Sent: true, To: in.To}, nil
}
