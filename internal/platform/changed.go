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

// ContactEventWindow bounds how many event ids ContactEventsSince walks in
// one call.
var ContactEventWindow int64 = 50_000

// ContactEventsSince reads, in id order, up to limit events tied to a
// contact with ids after mark (and matching the extra condition, if any),
// calling fn with each event's id and contact. It returns the new mark.
// Anonymous events (most tracking) are skipped without being read one by
// one on every call: it walks at most ContactEventWindow ids past the mark,
// and when it found fewer than limit events there, the mark moves to the
// window's end. (With "id > mark AND contact_id IS NOT NULL" alone, a mark
// behind a million anonymous page views made every call read all of them.)
func ContactEventsSince(ctx context.Context, q db.Querier, ws, mark int64, limit int, extra string, fn func(id, contactID int64)) (int64, error) {
	var newest int64
	if err := q.QueryRowContext(ctx, `-- platform.ContactEventsSince newest
		SELECT COALESCE(MAX(id), 0) FROM events WHERE workspace_id = ?`, ws).Scan(&newest); err != nil {
		return mark, fmt.Errorf("platform.ContactEventsSince: %w", err)
	}
	if extra != "" {
		extra = " AND " + extra
	}
	// Window after window until events are found or the newest is reached.
	for mark < newest {
		upto := min(newest, mark+ContactEventWindow)
		n, last, err := contactEventsIn(ctx, q, ws, mark, upto, limit, extra, fn)
		if err != nil || n > 0 {
			return last, err
		}
		mark = upto
	}
	return mark, nil
}

func contactEventsIn(ctx context.Context, q db.Querier, ws, mark, upto int64, limit int, extra string, fn func(id, contactID int64)) (int, int64, error) {
	rows, err := q.QueryContext(ctx, `-- platform.ContactEventsSince
		SELECT id, contact_id FROM events WHERE workspace_id = ? AND id > ? AND id <= ? AND contact_id IS NOT NULL`+extra+`
		ORDER BY id LIMIT ?`, ws, mark, upto, limit)
	if err != nil {
		return 0, mark, fmt.Errorf("platform.ContactEventsSince: %w", err)
	}
	defer rows.Close()
	n, last := 0, mark
	for rows.Next() {
		var id, cid int64
		if err := rows.Scan(&id, &cid); err != nil {
			return 0, mark, fmt.Errorf("platform.ContactEventsSince: %w", err)
		}
		fn(id, cid)
		n, last = n+1, id
	}
	if err := rows.Err(); err != nil {
		return 0, mark, fmt.Errorf("platform.ContactEventsSince: %w", err)
	}
	if n < limit {
		last = upto // the whole window was read
	}
	return n, last, nil
}
