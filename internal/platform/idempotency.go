package platform

import (
	"context"
	"fmt"
	"time"

	"github.com/ryorin/ryorin/internal/db"
	"github.com/ryorin/ryorin/internal/errs"
)

// IdempotencyTTL is how long a completed idempotent response is replayed.
const IdempotencyTTL = 24 * time.Hour

// inFlightTimeout is how long a key may stay claimed without a response
// before a retry may claim it again (the first attempt crashed).
const inFlightTimeout = time.Minute

// StoredResponse is a response recorded under an idempotency key.
type StoredResponse struct {
	Status int
	Body   string
}

// ClaimIdempotencyKey claims key for a request. It returns the stored response
// when the same request already completed; a Conflict when the key is in use
// by a request still running; an Unprocessable error when the key was used
// with a different request. A nil response and nil error mean: go ahead, then
// call CompleteIdempotencyKey.
func ClaimIdempotencyKey(ctx context.Context, d *db.DB, ws int64, actor, key, method, path, reqHash string, now time.Time) (*StoredResponse, error) {
	if key == "" || len(key) > 200 {
		return nil, errs.Field("Idempotency-Key", "must be 1 to 200 characters")
	}
	var out *StoredResponse
	err := d.Write(ctx, "platform.ClaimIdempotencyKey", func(tx *db.Tx) error {
		var m, p, h string
		var status *int
		var body *string
		var created int64
		err := tx.QueryRowContext(ctx, `-- platform.ClaimIdempotencyKey
			SELECT method, path, request_hash, status_code, response_body, created_at FROM idempotency_keys
			WHERE workspace_id = ? AND actor = ? AND key = ?`, ws, actor, key).Scan(&m, &p, &h, &status, &body, &created)
		switch {
		case db.NoRows(err):
		case err != nil:
			return fmt.Errorf("platform.ClaimIdempotencyKey: %w", err)
		case db.Millis(now)-created > IdempotencyTTL.Milliseconds():
			if _, err := tx.ExecContext(ctx, `DELETE FROM idempotency_keys WHERE workspace_id = ? AND actor = ? AND key = ?`, ws, actor, key); err != nil {
				return err
			}
		case m != method || p != path || h != reqHash:
			return errs.Rule("Idempotency-Key", "this key was already used with a different request")
		case status != nil:
			out = &StoredResponse{Status: *status, Body: deref(body)}
			return nil
		case db.Millis(now)-created < inFlightTimeout.Milliseconds():
			return errs.E(errs.Conflict, "Idempotency-Key", "a request with this key is still being processed; retry shortly")
		default:
			// The first attempt never finished (crash); let this one run.
			_, err := tx.ExecContext(ctx, `UPDATE idempotency_keys SET created_at = ? WHERE workspace_id = ? AND actor = ? AND key = ?`,
				db.Millis(now), ws, actor, key)
			return err
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO idempotency_keys (workspace_id, actor, key, method, path, request_hash, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?)`, ws, actor, key, method, path, reqHash, db.Millis(now))
		return err
	})
	return out, err
}

// CompleteIdempotencyKey stores the response for a claimed key. Responses of
// failed requests (5xx) release the key instead, so the client may retry.
func CompleteIdempotencyKey(ctx context.Context, d *db.DB, ws int64, actor, key string, status int, body string, now time.Time) error {
	return d.Write(ctx, "platform.CompleteIdempotencyKey", func(tx *db.Tx) error {
		if status >= 500 {
			_, err := tx.ExecContext(ctx, `DELETE FROM idempotency_keys WHERE workspace_id = ? AND actor = ? AND key = ?`, ws, actor, key)
			return err
		}
		_, err := tx.ExecContext(ctx, `-- platform.CompleteIdempotencyKey
			UPDATE idempotency_keys SET status_code = ?, response_body = ?, completed_at = ? WHERE workspace_id = ? AND actor = ? AND key = ?`,
			status, body, db.Millis(now), ws, actor, key)
		return err
	})
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
