package demo

import (
	"fmt"

	"github.com/ryorin/ryorin/internal/sales"
)

// loadQuotes sets up a small price list and the seller on quotes, and gives
// the first few open deals line items and an issued quote, so the deal page
// shows both. Discounts stay under the approval threshold.
func (l *loader) loadQuotes() error {
	svc := sales.New(l.d, l.clk, nil, nil)
	svc.CRM = l.crm
	a := l.admin.actor()
	s := func(v string) *string { return &v }
	f := func(v float64) *float64 { return &v }
	var ids []int64
	for _, in := range []sales.ProductInput{
		{Code: s("RY-CLOUD-Y"), Name: s("Ryorin クラウド 年間ライセンス（10ユーザー）"), UnitPrice: f(360000), Billing: s("year")},
		{Code: s("RY-CLOUD-M"), Name: s("Ryorin クラウド 月額（追加1ユーザー）"), UnitPrice: f(3000), Billing: s("month")},
		{Code: s("RY-SETUP"), Name: s("導入支援パック（初期設定・操作研修）"), UnitPrice: f(500000)},
		{Code: s("RY-SUPPORT"), Name: s("プレミアムサポート（年間）"), UnitPrice: f(120000), Billing: s("year")},
		{Code: s("GIFT-TEA"), Name: s("キックオフ用 お茶・菓子セット"), UnitPrice: f(1080), TaxCategory: s("reduced")},
	} {
		p, err := svc.CreateProduct(l.ctx, a, in)
		if err != nil {
			return fmt.Errorf("product %s: %w", *in.Code, err)
		}
		ids = append(ids, p.ID)
	}
	if _, err := svc.SaveQuoteSettings(l.ctx, a, sales.QuoteSettings{SellerName: "株式会社両輪デモ", SellerAddress: "東京都千代田区丸の内1-1-1",
		RegistrationNumber: "T1234567890123", ValidDays: 30, ApprovalDiscountPct: 15}); err != nil {
		return err
	}
	n := 0
	for i, d := range l.deals {
		if d.won || d.lost || d.co == nil || d.id == 0 {
			continue
		}
		if cur, err := l.crm.GetDeal(l.ctx, l.d.Reader(), a, d.id); err != nil {
			return err
		} else if cur.Currency != "JPY" {
			continue // the price list is in yen
		}
		lines := []sales.LineItemInput{
			{ProductID: ids[0], Quantity: float64(1 + i%3), DiscountKind: "percent", Discount: 10},
			{ProductID: ids[2], Quantity: 1},
			{ProductID: ids[4], Quantity: 12},
		}
		if i%2 == 0 {
			lines = append(lines, sales.LineItemInput{ProductID: ids[1], Quantity: 5}, sales.LineItemInput{Description: s("オンサイト研修 追加1日"), Quantity: 1, UnitPrice: f(150000)})
		}
		if _, _, err := svc.SaveLineItems(l.ctx, a, d.id, lines); err != nil {
			return fmt.Errorf("deal %d lines: %w", d.id, err)
		}
		if _, err := svc.IssueQuote(l.ctx, a, d.id, sales.IssueInput{}); err != nil {
			return fmt.Errorf("deal %d quote: %w", d.id, err)
		}
		if n++; n == 5 {
			break
		}
	}
	return nil
}
