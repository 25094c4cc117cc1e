package web_test

import (
	"context"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/ryorin/ryorin/internal/db"
	"github.com/ryorin/ryorin/internal/dbtest"
	"github.com/ryorin/ryorin/internal/platform"
)

// A manager schedules the weekly alignment report for two people, one
// reading Japanese and one English. On Monday at the hour each gets the
// report of the week just ended in their language, once: a second run, or
// a run an hour later, queues nothing; the next week it goes out again.
func TestReportSchedule_EmailsLastWeeksReportOnceToEachRecipientInTheirLanguage(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := start(t, d, true)
		ctx := context.Background()
		jst, _ := time.LoadLocation("Asia/Tokyo")
		e.clock.Set(time.Date(2026, 11, 18, 10, 0, 0, 0, jst)) // a Wednesday
		en, err := platform.CreateUser(ctx, d, platform.CLI(1), platform.NewUser{Email: "lee@example.com", Name: "Lee", Role: platform.RoleManager, Locale: "en"}, e.clock.Now())
		if err != nil {
			t.Fatal(err)
		}
		if err := d.Write(ctx, "test", func(tx *db.Tx) error {
			_, err := tx.ExecContext(ctx, `UPDATE users SET locale = 'ja' WHERE email = 'admin@example.com'`)
			return err
		}); err != nil {
			t.Fatal(err)
		}
		e.login()
		e.post("/reports/alignment/schedules", url.Values{"period": {"week"}, "weekday": {"1"}, "hour": {"8"}})
		var schedules int
		if err := d.Reader().QueryRowContext(ctx, `SELECT COUNT(*) FROM report_schedules`).Scan(&schedules); err != nil || schedules != 0 {
			t.Fatalf("a schedule without recipients was saved (%d, %v)", schedules, err)
		}
		if _, _, at := e.post("/reports/alignment/schedules", url.Values{"period": {"week"}, "weekday": {"1"}, "hour": {"8"}, "recipients": {"1", itoa(en.ID)}}); at != "/reports/alignment" {
			t.Fatalf("schedule went to %q", at)
		}
		if code, body := e.get("/reports/alignment"); code != 200 || !strings.Contains(body, "Lee") || !strings.Contains(body, `data-testid="align-schedule"`) {
			t.Fatalf("the schedule is not listed: %d", code)
		}
		count := func() int {
			var n int
			if err := d.Reader().QueryRowContext(ctx, `SELECT COUNT(*) FROM mail_messages WHERE kind = 'report'`).Scan(&n); err != nil {
				t.Fatal(err)
			}
			return n
		}
		// Wednesday: last week's report was due on Monday at 8 and never sent
		// (the schedule is new), so it goes now; not again the same week.
		for i, want := range []int{2, 0} {
			n, err := e.web.SendScheduledReports(ctx, 1)
			if err != nil || n != want {
				t.Fatalf("run %d queued %d (%v), want %d", i, n, err, want)
			}
		}
		rows, err := d.Reader().QueryContext(ctx, `SELECT m.to_addr, m.subject, b.html_body FROM mail_messages m JOIN mail_bodies b ON b.workspace_id = m.workspace_id AND b.mail_id = m.id WHERE m.kind = 'report' ORDER BY m.to_addr`)
		if err != nil {
			t.Fatal(err)
		}
		got := map[string][2]string{}
		for rows.Next() {
			var to, subj, html string
			if err := rows.Scan(&to, &subj, &html); err != nil {
				t.Fatal(err)
			}
			got[to] = [2]string{subj, html}
		}
		rows.Close()
		if s := got["admin@example.com"]; !strings.Contains(s[0], "連携会議レポート") || !strings.Contains(s[0], "2026年11月9日") || !strings.Contains(s[1], "新規MQL") {
			t.Errorf("Japanese report: %q %.200q", s[0], s[1])
		}
		if s := got["lee@example.com"]; !strings.Contains(s[0], "Alignment report") || !strings.Contains(s[1], "New MQLs") || strings.Contains(s[1], "<script") {
			t.Errorf("English report: %q %.200q", s[0], s[1])
		}
		// The next Monday at 7:00 is too early; at 8:00 this week's goes.
		e.clock.Set(time.Date(2026, 11, 23, 7, 0, 0, 0, jst))
		if n, _ := e.web.SendScheduledReports(ctx, 1); n != 0 {
			t.Errorf("sent %d before the hour", n)
		}
		e.clock.Set(time.Date(2026, 11, 23, 8, 5, 0, 0, jst))
		if n, _ := e.web.SendScheduledReports(ctx, 1); n != 2 || count() != 4 {
			t.Errorf("the next week queued %d (total %d), want 2 (4)", n, count())
		}
	})
}
