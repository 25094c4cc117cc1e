package main

import (
	"bytes"
	"context"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ryorin/ryorin/internal/dbtest"
)

func TestMain(m *testing.M) { os.Exit(dbtest.Main(m)) }

func testEnv(vars map[string]string) env {
	return func(k string) string { return vars[k] }
}

// syncBuffer is a bytes.Buffer safe to read while serve writes to it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}
func (s *syncBuffer) String() string { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

// TestRun_WholeProgramOnBothEngines starts the real program through run():
// adds a user with the password on stdin, creates a token, serves, answers
// API calls, and shuts down cleanly when its context ends.
func TestRun_WholeProgramOnBothEngines(t *testing.T) {
	engines := map[string]string{"sqlite": ""}
	if u := os.Getenv(dbtest.EnvURL); u != "" {
		engines["postgres"] = "" // filled below with a fresh database
	}
	for name := range engines {
		t.Run(name, func(t *testing.T) {
			vars := map[string]string{"RYORIN_DATA": filepath.Join(t.TempDir(), "data")}
			if name == "postgres" {
				vars["RYORIN_DATABASE_URL"] = freshPostgres(t)
			}
			e := testEnv(vars)
			ctx := context.Background()
			var out, errb bytes.Buffer
			err := run(ctx, []string{"user", "add", "--email", "Boss@Example.com", "--name", "社長", "--role", "admin", "--team", "経営"},
				e, strings.NewReader("correct horse battery\n"), &out, &errb)
			if err != nil {
				t.Fatalf("user add: %v\n%s", err, errb.String())
			}
			out.Reset()
			if err := run(ctx, []string{"token", "create", "--email", "boss@example.com"}, e, nil, &out, &errb); err != nil {
				t.Fatalf("token create: %v", err)
			}
			token := strings.TrimSpace(out.String())
			if !strings.HasPrefix(token, "ryo_") {
				t.Fatalf("token = %q", token)
			}
			ln, _ := net.Listen("tcp", "127.0.0.1:0")
			addr := ln.Addr().String()
			ln.Close()
			sctx, cancel := context.WithCancel(ctx)
			var sout syncBuffer
			done := make(chan error, 1)
			go func() {
				done <- run(sctx, []string{"serve", "--addr", addr, "--log-level", "error"}, e, nil, &sout, &sout)
			}()
			base := "http://" + addr
			waitReady(t, base)
			req, _ := http.NewRequest("POST", base+"/api/v1/contacts", strings.NewReader(`{"email":"c@example.jp","family_name":"山田"}`))
			req.Header.Set("Authorization", "Bearer "+token)
			req.Header.Set("Content-Type", "application/json")
			res, err := http.DefaultClient.Do(req)
			if err != nil || res.StatusCode != 201 {
				t.Fatalf("create contact: %v %v", res, err)
			}
			res.Body.Close()
			cancel()
			select {
			case err := <-done:
				if err != nil {
					t.Fatalf("serve returned %v", err)
				}
			case <-time.After(30 * time.Second):
				t.Fatal("serve did not stop")
			}
			if !strings.Contains(sout.String(), "Ryorin stopped") {
				t.Fatalf("serve output: %s", sout.String())
			}
		})
	}
}

func TestRun_HelpListsEveryFlagWithItsEnvironmentVariable(t *testing.T) {
	var out bytes.Buffer
	if err := run(context.Background(), []string{"help"}, testEnv(nil), nil, &out, &out); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"serve", "migrate", "user", "token", "RYORIN_ADDR", "RYORIN_DATA", "RYORIN_DATABASE_URL", "RYORIN_DEMO"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("help lacks %s", want)
		}
	}
	if err := run(context.Background(), []string{"nope"}, testEnv(nil), nil, &out, &out); err == nil {
		t.Error("unknown command accepted")
	}
}

func TestRun_UserAddNeverTakesThePasswordFromAFlag(t *testing.T) {
	var out bytes.Buffer
	e := testEnv(map[string]string{"RYORIN_DATA": t.TempDir()})
	err := run(context.Background(), []string{"user", "add", "--email", "a@example.com", "--name", "A", "--password", "x"}, e, strings.NewReader(""), &out, &out)
	if err == nil {
		t.Fatal("--password flag accepted")
	}
}

func waitReady(t *testing.T, base string) {
	t.Helper()
	for i := 0; i < 300; i++ {
		res, err := http.Get(base + "/readyz")
		if err == nil {
			res.Body.Close()
			if res.StatusCode == 200 {
				return
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatal("server not ready")
}

func freshPostgres(t *testing.T) string {
	t.Helper()
	d := dbtest.Open(t, "postgres")
	// dbtest gives an open, migrated database; reuse its URL for the program.
	u := dbtest.URLOf(d)
	if u == "" {
		t.Fatal("no URL for the test database")
	}
	return u
}

func TestRun_BackupThenRestoreOnSQLite(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	e := testEnv(map[string]string{"RYORIN_DATA": data})
	var out, errb bytes.Buffer
	if err := run(ctx, []string{"migrate"}, e, nil, &out, &errb); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, "ryorin-backup.db")
	if err := run(ctx, []string{"backup", file}, e, nil, &out, &errb); err != nil || !strings.Contains(out.String(), "backed up to") {
		t.Fatalf("backup: %v %s", err, out.String())
	}
	if err := run(ctx, []string{"backup"}, e, nil, &out, &errb); err == nil || !strings.Contains(err.Error(), "usage") {
		t.Fatalf("backup without a file: %v", err)
	}
	out.Reset()
	if err := run(ctx, []string{"restore", file}, e, nil, &out, &errb); err != nil || !strings.Contains(out.String(), "restored") {
		t.Fatalf("restore: %v %s", err, out.String())
	}
	if err := run(ctx, []string{"restore", "--database-url", "postgres://x@127.0.0.1/none", file}, e, nil, &out, &errb); err == nil || !strings.Contains(err.Error(), "pg_dump") {
		t.Fatalf("restore on PostgreSQL: %v", err)
	}
}
