// Package clock owns the server's one source of the current time. Every
// decision by time (calling hours, deadlines, retries, leases, follower
// schedules, budgets, dedupe windows, tokens, rate limits, the sandbox's
// lifecycle) reads a Clock given to it, set once in app, so a test that
// moves the clock moves all of them together. Product code never reads the
// wall clock any other way (wallclock_test.go keeps it so).
//
// Timers and sleeps (time.NewTimer, time.After) still run on real
// durations: a Clock decides what time it is, not how long a wait lasts.
package clock

import (
	"context"
	"sync"
	"time"
)

// Clock tells the time.
type Clock interface{ Now() time.Time }

// Real is the wall clock.
var Real Clock = wall{}

type wall struct{}

func (wall) Now() time.Time { return time.Now() }

// Or returns c, or Real when c is nil: for options whose zero value means
// "the wall clock".
func Or(c Clock) Clock {
	if c == nil {
		return Real
	}
	return c
}

// Since is the time elapsed on c since t.
func Since(c Clock, t time.Time) time.Duration { return c.Now().Sub(t) }

// Until is the time left on c until t.
func Until(c Clock, t time.Time) time.Duration { return t.Sub(c.Now()) }

// Func adapts a function to a Clock.
type Func func() time.Time

// Now calls f.
func (f Func) Now() time.Time { return f() }

// Manual is a Clock that moves only when Set or Advance is called. It is
// safe for concurrent use.
type Manual struct {
	mu sync.Mutex
	t  time.Time
}

// NewManual returns a Manual clock that reads t until moved.
func NewManual(t time.Time) *Manual { return &Manual{t: t} }

// Now returns the clock's current time.
func (c *Manual) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Set moves the clock to t.
func (c *Manual) Set(t time.Time) {
	c.mu.Lock()
	c.t = t
	c.mu.Unlock()
}

// Advance moves the clock forward by d (backward if d is negative).
func (c *Manual) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// Shifted is a Clock that reads a chosen time and then moves at the wall
// clock's pace: what tests of a whole server use to stand at 10:14 PM in
// Los Angeles while leases, schedules and time-outs still run. Set jumps it.
// It is safe for concurrent use.
type Shifted struct {
	mu     sync.Mutex
	offset time.Duration
}

// StartingAt returns a Shifted clock that reads t now.
func StartingAt(t time.Time) *Shifted {
	return &Shifted{offset: t.Sub(time.Now())}
}

// Now returns the shifted time (no monotonic reading: it is a date).
func (c *Shifted) Now() time.Time {
	c.mu.Lock()
	off := c.offset
	c.mu.Unlock()
	return time.Now().Add(off).Round(0)
}

// Set makes the clock read t now; it moves on from there.
func (c *Shifted) Set(t time.Time) {
	c.mu.Lock()
	c.offset = t.Sub(time.Now())
	c.mu.Unlock()
}

// Left is the time left before ctx's deadline, and whether it has one.
// Context deadlines are kept on the wall clock by the runtime, so this is
// the one comparison that must read it whatever the server's clock says.
func Left(ctx context.Context) (time.Duration, bool) {
	dl, ok := ctx.Deadline()
	if !ok {
		return 0, false
	}
	return time.Until(dl), true
}
