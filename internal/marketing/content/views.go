package content

import (
	"context"
	"fmt"
	"time"

	"github.com/ryorin/ryorin/internal/db"
	"github.com/ryorin/ryorin/internal/platform"
)

// ViewRecord is one recorded view of an asset.
type ViewRecord struct {
	ID        int64     `json:"id"`
	AssetID   int64     `json:"asset_id"`
	ContactID int64     `json:"contact_id,omitempty"`
	SharedBy  int64     `json:"shared_by,omitempty"`
	Source    string    `json:"source" doc:"share, form or public"`
	At        time.Time `json:"at"`
}

// RecentViews returns an asset's latest views, newest first (at most limit,
// 1–200).
func (s *Service) RecentViews(ctx context.Context, a platform.Actor, assetID int64, limit int) ([]ViewRecord, error) {
	if limit <= 0 || limit > 200 {
		limit = 20
	}
	rows, err := s.DB.Reader().QueryContext(ctx, `-- content.RecentViews
		SELECT id, asset_id, COALESCE(contact_id, 0), COALESCE(shared_by, 0), source, at FROM content_views
		WHERE workspace_id = ? AND asset_id = ? ORDER BY at DESC, id DESC LIMIT `+fmt.Sprint(limit), a.WorkspaceID, assetID)
	if err != nil {
		return nil, fmt.Errorf("content.RecentViews: %w", err)
	}
	defer rows.Close()
	out := []ViewRecord{}
	for rows.Next() {
		var v ViewRecord
		var at int64
		if err := rows.Scan(&v.ID, &v.AssetID, &v.ContactID, &v.SharedBy, &v.Source, &at); err != nil {
			return nil, fmt.Errorf("content.RecentViews: %w", err)
		}
		v.At = db.Time(at)
		out = append(out, v)
	}
	return out, rows.Err()
}
