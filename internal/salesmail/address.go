package salesmail

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"

	"github.com/ryorin/ryorin/internal/db"
	"github.com/ryorin/ryorin/internal/errs"
	"github.com/ryorin/ryorin/internal/platform"
)

// A rep's reply address is reply+<user id>.<mac>@<inbound domain>: the MAC
// (HMAC-SHA256 with the workspace signing key, 16 hex digits, lower case so
// a mail system folding case does not break it) proves Ryorin made it, so a
// guessed address attributes nothing. It never expires; it is short enough
// for the 64-byte limit of an address's local part.

func replyMAC(key []byte, uid int64) string {
	h := hmac.New(sha256.New, key)
	h.Write([]byte("salesmail.reply\x00"))
	h.Write([]byte(strconv.FormatInt(uid, 10)))
	return hex.EncodeToString(h.Sum(nil))[:16]
}

// ReplyAddress returns user uid's reply address at domain.
func ReplyAddress(key []byte, domain string, uid int64) string {
	return fmt.Sprintf("reply+%d.%s@%s", uid, replyMAC(key, uid), domain)
}

// ReplyUser returns the user a reply address belongs to, or 0 when addr is
// not a valid reply address at domain.
func ReplyUser(key []byte, domain, addr string) int64 {
	addr = strings.ToLower(strings.TrimSpace(addr))
	local, d, ok := strings.Cut(addr, "@")
	if !ok || domain == "" || d != strings.ToLower(domain) {
		return 0
	}
	rest, ok := strings.CutPrefix(local, "reply+")
	if !ok {
		return 0
	}
	ids, mac, ok := strings.Cut(rest, ".")
	if !ok {
		return 0
	}
	uid, err := strconv.ParseInt(ids, 10, 64)
	if err != nil || uid <= 0 || !hmac.Equal([]byte(mac), []byte(replyMAC(key, uid))) {
		return 0
	}
	return uid
}

// Settings are the workspace's sales email settings.
type Settings struct {
	InboundDomain string `json:"inbound_domain" doc:"the domain of the reps' reply addresses (reply+…@domain); empty: replies go to the rep's own address"`
}

// GetSettings returns the workspace's sales email settings.
func GetSettings(ctx context.Context, q db.Querier, ws int64) (Settings, error) {
	var st Settings
	err := q.QueryRowContext(ctx, `-- salesmail.GetSettings
		SELECT inbound_domain FROM sales_email_settings WHERE workspace_id = ?`, ws).Scan(&st.InboundDomain)
	if err != nil && !db.NoRows(err) {
		return st, fmt.Errorf("salesmail.GetSettings: %w", err)
	}
	return st, nil
}

// SaveSettings changes the settings (admins only).
func (s *Service) SaveSettings(ctx context.Context, a platform.Actor, st Settings) (Settings, error) {
	if !a.Is(platform.RoleAdmin) {
		return st, errs.E(errs.Forbidden, "", "only admins change the inbound email domain")
	}
	st.InboundDomain = strings.ToLower(strings.TrimSpace(st.InboundDomain))
	if st.InboundDomain != "" {
		if _, ok := platform.NormalizeEmail("x@" + st.InboundDomain); !ok || strings.ContainsAny(st.InboundDomain, "@ ") {
			return st, errs.Field("inbound_domain", "must be a domain name such as reply.example.com")
		}
	}
	now := s.Clock.Now()
	err := s.DB.Write(ctx, "salesmail.SaveSettings", func(tx *db.Tx) error {
		before, err := GetSettings(ctx, tx, a.WorkspaceID)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `-- salesmail.SaveSettings
			INSERT INTO sales_email_settings (workspace_id, inbound_domain, updated_at) VALUES (?, ?, ?)
			ON CONFLICT (workspace_id) DO UPDATE SET inbound_domain = excluded.inbound_domain, updated_at = excluded.updated_at`,
			a.WorkspaceID, st.InboundDomain, db.Millis(now)); err != nil {
			return fmt.Errorf("salesmail.SaveSettings: %w", err)
		}
		return platform.Audit(ctx, tx, a, now, "update", "sales_email_settings", a.WorkspaceID, platform.Diff(before, st))
	})
	return st, err
}

// MyReplyAddress returns the signed-in user's reply address, or "" when the
// workspace has no inbound domain.
func (s *Service) MyReplyAddress(ctx context.Context, a platform.Actor) (string, error) {
	st, err := GetSettings(ctx, s.DB.Reader(), a.WorkspaceID)
	if err != nil || st.InboundDomain == "" || a.UserID == 0 {
		return "", err
	}
	w, err := platform.GetWorkspace(ctx, s.DB.Reader(), a.WorkspaceID)
	if err != nil {
		return "", err
	}
	return ReplyAddress(w.SigningKey(), st.InboundDomain, a.UserID), nil
}
