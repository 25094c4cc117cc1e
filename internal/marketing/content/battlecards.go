package content

import (
	"context"
	"fmt"

	"github.com/ryorin/ryorin/internal/db"
	"github.com/ryorin/ryorin/internal/errs"
	"github.com/ryorin/ryorin/internal/platform"
)

// BattleCards returns the assets linked to a competitor, by title.
func (s *Service) BattleCards(ctx context.Context, a platform.Actor, competitorID int64) ([]Asset, error) {
	rows, err := s.DB.Reader().QueryContext(ctx, `-- content.BattleCards
		SELECT `+assetCols+` JOIN competitor_content cc ON cc.workspace_id = a.workspace_id AND cc.asset_id = a.id
		WHERE a.workspace_id = ? AND cc.competitor_id = ? AND a.status <> 'archived' ORDER BY a.title`, a.WorkspaceID, competitorID)
	if err != nil {
		return nil, fmt.Errorf("content.BattleCards: %w", err)
	}
	out := []Asset{}
	for rows.Next() {
		x, err := scanAsset(rows)
		if err != nil {
			rows.Close()
			return nil, fmt.Errorf("content.BattleCards: %w", err)
		}
		out = append(out, x)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	return out, loadTopics(ctx, s.DB.Reader(), a.WorkspaceID, out)
}

// LinkBattleCard links (or, with link false, unlinks) an asset to a
// competitor as a battle card.
func (s *Service) LinkBattleCard(ctx context.Context, a platform.Actor, competitorID, assetID int64, link bool) error {
	if err := canEdit(a); err != nil {
		return err
	}
	now := s.Clock.Now()
	return s.DB.Write(ctx, "content.LinkBattleCard", func(tx *db.Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, `-- content.LinkBattleCard competitor
			SELECT COUNT(*) FROM competitors WHERE workspace_id = ? AND id = ?`, a.WorkspaceID, competitorID).Scan(&n); err != nil {
			return fmt.Errorf("content.LinkBattleCard: %w", err)
		}
		if n == 0 {
			return errs.NotFoundf("competitor not found")
		}
		if _, err := get(ctx, tx, a.WorkspaceID, "a.id = ?", assetID); err != nil {
			return errs.Field("asset_id", "no such content")
		}
		q := `-- content.LinkBattleCard
			INSERT INTO competitor_content (workspace_id, competitor_id, asset_id) VALUES (?, ?, ?) ON CONFLICT DO NOTHING`
		action := "competitor.battle_card_linked"
		if !link {
			q = `-- content.LinkBattleCard unlink
				DELETE FROM competitor_content WHERE workspace_id = ? AND competitor_id = ? AND asset_id = ?`
			action = "competitor.battle_card_unlinked"
		}
		if _, err := tx.ExecContext(ctx, q, a.WorkspaceID, competitorID, assetID); err != nil {
			return fmt.Errorf("content.LinkBattleCard: %w", err)
		}
		return platform.Audit(ctx, tx, a, now, action, "competitor", competitorID, map[string]int64{"asset_id": assetID})
	})
}
