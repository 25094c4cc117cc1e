package segments

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/ryorin/ryorin/internal/crm"
	"github.com/ryorin/ryorin/internal/db"
	"github.com/ryorin/ryorin/internal/errs"
	"github.com/ryorin/ryorin/internal/platform"
)

// PreviewSize is how many contacts a preview shows.
const PreviewSize = 20

// Segment is a dynamic segment: a definition and its stored membership.
type Segment struct {
	ID          int64      `json:"id"`
	Name        string     `json:"name"`
	Description string     `json:"description,omitempty"`
	Definition  Definition `json:"definition"`
	Members     int64      `json:"members" doc:"members at the last refresh"`
	RefreshedAt *time.Time `json:"refreshed_at,omitempty" doc:"last full recompute; empty while the first one is pending"`
	CreatedAt   time.Time  `json:"created_at"`
	UpdatedAt   time.Time  `json:"updated_at"`
}

// SegmentInput creates or replaces a segment. Definition is raw JSON so it
// goes through Parse, which names any unknown member, field or operator.
type SegmentInput struct {
	Name        string          `json:"name"`
	Description string          `json:"description,omitempty"`
	Definition  json.RawMessage `json:"definition" doc:"{\"groups\": [{\"conditions\": [{\"field\", \"op\", \"value\", \"count\", \"days\", \"path\"}]}]}"`
}

func (s *Service) parseInput(ctx context.Context, ws int64, in *SegmentInput) (Definition, error) {
	in.Name, in.Description = strings.TrimSpace(in.Name), strings.TrimSpace(in.Description)
	if in.Name == "" || len(in.Name) > 200 {
		return Definition{}, errs.Field("name", "is required, at most 200 bytes")
	}
	if len(in.Description) > 2000 {
		return Definition{}, errs.Field("description", "at most 2000 bytes")
	}
	return s.ParseDefinition(ctx, ws, in.Definition)
}

// ParseDefinition parses and validates a definition against the workspace's
// custom contact properties.
func (s *Service) ParseDefinition(ctx context.Context, ws int64, raw []byte) (Definition, error) {
	props, err := s.CRM.Properties(ctx, s.DB.Reader(), ws, "contact")
	if err != nil {
		return Definition{}, err
	}
	if len(raw) == 0 {
		return Definition{}, errs.Field("definition", "is required")
	}
	return Parse(raw, props)
}

// CreateSegment stores a segment; its members are computed by the refresher
// (within a second when it runs) and that first fill records no events.
func (s *Service) CreateSegment(ctx context.Context, a platform.Actor, in SegmentInput) (Segment, error) {
	return s.saveSegment(ctx, a, 0, in)
}

// UpdateSegment replaces a segment's name and definition; the refresher
// recomputes its members, recording who entered and left.
func (s *Service) UpdateSegment(ctx context.Context, a platform.Actor, id int64, in SegmentInput) (Segment, error) {
	return s.saveSegment(ctx, a, id, in)
}

func (s *Service) saveSegment(ctx context.Context, a platform.Actor, id int64, in SegmentInput) (Segment, error) {
	if !canEdit(a) {
		return Segment{}, errs.E(errs.Forbidden, "", "only marketing, managers and admins manage segments")
	}
	d, err := s.parseInput(ctx, a.WorkspaceID, &in)
	if err != nil {
		return Segment{}, err
	}
	js, _ := json.Marshal(d)
	now := db.Millis(s.Clock.Now())
	err = s.DB.Write(ctx, "segments.saveSegment", func(tx *db.Tx) error {
		var err error
		if id == 0 {
			err = tx.QueryRowContext(ctx, `-- segments.CreateSegment
				INSERT INTO segments (workspace_id, name, description, definition, created_by, created_at, updated_at)
				VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id`, a.WorkspaceID, in.Name, in.Description, string(js), db.NullInt(a.UserID), now, now).Scan(&id)
		} else {
			var res interface{ RowsAffected() (int64, error) }
			res, err = tx.ExecContext(ctx, `-- segments.UpdateSegment
				UPDATE segments SET name = ?, description = ?, definition = ?, updated_at = ?, refreshed_at = NULL
				WHERE workspace_id = ? AND id = ?`, in.Name, in.Description, string(js), now, a.WorkspaceID, id)
			if err == nil {
				if n, _ := res.RowsAffected(); n == 0 {
					return errs.NotFoundf("segment %d not found", id)
				}
			}
		}
		if db.IsUniqueViolation(err) {
			return errs.E(errs.Conflict, "name", "a segment named %q exists", in.Name)
		}
		if err != nil {
			return err
		}
		return platform.Audit(ctx, tx, a, s.Clock.Now(), "segment.save", "segment", id, map[string]any{"name": in.Name, "definition": d})
	})
	if err != nil {
		return Segment{}, fmt.Errorf("segments.saveSegment: %w", err)
	}
	return s.GetSegment(ctx, s.DB.Reader(), a.WorkspaceID, id)
}

// DeleteSegment deletes a segment and its memberships (no leave events: the
// segment is gone, not the contacts' match).
func (s *Service) DeleteSegment(ctx context.Context, a platform.Actor, id int64) error {
	if !canEdit(a) {
		return errs.E(errs.Forbidden, "", "only marketing, managers and admins manage segments")
	}
	err := s.DB.Write(ctx, "segments.DeleteSegment", func(tx *db.Tx) error {
		res, err := tx.ExecContext(ctx, `-- segments.DeleteSegment
			DELETE FROM segments WHERE workspace_id = ? AND id = ?`, a.WorkspaceID, id)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return errs.NotFoundf("segment %d not found", id)
		}
		return platform.Audit(ctx, tx, a, s.Clock.Now(), "segment.delete", "segment", id, nil)
	})
	if err != nil {
		return fmt.Errorf("segments.DeleteSegment(%d): %w", id, err)
	}
	return nil
}

const segmentCols = `id, name, description, definition, member_count, refreshed_at, created_at, updated_at`

func scanSegment(r interface{ Scan(...any) error }) (Segment, error) {
	var sg Segment
	var def string
	var ref *int64
	var c, u int64
	if err := r.Scan(&sg.ID, &sg.Name, &sg.Description, &def, &sg.Members, &ref, &c, &u); err != nil {
		return sg, err
	}
	sg.CreatedAt, sg.UpdatedAt = db.Time(c), db.Time(u)
	if ref != nil {
		t := db.Time(*ref)
		sg.RefreshedAt = &t
	}
	if err := json.Unmarshal([]byte(def), &sg.Definition); err != nil {
		return sg, fmt.Errorf("segment %d: stored definition: %w", sg.ID, err)
	}
	return sg, nil
}

// GetSegment returns one segment.
func (s *Service) GetSegment(ctx context.Context, q db.Querier, ws, id int64) (Segment, error) {
	sg, err := scanSegment(q.QueryRowContext(ctx, `-- segments.GetSegment
		SELECT `+segmentCols+` FROM segments WHERE workspace_id = ? AND id = ?`, ws, id))
	if db.NoRows(err) {
		return sg, errs.NotFoundf("segment %d not found", id)
	}
	if err != nil {
		return sg, fmt.Errorf("segments.GetSegment(%d): %w", id, err)
	}
	return sg, nil
}

// Segments returns the workspace's segments by name.
func (s *Service) Segments(ctx context.Context, q db.Querier, ws int64) ([]Segment, error) {
	return querySegments(ctx, q, `-- segments.Segments
		SELECT `+segmentCols+` FROM segments WHERE workspace_id = ? ORDER BY name, id`, ws)
}

// ContactSegments returns the segments a contact is a member of.
func (s *Service) ContactSegments(ctx context.Context, q db.Querier, ws, contactID int64) ([]Segment, error) {
	return querySegments(ctx, q, `-- segments.ContactSegments
		SELECT `+segmentCols+` FROM segments WHERE workspace_id = ? AND id IN
		(SELECT segment_id FROM segment_members WHERE workspace_id = ? AND contact_id = ?) ORDER BY name`, ws, ws, contactID)
}

func querySegments(ctx context.Context, q db.Querier, sql string, args ...any) ([]Segment, error) {
	rows, err := q.QueryContext(ctx, sql, args...)
	if err != nil {
		return nil, fmt.Errorf("segments.Segments: %w", err)
	}
	defer rows.Close()
	out := []Segment{}
	for rows.Next() {
		sg, err := scanSegment(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, sg)
	}
	return out, rows.Err()
}

// SegmentMembers returns a page of a segment's stored members.
func (s *Service) SegmentMembers(ctx context.Context, q db.Querier, ws, id, after int64, limit int) (MemberPage, error) {
	if _, err := s.GetSegment(ctx, q, ws, id); err != nil {
		return MemberPage{}, err
	}
	return members(ctx, q, "segment_members", "segment_id", "entered_at", ws, id, after, limit)
}

// Preview is what a definition matches right now: the count and the first
// contacts, for the editor and the API before saving.
type Preview struct {
	Count    int64    `json:"count"`
	Contacts []Member `json:"contacts"`
	Millis   int64    `json:"millis" doc:"how long the count took"`
}

// Count counts the contacts a definition matches now.
func (s *Service) Count(ctx context.Context, ws int64, d Definition) (int64, error) {
	props, err := s.CRM.Properties(ctx, s.DB.Reader(), ws, "contact")
	if err != nil {
		return 0, err
	}
	q, err := s.countQuery(ctx, ws, d, props)
	if err != nil {
		return 0, err
	}
	var n int64
	if err := s.DB.Reader().QueryRowContext(ctx, `-- segments.Count
		SELECT COUNT(*) FROM contacts c WHERE c.workspace_id = ? AND `+q.Where, append([]any{ws}, q.Args...)...).Scan(&n); err != nil {
		return 0, fmt.Errorf("segments.Count: %w", err)
	}
	return n, nil
}

// PreviewDefinition counts a (possibly unsaved) definition's matches and
// lists the first PreviewSize of them.
func (s *Service) PreviewDefinition(ctx context.Context, ws int64, d Definition) (Preview, error) {
	start := time.Now()
	n, err := s.Count(ctx, ws, d)
	if err != nil {
		return Preview{}, err
	}
	p := Preview{Count: n, Millis: time.Since(start).Milliseconds(), Contacts: []Member{}}
	props, err := s.CRM.Properties(ctx, s.DB.Reader(), ws, "contact")
	if err != nil {
		return p, err
	}
	q, err := s.countQuery(ctx, ws, d, props)
	if err != nil {
		return p, err
	}
	rows, err := s.DB.Reader().QueryContext(ctx, `-- segments.PreviewDefinition
		SELECT c.id, COALESCE(c.email, ''), c.family_name, c.given_name, c.title, COALESCE(co.name, ''), c.lifecycle_stage, c.created_at
		FROM contacts c LEFT JOIN companies co ON co.workspace_id = c.workspace_id AND co.id = c.company_id
		WHERE c.workspace_id = ? AND `+q.Where+` ORDER BY c.id LIMIT ?`, append(append([]any{ws}, q.Args...), PreviewSize)...)
	if err != nil {
		return p, fmt.Errorf("segments.PreviewDefinition: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var m Member
		var at int64
		if err := rows.Scan(&m.ContactID, &m.Email, &m.FamilyName, &m.GivenName, &m.Title, &m.Company, &m.Stage, &at); err != nil {
			return p, err
		}
		m.Since = db.Time(at)
		p.Contacts = append(p.Contacts, m)
	}
	return p, rows.Err()
}

// countQuery compiles a definition for a whole-workspace count, choosing for
// each "at least" behaviour condition between probing every contact and
// reading the matching events once: the set form when the window holds
// fewer events of that kind than an eighth of the contacts. The estimate
// reads at most that many index entries.
func (s *Service) countQuery(ctx context.Context, ws int64, d Definition, props []crm.PropertyDefinition) (Query, error) {
	now := s.Clock.Now()
	fields := Fields(props)
	var maxID int64
	if err := s.DB.Reader().QueryRowContext(ctx, `SELECT COALESCE(MAX(id), 0) FROM contacts WHERE workspace_id = ?`, ws).Scan(&maxID); err != nil {
		return Query{}, fmt.Errorf("segments.countQuery: %w", err)
	}
	limit := max(maxID/8, 100)
	sets := map[Spot]bool{}
	for gi, g := range d.Groups {
		for ci, c := range g.Conditions {
			f, ok := lookup(fields, c.Field)
			if !ok || f.Kind != KindBehavior || c.Op != "at_least" {
				continue
			}
			since := db.Millis(now.Add(-time.Duration(c.Days) * 24 * time.Hour))
			var n int64
			if err := s.DB.Reader().QueryRowContext(ctx, `-- segments.countQuery estimate
				SELECT COUNT(*) FROM (SELECT 1 FROM events WHERE workspace_id = ? AND kind = ? AND occurred_at >= ? LIMIT ?) AS x`,
				ws, f.col, since, limit).Scan(&n); err != nil {
				return Query{}, fmt.Errorf("segments.countQuery: %w", err)
			}
			sets[Spot{gi, ci}] = n < limit
		}
	}
	return CompileWith(d, props, ws, now, sets)
}

// MayListMembers refuses actors limited to their own records: a segment or
// list spans every owner's contacts, so its members, previews and counts
// would show them what the workspace setting hides.
func MayListMembers(a platform.Actor) error {
	if a.OwnRecordsOnly {
		return errs.E(errs.Forbidden, "", "sales limited to their own records cannot list segment or list members")
	}
	return nil
}
