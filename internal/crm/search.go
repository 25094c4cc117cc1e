package crm

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/ryorin/ryorin/internal/db"
)

// searchCond returns the condition for a partial-match search on a table's
// search_text. Three characters or more use the trigram index (FTS5 on
// SQLite, pg_trgm on PostgreSQL); shorter queries match the start of the
// text (family name first), which a plain index serves.
func searchCond(d db.Dialect, table, q string) (string, []any) {
	f := strings.TrimSpace(Fold(q))
	if shortQuery(q) {
		if d == db.Postgres && table == "contacts" {
			// Byte order (COLLATE "C"), as the prefix index is built.
			return `search_text COLLATE "C" LIKE ? ESCAPE '\'`, []any{strings.TrimPrefix(likePattern(f), "%")}
		}
		if d == db.Postgres {
			return `search_text LIKE ? ESCAPE '\'`, []any{strings.TrimPrefix(likePattern(f), "%")}
		}
		return "search_text >= ? AND search_text < ?", []any{f, f + "\U0010FFFF"}
	}
	if d == db.SQLite && slices.Contains(db.SearchTables, table) {
		// A quoted FTS5 string with the trigram tokenizer matches any
		// substring; the index is in the search file (ADR 0028).
		return "id IN (SELECT rowid FROM " + db.SearchTable(table) + " WHERE " + table + "_fts MATCH ?)", []any{`"` + strings.ReplaceAll(f, `"`, `""`) + `"`}
	}
	return `search_text LIKE ? ESCAPE '\'`, []any{likePattern(f)}
}

// searchCatchUp is how long a search first spends applying the search
// index's queue, so it finds the rows written just before it. Behind a
// longer backlog (an import) it searches what is indexed and the background
// indexer catches up.
const searchCatchUp = 50 * time.Millisecond

// search is searchCond after the search index has caught up with the
// writes before it (SQLite).
func (s *Service) search(ctx context.Context, table, q string) (string, []any, error) {
	if !shortQuery(q) && slices.Contains(db.SearchTables, table) {
		if err := s.DB.SearchCatchUp(ctx, searchCatchUp); err != nil {
			return "", nil, fmt.Errorf("crm: search index: %w", err)
		}
	}
	cond, args := searchCond(s.DB.Dialect, table, q)
	return cond, args, nil
}

// shortQuery reports whether q is too short for the trigram index (one or two
// characters after folding) and so is matched as a name prefix.
func shortQuery(q string) bool {
	return utf8.RuneCountInString(strings.TrimSpace(Fold(q))) < 3
}

// nameOrder is the expression contacts are sorted by in name order: bytes on
// both engines, matching the prefix index.
func nameOrder(d db.Dialect) string {
	if d == db.Postgres {
		return `search_text COLLATE "C"`
	}
	return "search_text"
}
