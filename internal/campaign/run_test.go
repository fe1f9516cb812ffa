package campaign

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/byourside/bys-mcp/client"
	"github.com/byourside/bys-mcp/internal/follow"
	"github.com/byourside/bys-mcp/internal/state"
	"github.com/byourside/bys-mcp/schema"
)

// script says what the nth dial (from 0) of a number does.
type script func(n int) dialScript

type dialScript struct {
	status    string        // terminal status the call ends with
	dur       time.Duration // how long it rings and talks
	refuse    string        // refused with this token before dialling
	retryable bool          // refused, may pass later
	opensAt   time.Duration // outside calling hours until start+opensAt
	// callbackIn, when set, makes the person ask to be called back that
	// long after the dial (bys_callback_at, in Los Angeles time: give
	// the script a 415 number); doNotCall makes them ask not to be called.
	callbackIn time.Duration
	doNotCall  bool
}

func always(d dialScript) script { return func(int) dialScript { return d } }

// fakeAPI is the Placer, Follower and Finder of the scheduler tests: calls
// are timers of the (synctest) clock.
type fakeAPI struct {
	start   time.Time
	scripts map[string]script

	mu         sync.Mutex
	dials      map[string][]time.Time // by number
	ended      map[string][]time.Time
	ringing    int
	maxRinging int
	calls      map[string]*fakeCall
	found      map[string]string // FindCall answers: to -> call id
}

type fakeCall struct {
	to        string
	status    string
	extracted map[string]any
	done      chan struct{}
}

func newFakeAPI(scripts map[string]script) *fakeAPI {
	return &fakeAPI{start: time.Now(), scripts: scripts, dials: map[string][]time.Time{}, ended: map[string][]time.Time{}, calls: map[string]*fakeCall{}, found: map[string]string{}}
}

func (f *fakeAPI) Place(ctx context.Context, apiKey string, req Request) Outcome {
	f.mu.Lock()
	defer f.mu.Unlock()
	sc := f.scripts[req.To](len(f.dials[req.To]))
	now := time.Now()
	switch {
	case sc.refuse != "":
		return Outcome{Token: sc.refuse, Hint: "refused", Retryable: sc.retryable}
	case sc.opensAt > 0 && now.Before(f.start.Add(sc.opensAt)):
		return Outcome{Token: "outside_calling_hours", OpensAt: f.start.Add(sc.opensAt)}
	}
	id := fmt.Sprintf("call-%s-%d", strings.TrimPrefix(req.To, "+"), len(f.dials[req.To]))
	f.dials[req.To] = append(f.dials[req.To], now)
	f.ringing++
	f.maxRinging = max(f.maxRinging, f.ringing)
	c := &fakeCall{to: req.To, status: sc.status, extracted: map[string]any{"price": 100}, done: make(chan struct{})}
	if sc.callbackIn > 0 {
		la, _ := time.LoadLocation("America/Los_Angeles")
		c.extracted["bys_callback_at"] = now.Add(sc.callbackIn).In(la).Format("2006-01-02T15:04")
	}
	if sc.doNotCall {
		c.extracted["bys_do_not_call"] = true
	}
	f.calls[id] = c
	time.AfterFunc(sc.dur, func() {
		f.mu.Lock()
		f.ringing--
		f.ended[req.To] = append(f.ended[req.To], time.Now())
		f.mu.Unlock()
		close(c.done)
	})
	return Outcome{CallID: id, Status: "queued"}
}

func (f *fakeAPI) FindCall(ctx context.Context, apiKey, to, objective string) (string, bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	id, ok := f.found[to]
	return id, ok, nil
}

func (f *fakeAPI) Follow(apiKey, callID string) Watch {
	f.mu.Lock()
	c := f.calls[callID]
	f.mu.Unlock()
	w := &fakeWatch{c: make(chan struct{}, 1), stop: make(chan struct{})}
	w.latest = follow.Update{Call: &client.Call{ID: callID, Status: "in_progress"}, Seq: 1}
	w.c <- struct{}{}
	go func() {
		select {
		case <-c.done:
		case <-w.stop:
			return
		}
		sum := "spoke to " + c.to
		w.mu.Lock()
		w.latest = follow.Update{Call: &client.Call{ID: callID, Status: c.status, Summary: &sum, Extracted: c.extracted}, Seq: 2, Final: true}
		w.mu.Unlock()
		select {
		case w.c <- struct{}{}:
		default:
		}
	}()
	return w
}

type fakeWatch struct {
	c      chan struct{}
	stop   chan struct{}
	once   sync.Once
	mu     sync.Mutex
	latest follow.Update
}

func (w *fakeWatch) C() <-chan struct{} { return w.c }
func (w *fakeWatch) Latest() follow.Update {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.latest
}
func (w *fakeWatch) Close() { w.once.Do(func() { close(w.stop) }) }

func newManager(store *state.Memory, api *fakeAPI) *Manager {
	return New(Options{
		Store: store, Records: store, Placer: api, Follow: api, Find: api,
		KeyFP: func(k string) string { return "fp-" + k },
	})
}

// createOnNewStore is a manager on a new memory store and the campaign it
// created from c for "key"; the test fails if it could not.
func createOnNewStore(t *testing.T, api *fakeAPI, c *Campaign) (*state.Memory, *Manager, *Campaign) {
	t.Helper()
	store := state.NewMemory()
	m := newManager(store, api)
	created, err := m.Create(context.Background(), "key", c)
	if err != nil {
		m.Close()
		t.Fatal(err)
	}
	return store, m, created
}

// allComplete is a fake API on which num(0) to num(n-1) each answer and
// complete after dur.
func allComplete(n int, dur time.Duration) *fakeAPI {
	scripts := map[string]script{}
	for i := range n {
		scripts[num(i)] = always(dialScript{status: "completed", dur: dur})
	}
	return newFakeAPI(scripts)
}

// newCampaign builds a campaign of n items to +1555000000i.
func newCampaign(n, concurrency, retries int, retryAfter, deadline time.Duration) *Campaign {
	c := &Campaign{CreatedAt: time.Now(), Deadline: time.Now().Add(deadline), Concurrency: concurrency, Retries: retries, RetryAfter: retryAfter, FieldNames: []string{"price"}}
	for i := range n {
		c.Items = append(c.Items, &Item{Index: i, To: num(i), Objective: "Ask for a quote.", State: schema.ItemPending})
	}
	return c
}

func num(i int) string { return fmt.Sprintf("+1555000000%d", i) }

// waitEnded waits (on the fake clock) until every item of id has ended.
func waitEnded(t *testing.T, m *Manager, id string, limit time.Duration) *Campaign {
	t.Helper()
	end := time.Now().Add(limit)
	for time.Now().Before(end) {
		c, err := m.Get(context.Background(), "fp-key", id)
		if err != nil {
			t.Fatal(err)
		}
		if c.AllEnded() {
			return c
		}
		time.Sleep(time.Second)
	}
	c, _ := m.Get(context.Background(), "fp-key", id)
	t.Fatalf("campaign not ended after %v: %s", limit, Table(c))
	return nil
}

func states(c *Campaign) string {
	var s []string
	for _, it := range c.Items {
		st := it.State
		if it.Status != "" {
			st += "/" + it.Status
		}
		s = append(s, fmt.Sprintf("%s:%d", st, it.Attempts))
	}
	return strings.Join(s, " ")
}

func TestScheduler(t *testing.T) {
	completed := always(dialScript{status: "completed", dur: time.Minute})
	tests := []struct {
		name        string
		n           int
		concurrency int
		retries     int
		retryAfter  time.Duration
		retryOn     []string
		deadline    time.Duration
		scripts     map[string]script // by item index's number; default completed in 1 min
		cancelAt    time.Duration     // cancel the campaign then (0 = never)
		wantStatus  string
		wantStates  string
		check       func(t *testing.T, api *fakeAPI, c *Campaign)
	}{
		{
			name: "at most concurrency calls ring at once", n: 7, concurrency: 2, deadline: 24 * time.Hour,
			wantStatus: "completed",
			wantStates: "ended/completed:1 ended/completed:1 ended/completed:1 ended/completed:1 ended/completed:1 ended/completed:1 ended/completed:1",
			check: func(t *testing.T, api *fakeAPI, c *Campaign) {
				if api.maxRinging != 2 {
					t.Errorf("%d calls rang at once, want 2", api.maxRinging)
				}
				// 7 calls of a minute, two at a time: the last starts at 3 min.
				if last := api.dials[num(6)][0].Sub(api.start); last < 3*time.Minute || last > 3*time.Minute+10*time.Second {
					t.Errorf("last call dialled after %v, want about 3m", last)
				}
			},
		},
		{
			name: "each item waits for its own calling hours", n: 3, concurrency: 3, deadline: 24 * time.Hour,
			scripts: map[string]script{
				num(1): always(dialScript{status: "completed", dur: time.Minute, opensAt: 3 * time.Hour}),
				num(2): always(dialScript{status: "completed", dur: time.Minute, opensAt: 30 * time.Minute}),
			},
			wantStatus: "completed",
			wantStates: "ended/completed:1 ended/completed:1 ended/completed:1",
			check: func(t *testing.T, api *fakeAPI, c *Campaign) {
				for i, want := range []time.Duration{0, 3 * time.Hour, 30 * time.Minute} {
					got := api.dials[num(i)][0].Sub(api.start)
					if got < want || got > want+5*time.Second {
						t.Errorf("item %d dialled after %v, want when its window opened (%v)", i, got, want)
					}
				}
			},
		},
		{
			name: "a window that opens after the deadline expires the item", n: 2, concurrency: 2, deadline: 2 * time.Hour,
			scripts:    map[string]script{num(1): always(dialScript{status: "completed", dur: time.Minute, opensAt: 5 * time.Hour})},
			wantStatus: "expired",
			wantStates: "ended/completed:1 expired:0",
		},
		{
			name: "no_answer and failed are redialled, spaced by retryAfter", n: 3, concurrency: 3, retries: 2, retryAfter: 30 * time.Minute, deadline: 24 * time.Hour,
			scripts: map[string]script{
				num(0): func(n int) dialScript {
					if n == 0 {
						return dialScript{status: "no_answer", dur: 2 * time.Minute}
					}
					return dialScript{status: "completed", dur: time.Minute}
				},
				num(1): always(dialScript{status: "failed", dur: time.Minute}),
				num(2): always(dialScript{status: "voicemail", dur: time.Minute}),
			},
			wantStatus: "completed",
			wantStates: "ended/completed:2 ended/failed:3 ended/voicemail:1",
			check: func(t *testing.T, api *fakeAPI, c *Campaign) {
				for _, n := range []string{num(0), num(1)} {
					for k := 1; k < len(api.dials[n]); k++ {
						if gap := api.dials[n][k].Sub(api.ended[n][k-1]); gap < 30*time.Minute {
							t.Errorf("%s redialled %v after its previous call ended, want >= 30m", n, gap)
						}
					}
				}
				if got := len(c.Items[1].Calls); got != 3 {
					t.Errorf("item 1 lists %d call ids, want 3", got)
				}
			},
		},
		{
			name: "retryOn replaces the statuses that are redialled", n: 3, concurrency: 3, retries: 1, retryAfter: 30 * time.Minute, deadline: 24 * time.Hour,
			retryOn: []string{"voicemail", "no_answer"},
			scripts: map[string]script{
				num(0): always(dialScript{status: "voicemail", dur: time.Minute}),
				num(1): always(dialScript{status: "failed", dur: time.Minute}),
				num(2): always(dialScript{status: "no_answer", dur: time.Minute}),
			},
			wantStatus: "completed",
			wantStates: "ended/voicemail:2 ended/failed:1 ended/no_answer:2",
			check: func(t *testing.T, api *fakeAPI, c *Campaign) {
				if fmt.Sprint(c.RetryOn) != "[voicemail no_answer]" {
					t.Errorf("the campaign keeps retryOn %v", c.RetryOn)
				}
			},
		},
		{
			name: "the deadline stops dialling but lets ringing calls end", n: 3, concurrency: 1, deadline: 90 * time.Minute,
			scripts: map[string]script{
				num(0): always(dialScript{status: "completed", dur: time.Hour}),
				num(1): always(dialScript{status: "completed", dur: time.Hour}),
				num(2): always(dialScript{status: "completed", dur: time.Hour}),
			},
			wantStatus: "expired",
			wantStates: "ended/completed:1 ended/completed:1 expired:0",
		},
		{
			name: "cancel ends waiting items and lets the ringing one end", n: 4, concurrency: 1, deadline: 24 * time.Hour,
			scripts: map[string]script{
				num(0): always(dialScript{status: "completed", dur: 10 * time.Minute}),
			},
			cancelAt:   5 * time.Minute,
			wantStatus: "cancelled",
			wantStates: "ended/completed:1 cancelled:0 cancelled:0 cancelled:0",
			check: func(t *testing.T, api *fakeAPI, c *Campaign) {
				if n := len(api.dials[num(1)]) + len(api.dials[num(2)]) + len(api.dials[num(3)]); n != 0 {
					t.Errorf("%d calls dialled after the cancel", n)
				}
			},
		},
		{
			name: "refused items do not stop the others", n: 3, concurrency: 1, deadline: 24 * time.Hour,
			scripts: map[string]script{
				num(0): always(dialScript{refuse: "destination_not_allowed"}),
				num(1): always(dialScript{refuse: "call_budget_exceeded"}),
			},
			wantStatus: "completed",
			wantStates: "refused:0 refused:0 ended/completed:1",
		},
		{
			name: "a transient refusal is retried later", n: 1, concurrency: 1, deadline: 24 * time.Hour,
			scripts: map[string]script{
				num(0): func() script {
					tries := 0
					return func(n int) dialScript {
						tries++
						if tries < 3 {
							return dialScript{refuse: "state_unavailable", retryable: true}
						}
						return dialScript{status: "completed", dur: time.Minute}
					}
				}(),
			},
			wantStatus: "completed",
			wantStates: "ended/completed:1",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				scripts := map[string]script{}
				for i := range tt.n {
					scripts[num(i)] = completed
				}
				for k, v := range tt.scripts {
					scripts[k] = v
				}
				api := newFakeAPI(scripts)
				nc := newCampaign(tt.n, tt.concurrency, tt.retries, tt.retryAfter, tt.deadline)
				nc.RetryOn = tt.retryOn
				store, m, c := createOnNewStore(t, api, nc)
				defer m.Close()
				if tt.cancelAt > 0 {
					time.Sleep(tt.cancelAt)
					cc, err := m.Cancel(context.Background(), "fp-key", c.ID)
					if err != nil || cc.Status != "cancelled" {
						t.Fatalf("cancel = %v, %v", cc, err)
					}
				}
				got := waitEnded(t, m, c.ID, 48*time.Hour)
				if got.Status != tt.wantStatus || states(got) != tt.wantStates {
					t.Errorf("status %s, items %s\nwant %s, items %s", got.Status, states(got), tt.wantStatus, tt.wantStates)
				}
				api.mu.Lock()
				defer api.mu.Unlock()
				if tt.check != nil {
					tt.check(t, api, got)
				}
				// Once ended the campaign leaves the active index and its runner stops.
				time.Sleep(time.Second)
				if ids, _ := store.ActiveRecords(context.Background(), kindCampaign); len(ids) != 0 {
					t.Errorf("ended campaign still active: %v", ids)
				}
				if m.Running() != 0 {
					t.Errorf("%d runners left", m.Running())
				}
			})
		})
	}
}

func TestCampaignIsPerKey(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		api := newFakeAPI(map[string]script{num(0): always(dialScript{status: "completed", dur: time.Minute})})
		_, m, c := createOnNewStore(t, api, newCampaign(1, 1, 0, 0, time.Hour))
		defer m.Close()
		if _, err := m.Get(context.Background(), "fp-other", c.ID); err != ErrNotFound {
			t.Fatalf("another key's Get = %v, want ErrNotFound", err)
		}
		if _, err := m.Cancel(context.Background(), "fp-other", c.ID); err != ErrNotFound {
			t.Fatalf("another key's Cancel = %v, want ErrNotFound", err)
		}
		waitEnded(t, m, c.ID, time.Hour)
	})
}

// A runner that stops (the process died) leaves its campaign in the store;
// another manager on the same store continues it once the lease lapses, and
// no number is dialled twice.
func TestResumeAfterRunnerStops(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		api := allComplete(6, 10*time.Minute)
		store, first, c := createOnNewStore(t, api, newCampaign(6, 2, 0, 0, 24*time.Hour))
		time.Sleep(15 * time.Minute) // two calls ended, two ringing
		first.Close()                // the process stops; its lease is left to lapse

		second := newManager(store, api)
		second.Start()
		defer second.Close()
		got := waitEnded(t, second, c.ID, 24*time.Hour)
		if got.Status != "completed" {
			t.Fatalf("status %s: %s", got.Status, states(got))
		}
		api.mu.Lock()
		defer api.mu.Unlock()
		for i := range 6 {
			if n := len(api.dials[num(i)]); n != 1 {
				t.Errorf("%s dialled %d times, want once", num(i), n)
			}
		}
	})
}

// An item that a stopped runner left dialing is settled from the key's
// recent calls, never dialled blindly again.
func TestResumeSettlesInterruptedDials(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		scripts := map[string]script{num(0): always(dialScript{status: "completed", dur: time.Minute}), num(1): always(dialScript{status: "completed", dur: time.Minute})}
		api := newFakeAPI(scripts)
		store := state.NewMemory()
		seed := newManager(store, api)
		c := newCampaign(2, 2, 0, 0, time.Hour)
		c.ID = NewID()
		secret, _ := store.Secret(context.Background())
		c.KeyFP = "fp-key"
		c.SealedKey, _ = sealKey(secret, c.ID, "key")
		// Item 0's POST went through before the crash (the API has the call);
		// item 1's never left.
		out := api.Place(context.Background(), "key", Request{To: num(0)})
		api.found[num(0)] = out.CallID
		for _, it := range c.Items {
			it.State = schema.ItemDialing
		}
		c.settle()
		if err := seed.put(context.Background(), c, true); err != nil {
			t.Fatal(err)
		}
		m := newManager(store, api)
		m.Start()
		defer m.Close()
		got := waitEnded(t, m, c.ID, time.Hour)
		if states(got) != "ended/completed:1 ended/completed:1" || got.Items[0].CallID != out.CallID {
			t.Fatalf("items %s (item 0 call %s, want %s)", states(got), got.Items[0].CallID, out.CallID)
		}
		api.mu.Lock()
		defer api.mu.Unlock()
		if len(api.dials[num(0)]) != 1 || len(api.dials[num(1)]) != 1 {
			t.Fatalf("dials: %d and %d, want one each", len(api.dials[num(0)]), len(api.dials[num(1)]))
		}
	})
}

// A process that stops cleanly lets its POSTs finish, saves their call ids
// and releases its lease: the next process continues at once, not after the
// lease would have lapsed.
func TestCleanStopHandsOverAtOnce(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		api := allComplete(4, 10*time.Second)
		store, first, c := createOnNewStore(t, api, newCampaign(4, 1, 0, 0, 24*time.Hour))
		time.Sleep(15 * time.Second) // item 0 ended, item 1 ringing for 5 s more
		first.Close()
		stopped := time.Now()
		second := newManager(store, api)
		second.Start()
		defer second.Close()
		got := waitEnded(t, second, c.ID, 24*time.Hour)
		api.mu.Lock()
		defer api.mu.Unlock()
		// Item 2 dials when item 1's call ends (5 s after the stop), not
		// once a lapsed lease (15 s) lets the second manager in.
		if at := api.dials[num(2)][0].Sub(stopped); at > 7*time.Second {
			t.Errorf("item 2 dialled %v after the clean stop, want as soon as item 1 ended (5 s)", at)
		}
		for i := range 4 {
			if n := len(api.dials[num(i)]); n != 1 {
				t.Errorf("%s dialled %d times", num(i), n)
			}
		}
		if got.Status != "completed" {
			t.Errorf("status %s", got.Status)
		}
	})
}
