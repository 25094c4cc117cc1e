package demo

import (
	"fmt"
	"net/url"
	"time"

	"github.com/ryorin/ryorin/internal/i18n"
	mkforms "github.com/ryorin/ryorin/internal/marketing/forms"
)

// loadForms builds the demo's two forms (a white-paper download and a
// webinar sign-up) and posts submissions to them over the last two months,
// through the forms service like a visitor would: some from known contacts
// (their record is updated), most from new people (a contact is created,
// with consent when they ticked the box).
func (l *loader) loadForms() error {
	svc := mkforms.New(l.d, l.clk, l.crm, nil, l.log)
	mkt := l.user("mkt1").actor()
	l.clk.Set(l.end.Add(-70 * 24 * time.Hour))
	paper, err := svc.Create(l.ctx, mkt, mkforms.FormInput{Name: "ホワイトペーパー「MAとSFA連携の教科書」ダウンロード",
		Fields: []mkforms.Field{{Key: "email", Required: true}, {Key: "family_name", Required: true}, {Key: "given_name", Required: true},
			{Key: "family_name_kana"}, {Key: "given_name_kana"}, {Key: "company", Required: true}, {Key: "department"}, {Key: "title"},
			{Key: "phone"}, {Key: "prefecture"}},
		ConsentEnabled: true, ConsentTextJA: "Ryorin Cloud からのお知らせメール（製品情報・セミナー案内）の受信に同意します。配信はいつでも停止できます。",
		ConsentTextEN: "I agree to receive emails from Ryorin Cloud (product news and seminars). I can unsubscribe at any time.",
		ThanksJA:      "ダウンロードのお申し込みありがとうございます。資料のURLをメールでお送りしました。",
		ThanksEN:      "Thank you. We have emailed you the link to the white paper.", AllowedDomains: []string{"ryorin-cloud.example"}})
	if err != nil {
		return fmt.Errorf("form: %w", err)
	}
	webinar, err := svc.Create(l.ctx, mkt, mkforms.FormInput{Name: "ウェビナー申込：インサイドセールス立ち上げ実践",
		Fields: []mkforms.Field{{Key: "email", Required: true}, {Key: "family_name", Required: true}, {Key: "given_name"},
			{Key: "company", Required: true}, {Key: "title"}},
		ConsentEnabled: true, ConsentRequired: true, ConsentTextJA: "セミナーの運営に関するご連絡と、Ryorin Cloud からのご案内メールの受信に同意します。",
		ConsentTextEN: "I agree to receive emails about the seminar and news from Ryorin Cloud.",
		RedirectURL:   "https://www.ryorin-cloud.example/webinar/thanks", AllowedDomains: []string{"ryorin-cloud.example"}})
	if err != nil {
		return fmt.Errorf("form: %w", err)
	}
	pages := map[int64]string{paper.ID: "https://www.ryorin-cloud.example/whitepaper/ma-sfa", webinar.ID: "https://www.ryorin-cloud.example/webinar/inside-sales"}
	utms := []struct{ source, medium, campaign string }{{"google", "cpc", "wp_ma_sfa"}, {"newsletter", "email", "2026_spring"},
		{"linkedin", "social", "webinar_is"}, {"", "", ""}}
	post := func(f mkforms.Form, at time.Time, v url.Values) error {
		l.clk.Set(at)
		tok, err := svc.RenderToken(l.ctx, f)
		if err != nil {
			return err
		}
		u := pick(l.rng, utms)
		page := pages[f.ID]
		if u.source != "" {
			page += "?utm_source=" + u.source + "&utm_medium=" + u.medium + "&utm_campaign=" + u.campaign
		}
		v.Set(mkforms.InputToken, tok)
		v.Set(mkforms.InputPageURL, page)
		v.Set(mkforms.InputVisitor, fmt.Sprintf("demo-v-%d", l.rng.IntN(1_000_000)))
		l.clk.Set(at.Add(time.Duration(l.intn(25, 180)) * time.Second))
		out, err := svc.Submit(l.ctx, mkforms.SubmitRequest{Workspace: ws, Key: f.Key, Values: v, Lang: i18n.JA, IP: "192.0.2.10"})
		if err != nil {
			return err
		}
		if out.Errors != nil || out.Spam {
			return fmt.Errorf("demo submission refused: %v", out.Errors)
		}
		return nil
	}
	n := l.n(14)
	for i := 0; i < n; i++ {
		fam, giv := pick(l.rng, familyNames), pick(l.rng, givenNames)
		at := l.workTime(l.end.Add(-60*24*time.Hour), l.end.Add(-time.Hour))
		v := url.Values{"email": {l.uniqueEmail(giv.roman+"."+fam.roman, fmt.Sprintf("lead%02d.example", i%7))}, "family_name": {fam.ja},
			"given_name": {giv.ja}, "family_name_kana": {fam.kana}, "given_name_kana": {giv.kana}, "company": {pick(l.rng, formCompanies)},
			"title": {pick(l.rng, []string{"部長", "課長", "マネージャー", "担当"})}, "prefecture": {pick(l.rng, []string{"東京都", "大阪府", "愛知県", "福岡県", "神奈川県"})}}
		if l.chance(0.7) {
			v.Set(mkforms.InputConsent, "1")
		}
		f := paper
		if i%3 == 2 {
			f = webinar
			v.Set(mkforms.InputConsent, "1")
		}
		if err := post(f, at, v); err != nil {
			return fmt.Errorf("submission %d: %w", i, err)
		}
	}
	// Known people come back for the webinar: their record is updated, not duplicated.
	for i := 0; i < l.n(4) && i < len(l.contacts); i++ {
		p := l.contacts[(i*37)%len(l.contacts)]
		if p.email == "" || p.co == nil {
			continue
		}
		at := l.workTime(l.end.Add(-30*24*time.Hour), l.end.Add(-time.Hour))
		if err := post(webinar, at, url.Values{"email": {p.email}, "family_name": {p.family}, "given_name": {p.given}, "company": {p.co.name},
			mkforms.InputConsent: {"1"}}); err != nil {
			return fmt.Errorf("returning contact %s: %w", p.email, err)
		}
	}
	l.clk.Set(l.end)
	return nil
}

// formCompanies are the prospects who download the white paper.
var formCompanies = []string{"株式会社ミナトロジテック", "さくら精機株式会社", "株式会社アオバ食品", "ひかりソリューションズ株式会社",
	"株式会社北斗メディカル", "株式会社つばさ不動産", "みらい建設株式会社"}
