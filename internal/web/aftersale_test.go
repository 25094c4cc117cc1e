package web_test

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/ryorin/ryorin/internal/crm"
	"github.com/ryorin/ryorin/internal/db"
	"github.com/ryorin/ryorin/internal/dbtest"
	"github.com/ryorin/ryorin/internal/platform"
)

// wonRecurringDeal creates a deal won ten months before the test clock,
// with a monthly recurring amount, and runs the renewals job: the deal gets
// its renewal deal (the next id).
func wonRecurringDeal(t *testing.T, e *env, companyID, contactID int64) crm.Deal {
	t.Helper()
	ctx := context.Background()
	a := platform.Actor{WorkspaceID: 1, UserID: 1, Role: platform.RoleAdmin, Kind: platform.ActorUser}
	p, err := e.crm.DefaultPipeline(ctx, e.d.Reader(), 1)
	if err != nil {
		t.Fatal(err)
	}
	var won int64
	for _, st := range p.Stages {
		if st.Kind == "won" {
			won = st.ID
		}
	}
	now := e.clock.Now()
	e.clock.Set(now.AddDate(0, -10, 0))
	defer e.clock.Set(now)
	name, iv, monthly := "年間保守", "month", 30000.0
	d, err := e.crm.CreateDeal(ctx, a, crm.DealInput{Name: &name, StageID: &won, CompanyID: &companyID, RecurringAmount: &monthly, RecurringInterval: &iv,
		Contacts: &[]crm.DealContact{{ContactID: contactID}}})
	if err != nil {
		t.Fatal(err)
	}
	e.clock.Set(now)
	if n, err := e.sales.CreateRenewals(ctx, 1, 10); err != nil || n != 1 {
		t.Fatalf("renewals: %d %v", n, err)
	}
	return d
}

func TestAfterSaleUI_RenewalLinksAndAnIssueOpenUntilResolved(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := start(t, d, true)
		e.login()
		ctx := context.Background()
		a := platform.Actor{WorkspaceID: 1, UserID: 1, Role: platform.RoleAdmin, Kind: platform.ActorUser}
		s := func(v string) *string { return &v }
		co, err := e.crm.CreateCompany(ctx, a, crm.CompanyInput{Name: s("株式会社リピート")})
		if err != nil {
			t.Fatal(err)
		}
		ct, err := e.crm.CreateContact(ctx, a, crm.ContactInput{FamilyName: s("高橋"), Email: s("t@example.jp"), CompanyID: &co.ID})
		if err != nil {
			t.Fatal(err)
		}
		src := wonRecurringDeal(t, e, co.ID, ct.ID)
		if _, body := e.get(fmt.Sprintf("/deals/%d", src.ID)); !strings.Contains(body, "data-testid=\"deal-renewal\"") || !strings.Contains(body, fmt.Sprintf("/deals/%d", src.ID+1)) {
			t.Errorf("source deal does not link its renewal: %.2000s", body)
		}
		if _, body := e.get(fmt.Sprintf("/deals/%d", src.ID+1)); !strings.Contains(body, "「年間保守」の更新") {
			t.Errorf("renewal deal does not link back")
		}
		if _, body := e.get("/renewals"); !strings.Contains(body, `data-status="open"`) || !strings.Contains(body, "株式会社リピート") {
			t.Errorf("renewals list: %.3000s", body)
		}
		if code, body, _ := e.post("/renewals/settings", url.Values{"renewal_lead_days": {"500"}}); code != 200 || !strings.Contains(body, "1〜365の数で入力してください。") {
			t.Errorf("bad lead days: %d", code)
		}
		if code, body, _ := e.post("/renewals/settings", url.Values{"renewal_lead_days": {"120"}}); code != 200 || !strings.Contains(body, `value="120"`) {
			t.Errorf("lead days not saved: %d", code)
		}

		// Bad input comes back to the record with the message.
		if _, body, at := e.post("/issues", url.Values{"subject": {""}, "contact_id": {itoa(ct.ID)}, "back": {fmt.Sprintf("/contacts/%d", ct.ID)}}); at != fmt.Sprintf("/contacts/%d", ct.ID) || !strings.Contains(body, "flash") {
			t.Errorf("empty subject went to %s", at)
		}
		_, _, at := e.post("/issues", url.Values{"subject": {"納品物の不具合"}, "contact_id": {itoa(ct.ID)}, "priority": {"urgent"}, "category": {"trouble"}, "back": {fmt.Sprintf("/contacts/%d", ct.ID)}})
		if !strings.HasPrefix(at, "/issues/") {
			t.Fatalf("create went to %s", at)
		}
		for _, page := range []string{fmt.Sprintf("/contacts/%d", ct.ID), fmt.Sprintf("/companies/%d", co.ID), "/issues"} {
			if _, body := e.get(page); !strings.Contains(body, "納品物の不具合") {
				t.Errorf("%s does not show the open issue", page)
			}
		}
		if code, body, _ := e.post(at, url.Values{"subject": {" "}, "status": {"open"}, "priority": {"urgent"}, "category": {"trouble"}}); code != 422 || !strings.Contains(body, `class="err"`) {
			t.Errorf("empty subject on edit: %d %s %.1500s", code, at, body)
		}
		e.clock.Set(e.clock.Now().Add(time.Hour))
		if code, _, _ := e.post(at, url.Values{"subject": {"納品物の不具合"}, "status": {"resolved"}, "priority": {"urgent"}, "category": {"trouble"}, "owner_id": {"1"}}); code != 200 {
			t.Fatalf("resolve: %d", code)
		}
		_, body := e.get(fmt.Sprintf("/contacts/%d", ct.ID))
		if i := strings.Index(body, `data-testid="open-issues"`); i < 0 || strings.Contains(body[i:i+600], "納品物の不具合") {
			t.Errorf("resolved issue still in the open box")
		}
		if !strings.Contains(body, "解決済み") {
			t.Errorf("timeline lacks the status change")
		}
		if _, body := e.get(fmt.Sprintf("/contacts/%d?tl=sales", ct.ID)); !strings.Contains(body, "問い合わせを受付: 納品物の不具合") {
			t.Errorf("the sales tab of the timeline lacks the issue")
		}
		if _, body := e.get("/issues?status=resolved"); !strings.Contains(body, "納品物の不具合") {
			t.Errorf("resolved filter lacks the issue")
		}
	})
}
