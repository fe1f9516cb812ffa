package campaign

import (
	"context"
	"encoding/json"
	"slices"
	"sync"
	"time"

	"github.com/byourside/bys-mcp/internal/follow"
	"github.com/byourside/bys-mcp/internal/outcome"
	"github.com/byourside/bys-mcp/schema"
)

var terminal = func() map[string]bool {
	m := map[string]bool{}
	for _, s := range schema.TerminalStatuses {
		m[s] = true
	}
	return m
}()

// run is the one goroutine that runs a campaign in this process; it alone
// writes c.
type run struct {
	m       *Manager
	c       *Campaign
	apiKey  string
	resumed bool

	ctx      context.Context
	cancel   context.CancelFunc
	events   chan event
	outcomes chan event // dial outcomes; never dropped, even while stopping
	kick     chan struct{}

	watches     map[int]Watch
	dials       map[int]bool
	dirty       bool
	saveAfter   time.Time // after a failed save, retry then
	reconcile   bool      // dialing items left by a stopped runner need settling
	lastCancelQ time.Time // the last look at the control records (cancel, pause, retries)
	// unsaved maps the retry requests applied to c but not yet saved to
	// their records, which stay active until c is saved.
	unsaved map[string]string

	snapMu sync.Mutex
	snap   *Campaign
}

type event struct {
	idx     int
	placed  *Outcome
	update  *follow.Update
	watchOf Watch
}

func (m *Manager) newRun(c *Campaign, apiKey string, resumed bool) *run {
	ctx, cancel := context.WithCancel(m.base)
	r := &run{
		m: m, c: c, apiKey: apiKey, resumed: resumed,
		ctx: ctx, cancel: cancel,
		events:   make(chan event, 64),
		outcomes: make(chan event, len(c.Items)),
		kick:     make(chan struct{}, 1),
		watches:  map[int]Watch{},
		dials:    map[int]bool{},
		unsaved:  map[string]string{},
	}
	r.reconcile = resumed && slices.ContainsFunc(c.Items, func(it *Item) bool { return it.State == schema.ItemDialing })
	r.snap = c.clone()
	return r
}

func (r *run) snapshot() *Campaign {
	r.snapMu.Lock()
	defer r.snapMu.Unlock()
	return r.snap.clone()
}

func (r *run) publish() {
	s := r.c.clone()
	r.snapMu.Lock()
	r.snap = s
	r.snapMu.Unlock()
	r.m.notify(r.c.ID)
}

func (r *run) kickNow() {
	select {
	case r.kick <- struct{}{}:
	default:
	}
}

func (r *run) log() interface {
	Warnf(string, ...any)
	Infof(string, ...any)
} {
	return r.m.o.Log.WithField("campaign_id", r.c.ID)
}

func (r *run) loop() {
	defer r.cancel()
	defer func() {
		for _, w := range r.watches {
			w.Close()
		}
	}()
	o := r.m.o
	renewEvery := o.LeaseTTL / 3
	renew := time.NewTicker(renewEvery)
	defer renew.Stop()
	for {
		now := r.m.o.Clock.Now()
		if r.reconcile {
			r.settleDialing()
		}
		r.checkControls(now)
		if r.c.hold(now) {
			r.dirty = true
		}
		r.expire(now)
		r.followCalls()
		r.dial(now)
		r.c.settle()
		if r.dirty && !now.Before(r.saveAfter) {
			r.save()
		}
		if r.c.AllEnded() && len(r.dials) == 0 && !r.dirty {
			_ = o.Records.ReleaseLease(context.WithoutCancel(r.ctx), leasePrefix+r.c.ID, r.m.owner())
			return
		}
		t := time.NewTimer(r.nextWake(now))
		select {
		case ev := <-r.outcomes:
			r.apply(ev, r.m.o.Clock.Now())
		case ev := <-r.events:
			r.apply(ev, r.m.o.Clock.Now())
		case <-t.C:
		case <-r.kick:
			r.lastCancelQ = time.Time{}
		case <-renew.C:
			ok, err := o.Records.AcquireLease(r.ctx, leasePrefix+r.c.ID, r.m.owner(), o.LeaseTTL)
			if err == nil && !ok {
				r.log().Warnf("campaigns: another runner took this campaign over; stopping here")
				t.Stop()
				return
			}
		case <-r.ctx.Done():
			t.Stop()
			r.stop()
			return
		}
		t.Stop()
	}
}

// stop ends the runner when its process stops cleanly: the POSTs in flight
// are let finish and their call ids saved, then the lease is released, so
// that the next process continues the campaign at once and has nothing to
// settle.
func (r *run) stop() {
	wait := time.NewTimer(20 * time.Second)
	defer wait.Stop()
	for len(r.dials) > 0 {
		select {
		case ev := <-r.outcomes:
			r.apply(ev, r.m.o.Clock.Now())
		case <-wait.C:
			r.log().Warnf("campaigns: stopping with %d placements unanswered; the next runner settles them from the API", len(r.dials))
			return // keep the lease: the items stay dialing, to be settled
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if r.dirty && !r.saveCtx(ctx) {
		return
	}
	_ = r.m.o.Records.ReleaseLease(ctx, leasePrefix+r.c.ID, r.m.owner())
}

// nextWake is how long the runner may sleep: until the next item may dial,
// the deadline, a retry of a failed save, or the next look for a
// cancellation.
func (r *run) nextWake(now time.Time) time.Duration {
	wake := now.Add(r.m.o.CheckEvery)
	consider := func(t time.Time) {
		if t.After(now) && t.Before(wake) {
			wake = t
		}
	}
	waiting := false
	for _, it := range r.c.Items {
		if it.undialled() {
			waiting = true
		}
		if it.waiting() {
			consider(it.NotBefore)
		}
	}
	if waiting {
		consider(r.c.Deadline)
	}
	if r.dirty {
		consider(r.saveAfter)
	}
	return max(wake.Sub(now), time.Millisecond)
}

// save writes the campaign; on failure it retries later and dials nothing
// meanwhile.
func (r *run) save() bool {
	ctx, cancel := context.WithTimeout(r.ctx, 10*time.Second)
	defer cancel()
	return r.saveCtx(ctx)
}

func (r *run) saveCtx(ctx context.Context) bool {
	r.c.settle() // what is stored says the status of what is stored
	r.c.Version++
	active := !r.c.AllEnded() || len(r.dials) > 0
	if err := r.m.put(ctx, r.c, active); err != nil {
		r.c.Version--
		r.saveAfter = r.m.o.Clock.Now().Add(r.m.o.RetryEvery)
		r.log().Warnf("campaigns: cannot save the campaign (%v); dialling nothing until it is saved", err)
		return false
	}
	r.dirty = false
	r.saveAfter = time.Time{}
	for _, rid := range r.unsaved {
		// Applied and saved: the request is retired (a failure here leaves
		// it active, and the next look retires it).
		_ = r.m.o.Records.PutRecord(ctx, kindRetry, rid, nil, time.Hour, false)
	}
	clear(r.unsaved)
	r.publish()
	return true
}

// checkControls picks up, at most twice a second, what any process asked
// of the campaign through the store: a cancellation, a pause or its end,
// and retry requests.
func (r *run) checkControls(now time.Time) {
	if now.Sub(r.lastCancelQ) < 500*time.Millisecond {
		return
	}
	r.lastCancelQ = now
	ctx, cancel := context.WithTimeout(r.ctx, 5*time.Second)
	defer cancel()
	recs := r.m.o.Records
	if !r.c.Cancelled {
		if _, ok, err := recs.GetRecord(ctx, kindCancel, r.c.ID); err == nil && ok {
			if cancelItems(r.c, now) {
				r.dirty = true
			}
		}
	}
	if val, ok, err := recs.GetRecord(ctx, kindPause, r.c.ID); err == nil && ok {
		if paused := string(val) == pauseOn; paused != r.c.Paused {
			r.c.Paused = paused
			r.dirty = true
		}
	}
	r.checkRetries(ctx, now)
}

// checkRetries applies the retry requests made for the campaign, each once:
// a request's record stays active until the campaign that applied it is
// saved, then it is retired.
func (r *run) checkRetries(ctx context.Context, now time.Time) {
	recs := r.m.o.Records
	ids, err := recs.ActiveRecords(ctx, kindRetry)
	if err != nil {
		return
	}
	for _, rid := range ids {
		cid, reqID, ok := splitRetryID(rid)
		if !ok || cid != r.c.ID {
			continue
		}
		if slices.Contains(r.c.Retried, reqID) {
			if _, pending := r.unsaved[reqID]; !pending {
				_ = recs.PutRecord(ctx, kindRetry, rid, nil, time.Hour, false)
			}
			continue
		}
		val, found, err := recs.GetRecord(ctx, kindRetry, rid)
		if err != nil || !found {
			continue
		}
		var req retryRequest
		if json.Unmarshal(val, &req) != nil {
			_ = recs.PutRecord(ctx, kindRetry, rid, nil, time.Hour, false)
			continue
		}
		if r.c.Cancelled || !now.Before(r.c.Deadline) {
			req.Statuses = nil // nothing may be dialled any more: noted, not applied
		}
		n := r.c.redial(reqID, req.Statuses, now)
		r.unsaved[reqID] = rid
		r.dirty = true
		if n > 0 {
			r.log().Infof("campaigns: %d calls to redial (retry_campaign)", n)
		}
	}
}

// expire ends the items still waiting once the deadline has passed.
func (r *run) expire(now time.Time) {
	if now.Before(r.c.Deadline) {
		return
	}
	for _, it := range r.c.Items {
		if it.undialled() {
			it.State = schema.ItemExpired
			if it.Hint == "" || !it.CallbackAt.IsZero() {
				it.Hint = "the deadline passed before this call could be dialled"
			}
			it.NotBefore, it.CallbackAt = time.Time{}, time.Time{}
			r.dirty = true
		}
	}
}

// followCalls subscribes to every call in progress that has no watch yet.
func (r *run) followCalls() {
	for _, it := range r.c.Items {
		if it.State != schema.ItemInCall || it.CallID == "" {
			continue
		}
		if _, ok := r.watches[it.Index]; ok {
			continue
		}
		w := r.m.o.Follow.Follow(r.apiKey, it.CallID)
		r.watches[it.Index] = w
		go r.pump(it.Index, w)
	}
}

func (r *run) pump(idx int, w Watch) {
	for {
		select {
		case <-r.ctx.Done():
			return
		case <-w.C():
		}
		u := w.Latest()
		select {
		case r.events <- event{idx: idx, update: &u, watchOf: w}:
		case <-r.ctx.Done():
			return
		}
		if u.Final {
			return
		}
	}
}

// dial starts as many waiting items as the concurrency allows, each only
// after the store has recorded it as dialing.
func (r *run) dial(now time.Time) {
	c := r.c
	if c.Cancelled || c.Paused || !now.Before(c.Deadline) || r.reconcile || r.dirty && now.Before(r.saveAfter) {
		return
	}
	busy := 0
	for _, it := range c.Items {
		if it.active() {
			busy++
		}
	}
	var start []*Item
	prev := map[int]string{}
	for _, it := range c.Items {
		if busy >= c.Concurrency {
			break
		}
		if !it.waiting() || it.NotBefore.After(now) {
			continue
		}
		prev[it.Index] = it.State
		it.State = schema.ItemDialing
		start = append(start, it)
		busy++
	}
	if len(start) == 0 {
		return
	}
	// Claim before the POST: the store knows these items are being dialled,
	// so a runner that continues after a crash checks the API before
	// dialling any of them again.
	r.dirty = true
	if !r.save() {
		for _, it := range start {
			it.State = prev[it.Index]
		}
		r.dirty = true
		return
	}
	for _, it := range start {
		r.dials[it.Index] = true
		req := Request{To: it.To, Objective: it.Objective, Context: it.Context, Fields: it.Fields, Language: it.Language, Voice: it.Voice,
			Voicemail: it.Voicemail, VoicemailMessage: it.VoicemailMessage, WebhookURL: it.WebhookURL, CallerID: it.CallerID,
			AllowDuplicate: it.AllowDuplicate || !it.CallbackAt.IsZero()}
		go func(idx int) {
			out := r.m.o.Placer.Place(context.WithoutCancel(r.ctx), r.apiKey, req)
			r.outcomes <- event{idx: idx, placed: &out} // buffered for every item: never blocks
		}(it.Index)
	}
}

// settleDialing decides, for a campaign continued after its runner stopped,
// what became of the items it left dialing: the key's recent calls show
// whether the call was placed (then it is followed) or not (then it waits
// its turn again). Nothing is dialled until this is known.
func (r *run) settleDialing() {
	ctx, cancel := context.WithTimeout(r.ctx, 30*time.Second)
	defer cancel()
	for _, it := range r.c.Items {
		if it.State != schema.ItemDialing || r.dials[it.Index] {
			continue
		}
		id, found, err := r.m.o.Find.FindCall(ctx, r.apiKey, it.To, it.Objective)
		if err != nil {
			r.log().Warnf("campaigns: cannot check whether an interrupted call was placed (%v); retrying", err)
			r.saveAfter = r.m.o.Clock.Now().Add(r.m.o.RetryEvery)
			return
		}
		// The key's latest call to the number with the objective: placed
		// by this dial unless it is one the item had already (a retry or
		// a callback whose POST never left finds the call before it).
		if found && !slices.Contains(it.Calls, id) {
			it.State, it.CallID = schema.ItemInCall, id
			it.Calls = append(it.Calls, id)
			it.Attempts++
			it.NotBefore, it.CallbackAt = time.Time{}, time.Time{}
			it.Status, it.Summary, it.Extracted, it.Outcome, it.Error, it.Hint = "", "", nil, nil, "", ""
		} else {
			it.State = schema.ItemPending
		}
		r.dirty = true
	}
	r.reconcile = false
}

// apply takes in what a dial or a follower reported.
func (r *run) apply(ev event, now time.Time) {
	it := r.c.Items[ev.idx]
	switch {
	case ev.placed != nil:
		delete(r.dials, ev.idx)
		r.placed(it, *ev.placed, now)
		r.dirty = true
	case ev.update != nil:
		if r.watches[ev.idx] != ev.watchOf || it.State != schema.ItemInCall {
			return // a watch of an earlier attempt
		}
		before := it.Status
		if r.followed(it, *ev.update, now) {
			r.watches[ev.idx].Close()
			delete(r.watches, ev.idx)
			r.dirty = true
		} else if it.Status != before {
			r.dirty = true // a poll that saw nothing new is not saved
		}
	}
}

func (r *run) placed(it *Item, out Outcome, now time.Time) {
	switch {
	case out.CallID != "":
		it.State, it.CallID, it.Status = schema.ItemInCall, out.CallID, out.Status
		it.Error, it.Hint, it.NotBefore, it.CallbackAt = "", "", time.Time{}, time.Time{}
		it.Summary, it.Extracted, it.Outcome = "", nil, nil
		if !slices.Contains(it.Calls, out.CallID) {
			it.Calls = append(it.Calls, out.CallID)
		}
		if !out.Deduplicated {
			it.Attempts++
		}
	case !out.OpensAt.IsZero():
		if !out.OpensAt.Before(r.c.Deadline) {
			it.State, it.NotBefore = schema.ItemExpired, time.Time{}
			it.Error, it.Hint = out.Token, "its calling hours do not open before the campaign's deadline"
			return
		}
		it.State, it.NotBefore = schema.ItemScheduled, out.OpensAt
	case out.Retryable:
		it.State, it.NotBefore = schema.ItemPending, now.Add(r.m.o.RetryEvery)
		it.Hint = out.Hint
	default:
		it.State, it.Error, it.Hint = schema.ItemRefused, out.Token, out.Hint
	}
}

// followed applies a follower's update; true when the call has ended (or
// can no longer be followed).
func (r *run) followed(it *Item, u follow.Update, now time.Time) bool {
	if u.Call != nil {
		it.Status = u.Call.Status
		if terminal[u.Call.Status] {
			it.Summary = deref(u.Call.Summary)
			it.Extracted = outcome.Agent(u.Call.Extracted)
			o := outcome.Of(u.Call.Extracted)
			it.Outcome = &o
			if at, ok := r.callback(it, o, now); ok {
				// The person asked to be called back: the item waits until
				// then and is dialled again through every check.
				it.State, it.NotBefore, it.CallbackAt = schema.ItemScheduled, at, at
				it.Callbacks++
				it.Hint = "the person asked to be called back at " + *o.CallbackAt + " their time (" + at.Format(time.RFC3339) + "): the call is dialled again then"
				return true
			}
			// Callbacks are not retries: they do not spend retries.
			if r.c.redials(u.Call.Status) && it.Attempts-it.Callbacks <= r.c.Retries && !r.c.Cancelled {
				it.State, it.NotBefore = schema.ItemScheduled, now.Add(r.c.RetryAfter)
				if !it.NotBefore.Before(r.c.Deadline) {
					it.State, it.NotBefore = schema.ItemEnded, time.Time{}
				}
				return true
			}
			it.State = schema.ItemEnded
			if u.Call.Error != nil {
				it.Error = *u.Call.Error
			}
			return true
		}
	}
	if u.Final {
		it.State, it.Error = schema.ItemRefused, "not_found"
		it.Hint = "the call could no longer be read from the API; check it with get_call"
		return true
	}
	return false
}

// callback returns when an item whose call ended with o is to be dialled
// again because the person asked to be called back: the callbackAt they
// named, read in the number's time zone, when callbacks are on, it is
// still ahead and before the deadline, the person did not also ask not to
// be called, and the item has not been called back maxCallbacks times.
func (r *run) callback(it *Item, o outcome.Outcome, now time.Time) (time.Time, bool) {
	c := r.c
	if c.NoCallbacks || c.Cancelled || o.CallbackAt == nil || outcome.AskedNotToBeCalled(o) || it.Callbacks >= maxCallbacks {
		return time.Time{}, false
	}
	at, _, ok := outcome.CallbackTime(*o.CallbackAt, it.To)
	if !ok || !at.After(now) || !at.Before(c.Deadline) {
		return time.Time{}, false
	}
	return at, true
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
