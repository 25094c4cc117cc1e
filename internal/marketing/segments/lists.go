package segments

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/ryorin/ryorin/internal/clock"
	"github.com/ryorin/ryorin/internal/crm"
	"github.com/ryorin/ryorin/internal/db"
	"github.com/ryorin/ryorin/internal/errs"
	"github.com/ryorin/ryorin/internal/platform"
)

// MaxBulk is the most contacts one add or remove call takes.
const MaxBulk = 1000

// Service runs the lists and segments use cases.
type Service struct {
	DB    *db.DB
	Clock clock.Clock
	CRM   *crm.Service
}

// New returns the service.
func New(d *db.DB, c clock.Clock, c2 *crm.Service) *Service {
	return &Service{DB: d, Clock: clock.Millis(c), CRM: c2}
}

// canEdit: marketing builds lists and segments; admins and managers may too.
func canEdit(a platform.Actor) bool {
	return a.Kind == platform.ActorSystem || a.Is(platform.RoleAdmin, platform.RoleManager, platform.RoleMarketing)
}

// List is a static list of contacts.
type List struct {
	ID          int64     `json:"id"`
	Name        string    `json:"name"`
	Description string    `json:"description,omitempty"`
	Members     int64     `json:"members"`
	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at"`
}

// ListInput creates or renames a list.
type ListInput struct {
	Name        string `json:"name"`
	Description string `json:"description,omitempty"`
}

func (in *ListInput) validate() error {
	in.Name, in.Description = strings.TrimSpace(in.Name), strings.TrimSpace(in.Description)
	if in.Name == "" || len(in.Name) > 200 {
		return errs.Field("name", "is required, at most 200 bytes")
	}
	if len(in.Description) > 2000 {
		return errs.Field("description", "at most 2000 bytes")
	}
	return nil
}

// CreateList creates a list.
func (s *Service) CreateList(ctx context.Context, a platform.Actor, in ListInput) (List, error) {
	if !canEdit(a) {
		return List{}, errs.E(errs.Forbidden, "", "only marketing, managers and admins manage lists")
	}
	if err := in.validate(); err != nil {
		return List{}, err
	}
	now := s.Clock.Now()
	var id int64
	err := s.DB.Write(ctx, "segments.CreateList", func(tx *db.Tx) error {
		err := tx.QueryRowContext(ctx, `-- segments.CreateList
			INSERT INTO contact_lists (workspace_id, name, description, created_by, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?) RETURNING id`,
			a.WorkspaceID, in.Name, in.Description, db.NullInt(a.UserID), db.Millis(now), db.Millis(now)).Scan(&id)
		if db.IsUniqueViolation(err) {
			return errs.E(errs.Conflict, "name", "a list named %q exists", in.Name)
		}
		if err != nil {
			return err
		}
		return platform.Audit(ctx, tx, a, now, "list.create", "list", id, in)
	})
	if err != nil {
		return List{}, fmt.Errorf("segments.CreateList: %w", err)
	}
	return s.GetList(ctx, s.DB.Reader(), a.WorkspaceID, id)
}

// UpdateList renames a list or changes its description.
func (s *Service) UpdateList(ctx context.Context, a platform.Actor, id int64, in ListInput) (List, error) {
	if !canEdit(a) {
		return List{}, errs.E(errs.Forbidden, "", "only marketing, managers and admins manage lists")
	}
	if err := in.validate(); err != nil {
		return List{}, err
	}
	now := s.Clock.Now()
	err := s.DB.Write(ctx, "segments.UpdateList", func(tx *db.Tx) error {
		res, err := tx.ExecContext(ctx, `-- segments.UpdateList
			UPDATE contact_lists SET name = ?, description = ?, updated_at = ? WHERE workspace_id = ? AND id = ?`,
			in.Name, in.Description, db.Millis(now), a.WorkspaceID, id)
		if db.IsUniqueViolation(err) {
			return errs.E(errs.Conflict, "name", "a list named %q exists", in.Name)
		}
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return errs.NotFoundf("list %d not found", id)
		}
		return platform.Audit(ctx, tx, a, now, "list.update", "list", id, in)
	})
	if err != nil {
		return List{}, fmt.Errorf("segments.UpdateList(%d): %w", id, err)
	}
	return s.GetList(ctx, s.DB.Reader(), a.WorkspaceID, id)
}

// DeleteList deletes a list and its memberships. Segments that read the list
// then match nobody through that condition, so the refresher recomputes them.
func (s *Service) DeleteList(ctx context.Context, a platform.Actor, id int64) error {
	if !canEdit(a) {
		return errs.E(errs.Forbidden, "", "only marketing, managers and admins manage lists")
	}
	now := s.Clock.Now()
	err := s.DB.Write(ctx, "segments.DeleteList", func(tx *db.Tx) error {
		res, err := tx.ExecContext(ctx, `-- segments.DeleteList
			DELETE FROM contact_lists WHERE workspace_id = ? AND id = ?`, a.WorkspaceID, id)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return errs.NotFoundf("list %d not found", id)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE segments SET refreshed_at = NULL WHERE workspace_id = ?`, a.WorkspaceID); err != nil {
			return err
		}
		return platform.Audit(ctx, tx, a, now, "list.delete", "list", id, nil)
	})
	if err != nil {
		return fmt.Errorf("segments.DeleteList(%d): %w", id, err)
	}
	return nil
}

const listCols = `l.id, l.name, l.description, l.created_at, l.updated_at,
	(SELECT COUNT(*) FROM list_members m WHERE m.workspace_id = l.workspace_id AND m.list_id = l.id)`

func scanList(r interface{ Scan(...any) error }) (List, error) {
	var l List
	var c, u int64
	err := r.Scan(&l.ID, &l.Name, &l.Description, &c, &u, &l.Members)
	l.CreatedAt, l.UpdatedAt = db.Time(c), db.Time(u)
	return l, err
}

// GetList returns one list with its member count.
func (s *Service) GetList(ctx context.Context, q db.Querier, ws, id int64) (List, error) {
	l, err := scanList(q.QueryRowContext(ctx, `-- segments.GetList
		SELECT `+listCols+` FROM contact_lists l WHERE l.workspace_id = ? AND l.id = ?`, ws, id))
	if db.NoRows(err) {
		return l, errs.NotFoundf("list %d not found", id)
	}
	if err != nil {
		return l, fmt.Errorf("segments.GetList(%d): %w", id, err)
	}
	return l, nil
}

// Lists returns the workspace's lists by name.
func (s *Service) Lists(ctx context.Context, q db.Querier, ws int64) ([]List, error) {
	return queryLists(ctx, q, `-- segments.Lists
		SELECT `+listCols+` FROM contact_lists l WHERE l.workspace_id = ? ORDER BY l.name, l.id`, ws)
}

// ContactLists returns the lists a contact is on.
func (s *Service) ContactLists(ctx context.Context, q db.Querier, ws, contactID int64) ([]List, error) {
	return queryLists(ctx, q, `-- segments.ContactLists
		SELECT `+listCols+` FROM contact_lists l JOIN list_members lm ON lm.workspace_id = l.workspace_id AND lm.list_id = l.id
		WHERE l.workspace_id = ? AND lm.contact_id = ? ORDER BY l.name`, ws, contactID)
}

func queryLists(ctx context.Context, q db.Querier, sql string, args ...any) ([]List, error) {
	rows, err := q.QueryContext(ctx, sql, args...)
	if err != nil {
		return nil, fmt.Errorf("segments.Lists: %w", err)
	}
	defer rows.Close()
	out := []List{}
	for rows.Next() {
		l, err := scanList(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, l)
	}
	return out, rows.Err()
}

// AddToList adds contacts to a list (those already on it are skipped) and
// returns how many were added. Segments reading the list follow at once.
func (s *Service) AddToList(ctx context.Context, a platform.Actor, listID int64, contactIDs []int64) (int, error) {
	return s.changeList(ctx, a, listID, contactIDs, true)
}

// RemoveFromList removes contacts from a list and returns how many were on it.
func (s *Service) RemoveFromList(ctx context.Context, a platform.Actor, listID int64, contactIDs []int64) (int, error) {
	return s.changeList(ctx, a, listID, contactIDs, false)
}

func (s *Service) changeList(ctx context.Context, a platform.Actor, listID int64, ids []int64, add bool) (int, error) {
	if !canEdit(a) && !a.Is(platform.RoleSales) {
		return 0, errs.E(errs.Forbidden, "", "not allowed to change lists")
	}
	if len(ids) == 0 {
		return 0, errs.Field("contact_ids", "name at least one contact")
	}
	if len(ids) > MaxBulk {
		return 0, errs.Field("contact_ids", "at most %d contacts per call", MaxBulk)
	}
	if _, err := s.GetList(ctx, s.DB.Reader(), a.WorkspaceID, listID); err != nil {
		return 0, err
	}
	now := s.Clock.Now()
	n := 0
	var changed []int64
	err := s.DB.Write(ctx, "segments.changeList", func(tx *db.Tx) error {
		for _, id := range ids {
			ok, err := changeMember(ctx, tx, a.WorkspaceID, listID, id, add, now)
			if err != nil {
				return err
			}
			if ok {
				n++
				changed = append(changed, id)
			}
		}
		action := map[bool]string{true: "list.add", false: "list.remove"}[add]
		return platform.Audit(ctx, tx, a, now, action, "list", listID, map[string]any{"contact_ids": changed})
	})
	if err != nil {
		return 0, fmt.Errorf("segments.changeList(%d): %w", listID, err)
	}
	if len(changed) > 0 {
		// Segments with a list condition follow the change now rather than
		// at the next full recompute.
		if _, err := s.RefreshContacts(ctx, a.WorkspaceID, changed); err != nil {
			return n, err
		}
	}
	return n, nil
}

// ChangeListTx adds one contact to a list (add) or removes it, inside the
// caller's transaction, and reports whether membership changed (a journey's
// list step commits it with the step's record). Segments reading the list
// follow once tx commits.
func (s *Service) ChangeListTx(ctx context.Context, tx *db.Tx, a platform.Actor, listID, contactID int64, add bool) (bool, error) {
	if _, err := s.GetList(ctx, tx, a.WorkspaceID, listID); err != nil {
		return false, err
	}
	now := s.Clock.Now()
	ok, err := changeMember(ctx, tx, a.WorkspaceID, listID, contactID, add, now)
	if err != nil || !ok {
		return false, err
	}
	action := map[bool]string{true: "list.add", false: "list.remove"}[add]
	if err := platform.Audit(ctx, tx, a, now, action, "list", listID, map[string]any{"contact_ids": []int64{contactID}}); err != nil {
		return false, err
	}
	tx.AfterCommit(func() {
		// Best effort: the periodic recompute catches a segment this misses.
		_, _ = s.RefreshContacts(context.WithoutCancel(ctx), a.WorkspaceID, []int64{contactID})
	})
	return true, nil
}

func changeMember(ctx context.Context, tx *db.Tx, ws, listID, id int64, add bool, now time.Time) (bool, error) {
	var res interface{ RowsAffected() (int64, error) }
	var err error
	if add {
		var exists int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM contacts WHERE workspace_id = ? AND id = ?`, ws, id).Scan(&exists); err != nil {
			return false, err
		}
		if exists == 0 {
			return false, errs.Field("contact_ids", "contact %d does not exist", id)
		}
		res, err = tx.ExecContext(ctx, `-- segments.AddToList
			INSERT INTO list_members (workspace_id, list_id, contact_id, added_at) VALUES (?, ?, ?, ?)
			ON CONFLICT (workspace_id, list_id, contact_id) DO NOTHING`, ws, listID, id, db.Millis(now))
	} else {
		res, err = tx.ExecContext(ctx, `-- segments.RemoveFromList
			DELETE FROM list_members WHERE workspace_id = ? AND list_id = ? AND contact_id = ?`, ws, listID, id)
	}
	if err != nil {
		return false, err
	}
	k, _ := res.RowsAffected()
	return k > 0, nil
}

// Member is one contact of a list or segment.
type Member struct {
	ContactID  int64          `json:"contact_id"`
	Email      string         `json:"email,omitempty"`
	FamilyName string         `json:"family_name,omitempty"`
	GivenName  string         `json:"given_name,omitempty"`
	Title      string         `json:"title,omitempty"`
	Company    string         `json:"company,omitempty"`
	Stage      platform.Stage `json:"lifecycle_stage"`
	Since      time.Time      `json:"since" doc:"when the contact was added to the list or entered the segment"`
}

// MemberPage is a page of members in contact id order.
type MemberPage struct {
	Items []Member `json:"items"`
	// NextCursor is the last contact id of the page; pass it as cursor.
	NextCursor int64 `json:"next_cursor,omitempty"`
}

// ListMembers returns a page of a list's members.
func (s *Service) ListMembers(ctx context.Context, q db.Querier, ws, listID, after int64, limit int) (MemberPage, error) {
	if _, err := s.GetList(ctx, q, ws, listID); err != nil {
		return MemberPage{}, err
	}
	return members(ctx, q, "list_members", "list_id", "added_at", ws, listID, after, limit)
}

func members(ctx context.Context, q db.Querier, table, key, since string, ws, id, after int64, limit int) (MemberPage, error) {
	if limit <= 0 || limit > 200 {
		limit = 50
	}
	rows, err := q.QueryContext(ctx, `-- segments.members
		SELECT c.id, COALESCE(c.email, ''), c.family_name, c.given_name, c.title, COALESCE(co.name, ''), c.lifecycle_stage, m.`+since+`
		FROM `+table+` m JOIN contacts c ON c.workspace_id = m.workspace_id AND c.id = m.contact_id
		LEFT JOIN companies co ON co.workspace_id = c.workspace_id AND co.id = c.company_id
		WHERE m.workspace_id = ? AND m.`+key+` = ? AND m.contact_id > ? ORDER BY m.contact_id LIMIT ?`, ws, id, after, limit+1)
	if err != nil {
		return MemberPage{}, fmt.Errorf("segments.members: %w", err)
	}
	defer rows.Close()
	out := MemberPage{Items: []Member{}}
	for rows.Next() {
		var m Member
		var at int64
		if err := rows.Scan(&m.ContactID, &m.Email, &m.FamilyName, &m.GivenName, &m.Title, &m.Company, &m.Stage, &at); err != nil {
			return out, err
		}
		m.Since = db.Time(at)
		out.Items = append(out.Items, m)
	}
	if len(out.Items) > limit {
		out.Items = out.Items[:limit]
		out.NextCursor = out.Items[limit-1].ContactID
	}
	return out, rows.Err()
}
