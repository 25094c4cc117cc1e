package platform

import (
	"context"
	"fmt"
	"net/url"
	"strings"

	"github.com/ryorin/ryorin/internal/db"
)

// Channel is one entry of the channel taxonomy that tracking, imports and
// reports all use, so "which channel brings the best leads" has one answer.
type Channel struct {
	Key     string `json:"key"`
	LabelEN string `json:"label_en"`
	LabelJA string `json:"label_ja"`
	BuiltIn bool   `json:"built_in"`
}

// The built-in channel keys.
const (
	ChannelOrganicSearch = "organic_search"
	ChannelPaidSearch    = "paid_search"
	ChannelSocial        = "social"
	ChannelEmail         = "email"
	ChannelReferral      = "referral"
	ChannelDirect        = "direct"
	ChannelEvents        = "events_offline"
	ChannelOther         = "other"
)

// DefaultChannels is the taxonomy every new workspace starts with.
var DefaultChannels = []Channel{
	{ChannelOrganicSearch, "Organic search", "自然検索", true},
	{ChannelPaidSearch, "Paid search", "検索広告", true},
	{ChannelSocial, "Social", "ソーシャル", true},
	{ChannelEmail, "Email", "メール", true},
	{ChannelReferral, "Referral", "参照サイト", true},
	{ChannelDirect, "Direct", "ダイレクト", true},
	{ChannelEvents, "Events / offline", "イベント・オフライン", true},
	{ChannelOther, "Other", "その他", true},
}

// ListChannels returns the workspace's channel taxonomy in display order.
func ListChannels(ctx context.Context, q db.Querier, ws int64) ([]Channel, error) {
	rows, err := q.QueryContext(ctx, `-- platform.ListChannels
		SELECT key, label_en, label_ja, built_in FROM channels WHERE workspace_id = ? ORDER BY position, key`, ws)
	if err != nil {
		return nil, fmt.Errorf("platform.ListChannels: %w", err)
	}
	defer rows.Close()
	out := []Channel{}
	for rows.Next() {
		var c Channel
		if err := rows.Scan(&c.Key, &c.LabelEN, &c.LabelJA, &c.BuiltIn); err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// ChannelExists reports whether key is in the workspace's taxonomy.
func ChannelExists(ctx context.Context, q db.Querier, ws int64, key string) (bool, error) {
	var n int
	err := q.QueryRowContext(ctx, `-- platform.ChannelExists
		SELECT COUNT(*) FROM channels WHERE workspace_id = ? AND key = ?`, ws, key).Scan(&n)
	return n > 0, err
}

var (
	searchEngines = []string{"google.", "bing.com", "yahoo.co.jp", "search.yahoo.", "duckduckgo.com", "baidu.com", "naver.com", "ecosia.org"}
	socialSites   = []string{"facebook.com", "fb.com", "instagram.com", "twitter.com", "x.com", "t.co", "linkedin.com", "lnkd.in",
		"youtube.com", "note.com", "line.me", "tiktok.com", "threads.net", "pinterest.", "reddit.com", "qiita.com", "zenn.dev", "b.hatena.ne.jp"}
)

var socialSources = map[string]bool{"twitter": true, "x": true, "facebook": true, "fb": true, "instagram": true, "linkedin": true,
	"youtube": true, "line": true, "tiktok": true, "note": true, "threads": true, "pinterest": true, "reddit": true}

// ClassifyChannel derives a default channel from UTM parameters and the
// referrer, the way analytics tools do: paid media first, then email, social
// and search referrers, any other site as referral, nothing as direct. The
// tracking capability makes these rules editable; this is the fallback.
func ClassifyChannel(utmSource, utmMedium, referrer, pageURL string) string {
	m := strings.ToLower(utmMedium)
	src := strings.ToLower(utmSource)
	switch {
	case m == "cpc" || m == "ppc" || m == "paid" || m == "paidsearch" || m == "paid_search" || m == "sem":
		return ChannelPaidSearch
	case m == "email" || m == "e-mail" || m == "newsletter" || m == "mail":
		return ChannelEmail
	case m == "social" || m == "paid_social" || m == "social-network" || m == "sns" || socialSources[src] || hostMatches(src, socialSites):
		return ChannelSocial
	case m == "event" || m == "offline" || m == "seminar" || m == "exhibition" || m == "webinar":
		return ChannelEvents
	case m == "referral":
		return ChannelReferral
	}
	host := refHost(referrer)
	switch {
	case host == "":
		if m != "" || src != "" {
			return ChannelOther
		}
		return ChannelDirect
	case host == refHost(pageURL):
		return ChannelDirect
	case hostMatches(host, searchEngines):
		return ChannelOrganicSearch
	case hostMatches(host, socialSites):
		return ChannelSocial
	}
	return ChannelReferral
}

func refHost(u string) string {
	p, err := url.Parse(strings.TrimSpace(u))
	if err != nil {
		return ""
	}
	return strings.TrimPrefix(strings.ToLower(p.Hostname()), "www.")
}

func hostMatches(host string, list []string) bool {
	if host == "" {
		return false
	}
	for _, s := range list {
		if strings.HasSuffix(s, ".") {
			if strings.HasPrefix(host, s) || strings.Contains(host, "."+s) {
				return true
			}
		} else if host == s || strings.HasSuffix(host, "."+s) {
			return true
		}
	}
	return false
}
