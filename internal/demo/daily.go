package demo

import (
	"fmt"
	"time"

	"github.com/ryorin/ryorin/internal/insight"
	"github.com/ryorin/ryorin/internal/platform"
	"github.com/ryorin/ryorin/internal/sales"
)

// Daily reports (日報): each rep hands in a report on most of the last five
// working days at about half past six in the evening; their manager answers
// some of them the same evening. One report is left unsubmitted each day, so
// the team view has someone to chase.

var (
	repNotesJA = []string{
		"午前中は新規リードへの架電に集中。受付止まりが多く、決裁者につながったのは1件のみ。明日は時間帯を変えて再架電します。",
		"既存顧客の追加提案で先方部長と面談。予算は来期とのことなので、稟議用の資料を来週送付します。",
		"デモ後の反応は良好。競合と比較中とのことで、導入事例を追加で送りました。価格面の相談をさせてください。",
		"展示会リードのフォロー。担当者接続率が高く、アポを取れました。資料請求経由のリードは反応が薄いです。",
		"見積の提示まで進みました。値引きの要望があり、判断に迷っています。明日ご相談させてください。",
	}
	repNotesEN = []string{
		"Spent the morning on follow-up calls. Two decision makers reached; one demo booked for next week.",
		"Pricing questions from the finance team. Sent the ROI sheet; need help on the volume discount.",
		"Quiet day on the phone, good progress on the proposal for the Osaka account.",
	}
	mgrNotesJA = []string{
		"お疲れさまです。時間帯を変えるのは良いですね。夕方16時台のつながりやすさも試してみてください。",
		"稟議資料は先方の評価軸に合わせて作りましょう。明日10分ほど打ち合わせしましょう。",
		"値引きは10%までなら私の承認で進めて大丈夫です。それ以上は条件を整理して相談してください。",
		"アポ獲得ナイスです！初回訪問の準備を一緒に確認しましょう。",
	}
	mgrNotesEN = []string{
		"Good work. Let's look at the discount together tomorrow morning.",
		"Nice progress. Loop in the solutions engineer for the demo.",
	}
)

func (l *loader) loadDailyReports() error {
	svc := sales.New(l.d, l.clk, nil, &platform.Notifier{DB: l.d, Clock: l.clk, Log: l.log})
	reps := []string{"fs1", "fs2", "is1", "is2"}
	managers := map[string]string{"fs1": "fs_mgr", "fs2": "fs_mgr", "is1": "is_mgr", "is2": "is_mgr"}
	endDay := l.end.In(l.jst)
	var days []time.Time
	for d := endDay.AddDate(0, 0, -1); len(days) < 5; d = d.AddDate(0, 0, -1) {
		if d.Weekday() != time.Saturday && d.Weekday() != time.Sunday {
			days = append(days, time.Date(d.Year(), d.Month(), d.Day(), 18, 30, 0, 0, l.jst))
		}
	}
	defer l.clk.Set(l.end)
	n := 0
	for di, evening := range days {
		day := evening.Format(time.DateOnly)
		for ri, key := range reps {
			if (di+ri)%5 == 4 { // someone forgot
				continue
			}
			rep := l.user(key)
			notes := repNotesJA
			if rep.locale == "en" {
				notes = repNotesEN
			}
			l.clk.Set(evening.Add(time.Duration(ri*7) * time.Minute))
			r, err := svc.SubmitReport(l.ctx, rep.actor(), day, notes[(di+ri)%len(notes)], l.jst)
			if err != nil {
				return fmt.Errorf("report %s %s: %w", key, day, err)
			}
			n++
			if (di+ri)%3 == 2 {
				continue // not answered (yet)
			}
			mgrNotes := mgrNotesJA
			if rep.locale == "en" {
				mgrNotes = mgrNotesEN
			}
			l.clk.Set(evening.Add(time.Hour + time.Duration(ri*5)*time.Minute))
			if _, err := svc.CommentReport(l.ctx, l.user(managers[key]).actor(), r.ID, mgrNotes[(di+ri)%len(mgrNotes)]); err != nil {
				return fmt.Errorf("comment %s %s: %w", key, day, err)
			}
		}
	}
	l.log.Info("demo data: daily reports", "count", n)
	// Targets for every month of this fiscal quarter, so the today page
	// shows this month's progress and the forecast the quarter's.
	w, err := platform.GetWorkspace(l.ctx, l.d.Reader(), ws)
	if err != nil {
		return err
	}
	quarter, err := insight.PeriodOf(w, "quarter", 0, l.end)
	if err != nil {
		return err
	}
	for m := quarter.From; m.Before(quarter.To); m = m.AddDate(0, 1, 0) {
		month := m.Format("2006-01")
		for _, key := range reps {
			q := sales.Quota{Scope: "user", ScopeID: l.user(key).u.ID, Month: month, Revenue: 30_000_000, Deals: 8}
			if _, err := svc.SetQuota(l.ctx, l.admin.actor(), q); err != nil {
				return fmt.Errorf("quota %s: %w", key, err)
			}
		}
		for _, key := range []string{"fs1", "is1"} {
			q := sales.Quota{Scope: "team", ScopeID: l.user(key).u.TeamID, Month: month, Revenue: 80_000_000, Deals: 20}
			if _, err := svc.SetQuota(l.ctx, l.admin.actor(), q); err != nil {
				return fmt.Errorf("team quota: %w", err)
			}
		}
	}
	return nil
}
