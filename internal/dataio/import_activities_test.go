package dataio_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/ryorin/ryorin/internal/crm"
	"github.com/ryorin/ryorin/internal/dataio"
	"github.com/ryorin/ryorin/internal/db"
	"github.com/ryorin/ryorin/internal/dbtest"
	"github.com/ryorin/ryorin/internal/platform"
)

const activitiesCSV = "種別,件名,内容,日時,通話結果,担当者,メールアドレス,会社名,案件名,期限,完了\n" +
	"電話,初回架電,,2024/4/1 10:00,不在,admin@example.com,old@example.jp,,,,\n" + // 2: a call, company from the contact
	"商談,訪問,,令和6年4月2日,,,,既存商事,大型案件,,\n" + // 3: a meeting with a company and a deal by name
	"メモ,メモ,本文,45383,,,,,,,\n" + // 4: concerns nothing
	"タスク,資料送付,,,,,old@example.jp,,,2024-04-10,完了\n" + // 5: a task done on its due date
	"メール,x,,2024/4/3,アポ獲得,,old@example.jp,,,,\n" + // 6: an outcome on an email
	"電話,y,,2024/4/3,,,nobody@example.jp,,,,\n" + // 7: no such contact
	"会議X,z,,,,,old@example.jp,,,,\n" + // 8: no such kind
	"タスク,未完,,,,,old@example.jp,,,2099-01-01,未着手\n" // 9: an open task: not an activity yet

func TestImportActivities_LinksRecordsBumpsLastActivityAndReportsBadRows(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := setup(t, d)
		withPipeline(t, f)
		ctx := context.Background()
		co, err := f.crm.CreateCompany(ctx, f.admin, crm.CompanyInput{Name: ptr("既存商事株式会社")})
		if err != nil {
			t.Fatal(err)
		}
		old, err := f.crm.CreateContact(ctx, f.admin, crm.ContactInput{Email: ptr("old@example.jp"), FamilyName: ptr("山田"), CompanyID: &co.ID})
		if err != nil {
			t.Fatal(err)
		}
		deal, err := f.crm.CreateDeal(ctx, f.admin, crm.DealInput{Name: ptr("大型案件"), CompanyID: &co.ID})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.crm.CreateDeal(ctx, f.admin, crm.DealInput{Name: ptr("大型案件")}); err != nil { // a namesake elsewhere
			t.Fatal(err)
		}
		im := f.importCSV(t, dataio.Activities, activitiesCSV, dataio.ModeUpdate)
		if got := counts(im); got != "created 4 updated 0 skipped 0 failed 4" || im.Status != dataio.StatusDone {
			t.Fatalf("%s %s", got, im.Status)
		}
		var buf bytes.Buffer
		if err := f.io.ErrorsCSV(ctx, &buf, 1, im.ID, "en"); err != nil {
			t.Fatal(err)
		}
		for _, want := range []string{"\n4,contact_email,", "\n6,call_outcome,", "\n7,contact_email,", "\n8,kind,"} {
			if !strings.Contains(buf.String(), want) {
				t.Errorf("error CSV lacks %q:\n%s", want, buf.String())
			}
		}
		w, _ := platform.GetWorkspace(ctx, d.Reader(), 1)
		loc := w.Location()
		var kind, outcome string
		var company, dealID int64
		var occurred int64
		err = d.Reader().QueryRowContext(ctx, `SELECT kind, call_outcome, COALESCE(company_id, 0), occurred_at FROM activities WHERE subject = '初回架電'`).
			Scan(&kind, &outcome, &company, &occurred)
		if err != nil || kind != "call" || outcome != "no_answer" || company != co.ID || !time.UnixMilli(occurred).Equal(time.Date(2024, 4, 1, 10, 0, 0, 0, loc)) {
			t.Errorf("call: %s %s %d %v %v", kind, outcome, company, time.UnixMilli(occurred), err)
		}
		err = d.Reader().QueryRowContext(ctx, `SELECT kind, COALESCE(company_id, 0), COALESCE(deal_id, 0) FROM activities WHERE subject = '訪問'`).Scan(&kind, &company, &dealID)
		if err != nil || kind != "meeting" || company != co.ID || dealID != deal.ID {
			t.Errorf("meeting: %s %d %d %v", kind, company, dealID, err)
		}
		var done *int64
		err = d.Reader().QueryRowContext(ctx, `SELECT done_at, occurred_at FROM activities WHERE subject = '資料送付'`).Scan(&done, &occurred)
		if err != nil || done == nil || *done != occurred || !time.UnixMilli(occurred).Equal(time.Date(2024, 4, 10, 0, 0, 0, 0, loc)) {
			t.Errorf("task: %v %v %v", done, occurred, err)
		}
		// Last activity moved as logging each activity would move it.
		c, _ := f.crm.GetContact(ctx, d.Reader(), f.admin, old.ID)
		if c.LastActivityAt == nil || !c.LastActivityAt.Equal(time.Date(2024, 4, 10, 0, 0, 0, 0, loc)) {
			t.Errorf("contact's last activity = %v", c.LastActivityAt)
		}
		dl, _ := f.crm.GetDeal(ctx, d.Reader(), f.admin, deal.ID)
		if dl.LastActivityAt == nil || !dl.LastActivityAt.Equal(time.Date(2024, 4, 2, 0, 0, 0, 0, loc)) {
			t.Errorf("deal's last activity = %v", dl.LastActivityAt)
		}
		if n := count(t, d, `SELECT COUNT(*) FROM companies WHERE last_activity_at > 0`); n != 1 {
			t.Errorf("%d companies touched", n)
		}
		if n := count(t, d, `SELECT COUNT(*) FROM timeline WHERE kind LIKE 'activity.%'`); n != 0 {
			t.Errorf("%d per-activity timeline entries, want only the summary", n)
		}
		// Undo deletes the activities.
		if _, err := f.io.Undo(ctx, f.admin, im.ID); err != nil {
			t.Fatal(err)
		}
		if err := f.io.RunUndo(ctx, 1, im.ID); err != nil {
			t.Fatal(err)
		}
		if n := count(t, d, `SELECT COUNT(*) FROM activities`); n != 0 {
			t.Errorf("%d activities after undo", n)
		}
		if n := count(t, d, `SELECT COUNT(*) FROM contacts`); n != 1 {
			t.Errorf("undo deleted a contact the import linked to")
		}
	})
}

func TestImportActivities_ResumesAfterACrashWithEveryRowExactlyOnce(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := setup(t, d)
		ctx := context.Background()
		if _, err := f.crm.CreateContact(ctx, f.admin, crm.ContactInput{Email: ptr("a@example.jp"), FamilyName: ptr("山田")}); err != nil {
			t.Fatal(err)
		}
		var b strings.Builder
		b.WriteString("Activity Type,Subject,Activity Date,Call Outcome,Email\n")
		for i := 1; i <= 500; i++ {
			fmt.Fprintf(&b, "Call,架電%d,2024-04-01,No answer,a@example.jp\n", i)
			if i%100 == 0 {
				b.WriteString("Call,壊れた,2024-04-01,No answer,b@example.jp\n")
			}
		}
		im := f.load(t, dataio.Activities, b.String(), dataio.ModeUpdate)
		if err := f.io.Run(ctx, 1, im.ID, dataio.RunOptions{BatchRows: 101, StopAfterBatches: 2}); !errors.Is(err, dataio.ErrStopped) {
			t.Fatalf("run 1: %v", err)
		}
		f.clock.Advance(3 * time.Minute)
		other := dataio.New(d, f.clock, f.crm, nil)
		if err := other.Run(ctx, 1, im.ID, dataio.RunOptions{BatchRows: 101}); err != nil {
			t.Fatal(err)
		}
		done, _ := f.io.Get(ctx, d.Reader(), 1, im.ID)
		if done.Status != dataio.StatusDone || counts(done) != "created 500 updated 0 skipped 0 failed 5" {
			t.Fatalf("done: %s %s", done.Status, counts(done))
		}
		if n := count(t, d, `SELECT COUNT(DISTINCT subject) FROM activities WHERE call_outcome = 'no_answer'`); n != 500 {
			t.Errorf("%d distinct activities", n)
		}
		if n := count(t, d, `SELECT COUNT(*) FROM activities`); n != 500 {
			t.Errorf("%d activities, want 500", n)
		}
	})
}
