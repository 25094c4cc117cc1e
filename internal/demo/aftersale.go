package demo

import (
	"fmt"

	"github.com/ryorin/ryorin/internal/crm"
	"github.com/ryorin/ryorin/internal/platform"
	"github.com/ryorin/ryorin/internal/sales"
)

// loadAfterSale shows what happens after the sale: last year's annual
// contracts of existing customers renew over the coming months (those within
// the 90-day lead time already have their renewal deal and task), and a
// handful of customer issues in every status.
func (l *loader) loadAfterSale() error {
	defer l.clk.Set(l.end)
	n := &platform.Notifier{DB: l.d, Clock: l.clk, Jobs: platform.NewJobs(l.d, l.clk, nil)}
	svc := sales.New(l.d, l.clk, nil, n)
	svc.CRM = l.crm
	var customers []*company
	for _, c := range l.companies {
		if c.existing && c.id != 0 && len(c.customers) > 0 {
			customers = append(customers, c)
		}
	}
	_, won, _ := stagesOf(l.morePipeline)
	// Days from now to each contract's renewal date.
	renewIn := []int{12, 33, 58, 81, 104, 131, 158, 176}
	for i, c := range customers[:min(len(customers), len(renewIn))] {
		l.clk.Set(l.end.Add(-days(365) + days(float64(renewIn[i]))))
		price := planPrice[c.plan][0] * 12
		cur := "JPY"
		name := c.short + " - 年間契約"
		if c.en {
			price, cur, name = planPrice[c.plan][1]*12, "USD", c.short+" - annual contract"
		}
		in := crm.DealInput{Name: &name, Type: ptr("renewal"), PipelineID: ptr(l.morePipeline.ID), StageID: ptr(won.ID), OwnerID: ptr(c.owner.u.ID),
			CompanyID: ptr(c.id), Currency: ptr(cur), Amount: ptr(price), RecurringAmount: ptr(price), RecurringInterval: ptr("year"), TermMonths: ptr(12),
			Contacts: &[]crm.DealContact{{ContactID: c.customers[0].id, Role: "decision_maker"}}}
		if _, err := l.crm.CreateDeal(l.ctx, c.owner.actor(), in); err != nil {
			return fmt.Errorf("last year's contract: %w", err)
		}
	}
	l.clk.Set(l.end)
	if _, err := svc.CreateRenewals(l.ctx, ws, 100); err != nil {
		return fmt.Errorf("renewals: %w", err)
	}
	// Customer issues, logged by the admin (so account owners are told),
	// some worked on or resolved since.
	type issue struct {
		ago                               float64 // days
		subject, body, category, priority string
		status                            string
		enSubject                         string
	}
	issues := []issue{
		{0.2, "ログインできないユーザーがいる", "本日朝から一部ユーザーがSSOでログインできないとの連絡。", "trouble", "urgent", "open", "Some users cannot sign in"},
		{1.5, "請求書の金額が見積と異なる", "先月分の請求書にオプション料金が二重計上されているとのご指摘。", "complaint", "high", "in_progress", "Invoice differs from the quote"},
		{2.5, "CSVインポートの文字化けについて", "Shift_JISのファイルを取り込む手順を知りたい。", "question", "normal", "waiting", "Garbled characters in a CSV import"},
		{4, "ダッシュボードに部署別の集計がほしい", "", "request", "low", "open", "Per-department totals on the dashboard"},
		{6, "メール配信の上限について", "月間配信数の上限と追加料金を確認したい。", "question", "normal", "resolved", "Email sending limits"},
		{9, "研修日程の再調整", "", "request", "normal", "resolved", "Rescheduling the training"},
	}
	admin := l.admin.actor()
	for i, x := range issues {
		if len(customers) == 0 {
			break
		}
		c := customers[i%len(customers)]
		l.clk.Set(l.end.Add(-days(x.ago)))
		subject := x.subject
		if c.en {
			subject = x.enSubject
		}
		in := sales.CustomerIssueInput{Subject: &subject, Body: ptr(x.body), Category: ptr(x.category), Priority: ptr(x.priority), CompanyID: ptr(c.id)}
		if i%2 == 0 {
			in.ContactID = ptr(c.customers[0].id)
		}
		got, err := svc.CreateIssue(l.ctx, admin, in)
		if err != nil {
			return fmt.Errorf("issue %q: %w", subject, err)
		}
		if x.status == "open" {
			continue
		}
		l.clk.Set(l.end.Add(-days(x.ago / 2)))
		if _, err := svc.UpdateIssue(l.ctx, c.owner.actor(), got.ID, sales.CustomerIssueInput{Status: ptr(x.status)}); err != nil {
			return fmt.Errorf("issue %q: %w", subject, err)
		}
	}
	return nil
}
