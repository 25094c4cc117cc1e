package crm

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/ryorin/ryorin/internal/db"
	"github.com/ryorin/ryorin/internal/errs"
	"github.com/ryorin/ryorin/internal/platform"
)

// CompetitorNewsKind is the job that tells reps about a competitor's news.
const CompetitorNewsKind = "competitor.news"

// CompetitorCard is a competitor with its battle card and its record
// against us.
type CompetitorCard struct {
	Competitor
	Strengths  string `json:"strengths,omitempty"`
	Weaknesses string `json:"weaknesses,omitempty"`
	Pricing    string `json:"pricing,omitempty" doc:"what is known of their prices"`
	OpenDeals  int    `json:"open_deals"`
	Won        int    `json:"won" doc:"deals we won against them"`
	Lost       int    `json:"lost" doc:"deals we lost against them"`
}

// WinRate is won / (won + lost), 0–1.
func (c CompetitorCard) WinRate() float64 {
	if c.Won+c.Lost == 0 {
		return 0
	}
	return float64(c.Won) / float64(c.Won+c.Lost)
}

// CardInput changes a battle card; nil fields are left alone.
type CardInput struct {
	Website    *string `json:"website,omitempty"`
	Strengths  *string `json:"strengths,omitempty"`
	Weaknesses *string `json:"weaknesses,omitempty"`
	Pricing    *string `json:"pricing,omitempty"`
}

// News is something heard about a competitor.
type News struct {
	ID           int64     `json:"id"`
	CompetitorID int64     `json:"competitor_id"`
	Title        string    `json:"title"`
	Body         string    `json:"body,omitempty"`
	URL          string    `json:"url,omitempty"`
	PostedBy     int64     `json:"posted_by,omitempty"`
	At           time.Time `json:"at"`
}

const cardCols = `c.id, c.name, c.website, c.strengths, c.weaknesses, c.pricing,
	(SELECT COUNT(*) FROM deal_competitors dc JOIN deals d ON d.workspace_id = dc.workspace_id AND d.id = dc.deal_id WHERE dc.workspace_id = c.workspace_id AND dc.competitor_id = c.id AND d.status = 'open'),
	(SELECT COUNT(*) FROM deal_competitors dc JOIN deals d ON d.workspace_id = dc.workspace_id AND d.id = dc.deal_id WHERE dc.workspace_id = c.workspace_id AND dc.competitor_id = c.id AND d.status = 'won'),
	(SELECT COUNT(*) FROM deal_competitors dc JOIN deals d ON d.workspace_id = dc.workspace_id AND d.id = dc.deal_id WHERE dc.workspace_id = c.workspace_id AND dc.competitor_id = c.id AND d.status = 'lost')`

func scanCard(s interface{ Scan(...any) error }) (CompetitorCard, error) {
	var c CompetitorCard
	err := s.Scan(&c.ID, &c.Name, &c.Website, &c.Strengths, &c.Weaknesses, &c.Pricing, &c.OpenDeals, &c.Won, &c.Lost)
	return c, err
}

// CompetitorCards lists competitors with their cards and records, by name.
func (s *Service) CompetitorCards(ctx context.Context, q db.Querier, ws int64) ([]CompetitorCard, error) {
	rows, err := q.QueryContext(ctx, `SELECT `+cardCols+` FROM competitors c WHERE c.workspace_id = ? ORDER BY c.name`, ws)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []CompetitorCard{}
	for rows.Next() {
		c, err := scanCard(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// CompetitorCardOf returns one competitor's card.
func (s *Service) CompetitorCardOf(ctx context.Context, q db.Querier, ws, id int64) (CompetitorCard, error) {
	c, err := scanCard(q.QueryRowContext(ctx, `SELECT `+cardCols+` FROM competitors c WHERE c.workspace_id = ? AND c.id = ?`, ws, id))
	if db.NoRows(err) {
		return c, errs.NotFoundf("competitor %d not found", id)
	}
	return c, err
}

// UpdateCard changes a competitor's battle card (anyone: marketing and sales
// both know things).
func (s *Service) UpdateCard(ctx context.Context, a platform.Actor, id int64, in CardInput) (CompetitorCard, error) {
	now := s.Clock.Now()
	err := s.DB.Write(ctx, "crm.UpdateCard", func(tx *db.Tx) error {
		c, err := s.CompetitorCardOf(ctx, tx, a.WorkspaceID, id)
		if err != nil {
			return err
		}
		for _, f := range []struct {
			dst   *string
			src   *string
			field string
		}{{&c.Website, in.Website, "website"}, {&c.Strengths, in.Strengths, "strengths"}, {&c.Weaknesses, in.Weaknesses, "weaknesses"}, {&c.Pricing, in.Pricing, "pricing"}} {
			if f.src == nil {
				continue
			}
			if len(*f.src) > 10000 {
				return errs.Field(f.field, "is longer than 10,000 bytes")
			}
			*f.dst = strings.TrimSpace(*f.src)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE competitors SET website = ?, strengths = ?, weaknesses = ?, pricing = ? WHERE workspace_id = ? AND id = ?`,
			c.Website, c.Strengths, c.Weaknesses, c.Pricing, a.WorkspaceID, id); err != nil {
			return err
		}
		return platform.Audit(ctx, tx, a, now, "update", "competitor", id, in)
	})
	if err != nil {
		return CompetitorCard{}, err
	}
	return s.CompetitorCardOf(ctx, s.DB.Reader(), a.WorkspaceID, id)
}

// PostNews records news about a competitor and, in the same transaction,
// asks for every rep with an open deal against it to be told (a durable job,
// so nobody is missed if the process stops).
func (s *Service) PostNews(ctx context.Context, a platform.Actor, n News, jobs *platform.Jobs) (News, error) {
	n.Title, n.Body, n.URL = strings.TrimSpace(n.Title), strings.TrimSpace(n.Body), strings.TrimSpace(n.URL)
	switch {
	case n.Title == "":
		return n, errs.Field("title", "is required")
	case len(n.Title) > 300:
		return n, errs.Field("title", "is longer than 300 bytes")
	case len(n.Body) > 10000:
		return n, errs.Field("body", "is longer than 10,000 bytes")
	}
	if n.URL != "" {
		u, err := url.Parse(n.URL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return n, errs.Field("url", "must be an http or https address")
		}
	}
	n.At, n.PostedBy = s.Clock.Now(), a.UserID
	err := s.DB.Write(ctx, "crm.PostNews", func(tx *db.Tx) error {
		if _, err := s.CompetitorCardOf(ctx, tx, a.WorkspaceID, n.CompetitorID); err != nil {
			return err
		}
		if err := tx.QueryRowContext(ctx, `INSERT INTO competitor_news (workspace_id, competitor_id, title, body, url, posted_by, at) VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id`,
			a.WorkspaceID, n.CompetitorID, n.Title, n.Body, n.URL, a.UserRef(), db.Millis(n.At)).Scan(&n.ID); err != nil {
			return fmt.Errorf("crm.PostNews: %w", err)
		}
		if _, _, err := platform.Enqueue(ctx, tx, a.WorkspaceID, CompetitorNewsKind, map[string]int64{"news_id": n.ID},
			platform.EnqueueOptions{UniqueKey: fmt.Sprintf("news-%d", n.ID)}, n.At, jobs); err != nil {
			return err
		}
		return platform.Audit(ctx, tx, a, n.At, "create", "competitor_news", n.ID, map[string]any{"competitor_id": n.CompetitorID, "title": n.Title})
	})
	return n, err
}

// ListNews returns news about some competitors (all when none given), newest first.
func (s *Service) ListNews(ctx context.Context, q db.Querier, ws int64, competitors []int64, limit int) ([]News, error) {
	if limit <= 0 || limit > 200 {
		limit = 50
	}
	where, args := "workspace_id = ?", []any{ws}
	if len(competitors) > 0 {
		where += " AND competitor_id IN (" + db.Placeholders(len(competitors)) + ")"
		for _, c := range competitors {
			args = append(args, c)
		}
	}
	rows, err := q.QueryContext(ctx, `SELECT id, competitor_id, title, body, url, COALESCE(posted_by, 0), at FROM competitor_news WHERE `+where+` ORDER BY at DESC, id DESC LIMIT ?`,
		append(args, limit)...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []News{}
	for rows.Next() {
		var n News
		var at int64
		if err := rows.Scan(&n.ID, &n.CompetitorID, &n.Title, &n.Body, &n.URL, &n.PostedBy, &at); err != nil {
			return nil, err
		}
		n.At = db.Time(at)
		out = append(out, n)
	}
	return out, rows.Err()
}

// NewsAudience returns a news item, its competitor's name, and the owners of
// open deals against that competitor with one such deal each (for the link).
func (s *Service) NewsAudience(ctx context.Context, q db.Querier, ws, newsID int64) (News, string, map[int64]int64, error) {
	ns, err := s.ListNewsByID(ctx, q, ws, newsID)
	if err != nil {
		return ns, "", nil, err
	}
	var name string
	if err := q.QueryRowContext(ctx, `SELECT name FROM competitors WHERE workspace_id = ? AND id = ?`, ws, ns.CompetitorID).Scan(&name); err != nil {
		return ns, "", nil, err
	}
	rows, err := q.QueryContext(ctx, `SELECT d.owner_id, MIN(d.id) FROM deal_competitors dc JOIN deals d ON d.workspace_id = dc.workspace_id AND d.id = dc.deal_id
		WHERE dc.workspace_id = ? AND dc.competitor_id = ? AND d.status = 'open' AND d.owner_id IS NOT NULL GROUP BY d.owner_id`, ws, ns.CompetitorID)
	if err != nil {
		return ns, name, nil, err
	}
	defer rows.Close()
	owners := map[int64]int64{}
	for rows.Next() {
		var owner, deal int64
		if err := rows.Scan(&owner, &deal); err != nil {
			return ns, name, nil, err
		}
		owners[owner] = deal
	}
	return ns, name, owners, rows.Err()
}

// ListNewsByID loads one news item.
func (s *Service) ListNewsByID(ctx context.Context, q db.Querier, ws, id int64) (News, error) {
	var n News
	var at int64
	err := q.QueryRowContext(ctx, `SELECT id, competitor_id, title, body, url, COALESCE(posted_by, 0), at FROM competitor_news WHERE workspace_id = ? AND id = ?`,
		ws, id).Scan(&n.ID, &n.CompetitorID, &n.Title, &n.Body, &n.URL, &n.PostedBy, &at)
	if db.NoRows(err) {
		return n, errs.NotFoundf("news %d not found", id)
	}
	n.At = db.Time(at)
	return n, err
}
