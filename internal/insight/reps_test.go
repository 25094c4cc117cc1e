package insight_test

import (
	"context"
	"testing"
	"time"

	"github.com/ryorin/ryorin/internal/clock"
	"github.com/ryorin/ryorin/internal/crm"
	"github.com/ryorin/ryorin/internal/db"
	"github.com/ryorin/ryorin/internal/dbtest"
	"github.com/ryorin/ryorin/internal/insight"
	"github.com/ryorin/ryorin/internal/platform"
)

// November 2026. Rep 1 received three leads (two first touched in time,
// after 600 and 1,200 business seconds; one breached), logged four calls
// (no answer, connected, appointment, gatekeeper) and a meeting, won two
// deals (¥300,000 after 10 days, ¥200,000 after 20) and lost one, against
// a ¥1,000,000 quota. Rep 2 received one lead, touched late after 5,000 s,
// and sent an email. A marketer did nothing and is not listed.
func TestRepPerformance_OnAHandComputedMonth(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		tokyo, _ := time.LoadLocation("Asia/Tokyo")
		fc := clock.NewFake(time.Date(2026, 10, 22, 10, 0, 0, 0, tokyo))
		if err := platform.EnsureWorkspace(ctx, d, 1, "T", fc.Now()); err != nil {
			t.Fatal(err)
		}
		cs := crm.New(d, fc)
		if err := cs.EnsureDefaults(ctx, 1, "ja"); err != nil {
			t.Fatal(err)
		}
		admin := platform.Actor{WorkspaceID: 1, Role: platform.RoleAdmin, Kind: platform.ActorCLI}
		team, err := platform.SaveTeam(ctx, d, admin, 0, platform.NewTeam{Name: "IS", Function: "sales"}, fc.Now())
		if err != nil {
			t.Fatal(err)
		}
		var users []platform.User
		for _, u := range []platform.NewUser{{Email: "r1@x.jp", Name: "営業一郎", Role: platform.RoleSales, TeamID: team.ID},
			{Email: "r2@x.jp", Name: "営業二郎", Role: platform.RoleSales, TeamID: team.ID}, {Email: "m@x.jp", Name: "マーケ", Role: platform.RoleMarketing}} {
			x, err := platform.CreateUser(ctx, d, admin, u, fc.Now())
			if err != nil {
				t.Fatal(err)
			}
			users = append(users, x)
		}
		r1, r2 := users[0], users[1]
		sys := platform.System(1)
		ct, _ := cs.CreateContact(ctx, sys, crm.ContactInput{Email: new("c@x.jp")})
		ps, _ := cs.Pipelines(ctx, d.Reader(), 1)
		won, lost := ps[0].Stages[4].ID, ps[0].Stages[5].ID
		amount := func(x float64) *float64 { return &x }
		early, err := cs.CreateDeal(ctx, sys, crm.DealInput{Name: new("A"), Amount: amount(200000), OwnerID: &r1.ID})
		if err != nil {
			t.Fatal(err)
		}
		nov := time.Date(2026, 11, 1, 10, 0, 0, 0, tokyo)
		fc.Set(nov)
		late, _ := cs.CreateDeal(ctx, sys, crm.DealInput{Name: new("B"), Amount: amount(300000), OwnerID: &r1.ID})
		gone, _ := cs.CreateDeal(ctx, sys, crm.DealInput{Name: new("C"), Amount: amount(100000), OwnerID: &r1.ID})
		if err := d.Write(ctx, "test", func(tx *db.Tx) error {
			for _, s := range []struct {
				owner int64
				state string
				resp  any
			}{{r1.ID, "met", 600}, {r1.ID, "met", 1200}, {r1.ID, "breached", nil}, {r2.ID, "late", 5000}} {
				if _, err := tx.ExecContext(ctx, `INSERT INTO lead_slas (workspace_id, contact_id, owner_id, policy, state, started_at, due_at, response_seconds) VALUES (1, ?, ?, 'normal', ?, ?, ?, ?)`,
					ct.ID, s.owner, s.state, db.Millis(nov), db.Millis(nov.Add(time.Hour)), s.resp); err != nil {
					return err
				}
			}
			_, err := tx.ExecContext(ctx, `INSERT INTO sales_quotas (workspace_id, scope, scope_id, month, revenue, deals, updated_at) VALUES (1, 'user', ?, '2026-11', 1000000, 0, 0)`, r1.ID)
			return err
		}); err != nil {
			t.Fatal(err)
		}
		for _, a := range []struct {
			owner   int64
			kind    string
			outcome string
		}{{r1.ID, "call", "no_answer"}, {r1.ID, "call", "connected"}, {r1.ID, "call", "appointment"}, {r1.ID, "call", "gatekeeper"}, {r1.ID, "meeting", ""}, {r2.ID, "email", ""}} {
			in := crm.ActivityInput{Kind: new(a.kind), ContactID: &ct.ID, OwnerID: &a.owner}
			if a.outcome != "" {
				in.CallOutcome = new(a.outcome)
			}
			if _, err := cs.LogActivity(ctx, sys, in); err != nil {
				t.Fatal(err)
			}
		}
		fc.Set(nov.Add(10 * 24 * time.Hour))
		for _, x := range []struct {
			id    int64
			stage int64
		}{{early.ID, won}, {late.ID, won}, {gone.ID, lost}} {
			in := crm.DealInput{StageID: &x.stage}
			if x.stage == lost {
				in.LostReason = new("価格")
			}
			if _, err := cs.UpdateDeal(ctx, sys, x.id, in); err != nil {
				t.Fatal(err)
			}
		}
		w, _ := platform.GetWorkspace(ctx, d.Reader(), 1)
		p, _ := insight.PeriodOf(w, "month", 0, fc.Now())
		rp, err := insight.RepPerformanceOf(ctx, d.Reader(), w, p)
		if err != nil {
			t.Fatal(err)
		}
		if len(rp.Reps) != 2 || rp.Reps[0].UserID != r1.ID || rp.Reps[1].UserID != r2.ID {
			t.Fatalf("reps %+v", rp.Reps)
		}
		a, b := rp.Reps[0], rp.Reps[1]
		check := func(name string, g, want any) {
			t.Helper()
			if g != want {
				t.Errorf("%s = %v, want %v", name, g, want)
			}
		}
		check("r1 received", a.LeadsReceived, 3)
		check("r1 SLA met", a.SLAMet, 2)
		check("r1 median first touch", *a.MedianFirstTouchSeconds, int64(900))
		check("r1 calls", a.Calls, 4)
		check("r1 connect rate", a.ConnectRate(), 0.5)
		check("r1 appointments", a.Appointments, 1)
		check("r1 meetings", a.Activities["meeting"], 1)
		check("r1 won", a.Won, 2)
		check("r1 win rate", a.WinRate(), 2.0/3)
		check("r1 revenue", a.Revenue, int64(500000))
		check("r1 cycle", *a.AvgCycleDays, 15.0)
		check("r1 quota", a.Quota, int64(1000000))
		check("r1 attainment", a.Attainment(), 0.5)
		check("r2 received", b.LeadsReceived, 1)
		check("r2 SLA met", b.SLAMet, 0)
		check("r2 emails", b.Activities["email"], 1)
		check("r2 cycle", b.AvgCycleDays == nil, true)
		if len(rp.Teams) != 1 || rp.Teams[0].TeamID != team.ID {
			t.Fatalf("teams %+v", rp.Teams)
		}
		check("team received", rp.Teams[0].LeadsReceived, 4)
		check("team median first touch", *rp.Teams[0].MedianFirstTouchSeconds, int64(1200))
		check("total revenue", rp.Total.Revenue, int64(500000))
	})
}
