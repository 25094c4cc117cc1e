package platform

import (
	"bytes"
	"fmt"
	"mime"
	"mime/quotedprintable"
	netmail "net/mail"
	"slices"
	"strings"
	"sync"
	"time"
)

// A message goes over the wire as Ryorin encodes it here, once: RFC 5322
// headers (non-ASCII words as RFC 2047 encoded-words), a text and an HTML
// part in quoted-printable, dot-stuffed and ending in the end-of-data line,
// so the SMTP conversation only writes bytes (see mail_smtp.go).

// wireMessage is a message ready for the SMTP conversation: its envelope
// and its content as written after DATA.
type wireMessage struct {
	from string // envelope sender
	to   string // envelope recipient
	data []byte // dot-stuffed content, ending in ".\r\n"
}

var plainBuf = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// encode turns a stored message into its wire form, dated date.
func encode(s SMTPSettings, mm MailMessage, date time.Time) (wireMessage, error) {
	from, err := netmail.ParseAddress(s.FromAddress)
	if err != nil {
		return wireMessage{}, fmt.Errorf("from address %q: %w", s.FromAddress, err)
	}
	from.Name = s.FromName
	to, err := netmail.ParseAddress(mm.To)
	if err != nil {
		return wireMessage{}, fmt.Errorf("recipient %q: %w", mm.To, err)
	}
	b := plainBuf.Get().(*bytes.Buffer)
	defer plainBuf.Put(b)
	b.Reset()
	header := func(k, v string) {
		b.WriteString(k)
		b.WriteString(": ")
		b.WriteString(v)
		b.WriteString("\r\n")
	}
	header("Date", date.Format(time.RFC1123Z))
	header("From", from.String())
	header("To", to.String())
	header("Subject", encodeWords(mm.Subject))
	if mm.MessageID != "" {
		header("Message-ID", mm.MessageID)
	}
	header("MIME-Version", "1.0")
	header("User-Agent", "Ryorin")
	keys := make([]string, 0, len(mm.Headers))
	for k := range mm.Headers {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		header(k, encodeWords(mm.Headers[k]))
	}
	part := func(ctype, body string) {
		header("Content-Type", ctype+"; charset=UTF-8")
		header("Content-Transfer-Encoding", "quoted-printable")
		b.WriteString("\r\n")
		q := quotedprintable.NewWriter(b)
		_, _ = q.Write([]byte(body))
		_ = q.Close()
		if !bytes.HasSuffix(b.Bytes(), []byte("\r\n")) {
			b.WriteString("\r\n")
		}
	}
	switch {
	case mm.Text != "" && mm.HTML != "":
		boundary := "ryorin-" + randomHex(12)
		header("Content-Type", `multipart/alternative; boundary="`+boundary+`"`)
		b.WriteString("\r\n--" + boundary + "\r\n")
		part("text/plain", mm.Text)
		b.WriteString("--" + boundary + "\r\n")
		part("text/html", mm.HTML)
		b.WriteString("--" + boundary + "--\r\n")
	case mm.HTML != "":
		part("text/html", mm.HTML)
	default:
		part("text/plain", mm.Text)
	}
	return wireMessage{from: from.Address, to: to.Address, data: dotStuff(b.Bytes())}, nil
}

// encodeWords returns a header value as is when it is printable ASCII, and
// as RFC 2047 encoded-words (base64, folded between words) otherwise.
func encodeWords(v string) string {
	for i := 0; i < len(v); i++ {
		if c := v[i]; c < 0x20 || c > 0x7e {
			return strings.ReplaceAll(mime.BEncoding.Encode("UTF-8", v), "?= =?", "?=\r\n =?")
		}
	}
	return v
}

// dotStuff returns the content as sent after DATA (RFC 5321 4.5.2): a
// line starting with "." gets a second one, and the end-of-data line
// follows. b's lines end in CRLF.
func dotStuff(b []byte) []byte {
	out := make([]byte, 0, len(b)+len(b)/64+8)
	line := true // at the start of a line
	for len(b) > 0 {
		if line && b[0] == '.' {
			out = append(out, '.')
		}
		i := bytes.IndexByte(b, '\n')
		if i < 0 {
			out = append(out, b...)
			b = nil
			line = false
			break
		}
		out = append(out, b[:i+1]...)
		b = b[i+1:]
		line = true
	}
	if !line {
		out = append(out, '\r', '\n')
	}
	return append(out, ".\r\n"...)
}
