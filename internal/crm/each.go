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
			if err := s.fillScores(ctx, s.DB.Reader(), a.WorkspaceID, cs); err != nil {
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

// eachPageOf reads the pages on its own goroutine, one page ahead of fn:
// the next query runs on a second reader connection (and the second CPU)
// while fn handles the page before it. fn's pages are its own to keep.
func eachPageOf[T any](ctx context.Context, q db.Querier, name, sel string, w where,
	scan func(interface{ Scan(...any) error }) (T, error), id func(T) int64, fn func([]T) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	type result struct {
		page []T
		err  error
	}
	pages := make(chan result, 1)
	go func() {
		defer close(pages)
		var after int64
		for {
			page, err := readPage(ctx, q, name, sel, w, scan, after)
			if err == nil && len(page) == 0 {
				return
			}
			select {
			case pages <- result{page, err}:
			case <-ctx.Done():
				return
			}
			if err != nil || len(page) < eachPage {
				return
			}
			after = id(page[len(page)-1])
		}
	}()
	for r := range pages {
		if r.err != nil {
			return r.err
		}
		if err := fn(r.page); err != nil {
			return err
		}
	}
	return ctx.Err()
}

// readPage reads the page of rows after the id after.
func readPage[T any](ctx context.Context, q db.Querier, name, sel string, w where,
	scan func(interface{ Scan(...any) error }) (T, error), after int64) ([]T, error) {
	args := append(append([]any(nil), w.args...), after, eachPage)
	rows, err := q.QueryContext(ctx, fmt.Sprintf("-- %s\n%s WHERE %s AND id > ? ORDER BY id LIMIT ?", name, sel, w.sql), args...)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	defer rows.Close()
	page := make([]T, 0, eachPage)
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		page = append(page, v)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return page, nil
}
