package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"runtime/debug"
	"sort"
	"strings"

	"github.com/ryorin/ryorin/internal/app"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = ""

func buildVersion() string {
	if version != "" {
		return version
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "dev"
}

// env looks up an environment variable; tests pass their own.
type env func(string) string

// command is one subcommand.
type command struct {
	name    string
	summary string
	flags   func(fs *flag.FlagSet, e env) func(ctx context.Context, io cmdIO) error
}

type cmdIO struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	args           []string
}

// commonFlags are the flags every command takes: where the data lives.
type commonFlags struct {
	data, databaseURL, logLevel string
}

func envDefault(e env, name, def string) string {
	if v := e(name); v != "" {
		return v
	}
	return def
}

func stringFlag(fs *flag.FlagSet, e env, p *string, name, envName, def, usage string) {
	fs.StringVar(p, name, envDefault(e, envName, def), usage+" (env "+envName+")")
}

func boolFlag(fs *flag.FlagSet, e env, p *bool, name, envName string, usage string) {
	v := e(envName)
	fs.BoolVar(p, name, v == "1" || v == "true", usage+" (env "+envName+")")
}

func (c *commonFlags) register(fs *flag.FlagSet, e env) {
	stringFlag(fs, e, &c.data, "data", "RYORIN_DATA", "ryorin-data", "directory for the embedded SQLite database")
	stringFlag(fs, e, &c.databaseURL, "database-url", "RYORIN_DATABASE_URL", "", "postgres://… to use PostgreSQL instead of SQLite")
	stringFlag(fs, e, &c.logLevel, "log-level", "RYORIN_LOG_LEVEL", "info", "debug, info, warn or error")
}

func (c *commonFlags) config(stderr io.Writer) app.Config {
	var lvl slog.Level
	_ = lvl.UnmarshalText([]byte(c.logLevel))
	return app.Config{DataDir: c.data, DatabaseURL: c.databaseURL, Version: buildVersion(),
		Log: slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: lvl}))}
}

func commands() []command {
	return []command{
		{"serve", "run the web UI, the API, the public endpoints and the background workers", serveCmd},
		{"migrate", "apply database migrations and exit", migrateCmd},
		{"user", "user add --email E --name N --role R [--team T]: add a user (password read from stdin or a prompt)", userCmd},
		{"token", "token create --email E [--name N]: print a new API token for a user", tokenCmd},
		{"mail", "mail test --to ADDRESS: send a test message now with the stored SMTP settings", mailCmd},
		{"version", "print the version", nil},
		{"help", "list commands, flags and their environment variables", nil},
	}
}

// run is the whole program. It parses args, reads config from e, and runs
// one command until ctx ends.
func run(ctx context.Context, args []string, e env, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		args = []string{"help"}
	}
	name, rest := args[0], args[1:]
	switch name {
	case "version", "--version", "-v":
		fmt.Fprintln(stdout, "ryorin", buildVersion())
		return nil
	case "help", "--help", "-h":
		return help(stdout, e)
	}
	for _, c := range commands() {
		if c.name != name || c.flags == nil {
			continue
		}
		sub := ""
		if (name == "user" || name == "token" || name == "mail") && len(rest) > 0 && !strings.HasPrefix(rest[0], "-") {
			sub, rest = rest[0], rest[1:]
		}
		fs := flag.NewFlagSet(strings.TrimSpace(name+" "+sub), flag.ContinueOnError)
		fs.SetOutput(stderr)
		runFn := c.flags(fs, e)
		if err := fs.Parse(rest); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil
			}
			return err
		}
		return runFn(ctx, cmdIO{stdin: stdin, stdout: stdout, stderr: stderr, args: append([]string{sub}, fs.Args()...)})
	}
	return fmt.Errorf("unknown command %q; run `ryorin help`", name)
}

func help(w io.Writer, e env) error {
	fmt.Fprintln(w, "Ryorin (両輪): marketing automation and sales force automation on one customer record.")
	fmt.Fprintln(w, "\nUsage: ryorin <command> [flags]\n\nCommands:")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-8s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w, "\nFlags (each also read from its environment variable):")
	for _, c := range commands() {
		if c.flags == nil {
			continue
		}
		fs := flag.NewFlagSet(c.name, flag.ContinueOnError)
		c.flags(fs, e)
		var lines []string
		fs.VisitAll(func(f *flag.Flag) {
			def := ""
			if f.DefValue != "" && f.DefValue != "false" {
				def = " (default " + f.DefValue + ")"
			}
			lines = append(lines, fmt.Sprintf("  %-8s --%-18s %s%s", c.name, f.Name, f.Usage, def))
		})
		sort.Strings(lines)
		for _, l := range lines {
			fmt.Fprintln(w, l)
		}
	}
	return nil
}
