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

// The fiscal quarter October–December 2026 (FY from April), seen on
// Wednesday 18 November. Stage probabilities are 10, 30, 60 and 80 %.
//
// Snapshot on Monday 9 November (all open, close dates in the quarter):
// A r1 ¥400,000 80 % (commit by stage), B r1 ¥300,000 60 % (best case),
// C r1 ¥200,000 10 % (pipeline), D r1 ¥100,000 30 % closing 5 Dec
// (pipeline), E r2 ¥500,000 10 % (pipeline), F r2 ¥250,000 80 % (commit),
// G r2 ¥150,000 30 % (pipeline), H r1 ¥80,000 10 % (pipeline). Then:
// commit 650,000, best case 300,000, pipeline 1,030,000, nothing closed.
//
// By the 18th: the rep called C commit and G omitted, D slipped to January,
// H was lost, F won, and I (r2 ¥90,000, 10 %) was added. So r1 has commit
// A+C = 600,000, best case B = 300,000, weighted 320,000+180,000+20,000;
// r2 has closed F = 250,000, pipeline E+I = 590,000, omitted G, weighted
// 50,000+9,000. Quotas: r1 1,000,000 in October and November, r2 500,000
// in November; the team's own quota of 3,000,000 replaces their sum.
func TestForecast_RollsUpByCategoryAndShowsWhatMovedSinceTheSnapshot(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		tokyo, _ := time.LoadLocation("Asia/Tokyo")
		fc := clock.NewFake(time.Date(2026, 11, 9, 9, 0, 0, 0, tokyo))
		if err := platform.EnsureWorkspace(ctx, d, 1, "T", fc.Now()); err != nil {
			t.Fatal(err)
		}
		cs := crm.New(d, fc)
		if err := cs.EnsureDefaults(ctx, 1, "ja"); err != nil {
			t.Fatal(err)
		}
		admin := platform.Actor{WorkspaceID: 1, Role: platform.RoleAdmin, Kind: platform.ActorCLI}
		team, err := platform.SaveTeam(ctx, d, admin, 0, platform.NewTeam{Name: "Field", Function: "sales"}, fc.Now())
		if err != nil {
			t.Fatal(err)
		}
		var reps []platform.User
		for _, u := range []platform.NewUser{{Email: "r1@x.jp", Name: "営業一郎", Role: platform.RoleSales, TeamID: team.ID},
			{Email: "r2@x.jp", Name: "営業二郎", Role: platform.RoleSales, TeamID: team.ID}} {
			x, err := platform.CreateUser(ctx, d, admin, u, fc.Now())
			if err != nil {
				t.Fatal(err)
			}
			reps = append(reps, x)
		}
		r1, r2 := reps[0].ID, reps[1].ID
		sys := platform.System(1)
		ps, _ := cs.Pipelines(ctx, d.Reader(), 1)
		st := ps[0].Stages
		deal := func(name string, owner int64, amount float64, stage int, close string) int64 {
			t.Helper()
			x, err := cs.CreateDeal(ctx, sys, crm.DealInput{Name: &name, OwnerID: &owner, Amount: &amount, StageID: &st[stage].ID, CloseDate: &close})
			if err != nil {
				t.Fatal(err)
			}
			return x.ID
		}
		deal("A", r1, 400000, 3, "2026-11-30")
		deal("B", r1, 300000, 2, "2026-12-15")
		c := deal("C", r1, 200000, 0, "2026-12-20")
		dd := deal("D", r1, 100000, 1, "2026-12-05")
		deal("E", r2, 500000, 0, "2026-10-20")
		f := deal("F", r2, 250000, 3, "2026-11-20")
		g := deal("G", r2, 150000, 1, "2026-11-25")
		h := deal("H", r1, 80000, 0, "2026-12-01")
		deal("outside", r1, 999000, 0, "2027-09-01") // past the next quarter: not in the snapshot either
		w, err := platform.GetWorkspace(ctx, d.Reader(), 1)
		if err != nil {
			t.Fatal(err)
		}
		n, err := insight.TakeForecastSnapshot(ctx, d, w, fc.Now())
		if err != nil || n != 8 {
			t.Fatalf("snapshot wrote %d deals (%v), want 8", n, err)
		}
		if n, err := insight.TakeForecastSnapshot(ctx, d, w, fc.Now().Add(48*time.Hour)); err != nil || n != 0 {
			t.Fatalf("a second snapshot in the same week wrote %d (%v), want 0", n, err)
		}

		fc.Set(time.Date(2026, 11, 18, 10, 0, 0, 0, tokyo))
		for _, u := range []struct {
			id int64
			in crm.DealInput
		}{
			{c, crm.DealInput{ForecastCategory: new("commit")}},
			{g, crm.DealInput{ForecastCategory: new("omitted")}},
			{dd, crm.DealInput{CloseDate: new("2027-01-10")}},
			{h, crm.DealInput{StageID: &st[5].ID, LostReason: new("価格")}},
			{f, crm.DealInput{StageID: &st[4].ID}},
		} {
			if _, err := cs.UpdateDeal(ctx, sys, u.id, u.in); err != nil {
				t.Fatal(err)
			}
		}
		deal("I", r2, 90000, 0, "2026-12-10")
		if err := d.Write(ctx, "test", func(tx *db.Tx) error {
			for _, q := range []struct {
				scope string
				id    int64
				month string
				rev   int
			}{{"user", r1, "2026-10", 1000000}, {"user", r1, "2026-11", 1000000}, {"user", r2, "2026-11", 500000}, {"team", team.ID, "2026-12", 3000000}} {
				if _, err := tx.ExecContext(ctx, `INSERT INTO sales_quotas (workspace_id, scope, scope_id, month, revenue, deals, updated_at) VALUES (1, ?, ?, ?, ?, 0, 0)`,
					q.scope, q.id, q.month, q.rev); err != nil {
					return err
				}
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}

		p, err := insight.PeriodOf(w, "quarter", 0, fc.Now())
		if err != nil {
			t.Fatal(err)
		}
		got, err := insight.ForecastOf(ctx, d.Reader(), w, p, insight.ForecastFilter{}, fc.Now())
		if err != nil {
			t.Fatal(err)
		}
		want := map[int64]insight.ForecastRow{
			r1: {Target: 2000000, Commit: 600000, BestCase: 300000, Weighted: 520000, OpenDeals: 3, Forecast: 600000, BestCaseTotal: 900000, Gap: 1400000},
			r2: {Target: 500000, Closed: 250000, ClosedDeals: 1, Pipeline: 590000, Omitted: 150000, Weighted: 59000, OpenDeals: 3, Forecast: 250000, BestCaseTotal: 250000, Gap: 250000},
		}
		if len(got.Reps) != 2 {
			t.Fatalf("rows %+v, want the two reps", got.Reps)
		}
		for _, r := range got.Reps {
			x := want[r.UserID]
			x.UserID, x.TeamID, x.Name = r.UserID, r.TeamID, r.Name
			if r != x {
				t.Errorf("rep %d:\n got %+v\nwant %+v", r.UserID, r, x)
			}
		}
		if len(got.Teams) != 1 || got.Teams[0].Target != 3000000 || got.Teams[0].Forecast != 850000 || got.Teams[0].Gap != 2150000 {
			t.Errorf("team %+v, want the team's own quota 3,000,000 against a forecast of 850,000", got.Teams)
		}
		if got.Total.Target != 3000000 || got.Total.Closed != 250000 || got.Total.Commit != 600000 || got.Total.Forecast != 850000 {
			t.Errorf("total %+v", got.Total)
		}
		if len(got.Deals) != 7 || got.DealCount != 7 || got.Deals[0].Name != "E" || got.Deals[0].Category != "pipeline" {
			t.Errorf("deals %+v, want the 7 of the quarter, largest (E) first", got.Deals)
		}

		// What moved since the 9 November snapshot.
		if got.Since != "2026-11-09" || got.Then == nil {
			t.Fatalf("compared with %q, want last week's snapshot 2026-11-09", got.Since)
		}
		if th := got.Then; th.Commit != 650000 || th.BestCase != 300000 || th.Pipeline != 1030000 || th.Closed != 0 || th.Forecast != 650000 {
			t.Errorf("then %+v, want commit 650,000, best case 300,000, pipeline 1,030,000", th)
		}
		kinds := map[string]string{}
		for _, ch := range got.Changes {
			kinds[ch.Name] = ch.Kind + " " + ch.From + ">" + ch.To
		}
		wantKinds := map[string]string{"D": "slipped 2026-12-05>2027-01-10", "H": "lost >", "C": "category pipeline>commit",
			"G": "category pipeline>omitted", "F": "won >", "I": "added >2026-12-10"}
		for k, v := range wantKinds {
			if kinds[k] != v {
				t.Errorf("change of %s = %q, want %q", k, kinds[k], v)
			}
		}
		if len(got.Changes) != len(wantKinds) || got.Changes[0].Name != "D" {
			t.Errorf("changes %+v, want six, the slipped deal first", got.Changes)
		}
		if len(got.Trend) != 1 || got.Trend[0] != (insight.ForecastPoint{TakenOn: "2026-11-09", Commit: 650000, BestCase: 300000, Pipeline: 1030000}) {
			t.Errorf("trend %+v", got.Trend)
		}

		// One rep's own forecast: their quota, not the team's.
		mine, err := insight.ForecastOf(ctx, d.Reader(), w, p, insight.ForecastFilter{OwnerID: r2}, fc.Now())
		if err != nil {
			t.Fatal(err)
		}
		if len(mine.Reps) != 1 || mine.Total.Target != 500000 || mine.Total.Closed != 250000 || mine.ChangeCounts["won"] != 1 || mine.ChangeCounts["slipped"] != 0 {
			t.Errorf("r2 alone: %+v, changes %v", mine.Total, mine.ChangeCounts)
		}
	})
}

func TestTakeForecastSnapshot_ResumedRunWritesEachDealOnce(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		tokyo, _ := time.LoadLocation("Asia/Tokyo")
		fc := clock.NewFake(time.Date(2026, 11, 9, 9, 0, 0, 0, tokyo))
		if err := platform.EnsureWorkspace(ctx, d, 1, "T", fc.Now()); err != nil {
			t.Fatal(err)
		}
		cs := crm.New(d, fc)
		if err := cs.EnsureDefaults(ctx, 1, "ja"); err != nil {
			t.Fatal(err)
		}
		sys := platform.System(1)
		for i := 0; i < 1203; i++ {
			if _, err := cs.CreateDeal(ctx, sys, crm.DealInput{Name: new("d"), Amount: new(1000.0), CloseDate: new("2026-12-01")}); err != nil {
				t.Fatal(err)
			}
		}
		w, _ := platform.GetWorkspace(ctx, d.Reader(), 1)
		if n, err := insight.TakeForecastSnapshot(ctx, d, w, fc.Now()); err != nil || n != 1203 {
			t.Fatalf("wrote %d (%v), want 1203 in three batches", n, err)
		}
		// As if the run had stopped after its first batch: the mark is not
		// set and later rows are missing.
		if err := d.Write(ctx, "test", func(tx *db.Tx) error {
			if _, err := tx.ExecContext(ctx, `DELETE FROM work_marks WHERE name = ?`, insight.ForecastSnapshotMark); err != nil {
				return err
			}
			_, err := tx.ExecContext(ctx, `DELETE FROM forecast_snapshots WHERE deal_id > (SELECT MIN(deal_id) + 499 FROM forecast_snapshots)`)
			return err
		}); err != nil {
			t.Fatal(err)
		}
		if _, err := insight.TakeForecastSnapshot(ctx, d, w, fc.Now()); err != nil {
			t.Fatal(err)
		}
		var rows, distinct int
		if err := d.Reader().QueryRowContext(ctx, `SELECT COUNT(*), COUNT(DISTINCT deal_id) FROM forecast_snapshots`).Scan(&rows, &distinct); err != nil {
			t.Fatal(err)
		}
		if rows != 1203 || distinct != 1203 {
			t.Errorf("after the resumed run: %d rows for %d deals, want 1203 each", rows, distinct)
		}
	})
}
