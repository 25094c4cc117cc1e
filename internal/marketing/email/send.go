package email

import (
	"context"
	"fmt"
	"html"
	"regexp"
	"strings"
	"time"

	"github.com/ryorin/ryorin/internal/db"
	"github.com/ryorin/ryorin/internal/errs"
	"github.com/ryorin/ryorin/internal/i18n"
	"github.com/ryorin/ryorin/internal/platform"
)

// Recipient statuses in the send log, and the reasons a contact is skipped.
const (
	RecipientQueued  = "queued"
	RecipientSkipped = "skipped"

	ReasonNoEmail    = "no_email"
	ReasonNoConsent  = "no_consent"
	ReasonSuppressed = "suppressed"
	ReasonRender     = "render_error"
)

// Link lifetimes. Unsubscribe links must keep working long after a send.
const (
	trackTTL = 366 * 24 * time.Hour
	unsubTTL = 5 * 366 * 24 * time.Hour
)

// Signed link purposes.
const (
	purposeOpen  = "email.open"
	purposeClick = "email.click"
	purposeUnsub = "email.unsubscribe"
)

type sendJob struct {
	Campaign int64 `json:"campaign"`
	// At is the campaign's start time the job was made for (0: jobs queued
	// before scheduling existed); a job whose campaign has another start time
	// (taken back and scheduled again) does nothing.
	At int64 `json:"at,omitempty"`
}

// recipient is an audience member as a send needs it.
type recipient struct {
	ContactID  int64
	Email      string
	FamilyName string
	GivenName  string
	Title      string
	Department string
	Company    string
	Consent    string
	Suppressed bool
	// TopInterest and Segments are loaded per batch for block campaigns
	// with variant blocks (personalise).
	TopInterest string
	Segments    []int64
	// ContentLinks are the recipient's links to the campaign's content
	// blocks' assets (personalise).
	ContentLinks map[int64]string
}

// skipReason says why a recipient gets no message, or "" to send.
func (r recipient) skipReason() string {
	switch {
	case r.Email == "":
		return ReasonNoEmail
	case r.Consent != "granted":
		return ReasonNoConsent
	case r.Suppressed:
		return ReasonSuppressed
	}
	return ""
}

const recipientSelect = `SELECT c.id, COALESCE(c.email, ''), c.family_name, c.given_name, c.title, c.department, COALESCE(co.name, ''),
	c.consent_email, CASE WHEN s.email IS NULL THEN 0 ELSE 1 END
	FROM contacts c
	LEFT JOIN companies co ON co.workspace_id = c.workspace_id AND co.id = c.company_id
	LEFT JOIN email_suppressions s ON s.workspace_id = c.workspace_id AND s.email = LOWER(c.email)`

func scanRecipients(rows interface {
	Next() bool
	Scan(...any) error
	Err() error
}) ([]recipient, error) {
	var out []recipient
	for rows.Next() {
		var r recipient
		var sup int
		if err := rows.Scan(&r.ContactID, &r.Email, &r.FamilyName, &r.GivenName, &r.Title, &r.Department, &r.Company, &r.Consent, &sup); err != nil {
			return nil, err
		}
		r.Suppressed = sup == 1
		out = append(out, r)
	}
	return out, rows.Err()
}

func loadRecipients(ctx context.Context, q db.Querier, ws int64, cond string, args ...any) ([]recipient, error) {
	rows, err := q.QueryContext(ctx, `-- email.loadRecipients
		`+recipientSelect+` WHERE c.workspace_id = ? AND `+cond, append([]any{ws}, args...)...)
	if err != nil {
		return nil, fmt.Errorf("email.loadRecipients: %w", err)
	}
	defer rows.Close()
	return scanRecipients(rows)
}

// audienceBatch reads the next members after contact id `after`, walking the
// membership table's primary key.
func audienceBatch(ctx context.Context, q db.Querier, ws int64, c Campaign, after int64, limit int) ([]recipient, error) {
	table, key := "list_members", "list_id"
	if c.AudienceKind == AudienceSegment {
		table, key = "segment_members", "segment_id"
	}
	rows, err := q.QueryContext(ctx, `-- email.audienceBatch
		`+recipientSelect+`
		JOIN `+table+` m ON m.workspace_id = c.workspace_id AND m.contact_id = c.id
		WHERE m.workspace_id = ? AND m.`+key+` = ? AND m.contact_id > ?
		ORDER BY m.contact_id LIMIT ?`, ws, c.AudienceID, after, limit)
	if err != nil {
		return nil, fmt.Errorf("email.audienceBatch: %w", err)
	}
	defer rows.Close()
	return scanRecipients(rows)
}

func (s *Service) handleSend(ctx context.Context, j platform.Job) error {
	var p sendJob
	if err := j.Decode(&p); err != nil {
		return platform.Permanent(fmt.Errorf("%s payload: %w", SendJob, err))
	}
	started := s.Clock.Now()
	handled := 0
	// Each batch after the first is decided (read and rendered) while the
	// one before is written; its transaction uses that work when the
	// campaign is where the decision assumed it would be.
	var next *lookahead
	defer func() { next.wait() }()
	for {
		if err := ctx.Err(); err != nil {
			return err // released; the next run resumes at the cursor
		}
		pre := next.wait()
		next = nil
		r, err := s.sendBatch(ctx, j.WorkspaceID, p, handled, pre, func(pl *batchPlan, now time.Time) {
			next = s.planAhead(ctx, j.WorkspaceID, p, pl, handled+len(pl.ds), now)
		})
		if errs.Is(err, errs.NotFound) {
			return nil // the campaign was deleted
		}
		if err != nil {
			return err
		}
		handled += r.n
		switch {
		case r.wait != nil:
			// Outside the sending window: carry on when it opens.
			return s.continueAt(ctx, j.WorkspaceID, p, *r.wait, "window")
		case r.done:
			return nil
		case r.perMinute > 0 && handled >= r.perMinute:
			// This minute's share is out: carry on a minute after this run began.
			return s.continueAt(ctx, j.WorkspaceID, p, started.Add(time.Minute), "rate")
		}
	}
}

// continueAt queues the rest of a throttled or windowed send as a new job
// at t; the key makes a rerun of this job queue it once.
func (s *Service) continueAt(ctx context.Context, ws int64, p sendJob, t time.Time, why string) error {
	return s.DB.Write(ctx, "email.continueAt", func(tx *db.Tx) error {
		var cursor int64
		if err := tx.QueryRowContext(ctx, `SELECT cursor_id FROM email_campaigns WHERE workspace_id = ? AND id = ?`, ws, p.Campaign).Scan(&cursor); err != nil {
			return fmt.Errorf("email.continueAt: %w", err)
		}
		_, _, err := platform.Enqueue(ctx, tx, ws, SendJob, p, platform.EnqueueOptions{RunAt: t,
			UniqueKey: fmt.Sprintf("campaign:%d:%d:%s:%d:%d", p.Campaign, p.At, why, cursor, db.Millis(t)), MaxAttempts: 20}, s.Clock.Now(), s.Jobs)
		return err
	})
}

// batchResult is what one batch did: recipients handled, whether the send
// is over (or not this job's any more), the campaign's rate limit, and when
// to resume if the sending window is closed.
type batchResult struct {
	n         int
	done      bool
	perMinute int
	wait      *time.Time
}

// windowOpen reports whether now is within the sending window [start, end)
// (hours in loc; start == end: always), and if not, when it next opens.
func windowOpen(loc *time.Location, start, end int, now time.Time) (bool, time.Time) {
	if start == end {
		return true, now
	}
	t := now.In(loc)
	h := t.Hour()
	in := (start < end && h >= start && h < end) || (start > end && (h >= start || h < end))
	if in {
		return true, now
	}
	next := time.Date(t.Year(), t.Month(), t.Day(), start, 0, 0, 0, loc)
	if !next.After(t) {
		next = next.AddDate(0, 0, 1)
	}
	return false, next
}

// sendBatch handles the next batch of the audience in one transaction: each
// member gets a send-log row, and those who may receive mail get their
// message queued with it, and the cursor moves past them. A crash before the
// commit leaves nothing; after it, the batch is never done again. handled is
// how many this job run has handled already (for the per-minute limit).
// pre, when not nil, is the batch decided ahead (used if still valid);
// ahead is told of the batch once it is decided, so the next one can be
// decided while this one is written.
func (s *Service) sendBatch(ctx context.Context, ws int64, job sendJob, handled int, pre *batchPlan, ahead func(*batchPlan, time.Time)) (res batchResult, err error) {
	now := s.Clock.Now()
	id := job.Campaign
	// Rendering 200 messages inside the transaction held SQLite's single
	// writer for 60–70 ms under load: there the batch is decided first from
	// a read, and the transaction uses it when the campaign state it was
	// decided from is unchanged (it decides again itself otherwise). A
	// consent revoked in between counts as revoked just after the batch, as
	// one revoked during the transaction always did. PostgreSQL has no single
	// writer, and the extra reads would only slow its send job.
	if pre == nil && s.DB.Dialect == db.SQLite {
		pre = s.prePlan(ctx, ws, job, handled, now, nil)
	}
	err = s.DB.Write(ctx, "email.sendBatch", func(tx *db.Tx) error {
		c, err := getCampaign(ctx, tx, ws, id)
		if err != nil {
			return err
		}
		if job.At != 0 && (c.SendAt == nil || db.Millis(*c.SendAt) != job.At) {
			res.done = true // taken back or scheduled again: another job's
			return nil
		}
		if c.Status == StatusScheduled {
			if _, err := tx.ExecContext(ctx, `UPDATE email_campaigns SET status = ?, updated_at = ? WHERE workspace_id = ? AND id = ?`,
				StatusSending, db.Millis(now), ws, id); err != nil {
				return fmt.Errorf("email.sendBatch: %w", err)
			}
			c.Status = StatusSending
		}
		if c.Status != StatusSending {
			res.done = true
			return nil
		}
		res.perMinute = c.PerMinute
		w, err := platform.GetWorkspace(ctx, tx, ws)
		if err != nil {
			return err
		}
		if open, next := windowOpen(w.Location(), c.WindowStart, c.WindowEnd, now); !open {
			res.wait = &next
			return nil
		}
		var base, phase string
		var cursor int64
		if err := tx.QueryRowContext(ctx, `-- email.sendBatch.cursor
			SELECT base_url, cursor_id, ab_phase FROM email_campaigns WHERE workspace_id = ? AND id = ?`, ws, id).Scan(&base, &cursor, &phase); err != nil {
			return fmt.Errorf("email.sendBatch: %w", err)
		}
		if phase == "rest" && c.AB.Winner == "" {
			if c.AB.Winner, err = pickWinner(ctx, tx, ws, id, c.AB.Metric); err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, `UPDATE email_campaigns SET ab_winner = ? WHERE workspace_id = ? AND id = ?`, c.AB.Winner, ws, id); err != nil {
				return fmt.Errorf("email.sendBatch: %w", err)
			}
		}
		limit := s.Batch
		if c.PerMinute > 0 {
			limit = min(limit, c.PerMinute-handled)
		}
		var pl batchPlan
		if pre != nil && pre.matches(c, base, phase, cursor, limit) {
			pl = *pre // decided before the transaction, from the same state
		} else if pl, err = s.plan(ctx, tx, ws, c, w, base, phase, cursor, limit, now); err != nil {
			return err
		}
		rs, ds := pl.rs, pl.ds
		if len(rs) == 0 {
			res.done = true
			if phase == "test" {
				// The sample is out: the rest goes, with the winner, once
				// the wait is over.
				if _, err := tx.ExecContext(ctx, `UPDATE email_campaigns SET ab_phase = 'rest', cursor_id = 0 WHERE workspace_id = ? AND id = ?`, ws, id); err != nil {
					return fmt.Errorf("email.sendBatch: %w", err)
				}
				at := now.Add(time.Duration(c.AB.WaitMinutes) * time.Minute)
				_, _, err := platform.Enqueue(ctx, tx, ws, SendJob, job, platform.EnqueueOptions{RunAt: at,
					UniqueKey: fmt.Sprintf("campaign:%d:%d:ab", id, job.At), MaxAttempts: 20}, now, s.Jobs)
				return err
			}
			_, err := tx.ExecContext(ctx, `-- email.sendBatch.finish
				UPDATE email_campaigns SET status = ?, finished_at = ?, updated_at = ? WHERE workspace_id = ? AND id = ?`,
				StatusSent, db.Millis(now), db.Millis(now), ws, id)
			return err
		}
		if ahead != nil && c.PerMinute == 0 {
			ahead(&pl, now)
		}
		// A batch lost with a PostgreSQL crash is decided again: nothing
		// of it went out, since a message goes out only after its
		// 'sending' mark committed, and that commit waits for the flush of
		// every transaction before it (db.Tx.FlushLater).
		if err := tx.FlushLater(ctx); err != nil {
			return err
		}
		// The batch's messages go out together: one job and one SMTP
		// connection per 50 (platform.MailBatch).
		mb := s.Mailer.BatchFor(w)
		if err := s.sendMany(ctx, tx, ws, id, ds, now, mb); err != nil {
			return err
		}
		res.n += len(ds)
		if err := mb.Flush(ctx, tx); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `-- email.sendBatch.advance
			UPDATE email_campaigns SET cursor_id = ? WHERE workspace_id = ? AND id = ?`, rs[len(rs)-1].ContactID, ws, id)
		return err
	})
	return res, err
}

// batchPlan is a batch decided: its audience members after cursor and what
// becomes of each, with the campaign state it was decided from.
type batchPlan struct {
	cursor      int64
	base, phase string
	winner      string
	limit       int
	updated     time.Time
	rs          []recipient
	ds          []decision
}

// matches reports whether the plan was decided from this state.
func (p *batchPlan) matches(c Campaign, base, phase string, cursor int64, limit int) bool {
	return p.cursor == cursor && p.base == base && p.phase == phase && p.winner == c.AB.Winner && p.limit == limit &&
		p.updated.Equal(c.UpdatedAt)
}

// plan reads the next limit audience members after cursor through q and
// decides each one: skipped for a reason, or their message rendered.
func (s *Service) plan(ctx context.Context, q db.Querier, ws int64, c Campaign, w platform.Workspace, base, phase string, cursor int64, limit int, now time.Time) (batchPlan, error) {
	pl := batchPlan{cursor: cursor, base: base, phase: phase, winner: c.AB.Winner, limit: limit, updated: c.UpdatedAt}
	rs, err := audienceBatch(ctx, q, ws, c, cursor, limit)
	if err != nil || len(rs) == 0 {
		return pl, err
	}
	pa, err := Parse(c.Template)
	if err != nil {
		return pl, platform.Permanent(err)
	}
	lk := linker{key: w.SigningKey(), base: base, now: now, campaign: c.ID, lang: i18n.Lang(w.DefaultLocale), smtp: w.SMTP()}
	ft := lk.footerTexts()
	lk.foot = &ft
	if err := personalise(ctx, q, ws, c.Blocks, rs, &lk, false); err != nil {
		return pl, err
	}
	pb := pa
	if c.AB.SamplePercent > 0 {
		if pb, err = Parse(c.AB.variant(c.Template)); err != nil {
			return pl, platform.Permanent(err)
		}
	}
	ds := make([]decision, 0, len(rs))
	for _, r := range rs {
		variant, in := "", true
		switch phase {
		case "test":
			variant, in = sampleVariant(r.ContactID, c.AB.SamplePercent)
		case "rest":
			_, sampled := sampleVariant(r.ContactID, c.AB.SamplePercent)
			variant, in = c.AB.Winner, !sampled
		}
		if !in {
			continue
		}
		p := pa
		if variant == "B" {
			p = pb
		}
		ds = append(ds, lk.decide(p, r, variant))
	}
	pl.rs, pl.ds = rs, ds
	return pl, nil
}

// lookahead is a batch being decided in the background.
type lookahead struct {
	done chan struct{}
	pl   *batchPlan
}

// wait returns the batch decided, or nil (also for a nil lookahead).
func (l *lookahead) wait() *batchPlan {
	if l == nil {
		return nil
	}
	<-l.done
	return l.pl
}

// planAhead starts deciding the batch after prev, while prev's transaction
// writes it: the same read as prePlan's with the cursor where prev leaves
// it. What it reads of the campaign is from before prev commits; the next
// transaction uses the plan only if the campaign is then in that state with
// the cursor after prev.
func (s *Service) planAhead(ctx context.Context, ws int64, job sendJob, prev *batchPlan, handled int, now time.Time) *lookahead {
	if len(prev.rs) == 0 {
		return nil
	}
	l := &lookahead{done: make(chan struct{})}
	after := prev.rs[len(prev.rs)-1].ContactID
	go func() {
		defer close(l.done)
		l.pl = s.prePlan(ctx, ws, job, handled, now, &after)
	}()
	return l
}

// prePlan decides the next batch from a read, outside the write
// transaction, when the campaign is plainly sending; nil when it is not
// (scheduled, outside its window, a winner to pick, the end of the audience)
// or the read fails: the transaction then does all of it itself. after,
// when not nil, is the cursor to decide from instead of the stored one.
func (s *Service) prePlan(ctx context.Context, ws int64, job sendJob, handled int, now time.Time, after *int64) *batchPlan {
	q := s.DB.Reader()
	c, err := getCampaign(ctx, q, ws, job.Campaign)
	if err != nil || c.Status != StatusSending || (job.At != 0 && (c.SendAt == nil || db.Millis(*c.SendAt) != job.At)) {
		return nil
	}
	w, err := platform.GetWorkspace(ctx, q, ws)
	if err != nil {
		return nil
	}
	if open, _ := windowOpen(w.Location(), c.WindowStart, c.WindowEnd, now); !open {
		return nil
	}
	var base, phase string
	var cursor int64
	if err := q.QueryRowContext(ctx, `-- email.prePlan.cursor
		SELECT base_url, cursor_id, ab_phase FROM email_campaigns WHERE workspace_id = ? AND id = ?`, ws, job.Campaign).Scan(&base, &cursor, &phase); err != nil {
		return nil
	}
	if after != nil {
		cursor = *after
	}
	if phase == "rest" && c.AB.Winner == "" {
		return nil
	}
	limit := s.Batch
	if c.PerMinute > 0 {
		limit = min(limit, c.PerMinute-handled)
	}
	pl, err := s.plan(ctx, q, ws, c, w, base, phase, cursor, limit, now)
	if err != nil || len(pl.rs) == 0 {
		return nil
	}
	return &pl
}

// sampleVariant says whether contact id is in an A/B test's sample of pct
// percent and, if so, which variant it gets: a fixed hash of the id, so a
// resumed or repeated walk puts everyone where they were.
func sampleVariant(id int64, pct int) (variant string, in bool) {
	h := uint64(id) * 0x9E3779B97F4A7C15
	h ^= h >> 29
	if int(h%100) >= pct {
		return "", false
	}
	if (h>>32)%2 == 0 {
		return "A", true
	}
	return "B", true
}

// pickWinner compares the variants' unique open (or click) rates among the
// messages sent; a tie keeps A.
func pickWinner(ctx context.Context, tx *db.Tx, ws, id int64, metric string) (string, error) {
	col := "first_open_at IS NOT NULL"
	if metric == "clicks" {
		col = "clicks > 0"
	}
	rate := map[string]float64{}
	rows, err := tx.QueryContext(ctx, `SELECT variant, COUNT(*), SUM(CASE WHEN `+col+` THEN 1 ELSE 0 END) FROM campaign_recipients
		WHERE workspace_id = ? AND campaign_id = ? AND variant IN ('A', 'B') AND status <> 'skipped' GROUP BY variant`, ws, id)
	if err != nil {
		return "", fmt.Errorf("email.pickWinner: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var v string
		var n, hit int64
		if err := rows.Scan(&v, &n, &hit); err != nil {
			return "", err
		}
		if n > 0 {
			rate[v] = float64(hit) / float64(n)
		}
	}
	if err := rows.Err(); err != nil {
		return "", err
	}
	if rate["B"] > rate["A"] {
		return "B", nil
	}
	return "A", nil
}

// decision is what becomes of one recipient: skipped for a reason, or the
// message to queue.
type decision struct {
	r       recipient
	variant string
	reason  string
	msg     platform.OutboundMessage
}

// decide renders recipient r's message, or says why they are skipped.
func (l linker) decide(p *Parsed, r recipient, variant string) decision {
	d := decision{r: r, variant: variant, reason: r.skipReason()}
	if d.reason != "" {
		return d
	}
	rd, headers, err := l.render(p, r)
	if err != nil {
		d.reason = ReasonRender
		return d
	}
	d.msg = platform.OutboundMessage{Kind: "campaign", To: r.Email, Subject: rd.Subject, Text: rd.Text, HTML: rd.HTML,
		Headers: headers, RefType: "email_campaign", RefID: l.campaign}
	return d
}

// sendMany writes a batch's decisions in a few multi-row statements: the
// messages of recipients not yet in the send log are queued into mb, then
// the send log rows go in (a recipient already there was handled by an
// earlier run and is left alone; a message whose log row did not go in is
// deleted again).
func (s *Service) sendMany(ctx context.Context, tx *db.Tx, ws, campaign int64, ds []decision, now time.Time, mb *platform.MailBatch) error {
	if len(ds) == 0 {
		return nil
	}
	lo, hi := ds[0].r.ContactID, ds[0].r.ContactID
	for _, d := range ds {
		lo, hi = min(lo, d.r.ContactID), max(hi, d.r.ContactID)
	}
	ids := make([]any, 0, len(ds)+4)
	ids = append(ids, ws, campaign, lo, hi)
	for _, d := range ds {
		ids = append(ids, d.r.ContactID)
	}
	// The range beside the list is for PostgreSQL's planner: before the
	// table has statistics it takes 200 IN values to match most rows and
	// scans the whole send log for every batch; with the range the unique
	// key's index is the obvious plan.
	already, err := db.Int64s(ctx, tx, `-- email.sendMany.logged
		SELECT contact_id FROM campaign_recipients WHERE workspace_id = ? AND campaign_id = ? AND contact_id BETWEEN ? AND ?
		AND contact_id IN (`+db.Placeholders(len(ds))+`)`, ids...)
	if err != nil {
		return fmt.Errorf("email.sendMany: %w", err)
	}
	logged := make(map[int64]bool, len(already))
	for _, id := range already {
		logged[id] = true
	}
	var todo []decision
	for _, d := range ds {
		if !logged[d.r.ContactID] {
			todo = append(todo, d)
		}
	}
	var msgs []platform.OutboundMessage
	var at []int
	for i, d := range todo {
		if d.reason == "" {
			msgs, at = append(msgs, d.msg), append(at, i)
		}
	}
	mailID := make([]any, len(todo))
	if len(msgs) > 0 {
		mids, refused, err := mb.AddMany(ctx, tx, msgs)
		if err != nil {
			return err
		}
		for k, i := range at {
			switch {
			case refused[k] == nil:
				mailID[i] = mids[k]
			case errs.Is(refused[k], errs.Invalid): // e.g. an address the mailer refuses
				todo[i].reason = ReasonNoEmail
			default:
				return refused[k]
			}
		}
	}
	ms := db.Millis(now)
	inserted := map[int64]bool{}
	const chunk = 200
	for start := 0; start < len(todo); start += chunk {
		end := min(start+chunk, len(todo))
		args := make([]any, 0, (end-start)*8)
		for i := start; i < end; i++ {
			d := todo[i]
			status := RecipientQueued
			if d.reason != "" {
				status = RecipientSkipped
			}
			args = append(args, ws, campaign, d.r.ContactID, status, d.reason, d.variant, ms, mailID[i])
		}
		got, err := db.Int64s(ctx, tx, `-- email.sendMany.log
			INSERT INTO campaign_recipients (workspace_id, campaign_id, contact_id, status, reason, variant, created_at, mail_id)
			VALUES `+db.Rows(end-start, "(?, ?, ?, ?, ?, ?, ?, ?)")+` ON CONFLICT (workspace_id, campaign_id, contact_id) DO NOTHING RETURNING contact_id`, args...)
		if err != nil {
			return fmt.Errorf("email.sendMany: %w", err)
		}
		for _, id := range got {
			inserted[id] = true
		}
	}
	for i, d := range todo {
		if mailID[i] != nil && !inserted[d.r.ContactID] {
			if err := platform.DeleteMail(ctx, tx, ws, mailID[i].(int64)); err != nil {
				return fmt.Errorf("email.sendMany: %w", err)
			}
		}
	}
	return nil
}

// sendOne decides one recipient and, unless skipped, queues their message
// (a journey's single mail): sendMany with a batch of one.
func (s *Service) sendOne(ctx context.Context, tx *db.Tx, ws int64, lk linker, p *Parsed, r recipient, variant string, now time.Time) error {
	mb := s.Mailer.NewBatch(ctx, tx, ws)
	if err := s.sendMany(ctx, tx, ws, lk.campaign, []decision{lk.decide(p, r, variant)}, now, mb); err != nil {
		return err
	}
	return mb.Flush(ctx, tx)
}

// linker renders a campaign for one recipient with its signed links.
type linker struct {
	key      []byte
	base     string
	now      time.Time
	campaign int64
	lang     i18n.Lang
	smtp     platform.SMTPSettings
	// foot, when set, is footerTexts made once for a batch.
	foot *footerText
	// pages maps the batch's content share links to their assets' public
	// pages: a click on one is reported under the page, not the
	// recipient's own token.
	pages map[string]string
}

type openClaim struct {
	C int64 `json:"c"`
	K int64 `json:"k"`
}

type clickClaim struct {
	C int64  `json:"c"`
	K int64  `json:"k"`
	U string `json:"u"`
	// R is what the report counts the click as when not U: the asset's
	// page for a content share link, which is different per recipient.
	R string `json:"r,omitempty"`
}

var hrefRe = regexp.MustCompile(`(?i)(<a\b[^>]*?\bhref\s*=\s*")(https?://[^"]*)(")`)

func (l linker) render(p *Parsed, r recipient) (Rendered, map[string]string, error) {
	unsubTok, err := platform.SignLink(l.key, purposeUnsub, openClaim{C: l.campaign, K: r.ContactID}, l.now.Add(unsubTTL))
	if err != nil {
		return Rendered{}, nil, err
	}
	unsub := l.base + "/e/u/" + unsubTok
	f := Fields{Email: r.Email, FamilyName: r.FamilyName, GivenName: r.GivenName, Company: r.Company, Title: r.Title,
		Department: r.Department, Salutation: Salutation(r.Company, r.FamilyName), UnsubscribeURL: unsub,
		TopInterest: r.TopInterest, Segments: r.Segments, ContentLinks: r.ContentLinks}
	rd, err := p.Render(f)
	if err != nil {
		return rd, nil, err
	}
	if rd.HTML != "" {
		// Each http(s) link of an <a href> becomes its click link.
		var b strings.Builder
		b.Grow(len(rd.HTML) + 1024)
		last := 0
		for _, m := range hrefRe.FindAllStringSubmatchIndex(rd.HTML, -1) {
			target := html.UnescapeString(rd.HTML[m[4]:m[5]])
			if l.untracked(target, unsub) {
				continue
			}
			link, err := l.clickLink(r.ContactID, target)
			if err != nil {
				return rd, nil, err
			}
			b.WriteString(rd.HTML[last:m[4]])
			b.WriteString(link)
			last = m[5]
		}
		openTok, err := platform.SignLink(l.key, purposeOpen, openClaim{C: l.campaign, K: r.ContactID}, l.now.Add(trackTTL))
		if err != nil {
			return rd, nil, err
		}
		ft := l.footerTexts()
		footer := `<p style="font-size:12px;color:#666">` + html.EscapeString(ft.sender) + `<br><a href="` + html.EscapeString(unsub) + `">` +
			html.EscapeString(ft.unsubscribe) + `</a></p><img src="` + l.base + "/e/o/" + openTok +
			`.gif" width="1" height="1" alt="">`
		b.WriteString(rd.HTML[last:])
		h := b.String()
		if i := lastIndexFold(h, "</body>"); i >= 0 {
			rd.HTML = h[:i] + footer + h[i:]
		} else {
			rd.HTML = h + footer
		}
	}
	if rd.Text != "" {
		if rd.Text, err = l.trackText(rd.Text, r.ContactID, unsub); err != nil {
			return rd, nil, err
		}
		ft := l.footerTexts()
		rd.Text += "\n\n--\n" + ft.sender + "\n" + ft.unsubscribe + ": " + unsub + "\n"
	}
	headers := map[string]string{"List-Unsubscribe": "<" + unsub + ">", "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"}
	return rd, headers, nil
}

// footerText is the fixed part of every message's footer: the sender, as
// Japan's 特定電子メール法 requires, and the unsubscribe link's label.
type footerText struct {
	sender, unsubscribe string
}

// footerTexts returns the footer's texts: those the linker was given for
// a batch (the same for every message), or made now.
func (l linker) footerTexts() footerText {
	if l.foot != nil {
		return *l.foot
	}
	name := l.smtp.FromName
	if name == "" {
		name = l.smtp.FromAddress
	}
	return footerText{sender: i18n.T(l.lang, "email.footer.sender", "name", name, "address", l.smtp.FromAddress),
		unsubscribe: i18n.T(l.lang, "email.unsubscribe.link")}
}

// lastIndexFold is strings.LastIndex ignoring ASCII case, for an ASCII sub.
func lastIndexFold(s, sub string) int {
	for i := len(s) - len(sub); i >= 0; i-- {
		if strings.EqualFold(s[i:i+len(sub)], sub) {
			return i
		}
	}
	return -1
}
