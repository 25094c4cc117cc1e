package crm

import (
	"context"
	"fmt"

	"github.com/ryorin/ryorin/internal/db"
)

// inList returns "?, ?, …" and the ids as arguments.
func inList(ids []int64) (string, []any) {
	args := make([]any, len(ids))
	for i, id := range ids {
		args[i] = id
	}
	return db.Placeholders(len(ids)), args
}

// CompanyNames returns the names of the given companies, for lists that show
// a contact's or deal's company without a query per row.
func (s *Service) CompanyNames(ctx context.Context, q db.Querier, ws int64, ids []int64) (map[int64]string, error) {
	return namesOf(ctx, q, "companies", ws, ids)
}

// DealNames returns the names of the given deals, for reports that list a
// few deals out of many they count.
func DealNames(ctx context.Context, q db.Querier, ws int64, ids []int64) (map[int64]string, error) {
	return namesOf(ctx, q, "deals", ws, ids)
}

// namesOf reads the name column of table for ids (table is one of ours,
// never input).
func namesOf(ctx context.Context, q db.Querier, table string, ws int64, ids []int64) (map[int64]string, error) {
	out := map[int64]string{}
	ids = uniqueIDs(ids)
	if len(ids) == 0 {
		return out, nil
	}
	ph, args := inList(ids)
	rows, err := q.QueryContext(ctx, `-- crm.namesOf `+table+`
		SELECT id, name FROM `+table+` WHERE workspace_id = ? AND id IN (`+ph+`)`, append([]any{ws}, args...)...)
	if err != nil {
		return nil, fmt.Errorf("crm: names of %s: %w", table, err)
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var n string
		if err := rows.Scan(&id, &n); err != nil {
			return nil, err
		}
		out[id] = n
	}
	return out, rows.Err()
}

// ContactsByIDs loads contacts by id (those the caller may not see included;
// callers show names only where the record itself is visible to them).
func (s *Service) ContactsByIDs(ctx context.Context, q db.Querier, ws int64, ids []int64) (map[int64]Contact, error) {
	out, err := byIDs(ctx, q, "crm.ContactsByIDs", "SELECT "+contactCols+" FROM contacts", ws, ids, scanContact, func(c Contact) int64 { return c.ID })
	if err != nil || len(out) == 0 {
		return out, err
	}
	cs := make([]Contact, 0, len(out))
	for _, c := range out {
		cs = append(cs, c)
	}
	if err := s.fillScores(ctx, q, ws, cs); err != nil {
		return nil, err
	}
	for _, c := range cs {
		out[c.ID] = c
	}
	return out, nil
}

// CompaniesByIDs loads companies by id (those the caller may not see
// included), for work over many contacts at once.
func (s *Service) CompaniesByIDs(ctx context.Context, q db.Querier, ws int64, ids []int64) (map[int64]Company, error) {
	return byIDs(ctx, q, "crm.CompaniesByIDs", "SELECT "+companyCols+" FROM companies", ws, ids, scanCompany, func(c Company) int64 { return c.ID })
}

// ActivitiesByIDs loads activities by id, for showing their notes on a timeline.
func (s *Service) ActivitiesByIDs(ctx context.Context, q db.Querier, ws int64, ids []int64) (map[int64]Activity, error) {
	return byIDs(ctx, q, "crm.ActivitiesByIDs", "SELECT "+activityCols+" FROM activities", ws, ids, scanActivity, func(x Activity) int64 { return x.ID })
}

// byIDs runs sel (a SELECT … FROM table of ours) for the rows of ids in a
// workspace and returns them by id.
func byIDs[T any](ctx context.Context, q db.Querier, name, sel string, ws int64, ids []int64,
	scan func(interface{ Scan(...any) error }) (T, error), id func(T) int64) (map[int64]T, error) {
	out := map[int64]T{}
	ids = uniqueIDs(ids)
	if len(ids) == 0 {
		return out, nil
	}
	ph, args := inList(ids)
	rows, err := q.QueryContext(ctx, "-- "+name+"\n"+sel+" WHERE workspace_id = ? AND id IN ("+ph+")", append([]any{ws}, args...)...)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	defer rows.Close()
	for rows.Next() {
		x, err := scan(rows)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		out[id(x)] = x
	}
	return out, rows.Err()
}

func uniqueIDs(ids []int64) []int64 {
	seen := map[int64]bool{}
	out := ids[:0:0]
	for _, id := range ids {
		if id > 0 && !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	return out
}
