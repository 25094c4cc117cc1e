package dataio

import (
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"slices"
	"strconv"
	"time"

	"github.com/ryorin/ryorin/internal/crm"
	"github.com/ryorin/ryorin/internal/errs"
	"github.com/ryorin/ryorin/internal/platform"
)

// ExportOptions say which columns to write and how.
type ExportOptions struct {
	// Cols are the list view's chosen columns, in order (the same keys as the
	// list's col= parameters). The name columns always come first.
	Cols []string
	Lang string         // "ja" or "en": column headings
	Loc  *time.Location // for dates and times
}

// exportCol is one exportable list column: its headings and its value.
type exportCol[T any] struct {
	en, ja string
	value  func(x T, names map[int64]string) string
}

// contactColumns are the contacts list's columns, as export writes
// them. Headings match the import's, so an export imports back as it is.
func (s *Service) contactColumns(users map[int64]string, loc *time.Location) map[string]exportCol[crm.Contact] {
	return map[string]exportCol[crm.Contact]{
		"family_name":      {"Last name", "姓", func(c crm.Contact, _ map[int64]string) string { return c.FamilyName }},
		"given_name":       {"First name", "名", func(c crm.Contact, _ map[int64]string) string { return c.GivenName }},
		"family_name_kana": {"Last name (kana)", "姓(カナ)", func(c crm.Contact, _ map[int64]string) string { return c.FamilyNameKana }},
		"given_name_kana":  {"First name (kana)", "名(カナ)", func(c crm.Contact, _ map[int64]string) string { return c.GivenNameKana }},
		"email":            {"Email", "メールアドレス", func(c crm.Contact, _ map[int64]string) string { return c.Email }},
		"company":          {"Company", "会社名", func(c crm.Contact, n map[int64]string) string { return n[c.CompanyID] }},
		"stage":            {"Lifecycle stage", "ライフサイクルステージ", func(c crm.Contact, _ map[int64]string) string { return string(c.LifecycleStage) }},
		"owner":            {"Owner", "担当者", func(c crm.Contact, _ map[int64]string) string { return users[c.OwnerID] }},
		"phone":            {"Phone", "電話番号", func(c crm.Contact, _ map[int64]string) string { return c.Phone }},
		"title":            {"Job title", "役職", func(c crm.Contact, _ map[int64]string) string { return c.Title }},
		"channel":          {"Channel", "流入チャネル", func(c crm.Contact, _ map[int64]string) string { return c.OriginalChannel }},
		"last_activity":    {"Last activity", "最終活動日時", func(c crm.Contact, _ map[int64]string) string { return stamp(c.LastActivityAt, loc) }},
		"created":          {"Created", "作成日", func(c crm.Contact, _ map[int64]string) string { return stamp(&c.CreatedAt, loc) }},
	}
}

func (s *Service) companyColumns(users map[int64]string, loc *time.Location) map[string]exportCol[crm.Company] {
	n := func(p *int64) string {
		if p == nil {
			return ""
		}
		return strconv.FormatInt(*p, 10)
	}
	return map[string]exportCol[crm.Company]{
		"name":             {"Company name", "会社名", func(c crm.Company, _ map[int64]string) string { return c.Name }},
		"name_kana":        {"Company name (kana)", "会社名(カナ)", func(c crm.Company, _ map[int64]string) string { return c.NameKana }},
		"domain":           {"Domain", "ドメイン", func(c crm.Company, _ map[int64]string) string { return c.Domain }},
		"industry":         {"Industry", "業種", func(c crm.Company, _ map[int64]string) string { return c.Industry }},
		"employees":        {"Employees", "従業員数", func(c crm.Company, _ map[int64]string) string { return n(c.Employees) }},
		"prefecture":       {"Prefecture", "都道府県", func(c crm.Company, _ map[int64]string) string { return c.Address.Prefecture }},
		"corporate_number": {"Corporate number", "法人番号", func(c crm.Company, _ map[int64]string) string { return c.CorporateNumber }},
		"owner":            {"Owner", "担当者", func(c crm.Company, _ map[int64]string) string { return users[c.OwnerID] }},
		"last_activity":    {"Last activity", "最終活動日時", func(c crm.Company, _ map[int64]string) string { return stamp(c.LastActivityAt, loc) }},
		"created":          {"Created", "作成日", func(c crm.Company, _ map[int64]string) string { return stamp(&c.CreatedAt, loc) }},
	}
}

func stamp(t *time.Time, loc *time.Location) string {
	if t == nil || t.IsZero() {
		return ""
	}
	return t.In(loc).Format("2006-01-02 15:04")
}

func (s *Service) userNames(ctx context.Context, ws int64) (map[int64]string, error) {
	us, err := platform.ListUsers(ctx, s.DB.Reader(), ws)
	if err != nil {
		return nil, err
	}
	out := map[int64]string{}
	for _, u := range us {
		out[u.ID] = u.Name
	}
	return out, nil
}

// columns resolves the chosen columns after the fixed leading ones.
func columns[T any](all map[string]exportCol[T], lead, chosen []string, lang string) ([]exportCol[T], []string, error) {
	var cols []exportCol[T]
	var head []string
	seen := map[string]bool{}
	for _, k := range append(append([]string(nil), lead...), chosen...) {
		c, ok := all[k]
		if !ok {
			return nil, nil, errs.Field("col", "%q is not a column of this list", k)
		}
		if seen[k] {
			continue
		}
		seen[k] = true
		cols = append(cols, c)
		if lang == "ja" {
			head = append(head, c.ja)
		} else {
			head = append(head, c.en)
		}
	}
	return cols, head, nil
}

type flusher interface{ Flush() }

// ExportContacts streams the contacts a list filter selects, as CSV with
// the list's chosen columns, page by page (constant memory), in the order
// they were created, and returns how many rows it wrote. The actor's
// visibility rules apply.
func (s *Service) ExportContacts(ctx context.Context, w io.Writer, a platform.Actor, f crm.ContactFilter, o ExportOptions) (int, error) {
	o = o.defaults()
	users, err := s.userNames(ctx, a.WorkspaceID)
	if err != nil {
		return 0, err
	}
	cols, head, err := columns(s.contactColumns(users, o.Loc), []string{"family_name", "given_name", "family_name_kana", "given_name_kana"}, o.Cols, o.Lang)
	if err != nil {
		return 0, err
	}
	cw := NewCSVWriter(w)
	if err := cw.Write(head); err != nil {
		return 0, err
	}
	n := 0
	rec := make([]string, len(cols))
	// Company names are read once per export, not once per page: imported
	// contacts of one page can name a thousand different companies. The
	// memory is bounded: past exportNames names it starts again.
	names := map[int64]string{}
	wantNames := slices.Contains(o.Cols, "company")
	err = s.CRM.EachContact(ctx, a, f, func(page []crm.Contact) error {
		var ids []int64
		for _, c := range page {
			if _, ok := names[c.CompanyID]; wantNames && c.CompanyID != 0 && !ok {
				ids = append(ids, c.CompanyID)
			}
		}
		if len(ids) > 0 {
			if len(names)+len(ids) > exportNames {
				clear(names)
			}
			got, err := s.CRM.CompanyNames(ctx, s.DB.Reader(), a.WorkspaceID, ids)
			if err != nil {
				return err
			}
			for _, id := range ids {
				names[id] = got[id] // "" for a company gone since: not asked again
			}
		}
		for _, c := range page {
			for i, col := range cols {
				rec[i] = col.value(c, names)
			}
			if err := cw.Write(rec); err != nil {
				return fmt.Errorf("dataio.ExportContacts: %w", err)
			}
			n++
		}
		return flush(cw, w)
	})
	return n, err
}

// exportNames bounds the company names an export keeps (about 10 MB).
const exportNames = 100_000

// flush sends what the CSV writer holds on to the client.
func flush(cw *csv.Writer, w io.Writer) error {
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("dataio: export: %w", err)
	}
	if fl, ok := w.(flusher); ok {
		fl.Flush()
	}
	return nil
}

// ExportCompanies streams the companies a list filter selects, as CSV.
func (s *Service) ExportCompanies(ctx context.Context, w io.Writer, a platform.Actor, f crm.CompanyFilter, o ExportOptions) (int, error) {
	o = o.defaults()
	users, err := s.userNames(ctx, a.WorkspaceID)
	if err != nil {
		return 0, err
	}
	cols, head, err := columns(s.companyColumns(users, o.Loc), []string{"name", "name_kana"}, o.Cols, o.Lang)
	if err != nil {
		return 0, err
	}
	cw := NewCSVWriter(w)
	if err := cw.Write(head); err != nil {
		return 0, err
	}
	n := 0
	rec := make([]string, len(cols))
	err = s.CRM.EachCompany(ctx, a, f, func(page []crm.Company) error {
		for _, c := range page {
			for i, col := range cols {
				rec[i] = col.value(c, nil)
			}
			if err := cw.Write(rec); err != nil {
				return fmt.Errorf("dataio.ExportCompanies: %w", err)
			}
			n++
		}
		return flush(cw, w)
	})
	return n, err
}

func (o ExportOptions) defaults() ExportOptions {
	if o.Loc == nil {
		o.Loc = time.FixedZone("JST", 9*3600)
	}
	if o.Lang != "ja" {
		o.Lang = "en"
	}
	return o
}

// ContactColumns lists the contact columns an export can write.
var ContactColumns = []string{"email", "company", "stage", "owner", "phone", "title", "channel", "last_activity", "created"}

// CompanyColumns lists the company columns an export can write.
var CompanyColumns = []string{"domain", "industry", "employees", "prefecture", "corporate_number", "owner", "last_activity", "created"}
