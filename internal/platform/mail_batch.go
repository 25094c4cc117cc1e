package platform

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/ryorin/ryorin/internal/db"
)

// Bulk mail (a campaign's recipients) goes through the same mail_messages
// table as every other message, but a batch of messages shares one
// mail.batch job and one SMTP connection instead of a job and a connection
// each. The batch is marked 'sending' in one transaction before the first
// message is handed over and its outcomes are recorded in one transaction
// after the last, so a crash in between leaves at most that batch unknown:
// never resent, counted.

// MailBatchJob is the job kind that sends a batch of queued messages.
const MailBatchJob = "mail.batch"

// MailBatchMax is the most messages one mail.batch job sends. The mail lane
// runs LaneWorkers batches at once, so a crash leaves at most
// LaneWorkers × MailBatchMax messages unknown (200 by default: one batch
// of a campaign's send).
const MailBatchMax = 50

type mailBatchJob struct {
	IDs []int64 `json:"ids"`
}

// MailBatch collects messages queued in one transaction for one mail.batch
// job. Use it for bulk mail: Add each message, then Flush before the
// transaction commits.
type MailBatch struct {
	m      *Mailer
	ws     int64
	domain string
	ids    []int64
}

// NewBatch starts a batch of messages for workspace ws in tx.
func (m *Mailer) NewBatch(ctx context.Context, tx *db.Tx, ws int64) *MailBatch {
	return &MailBatch{m: m, ws: ws, domain: m.messageIDDomain(ctx, tx, ws)}
}

// BatchFor starts a batch of messages for workspace w, read in the
// transaction the batch is queued in.
func (m *Mailer) BatchFor(w Workspace) *MailBatch {
	return &MailBatch{m: m, ws: w.ID, domain: messageIDDomainOf(w)}
}

// Add validates msg and stores it as queued; its job is added by Flush (or
// by Add itself each MailBatchMax messages).
func (b *MailBatch) Add(ctx context.Context, tx *db.Tx, msg OutboundMessage) (int64, error) {
	ids, refused, err := b.AddMany(ctx, tx, []OutboundMessage{msg})
	if err != nil {
		return 0, err
	}
	return ids[0], refused[0]
}

// AddMany validates msgs and stores the valid ones as queued in a few
// multi-row statements (their jobs are added as Add adds them). ids[i] is
// msgs[i]'s id, or 0 when refused[i] says why it was not stored.
func (b *MailBatch) AddMany(ctx context.Context, tx *db.Tx, msgs []OutboundMessage) (ids []int64, refused []error, err error) {
	ids, refused, err = b.m.insertMany(ctx, tx, b.ws, b.domain, msgs)
	if err != nil {
		return nil, nil, err
	}
	for i, id := range ids {
		if refused[i] != nil {
			continue
		}
		b.ids = append(b.ids, id)
		if len(b.ids) >= MailBatchMax {
			if err := b.Flush(ctx, tx); err != nil {
				return nil, nil, err
			}
		}
	}
	return ids, refused, nil
}

// insertMany validates msgs and stores the valid ones as queued, each with
// its Message-ID, in multi-row statements of up to 200. ids[i] is msgs[i]'s
// id, or 0 when refused[i] says why it was not stored.
func (m *Mailer) insertMany(ctx context.Context, tx *db.Tx, ws int64, domain string, msgs []OutboundMessage) (ids []int64, refused []error, err error) {
	ids, refused = make([]int64, len(msgs)), make([]error, len(msgs))
	type row struct {
		i       int
		msg     OutboundMessage
		headers any
		mid     string
	}
	var rows []row
	for i, msg := range msgs {
		msg, headers, err := checkMail(msg)
		if err != nil {
			refused[i] = err
			continue
		}
		rows = append(rows, row{i, msg, headers, fmt.Sprintf("<mail-%s@%s>", randomHex(12), domain)})
	}
	now := db.Millis(m.Clock.Now())
	const chunk = 200 // a campaign's batch in one statement of each kind
	for start := 0; start < len(rows); start += chunk {
		part := rows[start:min(start+chunk, len(rows))]
		args := make([]any, 0, len(part)*9)
		byMID := make(map[string]int, len(part))
		for k, r := range part {
			args = append(args, ws, r.msg.Kind, r.msg.To, r.msg.Subject, r.mid, r.msg.RefType, db.NullInt(r.msg.RefID), now)
			byMID[r.mid] = k
		}
		res, err := tx.QueryContext(ctx, `-- platform.QueueMail
			INSERT INTO mail_messages (workspace_id, kind, to_addr, subject, status, message_id, ref_type, ref_id, created_at)
			VALUES `+db.Rows(len(part), "(?, ?, ?, ?, 'queued', ?, ?, ?, ?)")+` RETURNING id, message_id`, args...)
		if err != nil {
			return nil, nil, fmt.Errorf("platform.QueueMail: %w", err)
		}
		partIDs := make([]int64, len(part))
		for res.Next() {
			var id int64
			var mid string
			if err := res.Scan(&id, &mid); err != nil {
				res.Close()
				return nil, nil, fmt.Errorf("platform.QueueMail: %w", err)
			}
			partIDs[byMID[mid]] = id
		}
		res.Close()
		if err := res.Err(); err != nil {
			return nil, nil, fmt.Errorf("platform.QueueMail: %w", err)
		}
		// The bodies go to a table of their own, so that the status
		// changes of a message rewrite a narrow row (migration 0052).
		args = args[:0]
		for k, r := range part {
			args = append(args, ws, partIDs[k], r.msg.Text, r.msg.HTML, r.headers)
			ids[r.i] = partIDs[k]
		}
		if _, err := tx.ExecContext(ctx, `-- platform.QueueMail.bodies
			INSERT INTO mail_bodies (workspace_id, mail_id, text_body, html_body, headers) VALUES `+db.Rows(len(part), "(?, ?, ?, ?, ?)"), args...); err != nil {
			return nil, nil, fmt.Errorf("platform.QueueMail bodies: %w", err)
		}
	}
	return ids, refused, nil
}

// Flush enqueues one job that sends every message added since the last
// Flush, starting once tx commits.
func (b *MailBatch) Flush(ctx context.Context, tx *db.Tx) error {
	if len(b.ids) == 0 {
		return nil
	}
	key := "mails:" + strconv.FormatInt(b.ids[0], 10) + "-" + strconv.FormatInt(b.ids[len(b.ids)-1], 10)
	_, _, err := Enqueue(ctx, tx, b.ws, MailBatchJob, mailBatchJob{IDs: b.ids}, EnqueueOptions{UniqueKey: key, MaxAttempts: 8}, b.m.Clock.Now(), b.m.Jobs)
	b.ids = nil
	return err
}

// batchMessages loads the messages of a batch, in id order.
func batchMessages(ctx context.Context, q db.Querier, ws int64, ids []int64) ([]MailMessage, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	ph := strings.TrimSuffix(strings.Repeat("?,", len(ids)), ",")
	lo, hi := slices.Min(ids), slices.Max(ids)
	args := make([]any, 0, len(ids)+3)
	args = append(args, ws, lo, hi)
	for _, id := range ids {
		args = append(args, id)
	}
	// The range beside the list is for PostgreSQL's planner: without
	// statistics it takes a long IN list to match most of the table and
	// scans it; the range makes the key lookup the obvious plan.
	rows, err := q.QueryContext(ctx, `-- platform.batchMessages
		SELECT m.id, m.kind, m.to_addr, m.subject, COALESCE(b.text_body, ''), COALESCE(b.html_body, ''), b.headers, m.status, m.message_id, m.attempts
		FROM mail_messages m LEFT JOIN mail_bodies b ON b.workspace_id = m.workspace_id AND b.mail_id = m.id
		WHERE m.workspace_id = ? AND m.id BETWEEN ? AND ? AND m.id IN (`+ph+`) ORDER BY m.id`, args...)
	if err != nil {
		return nil, fmt.Errorf("platform.batchMessages: %w", err)
	}
	defer rows.Close()
	var out []MailMessage
	for rows.Next() {
		var mm MailMessage
		var headers *string
		if err := rows.Scan(&mm.ID, &mm.Kind, &mm.To, &mm.Subject, &mm.Text, &mm.HTML, &headers, &mm.Status, &mm.MessageID, &mm.Attempts); err != nil {
			return nil, fmt.Errorf("platform.batchMessages: %w", err)
		}
		if headers != nil {
			if err := json.Unmarshal([]byte(*headers), &mm.Headers); err != nil {
				return nil, fmt.Errorf("platform.batchMessages(%d) headers: %w", mm.ID, err)
			}
		}
		out = append(out, mm)
	}
	return out, rows.Err()
}

// mailOutcome is what became of one message of a batch.
type mailOutcome struct {
	id     int64
	to     string
	status string
	err    string
	bounce bool // a 5xx reply to RCPT: the address is refused for good
}

// setBatchStatus records outcomes in one transaction; each row moves only
// if it still has status from.
func (m *Mailer) setBatchStatus(ctx context.Context, ws int64, from string, outs []mailOutcome, attempt bool) (int, error) {
	if len(outs) == 0 {
		return 0, nil
	}
	changed := 0
	ctx = context.WithoutCancel(ctx) // a result must be written even while shutting down
	err := m.DB.Write(ctx, "platform.setBatchStatus", func(tx *db.Tx) error {
		var err error
		changed, err = m.setBatchStatusTx(ctx, tx, ws, from, outs, attempt)
		return err
	})
	if err != nil {
		return 0, err
	}
	return changed, nil
}

// setBatchStatusTx records outcomes in tx; each row moves only if it still
// has status from. It returns how many moved.
func (m *Mailer) setBatchStatusTx(ctx context.Context, tx *db.Tx, ws int64, from string, outs []mailOutcome, attempt bool) (int, error) {
	now := db.Millis(m.Clock.Now())
	inc := 0
	if attempt {
		inc = 1
	}
	fail := func(err error) (int, error) {
		return 0, fmt.Errorf("platform.setBatchStatus(%d messages → %s): %w", len(outs), from, err)
	}
	changed := 0
	// The rows are found by id. The planners would rather take the
	// (workspace_id, status) index, and walk every queued message of a
	// big campaign for the 50 asked for: SQLite without statistics,
	// PostgreSQL with statistics from when the table was small. Terms
	// written so that no index serves them keep both on the key (a
	// unary "+" is SQLite's idiom; PostgreSQL has no unary "+" for
	// text), and the id range beside the list is for PostgreSQL, as in
	// batchMessages.
	byID := "workspace_id = ? AND status || '' = ?"
	if tx.Dialect() == db.SQLite {
		byID = "+workspace_id = ? AND +status = ?"
	}
	// Rows with the same status and no error move in one statement.
	plain := map[string][]any{}
	for _, o := range outs {
		if o.err == "" {
			plain[o.status] = append(plain[o.status], o.id)
			continue
		}
		e := o.err
		if len(e) > 2000 {
			e = e[:2000]
		}
		res, err := tx.ExecContext(ctx, `-- platform.setBatchStatus.one
			UPDATE mail_messages SET status = ?, last_error = ?, attempts = attempts + ? WHERE id = ? AND `+byID, o.status, e, inc, o.id, ws, from)
		if err != nil {
			return fail(err)
		}
		n, _ := res.RowsAffected()
		changed += int(n)
	}
	for status, ids := range plain {
		var sentAt any
		if status == MailSent {
			sentAt = now
		}
		for i := 0; i < len(ids); i += 500 {
			part := ids[i:min(i+500, len(ids))]
			ph := strings.TrimSuffix(strings.Repeat("?,", len(part)), ",")
			lo, hi := part[0].(int64), part[0].(int64)
			for _, id := range part {
				lo, hi = min(lo, id.(int64)), max(hi, id.(int64))
			}
			args := append(append([]any{status, inc, sentAt, lo, hi}, part...), ws, from)
			res, err := tx.ExecContext(ctx, `-- platform.setBatchStatus
				UPDATE mail_messages SET status = ?, last_error = '', attempts = attempts + ?, sent_at = COALESCE(?, sent_at)
				WHERE id BETWEEN ? AND ? AND id IN (`+ph+`) AND `+byID, args...)
			if err != nil {
				return fail(err)
			}
			n, _ := res.RowsAffected()
			changed += int(n)
		}
	}
	return changed, nil
}

func (m *Mailer) handleBatch(ctx context.Context, j Job) (func(context.Context, *db.Tx) error, error) {
	var p mailBatchJob
	if err := j.Decode(&p); err != nil {
		return nil, Permanent(fmt.Errorf("%s payload: %w", MailBatchJob, err))
	}
	return m.sendStored(ctx, j, p.IDs)
}

// sendStored sends the stored messages ids for job j (a mail.send job's one
// message or a mail.batch job's batch) over one SMTP connection: 'sending'
// is committed for all of them before the first is handed over, and each
// message's own outcome after the last, in the transaction that records
// the job's result (the writes it returns). Messages a cut-off earlier
// attempt left 'sending' become unknown and are not resent.
func (m *Mailer) sendStored(ctx context.Context, j Job, ids []int64) (last func(context.Context, *db.Tx) error, err error) {
	msgs, err := batchMessages(ctx, m.DB.Reader(), j.WorkspaceID, ids)
	if err != nil {
		return nil, err
	}
	// Messages left 'sending' by an attempt that never recorded the
	// server's answers may have been delivered: unknown, not resent.
	var cut, todo []MailMessage
	for _, mm := range msgs {
		switch mm.Status {
		case MailQueued:
			todo = append(todo, mm)
		case MailSending:
			cut = append(cut, mm)
		}
	}
	var unknown int
	if len(cut) > 0 {
		msg := "an earlier attempt was interrupted after handing the batch to the SMTP server; it may or may not have been delivered, so it is not resent"
		outs := make([]mailOutcome, len(cut))
		for i, mm := range cut {
			outs[i] = mailOutcome{id: mm.ID, status: MailUnknown, err: msg}
		}
		n, err := m.setBatchStatus(ctx, j.WorkspaceID, MailSending, outs, false)
		if err != nil {
			return nil, err
		}
		unknown += n
	}
	if len(todo) == 0 {
		if unknown > 0 {
			return nil, Unknown(fmt.Errorf("%d messages of the batch were cut off mid-send", unknown))
		}
		return nil, nil
	}
	w, err := GetWorkspace(ctx, m.DB.Reader(), j.WorkspaceID)
	if err != nil {
		return nil, err
	}
	s := w.SMTP()
	fail := func(reason string, of []MailMessage) error {
		outs := make([]mailOutcome, len(of))
		for i, mm := range of {
			outs[i] = mailOutcome{id: mm.ID, status: MailFailed, err: reason}
		}
		_, err := m.setBatchStatus(ctx, j.WorkspaceID, MailQueued, outs, false)
		return err
	}
	if s.Host == "" || s.FromAddress == "" {
		msg := "no SMTP server is configured: set one under Settings → SMTP"
		if err := fail(msg, todo); err != nil {
			return nil, err
		}
		return nil, Permanent(errors.New(msg))
	}
	// Encode every message; one that cannot be encoded fails alone.
	now := m.Clock.Now()
	var built []MailMessage
	var wms []wireMessage
	var bad []mailOutcome
	for _, mm := range todo {
		wm, err := encode(s, mm, now)
		if err != nil {
			bad = append(bad, mailOutcome{id: mm.ID, status: MailFailed, err: err.Error()})
			continue
		}
		built, wms = append(built, mm), append(wms, wm)
	}
	if _, err := m.setBatchStatus(ctx, j.WorkspaceID, MailQueued, bad, false); err != nil {
		return nil, err
	}
	if len(built) == 0 {
		return nil, nil
	}
	// Commit 'sending' for the whole batch before talking to the server.
	sending := make([]mailOutcome, len(built))
	for i, mm := range built {
		sending[i] = mailOutcome{id: mm.ID, status: MailSending}
	}
	if n, err := m.setBatchStatus(ctx, j.WorkspaceID, MailQueued, sending, true); err != nil {
		return nil, err
	} else if n != len(built) {
		// Another attempt moved some of them: put ours back and look again.
		back := make([]mailOutcome, len(built))
		for i, mm := range built {
			back[i] = mailOutcome{id: mm.ID, status: MailQueued}
		}
		if _, err := m.setBatchStatus(ctx, j.WorkspaceID, MailSending, back, false); err != nil {
			return nil, err
		}
		return nil, fmt.Errorf("%d of %d messages of the batch changed status while being sent; will look again", len(built)-n, len(built))
	}
	results, serr := m.deliver(ctx, s, wms)
	outs := make([]mailOutcome, len(built))
	temp, perm := 0, 0
	for i, mm := range built {
		o := mailOutcome{id: mm.ID, to: mm.To, status: MailSent}
		if merr := results[i]; merr != nil {
			o.err = merr.Error()
			class, bounce := classify(merr)
			switch class {
			case smtpPermanent:
				o.status, o.bounce = MailFailed, bounce
				perm++
			case smtpUnknown:
				o.status = MailUnknown
				unknown++
			default:
				o.status = MailQueued
				if j.Attempts >= j.MaxAttempts {
					o.status = MailFailed // the job runner gives up too
				}
				temp++
			}
		}
		outs[i] = o
	}
	bounced := false
	for _, o := range outs {
		bounced = bounced || o.bounce
	}
	if !bounced || m.OnBounce == nil {
		// The outcomes are written with the job's result, in one
		// transaction; if that fails the job is recorded unknown and the
		// messages stay 'sending', which a rerun would count unknown too.
		last = func(ctx context.Context, tx *db.Tx) error {
			_, err := m.setBatchStatusTx(ctx, tx, j.WorkspaceID, MailSending, outs, false)
			return err
		}
	} else if _, err := m.setBatchStatus(ctx, j.WorkspaceID, MailSending, outs, false); err != nil {
		// A bounce is told to OnBounce once its outcome is committed.
		return nil, Unknown(fmt.Errorf("the batch was handed to the SMTP server but its outcomes could not be recorded: %w", err))
	} else {
		for _, o := range outs {
			if o.bounce {
				if err := m.OnBounce(ctx, j.WorkspaceID, o.to, o.err); err != nil {
					m.log().Warn("recording a bounce failed", "mail", o.id, "err", err)
				}
			}
		}
	}
	switch {
	case temp > 0 && j.Attempts < j.MaxAttempts:
		return last, fmt.Errorf("%d of %d messages were not accepted for now; they are retried: %w", temp, len(built), firstErr(serr, outs))
	case unknown > 0:
		return last, Unknown(fmt.Errorf("%d messages of the batch may or may not have been delivered", unknown))
	case perm == len(built):
		return last, Permanent(firstErr(serr, outs)) // nothing to retry: every message was refused for good
	}
	return last, nil
}

func firstErr(serr error, outs []mailOutcome) error {
	if serr != nil {
		return serr
	}
	for _, o := range outs {
		if o.err != "" {
			return errors.New(o.err)
		}
	}
	return errors.New("unknown error")
}
