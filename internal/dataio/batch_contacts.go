package dataio

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"

	"github.com/ryorin/ryorin/internal/db"
	"github.com/ryorin/ryorin/internal/platform"
)

// contactUpdatable are the contact columns an import may change on an
// existing contact (never the email, which is how it was found).
var contactUpdatable = map[string]bool{"family_name": true, "given_name": true, "family_name_kana": true, "given_name_kana": true,
	"phone": true, "phone_norm": true, "mobile": true, "title": true, "department": true, "company_id": true, "owner_id": true,
	"lifecycle_stage": true, "original_source": true, "props": true}

// target is one record a batch writes: a new one (id 0 until inserted) or an
// existing one with the values it had before this batch changed them.
type target struct {
	id      int64
	cols    map[string]any
	before  map[string]any
	company companyRef
	co      *coEntry
	props   map[string]any // custom properties (of an existing record: as stored)
	search  string         // an existing record's search text
	line    int
	queued  bool
}

// set changes a column of an existing record, remembering the first value.
func (t *target) set(k string, v any) {
	if cur, ok := t.cols[k]; ok && cur == v {
		return
	}
	if _, saved := t.before[k]; !saved {
		t.before[k] = t.cols[k]
	}
	t.cols[k] = v
}

// setProps merges a row's custom property values into the target.
func (t *target) setProps(p map[string]any) {
	if len(p) == 0 {
		return
	}
	merged := make(map[string]any, len(t.props)+len(p))
	for k, v := range t.props {
		merged[k] = v
	}
	for k, v := range p {
		merged[k] = v
	}
	if t.id != 0 && !reflect.DeepEqual(merged, t.props) {
		t.set("props", propsJSON(merged))
	}
	t.props = merged
}

func propsJSON(p map[string]any) string {
	if len(p) == 0 {
		return "{}"
	}
	return marshal(p)
}

func parseProps(s *string) map[string]any {
	m := map[string]any{}
	if s != nil {
		_ = json.Unmarshal([]byte(*s), &m)
	}
	return m
}

func dupReason(t *target, what string) string {
	if t.id != 0 {
		return fmt.Sprintf("a %s already exists (id %d)", what, t.id)
	}
	return fmt.Sprintf("duplicate of line %d of this file", t.line)
}

// contacts writes a batch of contact records: existing contacts are found by
// email in one query, companies in three, new contacts and companies are
// inserted a few hundred per statement.
func (r *run) contacts(ctx context.Context, tx *db.Tx, recs []record, bad []badRow) (batchCounts, []badRow, error) {
	var c batchCounts
	existing, err := r.existingContacts(ctx, tx, recs)
	if err != nil {
		return c, bad, err
	}
	byEmail := map[string]*target{}
	var news, updates []*target
	for i := range recs {
		rec := &recs[i]
		if rec.Key != "" {
			t := byEmail[rec.Key]
			if t == nil {
				t = existing[rec.Key]
			}
			if t != nil {
				switch r.im.Mode {
				case ModeSkip:
					c.Skipped++
					byEmail[rec.Key] = t
					continue
				case ModeCreate:
					bad = append(bad, badRow{Line: rec.Line, Field: "email", Reason: dupReason(t, "contact with this email"), Raw: rec.Raw})
					continue
				}
				for k, v := range rec.Cols {
					if t.id == 0 {
						t.cols[k] = v
					} else if contactUpdatable[k] {
						t.set(k, v)
					}
				}
				t.setProps(rec.Props)
				if !rec.Company.empty() {
					t.company = rec.Company
				}
				if t.id != 0 && !t.queued {
					updates, t.queued = append(updates, t), true
				}
				byEmail[rec.Key] = t
				c.Updated++
				continue
			}
		}
		if k := missingRequired(r.rc.Fields, rec.Props); k != "" {
			bad = append(bad, badRow{Line: rec.Line, Field: k, Reason: "is required", Raw: rec.Raw})
			continue
		}
		t := &target{cols: rec.Cols, props: rec.Props, company: rec.Company, line: rec.Line}
		news = append(news, t)
		c.Created++
		if rec.Key != "" {
			byEmail[rec.Key] = t
		}
	}
	all := append(append([]*target(nil), news...), updates...)
	if c.Companies, err = r.linkCompanies(ctx, tx, all); err != nil {
		return c, bad, err
	}
	for _, t := range all {
		if t.co == nil {
			continue
		}
		if t.id == 0 {
			t.cols["company_id"] = t.co.id
		} else {
			t.set("company_id", t.co.id)
		}
	}
	if err := r.insertContacts(ctx, tx, news); err != nil {
		return c, bad, err
	}
	return c, bad, r.updateContacts(ctx, tx, updates)
}

const existingContactCols = `id, email, family_name, given_name, family_name_kana, given_name_kana, phone, phone_norm, mobile,
	title, department, COALESCE(company_id, 0), COALESCE(owner_id, 0), lifecycle_stage, original_source, search_text, props`

func (r *run) existingContacts(ctx context.Context, tx *db.Tx, recs []record) (map[string]*target, error) {
	emails := distinct(recs, func(rec record) string { return rec.Key })
	out := map[string]*target{}
	err := inChunks(emails, func(ph string, args []any) error {
		rows, err := tx.QueryContext(ctx, `-- dataio.existingContacts
			SELECT `+existingContactCols+` FROM contacts WHERE workspace_id = ? AND email IN (`+ph+`)`, append([]any{r.ws}, args...)...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var id, company, owner int64
			var email, fam, giv, famK, givK, phone, phoneNorm, mobile, title, dept, stage, source, search string
			var props *string
			if err := rows.Scan(&id, &email, &fam, &giv, &famK, &givK, &phone, &phoneNorm, &mobile, &title, &dept, &company, &owner,
				&stage, &source, &search, &props); err != nil {
				return err
			}
			out[email] = &target{id: id, search: search, props: parseProps(props), before: map[string]any{}, cols: map[string]any{"props": stored(props), "email": email, "family_name": fam,
				"given_name": giv, "family_name_kana": famK, "given_name_kana": givK, "phone": phone, "phone_norm": phoneNorm,
				"mobile": mobile, "title": title, "department": dept, "company_id": company, "owner_id": owner,
				"lifecycle_stage": stage, "original_source": source}}
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("dataio.existingContacts: %w", err)
	}
	return out, nil
}

func str(m map[string]any, k string) string { v, _ := m[k].(string); return v }

func num(m map[string]any, k string) int64 { v, _ := m[k].(int64); return v }

func (r *run) insertContacts(ctx context.Context, tx *db.Tx, news []*target) error {
	if len(news) == 0 {
		return nil
	}
	now := db.Millis(r.now)
	ins := newInserter("contacts", "workspace_id:bigint", "email", "family_name", "given_name", "family_name_kana", "given_name_kana",
		"phone", "phone_norm", "mobile", "title", "department", "company_id:bigint", "owner_id:bigint", "lifecycle_stage",
		"lifecycle_changed_at:bigint", "original_source", "props:jsonb", "search_text", "created_at:bigint", "updated_at:bigint")
	for _, t := range news {
		m := t.cols
		stage := str(m, "lifecycle_stage")
		if stage == "" {
			stage = string(platform.StageLead)
		}
		created := num(m, "created_at")
		if created == 0 {
			created = now
		}
		ins.add(r.ws, db.NullString(str(m, "email")), str(m, "family_name"), str(m, "given_name"), str(m, "family_name_kana"),
			str(m, "given_name_kana"), str(m, "phone"), str(m, "phone_norm"), str(m, "mobile"), str(m, "title"), str(m, "department"),
			db.NullInt(num(m, "company_id")), db.NullInt(num(m, "owner_id")), stage, now, str(m, "original_source"), propsJSON(t.props),
			contactSearchText(m), created, now)
	}
	life := newInserter("lifecycle_history", "workspace_id:bigint", "contact_id:bigint", "at:bigint", "from_stage", "to_stage", "cause_kind", "cause_ref", "actor_user_id:bigint")
	var ids []int64
	err := ins.query(ctx, tx, "dataio.insertContacts", "id, lifecycle_stage", func(rows *sql.Rows) error {
		var id int64
		var stage string
		if err := rows.Scan(&id, &stage); err != nil {
			return err
		}
		life.add(r.ws, id, now, "", stage, "import", fmt.Sprint(r.im.ID), db.NullInt(r.im.CreatedBy))
		ids = append(ids, id)
		return nil
	})
	if err != nil {
		return err
	}
	if err := life.exec(ctx, tx, "dataio.lifecycle"); err != nil {
		return err
	}
	return r.logCreated(ctx, tx, Contacts, ids)
}

// logCreated records the ids of the records a batch created, for undo: one
// undo-log row per batch holding them all, not one row per record.
func (r *run) logCreated(ctx context.Context, tx *db.Tx, object string, ids []int64) error {
	if len(ids) == 0 {
		return nil
	}
	slices.Sort(ids)
	_, err := tx.ExecContext(ctx, `-- dataio.logCreated
		INSERT INTO import_records (workspace_id, import_id, object_type, record_id, action, before) VALUES (?, ?, ?, ?, 'created', ?)`,
		r.ws, r.im.ID, object, ids[0], marshal(ids))
	return err
}

// updateContacts writes the changed columns of existing contacts and logs
// their earlier values for undo. The search text is rewritten only when it
// changed, so the full-text index is left alone otherwise.
func (r *run) updateContacts(ctx context.Context, tx *db.Tx, updates []*target) error {
	now := db.Millis(r.now)
	recs := newInserter("import_records", "workspace_id:bigint", "import_id:bigint", "object_type", "record_id:bigint", "action", "before:jsonb")
	life := newInserter("lifecycle_history", "workspace_id:bigint", "contact_id:bigint", "at:bigint", "from_stage", "to_stage", "cause_kind", "cause_ref", "actor_user_id:bigint")
	var rows []rowUpdate
	for _, t := range updates {
		if len(t.before) == 0 {
			continue
		}
		u := rowUpdate{id: t.id, set: map[string]any{}}
		for k := range t.before {
			u.set[k] = dbValue(k, t.cols[k])
		}
		if from, ok := t.before["lifecycle_stage"]; ok {
			u.set["lifecycle_changed_at"] = now
			life.add(r.ws, t.id, now, from, t.cols["lifecycle_stage"], "import", fmt.Sprint(r.im.ID), db.NullInt(r.im.CreatedBy))
		}
		if s := contactSearchText(t.cols); s != t.search {
			u.set["search_text"] = s
		}
		rows = append(rows, u)
		recs.add(r.ws, r.im.ID, Contacts, t.id, "updated", marshal(t.before))
	}
	if err := bulkUpdate(ctx, tx, "dataio.updateContacts", "contacts", r.ws, rows, now); err != nil {
		return err
	}
	if len(life.rows) > 0 {
		if err := life.exec(ctx, tx, "dataio.lifecycle"); err != nil {
			return err
		}
	}
	if len(recs.rows) == 0 {
		return nil
	}
	return recs.exec(ctx, tx, "dataio.records")
}

// dbValue turns a column value into what the database stores: 0 ids are NULL.
func dbValue(col string, v any) any {
	switch col {
	case "company_id", "owner_id":
		n, _ := v.(int64)
		return db.NullInt(n)
	case "email", "domain", "corporate_number", "close_date":
		s, _ := v.(string)
		return db.NullString(s)
	}
	return v
}

// stored is a stored JSON column's text, "{}" for NULL.
func stored(s *string) string {
	if s == nil {
		return "{}"
	}
	return *s
}
