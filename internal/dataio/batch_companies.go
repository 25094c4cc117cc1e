package dataio

import (
	"context"
	"database/sql"
	"fmt"
	"slices"

	"github.com/ryorin/ryorin/internal/db"
)

// companyUpdatable are the company columns an import may change.
var companyUpdatable = map[string]bool{"name": true, "name_norm": true, "name_kana": true, "domain": true, "corporate_number": true,
	"industry": true, "employees": true, "annual_revenue": true, "phone": true, "postal_code": true, "prefecture": true,
	"city": true, "address_line1": true, "address_line2": true, "props": true}

// coEntry is a company a batch knows: found in the database or created by it.
type coEntry struct {
	id                 int64
	corp, domain, norm string
	name               string
	t                  *target
}

// companyIndex finds companies by corporate number, then domain, then
// normalised name. A match by domain or name is refused when both sides have
// different corporate numbers: those are two companies.
type companyIndex struct {
	byCorp, byDomain, byNorm map[string]*coEntry
	pending                  []*coEntry
}

func (ix *companyIndex) find(ref companyRef) *coEntry {
	if ref.Corp != "" {
		if e := ix.byCorp[ref.Corp]; e != nil {
			return e
		}
	}
	ok := func(e *coEntry) bool { return e != nil && (e.corp == "" || ref.Corp == "" || e.corp == ref.Corp) }
	if e := ix.byDomain[ref.Domain]; ref.Domain != "" && ok(e) {
		return e
	}
	if e := ix.byNorm[ref.Norm]; ref.Norm != "" && ok(e) {
		return e
	}
	return nil
}

func (ix *companyIndex) register(e *coEntry) {
	for m, k := range map[*map[string]*coEntry]string{&ix.byCorp: e.corp, &ix.byDomain: e.domain, &ix.byNorm: e.norm} {
		if k != "" && (*m)[k] == nil {
			(*m)[k] = e
		}
	}
}

const existingCompanyCols = `id, name, name_norm, name_kana, COALESCE(domain, ''), COALESCE(corporate_number, ''), industry, employees,
	annual_revenue, phone, postal_code, prefecture, city, address_line1, address_line2, props`

// loadCompanies finds the existing companies any of refs may mean, in at
// most three indexed queries.
func (r *run) loadCompanies(ctx context.Context, tx *db.Tx, refs []companyRef) (*companyIndex, error) {
	ix := &companyIndex{byCorp: map[string]*coEntry{}, byDomain: map[string]*coEntry{}, byNorm: map[string]*coEntry{}}
	sets := map[string][]string{}
	seen := map[string]bool{}
	for _, ref := range refs {
		for col, v := range map[string]string{"corporate_number": ref.Corp, "domain": ref.Domain, "name_norm": ref.Norm} {
			if v != "" && !seen[col+"\x00"+v] {
				seen[col+"\x00"+v] = true
				sets[col] = append(sets[col], v)
			}
		}
	}
	var found []*coEntry
	for _, col := range []string{"corporate_number", "domain", "name_norm"} {
		err := inChunks(sets[col], func(ph string, args []any) error {
			rows, err := tx.QueryContext(ctx, `-- dataio.loadCompanies
				SELECT `+existingCompanyCols+` FROM companies WHERE workspace_id = ? AND `+col+` IN (`+ph+`) ORDER BY id`,
				append([]any{r.ws}, args...)...)
			if err != nil {
				return err
			}
			defer rows.Close()
			for rows.Next() {
				e, err := scanCompanyEntry(rows)
				if err != nil {
					return err
				}
				found = append(found, e)
			}
			return rows.Err()
		})
		if err != nil {
			return nil, fmt.Errorf("dataio.loadCompanies: %w", err)
		}
	}
	// The lowest id wins a key, whichever query found it.
	byID := map[int64]*coEntry{}
	var ids []int64
	for _, e := range found {
		if byID[e.id] == nil {
			byID[e.id] = e
			ids = append(ids, e.id)
		}
	}
	slices.Sort(ids)
	for _, id := range ids {
		ix.register(byID[id])
	}
	return ix, nil
}

func scanCompanyEntry(rows *sql.Rows) (*coEntry, error) {
	var id int64
	var name, norm, kana, domain, corp, industry, phone, postal, pref, city, l1, l2 string
	var emp, rev *int64
	var props *string
	if err := rows.Scan(&id, &name, &norm, &kana, &domain, &corp, &industry, &emp, &rev, &phone, &postal, &pref, &city, &l1, &l2, &props); err != nil {
		return nil, err
	}
	cols := map[string]any{"props": stored(props), "name": name, "name_norm": norm, "name_kana": kana, "domain": domain, "corporate_number": corp,
		"industry": industry, "employees": nil, "annual_revenue": nil, "phone": phone, "postal_code": postal, "prefecture": pref,
		"city": city, "address_line1": l1, "address_line2": l2}
	if emp != nil {
		cols["employees"] = *emp
	}
	if rev != nil {
		cols["annual_revenue"] = *rev
	}
	return &coEntry{id: id, corp: corp, domain: domain, norm: norm, name: name,
		t: &target{id: id, cols: cols, props: parseProps(props), before: map[string]any{}}}, nil
}

// linkCompanies finds or creates the company each contact names, and says
// how many it created. A company name already resolved by an earlier batch
// of this run is taken from the run's memory instead of the database: in a
// real file the same few thousand companies repeat on every batch, and their
// three lookups were a tenth of an import's time on SQLite.
func (r *run) linkCompanies(ctx context.Context, tx *db.Tx, ts []*target) (int64, error) {
	var refs []companyRef
	for _, t := range ts {
		if t.company.empty() {
			continue
		}
		if id, ok := r.linked[t.company]; ok {
			t.co = &coEntry{id: id}
			continue
		}
		refs = append(refs, t.company)
	}
	if len(refs) == 0 {
		return 0, nil
	}
	ix, err := r.loadCompanies(ctx, tx, refs)
	if err != nil {
		return 0, err
	}
	var fresh []*target
	for _, t := range ts {
		if t.company.empty() || t.co != nil {
			continue
		}
		e := ix.find(t.company)
		if e == nil && t.company.Name != "" {
			e = &coEntry{corp: t.company.Corp, domain: t.company.Domain, norm: t.company.Norm, name: t.company.Name,
				t: &target{cols: map[string]any{"name": t.company.Name, "name_norm": t.company.Norm, "domain": t.company.Domain,
					"corporate_number": t.company.Corp}}}
			ix.register(e)
			ix.pending = append(ix.pending, e)
		}
		t.co = e
		if e != nil {
			fresh = append(fresh, t)
		}
	}
	if err := r.insertCompanies(ctx, tx, ix.pending); err != nil {
		return 0, err
	}
	for _, t := range fresh {
		r.linking[t.company] = t.co.id
	}
	return int64(len(ix.pending)), nil
}

// maxLinked bounds the run's memory of resolved company names (about 100
// bytes each), so a file of millions of distinct companies stays in bounded
// memory; past it, names are looked up in the database as before.
const maxLinked = 200_000

// linkedCommitted keeps the company names the batch just committed resolved,
// for the next batches. Only after the commit: a rolled-back batch's new
// companies do not exist. A company deleted by a user while the import runs
// makes the next batch that links to it fail its foreign key; the retried
// run starts with an empty memory and creates it again.
func (r *run) linkedCommitted() {
	for ref, id := range r.linking {
		if len(r.linked) < maxLinked {
			r.linked[ref] = id
		}
	}
	clear(r.linking)
}

// insertCompanies inserts new companies and sets their ids.
func (r *run) insertCompanies(ctx context.Context, tx *db.Tx, es []*coEntry) error {
	if len(es) == 0 {
		return nil
	}
	now := db.Millis(r.now)
	ins := newInserter("companies", "workspace_id:bigint", "name", "name_norm", "name_kana", "domain", "corporate_number", "industry",
		"employees:bigint", "annual_revenue:bigint", "phone", "postal_code", "prefecture", "city", "address_line1", "address_line2",
		"owner_id:bigint", "props:jsonb", "search_text", "created_at:bigint", "updated_at:bigint")
	byKey := map[string][]*coEntry{}
	for _, e := range es {
		m := e.t.cols
		created := num(m, "created_at")
		if created == 0 {
			created = now
		}
		ins.add(r.ws, str(m, "name"), str(m, "name_norm"), str(m, "name_kana"), db.NullString(str(m, "domain")),
			db.NullString(str(m, "corporate_number")), str(m, "industry"), m["employees"], m["annual_revenue"], str(m, "phone"),
			str(m, "postal_code"), str(m, "prefecture"), str(m, "city"), str(m, "address_line1"), str(m, "address_line2"),
			db.NullInt(r.owner), propsJSON(e.t.props), companySearchText(m), created, now)
		k := str(m, "corporate_number") + "\x00" + str(m, "domain") + "\x00" + str(m, "name_norm")
		byKey[k] = append(byKey[k], e)
	}
	var ids []int64
	err := ins.query(ctx, tx, "dataio.insertCompanies", "id, COALESCE(corporate_number, ''), COALESCE(domain, ''), name_norm", func(rows *sql.Rows) error {
		var id int64
		var corp, domain, norm string
		if err := rows.Scan(&id, &corp, &domain, &norm); err != nil {
			return err
		}
		k := corp + "\x00" + domain + "\x00" + norm
		if q := byKey[k]; len(q) > 0 { // same keys: any of them, each once
			q[0].id, q[0].t.id = id, id
			byKey[k] = q[1:]
		}
		ids = append(ids, id)
		return nil
	})
	if err != nil {
		return err
	}
	return r.logCreated(ctx, tx, Companies, ids)
}

// companies writes a batch of company records.
func (r *run) companies(ctx context.Context, tx *db.Tx, recs []record, bad []badRow) (batchCounts, []badRow, error) {
	var c batchCounts
	refs := make([]companyRef, len(recs))
	for i, rec := range recs {
		refs[i] = companyRef{Name: str(rec.Cols, "name"), Norm: str(rec.Cols, "name_norm"), Domain: str(rec.Cols, "domain"),
			Corp: str(rec.Cols, "corporate_number")}
	}
	ix, err := r.loadCompanies(ctx, tx, refs)
	if err != nil {
		return c, bad, err
	}
	var updates []*target
	for i := range recs {
		rec, ref := &recs[i], refs[i]
		e := ix.find(ref)
		if e != nil && r.im.Mode == ModeCreate && (ref.Corp == "" || e.corp != ref.Corp) {
			e = nil // create mode: a namesake is a new company
		}
		if e != nil {
			switch r.im.Mode {
			case ModeSkip:
				c.Skipped++
				continue
			case ModeCreate:
				bad = append(bad, badRow{Line: rec.Line, Field: "corporate_number", Reason: dupReason(e.t, "company with this corporate number"), Raw: rec.Raw})
				continue
			}
			for k, v := range rec.Cols {
				if e.t.id == 0 {
					e.t.cols[k] = v
				} else if companyUpdatable[k] {
					e.t.set(k, v)
				}
			}
			e.t.setProps(rec.Props)
			if e.t.id != 0 && !e.t.queued {
				updates, e.t.queued = append(updates, e.t), true
			}
			c.Updated++
			continue
		}
		if k := missingRequired(r.rc.Fields, rec.Props); k != "" {
			bad = append(bad, badRow{Line: rec.Line, Field: k, Reason: "is required", Raw: rec.Raw})
			continue
		}
		e = &coEntry{corp: ref.Corp, domain: ref.Domain, norm: ref.Norm, name: ref.Name, t: &target{cols: rec.Cols, props: rec.Props, line: rec.Line}}
		ix.register(e)
		ix.pending = append(ix.pending, e)
		c.Created++
	}
	if err := r.insertCompanies(ctx, tx, ix.pending); err != nil {
		return c, bad, err
	}
	return c, bad, r.updateCompanies(ctx, tx, updates)
}

func (r *run) updateCompanies(ctx context.Context, tx *db.Tx, updates []*target) error {
	now := db.Millis(r.now)
	recs := newInserter("import_records", "workspace_id:bigint", "import_id:bigint", "object_type", "record_id:bigint", "action", "before:jsonb")
	var rows []rowUpdate
	for _, t := range updates {
		if len(t.before) == 0 {
			continue
		}
		u := rowUpdate{id: t.id, set: map[string]any{"search_text": companySearchText(t.cols)}}
		for k := range t.before {
			u.set[k] = dbValue(k, t.cols[k])
		}
		rows = append(rows, u)
		recs.add(r.ws, r.im.ID, Companies, t.id, "updated", marshal(t.before))
	}
	if err := bulkUpdate(ctx, tx, "dataio.updateCompanies", "companies", r.ws, rows, now); err != nil {
		return err
	}
	if len(recs.rows) == 0 {
		return nil
	}
	return recs.exec(ctx, tx, "dataio.records")
}
