package web

import (
	"net/http"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/ryorin/ryorin/internal/errs"
	"github.com/ryorin/ryorin/internal/platform"
	"github.com/ryorin/ryorin/internal/salesmail"
)

// notifyKinds are the notification kinds a user can tune; kinds the user has
// stored preferences for are listed too.
var notifyKinds = []string{"deal.won", "form.submitted", "task.due", "journey.notify", "plan.behind", "issue.opened", "deal.renewal_created", "content.viewed"}

// timeZones are offered as suggestions on the profile and workspace forms.
var timeZones = []string{"Asia/Tokyo", "Asia/Seoul", "Asia/Shanghai", "Asia/Taipei", "Asia/Singapore", "Asia/Bangkok",
	"Asia/Kolkata", "Australia/Sydney", "Europe/London", "Europe/Paris", "Europe/Berlin", "America/New_York",
	"America/Chicago", "America/Los_Angeles", "UTC"}

// ProfilePage is the data of the signed-in user's own settings.
type ProfilePage struct {
	Page
	In          map[string]string
	Errors      FormErrors
	PwErrors    FormErrors
	TOTPErrors  FormErrors
	TOTPSecret  string
	TOTPURI     string
	TOTPPending bool
	Prefs       []platform.NotificationPref
	TimeZones   []string
	// Reply is the user's reply address for sales email (nil without it).
	Reply *ReplyBox
}

// ReplyBox shows a rep's personal reply address and, to admins, the
// workspace's inbound domain.
type ReplyBox struct {
	Address       string
	InboundDomain string
	IsAdmin       bool
}

// KindLabel is the label of a notification kind.
func (p Page) KindLabel(kind string) string {
	key := "settings.notify_kind." + kind
	if v := p.T(key); v != key {
		return v
	}
	return kind
}

func (s *Server) loadProfile(r *http.Request, c *rctx) (*ProfilePage, error) {
	data := &ProfilePage{Page: s.base(c, c.Lang, "settings.profile.title", "settings"), Errors: FormErrors{}, PwErrors: FormErrors{},
		TOTPErrors: FormErrors{}, TimeZones: timeZones,
		In: map[string]string{"name": c.User.Name, "locale": c.User.Locale, "time_zone": c.User.TimeZone}}
	stored, err := platform.GetPrefs(r.Context(), s.DB.Reader(), c.Actor.WorkspaceID, c.User.ID)
	if err != nil {
		return nil, err
	}
	byKind := map[string]platform.NotificationPref{}
	for _, p := range stored {
		byKind[p.Kind] = p
	}
	kinds := append([]string{}, notifyKinds...)
	for k := range byKind {
		if !slices.Contains(kinds, k) {
			kinds = append(kinds, k)
		}
	}
	sort.Strings(kinds)
	for _, k := range kinds {
		p, ok := byKind[k]
		if !ok {
			p = platform.DefaultNotificationPref(k)
		}
		data.Prefs = append(data.Prefs, p)
	}
	if s.SalesMail != nil {
		st, err := salesmail.GetSettings(r.Context(), s.DB.Reader(), c.Actor.WorkspaceID)
		if err != nil {
			return nil, err
		}
		addr, err := s.SalesMail.MyReplyAddress(r.Context(), c.Actor)
		if err != nil {
			return nil, err
		}
		data.Reply = &ReplyBox{Address: addr, InboundDomain: st.InboundDomain, IsAdmin: c.Actor.Is(platform.RoleAdmin)}
	}
	return data, nil
}

func (s *Server) profilePage(w http.ResponseWriter, r *http.Request, c *rctx) error {
	data, err := s.loadProfile(r, c)
	if err != nil {
		return err
	}
	return s.show(w, c, "settings_profile", data)
}

func (s *Server) saveProfile(w http.ResponseWriter, r *http.Request, c *rctx) error {
	if err := r.ParseForm(); err != nil {
		return errs.Field("", "bad form")
	}
	name, locale, tz := r.PostFormValue("name"), r.PostFormValue("locale"), strings.TrimSpace(r.PostFormValue("time_zone"))
	p := platform.UserPatch{Name: &name, Locale: &locale, TimeZone: &tz}
	_, err := platform.UpdateUser(r.Context(), s.DB, c.Actor, c.User.ID, p, s.Clock.Now())
	if fe, ok := formErrors(c.Lang, err, "name", "locale", "time_zone"); ok {
		data, lerr := s.loadProfile(r, c)
		if lerr != nil {
			return lerr
		}
		data.In, data.Errors = formValues(r), fe
		w.WriteHeader(http.StatusUnprocessableEntity)
		return s.show(w, c, "settings_profile", data)
	}
	if err != nil {
		return err
	}
	return s.saved(w, r, c, "common.saved", "/settings/profile")
}

// changePassword sets a new password after checking the current one. The
// session the change is made from stays signed in.
func (s *Server) changePassword(w http.ResponseWriter, r *http.Request, c *rctx) error {
	current, pw, pw2 := r.PostFormValue("current"), r.PostFormValue("password"), r.PostFormValue("password2")
	fe := FormErrors{}
	now := s.Clock.Now()
	switch {
	case !s.loginEmail.Allow(c.User.Email, now):
		fe[""] = i18nT(c, "auth.rate_limited")
	case pw != pw2:
		fe["password2"] = i18nT(c, "auth.passwords_differ")
	default:
		if _, err := platform.Login(r.Context(), s.DB, c.Actor.WorkspaceID, c.User.Email, current); err != nil {
			fe["current"] = i18nT(c, "settings.profile.current_wrong")
			break
		}
		keep := ""
		if ck, cerr := r.Cookie(platform.SessionCookie); cerr == nil {
			keep = ck.Value
		}
		err := platform.SetPassword(r.Context(), s.DB, c.Actor, c.User.ID, pw, now, keep)
		if got, ok := formErrors(c.Lang, err, "password"); ok {
			fe = got
		} else if err != nil {
			return err
		}
	}
	if len(fe) > 0 {
		data, err := s.loadProfile(r, c)
		if err != nil {
			return err
		}
		data.PwErrors = fe
		w.WriteHeader(http.StatusUnprocessableEntity)
		return s.show(w, c, "settings_profile", data)
	}
	return s.saved(w, r, c, "settings.profile.password_changed", "/settings/profile")
}

// beginTOTP starts two-factor set-up: the new secret is shown once, as text.
func (s *Server) beginTOTP(w http.ResponseWriter, r *http.Request, c *rctx) error {
	secret, err := platform.BeginTOTP(r.Context(), s.DB, c.Actor)
	if err != nil {
		return err
	}
	data, err := s.loadProfile(r, c)
	if err != nil {
		return err
	}
	data.User.TOTPEnabled = false
	data.TOTPSecret, data.TOTPURI, data.TOTPPending = secret, platform.TOTPURI(secret, c.User.Email), true
	return s.show(w, c, "settings_profile", data)
}

func (s *Server) enableTOTP(w http.ResponseWriter, r *http.Request, c *rctx) error {
	err := platform.EnableTOTP(r.Context(), s.DB, c.Actor, r.PostFormValue("code"), s.Clock.Now())
	if fe, ok := formErrors(c.Lang, err, "code"); ok {
		data, lerr := s.loadProfile(r, c)
		if lerr != nil {
			return lerr
		}
		data.TOTPErrors, data.TOTPPending = fe, true
		w.WriteHeader(http.StatusUnprocessableEntity)
		return s.show(w, c, "settings_profile", data)
	}
	if err != nil {
		return err
	}
	return s.saved(w, r, c, "settings.profile.totp_enabled", "/settings/profile")
}

func (s *Server) savePrefs(w http.ResponseWriter, r *http.Request, c *rctx) error {
	if err := r.ParseForm(); err != nil {
		return errs.Field("", "bad form")
	}
	var prefs []platform.NotificationPref
	for _, k := range r.PostForm["kind"] {
		prefs = append(prefs, platform.NotificationPref{Kind: k, InApp: r.PostFormValue("in_app."+k) != "",
			Email: r.PostFormValue("email."+k) != "", Chat: r.PostFormValue("chat."+k) != ""})
	}
	if _, err := platform.SetPrefs(r.Context(), s.DB, c.Actor, prefs); err != nil {
		return err
	}
	return s.saved(w, r, c, "common.saved", "/settings/profile")
}

// TokensPage is the data of the user's API tokens.
type TokensPage struct {
	Page
	Tokens []platform.APIToken
	In     map[string]string
	Errors FormErrors
}

// TokenCreatedPage shows a new token's secret, once.
type TokenCreatedPage struct {
	Page
	Token  platform.APIToken
	Secret string
}

func (s *Server) loadTokens(r *http.Request, c *rctx) (*TokensPage, error) {
	data := &TokensPage{Page: s.base(c, c.Lang, "settings.tokens.title", "settings"), In: map[string]string{}, Errors: FormErrors{}}
	var err error
	data.Tokens, err = platform.ListTokens(r.Context(), s.DB.Reader(), c.Actor.WorkspaceID, c.User.ID)
	return data, err
}

func (s *Server) tokensPage(w http.ResponseWriter, r *http.Request, c *rctx) error {
	data, err := s.loadTokens(r, c)
	if err != nil {
		return err
	}
	return s.show(w, c, "settings_tokens", data)
}

func (s *Server) createToken(w http.ResponseWriter, r *http.Request, c *rctx) error {
	var expires *time.Time
	if v := r.PostFormValue("expires"); v != "" {
		d, err := time.ParseInLocation(time.DateOnly, v, c.Loc)
		if err != nil || !d.After(c.Now) {
			data, lerr := s.loadTokens(r, c)
			if lerr != nil {
				return lerr
			}
			data.In, data.Errors = formValues(r), FormErrors{"expires": i18nT(c, "settings.tokens.expires_bad")}
			w.WriteHeader(http.StatusUnprocessableEntity)
			return s.show(w, c, "settings_tokens", data)
		}
		expires = &d
	}
	t, secret, err := platform.CreateToken(r.Context(), s.DB, c.Actor, c.User.ID, r.PostFormValue("name"), expires, s.Clock.Now())
	if err != nil {
		return err
	}
	return s.show(w, c, "settings_token_created", &TokenCreatedPage{Page: s.base(c, c.Lang, "settings.tokens.created_title", "settings"),
		Token: t, Secret: secret})
}

func (s *Server) revokeToken(w http.ResponseWriter, r *http.Request, c *rctx) error {
	if err := platform.RevokeToken(r.Context(), s.DB, c.Actor, formInt(r.PathValue("id")), s.Clock.Now()); err != nil {
		return err
	}
	return s.saved(w, r, c, "settings.tokens.revoked", "/settings/tokens")
}
