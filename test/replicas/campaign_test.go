package replicas_test

import (
	"context"
	"fmt"
	"testing"
	"time"
)

// A replica killed in the middle of a campaign while two others share its
// Redis: another replica takes the campaign over within 30 s and it ends
// with every item dialled exactly once.
func TestCampaignTakenOverWhenItsReplicaDies(t *testing.T) {
	t.Parallel()
	_, reps := startOnRedis(t, 3)
	key := tenantKey(t)
	// +14155550006 talks for 90 s (under 5 s at the sandbox's time scale),
	// one call at a time: the campaign outlives the first replica.
	var calls []any
	for i := range 4 {
		calls = append(calls, map[string]any{"to": "+14155550006", "objective": fmt.Sprintf("Confirm appointment %d for tomorrow.", i)})
	}
	owner := connect(t, reps[0], key, false)
	r := owner.mustCall(t, "place_calls", map[string]any{"calls": calls, "concurrency": 1})
	id := r.str("campaignId")
	if r.IsError || id == "" {
		t.Fatalf("place_calls: %s", r)
	}
	deadline := time.Now().Add(30 * time.Second)
	for len(sandboxCalls(t, key)) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("no call placed")
		}
		time.Sleep(50 * time.Millisecond)
	}
	reps[0].kill() // SIGKILL: the runner's lease is left to lapse
	killed := time.Now()
	placedAtKill := len(sandboxCalls(t, key))

	// The next item is dialled by a surviving replica: after the ringing
	// call ends (< 5 s) and the lease lapses (15 s) plus one scan (5 s).
	for len(sandboxCalls(t, key)) == placedAtKill {
		if time.Since(killed) > 35*time.Second {
			t.Fatalf("no replica took the campaign over within %v", time.Since(killed))
		}
		time.Sleep(100 * time.Millisecond)
	}
	takeover := time.Since(killed)
	t.Logf("campaign taken over %v after its replica was killed", takeover.Round(100*time.Millisecond))

	watcher := connect(t, reps[1], key, true)
	var done toolResult
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		var err error
		done, err = watcher.call(ctx, "wait_for_campaign", map[string]any{"campaignId": id, "timeoutSec": 30})
		cancel()
		if err != nil || done.IsError {
			t.Fatalf("wait_for_campaign on another replica: %v %s", err, done)
		}
		if done.Structured["timedOut"] != true {
			break
		}
		if time.Since(killed) > 3*time.Minute {
			t.Fatalf("campaign did not end: %s", done)
		}
	}
	if done.str("status") != "completed" {
		t.Fatalf("campaign: %s", done)
	}
	seen := map[string]int{}
	for _, c := range sandboxCalls(t, key) {
		seen[fmt.Sprint(c["objective"])]++
	}
	for i := range 4 {
		if n := seen[fmt.Sprintf("Confirm appointment %d for tomorrow.", i)]; n != 1 {
			t.Errorf("item %d dialled %d times, want once (%v)", i, n, seen)
		}
	}
}
