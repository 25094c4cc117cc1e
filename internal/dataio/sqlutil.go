package dataio

import (
	"context"
	"database/sql"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/ryorin/ryorin/internal/db"
)

// inserter builds multi-row INSERTs: one statement per few hundred rows
// instead of one per row. On PostgreSQL it sends one array per column and
// inserts from unnest(…): a statement of 20 parameters instead of 20 per
// row, which PostgreSQL parses and plans far faster (an import batch's
// insert took 3× less time).
type inserter struct {
	table string
	cols  []string
	types []string // PostgreSQL type of each column: bigint, text or jsonb
	rows  [][]any
}

// newInserter takes column names, each optionally typed "name:bigint" or
// "name:jsonb" (text by default) for PostgreSQL's arrays.
func newInserter(table string, cols ...string) *inserter {
	in := &inserter{table: table}
	for _, c := range cols {
		name, typ, ok := strings.Cut(c, ":")
		if !ok {
			typ = "text"
		}
		in.cols, in.types = append(in.cols, name), append(in.types, typ)
	}
	return in
}

// unnest is the PostgreSQL form: one statement, one array per column.
func (in *inserter) unnest(returning string) (string, []any) {
	var sel, arr []string
	args := make([]any, len(in.cols))
	for i, c := range in.cols {
		switch in.types[i] {
		case "bigint":
			a := make([]*int64, len(in.rows))
			for j, r := range in.rows {
				switch v := r[i].(type) {
				case int64:
					a[j] = &v
				case int:
					n := int64(v)
					a[j] = &n
				}
			}
			args[i] = a
			arr = append(arr, "?::bigint[]")
			sel = append(sel, c)
		default:
			a := make([]*string, len(in.rows))
			for j, r := range in.rows {
				if v, ok := r[i].(string); ok {
					a[j] = &v
				}
			}
			args[i] = a
			arr = append(arr, "?::text[]")
			if in.types[i] == "jsonb" {
				sel = append(sel, c+"::jsonb")
			} else {
				sel = append(sel, c)
			}
		}
	}
	q := fmt.Sprintf("INSERT INTO %s (%s) SELECT %s FROM unnest(%s) AS u(%s)", in.table, strings.Join(in.cols, ", "),
		strings.Join(sel, ", "), strings.Join(arr, ", "), strings.Join(in.cols, ", "))
	if returning != "" {
		q += " RETURNING " + returning
	}
	return q, args
}

func (in *inserter) add(vals ...any) { in.rows = append(in.rows, vals) }

// maxParams keeps a statement under both engines' limits on bound values.
const maxParams = 30000

func (in *inserter) statements(returning string) (stmts []string, args [][]any) {
	per := max(1, maxParams/len(in.cols))
	one := "(" + db.Placeholders(len(in.cols)) + ")"
	for start := 0; start < len(in.rows); start += per {
		end := min(start+per, len(in.rows))
		var b strings.Builder
		fmt.Fprintf(&b, "INSERT INTO %s (%s) VALUES ", in.table, strings.Join(in.cols, ", "))
		var a []any
		for i := start; i < end; i++ {
			if i > start {
				b.WriteString(", ")
			}
			b.WriteString(one)
			a = append(a, in.rows[i]...)
		}
		if returning != "" {
			b.WriteString(" RETURNING " + returning)
		}
		stmts, args = append(stmts, b.String()), append(args, a)
	}
	return stmts, args
}

func (in *inserter) exec(ctx context.Context, tx *db.Tx, name string) error {
	if len(in.rows) == 0 {
		return nil
	}
	stmts, args := in.statements("")
	if tx.Dialect() == db.Postgres {
		q, a := in.unnest("")
		stmts, args = []string{q}, [][]any{a}
	}
	for i, q := range stmts {
		if _, err := tx.ExecContext(ctx, "-- "+name+"\n"+q, args[i]...); err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
	}
	return nil
}

// query runs the inserts with RETURNING and scans every returned row. The
// order of returned rows is not the order of the values (SQLite says so), so
// callers match rows by a returned key.
func (in *inserter) query(ctx context.Context, tx *db.Tx, name, returning string, scan func(*sql.Rows) error) error {
	if len(in.rows) == 0 {
		return nil
	}
	stmts, args := in.statements(returning)
	if tx.Dialect() == db.Postgres {
		q, a := in.unnest(returning)
		stmts, args = []string{q}, [][]any{a}
	}
	for i, q := range stmts {
		rows, err := tx.QueryContext(ctx, "-- "+name+"\n"+q, args[i]...)
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		for rows.Next() {
			if err := scan(rows); err != nil {
				rows.Close()
				return fmt.Errorf("%s: %w", name, err)
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
	}
	return nil
}

// inChunks calls fn with the values split into groups small enough for an
// IN (…) list, and their placeholders.
func inChunks[T any](vals []T, fn func(ph string, args []any) error) error {
	const per = 500
	for start := 0; start < len(vals); start += per {
		end := min(start+per, len(vals))
		args := make([]any, 0, end-start)
		for _, v := range vals[start:end] {
			args = append(args, v)
		}
		if err := fn(db.Placeholders(end-start), args); err != nil {
			return err
		}
	}
	return nil
}

// NewCSVWriter starts a CSV for spreadsheets with a UTF-8 byte-order mark:
// Excel otherwise reads UTF-8 as Shift_JIS. Lines end in LF, which Excel
// reads, and which keeps a newline inside a cell a plain LF (CRLF mode would
// turn it into CRLF).
func NewCSVWriter(w io.Writer) *csv.Writer {
	_, _ = w.Write(bom)
	return csv.NewWriter(w)
}

// rowUpdate is one record's new column values (as the database stores them).
type rowUpdate struct {
	id  int64
	set map[string]any
}

// bulkUpdate writes many records' changed columns with one UPDATE per 200
// records (col = CASE id WHEN … THEN … ELSE col END), both engines' syntax.
// One statement instead of one per record matters on SQLite: every
// statement makes the full-text index flush its pending terms.
func bulkUpdate(ctx context.Context, tx *db.Tx, name, table string, ws int64, rows []rowUpdate, now int64) error {
	const per = 200
	for start := 0; start < len(rows); start += per {
		chunk := rows[start:min(start+per, len(rows))]
		colSet := map[string]bool{}
		for _, r := range chunk {
			for k := range r.set {
				colSet[k] = true
			}
		}
		cols := make([]string, 0, len(colSet))
		for k := range colSet {
			cols = append(cols, k)
		}
		slices.Sort(cols)
		var b strings.Builder
		var args []any
		b.WriteString("-- " + name + "\nUPDATE " + table + " SET ")
		for _, c := range cols {
			b.WriteString(c + " = CASE id")
			for _, r := range chunk {
				if v, ok := r.set[c]; ok {
					b.WriteString(" WHEN ? THEN ?")
					args = append(args, r.id, v)
				}
			}
			b.WriteString(" ELSE " + c + " END, ")
		}
		b.WriteString("updated_at = ? WHERE workspace_id = ? AND id IN (")
		args = append(args, now, ws)
		for i, r := range chunk {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString("?")
			args = append(args, r.id)
		}
		b.WriteString(")")
		if _, err := tx.ExecContext(ctx, b.String(), args...); err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
	}
	return nil
}

func marshal(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// distinct returns the non-empty keys of recs, each once, in order.
func distinct(recs []record, key func(record) string) []string {
	var out []string
	seen := map[string]bool{}
	for _, rec := range recs {
		if k := key(rec); k != "" && !seen[k] {
			seen[k] = true
			out = append(out, k)
		}
	}
	return out
}
