package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"sort"
	"sync"
	"sync/atomic"
	"time"
)

// browserUA is what the tracking scenario sends, so the bot filter lets it in.
const browserUA = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"

// TrackIngest measures the public tracking endpoint as browsers use it:
// clients concurrent posts to POST /t/collect, each from one visitor with
// perPost events, every visitor on its own address (X-Forwarded-For from a
// trusted proxy, so the per-IP rate limit applies per visitor as in
// production). Only events acknowledged as stored are counted, and the run
// fails unless all total events are acknowledged.
func TrackIngest(ctx context.Context, c *Client, total, perPost, clients int) (Result, error) {
	// Loopback is the proxy in front of the visitors.
	if _, err := c.do(ctx, "PATCH", "/api/v1/workspace", []byte(`{"trusted_proxies":["127.0.0.1/32"]}`)); err != nil {
		return Result{}, fmt.Errorf("track ingest: trusted proxies: %w", err)
	}
	run := fmt.Sprintf("%x", time.Now().UnixNano())
	r := rand.New(rand.NewPCG(uint64(total), 11))
	type post struct {
		body []byte
		ip   string
	}
	visitors := max(total/perPost/4, 1) // a visitor sends about 4 posts
	var posts []post
	for from, k := 0, 0; from < total; from, k = from+perPost, k+1 {
		v := r.IntN(visitors)
		var b bytes.Buffer
		fmt.Fprintf(&b, `{"vid":"bench%s%06d","consent":true,"events":[`, run, v)
		for i := from; i < min(from+perPost, total); i++ {
			if i > from {
				b.WriteByte(',')
			}
			ref := ""
			if i == from && r.IntN(3) == 0 {
				ref = `,"referrer":"https://www.google.co.jp/"`
			}
			fmt.Fprintf(&b, `{"id":"h%s%08d","kind":"page_view","url":"https://www.example.jp%s?utm_source=bench","title":"ページ"%s}`,
				run, i, paths[r.IntN(len(paths))], ref)
		}
		b.WriteString(`]}`)
		posts = append(posts, post{b.Bytes(), fmt.Sprintf("10.%d.%d.%d", v>>16&255, v>>8&255, v&255)})
	}
	// Keep-alive connections for every client, as browsers behind a proxy
	// would reuse them (the default keeps two idle connections per host).
	hc := &http.Client{Timeout: 60 * time.Second, Transport: &http.Transport{MaxIdleConns: 2 * clients, MaxIdleConnsPerHost: 2 * clients}}
	defer hc.CloseIdleConnections()
	var next, stored atomic.Int64
	var firstErr error
	var mu sync.Mutex
	var wg sync.WaitGroup
	lat := make([]time.Duration, 0, len(posts))
	start := time.Now()
	for w := 0; w < clients; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			local := make([]time.Duration, 0, len(posts)/clients+1)
			defer func() {
				mu.Lock()
				lat = append(lat, local...)
				mu.Unlock()
			}()
			for {
				k := next.Add(1) - 1
				if k >= int64(len(posts)) {
					return
				}
				t := time.Now()
				n, err := collect(ctx, hc, c.Base, posts[k].body, posts[k].ip)
				local = append(local, time.Since(t))
				if err != nil {
					mu.Lock()
					if firstErr == nil {
						firstErr = err
					}
					mu.Unlock()
					return
				}
				stored.Add(int64(n))
			}
		}()
	}
	wg.Wait()
	el := time.Since(start)
	if firstErr != nil {
		return Result{}, firstErr
	}
	if stored.Load() != int64(total) {
		return Result{}, fmt.Errorf("track ingest: %d of %d events acknowledged", stored.Load(), total)
	}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	return Result{Name: fmt.Sprintf("tracking collect: %d event(s) per post, %d concurrent clients (p99 %s)", perPost, clients, ms(lat[len(lat)*99/100])),
		Target: ">= 20,000 events/s, p99 < 50 ms", N: total, P50: lat[len(lat)/2], P95: lat[len(lat)*95/100], Max: lat[len(lat)-1],
		Rate: float64(total) / el.Seconds(), Unit: "events/s"}, nil
}

func collect(ctx context.Context, hc *http.Client, base string, body []byte, ip string) (int, error) {
	req, err := http.NewRequestWithContext(ctx, "POST", base+"/t/collect", bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "text/plain;charset=UTF-8")
	req.Header.Set("User-Agent", browserUA)
	req.Header.Set("Origin", "https://www.example.jp")
	req.Header.Set("X-Forwarded-For", ip)
	res, err := hc.Do(req)
	if err != nil {
		return 0, err
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode != 200 {
		return 0, fmt.Errorf("POST /t/collect: %d %s", res.StatusCode, b)
	}
	var out struct {
		Stored int `json:"stored"`
	}
	err = json.Unmarshal(b, &out)
	return out.Stored, err
}
