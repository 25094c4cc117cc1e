package sequences_test

import (
	"errors"
	"testing"

	"github.com/ryorin/ryorin/internal/errs"
	"github.com/ryorin/ryorin/internal/sales/sequences"
)

// FuzzParseSteps: any input gives steps that validate again, or an Invalid
// error naming a field; never a panic.
func FuzzParseSteps(f *testing.F) {
	for _, s := range []string{
		`[{"delay_days":0,"action":"email","subject":"{{.FamilyName}}様","body":"{{.Salutation}}\n本文"},{"delay_days":2,"action":"call"}]`,
		`[{"delay_days":5,"action":"task","note":"事例を送る"}]`,
		`[{"action":"email","template_id":3}]`,
		`[{"action":"email","subject":"{{if}}","body":"x"}]`,
		`[{"action":"fax"}]`, `[]`, `null`, `{"steps":[]}`, `[{"delay_days":1e9}]`, `[` + "\xff" + `]`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		steps, err := sequences.ParseSteps(raw)
		if err != nil {
			var e *errs.Error
			if !errors.As(err, &e) || e.Kind != errs.Invalid || e.Field == "" {
				t.Fatalf("ParseSteps(%q) = %v, want an Invalid error naming a field", raw, err)
			}
			return
		}
		if err := sequences.ValidateSteps(steps); err != nil {
			t.Fatalf("parsed steps do not validate again: %v", err)
		}
	})
}
