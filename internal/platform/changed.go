package platform

import (
	"context"
	"fmt"

	"github.com/ryorin/ryorin/internal/db"
)

// ChangedSince reads up to limit rows of table (contacts or companies: a
// table with an index on (workspace_id, updated_at, id)) changed after the
// mark (at, id), in (updated_at, id) order, and calls fn with each row's id
// and updated_at. It runs as two straight seeks of that index, the rows tied
// with the mark first and then the later ones: with "updated_at > ? OR
// (updated_at = ? AND id > ?)" SQLite walked the index from its start. It
// returns how many rows it read.
func ChangedSince(ctx context.Context, q db.Querier, table string, ws, at, id int64, limit int, fn func(id, updatedAt int64)) (int, error) {
	n := 0
	for _, part := range []struct {
		where string
		args  []any
	}{
		{"updated_at = ? AND id > ? ORDER BY id", []any{at, id}},
		{"updated_at > ? ORDER BY updated_at, id", []any{at}},
	} {
		if n >= limit {
			break
		}
		rows, err := q.QueryContext(ctx, `-- platform.ChangedSince `+table+`
			SELECT id, updated_at FROM `+table+` WHERE workspace_id = ? AND `+part.where+` LIMIT ?`,
			append(append([]any{ws}, part.args...), limit-n)...)
		if err != nil {
			return n, fmt.Errorf("platform.ChangedSince %s: %w", table, err)
		}
		for rows.Next() {
			var rid, u int64
			if err := rows.Scan(&rid, &u); err != nil {
				rows.Close()
				return n, fmt.Errorf("platform.ChangedSince %s: %w", table, err)
			}
			fn(rid, u)
			n++
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return n, fmt.Errorf("platform.ChangedSince %s: %w", table, err)
		}
	}
	return n, nil
}
