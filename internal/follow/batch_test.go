package follow_test

import (
	"bytes"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/byourside/bys-mcp/client"
	"github.com/byourside/bys-mcp/internal/follow"
)

// followToEnd follows id on hub after wait and reads every update until
// the last: it fails t when an update carries an error, or a record that
// is not a full one (a list item: no transcript field), or the end is not
// completed.
func followToEnd(t *testing.T, hub *follow.Hub, keyFP string, c *client.Client, id string, wait time.Duration) {
	t.Helper()
	time.Sleep(wait)
	s := hub.Follow(keyFP, c, id)
	defer s.Close()
	for {
		<-s.C()
		u := s.Latest()
		if u.Err != nil {
			t.Errorf("%s: update %d carries an error: %v", id, u.Seq, u.Err)
		}
		if u.Call != nil && !bytes.Contains(u.Call.Raw, []byte(`"transcript"`)) {
			t.Errorf("%s: update %d is not a full record: %s", id, u.Seq, u.Call.Raw)
		}
		if u.Final {
			if u.Call == nil || u.Call.Status != "completed" {
				t.Errorf("%s: final update %+v, want the completed record", id, u)
			}
			return
		}
	}
}

// A call followed alone costs what it did before batching: its GETs by id
// on the schedule, and no list request, whatever other keys follow.
func TestACallFollowedAloneCostsItsGETsByIDOnly(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		api := newFakeAPI()
		api.add(keyA, "a", 5500*time.Millisecond)
		api.add(keyB, "b", 5500*time.Millisecond)
		hub := newHub(t, nil)
		var wg sync.WaitGroup
		wg.Go(func() { followToEnd(t, hub, "fpA", newClient(t, api, keyA), "a", 0) })
		wg.Go(func() { followToEnd(t, hub, "fpB", newClient(t, api, keyB), "b", 0) })
		wg.Wait()
		for _, k := range []struct{ key, id string }{{keyA, "a"}, {keyB, "b"}} {
			if n := api.count(k.key, k.id); n != 7 {
				t.Errorf("%s: %d GETs, want 7 (0 to 6 s, as before batching)", k.id, n)
			}
			if n := api.listCount(k.key); n != 0 {
				t.Errorf("%s: %d list requests for a call followed alone, want 0", k.id, n)
			}
		}
	})
}

// Ten calls of one key followed at once, placed a quarter of a second
// apart and ending at different times, cost at most 3 times the requests
// of one call followed alone over the same time: one list per tick, a GET
// for each call's first record, for its answer and for its end.
func TestTenCallsOfOneKeyCostAtMostThreeTimesOne(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		api := newFakeAPI()
		const n = 10
		last := time.Duration(0)
		for i := range n {
			at := time.Duration(i) * 250 * time.Millisecond
			end := at + 10*time.Second + time.Duration(i)*450*time.Millisecond
			api.addAnswered(keyA, fmt.Sprintf("k%d", i), at+2*time.Second, end)
			last = max(last, end)
		}
		api.addAnswered(keyB, "solo", 2*time.Second, last) // alone for as long as the ten
		hub := newHub(t, nil)
		ca, cb := newClient(t, api, keyA), newClient(t, api, keyB)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				followToEnd(t, hub, "fpA", ca, fmt.Sprintf("k%d", i), time.Duration(i)*250*time.Millisecond)
			})
		}
		wg.Go(func() { followToEnd(t, hub, "fpB", cb, "solo", 0) })
		wg.Wait()
		one, ten := api.total(keyB), api.total(keyA)
		gets := ten - api.listCount(keyA)
		t.Logf("one call alone: %d requests; ten calls of one key: %d (%d lists, %d GETs by id)", one, ten, api.listCount(keyA), gets)
		if ten > 3*one {
			t.Errorf("ten calls of one key cost %d requests, over 3 times one call's %d", ten, one)
		}
		if api.listCount(keyB) != 0 {
			t.Errorf("the call followed alone cost %d list requests", api.listCount(keyB))
		}
		if gets > 3*n {
			t.Errorf("%d GETs by id for %d calls, want at most 3 each (first, answered, ended)", gets, n)
		}
		api.mu.Lock()
		defer api.mu.Unlock()
		for _, l := range api.limits {
			if l < 2 || l > 2*n+10 {
				t.Errorf("a list asked for %d calls, want 2 to %d", l, 2*n+10)
			}
		}
	})
}

// A followed call that is no longer among the key's N most recent calls is
// fetched by id, on its schedule, to its end; the others stay batched.
func TestACallMissingFromTheListIsFetchedByID(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		api := newFakeAPI()
		api.add(keyA, "old", 7500*time.Millisecond)
		for i := range 30 { // placed since, followed by nobody here
			api.add(keyA, fmt.Sprintf("other%d", i), time.Hour)
		}
		api.add(keyA, "new1", 7500*time.Millisecond)
		api.add(keyA, "new2", 7500*time.Millisecond)
		hub := newHub(t, nil)
		c := newClient(t, api, keyA)
		var wg sync.WaitGroup
		for _, id := range []string{"old", "new1", "new2"} {
			wg.Go(func() { followToEnd(t, hub, "fpA", c, id, 0) })
		}
		wg.Wait()
		if n := api.count(keyA, "old"); n != 9 {
			t.Errorf("the call missing from the list: %d GETs, want 9 (by id, 0 to 8 s)", n)
		}
		for _, id := range []string{"new1", "new2"} {
			if n := api.count(keyA, id); n != 2 {
				t.Errorf("%s: %d GETs, want 2 (its first record, its end)", id, n)
			}
		}
		if n := api.listCount(keyA); n < 7 || n > 9 {
			t.Errorf("%d list requests, want one a second (1 to 8 s)", n)
		}
	})
}

// A list request carries the key of the calls it serves: the calls of two
// keys are followed with two lists, each with its own key, and neither
// key's calls are looked for in the other's list (they would be missing
// from it, and fetched by id every second).
func TestTwoKeysAreNeverBatchedTogether(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		api := newFakeAPI()
		for _, id := range []string{"a1", "a2"} {
			api.addAnswered(keyA, id, 2*time.Second, 6500*time.Millisecond)
		}
		for _, id := range []string{"b1", "b2"} {
			api.addAnswered(keyB, id, 2*time.Second, 6500*time.Millisecond)
		}
		hub := newHub(t, nil)
		ca, cb := newClient(t, api, keyA), newClient(t, api, keyB)
		var wg sync.WaitGroup
		for _, id := range []string{"a1", "a2"} {
			wg.Go(func() { followToEnd(t, hub, "fpA", ca, id, 0) })
		}
		for _, id := range []string{"b1", "b2"} {
			wg.Go(func() { followToEnd(t, hub, "fpB", cb, id, 0) })
		}
		wg.Wait()
		for _, k := range []struct{ key, id string }{{keyA, "a1"}, {keyA, "a2"}, {keyB, "b1"}, {keyB, "b2"}} {
			if n := api.count(k.key, k.id); n != 3 {
				t.Errorf("%s: %d GETs by id, want 3 (first, answered, ended)", k.id, n)
			}
			if n := api.count(otherKey(k.key), k.id); n != 0 {
				t.Errorf("%s: %d GETs with the other key", k.id, n)
			}
		}
		if a, b := api.listCount(keyA), api.listCount(keyB); a < 5 || b < 5 {
			t.Errorf("list requests: key A %d, key B %d; want one a second for each", a, b)
		}
	})
}

func otherKey(k string) string {
	if k == keyA {
		return keyB
	}
	return keyA
}

// A list that fails (a 5xx, or a 404 from an API without it) falls back to
// GETs by id for that tick, the waiters never see the list's error, and the
// key sends no other list for a while.
func TestAFailedListFallsBackToGETsByID(t *testing.T) {
	for _, status := range []int{http.StatusServiceUnavailable, http.StatusNotFound} {
		t.Run(fmt.Sprint(status), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				api := newFakeAPI()
				api.listFail = status
				ids := []string{"c1", "c2", "c3"}
				for _, id := range ids {
					api.add(keyA, id, 6500*time.Millisecond)
				}
				hub := newHub(t, nil)
				c := newClient(t, api, keyA)
				var wg sync.WaitGroup
				for _, id := range ids {
					wg.Go(func() { followToEnd(t, hub, "fpA", c, id, 0) })
				}
				wg.Wait()
				for _, id := range ids {
					if n := api.count(keyA, id); n != 8 {
						t.Errorf("%s: %d GETs, want 8 (by id, 0 to 7 s)", id, n)
					}
				}
				if n := api.listCount(keyA); n != 1 {
					t.Errorf("%d list requests, want 1 (none for %v after a failure)", n, 30*time.Second)
				}
			})
		})
	}
}

// A list item that carries every field of the full record is taken as the
// record when the call changes but has not ended: no GET for the answer.
func TestACompleteListItemIsTakenForAChangeShortOfTheEnd(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		api := newFakeAPI()
		api.fullList = true
		ids := []string{"c1", "c2", "c3"}
		for _, id := range ids {
			api.addAnswered(keyA, id, 2*time.Second, 6500*time.Millisecond)
		}
		hub := newHub(t, nil)
		c := newClient(t, api, keyA)
		var wg sync.WaitGroup
		for _, id := range ids {
			wg.Go(func() {
				time.Sleep(time.Millisecond)
				s := hub.Follow("fpA", c, id)
				defer s.Close()
				answered := false
				for {
					<-s.C()
					u := s.Latest()
					answered = answered || u.Call != nil && u.Call.Status == "in_progress"
					if u.Final {
						if u.Call == nil || u.Call.Status != "completed" || u.Call.Transcript == nil {
							t.Errorf("%s: final %+v, want the full completed record", id, u)
						}
						break
					}
				}
				if !answered {
					t.Errorf("%s: never seen in progress", id)
				}
			})
		}
		wg.Wait()
		for _, id := range ids {
			if n := api.count(keyA, id); n != 2 {
				t.Errorf("%s: %d GETs, want 2 (first, ended)", id, n)
			}
		}
	})
}

// A webhook-backed call stays on its safety net and is never batched; the
// key's other call, now followed alone by polling, is polled by id.
func TestAWebhookBackedCallIsNotBatched(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		api := newFakeAPI()
		api.add(keyA, "hooked", time.Hour)
		api.add(keyA, "polled", time.Hour)
		hub := newHub(t, nil)
		hub.Expect("fpA", "hooked")
		c := newClient(t, api, keyA)
		s1 := hub.Follow("fpA", c, "hooked")
		defer s1.Close()
		s2 := hub.Follow("fpA", c, "polled")
		defer s2.Close()
		time.Sleep(10500 * time.Millisecond)
		synctest.Wait()
		if n := api.count(keyA, "hooked"); n != 1 {
			t.Errorf("the webhook-backed call: %d GETs in 10.5 s, want 1 (safety net at 15 s)", n)
		}
		if n := api.count(keyA, "polled"); n != 11 {
			t.Errorf("the polled call: %d GETs in 10.5 s, want 11", n)
		}
		if n := api.listCount(keyA); n != 0 {
			t.Errorf("%d list requests, want 0", n)
		}
	})
}

// With replicas sharing a store, the replica holding several calls'
// leases follows them with lists; the other reads its records; every
// subscriber on both reaches the end. (Each call also costs a GET by the
// other replica when the holder, its call ended, lets the lease go: as
// before batching.)
func TestBatchingOnSharedReplicas(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		api := newFakeAPI()
		ids := []string{"c1", "c2", "c3", "c4"}
		for _, id := range ids {
			api.addAnswered(keyA, id, 2*time.Second, 8500*time.Millisecond)
		}
		api.addAnswered(keyB, "solo", 2*time.Second, 8500*time.Millisecond)
		hubs, _ := replicas(t, 2)
		c := newClient(t, api, keyA)
		var wg sync.WaitGroup
		for i, id := range ids { // out of step: lists serve followers that are not due
			for r, hub := range hubs {
				wg.Go(func() { followToEnd(t, hub, "fpA", c, id, time.Duration(3*i+r)*100*time.Millisecond) })
			}
		}
		cb := newClient(t, api, keyB)
		for r, hub := range hubs {
			wg.Go(func() { followToEnd(t, hub, "fpB", cb, "solo", time.Duration(r)*100*time.Millisecond) })
		}
		wg.Wait()
		one, four := api.total(keyB), api.total(keyA)
		t.Logf("over 2 replicas: one call %d requests, four calls of one key %d (%d lists)", one, four, api.listCount(keyA))
		if api.listCount(keyA) == 0 {
			t.Error("no list request: the lease holder did not batch its calls")
		}
		// Unbatched, each call would cost what the one does.
		if four > 3*one {
			t.Errorf("four calls of one key cost %d requests, over 3 times one call's %d", four, one)
		}
	})
}
