package web

import (
	"net/http"
	"strings"

	"github.com/ryorin/ryorin/internal/errs"
	"github.com/ryorin/ryorin/internal/httpx"
	"github.com/ryorin/ryorin/internal/i18n"
	"github.com/ryorin/ryorin/internal/platform"
)

// LoginPage is the data of the sign-in pages.
type LoginPage struct {
	Page
	Next  string
	Email string
	Error string
}

// SetupPage is the data of the first-admin page.
type SetupPage struct {
	Page
	Name, Email, Error string
}

// publicLang is the language of a page shown before sign-in: ?lang=, else
// the browser's.
func publicLang(r *http.Request) i18n.Lang {
	if l, ok := i18n.Parse(r.URL.Query().Get("lang")); ok {
		return l
	}
	if c, err := r.Cookie("ryorin_lang"); err == nil {
		if l, ok := i18n.Parse(c.Value); ok {
			return l
		}
	}
	return i18n.FromAcceptLanguage(r.Header.Get("Accept-Language"), i18n.JA)
}

func (s *Server) loginPage(w http.ResponseWriter, r *http.Request) {
	has, err := platform.HasUsers(r.Context(), s.DB.Reader(), s.Workspace)
	if err == nil && !has {
		http.Redirect(w, r, "/setup", http.StatusSeeOther)
		return
	}
	lang := publicLang(r)
	if l := r.URL.Query().Get("lang"); l != "" {
		http.SetCookie(w, &http.Cookie{Name: "ryorin_lang", Value: string(lang), Path: "/", MaxAge: 365 * 86400, SameSite: http.SameSiteLaxMode})
	}
	_ = s.render(w, "login", &LoginPage{Page: s.base(nil, lang, "auth.login_title", ""), Next: localPath(r.URL.Query().Get("next"))})
}

func (s *Server) login(w http.ResponseWriter, r *http.Request) {
	lang := publicLang(r)
	email, pw, next := strings.TrimSpace(r.PostFormValue("email")), r.PostFormValue("password"), localPath(r.PostFormValue("next"))
	data := &LoginPage{Page: s.base(nil, lang, "auth.login_title", ""), Next: next, Email: email}
	now := s.Clock.Now()
	ws, _ := platform.GetWorkspace(r.Context(), s.DB.Reader(), s.Workspace)
	ip := httpx.ClientIP(r, ws.TrustedProxies)
	norm, _ := platform.NormalizeEmail(email)
	if !s.loginIP.Allow(ip, now) || !s.loginEmail.Allow(norm, now) {
		data.Error = data.T("auth.rate_limited")
		w.WriteHeader(http.StatusTooManyRequests)
		_ = s.render(w, "login", data)
		return
	}
	u, err := platform.Login(r.Context(), s.DB, s.Workspace, email, pw)
	if err != nil {
		data.Error = data.T("auth.wrong")
		w.WriteHeader(http.StatusUnauthorized)
		_ = s.render(w, "login", data)
		return
	}
	id, err := platform.CreateSession(r.Context(), s.DB, s.Workspace, u.ID, u.TOTPEnabled, ip, r.UserAgent(), now)
	if err != nil {
		s.fail(w, r, nil, err)
		return
	}
	s.setSession(w, id)
	if u.TOTPEnabled {
		http.Redirect(w, r, "/login/totp?next="+urlQueryEscape(next), http.StatusSeeOther)
		return
	}
	http.Redirect(w, r, next, http.StatusSeeOther)
}

func (s *Server) setSession(w http.ResponseWriter, id string) {
	http.SetCookie(w, &http.Cookie{Name: platform.SessionCookie, Value: id, Path: "/", MaxAge: int(platform.SessionTTL.Seconds()),
		HttpOnly: true, Secure: s.SecureCookies, SameSite: http.SameSiteLaxMode})
}

func (s *Server) totpPage(w http.ResponseWriter, r *http.Request) {
	lang := publicLang(r)
	_ = s.render(w, "login_totp", &LoginPage{Page: s.base(nil, lang, "auth.totp_title", ""), Next: localPath(r.URL.Query().Get("next"))})
}

func (s *Server) totp(w http.ResponseWriter, r *http.Request) {
	lang := publicLang(r)
	next := localPath(r.PostFormValue("next"))
	ck, err := r.Cookie(platform.SessionCookie)
	if err != nil {
		http.Redirect(w, r, "/login", http.StatusSeeOther)
		return
	}
	now := s.Clock.Now()
	_, sess, err := platform.ActorForSession(r.Context(), s.DB, ck.Value, now)
	if err != nil {
		http.Redirect(w, r, "/login", http.StatusSeeOther)
		return
	}
	ws, _ := platform.GetWorkspace(r.Context(), s.DB.Reader(), s.Workspace)
	if !s.loginIP.Allow(httpx.ClientIP(r, ws.TrustedProxies), now) ||
		!platform.VerifyUserTOTP(r.Context(), s.DB.Reader(), s.Workspace, sess.UserID, r.PostFormValue("code"), now) {
		data := &LoginPage{Page: s.base(nil, lang, "auth.totp_title", ""), Next: next}
		data.Error = data.T("auth.totp_wrong")
		w.WriteHeader(http.StatusUnauthorized)
		_ = s.render(w, "login_totp", data)
		return
	}
	if err := platform.CompleteMFA(r.Context(), s.DB, ck.Value); err != nil {
		s.fail(w, r, nil, err)
		return
	}
	http.Redirect(w, r, next, http.StatusSeeOther)
}

func (s *Server) logout(w http.ResponseWriter, r *http.Request) {
	if ck, err := r.Cookie(platform.SessionCookie); err == nil {
		_ = platform.DeleteSession(r.Context(), s.DB, ck.Value)
	}
	http.SetCookie(w, &http.Cookie{Name: platform.SessionCookie, Value: "", Path: "/", MaxAge: -1, HttpOnly: true, Secure: s.SecureCookies, SameSite: http.SameSiteLaxMode})
	http.Redirect(w, r, "/login", http.StatusSeeOther)
}

func (s *Server) setupPage(w http.ResponseWriter, r *http.Request) {
	has, err := platform.HasUsers(r.Context(), s.DB.Reader(), s.Workspace)
	if err != nil {
		s.fail(w, r, nil, err)
		return
	}
	if has {
		http.Redirect(w, r, "/login", http.StatusSeeOther)
		return
	}
	_ = s.render(w, "setup", &SetupPage{Page: s.base(nil, publicLang(r), "auth.setup_title", "")})
}

func (s *Server) setup(w http.ResponseWriter, r *http.Request) {
	lang := publicLang(r)
	data := &SetupPage{Page: s.base(nil, lang, "auth.setup_title", ""), Name: r.PostFormValue("name"), Email: r.PostFormValue("email")}
	if r.PostFormValue("password") != r.PostFormValue("password2") {
		data.Error = data.T("auth.passwords_differ")
		w.WriteHeader(http.StatusBadRequest)
		_ = s.render(w, "setup", data)
		return
	}
	now := s.Clock.Now()
	u, err := platform.CreateFirstAdmin(r.Context(), s.DB, s.Workspace, platform.NewUser{Name: data.Name, Email: data.Email,
		Password: r.PostFormValue("password"), Locale: string(lang)}, now)
	if errs.Is(err, errs.Conflict) {
		http.Redirect(w, r, "/login", http.StatusSeeOther)
		return
	}
	if _, msg, ok := formError(err); ok {
		data.Error = localize(lang, msg)
		w.WriteHeader(http.StatusBadRequest)
		_ = s.render(w, "setup", data)
		return
	}
	if err != nil {
		s.fail(w, r, nil, err)
		return
	}
	id, err := platform.CreateSession(r.Context(), s.DB, s.Workspace, u.ID, false, r.RemoteAddr, r.UserAgent(), now)
	if err != nil {
		s.fail(w, r, nil, err)
		return
	}
	s.setSession(w, id)
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

// setLanguage stores the user's UI language and goes back where they were.
func (s *Server) setLanguage(w http.ResponseWriter, r *http.Request, c *rctx) error {
	l, ok := i18n.Parse(r.PostFormValue("lang"))
	if !ok {
		return errs.Field("lang", "must be ja or en")
	}
	code := string(l)
	if _, err := platform.UpdateUser(r.Context(), s.DB, c.Actor, c.User.ID, platform.UserPatch{Locale: &code}, s.Clock.Now()); err != nil {
		return err
	}
	back := "/"
	if ref := r.Referer(); ref != "" {
		if u, err := parseURL(ref); err == nil && u.Host == r.Host {
			back = localPath(u.RequestURI())
		}
	}
	http.Redirect(w, r, back, http.StatusSeeOther)
	return nil
}
