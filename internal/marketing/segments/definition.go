// Package segments owns static lists and dynamic segments of contacts: the
// segment definition (filter groups over contact, company, score, list and
// behaviour fields), its validation and compilation to SQL with bound
// parameters only, stored memberships and the refresher that keeps them
// current and records segment_entered / segment_left events. It writes to the
// substrate in platform and reads the record through crm; it never imports
// web, api, httpx or app.
package segments

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/ryorin/ryorin/internal/crm"
	"github.com/ryorin/ryorin/internal/errs"
	"github.com/ryorin/ryorin/internal/platform"
)

// Limits of one definition, so a definition from outside cannot build an
// unbounded query.
const (
	MaxGroups     = 10
	MaxConditions = 20 // per group
	MaxValueLen   = 500
	MaxDays       = 3650
	MaxCount      = 1000
	// MaxDefinitionBytes bounds the JSON of a definition.
	MaxDefinitionBytes = 64 << 10
)

// Definition is a segment's filter: a contact is a member when it matches
// every condition of at least one group (AND within a group, OR between
// groups).
type Definition struct {
	Groups []Group `json:"groups" doc:"a contact matches when it meets every condition of at least one group"`
}

// Group is a set of conditions that must all hold.
type Group struct {
	Conditions []Condition `json:"conditions"`
}

// Condition is one test on a contact. Value is text for every field (a number,
// a stage, a user or list id); behaviour fields use Count, Days and Path.
type Condition struct {
	Field string `json:"field" doc:"a contact field (lifecycle_stage, owner_id, title, department, email, original_channel, consent_email), company.<industry|prefecture|city|name|employees|annual_revenue>, fit_grade, fit_score, engagement_score, list, prop.<key>, or behaviour: visited_page, email_open, email_click, form_submit, content_view"`
	Op    string `json:"op" doc:"eq, neq, contains, starts_with, empty, not_empty (text); eq, gte, lte (numbers); in, not_in (list); at_least, none (behaviour)"`
	Value string `json:"value,omitempty"`
	Count int    `json:"count,omitempty" doc:"behaviour at_least: at least this many times (default 1)"`
	Days  int    `json:"days,omitempty" doc:"behaviour: within the last this many days (1–3650)"`
	Path  string `json:"path,omitempty" doc:"behaviour: page path prefix (visited_page, content_view) or form key (form_submit); empty = any"`
}

// FieldKind says how a field is compared.
type FieldKind string

// The field kinds.
const (
	KindText     FieldKind = "text"
	KindNumber   FieldKind = "number"
	KindChoice   FieldKind = "choice"
	KindUser     FieldKind = "user"
	KindList     FieldKind = "list"
	KindBehavior FieldKind = "behavior"
	KindBool     FieldKind = "bool"
	KindMulti    FieldKind = "multi"
)

// Ops lists the operators each kind accepts, in the order the editor shows them.
var Ops = map[FieldKind][]string{
	KindText:     {"eq", "neq", "contains", "starts_with", "empty", "not_empty"},
	KindNumber:   {"gte", "lte", "eq", "empty", "not_empty"},
	KindChoice:   {"eq", "neq", "empty", "not_empty"},
	KindUser:     {"eq", "neq", "empty", "not_empty"},
	KindList:     {"in", "not_in"},
	KindBehavior: {"at_least", "none"},
	KindBool:     {"eq"},
	KindMulti:    {"contains", "empty", "not_empty"},
}

// Field is one field a condition may test.
type Field struct {
	Key  string
	Kind FieldKind
	// col is the column on contacts (alias c) or companies (alias co), or the
	// event kind for behaviour fields; prop is a custom property key.
	col     string
	company bool
	// score fields live in contact_scores (alias sc), where a contact
	// without a row has no scores yet: 0 and "".
	score bool
	prop  string
}

// builtIn are the fields every workspace has, in the editor's order.
var builtIn = []Field{
	{Key: "lifecycle_stage", Kind: KindChoice, col: "lifecycle_stage"},
	{Key: "owner_id", Kind: KindUser, col: "owner_id"},
	{Key: "title", Kind: KindText, col: "title"},
	{Key: "department", Kind: KindText, col: "department"},
	{Key: "email", Kind: KindText, col: "email"},
	{Key: "original_channel", Kind: KindChoice, col: "original_channel"},
	{Key: "consent_email", Kind: KindChoice, col: "consent_email"},
	{Key: "company.name", Kind: KindText, col: "name", company: true},
	{Key: "company.industry", Kind: KindText, col: "industry", company: true},
	{Key: "company.prefecture", Kind: KindText, col: "prefecture", company: true},
	{Key: "company.city", Kind: KindText, col: "city", company: true},
	{Key: "company.employees", Kind: KindNumber, col: "employees", company: true},
	{Key: "company.annual_revenue", Kind: KindNumber, col: "annual_revenue", company: true},
	{Key: "fit_grade", Kind: KindChoice, col: "fit_grade", score: true},
	{Key: "fit_score", Kind: KindNumber, col: "fit_score", score: true},
	{Key: "engagement_score", Kind: KindNumber, col: "engagement_score", score: true},
	{Key: "list", Kind: KindList},
	{Key: "visited_page", Kind: KindBehavior, col: platform.EventPageView},
	{Key: "email_open", Kind: KindBehavior, col: platform.EventEmailOpen},
	{Key: "email_click", Kind: KindBehavior, col: platform.EventEmailClick},
	{Key: "form_submit", Kind: KindBehavior, col: platform.EventFormSubmit},
	{Key: "content_view", Kind: KindBehavior, col: platform.EventContentView},
}

// Fields lists the fields a workspace's definitions may use: the built-in
// ones, then one per custom contact property (prop.<key>).
func Fields(defs []crm.PropertyDefinition) []Field {
	out := append([]Field(nil), builtIn...)
	for _, d := range defs {
		if d.ObjectType != "" && d.ObjectType != "contact" {
			continue
		}
		f := Field{Key: "prop." + d.Key, Kind: KindText, prop: d.Key}
		switch d.Type {
		case crm.PropNumber:
			f.Kind = KindNumber
		case crm.PropBool:
			f.Kind = KindBool
		case crm.PropSingleChoice:
			f.Kind = KindChoice
		case crm.PropMultiChoice:
			f.Kind = KindMulti
		}
		out = append(out, f)
	}
	return out
}

func lookup(fields []Field, key string) (Field, bool) {
	for _, f := range fields {
		if f.Key == key {
			return f, true
		}
	}
	return Field{}, false
}

// Parse reads a definition sent from outside (the API or the editor):
// unknown JSON members, unknown fields and operators, and values of the wrong
// type are refused with an Invalid error naming the place, e.g.
// "groups[0].conditions[1].field".
func Parse(b []byte, props []crm.PropertyDefinition) (Definition, error) {
	var d Definition
	if len(b) > MaxDefinitionBytes {
		return d, errs.E(errs.TooLarge, "definition", "at most %d bytes", MaxDefinitionBytes)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&d); err != nil {
		return Definition{}, errs.Field("definition", "not a valid definition: %s", strings.TrimPrefix(err.Error(), "json: "))
	}
	if dec.More() {
		return Definition{}, errs.Field("definition", "unexpected data after the definition")
	}
	return d, d.Validate(props)
}

// Validate checks a definition against the fields of the workspace and
// normalizes it in place (trimmed values, default counts).
func (d *Definition) Validate(props []crm.PropertyDefinition) error {
	if len(d.Groups) == 0 {
		return errs.Field("groups", "add at least one condition")
	}
	if len(d.Groups) > MaxGroups {
		return errs.Field("groups", "at most %d groups", MaxGroups)
	}
	fields := Fields(props)
	for gi := range d.Groups {
		g := &d.Groups[gi]
		at := fmt.Sprintf("groups[%d].conditions", gi)
		if len(g.Conditions) == 0 {
			return errs.Field(at, "a group needs at least one condition")
		}
		if len(g.Conditions) > MaxConditions {
			return errs.Field(at, "at most %d conditions per group", MaxConditions)
		}
		for ci := range g.Conditions {
			if err := g.Conditions[ci].validate(fields, fmt.Sprintf("%s[%d]", at, ci)); err != nil {
				return err
			}
		}
	}
	return nil
}

func (c *Condition) validate(fields []Field, at string) error {
	f, ok := lookup(fields, c.Field)
	if !ok {
		return errs.Field(at+".field", "unknown field %q", c.Field)
	}
	if !contains(Ops[f.Kind], c.Op) {
		return errs.Field(at+".op", "operator %q does not apply to %s (use %s)", c.Op, c.Field, strings.Join(Ops[f.Kind], ", "))
	}
	c.Value, c.Path = strings.TrimSpace(c.Value), strings.TrimSpace(c.Path)
	if len(c.Value) > MaxValueLen || len(c.Path) > MaxValueLen {
		return errs.Field(at+".value", "at most %d bytes", MaxValueLen)
	}
	if !utf8.ValidString(c.Value) || !utf8.ValidString(c.Path) {
		return errs.Field(at+".value", "must be valid UTF-8")
	}
	if f.Kind != KindBehavior && (c.Count != 0 || c.Days != 0 || c.Path != "") {
		return errs.Field(at+".days", "count, days and path apply only to behaviour fields")
	}
	needsValue := c.Op != "empty" && c.Op != "not_empty"
	switch f.Kind {
	case KindBehavior:
		if c.Value != "" {
			return errs.Field(at+".value", "behaviour fields take count, days and path, not value")
		}
		if c.Days < 1 || c.Days > MaxDays {
			return errs.Field(at+".days", "must be 1–%d", MaxDays)
		}
		if c.Op == "none" && c.Count != 0 {
			return errs.Field(at+".count", "does not apply to none")
		}
		if c.Op == "at_least" && c.Count == 0 {
			c.Count = 1
		}
		if c.Count < 0 || c.Count > MaxCount {
			return errs.Field(at+".count", "must be 1–%d", MaxCount)
		}
		if f.col == platform.EventFormSubmit && strings.ContainsAny(c.Path, "/?#") {
			return errs.Field(at+".path", "a form key, e.g. spring-webinar")
		}
		return nil
	case KindNumber:
		if needsValue {
			if _, err := strconv.ParseFloat(c.Value, 64); err != nil {
				return errs.Field(at+".value", "must be a number")
			}
		}
	case KindUser, KindList:
		if needsValue {
			if n, err := strconv.ParseInt(c.Value, 10, 64); err != nil || n <= 0 {
				return errs.Field(at+".value", "must be an id")
			}
		}
	case KindBool:
		if c.Value != "true" && c.Value != "false" {
			return errs.Field(at+".value", "must be true or false")
		}
	case KindChoice, KindText, KindMulti:
		if needsValue && c.Value == "" {
			return errs.Field(at+".value", "is required for %s", c.Op)
		}
	}
	if !needsValue && c.Value != "" {
		return errs.Field(at+".value", "does not apply to %s", c.Op)
	}
	if f.Key == "lifecycle_stage" && needsValue && !platform.Stage(c.Value).Valid() {
		return errs.Field(at+".value", "unknown lifecycle stage %q", c.Value)
	}
	return nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// Lists returns the ids of the lists a definition reads.
func (d Definition) Lists() []int64 {
	var out []int64
	for _, g := range d.Groups {
		for _, c := range g.Conditions {
			if c.Field == "list" {
				if n, err := strconv.ParseInt(c.Value, 10, 64); err == nil {
					out = append(out, n)
				}
			}
		}
	}
	return out
}
