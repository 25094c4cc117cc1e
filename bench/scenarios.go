package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Result is one scenario's measurement.
type Result struct {
	Name   string
	Target string
	N      int
	P50    time.Duration
	P95    time.Duration
	Max    time.Duration
	Rate   float64 // items per second, for throughput scenarios
	Unit   string
}

// Client talks to a running Ryorin over HTTP with an API token, and with a
// session cookie for the UI pages when Session is set.
type Client struct {
	Base    string
	Token   string
	Session string
	HTTP    *http.Client
}

func (c *Client) do(ctx context.Context, method, path string, body []byte) ([]byte, error) {
	if body == nil {
		return c.Send(ctx, method, path, "", nil)
	}
	return c.Send(ctx, method, path, "application/json", bytes.NewReader(body))
}

// Send makes one request with a body (nil: none) of the given content type
// and returns the answer's body; an answer of 300 or more is an error.
func (c *Client) Send(ctx context.Context, method, path, contentType string, body io.Reader) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, method, c.Base+path, body)
	if err != nil {
		return nil, err
	}
	if strings.HasPrefix(path, "/api/") {
		req.Header.Set("Authorization", "Bearer "+c.Token)
	} else {
		req.AddCookie(&http.Cookie{Name: "ryorin_session", Value: c.Session})
		req.Header.Set("Accept-Language", "ja")
	}
	if body != nil {
		req.Header.Set("Content-Type", contentType)
	}
	res, err := c.HTTP.Do(req)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		return nil, err
	}
	if res.StatusCode >= 300 {
		return nil, fmt.Errorf("%s %s: %d %s", method, path, res.StatusCode, b)
	}
	return b, nil
}

// latency runs req n times sequentially (after a few warm-up calls) and
// returns the distribution. check validates each response body.
func latency(ctx context.Context, name, target string, n int, req func(i int) (string, error), check func([]byte) error, c *Client) (Result, error) {
	for i := 0; i < 5; i++ {
		p, _ := req(i)
		if _, err := c.do(ctx, "GET", p, nil); err != nil {
			return Result{}, fmt.Errorf("%s warm-up: %w", name, err)
		}
	}
	ds := make([]time.Duration, 0, n)
	for i := 0; i < n; i++ {
		p, err := req(i)
		if err != nil {
			return Result{}, err
		}
		t := time.Now()
		b, err := c.do(ctx, "GET", p, nil)
		ds = append(ds, time.Since(t))
		if err != nil {
			return Result{}, fmt.Errorf("%s: %w", name, err)
		}
		if check != nil {
			if err := check(b); err != nil {
				return Result{}, fmt.Errorf("%s: %w", name, err)
			}
		}
	}
	sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
	return Result{Name: name, Target: target, N: n, P50: ds[n/2], P95: ds[n*95/100], Max: ds[n-1]}, nil
}

func nonEmpty(b []byte) error {
	var p struct {
		Items []json.RawMessage `json:"items"`
	}
	if err := json.Unmarshal(b, &p); err != nil {
		return err
	}
	if len(p.Items) == 0 {
		return fmt.Errorf("no items in %s", b[:min(len(b), 200)])
	}
	return nil
}

func isJSON(b []byte) error {
	var v map[string]any
	return json.Unmarshal(b, &v)
}

// Run measures every scenario against the server behind c. n is the number
// of requests per latency scenario; events is how many events to ingest.
func Run(ctx context.Context, c *Client, sz Size, n, events int) ([]Result, error) {
	r := rand.New(rand.NewPCG(7, 7))
	var out []Result
	add := func(res Result, err error) error {
		if err == nil {
			out = append(out, res)
		}
		return err
	}
	stagesToTry := []string{"lead", "mql", "sql", "opportunity", "customer"}
	err := add(latency(ctx, "contacts list: owner + lifecycle stage, by last activity, page of 50", "< 100 ms p95", n, func(i int) (string, error) {
		return fmt.Sprintf("/api/v1/contacts?owner_id=%d&lifecycle_stage=%s&sort=-last_activity_at&limit=50", 1+r.IntN(sz.Users), stagesToTry[r.IntN(len(stagesToTry))]), nil
	}, isJSON, c))
	if err != nil {
		return out, err
	}
	err = add(latency(ctx, "contacts list: unfiltered, by last activity, page of 50", "< 100 ms p95", n, func(int) (string, error) {
		return "/api/v1/contacts?limit=50", nil
	}, nonEmpty, c))
	if err != nil {
		return out, err
	}
	jaQueries := []string{}
	for _, f := range familyNames {
		for _, g := range givenNames[:4] {
			full := []rune(f[0] + g[0])
			jaQueries = append(jaQueries, string(full[len(full)-3:]))
		}
	}
	err = add(latency(ctx, "name search: Japanese partial, 3 characters (e.g. 藤太郎)", "< 100 ms p95", n, func(int) (string, error) {
		return "/api/v1/contacts?limit=50&q=" + url.QueryEscape(jaQueries[r.IntN(len(jaQueries))]), nil
	}, isJSON, c))
	if err != nil {
		return out, err
	}
	err = add(latency(ctx, "name search: Japanese, 2 characters (family-name prefix, e.g. 田中)", "< 100 ms p95", n, func(int) (string, error) {
		return "/api/v1/contacts?limit=50&q=" + url.QueryEscape(familyNames[r.IntN(len(familyNames))][0]), nil
	}, isJSON, c))
	if err != nil {
		return out, err
	}
	latinQ := []string{"ohnso", "illia", "arcia", "aylor", "alker", "mith", "ilson"}
	err = add(latency(ctx, "name search: Latin partial (e.g. ohnso)", "< 100 ms p95", n, func(int) (string, error) {
		return "/api/v1/contacts?limit=50&q=" + latinQ[r.IntN(len(latinQ))], nil
	}, isJSON, c))
	if err != nil {
		return out, err
	}
	err = add(latency(ctx, fmt.Sprintf("contact timeline (%d entries): newest page of 50", sz.TimelinePerContact), "< 50 ms p95", n, func(int) (string, error) {
		return fmt.Sprintf("/api/v1/contacts/%d/timeline?limit=50", 1+r.IntN(sz.TimelineContacts)), nil
	}, nonEmpty, c))
	if err != nil {
		return out, err
	}
	err = add(latency(ctx, fmt.Sprintf("contact timeline (%d entries): a page of 200 deep in the history", sz.TimelinePerContact), "< 50 ms p95", n, func(int) (string, error) {
		cid := 1 + r.IntN(sz.TimelineContacts)
		b, err := c.do(ctx, "GET", fmt.Sprintf("/api/v1/contacts/%d/timeline?limit=200", cid), nil)
		if err != nil {
			return "", err
		}
		var p struct {
			Next string `json:"next_cursor"`
		}
		_ = json.Unmarshal(b, &p)
		return fmt.Sprintf("/api/v1/contacts/%d/timeline?limit=200&cursor=%s", cid, p.Next), nil
	}, nonEmpty, c))
	if err != nil {
		return out, err
	}
	if c.Session != "" {
		pages, err := pageScenarios(ctx, c, sz, n, r)
		out = append(out, pages...)
		if err != nil {
			return out, err
		}
	}
	if events > 0 {
		if err := add(ingest(ctx, c, sz, events, 1000, 4)); err != nil {
			return out, err
		}
	}
	return out, nil
}

// pageScenarios measures the UI's main pages, server-rendered, as a signed-in
// user's browser requests them.
func pageScenarios(ctx context.Context, c *Client, sz Size, n int, r *rand.Rand) ([]Result, error) {
	isHTML := func(b []byte) error {
		if !bytes.Contains(b, []byte("</html>")) {
			return fmt.Errorf("not a whole page: %.200s", b)
		}
		return nil
	}
	pages := []struct {
		name   string
		url    func() string
		target string // default < 150 ms p95
	}{
		{"page: home", func() string { return "/" }, ""},
		{"page: contacts list", func() string { return "/contacts" }, ""},
		{"page: contacts list, filtered by stage and owner", func() string {
			return fmt.Sprintf("/contacts?stage=lead&owner=%d", 1+r.IntN(sz.Users))
		}, ""},
		{"page: contacts search (Japanese, 3 characters)", func() string {
			f := familyNames[r.IntN(len(familyNames))][0]
			g := []rune(givenNames[r.IntN(len(givenNames))][0])
			return "/contacts?q=" + url.QueryEscape(f+string(g[0]))
		}, ""},
		{"page: contact record with timeline", func() string { return fmt.Sprintf("/contacts/%d", 1+r.IntN(sz.TimelineContacts)) }, ""},
		{"page: company record", func() string { return fmt.Sprintf("/companies/%d", 1+r.IntN(sz.Companies)) }, ""},
		{"page: deals list", func() string { return "/deals" }, ""},
		{"page: deal board (default pipeline)", func() string { return "/deals/board" }, ""},
		{"page: deal record", func() string { return fmt.Sprintf("/deals/%d", 1+r.IntN(sz.Deals)) }, ""},
		{"page: a rep's today page (leads, tasks, meetings, hot leads, quiet deals)", func() string {
			return fmt.Sprintf("/today?user=%d", 1+r.IntN(sz.Users))
		}, "< 100 ms p95"},
		{"page: a rep's daily report (drafted from the day's log)", func() string {
			return fmt.Sprintf("/reports/daily?user=%d&date=%s", 1+r.IntN(sz.Users), Epoch.AddDate(0, 0, -r.IntN(30)).Format(time.DateOnly))
		}, "< 150 ms p95"},
	}
	var out []Result
	for _, p := range pages {
		target := p.target
		if target == "" {
			target = "< 150 ms p95"
		}
		res, err := latency(ctx, p.name, target, n, func(int) (string, error) { return p.url(), nil }, isHTML, c)
		if err != nil {
			return out, err
		}
		out = append(out, res)
	}
	return out, nil
}

// ingest posts events in batches from several clients at once and reports
// events per second, counting only acknowledged (stored) events. The request
// bodies are built before the clock starts, so the client's JSON encoding
// does not compete with the server for the CPU during the measurement.
func ingest(ctx context.Context, c *Client, sz Size, total, batch, clients int) (Result, error) {
	run := fmt.Sprintf("%d", time.Now().UnixNano())
	r := rand.New(rand.NewPCG(uint64(total), 9))
	var bodies [][]byte
	for from := 0; from < total; from += batch {
		var b bytes.Buffer
		b.WriteString(`{"events":[`)
		for i := from; i < min(from+batch, total); i++ {
			if i > from {
				b.WriteByte(',')
			}
			contact := ""
			if r.IntN(10) < 3 {
				contact = fmt.Sprintf(`,"contact_id":%d`, 1+r.IntN(sz.Contacts))
			}
			fmt.Fprintf(&b, `{"id":"bench-%s-%d","kind":"page_view","visitor_id":"v%d","url":"https://ryorin.example%s","referrer":"https://www.google.co.jp/"%s}`,
				run, i, r.IntN(100000), paths[r.IntN(len(paths))], contact)
		}
		b.WriteString(`]}`)
		bodies = append(bodies, b.Bytes())
	}
	var next, stored atomic.Int64
	var firstErr error
	var mu sync.Mutex
	var wg sync.WaitGroup
	lat := make([]time.Duration, 0, len(bodies))
	start := time.Now()
	for w := 0; w < clients; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				k := next.Add(1) - 1
				if k >= int64(len(bodies)) {
					return
				}
				t := time.Now()
				b, err := c.do(ctx, "POST", "/api/v1/events/batch", bodies[k])
				d := time.Since(t)
				mu.Lock()
				lat = append(lat, d)
				if err != nil && firstErr == nil {
					firstErr = err
				}
				mu.Unlock()
				if err != nil {
					return
				}
				var res struct {
					Accepted int `json:"accepted"`
				}
				_ = json.Unmarshal(b, &res)
				stored.Add(int64(res.Accepted))
			}
		}()
	}
	wg.Wait()
	el := time.Since(start)
	if firstErr != nil {
		return Result{}, firstErr
	}
	if stored.Load() != int64(total) {
		return Result{}, fmt.Errorf("ingest: %d of %d events acknowledged", stored.Load(), total)
	}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	return Result{Name: fmt.Sprintf("event ingest: batch API, %d per batch, %d clients", batch, clients), Target: ">= 20,000 events/s",
		N: total, P50: lat[len(lat)/2], P95: lat[len(lat)*95/100], Max: lat[len(lat)-1], Rate: float64(total) / el.Seconds(), Unit: "events/s"}, nil
}

// Markdown renders results as a table.
func Markdown(rs []Result) string {
	var b bytes.Buffer
	b.WriteString("| scenario | target | n | p50 | p95 | max | throughput |\n|---|---|---|---|---|---|---|\n")
	for _, r := range rs {
		tp := ""
		if r.Rate > 0 {
			tp = fmt.Sprintf("%.0f %s", r.Rate, r.Unit)
		}
		fmt.Fprintf(&b, "| %s | %s | %d | %s | %s | %s | %s |\n", r.Name, r.Target, r.N, ms(r.P50), ms(r.P95), ms(r.Max), tp)
	}
	return b.String()
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d.Microseconds())/1000) }
