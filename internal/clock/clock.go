// Package clock makes time a dependency: production code asks a Clock for the
// time, tests move a Fake forward instead of sleeping. It imports nothing of ours.
package clock

import (
	"sync"
	"time"
)

// Clock tells the current time.
type Clock interface {
	Now() time.Time
}

// System is the real wall clock.
type System struct{}

// Now returns time.Now().
func (System) Now() time.Time { return time.Now() }

// Fake is a clock that only moves when told to. It is safe for concurrent use.
type Fake struct {
	mu sync.Mutex
	t  time.Time
}

// NewFake returns a Fake clock set to t.
func NewFake(t time.Time) *Fake { return &Fake{t: t} }

// Now returns the fake time.
func (f *Fake) Now() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.t
}

// Advance moves the fake clock forward by d.
func (f *Fake) Advance(d time.Duration) {
	f.mu.Lock()
	f.t = f.t.Add(d)
	f.mu.Unlock()
}

// Set moves the fake clock to t.
func (f *Fake) Set(t time.Time) {
	f.mu.Lock()
	f.t = t
	f.mu.Unlock()
}

// Millis wraps a clock so every time it tells is UTC and whole milliseconds,
// the precision Ryorin stores: a record read back equals the one returned.
func Millis(c Clock) Clock { return millis{c} }

type millis struct{ c Clock }

func (m millis) Now() time.Time { return m.c.Now().UTC().Truncate(time.Millisecond) }
