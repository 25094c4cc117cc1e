package platform

import (
	"encoding/json"
	"testing"
	"time"
)

// FuzzPrepareEvent feeds arbitrary JSON through the event parser: whatever a
// client sends, it is accepted or rejected with an error, never a panic, and
// an accepted event stays within the stored limits.
func FuzzPrepareEvent(f *testing.F) {
	seeds := []string{
		`{"id":"1","kind":"page_view","url":"https://a.example/x?utm_source=g&utm_medium=cpc"}`,
		`{"id":"2","kind":"form_submit","email":"a@example.com","properties":{"form":"demo"}}`,
		`{"id":"","kind":""}`,
		`{"id":"3","kind":"page_view","url":"javascript:alert(1)"}`,
		`{"id":"4","kind":"page_view","occurred_at":"1970-01-01T00:00:00Z"}`,
		`{"id":"5","kind":"x","referrer":"%%%","url":"http://[::1]:namedport"}`,
		`[1,2,3]`, `null`, `"\u0000"`,
	}
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	now := time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, data []byte) {
		var in EventInput
		if json.Unmarshal(data, &in) != nil {
			return
		}
		p, perr := prepareEvent(in, now)
		if perr != nil {
			if perr.Field == "" || perr.Message == "" {
				t.Fatalf("error without field or message: %+v", perr)
			}
			return
		}
		if len(p.in.ID) > 128 || len(p.in.URL) > 4096 || len(p.props) > 16<<10 || p.in.Channel == "" {
			t.Fatalf("accepted an event outside the limits: %+v", p.in)
		}
	})
}
