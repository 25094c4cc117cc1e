package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"time"
)

// MQLLatency measures how long a new MQL takes to be scored, routed and
// notified while other events keep arriving: background clients post page
// views for random contacts at rate events/s; meanwhile n times a fresh
// contact with no owner submits a form (under the default definition, a form
// submit makes an MQL), and the clock runs from the event's acknowledgement
// until the API shows the contact as an MQL with an owner (the owner's
// notification is written in the same transaction as the assignment). A
// routing rule sends every MQL to a team of two reps, set up through the API.
func MQLLatency(ctx context.Context, c *Client, sz Size, n, rate int) (Result, error) {
	run := time.Now().UnixNano()
	post := func(path string, body any) (map[string]any, error) {
		b, _ := json.Marshal(body)
		out, err := c.do(ctx, "POST", path, b)
		if err != nil {
			return nil, err
		}
		var m map[string]any
		_ = json.Unmarshal(out, &m)
		return m, nil
	}
	team, err := post("/api/v1/teams", map[string]any{"name": fmt.Sprintf("bench-mql-%d", run), "function": "sales"})
	if err != nil {
		return Result{}, fmt.Errorf("team: %w", err)
	}
	tid := int64(team["id"].(float64))
	for _, u := range []int{2, 3} {
		b, _ := json.Marshal(map[string]any{"team_id": tid})
		if _, err := c.do(ctx, "PATCH", fmt.Sprintf("/api/v1/users/%d", u), b); err != nil {
			return Result{}, fmt.Errorf("user %d: %w", u, err)
		}
	}
	if _, err := post("/api/v1/routing-rules", map[string]any{"name": "bench: all", "condition": "true", "team_id": tid, "position": -1}); err != nil {
		return Result{}, fmt.Errorf("routing rule: %w", err)
	}
	// Background load: page views for random contacts, rate events/s.
	stopArrival := arrive(ctx, c, sz, rate, "mqlbg")
	defer stopArrival()
	time.Sleep(500 * time.Millisecond)
	lat := make([]time.Duration, 0, n)
	for i := range n {
		ct, err := post("/api/v1/contacts", map[string]any{"email": fmt.Sprintf("mql-%d-%d@bench.example", run, i), "owner_id": 0, "lifecycle_stage": "lead"})
		if err != nil {
			return Result{}, fmt.Errorf("contact: %w", err)
		}
		id := int64(ct["id"].(float64))
		if _, err := post("/api/v1/events/batch", map[string]any{"events": []map[string]any{{"id": fmt.Sprintf("mql-%d-%d", run, i), "kind": "form_submit", "contact_id": id}}}); err != nil {
			return Result{}, err
		}
		t0 := time.Now()
		for {
			b, err := c.do(ctx, "GET", fmt.Sprintf("/api/v1/contacts/%d", id), nil)
			if err != nil {
				return Result{}, err
			}
			var got struct {
				Stage string `json:"lifecycle_stage"`
				Owner int64  `json:"owner_id"`
			}
			_ = json.Unmarshal(b, &got)
			if got.Stage == "mql" && got.Owner != 0 {
				lat = append(lat, time.Since(t0))
				break
			}
			if time.Since(t0) > 30*time.Second {
				return Result{}, fmt.Errorf("contact %d not routed after 30 s (stage %s, owner %d)", id, got.Stage, got.Owner)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	if err := stopArrival(); err != nil {
		return Result{}, fmt.Errorf("background events: %w", err)
	}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	return Result{Name: fmt.Sprintf("new MQL scored, routed and notified, with %d events/s arriving", rate), Target: "< 1 s p95",
		N: len(lat), P50: lat[len(lat)/2], P95: lat[len(lat)*95/100], Max: lat[len(lat)-1]}, nil
}
