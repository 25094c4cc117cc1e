package crm

import (
	"context"
	"fmt"

	"github.com/ryorin/ryorin/internal/db"
	"github.com/ryorin/ryorin/internal/platform"
)

// eachPage is how many rows one query of an Each function reads.
const eachPage = 1000

// EachContact calls fn with every contact a list filter selects, a page at a
// time, in id order (the filter's Sort, Cursor and Limit are ignored). Pages
// follow the primary key, so each costs the same however deep the export
// goes, and no read stays open between pages.
func (s *Service) EachContact(ctx context.Context, a platform.Actor, f ContactFilter, fn func([]Contact) error) error {
	w, err := s.contactWhere(ctx, a, f)
	if err != nil {
		return err
	}
	return eachPageOf(ctx, s.DB.Reader(), "crm.EachContact", "SELECT "+contactCols+" FROM contacts", w, scanContact,
		func(c Contact) int64 { return c.ID }, func(cs []Contact) error {
			if err := fillScores(ctx, s.DB.Reader(), a.WorkspaceID, cs); err != nil {
				return err
			}
			return fn(cs)
		})
}

// EachCompany calls fn with every company a list filter selects, a page at
// a time, in id order.
func (s *Service) EachCompany(ctx context.Context, a platform.Actor, f CompanyFilter, fn func([]Company) error) error {
	w, err := s.companyWhere(ctx, a, f)
	if err != nil {
		return err
	}
	return eachPageOf(ctx, s.DB.Reader(), "crm.EachCompany", "SELECT "+companyCols+" FROM companies", w, scanCompany,
		func(c Company) int64 { return c.ID }, fn)
}

func eachPageOf[T any](ctx context.Context, q db.Querier, name, sel string, w where,
	scan func(interface{ Scan(...any) error }) (T, error), id func(T) int64, fn func([]T) error) error {
	var after int64
	page := make([]T, 0, eachPage)
	for {
		page = page[:0]
		args := append(append([]any(nil), w.args...), after, eachPage)
		rows, err := q.QueryContext(ctx, fmt.Sprintf("-- %s\n%s WHERE %s AND id > ? ORDER BY id LIMIT ?", name, sel, w.sql), args...)
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		for rows.Next() {
			v, err := scan(rows)
			if err != nil {
				rows.Close()
				return fmt.Errorf("%s: %w", name, err)
			}
			page = append(page, v)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		if len(page) == 0 {
			return nil
		}
		if err := fn(page); err != nil {
			return err
		}
		if len(page) < eachPage {
			return nil
		}
		after = id(page[len(page)-1])
	}
}
