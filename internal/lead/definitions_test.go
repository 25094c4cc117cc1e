package lead_test

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/ryorin/ryorin/internal/clock"
	"github.com/ryorin/ryorin/internal/db"
	"github.com/ryorin/ryorin/internal/dbtest"
	"github.com/ryorin/ryorin/internal/errs"
	"github.com/ryorin/ryorin/internal/lead"
	"github.com/ryorin/ryorin/internal/platform"
)

func TestMain(m *testing.M) { os.Exit(dbtest.Main(m)) }

var t0 = time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC)

type people struct{ mkt, mktMgr, rep, outsider platform.Actor }

func setup(t *testing.T, d *db.DB) (*lead.Service, people) {
	t.Helper()
	ctx := context.Background()
	if err := platform.EnsureWorkspace(ctx, d, 1, "T", t0); err != nil {
		t.Fatal(err)
	}
	cli := platform.CLI(1)
	team := func(name, fn string) int64 {
		tm, err := platform.SaveTeam(ctx, d, cli, 0, platform.NewTeam{Name: name, Function: fn}, t0)
		if err != nil {
			t.Fatal(err)
		}
		return tm.ID
	}
	mt, st := team("マーケティング部", "marketing"), team("営業部", "sales")
	user := func(email string, role platform.Role, tid int64) platform.Actor {
		u, err := platform.CreateUser(ctx, d, cli, platform.NewUser{Email: email, Name: email, Role: role, TeamID: tid}, t0)
		if err != nil {
			t.Fatal(err)
		}
		return u.Actor(1, platform.ActorUser)
	}
	p := people{mkt: user("m@example.com", platform.RoleMarketing, mt), mktMgr: user("mm@example.com", platform.RoleManager, mt),
		rep: user("r@example.com", platform.RoleSales, st), outsider: user("o@example.com", platform.RoleAdmin, 0)}
	s := lead.New(d, clock.NewFake(t0))
	if err := s.EnsureDefault(ctx, 1); err != nil {
		t.Fatal(err)
	}
	return s, p
}

func TestDefinitions_ADraftBecomesActiveWhenBothSidesApprove(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		s, p := setup(t, d)
		ctx := context.Background()
		list, err := s.List(ctx, 1)
		if err != nil || len(list) != 1 || list[0].Status != "active" || list[0].Version != 1 {
			t.Fatalf("default definition: %+v, %v", list, err)
		}
		body := lead.DefaultBody()
		body.MQL = `fit_grade == "A" && engagement >= 40`
		draft, err := s.CreateDraft(ctx, p.mkt, body, "MQL の基準を厳しくする")
		if err != nil || draft.Status != "draft" || draft.Version != 2 {
			t.Fatalf("draft: %+v, %v", draft, err)
		}
		if _, err := s.Approve(ctx, p.outsider, draft.ID, ""); !errs.Is(err, errs.Forbidden) {
			t.Fatalf("approval by someone in no team: %v", err)
		}
		if d2, err := s.Approve(ctx, p.mkt, draft.ID, "OK"); err != nil || d2.Status != "draft" || len(d2.Approvals) != 1 {
			t.Fatalf("marketing approval: %+v, %v", d2, err)
		}
		if _, err := s.Approve(ctx, p.mktMgr, draft.ID, ""); !errs.Is(err, errs.Conflict) {
			t.Fatalf("second marketing approval: %v", err)
		}
		active, err := s.Approve(ctx, p.rep, draft.ID, "営業としても合意")
		if err != nil || active.Status != "active" || active.ActivatedAt == nil || len(active.Approvals) != 2 {
			t.Fatalf("sales approval: %+v, %v", active, err)
		}
		list, _ = s.List(ctx, 1)
		if list[0].Status != "active" || list[1].Status != "archived" {
			t.Fatalf("versions after activation: %s, %s", list[0].Status, list[1].Status)
		}
		if _, err := s.Approve(ctx, p.rep, draft.ID, ""); err == nil {
			t.Fatal("approved an active version")
		}
	})
}

func TestDefinitions_BadRulesAreRefusedNamingTheRuleAndPosition(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		s, p := setup(t, d)
		body := lead.DefaultBody()
		body.FitRules[1].When = "employees >="
		_, err := s.CreateDraft(context.Background(), p.mkt, body, "")
		e, ok := errs.As(err)
		if !ok || e.Field != "fit_rules[1].when" || !strings.Contains(e.Message, "line 1") {
			t.Fatalf("err = %v", err)
		}
		body = lead.DefaultBody()
		body.FitGrades = map[string]int{"A": 10, "B": 30, "C": 5}
		if _, err := s.CreateDraft(context.Background(), p.mkt, body, ""); !errs.Is(err, errs.Unprocessable) {
			t.Fatalf("grades out of order: %v", err)
		}
		list, _ := s.List(context.Background(), 1)
		if len(list) != 1 {
			t.Fatalf("a refused draft was stored: %d versions", len(list))
		}
	})
}

func TestDefaultBody_IsValid(t *testing.T) {
	if err := lead.DefaultBody().Validate(); err != nil {
		t.Fatal(err)
	}
}
