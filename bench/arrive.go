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
	a := Arrive(ctx, c, sz.Contacts, rate, tag)
	return func() error {
		_, err := a()
		return err
	}
}

// Post is one post of Arrive: when it started and how long it took.
type Post struct {
	At   time.Time
	Took time.Duration
}

// Arrive posts rate events/s (page views of random contacts among the first
// `contacts` ids, 50 per batch) to the batch API in the background until the
// returned stop is called. stop returns each post, in order,
// and the first error a post met. A post that is late does not make the next
// one wait longer: each is due 50/rate seconds after the one before, and a
// post due while another is in flight starts when that one ends.
func Arrive(ctx context.Context, c *Client, contacts, rate int, tag string) (stop func() ([]Post, error)) {
	bgCtx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	var bgErr error
	var took []Post
	run := time.Now().UnixNano()
	wg.Add(1)
	go func() {
		defer wg.Done()
		r := rand.New(rand.NewPCG(uint64(run), 9))
		every := time.Second * 50 / time.Duration(max(rate, 1))
		due := time.Now()
		for k := 0; ; k++ {
			due = due.Add(every)
			select {
			case <-bgCtx.Done():
				return
			case <-time.After(time.Until(due)):
			}
			evs := make([]map[string]any, 50)
			for i := range evs {
				evs[i] = map[string]any{"id": fmt.Sprintf("%s-%d-%d-%d", tag, run, k, i), "kind": "page_view",
					"contact_id": 1 + r.IntN(contacts), "url": "https://ryorin.example" + paths[r.IntN(len(paths))]}
			}
			b, _ := json.Marshal(map[string]any{"events": evs})
			t := time.Now()
			if _, err := c.do(bgCtx, "POST", "/api/v1/events/batch", b); err != nil {
				if bgCtx.Err() == nil {
					bgErr = err
				}
				return
			}
			took = append(took, Post{At: t, Took: time.Since(t)})
		}
	}()
	return func() ([]Post, error) {
		cancel()
		wg.Wait()
		return took, bgErr
	}
}
