package interest

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/ryorin/ryorin/internal/db"
	"github.com/ryorin/ryorin/internal/errs"
	"github.com/ryorin/ryorin/internal/platform"
)

// maxRules bounds a workspace's topic rules.
const maxRules = 200

// Rules returns the workspace's topic rules: its own once saved, else
// DefaultRules.
func Rules(ctx context.Context, q db.Querier, ws int64) ([]Rule, error) {
	var customised int
	err := q.QueryRowContext(ctx, `-- interest.Rules settings
		SELECT customised FROM interest_settings WHERE workspace_id = ?`, ws).Scan(&customised)
	if db.NoRows(err) {
		return append([]Rule(nil), DefaultRules...), nil
	}
	if err != nil {
		return nil, fmt.Errorf("interest.Rules: %w", err)
	}
	rows, err := q.QueryContext(ctx, `-- interest.Rules
		SELECT path_prefix, topic FROM interest_topic_rules WHERE workspace_id = ? ORDER BY position, path_prefix`, ws)
	if err != nil {
		return nil, fmt.Errorf("interest.Rules: %w", err)
	}
	defer rows.Close()
	out := []Rule{}
	for rows.Next() {
		var r Rule
		if err := rows.Scan(&r.Prefix, &r.Topic); err != nil {
			return nil, fmt.Errorf("interest.Rules: %w", err)
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// ParseRules reads rules written one a line as "/path/prefix topic". An
// error is Invalid and names the line.
func ParseRules(s string) ([]Rule, error) {
	var out []Rule
	seen := map[string]bool{}
	for i, line := range strings.Split(strings.ReplaceAll(s, "\r\n", "\n"), "\n") {
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		field := fmt.Sprintf("rules[%d]", i)
		if len(f) != 2 || !strings.HasPrefix(f[0], "/") {
			return nil, errs.Field(field, "write a path prefix starting with / and a topic, e.g. /pricing pricing")
		}
		r := Rule{Prefix: f[0], Topic: NormalizeTopic(f[1])}
		if len(r.Prefix) > 500 || len(r.Topic) > 100 {
			return nil, errs.Field(field, "is too long")
		}
		if seen[r.Prefix] {
			return nil, errs.Field(field, "the path prefix %s is listed twice", r.Prefix)
		}
		seen[r.Prefix] = true
		out = append(out, r)
	}
	if len(out) > maxRules {
		return nil, errs.Field("rules", "at most %d rules", maxRules)
	}
	return out, nil
}

// SetRules replaces the workspace's topic rules (admins and marketing).
func SetRules(ctx context.Context, d *db.DB, a platform.Actor, rules []Rule, now time.Time) error {
	if !(a.Kind == platform.ActorSystem || a.Kind == platform.ActorCLI || a.Is(platform.RoleAdmin, platform.RoleMarketing)) {
		return errs.E(errs.Forbidden, "", "only marketing and admins change topic rules")
	}
	ws := a.WorkspaceID
	return d.Write(ctx, "interest.SetRules", func(tx *db.Tx) error {
		if _, err := tx.ExecContext(ctx, `-- interest.SetRules clear
			DELETE FROM interest_topic_rules WHERE workspace_id = ?`, ws); err != nil {
			return fmt.Errorf("interest.SetRules: %w", err)
		}
		for i, r := range rules {
			if _, err := tx.ExecContext(ctx, `-- interest.SetRules
				INSERT INTO interest_topic_rules (workspace_id, path_prefix, topic, position) VALUES (?, ?, ?, ?)`, ws, r.Prefix, r.Topic, i); err != nil {
				return fmt.Errorf("interest.SetRules: %w", err)
			}
		}
		if _, err := tx.ExecContext(ctx, `-- interest.SetRules settings
			INSERT INTO interest_settings (workspace_id, customised, updated_at) VALUES (?, 1, ?)
			ON CONFLICT (workspace_id) DO UPDATE SET customised = 1, updated_at = excluded.updated_at`, ws, db.Millis(now)); err != nil {
			return fmt.Errorf("interest.SetRules: %w", err)
		}
		return platform.Audit(ctx, tx, a, now, "update", "interest_topic_rules", 0, map[string]any{"rules": rules})
	})
}

// Profiles computes the interest profiles of a batch of contacts at now: one
// query for the topic rules, one for the batch's engagements within the
// horizon, and one for the topics of the campaigns they clicked in. Contacts
// with no engagement are absent from the map.
func Profiles(ctx context.Context, q db.Querier, ws int64, contacts []int64, now time.Time) (map[int64]Profile, error) {
	if len(contacts) == 0 {
		return map[int64]Profile{}, nil
	}
	rules, err := Rules(ctx, q, ws)
	if err != nil {
		return nil, err
	}
	args := []any{ws}
	for _, c := range contacts {
		args = append(args, c)
	}
	args = append(args, db.Millis(now.Add(-horizon)), db.Millis(now))
	rows, err := q.QueryContext(ctx, `-- interest.Profiles
		SELECT contact_id, kind, path, occurred_at, properties FROM events
		WHERE workspace_id = ? AND contact_id IN (`+db.Placeholders(len(contacts))+`)
		  AND kind IN ('page_view', 'content_view', 'email_click') AND occurred_at >= ? AND occurred_at <= ?`, args...)
	if err != nil {
		return nil, fmt.Errorf("interest.Profiles: %w", err)
	}
	var es []engagement
	clicks := map[int64][]int{} // campaign → indexes in es
	for rows.Next() {
		var e engagement
		var kind, path string
		var at int64
		var props *string
		if err := rows.Scan(&e.contact, &kind, &path, &at, &props); err != nil {
			rows.Close()
			return nil, fmt.Errorf("interest.Profiles: %w", err)
		}
		e.at = db.Time(at)
		var raw []byte
		if props != nil {
			raw = []byte(*props)
		}
		switch kind {
		case kindPageView:
			if t := TopicFor(rules, path); t != "" {
				e.weight, e.topics = weightPage, []string{t}
			}
		case kindContentView:
			e.weight, e.topics = weightContent, topicsOf(raw)
		case kindEmailClick:
			if c := campaignOf(raw); c > 0 {
				e.weight = weightClick
				clicks[c] = append(clicks[c], len(es))
			}
		}
		if e.weight > 0 {
			es = append(es, e)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("interest.Profiles: %w", err)
	}
	if len(clicks) > 0 {
		if err := campaignTopics(ctx, q, ws, clicks, es); err != nil {
			return nil, err
		}
	}
	return profiles(es, now), nil
}

// campaignTopics gives each click the topics of its campaign.
func campaignTopics(ctx context.Context, q db.Querier, ws int64, clicks map[int64][]int, es []engagement) error {
	args := []any{ws}
	for c := range clicks {
		args = append(args, c)
	}
	rows, err := q.QueryContext(ctx, `-- interest.Profiles campaigns
		SELECT id, topics FROM email_campaigns WHERE workspace_id = ? AND id IN (`+db.Placeholders(len(clicks))+`) AND topics <> ''`, args...)
	if err != nil {
		return fmt.Errorf("interest.Profiles: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var topics string
		if err := rows.Scan(&id, &topics); err != nil {
			return fmt.Errorf("interest.Profiles: %w", err)
		}
		ts := ParseTopics(topics)
		for _, i := range clicks[id] {
			es[i].topics = ts
		}
	}
	return rows.Err()
}
