package demo

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/ryorin/ryorin/internal/db"
	"github.com/ryorin/ryorin/internal/marketing/segments"
	"github.com/ryorin/ryorin/internal/platform"
)

// LoadSegments adds the demo's static list (the trade-show booth visitors)
// and three segments marketing would build, then fills them. It runs after
// the lead scorer has scored the demo (two segments read fit grades).
func LoadSegments(ctx context.Context, d *db.DB, svc *segments.Service) error {
	u, err := platform.UserByEmail(ctx, d.Reader(), ws, "sakura.ito@demo.ryorin.example")
	if err != nil {
		return fmt.Errorf("demo.LoadSegments: %w", err)
	}
	mkt := u.Actor(ws, platform.ActorUser)
	booth, err := svc.CreateList(ctx, mkt, segments.ListInput{Name: "展示会 2026 春 ブース来場者",
		Description: "東京ビッグサイト「営業DX EXPO」で名刺交換した方"})
	if err != nil {
		return fmt.Errorf("demo.LoadSegments: %w", err)
	}
	// Every 25th lead met us at the booth.
	rows, err := d.Reader().QueryContext(ctx, `SELECT id FROM contacts WHERE workspace_id = ? AND lifecycle_stage IN ('lead', 'mql') ORDER BY id`, ws)
	if err != nil {
		return err
	}
	var ids []int64
	for i := 0; rows.Next(); i++ {
		var id int64
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return err
		}
		if i%25 == 0 {
			ids = append(ids, id)
		}
	}
	rows.Close()
	if len(ids) > 0 {
		if _, err := svc.AddToList(ctx, mkt, booth.ID, ids); err != nil {
			return fmt.Errorf("demo.LoadSegments: %w", err)
		}
	}
	type cond = segments.Condition
	for _, sg := range []struct {
		name, desc string
		groups     [][]cond
	}{
		{"料金ページを検討中のリード", "直近30日で料金ページを2回以上見た、まだ顧客でない人",
			[][]cond{{{Field: "visited_page", Op: "at_least", Count: 2, Days: 30, Path: "/pricing"}, {Field: "lifecycle_stage", Op: "neq", Value: "customer"}}}},
		{"IT業界の高適合リード", "情報通信業で適合度 A、または従業員300名以上で適合度 A・B",
			[][]cond{{{Field: "company.industry", Op: "eq", Value: "情報通信業"}, {Field: "fit_grade", Op: "eq", Value: "A"}},
				{{Field: "company.employees", Op: "gte", Value: "300"}, {Field: "fit_score", Op: "gte", Value: "40"}}}},
		{"ウェビナー・展示会フォロー対象", "90日以内にフォームを送信した人、または展示会ブースの来場者（顧客を除く）",
			[][]cond{{{Field: "form_submit", Op: "at_least", Count: 1, Days: 90}, {Field: "lifecycle_stage", Op: "neq", Value: "customer"}},
				{{Field: "list", Op: "in", Value: fmt.Sprint(booth.ID)}, {Field: "lifecycle_stage", Op: "neq", Value: "customer"}}}},
	} {
		def := segments.Definition{}
		for _, g := range sg.groups {
			def.Groups = append(def.Groups, segments.Group{Conditions: g})
		}
		raw, _ := json.Marshal(def)
		s, err := svc.CreateSegment(ctx, mkt, segments.SegmentInput{Name: sg.name, Description: sg.desc, Definition: raw})
		if err != nil {
			return fmt.Errorf("demo.LoadSegments(%s): %w", sg.name, err)
		}
		if err := svc.RefreshSegment(ctx, ws, s.ID); err != nil {
			return fmt.Errorf("demo.LoadSegments(%s): %w", sg.name, err)
		}
	}
	return nil
}
