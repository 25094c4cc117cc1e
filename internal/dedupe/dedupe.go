// Package dedupe finds likely duplicate contacts and companies and merges
// them: every activity, event, deal link, score history and timeline entry
// of the one removed moves to the one kept, the merge itself goes on the
// timeline, and it can be undone within UndoWindow. Rows move in bounded
// batches from a plan written first, so an interrupted merge can be run
// again and finishes.
package dedupe

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/ryorin/ryorin/internal/clock"
	"github.com/ryorin/ryorin/internal/db"
	"github.com/ryorin/ryorin/internal/errs"
	"github.com/ryorin/ryorin/internal/platform"
)

// UndoWindow is how long a merge can be undone.
const UndoWindow = 30 * 24 * time.Hour

// moveBatch bounds each write of a merge.
const moveBatch = 1000

// Service finds and merges duplicates.
type Service struct {
	DB    *db.DB
	Clock clock.Clock
}

// Group is a set of records that look like the same person or company.
type Group struct {
	Object string  `json:"object" enum:"contact,company"`
	Reason string  `json:"reason" enum:"phone,name_company,domain,name"`
	Key    string  `json:"key"`
	IDs    []int64 `json:"ids"`
}

// Duplicates lists likely duplicates: contacts sharing a phone number, or a
// name within one company; companies sharing a domain or a normalised name.
func (s *Service) Duplicates(ctx context.Context, q db.Querier, ws int64, limit int) ([]Group, error) {
	if limit <= 0 || limit > 500 {
		limit = 100
	}
	var out []Group
	for _, g := range []struct {
		object, reason, query string
	}{
		{"contact", "phone", `SELECT phone_norm, id FROM contacts WHERE workspace_id = ? AND phone_norm IN
			(SELECT phone_norm FROM contacts WHERE workspace_id = ? AND phone_norm <> '' GROUP BY phone_norm HAVING COUNT(*) > 1 LIMIT ?) ORDER BY phone_norm, id`},
		{"contact", "name_company", `SELECT c.family_name || ' ' || c.given_name || ' @' || CAST(c.company_id AS TEXT), c.id FROM contacts c
			JOIN (SELECT company_id, family_name, given_name FROM contacts WHERE workspace_id = ? AND company_id IS NOT NULL AND family_name <> ''
				GROUP BY company_id, family_name, given_name HAVING COUNT(*) > 1 LIMIT ?) d
			ON c.workspace_id = ? AND c.company_id = d.company_id AND c.family_name = d.family_name AND c.given_name = d.given_name ORDER BY 1, c.id`},
		{"company", "domain", `SELECT domain, id FROM companies WHERE workspace_id = ? AND domain IN
			(SELECT domain FROM companies WHERE workspace_id = ? AND domain <> '' GROUP BY domain HAVING COUNT(*) > 1 LIMIT ?) ORDER BY domain, id`},
		{"company", "name", `SELECT name_norm, id FROM companies WHERE workspace_id = ? AND name_norm IN
			(SELECT name_norm FROM companies WHERE workspace_id = ? AND name_norm <> '' GROUP BY name_norm HAVING COUNT(*) > 1 LIMIT ?) ORDER BY name_norm, id`},
	} {
		args := []any{ws, ws, limit}
		if g.reason == "name_company" {
			args = []any{ws, limit, ws}
		}
		rows, err := q.QueryContext(ctx, g.query, args...)
		if err != nil {
			return nil, fmt.Errorf("dedupe.Duplicates %s: %w", g.reason, err)
		}
		var cur *Group
		for rows.Next() {
			var key string
			var id int64
			if err := rows.Scan(&key, &id); err != nil {
				rows.Close()
				return nil, err
			}
			if cur == nil || cur.Key != key {
				out = append(out, Group{Object: g.object, Reason: g.reason, Key: key})
				cur = &out[len(out)-1]
			}
			cur.IDs = append(cur.IDs, id)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// ref is a table whose rows point at a record.
type ref struct {
	table, column, key, extra string // key: the row's own key column; extra: a further condition
}

// refs are the rows that move when two records merge.
var refs = map[string][]ref{
	"contact": {
		{"activities", "contact_id", "id", ""}, {"events", "contact_id", "id", ""}, {"timeline", "contact_id", "id", ""},
		{"lifecycle_history", "contact_id", "id", ""}, {"lead_feedback", "contact_id", "id", ""}, {"lead_slas", "contact_id", "id", ""},
		{"form_submissions", "contact_id", "id", ""}, {"track_sessions", "contact_id", "id", ""},
		{"track_visitors", "contact_id", "visitor_id", ""}, {"import_records", "record_id", "id", "object_type = 'contact'"},
		{"customer_issues", "contact_id", "id", ""},
		{"sales_emails", "contact_id", "id", ""},
		{"quote_sends", "contact_id", "id", ""}, {"content_views", "contact_id", "id", ""},
	},
	"company": {
		{"contacts", "company_id", "id", ""}, {"deals", "company_id", "id", ""}, {"activities", "company_id", "id", ""},
		{"timeline", "company_id", "id", ""}, {"import_records", "record_id", "id", "object_type = 'company'"},
		{"customer_issues", "company_id", "id", ""},
	},
}

// Merge is one merge, done or undone.
type Merge struct {
	ID        int64            `json:"id"`
	Object    string           `json:"object"`
	KeptID    int64            `json:"kept_id"`
	RemovedID int64            `json:"removed_id"`
	Moved     map[string]int   `json:"moved" doc:"rows moved, by table"`
	At        time.Time        `json:"at"`
	UndoneAt  *time.Time       `json:"undone_at,omitempty"`
	moved     map[string][]any // the moved rows' keys, by table
}

func table(object string) (string, error) {
	switch object {
	case "contact":
		return "contacts", nil
	case "company":
		return "companies", nil
	}
	return "", errs.Field("object", "must be contact or company")
}

// fillable are the fields the kept record takes from the removed one when
// its own are empty.
var fillable = map[string][]string{
	"contact": {"family_name", "given_name", "family_name_kana", "given_name_kana", "phone", "phone_norm", "mobile", "title", "department"},
	"company": {"name_kana", "domain", "corporate_number", "industry", "phone", "website", "postal_code", "prefecture", "city", "address_line1"},
}

// MergeRecords merges removed into kept (admins and managers): moves what
// points at removed to kept, fills kept's empty fields from removed, links
// removed's deals to kept, deletes removed and writes the merge on kept's
// timeline. Running it again after an interruption finishes the same merge.
func (s *Service) MergeRecords(ctx context.Context, a platform.Actor, object string, keptID, removedID int64) (Merge, error) {
	if !a.Is(platform.RoleAdmin, platform.RoleManager) {
		return Merge{}, errs.E(errs.Forbidden, "", "only admins and managers merge records")
	}
	tbl, err := table(object)
	if err != nil {
		return Merge{}, err
	}
	if keptID == removedID {
		return Merge{}, errs.Field("removed_id", "must differ from kept_id")
	}
	ws := a.WorkspaceID
	now := s.Clock.Now()
	m := Merge{Object: object, KeptID: keptID, RemovedID: removedID, At: now, Moved: map[string]int{}, moved: map[string][]any{}}
	// 1. The plan: the removed row, kept's fields before, every key to move.
	err = s.DB.Write(ctx, "dedupe.plan", func(tx *db.Tx) error {
		err := tx.QueryRowContext(ctx, `SELECT id FROM merges WHERE workspace_id = ? AND object_type = ? AND kept_id = ? AND removed_id = ? AND status = 'running'`,
			ws, object, keptID, removedID).Scan(&m.ID)
		if err == nil {
			return nil // resume the merge already planned
		}
		if !db.NoRows(err) {
			return err
		}
		rows, err := dumpRows(ctx, tx, `SELECT * FROM `+tbl+` WHERE workspace_id = ? AND id IN (?, ?)`, ws, keptID, removedID)
		if err != nil {
			return err
		}
		var kept, removed map[string]any
		for _, r := range rows {
			switch toInt(r["id"]) {
			case keptID:
				kept = r
			case removedID:
				removed = r
			}
		}
		if kept == nil || removed == nil {
			return errs.NotFoundf("%s %d or %d not found", object, keptID, removedID)
		}
		before := map[string]any{}
		for _, f := range fillable[object] {
			if isEmpty(kept[f]) && !isEmpty(removed[f]) {
				before[f] = kept[f]
			}
		}
		for _, r := range refs[object] {
			keys, err := keysOf(ctx, tx, ws, r, removedID)
			if err != nil {
				return err
			}
			if len(keys) > 0 {
				m.moved[r.table+"."+r.column] = keys
			}
		}
		if object == "contact" {
			// Deal links: moved, or dropped where kept is on the deal too.
			rows, err := tx.QueryContext(ctx, `SELECT deal_id, role, EXISTS (SELECT 1 FROM deal_contacts k WHERE k.workspace_id = d.workspace_id AND k.deal_id = d.deal_id AND k.contact_id = ?)
				FROM deal_contacts d WHERE d.workspace_id = ? AND d.contact_id = ?`, keptID, ws, removedID)
			if err != nil {
				return err
			}
			for rows.Next() {
				var deal int64
				var role string
				var both bool
				if err := rows.Scan(&deal, &role, &both); err != nil {
					rows.Close()
					return err
				}
				link := map[string]any{"deal_id": deal, "role": role, "dropped": both}
				m.moved["deal_contacts"] = append(m.moved["deal_contacts"], link)
			}
			rows.Close()
			// Static lists: moved where kept is not already a member (a
			// membership both share needs nothing; removed's goes with it).
			rows, err = tx.QueryContext(ctx, `SELECT list_id FROM list_members WHERE workspace_id = ? AND contact_id = ?
				AND list_id NOT IN (SELECT list_id FROM list_members WHERE workspace_id = ? AND contact_id = ?)`, ws, removedID, ws, keptID)
			if err != nil {
				return err
			}
			for rows.Next() {
				var list int64
				if err := rows.Scan(&list); err != nil {
					rows.Close()
					return err
				}
				m.moved["list_members"] = append(m.moved["list_members"], list)
			}
			rows.Close()
			// Campaign send logs, likewise.
			rows, err = tx.QueryContext(ctx, `SELECT campaign_id FROM campaign_recipients WHERE workspace_id = ? AND contact_id = ?
				AND campaign_id NOT IN (SELECT campaign_id FROM campaign_recipients WHERE workspace_id = ? AND contact_id = ?)`, ws, removedID, ws, keptID)
			if err != nil {
				return err
			}
			for rows.Next() {
				var c int64
				if err := rows.Scan(&c); err != nil {
					rows.Close()
					return err
				}
				m.moved["campaign_recipients"] = append(m.moved["campaign_recipients"], c)
			}
			rows.Close()
		}
		rowJSON, _ := json.Marshal(removed)
		beforeJSON, _ := json.Marshal(before)
		movedJSON, _ := json.Marshal(m.moved)
		return tx.QueryRowContext(ctx, `INSERT INTO merges (workspace_id, object_type, kept_id, removed_id, removed_row, kept_before, moved, actor_user_id, at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`, ws, object, keptID, removedID, string(rowJSON), string(beforeJSON), string(movedJSON),
			a.UserRef(), db.Millis(now)).Scan(&m.ID)
	})
	if err != nil {
		return m, err
	}
	if err := s.load(ctx, ws, &m); err != nil {
		return m, err
	}
	// 2. Move rows in bounded batches (idempotent: a row already moved no
	// longer matches the removed id).
	for key, ids := range m.moved {
		if key == "deal_contacts" || key == "list_members" || key == "campaign_recipients" {
			continue
		}
		tbl, col, _ := strings.Cut(key, ".")
		r := findRef(object, tbl, col)
		for i := 0; i < len(ids); i += moveBatch {
			part := ids[i:min(i+moveBatch, len(ids))]
			if err := s.DB.Write(ctx, "dedupe.move "+tbl, func(tx *db.Tx) error {
				_, err := tx.ExecContext(ctx, `UPDATE `+tbl+` SET `+col+` = ? WHERE workspace_id = ? AND `+col+` = ? AND `+r.key+` IN (`+db.Placeholders(len(part))+`)`,
					append([]any{keptID, ws, removedID}, part...)...)
				return err
			}); err != nil {
				return m, fmt.Errorf("dedupe.Merge move %s: %w", tbl, err)
			}
		}
	}
	// 3. Deal links, fields, the removed row, the timeline — together.
	err = s.DB.Write(ctx, "dedupe.finish", func(tx *db.Tx) error {
		for _, l := range m.moved["deal_contacts"] {
			link := l.(map[string]any)
			if link["dropped"] == true {
				if _, err := tx.ExecContext(ctx, `DELETE FROM deal_contacts WHERE workspace_id = ? AND deal_id = ? AND contact_id = ?`, ws, toInt(link["deal_id"]), removedID); err != nil {
					return err
				}
			} else if _, err := tx.ExecContext(ctx, `UPDATE deal_contacts SET contact_id = ? WHERE workspace_id = ? AND deal_id = ? AND contact_id = ?`,
				keptID, ws, toInt(link["deal_id"]), removedID); err != nil {
				return err
			}
		}
		for _, l := range m.moved["list_members"] {
			if _, err := tx.ExecContext(ctx, `UPDATE list_members SET contact_id = ? WHERE workspace_id = ? AND list_id = ? AND contact_id = ?`,
				keptID, ws, toInt(l), removedID); err != nil {
				return err
			}
		}
		for _, c := range m.moved["campaign_recipients"] {
			if _, err := tx.ExecContext(ctx, `UPDATE campaign_recipients SET contact_id = ? WHERE workspace_id = ? AND campaign_id = ? AND contact_id = ?`,
				keptID, ws, toInt(c), removedID); err != nil {
				return err
			}
		}
		var before map[string]any
		var beforeJSON string
		var rowJSON string
		if err := tx.QueryRowContext(ctx, `SELECT CAST(kept_before AS TEXT), CAST(removed_row AS TEXT) FROM merges WHERE workspace_id = ? AND id = ?`, ws, m.ID).Scan(&beforeJSON, &rowJSON); err != nil {
			return err
		}
		_ = json.Unmarshal([]byte(beforeJSON), &before)
		removed := decodeRow(rowJSON)
		for f := range before {
			if _, err := tx.ExecContext(ctx, `UPDATE `+tbl+` SET `+f+` = ? WHERE workspace_id = ? AND id = ?`, removed[f], ws, keptID); err != nil {
				return err
			}
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM `+tbl+` WHERE workspace_id = ? AND id = ?`, ws, removedID); err != nil {
			return err
		}
		if object == "contact" { // the kept contact's newest signal may be one of removed's
			if err := platform.RefreshSignals(ctx, tx, ws, keptID); err != nil {
				return err
			}
		}
		e := platform.TimelineEntry{At: now, Kind: object + ".merged"}
		if object == "contact" {
			e.ContactID = keptID
		} else {
			e.CompanyID = keptID
		}
		if _, err := platform.AppendTimeline(ctx, tx, a, e, map[string]any{"merge_id": m.ID, "removed_id": removedID, "moved": m.Moved}); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE merges SET status = 'done' WHERE workspace_id = ? AND id = ?`, ws, m.ID); err != nil {
			return err
		}
		return platform.Audit(ctx, tx, a, now, "merge", object, keptID, map[string]any{"merge_id": m.ID, "removed_id": removedID})
	})
	return m, err
}

// Undo reverses a merge within UndoWindow: the removed record comes back
// with its id, every moved row points at it again, the kept record's filled
// fields are restored.
func (s *Service) Undo(ctx context.Context, a platform.Actor, mergeID int64) error {
	if !a.Is(platform.RoleAdmin, platform.RoleManager) {
		return errs.E(errs.Forbidden, "", "only admins and managers undo merges")
	}
	ws := a.WorkspaceID
	m := Merge{ID: mergeID}
	if err := s.load(ctx, ws, &m); err != nil {
		return err
	}
	now := s.Clock.Now()
	if m.UndoneAt != nil {
		return errs.Rule("id", "this merge was already undone")
	}
	if now.Sub(m.At) > UndoWindow {
		return errs.Rule("id", "a merge can be undone for %d days", int(UndoWindow.Hours()/24))
	}
	tbl, _ := table(m.Object)
	var rowJSON, beforeJSON string
	if err := s.DB.Reader().QueryRowContext(ctx, `SELECT CAST(removed_row AS TEXT), CAST(kept_before AS TEXT) FROM merges WHERE workspace_id = ? AND id = ?`,
		ws, mergeID).Scan(&rowJSON, &beforeJSON); err != nil {
		return err
	}
	row := decodeRow(rowJSON)
	err := s.DB.Write(ctx, "dedupe.undo restore", func(tx *db.Tx) error {
		cols := make([]string, 0, len(row))
		for c := range row {
			cols = append(cols, c)
		}
		sort.Strings(cols)
		args := make([]any, len(cols))
		for i, c := range cols {
			args[i] = row[c]
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO `+tbl+` (`+strings.Join(cols, ", ")+`) VALUES (`+db.Placeholders(len(cols))+`)`, args...); err != nil {
			return fmt.Errorf("restore %s: %w", tbl, err)
		}
		var before map[string]any
		_ = json.Unmarshal([]byte(beforeJSON), &before)
		for f, v := range before {
			if _, err := tx.ExecContext(ctx, `UPDATE `+tbl+` SET `+f+` = ? WHERE workspace_id = ? AND id = ?`, v, ws, m.KeptID); err != nil {
				return err
			}
		}
		for _, l := range m.moved["list_members"] {
			if _, err := tx.ExecContext(ctx, `UPDATE list_members SET contact_id = ? WHERE workspace_id = ? AND list_id = ? AND contact_id = ?`,
				m.RemovedID, ws, toInt(l), m.KeptID); err != nil {
				return err
			}
		}
		for _, c := range m.moved["campaign_recipients"] {
			if _, err := tx.ExecContext(ctx, `UPDATE campaign_recipients SET contact_id = ? WHERE workspace_id = ? AND campaign_id = ? AND contact_id = ?`,
				m.RemovedID, ws, toInt(c), m.KeptID); err != nil {
				return err
			}
		}
		for _, l := range m.moved["deal_contacts"] {
			link := l.(map[string]any)
			if link["dropped"] == true {
				if _, err := tx.ExecContext(ctx, `INSERT INTO deal_contacts (workspace_id, deal_id, contact_id, role) VALUES (?, ?, ?, ?)`,
					ws, toInt(link["deal_id"]), m.RemovedID, link["role"]); err != nil {
					return err
				}
			} else if _, err := tx.ExecContext(ctx, `UPDATE deal_contacts SET contact_id = ? WHERE workspace_id = ? AND deal_id = ? AND contact_id = ?`,
				m.RemovedID, ws, toInt(link["deal_id"]), m.KeptID); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	for key, ids := range m.moved {
		if key == "deal_contacts" || key == "list_members" || key == "campaign_recipients" {
			continue
		}
		t, col, _ := strings.Cut(key, ".")
		r := findRef(m.Object, t, col)
		for i := 0; i < len(ids); i += moveBatch {
			part := ids[i:min(i+moveBatch, len(ids))]
			if err := s.DB.Write(ctx, "dedupe.undo move "+t, func(tx *db.Tx) error {
				_, err := tx.ExecContext(ctx, `UPDATE `+t+` SET `+col+` = ? WHERE workspace_id = ? AND `+r.key+` IN (`+db.Placeholders(len(part))+`)`,
					append([]any{m.RemovedID, ws}, part...)...)
				return err
			}); err != nil {
				return err
			}
		}
	}
	return s.DB.Write(ctx, "dedupe.undo done", func(tx *db.Tx) error {
		if _, err := tx.ExecContext(ctx, `UPDATE merges SET status = 'undone', undone_at = ? WHERE workspace_id = ? AND id = ?`, db.Millis(now), ws, mergeID); err != nil {
			return err
		}
		if m.Object == "contact" {
			if err := platform.RefreshSignals(ctx, tx, ws, m.KeptID, m.RemovedID); err != nil {
				return err
			}
		}
		e := platform.TimelineEntry{At: now, Kind: m.Object + ".unmerged"}
		if m.Object == "contact" {
			e.ContactID = m.KeptID
		} else {
			e.CompanyID = m.KeptID
		}
		if _, err := platform.AppendTimeline(ctx, tx, a, e, map[string]any{"merge_id": mergeID, "restored_id": m.RemovedID}); err != nil {
			return err
		}
		return platform.Audit(ctx, tx, a, now, "unmerge", m.Object, m.KeptID, map[string]any{"merge_id": mergeID})
	})
}

// Merges lists a record's merges, newest first.
func (s *Service) Merges(ctx context.Context, ws int64, object string, keptID int64) ([]Merge, error) {
	return s.list(ctx, ws, `SELECT id FROM merges WHERE workspace_id = ? AND object_type = ? AND kept_id = ? AND status <> 'running' ORDER BY id DESC`,
		ws, object, keptID)
}

// list loads the merges whose ids a query returns, in its order.
func (s *Service) list(ctx context.Context, ws int64, query string, args ...any) ([]Merge, error) {
	rows, err := s.DB.Reader().QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return nil, err
		}
		ids = append(ids, id)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	out := []Merge{}
	for _, id := range ids {
		m := Merge{ID: id}
		if err := s.load(ctx, ws, &m); err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, nil
}

func (s *Service) load(ctx context.Context, ws int64, m *Merge) error {
	var moved string
	var at int64
	var undone *int64
	err := s.DB.Reader().QueryRowContext(ctx, `SELECT object_type, kept_id, removed_id, CAST(moved AS TEXT), at, undone_at FROM merges WHERE workspace_id = ? AND id = ?`,
		ws, m.ID).Scan(&m.Object, &m.KeptID, &m.RemovedID, &moved, &at, &undone)
	if db.NoRows(err) {
		return errs.NotFoundf("merge %d not found", m.ID)
	}
	if err != nil {
		return err
	}
	m.At = db.Time(at)
	if undone != nil {
		t := db.Time(*undone)
		m.UndoneAt = &t
	}
	m.moved = map[string][]any{}
	d := json.NewDecoder(strings.NewReader(moved))
	d.UseNumber()
	_ = d.Decode(&m.moved)
	m.Moved = map[string]int{}
	for k, v := range m.moved {
		t, _, _ := strings.Cut(k, ".")
		m.Moved[t] += len(v)
		for i, x := range v {
			v[i] = jsonValue(x)
		}
	}
	return nil
}

func findRef(object, tbl, col string) ref {
	for _, r := range refs[object] {
		if r.table == tbl && r.column == col {
			return r
		}
	}
	return ref{table: tbl, column: col, key: "id"}
}

func keysOf(ctx context.Context, q db.Querier, ws int64, r ref, id int64) ([]any, error) {
	where := `workspace_id = ? AND ` + r.column + ` = ?`
	if r.extra != "" {
		where += ` AND ` + r.extra
	}
	rows, err := q.QueryContext(ctx, `SELECT `+r.key+` FROM `+r.table+` WHERE `+where, ws, id)
	if err != nil {
		return nil, fmt.Errorf("dedupe: %s: %w", r.table, err)
	}
	defer rows.Close()
	var out []any
	for rows.Next() {
		var v any
		if err := rows.Scan(&v); err != nil {
			return nil, err
		}
		if b, ok := v.([]byte); ok {
			v = string(b)
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

func dumpRows(ctx context.Context, q db.Querier, query string, args ...any) ([]map[string]any, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	var out []map[string]any
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return nil, err
		}
		m := map[string]any{}
		for i, c := range cols {
			v := vals[i]
			if b, ok := v.([]byte); ok {
				v = string(b)
			}
			m[c] = v
		}
		out = append(out, m)
	}
	return out, rows.Err()
}

// decodeRow reads a stored row back with Go types a driver accepts:
// integers as int64, other numbers as float64.
func decodeRow(s string) map[string]any {
	d := json.NewDecoder(strings.NewReader(s))
	d.UseNumber()
	var m map[string]any
	_ = d.Decode(&m)
	for k, v := range m {
		m[k] = jsonValue(v)
	}
	return m
}

func jsonValue(v any) any {
	switch x := v.(type) {
	case json.Number:
		if i, err := x.Int64(); err == nil {
			return i
		}
		f, _ := x.Float64()
		return f
	case map[string]any:
		for k, e := range x {
			x[k] = jsonValue(e)
		}
		return x
	}
	return v
}

func toInt(v any) int64 {
	switch x := v.(type) {
	case int64:
		return x
	case int:
		return int64(x)
	case float64:
		return int64(x)
	case json.Number:
		i, _ := x.Int64()
		return i
	}
	return 0
}

func isEmpty(v any) bool {
	switch x := v.(type) {
	case nil:
		return true
	case string:
		return strings.TrimSpace(x) == ""
	}
	return false
}

// Recent lists the workspace's latest merges (done or undone), newest first.
func (s *Service) Recent(ctx context.Context, ws int64, limit int) ([]Merge, error) {
	return s.list(ctx, ws, `SELECT id FROM merges WHERE workspace_id = ? AND status <> 'running' ORDER BY id DESC LIMIT ?`, ws, limit)
}

// Undoable reports whether a merge can still be undone at now.
func (m Merge) Undoable(now time.Time) bool { return m.UndoneAt == nil && now.Sub(m.At) <= UndoWindow }
