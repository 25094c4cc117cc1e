package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"
)

// arrive posts rate events/s (page views of random contacts, 50 per batch)
// to the batch API in the background until the returned stop is called;
// stop returns the first error a post met.
func arrive(ctx context.Context, c *Client, sz Size, rate int, tag string) (stop func() error) {
	bgCtx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	var bgErr error
	run := time.Now().UnixNano()
	wg.Add(1)
	go func() {
		defer wg.Done()
		r := rand.New(rand.NewPCG(uint64(run), 9))
		tick := time.NewTicker(time.Second * 50 / time.Duration(max(rate, 1)))
		defer tick.Stop()
		for k := 0; ; k++ {
			select {
			case <-bgCtx.Done():
				return
			case <-tick.C:
			}
			evs := make([]map[string]any, 50)
			for i := range evs {
				evs[i] = map[string]any{"id": fmt.Sprintf("%s-%d-%d-%d", tag, run, k, i), "kind": "page_view",
					"contact_id": 1 + r.IntN(sz.Contacts), "url": "https://ryorin.example" + paths[r.IntN(len(paths))]}
			}
			b, _ := json.Marshal(map[string]any{"events": evs})
			if _, err := c.do(bgCtx, "POST", "/api/v1/events/batch", b); err != nil && bgCtx.Err() == nil {
				bgErr = err
				return
			}
		}
	}()
	return func() error {
		cancel()
		wg.Wait()
		return bgErr
	}
}
