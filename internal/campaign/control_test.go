package campaign

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"testing/synctest"
	"time"

	"github.com/byourside/bys-mcp/internal/state"
	"github.com/byourside/bys-mcp/schema"
)

// dialCount is how many times the fake API dialled each of n numbers.
func dialCount(api *fakeAPI, n int) string {
	api.mu.Lock()
	defer api.mu.Unlock()
	var s []int
	for i := range n {
		s = append(s, len(api.dials[num(i)]))
	}
	return fmt.Sprint(s)
}

func TestPauseAndResume(t *testing.T) {
	tests := []struct {
		name       string
		n          int
		deadline   time.Duration
		pauseAt    time.Duration
		resumeAt   time.Duration // 0: never resumed
		wantPaused string        // states just after the pause
		wantDials  string        // dials while paused, checked at resumeAt (or the end)
		wantStatus string
		wantStates string
	}{
		{
			name: "a pause holds what is not dialled and lets the ringing call end; resume dials the rest",
			n:    4, deadline: 24 * time.Hour, pauseAt: 5 * time.Minute, resumeAt: 3 * time.Hour,
			wantPaused: "in_call/in_progress:1 paused:0 paused:0 paused:0",
			wantDials:  "[1 0 0 0]",
			wantStatus: "completed",
			wantStates: "ended/completed:1 ended/completed:1 ended/completed:1 ended/completed:1",
		},
		{
			name: "paused items expire at the deadline",
			n:    3, deadline: 2 * time.Hour, pauseAt: 5 * time.Minute,
			wantPaused: "in_call/in_progress:1 paused:0 paused:0",
			wantDials:  "[1 0 0]",
			wantStatus: "expired",
			wantStates: "ended/completed:1 expired:0 expired:0",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				scripts := map[string]script{}
				for i := range tt.n {
					scripts[num(i)] = always(dialScript{status: "completed", dur: 10 * time.Minute})
				}
				api := newFakeAPI(scripts)
				store := state.NewMemory()
				m := newManager(store, api)
				defer m.Close()
				start := time.Now()
				c, err := m.Create(context.Background(), "key", newCampaign(tt.n, 1, 0, 0, tt.deadline))
				if err != nil {
					t.Fatal(err)
				}
				time.Sleep(tt.pauseAt)
				p, err := m.Pause(context.Background(), "fp-key", c.ID)
				if err != nil {
					t.Fatal(err)
				}
				if p.Status != schema.CampaignPaused || states(p) != tt.wantPaused {
					t.Fatalf("after the pause: %s %s, want paused %s", p.Status, states(p), tt.wantPaused)
				}
				if tt.resumeAt > 0 {
					time.Sleep(tt.resumeAt - time.Since(start))
					if got := dialCount(api, tt.n); got != tt.wantDials {
						t.Fatalf("dials while paused: %s, want %s", got, tt.wantDials)
					}
					mid, _ := m.Get(context.Background(), "fp-key", c.ID)
					if mid.Status != schema.CampaignPaused {
						t.Errorf("status while paused with nothing ringing = %s", mid.Status)
					}
					r, err := m.Resume(context.Background(), "fp-key", c.ID)
					if err != nil {
						t.Fatal(err)
					}
					if r.Status != schema.CampaignRunning || r.Paused {
						t.Errorf("after resume: %s paused=%v", r.Status, r.Paused)
					}
				}
				got := waitEnded(t, m, c.ID, 48*time.Hour)
				if got.Status != tt.wantStatus || states(got) != tt.wantStates {
					t.Errorf("status %s, items %s\nwant %s, items %s", got.Status, states(got), tt.wantStatus, tt.wantStates)
				}
				if tt.resumeAt == 0 {
					if d := dialCount(api, tt.n); d != tt.wantDials {
						t.Errorf("dials %s, want %s", d, tt.wantDials)
					}
				}
			})
		})
	}
}

// A pause, a resume and a retry asked of a process that does not run the
// campaign reach the runner of the one that does, through the store; a
// retry of an ended campaign starts a runner where it is asked.
func TestControlsReachTheRunnerInAnotherProcess(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		scripts := map[string]script{
			num(0): always(dialScript{status: "completed", dur: 10 * time.Minute}),
			num(1): func(n int) dialScript {
				if n == 0 {
					return dialScript{status: "voicemail", dur: 10 * time.Minute}
				}
				return dialScript{status: "completed", dur: time.Minute}
			},
			num(2): always(dialScript{status: "completed", dur: 10 * time.Minute}),
		}
		api := newFakeAPI(scripts)
		store := state.NewMemory()
		runner, other := newManager(store, api), newManager(store, api)
		defer runner.Close()
		defer other.Close()
		c, err := runner.Create(context.Background(), "key", newCampaign(3, 1, 0, 0, 24*time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		time.Sleep(5 * time.Minute)
		p, err := other.Pause(context.Background(), "fp-key", c.ID)
		if err != nil || !p.Paused || states(p) != "in_call/in_progress:1 paused:0 paused:0" {
			t.Fatalf("pause from the other process: %v %s (%v)", p.Paused, states(p), err)
		}
		if other.Running() != 0 {
			t.Error("the other process took the campaign over")
		}
		time.Sleep(time.Hour)
		if d := dialCount(api, 3); d != "[1 0 0]" {
			t.Fatalf("dials while paused elsewhere: %s", d)
		}
		if _, err := other.Resume(context.Background(), "fp-key", c.ID); err != nil {
			t.Fatal(err)
		}
		first := waitEnded(t, runner, c.ID, 24*time.Hour)
		if states(first) != "ended/completed:1 ended/voicemail:1 ended/completed:1" {
			t.Fatalf("after resume: %s", states(first))
		}
		time.Sleep(time.Second) // the runner lets the campaign go
		if runner.Running() != 0 {
			t.Fatal("the runner of an ended campaign goes on")
		}
		r, n, err := other.Retry(context.Background(), "fp-key", c.ID, []string{"voicemail"})
		if err != nil || n != 1 {
			t.Fatalf("retry = %d, %v", n, err)
		}
		if r.Items[1].State == schema.ItemEnded {
			t.Errorf("the retried item is still ended: %s", states(r))
		}
		if other.Running() != 1 {
			t.Errorf("the retry of an ended campaign started %d runners where it was asked, want 1", other.Running())
		}
		got := waitEnded(t, other, c.ID, 24*time.Hour)
		if states(got) != "ended/completed:1 ended/completed:2 ended/completed:1" || got.Status != schema.CampaignCompleted {
			t.Errorf("after the retry: %s %s", got.Status, states(got))
		}
		if d := dialCount(api, 3); d != "[1 2 1]" {
			t.Errorf("dials %s, want [1 2 1]", d)
		}
		if len(got.Items[1].Calls) != 2 {
			t.Errorf("the retried item lists calls %v, want both", got.Items[1].Calls)
		}
		// The request is retired: nothing is pending, and the campaign is
		// not active any more.
		time.Sleep(10 * time.Second)
		if ids, _ := store.ActiveRecords(context.Background(), kindRetry); len(ids) != 0 {
			t.Errorf("retry requests still active: %v", ids)
		}
		if ids, _ := store.ActiveRecords(context.Background(), kindCampaign); len(ids) != 0 {
			t.Errorf("campaigns still active: %v", ids)
		}
	})
}

func TestRetryRedialsOnlyTheChosenStatuses(t *testing.T) {
	outcomes := []string{"completed", "no_answer", "voicemail", "failed", "declined"}
	tests := []struct {
		name       string
		statuses   []string
		wantN      int
		wantDials  string
		wantStates string
	}{
		{"the default three", schema.RetryCampaignStatuses, 3, "[1 2 2 2 1]",
			"ended/completed:1 ended/completed:2 ended/completed:2 ended/completed:2 ended/declined:1"},
		{"voicemail only", []string{"voicemail"}, 1, "[1 1 2 1 1]",
			"ended/completed:1 ended/no_answer:1 ended/completed:2 ended/failed:1 ended/declined:1"},
		{"no_answer and failed", []string{"no_answer", "failed"}, 2, "[1 2 1 2 1]",
			"ended/completed:1 ended/completed:2 ended/voicemail:1 ended/completed:2 ended/declined:1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				scripts := map[string]script{}
				for i, o := range outcomes {
					scripts[num(i)] = func(n int) dialScript {
						if n == 0 {
							return dialScript{status: o, dur: time.Minute}
						}
						return dialScript{status: "completed", dur: time.Minute}
					}
				}
				api := newFakeAPI(scripts)
				store := state.NewMemory()
				m := newManager(store, api)
				defer m.Close()
				c, err := m.Create(context.Background(), "key", newCampaign(len(outcomes), 5, 0, 0, 24*time.Hour))
				if err != nil {
					t.Fatal(err)
				}
				waitEnded(t, m, c.ID, time.Hour)
				time.Sleep(time.Second)
				_, n, err := m.Retry(context.Background(), "fp-key", c.ID, tt.statuses)
				if err != nil || n != tt.wantN {
					t.Fatalf("retry = %d, %v; want %d", n, err, tt.wantN)
				}
				got := waitEnded(t, m, c.ID, time.Hour)
				if states(got) != tt.wantStates {
					t.Errorf("items %s\nwant  %s", states(got), tt.wantStates)
				}
				if d := dialCount(api, len(outcomes)); d != tt.wantDials {
					t.Errorf("dials %s, want %s", d, tt.wantDials)
				}
				// A status no item ended with: nothing changes.
				time.Sleep(time.Second)
				if _, n, err := m.Retry(context.Background(), "fp-key", c.ID, []string{"busy"}); err != nil || n != 0 {
					t.Errorf("retry of a status no item has = %d, %v", n, err)
				}
			})
		})
	}
}

func TestRetryOfAPausedCampaignWaitsForResume(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		api := newFakeAPI(map[string]script{
			num(0): always(dialScript{status: "no_answer", dur: time.Minute}),
			num(1): always(dialScript{status: "completed", dur: time.Hour}),
		})
		store := state.NewMemory()
		m := newManager(store, api)
		defer m.Close()
		c, err := m.Create(context.Background(), "key", newCampaign(2, 2, 0, 0, 24*time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		time.Sleep(5 * time.Minute) // item 0 ended no_answer, item 1 in call
		if _, err := m.Pause(context.Background(), "fp-key", c.ID); err != nil {
			t.Fatal(err)
		}
		r, n, err := m.Retry(context.Background(), "fp-key", c.ID, []string{"no_answer"})
		if err != nil || n != 1 || r.Items[0].State != schema.ItemPaused {
			t.Fatalf("retry of a paused campaign: %d %v %s", n, err, states(r))
		}
		time.Sleep(10 * time.Minute)
		if d := dialCount(api, 2); d != "[1 1]" {
			t.Fatalf("a paused campaign redialled: %s", d)
		}
		if _, err := m.Resume(context.Background(), "fp-key", c.ID); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Minute)
		if d := dialCount(api, 2); d != "[2 1]" {
			t.Errorf("after resume: %s, want [2 1]", d)
		}
		waitEnded(t, m, c.ID, 2*time.Hour)
	})
}

func TestControlsAreRefusedOrNoOpsWhenNothingCanChange(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		api := newFakeAPI(map[string]script{num(0): always(dialScript{status: "no_answer", dur: time.Minute}), num(1): always(dialScript{status: "completed", dur: time.Hour})})
		store := state.NewMemory()
		m := newManager(store, api)
		defer m.Close()
		ctx := context.Background()

		ended, _ := m.Create(ctx, "key", newCampaign(1, 1, 0, 0, 2*time.Hour))
		cancelled, _ := m.Create(ctx, "key", &Campaign{CreatedAt: time.Now(), Deadline: time.Now().Add(24 * time.Hour), Concurrency: 1,
			Items: []*Item{{Index: 0, To: num(1), Objective: "o", State: schema.ItemPending}, {Index: 1, To: num(0), Objective: "o", State: schema.ItemPending}}})
		waitEnded(t, m, ended.ID, time.Hour)
		time.Sleep(2 * time.Minute)
		if _, err := m.Cancel(ctx, "fp-key", cancelled.ID); err != nil {
			t.Fatal(err)
		}

		if c, err := m.Pause(ctx, "fp-key", ended.ID); err != nil || c.Paused || c.Status != schema.CampaignCompleted {
			t.Errorf("pause of an ended campaign: %v %s %v", c.Paused, c.Status, err)
		}
		if c, err := m.Resume(ctx, "fp-key", ended.ID); err != nil || c.Status != schema.CampaignCompleted {
			t.Errorf("resume of a campaign not paused: %s %v", c.Status, err)
		}
		if c, err := m.Pause(ctx, "fp-key", cancelled.ID); err != nil || c.Paused || c.Status != schema.CampaignCancelled {
			t.Errorf("pause of a cancelled campaign: %v %s %v", c.Paused, c.Status, err)
		}
		if _, _, err := m.Retry(ctx, "fp-key", cancelled.ID, []string{"no_answer"}); !errors.Is(err, ErrCancelled) {
			t.Errorf("retry of a cancelled campaign = %v, want ErrCancelled", err)
		}
		time.Sleep(2 * time.Hour)
		if _, _, err := m.Retry(ctx, "fp-key", ended.ID, []string{"no_answer"}); !errors.Is(err, ErrDeadlinePassed) {
			t.Errorf("retry after the deadline = %v, want ErrDeadlinePassed", err)
		}
		for name, f := range map[string]func() error{
			"pause":  func() error { _, err := m.Pause(ctx, "fp-other", ended.ID); return err },
			"resume": func() error { _, err := m.Resume(ctx, "fp-other", ended.ID); return err },
			"retry":  func() error { _, _, err := m.Retry(ctx, "fp-other", ended.ID, []string{"no_answer"}); return err },
		} {
			if err := f(); !errors.Is(err, ErrNotFound) {
				t.Errorf("%s with another key = %v, want ErrNotFound", name, err)
			}
		}
		if d := dialCount(api, 2); d != "[1 1]" {
			t.Errorf("dials %s, want [1 1] (each campaign's first dial only)", d)
		}
	})
}

func TestListIsPerKeyNewestFirst(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		api := newFakeAPI(map[string]script{num(0): always(dialScript{status: "completed", dur: time.Minute})})
		store := state.NewMemory()
		m := newManager(store, api)
		defer m.Close()
		ctx := context.Background()
		var mine []string
		for i := range 4 {
			c := newCampaign(1, 1, 0, 0, time.Hour)
			c.Name = fmt.Sprintf("campaign %d", i)
			created, err := m.Create(ctx, "key", c)
			if err != nil {
				t.Fatal(err)
			}
			mine = append(mine, created.ID)
			if i%2 == 1 {
				time.Sleep(time.Second) // two pairs created in the same second
			}
		}
		other, err := m.Create(ctx, "other", newCampaign(1, 1, 0, 0, time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		tests := []struct {
			key   string
			limit int
			want  []string
		}{
			{"fp-key", 0, []string{mine[3], mine[2], mine[1], mine[0]}},
			{"fp-key", 2, []string{mine[3], mine[2]}},
			{"fp-other", 20, []string{other.ID}},
			{"fp-nobody", 20, nil},
		}
		for _, tt := range tests {
			got, err := m.List(ctx, tt.key, tt.limit)
			if err != nil {
				t.Fatal(err)
			}
			var ids []string
			for _, c := range got {
				ids = append(ids, c.ID)
				if c.KeyFP != tt.key {
					t.Errorf("%s listed a campaign of %s", tt.key, c.KeyFP)
				}
			}
			if fmt.Sprint(ids) != fmt.Sprint(tt.want) {
				t.Errorf("List(%s, %d) = %v, want %v", tt.key, tt.limit, ids, tt.want)
			}
		}
		// Campaigns leave the list when their records expire (a week after
		// the deadline).
		time.Sleep(time.Hour + 7*24*time.Hour + time.Minute)
		if got, _ := m.List(ctx, "fp-key", 20); len(got) != 0 {
			t.Errorf("expired campaigns still listed: %d", len(got))
		}
	})
}
