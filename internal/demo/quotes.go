package demo

import (
	"fmt"
	"math"
	"time"

	"github.com/ryorin/ryorin/internal/db"
	"github.com/ryorin/ryorin/internal/platform"
	"github.com/ryorin/ryorin/internal/sales"
	"github.com/ryorin/ryorin/internal/sales/quotemail"
	"github.com/ryorin/ryorin/internal/salesmail"
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
		if n == 0 {
			l.clk.Set(l.end.Add(-days(3))) // the quote that is sent and viewed
		}
		if _, err := svc.IssueQuote(l.ctx, a, d.id, sales.IssueInput{}); err != nil {
			return fmt.Errorf("deal %d quote: %w", d.id, err)
		}
		if n == 0 {
			if err := l.sendDemoQuote(svc, d); err != nil {
				return err
			}
		}
		if n++; n == 5 {
			break
		}
	}
	return l.loadCompetitorPrices()
}

// demoBaseURL is where `ryorin serve --demo` listens by default, so the link
// in the logged quote email opens the public quote page.
const demoBaseURL = "http://127.0.0.1:8080"

// sendDemoQuote mails deal d's quote to its first contact with an address
// and lets the customer view it twice, a day apart (two views on the deal's
// timeline, two notifications to its owner). The mail is marked sent with
// the sequences' mails, as the demo has no SMTP server.
func (l *loader) sendDemoQuote(svc *sales.Service, d *deal) error {
	defer l.clk.Set(l.end)
	var to *contact
	for _, c := range d.contacts {
		if c.email != "" && to == nil {
			to = c
		}
	}
	if to == nil {
		return nil
	}
	jobs := platform.NewJobs(l.d, l.clk, nil)
	sm := salesmail.New(l.d, l.clk, l.crm, &platform.Mailer{DB: l.d, Clock: l.clk, Jobs: jobs}, nil)
	qm := quotemail.New(l.d, l.clk, l.crm, svc, sm, &platform.Notifier{DB: l.d, Clock: l.clk, Jobs: jobs})
	l.clk.Advance(time.Hour)
	sent, err := qm.Send(l.ctx, l.admin.actor(), d.id, quotemail.SendInput{Version: 1, ContactID: to.id, BaseURL: demoBaseURL, IdempotencyKey: "demo:quote"})
	if err != nil {
		return fmt.Errorf("deal %d send quote: %w", d.id, err)
	}
	w, err := platform.GetWorkspace(l.ctx, l.d.Reader(), ws)
	if err != nil {
		return err
	}
	for _, after := range []time.Duration{days(1), days(1) + 2*time.Hour} {
		l.clk.Set(l.end.Add(-days(3)).Add(after))
		tok, err := quotemail.SignView(w.SigningKey(), sent.ID, l.clk.Now())
		if err != nil {
			return err
		}
		if _, err := qm.View(l.ctx, ws, tok); err != nil {
			return fmt.Errorf("deal %d view quote: %w", d.id, err)
		}
	}
	return nil
}

// loadCompetitorPrices gives the closed yen deals fought against a
// competitor one line item whose total is their amount, with a list price
// and a discount typical of that competitor (some push prices harder), so
// the competitors page has average discounts to compare. The lines are
// written directly: saving them through sales.SaveLineItems would re-derive
// the deals' amounts and recurring figures, which the reports of closed
// business already show as they are.
func (l *loader) loadCompetitorPrices() error {
	rows, err := l.d.Reader().QueryContext(l.ctx, `SELECT d.id, MIN(dc.competitor_id), d.amount FROM deals d
		JOIN deal_competitors dc ON dc.workspace_id = d.workspace_id AND dc.deal_id = d.id
		WHERE d.workspace_id = ? AND d.status IN ('won', 'lost') AND d.currency = 'JPY' AND d.amount > 0
			AND NOT EXISTS (SELECT 1 FROM deal_line_items li WHERE li.workspace_id = d.workspace_id AND li.deal_id = d.id)
		GROUP BY d.id, d.amount ORDER BY d.id`, ws)
	if err != nil {
		return err
	}
	type closed struct{ id, comp, amount int64 }
	var list []closed
	for rows.Next() {
		var c closed
		if err := rows.Scan(&c.id, &c.comp, &c.amount); err != nil {
			rows.Close()
			return err
		}
		list = append(list, c)
	}
	if err := rows.Close(); err != nil {
		return err
	}
	typical := map[int64]float64{}
	for i, id := range l.competitors {
		typical[id] = []float64{0.06, 0.14, 0.09, 0.18, 0.11}[i%5]
	}
	return l.d.Write(l.ctx, "demo.competitorPrices", func(tx *db.Tx) error {
		for _, c := range list {
			p := typical[c.comp] + (l.rng.Float64()-0.5)*0.04
			price := int64(math.Round(float64(c.amount) / (1 - p)))
			if _, err := tx.ExecContext(l.ctx, `INSERT INTO deal_line_items (workspace_id, deal_id, position, description, quantity_milli, unit_price,
				discount_kind, discount_value, billing, tax_category) VALUES (?, ?, 0, ?, 1000, ?, 'amount', ?, 'one_time', 'standard')`,
				ws, c.id, "Ryorin クラウド 導入一式", price, price-c.amount); err != nil {
				return fmt.Errorf("deal %d lines: %w", c.id, err)
			}
		}
		return nil
	})
}
