package demo

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/ryorin/ryorin/internal/db"
	"github.com/ryorin/ryorin/internal/marketing/email"
	"github.com/ryorin/ryorin/internal/marketing/interest"
	"github.com/ryorin/ryorin/internal/platform"
)

// LoadEmail adds the interest topic rules for the demo site's pages, some
// content views with topics (as the content library records them), and a
// draft campaign built from blocks whose case study varies by each
// recipient's top interest, whose closing note varies by segment and which
// offers the library's white paper as a content card. It runs after
// LoadSegments.
func LoadEmail(ctx context.Context, d *db.DB, es *email.Service, now time.Time) error {
	u, err := platform.UserByEmail(ctx, d.Reader(), ws, "sakura.ito@demo.ryorin.example")
	if err != nil {
		return fmt.Errorf("demo.LoadEmail: %w", err)
	}
	mkt := u.Actor(ws, platform.ActorUser)
	if err := interest.SetRules(ctx, d, mkt, []interest.Rule{{Prefix: "/pricing", Topic: "pricing"}, {Prefix: "/case-studies", Topic: "case_studies"},
		{Prefix: "/features", Topic: "features"}, {Prefix: "/blog", Topic: "blog"}, {Prefix: "/security", Topic: "security"}}, now); err != nil {
		return fmt.Errorf("demo.LoadEmail: %w", err)
	}
	if err := contentViews(ctx, d, now); err != nil {
		return fmt.Errorf("demo.LoadEmail: %w", err)
	}
	var follow, itFit int64
	if err := d.Reader().QueryRowContext(ctx, `SELECT id FROM segments WHERE workspace_id = ? AND name = ?`, ws, "ウェビナー・展示会フォロー対象").Scan(&follow); err != nil {
		return fmt.Errorf("demo.LoadEmail: %w", err)
	}
	if err := d.Reader().QueryRowContext(ctx, `SELECT id FROM segments WHERE workspace_id = ? AND name = ?`, ws, "IT業界の高適合リード").Scan(&itFit); err != nil {
		return fmt.Errorf("demo.LoadEmail: %w", err)
	}
	// The content library's white paper closes the mail as a card: each
	// recipient's button is their own share link, so a view lands on their
	// timeline. Without the library (an older demo) the card is left out.
	var paper int64
	err = d.Reader().QueryRowContext(ctx, `SELECT id FROM content_assets WHERE workspace_id = ? AND kind = 'white_paper' AND status = 'published' ORDER BY id LIMIT 1`, ws).Scan(&paper)
	if err != nil && !db.NoRows(err) {
		return fmt.Errorf("demo.LoadEmail: %w", err)
	}
	const utm = "?utm_source=ryorin&utm_medium=email&utm_campaign=may-interest"
	type B = email.Block
	caseColumn := func(name, result, path string) []B {
		return []B{{Type: email.BlockHeading, Text: name}, {Type: email.BlockText, Text: result},
			{Type: email.BlockButton, Label: "事例を読む", URL: "https://demo.ryorin.example" + path + utm}}
	}
	doc := email.BlockDoc{Blocks: []B{
		{Type: email.BlockHeading, Text: "{{Salutation}}"},
		{Type: email.BlockText, Text: "いつも両輪をご利用いただきありがとうございます。\n\n{{GivenName|皆様}}のご関心に合わせて、今月おすすめの内容をお送りします。"},
		{Type: email.BlockVariant, By: email.VariantByInterest, Options: []email.VariantOption{
			{Topic: "pricing", Blocks: []B{
				{Type: email.BlockText, Text: "料金プランをご検討中の方へ：年間契約で最大 20% お得になるキャンペーンを実施中です。"},
				{Type: email.BlockButton, Label: "料金プランを見る", URL: "https://demo.ryorin.example/pricing" + utm}}},
			{Topic: "case_studies", Blocks: []B{
				{Type: email.BlockText, Text: "同じ課題を解決したお客様の事例です。"},
				{Type: email.BlockColumns, Columns: [][]B{
					caseColumn("製造業 A 社", "展示会リードの追客を自動化し、商談化率が 1.8 倍に。", "/case-studies/manufacturing"),
					caseColumn("SaaS B 社", "スコアリングで架電先を絞り込み、受注までの期間を 30% 短縮。", "/case-studies/saas")}}}},
		}, Default: []B{
			{Type: email.BlockText, Text: "営業とマーケティングの連携に役立つ記事をまとめました。"},
			{Type: email.BlockButton, Label: "ブログを読む", URL: "https://demo.ryorin.example/blog/ma-sfa-integration" + utm}}},
		{Type: email.BlockDivider},
		{Type: email.BlockVariant, By: email.VariantBySegment, Options: []email.VariantOption{
			{SegmentID: itFit, Blocks: []B{{Type: email.BlockText, Text: "情報通信業の皆様向けに、API 連携の個別相談会も開催しています。"}}}}},
		{Type: email.BlockSpacer, Height: 16},
	}}
	if paper != 0 {
		doc.Blocks = append(doc.Blocks[:len(doc.Blocks)-1], B{Type: email.BlockContent, AssetID: paper, Label: "無料でダウンロード"},
			doc.Blocks[len(doc.Blocks)-1])
	}
	raw, err := json.Marshal(doc)
	if err != nil {
		return err
	}
	_, err = es.Create(ctx, mkt, email.CampaignInput{Name: "5月のご案内（関心別の出し分け）", AudienceKind: email.AudienceSegment, AudienceID: follow,
		Template: email.Template{Subject: "{{.Salutation}} 5月のおすすめ情報"}, Blocks: raw, Topics: []string{"pricing", "case_studies"}})
	if err != nil {
		return fmt.Errorf("demo.LoadEmail: campaign: %w", err)
	}
	return nil
}

// contentViews records white-paper and case-study views with their topics
// for every 7th lead, as the content library does.
func contentViews(ctx context.Context, d *db.DB, now time.Time) error {
	rows, err := d.Reader().QueryContext(ctx, `SELECT id FROM contacts WHERE workspace_id = ? AND lifecycle_stage IN ('lead', 'mql', 'sql') ORDER BY id`, ws)
	if err != nil {
		return err
	}
	var in []platform.EventInput
	topics := [][]string{{"case_studies", "manufacturing"}, {"security"}, {"case_studies", "saas"}, {"features"}}
	for i := 0; rows.Next(); i++ {
		var id int64
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return err
		}
		if i%7 != 0 {
			continue
		}
		at := now.Add(-time.Duration(i%45) * 24 * time.Hour)
		in = append(in, platform.EventInput{ID: fmt.Sprintf("demo-content-%d", id), Kind: platform.EventContentView, ContactID: id, OccurredAt: &at,
			Properties: map[string]any{"topics": topics[(i/7)%len(topics)]}})
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for i := 0; i < len(in); i += 500 {
		part := in[i:min(i+500, len(in))]
		if err := d.Write(ctx, "demo.contentViews", func(tx *db.Tx) error {
			_, _, err := platform.StoreEvents(ctx, tx, ws, part, now)
			return err
		}); err != nil {
			return err
		}
	}
	return nil
}
