package main

import (
	"context"
	"errors"
	"flag"
	"fmt"

	"github.com/ryorin/ryorin/internal/app"
	"github.com/ryorin/ryorin/internal/platform"
)

func mailCmd(fs *flag.FlagSet, e env) func(context.Context, cmdIO) error {
	var c commonFlags
	c.register(fs, e)
	var to string
	fs.StringVar(&to, "to", "", "the address to send the test message to")
	return func(ctx context.Context, cio cmdIO) error {
		if cio.args[0] != "test" || to == "" {
			return errors.New("usage: ryorin mail test --to ADDRESS")
		}
		a, err := app.Open(ctx, c.config(cio.stderr))
		if err != nil {
			return err
		}
		defer a.Close()
		w, err := platform.GetWorkspace(ctx, a.DB.Reader(), platform.DefaultWorkspace)
		if err != nil {
			return err
		}
		s := w.SMTP()
		if err := a.Mailer.SendTest(ctx, platform.DefaultWorkspace, to); err != nil {
			return err
		}
		fmt.Fprintf(cio.stdout, "test message sent to %s via %s:%d (%s)\n", to, s.Host, s.Port, s.TLS)
		return nil
	}
}
