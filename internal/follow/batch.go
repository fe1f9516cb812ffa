package follow

import (
	"context"
	"encoding/json"
	"errors"
	"sync"
	"time"

	"github.com/byourside/bys-mcp/client"
	"github.com/byourside/bys-mcp/internal/clock"
)

// Batching (issue 22): the followers of one key that this process polls
// itself share one GET /v1/agent/calls?limit=N per tick instead of one GET
// each. A follower that is due asks its key's batcher; while at least two
// of the key's followers can be served by a list, the batcher sends one (a
// "round") and every such follower of the key reads its call there:
//
//   - same status as its latest record: a poll with no change (the latest
//     full record is handed on again, fresh), no request of its own;
//   - another status: a GET by id for the full record (a terminal record
//     always; a non-terminal one only when the list item lacks a field the
//     full record has);
//   - not in the list (older than the N most recent calls): a GET by id,
//     and by id for the rest of its life.
//
// A round serves the key's followers that were not due too, so that they
// fall in step: the round's rate is that of the key's fastest schedule. A
// follower's first request, a wake-up by a webhook event, a webhook-backed
// (quiet) follower and one whose call another replica's lease holder
// polls are never batched; nor is a key with one follower: a call followed
// alone costs exactly what it did. A failed list falls back to GETs by id
// for that tick, and the key sends no list for listBackoff.
const (
	// listReuse is how old a round's answer may be for a due follower
	// that missed it to read it instead of asking for another.
	listReuse = 100 * time.Millisecond
	// listBackoff is how long a key sends no list after one failed.
	listBackoff = 30 * time.Second
	// listMargin is added to twice the number of followers served to make
	// the list's limit: room for the key's calls that nobody follows here.
	listMargin = 10
)

// batcher is the list rounds of one key.
type batcher struct {
	hub   *Hub
	keyFP string

	mu      sync.Mutex
	members map[*follower]struct{} // the key's running followers
	cur     *round                 // the round in flight
	last    *round                 // the latest round that ended
	retry   time.Time              // no round before this (a list failed)
}

// round is one list request and its answer.
type round struct {
	limit int
	done  chan struct{} // closed with the answer
	parts map[*follower]struct{}
	// Set before done is closed.
	at    time.Time
	items map[string]*client.Call
	err   error
}

// batcherLocked returns the batcher of keyFP, made if none; h.mu is held.
func (h *Hub) batcherLocked(keyFP string) *batcher {
	b := h.batchers[keyFP]
	if b == nil {
		b = &batcher{hub: h, keyFP: keyFP, members: map[*follower]struct{}{}}
		h.batchers[keyFP] = b
	}
	return b
}

// add and remove keep the batcher's members; h.mu is held.
func (b *batcher) add(f *follower) {
	b.mu.Lock()
	b.members[f] = struct{}{}
	b.mu.Unlock()
}

func (b *batcher) remove(f *follower) {
	b.mu.Lock()
	delete(b.members, f)
	empty := len(b.members) == 0
	b.mu.Unlock()
	if empty && b.hub.batchers[b.keyFP] == b {
		delete(b.hub.batchers, b.keyFP)
	}
}

// batchableLocked reports whether a list may serve the follower: it runs,
// has a record to compare with, asks the API itself (not from another
// replica's record), is not webhook-backed and its call was not missing
// from a list; f.mu is held.
func (f *follower) batchableLocked() bool {
	return !f.hub.opts.NoBatch && !f.final && f.ownPoll && !f.unlisted && f.latest.Call != nil && !f.quietLocked()
}

// serve answers a due follower's request from a list round when it can:
// the record to publish and true, or false when the follower is to ask
// for its call by id (alone, changed, missing, or the list failed).
func (b *batcher) serve(f *follower) (*client.Call, bool) {
	f.mu.Lock()
	prev, since, byID := f.latest.Call, f.latest.At, f.byID
	f.byID = false
	ok := f.batchableLocked()
	f.mu.Unlock()
	if byID || !ok {
		return nil, false
	}
	r, start := b.join(f, since)
	if r == nil {
		return nil, false
	}
	if start {
		// On the hub's context: the followers it serves do not depend on
		// the one that started it still being followed.
		b.hub.wg.Add(1)
		go b.run(r, f.client)
	}
	select {
	case <-r.done:
	case <-f.ctx.Done():
		return nil, false
	}
	call, took, missing := verdict(r, f.key.callID, prev)
	if missing {
		f.mu.Lock()
		f.unlisted = true
		f.mu.Unlock()
	}
	return call, took
}

// join returns the round that serves f: the one in flight, one that
// ended moments ago and is newer than f's record, or a new one (start
// true: the caller sends it). It returns nil when the key has fewer than
// two followers a list could serve, or a list failed moments ago.
func (b *batcher) join(f *follower, since time.Time) (r *round, start bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	now := b.hub.opts.Clock.Now()
	if b.cur != nil {
		b.cur.parts[f] = struct{}{}
		return b.cur, false
	}
	if l := b.last; l != nil && l.err == nil && l.at.After(since) && now.Sub(l.at) <= listReuse {
		return l, false
	}
	if now.Before(b.retry) {
		return nil, false
	}
	n := 0
	for m := range b.members {
		m.mu.Lock()
		if m.batchableLocked() {
			n++
		}
		m.mu.Unlock()
	}
	if n < 2 {
		return nil, false
	}
	b.cur = &round{limit: min(client.MaxListLimit, 2*n+listMargin), done: make(chan struct{}), parts: map[*follower]struct{}{f: {}}}
	return b.cur, true
}

// run sends the round's list request with c (a client of the batcher's
// key), hands the answer to the round's followers and serves the key's
// other followers with it.
func (b *batcher) run(r *round, c *client.Client) {
	defer b.hub.wg.Done()
	calls, err := c.ListCalls(b.hub.base, &client.ListOptions{Limit: r.limit})
	items := make(map[string]*client.Call, len(calls))
	for _, call := range calls {
		if _, dup := items[call.ID]; call.ID != "" && !dup {
			items[call.ID] = call
		}
	}
	b.mu.Lock()
	r.at, r.items, r.err = b.hub.opts.Clock.Now(), items, err
	b.cur, b.last = nil, r
	if err != nil {
		b.retry = r.at.Add(listBackoff)
	}
	others := make([]*follower, 0, len(b.members))
	for m := range b.members {
		if _, in := r.parts[m]; !in {
			others = append(others, m)
		}
	}
	b.mu.Unlock()
	close(r.done)
	if err != nil {
		if !errors.Is(err, context.Canceled) {
			b.hub.opts.Log.WithError(err).Debug("follow: the list of recent calls failed: the key's calls are fetched by id for a while")
		}
		return
	}
	for _, m := range others {
		m.served(r)
	}
}

// served hands a round to a follower that was not due: a call with no
// change is a poll with no change (the follower's next request waits for
// its schedule from now), a changed one makes the follower ask for it by
// id at once, and a missing one is fetched by id from now on.
func (f *follower) served(r *round) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.inFlight || !f.batchableLocked() || !r.at.After(f.latest.At) {
		return
	}
	call, took, missing := verdict(r, f.key.callID, f.latest.Call)
	switch {
	case missing:
		f.unlisted = true
	case took:
		f.servedAt = r.at
		f.publishLocked(call, nil, false)
	default:
		f.byID = true
		f.kickLocked()
	}
}

// verdict reads a follower's call in a round, given its latest record:
// took with the record to publish (prev when nothing changed, the list
// item when it changed but carries every field of prev and is not
// terminal), else missing when the call is not in the list; neither means
// a GET by id.
func verdict(r *round, id string, prev *client.Call) (call *client.Call, took, missing bool) {
	if r.err != nil || prev == nil {
		return nil, false, false
	}
	item, ok := r.items[id]
	switch {
	case !ok:
		return nil, false, true
	case item.Terminal():
		return nil, false, false // the full record: transcript, extracted fields
	case item.Status == prev.Status:
		return prev, true, false
	case covers(item, prev):
		return item, true, false
	}
	return nil, false, false
}

// covers reports whether the list item has every field of the full record
// (the reference's list items have no transcript or extracted fields).
func covers(item, full *client.Call) bool {
	if len(item.Raw) == 0 || len(full.Raw) == 0 {
		return false
	}
	var a, b map[string]json.RawMessage
	if json.Unmarshal(item.Raw, &a) != nil || json.Unmarshal(full.Raw, &b) != nil {
		return false
	}
	for k := range b {
		if _, ok := a[k]; !ok {
			return false
		}
	}
	return true
}

// sharedServed is, with a shared store, the store's part of a poll that a
// list round served: the follower keeps its lease and writes the record
// for the other replicas, as after a request of its own. A follower that
// finds the lease held elsewhere leaves the batch (it reads the holder's
// record from its next tick), and one that learns the call is
// webhook-backed goes quiet.
func (f *follower) sharedServed(at, start time.Time) {
	sh := f.hub.opts.Shared
	if sh == nil || !f.hub.sharedUsable() {
		return
	}
	name := f.key.name()
	f.mu.Lock()
	backed, call := f.backed, f.latest.Call
	f.mu.Unlock()
	if !backed {
		sctx, cancel := context.WithTimeout(f.ctx, sharedTimeout)
		_, ok, err := sh.GetRecord(sctx, expectKind, name)
		cancel()
		if f.hub.sharedOK(err) && ok {
			f.mu.Lock()
			f.backed = true
			f.mu.Unlock()
		}
	}
	interval := f.next(clock.Since(f.hub.opts.Clock, start))
	sctx, cancel := context.WithTimeout(f.ctx, sharedTimeout)
	held, err := sh.AcquireLease(sctx, name, f.hub.opts.Owner, max(3*interval, minLease))
	cancel()
	if !f.hub.sharedOK(err) {
		return
	}
	f.held = held
	if !held {
		f.mu.Lock()
		f.ownPoll = false
		f.mu.Unlock()
		return
	}
	if raw, merr := json.Marshal(sharedRecord{At: at.UnixMilli(), Call: mustRaw(call)}); merr == nil && call != nil {
		f.seenAt = at.UnixMilli()
		sctx, cancel := context.WithTimeout(f.ctx, sharedTimeout)
		f.hub.sharedOK(sh.PutRecord(sctx, recordKind, name, raw, sharedRecordTTL, false))
		cancel()
	}
}
