package tools_test

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/byourside/bys-mcp/internal/testkit"
	"github.com/byourside/bys-mcp/tools"
)

// Twenty concurrent wait_for_calls on one call share one follower: they
// cost at most 1.5 times the GETs of a single wait, plus five, counted at
// the API (a real HTTP server running the sandbox).
func TestTwentyWaitsOnOneCallCostAboutOneWaitsGETs(t *testing.T) {
	deps, rec := directDeps(t)
	_, place := tools.PlaceCall(deps)
	_, wait := tools.WaitForCall(deps)
	ctx := context.Background()
	placeOne := func(objective string) string {
		res := callDirect(t, ctx, place, map[string]any{"to": "+14155550123", "objective": objective})
		if res.IsError {
			t.Fatalf("place_call: %s", testkit.TextOf(res))
		}
		return structured(t, res)["callId"].(string)
	}
	waitAll := func(id string, n int) {
		var wg sync.WaitGroup
		for range n {
			wg.Go(func() {
				res := callDirect(t, ctx, wait, map[string]any{"callId": id, "timeoutSec": 60})
				if sc := structured(t, res); res.IsError || sc["status"] != "completed" || sc["timedOut"] != false {
					t.Errorf("wait_for_call: %v", sc)
				}
			})
		}
		wg.Wait()
	}

	one := placeOne("Ask for the opening hours (one waiter)")
	before := rec.Gets()
	waitAll(one, 1)
	single := rec.Gets() - before

	twenty := placeOne("Ask for the opening hours (twenty waiters)")
	before = rec.Gets()
	waitAll(twenty, 20)
	shared := rec.Gets() - before

	t.Logf("GETs: one waiter %d, twenty waiters %d", single, shared)
	if limit := float64(single)*1.5 + 5; float64(shared) > limit {
		t.Errorf("twenty waiters cost %d GETs, one cost %d: over the %.1f allowed", shared, single, limit)
	}
	if single < 3 {
		t.Fatalf("one waiter cost only %d GETs: the call ended too fast to tell", single)
	}
}

// A wait that gives up (its context cancelled) leaves the others waiting
// on the same follower, and they still get the final record.
func TestCancellingOneWaitLeavesTheOthersWaiting(t *testing.T) {
	deps, _ := directDeps(t)
	_, place := tools.PlaceCall(deps)
	_, wait := tools.WaitForCall(deps)
	res := callDirect(t, context.Background(), place, map[string]any{"to": "+14155550123", "objective": "Ask for the opening hours (cancel one)"})
	id := structured(t, res)["callId"].(string)
	quitCtx, quit := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	errs := make(chan string, 5)
	for i := range 5 {
		wg.Go(func() {
			ctx := context.Background()
			if i == 0 {
				ctx = quitCtx
			}
			res := callDirect(t, ctx, wait, map[string]any{"callId": id, "timeoutSec": 60})
			sc := structured(t, res)
			switch {
			case i == 0 && !res.IsError:
				errs <- fmt.Sprintf("the cancelled wait answered %v", sc)
			case i != 0 && (res.IsError || sc["status"] != "completed"):
				errs <- fmt.Sprintf("wait %d: %v", i, sc)
			}
		})
	}
	quit()
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
	// The follower stops right after handing out the final record.
	for deadline := time.Now().Add(10 * time.Second); deps.Follow.Active() != 0 && time.Now().Before(deadline); {
		time.Sleep(5 * time.Millisecond)
	}
	if n := deps.Follow.Active(); n != 0 {
		t.Errorf("%d followers still running after every wait ended", n)
	}
}

// An API that answers after timeoutSec with an error, and no record was
// ever seen: the wait reports the API's error, not a time-out.
func TestASlowRefusalAtTheDeadlineIsReported(t *testing.T) {
	api := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(1500 * time.Millisecond)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusNotFound)
		_, _ = w.Write([]byte(`{"error":"not_found"}`))
	})
	deps, _ := directDepsWith(t, api)
	_, wait := tools.WaitForCall(deps)
	res := callDirect(t, context.Background(), wait, map[string]any{"callId": "f47ac10b-58cc-4372-a567-0e02b2c3d479", "timeoutSec": 1})
	if sc := structured(t, res); !res.IsError || sc["error"] != "not_found" {
		t.Fatalf("got %v, want the not_found refusal", sc)
	}
}
