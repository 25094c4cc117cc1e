package web_test

import (
	"context"
	"fmt"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"

	"github.com/ryorin/ryorin/internal/crm"
	"github.com/ryorin/ryorin/internal/db"
	"github.com/ryorin/ryorin/internal/dbtest"
	"github.com/ryorin/ryorin/internal/platform"
)

// Each role's home page is its dashboard: marketing sees the funnel KPIs
// and the weekly trend, a rep their own forecast for the quarter, a manager
// the team's KPIs, trend and forecast. The trend's CSV holds the numbers
// the chart draws.
func TestHome_EachRoleSeesItsDashboard(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := start(t, d, true)
		ctx := context.Background()
		pw := "correct horse battery"
		for _, u := range []platform.NewUser{{Email: "mkt@example.com", Name: "Mkt", Role: platform.RoleMarketing, Password: pw},
			{Email: "rep@example.com", Name: "Rep", Role: platform.RoleSales, Password: pw}} {
			if _, err := platform.CreateUser(ctx, d, platform.CLI(1), u, e.clock.Now()); err != nil {
				t.Fatal(err)
			}
		}
		for _, em := range []string{"a@x.jp", "b@x.jp"} {
			if _, err := e.crm.CreateContact(ctx, platform.System(1), crm.ContactInput{Email: &em}); err != nil {
				t.Fatal(err)
			}
		}
		// Open deals: the rep sees their own, the admin everyone's.
		rep, err := platform.UserByEmail(ctx, d.Reader(), 1, "rep@example.com")
		if err != nil {
			t.Fatal(err)
		}
		for i, owner := range []int64{rep.ID, 0, rep.ID} {
			amt := float64(1000000 * (i + 1))
			in := crm.DealInput{Name: new(fmt.Sprintf("deal %d", i)), Amount: &amt}
			if owner != 0 {
				in.OwnerID = &owner
			}
			if _, err := e.crm.CreateDeal(ctx, platform.System(1), in); err != nil {
				t.Fatal(err)
			}
		}
		openDeals := map[string]string{"rep@example.com": `data-testid="open-deals">2<`, "admin@example.com": `data-testid="open-deals">3<`}
		for _, c := range []struct {
			email, want, not string
		}{
			{"mkt@example.com", `data-testid="dash-marketing"`, `data-testid="dash-forecast"`},
			{"rep@example.com", `data-testid="dash-forecast"`, `data-testid="dash-kpis"`},
			{"admin@example.com", `data-testid="chart-trend"`, ""},
		} {
			jar, _ := cookiejar.New(nil)
			e.c.Jar = jar
			if code, _, at := e.post("/login", url.Values{"email": {c.email}, "password": {pw}, "next": {"/"}}); code != 200 || at != "/" {
				t.Fatalf("login %s: %d at %s", c.email, code, at)
			}
			code, body := e.get("/")
			if code != 200 || !strings.Contains(body, c.want) || (c.not != "" && strings.Contains(body, c.not)) {
				t.Errorf("%s home: %d, want %s and not %q", c.email, code, c.want, c.not)
			}
			if w := openDeals[c.email]; w != "" && !strings.Contains(body, w) {
				t.Errorf("%s home: open deals, want %s", c.email, w)
			}
			if c.email == "admin@example.com" && !strings.Contains(body, `data-testid="dash-kpis"`) {
				t.Errorf("the manager's dashboard has no KPI cards")
			}
		}
		code, body := e.get("/reports/trend.csv?unit=week&n=3&key=new_contacts")
		lines := strings.Split(strings.TrimSpace(body), "\n")
		if code != 200 || !strings.HasPrefix(body, "\uFEFF") || len(lines) != 4 || !strings.HasSuffix(strings.TrimSpace(lines[3]), ",2") {
			t.Errorf("trend CSV: %d %q", code, body)
		}
	})
}
