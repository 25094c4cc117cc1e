package platform

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"encoding/hex"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/ryorin/ryorin/internal/db"
	"github.com/ryorin/ryorin/internal/errs"
)

// SessionCookie is the name of the browser session cookie, shared by the web
// UI and the API.
const SessionCookie = "ryorin_session"

// SessionTTL is how long a session lives without use.
const SessionTTL = 14 * 24 * time.Hour

// newSecret returns a random token with a readable prefix, and its hash. Only
// the hash is stored, so a leaked database does not leak live credentials.
func newSecret(prefix string) (token, hash string) {
	b := make([]byte, 24)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	token = prefix + strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b))
	return token, HashSecret(token)
}

// HashSecret returns the stored form of a token or session id.
func HashSecret(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])
}

// APIToken is a long-lived credential for scripts, acting as its user.
type APIToken struct {
	ID         int64      `json:"id"`
	UserID     int64      `json:"user_id"`
	Name       string     `json:"name"`
	Prefix     string     `json:"prefix"`
	CreatedAt  time.Time  `json:"created_at"`
	LastUsedAt *time.Time `json:"last_used_at,omitempty"`
	ExpiresAt  *time.Time `json:"expires_at,omitempty"`
	RevokedAt  *time.Time `json:"revoked_at,omitempty"`
}

// CreateToken issues an API token for userID and returns it with the secret,
// which is shown once and never stored. Users create their own tokens; admins
// may create tokens for anyone.
func CreateToken(ctx context.Context, d *db.DB, a Actor, userID int64, name string, expires *time.Time, now time.Time) (APIToken, string, error) {
	if userID != a.UserID && !a.Is(RoleAdmin) {
		return APIToken{}, "", errs.E(errs.Forbidden, "", "only admins create tokens for other users")
	}
	name = strings.TrimSpace(name)
	if name == "" {
		name = "API token"
	}
	secret, hash := newSecret("ryo_")
	t := APIToken{UserID: userID, Name: name, Prefix: secret[:8], CreatedAt: now, ExpiresAt: expires}
	err := d.Write(ctx, "platform.CreateToken", func(tx *db.Tx) error {
		u, err := GetUser(ctx, tx, a.WorkspaceID, userID)
		if err != nil {
			return errs.Rule("user_id", "user %d does not exist", userID)
		}
		if !u.Active {
			return errs.Rule("user_id", "user %d is inactive", userID)
		}
		err = tx.QueryRowContext(ctx, `-- platform.CreateToken
			INSERT INTO api_tokens (workspace_id, user_id, name, prefix, token_hash, created_at, expires_at)
			VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id`, a.WorkspaceID, userID, name, t.Prefix, hash, db.Millis(now), db.NullMillis(expires)).Scan(&t.ID)
		if err != nil {
			return fmt.Errorf("platform.CreateToken: %w", err)
		}
		return Audit(ctx, tx, a, now, "create", "api_token", t.ID, map[string]any{"user_id": userID, "name": name, "prefix": t.Prefix})
	})
	return t, secret, err
}

// ListTokens returns a user's tokens (never their secrets).
func ListTokens(ctx context.Context, q db.Querier, ws, userID int64) ([]APIToken, error) {
	rows, err := q.QueryContext(ctx, `-- platform.ListTokens
		SELECT id, user_id, name, prefix, created_at, last_used_at, expires_at, revoked_at
		FROM api_tokens WHERE workspace_id = ? AND user_id = ? ORDER BY id DESC`, ws, userID)
	if err != nil {
		return nil, fmt.Errorf("platform.ListTokens: %w", err)
	}
	defer rows.Close()
	out := []APIToken{}
	for rows.Next() {
		var t APIToken
		var c int64
		var last, exp, rev *int64
		if err := rows.Scan(&t.ID, &t.UserID, &t.Name, &t.Prefix, &c, &last, &exp, &rev); err != nil {
			return nil, err
		}
		t.CreatedAt = db.Time(c)
		t.LastUsedAt, t.ExpiresAt, t.RevokedAt = timeOf(last), timeOf(exp), timeOf(rev)
		out = append(out, t)
	}
	return out, rows.Err()
}

func timeOf(ms *int64) *time.Time {
	if ms == nil {
		return nil
	}
	t := db.Time(*ms)
	return &t
}

// RevokeToken revokes a token. Users revoke their own; admins any.
func RevokeToken(ctx context.Context, d *db.DB, a Actor, id int64, now time.Time) error {
	return d.Write(ctx, "platform.RevokeToken", func(tx *db.Tx) error {
		var owner int64
		err := tx.QueryRowContext(ctx, `SELECT user_id FROM api_tokens WHERE workspace_id = ? AND id = ?`, a.WorkspaceID, id).Scan(&owner)
		if db.NoRows(err) || (err == nil && owner != a.UserID && !a.Is(RoleAdmin)) {
			return errs.NotFoundf("token %d not found", id)
		}
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE api_tokens SET revoked_at = ? WHERE workspace_id = ? AND id = ? AND revoked_at IS NULL`,
			db.Millis(now), a.WorkspaceID, id); err != nil {
			return fmt.Errorf("platform.RevokeToken: %w", err)
		}
		return Audit(ctx, tx, a, now, "revoke", "api_token", id, nil)
	})
}

// ActorForToken authenticates an API token. Any failure is Unauthenticated,
// without saying which part was wrong.
func ActorForToken(ctx context.Context, d *db.DB, token string, now time.Time) (Actor, error) {
	fail := errs.E(errs.Unauthenticated, "", "missing, unknown, expired or revoked API token")
	if !strings.HasPrefix(token, "ryo_") || len(token) > 100 {
		return Actor{}, fail
	}
	var ws, uid, lastUsed int64
	var exp, rev *int64
	err := d.Reader().QueryRowContext(ctx, `-- platform.ActorForToken
		SELECT workspace_id, user_id, expires_at, revoked_at, COALESCE(last_used_at, 0) FROM api_tokens WHERE token_hash = ?`,
		HashSecret(token)).Scan(&ws, &uid, &exp, &rev, &lastUsed)
	if db.NoRows(err) {
		return Actor{}, fail
	}
	if err != nil {
		return Actor{}, fmt.Errorf("platform.ActorForToken: %w", err)
	}
	if rev != nil || (exp != nil && *exp <= db.Millis(now)) {
		return Actor{}, fail
	}
	a, _, _, err := actorForUser(ctx, d.Reader(), ws, uid, ActorToken)
	if err != nil {
		return Actor{}, fail
	}
	// Record use at most once a minute, so reads stay reads.
	if db.Millis(now)-lastUsed > 60_000 {
		_ = d.Write(ctx, "platform.TokenUsed", func(tx *db.Tx) error {
			_, err := tx.ExecContext(ctx, `UPDATE api_tokens SET last_used_at = ? WHERE token_hash = ?`, db.Millis(now), HashSecret(token))
			return err
		})
	}
	return a, nil
}

func actorForUser(ctx context.Context, q db.Querier, ws, uid int64, kind ActorKind) (Actor, User, Workspace, error) {
	u, err := GetUser(ctx, q, ws, uid)
	if err != nil {
		return Actor{}, u, Workspace{}, err
	}
	if !u.Active {
		return Actor{}, u, Workspace{}, errs.E(errs.Unauthenticated, "", "user is inactive")
	}
	w, err := GetWorkspace(ctx, q, ws)
	if err != nil {
		return Actor{}, u, w, err
	}
	a := u.Actor(ws, kind)
	a.OwnRecordsOnly = w.SalesOwnRecordsOnly && u.Role == RoleSales
	return a, u, w, nil
}

// Session is a signed-in browser. MFAPending sessions have passed the password
// but not yet the second factor and may do nothing else.
type Session struct {
	UserID     int64
	MFAPending bool
	ExpiresAt  time.Time
	// User and Workspace were loaded to authenticate the session; pages use
	// them instead of reading them again.
	User      User
	Workspace Workspace
}

// CreateSession starts a session for a user and returns its secret id for
// the cookie.
func CreateSession(ctx context.Context, d *db.DB, ws, userID int64, mfaPending bool, ip, ua string, now time.Time) (string, error) {
	id, hash := newSecret("s_")
	if len(ua) > 300 {
		ua = ua[:300]
	}
	err := d.Write(ctx, "platform.CreateSession", func(tx *db.Tx) error {
		_, err := tx.ExecContext(ctx, `-- platform.CreateSession
			INSERT INTO sessions (token_hash, workspace_id, user_id, mfa_pending, created_at, last_seen_at, expires_at, ip, user_agent)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`, hash, ws, userID, mfaPending, db.Millis(now), db.Millis(now),
			db.Millis(now.Add(SessionTTL)), ip, ua)
		if err != nil {
			return fmt.Errorf("platform.CreateSession: %w", err)
		}
		// Prune this user's expired sessions while here.
		_, err = tx.ExecContext(ctx, `DELETE FROM sessions WHERE workspace_id = ? AND user_id = ? AND expires_at < ?`, ws, userID, db.Millis(now))
		return err
	})
	return id, err
}

// ActorForSession authenticates a session cookie. It returns the session too,
// so callers can tell a half-finished two-factor login.
func ActorForSession(ctx context.Context, d *db.DB, id string, now time.Time) (Actor, Session, error) {
	fail := errs.E(errs.Unauthenticated, "", "not signed in")
	if !strings.HasPrefix(id, "s_") || len(id) > 100 {
		return Actor{}, Session{}, fail
	}
	var s Session
	var ws, exp, seen int64
	err := d.Reader().QueryRowContext(ctx, `-- platform.ActorForSession
		SELECT workspace_id, user_id, mfa_pending, expires_at, last_seen_at FROM sessions WHERE token_hash = ?`,
		HashSecret(id)).Scan(&ws, &s.UserID, &s.MFAPending, &exp, &seen)
	if db.NoRows(err) || (err == nil && exp <= db.Millis(now)) {
		return Actor{}, s, fail
	}
	if err != nil {
		return Actor{}, s, fmt.Errorf("platform.ActorForSession: %w", err)
	}
	s.ExpiresAt = db.Time(exp)
	a, u, w, err := actorForUser(ctx, d.Reader(), ws, s.UserID, ActorUser)
	if err != nil {
		return Actor{}, s, fail
	}
	s.User, s.Workspace = u, w
	// Sliding expiry, written at most every ten minutes.
	if db.Millis(now)-seen > 10*60_000 {
		_ = d.Write(ctx, "platform.SessionSeen", func(tx *db.Tx) error {
			_, err := tx.ExecContext(ctx, `UPDATE sessions SET last_seen_at = ?, expires_at = ? WHERE token_hash = ?`,
				db.Millis(now), db.Millis(now.Add(SessionTTL)), HashSecret(id))
			return err
		})
	}
	return a, s, nil
}

// CompleteMFA marks a session as having passed the second factor.
func CompleteMFA(ctx context.Context, d *db.DB, id string) error {
	return d.Write(ctx, "platform.CompleteMFA", func(tx *db.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE sessions SET mfa_pending = FALSE WHERE token_hash = ?`, HashSecret(id))
		return err
	})
}

// DeleteSession signs a browser out.
func DeleteSession(ctx context.Context, d *db.DB, id string) error {
	return d.Write(ctx, "platform.DeleteSession", func(tx *db.Tx) error {
		_, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE token_hash = ?`, HashSecret(id))
		return err
	})
}

// Login checks an email and password. On success it returns the user; any
// failure is the same Unauthenticated error, so it does not reveal which
// emails exist. The password is hashed even for unknown users to keep the
// timing the same.
func Login(ctx context.Context, d *db.DB, ws int64, email, password string) (User, error) {
	fail := errs.E(errs.Unauthenticated, "", "wrong email or password")
	u, err := UserByEmail(ctx, d.Reader(), ws, email)
	if err != nil || !u.Active || u.passwordHash == "" {
		VerifyPassword(dummyHash(), password)
		return User{}, fail
	}
	if !VerifyPassword(u.passwordHash, password) {
		return User{}, fail
	}
	return u, nil
}

// dummyHash is made on the first failed sign-in, not at start: a hash
// costs 64 MB for a moment, which every process (a CLI command, a server
// sending a campaign) would otherwise carry as its peak memory.
var dummyHash = sync.OnceValue(func() string {
	h, _ := HashPassword("dummy password for timing")
	return h
})

// SetPassword changes a user's password. Users change their own; admins any.
// Every session of the user is signed out except keepSession (the browser
// making the change, if any), so a leaked session dies with the old password.
func SetPassword(ctx context.Context, d *db.DB, a Actor, userID int64, password string, now time.Time, keepSession string) error {
	if userID != a.UserID && !a.Is(RoleAdmin) {
		return errs.E(errs.Forbidden, "", "only admins set other users' passwords")
	}
	if err := CheckPasswordStrength(password); err != nil {
		return err
	}
	hash, err := HashPassword(password)
	if err != nil {
		return err
	}
	return d.Write(ctx, "platform.SetPassword", func(tx *db.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE users SET password_hash = ?, updated_at = ? WHERE workspace_id = ? AND id = ?`,
			hash, db.Millis(now), a.WorkspaceID, userID)
		if err != nil {
			return fmt.Errorf("platform.SetPassword: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return errs.NotFoundf("user %d not found", userID)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE workspace_id = ? AND user_id = ? AND token_hash <> ?`,
			a.WorkspaceID, userID, HashSecret(keepSession)); err != nil {
			return err
		}
		return Audit(ctx, tx, a, now, "set_password", "user", userID, nil)
	})
}

// CreateFirstAdmin adds the first user of an empty workspace as admin. It
// fails with Conflict once any user exists, so the set-up page cannot be
// used to add a second admin.
func CreateFirstAdmin(ctx context.Context, d *db.DB, ws int64, in NewUser, now time.Time) (User, error) {
	var n int
	if err := d.Reader().QueryRowContext(ctx, `SELECT COUNT(*) FROM users WHERE workspace_id = ?`, ws).Scan(&n); err != nil {
		return User{}, err
	}
	if n > 0 {
		return User{}, errs.E(errs.Conflict, "", "the workspace already has users")
	}
	in.Role = RoleAdmin
	if in.Password == "" {
		return User{}, errs.Field("password", "is required")
	}
	return CreateUser(ctx, d, CLI(ws), in, now)
}

// HasUsers reports whether the workspace has any user yet.
func HasUsers(ctx context.Context, q db.Querier, ws int64) (bool, error) {
	var n int
	err := q.QueryRowContext(ctx, `SELECT COUNT(*) FROM users WHERE workspace_id = ?`, ws).Scan(&n)
	return n > 0, err
}
