package campaigns

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/ryorin/ryorin/internal/db"
	"github.com/ryorin/ryorin/internal/errs"
	"github.com/ryorin/ryorin/internal/platform"
)

// Member is a contact in a campaign.
type Member struct {
	ContactID int64          `json:"contact_id"`
	Name      string         `json:"name"`
	Email     string         `json:"email,omitempty"`
	Stage     platform.Stage `json:"lifecycle_stage"`
	Status    string         `json:"status"`
	AddedAt   time.Time      `json:"added_at"`
	UpdatedAt time.Time      `json:"updated_at"`
}

// memberBatch bounds one write transaction when adding many members.
const memberBatch = 500

// SetMembers adds contacts to a campaign with a status, or changes the
// status of those already in it. One contact gets a timeline entry; a bulk
// add (more than one) writes one audit entry instead of one per row. It
// commits in bounded batches and returns how many rows changed.
func (s *Service) SetMembers(ctx context.Context, a platform.Actor, id int64, contactIDs []int64, status string) (int, error) {
	if !MayEdit(a.Role) {
		return 0, errs.E(errs.Forbidden, "", "only marketing, managers and admins may change campaign members")
	}
	if !slices.Contains(MemberStatuses, status) {
		return 0, errs.Field("status", "must be one of %s", strings.Join(MemberStatuses, ", "))
	}
	if len(contactIDs) == 0 {
		return 0, errs.Field("contact_ids", "is empty")
	}
	if _, err := s.Get(ctx, s.DB.Reader(), a.WorkspaceID, id); err != nil {
		return 0, err
	}
	changed := 0
	for start := 0; start < len(contactIDs); start += memberBatch {
		part := contactIDs[start:min(len(contactIDs), start+memberBatch)]
		now := s.Clock.Now()
		err := s.DB.Write(ctx, "campaigns.SetMembers", func(tx *db.Tx) error {
			for _, cid := range part {
				n, err := upsertMember(ctx, tx, a.WorkspaceID, id, cid, status, now, true)
				if err != nil {
					return err
				}
				changed += n
				if n > 0 && len(contactIDs) == 1 {
					if _, err := platform.AppendTimeline(ctx, tx, a, platform.TimelineEntry{At: now, Kind: "campaign.member", ContactID: cid, RefType: "campaign", RefID: id},
						map[string]any{"campaign_id": id, "status": status}); err != nil {
						return err
					}
				}
			}
			if start == 0 {
				return platform.Audit(ctx, tx, a, now, "set_members", "campaign", id, map[string]any{"contacts": len(contactIDs), "status": status})
			}
			return nil
		})
		if err != nil {
			return changed, err
		}
	}
	return changed, nil
}

// upsertMember adds a member or (when overwrite) changes its status; it
// returns 1 when a row was added or changed. A contact that does not exist
// is an error naming the field.
func upsertMember(ctx context.Context, tx *db.Tx, ws, campaignID, contactID int64, status string, now time.Time, overwrite bool) (int, error) {
	var cur string
	err := tx.QueryRowContext(ctx, `SELECT status FROM campaign_members WHERE workspace_id = ? AND campaign_id = ? AND contact_id = ?`, ws, campaignID, contactID).Scan(&cur)
	switch {
	case err == nil:
		if !overwrite || cur == status {
			return 0, nil
		}
		_, err = tx.ExecContext(ctx, `UPDATE campaign_members SET status = ?, updated_at = ? WHERE workspace_id = ? AND campaign_id = ? AND contact_id = ?`,
			status, db.Millis(now), ws, campaignID, contactID)
		return 1, err
	case !db.NoRows(err):
		return 0, err
	}
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM contacts WHERE workspace_id = ? AND id = ?`, ws, contactID).Scan(&n); err != nil {
		return 0, err
	}
	if n == 0 {
		return 0, errs.Field("contact_ids", "contact %d not found", contactID)
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO campaign_members (workspace_id, campaign_id, contact_id, status, added_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)`,
		ws, campaignID, contactID, status, db.Millis(now), db.Millis(now))
	return 1, err
}

// RemoveMember takes a contact out of a campaign.
func (s *Service) RemoveMember(ctx context.Context, a platform.Actor, id, contactID int64) error {
	if !MayEdit(a.Role) {
		return errs.E(errs.Forbidden, "", "only marketing, managers and admins may change campaign members")
	}
	now := s.Clock.Now()
	return s.DB.Write(ctx, "campaigns.RemoveMember", func(tx *db.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM campaign_members WHERE workspace_id = ? AND campaign_id = ? AND contact_id = ?`, a.WorkspaceID, id, contactID)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return errs.NotFoundf("contact %d is not in campaign %d", contactID, id)
		}
		return platform.Audit(ctx, tx, a, now, "remove_member", "campaign", id, map[string]any{"contact_id": contactID})
	})
}

// Members lists a campaign's members, newest first, up to limit, optionally
// only those with a status.
func (s *Service) Members(ctx context.Context, q db.Querier, ws, id int64, status string, limit int) ([]Member, error) {
	if limit <= 0 || limit > 1000 {
		limit = 100
	}
	query := `SELECT m.contact_id, c.family_name, c.given_name, COALESCE(c.email, ''), c.lifecycle_stage, m.status, m.added_at, m.updated_at
		FROM campaign_members m JOIN contacts c ON c.workspace_id = m.workspace_id AND c.id = m.contact_id
		WHERE m.workspace_id = ? AND m.campaign_id = ?`
	args := []any{ws, id}
	if status != "" {
		query += ` AND m.status = ?`
		args = append(args, status)
	}
	rows, err := q.QueryContext(ctx, query+` ORDER BY m.added_at DESC, m.contact_id DESC LIMIT ?`, append(args, limit)...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []Member{}
	for rows.Next() {
		var m Member
		var family, given string
		var added, updated int64
		if err := rows.Scan(&m.ContactID, &family, &given, &m.Email, &m.Stage, &m.Status, &added, &updated); err != nil {
			return nil, err
		}
		m.Name = strings.TrimSpace(family + " " + given)
		m.AddedAt, m.UpdatedAt = db.Time(added), db.Time(updated)
		out = append(out, m)
	}
	return out, rows.Err()
}

// StatusCounts counts a campaign's members per status.
func (s *Service) StatusCounts(ctx context.Context, q db.Querier, ws, id int64) (map[string]int, error) {
	rows, err := q.QueryContext(ctx, `SELECT status, COUNT(*) FROM campaign_members WHERE workspace_id = ? AND campaign_id = ? GROUP BY status`, ws, id)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]int{}
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

// AttachMark is the work mark of the last event Attach has read.
const AttachMark = "campaigns.attached_events"

// Attach reads identified events past its mark that carry a utm_campaign
// and makes each contact a member ("responded") of the campaign with that
// code, if it is not one already; the first touch also goes on the contact's
// timeline. It reads at most limit events and returns how many it read; the
// mark moves in the same transaction as the members it added, so a restart
// neither misses nor repeats a touch.
func (s *Service) Attach(ctx context.Context, ws int64, limit int) (int, error) {
	var mark int64
	if err := s.DB.Reader().QueryRowContext(ctx, `SELECT COALESCE(MAX(value), 0) FROM work_marks WHERE workspace_id = ? AND name = ?`, ws, AttachMark).Scan(&mark); err != nil {
		return 0, err
	}
	codes := map[string]int64{}
	rows, err := s.DB.Reader().QueryContext(ctx, `SELECT utm_campaign, id FROM campaigns WHERE workspace_id = ? AND utm_campaign <> ''`, ws)
	if err != nil {
		return 0, err
	}
	for rows.Next() {
		var code string
		var id int64
		if err := rows.Scan(&code, &id); err != nil {
			rows.Close()
			return 0, err
		}
		codes[strings.ToLower(code)] = id
	}
	rows.Close()
	type touch struct {
		contact, campaign int64
		at                int64
	}
	var touches []touch
	last, n := mark, 0
	rows, err = s.DB.Reader().QueryContext(ctx, `-- campaigns.Attach
		SELECT id, contact_id, utm_campaign, occurred_at FROM events WHERE workspace_id = ? AND id > ? AND contact_id IS NOT NULL ORDER BY id LIMIT ?`, ws, mark, limit)
	if err != nil {
		return 0, err
	}
	for rows.Next() {
		var id, cid, at int64
		var code string
		if err := rows.Scan(&id, &cid, &code, &at); err != nil {
			rows.Close()
			return 0, err
		}
		last, n = id, n+1
		if camp, ok := codes[strings.ToLower(code)]; ok && code != "" {
			touches = append(touches, touch{cid, camp, at})
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil || last == mark {
		return 0, err
	}
	err = s.DB.Write(ctx, "campaigns.Attach", func(tx *db.Tx) error {
		sys := platform.System(ws)
		for _, t := range touches {
			added, err := upsertMember(ctx, tx, ws, t.campaign, t.contact, "responded", db.Time(t.at), false)
			if errs.Is(err, errs.Invalid) {
				continue // the contact was erased or merged away since
			}
			if err != nil {
				return err
			}
			if added > 0 {
				if _, err := platform.AppendTimeline(ctx, tx, sys, platform.TimelineEntry{At: db.Time(t.at), Kind: "campaign.member", ContactID: t.contact, RefType: "campaign", RefID: t.campaign},
					map[string]any{"campaign_id": t.campaign, "status": "responded"}); err != nil {
					return err
				}
			}
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO work_marks (workspace_id, name, value) VALUES (?, ?, ?)
			ON CONFLICT (workspace_id, name) DO UPDATE SET value = excluded.value`, ws, AttachMark, last)
		return err
	})
	return n, err
}

// Results are what followed a campaign among its members, each counted
// from the moment the contact joined: contacts that became MQL, deals they
// are on that were created afterwards, those won and their revenue (base
// currency), against the campaign's spend.
type Results struct {
	Members     int     `json:"members"`
	MQLs        int     `json:"mqls" doc:"members that became MQL after joining"`
	Deals       int     `json:"deals" doc:"deals created after a member joined, with the member as a contact"`
	Won         int     `json:"won"`
	Revenue     int64   `json:"revenue" doc:"won amounts in minor units of the base currency"`
	Spend       int64   `json:"spend" doc:"spend entered for the campaign, in minor units of the base currency"`
	ROI         float64 `json:"roi" doc:"(revenue − spend) ÷ spend; 0 without spend"`
	CostPerMQL  int64   `json:"cost_per_mql" doc:"spend ÷ MQLs; 0 without MQLs"`
	MissingRate int     `json:"missing_rate,omitempty" doc:"amounts left out for want of an exchange rate"`
}

// ResultsOf computes a campaign's results.
func (s *Service) ResultsOf(ctx context.Context, q db.Querier, w platform.Workspace, id int64) (Results, error) {
	var r Results
	if err := q.QueryRowContext(ctx, `SELECT COUNT(*) FROM campaign_members WHERE workspace_id = ? AND campaign_id = ?`, w.ID, id).Scan(&r.Members); err != nil {
		return r, err
	}
	if err := q.QueryRowContext(ctx, `SELECT COUNT(DISTINCT m.contact_id) FROM campaign_members m
		JOIN lifecycle_history h ON h.workspace_id = m.workspace_id AND h.contact_id = m.contact_id AND h.to_stage = 'mql' AND h.at >= m.added_at
		WHERE m.workspace_id = ? AND m.campaign_id = ?`, w.ID, id).Scan(&r.MQLs); err != nil {
		return r, err
	}
	rows, err := q.QueryContext(ctx, `SELECT d.id, d.status, d.amount, d.currency, COALESCE(d.closed_at, 0) FROM deals d
		WHERE d.workspace_id = ? AND d.id IN (SELECT dc.deal_id FROM deal_contacts dc
			JOIN campaign_members m ON m.workspace_id = dc.workspace_id AND m.contact_id = dc.contact_id
			WHERE dc.workspace_id = ? AND m.campaign_id = ? AND d.created_at >= m.added_at)`, w.ID, w.ID, id)
	if err != nil {
		return r, err
	}
	type won struct {
		amount int64
		cur    string
		at     int64
	}
	var wins []won
	for rows.Next() {
		var did, amount, closed int64
		var status, cur string
		if err := rows.Scan(&did, &status, &amount, &cur, &closed); err != nil {
			rows.Close()
			return r, err
		}
		r.Deals++
		if status == "won" {
			r.Won++
			wins = append(wins, won{amount, cur, closed})
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return r, err
	}
	for _, x := range wins {
		b, err := platform.ToBase(ctx, q, w, x.amount, x.cur, db.Time(x.at).In(w.Location()).Format(time.DateOnly))
		if err != nil {
			r.MissingRate++
			continue
		}
		r.Revenue += b
	}
	spend, err := s.Spend(ctx, q, w.ID, "0000-01", "9999-12", id)
	if err != nil {
		return r, err
	}
	for _, e := range spend {
		b, err := platform.ToBase(ctx, q, w, e.Amount, e.Currency, e.Month+"-01")
		if err != nil {
			r.MissingRate++
			continue
		}
		r.Spend += b
	}
	if r.Spend > 0 {
		r.ROI = float64(r.Revenue-r.Spend) / float64(r.Spend)
	}
	if r.MQLs > 0 {
		r.CostPerMQL = r.Spend / int64(r.MQLs)
	}
	return r, nil
}
