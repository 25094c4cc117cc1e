package bench

import (
	"context"
	"fmt"
	"sort"
	"time"
)

// servedReports are the shared report screens as people open them, over
// HTTP, on periods that hold generated data whatever today is (the data
// lies in the six months before Epoch): the month two back, the quarter one
// back, twelve monthly cohorts.
var servedReports = []struct{ name, path string }{
	{"KPIs, one month", "/reports?period=month&offset=2"},
	{"KPIs, one quarter", "/reports?period=quarter&offset=1"},
	{"funnel, 12 monthly cohorts", "/reports/funnel?months=12"},
	{"channel quality, one quarter", "/reports/channels?period=quarter&offset=1"},
	{"attribution (W-shaped), one month", "/reports/attribution?period=month&offset=2&model=w_shaped"},
	{"rep performance, one month", "/reports/reps?period=month&offset=2"},
	{"forecast roll-up, one quarter", "/forecast?period=quarter&offset=1"},
	{"alignment report, one month", "/reports/alignment?period=month&offset=2"},
	{"home (role dashboards)", "/"},
}

// ReportsServed measures what a viewer waits for each shared report screen
// of a running server while rate events/s arrive through the batch API: the
// screens are opened in turn for dur. The first opening of each screen (it
// computes the report) is reported on its own line; the later ones are
// served within the report cache's 60 s bound (ADR 0022).
func ReportsServed(ctx context.Context, c *Client, sz Size, dur time.Duration, rate int) ([]Result, error) {
	stop := arrive(ctx, c, sz, rate, "reportsbg")
	defer stop()
	first := make([]time.Duration, len(servedReports))
	later := make([][]time.Duration, len(servedReports))
	t0 := time.Now()
	for round := 0; round == 0 || time.Since(t0) < dur; round++ {
		for i, r := range servedReports {
			start := time.Now()
			if _, err := c.do(ctx, "GET", r.path, nil); err != nil {
				return nil, fmt.Errorf("%s: %w", r.name, err)
			}
			d := time.Since(start)
			if round == 0 {
				first[i] = d
			} else {
				later[i] = append(later[i], d)
			}
		}
		time.Sleep(200 * time.Millisecond) // a person reads the screen
	}
	if err := stop(); err != nil {
		return nil, fmt.Errorf("background events: %w", err)
	}
	var out []Result
	for i, r := range servedReports {
		ds := later[i]
		res := Result{Name: fmt.Sprintf("page: %s, %d events/s arriving (first opening %s)", r.name, rate, ms(first[i])),
			Target: "< 300 ms p95 at L", N: len(ds)}
		if len(ds) > 0 {
			sort.Slice(ds, func(a, b int) bool { return ds[a] < ds[b] })
			res.P50, res.P95, res.Max = ds[len(ds)/2], ds[len(ds)*95/100], ds[len(ds)-1]
		}
		out = append(out, res)
	}
	return out, nil
}
