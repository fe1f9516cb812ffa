// Package follow owns the one-follower-per-(key, call) fan-out: however many
// waits, tasks, resource subscriptions and campaigns follow a call in this
// process, one follower polls the API for it (on the wait schedule), hands
// every record it gets to all of them, and stops when nobody follows any
// more or the call can change no more. Followers of one call id under two
// keys are two followers: records never cross keys. The followers of one
// key share one list request per tick when there are several (batch.go).
package follow

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"github.com/byourside/bys-mcp/client"
	"github.com/byourside/bys-mcp/internal/clock"
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
	// Seq counts the follower's updates (its requests, and the list
	// requests of its key that found the call unchanged); 0 before the
	// first answer.
	Seq uint64
	// At is when the latest request (or list request) ended.
	At time.Time
	// Final is true when the follower has stopped: the record is terminal,
	// or the API refused in a way that will not pass (404, 401, ...).
	Final bool
}

// Options configure a Hub. Zero values select the defaults.
type Options struct {
	// Ended, when set, is told once of each followed call seen ended (its
	// key's fingerprint and terminal record), off the follower's lock: the
	// do-not-call list learns there.
	Ended func(keyFP string, call *client.Call)
	// Clock is the server's clock (default the wall clock): record ages,
	// schedules, leases and wake-up budgets read it.
	Clock clock.Clock
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

	// Webhook-backed calls (see Expect and Wake): SafetyNet is the
	// shortest delay between the polls of a call whose events arrive
	// (default 15 s: at most 4 GETs a minute); a wake-up costs a GET, at
	// most WakeBurst at once and one per WakeEvery after that per call
	// (defaults 3 and 1 s); a call is taken as webhook-backed for
	// ExpectFor after Expect (default 24 h).
	SafetyNet time.Duration
	WakeBurst int
	WakeEvery time.Duration
	ExpectFor time.Duration

	// Shared, when set (the Redis store of --state-url), spreads each
	// call's following over the replicas: the follower holding the call's
	// lease polls the API and writes each record there; the others read
	// that record instead of asking the API, and ask it themselves only
	// when the record is stale (its holder died or fails) or the store is
	// unreachable. Owner names this process in the leases (default random).
	Shared Shared
	Owner  string
	// NoBatch turns list batching off: every call is polled with GETs by
	// id, as before issue 22 (benchmarks compare with it).
	NoBatch bool

	// Probe is, with Shared, how often a quiet (webhook-backed) follower
	// reads the store between its safety-net polls (default 150 ms): the
	// lease holder reads the call's wake-up marker, which the replica that
	// took an event writes, and asks the API at once when it changed; the
	// others read the holder's record. Store reads only, never the API.
	Probe time.Duration
}

// Shared is the part of a shared state store that followers use
// (state.Records: Redis, and the memory and file stores in tests).
type Shared interface {
	PutRecord(ctx context.Context, kind, id string, val []byte, ttl time.Duration, active bool) error
	GetRecord(ctx context.Context, kind, id string) (val []byte, ok bool, err error)
	AcquireLease(ctx context.Context, name, owner string, ttl time.Duration) (bool, error)
	ReleaseLease(ctx context.Context, name, owner string) error
}

// Shared-state limits.
const (
	sharedTimeout   = 2 * time.Second  // one store operation
	sharedRecordTTL = 10 * time.Minute // a shared record outlives its writes by this
	minLease        = 3 * time.Second
	sharedBackoff   = 5 * time.Second // a store that failed is tried again after this
	recordKind      = "follow"
	wakeKind        = "follow-wake"   // per call: changes with every event any replica takes
	expectKind      = "follow-expect" // per call: webhook-backed (Expect on some replica)
	DefaultProbe    = 150 * time.Millisecond
)

// Defaults of the webhook-backed schedule.
const (
	DefaultSafetyNet = 15 * time.Second
	DefaultWakeBurst = 3
	DefaultWakeEvery = time.Second
	DefaultExpectFor = 24 * time.Hour
	maxExpected      = 100000
)

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
	expected  map[key]time.Time // webhook-backed calls, by when they were placed
	expectQ   []key             // expected, oldest first
	batchers  map[string]*batcher

	sharedDown  atomic.Bool  // the shared store failed last time
	sharedRetry atomic.Int64 // while down: Unix ns before which followers do not try it
}

type key struct{ keyFP, callID string }

// name is the key's name in the shared store (leases and records).
func (k key) name() string { return recordKind + ":" + k.keyFP + ":" + k.callID }

// sharedUsable reports whether there is a shared store that did not fail
// moments ago.
func (h *Hub) sharedUsable() bool {
	return h.opts.Shared != nil && !(h.sharedDown.Load() && h.opts.Clock.Now().UnixNano() < h.sharedRetry.Load())
}

// New returns a hub whose followers run until Close.
func New(opts Options) *Hub {
	if opts.Poll == nil {
		panic("follow: Options.Poll is required")
	}
	opts.Clock = clock.Or(opts.Clock)
	if opts.Fresh <= 0 {
		opts.Fresh = opts.Poll(0)
	}
	if opts.SafetyNet <= 0 {
		opts.SafetyNet = DefaultSafetyNet
	}
	if opts.WakeBurst <= 0 {
		opts.WakeBurst = DefaultWakeBurst
	}
	if opts.WakeEvery <= 0 {
		opts.WakeEvery = DefaultWakeEvery
	}
	if opts.ExpectFor <= 0 {
		opts.ExpectFor = DefaultExpectFor
	}
	if opts.Probe <= 0 {
		opts.Probe = DefaultProbe
	}
	if opts.Owner == "" && opts.Shared != nil {
		// Only leases name an owner: without a shared store the process
		// does not pay for its first random read at start-up.
		var b [12]byte
		_, _ = rand.Read(b[:])
		opts.Owner = hex.EncodeToString(b[:])
	}
	if opts.Log == nil {
		l := logrus.New()
		l.SetLevel(logrus.PanicLevel)
		opts.Log = l
	}
	base, stop := context.WithCancel(context.Background())
	return &Hub{opts: opts, base: base, stop: stop, followers: map[key]*follower{}, expected: map[key]time.Time{}, batchers: map[string]*batcher{}}
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
		replace := f.final && !(f.latest.Err == nil && f.latest.Call.Terminal() && clock.Since(h.opts.Clock, f.latest.At) <= h.opts.Fresh)
		f.mu.Unlock()
		if replace {
			delete(h.followers, k)
			f = nil
		}
	}
	start := false
	if f == nil {
		f = &follower{hub: h, key: k, client: c, kick: make(chan struct{}, 1), subs: map[*Sub]struct{}{},
			backed: h.expectedLocked(k), tokens: float64(h.opts.WakeBurst), tokensAt: h.opts.Clock.Now()}
		f.ctx, f.cancel = context.WithCancel(h.base)
		if h.closed {
			f.final = true
			f.cancel()
		} else {
			h.followers[k] = f
			f.batch = h.batcherLocked(keyFP)
			f.batch.add(f)
			h.setActive(+1)
			h.wg.Add(1)
			start = true
		}
	}
	s := &Sub{f: f, c: make(chan struct{}, 1)}
	// The first subscriber joins before its follower runs, so that it sees
	// the follower's first answer, an error too.
	defer func() {
		if start {
			go f.run()
		}
	}()
	f.mu.Lock()
	s.joined = f.latest.Seq
	if !f.final {
		f.subs[s] = struct{}{}
	}
	if f.latest.Seq > 0 {
		s.c <- struct{}{}
		if !f.final && !f.quietLocked() && clock.Since(h.opts.Clock, f.latest.At) > h.opts.Fresh {
			f.kickLocked()
		}
	}
	f.mu.Unlock()
	h.mu.Unlock()
	return s
}

// Expect marks a call as webhook-backed: its events will wake its
// follower (Wake), so polling it drops to the safety net. The server calls
// it for every call it places with its own webhook URL. With a shared
// store the mark is shared too, so that the replica holding the call's
// lease, whichever it is, goes quiet.
func (h *Hub) Expect(keyFP, callID string) {
	k := key{keyFP, callID}
	if h.sharedUsable() {
		ctx, cancel := context.WithTimeout(h.base, sharedTimeout)
		h.sharedOK(h.opts.Shared.PutRecord(ctx, expectKind, k.name(), []byte("1"), h.opts.ExpectFor, false))
		cancel()
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	now := h.opts.Clock.Now()
	for len(h.expectQ) > 0 {
		old := h.expectQ[0]
		at, ok := h.expected[old]
		if ok && now.Sub(at) <= h.opts.ExpectFor && len(h.expectQ) < maxExpected {
			break
		}
		if ok {
			delete(h.expected, old)
		}
		h.expectQ = h.expectQ[1:]
	}
	if _, ok := h.expected[k]; !ok {
		h.expectQ = append(h.expectQ, k)
	}
	h.expected[k] = now
	if f := h.followers[k]; f != nil {
		f.mu.Lock()
		f.backed = true
		f.mu.Unlock()
	}
}

// expectedLocked reports whether k is webhook-backed; h.mu is held.
func (h *Hub) expectedLocked(k key) bool {
	at, ok := h.expected[k]
	return ok && clock.Since(h.opts.Clock, at) <= h.opts.ExpectFor
}

// Wake tells the follower of a call that an event about it arrived: it
// asks the API again at once (the event itself is never taken as the
// record), within the per-call rate limit; a wake-up over the limit is
// served by one request as soon as the limit allows. It reports whether
// anyone follows the call in this process; nobody following costs nothing
// but, with a shared store, the write of the call's wake-up marker, which
// the replica holding the call's lease reads every Probe.
func (h *Hub) Wake(keyFP, callID string) bool {
	if h.sharedUsable() {
		var b [8]byte
		_, _ = rand.Read(b[:])
		ctx, cancel := context.WithTimeout(h.base, sharedTimeout)
		h.sharedOK(h.opts.Shared.PutRecord(ctx, wakeKind, key{keyFP, callID}.name(), []byte(hex.EncodeToString(b[:])), sharedRecordTTL, false))
		cancel()
	}
	h.mu.Lock()
	f := h.followers[key{keyFP, callID}]
	h.mu.Unlock()
	if f == nil {
		return false
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.final {
		return false
	}
	f.events++
	f.wakeLocked()
	return true
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

	// Webhook-backed: events wake the follower; missed is set once a poll
	// finds a change that no event announced (events stopped coming), and
	// the normal schedule is back.
	backed, missed bool
	events         int // wake-ups since the latest request started
	tokens         float64
	tokensAt       time.Time
	wakeTimer      *time.Timer

	// Batching (batch.go): ownPoll is true while the follower's records
	// come from the API, not from another replica's; servedAt is when a
	// list round last found the call unchanged (the follower then skips
	// its request); byID makes the next request a GET by id (a list showed
	// a change); unlisted is set once the call was missing from a list.
	batch    *batcher
	ownPoll  bool
	servedAt time.Time
	byID     bool
	unlisted bool

	// Shared store (run's goroutine only): held is true while this
	// follower holds the call's lease; marker is the wake-up marker read
	// before the holder's latest request; seenAt is the At of the latest
	// shared record taken.
	held   bool
	marker string
	seenAt int64
}

// quietLocked reports whether the follower relies on events (webhook
// mode), so that its record stays current without polling; f.mu is held.
// Followers that share a store are while the store answers: an event that
// reaches another replica reaches the lease holder through the wake-up
// marker (see probe); while the store fails, the normal schedule is back.
func (f *follower) quietLocked() bool {
	return f.backed && !f.missed && (f.hub.opts.Shared == nil || !f.hub.sharedDown.Load())
}

// probing reports whether the follower reads the shared store every Probe
// between its polls (quiet, with a shared store).
func (f *follower) probing() bool {
	if f.hub.opts.Shared == nil {
		return false
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.quietLocked()
}

// wakeLocked asks for a request after the request in flight, if any,
// within the rate limit; f.mu is held.
func (f *follower) wakeLocked() {
	opts := f.hub.opts
	now := f.hub.opts.Clock.Now()
	f.tokens = min(float64(opts.WakeBurst), f.tokens+now.Sub(f.tokensAt).Seconds()/opts.WakeEvery.Seconds())
	f.tokensAt = now
	if f.tokens >= 1 {
		f.tokens--
		select {
		case f.kick <- struct{}{}:
		default:
		}
		return
	}
	if f.wakeTimer != nil {
		return // one request is already planned for when the limit allows
	}
	wait := max(time.Duration((1-f.tokens)*float64(opts.WakeEvery)), time.Millisecond)
	f.wakeTimer = time.AfterFunc(wait, func() {
		f.mu.Lock()
		defer f.mu.Unlock()
		f.wakeTimer = nil
		if f.final {
			return
		}
		// The token this timer waited for is there now.
		f.tokens, f.tokensAt = 0, f.hub.opts.Clock.Now()
		select {
		case f.kick <- struct{}{}:
		default:
		}
	})
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
	start := f.hub.opts.Clock.Now()
	var last time.Time // when the latest full request ended
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		probe, kicked := false, false
		select {
		case <-f.ctx.Done():
			return
		case <-timer.C:
			probe = !last.IsZero() && f.probing() && clock.Since(f.hub.opts.Clock, last) < f.next(clock.Since(f.hub.opts.Clock, start))
		case <-f.kick:
			kicked = true
		}
		if probe {
			if f.probe() {
				return
			}
			if f.ctx.Err() != nil {
				return
			}
			timer.Reset(f.delay(start, last))
			continue
		}
		f.mu.Lock()
		if at := f.servedAt; !kicked && at.After(last) {
			// A list request of the key found the call unchanged since our
			// latest request: that was this tick's poll.
			f.mu.Unlock()
			f.sharedServed(at, start)
			last = at
			timer.Reset(f.delay(start, last))
			continue
		}
		f.inFlight = true
		select { // this request serves any kick already asked for
		case <-f.kick:
		default:
		}
		announced := f.events
		f.events = 0
		f.mu.Unlock()

		call, err, got, fromAPI := f.fetch(start, announced > 0)
		last = f.hub.opts.Clock.Now()
		if f.ctx.Err() != nil {
			return // nobody follows any more, or the hub closed
		}
		if !got {
			// Another replica's first answer is on its way to the store.
			f.mu.Lock()
			f.inFlight = false
			f.mu.Unlock()
			timer.Reset(f.hub.opts.Poll(0))
			continue
		}
		f.mu.Lock()
		f.ownPoll = fromAPI
		f.mu.Unlock()
		if fromAPI {
			f.checkEvents(call, err, announced)
		}
		final := (err == nil && call.Terminal()) || (err != nil && !client.Retryable(err))
		if err != nil && final {
			f.hub.opts.Log.WithError(err).WithField("callId", f.key.callID).Debug("follower stopped: the API refused")
		}
		f.publish(call, err, final)
		if final {
			return
		}
		timer.Reset(f.delay(start, last))
	}
}

// delay is how long run waits before its next step: the rest of the poll
// interval since the latest full request, at most Probe while probing.
func (f *follower) delay(start, last time.Time) time.Duration {
	d := max(f.next(clock.Since(f.hub.opts.Clock, start))-clock.Since(f.hub.opts.Clock, last), 0)
	if f.probing() {
		d = min(d, f.hub.opts.Probe)
	}
	return d
}

// probe is a quiet follower's cheap look at the shared store between its
// polls: the lease holder reads the wake-up marker and, when an event
// changed it, wakes itself (within the wake-up limit), so that an event
// taken by any replica brings a request at once; another replica's
// follower reads the holder's record and hands a new one on (and, when the
// marker changed, looks for the lease at once). It reports
// whether that record was final (the follower stops).
func (f *follower) probe() bool {
	sh := f.hub.opts.Shared
	name := f.key.name()
	sctx, cancel := context.WithTimeout(f.ctx, sharedTimeout)
	defer cancel()
	if f.held {
		raw, ok, err := sh.GetRecord(sctx, wakeKind, name)
		if !f.hub.sharedOK(err) || !ok || string(raw) == f.marker {
			return false
		}
		f.marker = string(raw)
		f.mu.Lock()
		f.events++
		f.wakeLocked()
		f.mu.Unlock()
		return false
	}
	// An event the holder may not take (it let the lease go moments ago):
	// a full request, which takes the lease if it is free, and else only
	// reads the holder's record.
	if raw, ok, err := sh.GetRecord(sctx, wakeKind, name); f.hub.sharedOK(err) && ok && string(raw) != f.marker {
		f.marker = string(raw)
		f.mu.Lock()
		f.kickLocked()
		f.mu.Unlock()
	}
	raw, ok, err := sh.GetRecord(sctx, recordKind, name)
	if !f.hub.sharedOK(err) || !ok {
		return false
	}
	var rec sharedRecord
	var c client.Call
	if json.Unmarshal(raw, &rec) != nil || json.Unmarshal(rec.Call, &c) != nil || c.ID != f.key.callID || rec.At == f.seenAt {
		return false
	}
	f.seenAt = rec.At
	final := c.Terminal()
	f.publish(&c, nil, final)
	return final
}

// sharedRecord is what a lease holder writes for the other replicas.
type sharedRecord struct {
	At   int64           `json:"at"` // Unix ms of the API's answer
	Call json.RawMessage `json:"call"`
}

// fetch gets the call's record: from the API, or, with a shared store, from
// the record the replica holding the call's lease wrote. got is false when
// there is nothing yet (the holder's first answer is still coming).
// fromAPI is true when the record came from the API, not the store.
func (f *follower) fetch(start time.Time, woken bool) (call *client.Call, err error, got, fromAPI bool) {
	sh := f.hub.opts.Shared
	if sh == nil {
		call, err = f.ask(woken)
		return call, err, true, true
	}
	if !f.hub.sharedUsable() {
		// The store failed moments ago: do not make every tick wait for it.
		call, err = f.ask(woken)
		return call, err, true, true
	}
	name := f.key.name()
	f.mu.Lock()
	backed := f.backed
	f.mu.Unlock()
	if !backed { // another replica may have placed it with its webhook URL
		sctx, cancel := context.WithTimeout(f.ctx, sharedTimeout)
		_, ok, eerr := sh.GetRecord(sctx, expectKind, name)
		cancel()
		if f.hub.sharedOK(eerr) && ok {
			f.mu.Lock()
			f.backed = true
			f.mu.Unlock()
		}
	}
	interval := f.next(clock.Since(f.hub.opts.Clock, start))
	stale := 2*interval + time.Second
	sctx, cancel := context.WithTimeout(f.ctx, sharedTimeout)
	held, lerr := sh.AcquireLease(sctx, name, f.hub.opts.Owner, max(3*interval, minLease))
	cancel()
	if !f.hub.sharedOK(lerr) {
		call, err = f.ask(woken)
		return call, err, true, true
	}
	f.held = held
	if !held && !woken { // an event asks the API itself, within the wake-up limit
		sctx, cancel := context.WithTimeout(f.ctx, sharedTimeout)
		raw, ok, gerr := sh.GetRecord(sctx, recordKind, name)
		cancel()
		if f.hub.sharedOK(gerr) {
			var rec sharedRecord
			var c client.Call
			if ok && json.Unmarshal(raw, &rec) == nil && json.Unmarshal(rec.Call, &c) == nil && c.ID == f.key.callID &&
				clock.Since(f.hub.opts.Clock, time.UnixMilli(rec.At)) <= stale {
				f.seenAt = rec.At
				return &c, nil, true, false
			}
			if !ok && clock.Since(f.hub.opts.Clock, start) < stale {
				return nil, nil, false, false
			}
		}
		// The holder's record is stale (it died, or its requests fail):
		// ask the API, so that its answer, errors included, reaches our
		// waiters.
	}
	if held && backed {
		// The marker as it is before the request: an event taken after
		// this read changes it, and the next probe asks again.
		sctx, cancel := context.WithTimeout(f.ctx, sharedTimeout)
		if raw, ok, merr := sh.GetRecord(sctx, wakeKind, name); f.hub.sharedOK(merr) && ok {
			f.marker = string(raw)
		}
		cancel()
	}
	call, err = f.ask(woken)
	if err == nil {
		at := f.hub.opts.Clock.Now().UnixMilli()
		f.seenAt = at
		if raw, merr := json.Marshal(sharedRecord{At: at, Call: mustRaw(call)}); merr == nil {
			sctx, cancel := context.WithTimeout(f.ctx, sharedTimeout)
			f.hub.sharedOK(sh.PutRecord(sctx, recordKind, name, raw, sharedRecordTTL, false))
			cancel()
		}
	}
	return call, err, true, true
}

// ask asks the API for the call: through the key's list round when one
// can serve it (see batch.go), else with a GET by id. A wake-up by an
// event is always a GET by id.
func (f *follower) ask(woken bool) (*client.Call, error) {
	if !woken {
		if call, ok := f.batch.serve(f); ok {
			return call, nil
		}
	}
	return f.client.GetCall(f.ctx, f.key.callID)
}

func mustRaw(c *client.Call) json.RawMessage {
	b, err := json.Marshal(c)
	if err != nil {
		return nil
	}
	return b
}

// sharedOK reports whether a shared-store operation worked, logging when
// the store stops and starts answering (followers then poll on their own).
func (h *Hub) sharedOK(err error) bool {
	if err == nil || errors.Is(err, context.Canceled) {
		if err == nil && h.sharedDown.CompareAndSwap(true, false) {
			h.opts.Log.Info("the shared state store answers again: followers share their polling again")
		}
		return err == nil
	}
	h.sharedRetry.Store(h.opts.Clock.Now().Add(sharedBackoff).UnixNano())
	if h.sharedDown.CompareAndSwap(false, true) {
		h.opts.Log.WithError(err).Warn("the shared state store is unreachable: each follower polls the API on its own until it is back")
	}
	return false
}

// next is the delay before the next poll: the schedule, or the safety net
// while events arrive.
func (f *follower) next(elapsed time.Duration) time.Duration {
	d := f.hub.opts.Poll(elapsed)
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.quietLocked() {
		d = max(d, f.hub.opts.SafetyNet)
	}
	return d
}

// checkEvents notices that events stopped coming: a poll of a
// webhook-backed call found it answered or ended (the changes that send
// events) with no event since the previous request.
func (f *follower) checkEvents(call *client.Call, err error, announced int) {
	if err != nil {
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	prev := f.latest.Call
	if !f.quietLocked() || prev == nil || prev.Status == call.Status || announced > 0 {
		return
	}
	if call.Status == client.StatusInProgress || call.Terminal() {
		f.missed = true
		f.hub.opts.Log.WithField("callId", f.key.callID).WithField("status", call.Status).
			Info("a webhook-backed call changed with no event: back to the normal poll schedule for it")
	}
}

// publish records the outcome of one request and signals every subscriber.
func (f *follower) publish(call *client.Call, err error, final bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.publishLocked(call, err, final)
}

// publishLocked is publish with f.mu held.
func (f *follower) publishLocked(call *client.Call, err error, final bool) {
	f.inFlight = false
	u := Update{Call: f.latest.Call, Err: err, Seq: f.latest.Seq + 1, At: f.hub.opts.Clock.Now(), Final: final}
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
		if ended := f.hub.opts.Ended; ended != nil && u.Call != nil && u.Call.Terminal() {
			go ended(f.key.keyFP, u.Call)
		}
	}
}

// stopped takes a finished follower out of the running count. A follower
// whose call ended stays in the registry while its record is fresh, so
// that late joiners get it without a request; any other is removed.
func (f *follower) stopped() {
	f.cancel()
	h := f.hub
	if f.held { // another replica's follower takes over at once
		ctx, cancel := context.WithTimeout(context.Background(), sharedTimeout)
		_ = h.opts.Shared.ReleaseLease(ctx, f.key.name(), h.opts.Owner)
		cancel()
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	h.setActive(-1)
	f.batch.remove(f)
	f.mu.Lock()
	f.final = true
	if f.wakeTimer != nil {
		f.wakeTimer.Stop()
		f.wakeTimer = nil
	}
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
// already on its way (its answer is the next update), and reports whether
// an update is coming. Several Refresh calls before the next request cost
// one request. A webhook-backed call whose events arrive is not asked
// again (its record is as current as its events say): Refresh reports
// false then, as it does for a follower that stopped.
func (s *Sub) Refresh() bool {
	f := s.f
	f.mu.Lock()
	defer f.mu.Unlock()
	switch {
	case f.final:
		return false
	case f.inFlight:
		return true
	case f.quietLocked():
		return false
	}
	f.kickLocked()
	return true
}

// Close leaves the follower; it stops when its last subscriber leaves.
// Close may be called more than once.
func (s *Sub) Close() {
	s.once.Do(func() { s.f.leave(s) })
}
