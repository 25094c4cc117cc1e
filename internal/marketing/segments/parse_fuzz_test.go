package segments

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/ryorin/ryorin/internal/crm"
	"github.com/ryorin/ryorin/internal/db"
	"github.com/ryorin/ryorin/internal/dbtest"
	"github.com/ryorin/ryorin/internal/errs"
	"github.com/ryorin/ryorin/internal/platform"
)

var fuzzProps = []crm.PropertyDefinition{
	{ObjectType: "contact", Key: "budget", Type: crm.PropNumber},
	{ObjectType: "contact", Key: "topics", Type: crm.PropMultiChoice},
	{ObjectType: "contact", Key: "trial", Type: crm.PropBool},
	{ObjectType: "contact", Key: "size", Type: crm.PropSingleChoice},
	{ObjectType: "contact", Key: "note", Type: crm.PropText},
}

// FuzzParse feeds arbitrary JSON to the definition parser (it comes from the
// API and the editor). It must never panic; a refusal is an Invalid or
// TooLarge error naming a field; an accepted definition compiles to SQL whose
// placeholders match its arguments, with no value spliced into the text, and
// which a real SQLite database runs.
func FuzzParse(f *testing.F) {
	for _, seed := range []string{
		`{"groups":[{"conditions":[{"field":"lifecycle_stage","op":"eq","value":"lead"}]}]}`,
		`{"groups":[{"conditions":[{"field":"title","op":"contains","value":"'; DROP TABLE contacts; --"}]}]}`,
		`{"groups":[{"conditions":[{"field":"prop.note","op":"starts_with","value":"50%_\\"}]}]}`,
		`{"groups":[{"conditions":[{"field":"visited_page","op":"at_least","count":3,"days":30,"path":"/pricing"}]},{"conditions":[{"field":"form_submit","op":"at_least","days":7,"path":"webinar"}]}]}`,
		`{"groups":[{"conditions":[{"field":"email_open","op":"none","days":90},{"field":"list","op":"not_in","value":"7"},{"field":"company.employees","op":"gte","value":"100"}]}]}`,
		`{"groups":[{"conditions":[{"field":"prop.topics","op":"contains","value":"\"ma\""},{"field":"prop.trial","op":"eq","value":"true"},{"field":"prop.budget","op":"lte","value":"1e9"}]}]}`,
		`{"groups":[{"conditions":[{"field":"owner_id","op":"neq","value":"3"},{"field":"fit_grade","op":"empty"},{"field":"company.prefecture","op":"eq","value":"東京都"}]}]}`,
		`{"groups":[{"conditions":[{"field":"salary","op":"eq","value":"1"}]}]}`,
		`{"groups":[{"conditions":[{"field":"title","op":"eq","value":"x","extra":1}]}]}`,
		`{"groups":null}`, `{}`, `[]`, `null`, ``, `{"groups":[{"conditions":[{"field":"content_view","op":"at_least","count":-1,"days":1}]}]}`,
	} {
		f.Add([]byte(seed))
	}
	d := dbtest.Open(f, db.SQLite)
	ctx := context.Background()
	if err := platform.EnsureWorkspace(ctx, d, 1, "fuzz", time.Now()); err != nil {
		f.Fatal(err)
	}
	now := time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, b []byte) {
		def, err := Parse(b, fuzzProps)
		if err != nil {
			var e *errs.Error
			if !errors.As(err, &e) || (e.Kind != errs.Invalid && e.Kind != errs.TooLarge) || e.Field == "" {
				t.Fatalf("refusal without a field: %v", err)
			}
			return
		}
		all := map[Spot]bool{}
		for gi, g := range def.Groups {
			for ci := range g.Conditions {
				all[Spot{gi, ci}] = true
			}
		}
		var counts []int64
		for _, sets := range []map[Spot]bool{nil, all} {
			q, err := CompileWith(def, fuzzProps, 1, now, sets)
			if err != nil {
				t.Fatalf("valid definition does not compile: %v", err)
			}
			if n := strings.Count(q.Where, "?"); n != len(q.Args) {
				t.Fatalf("%d placeholders, %d args: %s", n, len(q.Args), q.Where)
			}
			// The only quoted literals are the compiler's own.
			rest := strings.NewReplacer(`'\'`, "", `''`, "", `'[]'`, "").Replace(q.Where)
			if strings.Contains(rest, "'") {
				t.Fatalf("a value reached the SQL text: %s", q.Where)
			}
			var n int64
			if err := d.Reader().QueryRowContext(ctx, `SELECT COUNT(*) FROM contacts c WHERE c.workspace_id = ? AND `+q.Where,
				append([]any{int64(1)}, q.Args...)...).Scan(&n); err != nil {
				t.Fatalf("compiled SQL fails: %v\n%s", err, q.Where)
			}
			counts = append(counts, n)
		}
		if counts[0] != counts[1] {
			t.Fatalf("probe and set forms disagree: %v", counts)
		}
	})
}
