package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
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
	data, databaseURL, logLevel, logFormat, configFile string
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
	stringFlag(fs, e, &c.logFormat, "log-format", "RYORIN_LOG_FORMAT", "text", "text or json (one JSON object per line)")
	stringFlag(fs, e, &c.configFile, "config", "RYORIN_CONFIG", "", "a file of RYORIN_…=value lines; the environment and flags override it")
}

func (c *commonFlags) config(stderr io.Writer) app.Config {
	var lvl slog.Level
	_ = lvl.UnmarshalText([]byte(c.logLevel))
	opts := &slog.HandlerOptions{Level: lvl}
	var h slog.Handler = slog.NewTextHandler(stderr, opts)
	if c.logFormat == "json" {
		h = slog.NewJSONHandler(stderr, opts)
	}
	return app.Config{DataDir: c.data, DatabaseURL: c.databaseURL, Version: buildVersion(), Log: slog.New(h)}
}

func commands() []command {
	return []command{
		{"serve", "run the web UI, the API, the public endpoints and the background workers", serveCmd},
		{"migrate", "apply database migrations and exit", migrateCmd},
		{"user", "user add --email E --name N --role R [--team T]: add a user (password read from stdin or a prompt)", userCmd},
		{"token", "token create --email E [--name N]: print a new API token for a user", tokenCmd},
		{"mail", "mail test --to ADDRESS: send a test message now with the stored SMTP settings", mailCmd},
		{"backup", "backup FILE: write a consistent copy of the SQLite database while Ryorin runs (PostgreSQL: pg_dump)", backupCmd},
		{"restore", "restore FILE: replace the SQLite database with a backup (stop ryorin serve first)", restoreCmd},
		{"import", "import contacts|companies FILE [--map col=field] [--mode update|skip|create]; import list|errors ID|undo ID|resume ID", importCmd},
		{"export", "export contacts|companies [--q TEXT] [--col C …] > out.csv: a list as CSV (UTF-8 with BOM)", exportCmd},
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
	// A config file, named by --config or RYORIN_CONFIG, gives defaults the
	// environment and the flags override.
	cfgFile := e("RYORIN_CONFIG")
	for i, a := range rest {
		if v, ok := strings.CutPrefix(a, "--config="); ok {
			cfgFile = v
		} else if (a == "--config" || a == "-config") && i+1 < len(rest) {
			cfgFile = rest[i+1]
		}
	}
	if cfgFile != "" {
		vals, err := readConfig(cfgFile)
		if err != nil {
			return err
		}
		outer := e
		e = func(k string) string {
			if v := outer(k); v != "" {
				return v
			}
			return vals[k]
		}
	}
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
		if (name == "user" || name == "token" || name == "mail" || name == "import" || name == "export") && len(rest) > 0 && !strings.HasPrefix(rest[0], "-") {
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

// readConfig reads a file of NAME=value lines (# comments and blank lines
// skipped, values optionally quoted). Only RYORIN_ names are allowed, so a
// typo is an error rather than silently ignored.
func readConfig(path string) (map[string]string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	out := map[string]string{}
	for i, line := range strings.Split(string(b), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		k, v = strings.TrimSpace(strings.TrimPrefix(k, "export ")), strings.TrimSpace(v)
		if !ok || !strings.HasPrefix(k, "RYORIN_") {
			return nil, fmt.Errorf("config %s line %d: want RYORIN_NAME=value", path, i+1)
		}
		if len(v) >= 2 && (v[0] == '"' && v[len(v)-1] == '"' || v[0] == '\'' && v[len(v)-1] == '\'') {
			v = v[1 : len(v)-1]
		}
		out[k] = v
	}
	return out, nil
}
