package db_test

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/ryorin/ryorin/internal/db"
	"github.com/ryorin/ryorin/internal/dbtest"
)

// keyExceptions are the tables ADR 0003 keys otherwise, on purpose.
var keyExceptions = map[string]bool{"workspaces": true, "schema_migrations": true, "sessions": true, "api_tokens": true}

// TestSchema_EveryKeyIncludesTheWorkspace proves the schema is ready to be
// distributed by workspace on a Postgres-compatible distributed engine
// (Citus): every table has workspace_id, and every primary key, unique index
// and foreign key includes it, so a workspace's rows and their references
// can live on one shard.
func TestSchema_EveryKeyIncludesTheWorkspace(t *testing.T) {
	d := dbtest.Open(t, db.Postgres)
	ctx := context.Background()
	q := d.Reader()
	check := func(what, query string) {
		t.Helper()
		rows, err := q.QueryContext(ctx, query)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		for rows.Next() {
			var table, name string
			if err := rows.Scan(&table, &name); err != nil {
				t.Fatal(err)
			}
			if !keyExceptions[table] {
				t.Errorf("%s %s on %s does not include workspace_id", what, name, table)
			}
		}
	}
	check("table", `SELECT c.relname, '' FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p')
		AND NOT EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attname = 'workspace_id' AND NOT a.attisdropped)`)
	// Primary keys and unique indexes (constraints and plain unique indexes).
	check("unique key", `SELECT t.relname, i.relname FROM pg_index x
		JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class t ON t.oid = x.indrelid JOIN pg_namespace n ON n.oid = t.relnamespace
		WHERE n.nspname = 'public' AND x.indisunique
		AND NOT EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = t.oid AND a.attname = 'workspace_id' AND a.attnum = ANY (x.indkey))`)
	// Foreign keys, on both sides (a reference to workspaces(id) by
	// workspace_id is the one allowed single-column form).
	check("foreign key", `SELECT t.relname, con.conname FROM pg_constraint con
		JOIN pg_class t ON t.oid = con.conrelid JOIN pg_namespace n ON n.oid = t.relnamespace JOIN pg_class r ON r.oid = con.confrelid
		WHERE n.nspname = 'public' AND con.contype = 'f' AND NOT (r.relname = 'workspaces' AND array_length(con.conkey, 1) = 1
			AND (SELECT attname FROM pg_attribute WHERE attrelid = t.oid AND attnum = con.conkey[1]) = 'workspace_id')
		AND NOT EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = t.oid AND a.attname = 'workspace_id' AND a.attnum = ANY (con.conkey))`)
}

// TestSchema_NoQueryJoinsAcrossWorkspaces reads every SQL JOIN in the source
// and requires its ON condition to match the workspace too.
func TestSchema_NoQueryJoinsAcrossWorkspaces(t *testing.T) {
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	join := regexp.MustCompile(`(?is)\bJOIN\s+(\w+)(?:\s+(?:AS\s+)?\w+)?\s+ON\s+(.*?)(?:\bWHERE\b|\bLEFT\b|\bJOIN\b|\bORDER\b|\bGROUP\b|\bLIMIT\b|\bUNION\b|` + "`" + `|$)`)
	seen := 0
	for _, dir := range []string{"internal", "cmd"} {
		err := filepath.WalkDir(filepath.Join(root, dir), func(p string, e os.DirEntry, err error) error {
			if err != nil || e.IsDir() || !strings.HasSuffix(p, ".go") || strings.HasSuffix(p, "_test.go") {
				return err
			}
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			for _, m := range join.FindAllStringSubmatch(string(b), -1) {
				seen++
				if !strings.Contains(m[2], "workspace_id") {
					rel, _ := filepath.Rel(root, p)
					t.Errorf("%s: JOIN %s ON %q does not match the workspace", rel, m[1], strings.TrimSpace(m[2]))
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if seen < 5 {
		t.Fatalf("found only %d joins: the scan is broken", seen)
	}
}
