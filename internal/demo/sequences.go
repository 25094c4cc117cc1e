package demo

import (
	"fmt"
	"time"

	"github.com/ryorin/ryorin/internal/crm"
	"github.com/ryorin/ryorin/internal/db"
	"github.com/ryorin/ryorin/internal/platform"
	"github.com/ryorin/ryorin/internal/sales/sequences"
	"github.com/ryorin/ryorin/internal/salesmail"
)

// loadSequences adds two shared sales sequences (Japanese and English) and a
// dozen enrolments over the last weeks, run by the real engine day by day:
// some finished, some stopped by a reply or a meeting, one ended by the rep,
// the rest still active. The demo has no SMTP server, so the emails the steps
// queued are marked sent afterwards (and their send jobs dropped) rather than
// left to be delivered to the made-up addresses.
func (l *loader) loadSequences() error {
	defer l.clk.Set(l.end)
	jobs := platform.NewJobs(l.d, l.clk, nil)
	sm := salesmail.New(l.d, l.clk, l.crm, &platform.Mailer{DB: l.d, Clock: l.clk, Jobs: jobs}, nil)
	svc := sequences.New(l.d, l.clk, l.crm, sm, jobs, nil)
	ja, en := l.user("is1"), l.user("fs2")
	l.clk.Set(l.end.Add(-days(40)))
	jaSeq, err := svc.Save(l.ctx, ja.actor(), 0, sequences.Input{Name: "新規リード初回フォロー", Shared: true, Steps: []sequences.Step{
		{DelayDays: 0, Action: sequences.ActionEmail, Subject: "{{.FamilyName}}様 お問い合わせありがとうございます",
			Body: "{{.Salutation}}\n\nこのたびはお問い合わせいただきありがとうございます。インサイドセールスの中村です。\nご検討の参考に、導入事例をお送りします: https://ryorin.example/cases\n\n15分ほどオンラインでお話しできる日時があればお知らせください。\n"},
		{DelayDays: 2, Action: sequences.ActionCall, Note: "課題と検討時期を確認する"},
		{DelayDays: 3, Action: sequences.ActionEmail, Subject: "{{.FamilyName}}様 その後いかがでしょうか",
			Body: "{{.Salutation}}\n\n先日お送りした資料はご覧いただけましたでしょうか。\nご不明な点があれば、このメールにご返信ください。\n"},
		{DelayDays: 4, Action: sequences.ActionTask, Subject: "反応がなければナーチャリングへ戻す", Note: "返信・商談がなければ担当マーケへ連絡"},
	}})
	if err != nil {
		return fmt.Errorf("japanese sequence: %w", err)
	}
	enSeq, err := svc.Save(l.ctx, en.actor(), 0, sequences.Input{Name: "Trial follow-up", Shared: true, Steps: []sequences.Step{
		{DelayDays: 0, Action: sequences.ActionEmail, Subject: "Your Ryorin trial, {{.GivenName}}",
			Body: "Hi {{.GivenName}},\n\nThanks for starting a trial. Here is a short guide to the first steps: https://ryorin.example/guide\n\nBest,\nJames\n"},
		{DelayDays: 1, Action: sequences.ActionTask, Subject: "Check trial activity"},
		{DelayDays: 3, Action: sequences.ActionEmail, Subject: "Any questions, {{.GivenName}}?",
			Body: "Hi {{.GivenName}},\n\nHow is the trial going? Happy to walk you through it in 20 minutes.\n\nJames\n"},
		{DelayDays: 2, Action: sequences.ActionCall, Note: "Offer a demo"},
	}})
	if err != nil {
		return fmt.Errorf("english sequence: %w", err)
	}
	var jaPeople, enPeople []*contact
	for _, p := range l.contacts {
		if p.id == 0 || p.email == "" || p.customer {
			continue
		}
		if p.en {
			enPeople = append(enPeople, p)
		} else {
			jaPeople = append(jaPeople, p)
		}
	}
	// Days ago each contact is enrolled, and what happens (and how many days
	// after enrolment).
	type plan struct {
		ago    int
		en     bool
		what   string // "" stays in (finishes if long enough), reply, meeting, end
		after  int
		person *contact
	}
	plans := []plan{
		{ago: 27}, {ago: 25, what: "reply", after: 3}, {ago: 23, what: "meeting", after: 4}, {ago: 21},
		{ago: 19, what: "reply", after: 1}, {ago: 16, what: "end", after: 5}, {ago: 12, what: "meeting", after: 6}, {ago: 8},
		{ago: 4}, {ago: 2, what: "reply", after: 1},
		{ago: 20, en: true}, {ago: 13, en: true, what: "reply", after: 4}, {ago: 3, en: true},
	}
	for i := range plans {
		pool := &jaPeople
		if plans[i].en {
			pool = &enPeople
		}
		if len(*pool) == 0 {
			pool = &jaPeople
		}
		if len(*pool) == 0 {
			return nil
		}
		plans[i].person = (*pool)[len(*pool)-1]
		*pool = (*pool)[:len(*pool)-1]
	}
	enrolments := make([]int64, len(plans))
	day := func(ago int, hour int) time.Time {
		d := l.end.In(l.jst).AddDate(0, 0, -ago)
		return time.Date(d.Year(), d.Month(), d.Day(), hour, 5, 0, 0, l.jst)
	}
	for ago := 28; ago >= 0; ago-- {
		l.clk.Set(day(ago, 9))
		if l.clk.Now().After(l.end) {
			break
		}
		if _, err := svc.Tick(l.ctx, ws); err != nil {
			return err
		}
		l.clk.Set(day(ago, 10))
		for i, p := range plans {
			if p.ago != ago || l.clk.Now().After(l.end) {
				continue
			}
			seq, rep := jaSeq, ja
			if p.en && p.person.en {
				seq, rep = enSeq, en
			}
			e, err := svc.Enrol(l.ctx, rep.actor(), seq.ID, p.person.id)
			if err != nil {
				return fmt.Errorf("enrol: %w", err)
			}
			enrolments[i] = e.ID
			if _, err := svc.Tick(l.ctx, ws); err != nil {
				return err
			}
		}
		l.clk.Set(day(ago, 15))
		if l.clk.Now().After(l.end) {
			continue
		}
		for i, p := range plans {
			if p.what == "" || p.ago-p.after != ago || enrolments[i] == 0 {
				continue
			}
			rep := ja
			if p.en && p.person.en {
				rep = en
			}
			switch p.what {
			case "reply":
				subject, text := "Re: お問い合わせの件", "ご連絡ありがとうございます。来週お打ち合わせできればと思います。"
				if p.person.en {
					subject, text = "Re: your trial", "Thanks, could we talk next week?"
				}
				if _, err := sm.Inbound(l.ctx, rep.actor(), salesmail.InboundMessage{From: p.person.email, Subject: subject, Text: text,
					MessageID: fmt.Sprintf("<demo-seq-%d@customer.example>", i)}); err != nil {
					return fmt.Errorf("reply: %w", err)
				}
			case "meeting":
				at := l.clk.Now().AddDate(0, 0, 3)
				subject := "オンライン商談"
				if p.person.en {
					subject = "Online meeting"
				}
				if _, err := l.crm.LogActivity(l.ctx, rep.actor(), crm.ActivityInput{Kind: ptr("meeting"), Subject: &subject, OccurredAt: &at,
					ContactID: ptr(p.person.id)}); err != nil {
					return fmt.Errorf("meeting: %w", err)
				}
			case "end":
				if _, err := svc.End(l.ctx, rep.actor(), enrolments[i]); err != nil {
					return fmt.Errorf("end: %w", err)
				}
			}
		}
	}
	l.clk.Set(l.end)
	if _, err := svc.Tick(l.ctx, ws); err != nil {
		return err
	}
	return l.d.Write(l.ctx, "demo.sequences.mail", func(tx *db.Tx) error {
		if _, err := tx.ExecContext(l.ctx, `UPDATE mail_messages SET status = 'sent', sent_at = created_at WHERE workspace_id = ? AND kind = 'sales' AND status = 'queued'`, ws); err != nil {
			return err
		}
		_, err := tx.ExecContext(l.ctx, `DELETE FROM jobs WHERE workspace_id = ? AND kind = ? AND status = 'queued'`, ws, platform.MailSendJob)
		return err
	})
}
