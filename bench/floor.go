package bench

import (
	"context"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/ryorin/ryorin/internal/crm"
	"github.com/ryorin/ryorin/internal/db"
)

// FloorResult is what InsertFloor measured.
type FloorResult struct {
	Companies, Contacts int
	CompaniesTook       time.Duration
	ContactsTook        time.Duration
}

// InsertFloor writes n new contacts and companies new companies straight into
// their tables, with the values a contacts import of WriteImportCSV's file
// would write (names with kana, a phone, a company, a created date, the search
// text) and one lifecycle-history row per contact, perTx contacts per
// transaction, every index and trigger in place. No CSV is read, nothing is
// looked up, nothing deduplicated: it is the least an import of n new
// contacts can cost on this engine and schema, to hold the import against.
// With writers > 1 that many transactions run at once, each taking every
// writers-th transaction's rows (on SQLite they queue for the one writer).
func InsertFloor(ctx context.Context, d *db.DB, n, companies, perTx, writers int, seed uint64) (FloorResult, error) {
	now := Epoch.UnixMilli()
	res := FloorResult{Companies: max(1, companies), Contacts: n}
	var firstCo int64
	if err := d.Reader().QueryRowContext(ctx, `SELECT COALESCE(MAX(id), 0) + 1 FROM companies`).Scan(&firstCo); err != nil {
		return res, err
	}
	t := time.Now()
	err := batches(ctx, d, "bench.floorCompanies", res.Companies, 400, func(i int, b *batch) {
		name := fmt.Sprintf("フロア商事%d", i)
		b.row(`INSERT INTO companies (workspace_id, name, name_norm, props, search_text, created_at, updated_at) VALUES `,
			"(1, ?, ?, '{}', ?, ?, ?)", "株式会社"+name, name, name, now, now)
	})
	if err != nil {
		return res, err
	}
	res.CompaniesTook = time.Since(t)
	t = time.Now()
	writers = max(1, writers)
	errs := make(chan error, writers)
	for w := range writers {
		go func() { errs <- floorContacts(ctx, d, w, writers, n, perTx, firstCo, res.Companies, seed) }()
	}
	for range writers {
		if e := <-errs; e != nil && err == nil {
			err = e
		}
	}
	if err != nil {
		return res, err
	}
	res.ContactsTook = time.Since(t)
	return res, nil
}

// floorContacts inserts writer w's share of the floor's contacts.
func floorContacts(ctx context.Context, d *db.DB, w, writers, n, perTx int, firstCo int64, companies int, seed uint64) error {
	r := rand.New(rand.NewPCG(seed, uint64(11+w)))
	now := Epoch.UnixMilli()
	for start := w * perTx; start < n; start += writers * perTx {
		var b batch
		for i := start; i < min(start+perTx, n); i++ {
			f, g := familyNames[r.IntN(len(familyNames))], givenNames[r.IntN(len(givenNames))]
			phone := fmt.Sprintf("0%d%08d", 3+r.IntN(6), r.IntN(100_000_000))
			c := crm.Contact{Email: fmt.Sprintf("new%d@import.example.jp", i), FamilyName: f[0], GivenName: g[0],
				FamilyNameKana: f[1], GivenNameKana: g[1], Phone: phone}
			created := Epoch.AddDate(0, 0, -r.IntN(900)).UnixMilli()
			b.row(`INSERT INTO contacts (workspace_id, email, family_name, given_name, family_name_kana, given_name_kana, phone,
				phone_norm, company_id, lifecycle_stage, lifecycle_changed_at, props, search_text, created_at, updated_at) VALUES `,
				"(1, ?, ?, ?, ?, ?, ?, ?, ?, 'lead', ?, '{}', ?, ?, ?)", c.Email, c.FamilyName, c.GivenName, c.FamilyNameKana,
				c.GivenNameKana, phone, phone, firstCo+int64(r.IntN(companies)), now, crm.ContactSearchText(c), created, now)
		}
		err := d.Write(ctx, "bench.floorContacts", func(tx *db.Tx) error {
			rows, err := tx.QueryContext(ctx, b.prefix+b.sb.String()+" RETURNING id", b.args...)
			if err != nil {
				return err
			}
			var life batch
			for rows.Next() {
				var id int64
				if err := rows.Scan(&id); err != nil {
					rows.Close()
					return err
				}
				life.row(`INSERT INTO lifecycle_history (workspace_id, contact_id, at, from_stage, to_stage, cause_kind, cause_ref) VALUES `,
					"(1, ?, ?, '', 'lead', 'import', 'floor')", id, now)
			}
			rows.Close()
			if err := rows.Err(); err != nil {
				return err
			}
			_, err = tx.ExecContext(ctx, life.prefix+life.sb.String(), life.args...)
			return err
		})
		if err != nil {
			return fmt.Errorf("bench.InsertFloor rows %d–%d: %w", start, start+b.n, err)
		}
	}
	return nil
}
