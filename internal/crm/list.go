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
	limit = clampLimit(limit)
	run := func(w where, n int) error {
		query := fmt.Sprintf("-- %s\n%s WHERE %s ORDER BY %s %s, id %s LIMIT ?", name, sel, w.sql, sp.col, dir, dir)
		rows, err := q.QueryContext(ctx, query, append(w.args, n)...)
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		defer rows.Close()
		for rows.Next() {
			v, err := scan(rows)
			if err != nil {
				return fmt.Errorf("%s: %w", name, err)
			}
			out.Items = append(out.Items, v)
		}
		if err := rows.Err(); err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		return nil
	}
	if c == nil {
		if err := run(w, limit+1); err != nil {
			return out, err
		}
	} else {
		// After a cursor, the rows tied with it on col come first, then the
		// rows past it. Two queries, because each is a straight index seek on
		// both engines; "col < ? OR (col = ? AND id < ?)" (and SQLite's row
		// values) seek on col only and then walk every tied row before the
		// cursor, so deep pages over contacts without activity (all at
		// last_activity_at 0) got slower page by page.
		tied := where{sql: w.sql, args: append([]any(nil), w.args...)}
		tied.and(fmt.Sprintf("%s = ? AND id %s ?", sp.col, op), c.V, c.ID)
		if err := run(tied, limit+1); err != nil {
			return out, err
		}
		if len(out.Items) <= limit {
			past := where{sql: w.sql, args: append([]any(nil), w.args...)}
			past.and(fmt.Sprintf("%s %s ?", sp.col, op), c.V)
			if err := run(past, limit+1-len(out.Items)); err != nil {
				return out, err
			}
		}
	}
	if len(out.Items) > limit {
		out.Items = out.Items[:limit]
		last := out.Items[limit-1]
		out.NextCursor = encodeCursor(sp.key(last), id(last))
	}
	return out, nil
}
