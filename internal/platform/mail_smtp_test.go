package platform_test

import (
	"bytes"
	"context"
	"io"
	"mime/quotedprintable"
	"net/mail"
	"strings"
	"testing"

	"github.com/ryorin/ryorin/internal/db"
	"github.com/ryorin/ryorin/internal/dbtest"
	"github.com/ryorin/ryorin/internal/smtptest"
)

func TestMailBatch_TheConnectionIsKeptForTheNextBatch(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		srv := smtptest.Start(t)
		m, q := newMailer(t, d, srv)
		defer m.Close()
		var ids []int64
		for range 3 {
			ids = append(ids, queueBatch(t, m, 4)...)
			if n, err := q.RunOnce(context.Background()); n != 1 || err != nil {
				t.Fatalf("ran %d jobs, %v", n, err)
			}
		}
		if got := statuses(t, d, ids); got != strings.TrimSuffix(strings.Repeat("sent,", 12), ",") {
			t.Fatalf("statuses %s", got)
		}
		if len(srv.Messages()) != 12 || srv.Connections() != 1 {
			t.Fatalf("%d messages over %d connections", len(srv.Messages()), srv.Connections())
		}
	})
}

func TestMailBatch_AKeptConnectionTheServerDroppedIsOpenedAgain(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		srv := smtptest.Start(t)
		m, q := newMailer(t, d, srv)
		defer m.Close()
		first := queueBatch(t, m, 2)
		q.RunOnce(context.Background())
		srv.DropConnections()
		second := queueBatch(t, m, 2)
		q.RunOnce(context.Background())
		if got := statuses(t, d, append(first, second...)); got != "sent,sent,sent,sent" {
			t.Fatalf("statuses %s", got)
		}
		if len(srv.Messages()) != 4 || srv.Connections() != 2 {
			t.Fatalf("%d messages over %d connections", len(srv.Messages()), srv.Connections())
		}
	})
}

func TestMailBatch_AServerThatHangsUpMidBatchGetsTheRestOnANewConnection(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		srv := smtptest.Start(t)
		srv.MaxPerConnection(3)
		m, q := newMailer(t, d, srv)
		defer m.Close()
		ids := queueBatch(t, m, 5)
		if n, err := q.RunOnce(context.Background()); n != 1 || err != nil {
			t.Fatalf("ran %d jobs, %v", n, err)
		}
		if got := statuses(t, d, ids); got != "sent,sent,sent,sent,sent" {
			t.Fatalf("statuses %s", got)
		}
		per := map[string]int{}
		for _, msg := range srv.Messages() {
			per[msg.To[0]]++
		}
		if len(per) != 5 || len(srv.Messages()) != 5 || srv.Connections() != 2 {
			t.Fatalf("%d messages to %d addresses over %d connections", len(srv.Messages()), len(per), srv.Connections())
		}
	})
}

func TestMail_LinesStartingWithADotArriveAsWritten(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		srv := smtptest.Start(t)
		m, q := newMailer(t, d, srv)
		defer m.Close()
		msg := jpMail
		msg.Text = ".first\n.\n..two dots\nend.\n"
		msg.HTML = ""
		queueMail(t, m, msg)
		q.RunOnce(context.Background())
		msgs := srv.Messages()
		if len(msgs) != 1 {
			t.Fatalf("%d messages", len(msgs))
		}
		parsed, err := mail.ReadMessage(bytes.NewReader(msgs[0].Data))
		if err != nil {
			t.Fatal(err)
		}
		body, err := io.ReadAll(quotedprintable.NewReader(parsed.Body))
		if err != nil {
			t.Fatal(err)
		}
		if got := strings.ReplaceAll(string(body), "\r\n", "\n"); got != msg.Text {
			t.Fatalf("body %q, want %q", got, msg.Text)
		}
	})
}
