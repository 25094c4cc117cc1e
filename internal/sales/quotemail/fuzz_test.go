package quotemail_test

import (
	"testing"
	"time"

	"github.com/ryorin/ryorin/internal/sales/quotemail"
)

// FuzzParseView: no public link path or token, however mangled, panics or
// opens a quote unless it is exactly a token we signed.
func FuzzParseView(f *testing.F) {
	key := []byte("0123456789abcdef0123456789abcdef")
	now := time.Date(2026, 4, 6, 1, 0, 0, 0, time.UTC)
	good, err := quotemail.SignView(key, 42, now)
	if err != nil {
		f.Fatal(err)
	}
	for _, s := range []string{good, good + ".pdf", good[:len(good)-1], "", ".pdf", "a.b", "../x", good + "%00", "x.pdf.pdf"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, file string) {
		tok, _, ok := quotemail.ParsePath(file)
		if !ok {
			return
		}
		id, err := quotemail.ParseView(key, tok, now)
		if err == nil && (tok != good || id != 42) {
			t.Fatalf("accepted %q as send %d", tok, id)
		}
	})
}
