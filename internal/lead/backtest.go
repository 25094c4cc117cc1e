package lead

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"runtime"
	"sort"
	"sync"
	"time"

	"github.com/ryorin/ryorin/internal/db"
	"github.com/ryorin/ryorin/internal/errs"
	"github.com/ryorin/ryorin/internal/lead/rules"
	"github.com/ryorin/ryorin/internal/platform"
)

// BacktestWeeks is how far back a backtest looks.
const BacktestWeeks = 26

// Backtest replays the last 26 weeks of the existing data under a draft
// definition and under the active one, side by side: how many contacts each
// would make MQL (now, and newly per week), and how the contacts each would
// have handed over actually went on with sales.
type Backtest struct {
	From      time.Time    `json:"from"`
	To        time.Time    `json:"to"`
	Weeks     []time.Time  `json:"weeks" doc:"start of each week, oldest first"`
	Candidate BacktestSide `json:"candidate" doc:"the definition under test (usually a draft)"`
	Active    BacktestSide `json:"active" doc:"the active definition"`
	// Overlap of the two cohorts (contacts that would become MQL in the
	// window): in both, only under the candidate, only under the active.
	Both          int   `json:"both"`
	OnlyCandidate int   `json:"only_candidate"`
	OnlyActive    int   `json:"only_active"`
	Contacts      int   `json:"contacts" doc:"contacts replayed"`
	Events        int   `json:"events" doc:"events replayed"`
	ElapsedMillis int64 `json:"elapsed_ms"`
}

// BacktestSide is one definition's result.
type BacktestSide struct {
	DefinitionID int64 `json:"definition_id"`
	Version      int   `json:"version"`
	MQLNow       int   `json:"mql_now" doc:"contacts that meet the MQL criteria now"`
	BeforeWindow int   `json:"before_window" doc:"contacts already MQL when the window starts"`
	PerWeek      []int `json:"per_week" doc:"contacts first meeting the MQL criteria in each week"`
	// What actually happened to the cohort (contacts first meeting the MQL
	// criteria in the window).
	Cohort       int            `json:"cohort"`
	Accepted     int            `json:"accepted" doc:"reached SQL or beyond, or accepted by sales"`
	Rejected     int            `json:"rejected" doc:"rejected by sales (latest verdict)"`
	Reasons      map[string]int `json:"reasons" doc:"rejections by reason"`
	Disqualified int            `json:"disqualified" doc:"meet the disqualification criteria now"`
	Won          int            `json:"won" doc:"contacts on a won deal"`
	Revenue      int64          `json:"revenue" doc:"won deal amounts, minor units of the base currency"`
	AvgRating    float64        `json:"avg_rating" doc:"sales' mean quality rating (1–5) of rated contacts"`
	mql          map[int64]bool
}

// bside is a side while it is computed.
type bside struct {
	def *Compiled
	out *BacktestSide
}

// RunBacktest compares the candidate definition with the active one over the
// last 26 weeks (weeks start on the workspace's week start day).
func (s *Service) RunBacktest(ctx context.Context, ws, candidateID int64) (Backtest, error) {
	started := time.Now()
	q := s.DB.Reader()
	cand, err := s.Get(ctx, q, ws, candidateID)
	if err != nil {
		return Backtest{}, err
	}
	var activeID int64
	err = q.QueryRowContext(ctx, `SELECT id FROM lead_definitions WHERE workspace_id = ? AND status = 'active'`, ws).Scan(&activeID)
	if db.NoRows(err) {
		activeID = candidateID
	} else if err != nil {
		return Backtest{}, err
	}
	active, err := s.Get(ctx, q, ws, activeID)
	if err != nil {
		return Backtest{}, err
	}
	w, err := platform.GetWorkspace(ctx, q, ws)
	if err != nil {
		return Backtest{}, err
	}
	now := s.Clock.Now()
	bt := Backtest{To: now, Candidate: BacktestSide{DefinitionID: cand.ID, Version: cand.Version},
		Active: BacktestSide{DefinitionID: active.ID, Version: active.Version}}
	loc := w.Location()
	n := now.In(loc)
	day := time.Date(n.Year(), n.Month(), n.Day(), 0, 0, 0, 0, loc)
	thisWeek := day.AddDate(0, 0, -((int(day.Weekday()) - w.WeekStart + 7) % 7))
	bt.From = thisWeek.AddDate(0, 0, -7*(BacktestWeeks-1))
	for i := range BacktestWeeks {
		bt.Weeks = append(bt.Weeks, bt.From.AddDate(0, 0, 7*i))
	}
	sides := make([]bside, 0, 2)
	for _, x := range []struct {
		d   Definition
		out *BacktestSide
	}{{cand, &bt.Candidate}, {active, &bt.Active}} {
		c, err := x.d.Body.Compile()
		if err != nil {
			return bt, errs.Rule("definition", "version %d does not compile: %v", x.d.Version, err)
		}
		x.out.PerWeek = make([]int, BacktestWeeks)
		x.out.Reasons = map[string]int{}
		x.out.mql = map[int64]bool{}
		sides = append(sides, bside{c, x.out})
	}
	weekOf := func(t time.Time) int {
		i := int(t.Sub(bt.From) / (7 * 24 * time.Hour))
		return min(max(i, 0), BacktestWeeks-1)
	}
	// Contacts stream in on one goroutine and are replayed on as many
	// workers as there are CPUs; each worker keeps its own tallies.
	type job struct {
		id      int64
		f       rules.Facts
		created time.Time
		evs     []rules.Event
	}
	type tally struct {
		mqlNow, dq, before [2]int
		perWeek            [2][]int
		mql                [2][]int64
		err                error
	}
	workers := max(1, min(runtime.GOMAXPROCS(0), 8))
	// Contacts go to the workers in slices: a channel send per contact (a
	// million of them at size L) kept the scheduler busy.
	const perSend = 128
	jobs := make(chan []job, 4*workers)
	tallies := make([]*tally, workers)
	var wg sync.WaitGroup
	for w := range workers {
		t := &tally{perWeek: [2][]int{make([]int, BacktestWeeks), make([]int, BacktestWeeks)}}
		tallies[w] = t
		wg.Add(1)
		go func() {
			defer wg.Done()
			for list := range jobs {
				for _, j := range list {
					if t.err != nil {
						continue
					}
					// One prepared environment per contact, and the fit rules both
					// definitions share evaluated once.
					x, memo := rules.NewEnv(j.f), map[string]bool{}
					for k, sd := range sides {
						first, mqlNow, dq, err := sd.def.firstMQL(x, memo, j.created, bt.From, now, j.evs)
						if err != nil {
							t.err = err
							break
						}
						if mqlNow {
							t.mqlNow[k]++
						}
						if dq {
							t.dq[k]++
						}
						switch {
						case first.IsZero():
						case first.Before(bt.From):
							t.before[k]++
						default:
							t.perWeek[k][weekOf(first)]++
							t.mql[k] = append(t.mql[k], j.id)
						}
					}
				}
			}
		}()
	}
	needProps := len(cand.Body.Properties()) > 0 || len(active.Body.Properties()) > 0
	var list []job
	var buf []rules.Event
	err = s.replay(ctx, q, ws, 0, bt.From, now, needProps, func(id int64, f rules.Facts, created time.Time, evs []rules.Event) error {
		bt.Contacts++
		bt.Events += len(evs)
		// The slice's events share one array (a slice of it per contact).
		at := len(buf)
		buf = append(buf, evs...)
		list = append(list, job{id, f, created, buf[at:len(buf):len(buf)]})
		if len(list) == perSend {
			jobs <- list
			list, buf = nil, nil
		}
		return nil
	})
	if len(list) > 0 {
		jobs <- list
	}
	close(jobs)
	wg.Wait()
	if err != nil {
		return bt, err
	}
	for _, t := range tallies {
		if t.err != nil {
			return bt, t.err
		}
		for k, sd := range sides {
			sd.out.MQLNow += t.mqlNow[k]
			sd.out.Disqualified += t.dq[k]
			sd.out.BeforeWindow += t.before[k]
			for i, n := range t.perWeek[k] {
				sd.out.PerWeek[i] += n
			}
			for _, id := range t.mql[k] {
				sd.out.mql[id] = true
			}
		}
	}
	for id := range bt.Candidate.mql {
		if bt.Active.mql[id] {
			bt.Both++
		} else {
			bt.OnlyCandidate++
		}
	}
	bt.OnlyActive = len(bt.Active.mql) - bt.Both
	for _, sd := range sides {
		if err := s.outcomes(ctx, q, w, sd.out); err != nil {
			return bt, err
		}
	}
	bt.ElapsedMillis = time.Since(started).Milliseconds()
	return bt, nil
}

// firstMQL replays one contact's events in time order and returns when it
// would first have met the MQL criteria (zero: never up to now), whether it
// meets them now, and whether it meets the disqualification criteria now.
// It scores at the window start (events before it count, as they would have
// then), just after each event in the window (as the live scorer does), and
// now.
func (c *Compiled) firstMQL(x *rules.Env, memo map[string]bool, created, from, now time.Time, evs []rules.Event) (time.Time, bool, bool, error) {
	var fp fitPart
	var err error
	if c.fitStatic {
		if fp, err = c.fitMemo(x, memo); err != nil {
			return time.Time{}, false, false, err
		}
	}
	score := func(at time.Time, upto int, dq bool) (Score, error) {
		x.F.Now, x.F.Events = at, evs[:upto]
		if !c.fitStatic {
			if fp, err = c.fitOf(x); err != nil {
				return Score{}, err
			}
		}
		return c.scoreWith(fp, x, dq, false)
	}
	start := from
	if created.After(start) {
		start = created
	}
	i := 0
	for i < len(evs) && !evs[i].At.After(start) {
		i++
	}
	var first time.Time
	// With nothing happening in the window, now scores as the start does,
	// so the start's score is the final one and needs the disqualification.
	quiet := len(evs) == 0 && c.fitStatic
	s, err := score(start, i, quiet)
	if err != nil {
		return first, false, false, err
	}
	if s.MQL {
		first = start
		if created.Before(from) {
			first = from.Add(-time.Nanosecond) // already MQL when the window opens
		}
	}
	if quiet {
		return first, s.MQL, s.Disqualified, nil
	}
	for ; first.IsZero() && i < len(evs); i++ {
		// Events at the same moment are scored together.
		if i+1 < len(evs) && evs[i+1].At.Equal(evs[i].At) {
			continue
		}
		if s, err = score(evs[i].At, i+1, false); err != nil {
			return first, false, false, err
		}
		if s.MQL {
			first = evs[i].At
		}
	}
	if s, err = score(now, len(evs), true); err != nil {
		return first, false, false, err
	}
	return first, s.MQL, s.Disqualified, nil
}

// replay calls fn once per contact with its facts and its events since
// scoreHistory before from, oldest first. Contacts and events are read in
// two streams ordered by contact, never all at once.
func (s *Service) replay(ctx context.Context, q db.Querier, ws, after int64, from, now time.Time, needProps bool, fn func(id int64, f rules.Facts, created time.Time, evs []rules.Event) error) error {
	return s.replayRange(ctx, q, ws, after, math.MaxInt64, from, now, needProps, fn)
}

// replayRange is replay over the contacts with after < id <= upto.
func (s *Service) replayRange(ctx context.Context, q db.Querier, ws, after, upto int64, from, now time.Time, needProps bool, fn func(id int64, f rules.Facts, created time.Time, evs []rules.Event) error) error {
	props := "NULL"
	if needProps {
		props = "c.props"
	}
	crows, err := q.QueryContext(ctx, `-- lead.replay contacts
		SELECT c.id, c.title, c.department, c.email, c.lifecycle_stage, c.original_channel, `+props+`, c.created_at,
			COALESCE(co.industry, ''), COALESCE(co.prefecture, ''), COALESCE(co.employees, 0), COALESCE(co.annual_revenue, 0)
		FROM contacts c LEFT JOIN companies co ON co.workspace_id = c.workspace_id AND co.id = c.company_id
		WHERE c.workspace_id = ? AND c.id > ? AND c.id <= ? AND c.created_at <= ? ORDER BY c.id`, ws, after, upto, db.Millis(now))
	if err != nil {
		return fmt.Errorf("lead.replay: %w", err)
	}
	defer crows.Close()
	erows, err := q.QueryContext(ctx, `-- lead.replay events
		SELECT contact_id, kind, path, occurred_at FROM events
		WHERE workspace_id = ? AND contact_id > ? AND contact_id <= ? AND occurred_at >= ? AND occurred_at <= ?
		ORDER BY contact_id, occurred_at DESC`, ws, after, upto, db.Millis(from.Add(-scoreHistory)), db.Millis(now))
	if err != nil {
		return fmt.Errorf("lead.replay: %w", err)
	}
	defer erows.Close()
	var pending *struct {
		contact int64
		ev      rules.Event
	}
	nextEvent := func() error {
		pending = nil
		if !erows.Next() {
			return erows.Err()
		}
		var p struct {
			contact int64
			ev      rules.Event
		}
		var at int64
		if err := erows.Scan(&p.contact, &p.ev.Kind, &p.ev.Path, &at); err != nil {
			return err
		}
		p.ev.At = db.Time(at)
		pending = &p
		return nil
	}
	if err := nextEvent(); err != nil {
		return err
	}
	var evs []rules.Event
	for crows.Next() {
		var f rules.Facts
		var id int64
		var props *string
		var created, employees, revenue int64
		if err := crows.Scan(&id, &f.Title, &f.Department, &f.Email, &f.Stage, &f.Channel, &props, &created, &f.Industry, &f.Prefecture,
			&employees, &revenue); err != nil {
			return err
		}
		f.Employees, f.AnnualRevenue = int(employees), float64(revenue)
		if needProps && props != nil && *props != "" {
			_ = json.Unmarshal([]byte(*props), &f.Props)
		}
		evs = evs[:0]
		for pending != nil && pending.contact < id {
			if err := nextEvent(); err != nil { // events of a contact no longer there
				return err
			}
		}
		for pending != nil && pending.contact == id {
			evs = append(evs, pending.ev)
			if err := nextEvent(); err != nil {
				return err
			}
		}
		// Newest first from the index; the replay wants oldest first.
		for i, j := 0, len(evs)-1; i < j; i, j = i+1, j-1 {
			evs[i], evs[j] = evs[j], evs[i]
		}
		if err := fn(id, f, db.Time(created), evs); err != nil {
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
	}
	return crows.Err()
}

// outcomes fills in what actually happened to a side's cohort.
func (s *Service) outcomes(ctx context.Context, q db.Querier, w platform.Workspace, out *BacktestSide) error {
	out.Cohort = len(out.mql)
	if out.Cohort == 0 {
		return nil
	}
	ws := w.ID
	accepted := map[int64]bool{}
	rows, err := q.QueryContext(ctx, `SELECT DISTINCT contact_id FROM lifecycle_history WHERE workspace_id = ? AND to_stage IN ('sql', 'opportunity', 'customer')`, ws)
	if err != nil {
		return err
	}
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return err
		}
		accepted[id] = true
	}
	rows.Close()
	// The latest verdict per contact, and ratings.
	rows, err = q.QueryContext(ctx, `SELECT contact_id, decision, reason, rating FROM lead_feedback WHERE workspace_id = ? ORDER BY contact_id, at, id`, ws)
	if err != nil {
		return err
	}
	type verdict struct {
		decision, reason string
	}
	last := map[int64]verdict{}
	var rated, ratingSum int
	for rows.Next() {
		var id int64
		var v verdict
		var rating int
		if err := rows.Scan(&id, &v.decision, &v.reason, &rating); err != nil {
			rows.Close()
			return err
		}
		if !out.mql[id] {
			continue
		}
		last[id] = v
		if rating > 0 {
			rated++
			ratingSum += rating
		}
	}
	rows.Close()
	if rated > 0 {
		out.AvgRating = float64(ratingSum) / float64(rated)
	}
	// A rep who moved an MQL back to nurture or out by hand rejected it
	// too (records from before feedback existed, imports): the stated
	// cause stands for the reason.
	rows, err = q.QueryContext(ctx, `SELECT contact_id, cause_ref FROM lifecycle_history WHERE workspace_id = ? AND from_stage = 'mql'
		AND to_stage IN ('recycled', 'disqualified') AND cause_kind = 'user' ORDER BY contact_id, at, id`, ws)
	if err != nil {
		return err
	}
	for rows.Next() {
		var id int64
		var ref string
		if err := rows.Scan(&id, &ref); err != nil {
			rows.Close()
			return err
		}
		if _, ok := last[id]; !ok && out.mql[id] {
			last[id] = verdict{decision: "reject", reason: ref}
		}
	}
	rows.Close()
	for id := range out.mql {
		v, ok := last[id]
		switch {
		case ok && v.decision == "reject":
			out.Rejected++
			out.Reasons[v.reason]++
		case accepted[id] || ok && v.decision == "accept":
			out.Accepted++
		}
	}
	// Won deals: each contact once; each deal's amount once.
	rows, err = q.QueryContext(ctx, `SELECT dc.contact_id, d.id, d.amount, d.currency, COALESCE(d.closed_at, d.updated_at)
		FROM deal_contacts dc JOIN deals d ON d.workspace_id = dc.workspace_id AND d.id = dc.deal_id
		WHERE dc.workspace_id = ? AND d.status = 'won' ORDER BY dc.contact_id`, ws)
	if err != nil {
		return err
	}
	type deal struct {
		amount   int64
		currency string
		closed   int64
	}
	won := map[int64]bool{}
	deals := map[int64]deal{}
	for rows.Next() {
		var cid, did int64
		var d deal
		if err := rows.Scan(&cid, &did, &d.amount, &d.currency, &d.closed); err != nil {
			rows.Close()
			return err
		}
		if out.mql[cid] {
			won[cid] = true
			deals[did] = d
		}
	}
	rows.Close()
	out.Won = len(won)
	ids := make([]int64, 0, len(deals))
	for id := range deals {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	for _, id := range ids {
		d := deals[id]
		base, err := platform.ToBase(ctx, q, w, d.amount, d.currency, db.Time(d.closed).In(w.Location()).Format(time.DateOnly))
		if err != nil {
			continue // no rate: left out rather than guessed
		}
		out.Revenue += base
	}
	return nil
}
