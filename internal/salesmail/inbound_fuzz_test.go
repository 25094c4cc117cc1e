package salesmail_test

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/ryorin/ryorin/internal/errs"
	"github.com/ryorin/ryorin/internal/salesmail"
)

// FuzzParseInbound: whatever a forwarder posts, ParseInbound returns a
// message with a one-line sender and subject, or an error; it never panics.
// The seed corpus runs with the normal tests; go test -fuzz=FuzzParseInbound
// ./internal/salesmail explores further.
func FuzzParseInbound(f *testing.F) {
	for _, s := range []string{
		`{"from": "Taro <taro@example.com>", "to": ["reply+1.abc@reply.example"], "subject": "Re: x", "text": "ok", "message_id": "<a@b>", "in_reply_to": "<m@c>"}`,
		`{"raw": "From: a@b.example\r\nTo: c@d.example\r\nSubject: =?UTF-8?B?5bGx55Sw?=\r\nIn-Reply-To: <x@y> <z@w>\r\n\r\nbody\r\n"}`,
		`{"raw": "From: a@b.example\r\nContent-Type: multipart/alternative; boundary=XX\r\n\r\n--XX\r\nContent-Type: text/html\r\n\r\n<p>x</p>\r\n--XX\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n44GC44KK44GM44Go44GG\r\n--XX--\r\n"}`,
		`{"raw": "From: a@b.example\r\nContent-Type: text/plain\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n=E3=81=82\r\n"}`,
		`{"from": 1}`, `{"nope": true}`, `{}`, `[`, `{"raw": "not a message"}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		m, err := salesmail.ParseInbound(body)
		if err != nil {
			if !errs.Is(err, errs.Invalid) {
				t.Fatalf("error of kind %v: %v", errs.KindOf(err), err)
			}
			return
		}
		if m.From == "" || strings.ContainsAny(m.From+m.Subject+m.MessageID+m.InReplyTo, "\r\n") {
			t.Fatalf("accepted %+v", m)
		}
		if !utf8.ValidString(m.Text) || len(m.Text) > salesmail.MaxBody || len(m.Subject) > 500 {
			t.Fatalf("text or subject not bounded: %d, %d", len(m.Text), len(m.Subject))
		}
	})
}
