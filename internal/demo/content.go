package demo

import (
	"fmt"
	"strings"
	"time"

	"github.com/ryorin/ryorin/internal/marketing/content"
	mkforms "github.com/ryorin/ryorin/internal/marketing/forms"
	"github.com/ryorin/ryorin/internal/platform"
)

// checklist is the demo's uploaded file: a short plain-text checklist.
const checklist = `MA×SFA 連携 導入チェックリスト

1. リードの定義（MQL/SQL）をマーケティングと営業で合意した
2. 初回対応のSLA（例：MQLは1営業日以内に架電）を決めた
3. スコアリングの項目と閾値を決めた
4. 失注・保留リードをナーチャリングに戻すルールを決めた
5. 月次で両部門の数字を一緒に見る会議を設定した
`

// loadContent fills the content library: case studies, a white paper
// gated behind the demo's download form, slides, a battle card, and an
// uploaded checklist; then reps share them with their contacts, who view
// them (content_view events on the timeline, notifications to owners).
func (l *loader) loadContent() error {
	n := &platform.Notifier{DB: l.d, Clock: l.clk, Log: l.log}
	svc := content.New(l.d, l.clk, l.crm, n, l.log)
	mkt := l.user("mkt1").actor()
	l.clk.Set(l.end.Add(-55 * 24 * time.Hour))
	var paperForm int64
	fs, err := mkforms.New(l.d, l.clk, l.crm, nil, l.log).List(l.ctx, mkt)
	if err != nil {
		return err
	}
	for _, f := range fs {
		if strings.HasPrefix(f.Name, "ホワイトペーパー") {
			paperForm = f.ID
		}
	}
	items := []struct {
		in   content.AssetInput
		file string
	}{
		{in: content.AssetInput{Kind: "case_study", Title: "導入事例：東邦精機工業 ― 営業とマーケの数字を一本化し商談化率1.8倍",
			Description: "展示会で獲得したリードの追客が属人化していた製造業のお客様が、リード定義とSLAを両部門で合意し、商談化率を1.8倍に伸ばした事例です。",
			URL:         "https://www.ryorin-cloud.example/cases/toho-seiki", Topics: []string{"製造業", "展示会", "リード管理"}, Industry: "製造業", Stage: "decision"}},
		{in: content.AssetInput{Kind: "case_study", Title: "導入事例：みなと不動産 ― インサイドセールス立ち上げ3か月で月40商談",
			Description: "反響営業中心だった不動産会社が、インサイドセールスを新設し、Webの閲覧履歴を使った架電で商談数を安定させた事例です。",
			URL:         "https://www.ryorin-cloud.example/cases/minato-fudosan", Topics: []string{"インサイドセールス", "不動産"}, Industry: "不動産", Stage: "consideration"}},
		{in: content.AssetInput{Kind: "white_paper", Title: "ホワイトペーパー「MAとSFA連携の教科書」",
			Description: "マーケティングが「種をまき」、営業が「刈り取る」。両輪で成果を出すためのリード定義、スコアリング、SLAの決め方を解説します。",
			URL:         "https://www.ryorin-cloud.example/whitepaper/ma-sfa.pdf", Topics: []string{"MA", "SFA連携", "リード管理"}, Stage: "awareness", FormID: paperForm}},
		{in: content.AssetInput{Kind: "slides", Title: "製品紹介資料（2026年版）",
			Description: "Ryorin Cloud の機能と料金の概要。初回商談でご説明する資料です。",
			URL:         "https://www.ryorin-cloud.example/docs/product-deck-2026.pdf", Topics: []string{"製品紹介", "料金"}, Stage: "consideration"}},
		{in: content.AssetInput{Kind: "slides", Title: "比較資料：Salesforce と Ryorin Cloud",
			Description: "機能・価格・導入期間の比較。競合比較を求められた商談で使うバトルカードです。",
			URL:         "https://www.ryorin-cloud.example/docs/compare-salesforce.pdf", Topics: []string{"競合比較", "料金"}, Stage: "decision"}},
		{in: content.AssetInput{Kind: "other", Title: "MA×SFA 連携 導入チェックリスト",
			Description: "導入前に両部門で確認しておきたい5項目。", Topics: []string{"SFA連携", "リード管理"}, Stage: "consideration"}, file: "導入チェックリスト.txt"},
	}
	var assets []content.Asset
	for i, it := range items {
		l.clk.Set(l.end.Add(-time.Duration(55-i*3) * 24 * time.Hour))
		it.in.Status = content.StatusPublished
		var f *content.File
		if it.file != "" {
			f = &content.File{Name: it.file, ContentType: "text/plain; charset=utf-8", Data: []byte(checklist)}
		}
		x, err := svc.Create(l.ctx, mkt, it.in, f)
		if err != nil {
			return fmt.Errorf("asset %q: %w", it.in.Title, err)
		}
		assets = append(assets, x)
	}
	if len(l.competitors) > 0 {
		if err := svc.LinkBattleCard(l.ctx, l.user("mkt_mgr").actor(), l.competitors[0], assets[4].ID, true); err != nil {
			return err
		}
	}
	// Reps share case studies and slides with their contacts over the last
	// month; most open the link, some twice.
	shared := 0
	for _, p := range l.contacts {
		if shared >= l.n(16) {
			break
		}
		if p.owner == nil || p.owner.u.Role != platform.RoleSales || p.created.After(l.end.Add(-35*24*time.Hour)) || !l.chance(0.25) {
			continue
		}
		shared++
		x := assets[pick(l.rng, []int{0, 1, 3, 4, 5})]
		at := l.workTime(l.end.Add(-30*24*time.Hour), l.end.Add(-2*time.Hour))
		l.clk.Set(at)
		link, err := svc.TrackedURL(l.ctx, ws, x.ID, p.id, p.owner.u.ID, "")
		if err != nil {
			return err
		}
		tok := strings.TrimPrefix(link, content.SharePath(""))
		views := l.weighted([]int{2, 6, 2})
		for v := 0; v < views; v++ {
			l.clk.Set(minTime(at.Add(time.Duration(l.intn(20, 600))*time.Minute*time.Duration(v+1)), l.end.Add(-time.Minute)))
			if _, err := svc.OpenShare(l.ctx, ws, tok, ""); err != nil {
				return err
			}
		}
	}
	// Anonymous visitors on the open public pages.
	for i := 0; i < l.n(25); i++ {
		x := assets[pick(l.rng, []int{0, 1, 3, 5})]
		l.clk.Set(l.between(l.end.Add(-40*24*time.Hour), l.end.Add(-time.Hour)))
		if _, err := svc.OpenPublic(l.ctx, ws, x.Key, ""); err != nil {
			return err
		}
	}
	return nil
}
