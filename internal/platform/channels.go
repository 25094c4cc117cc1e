package platform

import (
	"context"
	"fmt"

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
