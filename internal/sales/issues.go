package sales

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/ryorin/ryorin/internal/db"
	"github.com/ryorin/ryorin/internal/errs"
	"github.com/ryorin/ryorin/internal/i18n"
	"github.com/ryorin/ryorin/internal/platform"
)

// CustomerIssue is a customer issue (問い合わせ/トラブル): a question, trouble,
// complaint or request from a customer, on a contact and/or a company. It is
// open until resolved; open issues show on the customer's pages.
type CustomerIssue struct {
	ID         int64      `json:"id"`
	Subject    string     `json:"subject"`
	Body       string     `json:"body,omitempty"`
	ContactID  int64      `json:"contact_id,omitempty"`
	CompanyID  int64      `json:"company_id,omitempty"`
	OwnerID    int64      `json:"owner_id,omitempty"`
	Priority   string     `json:"priority" doc:"low, normal, high or urgent"`
	Status     string     `json:"status" doc:"open, in_progress, waiting or resolved"`
	Category   string     `json:"category" doc:"question, trouble, complaint, request or other"`
	CreatedBy  int64      `json:"created_by,omitempty"`
	CreatedAt  time.Time  `json:"created_at"`
	UpdatedAt  time.Time  `json:"updated_at"`
	ResolvedAt *time.Time `json:"resolved_at,omitempty"`
}

// Open says whether the issue still needs someone.
func (x CustomerIssue) Open() bool { return x.Status != "resolved" }

// CustomerIssueInput holds issue fields to set; nil fields are left alone.
type CustomerIssueInput struct {
	Subject   *string `json:"subject,omitempty" doc:"required, at most 500 bytes"`
	Body      *string `json:"body,omitempty"`
	ContactID *int64  `json:"contact_id,omitempty" doc:"a contact and/or a company is required"`
	CompanyID *int64  `json:"company_id,omitempty" doc:"default: the contact's company"`
	OwnerID   *int64  `json:"owner_id,omitempty" doc:"default: the account owner (the company's owner, else the contact's)"`
	Priority  *string `json:"priority,omitempty" doc:"low, normal (default), high or urgent"`
	Status    *string `json:"status,omitempty" doc:"open (default), in_progress, waiting or resolved"`
	Category  *string `json:"category,omitempty" doc:"question (default), trouble, complaint, request or other"`
}

// IssuePriorities, IssueStatuses and IssueCategories are the allowed values,
// in display order.
var (
	IssuePriorities = []string{"urgent", "high", "normal", "low"}
	IssueStatuses   = []string{"open", "in_progress", "waiting", "resolved"}
	IssueCategories = []string{"question", "trouble", "complaint", "request", "other"}
)

func (in CustomerIssueInput) apply(x *CustomerIssue) error {
	if in.Subject != nil {
		x.Subject = strings.TrimSpace(*in.Subject)
	}
	if x.Subject == "" {
		return errs.Field("subject", "is required")
	}
	if len(x.Subject) > 500 {
		return errs.Field("subject", "is longer than 500 bytes")
	}
	if in.Body != nil {
		x.Body = strings.TrimSpace(*in.Body)
		if len(x.Body) > 100_000 {
			return errs.Field("body", "is longer than 100,000 bytes")
		}
	}
	for _, f := range []struct {
		name string
		src  *string
		dst  *string
		list []string
	}{{"priority", in.Priority, &x.Priority, IssuePriorities}, {"status", in.Status, &x.Status, IssueStatuses}, {"category", in.Category, &x.Category, IssueCategories}} {
		if f.src != nil {
			*f.dst = strings.TrimSpace(*f.src)
		}
		if !slices.Contains(f.list, *f.dst) {
			return errs.Field(f.name, "must be one of %s", strings.Join(f.list, ", "))
		}
	}
	if in.ContactID != nil {
		x.ContactID = *in.ContactID
	}
	if in.CompanyID != nil {
		x.CompanyID = *in.CompanyID
	}
	if x.ContactID == 0 && x.CompanyID == 0 {
		return errs.Field("contact_id", "an issue concerns a contact or a company")
	}
	if in.OwnerID != nil {
		x.OwnerID = *in.OwnerID
	}
	return nil
}

const issueCols = `id, subject, body, COALESCE(contact_id, 0), COALESCE(company_id, 0), COALESCE(owner_id, 0), priority, status, category,
	COALESCE(created_by, 0), created_at, updated_at, resolved_at`

func scanIssue(sc interface{ Scan(...any) error }) (CustomerIssue, error) {
	var x CustomerIssue
	var cr, up int64
	var res sql.NullInt64
	err := sc.Scan(&x.ID, &x.Subject, &x.Body, &x.ContactID, &x.CompanyID, &x.OwnerID, &x.Priority, &x.Status, &x.Category,
		&x.CreatedBy, &cr, &up, &res)
	x.CreatedAt, x.UpdatedAt, x.ResolvedAt = db.Time(cr), db.Time(up), db.TimePtr(res)
	return x, err
}

// accountOwner checks the issue's contact and company, fills in the company
// from the contact, and returns the account owner: the company's owner, else
// the contact's.
func (s *Service) accountOwner(ctx context.Context, q db.Querier, a platform.Actor, x *CustomerIssue) (int64, error) {
	var contactOwner, companyOwner int64
	if x.ContactID != 0 {
		c, err := s.CRM.GetContact(ctx, q, a, x.ContactID)
		if err != nil {
			return 0, errs.Rule("contact_id", "contact %d does not exist", x.ContactID)
		}
		contactOwner = c.OwnerID
		if x.CompanyID == 0 {
			x.CompanyID = c.CompanyID
		}
	}
	if x.CompanyID != 0 {
		c, err := s.CRM.GetCompany(ctx, q, platform.System(a.WorkspaceID), x.CompanyID)
		if err != nil {
			return 0, errs.Rule("company_id", "company %d does not exist", x.CompanyID)
		}
		companyOwner = c.OwnerID
	}
	if companyOwner != 0 {
		return companyOwner, nil
	}
	return contactOwner, nil
}

// CreateIssue logs a customer issue. The owner defaults to the account
// owner; the account owner (and the issue's owner, when another person) is
// notified in their language, and the issue goes on the customer's timeline
// and the audit log, all in one transaction.
func (s *Service) CreateIssue(ctx context.Context, a platform.Actor, in CustomerIssueInput) (CustomerIssue, error) {
	now := s.Clock.Now()
	x := CustomerIssue{Priority: "normal", Status: "open", Category: "question", CreatedBy: a.UserID, CreatedAt: now, UpdatedAt: now}
	if err := in.apply(&x); err != nil {
		return x, err
	}
	err := s.DB.Write(ctx, "sales.CreateIssue", func(tx *db.Tx) error {
		account, err := s.accountOwner(ctx, tx, a, &x)
		if err != nil {
			return err
		}
		if in.OwnerID == nil {
			x.OwnerID = account
			if x.OwnerID == 0 {
				x.OwnerID = a.UserID
			}
		}
		if x.OwnerID != 0 {
			if _, err := platform.GetUser(ctx, tx, a.WorkspaceID, x.OwnerID); err != nil {
				return errs.Rule("owner_id", "user %d does not exist", x.OwnerID)
			}
		}
		if x.Status == "resolved" {
			x.ResolvedAt = &now
		}
		err = tx.QueryRowContext(ctx, `-- sales.CreateIssue
			INSERT INTO customer_issues (workspace_id, subject, body, contact_id, company_id, owner_id, priority, status, category,
				created_by, created_at, updated_at, resolved_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
			a.WorkspaceID, x.Subject, x.Body, db.NullInt(x.ContactID), db.NullInt(x.CompanyID), db.NullInt(x.OwnerID), x.Priority, x.Status,
			x.Category, db.NullInt(x.CreatedBy), db.Millis(now), db.Millis(now), db.NullMillis(x.ResolvedAt)).Scan(&x.ID)
		if err != nil {
			return fmt.Errorf("sales.CreateIssue: %w", err)
		}
		if _, err := platform.AppendTimeline(ctx, tx, a, platform.TimelineEntry{At: now, Kind: "issue.opened", ContactID: x.ContactID,
			CompanyID: x.CompanyID, RefType: "issue", RefID: x.ID},
			map[string]any{"subject": x.Subject, "priority": x.Priority, "category": x.Category, "status": x.Status}); err != nil {
			return err
		}
		for _, to := range slices.Compact([]int64{account, x.OwnerID}) {
			if err := s.notifyIssue(ctx, tx, a, to, x); err != nil {
				return err
			}
		}
		return platform.Audit(ctx, tx, a, now, "create", "customer_issue", x.ID, x)
	})
	return x, err
}

// notifyIssue tells user to (not the person who logged it) about a new issue, once.
func (s *Service) notifyIssue(ctx context.Context, tx *db.Tx, a platform.Actor, to int64, x CustomerIssue) error {
	if to == 0 || to == a.UserID || s.Notify == nil {
		return nil
	}
	u, err := platform.GetUser(ctx, tx, a.WorkspaceID, to)
	if err != nil {
		return err
	}
	lang, _ := i18n.Parse(u.Locale)
	_, _, err = s.Notify.Notify(ctx, tx, a.WorkspaceID, to, platform.Notification{Kind: "issue.opened",
		Title: i18n.T(lang, "notify.issue_opened", "subject", x.Subject, "priority", i18n.T(lang, "issue.priority."+x.Priority)),
		Body:  x.Body, Link: fmt.Sprintf("/issues/%d", x.ID), DedupeKey: fmt.Sprintf("issue.opened:%d", x.ID)})
	return err
}

// GetIssue loads one issue the actor may see.
func (s *Service) GetIssue(ctx context.Context, q db.Querier, a platform.Actor, id int64) (CustomerIssue, error) {
	x, err := scanIssue(q.QueryRowContext(ctx, `-- sales.GetIssue
		SELECT `+issueCols+` FROM customer_issues WHERE workspace_id = ? AND id = ?`, a.WorkspaceID, id))
	if db.NoRows(err) || (err == nil && a.OwnRecordsOnly && x.OwnerID != a.UserID) {
		return x, errs.NotFoundf("issue %d not found", id)
	}
	if err != nil {
		return x, fmt.Errorf("sales.GetIssue(%d): %w", id, err)
	}
	return x, nil
}

// UpdateIssue changes an issue. A status change goes on the customer's
// timeline; resolving stamps resolved_at, reopening clears it. A new owner of
// an open issue is notified.
func (s *Service) UpdateIssue(ctx context.Context, a platform.Actor, id int64, in CustomerIssueInput) (CustomerIssue, error) {
	var x CustomerIssue
	err := s.DB.Write(ctx, "sales.UpdateIssue", func(tx *db.Tx) error {
		var err error
		if x, err = s.GetIssue(ctx, tx, a, id); err != nil {
			return err
		}
		before := x
		if err := in.apply(&x); err != nil {
			return err
		}
		if in.ContactID != nil || in.CompanyID != nil {
			if in.CompanyID == nil && in.ContactID != nil && *in.ContactID != before.ContactID {
				x.CompanyID = 0 // follow the new contact's company
			}
			if _, err := s.accountOwner(ctx, tx, a, &x); err != nil {
				return err
			}
		}
		if x.OwnerID != before.OwnerID && x.OwnerID != 0 {
			if _, err := platform.GetUser(ctx, tx, a.WorkspaceID, x.OwnerID); err != nil {
				return errs.Rule("owner_id", "user %d does not exist", x.OwnerID)
			}
		}
		now := s.Clock.Now()
		switch {
		case x.Status == "resolved" && before.Status != "resolved":
			x.ResolvedAt = &now
		case x.Status != "resolved":
			x.ResolvedAt = nil
		}
		x.UpdatedAt = now
		if _, err := tx.ExecContext(ctx, `-- sales.UpdateIssue
			UPDATE customer_issues SET subject = ?, body = ?, contact_id = ?, company_id = ?, owner_id = ?, priority = ?, status = ?,
				category = ?, updated_at = ?, resolved_at = ? WHERE workspace_id = ? AND id = ?`,
			x.Subject, x.Body, db.NullInt(x.ContactID), db.NullInt(x.CompanyID), db.NullInt(x.OwnerID), x.Priority, x.Status, x.Category,
			db.Millis(now), db.NullMillis(x.ResolvedAt), a.WorkspaceID, id); err != nil {
			return fmt.Errorf("sales.UpdateIssue: %w", err)
		}
		if x.OwnerID != before.OwnerID && x.Open() {
			// A new owner hears of it once, like the first one.
			if err := s.notifyIssue(ctx, tx, a, x.OwnerID, x); err != nil {
				return err
			}
		}
		if x.Status != before.Status {
			if _, err := platform.AppendTimeline(ctx, tx, a, platform.TimelineEntry{At: now, Kind: "issue.status_changed", ContactID: x.ContactID,
				CompanyID: x.CompanyID, RefType: "issue", RefID: x.ID},
				map[string]any{"subject": x.Subject, "from": before.Status, "to": x.Status}); err != nil {
				return err
			}
		}
		return platform.Audit(ctx, tx, a, now, "update", "customer_issue", id, platform.Diff(before, x))
	})
	return x, err
}

// IssueFilter selects issues for a list.
type IssueFilter struct {
	// Status is one status, "unresolved" (every status but resolved) or
	// empty for all.
	Status    string
	OwnerID   int64
	Priority  string
	ContactID int64
	CompanyID int64
	Limit     int
}

// ListIssues returns the issues the actor may see, most urgent first, then
// newest; at most Limit (1–500, default 100).
func (s *Service) ListIssues(ctx context.Context, q db.Querier, a platform.Actor, f IssueFilter) ([]CustomerIssue, error) {
	where, args := "workspace_id = ?", []any{a.WorkspaceID}
	and := func(cond string, v ...any) { where += " AND " + cond; args = append(args, v...) }
	switch {
	case f.Status == "unresolved":
		and("status <> 'resolved'")
	case f.Status == "":
	case slices.Contains(IssueStatuses, f.Status):
		and("status = ?", f.Status)
	default:
		return nil, errs.Field("status", "must be unresolved or one of %s", strings.Join(IssueStatuses, ", "))
	}
	if f.Priority != "" {
		if !slices.Contains(IssuePriorities, f.Priority) {
			return nil, errs.Field("priority", "must be one of %s", strings.Join(IssuePriorities, ", "))
		}
		and("priority = ?", f.Priority)
	}
	if a.OwnRecordsOnly {
		and("owner_id = ?", a.UserID)
	}
	if f.OwnerID != 0 {
		and("owner_id = ?", f.OwnerID)
	}
	if f.ContactID != 0 {
		and("contact_id = ?", f.ContactID)
	}
	if f.CompanyID != 0 {
		and("company_id = ?", f.CompanyID)
	}
	if f.Limit == 0 {
		f.Limit = 100
	}
	if f.Limit < 1 || f.Limit > 500 {
		return nil, errs.Field("limit", "must be 1 to 500")
	}
	rows, err := q.QueryContext(ctx, `-- sales.ListIssues
		SELECT `+issueCols+` FROM customer_issues WHERE `+where+`
		ORDER BY CASE status WHEN 'resolved' THEN 1 ELSE 0 END,
			CASE priority WHEN 'urgent' THEN 0 WHEN 'high' THEN 1 WHEN 'normal' THEN 2 ELSE 3 END, id DESC LIMIT ?`, append(args, f.Limit)...)
	if err != nil {
		return nil, fmt.Errorf("sales.ListIssues: %w", err)
	}
	defer rows.Close()
	out := []CustomerIssue{}
	for rows.Next() {
		x, err := scanIssue(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, x)
	}
	return out, rows.Err()
}

// IssueCounts counts the issues the actor may see by status.
func (s *Service) IssueCounts(ctx context.Context, q db.Querier, a platform.Actor) (map[string]int, error) {
	where, args := "workspace_id = ?", []any{a.WorkspaceID}
	if a.OwnRecordsOnly {
		where += " AND owner_id = ?"
		args = append(args, a.UserID)
	}
	rows, err := q.QueryContext(ctx, `-- sales.IssueCounts
		SELECT status, COUNT(*) FROM customer_issues WHERE `+where+` GROUP BY status`, args...)
	if err != nil {
		return nil, fmt.Errorf("sales.IssueCounts: %w", err)
	}
	defer rows.Close()
	out := map[string]int{}
	for _, st := range IssueStatuses {
		out[st] = 0
	}
	for rows.Next() {
		var st string
		var n int
		if err := rows.Scan(&st, &n); err != nil {
			return nil, err
		}
		out[st] = n
	}
	return out, rows.Err()
}
