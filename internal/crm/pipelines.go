package crm

import (
	"context"
	"fmt"
	"strings"

	"github.com/ryorin/ryorin/internal/db"
	"github.com/ryorin/ryorin/internal/errs"
	"github.com/ryorin/ryorin/internal/platform"
)

// Pipeline is an ordered list of deal stages.
type Pipeline struct {
	ID        int64           `json:"id"`
	Name      string          `json:"name"`
	Position  int             `json:"position"`
	IsDefault bool            `json:"is_default"`
	Stages    []PipelineStage `json:"stages"`
}

// PipelineStage is one stage of a pipeline with its win probability. Kind
// "won" and "lost" stages close the deal.
type PipelineStage struct {
	ID          int64  `json:"id,omitempty"`
	Name        string `json:"name"`
	Position    int    `json:"position"`
	Probability int    `json:"probability" doc:"win probability in percent, 0–100"`
	Kind        string `json:"kind" doc:"open, won or lost"`
}

// PipelineInput creates or replaces a pipeline. Stages listed with an id are
// kept (renamed, reordered); stages without one are added; stages left out
// are removed, which is refused while deals are in them.
type PipelineInput struct {
	Name      string          `json:"name"`
	Position  int             `json:"position,omitempty"`
	IsDefault bool            `json:"is_default,omitempty"`
	Stages    []PipelineStage `json:"stages"`
}

func (in *PipelineInput) validate() error {
	in.Name = strings.TrimSpace(in.Name)
	if in.Name == "" {
		return errs.Field("name", "is required")
	}
	if len(in.Stages) < 2 {
		return errs.Field("stages", "a pipeline needs at least two stages")
	}
	var won, lost bool
	for i := range in.Stages {
		st := &in.Stages[i]
		st.Name = strings.TrimSpace(st.Name)
		st.Position = i
		if st.Name == "" {
			return errs.Field(fmt.Sprintf("stages[%d].name", i), "is required")
		}
		if st.Kind == "" {
			st.Kind = "open"
		}
		switch st.Kind {
		case "open":
		case "won":
			won = true
			st.Probability = 100
		case "lost":
			lost = true
			st.Probability = 0
		default:
			return errs.Field(fmt.Sprintf("stages[%d].kind", i), "must be open, won or lost")
		}
		if st.Probability < 0 || st.Probability > 100 {
			return errs.Field(fmt.Sprintf("stages[%d].probability", i), "must be 0 to 100")
		}
	}
	if !won || !lost {
		return errs.Field("stages", "a pipeline needs a won stage and a lost stage")
	}
	return nil
}

// SavePipeline creates (id 0) or replaces a pipeline. Admins only.
func (s *Service) SavePipeline(ctx context.Context, a platform.Actor, id int64, in PipelineInput) (Pipeline, error) {
	if !a.Is(platform.RoleAdmin) {
		return Pipeline{}, errs.E(errs.Forbidden, "", "only admins manage pipelines")
	}
	if err := in.validate(); err != nil {
		return Pipeline{}, err
	}
	now := db.Millis(s.Clock.Now())
	var out Pipeline
	err := s.DB.Write(ctx, "crm.SavePipeline", func(tx *db.Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM pipelines WHERE workspace_id = ?`, a.WorkspaceID).Scan(&n); err != nil {
			return err
		}
		if n == 0 {
			in.IsDefault = true
		}
		if in.IsDefault {
			if _, err := tx.ExecContext(ctx, `UPDATE pipelines SET is_default = FALSE WHERE workspace_id = ?`, a.WorkspaceID); err != nil {
				return err
			}
		}
		action := "create"
		if id == 0 {
			if err := tx.QueryRowContext(ctx, `-- crm.SavePipeline
				INSERT INTO pipelines (workspace_id, name, position, is_default, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?) RETURNING id`,
				a.WorkspaceID, in.Name, in.Position, in.IsDefault, now, now).Scan(&id); err != nil {
				return fmt.Errorf("crm.SavePipeline: %w", err)
			}
		} else {
			action = "update"
			old, err := s.GetPipeline(ctx, tx, a.WorkspaceID, id)
			if err != nil {
				return err
			}
			if old.IsDefault && !in.IsDefault {
				in.IsDefault = true // there is always a default; make another one default instead
			}
			if _, err := tx.ExecContext(ctx, `UPDATE pipelines SET name = ?, position = ?, is_default = ?, updated_at = ? WHERE workspace_id = ? AND id = ?`,
				in.Name, in.Position, in.IsDefault, now, a.WorkspaceID, id); err != nil {
				return err
			}
			keep := map[int64]bool{}
			for _, st := range in.Stages {
				keep[st.ID] = true
			}
			for _, st := range old.Stages {
				if keep[st.ID] {
					continue
				}
				var deals int
				if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM deals WHERE workspace_id = ? AND stage_id = ?`, a.WorkspaceID, st.ID).Scan(&deals); err != nil {
					return err
				}
				if deals > 0 {
					return errs.E(errs.Conflict, "stages", "stage %q still holds %d deals; move them first", st.Name, deals)
				}
				if _, err := tx.ExecContext(ctx, `DELETE FROM pipeline_stages WHERE workspace_id = ? AND id = ?`, a.WorkspaceID, st.ID); err != nil {
					return err
				}
			}
			for i, st := range in.Stages {
				if st.ID != 0 && !stageIn(old.Stages, st.ID) {
					return errs.Rule(fmt.Sprintf("stages[%d].id", i), "stage %d is not in this pipeline", st.ID)
				}
			}
		}
		for _, st := range in.Stages {
			var err error
			if st.ID == 0 {
				_, err = tx.ExecContext(ctx, `INSERT INTO pipeline_stages (workspace_id, pipeline_id, name, position, probability, kind, created_at, updated_at)
					VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, a.WorkspaceID, id, st.Name, st.Position, st.Probability, st.Kind, now, now)
			} else {
				_, err = tx.ExecContext(ctx, `UPDATE pipeline_stages SET name = ?, position = ?, probability = ?, kind = ?, updated_at = ?
					WHERE workspace_id = ? AND id = ?`, st.Name, st.Position, st.Probability, st.Kind, now, a.WorkspaceID, st.ID)
			}
			if err != nil {
				return fmt.Errorf("crm.SavePipeline stage: %w", err)
			}
		}
		var err error
		if out, err = s.GetPipeline(ctx, tx, a.WorkspaceID, id); err != nil {
			return err
		}
		return platform.Audit(ctx, tx, a, s.Clock.Now(), action, "pipeline", id, out)
	})
	return out, err
}

func stageIn(list []PipelineStage, id int64) bool {
	for _, s := range list {
		if s.ID == id {
			return true
		}
	}
	return false
}

// GetPipeline loads a pipeline with its stages in order.
func (s *Service) GetPipeline(ctx context.Context, q db.Querier, ws, id int64) (Pipeline, error) {
	var p Pipeline
	err := q.QueryRowContext(ctx, `-- crm.GetPipeline
		SELECT id, name, position, is_default FROM pipelines WHERE workspace_id = ? AND id = ?`, ws, id).Scan(&p.ID, &p.Name, &p.Position, &p.IsDefault)
	if db.NoRows(err) {
		return p, errs.NotFoundf("pipeline %d not found", id)
	}
	if err != nil {
		return p, fmt.Errorf("crm.GetPipeline(%d): %w", id, err)
	}
	p.Stages, err = s.stages(ctx, q, ws, id)
	return p, err
}

func (s *Service) stages(ctx context.Context, q db.Querier, ws, pipelineID int64) ([]PipelineStage, error) {
	rows, err := q.QueryContext(ctx, `-- crm.stages
		SELECT id, name, position, probability, kind FROM pipeline_stages WHERE workspace_id = ? AND pipeline_id = ? ORDER BY position, id`, ws, pipelineID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []PipelineStage{}
	for rows.Next() {
		var st PipelineStage
		if err := rows.Scan(&st.ID, &st.Name, &st.Position, &st.Probability, &st.Kind); err != nil {
			return nil, err
		}
		out = append(out, st)
	}
	return out, rows.Err()
}

// Pipelines lists every pipeline with its stages, in two queries (pages
// call it on every view, so no query per pipeline).
func (s *Service) Pipelines(ctx context.Context, q db.Querier, ws int64) ([]Pipeline, error) {
	rows, err := q.QueryContext(ctx, `-- crm.Pipelines
		SELECT id, name, position, is_default FROM pipelines WHERE workspace_id = ? ORDER BY position, id`, ws)
	if err != nil {
		return nil, fmt.Errorf("crm.Pipelines: %w", err)
	}
	out := []Pipeline{}
	at := map[int64]int{}
	for rows.Next() {
		var p Pipeline
		if err := rows.Scan(&p.ID, &p.Name, &p.Position, &p.IsDefault); err != nil {
			rows.Close()
			return nil, err
		}
		p.Stages = []PipelineStage{}
		at[p.ID] = len(out)
		out = append(out, p)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	rows, err = q.QueryContext(ctx, `-- crm.Pipelines stages
		SELECT pipeline_id, id, name, position, probability, kind FROM pipeline_stages WHERE workspace_id = ? ORDER BY position, id`, ws)
	if err != nil {
		return nil, fmt.Errorf("crm.Pipelines: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var pid int64
		var st PipelineStage
		if err := rows.Scan(&pid, &st.ID, &st.Name, &st.Position, &st.Probability, &st.Kind); err != nil {
			return nil, err
		}
		if i, ok := at[pid]; ok {
			out[i].Stages = append(out[i].Stages, st)
		}
	}
	return out, rows.Err()
}

// DefaultPipeline returns the workspace's default pipeline.
func (s *Service) DefaultPipeline(ctx context.Context, q db.Querier, ws int64) (Pipeline, error) {
	var id int64
	err := q.QueryRowContext(ctx, `SELECT id FROM pipelines WHERE workspace_id = ? ORDER BY is_default DESC, position, id LIMIT 1`, ws).Scan(&id)
	if db.NoRows(err) {
		return Pipeline{}, errs.Rule("pipeline_id", "the workspace has no pipeline yet")
	}
	if err != nil {
		return Pipeline{}, err
	}
	return s.GetPipeline(ctx, q, ws, id)
}

// EnsureDefaults creates the default sales pipeline on a new workspace, named
// in the workspace's language: contact → demo → proposal → negotiation → won/lost.
func (s *Service) EnsureDefaults(ctx context.Context, ws int64, locale string) error {
	ps, err := s.Pipelines(ctx, s.DB.Reader(), ws)
	if err != nil || len(ps) > 0 {
		return err
	}
	names := map[string][]string{
		"ja": {"新規営業", "初回接触", "デモ", "提案・見積", "価格交渉", "受注", "失注"},
		"en": {"New business", "First contact", "Demo", "Proposal", "Negotiation", "Won", "Lost"},
	}[locale]
	if names == nil {
		names = []string{"新規営業", "初回接触", "デモ", "提案・見積", "価格交渉", "受注", "失注"}
	}
	_, err = s.SavePipeline(ctx, platform.System(ws), 0, PipelineInput{Name: names[0], IsDefault: true, Stages: []PipelineStage{
		{Name: names[1], Probability: 10}, {Name: names[2], Probability: 30}, {Name: names[3], Probability: 60},
		{Name: names[4], Probability: 80}, {Name: names[5], Kind: "won"}, {Name: names[6], Kind: "lost"},
	}})
	return err
}
