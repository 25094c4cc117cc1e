package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"

	"golang.org/x/term"

	"github.com/ryorin/ryorin/internal/app"
	"github.com/ryorin/ryorin/internal/platform"
)

func userCmd(fs *flag.FlagSet, e env) func(context.Context, cmdIO) error {
	var c commonFlags
	c.register(fs, e)
	var email, name, role, team string
	stringFlag(fs, e, &email, "email", "RYORIN_USER_EMAIL", "", "the user's email address")
	stringFlag(fs, e, &name, "name", "RYORIN_USER_NAME", "", "the user's name")
	stringFlag(fs, e, &role, "role", "RYORIN_USER_ROLE", "sales", "admin, manager, marketing or sales")
	stringFlag(fs, e, &team, "team", "RYORIN_USER_TEAM", "", "team name (created if it does not exist)")
	return func(ctx context.Context, cio cmdIO) error {
		if cio.args[0] != "add" {
			return errors.New("usage: ryorin user add --email E --name N --role R [--team T]")
		}
		pw, err := readPassword(cio)
		if err != nil {
			return err
		}
		a, err := app.Open(ctx, c.config(cio.stderr))
		if err != nil {
			return err
		}
		defer a.Close()
		cli := platform.CLI(platform.DefaultWorkspace)
		now := a.Clock.Now()
		var teamID int64
		if team != "" {
			t, err := platform.TeamByName(ctx, a.DB.Reader(), cli.WorkspaceID, team)
			if err != nil {
				fn := "other"
				switch platform.Role(role) {
				case platform.RoleSales:
					fn = "sales"
				case platform.RoleMarketing:
					fn = "marketing"
				}
				if t, err = platform.SaveTeam(ctx, a.DB, cli, 0, platform.NewTeam{Name: team, Function: fn}, now); err != nil {
					return err
				}
			}
			teamID = t.ID
		}
		u, err := platform.CreateUser(ctx, a.DB, cli, platform.NewUser{Email: email, Name: name, Role: platform.Role(role), TeamID: teamID, Password: pw}, now)
		if err != nil {
			return err
		}
		fmt.Fprintf(cio.stdout, "added user %d <%s> as %s\n", u.ID, u.Email, u.Role)
		return nil
	}
}

// readPassword reads a password from a terminal prompt (without echo) or,
// when stdin is not a terminal, from its first line. Never from a flag.
func readPassword(cio cmdIO) (string, error) {
	if f, ok := cio.stdin.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		fmt.Fprint(cio.stderr, "Password: ")
		b, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(cio.stderr)
		if err != nil {
			return "", err
		}
		fmt.Fprint(cio.stderr, "Again: ")
		b2, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(cio.stderr)
		if err != nil {
			return "", err
		}
		if string(b) != string(b2) {
			return "", errors.New("the passwords differ")
		}
		return string(b), nil
	}
	line, err := bufio.NewReader(cio.stdin).ReadString('\n')
	if err != nil && line == "" {
		return "", errors.New("no password on stdin (pipe one in, e.g. `echo 'secret' | ryorin user add …`)")
	}
	return strings.TrimRight(line, "\r\n"), nil
}

func tokenCmd(fs *flag.FlagSet, e env) func(context.Context, cmdIO) error {
	var c commonFlags
	c.register(fs, e)
	var email, name string
	stringFlag(fs, e, &email, "email", "RYORIN_TOKEN_EMAIL", "", "the user the token acts as")
	stringFlag(fs, e, &name, "name", "RYORIN_TOKEN_NAME", "CLI token", "a name to recognise the token by")
	return func(ctx context.Context, cio cmdIO) error {
		if cio.args[0] != "create" {
			return errors.New("usage: ryorin token create --email E [--name N]")
		}
		a, err := app.Open(ctx, c.config(cio.stderr))
		if err != nil {
			return err
		}
		defer a.Close()
		cli := platform.CLI(platform.DefaultWorkspace)
		u, err := platform.UserByEmail(ctx, a.DB.Reader(), cli.WorkspaceID, email)
		if err != nil {
			return err
		}
		_, secret, err := platform.CreateToken(ctx, a.DB, cli, u.ID, name, nil, a.Clock.Now())
		if err != nil {
			return err
		}
		fmt.Fprintln(cio.stdout, secret)
		return nil
	}
}
