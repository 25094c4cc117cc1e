package sales

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/ryorin/ryorin/internal/db"
	"github.com/ryorin/ryorin/internal/errs"
	"github.com/ryorin/ryorin/internal/i18n"
	"github.com/ryorin/ryorin/internal/platform"
	"github.com/ryorin/ryorin/internal/quote"
)

// Approval is a request to issue a quote whose discount is above the
// workspace's threshold, and a manager's decision on it. It covers the line
// items as they were when requested: changing them needs a new request.
type Approval struct {
	ID          int64      `json:"id"`
	DealID      int64      `json:"deal_id"`
	MaxDiscount float64    `json:"max_discount_pct" doc:"the largest line discount, in percent of the line"`
	Status      string     `json:"status" doc:"pending, approved or rejected"`
	Note        string     `json:"note,omitempty"`
	RequestedBy int64      `json:"requested_by,omitempty"`
	RequestedAt time.Time  `json:"requested_at"`
	DecidedBy   int64      `json:"decided_by,omitempty"`
	DecidedAt   *time.Time `json:"decided_at,omitempty"`
	Current     bool       `json:"current" doc:"covers the deal's line items as they are now"`
}

// ApprovalState says whether the deal's lines need an approval to be quoted
// and where that stands.
type ApprovalState struct {
	Needed       bool      `json:"needed"`
	MaxDiscount  float64   `json:"max_discount_pct"`
	ThresholdPct int       `json:"threshold_pct"`
	Latest       *Approval `json:"latest,omitempty" doc:"the newest request for the lines as they are now"`
}

// Approved reports whether the current lines may be quoted.
func (st ApprovalState) Approved() bool {
	return !st.Needed || (st.Latest != nil && st.Latest.Status == "approved")
}

// linesHash identifies a set of lines, so an approval covers exactly them.
func linesHash(lines []quote.Line) string {
	b, _ := json.Marshal(lines)
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

func maxDiscountBP(lines []quote.Line) int64 {
	var m int64
	for _, l := range lines {
		m = max(m, l.DiscountBP())
	}
	return m
}

// Approvals lists a deal's approval requests, newest first.
func (s *Service) Approvals(ctx context.Context, q db.Querier, a platform.Actor, dealID int64) ([]Approval, error) {
	if _, err := s.CRM.GetDeal(ctx, q, a, dealID); err != nil {
		return nil, err
	}
	lines, _, err := s.lineItems(ctx, q, a.WorkspaceID, dealID)
	if err != nil {
		return nil, err
	}
	return s.approvals(ctx, q, a.WorkspaceID, dealID, linesHash(lines))
}

func (s *Service) approvals(ctx context.Context, q db.Querier, ws, dealID int64, hash string) ([]Approval, error) {
	rows, err := q.QueryContext(ctx, `-- sales.Approvals
		SELECT id, deal_id, max_discount_bp, status, note, COALESCE(requested_by, 0), requested_at, COALESCE(decided_by, 0), decided_at, lines_hash
		FROM quote_approvals WHERE workspace_id = ? AND deal_id = ? ORDER BY requested_at DESC, id DESC`, ws, dealID)
	if err != nil {
		return nil, fmt.Errorf("sales.Approvals: %w", err)
	}
	defer rows.Close()
	out := []Approval{}
	for rows.Next() {
		var x Approval
		var bp, at int64
		var decided *int64
		var h string
		if err := rows.Scan(&x.ID, &x.DealID, &bp, &x.Status, &x.Note, &x.RequestedBy, &at, &x.DecidedBy, &decided, &h); err != nil {
			return nil, fmt.Errorf("sales.Approvals: %w", err)
		}
		x.MaxDiscount, x.RequestedAt, x.Current = float64(bp)/100, db.Time(at), h == hash
		if decided != nil {
			t := db.Time(*decided)
			x.DecidedAt = &t
		}
		out = append(out, x)
	}
	return out, rows.Err()
}

// GetApprovalState works out whether the deal's current lines need approval.
func (s *Service) GetApprovalState(ctx context.Context, q db.Querier, a platform.Actor, dealID int64) (ApprovalState, error) {
	if _, err := s.CRM.GetDeal(ctx, q, a, dealID); err != nil {
		return ApprovalState{}, err
	}
	st, err := s.GetQuoteSettings(ctx, q, a.WorkspaceID)
	if err != nil {
		return ApprovalState{}, err
	}
	lines, _, err := s.lineItems(ctx, q, a.WorkspaceID, dealID)
	if err != nil {
		return ApprovalState{}, err
	}
	return s.approvalState(ctx, q, a.WorkspaceID, dealID, st, lines)
}

func (s *Service) approvalState(ctx context.Context, q db.Querier, ws, dealID int64, st QuoteSettings, lines []quote.Line) (ApprovalState, error) {
	bp := maxDiscountBP(lines)
	out := ApprovalState{MaxDiscount: float64(bp) / 100, ThresholdPct: st.ApprovalDiscountPct,
		Needed: st.ApprovalDiscountPct > 0 && bp > int64(st.ApprovalDiscountPct)*100}
	if !out.Needed {
		return out, nil
	}
	all, err := s.approvals(ctx, q, ws, dealID, linesHash(lines))
	if err != nil {
		return out, err
	}
	for _, x := range all {
		if x.Current {
			out.Latest = &x
			break
		}
	}
	return out, nil
}

// checkApproval refuses to issue a quote whose discount is above the
// threshold unless a manager approved these very lines.
func (s *Service) checkApproval(ctx context.Context, q db.Querier, ws, dealID int64, st QuoteSettings, lines []quote.Line) error {
	state, err := s.approvalState(ctx, q, ws, dealID, st, lines)
	if err != nil {
		return err
	}
	if !state.Approved() {
		return errs.Rule("approval", "a discount of %g%% is above the approval threshold of %d%%; a manager must approve it first", state.MaxDiscount, state.ThresholdPct)
	}
	return nil
}

// RequestApproval asks a manager to approve the deal's discount as the lines
// are now; the request goes on the deal's timeline. Asking again while a
// request for the same lines is pending or approved returns that one.
func (s *Service) RequestApproval(ctx context.Context, a platform.Actor, dealID int64, note string) (Approval, error) {
	var out Approval
	if !canSell(a) {
		return out, errs.E(errs.Forbidden, "", "only admins, managers and sales ask for approval")
	}
	note = strings.TrimSpace(note)
	if len(note) > 2000 {
		return out, errs.Field("note", "is longer than 2000 bytes")
	}
	now := s.Clock.Now()
	err := s.DB.Write(ctx, "sales.RequestApproval", func(tx *db.Tx) error {
		d, err := s.CRM.GetDeal(ctx, tx, a, dealID)
		if err != nil {
			return err
		}
		st, err := s.GetQuoteSettings(ctx, tx, a.WorkspaceID)
		if err != nil {
			return err
		}
		lines, _, err := s.lineItems(ctx, tx, a.WorkspaceID, dealID)
		if err != nil {
			return err
		}
		state, err := s.approvalState(ctx, tx, a.WorkspaceID, dealID, st, lines)
		if err != nil {
			return err
		}
		if !state.Needed {
			return errs.Rule("approval", "no discount is above the approval threshold")
		}
		if state.Latest != nil && state.Latest.Status != "rejected" {
			out = *state.Latest
			return nil
		}
		bp := maxDiscountBP(lines)
		out = Approval{DealID: dealID, MaxDiscount: float64(bp) / 100, Status: "pending", Note: note, RequestedBy: a.UserID, RequestedAt: now, Current: true}
		if err := tx.QueryRowContext(ctx, `-- sales.RequestApproval
			INSERT INTO quote_approvals (workspace_id, deal_id, lines_hash, max_discount_bp, status, note, requested_by, requested_at)
			VALUES (?, ?, ?, ?, 'pending', ?, ?, ?) RETURNING id`,
			a.WorkspaceID, dealID, linesHash(lines), bp, note, a.UserRef(), db.Millis(now)).Scan(&out.ID); err != nil {
			return fmt.Errorf("sales.RequestApproval: %w", err)
		}
		if err := s.tellApprover(ctx, tx, a, d.ID, d.Name, out); err != nil {
			return err
		}
		if _, err := platform.AppendTimeline(ctx, tx, a, platform.TimelineEntry{At: now, Kind: "quote.approval_requested", DealID: dealID, CompanyID: d.CompanyID,
			RefType: "quote_approval", RefID: out.ID}, map[string]any{"pct": fmt.Sprintf("%g", out.MaxDiscount), "note": note}); err != nil {
			return err
		}
		return platform.Audit(ctx, tx, a, now, "create", "quote_approval", out.ID, out)
	})
	return out, err
}

// DecideApproval approves or rejects a pending request (admins and
// managers, including on their own request); the decision goes on the
// deal's timeline.
func (s *Service) DecideApproval(ctx context.Context, a platform.Actor, dealID, id int64, approve bool, note string) (Approval, error) {
	var out Approval
	if !a.Is(platform.RoleAdmin, platform.RoleManager) {
		return out, errs.E(errs.Forbidden, "", "only admins and managers approve discounts")
	}
	now := s.Clock.Now()
	status := "rejected"
	if approve {
		status = "approved"
	}
	err := s.DB.Write(ctx, "sales.DecideApproval", func(tx *db.Tx) error {
		d, err := s.CRM.GetDeal(ctx, tx, a, dealID)
		if err != nil {
			return err
		}
		lines, _, err := s.lineItems(ctx, tx, a.WorkspaceID, dealID)
		if err != nil {
			return err
		}
		all, err := s.approvals(ctx, tx, a.WorkspaceID, dealID, linesHash(lines))
		if err != nil {
			return err
		}
		found := false
		for _, x := range all {
			if x.ID == id {
				out, found = x, true
			}
		}
		if !found {
			return errs.NotFoundf("approval %d not found", id)
		}
		if out.Status != "pending" {
			return errs.E(errs.Conflict, "status", "the request was already %s", out.Status)
		}
		note = strings.TrimSpace(note)
		if note != "" {
			out.Note = strings.TrimSpace(out.Note + "\n" + note)
		}
		out.Status, out.DecidedBy, out.DecidedAt = status, a.UserID, &now
		if _, err := tx.ExecContext(ctx, `-- sales.DecideApproval
			UPDATE quote_approvals SET status = ?, note = ?, decided_by = ?, decided_at = ? WHERE workspace_id = ? AND id = ?`,
			status, out.Note, a.UserRef(), db.Millis(now), a.WorkspaceID, id); err != nil {
			return fmt.Errorf("sales.DecideApproval: %w", err)
		}
		if s.Notify != nil && out.RequestedBy != 0 && out.RequestedBy != a.UserID {
			lang := i18n.JA
			if u, err := platform.GetUser(ctx, tx, a.WorkspaceID, out.RequestedBy); err == nil {
				lang, _ = i18n.Parse(u.Locale)
			}
			if _, _, err := s.Notify.Notify(ctx, tx, a.WorkspaceID, out.RequestedBy, platform.Notification{Kind: "quote.approval_" + status,
				Title: i18n.T(lang, "notify.approval_"+status, "deal", d.Name, "pct", fmt.Sprintf("%g", out.MaxDiscount)), Body: note,
				Link: fmt.Sprintf("/deals/%d#quotes", dealID)}); err != nil {
				return err
			}
		}
		if _, err := platform.AppendTimeline(ctx, tx, a, platform.TimelineEntry{At: now, Kind: "quote.approval_" + status, DealID: dealID, CompanyID: d.CompanyID,
			RefType: "quote_approval", RefID: id}, map[string]any{"pct": fmt.Sprintf("%g", out.MaxDiscount), "note": note}); err != nil {
			return err
		}
		return platform.Audit(ctx, tx, a, now, "update", "quote_approval", id, map[string]any{"status": status})
	})
	return out, err
}

// tellApprover notifies the manager of the requester's team (if there is
// one, and it is not the requester) that a discount waits for approval.
func (s *Service) tellApprover(ctx context.Context, tx *db.Tx, a platform.Actor, dealID int64, dealName string, x Approval) error {
	if s.Notify == nil || a.TeamID == 0 {
		return nil
	}
	t, err := platform.GetTeam(ctx, tx, a.WorkspaceID, a.TeamID)
	if errs.Is(err, errs.NotFound) || (err == nil && (t.ManagerID == 0 || t.ManagerID == a.UserID)) {
		return nil
	}
	if err != nil {
		return err
	}
	name := "—"
	if u, err := platform.GetUser(ctx, tx, a.WorkspaceID, a.UserID); err == nil {
		name = u.Name
	}
	lang := i18n.JA
	if m, err := platform.GetUser(ctx, tx, a.WorkspaceID, t.ManagerID); err == nil {
		lang, _ = i18n.Parse(m.Locale)
	}
	_, _, err = s.Notify.Notify(ctx, tx, a.WorkspaceID, t.ManagerID, platform.Notification{Kind: "quote.approval_requested",
		Title: i18n.T(lang, "notify.approval_requested", "name", name, "deal", dealName, "pct", fmt.Sprintf("%g", x.MaxDiscount)), Body: x.Note,
		Link: fmt.Sprintf("/deals/%d#quotes", dealID), DedupeKey: fmt.Sprintf("quote.approval_requested:%d", x.ID)})
	return err
}
