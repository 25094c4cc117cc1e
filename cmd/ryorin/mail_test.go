package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/ryorin/ryorin/internal/app"
	"github.com/ryorin/ryorin/internal/platform"
	"github.com/ryorin/ryorin/internal/smtptest"
)

func TestMailTest_SendsWithTheStoredSettings(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	noEnv := func(string) string { return "" }
	var out, errOut bytes.Buffer
	err := run(ctx, []string{"mail", "test", "--to", "admin@example.com", "--data", dir}, noEnv, nil, &out, &errOut)
	if err == nil || !strings.Contains(err.Error(), "no SMTP server is configured") {
		t.Fatalf("without settings: %v", err)
	}
	srv := smtptest.Start(t)
	a, err := app.Open(ctx, app.Config{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	_, err = platform.SetSMTP(ctx, a.DB, platform.CLI(1), platform.SMTPSettings{Host: srv.Host(), Port: srv.Port(), TLS: "none", FromAddress: "info@example.jp"}, a.Clock.Now())
	a.Close()
	if err != nil {
		t.Fatal(err)
	}
	if err := run(ctx, []string{"mail", "test", "--to", "admin@example.com", "--data", dir}, noEnv, nil, &out, &errOut); err != nil {
		t.Fatal(err)
	}
	if len(srv.Messages()) != 1 || !strings.Contains(out.String(), "test message sent to admin@example.com") {
		t.Fatalf("%d messages, output %q", len(srv.Messages()), out.String())
	}
}
