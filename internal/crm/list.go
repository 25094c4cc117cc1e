package crm

import (
	"context"
	"fmt"
	"sort"

	"github.com/ryorin/ryorin/internal/db"
)

// where accumulates AND-ed conditions with their arguments.
type where struct {
	sql  string
	args []any
}

func (w *where) and(cond string, args ...any) {
	w.sql += " AND " + cond
	w.args = append(w.args, args...)
}

// eq adds "col = v" for each non-zero id filter, in the order given.
func (w *where) eq(pairs ...any) {
	for i := 0; i+1 < len(pairs); i += 2 {
		if v, _ := pairs[i+1].(int64); v != 0 {
			w.and(pairs[i].(string)+" = ?", v)
		}
	}
}

func (w *where) props(defs []PropertyDefinition, props map[string]string) error {
	keys := make([]string, 0, len(props))
	for k := range props {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		cond, args, err := propFilterSQL(defs, k, props[k])
		if err != nil {
			return err
		}
		w.and(cond, args...)
	}
	return nil
}

// sortSpec is one allowed sort order: a column, its direction, and how to read
// the key back from a row for the next page's cursor.
type sortSpec[T any] struct {
	col  string
	desc bool
	key  func(T) any
}

// listPage runs a keyset-paginated query: rows after the cursor in (col, id)
// order. Keyset paging costs the same on page 1 and page 20,000.
func listPage[T any](ctx context.Context, q db.Querier, name, sel string, w where, sp sortSpec[T], cur string, limit int,
	scan func(interface{ Scan(...any) error }) (T, error), id func(T) int64) (Page[T], error) {
	out := Page[T]{Items: []T{}}
	c, err := decodeCursor(cur)
	if err != nil {
		return out, err
	}
	op, dir := ">", "ASC"
	if sp.desc {
		op, dir = "<", "DESC"
	}
	if c != nil {
		w.and(fmt.Sprintf("(%s %s ? OR (%s = ? AND id %s ?))", sp.col, op, sp.col, op), c.V, c.V, c.ID)
	}
	limit = clampLimit(limit)
	query := fmt.Sprintf("-- %s\n%s WHERE %s ORDER BY %s %s, id %s LIMIT ?", name, sel, w.sql, sp.col, dir, dir)
	rows, err := q.QueryContext(ctx, query, append(w.args, limit+1)...)
	if err != nil {
		return out, fmt.Errorf("%s: %w", name, err)
	}
	defer rows.Close()
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return out, fmt.Errorf("%s: %w", name, err)
		}
		out.Items = append(out.Items, v)
	}
	if err := rows.Err(); err != nil {
		return out, fmt.Errorf("%s: %w", name, err)
	}
	if len(out.Items) > limit {
		out.Items = out.Items[:limit]
		last := out.Items[limit-1]
		out.NextCursor = encodeCursor(sp.key(last), id(last))
	}
	return out, nil
}
