// Package social owns the social engagement figures marketing enters or
// imports per network and month (impressions, engagements, followers gained,
// clicks): Ryorin does not call the networks' APIs, so these are typed in
// from each network's own analytics or imported as CSV. The KPI that reads
// them is defined in insight. It imports platform, db, errs, clock and
// dataio (for CSV reading), never web or api.
package social

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/ryorin/ryorin/internal/clock"
	"github.com/ryorin/ryorin/internal/dataio"
	"github.com/ryorin/ryorin/internal/db"
	"github.com/ryorin/ryorin/internal/errs"
	"github.com/ryorin/ryorin/internal/platform"
)

// Networks are the social networks figures can be entered for, in the
// order the screen lists them.
var Networks = []string{"x", "facebook", "linkedin", "instagram", "youtube", "tiktok", "line", "note", "other"}

// networkAliases are other names people write for a network in a file.
var networkAliases = map[string]string{"twitter": "x", "x (twitter)": "x", "fb": "facebook", "ig": "instagram", "yt": "youtube", "ライン": "line"}

// Stat is one network's figures for one month.
type Stat struct {
	Month           string `json:"month" doc:"YYYY-MM"`
	Network         string `json:"network" enum:"x,facebook,linkedin,instagram,youtube,tiktok,line,note,other"`
	Channel         string `json:"channel,omitempty" doc:"the workspace channel these figures count under (default social)"`
	Impressions     int64  `json:"impressions"`
	Engagements     int64  `json:"engagements" doc:"likes, comments, shares and saves, as the network counts them"`
	FollowersGained int64  `json:"followers_gained"`
	Clicks          int64  `json:"clicks"`
}

// Service records social figures.
type Service struct {
	DB    *db.DB
	Clock clock.Clock
}

// New returns the service.
func New(d *db.DB, c clock.Clock) *Service { return &Service{DB: d, Clock: c} }

// MayEdit reports whether a role may enter social figures.
func MayEdit(r platform.Role) bool {
	return r == platform.RoleAdmin || r == platform.RoleManager || r == platform.RoleMarketing
}

func (s Stat) check() error {
	if _, err := time.Parse("2006-01", s.Month); err != nil || len(s.Month) != 7 {
		return errs.Field("month", "must be a month YYYY-MM")
	}
	if !slices.Contains(Networks, s.Network) {
		return errs.Field("network", "must be one of %s", strings.Join(Networks, ", "))
	}
	if s.Impressions < 0 || s.Engagements < 0 || s.Clicks < 0 {
		return errs.Field("impressions", "figures must not be negative")
	}
	return nil
}

// Set records a network's figures for a month, replacing what was entered
// for that month before; all four figures at 0 remove the entry.
func (s *Service) Set(ctx context.Context, a platform.Actor, st Stat) (Stat, error) {
	err := s.DB.Write(ctx, "social.Set", func(tx *db.Tx) error {
		return s.set(ctx, tx, a, &st)
	})
	return st, err
}

func (s *Service) set(ctx context.Context, tx *db.Tx, a platform.Actor, st *Stat) error {
	if !MayEdit(a.Role) {
		return errs.E(errs.Forbidden, "", "only marketing, managers and admins may enter social figures")
	}
	st.Network = strings.ToLower(strings.TrimSpace(st.Network))
	if n, ok := networkAliases[st.Network]; ok {
		st.Network = n
	}
	st.Month = strings.TrimSpace(st.Month)
	if err := st.check(); err != nil {
		return err
	}
	if st.Channel == "" {
		st.Channel = platform.ChannelSocial
	}
	var n int
	if err := tx.QueryRowContext(ctx, `-- social.Set
		SELECT COUNT(*) FROM channels WHERE workspace_id = ? AND key = ?`, a.WorkspaceID, st.Channel).Scan(&n); err != nil {
		return err
	}
	if n == 0 {
		return errs.Field("channel", "is not a channel of this workspace")
	}
	if _, err := tx.ExecContext(ctx, `-- social.Set
		DELETE FROM social_stats WHERE workspace_id = ? AND month = ? AND network = ?`, a.WorkspaceID, st.Month, st.Network); err != nil {
		return err
	}
	if st.Impressions == 0 && st.Engagements == 0 && st.FollowersGained == 0 && st.Clicks == 0 {
		return nil
	}
	now := s.Clock.Now()
	if _, err := tx.ExecContext(ctx, `-- social.Set
		INSERT INTO social_stats (workspace_id, month, network, channel, impressions, engagements, followers_gained, clicks, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		a.WorkspaceID, st.Month, st.Network, st.Channel, st.Impressions, st.Engagements, st.FollowersGained, st.Clicks, db.Millis(now)); err != nil {
		return err
	}
	return platform.Audit(ctx, tx, a, now, "set_social", "social_stat", 0, st)
}

// List returns the figures of months from to to (inclusive, "YYYY-MM"),
// newest month first, networks in the order of Networks.
func List(ctx context.Context, q db.Querier, ws int64, from, to string) ([]Stat, error) {
	rows, err := q.QueryContext(ctx, `-- social.List
		SELECT month, network, channel, impressions, engagements, followers_gained, clicks FROM social_stats
		WHERE workspace_id = ? AND month >= ? AND month <= ? ORDER BY month DESC, network`, ws, from, to)
	if err != nil {
		return nil, fmt.Errorf("social.List: %w", err)
	}
	defer rows.Close()
	out := []Stat{}
	for rows.Next() {
		var st Stat
		if err := rows.Scan(&st.Month, &st.Network, &st.Channel, &st.Impressions, &st.Engagements, &st.FollowersGained, &st.Clicks); err != nil {
			return nil, err
		}
		out = append(out, st)
	}
	slices.SortStableFunc(out, func(a, b Stat) int {
		if a.Month != b.Month {
			return strings.Compare(b.Month, a.Month)
		}
		return slices.Index(Networks, a.Network) - slices.Index(Networks, b.Network)
	})
	return out, rows.Err()
}

// ImportResult says what a CSV import did.
type ImportResult struct {
	Saved  int           `json:"saved"`
	Errors []ImportError `json:"errors"`
}

// ImportError is a line of the file that was not saved, and why.
type ImportError struct {
	Line    int    `json:"line"`
	Message string `json:"message"`
}

// importColumns maps the header names accepted (English and Japanese) to
// the figure they hold.
var importColumns = map[string]string{
	"month": "month", "月": "month", "年月": "month",
	"network": "network", "sns": "network", "媒体": "network",
	"channel": "channel", "チャネル": "channel",
	"impressions": "impressions", "インプレッション": "impressions", "インプレッション数": "impressions",
	"engagements": "engagements", "エンゲージメント": "engagements", "エンゲージメント数": "engagements",
	"followers_gained": "followers_gained", "フォロワー増加": "followers_gained", "フォロワー増加数": "followers_gained",
	"clicks": "clicks", "クリック": "clicks", "クリック数": "clicks",
}

// Import reads a CSV file (UTF-8 or Shift_JIS, as dataio reads it) with a
// header naming month, network and any of the figures, and sets each row
// in one transaction; rows that do not parse are reported, not saved.
func (s *Service) Import(ctx context.Context, a platform.Actor, r io.Reader) (ImportResult, error) {
	res := ImportResult{Errors: []ImportError{}}
	rd, err := dataio.NewReader(r)
	if err != nil {
		return res, err
	}
	col := map[string]int{}
	for i, h := range rd.Header {
		if k, ok := importColumns[strings.ToLower(strings.TrimSpace(h))]; ok {
			col[k] = i
		}
	}
	if _, ok := col["month"]; !ok {
		return res, errs.Field("file", "the header must name a month column")
	}
	if _, ok := col["network"]; !ok {
		return res, errs.Field("file", "the header must name a network column")
	}
	var stats []Stat
	var lines []int
	for {
		row, err := rd.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return res, err
		}
		if row.Err != nil {
			res.Errors = append(res.Errors, ImportError{Line: row.Line, Message: row.Err.Error()})
			continue
		}
		get := func(k string) string {
			if i, ok := col[k]; ok && i < len(row.Fields) {
				return strings.TrimSpace(row.Fields[i])
			}
			return ""
		}
		st := Stat{Month: strings.ReplaceAll(get("month"), "/", "-"), Network: get("network"), Channel: get("channel")}
		if len(st.Month) == 6 { // "2026-4" → "2026-04"
			st.Month = st.Month[:5] + "0" + st.Month[5:]
		}
		bad := ""
		for _, f := range []struct {
			key string
			to  *int64
		}{{"impressions", &st.Impressions}, {"engagements", &st.Engagements}, {"followers_gained", &st.FollowersGained}, {"clicks", &st.Clicks}} {
			if v := get(f.key); v != "" {
				n, err := dataio.ParseInt(v)
				if err != nil {
					bad = f.key + ": " + err.Error()
					break
				}
				*f.to = n
			}
		}
		if bad != "" {
			res.Errors = append(res.Errors, ImportError{Line: row.Line, Message: bad})
			continue
		}
		stats = append(stats, st)
		lines = append(lines, row.Line)
	}
	err = s.DB.Write(ctx, "social.Import", func(tx *db.Tx) error {
		for i := range stats {
			if err := s.set(ctx, tx, a, &stats[i]); err != nil {
				if errs.KindOf(err) == errs.Invalid {
					res.Errors = append(res.Errors, ImportError{Line: lines[i], Message: err.Error()})
					continue
				}
				return err
			}
			res.Saved++
		}
		return nil
	})
	return res, err
}
