package content

import (
	"context"
	"fmt"
	"strings"

	"github.com/ryorin/ryorin/internal/db"
	"github.com/ryorin/ryorin/internal/errs"
	"github.com/ryorin/ryorin/internal/platform"
)

const assetCols = `a.id, a.key, a.kind, a.title, a.description, a.url, a.file_name, a.content_type, a.file_size, a.industry, a.stage,
	COALESCE(a.form_id, 0), a.status, a.views, COALESCE(a.created_by, 0), a.created_at, a.updated_at FROM content_assets a`

func scanAsset(sc interface{ Scan(...any) error }) (Asset, error) {
	var x Asset
	var created, updated int64
	err := sc.Scan(&x.ID, &x.Key, &x.Kind, &x.Title, &x.Description, &x.URL, &x.FileName, &x.ContentType, &x.FileSize, &x.Industry,
		&x.Stage, &x.FormID, &x.Status, &x.Views, &x.CreatedBy, &created, &updated)
	x.CreatedAt, x.UpdatedAt = db.Time(created), db.Time(updated)
	x.Topics = []string{}
	return x, err
}

func get(ctx context.Context, q db.Querier, ws int64, cond string, args ...any) (Asset, error) {
	x, err := scanAsset(q.QueryRowContext(ctx, `-- content.get
		SELECT `+assetCols+` WHERE a.workspace_id = ? AND `+cond, append([]any{ws}, args...)...))
	if db.NoRows(err) {
		return x, errs.NotFoundf("content not found")
	}
	if err != nil {
		return x, fmt.Errorf("content.get: %w", err)
	}
	list := []Asset{x}
	if err := loadTopics(ctx, q, ws, list); err != nil {
		return x, err
	}
	return list[0], nil
}

func loadTopics(ctx context.Context, q db.Querier, ws int64, list []Asset) error {
	if len(list) == 0 {
		return nil
	}
	at := map[int64]int{}
	args := []any{ws}
	for i, x := range list {
		at[x.ID] = i
		args = append(args, x.ID)
	}
	rows, err := q.QueryContext(ctx, `-- content.loadTopics
		SELECT asset_id, topic FROM content_topics WHERE workspace_id = ? AND asset_id IN (`+
		db.Placeholders(len(list))+`) ORDER BY topic`, args...)
	if err != nil {
		return fmt.Errorf("content.loadTopics: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var t string
		if err := rows.Scan(&id, &t); err != nil {
			return fmt.Errorf("content.loadTopics: %w", err)
		}
		list[at[id]].Topics = append(list[at[id]].Topics, t)
	}
	return rows.Err()
}

// Get returns one asset.
func (s *Service) Get(ctx context.Context, a platform.Actor, id int64) (Asset, error) {
	return get(ctx, s.DB.Reader(), a.WorkspaceID, "a.id = ?", id)
}

// ByKey returns the asset whose public page is /c/{key}.
func (s *Service) ByKey(ctx context.Context, ws int64, key string) (Asset, error) {
	if key == "" || len(key) > 40 {
		return Asset{}, errs.NotFoundf("content not found")
	}
	return get(ctx, s.DB.Reader(), ws, "a.key = ?", key)
}

// Filter narrows the library list.
type Filter struct {
	Kind     string `json:"kind,omitempty"`
	Topic    string `json:"topic,omitempty"`
	Industry string `json:"industry,omitempty"`
	Stage    string `json:"stage,omitempty"`
	Status   string `json:"status,omitempty" doc:"draft, published, archived, or empty for everything not archived"`
	Q        string `json:"q,omitempty" doc:"partial match on title or description"`
	Limit    int    `json:"limit,omitempty"`
}

// List returns the assets matching f, most recently changed first.
func (s *Service) List(ctx context.Context, a platform.Actor, f Filter) ([]Asset, error) {
	where := []string{"a.workspace_id = ?"}
	args := []any{a.WorkspaceID}
	add := func(cond string, v any) { where = append(where, cond); args = append(args, v) }
	if f.Status == "" {
		add("a.status <> ?", StatusArchived)
	} else {
		add("a.status = ?", f.Status)
	}
	if f.Kind != "" {
		add("a.kind = ?", f.Kind)
	}
	if f.Industry != "" {
		add("a.industry = ?", f.Industry)
	}
	if f.Stage != "" {
		add("a.stage = ?", f.Stage)
	}
	if f.Topic != "" {
		add("EXISTS (SELECT 1 FROM content_topics t WHERE t.workspace_id = a.workspace_id AND t.asset_id = a.id AND t.topic = ?)", f.Topic)
	}
	if q := strings.TrimSpace(f.Q); q != "" {
		like := "%" + escapeLike(strings.ToLower(q)) + "%"
		where = append(where, `(LOWER(a.title) LIKE ? ESCAPE '\' OR LOWER(a.description) LIKE ? ESCAPE '\')`)
		args = append(args, like, like)
	}
	if f.Limit <= 0 || f.Limit > 500 {
		f.Limit = 200
	}
	rows, err := s.DB.Reader().QueryContext(ctx, `-- content.List
		SELECT `+assetCols+` WHERE `+strings.Join(where, " AND ")+` ORDER BY a.updated_at DESC, a.id DESC LIMIT `+fmt.Sprint(f.Limit), args...)
	if err != nil {
		return nil, fmt.Errorf("content.List: %w", err)
	}
	out := []Asset{}
	for rows.Next() {
		x, err := scanAsset(rows)
		if err != nil {
			rows.Close()
			return nil, fmt.Errorf("content.List: %w", err)
		}
		out = append(out, x)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("content.List: %w", err)
	}
	return out, loadTopics(ctx, s.DB.Reader(), a.WorkspaceID, out)
}

func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

// Facets are the values the library's filters offer.
type Facets struct {
	Topics     []string `json:"topics"`
	Industries []string `json:"industries"`
}

// ListFacets returns the topics and industries in use, sorted.
func (s *Service) ListFacets(ctx context.Context, a platform.Actor) (Facets, error) {
	out := Facets{Topics: []string{}, Industries: []string{}}
	for _, x := range []struct {
		sql string
		dst *[]string
	}{
		{`-- content.ListFacets topics
			SELECT DISTINCT t.topic FROM content_topics t JOIN content_assets a ON a.workspace_id = t.workspace_id AND a.id = t.asset_id
			WHERE t.workspace_id = ? AND a.status <> 'archived' ORDER BY t.topic`, &out.Topics},
		{`-- content.ListFacets industries
			SELECT DISTINCT industry FROM content_assets WHERE workspace_id = ? AND status <> 'archived' AND industry <> '' ORDER BY industry`, &out.Industries},
	} {
		rows, err := s.DB.Reader().QueryContext(ctx, x.sql, a.WorkspaceID)
		if err != nil {
			return out, fmt.Errorf("content.ListFacets: %w", err)
		}
		for rows.Next() {
			var v string
			if err := rows.Scan(&v); err != nil {
				rows.Close()
				return out, fmt.Errorf("content.ListFacets: %w", err)
			}
			*x.dst = append(*x.dst, v)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return out, err
		}
	}
	return out, nil
}

// FileData returns an asset's file bytes.
func (s *Service) FileData(ctx context.Context, ws, assetID int64) ([]byte, error) {
	var b []byte
	err := s.DB.Reader().QueryRowContext(ctx, `-- content.FileData
		SELECT data FROM content_files WHERE workspace_id = ? AND asset_id = ?`, ws, assetID).Scan(&b)
	if db.NoRows(err) {
		return nil, errs.NotFoundf("file not found")
	}
	if err != nil {
		return nil, fmt.Errorf("content.FileData: %w", err)
	}
	return b, nil
}

// Assets returns the workspace's assets among ids (without topics), keyed by
// id, in one query; ids that name no asset are absent. An email send calls it
// once per batch with its transaction.
func Assets(ctx context.Context, q db.Querier, ws int64, ids []int64) (map[int64]Asset, error) {
	out := make(map[int64]Asset, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	args := []any{ws}
	for _, id := range ids {
		args = append(args, id)
	}
	rows, err := q.QueryContext(ctx, `-- content.Assets
		SELECT `+assetCols+` WHERE a.workspace_id = ? AND a.id IN (`+db.Placeholders(len(ids))+`)`, args...)
	if err != nil {
		return nil, fmt.Errorf("content.Assets: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		x, err := scanAsset(rows)
		if err != nil {
			return nil, fmt.Errorf("content.Assets: %w", err)
		}
		out[x.ID] = x
	}
	return out, rows.Err()
}
