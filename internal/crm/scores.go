package crm

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strconv"
	"time"

	"github.com/ryorin/ryorin/internal/db"
)

// DecayedEngagement is an engagement score computed at scoredAt, as it stands
// at now. Every engagement point decays by the same half-life, so without
// new events the whole score halves every halfLifeDays: readers apply the
// decay, and a contact with no new activity needs no rescore to lose points
// (ADR 0026). A half-life of 0 (scores from before it was kept) does not decay.
func DecayedEngagement(e float64, scoredAt time.Time, halfLifeDays int, now time.Time) float64 {
	age := now.Sub(scoredAt)
	if halfLifeDays <= 0 || age <= 0 || e == 0 {
		return e
	}
	return math.Round(e*math.Exp2(-age.Hours()/(24*float64(halfLifeDays)))*10) / 10
}

// EngagementSQL is DecayedEngagement as an SQL expression (SQLite and
// PostgreSQL) over the contact_scores row aliased alias, at now: what a
// segment condition or a report compares, so that every reader sees the
// same decayed figure as the contact page.
func EngagementSQL(alias string, now time.Time) string {
	ms := strconv.FormatInt(db.Millis(now), 10)
	a := alias + "."
	return "(CASE WHEN " + a + "half_life_days > 0 AND " + a + "scored_at < " + ms +
		" THEN round(" + a + "engagement_score * exp(-0.6931471805599453 * (" + ms + " - " + a + "scored_at) / (" + a + "half_life_days * 86400000.0)) * 10) / 10" +
		" ELSE " + a + "engagement_score END)"
}

// fillScores sets each contact's Score from contact_scores, the narrow table
// the lead scorer writes (migrations 0046, 0056), with engagement decayed to
// now. One query per call: a page, a batch or one contact. A contact without
// a row has no scores yet. The explanation lines are not stored: the lead
// package computes them when one contact is shown.
func (s *Service) fillScores(ctx context.Context, q db.Querier, ws int64, cs []Contact) error {
	if len(cs) == 0 {
		return nil
	}
	at := make(map[int64]int, len(cs))
	ids := make([]int64, 0, len(cs))
	for i, c := range cs {
		at[c.ID] = i
		ids = append(ids, c.ID)
	}
	ids = uniqueIDs(ids)
	lo, hi := slices.Min(ids), slices.Max(ids)
	// A page of an export or a list by id: the ids are (nearly) a run, so
	// one range of the index instead of a probe per id (a thousand probes
	// took 16 ms on PostgreSQL). Sparse ids: the list.
	cond, args := "contact_id BETWEEN ? AND ?", []any{lo, hi}
	if hi-lo >= int64(4*len(ids)) {
		var ph string
		ph, args = inList(ids)
		cond = "contact_id IN (" + ph + ")"
	}
	rows, err := q.QueryContext(ctx, `-- crm.fillScores
		SELECT contact_id, fit_score, fit_grade, engagement_score, half_life_days, scored_at
		FROM contact_scores WHERE workspace_id = ? AND `+cond, append([]any{ws}, args...)...)
	if err != nil {
		return fmt.Errorf("crm.fillScores: %w", err)
	}
	defer rows.Close()
	now := s.Clock.Now()
	for rows.Next() {
		var id int64
		var sc ContactScore
		var half int
		var scoredAt *int64
		if err := rows.Scan(&id, &sc.Fit, &sc.FitGrade, &sc.Engagement, &half, &scoredAt); err != nil {
			return fmt.Errorf("crm.fillScores: %w", err)
		}
		if scoredAt != nil {
			t := db.Time(*scoredAt)
			sc.ScoredAt = &t
			sc.Engagement = DecayedEngagement(sc.Engagement, t, half, now)
		}
		if i, ok := at[id]; ok {
			cs[i].Score = sc
		}
	}
	return rows.Err()
}
