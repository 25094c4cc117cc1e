package platform

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha1"
	"encoding/base32"
	"encoding/binary"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/ryorin/ryorin/internal/db"
	"github.com/ryorin/ryorin/internal/errs"
)

// TOTP implements RFC 6238 time-based one-time passwords (30 s steps, six
// digits, SHA-1), which every authenticator app understands.

// NewTOTPSecret returns a fresh base32 secret.
func NewTOTPSecret() string {
	b := make([]byte, 20)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b)
}

// TOTPCode returns the code for secret at time t.
func TOTPCode(secret string, t time.Time) (string, error) {
	key, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(strings.ToUpper(secret))
	if err != nil {
		return "", err
	}
	var msg [8]byte
	binary.BigEndian.PutUint64(msg[:], uint64(t.Unix()/30))
	m := hmac.New(sha1.New, key)
	m.Write(msg[:])
	sum := m.Sum(nil)
	off := sum[len(sum)-1] & 0x0f
	v := binary.BigEndian.Uint32(sum[off:off+4]) & 0x7fffffff
	return fmt.Sprintf("%06d", v%1_000_000), nil
}

// CheckTOTP accepts the code for now and one step either side (clock drift).
func CheckTOTP(secret, code string, now time.Time) bool {
	code = strings.TrimSpace(code)
	if len(code) != 6 {
		return false
	}
	for _, d := range []time.Duration{0, -30 * time.Second, 30 * time.Second} {
		if c, err := TOTPCode(secret, now.Add(d)); err == nil && hmac.Equal([]byte(c), []byte(code)) {
			return true
		}
	}
	return false
}

// TOTPURI is the otpauth:// URI an authenticator app scans.
func TOTPURI(secret, email string) string {
	return "otpauth://totp/" + url.PathEscape("Ryorin:"+email) + "?secret=" + secret + "&issuer=Ryorin"
}

// BeginTOTP stores a new secret for the actor as pending and returns it. The
// current second factor (if any) stays in force until EnableTOTP confirms the
// new one, so an abandoned set-up changes nothing.
func BeginTOTP(ctx context.Context, d *db.DB, a Actor) (string, error) {
	secret := NewTOTPSecret()
	err := d.Write(ctx, "platform.BeginTOTP", func(tx *db.Tx) error {
		_, err := tx.ExecContext(ctx, `-- platform.BeginTOTP
			UPDATE users SET totp_pending = ? WHERE workspace_id = ? AND id = ?`, secret, a.WorkspaceID, a.UserID)
		return err
	})
	return secret, err
}

// EnableTOTP makes the pending secret the user's second factor once a code
// from their app proves it works, and turns two-factor login on.
func EnableTOTP(ctx context.Context, d *db.DB, a Actor, code string, now time.Time) error {
	var pending string
	err := d.Reader().QueryRowContext(ctx, `SELECT totp_pending FROM users WHERE workspace_id = ? AND id = ?`, a.WorkspaceID, a.UserID).Scan(&pending)
	if err != nil {
		return fmt.Errorf("platform.EnableTOTP: %w", err)
	}
	if pending == "" || !CheckTOTP(pending, code, now) {
		return errs.Field("code", "the code does not match; check the time on your phone")
	}
	return d.Write(ctx, "platform.EnableTOTP", func(tx *db.Tx) error {
		if _, err := tx.ExecContext(ctx, `-- platform.EnableTOTP
			UPDATE users SET totp_secret = totp_pending, totp_pending = '', totp_enabled = TRUE WHERE workspace_id = ? AND id = ?`,
			a.WorkspaceID, a.UserID); err != nil {
			return err
		}
		return Audit(ctx, tx, a, now, "enable_totp", "user", a.UserID, nil)
	})
}

// VerifyUserTOTP checks a login's second factor.
func VerifyUserTOTP(ctx context.Context, q db.Querier, ws, userID int64, code string, now time.Time) bool {
	u, err := GetUser(ctx, q, ws, userID)
	return err == nil && u.TOTPEnabled && CheckTOTP(u.totpSecret, code, now)
}
