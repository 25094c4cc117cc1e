package content_test

import (
	"strings"
	"testing"
	"time"

	"github.com/ryorin/ryorin/internal/marketing/content"
	"github.com/ryorin/ryorin/internal/platform"
)

var fuzzKey = []byte("0123456789abcdef0123456789abcdef")

// FuzzParseShareToken: whatever arrives in a public share link, the parser
// never panics, and it accepts only tokens signed for shares that name an
// asset and a contact.
func FuzzParseShareToken(f *testing.F) {
	now := time.Date(2026, 4, 1, 9, 0, 0, 0, time.UTC)
	good, _ := platform.SignLink(fuzzKey, "content.share", content.ShareClaim{Asset: 7, Contact: 9, User: 2}, now.Add(time.Hour))
	noContact, _ := platform.SignLink(fuzzKey, "content.share", map[string]any{"a": 7}, now.Add(time.Hour))
	other, _ := platform.SignLink(fuzzKey, "content.access", map[string]any{"a": 7, "c": 9}, now.Add(time.Hour))
	for _, s := range []string{good, noContact, other, "", ".", "a.b", good + "A", strings.Replace(good, ".", "..", 1),
		strings.Repeat("A", 5000), "AAAAAAAAAAA.AAAA", "%00", "\xff\xfe."} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, tok string) {
		cl, err := content.ParseShareToken(fuzzKey, tok, now)
		if err != nil {
			if cl != (content.ShareClaim{}) {
				t.Fatalf("claim %+v returned with error %v", cl, err)
			}
			return
		}
		if cl.Asset <= 0 || cl.Contact <= 0 {
			t.Fatalf("accepted a claim without asset or contact: %+v", cl)
		}
		if tok != good {
			// Only a token we signed can verify; the seed set has one.
			var again content.ShareClaim
			if err := platform.VerifyLink(fuzzKey, "content.share", tok, now, &again); err != nil {
				t.Fatalf("parser accepted what VerifyLink refuses: %v", err)
			}
		}
	})
}
