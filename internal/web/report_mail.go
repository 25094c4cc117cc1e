package web

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/ryorin/ryorin/internal/db"
	"github.com/ryorin/ryorin/internal/i18n"
	"github.com/ryorin/ryorin/internal/insight"
	"github.com/ryorin/ryorin/internal/platform"
)

// renderString renders a page template to a string (emails).
func (s *Server) renderString(name string, data any) (string, error) {
	t, err := s.page(name)
	if err != nil {
		return "", err
	}
	if s.OnRender != nil {
		s.OnRender(name)
	}
	var buf strings.Builder
	if err := t.ExecuteTemplate(&buf, "root", data); err != nil {
		return "", fmt.Errorf("web: render %s: %w", name, err)
	}
	return buf.String(), nil
}

// SendScheduledReports emails every report schedule that is due in
// workspace ws: for each, the report of the period just ended, rendered for
// each recipient in their language and time zone. The period is claimed in
// the transaction that queues the mails, so it goes out once. It returns
// the messages queued.
func (s *Server) SendScheduledReports(ctx context.Context, ws int64) (int, error) {
	if s.Mailer == nil {
		return 0, nil
	}
	w, err := platform.GetWorkspace(ctx, s.DB.Reader(), ws)
	if err != nil {
		return 0, err
	}
	schedules, err := insight.ListSchedules(ctx, s.DB.Reader(), ws)
	if err != nil {
		return 0, err
	}
	users, err := platform.ListUsers(ctx, s.DB.Reader(), ws)
	if err != nil {
		return 0, err
	}
	now := s.Clock.Now()
	queued := 0
	for _, sc := range schedules {
		p, due := sc.Due(w, now)
		if !due {
			continue
		}
		var msgs []platform.OutboundMessage
		for _, u := range users {
			if !u.Active || !containsID(sc.Recipients, u.ID) {
				continue
			}
			m, err := s.alignmentMail(ctx, w, u, sc.Period, now, p)
			if err != nil {
				return queued, err
			}
			msgs = append(msgs, m)
		}
		err := s.DB.Write(ctx, "web.SendScheduledReports", func(tx *db.Tx) error {
			ok, err := insight.ClaimSchedule(ctx, tx, ws, sc.ID, p)
			if err != nil || !ok {
				return err
			}
			for _, m := range msgs {
				if _, err := s.Mailer.Queue(ctx, tx, ws, m); err != nil {
					return err
				}
			}
			queued += len(msgs)
			return nil
		})
		if err != nil {
			return queued, err
		}
	}
	return queued, nil
}

func containsID(ids []int64, id int64) bool {
	for _, x := range ids {
		if x == id {
			return true
		}
	}
	return false
}

// alignmentMail renders the alignment report of period p (kind week or
// month, just ended at now) for user u.
func (s *Server) alignmentMail(ctx context.Context, w platform.Workspace, u platform.User, kind string, now time.Time, p insight.Period) (platform.OutboundMessage, error) {
	lang, _ := i18n.Parse(w.DefaultLocale)
	if l, ok := i18n.Parse(u.Locale); ok && u.Locale != "" {
		lang = l
	}
	c := &rctx{User: u, Actor: u.Actor(w.ID, platform.ActorUser), WS: w, Lang: lang, Loc: w.Location(), Now: now}
	if u.TimeZone != "" {
		if loc, err := time.LoadLocation(u.TimeZone); err == nil {
			c.Loc = loc
		}
	}
	// The emailed copy is the whole workspace's: a schedule has no filter
	// (the mail says so, and the full report link can be filtered).
	data, err := s.alignmentData(ctx, c, w, kind, 1, ReportFilter{Report: "alignment", Scope: insight.AlignmentScope})
	if err != nil {
		return platform.OutboundMessage{}, err
	}
	data.Mail = true
	data.Link = strings.TrimRight(w.PublicBaseURL, "/") + "/reports/alignment?period=" + kind + "&offset=1"
	html, err := s.renderString("mail_alignment", data)
	if err != nil {
		return platform.OutboundMessage{}, err
	}
	rng := data.Date(p.From) + " – " + data.Date(p.To.AddDate(0, 0, -1))
	var text strings.Builder
	fmt.Fprintf(&text, "%s %s\n\n", i18n.T(lang, "align.title"), rng)
	for _, k := range data.KPIs {
		fmt.Fprintf(&text, "%s: %s (%s %s)\n", i18n.T(lang, "kpi."+k.Key), data.KPIShow(k), i18n.T(lang, "kpi.before"), data.KPIShow(data.Before[k.Key]))
	}
	fmt.Fprintf(&text, "\n%s: %s\n", i18n.T(lang, "align.mail.open"), data.Link)
	fmt.Fprintf(&text, "%s\n", i18n.T(lang, "align.mail.unfiltered"))
	return platform.OutboundMessage{Kind: "report", To: u.Email, Subject: i18n.T(lang, "align.mail.subject", "range", rng),
		Text: text.String(), HTML: html, RefType: "report_schedule"}, nil
}

func (s *Server) saveReportSchedule(w http.ResponseWriter, r *http.Request, c *rctx) error {
	if err := r.ParseForm(); err != nil {
		return err
	}
	in := insight.ReportSchedule{Kind: "alignment", Period: r.PostFormValue("period")}
	in.Weekday, _ = strconv.Atoi(r.PostFormValue("weekday"))
	in.Hour, _ = strconv.Atoi(r.PostFormValue("hour"))
	for _, v := range r.PostForm["recipients"] {
		if id, err := strconv.ParseInt(v, 10, 64); err == nil {
			in.Recipients = append(in.Recipients, id)
		}
	}
	_, err := insight.SaveSchedule(r.Context(), s.DB, c.Actor, 0, in, c.Now)
	if _, msg, ok := formError(err); ok {
		flash(w, localize(c.Lang, msg))
		http.Redirect(w, r, "/reports/alignment#schedule", http.StatusSeeOther)
		return nil
	}
	if err != nil {
		return err
	}
	flash(w, i18n.T(c.Lang, "common.saved"))
	http.Redirect(w, r, "/reports/alignment#schedule", http.StatusSeeOther)
	return nil
}

func (s *Server) deleteReportSchedule(w http.ResponseWriter, r *http.Request, c *rctx) error {
	if err := insight.DeleteSchedule(r.Context(), s.DB, c.Actor, formInt(r.PathValue("id")), c.Now); err != nil {
		return err
	}
	flash(w, i18n.T(c.Lang, "common.deleted"))
	http.Redirect(w, r, "/reports/alignment#schedule", http.StatusSeeOther)
	return nil
}
