package platform

import (
	"context"
	"fmt"
	"time"

	"github.com/ryorin/ryorin/internal/db"
)

// RecordEventTx stores one event of a known contact inside the caller's
// transaction, so a capability (a form submission, a content view) and the
// event the scorer reads commit together. It is idempotent by the event id.
// Unlike IngestEvents it writes no timeline entry: the caller writes its own,
// richer one. path, when not empty, is stored instead of the URL's path: a
// form submission is recorded at its form's path (/f/<key>), so scoring and
// segment rules can name the form, while url keeps the page it was on. It
// returns the stored event's id and whether this call stored it.
func RecordEventTx(ctx context.Context, tx *db.Tx, ws int64, in EventInput, path string, now time.Time) (int64, bool, error) {
	p, perr := prepareEvent(in, now)
	if perr != nil {
		return 0, false, fmt.Errorf("platform.RecordEventTx: %s %s", perr.Field, perr.Message)
	}
	if path != "" {
		p.path = path
	}
	var id int64
	err := tx.QueryRowContext(ctx, `-- platform.RecordEventTx
		INSERT INTO events (workspace_id, event_uid, kind, occurred_at, received_at, contact_id, visitor_id, session_id, url, path,
			referrer, channel, utm_source, utm_medium, utm_campaign, properties)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (workspace_id, event_uid) DO NOTHING RETURNING id`,
		ws, p.in.ID, p.in.Kind, p.at, db.Millis(now), db.NullInt(p.contact), p.in.VisitorID, p.in.SessionID, p.in.URL, p.path,
		p.in.Referrer, p.in.Channel, p.in.UTMSource, p.in.UTMMedium, p.in.UTMCampaign, db.NullString(p.props)).Scan(&id)
	if db.NoRows(err) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, fmt.Errorf("platform.RecordEventTx(%s): %w", in.Kind, err)
	}
	if p.contact > 0 && IsSignal(p.in.Kind, p.path) {
		if err := NoteSignals(ctx, tx, ws, map[int64]int64{p.contact: p.at}); err != nil {
			return 0, false, err
		}
	}
	return id, true, nil
}
