package insight

import (
	"context"
	"fmt"
	"math"
	"slices"
	"sort"
	"time"

	"github.com/ryorin/ryorin/internal/db"
	"github.com/ryorin/ryorin/internal/errs"
	"github.com/ryorin/ryorin/internal/platform"
)

// Models are the attribution models, in the order the screen offers them.
var Models = []string{"first_touch", "last_touch", "linear", "u_shaped", "w_shaped", "time_decay"}

// ModelFormula says how each model shares a deal's credit among its touches.
var ModelFormula = map[string]string{
	"first_touch": "all credit to the first touch",
	"last_touch":  "all credit to the last touch before the deal was won",
	"linear":      "equal credit to every touch",
	"u_shaped":    "40% to the first touch, 40% to the lead-creation touch, 20% shared by the others; shares of touches that coincide add up, and the whole is scaled to 100%",
	"w_shaped":    "30% each to the first, lead-creation and deal-creation touches, 10% shared by the others; shares of touches that coincide add up, and the whole is scaled to 100%",
	"time_decay":  "credit halves for every 7 days a touch came before the deal was won",
}

// DecayHalfLife is the half-life of the time-decay model.
const DecayHalfLife = 7 * 24 * time.Hour

// Touch is one interaction on a deal's path: the contact's creation through
// its original channel, a tracked visit, or joining a campaign.
type Touch struct {
	At         time.Time `json:"at"`
	Kind       string    `json:"kind" enum:"created,visit,campaign"`
	Channel    string    `json:"channel"`
	ContactID  int64     `json:"contact_id"`
	CampaignID int64     `json:"campaign_id,omitempty"`
	Label      string    `json:"label,omitempty" doc:"the campaign's name or the visit's utm_campaign"`
	Credit     float64   `json:"credit" doc:"share of the deal's credit under the model, 0–1"`
	// Role marks the touches the position-based models weigh.
	Role string `json:"role,omitempty" enum:"first,lead_created,deal_created"`
}

// Credit shares a deal's credit among its touches (sorted by time) under a
// model. leadIdx and dealIdx are the lead-creation and deal-creation
// touches (-1 when none).
func Credit(model string, touches []Touch, leadIdx, dealIdx int, wonAt time.Time) ([]float64, error) {
	if !slices.Contains(Models, model) {
		return nil, errs.Field("model", "must be one of first_touch, last_touch, linear, u_shaped, w_shaped, time_decay")
	}
	n := len(touches)
	w := make([]float64, n)
	if n == 0 {
		return w, nil
	}
	special := func(shares map[int]float64, rest float64) {
		others := 0
		for i := range n {
			if _, ok := shares[i]; !ok {
				others++
			}
		}
		for i := range n {
			if s, ok := shares[i]; ok {
				w[i] += s
			} else {
				w[i] += rest / float64(others)
			}
		}
	}
	add := func(m map[int]float64, i int, s float64) {
		if i >= 0 {
			m[i] += s
		}
	}
	switch model {
	case "first_touch":
		w[0] = 1
	case "last_touch":
		w[n-1] = 1
	case "linear":
		for i := range w {
			w[i] = 1
		}
	case "u_shaped":
		m := map[int]float64{}
		add(m, 0, 0.4)
		add(m, leadIdx, 0.4)
		special(m, 0.2)
	case "w_shaped":
		m := map[int]float64{}
		add(m, 0, 0.3)
		add(m, leadIdx, 0.3)
		add(m, dealIdx, 0.3)
		special(m, 0.1)
	case "time_decay":
		for i, t := range touches {
			age := max(0, wonAt.Sub(t.At))
			w[i] = math.Pow(0.5, float64(age)/float64(DecayHalfLife))
		}
	}
	var sum float64
	for _, x := range w {
		sum += x
	}
	for i := range w {
		w[i] /= sum
	}
	return w, nil
}

// DealPath is a won deal with its touches in order and their credit.
type DealPath struct {
	DealID    int64     `json:"deal_id"`
	Name      string    `json:"name"`
	Amount    int64     `json:"amount" doc:"minor units of the base currency"`
	CreatedAt time.Time `json:"created_at"`
	WonAt     time.Time `json:"won_at"`
	Touches   []Touch   `json:"touches"`
}

// AttributionRow is the credit one channel earned.
type AttributionRow struct {
	Channel string  `json:"channel"`
	Deals   float64 `json:"deals" doc:"credited share of won deals"`
	Revenue float64 `json:"revenue" doc:"credited revenue, minor units of the base currency"`
}

// Attribution is the revenue of the deals won in a period shared among
// channels by a model.
type Attribution struct {
	Period Period           `json:"period"`
	Model  string           `json:"model"`
	Rows   []AttributionRow `json:"rows"`
	// Deals are the won deals, newest first, each with its path.
	Deals []DealPath `json:"deals"`
	// Untouched counts won deals with no touch at all (no contacts); their
	// revenue is in UntouchedRevenue, not shared.
	Untouched        int   `json:"untouched"`
	UntouchedRevenue int64 `json:"untouched_revenue"`
	MissingRate      int   `json:"missing_rate,omitempty"`
}

// AttributionOf shares the revenue of the deals won in a period among
// channels by a model.
func AttributionOf(ctx context.Context, q db.Querier, w platform.Workspace, p Period, model string) (Attribution, error) {
	return cached(ctx, q, cacheKey("attribution", w.ID, p.From.UnixMilli(), p.To.UnixMilli(), model), func(ctx context.Context) (Attribution, error) {
		return attributionOf(ctx, q, w, p, model)
	})
}

func attributionOf(ctx context.Context, q db.Querier, w platform.Workspace, p Period, model string) (Attribution, error) {
	out := Attribution{Period: p, Model: model, Rows: []AttributionRow{}, Deals: []DealPath{}}
	if _, err := Credit(model, nil, -1, -1, time.Time{}); err != nil {
		return out, err
	}
	type deal struct {
		DealPath
		cur     string
		closed  int64
		created int64
	}
	var deals []deal
	if err := scanRows(ctx, q, func(r scanner) error {
		var d deal
		var amount int64
		if err := r.Scan(&d.DealID, &d.Name, &amount, &d.cur, &d.created, &d.closed); err != nil {
			return err
		}
		d.Amount, d.CreatedAt, d.WonAt = amount, db.Time(d.created), db.Time(d.closed)
		deals = append(deals, d)
		return nil
	}, `SELECT id, name, amount, currency, created_at, closed_at FROM deals WHERE workspace_id = ? AND status = 'won' AND closed_at >= ? AND closed_at < ? ORDER BY closed_at DESC, id DESC`,
		w.ID, db.Millis(p.From), db.Millis(p.To)); err != nil {
		return out, fmt.Errorf("attribution deals: %w", err)
	}
	credit := map[string]*AttributionRow{}
	for _, d := range deals {
		base, err := platform.ToBase(ctx, q, w, d.Amount, d.cur, db.Time(d.closed).In(w.Location()).Format(time.DateOnly))
		if err != nil {
			out.MissingRate++
			continue
		}
		d.Amount = base
		path, err := PathOf(ctx, q, w.ID, d.DealID, d.CreatedAt, d.WonAt, model)
		if err != nil {
			return out, err
		}
		d.Touches = path
		if len(path) == 0 {
			out.Untouched++
			out.UntouchedRevenue += base
		}
		for _, t := range path {
			if t.Credit == 0 {
				continue
			}
			r := credit[t.Channel]
			if r == nil {
				r = &AttributionRow{Channel: t.Channel}
				credit[t.Channel] = r
			}
			r.Deals += t.Credit
			r.Revenue += t.Credit * float64(base)
		}
		out.Deals = append(out.Deals, d.DealPath)
	}
	for _, r := range credit {
		out.Rows = append(out.Rows, *r)
	}
	sort.Slice(out.Rows, func(i, j int) bool {
		if out.Rows[i].Revenue != out.Rows[j].Revenue {
			return out.Rows[i].Revenue > out.Rows[j].Revenue
		}
		return out.Rows[i].Channel < out.Rows[j].Channel
	})
	return out, nil
}

// PathOf returns the touches of a deal's contacts up to until (when it was
// won, or now for an open deal), oldest first, with their credit under a
// model.
func PathOf(ctx context.Context, q db.Querier, ws, dealID int64, dealCreated, wonAt time.Time, model string) ([]Touch, error) {
	until := db.Millis(wonAt)
	var touches []Touch
	if err := scanRows(ctx, q, func(r scanner) error {
		var t Touch
		var at int64
		if err := r.Scan(&t.ContactID, &at, &t.Channel); err != nil {
			return err
		}
		t.At, t.Kind = db.Time(at), "created"
		if at <= until {
			touches = append(touches, t)
		}
		return nil
	}, `SELECT c.id, c.created_at, c.original_channel FROM deal_contacts dc JOIN contacts c ON c.workspace_id = dc.workspace_id AND c.id = dc.contact_id
		WHERE dc.workspace_id = ? AND dc.deal_id = ?`, ws, dealID); err != nil {
		return nil, fmt.Errorf("path contacts: %w", err)
	}
	// The deal's contacts first, then their visits and campaigns by contact
	// (a join from the deal side would scan every session).
	var ids []any
	for _, t := range touches {
		ids = append(ids, t.ContactID)
	}
	if len(ids) == 0 {
		return touches, nil
	}
	in := db.Placeholders(len(ids))
	args := append(append([]any{ws}, ids...), until)
	if err := scanRows(ctx, q, func(r scanner) error {
		var t Touch
		var at int64
		if err := r.Scan(&t.ContactID, &at, &t.Channel, &t.Label); err != nil {
			return err
		}
		t.At, t.Kind = db.Time(at), "visit"
		touches = append(touches, t)
		return nil
	}, `SELECT contact_id, started_at, channel, utm_campaign FROM track_sessions
		WHERE workspace_id = ? AND contact_id IN (`+in+`) AND started_at <= ?`, args...); err != nil {
		return nil, fmt.Errorf("path visits: %w", err)
	}
	if err := scanRows(ctx, q, func(r scanner) error {
		var t Touch
		var at int64
		if err := r.Scan(&t.ContactID, &at, &t.Channel, &t.CampaignID, &t.Label); err != nil {
			return err
		}
		t.At, t.Kind = db.Time(at), "campaign"
		touches = append(touches, t)
		return nil
	}, `SELECT m.contact_id, m.added_at, c.channel, c.id, c.name FROM campaign_members m
		JOIN campaigns c ON c.workspace_id = m.workspace_id AND c.id = m.campaign_id
		WHERE m.workspace_id = ? AND m.contact_id IN (`+in+`) AND m.added_at <= ?`, args...); err != nil {
		return nil, fmt.Errorf("path campaigns: %w", err)
	}
	// Oldest first; at the same moment a creation comes first, then a
	// campaign, then a visit.
	order := map[string]int{"created": 0, "campaign": 1, "visit": 2}
	sort.SliceStable(touches, func(i, j int) bool {
		if !touches[i].At.Equal(touches[j].At) {
			return touches[i].At.Before(touches[j].At)
		}
		if order[touches[i].Kind] != order[touches[j].Kind] {
			return order[touches[i].Kind] < order[touches[j].Kind]
		}
		return touches[i].ContactID < touches[j].ContactID
	})
	leadIdx, dealIdx := -1, -1
	for i, t := range touches {
		if t.Kind == "created" && leadIdx < 0 {
			leadIdx = i // the first contact's creation: when the lead came
		}
		if !t.At.After(dealCreated) {
			dealIdx = i // the last touch before the deal was created
		}
	}
	if len(touches) > 0 {
		touches[0].Role = "first"
		if leadIdx >= 0 && touches[leadIdx].Role == "" {
			touches[leadIdx].Role = "lead_created"
		}
		if dealIdx >= 0 && touches[dealIdx].Role == "" {
			touches[dealIdx].Role = "deal_created"
		}
	}
	credits, err := Credit(model, touches, leadIdx, dealIdx, wonAt)
	if err != nil {
		return nil, err
	}
	for i := range touches {
		touches[i].Credit = credits[i]
	}
	return touches, nil
}
