package crm_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/ryorin/ryorin/internal/crm"
	"github.com/ryorin/ryorin/internal/db"
	"github.com/ryorin/ryorin/internal/dbtest"
	"github.com/ryorin/ryorin/internal/errs"
)

func TestGuidedStages_ExitCriteriaStopAMoveOnButNeverABackwardOrLostOne(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := setup(t, d)
		if err := f.crm.EnsureDefaults(ctx, 1, "ja"); err != nil {
			t.Fatal(err)
		}
		ps, _ := f.crm.Pipelines(ctx, d.Reader(), 1)
		st := ps[0].Stages
		if _, err := f.crm.SetStageGuide(ctx, f.rep, crm.StageGuide{StageID: st[0].ID}); !errs.Is(err, errs.Forbidden) {
			t.Fatalf("a rep changed the playbook: %v", err)
		}
		if _, err := f.crm.SetStageGuide(ctx, f.admin, crm.StageGuide{StageID: st[0].ID, Criteria: []string{"activity:sing"}}); !errs.Is(err, errs.Invalid) {
			t.Fatalf("unknown criterion: %v", err)
		}
		g, err := f.crm.SetStageGuide(ctx, f.admin, crm.StageGuide{StageID: st[0].ID, Guidance: "課題と予算を確認する", Criteria: []string{"activity:demo", "amount", "contact_role:decision_maker"}, RotDays: 7})
		if err != nil {
			t.Fatal(err)
		}
		c, err := f.crm.CreateContact(ctx, f.admin, crm.ContactInput{Email: ptr("kacho@example.jp")})
		if err != nil {
			t.Fatal(err)
		}
		deal, err := f.crm.CreateDeal(ctx, f.admin, crm.DealInput{Name: ptr("導入"), StageID: &st[0].ID, Contacts: &[]crm.DealContact{{ContactID: c.ID, Role: "user"}}})
		if err != nil {
			t.Fatal(err)
		}
		_, err = f.crm.UpdateDeal(ctx, f.admin, deal.ID, crm.DealInput{StageID: &st[1].ID})
		e, ok := errs.As(err)
		if !ok || e.Field != "stage_id" || !strings.Contains(e.Message, "activity:demo") || !strings.Contains(e.Message, "amount") || !strings.Contains(e.Message, "contact_role:decision_maker") {
			t.Fatalf("move on with nothing done: %v", err)
		}
		if _, err := f.crm.LogActivity(ctx, f.admin, crm.ActivityInput{Kind: ptr("demo"), DealID: &deal.ID}); err != nil {
			t.Fatal(err)
		}
		// Amount and the decision maker in the same update as the move count.
		amt := 500000.0
		moved, err := f.crm.UpdateDeal(ctx, f.admin, deal.ID, crm.DealInput{StageID: &st[1].ID, Amount: &amt,
			Contacts: &[]crm.DealContact{{ContactID: c.ID, Role: "decision_maker"}}})
		if err != nil || moved.StageID != st[1].ID {
			t.Fatalf("move on with everything done: %v", err)
		}
		// Back, then straight to lost, are always allowed.
		if _, err := f.crm.UpdateDeal(ctx, f.admin, deal.ID, crm.DealInput{StageID: &st[0].ID}); err != nil {
			t.Fatalf("move back: %v", err)
		}
		other, _ := f.crm.CreateDeal(ctx, f.admin, crm.DealInput{Name: ptr("別件"), StageID: &st[0].ID})
		lost := st[len(st)-1].ID
		if _, err := f.crm.UpdateDeal(ctx, f.admin, other.ID, crm.DealInput{StageID: &lost, LostReason: ptr("予算")}); err != nil {
			t.Fatalf("lose a deal whose criteria are unmet: %v", err)
		}
		// Rotting: seven days without activity in the stage.
		fresh, _ := f.crm.GetDeal(ctx, d.Reader(), f.admin, deal.ID)
		if rot, _ := crm.Rotting(fresh, g, fresh.StageChangedAt.Add(6*24*time.Hour)); rot {
			t.Fatal("rotting after six days")
		}
		if rot, days := crm.Rotting(fresh, g, fresh.StageChangedAt.Add(8*24*time.Hour)); !rot || days != 8 {
			t.Fatalf("not rotting after eight days (%d)", days)
		}
		if missing, _ := f.crm.UnmetCriteria(ctx, d.Reader(), 1, fresh); len(missing) != 0 {
			t.Fatalf("back in the first stage with everything done, still missing %v", missing)
		}
	})
}

func TestCompetitors_CardRecordAndNewsForTheRepsAgainstThem(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := setup(t, d)
		if err := f.crm.EnsureDefaults(ctx, 1, "ja"); err != nil {
			t.Fatal(err)
		}
		comp, err := f.crm.CreateCompetitor(ctx, f.admin, crm.Competitor{Name: "ライバル社"})
		if err != nil {
			t.Fatal(err)
		}
		ids := []int64{comp.ID}
		owner := f.rep.UserID
		open, _ := f.crm.CreateDeal(ctx, f.admin, crm.DealInput{Name: ptr("競合案件"), OwnerID: &owner, CompetitorIDs: &ids})
		ps, _ := f.crm.Pipelines(ctx, d.Reader(), 1)
		won := ps[0].Stages[4].ID
		closed, _ := f.crm.CreateDeal(ctx, f.admin, crm.DealInput{Name: ptr("勝ち案件"), CompetitorIDs: &ids})
		if _, err := f.crm.UpdateDeal(ctx, f.admin, closed.ID, crm.DealInput{StageID: &won}); err != nil {
			t.Fatal(err)
		}
		card, err := f.crm.UpdateCard(ctx, f.rep, comp.ID, crm.CardInput{Strengths: ptr("価格が安い"), Weaknesses: ptr("サポートが英語のみ")})
		if err != nil || card.OpenDeals != 1 || card.Won != 1 || card.WinRate() != 1 || card.Strengths != "価格が安い" {
			t.Fatalf("card: %+v %v", card, err)
		}
		if _, err := f.crm.PostNews(ctx, f.admin, crm.News{CompetitorID: comp.ID, Title: " ", URL: "javascript:alert(1)"}, nil); !errs.Is(err, errs.Invalid) {
			t.Fatalf("empty news: %v", err)
		}
		n, err := f.crm.PostNews(ctx, f.admin, crm.News{CompetitorID: comp.ID, Title: "新製品を発表", URL: "https://rival.example/news"}, nil)
		if err != nil {
			t.Fatal(err)
		}
		var jobs int
		_ = d.Reader().QueryRowContext(ctx, `SELECT COUNT(*) FROM jobs WHERE kind = ?`, crm.CompetitorNewsKind).Scan(&jobs)
		if jobs != 1 {
			t.Fatalf("news jobs: %d", jobs)
		}
		_, name, owners, err := f.crm.NewsAudience(ctx, d.Reader(), 1, n.ID)
		if err != nil || name != "ライバル社" || len(owners) != 1 || owners[owner] != open.ID {
			t.Fatalf("audience: %q %v %v", name, owners, err)
		}
	})
}
