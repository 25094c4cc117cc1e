// Package dbtest opens real, migrated, throw-away databases for tests: SQLite
// always, and PostgreSQL when RYORIN_TEST_DATABASE_URL is set. Each call gets
// its own database, so tests never see each other's data. No mocks.
package dbtest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/ryorin/ryorin/internal/db"
)

// EnvURL names the environment variable holding the PostgreSQL server URL.
const EnvURL = "RYORIN_TEST_DATABASE_URL"

// Engines lists the engines available to this test run.
func Engines() []db.Dialect {
	if os.Getenv(EnvURL) != "" {
		return []db.Dialect{db.SQLite, db.Postgres}
	}
	return []db.Dialect{db.SQLite}
}

// Each runs fn as a subtest once per engine, each with a fresh migrated
// database. Without RYORIN_TEST_DATABASE_URL the PostgreSQL subtest skips and
// says so.
func Each(t *testing.T, fn func(t *testing.T, d *db.DB)) {
	t.Helper()
	for _, e := range []db.Dialect{db.SQLite, db.Postgres} {
		t.Run(string(e), func(t *testing.T) {
			if e == db.Postgres && os.Getenv(EnvURL) == "" {
				t.Skip("PostgreSQL tests skipped: set " + EnvURL + "=postgres://postgres@127.0.0.1:5432/test to run them")
			}
			fn(t, Open(t, e))
		})
	}
}

// Open returns a fresh migrated database of engine e, removed when t ends.
func Open(t testing.TB, e db.Dialect) *db.DB {
	t.Helper()
	ctx := context.Background()
	if e == db.SQLite {
		d, err := db.OpenSQLite(ctx, filepath.Join(t.TempDir(), "test.db"))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := d.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { d.Close() })
		return d
	}
	u := os.Getenv(EnvURL)
	if u == "" {
		t.Skip("PostgreSQL tests skipped: " + EnvURL + " is not set")
	}
	tmpl, err := template(u)
	if err != nil {
		t.Fatal(err)
	}
	name := "ryorin_test_" + randHex(6)
	admin, err := sql.Open("pgx", u)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	if _, err := admin.ExecContext(ctx, fmt.Sprintf(`CREATE DATABASE %s TEMPLATE %s`, name, tmpl)); err != nil {
		t.Fatalf("create test database: %v", err)
	}
	d, err := db.Open(ctx, withDB(u, name), "")
	if err != nil {
		t.Fatal(err)
	}
	urls.Store(d, withDB(u, name))
	t.Cleanup(func() {
		d.Close()
		a, err := sql.Open("pgx", u)
		if err == nil {
			_, _ = a.Exec(fmt.Sprintf(`DROP DATABASE IF EXISTS %s WITH (FORCE)`, name))
			a.Close()
		}
	})
	return d
}

var urls sync.Map

// URLOf returns the connection URL of a PostgreSQL test database from Open.
func URLOf(d *db.DB) string {
	v, _ := urls.Load(d)
	s, _ := v.(string)
	return s
}

var (
	tmplOnce sync.Once
	tmplName string
	tmplErr  error
)

// template migrates one template database per test process; each test then
// copies it with CREATE DATABASE … TEMPLATE, which is much faster than
// migrating every time. The template is dropped by the last test binary that
// finds it stale; names are random so parallel packages never collide.
func template(u string) (string, error) {
	tmplOnce.Do(func() {
		ctx := context.Background()
		tmplName = "ryorin_tmpl_" + randHex(6)
		admin, err := sql.Open("pgx", u)
		if err != nil {
			tmplErr = err
			return
		}
		defer admin.Close()
		if _, err := admin.ExecContext(ctx, `CREATE DATABASE `+tmplName); err != nil {
			tmplErr = fmt.Errorf("create template database: %w", err)
			return
		}
		d, err := db.Open(ctx, withDB(u, tmplName), "")
		if err != nil {
			tmplErr = err
			return
		}
		_, tmplErr = d.Migrate(ctx)
		d.Close()
		registerTemplateCleanup(u, tmplName)
	})
	return tmplName, tmplErr
}

func withDB(u, name string) string {
	p, err := url.Parse(u)
	if err != nil {
		return u
	}
	p.Path = "/" + name
	return p.String()
}

func randHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

var cleanups struct {
	sync.Mutex
	names []string
	url   string
}

func registerTemplateCleanup(u, name string) {
	cleanups.Lock()
	cleanups.url = u
	cleanups.names = append(cleanups.names, name)
	cleanups.Unlock()
}

// DropTemplates drops the template databases this process made. Call it from
// TestMain after m.Run; packages that do not will leave one small template,
// which SweepStale removes on a later run.
func DropTemplates() {
	cleanups.Lock()
	defer cleanups.Unlock()
	if cleanups.url == "" {
		return
	}
	a, err := sql.Open("pgx", cleanups.url)
	if err != nil {
		return
	}
	defer a.Close()
	for _, n := range cleanups.names {
		_, _ = a.Exec(fmt.Sprintf(`DROP DATABASE IF EXISTS %s WITH (FORCE)`, n))
	}
}

// Main is a TestMain body: it runs the tests and drops the template databases.
func Main(m interface{ Run() int }) int {
	code := m.Run()
	DropTemplates()
	return code
}

// IsTestDatabase reports whether name is a database made by this package.
func IsTestDatabase(name string) bool {
	return strings.HasPrefix(name, "ryorin_test_") || strings.HasPrefix(name, "ryorin_tmpl_")
}
