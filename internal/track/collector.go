package track

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ryorin/ryorin/internal/clock"
	"github.com/ryorin/ryorin/internal/db"
)

// SessionTimeout ends a session after this long without an event.
const SessionTimeout = 30 * time.Minute

// Collector stores tracking posts with group commit: each request waits in a
// queue, a worker takes everything queued (up to MaxBatch events) into one
// write transaction, and every request of the batch is answered after that
// transaction commits. Under load many requests share one commit, so
// throughput grows with concurrency while each acknowledged event is durable.
// See docs/adr/0009-tracking-group-commit.md.
type Collector struct {
	DB    *db.DB
	Clock clock.Clock
	Log   *slog.Logger
	// MaxBatch bounds the events of one transaction, so no write holds
	// SQLite's single writer for long. Default 250.
	MaxBatch int
	// Workers is how many transactions may run at once: 1 on SQLite (one
	// writer), 4 on PostgreSQL. A visitor always goes to the same worker, so
	// two transactions never race on one visitor's session.
	Workers int
	// Linger is how long a worker waits for more requests before committing
	// when the previous batch showed concurrent load. Default 2 ms.
	Linger time.Duration
	// Stats are the collect endpoint's counters since start.
	Stats Stats

	start    sync.Once
	queues   []chan *pending
	stop     chan struct{}
	wg       sync.WaitGroup
	mu       sync.Mutex
	settings map[int64]cachedSettings
}

// Stats count what happened to tracking requests.
type Stats struct {
	Requests    atomic.Int64
	Stored      atomic.Int64
	Duplicates  atomic.Int64
	Invalid     atomic.Int64
	Bots        atomic.Int64
	DoNotTrack  atomic.Int64
	NoConsent   atomic.Int64
	RateLimited atomic.Int64
	Forbidden   atomic.Int64
	Batches     atomic.Int64
}

// StatsView is a snapshot of Stats.
type StatsView struct {
	Requests    int64 `json:"requests" doc:"collect requests received"`
	Stored      int64 `json:"stored" doc:"events stored"`
	Duplicates  int64 `json:"duplicates" doc:"events already stored (a resent post)"`
	Invalid     int64 `json:"invalid" doc:"requests refused as malformed (400)"`
	Bots        int64 `json:"bots" doc:"requests ignored as bots"`
	DoNotTrack  int64 `json:"do_not_track" doc:"requests ignored for Do Not Track or Global Privacy Control"`
	NoConsent   int64 `json:"no_consent" doc:"requests ignored because consent is required and was not given"`
	RateLimited int64 `json:"rate_limited" doc:"requests refused by the per-IP rate limit (429)"`
	Forbidden   int64 `json:"forbidden" doc:"requests from an origin that is not allowed (403)"`
	Batches     int64 `json:"batches" doc:"write transactions (group commits) used"`
}

// View returns a snapshot of the counters.
func (s *Stats) View() StatsView {
	return StatsView{Requests: s.Requests.Load(), Stored: s.Stored.Load(), Duplicates: s.Duplicates.Load(), Invalid: s.Invalid.Load(),
		Bots: s.Bots.Load(), DoNotTrack: s.DoNotTrack.Load(), NoConsent: s.NoConsent.Load(), RateLimited: s.RateLimited.Load(),
		Forbidden: s.Forbidden.Load(), Batches: s.Batches.Load()}
}

type cachedSettings struct {
	s  Settings
	at time.Time
}

type pending struct {
	ws       int64
	p        Payload
	identify int64 // contact id from a verified identify token
	now      time.Time
	done     chan error
	stored   int
}

// ErrClosed is returned for requests that arrive after Close.
var ErrClosed = errors.New("track: collector closed")

func (c *Collector) init() {
	c.start.Do(func() {
		if c.MaxBatch <= 0 {
			c.MaxBatch = 250
		}
		if c.Linger == 0 {
			c.Linger = 2 * time.Millisecond
		}
		if c.Workers <= 0 {
			c.Workers = 1
			if c.DB.Dialect == db.Postgres {
				c.Workers = 4
			}
		}
		if c.Log == nil {
			c.Log = slog.New(slog.DiscardHandler)
		}
		c.stop = make(chan struct{})
		c.queues = make([]chan *pending, c.Workers)
		for i := range c.queues {
			c.queues[i] = make(chan *pending, 4096)
			c.wg.Add(1)
			go c.work(c.queues[i])
		}
	})
}

// Collect stores one validated post for workspace ws and returns how many
// events were newly stored, after they are committed. identify is a contact
// id taken from a verified identify token (0 for none): the visitor is
// attached to that contact first.
func (c *Collector) Collect(ctx context.Context, ws int64, p Payload, identify int64) (int, error) {
	c.init()
	h := fnv.New32a()
	h.Write([]byte(p.VisitorID))
	pd := &pending{ws: ws, p: p, identify: identify, now: c.Clock.Now(), done: make(chan error, 1)}
	select {
	case <-c.stop:
		return 0, ErrClosed
	default:
	}
	select {
	case c.queues[h.Sum32()%uint32(len(c.queues))] <- pd:
	case <-ctx.Done():
		return 0, ctx.Err()
	case <-c.stop:
		return 0, ErrClosed
	}
	select {
	case err := <-pd.done:
		return pd.stored, err
	case <-ctx.Done():
		// Not acknowledged; it may still commit, and a resend is a no-op.
		return 0, ctx.Err()
	}
}

// Close stops the workers after the queued requests are written.
func (c *Collector) Close() {
	c.init()
	select {
	case <-c.stop:
		return
	default:
	}
	close(c.stop)
	c.wg.Wait()
}

func (c *Collector) work(q chan *pending) {
	defer c.wg.Done()
	busy := false
	for {
		var first *pending
		select {
		case first = <-q:
		case <-c.stop:
			// Answer what is still queued, then leave.
			for {
				select {
				case p := <-q:
					c.commit([]*pending{p})
				default:
					return
				}
			}
		}
		batch := []*pending{first}
		n := len(first.p.Hits)
		// Under concurrent load (the last batch held several requests) wait
		// a moment for more: a transaction's fixed cost is several times an
		// event's, and the writer competes with the HTTP goroutines for CPU,
		// so without this it commits many tiny batches. A lone request is
		// written at once.
		var linger <-chan time.Time
		var timer *time.Timer
		if busy && c.Linger > 0 {
			timer = time.NewTimer(c.Linger)
			linger = timer.C
		}
	fill:
		for n < c.MaxBatch {
			select {
			case p := <-q:
				batch = append(batch, p)
				n += len(p.p.Hits)
				continue
			default:
			}
			if linger == nil {
				break
			}
			select {
			case p := <-q:
				batch = append(batch, p)
				n += len(p.p.Hits)
			case <-linger:
				break fill
			}
		}
		if timer != nil {
			timer.Stop()
		}
		busy = len(batch) > 1
		c.commit(batch)
	}
}

// commit writes a batch, one transaction per workspace, and answers each
// request with the outcome of its transaction.
func (c *Collector) commit(batch []*pending) {
	byWS := map[int64][]*pending{}
	var order []int64
	for _, p := range batch {
		if _, ok := byWS[p.ws]; !ok {
			order = append(order, p.ws)
		}
		byWS[p.ws] = append(byWS[p.ws], p)
	}
	for _, ws := range order {
		ps := byWS[ws]
		err := c.write(context.Background(), ws, ps)
		if err != nil {
			c.Log.Error("tracking: write failed", "err", err, "requests", len(ps))
		}
		for _, p := range ps {
			p.done <- err
		}
	}
}

// Settings returns the workspace's tracking settings, cached for a few
// seconds (Invalidate drops the cache after a change).
func (c *Collector) Settings(ctx context.Context, ws int64) (Settings, error) {
	now := time.Now()
	c.mu.Lock()
	cs, ok := c.settings[ws]
	c.mu.Unlock()
	if ok && now.Sub(cs.at) < 10*time.Second {
		return cs.s, nil
	}
	s, err := GetSettings(ctx, c.DB.Reader(), ws)
	if err != nil {
		return s, err
	}
	c.mu.Lock()
	if c.settings == nil {
		c.settings = map[int64]cachedSettings{}
	}
	c.settings[ws] = cachedSettings{s, now}
	c.mu.Unlock()
	return s, nil
}

// Invalidate drops the cached settings of ws.
func (c *Collector) Invalidate(ws int64) {
	c.mu.Lock()
	delete(c.settings, ws)
	c.mu.Unlock()
}

func newUID() string {
	var b [10]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(fmt.Sprintf("track: random: %v", err))
	}
	return hex.EncodeToString(b[:])
}
