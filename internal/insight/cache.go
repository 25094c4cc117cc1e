package insight

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/ryorin/ryorin/internal/db"
)

// A report over a large workspace (a quarter of a million contacts, say)
// takes seconds to compute from the raw tables. The shared reports keep such
// results: a computation that took longer than Slow is kept, refreshed in
// the background while someone looks at it, and never served older than
// MaxAge. What is served is always the raw query's own answer, computed at
// most MaxAge ago, so it equals the raw query once that has caught up
// (issue 8 allows pre-aggregation on exactly these terms; see
// docs/adr/0022-report-results-cache.md). Fast computations are never kept,
// so small workspaces, and every test, always read live figures.

// Cache keeps slow report results. Its zero value is not usable; see
// StartCache.
type Cache struct {
	// Slow is the computation time from which a result is kept.
	Slow time.Duration
	// MaxAge is the oldest result ever served; older ones are recomputed
	// before answering.
	MaxAge time.Duration
	// Refresh is the earliest age at which the background refresher
	// recomputes a result someone has asked for within Idle. It waits
	// longer when it can: until MaxAge less twice the last computation's
	// time and a 5 s margin, so a report that takes 3 s to compute costs
	// 3 s about every 50 s while someone looks at it.
	Refresh time.Duration
	// Idle drops results nobody has asked for in this long.
	Idle time.Duration
	Log  *slog.Logger

	now      func() time.Time // the wall clock; tests move their own
	mu       sync.Mutex
	entries  map[string]*cacheEntry
	inflight map[string]*call
	stats    CacheStats
}

// CacheStats count what the cache did since start.
type CacheStats struct {
	Hits, Misses, Kept, Refreshed int64
	// RefreshTime is the time spent recomputing in the background.
	RefreshTime time.Duration
}

type cacheEntry struct {
	val       any
	at        time.Time // when the computation started
	took      time.Duration
	used      time.Time
	recompute func(ctx context.Context) (any, error)
}

type call struct {
	done chan struct{}
	val  any
	err  error
}

var (
	cacheMu     sync.Mutex
	activeCache *Cache
)

// StartCache turns the report cache on for this process and runs its
// refresher until ctx ends. Only `ryorin serve` calls it.
func StartCache(ctx context.Context, log *slog.Logger) *Cache {
	c := newCache(log, time.Now)
	c.activate()
	go func() {
		t := time.NewTicker(2 * time.Second)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				cacheMu.Lock()
				if activeCache == c {
					activeCache = nil
				}
				cacheMu.Unlock()
				return
			case <-t.C:
				c.refresh(ctx)
			}
		}
	}()
	return c
}

func newCache(log *slog.Logger, now func() time.Time) *Cache {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Cache{Slow: 50 * time.Millisecond, MaxAge: 60 * time.Second, Refresh: 20 * time.Second, Idle: 15 * time.Minute, Log: log,
		now: now, entries: map[string]*cacheEntry{}, inflight: map[string]*call{}}
}

// activate makes c the cache the reports use.
func (c *Cache) activate() {
	cacheMu.Lock()
	activeCache = c
	cacheMu.Unlock()
}

// ActiveCacheStats returns the counters of this process's report cache, and
// false when it is off.
func ActiveCacheStats() (CacheStats, int, bool) {
	cacheMu.Lock()
	c := activeCache
	cacheMu.Unlock()
	if c == nil {
		return CacheStats{}, 0, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.stats, len(c.entries), true
}

// Stats returns the counters.
func (c *Cache) Stats() CacheStats {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.stats
}

// refresh recomputes, one at a time, the results due for it and drops the
// ones nobody asks for any more.
func (c *Cache) refresh(ctx context.Context) {
	now := c.now()
	c.mu.Lock()
	var due []string
	for k, e := range c.entries {
		switch {
		case now.Sub(e.used) > c.Idle:
			delete(c.entries, k)
		case now.Sub(e.at) >= max(c.Refresh, c.MaxAge-2*e.took-5*time.Second):
			due = append(due, k)
		}
	}
	// Oldest first: they are nearest to MaxAge.
	slices.SortFunc(due, func(a, b string) int { return c.entries[a].at.Compare(c.entries[b].at) })
	c.mu.Unlock()
	for _, k := range due {
		c.mu.Lock()
		e := c.entries[k]
		c.mu.Unlock()
		if e == nil || ctx.Err() != nil {
			continue
		}
		start := c.now()
		v, err := e.recompute(ctx)
		took := c.now().Sub(start)
		c.mu.Lock()
		c.stats.RefreshTime += took
		if err != nil {
			c.Log.Warn("report cache: refresh failed", "key", k, "err", err)
			delete(c.entries, k) // the next request computes it
		} else if cur := c.entries[k]; cur == e {
			c.entries[k] = &cacheEntry{val: v, at: start, took: took, used: e.used, recompute: e.recompute}
			c.stats.Refreshed++
		}
		c.mu.Unlock()
	}
}

// cached returns fn's result for key: a kept one younger than MaxAge, or a
// fresh computation (kept when it was slow). Without an active cache, or
// when q is a transaction rather than the reader pool, it just calls fn.
// key must hold everything the result depends on (fn is called again for
// the background refresh).
func cached[T any](ctx context.Context, q db.Querier, key string, fn func(ctx context.Context) (T, error)) (T, error) {
	cacheMu.Lock()
	c := activeCache
	cacheMu.Unlock()
	if c == nil || !db.IsReader(q) {
		return fn(ctx)
	}
	now := c.now()
	c.mu.Lock()
	if e := c.entries[key]; e != nil && now.Sub(e.at) <= c.MaxAge {
		e.used = now
		c.stats.Hits++
		c.mu.Unlock()
		return e.val.(T), nil
	}
	c.stats.Misses++
	// One computation per key at a time: others asking meanwhile wait for it.
	if cl := c.inflight[key]; cl != nil {
		c.mu.Unlock()
		select {
		case <-cl.done:
		case <-ctx.Done():
			var zero T
			return zero, ctx.Err()
		}
		if cl.err != nil {
			var zero T
			return zero, cl.err
		}
		return cl.val.(T), nil
	}
	cl := &call{done: make(chan struct{})}
	c.inflight[key] = cl
	c.mu.Unlock()
	start := c.now()
	v, err := fn(ctx)
	took := c.now().Sub(start)
	cl.val, cl.err = v, err
	c.mu.Lock()
	delete(c.inflight, key)
	if err == nil && took >= c.Slow {
		// The background recomputation runs detached from this request.
		c.entries[key] = &cacheEntry{val: v, at: start, took: took, used: start,
			recompute: func(ctx context.Context) (any, error) { return fn(ctx) }}
		c.stats.Kept++
	}
	c.mu.Unlock()
	close(cl.done)
	return v, err
}

// cacheKey joins the parts that decide a report's result, strings quoted
// (a channel key holding a space cannot run into the next part).
func cacheKey(name string, parts ...any) string {
	return fmt.Sprintf("%s%#v", name, parts)
}
