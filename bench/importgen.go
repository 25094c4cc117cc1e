package bench

import (
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"math/rand/v2"
	"time"

	"github.com/ryorin/ryorin/internal/crm"
	"github.com/ryorin/ryorin/internal/db"
	"github.com/ryorin/ryorin/internal/platform"
)

// ImportExpect is what importing a generated CSV in update mode must count.
type ImportExpect struct {
	Rows, Created, Updated, Failed int
	Companies                      int // distinct company names in the file
}

// SeedContacts inserts n contacts with the emails the import CSV's
// duplicates use (existing%d@example.jp), in bounded batches.
func SeedContacts(ctx context.Context, d *db.DB, n int) error {
	now := Epoch.UnixMilli()
	if err := platform.EnsureWorkspace(ctx, d, 1, "Bench", Epoch); err != nil {
		return err
	}
	return batches(ctx, d, "bench.seedContacts", n, 400, func(i int, b *batch) {
		c := crm.Contact{Email: fmt.Sprintf("existing%d@example.jp", i), FamilyName: familyNames[i%len(familyNames)][0],
			GivenName: givenNames[i%len(givenNames)][0]}
		b.row(`INSERT INTO contacts (workspace_id, email, family_name, given_name, lifecycle_stage, lifecycle_changed_at, props, search_text, created_at, updated_at) VALUES `,
			"(1, ?, ?, ?, 'lead', ?, '{}', ?, ?, ?)", c.Email, c.FamilyName, c.GivenName, now, crm.ContactSearchText(c), now, now)
	})
}

// WriteImportCSV writes a contacts CSV of n rows as a Japanese team's
// spreadsheet would have it: Japanese headings, names with furigana, phones
// with full-width digits, dates in several formats, a company per row. 10 %
// of rows repeat the email of one of the existing seeded contacts (or, when
// there are none, of an earlier row) and 1 % are bad (an invalid email or a
// date that does not exist). It is deterministic for a given seed.
func WriteImportCSV(w io.Writer, n, existing int, seed uint64) (ImportExpect, error) {
	r := rand.New(rand.NewPCG(seed, 7))
	cw := csv.NewWriter(w)
	var exp ImportExpect
	if err := cw.Write([]string{"メールアドレス", "姓", "名", "セイ", "メイ", "電話番号", "会社名", "役職", "作成日"}); err != nil {
		return exp, err
	}
	companies := max(1, n/20)
	seen := map[int]bool{}
	known := map[string]bool{} // emails of contacts the import will have created
	dates := []func(time.Time) string{
		func(t time.Time) string { return t.Format("2006-01-02") },
		func(t time.Time) string { return t.Format("2006/1/2") },
		func(t time.Time) string { return fmt.Sprintf("%d年%d月%d日", t.Year(), t.Month(), t.Day()) },
		func(t time.Time) string {
			return fmt.Sprintf("令和%d年%d月%d日", t.Year()-2018, t.Month(), t.Day())
		},
		func(t time.Time) string {
			return fmt.Sprint(int(t.Sub(time.Date(1899, 12, 30, 0, 0, 0, 0, time.UTC)).Hours() / 24))
		},
	}
	for i := 0; i < n; i++ {
		f, g := familyNames[r.IntN(len(familyNames))], givenNames[r.IntN(len(givenNames))]
		email := fmt.Sprintf("new%d@import.example.jp", i)
		day := Epoch.AddDate(0, 0, -r.IntN(900))
		date := dates[r.IntN(len(dates))](day)
		roll := r.IntN(100)
		bad := false
		switch {
		case roll == 0: // 1 % bad
			if r.IntN(2) == 0 {
				email = fmt.Sprintf("bad-address-%d", i)
			} else {
				date = fmt.Sprintf("%d年13月1日", day.Year())
			}
			bad = true
		case roll <= 10: // 10 % duplicates
			if existing > 0 {
				email = fmt.Sprintf("existing%d@example.jp", r.IntN(existing))
				known[email] = true
			} else if i > 0 {
				email = fmt.Sprintf("new%d@import.example.jp", r.IntN(i))
			}
		}
		switch {
		case bad:
			exp.Failed++
		case known[email]:
			exp.Updated++
		default:
			exp.Created++
			known[email] = true
		}
		co := r.IntN(companies)
		if !bad {
			seen[co] = true
		}
		phone := fmt.Sprintf("０３－%04d－%04d", r.IntN(10000), r.IntN(10000))
		if err := cw.Write([]string{email, f[0], g[0], f[1], g[1], phone, fmt.Sprintf("株式会社インポート%d", co),
			titles[r.IntN(len(titles))], date}); err != nil {
			return exp, err
		}
		exp.Rows++
	}
	cw.Flush()
	exp.Companies = len(seen)
	return exp, cw.Error()
}
