package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"sort"
	"time"

	"github.com/ryorin/ryorin/internal/clock"
	"github.com/ryorin/ryorin/internal/crm"
	"github.com/ryorin/ryorin/internal/db"
	"github.com/ryorin/ryorin/internal/marketing/segments"
	"github.com/ryorin/ryorin/internal/platform"
)

// benchSegments are the segment definitions measured: each has three
// conditions over a contact column, a company column and behaviour in a time
// window, the shape the target names.
var benchSegments = []struct{ name, def string }{
	{"stage = lead AND company industry = software AND visited /pricing ≥ 2× in 30 days",
		`{"groups":[{"conditions":[{"field":"lifecycle_stage","op":"eq","value":"lead"},{"field":"company.industry","op":"eq","value":"software"},{"field":"visited_page","op":"at_least","count":2,"days":30,"path":"/pricing"}]}]}`},
	{"(submitted a form in 14 days AND title contains 部長) OR (opened an email in 7 days AND employees ≥ 1000)",
		`{"groups":[{"conditions":[{"field":"form_submit","op":"at_least","days":14},{"field":"title","op":"contains","value":"部長"}]},{"conditions":[{"field":"email_open","op":"at_least","days":7},{"field":"company.employees","op":"gte","value":"1000"}]}]}`},
	{"stage ≠ customer AND prefecture = 東京都 AND no page view in 90 days",
		`{"groups":[{"conditions":[{"field":"lifecycle_stage","op":"neq","value":"customer"},{"field":"company.prefecture","op":"eq","value":"東京都"},{"field":"visited_page","op":"none","days":90}]}]}`},
}

// SegmentRun measures segment counts and a full membership recompute in
// process, with the clock at the generator's epoch so the time windows hold
// the generated events. Each count runs runs times.
func SegmentRun(ctx context.Context, d *db.DB, runs int, progress func(string)) ([]Result, error) {
	if progress == nil {
		progress = func(string) {}
	}
	fc := clock.NewFake(Epoch)
	svc := segments.New(d, fc, crm.New(d, fc))
	var contacts, events int
	_ = d.Reader().QueryRowContext(ctx, `SELECT COUNT(*) FROM contacts`).Scan(&contacts)
	_ = d.Reader().QueryRowContext(ctx, `SELECT COUNT(*) FROM events`).Scan(&events)
	var out []Result
	for _, bs := range benchSegments {
		def, err := svc.ParseDefinition(ctx, 1, []byte(bs.def))
		if err != nil {
			return nil, err
		}
		var ds []time.Duration
		var n int64
		for range runs {
			start := time.Now()
			if n, err = svc.Count(ctx, 1, def); err != nil {
				return nil, err
			}
			ds = append(ds, time.Since(start))
		}
		progress(fmt.Sprintf("%s: %d contacts, median %s", bs.name, n, median(ds).Round(time.Millisecond)))
		out = append(out, durations(fmt.Sprintf("segment count: %s (%d of %d contacts, %d events)", bs.name, n, contacts, events),
			"< 1 s at 1M/10M", ds, contacts, "contacts/s"))
	}
	// The first fill of the first segment, window by window, as the refresher does it.
	mkt := platform.System(1)
	sg, err := svc.CreateSegment(ctx, mkt, segments.SegmentInput{Name: fmt.Sprintf("bench %d", time.Now().UnixNano()), Definition: json.RawMessage(benchSegments[0].def)})
	if err != nil {
		return nil, err
	}
	start := time.Now()
	if err := svc.RefreshSegment(ctx, 1, sg.ID); err != nil {
		return nil, err
	}
	took := time.Since(start)
	progress(fmt.Sprintf("full recompute: %s", took.Round(time.Millisecond)))
	out = append(out, durations(fmt.Sprintf("segment full recompute (%d contacts, windows of 5,000)", contacts), "", []time.Duration{took}, contacts, "contacts/s"))
	if err := svc.DeleteSegment(ctx, mkt, sg.ID); err != nil {
		return nil, err
	}
	return out, nil
}

func median(ds []time.Duration) time.Duration {
	s := append([]time.Duration(nil), ds...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s[len(s)/2]
}

func durations(name, target string, ds []time.Duration, items int, unit string) Result {
	sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
	return Result{Name: name, Target: target, N: len(ds), P50: ds[len(ds)/2], P95: ds[min(len(ds)-1, len(ds)*95/100)], Max: ds[len(ds)-1],
		Rate: float64(items) / ds[len(ds)/2].Seconds(), Unit: unit}
}

// SegmentLatency measures, over HTTP against a running server, how long a
// new event takes to show in a segment's stored membership, while rate
// events/s arrive for random contacts and the three bench segments are kept
// current beside the probe segment.
func SegmentLatency(ctx context.Context, c *Client, sz Size, n, rate int) (Result, error) {
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
	run := time.Now().UnixNano()
	var segIDs []int64
	defs := append([]struct{ name, def string }{{"probe", `{"groups":[{"conditions":[{"field":"visited_page","op":"at_least","days":1,"path":"/live-probe"}]}]}`}}, benchSegments...)
	for i, bs := range defs {
		m, err := post("/api/v1/segments", map[string]any{"name": fmt.Sprintf("live %d %d", run, i), "definition": json.RawMessage(bs.def)})
		if err != nil {
			return Result{}, fmt.Errorf("create segment: %w", err)
		}
		segIDs = append(segIDs, int64(m["id"].(float64)))
	}
	// Delete them afterwards: segments left in the data set would be kept
	// current, and fully recomputed at every start, in every later run.
	defer func() {
		for _, id := range segIDs {
			_, _ = c.do(context.WithoutCancel(ctx), "DELETE", fmt.Sprintf("/api/v1/segments/%d", id), nil)
		}
	}()
	// Wait for the first fills.
	for _, id := range segIDs {
		for t0 := time.Now(); ; {
			b, err := c.do(ctx, "GET", fmt.Sprintf("/api/v1/segments/%d", id), nil)
			if err != nil {
				return Result{}, err
			}
			var sg struct {
				RefreshedAt *time.Time `json:"refreshed_at"`
			}
			_ = json.Unmarshal(b, &sg)
			if sg.RefreshedAt != nil {
				break
			}
			if time.Since(t0) > 10*time.Minute {
				return Result{}, fmt.Errorf("segment %d not filled after 10 minutes", id)
			}
			time.Sleep(200 * time.Millisecond)
		}
	}
	stopArrival := arrive(ctx, c, sz, rate, "segbg")
	defer stopArrival()
	time.Sleep(time.Second)
	r := rand.New(rand.NewPCG(uint64(run), 3))
	lat := make([]time.Duration, 0, n)
	seen := map[int]bool{}
	for i := range n {
		id := 1 + r.IntN(sz.Contacts)
		for seen[id] {
			id = 1 + r.IntN(sz.Contacts)
		}
		seen[id] = true
		t0 := time.Now()
		if _, err := post("/api/v1/events/batch", map[string]any{"events": []map[string]any{{"id": fmt.Sprintf("segprobe-%d-%d", run, i), "kind": "page_view",
			"contact_id": id, "url": "https://ryorin.example/live-probe/" + fmt.Sprint(i)}}}); err != nil {
			return Result{}, err
		}
		for {
			b, err := c.do(ctx, "GET", fmt.Sprintf("/api/v1/segments/%d/members?cursor=%d&limit=1", segIDs[0], id-1), nil)
			if err != nil {
				return Result{}, err
			}
			var page struct {
				Items []struct {
					ContactID int `json:"contact_id"`
				} `json:"items"`
			}
			_ = json.Unmarshal(b, &page)
			if len(page.Items) > 0 && page.Items[0].ContactID == id {
				lat = append(lat, time.Since(t0))
				break
			}
			if time.Since(t0) > 60*time.Second {
				return Result{}, fmt.Errorf("contact %d not in the segment after 60 s", id)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	if err := stopArrival(); err != nil {
		return Result{}, fmt.Errorf("background events: %w", err)
	}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	return Result{Name: fmt.Sprintf("new event → segment membership (4 live segments, %d events/s arriving)", rate), Target: "< 5 s p95",
		N: len(lat), P50: lat[len(lat)/2], P95: lat[len(lat)*95/100], Max: lat[len(lat)-1]}, nil
}
