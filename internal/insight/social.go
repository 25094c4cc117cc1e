package insight

import (
	"context"
	"fmt"

	"github.com/ryorin/ryorin/internal/db"
	"github.com/ryorin/ryorin/internal/platform"
)

// SocialFormula says how the social engagement KPIs are computed.
const SocialFormula = "engagements = sum of the engagements entered or imported per social network for the months that start in the period; engagement rate = engagements ÷ impressions of the same entries"

// SocialRow is one network's figures summed over a period.
type SocialRow struct {
	Network         string `json:"network"`
	Impressions     int64  `json:"impressions"`
	Engagements     int64  `json:"engagements"`
	FollowersGained int64  `json:"followers_gained"`
	Clicks          int64  `json:"clicks"`
}

// Rate is engagements ÷ impressions (0 without impressions).
func (r SocialRow) Rate() float64 {
	if r.Impressions == 0 {
		return 0
	}
	return float64(r.Engagements) / float64(r.Impressions)
}

// Social is the social engagement of a period, per network and in total.
type Social struct {
	Period Period      `json:"period"`
	Months []string    `json:"months" doc:"the months counted (those that start in the period)"`
	Rows   []SocialRow `json:"rows"`
	Total  SocialRow   `json:"total"`
	// Unfiltered is set when the filter names more than a channel: social
	// figures are entered per network, not per campaign, team, owner or
	// pipeline.
	Unfiltered bool `json:"unfiltered,omitempty"`
}

// SocialOf sums the social figures of the months that start in the
// period, per network, narrowed by the filter's channel only.
func SocialOf(ctx context.Context, q db.Querier, w platform.Workspace, p Period, f KPIFilter) (Social, error) {
	return cached(ctx, q, cacheKey("social", w.ID, p.From.UnixMilli(), p.To.UnixMilli(), f), func(ctx context.Context) (Social, error) {
		return socialOf(ctx, q, w, p, f)
	})
}

func socialOf(ctx context.Context, q db.Querier, w platform.Workspace, p Period, f KPIFilter) (Social, error) {
	months, ws := monthsIn(w, p), w.ID
	out := Social{Period: p, Months: months, Rows: []SocialRow{}, Unfiltered: f.CampaignID != 0 || f.TeamID != 0 || f.OwnerID != 0 || f.PipelineID != 0}
	if len(months) == 0 {
		return out, nil
	}
	query := `-- insight.SocialOf
		SELECT network, SUM(impressions), SUM(engagements), SUM(followers_gained), SUM(clicks) FROM social_stats
		WHERE workspace_id = ? AND month >= ? AND month <= ?`
	args := []any{ws, months[0], months[len(months)-1]}
	if f.Channel != "" {
		query += ` AND channel = ?`
		args = append(args, f.Channel)
	}
	err := scanRows(ctx, q, func(s scanner) error {
		var r SocialRow
		if err := s.Scan(&r.Network, &r.Impressions, &r.Engagements, &r.FollowersGained, &r.Clicks); err != nil {
			return err
		}
		out.Rows = append(out.Rows, r)
		out.Total.Impressions += r.Impressions
		out.Total.Engagements += r.Engagements
		out.Total.FollowersGained += r.FollowersGained
		out.Total.Clicks += r.Clicks
		return nil
	}, query+` GROUP BY network ORDER BY network`, args...)
	if err != nil {
		return out, fmt.Errorf("insight.SocialOf: %w", err)
	}
	return out, nil
}
