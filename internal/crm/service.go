package crm

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"time"

	"github.com/ryorin/ryorin/internal/clock"
	"github.com/ryorin/ryorin/internal/db"
	"github.com/ryorin/ryorin/internal/errs"
	"github.com/ryorin/ryorin/internal/platform"
)

// Service runs the CRM's use cases on a database with a clock.
type Service struct {
	DB    *db.DB
	Clock clock.Clock
	// ActivityHooks run inside the transaction that logs an activity, so
	// other capabilities (e.g. the lead SLA's first touch) see it at once
	// and commit or fail with it. Set them while wiring, before serving.
	ActivityHooks []ActivityHook
}

// ActivityHook is told of each logged activity inside its transaction.
type ActivityHook func(ctx context.Context, tx *db.Tx, ws int64, x Activity, now time.Time) error

// New returns a Service.
func New(d *db.DB, c clock.Clock) *Service { return &Service{DB: d, Clock: clock.Millis(c)} }

// Page is one page of a list with the cursor for the next one.
type Page[T any] struct {
	Items      []T    `json:"items"`
	NextCursor string `json:"next_cursor,omitempty"`
}

// cursor is the position after the last row of a page: the sort key and id.
type cursor struct {
	V  any   `json:"v"`
	ID int64 `json:"id"`
}

func encodeCursor(v any, id int64) string {
	b, _ := json.Marshal(cursor{v, id})
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeCursor(s string) (*cursor, error) {
	if s == "" {
		return nil, nil
	}
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return nil, errs.Field("cursor", "is not a cursor this API returned")
	}
	var c cursor
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	if err := d.Decode(&c); err != nil || c.ID <= 0 {
		return nil, errs.Field("cursor", "is not a cursor this API returned")
	}
	if n, ok := c.V.(json.Number); ok {
		if i, err := n.Int64(); err == nil {
			c.V = i
		} else if f, err := n.Float64(); err == nil {
			c.V = f
		}
	}
	return &c, nil
}

// checkUser returns an Unprocessable error naming field when id is not an
// active user of the workspace.
func checkUser(ctx context.Context, q db.Querier, ws, id int64, field string) error {
	if id == 0 {
		return nil
	}
	u, err := platform.GetUser(ctx, q, ws, id)
	if errs.Is(err, errs.NotFound) || (err == nil && !u.Active) {
		return errs.Rule(field, "user %d does not exist or is inactive", id)
	}
	return err
}

// canSee reports whether the actor may see a record with the given owner.
func canSee(a platform.Actor, ownerID int64) bool {
	return !a.OwnRecordsOnly || ownerID == a.UserID
}

func clampLimit(n int) int {
	if n <= 0 {
		return 50
	}
	return min(n, 200)
}
