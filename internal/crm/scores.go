package crm

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/ryorin/ryorin/internal/db"
)

// fillScores sets each contact's Score from contact_scores, the narrow table
// the lead scorer writes (migration 0046). One query per call: a page, a
// batch or one contact. A contact without a row has no scores yet.
func fillScores(ctx context.Context, q db.Querier, ws int64, cs []Contact) error {
	if len(cs) == 0 {
		return nil
	}
	at := make(map[int64]int, len(cs))
	ids := make([]int64, 0, len(cs))
	for i, c := range cs {
		at[c.ID] = i
		ids = append(ids, c.ID)
	}
	ph, args := inList(uniqueIDs(ids))
	rows, err := q.QueryContext(ctx, `-- crm.fillScores
		SELECT contact_id, fit_score, fit_grade, engagement_score, score_lines, scored_at
		FROM contact_scores WHERE workspace_id = ? AND contact_id IN (`+ph+`)`, append([]any{ws}, args...)...)
	if err != nil {
		return fmt.Errorf("crm.fillScores: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var s ContactScore
		var lines *string
		var scoredAt *int64
		if err := rows.Scan(&id, &s.Fit, &s.FitGrade, &s.Engagement, &lines, &scoredAt); err != nil {
			return fmt.Errorf("crm.fillScores: %w", err)
		}
		if lines != nil && *lines != "" && *lines != "null" {
			s.Lines = json.RawMessage(*lines)
		}
		if scoredAt != nil {
			t := db.Time(*scoredAt)
			s.ScoredAt = &t
		}
		if i, ok := at[id]; ok {
			cs[i].Score = s
		}
	}
	return rows.Err()
}
