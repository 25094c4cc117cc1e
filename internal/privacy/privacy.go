// Package privacy answers a person's requests about their data, as Japan's
// APPI and the GDPR ask of a CRM: export everything Ryorin holds about one
// contact, and erase it, keeping only anonymous counts of what was removed.
// It lists every table that can hold a person's data in one place (sources),
// so export and erasure cannot drift apart.
package privacy

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/ryorin/ryorin/internal/clock"
	"github.com/ryorin/ryorin/internal/crm"
	"github.com/ryorin/ryorin/internal/db"
	"github.com/ryorin/ryorin/internal/errs"
	"github.com/ryorin/ryorin/internal/platform"
)

// source is one table that can hold a contact's data and how to find it.
type source struct {
	table string
	where string // with ? for workspace, then the key
	key   string // "id" (the contact id), "email" or "visitor" (each of their visitor ids)
	order string
}

// sources are every place a contact's personal data lives, children first
// (the order erasure deletes in).
var sources = []source{
	{"events", "workspace_id = ? AND contact_id = ?", "id", "occurred_at"},
	{"events", "workspace_id = ? AND visitor_id = ? AND contact_id IS NULL", "visitor", "occurred_at"},
	{"track_sessions", "workspace_id = ? AND contact_id = ?", "id", "started_at"},
	{"track_visitors", "workspace_id = ? AND contact_id = ?", "id", "first_seen"},
	{"timeline", "workspace_id = ? AND contact_id = ?", "id", "at"},
	{"lifecycle_history", "workspace_id = ? AND contact_id = ?", "id", "at"},
	{"lead_feedback", "workspace_id = ? AND contact_id = ?", "id", "at"},
	{"lead_slas", "workspace_id = ? AND contact_id = ?", "id", "started_at"},
	{"form_submissions", "workspace_id = ? AND (contact_id = ? OR email = ?)", "id+email", "id"},
	{"mail_bodies", "workspace_id = ? AND mail_id IN (SELECT m.id FROM mail_messages m WHERE m.workspace_id = mail_bodies.workspace_id AND m.to_addr = ?)", "email", "mail_id"},
	{"mail_messages", "workspace_id = ? AND to_addr = ?", "email", "created_at"},
	{"campaign_recipients", "workspace_id = ? AND contact_id = ?", "id", "campaign_id"},
	{"journey_enrolments", "workspace_id = ? AND contact_id = ?", "id", "enrolled_at"},
	{"sequence_enrolments", "workspace_id = ? AND contact_id = ?", "id", "enrolled_at"},
	{"sales_emails", "workspace_id = ? AND contact_id = ?", "id", "created_at"},
	{"quote_sends", "workspace_id = ? AND contact_id = ?", "id", "sent_at"},
	{"content_views", "workspace_id = ? AND contact_id = ?", "id", "at"},
	{"import_records", "workspace_id = ? AND object_type = 'contact' AND record_id = ?", "id", "id"},
	{"activities", "workspace_id = ? AND contact_id = ?", "id", "occurred_at"},
	{"customer_issues", "workspace_id = ? AND contact_id = ?", "id", "created_at"},
	{"deal_contacts", "workspace_id = ? AND contact_id = ?", "id", "deal_id"},
	{"contact_scores", "workspace_id = ? AND contact_id = ?", "id", "contact_id"},
	{"contacts", "workspace_id = ? AND id = ?", "id", "id"},
}

// Service runs privacy requests.
type Service struct {
	DB    *db.DB
	CRM   *crm.Service
	Clock clock.Clock
}

// Export is everything held about one contact: rows by table, every column,
// plus the consent records on their own.
type Export struct {
	ExportedAt time.Time                   `json:"exported_at"`
	ContactID  int64                       `json:"contact_id"`
	Consent    []ConsentRecord             `json:"consent"`
	Tables     map[string][]map[string]any `json:"tables"`
}

// ConsentRecord is one thing the person agreed to: when, how, the words.
type ConsentRecord struct {
	At     time.Time `json:"at"`
	Source string    `json:"source" doc:"e.g. form:12, import, api"`
	Status string    `json:"status" doc:"granted or revoked"`
	Text   string    `json:"text,omitempty" doc:"the consent text shown, for a form"`
	FormID int64     `json:"form_id,omitempty"`
	Page   string    `json:"page,omitempty"`
}

func requireAdmin(a platform.Actor) error {
	if !a.Is(platform.RoleAdmin) {
		return errs.E(errs.Forbidden, "", "only admins export or erase a person's data")
	}
	return nil
}

// keys returns the argument lists to find a contact's rows in a source.
func keys(s source, c crm.Contact, visitors []string) [][]any {
	switch s.key {
	case "email":
		return [][]any{{c.Email}}
	case "id+email":
		return [][]any{{c.ID, c.Email}}
	case "visitor":
		var out [][]any
		for _, v := range visitors {
			out = append(out, []any{v})
		}
		return out
	default:
		return [][]any{{c.ID}}
	}
}

func (s *Service) visitors(ctx context.Context, q db.Querier, ws, id int64) ([]string, error) {
	rows, err := q.QueryContext(ctx, `SELECT visitor_id FROM track_visitors WHERE workspace_id = ? AND contact_id = ?`, ws, id)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var v string
		if err := rows.Scan(&v); err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// ExportContact gathers everything Ryorin holds about a contact (admins).
func (s *Service) ExportContact(ctx context.Context, a platform.Actor, id int64) (Export, error) {
	if err := requireAdmin(a); err != nil {
		return Export{}, err
	}
	q := s.DB.Reader()
	c, err := s.CRM.GetContact(ctx, q, a, id)
	if err != nil {
		return Export{}, err
	}
	vs, err := s.visitors(ctx, q, a.WorkspaceID, id)
	if err != nil {
		return Export{}, err
	}
	out := Export{ExportedAt: s.Clock.Now(), ContactID: id, Tables: map[string][]map[string]any{}}
	for _, src := range sources {
		for _, k := range keys(src, c, vs) {
			rows, err := dump(ctx, q, `SELECT * FROM `+src.table+` WHERE `+src.where+` ORDER BY `+src.order, append([]any{a.WorkspaceID}, k...))
			if err != nil {
				return out, fmt.Errorf("privacy.Export %s: %w", src.table, err)
			}
			out.Tables[src.table] = append(out.Tables[src.table], rows...)
		}
	}
	rows, err := dump(ctx, q, `SELECT * FROM audit_log WHERE workspace_id = ? AND object_type = 'contact' AND object_id = ? ORDER BY at`, []any{a.WorkspaceID, id})
	if err != nil {
		return out, err
	}
	out.Tables["audit_log"] = rows
	out.Consent, err = s.consent(ctx, q, a.WorkspaceID, c)
	return out, err
}

// consent lists the consent the contact gave or withdrew, oldest first.
func (s *Service) consent(ctx context.Context, q db.Querier, ws int64, c crm.Contact) ([]ConsentRecord, error) {
	var out []ConsentRecord
	rows, err := q.QueryContext(ctx, `SELECT form_id, COALESCE(confirmed_at, created_at), consent_text, page_url FROM form_submissions
		WHERE workspace_id = ? AND (contact_id = ? OR email = ?) AND consent_given ORDER BY id`, ws, c.ID, c.Email)
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		var r ConsentRecord
		var at int64
		if err := rows.Scan(&r.FormID, &at, &r.Text, &r.Page); err != nil {
			rows.Close()
			return nil, err
		}
		r.At, r.Status, r.Source = db.Time(at), "granted", fmt.Sprintf("form:%d", r.FormID)
		out = append(out, r)
	}
	rows.Close()
	if c.Consent.At != nil && c.Consent.Email != "" && c.Consent.Email != "unknown" {
		found := false
		for _, r := range out {
			if r.Source == c.Consent.Source && r.At.Equal(*c.Consent.At) {
				found = true
			}
		}
		if !found {
			out = append(out, ConsentRecord{At: *c.Consent.At, Source: c.Consent.Source, Status: c.Consent.Email})
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].At.Before(out[j].At) })
	return out, nil
}

// ConsentRecords lists a contact's consent records (anyone who may see the
// contact may see them).
func (s *Service) ConsentRecords(ctx context.Context, a platform.Actor, id int64) ([]ConsentRecord, error) {
	c, err := s.CRM.GetContact(ctx, s.DB.Reader(), a, id)
	if err != nil {
		return nil, err
	}
	return s.consent(ctx, s.DB.Reader(), a.WorkspaceID, c)
}

// dump reads rows as column → value, with JSON columns decoded.
func dump(ctx context.Context, q db.Querier, query string, args []any) ([]map[string]any, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return nil, err
	}
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
		m := make(map[string]any, len(cols))
		for i, col := range cols {
			v := vals[i]
			if b, ok := v.([]byte); ok {
				v = string(b)
			}
			if str, ok := v.(string); ok && (strings.HasPrefix(str, "{") || strings.HasPrefix(str, "[")) && json.Valid([]byte(str)) {
				v = json.RawMessage(str)
			}
			m[col] = v
		}
		out = append(out, m)
	}
	return out, rows.Err()
}

// Erasure is what an erasure removed, by table; it names nobody.
type Erasure struct {
	ID     int64            `json:"id"`
	At     time.Time        `json:"at"`
	Counts map[string]int64 `json:"counts"`
}

// eraseBatch bounds each delete, so the SQLite writer is never held long
// however many events a person has.
const eraseBatch = 2000

// EraseContact removes everything held about a contact (admins): their
// events (also those of their browsers before they were identified), web
// sessions, timeline, lifecycle history, sales feedback, SLA timers, form
// submissions, emails sent to them, activities, deal links and the record.
// Audit entries about them keep their shape but lose their contents. What
// remains is one erasure record with counts per table. The work runs in
// bounded batches and can simply be run again if interrupted.
func (s *Service) EraseContact(ctx context.Context, a platform.Actor, id int64) (Erasure, error) {
	if err := requireAdmin(a); err != nil {
		return Erasure{}, err
	}
	c, err := s.CRM.GetContact(ctx, s.DB.Reader(), a, id)
	if err != nil {
		return Erasure{}, err
	}
	vs, err := s.visitors(ctx, s.DB.Reader(), a.WorkspaceID, id)
	if err != nil {
		return Erasure{}, err
	}
	er := Erasure{At: s.Clock.Now(), Counts: map[string]int64{}}
	for _, src := range sources {
		for _, k := range keys(src, c, vs) {
			args := append([]any{a.WorkspaceID}, k...)
			q, batched := deleteSQL(src)
			for {
				var n int64
				err := s.DB.Write(ctx, "privacy.Erase "+src.table, func(tx *db.Tx) error {
					qargs := args
					if batched {
						qargs = append(append([]any(nil), args...), eraseBatch)
					}
					res, err := tx.ExecContext(ctx, q, qargs...)
					if err != nil {
						return err
					}
					n, err = res.RowsAffected()
					return err
				})
				if err != nil {
					return er, fmt.Errorf("privacy.Erase %s: %w", src.table, err)
				}
				er.Counts[src.table] += n
				if !batched || n < eraseBatch {
					break
				}
			}
		}
	}
	counts, _ := json.Marshal(er.Counts)
	err = s.DB.Write(ctx, "privacy.Erase record", func(tx *db.Tx) error {
		if _, err := tx.ExecContext(ctx, `UPDATE audit_log SET changes = NULL WHERE workspace_id = ? AND object_type = 'contact' AND object_id = ?`,
			a.WorkspaceID, id); err != nil {
			return err
		}
		if err := tx.QueryRowContext(ctx, `INSERT INTO erasures (workspace_id, at, actor_user_id, counts) VALUES (?, ?, ?, ?) RETURNING id`,
			a.WorkspaceID, db.Millis(er.At), a.UserRef(), string(counts)).Scan(&er.ID); err != nil {
			return err
		}
		return platform.Audit(ctx, tx, a, er.At, "erase", "contact", id, map[string]any{"erasure_id": er.ID})
	})
	return er, err
}

// deleteSQL deletes up to a batch of a source's rows (tables keyed by id),
// or all of them (the small tables keyed otherwise, at most a few rows per contact). Its arguments
// are the source's, then the batch size.
func deleteSQL(s source) (string, bool) {
	switch s.table {
	case "track_visitors", "deal_contacts", "campaign_recipients", "contact_scores":
		return `DELETE FROM ` + s.table + ` WHERE ` + s.where, false
	}
	id := "id"
	if s.table == "mail_bodies" {
		id = "mail_id" // a message's id: unique, as an id is
	}
	return `DELETE FROM ` + s.table + ` WHERE ` + id + ` IN (SELECT ` + id + ` FROM ` + s.table + ` WHERE ` + s.where + ` LIMIT ?)`, true
}
