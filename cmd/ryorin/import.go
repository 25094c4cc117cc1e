package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/ryorin/ryorin/internal/app"
	"github.com/ryorin/ryorin/internal/dataio"
	"github.com/ryorin/ryorin/internal/platform"
)

const importUsage = `usage:
  ryorin import contacts|companies|deals|activities FILE [--mapping FILE.json] [--map "column=field" …] [--mode update|skip|create]
  ryorin import list
  ryorin import errors ID > errors.csv
  ryorin import undo ID
  ryorin import resume ID   (after a crash or kill; a running server resumes it by itself)`

// importObjects maps the subcommand to the object type it imports.
var importObjects = map[string]string{"contacts": dataio.Contacts, "companies": dataio.Companies, "deals": dataio.Deals, "activities": dataio.Activities}

// pairs is a repeatable column=field flag.
type pairs map[string]string

func (p pairs) String() string {
	if len(p) == 0 {
		return ""
	}
	return fmt.Sprint(map[string]string(p))
}
func (p pairs) Set(v string) error {
	col, field, ok := strings.Cut(v, "=")
	if !ok {
		return fmt.Errorf("%q is not column=field", v)
	}
	p[col] = field
	return nil
}

// parseInterleaved parses flags that may come after positional arguments
// ("import contacts FILE --mode skip") and returns the positional ones.
func parseInterleaved(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return pos, nil
		}
		pos, args = append(pos, rest[0]), rest[1:]
	}
}

func importCmd(fs *flag.FlagSet, e env) func(context.Context, cmdIO) error {
	var c commonFlags
	c.register(fs, e)
	var mappingFile, mode string
	m := pairs{}
	stringFlag(fs, e, &mappingFile, "mapping", "RYORIN_IMPORT_MAPPING", "", `JSON file mapping column headings to fields: {"E-mail": "email", "Memo": ""}`)
	stringFlag(fs, e, &mode, "mode", "RYORIN_IMPORT_MODE", "update", "what a row matching an existing record does: update, skip or create")
	fs.Var(m, "map", "column=field, repeatable: overrides the guessed mapping (empty field: skip the column)")
	return func(ctx context.Context, cio cmdIO) error {
		pos, err := parseInterleaved(fs, cio.args[1:])
		if err != nil {
			return err
		}
		sub := cio.args[0]
		stop, err := startCPUProfile(e)
		if err != nil {
			return err
		}
		defer stop()
		a, err := app.Open(ctx, c.config(cio.stderr))
		if err != nil {
			return err
		}
		defer a.Close()
		ws := int64(platform.DefaultWorkspace)
		switch {
		case importObjects[sub] != "" && len(pos) == 1:
			if mappingFile != "" {
				if err := readMapping(mappingFile, m); err != nil {
					return err
				}
			}
			return importFile(ctx, a, cio, importObjects[sub], pos[0], m, mode)
		case importObjects[sub] != "":
			return errors.New(importUsage)
		case sub == "list":
			ims, err := a.IO.List(ctx, ws, 50)
			if err != nil {
				return err
			}
			for _, im := range ims {
				fmt.Fprintf(cio.stdout, "%6d  %-8s %-8s %-20s %s  rows %d/%d  %s\n", im.ID, im.ObjectType, im.Status, im.FileName,
					im.CreatedAt.Format("2006-01-02 15:04"), im.RowsDone, im.TotalRows, summary(im))
			}
			return nil
		case sub == "errors" && len(pos) == 1:
			id, err := strconv.ParseInt(pos[0], 10, 64)
			if err != nil {
				return errors.New(importUsage)
			}
			return a.IO.ErrorsCSV(ctx, cio.stdout, ws, id, "en")
		case sub == "resume" && len(pos) == 1:
			id, err := strconv.ParseInt(pos[0], 10, 64)
			if err != nil {
				return errors.New(importUsage)
			}
			return resumeImport(ctx, a, cio, id)
		case sub == "undo" && len(pos) == 1:
			id, err := strconv.ParseInt(pos[0], 10, 64)
			if err != nil {
				return errors.New(importUsage)
			}
			if _, err := a.IO.Undo(ctx, platform.CLI(ws), id); err != nil {
				return err
			}
			if err := a.IO.RunUndo(ctx, ws, id); err != nil {
				return err
			}
			fmt.Fprintf(cio.stdout, "import %d undone\n", id)
			return nil
		}
		return errors.New(importUsage)
	}
}

func readMapping(path string, into pairs) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	var m map[string]string
	if err := json.Unmarshal(b, &m); err != nil {
		return fmt.Errorf("%s: a mapping file is a JSON object of column heading → field: %w", path, err)
	}
	for k, v := range m {
		if _, set := into[k]; !set { // --map on the command line wins
			into[k] = v
		}
	}
	return nil
}

func summary(im dataio.Import) string {
	return fmt.Sprintf("created %d, updated %d, skipped %d, failed %d, companies created %d", im.Created, im.Updated, im.Skipped,
		im.Failed, im.CompaniesCreated)
}

// importFile uploads, maps, starts and runs an import in this process,
// printing a progress line. If a server's job runner took it first, it
// follows that run instead. Interrupted, the import resumes later (in a
// server, or with the same command's job) without repeating a row.
func importFile(ctx context.Context, a *app.App, cio cmdIO, object, path string, m pairs, mode string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	cli := platform.CLI(platform.DefaultWorkspace)
	im, err := a.IO.Create(ctx, cli, object, filepath.Base(path), f)
	if err != nil {
		return err
	}
	mapping := im.Mapping
	if len(m) > 0 {
		if mapping, err = a.IO.MappingFromHeaders(ctx, cli.WorkspaceID, im, m); err != nil {
			return err
		}
	}
	fmt.Fprintf(cio.stderr, "import %d: %s, %s, %d rows", im.ID, im.FileName, im.Encoding, im.TotalRows)
	if im.Preset != "" {
		fmt.Fprintf(cio.stderr, ", %s columns", im.Preset)
	}
	fmt.Fprintln(cio.stderr)
	for i, h := range im.Header {
		to := mapping[i]
		if to == "" {
			to = "(not imported)"
		}
		fmt.Fprintf(cio.stderr, "  %-28s → %s\n", h, to)
	}
	if im, err = a.IO.Start(ctx, cli, im.ID, mapping, mode); err != nil {
		return err
	}
	return follow(ctx, a, cio, im)
}

// resumeImport finishes an import whose run was cut off. Until the dead
// run's lease ends (two minutes), the import counts as running elsewhere.
func resumeImport(ctx context.Context, a *app.App, cio cmdIO, id int64) error {
	im, err := a.IO.Get(ctx, a.DB.Reader(), platform.DefaultWorkspace, id)
	if err != nil {
		return err
	}
	if im.Status != dataio.StatusRunning && im.Status != dataio.StatusQueued {
		return fmt.Errorf("import %d is %s", id, im.Status)
	}
	fmt.Fprintf(cio.stderr, "import %d: resuming after row %d of %d\n", id, im.RowsDone, im.TotalRows)
	return follow(ctx, a, cio, im)
}

// follow runs an import in this process with a progress line, or, while
// another worker holds it, follows that worker's progress until it ends.
func follow(ctx context.Context, a *app.App, cio cmdIO, im dataio.Import) error {
	p := newProgress(cio.stderr, im.TotalRows)
	// SQLite: the search index follows the import as serve's would, and is
	// caught up before the command ends (ADR 0028).
	ictx, cancel := context.WithCancel(ctx)
	indexed := make(chan struct{})
	go func() { defer close(indexed); a.DB.RunSearchIndexer(ictx, 250*time.Millisecond, nil) }()
	stopIndexer := func() { cancel(); <-indexed }
	defer stopIndexer()
	err := a.IO.Run(ctx, platform.DefaultWorkspace, im.ID, dataio.RunOptions{Progress: p.show})
	for errors.Is(err, dataio.ErrBusy) { // another worker holds it: follow, and take over if it dies
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Second):
		}
		cur, gerr := a.IO.Get(ctx, a.DB.Reader(), platform.DefaultWorkspace, im.ID)
		if gerr != nil {
			return gerr
		}
		p.show(cur)
		if cur.Status != dataio.StatusRunning && cur.Status != dataio.StatusQueued {
			err = nil
		} else {
			err = a.IO.Run(ctx, platform.DefaultWorkspace, im.ID, dataio.RunOptions{Progress: p.show})
		}
	}
	if err != nil {
		return fmt.Errorf("import %d stopped; `ryorin import resume %d` (or a running server) finishes it: %w", im.ID, im.ID, err)
	}
	stopIndexer()
	if err := a.DB.SearchCatchUp(ctx, time.Hour); err != nil {
		return fmt.Errorf("import %d is done; its rows are not all searchable yet (serve catches up): %w", im.ID, err)
	}
	im, err = a.IO.Get(ctx, a.DB.Reader(), platform.DefaultWorkspace, im.ID)
	if err != nil {
		return err
	}
	p.done(im)
	fmt.Fprintf(cio.stdout, "import %d %s: %s\n", im.ID, im.Status, summary(im))
	if im.Failed > 0 {
		fmt.Fprintf(cio.stdout, "rows not imported: ryorin import errors %d > errors.csv\n", im.ID)
	}
	return nil
}

// progress prints one line, rewritten in place: rows, rows/s, time left.
type progress struct {
	w     io.Writer
	total int64
	start time.Time
	last  time.Time
	first int64
}

func newProgress(w io.Writer, total int64) *progress {
	return &progress{w: w, total: total, start: time.Now(), first: -1}
}

func (p *progress) show(im dataio.Import) {
	if p.first < 0 {
		p.first = im.RowsDone
	}
	if time.Since(p.last) < 200*time.Millisecond {
		return
	}
	p.last = time.Now()
	el := time.Since(p.start).Seconds()
	rate := float64(im.RowsDone-p.first) / max(el, 0.001)
	left := "—"
	if rate > 0 {
		left = (time.Duration(float64(p.total-im.RowsDone)/rate) * time.Second).Round(time.Second).String()
	}
	fmt.Fprintf(p.w, "\r%d/%d rows (%d%%)  %.0f rows/s  %s left   ", im.RowsDone, p.total, im.Percent(), rate, left)
}

func (p *progress) done(im dataio.Import) {
	el := time.Since(p.start)
	fmt.Fprintf(p.w, "\r%d/%d rows in %s (%.0f rows/s)                    \n", im.RowsDone, p.total, el.Round(10*time.Millisecond),
		float64(im.RowsDone-max(p.first, 0))/max(el.Seconds(), 0.001))
}
