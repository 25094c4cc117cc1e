package platform

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/ryorin/ryorin/internal/db"
	"github.com/ryorin/ryorin/internal/errs"
)

// Event kinds the product itself records. Integrations may send their own
// kinds (lower_snake_case), e.g. "webinar_attended".
const (
	EventPageView    = "page_view"
	EventFormSubmit  = "form_submit"
	EventEmailOpen   = "email_open"
	EventEmailClick  = "email_click"
	EventContentView = "content_view"
	EventOutbound    = "outbound_click"
)

// MaxEventBatch is the most events one ingest call takes.
const MaxEventBatch = 1000

// ingestChunk is how many events one write transaction stores on SQLite,
// where the single writer must not be held long; PostgreSQL's writers do not
// queue behind one another, so there a whole call is one transaction (one
// commit, one WAL flush, instead of four).
const ingestChunk = 250

// chunkFor is the ingest chunk size on a dialect.
func chunkFor(d db.Dialect) int {
	if d == db.Postgres {
		return MaxEventBatch
	}
	return ingestChunk
}

// EventInput is one event as sent to the batch ingest API.
type EventInput struct {
	ID          string         `json:"id" doc:"the sender's unique id for this event (e.g. a UUID); resending the same id is a no-op"`
	Kind        string         `json:"kind" doc:"page_view, form_submit, email_open, email_click, content_view, outbound_click or a custom lower_snake_case kind"`
	OccurredAt  *time.Time     `json:"occurred_at,omitempty" doc:"when it happened; default: when received"`
	ContactID   int64          `json:"contact_id,omitempty"`
	Email       string         `json:"email,omitempty" doc:"identifies the contact when contact_id is not known"`
	VisitorID   string         `json:"visitor_id,omitempty"`
	SessionID   string         `json:"session_id,omitempty"`
	URL         string         `json:"url,omitempty"`
	Referrer    string         `json:"referrer,omitempty"`
	UTMSource   string         `json:"utm_source,omitempty"`
	UTMMedium   string         `json:"utm_medium,omitempty"`
	UTMCampaign string         `json:"utm_campaign,omitempty"`
	Channel     string         `json:"channel,omitempty" doc:"a channel key; default: derived from UTM parameters and referrer"`
	Properties  map[string]any `json:"properties,omitempty"`
}

// Event is a stored event.
type Event struct {
	ID          int64           `json:"id"`
	UID         string          `json:"uid"`
	Kind        string          `json:"kind"`
	OccurredAt  time.Time       `json:"occurred_at"`
	ReceivedAt  time.Time       `json:"received_at"`
	ContactID   int64           `json:"contact_id,omitempty"`
	VisitorID   string          `json:"visitor_id,omitempty"`
	SessionID   string          `json:"session_id,omitempty"`
	URL         string          `json:"url,omitempty"`
	Path        string          `json:"path,omitempty"`
	Referrer    string          `json:"referrer,omitempty"`
	Channel     string          `json:"channel,omitempty"`
	UTMSource   string          `json:"utm_source,omitempty"`
	UTMMedium   string          `json:"utm_medium,omitempty"`
	UTMCampaign string          `json:"utm_campaign,omitempty"`
	Properties  json.RawMessage `json:"properties,omitempty"`
}

// IngestResult says what happened to each event of a batch. Events listed in
// Errors were not stored; all others were, or had been already.
type IngestResult struct {
	Accepted   int          `json:"accepted" doc:"events stored by this call"`
	Duplicates int          `json:"duplicates" doc:"events whose id was already stored (not stored twice)"`
	Errors     []EventError `json:"errors" doc:"events rejected, by their index in the batch"`
}

// EventError names a rejected event and why.
type EventError struct {
	Index   int    `json:"index"`
	Field   string `json:"field"`
	Message string `json:"message"`
}

var kindRe = regexp.MustCompile(`^[a-z][a-z0-9_]{0,63}$`)

type preparedEvent struct {
	in       EventInput
	index    int
	at       int64
	path     string
	props    string
	email    string
	contact  int64
	inserted bool
}

func prepareEvent(in EventInput, now time.Time) (preparedEvent, *EventError) {
	p := preparedEvent{in: in}
	bad := func(field, msg string) *EventError { return &EventError{Field: field, Message: msg} }
	in.ID = strings.TrimSpace(in.ID)
	if in.ID == "" || len(in.ID) > 128 {
		return p, bad("id", "is required, at most 128 characters")
	}
	if !kindRe.MatchString(in.Kind) {
		return p, bad("kind", "must be lower_snake_case, e.g. page_view")
	}
	p.at = db.Millis(now)
	if in.OccurredAt != nil {
		t := *in.OccurredAt
		if t.Before(now.AddDate(-5, 0, 0)) || t.After(now.Add(24*time.Hour)) {
			return p, bad("occurred_at", "must be within the last five years and not in the future")
		}
		p.at = db.Millis(t)
	}
	for _, f := range []struct{ name, v string }{{"url", in.URL}, {"referrer", in.Referrer}} {
		if len(f.v) > 4096 {
			return p, bad(f.name, "is longer than 4096 bytes")
		}
	}
	for _, f := range []struct{ name, v string }{{"visitor_id", in.VisitorID}, {"session_id", in.SessionID}, {"utm_source", in.UTMSource},
		{"utm_medium", in.UTMMedium}, {"utm_campaign", in.UTMCampaign}, {"channel", in.Channel}} {
		if len(f.v) > 256 {
			return p, bad(f.name, "is longer than 256 bytes")
		}
	}
	if in.URL != "" {
		u, err := url.Parse(in.URL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") {
			return p, bad("url", "must be an absolute http(s) URL")
		}
		p.path = u.EscapedPath()
		if p.path == "" {
			p.path = "/"
		}
		q := u.Query()
		for _, x := range []struct {
			dst *string
			key string
		}{{&in.UTMSource, "utm_source"}, {&in.UTMMedium, "utm_medium"}, {&in.UTMCampaign, "utm_campaign"}} {
			if *x.dst == "" {
				*x.dst = trimTo(q.Get(x.key), 256)
			}
		}
	}
	if in.Email != "" {
		e, ok := NormalizeEmail(in.Email)
		if !ok {
			return p, bad("email", "is not a valid email address")
		}
		p.email = e
	}
	if in.Channel == "" {
		in.Channel = ClassifyChannel(in.UTMSource, in.UTMMedium, in.Referrer, in.URL)
	}
	if len(in.Properties) > 0 {
		b, err := json.Marshal(in.Properties)
		if err != nil || len(b) > 16<<10 {
			return p, bad("properties", "must be a JSON object of at most 16 KiB")
		}
		p.props = string(b)
	}
	p.in = in
	p.contact = in.ContactID
	return p, nil
}

func trimTo(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

// IngestEvents stores a batch of events in one transaction. It is idempotent
// by event id, resolves contacts by id or email, and writes each identified
// event to the contact's timeline. It returns only after the commit, so an
// acknowledged event is stored. Invalid events are reported by index and the
// rest are stored.
func IngestEvents(ctx context.Context, d *db.DB, a Actor, in []EventInput, now time.Time) (IngestResult, error) {
	res := IngestResult{Errors: []EventError{}}
	if len(in) > MaxEventBatch {
		return res, errs.Field("events", "at most %d events per call", MaxEventBatch)
	}
	var ok []preparedEvent
	seen := map[string]bool{}
	for i, e := range in {
		p, perr := prepareEvent(e, now)
		if perr != nil {
			perr.Index = i
			res.Errors = append(res.Errors, *perr)
			continue
		}
		if seen[p.in.ID] {
			res.Duplicates++
			continue
		}
		seen[p.in.ID] = true
		p.index = i
		ok = append(ok, p)
	}
	if len(ok) == 0 {
		return res, nil
	}
	// Each chunk commits on its own so no transaction holds SQLite's writer for
	// long. The answer comes after the last commit; if a later chunk fails the
	// call fails, and the client's retry is a no-op for the chunks already in.
	step := chunkFor(d.Dialect)
	for start := 0; start < len(ok); start += step {
		chunk := ok[start:min(start+step, len(ok))]
		err := d.Write(ctx, "platform.IngestEvents", func(tx *db.Tx) error {
			if err := resolveEventContacts(ctx, tx, a.WorkspaceID, chunk); err != nil {
				return err
			}
			var kept []preparedEvent
			for _, p := range chunk {
				if p.contact == -1 {
					res.Errors = append(res.Errors, EventError{Index: p.index, Field: "contact_id", Message: fmt.Sprintf("contact %d does not exist", p.in.ContactID)})
					continue
				}
				kept = append(kept, p)
			}
			if len(kept) == 0 {
				return nil
			}
			if err := insertEvents(ctx, tx, a.WorkspaceID, kept, db.Millis(now)); err != nil {
				return err
			}
			for _, p := range kept {
				if p.inserted {
					res.Accepted++
				} else {
					res.Duplicates++
				}
			}
			return nil
		})
		if err != nil {
			return IngestResult{Errors: []EventError{}}, fmt.Errorf("platform.IngestEvents: %w", err)
		}
	}
	sort.Slice(res.Errors, func(i, j int) bool { return res.Errors[i].Index < res.Errors[j].Index })
	return res, nil
}

// resolveEventContacts fills in contact ids from emails and marks unknown
// contact ids with -1.
func resolveEventContacts(ctx context.Context, tx *db.Tx, ws int64, evs []preparedEvent) error {
	ids := map[int64]bool{}
	emails := map[string]int64{}
	for _, p := range evs {
		if p.contact > 0 {
			ids[p.contact] = false
		} else if p.email != "" {
			emails[p.email] = 0
		}
	}
	if len(ids) > 0 {
		list := make([]any, 0, len(ids)+1)
		list = append(list, ws)
		for id := range ids {
			list = append(list, id)
		}
		rows, err := tx.QueryContext(ctx, `-- platform.resolveEventContacts
			SELECT id FROM contacts WHERE workspace_id = ? AND id IN (`+db.Placeholders(len(ids))+`)`, list...)
		if err != nil {
			return err
		}
		for rows.Next() {
			var id int64
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return err
			}
			ids[id] = true
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
	}
	for e := range emails {
		var id int64
		err := tx.QueryRowContext(ctx, `SELECT id FROM contacts WHERE workspace_id = ? AND email = ?`, ws, e).Scan(&id)
		if err != nil && !db.NoRows(err) {
			return err
		}
		emails[e] = id
	}
	for i := range evs {
		switch {
		case evs[i].contact > 0 && !ids[evs[i].contact]:
			evs[i].contact = -1
		case evs[i].contact == 0 && evs[i].email != "":
			evs[i].contact = emails[evs[i].email]
		}
	}
	return nil
}

func insertEvents(ctx context.Context, tx *db.Tx, ws int64, chunk []preparedEvent, received int64) error {
	var b strings.Builder
	b.WriteString(`-- platform.insertEvents
		INSERT INTO events (workspace_id, event_uid, kind, occurred_at, received_at, contact_id, visitor_id, session_id, url, path,
			referrer, channel, utm_source, utm_medium, utm_campaign, properties) VALUES `)
	b.WriteString(db.Rows(len(chunk), "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"))
	args := make([]any, 0, len(chunk)*16)
	for _, p := range chunk {
		args = append(args, ws, p.in.ID, p.in.Kind, p.at, received, db.NullInt(p.contact), p.in.VisitorID, p.in.SessionID,
			p.in.URL, p.path, p.in.Referrer, p.in.Channel, p.in.UTMSource, p.in.UTMMedium, p.in.UTMCampaign, db.NullString(p.props))
	}
	b.WriteString(` ON CONFLICT (workspace_id, event_uid) DO NOTHING RETURNING id, event_uid`)
	rows, err := tx.QueryContext(ctx, b.String(), args...)
	if err != nil {
		return err
	}
	inserted := map[string]int64{}
	for rows.Next() {
		var id int64
		var uid string
		if err := rows.Scan(&id, &uid); err != nil {
			rows.Close()
			return err
		}
		inserted[uid] = id
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	// Identified events go to the contact's timeline, in one statement; the
	// re-engagement signals among them to contact_signals.
	const tlRow = "(?, ?, ?, ?, ?, ?, ?)"
	var targs []any
	signals := map[int64]int64{}
	for i := range chunk {
		id, ok := inserted[chunk[i].in.ID]
		chunk[i].inserted = ok
		if !ok || chunk[i].contact <= 0 {
			continue
		}
		if IsSignal(chunk[i].in.Kind, chunk[i].path) && chunk[i].at > signals[chunk[i].contact] {
			signals[chunk[i].contact] = chunk[i].at
		}
		td := map[string]string{"url": chunk[i].in.URL, "channel": chunk[i].in.Channel, "campaign": chunk[i].in.UTMCampaign}
		if t, ok := chunk[i].in.Properties["title"].(string); ok && t != "" {
			td["title"] = trimTo(t, 800) // e.g. the content asset viewed, for the timeline line
		}
		data, _ := json.Marshal(td)
		targs = append(targs, ws, chunk[i].at, "event."+chunk[i].in.Kind, chunk[i].contact, "event", id, string(data))
	}
	if len(targs) > 0 {
		if _, err := tx.ExecContext(ctx, `-- platform.insertEvents timeline
			INSERT INTO timeline (workspace_id, at, kind, contact_id, ref_type, ref_id, data) VALUES `+db.Rows(len(targs)/7, tlRow), targs...); err != nil {
			return err
		}
	}
	if err := NoteSignals(ctx, tx, ws, signals); err != nil {
		return err
	}
	return nil
}

// ListContactEvents returns a contact's events, newest first.
func ListContactEvents(ctx context.Context, q db.Querier, ws, contactID int64, beforeAt, beforeID int64, limit int) ([]Event, error) {
	sql := `-- platform.ListContactEvents
		SELECT id, event_uid, kind, occurred_at, received_at, COALESCE(contact_id, 0), visitor_id, session_id, url, path, referrer,
		       channel, utm_source, utm_medium, utm_campaign, properties
		FROM events WHERE workspace_id = ? AND contact_id = ?`
	args := []any{ws, contactID}
	if beforeID != 0 {
		sql += ` AND (occurred_at < ? OR (occurred_at = ? AND id < ?))`
		args = append(args, beforeAt, beforeAt, beforeID)
	}
	if limit <= 0 || limit > 200 {
		limit = 50
	}
	rows, err := q.QueryContext(ctx, sql+` ORDER BY occurred_at DESC, id DESC LIMIT ?`, append(args, limit)...)
	if err != nil {
		return nil, fmt.Errorf("platform.ListContactEvents: %w", err)
	}
	defer rows.Close()
	out := []Event{}
	for rows.Next() {
		var e Event
		var at, rec int64
		var props *string
		if err := rows.Scan(&e.ID, &e.UID, &e.Kind, &at, &rec, &e.ContactID, &e.VisitorID, &e.SessionID, &e.URL, &e.Path, &e.Referrer,
			&e.Channel, &e.UTMSource, &e.UTMMedium, &e.UTMCampaign, &props); err != nil {
			return nil, err
		}
		e.OccurredAt, e.ReceivedAt = db.Time(at), db.Time(rec)
		if props != nil {
			e.Properties = json.RawMessage(*props)
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

// StoreEvents stores events inside the caller's transaction, so a caller that
// groups many requests into one commit (the tracking collector) shares the
// event store's rules: the same validation, idempotency by event id, contact
// resolution and timeline entries as IngestEvents. stored[i] says whether
// in[i] was newly stored; rejected events are listed by index and not stored.
func StoreEvents(ctx context.Context, tx *db.Tx, ws int64, in []EventInput, now time.Time) (stored []bool, rejected []EventError, err error) {
	stored = make([]bool, len(in))
	var ok []preparedEvent
	for i, e := range in {
		p, perr := prepareEvent(e, now)
		if perr != nil {
			perr.Index = i
			rejected = append(rejected, *perr)
			continue
		}
		p.index = i
		ok = append(ok, p)
	}
	for start := 0; start < len(ok); start += ingestChunk {
		chunk := ok[start:min(start+ingestChunk, len(ok))]
		if err := resolveEventContacts(ctx, tx, ws, chunk); err != nil {
			return nil, nil, fmt.Errorf("platform.StoreEvents: %w", err)
		}
		kept := chunk[:0:0]
		for _, p := range chunk {
			if p.contact == -1 {
				rejected = append(rejected, EventError{Index: p.index, Field: "contact_id", Message: fmt.Sprintf("contact %d does not exist", p.in.ContactID)})
				continue
			}
			kept = append(kept, p)
		}
		if len(kept) == 0 {
			continue
		}
		if err := insertEvents(ctx, tx, ws, kept, db.Millis(now)); err != nil {
			return nil, nil, fmt.Errorf("platform.StoreEvents: %w", err)
		}
		for _, p := range kept {
			stored[p.index] = p.inserted
		}
	}
	return stored, rejected, nil
}
