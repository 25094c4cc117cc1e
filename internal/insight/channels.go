package insight

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/ryorin/ryorin/internal/db"
	"github.com/ryorin/ryorin/internal/platform"
)

// ChannelRow is the quality of the leads one channel brought in a period.
type ChannelRow struct {
	Channel string `json:"channel" doc:"the contacts' original channel; empty for none recorded"`
	// Visits are tracked sessions that started in the period on the channel.
	Visits int `json:"visits"`
	// Leads are the contacts created in the period; the rest follow them to date.
	Leads    int `json:"leads"`
	MQLs     int `json:"mqls" doc:"leads that reached MQL or a later stage"`
	Accepted int `json:"accepted" doc:"leads sales accepted (latest verdict)"`
	Rejected int `json:"rejected" doc:"leads sales rejected (latest verdict)"`
	// TopReasons are the most given rejection reasons, most first (up to 3).
	TopReasons    []ReasonCount `json:"top_reasons"`
	Opportunities int           `json:"opportunities" doc:"leads that reached opportunity or customer"`
	Customers     int           `json:"customers" doc:"leads that became customers"`
	Won           int           `json:"won" doc:"won deals whose first contact is one of the leads"`
	Lost          int           `json:"lost"`
	Revenue       int64         `json:"revenue" doc:"won amounts, minor units of the base currency"`
	Spend         int64         `json:"spend" doc:"spend entered for the channel in the period's months, minor units of the base currency"`
}

// ReasonCount is a rejection reason and how often it was given.
type ReasonCount struct {
	Reason string `json:"reason"`
	Count  int    `json:"count"`
}

// MQLRate is MQLs ÷ leads.
func (r ChannelRow) MQLRate() float64 { return ratio(r.MQLs, r.Leads) }

// AcceptRate is accepted ÷ (accepted + rejected).
func (r ChannelRow) AcceptRate() float64 { return ratio(r.Accepted, r.Accepted+r.Rejected) }

// WinRate is won ÷ (won + lost).
func (r ChannelRow) WinRate() float64 { return ratio(r.Won, r.Won+r.Lost) }

// CAC is spend ÷ customers, in minor units (0 without customers).
func (r ChannelRow) CAC() int64 {
	if r.Customers == 0 {
		return 0
	}
	return r.Spend / int64(r.Customers)
}

// ROI is (revenue − spend) ÷ spend (0 without spend).
func (r ChannelRow) ROI() float64 {
	if r.Spend == 0 {
		return 0
	}
	return float64(r.Revenue-r.Spend) / float64(r.Spend)
}

func ratio(a, b int) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}

// ChannelQuality is the channel report for a period: a row per channel
// (those of the workspace's taxonomy first, in order, then any other key
// found on contacts) and the total.
type ChannelQuality struct {
	Period Period       `json:"period"`
	Rows   []ChannelRow `json:"rows"`
	Total  ChannelRow   `json:"total"`
	// MissingRate counts amounts left out for want of an exchange rate.
	MissingRate int `json:"missing_rate,omitempty"`
	// Filter is the filter the report was narrowed by (see ChannelScope).
	Filter KPIFilter `json:"filter"`
}

// ChannelFormula says how the channel report is computed.
const ChannelFormula = "leads = contacts created in the period by original channel, followed to date: MQL rate = reached MQL or later ÷ leads; acceptance = accepted ÷ (accepted + rejected), each lead's latest verdict; a won or lost deal belongs to the channel of its earliest-created contact when that contact is one of the leads; spend = entries for the channel in the months that start in the period; CAC = spend ÷ customers; ROI = (revenue − spend) ÷ spend"

// ChannelQualityOf computes the channel report for a period.
func ChannelQualityOf(ctx context.Context, q db.Querier, w platform.Workspace, p Period) (ChannelQuality, error) {
	return ChannelQualityFiltered(ctx, q, w, p, KPIFilter{})
}

// ChannelQualityFiltered is ChannelQualityOf narrowed by a filter as
// ChannelScope says; with a channel, only that channel's row is listed.
func ChannelQualityFiltered(ctx context.Context, q db.Querier, w platform.Workspace, p Period, f KPIFilter) (ChannelQuality, error) {
	return cached(ctx, q, cacheKey("channels", w.ID, p.From.UnixMilli(), p.To.UnixMilli(), f), func(ctx context.Context) (ChannelQuality, error) {
		return channelQuality(ctx, q, w, p, f)
	})
}

func channelQuality(ctx context.Context, q db.Querier, w platform.Workspace, p Period, f KPIFilter) (ChannelQuality, error) {
	out := ChannelQuality{Period: p, Filter: f}
	from, to := db.Millis(p.From), db.Millis(p.To)
	rows := map[string]*ChannelRow{}
	row := func(ch string) *ChannelRow {
		r := rows[ch]
		if r == nil {
			r = &ChannelRow{Channel: ch, TopReasons: []ReasonCount{}}
			rows[ch] = r
		}
		return r
	}
	channels, err := platform.ListChannels(ctx, q, w.ID)
	if err != nil {
		return out, err
	}
	for _, c := range channels {
		if f.Channel == "" || f.Channel == c.Key {
			row(c.Key)
		}
	}
	// Leads and how far they went.
	leadCond, leadArgs, _ := f.cond("contacts", w.ID)
	lead := map[int64]string{}
	if err := scanRows(ctx, q, func(r scanner) error {
		var id int64
		var ch string
		if err := r.Scan(&id, &ch); err != nil {
			return err
		}
		lead[id] = ch
		row(ch).Leads++
		return nil
	}, `-- insight.ChannelQualityFiltered
		SELECT id, original_channel FROM contacts WHERE workspace_id = ? AND created_at >= ? AND created_at < ?`+leadCond,
		append([]any{w.ID, from, to}, leadArgs...)...); err != nil {
		return out, fmt.Errorf("channels leads: %w", err)
	}
	reached := map[int64]int{} // furthest step: 1 MQL, 2 SQL, 3 opportunity, 4 customer
	step := map[string]int{"mql": 1, "sql": 2, "opportunity": 3, "customer": 4}
	if err := scanRows(ctx, q, func(r scanner) error {
		var id int64
		var st string
		if err := r.Scan(&id, &st); err != nil {
			return err
		}
		if _, ok := lead[id]; ok && step[st] > reached[id] {
			reached[id] = step[st]
		}
		return nil
	}, `SELECT contact_id, to_stage FROM lifecycle_history
		WHERE workspace_id = ? AND to_stage IN ('mql', 'sql', 'opportunity', 'customer') AND at >= ?`, w.ID, from); err != nil {
		return out, fmt.Errorf("channels stages: %w", err)
	}
	for id, s := range reached {
		r := row(lead[id])
		r.MQLs++
		if s >= 3 {
			r.Opportunities++
		}
		if s >= 4 {
			r.Customers++
		}
	}
	// Sales' latest verdict on each lead: every verdict since the period
	// began (a verdict on a lead comes after the lead was created), read
	// from lead_feedback_at, keeping the period's leads.
	verdict := map[int64][2]string{}
	if err := scanRows(ctx, q, func(r scanner) error {
		var id int64
		var decision, reason string
		if err := r.Scan(&id, &decision, &reason); err != nil {
			return err
		}
		if _, ok := lead[id]; ok {
			verdict[id] = [2]string{decision, reason} // rows come oldest first: the last wins
		}
		return nil
	}, `SELECT contact_id, decision, reason FROM lead_feedback WHERE workspace_id = ? AND at >= ? ORDER BY at, id`, w.ID, from); err != nil {
		return out, fmt.Errorf("channels feedback: %w", err)
	}
	reasons := map[string]map[string]int{}
	for id, v := range verdict {
		ch, ok := lead[id]
		if !ok {
			continue // a contact the filter leaves out
		}
		switch v[0] {
		case "accept":
			row(ch).Accepted++
		case "reject":
			row(ch).Rejected++
			if reasons[ch] == nil {
				reasons[ch] = map[string]int{}
			}
			reasons[ch][v[1]]++
		}
	}
	// Deals, each to the channel of its earliest-created contact.
	type dealInfo struct {
		status, cur      string
		amount, closedAt int64
		first            int64
		firstAt          int64
	}
	deals := map[int64]*dealInfo{}
	pipeCond, pipeArgs := "", []any{}
	if f.PipelineID != 0 {
		pipeCond, pipeArgs = " AND d.pipeline_id = ?", append(pipeArgs, f.PipelineID)
	}
	chCond, chArgs := "", []any{}
	if f.Channel != "" {
		chCond, chArgs = " AND channel = ?", append(chArgs, f.Channel)
	}
	if err := scanRows(ctx, q, func(r scanner) error {
		var did, cid, cAt, amount, closed int64
		var status, cur string
		if err := r.Scan(&did, &status, &amount, &cur, &closed, &cid, &cAt); err != nil {
			return err
		}
		d := deals[did]
		if d == nil {
			d = &dealInfo{status: status, cur: cur, amount: amount, closedAt: closed, first: cid, firstAt: cAt}
			deals[did] = d
		}
		if cAt < d.firstAt || (cAt == d.firstAt && cid < d.first) {
			d.first, d.firstAt = cid, cAt
		}
		return nil
	}, `SELECT d.id, d.status, d.amount, d.currency, COALESCE(d.closed_at, 0), c.id, c.created_at FROM deals d
		JOIN deal_contacts dc ON dc.workspace_id = d.workspace_id AND dc.deal_id = d.id
		JOIN contacts c ON c.workspace_id = dc.workspace_id AND c.id = dc.contact_id
		WHERE d.workspace_id = ? AND d.status IN ('won', 'lost') AND d.created_at >= ?`+pipeCond, append([]any{w.ID, from}, pipeArgs...)...); err != nil {
		// Deals created before the period began are left out: their first
		// contact came earlier (a deal opened before any of its contacts
		// existed is the rare exception, and is not counted).
		return out, fmt.Errorf("channels deals: %w", err)
	}
	for _, d := range deals {
		ch, ok := lead[d.first]
		if !ok {
			continue // the deal began with someone who came earlier
		}
		r := row(ch)
		if d.status == "lost" {
			r.Lost++
			continue
		}
		r.Won++
		b, err := platform.ToBase(ctx, q, w, d.amount, d.cur, db.Time(d.closedAt).In(w.Location()).Format(time.DateOnly))
		if err != nil {
			out.MissingRate++
			continue
		}
		r.Revenue += b
	}
	// Visits.
	if err := scanRows(ctx, q, func(r scanner) error {
		var ch string
		var n int
		if err := r.Scan(&ch, &n); err != nil {
			return err
		}
		row(ch).Visits += n
		return nil
	}, `SELECT channel, COUNT(*) FROM track_sessions WHERE workspace_id = ? AND started_at >= ? AND started_at < ?`+chCond+` GROUP BY channel`,
		append([]any{w.ID, from, to}, chArgs...)...); err != nil {
		return out, fmt.Errorf("channels visits: %w", err)
	}
	// Spend in the months that start within the period.
	months := monthsIn(w, p)
	campCond, campArgs := "", []any{}
	if f.CampaignID != 0 {
		campCond, campArgs = " AND campaign_id = ?", append(campArgs, f.CampaignID)
	}
	if len(months) > 0 {
		if err := scanRows(ctx, q, func(r scanner) error {
			var ch, month, cur string
			var amount int64
			if err := r.Scan(&ch, &month, &amount, &cur); err != nil {
				return err
			}
			b, err := platform.ToBase(ctx, q, w, amount, cur, month+"-01")
			if err != nil {
				out.MissingRate++
				return nil
			}
			row(ch).Spend += b
			return nil
		}, `SELECT channel, month, amount, currency FROM spend_entries WHERE workspace_id = ? AND month >= ? AND month <= ?`+chCond+campCond,
			append(append([]any{w.ID, months[0], months[len(months)-1]}, chArgs...), campArgs...)...); err != nil {
			return out, fmt.Errorf("channels spend: %w", err)
		}
	}
	// Rows in the taxonomy's order, then the rest by key.
	seen := map[string]bool{}
	for _, c := range channels {
		if r, ok := rows[c.Key]; ok {
			out.Rows = append(out.Rows, *r)
			seen[c.Key] = true
		}
	}
	var rest []string
	for k := range rows {
		if !seen[k] {
			rest = append(rest, k)
		}
	}
	sort.Strings(rest)
	for _, k := range rest {
		out.Rows = append(out.Rows, *rows[k])
	}
	total := ChannelRow{Channel: "", TopReasons: []ReasonCount{}}
	all := map[string]int{}
	for i := range out.Rows {
		r := &out.Rows[i]
		r.TopReasons = top(reasons[r.Channel], 3)
		for k, n := range reasons[r.Channel] {
			all[k] += n
		}
		total.Visits += r.Visits
		total.Leads += r.Leads
		total.MQLs += r.MQLs
		total.Accepted += r.Accepted
		total.Rejected += r.Rejected
		total.Opportunities += r.Opportunities
		total.Customers += r.Customers
		total.Won += r.Won
		total.Lost += r.Lost
		total.Revenue += r.Revenue
		total.Spend += r.Spend
	}
	total.TopReasons = top(all, 3)
	out.Total = total
	return out, nil
}

// monthsIn lists the months ("2026-04") whose first day falls in the period.
func monthsIn(w platform.Workspace, p Period) []string {
	loc := w.Location()
	f := p.From.In(loc)
	m := time.Date(f.Year(), f.Month(), 1, 0, 0, 0, 0, loc)
	if m.Before(f) {
		m = m.AddDate(0, 1, 0)
	}
	var out []string
	for ; m.Before(p.To); m = m.AddDate(0, 1, 0) {
		out = append(out, m.Format("2006-01"))
	}
	return out
}

func top(counts map[string]int, n int) []ReasonCount {
	out := []ReasonCount{}
	for k, c := range counts {
		out = append(out, ReasonCount{k, c})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Count != out[j].Count {
			return out[i].Count > out[j].Count
		}
		return out[i].Reason < out[j].Reason
	})
	if len(out) > n {
		out = out[:n]
	}
	return out
}

type scanner interface{ Scan(...any) error }

// scanRows runs a query and calls fn for each row.
func scanRows(ctx context.Context, q db.Querier, fn func(scanner) error, query string, args ...any) error {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		if err := fn(rows); err != nil {
			return err
		}
	}
	return rows.Err()
}
