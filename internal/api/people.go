package api

import (
	"net/http"
	"time"

	"github.com/ryorin/ryorin/internal/errs"
	"github.com/ryorin/ryorin/internal/httpx"
	"github.com/ryorin/ryorin/internal/platform"
)

// LoginRequest signs a user in. The TOTP code is needed when the user has
// two-factor login enabled.
type LoginRequest struct {
	Email    string `json:"email"`
	Password string `json:"password"`
	TOTPCode string `json:"totp_code,omitempty" doc:"six-digit code from the authenticator app, when two-factor login is on"`
}

// LoginResponse is the signed-in user.
type LoginResponse struct {
	User platform.User `json:"user"`
}

// TOTPSetup is the secret and URI an authenticator app needs.
type TOTPSetup struct {
	Secret string `json:"secret"`
	URI    string `json:"uri"`
}

// CodeRequest carries a one-time code.
type CodeRequest struct {
	Code string `json:"code"`
}

// PasswordRequest sets a password.
type PasswordRequest struct {
	Password string `json:"password"`
}

// TokenRequest creates an API token.
type TokenRequest struct {
	Name      string     `json:"name,omitempty"`
	UserID    int64      `json:"user_id,omitempty" doc:"admins may create tokens for other users; default: yourself"`
	ExpiresAt *time.Time `json:"expires_at,omitempty"`
}

// TokenResponse is a new token with its secret, shown only this once.
type TokenResponse struct {
	Token  platform.APIToken `json:"token"`
	Secret string            `json:"secret"`
}

// AuditPage is a page of the audit log.
type AuditPage struct {
	Items      []platform.AuditEntry `json:"items"`
	NextCursor string                `json:"next_cursor,omitempty"`
}

func (s *Server) login(w http.ResponseWriter, r *http.Request, a platform.Actor) (any, error) {
	var in LoginRequest
	if err := decode(w, r, &in); err != nil {
		return nil, err
	}
	now := s.Clock.Now()
	email, _ := platform.NormalizeEmail(in.Email)
	if !s.loginIP.Allow(a.IP, now) || !s.loginEmail.Allow(email, now) {
		return nil, errs.E(errs.RateLimited, "", "too many sign-in attempts; wait a minute and try again")
	}
	u, err := platform.Login(r.Context(), s.DB, s.Workspace, in.Email, in.Password)
	if err != nil {
		return nil, err
	}
	if u.TOTPEnabled && !platform.VerifyUserTOTP(r.Context(), s.DB.Reader(), s.Workspace, u.ID, in.TOTPCode, now) {
		return nil, errs.E(errs.Unauthenticated, "totp_code", "a valid two-factor code is required")
	}
	id, err := platform.CreateSession(r.Context(), s.DB, s.Workspace, u.ID, false, a.IP, r.UserAgent(), now)
	if err != nil {
		return nil, err
	}
	http.SetCookie(w, s.sessionCookie(id))
	return LoginResponse{User: u}, nil
}

func (s *Server) sessionCookie(id string) *http.Cookie {
	return &http.Cookie{Name: SessionCookie, Value: id, Path: "/", MaxAge: int(platform.SessionTTL.Seconds()), HttpOnly: true, Secure: s.SecureCookies, SameSite: http.SameSiteLaxMode}
}

func (s *Server) logout(w http.ResponseWriter, r *http.Request, a platform.Actor) (any, error) {
	if c, err := r.Cookie(SessionCookie); err == nil {
		if err := platform.DeleteSession(r.Context(), s.DB, c.Value); err != nil {
			return nil, err
		}
	}
	http.SetCookie(w, &http.Cookie{Name: SessionCookie, Value: "", Path: "/", MaxAge: -1, HttpOnly: true, Secure: s.SecureCookies, SameSite: http.SameSiteLaxMode})
	return nil, nil
}

func (s *Server) me(w http.ResponseWriter, r *http.Request, a platform.Actor) (any, error) {
	return platform.GetUser(r.Context(), s.DB.Reader(), a.WorkspaceID, a.UserID)
}

func (s *Server) beginTOTP(w http.ResponseWriter, r *http.Request, a platform.Actor) (any, error) {
	u, err := platform.GetUser(r.Context(), s.DB.Reader(), a.WorkspaceID, a.UserID)
	if err != nil {
		return nil, err
	}
	secret, err := platform.BeginTOTP(r.Context(), s.DB, a)
	if err != nil {
		return nil, err
	}
	return TOTPSetup{Secret: secret, URI: platform.TOTPURI(secret, u.Email)}, nil
}

func (s *Server) enableTOTP(w http.ResponseWriter, r *http.Request, a platform.Actor) (any, error) {
	var in CodeRequest
	if err := decode(w, r, &in); err != nil {
		return nil, err
	}
	return nil, platform.EnableTOTP(r.Context(), s.DB, a, in.Code, s.Clock.Now())
}

func (s *Server) setMyPassword(w http.ResponseWriter, r *http.Request, a platform.Actor) (any, error) {
	var in PasswordRequest
	if err := decode(w, r, &in); err != nil {
		return nil, err
	}
	keep := ""
	if ck, err := r.Cookie(SessionCookie); err == nil {
		keep = ck.Value
	}
	return nil, platform.SetPassword(r.Context(), s.DB, a, a.UserID, in.Password, s.Clock.Now(), keep)
}

func (s *Server) listUsers(w http.ResponseWriter, r *http.Request, a platform.Actor) (any, error) {
	return platform.ListUsers(r.Context(), s.DB.Reader(), a.WorkspaceID)
}

func (s *Server) createUser(w http.ResponseWriter, r *http.Request, a platform.Actor) (any, error) {
	var in platform.NewUser
	if err := decode(w, r, &in); err != nil {
		return nil, err
	}
	return platform.CreateUser(r.Context(), s.DB, a, in, s.Clock.Now())
}

func (s *Server) getUser(w http.ResponseWriter, r *http.Request, a platform.Actor) (any, error) {
	id, err := pathID(r, "id")
	if err != nil {
		return nil, err
	}
	return platform.GetUser(r.Context(), s.DB.Reader(), a.WorkspaceID, id)
}

func (s *Server) updateUser(w http.ResponseWriter, r *http.Request, a platform.Actor) (any, error) {
	id, err := pathID(r, "id")
	if err != nil {
		return nil, err
	}
	var in platform.UserPatch
	if err := decode(w, r, &in); err != nil {
		return nil, err
	}
	return platform.UpdateUser(r.Context(), s.DB, a, id, in, s.Clock.Now())
}

func (s *Server) listTeams(w http.ResponseWriter, r *http.Request, a platform.Actor) (any, error) {
	return platform.ListTeams(r.Context(), s.DB.Reader(), a.WorkspaceID)
}

func (s *Server) createTeam(w http.ResponseWriter, r *http.Request, a platform.Actor) (any, error) {
	var in platform.NewTeam
	if err := decode(w, r, &in); err != nil {
		return nil, err
	}
	return platform.SaveTeam(r.Context(), s.DB, a, 0, in, s.Clock.Now())
}

func (s *Server) updateTeam(w http.ResponseWriter, r *http.Request, a platform.Actor) (any, error) {
	id, err := pathID(r, "id")
	if err != nil {
		return nil, err
	}
	var in platform.NewTeam
	if err := decode(w, r, &in); err != nil {
		return nil, err
	}
	return platform.SaveTeam(r.Context(), s.DB, a, id, in, s.Clock.Now())
}

func (s *Server) listTokens(w http.ResponseWriter, r *http.Request, a platform.Actor) (any, error) {
	return platform.ListTokens(r.Context(), s.DB.Reader(), a.WorkspaceID, a.UserID)
}

func (s *Server) createToken(w http.ResponseWriter, r *http.Request, a platform.Actor) (any, error) {
	var in TokenRequest
	if err := decode(w, r, &in); err != nil {
		return nil, err
	}
	if in.UserID == 0 {
		in.UserID = a.UserID
	}
	t, secret, err := platform.CreateToken(r.Context(), s.DB, a, in.UserID, in.Name, in.ExpiresAt, s.Clock.Now())
	if err != nil {
		return nil, err
	}
	return TokenResponse{Token: t, Secret: secret}, nil
}

func (s *Server) revokeToken(w http.ResponseWriter, r *http.Request, a platform.Actor) (any, error) {
	id, err := pathID(r, "id")
	if err != nil {
		return nil, err
	}
	return nil, platform.RevokeToken(r.Context(), s.DB, a, id, s.Clock.Now())
}

func (s *Server) getWorkspace(w http.ResponseWriter, r *http.Request, a platform.Actor) (any, error) {
	return platform.GetWorkspace(r.Context(), s.DB.Reader(), a.WorkspaceID)
}

func (s *Server) updateWorkspace(w http.ResponseWriter, r *http.Request, a platform.Actor) (any, error) {
	var in platform.WorkspacePatch
	if err := decode(w, r, &in); err != nil {
		return nil, err
	}
	return platform.UpdateWorkspace(r.Context(), s.DB, a, in, s.Clock.Now())
}

func (s *Server) listRates(w http.ResponseWriter, r *http.Request, a platform.Actor) (any, error) {
	return platform.ListExchangeRates(r.Context(), s.DB.Reader(), a.WorkspaceID)
}

func (s *Server) setRate(w http.ResponseWriter, r *http.Request, a platform.Actor) (any, error) {
	var in platform.ExchangeRate
	if err := decode(w, r, &in); err != nil {
		return nil, err
	}
	if err := platform.SetExchangeRate(r.Context(), s.DB, a, in, s.Clock.Now()); err != nil {
		return nil, err
	}
	return in, nil
}

func (s *Server) listChannels(w http.ResponseWriter, r *http.Request, a platform.Actor) (any, error) {
	return platform.ListChannels(r.Context(), s.DB.Reader(), a.WorkspaceID)
}

func (s *Server) listAudit(w http.ResponseWriter, r *http.Request, a platform.Actor) (any, error) {
	f := platform.AuditFilter{ObjectType: r.URL.Query().Get("object_type")}
	var err error
	if f.ObjectID, err = queryInt(r, "object_id"); err != nil {
		return nil, err
	}
	if f.ActorID, err = queryInt(r, "actor_id"); err != nil {
		return nil, err
	}
	if c := r.URL.Query().Get("cursor"); c != "" {
		_, id, ok := decodeTimeCursor(c)
		if !ok {
			return nil, httpx.Errorf("cursor", "is not a cursor this API returned")
		}
		f.BeforeID = id
	}
	lim, err := queryLimit(r)
	if err != nil {
		return nil, err
	}
	if lim == 0 {
		lim = 100
	}
	f.Limit = lim
	items, err := platform.ListAudit(r.Context(), s.DB.Reader(), a.WorkspaceID, f)
	if err != nil {
		return nil, err
	}
	if items == nil {
		items = []platform.AuditEntry{}
	}
	p := AuditPage{Items: items}
	if len(items) == lim {
		last := items[len(items)-1]
		p.NextCursor = encodeTimeCursor(last.At.UnixMilli(), last.ID)
	}
	return p, nil
}
