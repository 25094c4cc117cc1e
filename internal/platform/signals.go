package platform

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/ryorin/ryorin/internal/db"
)

// SignalKinds are the event kinds (besides page views of PricingPaths) that
// say a known contact is interested again: a rep's today page lists them as
// hot leads.
var SignalKinds = []string{"email_click", "form_submit", "content_view", "quote_view"}

// PricingPaths are the pages whose view by a known contact counts as a
// re-engagement signal (exact paths).
var PricingPaths = []string{"/pricing", "/pricing/", "/price", "/plans", "/ja/pricing", "/en/pricing"}

// IsSignal reports whether an event of kind at path is a re-engagement signal.
func IsSignal(kind, path string) bool {
	if kind == "page_view" {
		return slices.Contains(PricingPaths, path)
	}
	return slices.Contains(SignalKinds, kind)
}

// SignalCond is the SQL condition (over an events table aliased e, or not
// aliased when alias is "") that keeps the re-engagement signals, with the
// kinds and paths written as literals.
func SignalCond(alias string) string {
	if alias != "" {
		alias += "."
	}
	return "(" + alias + "kind IN (" + quoteList(SignalKinds) + ") OR (" + alias + "kind = 'page_view' AND " + alias + "path IN (" + quoteList(PricingPaths) + ")))"
}

func quoteList(l []string) string {
	q := make([]string, len(l))
	for i, s := range l {
		q[i] = "'" + strings.ReplaceAll(s, "'", "''") + "'"
	}
	return strings.Join(q, ", ")
}

// NoteSignals keeps, for each contact in latest (contact id → the newest
// signal's time, Unix ms), the time of its newest re-engagement signal in
// contact_signals, with the contact's owner beside it, so a rep's hot leads
// are an index range of their own rows (a trigger keeps the owner current).
// A time older than the one kept changes nothing. Contacts that do not exist
// are skipped.
func NoteSignals(ctx context.Context, tx *db.Tx, ws int64, latest map[int64]int64) error {
	if len(latest) == 0 {
		return nil
	}
	ids := make([]int64, 0, len(latest))
	for id := range latest {
		ids = append(ids, id)
	}
	slices.Sort(ids) // a stable lock order on PostgreSQL
	for start := 0; start < len(ids); start += 200 {
		part := ids[start:min(start+200, len(ids))]
		args := make([]any, 0, len(part)*2+1)
		for _, id := range part {
			args = append(args, id, latest[id])
		}
		args = append(args, ws)
		if _, err := tx.ExecContext(ctx, `-- platform.NoteSignals
			WITH v (id, at) AS (VALUES `+db.Rows(len(part), "(CAST(? AS BIGINT), CAST(? AS BIGINT))")+`)
			INSERT INTO contact_signals (workspace_id, contact_id, owner_id, last_at)
			SELECT c.workspace_id, c.id, c.owner_id, v.at FROM v JOIN contacts c ON c.workspace_id = ? AND c.id = v.id WHERE true
			ON CONFLICT (workspace_id, contact_id) DO UPDATE SET last_at = excluded.last_at
			WHERE excluded.last_at > contact_signals.last_at`, args...); err != nil {
			return fmt.Errorf("platform.NoteSignals: %w", err)
		}
	}
	return nil
}

// RefreshSignals sets the contacts' newest signal time from their events, for
// when events change hands (a merge and its undo): a contact with no signal
// event left loses its row.
func RefreshSignals(ctx context.Context, tx *db.Tx, ws int64, contacts ...int64) error {
	latest := map[int64]int64{}
	for _, id := range contacts {
		if _, err := tx.ExecContext(ctx, `DELETE FROM contact_signals WHERE workspace_id = ? AND contact_id = ?`, ws, id); err != nil {
			return fmt.Errorf("platform.RefreshSignals: %w", err)
		}
		var at int64
		err := tx.QueryRowContext(ctx, `-- platform.RefreshSignals
			SELECT occurred_at FROM events WHERE workspace_id = ? AND contact_id = ? AND `+SignalCond("")+`
			ORDER BY occurred_at DESC LIMIT 1`, ws, id).Scan(&at)
		if db.NoRows(err) {
			continue
		}
		if err != nil {
			return fmt.Errorf("platform.RefreshSignals: %w", err)
		}
		latest[id] = at
	}
	return NoteSignals(ctx, tx, ws, latest)
}
