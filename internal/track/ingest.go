package track

import (
	"context"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/ryorin/ryorin/internal/db"
	"github.com/ryorin/ryorin/internal/errs"
	"github.com/ryorin/ryorin/internal/platform"
)

// visitorState is a visitor's row as this transaction sees and changes it.
type visitorState struct {
	id         string
	contact    int64
	exists     bool
	firstSeen  int64
	lastSeen   int64
	sessionUID string
	start      int64
	campaign   string
	channel    string
}

// sessionDelta is what a batch adds to one session.
type sessionDelta struct {
	uid, visitor                    string
	contact                         int64
	isNew                           bool
	started, last                   int64
	channel, src, medium, camp, ref string
	landing                         string
	views, events                   int
}

// write stores one workspace's share of a batch in one transaction: the
// identify tokens first, then sessions, events (through the shared event
// store), session counters and visitor rows.
func (c *Collector) write(ctx context.Context, ws int64, ps []*pending) error {
	set, err := c.Settings(ctx, ws)
	if err != nil {
		return err
	}
	c.Stats.Batches.Add(1)
	return c.DB.Write(ctx, "track.Collect", func(tx *db.Tx) error {
		for _, p := range ps {
			p.stored = 0
		}
		vids := map[string]bool{}
		for _, p := range ps {
			vids[p.p.VisitorID] = true
		}
		visitors, err := loadVisitors(ctx, tx, ws, vids)
		if err != nil {
			return err
		}
		for _, p := range ps {
			if p.identify == 0 {
				continue
			}
			_, err := IdentifyVisitor(ctx, tx, ws, p.p.VisitorID, p.identify, p.now)
			if errs.Is(err, errs.NotFound) {
				// The contact was deleted after the link was sent: the
				// events stay anonymous, and the rest of the batch is stored.
				continue
			}
			if err != nil {
				return err
			}
			v := visitors[p.p.VisitorID]
			v.contact, v.exists = p.identify, true
			if v.firstSeen == 0 {
				v.firstSeen, v.lastSeen = db.Millis(p.now), db.Millis(p.now)
			}
		}
		sessions := map[string]*sessionDelta{}
		var inputs []platform.EventInput
		var owner []*pending
		var sessOf []*sessionDelta
		seen := map[string]bool{}
		for _, p := range ps {
			v := visitors[p.p.VisitorID]
			for _, h := range p.p.Hits {
				uid := "w." + p.p.VisitorID + "." + h.ID
				if seen[uid] {
					continue
				}
				seen[uid] = true
				at := p.now.Add(-time.Duration(h.Ago) * time.Millisecond)
				s := sessionFor(v, sessions, set, h, db.Millis(at))
				props := map[string]any{}
				for k, x := range h.Props {
					props[k] = x
				}
				if h.Title != "" {
					props["title"] = h.Title
				}
				if h.Target != "" {
					props["target"] = h.Target
				}
				inputs = append(inputs, platform.EventInput{ID: uid, Kind: h.Kind, OccurredAt: &at, ContactID: v.contact,
					VisitorID: v.id, SessionID: s.uid, URL: h.URL, Referrer: h.Referrer, UTMSource: s.src, UTMMedium: s.medium,
					UTMCampaign: s.camp, Channel: s.channel, Properties: props})
				owner = append(owner, p)
				sessOf = append(sessOf, s)
			}
		}
		stored, rejected, err := platform.StoreEvents(ctx, tx, ws, inputs, ps[0].now)
		if err != nil {
			return err
		}
		if len(rejected) > 0 {
			// Parsing checked every field the store checks; a rejection here
			// is a bug worth seeing, not a reason to lose the batch.
			c.Log.Warn("tracking: events rejected by the event store", "first", rejected[0].Field+": "+rejected[0].Message, "n", len(rejected))
		}
		for i, ok := range stored {
			if !ok {
				continue
			}
			owner[i].stored++
			sessOf[i].events++
			if inputs[i].Kind == platform.EventPageView {
				sessOf[i].views++
			}
		}
		if err := upsertSessions(ctx, tx, ws, sessions); err != nil {
			return err
		}
		return upsertVisitors(ctx, tx, ws, visitors)
	})
}

// sessionFor returns the session a hit at `at` belongs to, starting a new
// one after SessionTimeout of inactivity or when the hit arrives from a
// different UTM campaign.
func sessionFor(v *visitorState, sessions map[string]*sessionDelta, set Settings, h Hit, at int64) *sessionDelta {
	src, medium, camp := utmOf(h.URL)
	newCampaign := camp != "" && camp != v.campaign
	if v.sessionUID != "" && at-v.lastSeen <= SessionTimeout.Milliseconds() && at >= v.start && !newCampaign {
		s, ok := sessions[v.sessionUID]
		if !ok {
			// A session started by an earlier batch keeps the channel and
			// campaign it started with; its events repeat them so reports
			// need no join.
			s = &sessionDelta{uid: v.sessionUID, visitor: v.id, contact: v.contact, started: v.start, channel: v.channel, camp: v.campaign}
			sessions[v.sessionUID] = s
		}
		s.last = max(s.last, at)
		v.lastSeen = max(v.lastSeen, at)
		return s
	}
	s := &sessionDelta{uid: newUID(), visitor: v.id, contact: v.contact, isNew: true, started: at, last: at,
		channel: set.Classify(src, medium, camp, h.Referrer, h.URL), src: src, medium: medium, camp: camp, ref: h.Referrer, landing: h.URL}
	sessions[s.uid] = s
	v.sessionUID, v.start, v.campaign, v.channel = s.uid, at, camp, s.channel
	if v.firstSeen == 0 {
		v.firstSeen = at
	}
	v.lastSeen = max(v.lastSeen, at)
	return s
}

func utmOf(raw string) (src, medium, camp string) {
	u, err := url.Parse(raw)
	if err != nil {
		return "", "", ""
	}
	q := u.Query()
	cut := func(s string) string { return strings.TrimSpace(trim(s, 256)) }
	return cut(q.Get("utm_source")), cut(q.Get("utm_medium")), cut(q.Get("utm_campaign"))
}

func trim(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

// loadVisitors reads the visitors of a batch (kept simple: it runs in every
// transaction, where planning a join cost more than the rare second query
// for identified visitors); on PostgreSQL it locks their
// rows, so IdentifyVisitor running at the same time waits for this commit
// (or this batch waits for it) and no event is left anonymous between them.
func loadVisitors(ctx context.Context, tx *db.Tx, ws int64, vids map[string]bool) (map[string]*visitorState, error) {
	out := make(map[string]*visitorState, len(vids))
	ids := make([]string, 0, len(vids))
	for id := range vids {
		out[id] = &visitorState{id: id}
		ids = append(ids, id)
	}
	// Locked in one order everywhere, so two servers sharing a PostgreSQL
	// database cannot deadlock on the same visitors.
	slices.Sort(ids)
	lock := ""
	if tx.Dialect() == db.Postgres {
		lock = " FOR UPDATE"
	}
	for start := 0; start < len(ids); start += 500 {
		part := ids[start:min(start+500, len(ids))]
		args := make([]any, 0, len(part)+1)
		args = append(args, ws)
		for _, id := range part {
			args = append(args, id)
		}
		rows, err := tx.QueryContext(ctx, `-- track.loadVisitors
			SELECT visitor_id, COALESCE(contact_id, 0), first_seen, last_seen, session_uid, session_start, session_campaign, session_channel
			FROM track_visitors WHERE workspace_id = ? AND visitor_id IN (`+marks(len(part))+`) ORDER BY visitor_id`+lock, args...)
		if err != nil {
			return nil, fmt.Errorf("track.loadVisitors: %w", err)
		}
		for rows.Next() {
			var v visitorState
			if err := rows.Scan(&v.id, &v.contact, &v.firstSeen, &v.lastSeen, &v.sessionUID, &v.start, &v.campaign, &v.channel); err != nil {
				rows.Close()
				return nil, err
			}
			v.exists = true
			*out[v.id] = v
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	// A visitor whose contact was deleted is anonymous again.
	var known []any
	for _, v := range out {
		if v.contact != 0 {
			known = append(known, v.contact)
		}
	}
	if len(known) == 0 {
		return out, nil
	}
	rows, err := tx.QueryContext(ctx, `-- track.loadVisitors contacts
		SELECT id FROM contacts WHERE workspace_id = ? AND id IN (`+marks(len(known))+`)`, append([]any{ws}, known...)...)
	if err != nil {
		return nil, fmt.Errorf("track.loadVisitors: %w", err)
	}
	alive := map[int64]bool{}
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return nil, err
		}
		alive[id] = true
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	for _, v := range out {
		if v.contact != 0 && !alive[v.contact] {
			v.contact = 0
		}
	}
	return out, nil
}

func marks(n int) string {
	return db.Placeholders(n)
}

func upsertSessions(ctx context.Context, tx *db.Tx, ws int64, sessions map[string]*sessionDelta) error {
	list := make([]*sessionDelta, 0, len(sessions))
	for _, s := range sessions {
		list = append(list, s)
	}
	const cols = 14
	for start := 0; start < len(list); start += 200 {
		part := list[start:min(start+200, len(list))]
		args := make([]any, 0, len(part)*cols)
		for _, s := range part {
			args = append(args, ws, s.uid, s.visitor, db.NullInt(s.contact), s.started, s.last, s.channel, s.src, s.medium, s.camp,
				trim(s.ref, 4096), trim(s.landing, 4096), s.views, s.events)
		}
		if _, err := tx.ExecContext(ctx, `-- track.upsertSessions
			INSERT INTO track_sessions (workspace_id, uid, visitor_id, contact_id, started_at, last_at, channel, utm_source, utm_medium,
				utm_campaign, referrer, landing_url, page_views, events)
			VALUES `+db.Rows(len(part), "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")+`
			ON CONFLICT (workspace_id, uid) DO UPDATE SET
				last_at = CASE WHEN excluded.last_at > track_sessions.last_at THEN excluded.last_at ELSE track_sessions.last_at END,
				page_views = track_sessions.page_views + excluded.page_views,
				events = track_sessions.events + excluded.events`, args...); err != nil {
			return fmt.Errorf("track.upsertSessions: %w", err)
		}
	}
	return nil
}

func upsertVisitors(ctx context.Context, tx *db.Tx, ws int64, visitors map[string]*visitorState) error {
	list := make([]*visitorState, 0, len(visitors))
	for _, v := range visitors {
		if v.sessionUID != "" {
			list = append(list, v)
		}
	}
	for start := 0; start < len(list); start += 300 {
		part := list[start:min(start+300, len(list))]
		args := make([]any, 0, len(part)*9)
		for _, v := range part {
			args = append(args, ws, v.id, db.NullInt(v.contact), v.firstSeen, v.lastSeen, v.sessionUID, v.start, v.campaign, v.channel)
		}
		// contact_id is only written on insert: identifying is
		// IdentifyVisitor's job, and it may have run since this batch read.
		if _, err := tx.ExecContext(ctx, `-- track.upsertVisitors
			INSERT INTO track_visitors (workspace_id, visitor_id, contact_id, first_seen, last_seen, session_uid, session_start, session_campaign, session_channel)
			VALUES `+db.Rows(len(part), "(?, ?, ?, ?, ?, ?, ?, ?, ?)")+`
			ON CONFLICT (workspace_id, visitor_id) DO UPDATE SET
				last_seen = CASE WHEN excluded.last_seen > track_visitors.last_seen THEN excluded.last_seen ELSE track_visitors.last_seen END,
				session_uid = excluded.session_uid, session_start = excluded.session_start, session_campaign = excluded.session_campaign, session_channel = excluded.session_channel`, args...); err != nil {
			return fmt.Errorf("track.upsertVisitors: %w", err)
		}
	}
	return nil
}
