package lead_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/ryorin/ryorin/internal/clock"
	"github.com/ryorin/ryorin/internal/crm"
	"github.com/ryorin/ryorin/internal/db"
	"github.com/ryorin/ryorin/internal/dbtest"
	"github.com/ryorin/ryorin/internal/lead"
	"github.com/ryorin/ryorin/internal/platform"
)

// TestRescoreAll_ANewActiveDefinitionRescoresEveryContactInABackgroundJob
// approves a definition that grades 部長 as A and makes grade A an MQL: the
// job it enqueues rescores every contact (in batches, resumable), and moves
// the 部長 to MQL through the same path as live scoring.
func TestRescoreAll_ANewActiveDefinitionRescoresEveryContactInABackgroundJob(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		ls, p := setup(t, d)
		fc := clock.NewFake(t0)
		ls.Clock = fc
		jobs := platform.NewJobs(d, fc, nil)
		ls.Jobs = jobs
		cs := crm.New(d, fc)
		sc := &lead.Scorer{Lead: ls, CRM: cs}
		jobs.Handle(lead.RescoreAllKind, func(ctx context.Context, j platform.Job) error {
			var pl struct{ Version int }
			_ = j.Decode(&pl)
			return sc.RescoreAll(ctx, j.WorkspaceID, pl.Version)
		})
		var boss int64
		for i := range 1203 {
			title := "担当"
			if i == 700 {
				title = "営業部長"
			}
			c, err := cs.CreateContact(ctx, platform.System(1), crm.ContactInput{Email: new(fmt.Sprintf("c%d@example.jp", i)), Title: new(title)})
			if err != nil {
				t.Fatal(err)
			}
			if i == 700 {
				boss = c.ID
			}
		}
		body := lead.DefaultBody()
		body.FitRules = []lead.PointsRule{{Name: "部長", When: `title contains "部長"`, Points: 100}}
		body.MQL = `fit_grade == "A"`
		draft, err := ls.CreateDraft(ctx, p.mkt, body, "役職だけで判定")
		if err != nil {
			t.Fatal(err)
		}
		for _, who := range []platform.Actor{p.mkt, p.rep} {
			if _, err := ls.Approve(ctx, who, draft.ID, ""); err != nil {
				t.Fatal(err)
			}
		}
		// A crash after the first batches: resume from the recorded mark.
		var firstID int64
		_ = d.Reader().QueryRowContext(ctx, `SELECT MIN(id) FROM contacts`).Scan(&firstID)
		if err := d.Write(ctx, "test", func(tx *db.Tx) error {
			_, err := tx.ExecContext(ctx, `INSERT INTO work_marks (workspace_id, name, value) VALUES (1, ?, ?), (1, ?, 1)`,
				fmt.Sprintf("lead.rescore.v%d.last", draft.Version), firstID, fmt.Sprintf("lead.rescore.v%d.done", draft.Version))
			return err
		}); err != nil {
			t.Fatal(err)
		}
		if n, err := jobs.RunOnce(ctx); err != nil || n != 1 {
			t.Fatalf("jobs run: %d, %v", n, err)
		}
		pr, err := ls.Progress(ctx, d.Reader(), 1, draft.Version)
		if err != nil || pr.FinishedAt == nil || pr.Done != 1203 {
			t.Fatalf("progress: %+v, %v", pr, err)
		}
		var scored, first int
		_ = d.Reader().QueryRowContext(ctx, `SELECT COUNT(*) FROM contact_scores WHERE scored_version = ?`, draft.Version).Scan(&scored)
		_ = d.Reader().QueryRowContext(ctx, `SELECT COUNT(*) FROM contacts c LEFT JOIN contact_scores s ON s.contact_id = c.id WHERE c.id = ? AND COALESCE(s.scored_version, 0) <> ?`, firstID, draft.Version).Scan(&first)
		if scored != 1202 || first != 1 {
			t.Fatalf("scored under the new version: %d (the first, done before the crash, untouched: %d)", scored, first)
		}
		c, _ := cs.GetContact(ctx, d.Reader(), platform.System(1), boss)
		if c.Score.FitGrade != "A" || c.LifecycleStage != platform.StageMQL {
			t.Fatalf("部長: grade %s, stage %s", c.Score.FitGrade, c.LifecycleStage)
		}
		hist, _ := platform.LifecycleHistory(ctx, d.Reader(), 1, boss)
		if last := hist[len(hist)-1]; last.CauseKind != "rule" {
			t.Fatalf("cause: %+v", last)
		}
	})
}
