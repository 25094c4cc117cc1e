package platform

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/ryorin/ryorin/internal/db"
	"github.com/ryorin/ryorin/internal/errs"
)

// SavedView is a named list view: the list's query string (filters, chosen
// columns, sort), kept by a user and optionally shared with their team.
type SavedView struct {
	ID         int64     `json:"id"`
	UserID     int64     `json:"user_id"`
	ObjectType string    `json:"object_type"`
	Name       string    `json:"name"`
	Query      string    `json:"query"`
	TeamID     int64     `json:"team_id,omitempty"`
	CreatedAt  time.Time `json:"created_at"`
}

// SaveView stores a view for the actor. shared shares it with the actor's team.
func SaveView(ctx context.Context, d *db.DB, a Actor, objectType, name, query string, shared bool, now time.Time) (SavedView, error) {
	name = strings.TrimSpace(name)
	if name == "" || len(name) > 100 {
		return SavedView{}, errs.Field("name", "is required, at most 100 bytes")
	}
	switch objectType {
	case "contact", "company", "deal":
	default:
		return SavedView{}, errs.Field("object_type", "must be contact, company or deal")
	}
	q, err := url.ParseQuery(query)
	if err != nil || len(query) > 4000 {
		return SavedView{}, errs.Field("query", "is not a list query")
	}
	q.Del("cursor")
	v := SavedView{UserID: a.UserID, ObjectType: objectType, Name: name, Query: q.Encode(), CreatedAt: now}
	if shared {
		if a.TeamID == 0 {
			return v, errs.Rule("team_id", "you are not in a team to share with")
		}
		v.TeamID = a.TeamID
	}
	err = d.Write(ctx, "platform.SaveView", func(tx *db.Tx) error {
		err := tx.QueryRowContext(ctx, `-- platform.SaveView
			INSERT INTO saved_views (workspace_id, user_id, object_type, name, query, team_id, created_at) VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id`,
			a.WorkspaceID, a.UserID, objectType, name, v.Query, db.NullInt(v.TeamID), db.Millis(now)).Scan(&v.ID)
		if err != nil {
			return fmt.Errorf("platform.SaveView: %w", err)
		}
		return nil
	})
	return v, err
}

// ListViews returns the views the actor can use for an object type: their
// own and those shared with their team, by name.
func ListViews(ctx context.Context, q db.Querier, a Actor, objectType string) ([]SavedView, error) {
	rows, err := q.QueryContext(ctx, `-- platform.ListViews
		SELECT id, user_id, object_type, name, query, COALESCE(team_id, 0), created_at FROM saved_views
		WHERE workspace_id = ? AND object_type = ? AND (user_id = ? OR (team_id IS NOT NULL AND team_id = ?)) ORDER BY name, id`,
		a.WorkspaceID, objectType, a.UserID, a.TeamID)
	if err != nil {
		return nil, fmt.Errorf("platform.ListViews: %w", err)
	}
	defer rows.Close()
	out := []SavedView{}
	for rows.Next() {
		var v SavedView
		var c int64
		if err := rows.Scan(&v.ID, &v.UserID, &v.ObjectType, &v.Name, &v.Query, &v.TeamID, &c); err != nil {
			return nil, err
		}
		v.CreatedAt = db.Time(c)
		out = append(out, v)
	}
	return out, rows.Err()
}

// DeleteView removes one of the actor's own views.
func DeleteView(ctx context.Context, d *db.DB, a Actor, id int64) error {
	return d.Write(ctx, "platform.DeleteView", func(tx *db.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM saved_views WHERE workspace_id = ? AND id = ? AND user_id = ?`, a.WorkspaceID, id, a.UserID)
		if err != nil {
			return fmt.Errorf("platform.DeleteView: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return errs.NotFoundf("view %d not found", id)
		}
		return nil
	})
}
