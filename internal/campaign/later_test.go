package campaign

import (
	"context"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/byourside/bys-mcp/internal/state"
	"github.com/byourside/bys-mcp/schema"
)

// sfNumber is a San Francisco number: its callbacks are read in Los
// Angeles time.
const sfNumber = "+14155550199"

// oneItem is a campaign of one call to to, with deadline.
func oneItem(to string, deadline time.Duration) *Campaign {
	return &Campaign{CreatedAt: time.Now(), Deadline: time.Now().Add(deadline), Concurrency: 1,
		Items: []*Item{{Index: 0, To: to, Objective: "Ask about the booking.", State: schema.ItemPending}}}
}

func TestLaterItemsWaitForNotBefore(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		api := newFakeAPI(map[string]script{num(0): always(dialScript{status: "completed", dur: time.Minute}), num(1): always(dialScript{status: "completed", dur: time.Minute})})
		c := newCampaign(2, 2, 0, 0, 24*time.Hour)
		c.Items[1].State, c.Items[1].NotBefore = schema.ItemScheduled, time.Now().Add(2*time.Hour)
		_, m, created := createOnNewStore(t, api, c)
		defer m.Close()
		if v := created.View(); v.Items[1].State != schema.ItemScheduled || v.Items[1].NotBefore != c.Items[1].NotBefore.UTC().Format(time.RFC3339) {
			t.Errorf("a later item shows %+v, want scheduled with its notBefore", v.Items[1])
		}
		got := waitEnded(t, m, created.ID, 24*time.Hour)
		api.mu.Lock()
		defer api.mu.Unlock()
		if at := api.dials[num(0)][0].Sub(api.start); at > time.Second {
			t.Errorf("the item without notBefore dialled after %v, want at once", at)
		}
		if n := len(api.dials[num(1)]); n != 1 {
			t.Fatalf("the later item dialled %d times, want once", n)
		}
		if at := api.dials[num(1)][0].Sub(api.start); at < 2*time.Hour || at > 2*time.Hour+time.Second {
			t.Errorf("the later item dialled after %v, want at its notBefore (2h)", at)
		}
		if states(got) != "ended/completed:1 ended/completed:1" {
			t.Errorf("items %s", states(got))
		}
	})
}

// A later call whose process stops before its time is dialled once, by
// the manager that continues the campaign, at its time.
func TestLaterItemSurvivesAStoppedRunner(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		api := newFakeAPI(map[string]script{num(0): always(dialScript{status: "completed", dur: time.Minute})})
		c := newCampaign(1, 1, 0, 0, 24*time.Hour)
		c.Items[0].State, c.Items[0].NotBefore = schema.ItemScheduled, time.Now().Add(time.Hour)
		store, first, created := createOnNewStore(t, api, c)
		time.Sleep(time.Minute)
		first.Close()

		second := newManager(store, api)
		second.Start()
		defer second.Close()
		got := waitEnded(t, second, created.ID, 24*time.Hour)
		api.mu.Lock()
		defer api.mu.Unlock()
		if n := len(api.dials[num(0)]); n != 1 || got.Status != schema.CampaignCompleted {
			t.Fatalf("dialled %d times, status %s; want once, completed", n, got.Status)
		}
		if at := api.dials[num(0)][0].Sub(api.start); at < time.Hour || at > time.Hour+time.Second {
			t.Errorf("dialled after %v, want at its notBefore (1h)", at)
		}
	})
}

func TestCallbacks(t *testing.T) {
	tests := []struct {
		name        string
		script      script
		deadline    time.Duration
		noCallbacks bool
		retries     int
		wantDials   []time.Duration // when each dial happened, from the start
		wantStates  string
	}{
		{
			name: "a person who asks to be called back in 3 hours is called then",
			script: func(n int) dialScript {
				if n == 0 {
					return dialScript{status: "completed", dur: time.Minute, callbackIn: 3 * time.Hour}
				}
				return dialScript{status: "completed", dur: time.Minute}
			},
			deadline: 24 * time.Hour, wantDials: []time.Duration{0, 3 * time.Hour}, wantStates: "ended/completed:2",
		},
		{
			name:     "callbacks: false dials once",
			script:   always(dialScript{status: "completed", dur: time.Minute, callbackIn: 3 * time.Hour}),
			deadline: 24 * time.Hour, noCallbacks: true, wantDials: []time.Duration{0}, wantStates: "ended/completed:1",
		},
		{
			name:     "a callback after the deadline is not dialled",
			script:   always(dialScript{status: "completed", dur: time.Minute, callbackIn: 30 * time.Hour}),
			deadline: 24 * time.Hour, wantDials: []time.Duration{0}, wantStates: "ended/completed:1",
		},
		{
			name:     "a callback already past is not dialled",
			script:   always(dialScript{status: "completed", dur: 5 * time.Minute, callbackIn: 2 * time.Minute}),
			deadline: 24 * time.Hour, wantDials: []time.Duration{0}, wantStates: "ended/completed:1",
		},
		{
			name:     "a person who also asks not to be called is not called back",
			script:   always(dialScript{status: "completed", dur: time.Minute, callbackIn: time.Hour, doNotCall: true}),
			deadline: 24 * time.Hour, wantDials: []time.Duration{0}, wantStates: "ended/completed:1",
		},
		{
			name:     "a person who always asks again is called back three times at most",
			script:   always(dialScript{status: "completed", dur: time.Minute, callbackIn: time.Hour}),
			deadline: 24 * time.Hour, wantDials: []time.Duration{0, time.Hour, 2 * time.Hour, 3 * time.Hour}, wantStates: "ended/completed:4",
		},
		{
			name: "a callback does not spend a retry",
			script: func(n int) dialScript {
				switch n {
				case 0:
					return dialScript{status: "completed", dur: time.Minute, callbackIn: time.Hour}
				case 1:
					return dialScript{status: "no_answer", dur: time.Minute}
				}
				return dialScript{status: "completed", dur: time.Minute}
			},
			deadline: 24 * time.Hour, retries: 1, wantDials: []time.Duration{0, time.Hour, time.Hour + 31*time.Minute}, wantStates: "ended/completed:3",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				api := newFakeAPI(map[string]script{sfNumber: tt.script})
				c := oneItem(sfNumber, tt.deadline)
				c.NoCallbacks, c.Retries, c.RetryAfter = tt.noCallbacks, tt.retries, 30*time.Minute
				_, m, created := createOnNewStore(t, api, c)
				defer m.Close()
				got := waitEnded(t, m, created.ID, 48*time.Hour)
				if states(got) != tt.wantStates {
					t.Errorf("items %s, want %s", states(got), tt.wantStates)
				}
				api.mu.Lock()
				defer api.mu.Unlock()
				dials := api.dials[sfNumber]
				if len(dials) != len(tt.wantDials) {
					t.Fatalf("%d dials, want %d", len(dials), len(tt.wantDials))
				}
				for i, want := range tt.wantDials {
					if at := dials[i].Sub(api.start); at < want || at > want+2*time.Second {
						t.Errorf("dial %d after %v, want %v", i, at, want)
					}
				}
			})
		})
	}
}

// While an item waits to call a person back, the campaign shows it
// scheduled with notBefore the callback, says so in the table, and keeps
// the ended call's outcome.
func TestACallbackWaitsScheduled(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		api := newFakeAPI(map[string]script{sfNumber: always(dialScript{status: "completed", dur: time.Minute, callbackIn: 3 * time.Hour})})
		_, m, created := createOnNewStore(t, api, oneItem(sfNumber, 4*time.Hour))
		defer m.Close()
		time.Sleep(10 * time.Minute)
		c, err := m.Get(context.Background(), "fp-key", created.ID)
		if err != nil {
			t.Fatal(err)
		}
		it := c.View().Items[0]
		want := api.start.Add(3 * time.Hour).UTC().Format(time.RFC3339)
		if it.State != schema.ItemScheduled || it.NotBefore != want || it.Status != "completed" || it.Outcome == nil || it.Outcome.CallbackAt == nil {
			t.Fatalf("item %+v, want scheduled until %s with the call's outcome", it, want)
		}
		if table := Table(c); !strings.Contains(table, "callback at "+want) {
			t.Errorf("the table does not say when the callback is:\n%s", table)
		}
		if c.Items[0].Hint == "" {
			t.Error("no hint says why the item waits")
		}
		waitEnded(t, m, created.ID, 24*time.Hour)
	})
}

// A runner that stopped while dialling a callback (its POST never left)
// left the item dialing: the key's latest call to the number is the one
// the item already had, so the next runner dials the callback, once.
func TestResumeDialsACallbackWhosePOSTNeverLeft(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		api := newFakeAPI(map[string]script{sfNumber: always(dialScript{status: "completed", dur: time.Minute})})
		store := state.NewMemory()
		seed := newManager(store, api)
		c := oneItem(sfNumber, 24*time.Hour)
		c.ID = NewID()
		secret, _ := store.Secret(context.Background())
		c.KeyFP = "fp-key"
		c.SealedKey, _ = sealKey(secret, c.ID, "key")
		// The first call was placed and ended asking for a callback; the
		// callback's dial was recorded, then the process died.
		first := api.Place(context.Background(), "key", Request{To: sfNumber})
		api.found[sfNumber] = first.CallID
		it := c.Items[0]
		it.State, it.CallID, it.Calls, it.Attempts, it.Callbacks = schema.ItemDialing, first.CallID, []string{first.CallID}, 1, 1
		it.Status, it.CallbackAt = "completed", time.Now()
		c.settle()
		if err := seed.put(context.Background(), c, true); err != nil {
			t.Fatal(err)
		}
		m := newManager(store, api)
		m.Start()
		defer m.Close()
		got := waitEnded(t, m, c.ID, time.Hour)
		api.mu.Lock()
		defer api.mu.Unlock()
		if n := len(api.dials[sfNumber]); n != 2 {
			t.Fatalf("%d dials in all, want 2 (the first call and the callback)", n)
		}
		if states(got) != "ended/completed:2" || got.Items[0].CallID == first.CallID {
			t.Errorf("item %s, call %s (the first was %s)", states(got), got.Items[0].CallID, first.CallID)
		}
	})
}
