package main

import (
	"context"
	"flag"
	"fmt"
	"time"

	"github.com/ryorin/ryorin/internal/db"
)

// backupCmd writes a consistent copy of the SQLite database while Ryorin
// keeps running.
func backupCmd(fs *flag.FlagSet, e env) func(context.Context, cmdIO) error {
	var c commonFlags
	c.register(fs, e)
	return func(ctx context.Context, cio cmdIO) error {
		if len(cio.args) < 2 || cio.args[1] == "" {
			return fmt.Errorf("usage: ryorin backup FILE")
		}
		d, err := db.Open(ctx, c.databaseURL, c.data)
		if err != nil {
			return err
		}
		defer d.Close()
		start := time.Now()
		if err := d.Backup(ctx, cio.args[1]); err != nil {
			return err
		}
		fmt.Fprintf(cio.stdout, "backed up to %s in %s\n", cio.args[1], time.Since(start).Round(time.Millisecond))
		return nil
	}
}

// restoreCmd replaces the SQLite database with a backup; serve must be
// stopped.
func restoreCmd(fs *flag.FlagSet, e env) func(context.Context, cmdIO) error {
	var c commonFlags
	c.register(fs, e)
	return func(ctx context.Context, cio cmdIO) error {
		if len(cio.args) < 2 || cio.args[1] == "" {
			return fmt.Errorf("usage: ryorin restore FILE (with ryorin serve stopped)")
		}
		if c.databaseURL != "" {
			return db.ErrPostgresBackup
		}
		if err := db.Restore(ctx, cio.args[1], c.data); err != nil {
			return err
		}
		fmt.Fprintf(cio.stdout, "restored %s into %s (the previous database is kept as ryorin.db.before-restore); start ryorin serve again\n", cio.args[1], c.data)
		return nil
	}
}
