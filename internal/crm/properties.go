package crm

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/ryorin/ryorin/internal/db"
	"github.com/ryorin/ryorin/internal/errs"
	"github.com/ryorin/ryorin/internal/platform"
)

// PropertyType is the type of a custom property's values.
type PropertyType string

// The property types.
const (
	PropText         PropertyType = "text"
	PropNumber       PropertyType = "number"
	PropDate         PropertyType = "date"
	PropSingleChoice PropertyType = "single_choice"
	PropMultiChoice  PropertyType = "multi_choice"
	PropBool         PropertyType = "bool"
)

// Object types that carry custom properties.
var propertyObjects = []string{"contact", "company", "deal"}

// Option is one allowed value of a choice property.
type Option struct {
	Value   string `json:"value"`
	LabelEN string `json:"label_en"`
	LabelJA string `json:"label_ja"`
}

// PropertyDefinition describes one custom property of contacts, companies or deals.
type PropertyDefinition struct {
	ID         int64        `json:"id"`
	ObjectType string       `json:"object_type"`
	Key        string       `json:"key"`
	LabelEN    string       `json:"label_en"`
	LabelJA    string       `json:"label_ja"`
	Type       PropertyType `json:"type"`
	Options    []Option     `json:"options,omitempty"`
	Required   bool         `json:"required"`
	Position   int          `json:"position"`
	CreatedAt  time.Time    `json:"created_at"`
	UpdatedAt  time.Time    `json:"updated_at"`
}

var propKeyRe = regexp.MustCompile(`^[a-z][a-z0-9_]{0,62}$`)

// SaveProperty creates (id 0) or updates a property definition. Admins only.
// A property's object type, key and type never change once created, so stored
// values stay valid.
func (s *Service) SaveProperty(ctx context.Context, a platform.Actor, id int64, in PropertyDefinition) (PropertyDefinition, error) {
	if !a.Is(platform.RoleAdmin) {
		return in, errs.E(errs.Forbidden, "", "only admins manage custom properties")
	}
	now := s.Clock.Now()
	if id == 0 {
		if !slices.Contains(propertyObjects, in.ObjectType) {
			return in, errs.Field("object_type", "must be contact, company or deal")
		}
		if !propKeyRe.MatchString(in.Key) {
			return in, errs.Field("key", "must be lower-case letters, digits and _, starting with a letter")
		}
		switch in.Type {
		case PropText, PropNumber, PropDate, PropSingleChoice, PropMultiChoice, PropBool:
		default:
			return in, errs.Field("type", "must be text, number, date, single_choice, multi_choice or bool")
		}
	}
	if strings.TrimSpace(in.LabelEN) == "" && strings.TrimSpace(in.LabelJA) == "" {
		return in, errs.Field("label_en", "a label in English or Japanese is required")
	}
	if in.LabelEN == "" {
		in.LabelEN = in.LabelJA
	}
	if in.LabelJA == "" {
		in.LabelJA = in.LabelEN
	}
	err := s.DB.Write(ctx, "crm.SaveProperty", func(tx *db.Tx) error {
		if id != 0 {
			old, err := s.getProperty(ctx, tx, a.WorkspaceID, id)
			if err != nil {
				return err
			}
			in.ObjectType, in.Key, in.Type, in.CreatedAt = old.ObjectType, old.Key, old.Type, old.CreatedAt
		}
		if in.Type == PropSingleChoice || in.Type == PropMultiChoice {
			if len(in.Options) == 0 {
				return errs.Field("options", "a choice property needs at least one option")
			}
			seen := map[string]bool{}
			for i, o := range in.Options {
				if o.Value == "" || seen[o.Value] {
					return errs.Field(fmt.Sprintf("options[%d].value", i), "must be non-empty and unique")
				}
				seen[o.Value] = true
				if o.LabelEN == "" {
					in.Options[i].LabelEN = o.Value
				}
				if o.LabelJA == "" {
					in.Options[i].LabelJA = in.Options[i].LabelEN
				}
			}
		} else {
			in.Options = nil
		}
		opts, _ := json.Marshal(in.Options)
		in.UpdatedAt = now
		if id == 0 {
			in.CreatedAt = now
			err := tx.QueryRowContext(ctx, `-- crm.SaveProperty
				INSERT INTO property_definitions (workspace_id, object_type, key, label_en, label_ja, type, options, required, position, created_at, updated_at)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`, a.WorkspaceID, in.ObjectType, in.Key, in.LabelEN, in.LabelJA,
				string(in.Type), string(opts), in.Required, in.Position, db.Millis(now), db.Millis(now)).Scan(&in.ID)
			if db.IsUniqueViolation(err) {
				return errs.E(errs.Conflict, "key", "a %s property %q already exists", in.ObjectType, in.Key)
			}
			if err != nil {
				return fmt.Errorf("crm.SaveProperty: %w", err)
			}
			return platform.Audit(ctx, tx, a, now, "create", "property", in.ID, in)
		}
		in.ID = id
		_, err := tx.ExecContext(ctx, `-- crm.SaveProperty
			UPDATE property_definitions SET label_en = ?, label_ja = ?, options = ?, required = ?, position = ?, updated_at = ?
			WHERE workspace_id = ? AND id = ?`, in.LabelEN, in.LabelJA, string(opts), in.Required, in.Position, db.Millis(now), a.WorkspaceID, id)
		if err != nil {
			return fmt.Errorf("crm.SaveProperty: %w", err)
		}
		return platform.Audit(ctx, tx, a, now, "update", "property", id, in)
	})
	return in, err
}

// DeleteProperty removes a definition. Stored values stay in the records'
// props but are no longer validated or shown.
func (s *Service) DeleteProperty(ctx context.Context, a platform.Actor, id int64) error {
	if !a.Is(platform.RoleAdmin) {
		return errs.E(errs.Forbidden, "", "only admins manage custom properties")
	}
	return s.DB.Write(ctx, "crm.DeleteProperty", func(tx *db.Tx) error {
		p, err := s.getProperty(ctx, tx, a.WorkspaceID, id)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM property_definitions WHERE workspace_id = ? AND id = ?`, a.WorkspaceID, id); err != nil {
			return fmt.Errorf("crm.DeleteProperty: %w", err)
		}
		return platform.Audit(ctx, tx, a, s.Clock.Now(), "delete", "property", id, p)
	})
}

const propCols = `id, object_type, key, label_en, label_ja, type, options, required, position, created_at, updated_at`

func scanProperty(sc interface{ Scan(...any) error }) (PropertyDefinition, error) {
	var p PropertyDefinition
	var opts *string
	var c, u int64
	if err := sc.Scan(&p.ID, &p.ObjectType, &p.Key, &p.LabelEN, &p.LabelJA, &p.Type, &opts, &p.Required, &p.Position, &c, &u); err != nil {
		return p, err
	}
	if opts != nil {
		_ = json.Unmarshal([]byte(*opts), &p.Options)
	}
	p.CreatedAt, p.UpdatedAt = db.Time(c), db.Time(u)
	return p, nil
}

func (s *Service) getProperty(ctx context.Context, q db.Querier, ws, id int64) (PropertyDefinition, error) {
	p, err := scanProperty(q.QueryRowContext(ctx, `SELECT `+propCols+` FROM property_definitions WHERE workspace_id = ? AND id = ?`, ws, id))
	if db.NoRows(err) {
		return p, errs.NotFoundf("property %d not found", id)
	}
	return p, err
}

// Properties lists the definitions for an object type ("" for all).
func (s *Service) Properties(ctx context.Context, q db.Querier, ws int64, objectType string) ([]PropertyDefinition, error) {
	sql := `-- crm.Properties
		SELECT ` + propCols + ` FROM property_definitions WHERE workspace_id = ?`
	args := []any{ws}
	if objectType != "" {
		sql += ` AND object_type = ?`
		args = append(args, objectType)
	}
	rows, err := q.QueryContext(ctx, sql+` ORDER BY object_type, position, key`, args...)
	if err != nil {
		return nil, fmt.Errorf("crm.Properties: %w", err)
	}
	defer rows.Close()
	out := []PropertyDefinition{}
	for rows.Next() {
		p, err := scanProperty(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

// mergeProps validates patch against the definitions and merges it into
// current (nil values delete a key). On create, required properties must be
// present. The result is what gets stored.
func mergeProps(defs []PropertyDefinition, current, patch map[string]any, create bool) (map[string]any, error) {
	byKey := map[string]PropertyDefinition{}
	for _, d := range defs {
		byKey[d.Key] = d
	}
	out := map[string]any{}
	for k, v := range current {
		out[k] = v
	}
	for k, v := range patch {
		d, ok := byKey[k]
		if !ok {
			return nil, errs.Field("props."+k, "unknown property %q", k)
		}
		if v == nil {
			delete(out, k)
			continue
		}
		nv, err := coerceProp(d, v)
		if err != nil {
			return nil, err
		}
		out[k] = nv
	}
	if create {
		for _, d := range defs {
			if _, ok := out[d.Key]; d.Required && !ok {
				return nil, errs.Field("props."+d.Key, "is required")
			}
		}
	}
	return out, nil
}

func coerceProp(d PropertyDefinition, v any) (any, error) {
	field := "props." + d.Key
	allowed := func(s string) bool {
		for _, o := range d.Options {
			if o.Value == s {
				return true
			}
		}
		return false
	}
	switch d.Type {
	case PropText:
		s, ok := v.(string)
		if !ok {
			return nil, errs.Field(field, "must be text")
		}
		if len(s) > 10000 {
			return nil, errs.Field(field, "is longer than 10,000 bytes")
		}
		return s, nil
	case PropNumber:
		f, ok := v.(float64)
		if !ok {
			if n, isNum := v.(json.Number); isNum {
				var err error
				if f, err = n.Float64(); err == nil {
					ok = true
				}
			}
		}
		if !ok || math.IsNaN(f) || math.IsInf(f, 0) {
			return nil, errs.Field(field, "must be a number")
		}
		return f, nil
	case PropDate:
		s, ok := v.(string)
		if !ok {
			return nil, errs.Field(field, "must be a date YYYY-MM-DD")
		}
		if _, err := time.Parse(time.DateOnly, s); err != nil {
			return nil, errs.Field(field, "must be a date YYYY-MM-DD")
		}
		return s, nil
	case PropBool:
		b, ok := v.(bool)
		if !ok {
			return nil, errs.Field(field, "must be true or false")
		}
		return b, nil
	case PropSingleChoice:
		s, ok := v.(string)
		if !ok {
			return nil, errs.Field(field, "must be one of the property's options")
		}
		if !allowed(s) {
			return nil, errs.Rule(field, "%q is not one of the property's options", s)
		}
		return s, nil
	case PropMultiChoice:
		list, ok := v.([]any)
		if !ok {
			return nil, errs.Field(field, "must be a list of the property's options")
		}
		out := []any{}
		for _, x := range list {
			s, ok := x.(string)
			if !ok || !allowed(s) {
				return nil, errs.Rule(field, "%v is not one of the property's options", x)
			}
			if !slices.Contains(out, any(s)) {
				out = append(out, s)
			}
		}
		return out, nil
	}
	return nil, errs.Field(field, "has an unknown type")
}

func marshalProps(p map[string]any) any {
	if len(p) == 0 {
		return "{}"
	}
	b, _ := json.Marshal(p)
	return string(b)
}

func unmarshalProps(s *string) map[string]any {
	out := map[string]any{}
	if s != nil && *s != "" {
		_ = json.Unmarshal([]byte(*s), &out)
	}
	return out
}

// propFilterSQL returns a condition comparing a custom property to a value,
// for list filters. The key is checked against the definitions first, so it
// never reaches SQL unvalidated.
func propFilterSQL(defs []PropertyDefinition, key, value string) (string, []any, error) {
	for _, d := range defs {
		if d.Key != key {
			continue
		}
		expr := "props->>'" + key + "'"
		switch d.Type {
		case PropNumber:
			var f float64
			if _, err := fmt.Sscanf(value, "%g", &f); err != nil {
				return "", nil, errs.Field("prop."+key, "must be a number")
			}
			return "CAST(" + expr + " AS DOUBLE PRECISION) = ?", []any{f}, nil
		case PropBool:
			if value != "true" && value != "false" {
				return "", nil, errs.Field("prop."+key, "must be true or false")
			}
			// SQLite's ->> yields 1/0 for JSON booleans, PostgreSQL's yields 'true'/'false'.
			return "CAST(" + expr + " AS TEXT) IN (?, ?)", []any{value, map[string]string{"true": "1", "false": "0"}[value]}, nil
		case PropMultiChoice:
			return expr + " LIKE ?", []any{"%\"" + strings.ReplaceAll(value, `"`, ``) + "\"%"}, nil
		default:
			return expr + " = ?", []any{value}, nil
		}
	}
	return "", nil, errs.Field("prop."+key, "unknown property %q", key)
}
