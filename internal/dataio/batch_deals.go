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

// dealUpdatable are the deal columns an import may change on an existing
// deal. Not its pipeline or stage: moving a deal on needs the exit criteria
// of the stage it leaves, which an import cannot answer.
var dealUpdatable = map[string]bool{"name": true, "amount": true, "currency": true, "owner_id": true, "company_id": true,
	"deal_type": true, "close_date": true, "lost_reason": true, "recurring_amount": true, "recurring_interval": true, "props": true}

// deals writes a batch of deal records: existing deals are found by external
// id in one query, companies as a contact import finds them (and created
// only when the row names one), contacts by email in one query; new deals,
// their contact links and the board's running totals are written a few
// hundred per statement. Linked contacts move forward in the lifecycle as
// crm.CreateDeal moves them (opportunity; customer for a won deal).
func (r *run) deals(ctx context.Context, tx *db.Tx, recs []record, bad []badRow) (batchCounts, []badRow, error) {
	var c batchCounts
	existing, err := r.loadDeals(ctx, tx, recs)
	if err != nil {
		return c, bad, err
	}
	inFile := map[string]*dealRow{}
	var news []*dealRow
	var updates []*target
	for i := range recs {
		rec := &recs[i]
		if rec.ExtID != "" {
			old, prev := existing[rec.ExtID], inFile[rec.ExtID]
			if old != nil || prev != nil {
				dup := old
				if prev != nil {
					dup = prev.t
				}
				switch {
				case r.im.Mode == ModeSkip:
					c.Skipped++
				case r.im.Mode == ModeCreate:
					bad = append(bad, badRow{Line: rec.Line, Field: "external_id", Reason: dupReason(dup, "deal with this external ID"), Raw: rec.Raw})
				case prev != nil: // a later row of the file wins, as for contacts
					for k, v := range rec.Cols {
						if dealUpdatable[k] {
							prev.t.cols[k] = v
						}
					}
					prev.t.setProps(rec.Props)
					if !rec.Company.empty() {
						prev.t.company = rec.Company
					}
					prev.emails = append(prev.emails, rec.Emails...)
					c.Updated++
				default:
					if reason := updateDeal(old, rec); reason != nil {
						bad = append(bad, badRow{Line: rec.Line, Field: reason.Field, Reason: reason.Reason, Raw: rec.Raw})
						continue
					}
					if !old.queued {
						updates, old.queued = append(updates, old), true
					}
					c.Updated++
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
	ts := make([]*target, 0, len(news)+len(updates))
	for _, d := range news {
		ts = append(ts, d.t)
	}
	ts = append(ts, updates...)
	if c.Companies, err = r.linkCompanies(ctx, tx, ts); err != nil {
		return c, bad, err
	}
	for _, t := range ts {
		if t.co == nil {
			continue
		}
		if t.id == 0 {
			t.cols["company_id"] = t.co.id
		} else {
			t.set("company_id", t.co.id)
		}
	}
	if err := r.insertDeals(ctx, tx, news); err != nil {
		return c, bad, err
	}
	if err := r.updateDeals(ctx, tx, updates); err != nil {
		return c, bad, err
	}
	return c, bad, r.linkDealContacts(ctx, tx, news)
}

// updateDeal applies a row to an existing deal (columns in their stored
// form: amounts in minor units), or says why it cannot.
func updateDeal(t *target, rec *record) *rowError {
	cur := str(t.cols, "currency")
	if v := str(rec.Cols, "currency"); v != "" {
		cur = v
	}
	interval := str(t.cols, "recurring_interval")
	if v := str(rec.Cols, "recurring_interval"); v != "" {
		interval = v
	}
	ra := num(t.cols, "recurring_amount")
	if v, ok := rec.Cols["recurring_amount"].(float64); ok {
		ra = platform.ToMinor(v, cur)
	}
	if ra > 0 && interval == "" {
		return rowErr("recurring_interval", "is required with a recurring amount")
	}
	for k, v := range rec.Cols {
		switch {
		case !dealUpdatable[k]:
		case k == "amount" || k == "recurring_amount":
			t.set(k, platform.ToMinor(v.(float64), cur))
		case k == "lost_reason" && str(t.cols, "status") != "lost":
		default:
			t.set(k, v)
		}
	}
	t.setProps(rec.Props)
	if !rec.Company.empty() {
		t.company = rec.Company
	}
	return nil
}

const existingDealCols = `id, COALESCE(external_id, ''), name, amount, currency, COALESCE(owner_id, 0), COALESCE(company_id, 0), deal_type,
	COALESCE(close_date, ''), lost_reason, recurring_amount, recurring_interval, props, status, stage_id`

func scanDealTarget(rows *sql.Rows) (string, *target, error) {
	var id, amount, owner, company, ra, stage int64
	var ext, name, cur, typ, closeDate, lost, interval, status string
	var props *string
	if err := rows.Scan(&id, &ext, &name, &amount, &cur, &owner, &company, &typ, &closeDate, &lost, &ra, &interval, &props, &status, &stage); err != nil {
		return "", nil, err
	}
	return ext, &target{id: id, props: parseProps(props), before: map[string]any{}, cols: map[string]any{"name": name, "amount": amount,
		"currency": cur, "owner_id": owner, "company_id": company, "deal_type": typ, "close_date": closeDate, "lost_reason": lost,
		"recurring_amount": ra, "recurring_interval": interval, "props": stored(props), "status": status, "stage_id": stage}}, nil
}

// loadDeals loads the deals a batch's external ids name, for updates.
func (r *run) loadDeals(ctx context.Context, tx *db.Tx, recs []record) (map[string]*target, error) {
	ids := distinct(recs, func(rec record) string { return rec.ExtID })
	out := map[string]*target{}
	err := inChunks(ids, func(ph string, args []any) error {
		rows, err := tx.QueryContext(ctx, `-- dataio.loadDeals
			SELECT `+existingDealCols+` FROM deals WHERE workspace_id = ? AND external_id IN (`+ph+`)`, append([]any{r.ws}, args...)...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			ext, t, err := scanDealTarget(rows)
			if err != nil {
				return err
			}
			out[ext] = t
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("dataio.loadDeals: %w", err)
	}
	return out, nil
}

// updateDeals writes the changed columns of existing deals, logs their
// earlier values for undo and moves the board's totals for open deals.
func (r *run) updateDeals(ctx context.Context, tx *db.Tx, updates []*target) error {
	recs := newInserter("import_records", "workspace_id:bigint", "import_id:bigint", "object_type", "record_id:bigint", "action", "before:jsonb")
	var rows []rowUpdate
	minus, plus := map[totalKey]totalSum{}, map[totalKey]totalSum{}
	for _, t := range updates {
		if len(t.before) == 0 {
			continue
		}
		u := rowUpdate{id: t.id, set: map[string]any{}}
		for k := range t.before {
			u.set[k] = dbValue(k, t.cols[k])
		}
		if _, ok := t.before["name"]; ok {
			u.set["search_text"] = crm.DealSearchText(str(t.cols, "name"))
		}
		rows = append(rows, u)
		recs.add(r.ws, r.im.ID, Deals, t.id, "updated", marshal(t.before))
		if str(t.cols, "status") == "open" {
			addSum(minus, dealTotalKey(t.cols, t.before), valueOf(t.cols, t.before, "amount"))
			addSum(plus, dealTotalKey(t.cols, nil), num(t.cols, "amount"))
		}
	}
	if err := bulkUpdate(ctx, tx, "dataio.updateDeals", "deals", r.ws, rows, db.Millis(r.now)); err != nil {
		return err
	}
	if err := addTotals(ctx, tx, r.ws, minus, -1); err != nil {
		return err
	}
	if err := addTotals(ctx, tx, r.ws, plus, +1); err != nil {
		return err
	}
	if len(recs.rows) == 0 {
		return nil
	}
	return recs.exec(ctx, tx, "dataio.records")
}

// valueOf is a column's value before the changes in before, as int64.
func valueOf(cols, before map[string]any, k string) int64 {
	if v, ok := before[k]; ok {
		n, _ := v.(int64)
		return n
	}
	return num(cols, k)
}

// dealTotalKey is the totals cell of a deal's columns (as they were before
// the changes in before, when given).
func dealTotalKey(cols, before map[string]any) totalKey {
	cur := str(cols, "currency")
	if v, ok := before["currency"]; ok {
		cur, _ = v.(string)
	}
	return totalKey{stage: num(cols, "stage_id"), owner: valueOf(cols, before, "owner_id"), currency: cur}
}

func addSum(m map[totalKey]totalSum, k totalKey, amount int64) {
	s := m[k]
	s.count++
	s.amount += amount
	m[k] = s
}

// existingDeals maps the external ids of a batch that are already in the
// database to their deals' ids.
func (r *run) existingDeals(ctx context.Context, tx *db.Tx, recs []record) (map[string]int64, error) {
	ids := distinct(recs, func(rec record) string { return rec.ExtID })
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
