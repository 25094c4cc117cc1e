package segments

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/ryorin/ryorin/internal/crm"
	"github.com/ryorin/ryorin/internal/db"
	"github.com/ryorin/ryorin/internal/errs"
	"github.com/ryorin/ryorin/internal/platform"
)

// Query is a compiled definition: a condition on contacts (alias c) and its
// arguments. Every value is a bound parameter; the SQL text holds only column
// names from the field table and placeholders.
type Query struct {
	Where string
	Args  []any
}

// Compile turns a validated definition into SQL for workspace ws, with time
// windows measured back from now. Behaviour conditions are EXISTS probes on
// the events_contact index (workspace, contact, occurred_at) and are placed
// after the column tests of their group, so both engines test the cheap
// columns first.
func Compile(d Definition, props []crm.PropertyDefinition, ws int64, now time.Time) (Query, error) {
	return CompileWith(d, props, ws, now, nil)
}

// Spot names one condition of a definition: group and position.
type Spot struct{ Group, Cond int }

// CompileWith is Compile with some "at least n times" conditions in their
// set form (sets[spot] true): the contacts with a matching event in the
// window, read once from events_kind_time, so the planner can start from
// that set instead of probing every contact. It pays when the window holds
// few events of that kind compared with the contacts; the caller decides
// (Service.Count estimates it). The membership refresher, which looks at a
// few contacts at a time, always uses the probes.
func CompileWith(d Definition, props []crm.PropertyDefinition, ws int64, now time.Time, sets map[Spot]bool) (Query, error) {
	fields := Fields(props)
	var groups []string
	var args []any
	// drivers holds, per group, the event set of its first set-form
	// condition: when every group has one, their union holds every match.
	var drivers []string
	var driverArgs []any
	for gi, g := range d.Groups {
		order := make([]int, len(g.Conditions))
		for i := range order {
			order[i] = i
		}
		sort.SliceStable(order, func(i, j int) bool {
			return rank(fields, g.Conditions[order[i]]) < rank(fields, g.Conditions[order[j]])
		})
		var parts []string
		driven := false
		for _, ci := range order {
			c := g.Conditions[ci]
			f, ok := lookup(fields, c.Field)
			if !ok {
				return Query{}, errs.Field(fmt.Sprintf("groups[%d].conditions[%d].field", gi, ci), "unknown field %q", c.Field)
			}
			set := sets[Spot{gi, ci}] && f.Kind == KindBehavior && c.Op == "at_least"
			if set && !driven {
				from, a := behaviorSet(f, c, ws, now)
				drivers, driverArgs, driven = append(drivers, from), append(driverArgs, a...), true
			}
			sql, a, err := condSQL(f, c, ws, now, set, sets == nil)
			if err != nil {
				return Query{}, err
			}
			parts = append(parts, sql)
			args = append(args, a...)
		}
		if len(parts) == 0 {
			continue
		}
		groups = append(groups, "("+strings.Join(parts, " AND ")+")")
	}
	if len(groups) == 0 {
		return Query{Where: "1 = 0"}, nil
	}
	where := "(" + strings.Join(groups, " OR ") + ")"
	if len(groups) > 1 && len(drivers) == len(groups) {
		// Groups joined by OR: the planner would test every contact.
		// Starting from the union of the groups' event sets (a superset of
		// the matches) it looks up only those contacts.
		return Query{Where: "c.id IN (" + strings.Join(drivers, " UNION ") + ") AND " + where, Args: append(driverArgs, args...)}, nil
	}
	return Query{Where: where, Args: args}, nil
}

// rank orders a group's conditions: columns of the contact, then subqueries
// on other tables, then behaviour probes.
func rank(fields []Field, c Condition) int {
	f, _ := lookup(fields, c.Field)
	switch {
	case f.Kind == KindBehavior:
		return 2
	case f.company || f.score || f.Kind == KindList:
		return 1
	}
	return 0
}

// condSQL is one condition. With probe (Compile: the refresher evaluates a
// few thousand contacts at a time) the conditions on other tables look up
// each contact's own row; without (a whole-workspace count) they read the
// matching rows once as a set. Given a small id list and a set form, SQLite
// started from the set: every company of an industry, then their contacts.
func condSQL(f Field, c Condition, ws int64, now time.Time, set, probe bool) (string, []any, error) {
	switch {
	case set: // an "at least" behaviour condition the count reads as a set
		return behaviorSetSQL(f, c, ws, now)
	case f.Kind == KindBehavior:
		return behaviorSQL(f, c, now)
	case f.Kind == KindList:
		id, _ := strconv.ParseInt(c.Value, 10, 64)
		not := ""
		if c.Op == "not_in" {
			not = "NOT "
		}
		if probe {
			return not + "EXISTS (SELECT 1 FROM list_members lm WHERE lm.workspace_id = ? AND lm.list_id = ? AND lm.contact_id = c.id)", []any{ws, id}, nil
		}
		return "c.id " + not + "IN (SELECT lm.contact_id FROM list_members lm WHERE lm.workspace_id = ? AND lm.list_id = ?)", []any{ws, id}, nil
	case f.company:
		sql, a := valueSQL(f.Kind, "co."+f.col, c)
		if probe {
			return "EXISTS (SELECT 1 FROM companies co WHERE co.workspace_id = c.workspace_id AND co.id = c.company_id AND " + sql + ")", a, nil
		}
		return "c.company_id IN (SELECT co.id FROM companies co WHERE co.workspace_id = ? AND " + sql + ")", append([]any{ws}, a...), nil
	case f.score:
		// A contact matches when its scores row matches, or when it has no
		// row and the condition holds for the unscored values (0, "").
		col := "sc." + f.col
		if f.col == "engagement_score" {
			col = crm.EngagementSQL("sc", now) // decayed to now, as every screen shows it
		}
		sql, a := valueSQL(f.Kind, col, c)
		zero := "''"
		if f.Kind == KindNumber {
			zero = "CAST(0 AS DOUBLE PRECISION)"
		}
		zsql, za := valueSQL(f.Kind, zero, c)
		if probe {
			return "(EXISTS (SELECT 1 FROM contact_scores sc WHERE sc.workspace_id = c.workspace_id AND sc.contact_id = c.id AND " + sql + ") OR (" + zsql +
				" AND NOT EXISTS (SELECT 1 FROM contact_scores sc WHERE sc.workspace_id = c.workspace_id AND sc.contact_id = c.id)))", append(a, za...), nil
		}
		return "(c.id IN (SELECT sc.contact_id FROM contact_scores sc WHERE sc.workspace_id = ? AND " + sql + ") OR (" + zsql +
				" AND NOT EXISTS (SELECT 1 FROM contact_scores sc WHERE sc.workspace_id = c.workspace_id AND sc.contact_id = c.id)))",
			append(append([]any{ws}, a...), za...), nil
	case f.prop != "":
		return propSQL(f, c)
	case f.Kind == KindUser:
		switch c.Op {
		case "eq":
			return "c." + f.col + " = ?", []any{atoi(c.Value)}, nil
		case "neq":
			return "(c." + f.col + " IS NULL OR c." + f.col + " <> ?)", []any{atoi(c.Value)}, nil
		case "empty":
			return "c." + f.col + " IS NULL", nil, nil
		default:
			return "c." + f.col + " IS NOT NULL", nil, nil
		}
	}
	sql, a := valueSQL(f.Kind, "c."+f.col, c)
	return sql, a, nil
}

// valueSQL compares one column with a condition's value.
func valueSQL(k FieldKind, col string, c Condition) (string, []any) {
	if k == KindNumber {
		switch c.Op {
		case "empty":
			return col + " IS NULL", nil
		case "not_empty":
			return col + " IS NOT NULL", nil
		}
		v, _ := strconv.ParseFloat(c.Value, 64)
		return col + " " + map[string]string{"gte": ">=", "lte": "<=", "eq": "="}[c.Op] + " ?", []any{v}
	}
	text := "COALESCE(" + col + ", '')"
	switch c.Op {
	case "eq":
		return text + " = ?", []any{c.Value}
	case "neq":
		return text + " <> ?", []any{c.Value}
	case "contains":
		return "LOWER(" + text + ") LIKE ? ESCAPE '\\'", []any{"%" + likeEscape(strings.ToLower(c.Value)) + "%"}
	case "starts_with":
		return "LOWER(" + text + ") LIKE ? ESCAPE '\\'", []any{likeEscape(strings.ToLower(c.Value)) + "%"}
	case "empty":
		return text + " = ''", nil
	}
	return text + " <> ''", nil
}

// propSQL tests a custom contact property; the key is a bound parameter too.
func propSQL(f Field, c Condition) (string, []any, error) {
	val := "c.props ->> CAST(? AS TEXT)"
	key := []any{f.prop}
	switch f.Kind {
	case KindNumber:
		sql, a := valueSQL(KindNumber, "CAST("+val+" AS DOUBLE PRECISION)", c)
		return sql, append(key, a...), nil
	case KindBool:
		// SQLite's ->> yields 1/0 for JSON booleans, PostgreSQL's 'true'/'false'.
		alt := map[string]string{"true": "1", "false": "0"}[c.Value]
		return "CAST(" + val + " AS TEXT) IN (?, ?)", append(key, c.Value, alt), nil
	case KindMulti:
		switch c.Op {
		case "contains":
			return "CAST(" + val + " AS TEXT) LIKE ? ESCAPE '\\'", append(key, "%\""+likeEscape(c.Value)+"\"%"), nil
		case "empty":
			return "COALESCE(CAST(" + val + " AS TEXT), '[]') IN ('', '[]')", key, nil
		}
		return "COALESCE(CAST(" + val + " AS TEXT), '[]') NOT IN ('', '[]')", key, nil
	}
	sql, a := valueSQL(KindText, "CAST("+val+" AS TEXT)", c)
	return sql, append(key, a...), nil
}

// behaviorSQL probes a contact's events in a time window. "At least n times"
// asks whether an n-th matching event exists (OFFSET n-1), so the probe reads
// at most n index entries whatever the contact's history.
func behaviorSQL(f Field, c Condition, now time.Time) (string, []any, error) {
	since := db.Millis(now.Add(-time.Duration(c.Days) * 24 * time.Hour))
	from := "SELECT 1 FROM events e WHERE e.workspace_id = c.workspace_id AND e.contact_id = c.id AND e.occurred_at >= ? AND e.kind = ?"
	args := []any{since, f.col}
	switch {
	case c.Path == "":
	case f.col == platform.EventFormSubmit:
		from += " AND e.path = ?"
		args = append(args, "/f/"+c.Path)
	default:
		from += " AND SUBSTR(e.path, 1, ?) = ?"
		args = append(args, utf8.RuneCountInString(c.Path), c.Path)
	}
	if c.Op == "none" {
		return "NOT EXISTS (" + from + ")", args, nil
	}
	if c.Count <= 1 {
		return "EXISTS (" + from + ")", args, nil
	}
	return "EXISTS (" + from + " LIMIT 1 OFFSET ?)", append(args, c.Count-1), nil
}

// behaviorSetSQL is the set form of "at least n times": the contacts with a
// matching event in the window, read once from events_kind_time, so the
// planner can start from that set; for n > 1 each of them is then probed
// for an n-th event. ("Not once" keeps the per-contact probe: the set of
// everyone active is large and the probe stops at the first event.)
func behaviorSetSQL(f Field, c Condition, ws int64, now time.Time) (string, []any, error) {
	from, args := behaviorSet(f, c, ws, now)
	set := "c.id IN (" + from + ")"
	if c.Count <= 1 {
		return set, args, nil
	}
	probe, pargs, err := behaviorSQL(f, c, now)
	return "(" + set + " AND " + probe + ")", append(args, pargs...), err
}

// behaviorSet selects the contacts with at least one matching event in the
// window, from events_kind_time (which carries contact_id).
func behaviorSet(f Field, c Condition, ws int64, now time.Time) (string, []any) {
	since := db.Millis(now.Add(-time.Duration(c.Days) * 24 * time.Hour))
	from := "SELECT e.contact_id FROM events e WHERE e.workspace_id = ? AND e.kind = ? AND e.occurred_at >= ? AND e.contact_id IS NOT NULL"
	args := []any{ws, f.col, since}
	switch {
	case c.Path == "":
	case f.col == platform.EventFormSubmit:
		from += " AND e.path = ?"
		args = append(args, "/f/"+c.Path)
	default:
		from += " AND SUBSTR(e.path, 1, ?) = ?"
		args = append(args, utf8.RuneCountInString(c.Path), c.Path)
	}
	return from, args
}

func likeEscape(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

func atoi(s string) int64 {
	n, _ := strconv.ParseInt(s, 10, 64)
	return n
}
