package dataio

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/ryorin/ryorin/internal/crm"
	"github.com/ryorin/ryorin/internal/db"
	"github.com/ryorin/ryorin/internal/errs"
	"github.com/ryorin/ryorin/internal/platform"
)

// Undo queues the undo of a finished import: records it created are deleted
// (companies it created too, which leaves their contacts unlinked), and
// fields it changed on existing records get their earlier values back.
func (s *Service) Undo(ctx context.Context, a platform.Actor, id int64) (Import, error) {
	err := s.DB.Write(ctx, "dataio.Undo", func(tx *db.Tx) error {
		res, err := tx.ExecContext(ctx, `-- dataio.Undo
			UPDATE imports SET status = 'undoing' WHERE workspace_id = ? AND id = ? AND status IN ('done', 'failed')`, a.WorkspaceID, id)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n != 1 {
			im, err := s.Get(ctx, tx, a.WorkspaceID, id)
			if err != nil {
				return err
			}
			return notRunning(id, im.Status)
		}
		_, _, err = platform.Enqueue(ctx, tx, a.WorkspaceID, JobUndo, map[string]int64{"import_id": id},
			platform.EnqueueOptions{UniqueKey: "undo:" + strconv.FormatInt(id, 10), MaxAttempts: 20}, s.Clock.Now(), s.Jobs)
		return err
	})
	if err != nil {
		return Import{}, err
	}
	return s.Get(ctx, s.DB.Reader(), a.WorkspaceID, id)
}

// RunUndo undoes an import in batches, newest change first. Each batch
// deletes the undo-log rows it applied in the same transaction, so it can be
// stopped and resumed at any point; applying a batch twice does no harm.
func (s *Service) RunUndo(ctx context.Context, ws, id int64) error { return s.runUndo(ctx, ws, id, 0) }

// runUndo undoes for at most slice (0: to the end), then returns ErrPaused.
func (s *Service) runUndo(ctx context.Context, ws, id int64, slice time.Duration) error {
	begin := time.Now()
	im, err := s.Get(ctx, s.DB.Reader(), ws, id)
	if err != nil {
		return platform.Permanent(err)
	}
	if im.Status == StatusUndone {
		return nil
	}
	if im.Status != StatusUndoing {
		return platform.Permanent(notRunning(id, im.Status))
	}
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		var n int
		err := s.DB.WriteBulk(ctx, "dataio.undoBatch", func(tx *db.Tx) error {
			var err error
			n, err = s.undoBatch(ctx, tx, ws, id)
			return err
		})
		if err != nil {
			return fmt.Errorf("dataio.RunUndo(%d): %w", id, err)
		}
		if n == 0 {
			break
		}
		if slice > 0 && time.Since(begin) > slice {
			return ErrPaused
		}
	}
	now := s.Clock.Now()
	r := &run{im: im, ws: ws}
	actor := r.actor()
	return s.DB.Write(ctx, "dataio.undone", func(tx *db.Tx) error {
		res, err := tx.ExecContext(ctx, `-- dataio.undone
			UPDATE imports SET status = 'undone', undone_at = ? WHERE workspace_id = ? AND id = ? AND status = 'undoing'`, db.Millis(now), ws, id)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return nil // another worker finished it
		}
		summary := map[string]any{"file": im.FileName, "created_deleted": im.Created, "companies_deleted": im.CompaniesCreated, "updated_reverted": im.Updated}
		if _, err := platform.AppendTimeline(ctx, tx, actor, platform.TimelineEntry{At: now, Kind: "import.undone", RefType: "import", RefID: id}, summary); err != nil {
			return err
		}
		return platform.Audit(ctx, tx, actor, now, "undo", "import", id, summary)
	})
}

// undoBatchSize is how many undo-log rows one transaction applies; a
// "created" row lists one import batch's records (a few hundred at most).
const undoBatchSize = 20

func (s *Service) undoBatch(ctx context.Context, tx *db.Tx, ws, id int64) (int, error) {
	rows, err := tx.QueryContext(ctx, `-- dataio.undoBatch
		SELECT id, object_type, record_id, action, before FROM import_records WHERE workspace_id = ? AND import_id = ?
		ORDER BY id DESC LIMIT ?`, ws, id, undoBatchSize)
	if err != nil {
		return 0, err
	}
	type change struct {
		object string
		id     int64
		before map[string]any
	}
	var logIDs []int64
	created := map[string][]int64{}
	var changes []change
	for rows.Next() {
		var lid, rid int64
		var object, action string
		var before *string
		if err := rows.Scan(&lid, &object, &rid, &action, &before); err != nil {
			rows.Close()
			return 0, err
		}
		logIDs = append(logIDs, lid)
		if action == "created" { // before holds every id the batch created
			var ids []int64
			if before != nil {
				_ = json.Unmarshal([]byte(*before), &ids)
			}
			created[object] = append(created[object], ids...)
			continue
		}
		c := change{object: object, id: rid, before: map[string]any{}}
		if before != nil {
			d := json.NewDecoder(bytes.NewReader([]byte(*before)))
			d.UseNumber()
			_ = d.Decode(&c.before)
		}
		changes = append(changes, c)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, err
	}
	for _, c := range changes { // newest first, so the oldest value is the one left
		if err := s.restore(ctx, tx, ws, c.object, c.id, c.before); err != nil {
			return 0, err
		}
	}
	if err := dropDealTotals(ctx, tx, ws, created[Deals]); err != nil {
		return 0, err
	}
	for _, del := range []struct{ table, object, col string }{{"activities", Activities, "id"}, {"deals", Deals, "id"},
		{"lifecycle_history", Contacts, "contact_id"}, {"contacts", Contacts, "id"}, {"companies", Companies, "id"}} {
		err := inChunks(created[del.object], func(ph string, args []any) error {
			_, err := tx.ExecContext(ctx, `-- dataio.undoDelete
				DELETE FROM `+del.table+` WHERE workspace_id = ? AND `+del.col+` IN (`+ph+`)`, append([]any{ws}, args...)...)
			return err
		})
		if err != nil {
			return 0, err
		}
	}
	err = inChunks(logIDs, func(ph string, args []any) error {
		_, err := tx.ExecContext(ctx, `-- dataio.undoLog
			DELETE FROM import_records WHERE workspace_id = ? AND id IN (`+ph+`)`, append([]any{ws}, args...)...)
		return err
	})
	return len(logIDs), err
}

// restore puts back the earlier values of an updated record, if it still exists.
func (s *Service) restore(ctx context.Context, tx *db.Tx, ws int64, object string, id int64, before map[string]any) error {
	if object == Deals {
		return s.restoreDeal(ctx, tx, ws, id, before)
	}
	allowed, table := contactUpdatable, "contacts"
	if object == Companies {
		allowed, table = companyUpdatable, "companies"
	}
	cols := map[string]any{}
	changed := map[string]any{}
	for k, v := range before {
		if !allowed[k] {
			continue
		}
		if n, ok := v.(json.Number); ok {
			i, err := n.Int64()
			if err != nil {
				return errs.E(errs.Internal, "", "undo log of %s %d: %v", object, id, err)
			}
			v = i
		}
		cols[k], changed[k] = v, true
	}
	// The search text is rebuilt from the record as it will be.
	cur, err := s.currentCols(ctx, tx, ws, object, id)
	if db.NoRows(err) {
		return nil
	}
	if err != nil {
		return err
	}
	for k, v := range cols {
		cur[k] = v
	}
	search := contactSearchText(cur)
	if object == Companies {
		search = companySearchText(cur)
	}
	u := rowUpdate{id: id, set: map[string]any{"search_text": search}}
	for k := range changed {
		u.set[k] = dbValue(k, cur[k])
	}
	return bulkUpdate(ctx, tx, "dataio.restore", table, ws, []rowUpdate{u}, db.Millis(s.Clock.Now()))
}

func (s *Service) currentCols(ctx context.Context, tx *db.Tx, ws int64, object string, id int64) (map[string]any, error) {
	if object == Companies {
		rows, err := tx.QueryContext(ctx, `-- dataio.currentCompany
			SELECT `+existingCompanyCols+` FROM companies WHERE workspace_id = ? AND id = ?`, ws, id)
		if err != nil {
			return nil, err
		}
		defer rows.Close()
		if !rows.Next() {
			return nil, db.ErrNoRows
		}
		e, err := scanCompanyEntry(rows)
		if err != nil {
			return nil, err
		}
		return e.t.cols, nil
	}
	var email, fam, giv, famK, givK, phone, mobile string
	err := tx.QueryRowContext(ctx, `-- dataio.currentContact
		SELECT COALESCE(email, ''), family_name, given_name, family_name_kana, given_name_kana, phone, mobile
		FROM contacts WHERE workspace_id = ? AND id = ?`, ws, id).Scan(&email, &fam, &giv, &famK, &givK, &phone, &mobile)
	return map[string]any{"email": email, "family_name": fam, "given_name": giv, "family_name_kana": famK,
		"given_name_kana": givK, "phone": phone, "mobile": mobile}, err
}

// dropDealTotals takes the open deals about to be deleted out of the deal
// board's running totals.
func dropDealTotals(ctx context.Context, tx *db.Tx, ws int64, ids []int64) error {
	sums := map[totalKey]totalSum{}
	err := inChunks(ids, func(ph string, args []any) error {
		rows, err := tx.QueryContext(ctx, `-- dataio.dropDealTotals
			SELECT stage_id, COALESCE(owner_id, 0), currency, COUNT(*), SUM(amount) FROM deals
			WHERE workspace_id = ? AND status = 'open' AND id IN (`+ph+`) GROUP BY stage_id, COALESCE(owner_id, 0), currency`,
			append([]any{ws}, args...)...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var k totalKey
			var s totalSum
			if err := rows.Scan(&k.stage, &k.owner, &k.currency, &s.count, &s.amount); err != nil {
				return err
			}
			t := sums[k]
			t.count += s.count
			t.amount += s.amount
			sums[k] = t
		}
		return rows.Err()
	})
	if err != nil {
		return fmt.Errorf("dataio.dropDealTotals: %w", err)
	}
	return addTotals(ctx, tx, ws, sums, -1)
}

// restoreDeal puts back the earlier values of a deal an import updated, and
// moves the board's totals back with them.
func (s *Service) restoreDeal(ctx context.Context, tx *db.Tx, ws, id int64, before map[string]any) error {
	rows, err := tx.QueryContext(ctx, `-- dataio.currentDeal
		SELECT `+existingDealCols+` FROM deals WHERE workspace_id = ? AND id = ?`, ws, id)
	if err != nil {
		return err
	}
	var cur *target
	if rows.Next() {
		_, cur, err = scanDealTarget(rows)
	}
	rows.Close()
	if err != nil || cur == nil {
		return err // a deal deleted since is left deleted
	}
	now := cur.cols
	was := map[string]any{}
	for k, v := range now {
		was[k] = v
	}
	u := rowUpdate{id: id, set: map[string]any{}}
	for k, v := range before {
		if !dealUpdatable[k] {
			continue
		}
		if n, ok := v.(json.Number); ok {
			i, err := n.Int64()
			if err != nil {
				return errs.E(errs.Internal, "", "undo log of deal %d: %v", id, err)
			}
			v = i
		}
		was[k] = v
		u.set[k] = dbValue(k, v)
	}
	if len(u.set) == 0 {
		return nil
	}
	u.set["search_text"] = crm.DealSearchText(str(was, "name"))
	if err := bulkUpdate(ctx, tx, "dataio.restoreDeal", "deals", ws, []rowUpdate{u}, db.Millis(s.Clock.Now())); err != nil {
		return err
	}
	if str(now, "status") != "open" {
		return nil
	}
	minus, plus := map[totalKey]totalSum{}, map[totalKey]totalSum{}
	addSum(minus, dealTotalKey(now, nil), num(now, "amount"))
	addSum(plus, dealTotalKey(was, nil), num(was, "amount"))
	if err := addTotals(ctx, tx, ws, minus, -1); err != nil {
		return err
	}
	return addTotals(ctx, tx, ws, plus, +1)
}
