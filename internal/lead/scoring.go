package lead

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/ryorin/ryorin/internal/crm"
	"github.com/ryorin/ryorin/internal/db"
	"github.com/ryorin/ryorin/internal/errs"
	"github.com/ryorin/ryorin/internal/lead/rules"
	"github.com/ryorin/ryorin/internal/platform"
)

// scoreHistory is how far back a contact's events count.
const scoreHistory = 180 * 24 * time.Hour

// Scorer keeps contacts' scores current: it reads events stored since its
// mark (a row in work_marks, so a restart resumes) and rescores the contacts
// they belong to, moving those who now meet the active definition's MQL
// criteria to MQL with the rule as the cause.
type Scorer struct {
	Lead *Service
	CRM  *crm.Service
	// Notify, when set, tells a lead's new owner in the app (and by email,
	// by their preferences).
	Notify *platform.Notifier

	mu       sync.Mutex
	compiled *Compiled
	version  int
}

// active returns the active definition, compiled once per version.
func (sc *Scorer) active(ctx context.Context, ws int64) (*Compiled, int, error) {
	var id int64
	var version int
	err := sc.Lead.DB.Reader().QueryRowContext(ctx, `-- lead.Scorer.active
		SELECT id, version FROM lead_definitions WHERE workspace_id = ? AND status = 'active'`, ws).Scan(&id, &version)
	if err != nil {
		return nil, 0, fmt.Errorf("lead: active definition: %w", err)
	}
	sc.mu.Lock()
	defer sc.mu.Unlock()
	if sc.compiled != nil && sc.version == version {
		return sc.compiled, version, nil
	}
	d, err := sc.Lead.Get(ctx, sc.Lead.DB.Reader(), ws, id)
	if err != nil {
		return nil, 0, err
	}
	c, err := d.Body.Compile()
	if err != nil {
		return nil, 0, err
	}
	sc.compiled, sc.version = c, version
	return c, version, nil
}

// ScoreNewEvents rescores the contacts of events stored since the last run,
// and the contacts whose record changed (title, company, properties…), and
// advances both marks; it returns how many contacts it rescored.
func (sc *Scorer) ScoreNewEvents(ctx context.Context, ws int64) (int, error) {
	n, err := sc.scoreEvents(ctx, ws)
	if err != nil {
		return n, err
	}
	m, err := sc.scoreUpdated(ctx, ws)
	if err != nil {
		return n + m, err
	}
	k, err := sc.scoreCompanies(ctx, ws)
	return n + m + k, err
}

// changedSince reads up to limit rows of table updated since the mark named
// mark (the (updated_at, id) of the last row read), in that order. On the
// first run it sets the mark to now and returns nothing: changes count from
// then on. commit moves the mark past the rows returned.
func (sc *Scorer) changedSince(ctx context.Context, ws int64, table, mark string, limit int) (ids []int64, commit func() error, err error) {
	d := sc.Lead.DB
	var at, id int64
	err = d.Reader().QueryRowContext(ctx, `SELECT value FROM work_marks WHERE workspace_id = ? AND name = ?`, ws, mark+"_at").Scan(&at)
	if db.NoRows(err) {
		return nil, nil, sc.setMarks(ctx, ws, map[string]int64{mark + "_at": db.Millis(sc.Lead.Clock.Now()), mark + "_id": 0})
	}
	if err != nil {
		return nil, nil, err
	}
	if err := d.Reader().QueryRowContext(ctx, `SELECT COALESCE(MAX(value), 0) FROM work_marks WHERE workspace_id = ? AND name = ?`, ws, mark+"_id").Scan(&id); err != nil {
		return nil, nil, err
	}
	lastAt, lastID := at, id
	if _, err := platform.ChangedSince(ctx, d.Reader(), table, ws, at, id, limit, func(rid, u int64) {
		ids = append(ids, rid)
		lastAt, lastID = u, rid
	}); err != nil {
		return nil, nil, err
	}
	commit = func() error {
		return sc.setMarks(ctx, ws, map[string]int64{mark + "_at": lastAt, mark + "_id": lastID})
	}
	return ids, commit, nil
}

// scoreCompanies rescores the contacts of companies updated since its mark
// (industry, size, prefecture feed fit rules), a bounded number of
// companies per run.
func (sc *Scorer) scoreCompanies(ctx context.Context, ws int64) (int, error) {
	companies, commit, err := sc.changedSince(ctx, ws, "companies", "lead.company_updated", 50)
	if err != nil || len(companies) == 0 {
		return 0, err
	}
	n := 0
	for _, co := range companies {
		crow, err := sc.Lead.DB.Reader().QueryContext(ctx, `SELECT id FROM contacts WHERE workspace_id = ? AND company_id = ? ORDER BY id`, ws, co)
		if err != nil {
			return n, err
		}
		var ids []int64
		for crow.Next() {
			var cid int64
			if err := crow.Scan(&cid); err != nil {
				crow.Close()
				return n, err
			}
			ids = append(ids, cid)
		}
		crow.Close()
		if _, err := sc.rescoreMany(ctx, ws, ids, true); err != nil {
			return n, err
		}
		n += len(ids)
	}
	return n, commit()
}

// scoreUpdated rescores contacts updated since its mark.
func (sc *Scorer) scoreUpdated(ctx context.Context, ws int64) (int, error) {
	ids, commit, err := sc.changedSince(ctx, ws, "contacts", "lead.updated", 500)
	if err != nil || len(ids) == 0 {
		return 0, err
	}
	if _, err := sc.rescoreMany(ctx, ws, ids, true); err != nil {
		return 0, err
	}
	return len(ids), commit()
}

func (sc *Scorer) setMarks(ctx context.Context, ws int64, marks map[string]int64) error {
	return sc.Lead.DB.Write(ctx, "lead.setMarks", func(tx *db.Tx) error { return setMarksTx(ctx, tx, ws, marks) })
}

func (sc *Scorer) scoreEvents(ctx context.Context, ws int64) (int, error) {
	d := sc.Lead.DB
	var mark int64
	err := d.Reader().QueryRowContext(ctx, `SELECT value FROM work_marks WHERE workspace_id = ? AND name = 'lead.scored_events'`, ws).Scan(&mark)
	if db.NoRows(err) {
		// First run on this database: score what arrives from now on. Older
		// events are scored by a full recompute, not by the live scorer.
		return 0, sc.SetMark(ctx, ws, -1)
	}
	if err != nil {
		return 0, err
	}
	var contacts []int64
	seen := map[int64]bool{}
	last, err := platform.ContactEventsSince(ctx, d.Reader(), ws, mark, 2000, "", func(_, cid int64) {
		if !seen[cid] {
			seen[cid] = true
			contacts = append(contacts, cid)
		}
	})
	if err != nil {
		return 0, err
	}
	if _, err := sc.rescoreMany(ctx, ws, contacts, true); err != nil {
		return 0, err
	}
	if last == mark {
		return 0, nil
	}
	return len(contacts), sc.SetMark(ctx, ws, last)
}

// SetMark sets the id of the last event the live scorer has read; -1 means
// the newest event stored now.
func (sc *Scorer) SetMark(ctx context.Context, ws, mark int64) error {
	return sc.Lead.DB.Write(ctx, "lead.SetMark", func(tx *db.Tx) error {
		if mark < 0 {
			if err := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(id), 0) FROM events WHERE workspace_id = ?`, ws).Scan(&mark); err != nil {
				return err
			}
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO work_marks (workspace_id, name, value) VALUES (?, 'lead.scored_events', ?)
			ON CONFLICT (workspace_id, name) DO UPDATE SET value = excluded.value`, ws, mark)
		return err
	})
}

// Drain rescores until no new events are left (the demo loader uses it).
func (sc *Scorer) Drain(ctx context.Context, ws int64) error {
	for {
		n, err := sc.ScoreNewEvents(ctx, ws)
		if err != nil || n == 0 {
			return err
		}
	}
}

// Rescore computes one contact's scores now, stores them with their
// explanation, and applies the MQL and disqualification criteria: a lead
// (or subscriber, or recycled contact) that meets MQL becomes MQL; one that
// meets the disqualification criteria before reaching sales is disqualified.
// Scores never move a contact backwards in the funnel.
func (sc *Scorer) Rescore(ctx context.Context, ws, contactID int64) (Score, error) {
	out, err := sc.rescoreMany(ctx, ws, []int64{contactID}, false)
	if err != nil {
		return Score{}, err
	}
	return out[0], nil
}

// Explain sets a scored contact's explanation lines ("+20 visited /pricing
// ×2"): it scores the contact again now under the active definition. The
// lines are not stored (migration 0056); their sum is the stored score
// decayed to now, unless a change is still on its way to the live scorer.
func (sc *Scorer) Explain(ctx context.Context, ws int64, ct *crm.Contact) error {
	if ct.Score.ScoredAt == nil {
		return nil
	}
	c, _, err := sc.active(ctx, ws)
	if err != nil {
		return err
	}
	// The contact is loaded already: only its company and events are read.
	all, err := factsOf(ctx, sc.Lead.DB.Reader(), sc.CRM, ws, map[int64]crm.Contact{ct.ID: *ct}, sc.Lead.Clock.Now())
	if err != nil {
		return err
	}
	x := all[ct.ID]
	x.f.Fit, x.f.FitGrade, x.f.Engagement = 0, "", 0 // being computed
	s, err := c.Score(x.f)
	if err != nil {
		return err
	}
	ct.Score.Lines, err = json.Marshal(s.Lines)
	return err
}

// liveBatch is how many contacts' new scores the live scorer stores per
// write transaction.
const liveBatch = 100

// rescoreMany does what Rescore does for each of ids, storing the scores
// of up to liveBatch contacts in one write transaction (a contact whose
// stage changes moves, is routed and notified in that same transaction).
// With skipMissing a contact deleted since its events were read is passed
// over; without, it is an error. It returns the scores of the contacts
// rescored, in order.
func (sc *Scorer) rescoreMany(ctx context.Context, ws int64, ids []int64, skipMissing bool) ([]Score, error) {
	c, version, err := sc.active(ctx, ws)
	if err != nil {
		return nil, err
	}
	type one struct {
		facts
		s Score
	}
	seen := make(map[int64]bool, len(ids))
	ids = slices.DeleteFunc(slices.Clone(ids), func(id int64) bool { // each contact once: an upsert touches a row once
		dup := seen[id]
		seen[id] = true
		return dup
	})
	var out []Score
	for start := 0; start < len(ids); start += liveBatch {
		now := sc.Lead.Clock.Now()
		var items []one
		var batch []scored
		part := ids[start:min(start+liveBatch, len(ids))]
		// The four reads in one read transaction: one snapshot, and on
		// SQLite one page cache for them all (see db.Read).
		var all map[int64]facts
		err := sc.Lead.DB.Read(ctx, func(q db.Querier) (err error) {
			all, err = contactFactsMany(ctx, q, sc.CRM, ws, part, now)
			return err
		})
		if err != nil {
			return out, err
		}
		for _, id := range part {
			x, ok := all[id]
			if !ok {
				if skipMissing {
					continue
				}
				return out, errs.NotFoundf("contact %d not found", id)
			}
			x.f.Fit, x.f.FitGrade, x.f.Engagement = 0, "", 0 // being computed
			s, err := c.Figures(x.f)
			if err != nil {
				return out, err
			}
			items = append(items, one{x, s})
			batch = append(batch, scored{id, s})
		}
		if len(batch) == 0 {
			continue
		}
		err = sc.Lead.DB.WriteBulk(ctx, "lead.Rescore", func(tx *db.Tx) error {
			if err := writeScoresTx(ctx, tx, ws, batch, now, version, c.Body.HalfLifeDays); err != nil {
				return err
			}
			for _, it := range items {
				if err := sc.applyStage(ctx, tx, ws, version, now, it.ct, it.company, it.f, it.s); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return out, err
		}
		for _, it := range items {
			out = append(out, it.s)
		}
	}
	return out, nil
}

// early reports whether a contact at stage is still before MQL: scores may
// promote it (or disqualify it).
func early(stage platform.Stage) bool {
	return stage == platform.StageSubscriber || stage == platform.StageLead || stage == platform.StageRecycled
}

// stageFor is the stage new scores move a contact at stage to, or "" when
// they leave it where it is: scores never move a contact backwards.
func stageFor(stage platform.Stage, s Score) platform.Stage {
	switch {
	case s.Disqualified && (early(stage) || stage == platform.StageMQL):
		return platform.StageDisqualified
	case s.MQL && early(stage):
		return platform.StageMQL
	}
	return ""
}

// applyStage moves a contact whose new scores meet the active definition's
// MQL or disqualification criteria, inside tx; an MQL is then routed and its
// owner notified.
func (sc *Scorer) applyStage(ctx context.Context, tx *db.Tx, ws int64, version int, now time.Time, ct crm.Contact, company *crm.Company, f rules.Facts, s Score) error {
	to := stageFor(ct.LifecycleStage, s)
	if to == "" {
		return nil
	}
	cause := platform.Cause{Kind: "rule", Ref: fmt.Sprintf("definition v%d: %s", version, map[platform.Stage]string{platform.StageMQL: "mql", platform.StageDisqualified: "disqualify"}[to])}
	if _, err := sc.CRM.UpdateContactTx(ctx, tx, platform.System(ws), ct.ID, crm.ContactInput{LifecycleStage: &to}, cause); err != nil {
		return err
	}
	if to != platform.StageMQL {
		return nil
	}
	f.Fit, f.FitGrade, f.Engagement = s.Fit, s.FitGrade, s.Engagement
	_, err := sc.assignMQL(ctx, tx, ws, ct, company, f, now)
	return err
}

// Run rescores contacts with new events every interval until ctx ends.
func (sc *Scorer) Run(ctx context.Context, ws int64, every time.Duration, onErr func(error)) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		for {
			n, err := sc.ScoreNewEvents(ctx, ws)
			if err != nil && ctx.Err() == nil && onErr != nil {
				onErr(err)
			}
			if n == 0 || err != nil {
				break
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
