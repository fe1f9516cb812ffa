// Package follow owns the one-follower-per-(key, call) fan-out: however many
// waits, tasks, resource subscriptions and campaigns follow a call in this
// process, one follower polls the API for it (on the wait schedule), hands
// every record it gets to all of them, and stops when nobody follows any
// more or the call can change no more. Followers of one call id under two
// keys are two followers: records never cross keys.
package follow

import (
	"context"
	"sync"
	"time"

	"github.com/byourside/bys-mcp/client"
	"github.com/sirupsen/logrus"
)

// Update is what a follower knows of its call after its latest request.
type Update struct {
	// Call is the latest record the follower got (nil before the first);
	// it is kept when a later request fails.
	Call *client.Call
	// Err is the error of the latest request, nil when it succeeded. A
	// subscriber never sees an error that happened before it joined.
	Err error
	// Seq counts the follower's requests; 0 before the first answer.
	Seq uint64
	// At is when the latest request ended.
	At time.Time
	// Final is true when the follower has stopped: the record is terminal,
	// or the API refused in a way that will not pass (404, 401, ...).
	Final bool
}

// Options configure a Hub. Zero values select the defaults.
type Options struct {
	// Poll is the delay before the next request, given how long the
	// follower has run (wait_for_call's schedule). Required.
	Poll func(elapsed time.Duration) time.Duration
	// Fresh is how old a record may be for a late joiner to take it as it
	// is; an older one makes the follower ask again at once. Default
	// Poll(0).
	Fresh time.Duration
	// Active, when set, is told the number of running followers whenever
	// it changes (the bys_followers_active gauge).
	Active func(n int)
	Log    logrus.FieldLogger
}

// Hub is the registry of followers of one process. It is safe for
// concurrent use; the zero value is not usable, use New.
type Hub struct {
	opts Options
	base context.Context
	stop context.CancelFunc

	wg        sync.WaitGroup // running followers
	mu        sync.Mutex
	followers map[key]*follower
	active    int
	closed    bool
}

type key struct{ keyFP, callID string }

// New returns a hub whose followers run until Close.
func New(opts Options) *Hub {
	if opts.Poll == nil {
		panic("follow: Options.Poll is required")
	}
	if opts.Fresh <= 0 {
		opts.Fresh = opts.Poll(0)
	}
	if opts.Log == nil {
		l := logrus.New()
		l.SetLevel(logrus.PanicLevel)
		opts.Log = l
	}
	base, stop := context.WithCancel(context.Background())
	return &Hub{opts: opts, base: base, stop: stop, followers: map[key]*follower{}}
}

// Close stops every follower and waits until they have returned; their
// subscribers see no further update, and a Follow after Close gets none.
func (h *Hub) Close() {
	h.mu.Lock()
	h.closed = true
	h.mu.Unlock()
	h.stop()
	h.wg.Wait()
}

// Active returns the number of running followers.
func (h *Hub) Active() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.active
}

// Follow subscribes to callID as seen with c, the client of the key whose
// fingerprint is keyFP (safety.KeyFingerprint). The follower for (keyFP,
// callID) starts if none runs; a subscriber that joins a running follower
// gets its latest record at once, and the follower asks the API again at
// once when that record is older than Options.Fresh. The follower's
// requests run on the hub's context, not the caller's: closing one Sub
// never stops the others. Close the Sub when done.
func (h *Hub) Follow(keyFP string, c *client.Client, callID string) *Sub {
	k := key{keyFP, callID}
	h.mu.Lock()
	f := h.followers[k]
	if f != nil {
		f.mu.Lock()
		// A follower that stopped is joined only when its call ended
		// moments ago (the record is final and fresh); else a new one starts.
		replace := f.final && !(f.latest.Err == nil && f.latest.Call.Terminal() && time.Since(f.latest.At) <= h.opts.Fresh)
		f.mu.Unlock()
		if replace {
			delete(h.followers, k)
			f = nil
		}
	}
	if f == nil {
		f = &follower{hub: h, key: k, client: c, kick: make(chan struct{}, 1), subs: map[*Sub]struct{}{}}
		f.ctx, f.cancel = context.WithCancel(h.base)
		if h.closed {
			f.final = true
			f.cancel()
		} else {
			h.followers[k] = f
			h.setActive(+1)
			h.wg.Add(1)
			go f.run()
		}
	}
	s := &Sub{f: f, c: make(chan struct{}, 1)}
	f.mu.Lock()
	s.joined = f.latest.Seq
	if !f.final {
		f.subs[s] = struct{}{}
	}
	if f.latest.Seq > 0 {
		s.c <- struct{}{}
		if !f.final && time.Since(f.latest.At) > h.opts.Fresh {
			f.kickLocked()
		}
	}
	f.mu.Unlock()
	h.mu.Unlock()
	return s
}

// setActive changes the count of running followers; h.mu is held.
func (h *Hub) setActive(delta int) {
	h.active += delta
	if h.opts.Active != nil {
		h.opts.Active(h.active)
	}
}

// follower polls one call for one key.
type follower struct {
	hub    *Hub
	key    key
	client *client.Client
	ctx    context.Context
	cancel context.CancelFunc
	kick   chan struct{}

	mu       sync.Mutex
	subs     map[*Sub]struct{}
	latest   Update
	inFlight bool
	final    bool // stopped: terminal, refused, or nobody follows
}

// kickLocked asks for a request now unless one is already on its way;
// f.mu is held.
func (f *follower) kickLocked() {
	if f.inFlight || f.final {
		return
	}
	select {
	case f.kick <- struct{}{}:
	default:
	}
}

func (f *follower) run() {
	defer f.hub.wg.Done()
	defer f.stopped()
	start := time.Now()
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		select {
		case <-f.ctx.Done():
			return
		case <-timer.C:
		case <-f.kick:
		}
		f.mu.Lock()
		f.inFlight = true
		select { // this request serves any kick already asked for
		case <-f.kick:
		default:
		}
		f.mu.Unlock()

		call, err := f.client.GetCall(f.ctx, f.key.callID)
		if f.ctx.Err() != nil {
			return // nobody follows any more, or the hub closed
		}
		final := (err == nil && call.Terminal()) || (err != nil && !client.Retryable(err))
		if err != nil && final {
			f.hub.opts.Log.WithError(err).WithField("callId", f.key.callID).Debug("follower stopped: the API refused")
		}
		f.publish(call, err, final)
		if final {
			return
		}
		timer.Reset(f.hub.opts.Poll(time.Since(start)))
	}
}

// publish records the outcome of one request and signals every subscriber.
func (f *follower) publish(call *client.Call, err error, final bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.inFlight = false
	u := Update{Call: f.latest.Call, Err: err, Seq: f.latest.Seq + 1, At: time.Now(), Final: final}
	if err == nil {
		u.Call = call
	}
	f.latest = u
	if final {
		f.final = true
	}
	for s := range f.subs {
		select {
		case s.c <- struct{}{}:
		default:
		}
	}
	if final {
		clear(f.subs)
	}
}

// stopped takes a finished follower out of the running count. A follower
// whose call ended stays in the registry while its record is fresh, so
// that late joiners get it without a request; any other is removed.
func (f *follower) stopped() {
	f.cancel()
	h := f.hub
	h.mu.Lock()
	defer h.mu.Unlock()
	h.setActive(-1)
	f.mu.Lock()
	f.final = true
	keep := f.latest.Call.Terminal() && f.latest.Err == nil
	f.mu.Unlock()
	if h.followers[f.key] != f {
		return
	}
	if !keep {
		delete(h.followers, f.key)
		return
	}
	time.AfterFunc(h.opts.Fresh, func() {
		h.mu.Lock()
		defer h.mu.Unlock()
		if h.followers[f.key] == f {
			delete(h.followers, f.key)
		}
	})
}

// leave drops s; the last subscriber to leave stops the follower.
func (f *follower) leave(s *Sub) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.subs[s]; !ok {
		return
	}
	delete(f.subs, s)
	if len(f.subs) == 0 && !f.final {
		f.final = true
		f.cancel()
	}
}

// Sub is one subscriber's view of a follower.
type Sub struct {
	f      *follower
	c      chan struct{}
	joined uint64
	once   sync.Once
}

// C is signalled whenever a new update is there to read with Latest (and
// at once on joining a follower that has a record). It is never closed.
func (s *Sub) C() <-chan struct{} { return s.c }

// Latest returns the follower's latest update. An error from before the
// subscriber joined is left out (the record, if any, is kept).
func (s *Sub) Latest() Update {
	s.f.mu.Lock()
	u := s.f.latest
	s.f.mu.Unlock()
	if u.Seq <= s.joined {
		u.Err = nil
	}
	return u
}

// Refresh asks the follower for a new record now, unless a request is
// already on its way (its answer is the next update). Several Refresh
// calls before the next request cost one request.
func (s *Sub) Refresh() {
	s.f.mu.Lock()
	defer s.f.mu.Unlock()
	s.f.kickLocked()
}

// Close leaves the follower; it stops when its last subscriber leaves.
// Close may be called more than once.
func (s *Sub) Close() {
	s.once.Do(func() { s.f.leave(s) })
}
