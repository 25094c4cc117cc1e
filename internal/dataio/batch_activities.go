package dataio

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"

	"github.com/ryorin/ryorin/internal/crm"
	"github.com/ryorin/ryorin/internal/db"
)

// activities writes a batch of activity records as crm.LogActivity would
// write each: linked to an existing contact (by email), company and deal,
// the company filled in from the contact or the deal, and last_activity_at
// moved forward on all three when the activity has happened. The lookups
// are one query per kind of link and the writes one statement per kind, not
// one per row; the import writes one timeline entry in all (its summary).
// Activity hooks (the lead SLA's first touch) are not run: an import brings
// in history, not a follow-up made now.
func (r *run) activities(ctx context.Context, tx *db.Tx, recs []record, bad []badRow) (batchCounts, []badRow, error) {
	var c batchCounts
	contacts, err := r.existingContacts(ctx, tx, recs)
	if err != nil {
		return c, bad, err
	}
	var refs []companyRef
	for _, rec := range recs {
		if !rec.Company.empty() {
			refs = append(refs, rec.Company)
		}
	}
	cos := &companyIndex{}
	if len(refs) > 0 {
		if cos, err = r.loadCompanies(ctx, tx, refs); err != nil {
			return c, bad, err
		}
	}
	byExt, err := r.existingDeals(ctx, tx, recs)
	if err != nil {
		return c, bad, err
	}
	byName, err := r.dealsByName(ctx, tx, recs)
	if err != nil {
		return c, bad, err
	}
	now := db.Millis(r.now)
	ins := newInserter("activities", "workspace_id:bigint", "kind", "subject", "body", "occurred_at:bigint", "due_at:bigint",
		"done_at:bigint", "call_outcome", "owner_id:bigint", "contact_id:bigint", "company_id:bigint", "deal_id:bigint",
		"created_by:bigint", "created_at:bigint", "updated_at:bigint")
	touch := map[string]map[int64]int64{"contacts": {}, "companies": {}, "deals": {}}
	for i := range recs {
		rec := &recs[i]
		fail := func(field, format string, args ...any) {
			bad = append(bad, badRow{Line: rec.Line, Field: field, Reason: fmt.Sprintf(format, args...), Raw: rec.Raw})
		}
		var contact, company, deal int64
		if rec.Key != "" {
			t := contacts[rec.Key]
			if t == nil {
				fail("contact_email", "there is no contact with the email %s", rec.Key)
				continue
			}
			contact, company = t.id, num(t.cols, "company_id")
		}
		if !rec.Company.empty() {
			e := cos.find(rec.Company)
			if e == nil {
				fail("company_name", "there is no such company")
				continue
			}
			company = e.id
		}
		switch name := str(rec.Cols, "deal_name"); {
		case rec.ExtID != "":
			id, ok := byExt[rec.ExtID]
			if !ok {
				fail("deal_external_id", "there is no deal with the external ID %q", rec.ExtID)
				continue
			}
			deal = id
		case name != "":
			ds := byName[name]
			if company != 0 && len(ds) > 1 {
				ds = slices.DeleteFunc(slices.Clone(ds), func(d [2]int64) bool { return d[1] != company })
			}
			if len(ds) != 1 {
				fail("deal_name", "%d deals are named %q; map the deal's external ID or its company", len(ds), name)
				continue
			}
			deal = ds[0][0]
			if company == 0 {
				company = ds[0][1]
			}
		}
		m := rec.Cols
		kind := str(m, "kind")
		occurred, due := num(m, "occurred_at"), num(m, "due_date")
		if occurred == 0 {
			occurred = now
			if kind == "task" && due != 0 {
				occurred = due
			}
		}
		var done any
		if d, _ := m["done"].(bool); d {
			done = occurred // a task imported as done was done when it happened
		}
		owner := num(m, "owner_id")
		if owner == 0 {
			owner = r.owner
		}
		ins.add(r.ws, kind, str(m, "subject"), str(m, "body"), occurred, db.NullInt(due), done, str(m, "call_outcome"),
			db.NullInt(owner), db.NullInt(contact), db.NullInt(company), db.NullInt(deal), db.NullInt(r.im.CreatedBy), now, now)
		c.Created++
		// Last activity is something that happened (as crm.LogActivity).
		if (kind != "task" || done != nil) && occurred <= now {
			for table, id := range map[string]int64{"contacts": contact, "companies": company, "deals": deal} {
				if id != 0 && touch[table][id] < occurred {
					touch[table][id] = occurred
				}
			}
		}
	}
	var ids []int64
	err = ins.query(ctx, tx, "dataio.insertActivities", "id", func(rows *sql.Rows) error {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return err
		}
		ids = append(ids, id)
		return nil
	})
	if err != nil {
		return c, bad, err
	}
	if err := r.logCreated(ctx, tx, Activities, ids); err != nil {
		return c, bad, err
	}
	for _, table := range []string{"contacts", "companies", "deals"} {
		if err := touchLastActivity(ctx, tx, r.ws, table, touch[table]); err != nil {
			return c, bad, err
		}
	}
	return c, bad, nil
}

// dealsByName finds the deals a batch names, through the indexed search
// text, as name → [id, company id] pairs.
func (r *run) dealsByName(ctx context.Context, tx *db.Tx, recs []record) (map[string][][2]int64, error) {
	var keys []string
	want := map[string]bool{}
	for _, rec := range recs {
		if n := str(rec.Cols, "deal_name"); n != "" && rec.ExtID == "" && !want[n] {
			want[n] = true
			keys = append(keys, crm.DealSearchText(n))
		}
	}
	out := map[string][][2]int64{}
	err := inChunks(keys, func(ph string, args []any) error {
		rows, err := tx.QueryContext(ctx, `-- dataio.dealsByName
			SELECT id, name, COALESCE(company_id, 0) FROM deals WHERE workspace_id = ? AND search_text IN (`+ph+`) ORDER BY id`,
			append([]any{r.ws}, args...)...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var id, company int64
			var name string
			if err := rows.Scan(&id, &name, &company); err != nil {
				return err
			}
			if want[name] {
				out[name] = append(out[name], [2]int64{id, company})
			}
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("dataio.dealsByName: %w", err)
	}
	return out, nil
}

// touchLastActivity moves last_activity_at forward (never back) on records,
// 200 per statement.
func touchLastActivity(ctx context.Context, tx *db.Tx, ws int64, table string, at map[int64]int64) error {
	ids := make([]int64, 0, len(at))
	for id := range at {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	const per = 200
	for start := 0; start < len(ids); start += per {
		chunk := ids[start:min(start+per, len(ids))]
		var b strings.Builder
		var args []any
		b.WriteString("-- dataio.touchLastActivity\nUPDATE " + table + " SET last_activity_at = CASE id")
		for _, id := range chunk {
			b.WriteString(" WHEN ? THEN (CASE WHEN last_activity_at IS NULL OR last_activity_at < ? THEN ? ELSE last_activity_at END)")
			args = append(args, id, at[id], at[id])
		}
		b.WriteString(" ELSE last_activity_at END WHERE workspace_id = ? AND id IN (" + db.Placeholders(len(chunk)) + ")")
		args = append(args, ws)
		for _, id := range chunk {
			args = append(args, id)
		}
		if _, err := tx.ExecContext(ctx, b.String(), args...); err != nil {
			return fmt.Errorf("dataio.touchLastActivity %s: %w", table, err)
		}
	}
	return nil
}
