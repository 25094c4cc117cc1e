package sales

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/ryorin/ryorin/internal/crm"
	"github.com/ryorin/ryorin/internal/db"
	"github.com/ryorin/ryorin/internal/errs"
	"github.com/ryorin/ryorin/internal/i18n"
	"github.com/ryorin/ryorin/internal/platform"
)

// RenewalsKind is the periodic job that creates renewal deals ahead of time.
const RenewalsKind = "sales.renewals"

// DefaultRenewalLeadDays is how many days before a renewal date its renewal
// deal and task are created, unless the workspace says otherwise.
const DefaultRenewalLeadDays = 90

// DefaultTermMonths is the term of a recurring deal that does not say.
const DefaultTermMonths = 12

// renewalBatch is how many candidate deals one read takes; each renewal is
// then its own short write transaction.
const renewalBatch = 200

// RenewalDate is when a won recurring deal renews: its close date (or the
// day it closed, in loc) plus its term, 12 months when unset. ok is false for
// a deal that does not renew (not won, or no recurring amount).
func RenewalDate(d crm.Deal, loc *time.Location) (date time.Time, ok bool) {
	if d.Status != "won" || d.RecurringAmount <= 0 {
		return time.Time{}, false
	}
	var start time.Time
	if t, err := time.ParseInLocation(time.DateOnly, d.CloseDate, loc); err == nil {
		start = t
	} else if d.ClosedAt != nil {
		c := d.ClosedAt.In(loc)
		start = time.Date(c.Year(), c.Month(), c.Day(), 0, 0, 0, 0, loc)
	} else {
		return time.Time{}, false
	}
	term := d.TermMonths
	if term <= 0 {
		term = DefaultTermMonths
	}
	return start.AddDate(0, term, 0), true
}

// TermValue is a recurring deal's value over its term: the recurring amount
// times the months (or years) of the term.
func TermValue(d crm.Deal) float64 {
	term := d.TermMonths
	if term <= 0 {
		term = DefaultTermMonths
	}
	if d.RecurringInterval == "year" {
		return d.RecurringAmount * float64(term) / 12
	}
	return d.RecurringAmount * float64(term)
}

// errRenewedMeanwhile rolls back a renewal another run created first.
var errRenewedMeanwhile = errors.New("sales: deal renewed meanwhile")

// CreateRenewals creates, for each won recurring deal of workspace ws whose
// renewal date is at most the workspace's lead days away, a renewal deal (type
// renewal, same pipeline's first stage, company, contacts and owner; amount =
// the recurring amount over the term; close date = the renewal date) and a task
// for its owner, and notifies the owner. Each renewal commits in its own short
// transaction with its deal_renewals row, whose key makes it happen once per
// source deal whatever reruns or crashes. It stops after limit renewals and
// says how many it created.
func (s *Service) CreateRenewals(ctx context.Context, ws int64, limit int) (int, error) {
	q := s.DB.Reader()
	w, err := platform.GetWorkspace(ctx, q, ws)
	if err != nil {
		return 0, err
	}
	st, err := s.GetSettings(ctx, q, ws)
	if err != nil {
		return 0, err
	}
	loc := w.Location()
	n := s.Clock.Now().In(loc)
	horizon := time.Date(n.Year(), n.Month(), n.Day(), 0, 0, 0, 0, loc).AddDate(0, 0, st.RenewalLeadDays)
	created := 0
	var after int64
	// A deal the CRM refuses to copy (say, a custom property made required
	// since) must not hold up the others: it is reported after the run and
	// tried again on the next one.
	var refused error
	for created < limit {
		ids, last, err := s.renewalCandidates(ctx, ws, after, loc, horizon)
		if err != nil {
			return created, err
		}
		for _, id := range ids {
			if created >= limit {
				break
			}
			ok, err := s.renew(ctx, ws, id, loc)
			if k := errs.KindOf(err); err != nil && (k == errs.Invalid || k == errs.Unprocessable || k == errs.Conflict) {
				refused = errors.Join(refused, fmt.Errorf("sales.CreateRenewals: deal %d: %w", id, err))
				continue
			}
			if err != nil {
				return created, err
			}
			if ok {
				created++
			}
		}
		if last == 0 {
			break
		}
		after = last
	}
	return created, refused
}

// renewalCandidates reads one batch of won recurring deals not yet renewed
// after id after, and returns those due by horizon and the batch's last id
// (0 when the batch was the last).
func (s *Service) renewalCandidates(ctx context.Context, ws, after int64, loc *time.Location, horizon time.Time) ([]int64, int64, error) {
	rows, err := s.DB.Reader().QueryContext(ctx, `-- sales.renewalCandidates
		SELECT d.id, COALESCE(d.close_date, ''), d.closed_at, d.term_months FROM deals d
		WHERE d.workspace_id = ? AND d.status = 'won' AND d.recurring_amount > 0 AND d.id > ?
			AND NOT EXISTS (SELECT 1 FROM deal_renewals r WHERE r.workspace_id = d.workspace_id AND r.source_deal_id = d.id)
		ORDER BY d.id LIMIT ?`, ws, after, renewalBatch)
	if err != nil {
		return nil, 0, fmt.Errorf("sales.renewalCandidates: %w", err)
	}
	defer rows.Close()
	var due []int64
	var last int64
	seen := 0
	for rows.Next() {
		d := crm.Deal{Status: "won", RecurringAmount: 1}
		var closed *int64
		if err := rows.Scan(&d.ID, &d.CloseDate, &closed, &d.TermMonths); err != nil {
			return nil, 0, err
		}
		if closed != nil {
			t := db.Time(*closed)
			d.ClosedAt = &t
		}
		seen++
		last = d.ID
		if at, ok := RenewalDate(d, loc); ok && !at.After(horizon) {
			due = append(due, d.ID)
		}
	}
	if seen < renewalBatch {
		last = 0
	}
	return due, last, rows.Err()
}

// renew creates one deal's renewal in one transaction; false when it was
// renewed already (by a concurrent run) or is no longer renewable.
func (s *Service) renew(ctx context.Context, ws, sourceID int64, loc *time.Location) (bool, error) {
	sys := platform.System(ws)
	err := s.DB.Write(ctx, "sales.renew", func(tx *db.Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM deal_renewals WHERE workspace_id = ? AND source_deal_id = ?`, ws, sourceID).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			return errRenewedMeanwhile
		}
		src, err := s.CRM.GetDeal(ctx, tx, sys, sourceID)
		if err != nil {
			return err
		}
		at, ok := RenewalDate(src, loc)
		if !ok {
			return errRenewedMeanwhile
		}
		date := at.Format(time.DateOnly)
		lang := i18n.JA
		if src.OwnerID != 0 {
			u, err := platform.GetUser(ctx, tx, ws, src.OwnerID)
			if err != nil {
				return err
			}
			if l, ok := i18n.Parse(u.Locale); ok {
				lang = l
			}
			if !u.Active {
				src.OwnerID = 0 // the rep has left: the renewal waits unassigned on /renewals
			}
		}
		// The renewal keeps the source's custom properties that are still
		// defined (a required one added since is then usually there too).
		defs, err := s.CRM.Properties(ctx, tx, ws, "deal")
		if err != nil {
			return err
		}
		props := map[string]any{}
		for _, d := range defs {
			if v, ok := src.Props[d.Key]; ok && v != nil {
				props[d.Key] = v
			}
		}
		typ, amount, name := "renewal", TermValue(src), i18n.T(lang, "renewal.deal_name", "name", src.Name, "date", date)
		contacts := append([]crm.DealContact{}, src.Contacts...)
		in := crm.DealInput{Name: &name, Type: &typ, PipelineID: &src.PipelineID, CompanyID: &src.CompanyID, OwnerID: &src.OwnerID,
			Amount: &amount, Currency: &src.Currency, RecurringAmount: &src.RecurringAmount, RecurringInterval: &src.RecurringInterval,
			TermMonths: &src.TermMonths, CloseDate: &date, Contacts: &contacts, Props: props}
		rd, err := s.CRM.CreateDealTx(ctx, tx, sys, in)
		if err != nil {
			return err
		}
		now := s.Clock.Now()
		_, err = tx.ExecContext(ctx, `-- sales.renew
			INSERT INTO deal_renewals (workspace_id, source_deal_id, renewal_deal_id, renewal_date, created_at) VALUES (?, ?, ?, ?, ?)`,
			ws, sourceID, rd.ID, date, db.Millis(now))
		if db.IsUniqueViolation(err) {
			return errRenewedMeanwhile
		}
		if err != nil {
			return fmt.Errorf("sales.renew: %w", err)
		}
		if _, err := platform.AppendTimeline(ctx, tx, sys, platform.TimelineEntry{At: now, Kind: "deal.renewal_created", DealID: sourceID,
			CompanyID: src.CompanyID, RefType: "deal", RefID: rd.ID}, map[string]any{"name": rd.Name, "date": date, "renewal_deal_id": rd.ID}); err != nil {
			return err
		}
		if src.OwnerID == 0 {
			return nil
		}
		// The task is due a month before the renewal date, or tomorrow when
		// that has passed.
		due := at.AddDate(0, 0, -30)
		if due.Before(now) {
			due = now.AddDate(0, 0, 1)
		}
		kind, subject := "task", i18n.T(lang, "renewal.task_subject", "name", src.Name, "date", date)
		dealID, owner := rd.ID, src.OwnerID
		if _, err := s.CRM.LogActivityTx(ctx, tx, sys, crm.ActivityInput{Kind: &kind, Subject: &subject, DueAt: &due, OwnerID: &owner, DealID: &dealID}); err != nil {
			return err
		}
		if s.Notify == nil {
			return nil
		}
		_, _, err = s.Notify.Notify(ctx, tx, ws, src.OwnerID, platform.Notification{Kind: "deal.renewal_created",
			Title: i18n.T(lang, "notify.renewal_created", "name", src.Name, "date", date), Link: fmt.Sprintf("/deals/%d", rd.ID),
			DedupeKey: fmt.Sprintf("renewal:%d", sourceID)})
		return err
	})
	if errors.Is(err, errRenewedMeanwhile) || errs.Is(err, errs.NotFound) {
		return false, nil
	}
	return err == nil, err
}

// RenewalLink is a deal's place in a renewal chain.
type RenewalLink struct {
	// RenewalOf is the deal this one renews (0: none).
	RenewalOf     int64  `json:"renewal_of,omitempty"`
	RenewalOfName string `json:"renewal_of_name,omitempty"`
	// RenewedBy is the renewal deal created from this one (0: none yet).
	RenewedBy     int64  `json:"renewed_by,omitempty"`
	RenewedByName string `json:"renewed_by_name,omitempty"`
	RenewalDate   string `json:"renewal_date,omitempty" doc:"when this deal renews (YYYY-MM-DD), for a won recurring deal"`
}

// RenewalLinkOf returns the renewal links of deal id.
func (s *Service) RenewalLinkOf(ctx context.Context, q db.Querier, ws, id int64) (RenewalLink, error) {
	var l RenewalLink
	err := q.QueryRowContext(ctx, `-- sales.RenewalLinkOf source
		SELECT r.source_deal_id, COALESCE(d.name, '') FROM deal_renewals r
		LEFT JOIN deals d ON d.workspace_id = r.workspace_id AND d.id = r.source_deal_id
		WHERE r.workspace_id = ? AND r.renewal_deal_id = ?`, ws, id).Scan(&l.RenewalOf, &l.RenewalOfName)
	if err != nil && !db.NoRows(err) {
		return l, fmt.Errorf("sales.RenewalLinkOf: %w", err)
	}
	err = q.QueryRowContext(ctx, `-- sales.RenewalLinkOf renewal
		SELECT r.renewal_deal_id, COALESCE(d.name, ''), r.renewal_date FROM deal_renewals r
		LEFT JOIN deals d ON d.workspace_id = r.workspace_id AND d.id = r.renewal_deal_id
		WHERE r.workspace_id = ? AND r.source_deal_id = ?`, ws, id).Scan(&l.RenewedBy, &l.RenewedByName, &l.RenewalDate)
	if err != nil && !db.NoRows(err) {
		return l, fmt.Errorf("sales.RenewalLinkOf: %w", err)
	}
	return l, nil
}

// UpcomingRenewal is a won recurring deal renewing within the window asked.
type UpcomingRenewal struct {
	SourceDealID   int64   `json:"source_deal_id"`
	SourceName     string  `json:"source_name"`
	CompanyID      int64   `json:"company_id,omitempty"`
	OwnerID        int64   `json:"owner_id,omitempty"`
	RenewalDate    string  `json:"renewal_date"`
	Amount         float64 `json:"amount" doc:"the recurring amount over the term"`
	Currency       string  `json:"currency"`
	RenewalDealID  int64   `json:"renewal_deal_id,omitempty"`
	RenewalName    string  `json:"renewal_name,omitempty"`
	RenewalStatus  string  `json:"renewal_status" doc:"pending (no renewal deal yet), open, won or lost"`
	DaysUntilRenew int     `json:"days_until"`
}

// UpcomingRenewals lists the won recurring deals the actor may see whose
// renewal date falls in the next days days (and those already overdue whose
// renewal is still open), soonest first, with their renewal deal's status.
func (s *Service) UpcomingRenewals(ctx context.Context, a platform.Actor, days int) ([]UpcomingRenewal, error) {
	if days < 1 || days > 730 {
		return nil, errs.Field("days", "must be 1 to 730")
	}
	q := s.DB.Reader()
	w, err := platform.GetWorkspace(ctx, q, a.WorkspaceID)
	if err != nil {
		return nil, err
	}
	loc := w.Location()
	n := s.Clock.Now().In(loc)
	today := time.Date(n.Year(), n.Month(), n.Day(), 0, 0, 0, 0, loc)
	until := today.AddDate(0, 0, days)
	// Renewals decided and past are left out in SQL, so the scan covers the
	// deals still to renew and those renewing recently, not all history.
	where := `d.workspace_id = ? AND d.status = 'won' AND d.recurring_amount > 0
		AND (r.source_deal_id IS NULL OR rd.id IS NULL OR rd.status = 'open' OR r.renewal_date >= ?)`
	args := []any{a.WorkspaceID, today.Format(time.DateOnly)}
	if a.OwnRecordsOnly {
		where += " AND d.owner_id = ?"
		args = append(args, a.UserID)
	}
	out := []UpcomingRenewal{}
	var after int64
	for {
		rows, err := q.QueryContext(ctx, `-- sales.UpcomingRenewals
			SELECT d.id, d.name, COALESCE(d.company_id, 0), COALESCE(d.owner_id, 0), d.recurring_amount, d.recurring_interval, d.term_months,
				d.currency, COALESCE(d.close_date, ''), d.closed_at, COALESCE(r.renewal_deal_id, 0), COALESCE(rd.name, ''), COALESCE(rd.status, '')
			FROM deals d
			LEFT JOIN deal_renewals r ON r.workspace_id = d.workspace_id AND r.source_deal_id = d.id
			LEFT JOIN deals rd ON rd.workspace_id = r.workspace_id AND rd.id = r.renewal_deal_id
			WHERE `+where+` AND d.id > ? ORDER BY d.id LIMIT ?`, append(args, after, renewalBatch)...)
		if err != nil {
			return nil, fmt.Errorf("sales.UpcomingRenewals: %w", err)
		}
		seen := 0
		for rows.Next() {
			var d crm.Deal
			var u UpcomingRenewal
			var rec int64
			var closed *int64
			if err := rows.Scan(&d.ID, &d.Name, &d.CompanyID, &d.OwnerID, &rec, &d.RecurringInterval, &d.TermMonths, &d.Currency, &d.CloseDate, &closed,
				&u.RenewalDealID, &u.RenewalName, &u.RenewalStatus); err != nil {
				rows.Close()
				return nil, err
			}
			seen++
			after = d.ID
			d.Status, d.RecurringAmount = "won", platform.FromMinor(rec, d.Currency)
			if closed != nil {
				t := db.Time(*closed)
				d.ClosedAt = &t
			}
			at, ok := RenewalDate(d, loc)
			if !ok || at.After(until) {
				continue
			}
			if at.Before(today) && u.RenewalStatus != "" && u.RenewalStatus != "open" {
				continue // long past and decided
			}
			if u.RenewalStatus == "" {
				u.RenewalStatus = "pending"
			}
			u.SourceDealID, u.SourceName, u.CompanyID, u.OwnerID = d.ID, d.Name, d.CompanyID, d.OwnerID
			u.RenewalDate, u.Amount, u.Currency = at.Format(time.DateOnly), TermValue(d), d.Currency
			u.DaysUntilRenew = int(at.Sub(today).Hours() / 24)
			out = append(out, u)
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return nil, err
		}
		if seen < renewalBatch {
			break
		}
	}
	sortRenewals(out)
	return out, nil
}

func sortRenewals(out []UpcomingRenewal) {
	slices.SortFunc(out, func(a, b UpcomingRenewal) int {
		if c := strings.Compare(a.RenewalDate, b.RenewalDate); c != 0 {
			return c
		}
		return cmp.Compare(a.SourceDealID, b.SourceDealID)
	})
}
