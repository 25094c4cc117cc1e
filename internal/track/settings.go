package track

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/ryorin/ryorin/internal/db"
	"github.com/ryorin/ryorin/internal/errs"
	"github.com/ryorin/ryorin/internal/platform"
)

// Settings are a workspace's tracking settings.
type Settings struct {
	ConsentRequired bool          `json:"consent_required" doc:"when true the snippet records nothing until the page calls ryorin('consent', true)"`
	RetentionDays   int           `json:"retention_days" doc:"days an anonymous visitor's events are kept before they are rolled up into daily counts and deleted (1–3650)"`
	AllowedOrigins  []string      `json:"allowed_origins" doc:"origins (https://example.com) allowed to send events; empty: any origin"`
	ChannelRules    []ChannelRule `json:"channel_rules" doc:"checked in order before the default classification; the first match gives the session's channel"`
}

// ChannelRule sends sessions whose field equals a value to a channel, e.g.
// utm_source = "prtimes" → referral.
type ChannelRule struct {
	Field   string `json:"field" doc:"utm_source, utm_medium, utm_campaign or referrer_host"`
	Value   string `json:"value" doc:"compared without regard to case; a referrer_host also matches its subdomains"`
	Channel string `json:"channel" doc:"a key of the channel taxonomy"`
}

// DefaultRetentionDays is how long anonymous visitors are kept by default.
const DefaultRetentionDays = 180

// DefaultSettings are the settings of a workspace that never saved any.
func DefaultSettings() Settings {
	return Settings{RetentionDays: DefaultRetentionDays, AllowedOrigins: []string{}, ChannelRules: []ChannelRule{}}
}

// GetSettings returns the workspace's tracking settings.
func GetSettings(ctx context.Context, q db.Querier, ws int64) (Settings, error) {
	s := DefaultSettings()
	var origins string
	var rules *string
	err := q.QueryRowContext(ctx, `-- track.GetSettings
		SELECT consent_required, retention_days, allowed_origins, channel_rules FROM tracking_settings WHERE workspace_id = ?`, ws).
		Scan(&s.ConsentRequired, &s.RetentionDays, &origins, &rules)
	if db.NoRows(err) {
		return s, nil
	}
	if err != nil {
		return s, fmt.Errorf("track.GetSettings: %w", err)
	}
	s.AllowedOrigins = splitLines(origins)
	if rules != nil && *rules != "" {
		if err := json.Unmarshal([]byte(*rules), &s.ChannelRules); err != nil {
			return s, fmt.Errorf("track.GetSettings: channel rules: %w", err)
		}
	}
	return s, nil
}

func splitLines(s string) []string {
	return append([]string{}, strings.FieldsFunc(s, func(r rune) bool { return r == '\n' || r == ',' || r == ' ' || r == '\r' })...)
}

// NormalizeOrigin returns the scheme://host[:port] form of an origin, or
// false when s is not one.
func NormalizeOrigin(s string) (string, bool) {
	u, err := url.Parse(strings.TrimSpace(s))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || (u.Path != "" && u.Path != "/") || u.RawQuery != "" {
		return "", false
	}
	return strings.ToLower(u.Scheme + "://" + u.Host), true
}

// SaveSettings validates and stores the workspace's tracking settings
// (admins only) and records the change in the audit log.
func SaveSettings(ctx context.Context, d *db.DB, a platform.Actor, s Settings, now time.Time) (Settings, error) {
	if !a.Is(platform.RoleAdmin) {
		return s, errs.E(errs.Forbidden, "", "only admins change tracking settings")
	}
	if s.RetentionDays < 1 || s.RetentionDays > 3650 {
		return s, errs.Field("retention_days", "must be between 1 and 3650")
	}
	origins := []string{}
	for _, o := range s.AllowedOrigins {
		n, ok := NormalizeOrigin(o)
		if !ok {
			return s, errs.Field("allowed_origins", "%q is not an origin like https://example.com", o)
		}
		origins = append(origins, n)
	}
	s.AllowedOrigins = origins
	if s.ChannelRules == nil {
		s.ChannelRules = []ChannelRule{}
	}
	if len(s.ChannelRules) > 100 {
		return s, errs.Field("channel_rules", "at most 100 rules")
	}
	for i, r := range s.ChannelRules {
		r.Field, r.Value, r.Channel = strings.TrimSpace(r.Field), strings.ToLower(strings.TrimSpace(r.Value)), strings.TrimSpace(r.Channel)
		switch r.Field {
		case "utm_source", "utm_medium", "utm_campaign", "referrer_host":
		default:
			return s, errs.Field(fmt.Sprintf("channel_rules[%d].field", i), "must be utm_source, utm_medium, utm_campaign or referrer_host")
		}
		if r.Value == "" || len(r.Value) > 256 {
			return s, errs.Field(fmt.Sprintf("channel_rules[%d].value", i), "is required, at most 256 characters")
		}
		ok, err := platform.ChannelExists(ctx, d.Reader(), a.WorkspaceID, r.Channel)
		if err != nil {
			return s, err
		}
		if !ok {
			return s, errs.Field(fmt.Sprintf("channel_rules[%d].channel", i), "%q is not a channel of the taxonomy", r.Channel)
		}
		s.ChannelRules[i] = r
	}
	rules, _ := json.Marshal(s.ChannelRules)
	err := d.Write(ctx, "track.SaveSettings", func(tx *db.Tx) error {
		if _, err := tx.ExecContext(ctx, `-- track.SaveSettings
			INSERT INTO tracking_settings (workspace_id, consent_required, retention_days, allowed_origins, channel_rules, updated_at)
			VALUES (?, ?, ?, ?, ?, ?)
			ON CONFLICT (workspace_id) DO UPDATE SET consent_required = excluded.consent_required, retention_days = excluded.retention_days,
				allowed_origins = excluded.allowed_origins, channel_rules = excluded.channel_rules, updated_at = excluded.updated_at`,
			a.WorkspaceID, s.ConsentRequired, s.RetentionDays, strings.Join(s.AllowedOrigins, "\n"), string(rules), db.Millis(now)); err != nil {
			return err
		}
		return platform.Audit(ctx, tx, a, now, "update", "tracking_settings", a.WorkspaceID, s)
	})
	if err != nil {
		return s, fmt.Errorf("track.SaveSettings: %w", err)
	}
	return s, nil
}

// Classify gives a session's channel: the workspace's rules first, then the
// taxonomy's default classifier.
func (s Settings) Classify(utmSource, utmMedium, utmCampaign, referrer, pageURL string) string {
	host := ""
	if u, err := url.Parse(referrer); err == nil {
		host = strings.TrimPrefix(strings.ToLower(u.Hostname()), "www.")
	}
	for _, r := range s.ChannelRules {
		var v string
		switch r.Field {
		case "utm_source":
			v = utmSource
		case "utm_medium":
			v = utmMedium
		case "utm_campaign":
			v = utmCampaign
		case "referrer_host":
			if host != "" && (host == r.Value || strings.HasSuffix(host, "."+r.Value)) {
				return r.Channel
			}
			continue
		}
		if v != "" && strings.EqualFold(v, r.Value) {
			return r.Channel
		}
	}
	return platform.ClassifyChannel(utmSource, utmMedium, referrer, pageURL)
}
