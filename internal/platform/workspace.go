package platform

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/ryorin/ryorin/internal/db"
	"github.com/ryorin/ryorin/internal/errs"
)

// DefaultWorkspace is the id of the workspace a single-team install uses.
const DefaultWorkspace int64 = 1

// Workspace holds the settings later reports and links depend on.
type Workspace struct {
	ID                   int64     `json:"id"`
	Name                 string    `json:"name"`
	TimeZone             string    `json:"time_zone"`
	FiscalYearStartMonth int       `json:"fiscal_year_start_month"`
	WeekStart            int       `json:"week_start"` // 0 Sunday, 1 Monday
	BaseCurrency         string    `json:"base_currency"`
	PublicBaseURL        string    `json:"public_base_url"`
	TrustedProxies       []string  `json:"trusted_proxies"`
	SalesOwnRecordsOnly  bool      `json:"sales_own_records_only"`
	DefaultLocale        string    `json:"default_locale"`
	CreatedAt            time.Time `json:"created_at"`
	UpdatedAt            time.Time `json:"updated_at"`

	signingKey []byte
	smtp       SMTPSettings
}

// Location returns the workspace's time zone, or Asia/Tokyo if it cannot load.
func (w Workspace) Location() *time.Location {
	if loc, ok := locations.Load(w.TimeZone); ok {
		return loc.(*time.Location)
	}
	loc, err := time.LoadLocation(w.TimeZone)
	if err != nil {
		loc = time.FixedZone("JST", 9*3600)
	}
	locations.Store(w.TimeZone, loc)
	return loc
}

// locations keeps each loaded time zone: time.LoadLocation reads and parses
// the zone database on every call (a report over 100,000 deals spent half a
// second there at size L).
var locations sync.Map

// SigningKey returns the secret used to sign links. Never log it.
func (w Workspace) SigningKey() []byte { return w.signingKey }

// SMTP returns the outbound mail settings.
func (w Workspace) SMTP() SMTPSettings { return w.smtp }

// EnsureWorkspace creates workspace id with default settings and channel
// taxonomy if it does not exist yet. It is safe to call on every start.
func EnsureWorkspace(ctx context.Context, d *db.DB, id int64, name string, now time.Time) error {
	return d.Write(ctx, "platform.EnsureWorkspace", func(tx *db.Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM workspaces WHERE id = ?`, id).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			return nil
		}
		key := make([]byte, 32)
		if _, err := rand.Read(key); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `-- platform.EnsureWorkspace
			INSERT INTO workspaces (id, name, signing_key, created_at, updated_at) VALUES (?, ?, ?, ?, ?)`,
			id, name, hex.EncodeToString(key), db.Millis(now), db.Millis(now))
		if err != nil {
			return fmt.Errorf("platform.EnsureWorkspace: %w", err)
		}
		for i, c := range DefaultChannels {
			if _, err := tx.ExecContext(ctx, `INSERT INTO channels (workspace_id, key, label_en, label_ja, position, built_in) VALUES (?, ?, ?, ?, ?, ?)`,
				id, c.Key, c.LabelEN, c.LabelJA, i, true); err != nil {
				return fmt.Errorf("platform.EnsureWorkspace channels: %w", err)
			}
		}
		return nil
	})
}

// GetWorkspace loads workspace id.
func GetWorkspace(ctx context.Context, q db.Querier, id int64) (Workspace, error) {
	var w Workspace
	var proxies, key string
	var smtp *string
	var created, updated int64
	err := q.QueryRowContext(ctx, `-- platform.GetWorkspace
		SELECT id, name, time_zone, fiscal_year_start_month, week_start, base_currency, public_base_url,
		       trusted_proxies, sales_own_records_only, default_locale, signing_key, smtp, created_at, updated_at
		FROM workspaces WHERE id = ?`, id).Scan(&w.ID, &w.Name, &w.TimeZone, &w.FiscalYearStartMonth, &w.WeekStart,
		&w.BaseCurrency, &w.PublicBaseURL, &proxies, &w.SalesOwnRecordsOnly, &w.DefaultLocale, &key, &smtp, &created, &updated)
	if db.NoRows(err) {
		return w, errs.NotFoundf("workspace %d not found", id)
	}
	if err != nil {
		return w, fmt.Errorf("platform.GetWorkspace(%d): %w", id, err)
	}
	w.TrustedProxies = splitList(proxies)
	w.signingKey, _ = hex.DecodeString(key)
	if smtp != nil {
		_ = json.Unmarshal([]byte(*smtp), &w.smtp)
	}
	w.CreatedAt, w.UpdatedAt = db.Time(created), db.Time(updated)
	return w, nil
}

// WorkspacePatch holds the settings to change; nil fields stay as they are.
type WorkspacePatch struct {
	Name                 *string   `json:"name,omitempty"`
	TimeZone             *string   `json:"time_zone,omitempty"`
	FiscalYearStartMonth *int      `json:"fiscal_year_start_month,omitempty"`
	WeekStart            *int      `json:"week_start,omitempty"`
	BaseCurrency         *string   `json:"base_currency,omitempty"`
	PublicBaseURL        *string   `json:"public_base_url,omitempty"`
	TrustedProxies       *[]string `json:"trusted_proxies,omitempty"`
	SalesOwnRecordsOnly  *bool     `json:"sales_own_records_only,omitempty"`
	DefaultLocale        *string   `json:"default_locale,omitempty"`
}

// UpdateWorkspace validates and applies p. Only admins may call it.
func UpdateWorkspace(ctx context.Context, d *db.DB, a Actor, p WorkspacePatch, now time.Time) (Workspace, error) {
	if !a.Is(RoleAdmin) {
		return Workspace{}, errs.E(errs.Forbidden, "", "only admins change workspace settings")
	}
	var out Workspace
	err := d.Write(ctx, "platform.UpdateWorkspace", func(tx *db.Tx) error {
		w, err := GetWorkspace(ctx, tx, a.WorkspaceID)
		if err != nil {
			return err
		}
		before := w
		if p.Name != nil {
			if strings.TrimSpace(*p.Name) == "" {
				return errs.Field("name", "must not be empty")
			}
			w.Name = strings.TrimSpace(*p.Name)
		}
		if p.TimeZone != nil {
			if _, err := time.LoadLocation(*p.TimeZone); err != nil || *p.TimeZone == "" {
				return errs.Field("time_zone", "unknown time zone %q", *p.TimeZone)
			}
			w.TimeZone = *p.TimeZone
		}
		if p.FiscalYearStartMonth != nil {
			if *p.FiscalYearStartMonth < 1 || *p.FiscalYearStartMonth > 12 {
				return errs.Field("fiscal_year_start_month", "must be 1 to 12")
			}
			w.FiscalYearStartMonth = *p.FiscalYearStartMonth
		}
		if p.WeekStart != nil {
			if *p.WeekStart < 0 || *p.WeekStart > 6 {
				return errs.Field("week_start", "must be 0 (Sunday) to 6 (Saturday)")
			}
			w.WeekStart = *p.WeekStart
		}
		if p.BaseCurrency != nil {
			c := strings.ToUpper(*p.BaseCurrency)
			if !ValidCurrency(c) {
				return errs.Field("base_currency", "unknown currency %q", *p.BaseCurrency)
			}
			w.BaseCurrency = c
		}
		if p.PublicBaseURL != nil {
			u, err := url.Parse(*p.PublicBaseURL)
			if *p.PublicBaseURL != "" && (err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "") {
				return errs.Field("public_base_url", "must be an absolute http(s) URL")
			}
			w.PublicBaseURL = strings.TrimRight(*p.PublicBaseURL, "/")
		}
		if p.TrustedProxies != nil {
			for _, s := range *p.TrustedProxies {
				if _, _, err := net.ParseCIDR(s); err != nil && net.ParseIP(s) == nil {
					return errs.Field("trusted_proxies", "%q is neither an IP address nor a CIDR range", s)
				}
			}
			w.TrustedProxies = *p.TrustedProxies
		}
		if p.SalesOwnRecordsOnly != nil {
			w.SalesOwnRecordsOnly = *p.SalesOwnRecordsOnly
		}
		if p.DefaultLocale != nil {
			if *p.DefaultLocale != "ja" && *p.DefaultLocale != "en" {
				return errs.Field("default_locale", "must be ja or en")
			}
			w.DefaultLocale = *p.DefaultLocale
		}
		_, err = tx.ExecContext(ctx, `-- platform.UpdateWorkspace
			UPDATE workspaces SET name = ?, time_zone = ?, fiscal_year_start_month = ?, week_start = ?, base_currency = ?,
			public_base_url = ?, trusted_proxies = ?, sales_own_records_only = ?, default_locale = ?, updated_at = ?
			WHERE id = ?`, w.Name, w.TimeZone, w.FiscalYearStartMonth, w.WeekStart, w.BaseCurrency, w.PublicBaseURL,
			strings.Join(w.TrustedProxies, ","), w.SalesOwnRecordsOnly, w.DefaultLocale, db.Millis(now), w.ID)
		if err != nil {
			return fmt.Errorf("platform.UpdateWorkspace: %w", err)
		}
		w.UpdatedAt = now
		out = w
		return Audit(ctx, tx, a, now, "update", "workspace", w.ID, Diff(before, w))
	})
	return out, err
}

func splitList(s string) []string {
	out := []string{}
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}
