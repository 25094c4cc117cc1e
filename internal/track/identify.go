package track

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/ryorin/ryorin/internal/clock"
	"github.com/ryorin/ryorin/internal/db"
	"github.com/ryorin/ryorin/internal/errs"
	"github.com/ryorin/ryorin/internal/platform"
)

// IdentifyVisitor attaches a browser's anonymous history to a contact inside
// the caller's transaction: the visitor's earlier events and sessions move
// to the contact (each event also lands on the contact's timeline), and the
// visitor's later events go straight to the contact. It records a
// visitor_identified event, which makes the live lead scorer rescore the
// contact with the pages it now sees. Events already attached to another
// contact stay where they are (a shared computer); from now on the visitor
// belongs to this contact. It returns how many events moved.
//
// Forms call it on submit with the ryorin_vid cookie or hidden field; the
// collect endpoint calls it for a verified identify token from an email link.
func IdentifyVisitor(ctx context.Context, tx *db.Tx, ws int64, visitorID string, contactID int64, now time.Time) (int, error) {
	if !tokenRe.MatchString(visitorID) {
		return 0, errs.Field("visitor_id", "must be 8–40 letters, digits, - or _")
	}
	var one int
	err := tx.QueryRowContext(ctx, `SELECT 1 FROM contacts WHERE workspace_id = ? AND id = ?`, ws, contactID).Scan(&one)
	if db.NoRows(err) {
		return 0, errs.NotFoundf("contact %d", contactID)
	}
	if err != nil {
		return 0, fmt.Errorf("track.IdentifyVisitor: %w", err)
	}
	var prev *int64
	err = tx.QueryRowContext(ctx, `-- track.IdentifyVisitor
		SELECT contact_id FROM track_visitors WHERE workspace_id = ? AND visitor_id = ?`, ws, visitorID).Scan(&prev)
	if err != nil && !db.NoRows(err) {
		return 0, fmt.Errorf("track.IdentifyVisitor: %w", err)
	}
	ms := db.Millis(now)
	if _, err := tx.ExecContext(ctx, `-- track.IdentifyVisitor visitor
		INSERT INTO track_visitors (workspace_id, visitor_id, contact_id, first_seen, last_seen) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (workspace_id, visitor_id) DO UPDATE SET contact_id = excluded.contact_id`, ws, visitorID, contactID, ms, ms); err != nil {
		return 0, fmt.Errorf("track.IdentifyVisitor: %w", err)
	}
	moved, err := attachEvents(ctx, tx, ws, visitorID, contactID)
	if err != nil {
		return 0, err
	}
	if _, err := tx.ExecContext(ctx, `-- track.IdentifyVisitor sessions
		UPDATE track_sessions SET contact_id = ? WHERE workspace_id = ? AND visitor_id = ? AND contact_id IS NULL`, contactID, ws, visitorID); err != nil {
		return 0, fmt.Errorf("track.IdentifyVisitor: %w", err)
	}
	if moved > 0 || prev == nil || *prev != contactID {
		ev := platform.EventInput{ID: fmt.Sprintf("identify.%s.%d.%d", visitorID, contactID, ms), Kind: KindIdentified, OccurredAt: &now,
			ContactID: contactID, VisitorID: visitorID, Channel: platform.ChannelDirect, Properties: map[string]any{"events": moved}}
		if _, _, err := platform.StoreEvents(ctx, tx, ws, []platform.EventInput{ev}, now); err != nil {
			return 0, err
		}
	}
	return moved, nil
}

// attachEvents gives a visitor's anonymous events to the contact and puts
// them on the contact's timeline, in bounded statements.
func attachEvents(ctx context.Context, tx *db.Tx, ws int64, visitorID string, contactID int64) (int, error) {
	type row struct {
		id, at                         int64
		kind, url, path, channel, camp string
	}
	rows, err := tx.QueryContext(ctx, `-- track.attachEvents
		SELECT id, occurred_at, kind, url, path, channel, utm_campaign FROM events
		WHERE workspace_id = ? AND visitor_id = ? AND contact_id IS NULL ORDER BY id`, ws, visitorID)
	if err != nil {
		return 0, fmt.Errorf("track.attachEvents: %w", err)
	}
	var list []row
	for rows.Next() {
		var r row
		if err := rows.Scan(&r.id, &r.at, &r.kind, &r.url, &r.path, &r.channel, &r.camp); err != nil {
			rows.Close()
			return 0, err
		}
		list = append(list, r)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, err
	}
	if len(list) == 0 {
		return 0, nil
	}
	if _, err := tx.ExecContext(ctx, `-- track.attachEvents update
		UPDATE events SET contact_id = ? WHERE workspace_id = ? AND visitor_id = ? AND contact_id IS NULL`, contactID, ws, visitorID); err != nil {
		return 0, fmt.Errorf("track.attachEvents: %w", err)
	}
	// A pricing page the visitor saw before they were known is a signal too.
	signals := map[int64]int64{}
	for _, r := range list {
		if platform.IsSignal(r.kind, r.path) && r.at > signals[contactID] {
			signals[contactID] = r.at
		}
	}
	if err := platform.NoteSignals(ctx, tx, ws, signals); err != nil {
		return 0, err
	}
	for start := 0; start < len(list); start += 500 {
		part := list[start:min(start+500, len(list))]
		args := make([]any, 0, len(part)*7)
		for _, r := range part {
			data, _ := json.Marshal(map[string]string{"url": r.url, "channel": r.channel, "campaign": r.camp})
			args = append(args, ws, r.at, "event."+r.kind, contactID, "event", r.id, string(data))
		}
		if _, err := tx.ExecContext(ctx, `-- track.attachEvents timeline
			INSERT INTO timeline (workspace_id, at, kind, contact_id, ref_type, ref_id, data) VALUES `+db.Rows(len(part), "(?, ?, ?, ?, ?, ?, ?)"), args...); err != nil {
			return 0, fmt.Errorf("track.attachEvents: %w", err)
		}
	}
	return len(list), nil
}

// identifyLink is the payload of an identify token.
type identifyLink struct {
	Contact int64 `json:"c"`
}

// IdentifyToken signs a token that identifies contactID when a tracked page
// is opened with it as the IdentifyParam URL parameter (tracked email links
// add it). It expires after ttl.
func IdentifyToken(key []byte, contactID int64, expires time.Time) (string, error) {
	return platform.SignLink(key, identifyPurpose, identifyLink{contactID}, expires)
}

// VerifyIdentifyToken returns the contact of a valid, unexpired token; a
// forged, tampered or expired token is an error (and is ignored by collect).
func VerifyIdentifyToken(key []byte, token string, now time.Time) (int64, error) {
	var l identifyLink
	if err := platform.VerifyLink(key, identifyPurpose, token, now, &l); err != nil {
		return 0, err
	}
	if l.Contact <= 0 {
		return 0, errs.Field("rid", "names no contact")
	}
	return l.Contact, nil
}

// ValidVisitorID reports whether s is a well-formed visitor id (what the
// snippet stores in the ryorin_vid cookie).
func ValidVisitorID(s string) bool { return tokenRe.MatchString(s) }

// Linker attaches a visitor to a contact in its own write transaction, for
// callers that learn the contact after their own commit (the forms service:
// it is their VisitorLinker).
type Linker struct {
	DB    *db.DB
	Clock clock.Clock
}

// LinkVisitor runs IdentifyVisitor in a transaction of its own.
func (l Linker) LinkVisitor(ctx context.Context, ws int64, visitorID string, contactID int64) error {
	return l.DB.Write(ctx, "track.LinkVisitor", func(tx *db.Tx) error {
		_, err := IdentifyVisitor(ctx, tx, ws, visitorID, contactID, l.Clock.Now())
		return err
	})
}
