package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"strings"

	"github.com/ryorin/ryorin/internal/app"
	"github.com/ryorin/ryorin/internal/crm"
	"github.com/ryorin/ryorin/internal/dataio"
	"github.com/ryorin/ryorin/internal/platform"
)

// list is a repeatable string flag.
type list []string

func (l *list) String() string     { return strings.Join(*l, ",") }
func (l *list) Set(v string) error { *l = append(*l, strings.Split(v, ",")...); return nil }

func exportCmd(fs *flag.FlagSet, e env) func(context.Context, cmdIO) error {
	var c commonFlags
	c.register(fs, e)
	var q, stage, lang string
	var owner, company int64
	var cols list
	stringFlag(fs, e, &q, "q", "RYORIN_EXPORT_Q", "", "only records whose name, email or phone contains this")
	stringFlag(fs, e, &stage, "stage", "RYORIN_EXPORT_STAGE", "", "contacts: only this lifecycle stage")
	stringFlag(fs, e, &lang, "lang", "RYORIN_EXPORT_LANG", "en", "column headings: en or ja")
	fs.Int64Var(&owner, "owner", 0, "only records of this owner (user id)")
	fs.Int64Var(&company, "company", 0, "contacts: only this company's (id)")
	fs.Var(&cols, "col", "a column to include, repeatable or comma-separated (default: the list's default columns)")
	return func(ctx context.Context, cio cmdIO) error {
		if _, err := parseInterleaved(fs, cio.args[1:]); err != nil {
			return err
		}
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
		ws, err := platform.GetWorkspace(ctx, a.DB.Reader(), platform.DefaultWorkspace)
		if err != nil {
			return err
		}
		cli := platform.CLI(ws.ID)
		out := bufio.NewWriterSize(cio.stdout, 256<<10)
		o := dataio.ExportOptions{Cols: cols, Lang: lang, Loc: ws.Location()}
		var n int
		switch cio.args[0] {
		case "contacts":
			if len(o.Cols) == 0 {
				o.Cols = []string{"email", "company", "stage", "owner", "last_activity"}
			}
			n, err = a.IO.ExportContacts(ctx, out, cli, crm.ContactFilter{Q: q, Stage: platform.Stage(stage), OwnerID: owner, CompanyID: company}, o)
		case "companies":
			if len(o.Cols) == 0 {
				o.Cols = []string{"domain", "industry", "employees", "prefecture", "owner"}
			}
			n, err = a.IO.ExportCompanies(ctx, out, cli, crm.CompanyFilter{Q: q, OwnerID: owner}, o)
		default:
			return errors.New("usage: ryorin export contacts|companies [--q TEXT] [--stage S] [--owner ID] [--col C …] [--lang ja] > out.csv")
		}
		if err != nil {
			return err
		}
		if err := out.Flush(); err != nil {
			return err
		}
		fmt.Fprintf(cio.stderr, "exported %d rows\n", n)
		return nil
	}
}
