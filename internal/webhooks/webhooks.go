// Package webhooks sends what happens in Ryorin to other systems: record
// changes (from the audit log), lifecycle changes, form submissions, MQL
// assignments and won or lost deals (from the timeline). A dispatcher follows
// both with marks and writes one delivery per event and subscription; a
// durable job posts each, signed with HMAC-SHA256, retrying with backoff.
// A slow or failing endpoint never blocks the product: it only delays its own
// deliveries.
package webhooks

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/ryorin/ryorin/internal/clock"
	"github.com/ryorin/ryorin/internal/db"
	"github.com/ryorin/ryorin/internal/errs"
	"github.com/ryorin/ryorin/internal/platform"
)

// EventTypes are the events a subscription may ask for.
var EventTypes = []string{
	"contact.created", "contact.updated", "contact.deleted",
	"company.created", "company.updated", "company.deleted",
	"deal.created", "deal.updated", "deal.deleted", "deal.won", "deal.lost",
	"lifecycle.changed", "form.submitted", "lead.assigned", "import.completed", "import.undone",
	"quote.issued",
}

// timelineKinds maps timeline entries to event types.
var timelineKinds = map[string]string{"lifecycle.changed": "lifecycle.changed", "form.submitted": "form.submitted",
	"lead.assigned": "lead.assigned", "deal.won": "deal.won", "deal.lost": "deal.lost",
	// An import is one event with its counts, never one per row.
	"import.done": "import.completed", "import.undone": "import.undone",
	// A new version of a deal's quote (number, version, total, currency).
	"quote.issued": "quote.issued"}

// DeliverKind is the durable job that posts one delivery.
const DeliverKind = "webhook.deliver"

// Subscription sends some event types to a URL.
type Subscription struct {
	ID          int64     `json:"id"`
	URL         string    `json:"url"`
	Secret      string    `json:"secret,omitempty" doc:"signs every delivery; shown when created"`
	EventTypes  []string  `json:"event_types"`
	Active      bool      `json:"active"`
	Description string    `json:"description,omitempty"`
	CreatedAt   time.Time `json:"created_at"`
}

// Delivery is one event sent (or being sent) to one subscription.
type Delivery struct {
	ID             int64           `json:"id"`
	SubscriptionID int64           `json:"subscription_id"`
	EventUID       string          `json:"event_uid"`
	EventType      string          `json:"event_type"`
	Payload        json.RawMessage `json:"payload"`
	Status         string          `json:"status" enum:"pending,succeeded,failed"`
	Attempts       int             `json:"attempts"`
	StatusCode     int             `json:"status_code,omitempty"`
	LastError      string          `json:"last_error,omitempty"`
	CreatedAt      time.Time       `json:"created_at"`
	DeliveredAt    *time.Time      `json:"delivered_at,omitempty"`
}

// Service manages subscriptions and deliveries.
type Service struct {
	DB    *db.DB
	Clock clock.Clock
	Jobs  *platform.Jobs
	HTTP  *http.Client
	// Lag keeps the dispatcher this far behind the newest rows, so a row
	// whose transaction commits after a later id's (PostgreSQL) is not
	// skipped. Transactions last milliseconds; the default is 2 s.
	Lag time.Duration
}

func requireAdmin(a platform.Actor) error {
	if !a.Is(platform.RoleAdmin) {
		return errs.E(errs.Forbidden, "", "only admins manage webhooks")
	}
	return nil
}

// CreateSubscription adds a subscription with a new random secret.
func (s *Service) CreateSubscription(ctx context.Context, a platform.Actor, in Subscription) (Subscription, error) {
	if err := requireAdmin(a); err != nil {
		return in, err
	}
	u, err := url.Parse(strings.TrimSpace(in.URL))
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return in, errs.Field("url", "must be an http or https URL")
	}
	in.URL = u.String()
	if len(in.EventTypes) == 0 {
		return in, errs.Field("event_types", "choose at least one event type")
	}
	for _, t := range in.EventTypes {
		if !slices.Contains(EventTypes, t) {
			return in, errs.Field("event_types", "unknown event type %q", t)
		}
	}
	b := make([]byte, 24)
	_, _ = rand.Read(b)
	in.Secret, in.Active, in.CreatedAt = "whsec_"+hex.EncodeToString(b), true, s.Clock.Now()
	types, _ := json.Marshal(in.EventTypes)
	err = s.DB.Write(ctx, "webhooks.Create", func(tx *db.Tx) error {
		if err := tx.QueryRowContext(ctx, `INSERT INTO webhook_subscriptions (workspace_id, url, secret, event_types, active, description, created_by, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`, a.WorkspaceID, in.URL, in.Secret, string(types), true, strings.TrimSpace(in.Description),
			a.UserRef(), db.Millis(in.CreatedAt)).Scan(&in.ID); err != nil {
			return err
		}
		return platform.Audit(ctx, tx, a, in.CreatedAt, "create", "webhook", in.ID, map[string]any{"url": in.URL, "event_types": in.EventTypes})
	})
	return in, err
}

// Subscriptions lists a workspace's subscriptions (secrets left out).
func (s *Service) Subscriptions(ctx context.Context, q db.Querier, ws int64) ([]Subscription, error) {
	rows, err := q.QueryContext(ctx, `SELECT id, url, event_types, active, description, created_at FROM webhook_subscriptions WHERE workspace_id = ? ORDER BY id`, ws)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []Subscription{}
	for rows.Next() {
		var x Subscription
		var types string
		var at int64
		if err := rows.Scan(&x.ID, &x.URL, &types, &x.Active, &x.Description, &at); err != nil {
			return nil, err
		}
		_ = json.Unmarshal([]byte(types), &x.EventTypes)
		x.CreatedAt = db.Time(at)
		out = append(out, x)
	}
	return out, rows.Err()
}

// SetActive pauses or resumes a subscription.
func (s *Service) SetActive(ctx context.Context, a platform.Actor, id int64, active bool) error {
	if err := requireAdmin(a); err != nil {
		return err
	}
	return s.DB.Write(ctx, "webhooks.SetActive", func(tx *db.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE webhook_subscriptions SET active = ? WHERE workspace_id = ? AND id = ?`, active, a.WorkspaceID, id)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return errs.NotFoundf("webhook %d not found", id)
		}
		return platform.Audit(ctx, tx, a, s.Clock.Now(), "update", "webhook", id, map[string]any{"active": active})
	})
}

// DeleteSubscription removes a subscription and its delivery log.
func (s *Service) DeleteSubscription(ctx context.Context, a platform.Actor, id int64) error {
	if err := requireAdmin(a); err != nil {
		return err
	}
	return s.DB.Write(ctx, "webhooks.Delete", func(tx *db.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM webhook_subscriptions WHERE workspace_id = ? AND id = ?`, a.WorkspaceID, id)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return errs.NotFoundf("webhook %d not found", id)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM webhook_deliveries WHERE workspace_id = ? AND subscription_id = ?`, a.WorkspaceID, id); err != nil {
			return err
		}
		return platform.Audit(ctx, tx, a, s.Clock.Now(), "delete", "webhook", id, nil)
	})
}

// Deliveries lists the newest deliveries (optionally of one subscription).
func (s *Service) Deliveries(ctx context.Context, q db.Querier, ws, subscription int64, limit int) ([]Delivery, error) {
	if limit <= 0 || limit > 200 {
		limit = 50
	}
	where, args := "workspace_id = ?", []any{ws}
	if subscription != 0 {
		where += " AND subscription_id = ?"
		args = append(args, subscription)
	}
	rows, err := q.QueryContext(ctx, `SELECT id, subscription_id, event_uid, event_type, payload, status, attempts, status_code, last_error, created_at, delivered_at
		FROM webhook_deliveries WHERE `+where+` ORDER BY id DESC LIMIT ?`, append(args, limit)...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []Delivery{}
	for rows.Next() {
		var x Delivery
		var payload string
		var at int64
		var done *int64
		if err := rows.Scan(&x.ID, &x.SubscriptionID, &x.EventUID, &x.EventType, &payload, &x.Status, &x.Attempts, &x.StatusCode, &x.LastError, &at, &done); err != nil {
			return nil, err
		}
		x.Payload, x.CreatedAt = json.RawMessage(payload), db.Time(at)
		if done != nil {
			t := db.Time(*done)
			x.DeliveredAt = &t
		}
		out = append(out, x)
	}
	return out, rows.Err()
}

// Replay sends a delivery's event again, as a new delivery.
func (s *Service) Replay(ctx context.Context, a platform.Actor, id int64) (int64, error) {
	if err := requireAdmin(a); err != nil {
		return 0, err
	}
	now := s.Clock.Now()
	var nid int64
	err := s.DB.Write(ctx, "webhooks.Replay", func(tx *db.Tx) error {
		var sub int64
		var uid, typ, payload string
		err := tx.QueryRowContext(ctx, `SELECT subscription_id, event_uid, event_type, payload FROM webhook_deliveries WHERE workspace_id = ? AND id = ?`,
			a.WorkspaceID, id).Scan(&sub, &uid, &typ, &payload)
		if db.NoRows(err) {
			return errs.NotFoundf("delivery %d not found", id)
		}
		if err != nil {
			return err
		}
		base, _, _ := strings.Cut(uid, "#")
		nid, err = s.addDelivery(ctx, tx, a.WorkspaceID, sub, base+"#replay-"+strconv.FormatInt(now.UnixMilli(), 10), typ, payload, now)
		return err
	})
	return nid, err
}

// addDelivery writes a delivery and its job in the caller's transaction.
func (s *Service) addDelivery(ctx context.Context, tx *db.Tx, ws, sub int64, uid, typ, payload string, now time.Time) (int64, error) {
	var id int64
	err := tx.QueryRowContext(ctx, `INSERT INTO webhook_deliveries (workspace_id, subscription_id, event_uid, event_type, payload, created_at)
		VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (workspace_id, subscription_id, event_uid) DO NOTHING RETURNING id`,
		ws, sub, uid, typ, payload, db.Millis(now)).Scan(&id)
	if db.NoRows(err) {
		return 0, nil // already dispatched
	}
	if err != nil {
		return 0, err
	}
	_, _, err = platform.Enqueue(ctx, tx, ws, DeliverKind, map[string]int64{"delivery_id": id}, platform.EnqueueOptions{MaxAttempts: 8}, now, s.Jobs)
	return id, err
}

// Sign returns the signature header value for a body sent at ts: the
// receiver recomputes HMAC-SHA256(secret, ts + "." + body).
func Sign(secret string, ts int64, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	fmt.Fprintf(m, "%d.", ts)
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

// Deliver is the job handler: it posts one delivery. A 2xx answer succeeds;
// anything else is recorded and retried with the job runner's backoff; on
// the last attempt the delivery is marked failed. The receiver dedupes by
// the X-Ryorin-Delivery header (a retry after a timeout may arrive twice).
func (s *Service) Deliver(ctx context.Context, j platform.Job) error {
	var p struct {
		DeliveryID int64 `json:"delivery_id"`
	}
	if err := j.Decode(&p); err != nil {
		return platform.Permanent(err)
	}
	var url, secret, uid, typ, payload, status string
	var active bool
	err := s.DB.Reader().QueryRowContext(ctx, `SELECT s.url, s.secret, s.active, d.event_uid, d.event_type, d.payload, d.status
		FROM webhook_deliveries d JOIN webhook_subscriptions s ON s.workspace_id = d.workspace_id AND s.id = d.subscription_id
		WHERE d.workspace_id = ? AND d.id = ?`, j.WorkspaceID, p.DeliveryID).Scan(&url, &secret, &active, &uid, &typ, &payload, &status)
	if db.NoRows(err) {
		return nil // the subscription was deleted
	}
	if err != nil {
		return err
	}
	if status != "pending" || !active {
		return nil
	}
	now := s.Clock.Now()
	body := []byte(payload)
	req, err := http.NewRequestWithContext(ctx, "POST", url, bytes.NewReader(body))
	if err != nil {
		return s.finish(ctx, j, p.DeliveryID, 0, err)
	}
	ts := now.Unix()
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "Ryorin-Webhooks/1")
	req.Header.Set("X-Ryorin-Event", typ)
	req.Header.Set("X-Ryorin-Delivery", uid)
	req.Header.Set("X-Ryorin-Timestamp", strconv.FormatInt(ts, 10))
	req.Header.Set("X-Ryorin-Signature", Sign(secret, ts, body))
	client := s.HTTP
	if client == nil {
		client = &http.Client{Timeout: 10 * time.Second}
	}
	res, err := client.Do(req)
	if err != nil {
		return s.finish(ctx, j, p.DeliveryID, 0, err)
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(res.Body, 64<<10))
	res.Body.Close()
	if res.StatusCode < 200 || res.StatusCode > 299 {
		return s.finish(ctx, j, p.DeliveryID, res.StatusCode, fmt.Errorf("the endpoint answered %d", res.StatusCode))
	}
	return s.finish(ctx, j, p.DeliveryID, res.StatusCode, nil)
}

// finish records an attempt; it returns the error again so the runner
// retries, except on the last attempt, which marks the delivery failed.
func (s *Service) finish(ctx context.Context, j platform.Job, id int64, code int, failure error) error {
	now := s.Clock.Now()
	status, msg := "succeeded", ""
	var done any
	if failure != nil {
		status, msg = "pending", failure.Error()
		if j.Attempts >= j.MaxAttempts {
			status = "failed"
		}
	} else {
		done = db.Millis(now)
	}
	if len(msg) > 500 {
		msg = msg[:500]
	}
	err := s.DB.Write(ctx, "webhooks.finish", func(tx *db.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE webhook_deliveries SET status = ?, attempts = attempts + 1, status_code = ?, last_error = ?, delivered_at = ?
			WHERE workspace_id = ? AND id = ?`, status, code, msg, done, j.WorkspaceID, id)
		return err
	})
	if err != nil {
		return err
	}
	if failure != nil && status == "pending" {
		return failure
	}
	return nil
}
