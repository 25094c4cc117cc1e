package dataio

import (
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/ryorin/ryorin/internal/crm"
	"github.com/ryorin/ryorin/internal/db"
	"github.com/ryorin/ryorin/internal/platform"
)

// dealRow is a deal a batch creates, with the contacts it links.
type dealRow struct {
	t      *target
	extID  string
	emails []string
}

// deals writes a batch of deal records: existing deals are found by external
// id in one query, companies as a contact import finds them (and created
// only when the row names one), contacts by email in one query; new deals,
// their contact links and the board's running totals are written a few
// hundred per statement. Linked contacts move forward in the lifecycle as
// crm.CreateDeal moves them (opportunity; customer for a won deal).
func (r *run) deals(ctx context.Context, tx *db.Tx, recs []record, bad []badRow) (batchCounts, []badRow, error) {
	var c batchCounts
	existing, err := r.existingDeals(ctx, tx, recs)
	if err != nil {
		return c, bad, err
	}
	inFile := map[string]*dealRow{}
	var news []*dealRow
	for i := range recs {
		rec := &recs[i]
		if rec.ExtID != "" {
			id, inDB := existing[rec.ExtID]
			prev := inFile[rec.ExtID]
			if inDB || prev != nil {
				dup := &target{id: id}
				if prev != nil {
					dup = prev.t
				}
				switch r.im.Mode {
				case ModeCreate:
					bad = append(bad, badRow{Line: rec.Line, Field: "external_id", Reason: dupReason(dup, "deal with this external ID"), Raw: rec.Raw})
				default:
					// Updating a deal by import would move it through its
					// pipeline without the stage rules; it is skipped.
					c.Skipped++
				}
				continue
			}
		}
		if k := missingRequired(r.rc.Fields, rec.Props); k != "" {
			bad = append(bad, badRow{Line: rec.Line, Field: k, Reason: "is required", Raw: rec.Raw})
			continue
		}
		d := &dealRow{t: &target{cols: rec.Cols, props: rec.Props, company: rec.Company, line: rec.Line}, extID: rec.ExtID, emails: rec.Emails}
		news = append(news, d)
		if rec.ExtID != "" {
			inFile[rec.ExtID] = d
		}
		c.Created++
	}
	ts := make([]*target, len(news))
	for i, d := range news {
		ts[i] = d.t
	}
	if c.Companies, err = r.linkCompanies(ctx, tx, ts); err != nil {
		return c, bad, err
	}
	for _, t := range ts {
		if t.co != nil {
			t.cols["company_id"] = t.co.id
		}
	}
	if err := r.insertDeals(ctx, tx, news); err != nil {
		return c, bad, err
	}
	return c, bad, r.linkDealContacts(ctx, tx, news)
}

// existingDeals maps the external ids of a batch that are already in the
// database to their deals' ids.
func (r *run) existingDeals(ctx context.Context, tx *db.Tx, recs []record) (map[string]int64, error) {
	var ids []string
	seen := map[string]bool{}
	for _, rec := range recs {
		if rec.ExtID != "" && !seen[rec.ExtID] {
			seen[rec.ExtID] = true
			ids = append(ids, rec.ExtID)
		}
	}
	out := map[string]int64{}
	err := inChunks(ids, func(ph string, args []any) error {
		rows, err := tx.QueryContext(ctx, `-- dataio.existingDeals
			SELECT id, external_id FROM deals WHERE workspace_id = ? AND external_id IN (`+ph+`)`, append([]any{r.ws}, args...)...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var id int64
			var ext string
			if err := rows.Scan(&id, &ext); err != nil {
				return err
			}
			out[ext] = id
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("dataio.existingDeals: %w", err)
	}
	return out, nil
}

func flt(m map[string]any, k string) float64 { v, _ := m[k].(float64); return v }

// totalKey is one cell of deal_stage_totals.
type totalKey struct {
	stage, owner int64
	currency     string
}

type totalSum struct{ count, amount int64 }

// addTotals moves the deal board's running totals by the sums given, one
// upsert per stage, owner and currency (not one per deal).
func addTotals(ctx context.Context, tx *db.Tx, ws int64, sums map[totalKey]totalSum, sign int64) error {
	keys := make([]totalKey, 0, len(sums))
	for k := range sums {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b totalKey) int {
		return cmp.Or(cmp.Compare(a.stage, b.stage), cmp.Compare(a.owner, b.owner), strings.Compare(a.currency, b.currency))
	})
	for _, k := range keys {
		s := sums[k]
		_, err := tx.ExecContext(ctx, `-- dataio.addTotals
			INSERT INTO deal_stage_totals (workspace_id, stage_id, owner_id, currency, deal_count, amount) VALUES (?, ?, ?, ?, ?, ?)
			ON CONFLICT (workspace_id, stage_id, owner_id, currency) DO UPDATE
			SET deal_count = deal_stage_totals.deal_count + excluded.deal_count, amount = deal_stage_totals.amount + excluded.amount`,
			ws, k.stage, k.owner, k.currency, sign*s.count, sign*s.amount)
		if err != nil {
			return fmt.Errorf("dataio.addTotals: %w", err)
		}
	}
	return nil
}

// insertDeals inserts new deals, sets their ids and adds the open ones to
// the board's totals. A deal without an owner is owned by the user who
// started the import (crm.CreateDeal gives it to its creator). A won or lost
// deal is closed at its close date (today when it has none).
func (r *run) insertDeals(ctx context.Context, tx *db.Tx, news []*dealRow) error {
	if len(news) == 0 {
		return nil
	}
	now := db.Millis(r.now)
	today := r.now.In(r.rc.Loc).Format(time.DateOnly)
	ins := newInserter("deals", "workspace_id:bigint", "name", "pipeline_id:bigint", "stage_id:bigint", "company_id:bigint",
		"owner_id:bigint", "deal_type", "amount:bigint", "currency", "recurring_amount:bigint", "recurring_interval", "close_date",
		"status", "lost_reason", "closed_at:bigint", "stage_changed_at:bigint", "props:jsonb", "search_text", "created_at:bigint",
		"updated_at:bigint", "external_id")
	sums := map[totalKey]totalSum{}
	byKey := map[string][]*dealRow{}
	key := func(name string, stage, company, owner, amount int64, ext string) string {
		return fmt.Sprint(name, "\x00", stage, "\x00", company, "\x00", owner, "\x00", amount, "\x00", ext)
	}
	for _, d := range news {
		m := d.t.cols
		cur := str(m, "currency")
		if cur == "" {
			cur = r.rc.Currency
			m["currency"] = cur
		}
		owner := num(m, "owner_id")
		if owner == 0 {
			owner = r.owner
			m["owner_id"] = owner
		}
		typ := str(m, "deal_type")
		if typ == "" {
			typ = "new"
		}
		status, closeDate := str(m, "status"), str(m, "close_date")
		var closed any
		if status != "open" {
			if closeDate == "" {
				closeDate = today
			}
			if at := num(m, "closed_at"); at != 0 {
				closed = at
			} else {
				closed = now
			}
		}
		created := num(m, "created_at")
		if created == 0 {
			created = now
		}
		amount := platform.ToMinor(flt(m, "amount"), cur)
		stage := num(m, "stage_id")
		ins.add(r.ws, str(m, "name"), num(m, "pipeline_id"), stage, db.NullInt(num(m, "company_id")), db.NullInt(owner), typ,
			amount, cur, platform.ToMinor(flt(m, "recurring_amount"), cur), str(m, "recurring_interval"), db.NullString(closeDate),
			status, str(m, "lost_reason"), closed, now, propsJSON(d.t.props), crm.DealSearchText(str(m, "name")), created, now,
			db.NullString(d.extID))
		if status == "open" {
			k := totalKey{stage, owner, cur}
			s := sums[k]
			s.count++
			s.amount += amount
			sums[k] = s
		}
		k := key(str(m, "name"), stage, num(m, "company_id"), owner, amount, d.extID)
		byKey[k] = append(byKey[k], d)
	}
	// Rows come back in no promised order, so they are matched by their
	// values; rows alike in all of them are taken in id order.
	type back struct {
		id  int64
		key string
	}
	var got []back
	err := ins.query(ctx, tx, "dataio.insertDeals", "id, name, stage_id, COALESCE(company_id, 0), COALESCE(owner_id, 0), amount, COALESCE(external_id, '')",
		func(rows *sql.Rows) error {
			var id, stage, company, owner, amount int64
			var name, ext string
			if err := rows.Scan(&id, &name, &stage, &company, &owner, &amount, &ext); err != nil {
				return err
			}
			got = append(got, back{id, key(name, stage, company, owner, amount, ext)})
			return nil
		})
	if err != nil {
		return err
	}
	slices.SortFunc(got, func(a, b back) int { return cmp.Compare(a.id, b.id) })
	ids := make([]int64, 0, len(got))
	for _, g := range got {
		if q := byKey[g.key]; len(q) > 0 {
			q[0].t.id = g.id
			byKey[g.key] = q[1:]
		}
		ids = append(ids, g.id)
	}
	if err := addTotals(ctx, tx, r.ws, sums, +1); err != nil {
		return err
	}
	return r.logCreated(ctx, tx, Deals, ids)
}

// linkDealContacts links each new deal to the contacts its row names by
// email (addresses with no contact are left out) and moves those contacts
// forward in the lifecycle, logging their earlier stage for undo.
func (r *run) linkDealContacts(ctx context.Context, tx *db.Tx, news []*dealRow) error {
	var recs []record
	for _, d := range news {
		for _, e := range d.emails {
			recs = append(recs, record{Key: e})
		}
	}
	if len(recs) == 0 {
		return nil
	}
	contacts, err := r.existingContacts(ctx, tx, recs)
	if err != nil {
		return err
	}
	links := newInserter("deal_contacts", "workspace_id:bigint", "deal_id:bigint", "contact_id:bigint", "role")
	var updates []*target
	for _, d := range news {
		if d.t.id == 0 {
			continue
		}
		goal := platform.StageOpportunity
		switch str(d.t.cols, "status") {
		case "won":
			goal = platform.StageCustomer
		case "lost":
			goal = ""
		}
		seen := map[int64]bool{}
		for _, e := range d.emails {
			ct := contacts[e]
			if ct == nil || seen[ct.id] {
				continue
			}
			seen[ct.id] = true
			links.add(r.ws, d.t.id, ct.id, "")
			cur := platform.Stage(str(ct.cols, "lifecycle_stage"))
			if goal != "" && !(cur.Rank() >= goal.Rank() && cur.Rank() >= 0) {
				ct.set("lifecycle_stage", string(goal))
				if !ct.queued {
					updates, ct.queued = append(updates, ct), true
				}
			}
		}
	}
	if err := links.exec(ctx, tx, "dataio.dealContacts"); err != nil {
		return err
	}
	return r.updateContacts(ctx, tx, updates)
}
