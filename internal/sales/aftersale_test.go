package sales_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ryorin/ryorin/internal/crm"
	"github.com/ryorin/ryorin/internal/db"
	"github.com/ryorin/ryorin/internal/dbtest"
	"github.com/ryorin/ryorin/internal/errs"
	"github.com/ryorin/ryorin/internal/platform"
	"github.com/ryorin/ryorin/internal/sales"
)

// wonRecurring creates a deal won at the clock's time with a monthly
// recurring amount.
func (w *world) wonRecurring(t *testing.T, name string, monthly float64, term int) crm.Deal {
	t.Helper()
	ctx := context.Background()
	p, err := w.cs.DefaultPipeline(ctx, w.d.Reader(), 1)
	if err != nil {
		t.Fatal(err)
	}
	var won int64
	for _, st := range p.Stages {
		if st.Kind == "won" {
			won = st.ID
		}
	}
	iv := "month"
	d, err := w.cs.CreateDeal(ctx, w.rep, crm.DealInput{Name: &name, PipelineID: &p.ID, StageID: &won, CompanyID: &w.deal.CompanyID,
		OwnerID: &w.rep.UserID, RecurringAmount: &monthly, RecurringInterval: &iv, TermMonths: &term, Contacts: &[]crm.DealContact{{ContactID: w.contact.ID, Role: "champion"}}})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func (w *world) count(t *testing.T, query string, args ...any) int {
	t.Helper()
	var n int
	if err := w.d.Reader().QueryRowContext(context.Background(), query, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestRenewalDate_IsCloseDatePlusTermOrAYear(t *testing.T) {
	closed := time.Date(2025, 3, 31, 20, 0, 0, 0, time.UTC) // 1 April in Tokyo
	for _, c := range []struct {
		name string
		d    crm.Deal
		want string
	}{
		{"close date plus term", crm.Deal{Status: "won", RecurringAmount: 1, CloseDate: "2025-06-15", TermMonths: 6}, "2025-12-15"},
		{"no term means twelve months", crm.Deal{Status: "won", RecurringAmount: 1, CloseDate: "2025-06-15"}, "2026-06-15"},
		{"closed_at day in the workspace's zone without a close date", crm.Deal{Status: "won", RecurringAmount: 1, ClosedAt: &closed, TermMonths: 24}, "2027-04-01"},
		{"open deals do not renew", crm.Deal{Status: "open", RecurringAmount: 1, CloseDate: "2025-06-15"}, ""},
		{"one-off deals do not renew", crm.Deal{Status: "won", CloseDate: "2025-06-15"}, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, ok := sales.RenewalDate(c.d, jst)
			if s := map[bool]string{true: got.Format(time.DateOnly)}[ok]; s != c.want {
				t.Errorf("got %q, want %q", s, c.want)
			}
		})
	}
}

func TestRenewals_CreatedOnceAheadOfTimeWithTaskAndNotification(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		w := newWorld(t, d)
		w.fc.Set(time.Date(2025, 6, 1, 10, 0, 0, 0, jst))
		soon := w.wonRecurring(t, "年間保守", 50000, 12)
		w.fc.Set(time.Date(2025, 9, 1, 10, 0, 0, 0, jst))
		later := w.wonRecurring(t, "クラウド利用", 10000, 0)
		w.fc.Set(t0) // 2026-04-01: 61 days before the first renewal, 153 before the second

		// Three runs at once, then a rerun: one renewal in all.
		var wg sync.WaitGroup
		var mu sync.Mutex
		total := 0
		for range 3 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				n, err := w.ss.CreateRenewals(ctx, 1, 100)
				if err != nil {
					t.Errorf("concurrent run: %v", err)
				}
				mu.Lock()
				total += n
				mu.Unlock()
			}()
		}
		wg.Wait()
		if total != 1 {
			t.Fatalf("concurrent runs created %d", total)
		}
		if n, err := w.ss.CreateRenewals(ctx, 1, 100); err != nil || n != 0 {
			t.Fatalf("rerun: %d %v", n, err)
		}
		if got := w.count(t, `SELECT COUNT(*) FROM deals WHERE workspace_id = 1 AND deal_type = 'renewal'`); got != 1 {
			t.Fatalf("renewal deals: %d", got)
		}
		link, err := w.ss.RenewalLinkOf(ctx, d.Reader(), 1, soon.ID)
		if err != nil || link.RenewedBy == 0 || link.RenewalDate != "2026-06-01" {
			t.Fatalf("link of the source: %+v %v", link, err)
		}
		rd, err := w.cs.GetDeal(ctx, d.Reader(), w.mgr, link.RenewedBy)
		if err != nil {
			t.Fatal(err)
		}
		p, _ := w.cs.DefaultPipeline(ctx, d.Reader(), 1)
		if rd.Type != "renewal" || rd.Amount != 600000 || rd.CloseDate != "2026-06-01" || rd.StageID != p.Stages[0].ID || rd.Status != "open" ||
			rd.OwnerID != w.rep.UserID || rd.CompanyID != soon.CompanyID || len(rd.Contacts) != 1 || rd.Contacts[0].Role != "champion" {
			t.Errorf("renewal deal: %+v", rd)
		}
		back, _ := w.ss.RenewalLinkOf(ctx, d.Reader(), 1, rd.ID)
		if back.RenewalOf != soon.ID || back.RenewalOfName != soon.Name {
			t.Errorf("link of the renewal: %+v", back)
		}
		if got := w.count(t, `SELECT COUNT(*) FROM activities WHERE workspace_id = 1 AND kind = 'task' AND deal_id = ? AND owner_id = ?`, rd.ID, w.rep.UserID); got != 1 {
			t.Errorf("renewal tasks: %d", got)
		}
		if got := w.count(t, `SELECT COUNT(*) FROM notifications WHERE workspace_id = 1 AND user_id = ? AND kind = 'deal.renewal_created'`, w.rep.UserID); got != 1 {
			t.Errorf("notifications: %d", got)
		}
		up, err := w.ss.UpcomingRenewals(ctx, w.mgr, 180)
		if err != nil || len(up) != 2 || up[0].SourceDealID != soon.ID || up[0].RenewalStatus != "open" || up[1].SourceDealID != later.ID ||
			up[1].RenewalStatus != "pending" || up[1].RenewalDate != "2026-09-01" || up[1].Amount != 120000 {
			t.Errorf("upcoming in 180 days: %+v %v", up, err)
		}
		if up, _ := w.ss.UpcomingRenewals(ctx, w.mgr, 90); len(up) != 1 {
			t.Errorf("upcoming in 90 days: %+v", up)
		}

		// The second comes due; winning the renewal makes it renew in turn.
		w.fc.Set(time.Date(2026, 6, 5, 10, 0, 0, 0, jst))
		if n, err := w.ss.CreateRenewals(ctx, 1, 100); err != nil || n != 1 {
			t.Fatalf("second renewal: %d %v", n, err)
		}
		var won int64
		for _, st := range p.Stages {
			if st.Kind == "won" {
				won = st.ID
			}
		}
		if _, err := w.cs.UpdateDeal(ctx, w.rep, rd.ID, crm.DealInput{StageID: &won}); err != nil {
			t.Fatal(err)
		}
		w.fc.Set(time.Date(2027, 3, 10, 10, 0, 0, 0, jst))
		if n, err := w.ss.CreateRenewals(ctx, 1, 100); err != nil || n != 1 {
			t.Fatalf("renewal of the renewal: %d %v", n, err)
		}
		if l, _ := w.ss.RenewalLinkOf(ctx, d.Reader(), 1, rd.ID); l.RenewalOf != soon.ID || l.RenewedBy == 0 || l.RenewalDate != "2027-06-05" {
			t.Errorf("chain: %+v", l)
		}
		// Upcoming now: the won renewal's own renewal, and the second deal's
		// renewal still open past its date; not the renewal already won.
		up, err = w.ss.UpcomingRenewals(ctx, w.mgr, 180)
		got := map[int64]string{}
		for _, u := range up {
			got[u.SourceDealID] = u.RenewalStatus
		}
		if err != nil || len(got) != 2 || got[rd.ID] != "open" || got[later.ID] != "open" {
			t.Errorf("upcoming a year on: %+v %v", up, err)
		}
	})
}

func TestRenewals_LeadDaysSettingAndLimitPerRun(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		w := newWorld(t, d)
		w.fc.Set(time.Date(2025, 5, 1, 10, 0, 0, 0, jst))
		for _, name := range []string{"A", "B", "C"} {
			w.wonRecurring(t, name, 1000, 12)
		}
		w.fc.Set(t0) // 30 days before the renewals
		if _, err := w.ss.SaveSettings(ctx, w.mgr, sales.Settings{StaleDealDays: 14, RenewalLeadDays: 20}); err != nil {
			t.Fatal(err)
		}
		if n, err := w.ss.CreateRenewals(ctx, 1, 100); err != nil || n != 0 {
			t.Fatalf("20 days ahead: %d %v", n, err)
		}
		// A change without the lead days keeps them.
		if st, err := w.ss.SaveSettings(ctx, w.mgr, sales.Settings{StaleDealDays: 10}); err != nil || st.RenewalLeadDays != 20 {
			t.Fatalf("kept lead days: %+v %v", st, err)
		}
		if _, err := w.ss.SaveSettings(ctx, w.mgr, sales.Settings{StaleDealDays: 14, RenewalLeadDays: 400}); errs.KindOf(err) != errs.Invalid {
			t.Fatalf("400 lead days: %v", err)
		}
		if _, err := w.ss.SaveSettings(ctx, w.mgr, sales.Settings{StaleDealDays: 14, RenewalLeadDays: 45}); err != nil {
			t.Fatal(err)
		}
		if n, err := w.ss.CreateRenewals(ctx, 1, 2); err != nil || n != 2 {
			t.Fatalf("limited run: %d %v", n, err)
		}
		if n, err := w.ss.CreateRenewals(ctx, 1, 2); err != nil || n != 1 {
			t.Fatalf("next run: %d %v", n, err)
		}
	})
}

func TestIssues_NotifyTheAccountOwnerOnceAndStayOpenUntilResolved(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		w := newWorld(t, d)
		w.fc.Set(t0)
		// The manager logs a trouble on the contact: the rep owns the account.
		x, err := w.ss.CreateIssue(ctx, w.mgr, sales.CustomerIssueInput{Subject: str("ログインできない"), Body: str("本日朝から"),
			ContactID: &w.contact.ID, Priority: str("urgent"), Category: str("trouble")})
		if err != nil {
			t.Fatal(err)
		}
		if x.OwnerID != w.rep.UserID || x.CompanyID != w.deal.CompanyID || x.Status != "open" || !x.Open() {
			t.Fatalf("issue: %+v", x)
		}
		notified := func() int {
			return w.count(t, `SELECT COUNT(*) FROM notifications WHERE workspace_id = 1 AND user_id = ? AND kind = 'issue.opened'`, w.rep.UserID)
		}
		if n := notified(); n != 1 {
			t.Fatalf("notifications: %d", n)
		}
		onToday := func() int {
			day, err := w.ss.TodayFor(ctx, d.Reader(), 1, w.rep.UserID, jst)
			if err != nil {
				t.Fatal(err)
			}
			return len(day.Issues)
		}
		if n := onToday(); n != 1 {
			t.Errorf("the owner's today page shows %d issues", n)
		}
		open := func() []sales.CustomerIssue {
			list, err := w.ss.ListIssues(ctx, d.Reader(), w.mgr, sales.IssueFilter{Status: "unresolved", CompanyID: w.deal.CompanyID})
			if err != nil {
				t.Fatal(err)
			}
			return list
		}
		for _, st := range []string{"in_progress", "waiting"} {
			if _, err := w.ss.UpdateIssue(ctx, w.rep, x.ID, sales.CustomerIssueInput{Status: str(st)}); err != nil {
				t.Fatal(err)
			}
			if l := open(); len(l) != 1 || l[0].Status != st {
				t.Fatalf("open while %s: %+v", st, l)
			}
		}
		w.fc.Set(t0.Add(2 * time.Hour))
		done, err := w.ss.UpdateIssue(ctx, w.rep, x.ID, sales.CustomerIssueInput{Status: str("resolved")})
		if err != nil || done.ResolvedAt == nil || !done.ResolvedAt.Equal(t0.Add(2*time.Hour)) {
			t.Fatalf("resolve: %+v %v", done, err)
		}
		if l := open(); len(l) != 0 {
			t.Errorf("still open after resolving: %+v", l)
		}
		if n := onToday(); n != 0 {
			t.Errorf("a resolved issue stays on the today page")
		}
		if n := notified(); n != 1 {
			t.Errorf("notifications after updates: %d", n)
		}
		if got := w.count(t, `SELECT COUNT(*) FROM timeline WHERE workspace_id = 1 AND contact_id = ? AND kind LIKE 'issue.%'`, w.contact.ID); got != 4 {
			t.Errorf("timeline entries: %d", got)
		}
		if got := w.count(t, `SELECT COUNT(*) FROM audit_log WHERE workspace_id = 1 AND object_type = 'customer_issue'`); got != 4 {
			t.Errorf("audit entries: %d", got)
		}
		// Reopening clears the resolved time; the counts follow.
		if x, err = w.ss.UpdateIssue(ctx, w.rep, x.ID, sales.CustomerIssueInput{Status: str("open")}); err != nil || x.ResolvedAt != nil {
			t.Fatalf("reopen: %+v %v", x, err)
		}
		if c, err := w.ss.IssueCounts(ctx, d.Reader(), w.mgr); err != nil || c["open"] != 1 || c["resolved"] != 0 {
			t.Errorf("counts: %v %v", c, err)
		}
		// Handing it to another rep, who reads English, tells them once, in English.
		en := "en"
		if _, err := platform.UpdateUser(ctx, d, platform.CLI(1), w.rep2.UserID, platform.UserPatch{Locale: &en}, w.fc.Now()); err != nil {
			t.Fatal(err)
		}
		for range 2 {
			if _, err := w.ss.UpdateIssue(ctx, w.mgr, x.ID, sales.CustomerIssueInput{OwnerID: &w.rep2.UserID}); err != nil {
				t.Fatal(err)
			}
		}
		if n := w.count(t, `SELECT COUNT(*) FROM notifications WHERE workspace_id = 1 AND user_id = ? AND kind = 'issue.opened'`, w.rep2.UserID); n != 1 {
			t.Errorf("new owner notified %d times", n)
		}
		if n := w.count(t, `SELECT COUNT(*) FROM notifications WHERE workspace_id = 1 AND user_id = ? AND title = 'New customer issue (Urgent): ログインできない'`, w.rep2.UserID); n != 1 {
			t.Errorf("the English title is missing")
		}
		if n := w.count(t, `SELECT COUNT(*) FROM notifications WHERE workspace_id = 1 AND user_id = ? AND title = '新しい問い合わせ（優先度: 緊急）: ログインできない'`, w.rep.UserID); n != 1 {
			t.Errorf("the Japanese title is missing")
		}
		// The rep logging one on their own account is not told about it.
		if _, err := w.ss.CreateIssue(ctx, w.rep, sales.CustomerIssueInput{Subject: str("請求書の再発行"), CompanyID: &w.deal.CompanyID, Category: str("request")}); err != nil {
			t.Fatal(err)
		}
		if n := notified(); n != 1 {
			t.Errorf("self-logged issue notified: %d", n)
		}
	})
}

func TestIssues_BadInputNamesTheField(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		w := newWorld(t, d)
		missing := int64(9999)
		for _, c := range []struct {
			name  string
			in    sales.CustomerIssueInput
			field string
		}{
			{"no subject", sales.CustomerIssueInput{Subject: str(" "), ContactID: &w.contact.ID}, "subject"},
			{"no customer", sales.CustomerIssueInput{Subject: str("x")}, "contact_id"},
			{"unknown priority", sales.CustomerIssueInput{Subject: str("x"), ContactID: &w.contact.ID, Priority: str("asap")}, "priority"},
			{"unknown status", sales.CustomerIssueInput{Subject: str("x"), ContactID: &w.contact.ID, Status: str("closed")}, "status"},
			{"unknown category", sales.CustomerIssueInput{Subject: str("x"), ContactID: &w.contact.ID, Category: str("bug")}, "category"},
			{"missing contact", sales.CustomerIssueInput{Subject: str("x"), ContactID: &missing}, "contact_id"},
			{"missing company", sales.CustomerIssueInput{Subject: str("x"), CompanyID: &missing}, "company_id"},
			{"missing owner", sales.CustomerIssueInput{Subject: str("x"), ContactID: &w.contact.ID, OwnerID: &missing}, "owner_id"},
		} {
			t.Run(c.name, func(t *testing.T) {
				_, err := w.ss.CreateIssue(ctx, w.mgr, c.in)
				e, ok := errs.As(err)
				if !ok || e.Field != c.field {
					t.Errorf("got %v, want an error on %s", err, c.field)
				}
			})
		}
		if n := w.count(t, `SELECT COUNT(*) FROM customer_issues WHERE workspace_id = 1`); n != 0 {
			t.Errorf("issues stored: %d", n)
		}
	})
}

func TestRenewals_ALeaversDealRenewsUnassignedAndARefusedOneHoldsUpNoOther(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		w := newWorld(t, d)
		w.fc.Set(time.Date(2025, 5, 1, 10, 0, 0, 0, jst))
		gone := w.wonRecurring(t, "退職者の案件", 1000, 12)
		w.fc.Set(time.Date(2025, 5, 2, 10, 0, 0, 0, jst))
		// A deal in a currency the CRM no longer accepts cannot be copied.
		bad := w.wonRecurring(t, "壊れた案件", 1000, 12)
		if err := d.Write(ctx, "test", func(tx *db.Tx) error {
			_, err := tx.ExecContext(ctx, `UPDATE deals SET currency = 'XXX' WHERE workspace_id = 1 AND id = ?`, bad.ID)
			return err
		}); err != nil {
			t.Fatal(err)
		}
		w.fc.Set(time.Date(2025, 5, 3, 10, 0, 0, 0, jst))
		fine := w.wonRecurring(t, "通常の案件", 1000, 12)
		if err := d.Write(ctx, "test", func(tx *db.Tx) error {
			_, err := tx.ExecContext(ctx, `UPDATE deals SET owner_id = ? WHERE workspace_id = 1 AND id = ?`, w.rep2.UserID, gone.ID)
			return err
		}); err != nil {
			t.Fatal(err)
		}
		inactive := false
		if _, err := platform.UpdateUser(ctx, d, platform.CLI(1), w.rep2.UserID, platform.UserPatch{Active: &inactive}, w.fc.Now()); err != nil {
			t.Fatal(err)
		}
		w.fc.Set(t0)
		n, err := w.ss.CreateRenewals(ctx, 1, 100)
		if n != 2 || err == nil || !strings.Contains(err.Error(), fmt.Sprintf("deal %d", bad.ID)) {
			t.Fatalf("run: %d %v", n, err)
		}
		for _, src := range []crm.Deal{gone, fine} {
			l, _ := w.ss.RenewalLinkOf(ctx, d.Reader(), 1, src.ID)
			if l.RenewedBy == 0 {
				t.Fatalf("%s not renewed", src.Name)
			}
			rd, _ := w.cs.GetDeal(ctx, d.Reader(), w.mgr, l.RenewedBy)
			if want := map[int64]int64{gone.ID: 0, fine.ID: w.rep.UserID}[src.ID]; rd.OwnerID != want {
				t.Errorf("%s renewal owner %d, want %d", src.Name, rd.OwnerID, want)
			}
		}
	})
}
