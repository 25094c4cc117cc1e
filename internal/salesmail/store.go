package salesmail

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/ryorin/ryorin/internal/db"
	"github.com/ryorin/ryorin/internal/errs"
	"github.com/ryorin/ryorin/internal/platform"
)

const emailCols = `e.id, e.direction, e.contact_id, COALESCE(e.deal_id, 0), COALESCE(e.user_id, 0), COALESCE(e.activity_id, 0),
	COALESCE(e.reply_to_id, 0), e.from_addr, e.to_addr, e.subject, e.body, e.message_id, COALESCE(m.status, ''), e.opens, e.clicks,
	e.first_open_at, e.last_open_at, e.last_click_at, e.created_at
	FROM sales_emails e LEFT JOIN mail_messages m ON m.workspace_id = e.workspace_id AND m.id = e.mail_id`

func scanEmail(sc interface{ Scan(...any) error }) (Email, error) {
	var e Email
	var first, lastOpen, lastClick sql.NullInt64
	var created int64
	err := sc.Scan(&e.ID, &e.Direction, &e.ContactID, &e.DealID, &e.UserID, &e.ActivityID, &e.ReplyToID, &e.From, &e.To, &e.Subject,
		&e.Body, &e.MessageID, &e.Status, &e.Opens, &e.Clicks, &first, &lastOpen, &lastClick, &created)
	e.FirstOpenAt, e.LastOpenAt, e.LastClickAt = db.TimePtr(first), db.TimePtr(lastOpen), db.TimePtr(lastClick)
	e.CreatedAt = db.Time(created)
	return e, err
}

func getBy(ctx context.Context, q db.Querier, ws int64, cond string, args ...any) (Email, error) {
	e, err := scanEmail(q.QueryRowContext(ctx, `-- salesmail.getBy
		SELECT `+emailCols+` WHERE e.workspace_id = ? AND `+cond, append([]any{ws}, args...)...))
	if db.NoRows(err) {
		return e, errs.NotFoundf("email not found")
	}
	if err != nil {
		return e, fmt.Errorf("salesmail.getBy: %w", err)
	}
	return e, nil
}

// Get returns one logged email, if a may see its contact.
func (s *Service) Get(ctx context.Context, a platform.Actor, id int64) (Email, error) {
	e, err := getBy(ctx, s.DB.Reader(), a.WorkspaceID, `e.id = ?`, id)
	if err != nil {
		return e, err
	}
	if _, err := s.CRM.GetContact(ctx, s.DB.Reader(), a, e.ContactID); err != nil {
		return Email{}, errs.NotFoundf("email %d not found", id)
	}
	return e, nil
}

// List returns the latest emails to and from a contact (at most 200),
// newest first, with their open and click counts.
func (s *Service) List(ctx context.Context, a platform.Actor, contactID int64) ([]Email, error) {
	if _, err := s.CRM.GetContact(ctx, s.DB.Reader(), a, contactID); err != nil {
		return nil, err
	}
	rows, err := s.DB.Reader().QueryContext(ctx, `-- salesmail.List
		SELECT `+emailCols+` WHERE e.workspace_id = ? AND e.contact_id = ? ORDER BY e.created_at DESC, e.id DESC LIMIT 200`,
		a.WorkspaceID, contactID)
	if err != nil {
		return nil, fmt.Errorf("salesmail.List: %w", err)
	}
	defer rows.Close()
	out := []Email{}
	for rows.Next() {
		e, err := scanEmail(rows)
		if err != nil {
			return nil, fmt.Errorf("salesmail.List: %w", err)
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

// ByActivities returns the emails logged as the given activities, by
// activity id (for the timeline's open and click counts).
func ByActivities(ctx context.Context, q db.Querier, ws int64, activityIDs []int64) (map[int64]Email, error) {
	out := map[int64]Email{}
	if len(activityIDs) == 0 {
		return out, nil
	}
	args := []any{ws}
	for _, id := range activityIDs {
		args = append(args, id)
	}
	rows, err := q.QueryContext(ctx, `-- salesmail.ByActivities
		SELECT `+emailCols+` WHERE e.workspace_id = ? AND e.activity_id IN (`+db.Placeholders(len(activityIDs))+`)`, args...)
	if err != nil {
		return nil, fmt.Errorf("salesmail.ByActivities: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		e, err := scanEmail(rows)
		if err != nil {
			return nil, fmt.Errorf("salesmail.ByActivities: %w", err)
		}
		out[e.ActivityID] = e
	}
	return out, rows.Err()
}
