package follow_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/byourside/bys-mcp/client"
	"github.com/byourside/bys-mcp/internal/follow"
	"github.com/byourside/bys-mcp/internal/inproc"
	"github.com/byourside/bys-mcp/internal/state"
)

const (
	keyA = "bys_ak_follow_test_key_a"
	keyB = "bys_ak_follow_test_key_b"
)

// fakeAPI serves GET /v1/agent/calls/{id}: each call belongs to one key and
// turns completed at a set time after the API started; fail makes the next
// answers an error status instead. It serves GET /v1/agent/calls?limit=N
// too: the key's calls, most recently added first, in the reference's list
// shape (no transcript, extracted fields, recording or error: fullList adds
// them); listFail makes the list answer an error status.
type fakeAPI struct {
	mu       sync.Mutex
	start    time.Time
	owner    map[string]string        // call id -> key
	ends     map[string]time.Duration // call id -> when it completes
	ans      map[string]time.Duration // call id -> when it is answered (dialing before)
	fail     map[string]int           // call id -> status to answer with
	gets     map[string]int           // "key call" -> GETs
	gate     chan struct{}            // when set, a GET waits for it to close
	order    []string                 // call ids, as added
	lists    map[string]int           // key -> list requests
	limits   []int                    // the limit of every list request
	listFail int
	fullList bool
}

func newFakeAPI() *fakeAPI {
	return &fakeAPI{start: time.Now(), owner: map[string]string{}, ends: map[string]time.Duration{}, ans: map[string]time.Duration{},
		fail: map[string]int{}, gets: map[string]int{}, lists: map[string]int{}}
}

func (f *fakeAPI) add(key, id string, endsAfter time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.owner[id]; !ok {
		f.order = append(f.order, id)
	}
	f.owner[id], f.ends[id] = key, endsAfter
}

// addAnswered adds a call that dials until answers, then is in progress
// until ends.
func (f *fakeAPI) addAnswered(key, id string, answers, ends time.Duration) {
	f.add(key, id, ends)
	f.mu.Lock()
	defer f.mu.Unlock()
	f.ans[id] = answers
}

func (f *fakeAPI) setFail(id string, status int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.fail[id] = status
}

func (f *fakeAPI) count(key, id string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.gets[key+" "+id]
}

// listCount is the number of list requests made with key.
func (f *fakeAPI) listCount(key string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.lists[key]
}

// total is every request made with key: GETs by id and lists.
func (f *fakeAPI) total(key string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := f.lists[key]
	for k, v := range f.gets {
		if strings.HasPrefix(k, key+" ") {
			n += v
		}
	}
	return n
}

// statusLocked is id's status el after the start; f.mu is held.
func (f *fakeAPI) statusLocked(id string, el time.Duration) string {
	switch {
	case el >= f.ends[id]:
		return "completed"
	case el < f.ans[id]:
		return "dialing"
	}
	return "in_progress"
}

func (f *fakeAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	key := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
	w.Header().Set("Content-Type", "application/json")
	if r.URL.Path == "/v1/agent/calls" {
		f.serveList(w, r, key)
		return
	}
	id := strings.TrimPrefix(r.URL.Path, "/v1/agent/calls/")
	f.mu.Lock()
	f.gets[key+" "+id]++
	owner, fail, gate := f.owner[id], f.fail[id], f.gate
	status := f.statusLocked(id, time.Since(f.start))
	f.mu.Unlock()
	if gate != nil {
		<-gate
	}
	switch {
	case fail != 0:
		w.WriteHeader(fail)
		fmt.Fprintf(w, `{"error":"store_error"}`)
		return
	case owner != key:
		w.WriteHeader(http.StatusNotFound)
		fmt.Fprint(w, `{"error":"not_found"}`)
		return
	}
	_ = json.NewEncoder(w).Encode(fullRecord(id, status))
}

// fullRecord is a call record as GET /v1/agent/calls/{id} answers it.
func fullRecord(id, status string) map[string]any {
	rec := map[string]any{"id": id, "status": status, "to": "+14155550123", "objective": "follow test",
		"summary": nil, "transcript": nil, "extracted": nil, "recordingUrl": nil, "startedAt": nil, "endedAt": nil,
		"durationSec": nil, "error": nil}
	if client.IsTerminalStatus(status) {
		rec["summary"], rec["transcript"], rec["extracted"] = "done", "Agent: hello", map[string]any{"ok": true}
	}
	return rec
}

func (f *fakeAPI) serveList(w http.ResponseWriter, r *http.Request, key string) {
	limit := 20
	if q := r.URL.Query().Get("limit"); q != "" {
		limit, _ = strconv.Atoi(q)
	}
	f.mu.Lock()
	f.lists[key]++
	f.limits = append(f.limits, limit)
	fail, full := f.listFail, f.fullList
	el := time.Since(f.start)
	items := []map[string]any{}
	for i := len(f.order) - 1; i >= 0 && len(items) < limit; i-- {
		id := f.order[i]
		if f.owner[id] != key {
			continue
		}
		rec := fullRecord(id, f.statusLocked(id, el))
		if !full {
			for _, k := range []string{"transcript", "extracted", "recordingUrl", "error"} {
				delete(rec, k)
			}
		}
		items = append(items, rec)
	}
	f.mu.Unlock()
	if fail != 0 {
		w.WriteHeader(fail)
		fmt.Fprintf(w, `{"error":"store_error"}`)
		return
	}
	_ = json.NewEncoder(w).Encode(map[string]any{"calls": items})
}

func newClient(t *testing.T, api http.Handler, key string) *client.Client {
	t.Helper()
	c, err := client.New(client.Options{BaseURL: "http://api.invalid", APIKey: key, MaxRetries: -1,
		HTTPClient: &http.Client{Transport: inproc.Transport{Handler: api}}})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// schedule is a plain poll schedule: a request every second.
func schedule(time.Duration) time.Duration { return time.Second }

// oneCallAPI is a fake API with one call, c1 of key A, that ends in an
// hour.
func oneCallAPI() *fakeAPI {
	api := newFakeAPI()
	api.add(keyA, "c1", time.Hour)
	return api
}

func newHub(t *testing.T, active func(int)) *follow.Hub {
	h := follow.New(follow.Options{Poll: schedule, Active: active})
	t.Cleanup(h.Close)
	return h
}

// waitFinal reads s until the follower says it stopped, returning the last
// update and how many updates were seen.
func waitFinal(t *testing.T, s *follow.Sub) (follow.Update, int) {
	t.Helper()
	n := 0
	for {
		<-s.C()
		u := s.Latest()
		n++
		if u.Final {
			return u, n
		}
	}
}

func TestManySubscribersShareOneStreamOfRequests(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		api := newFakeAPI()
		api.add(keyA, "c1", 5500*time.Millisecond)
		hub := newHub(t, nil)
		c := newClient(t, api, keyA)
		var wg sync.WaitGroup
		for range 20 {
			wg.Go(func() {
				s := hub.Follow("fpA", c, "c1")
				defer s.Close()
				u, _ := waitFinal(t, s)
				if u.Err != nil || u.Call.Status != "completed" {
					t.Errorf("final update %+v, want the completed record", u)
				}
			})
		}
		wg.Wait()
		// Requests at 0, 1, ... 6 s: the one at 6 s sees the end.
		if n := api.count(keyA, "c1"); n != 7 {
			t.Errorf("20 subscribers cost %d GETs, want 7 (one follower's)", n)
		}
		synctest.Wait()
		if hub.Active() != 0 {
			t.Errorf("%d followers still running after the call ended", hub.Active())
		}
	})
}

func TestALateJoinerGetsAFreshRecordAtOnceAndAStaleOneRefreshed(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		api := oneCallAPI()
		hub := follow.New(follow.Options{Poll: func(time.Duration) time.Duration { return 10 * time.Second }, Fresh: time.Second})
		defer hub.Close()
		c := newClient(t, api, keyA)
		first := hub.Follow("fpA", c, "c1")
		defer first.Close()
		<-first.C()
		if api.count(keyA, "c1") != 1 {
			t.Fatalf("GETs = %d, want 1", api.count(keyA, "c1"))
		}

		time.Sleep(500 * time.Millisecond) // the record is 0.5 s old: fresh
		late := hub.Follow("fpA", c, "c1")
		select {
		case <-late.C():
		default:
			t.Fatal("a late joiner was not signalled at once")
		}
		if u := late.Latest(); u.Call == nil || u.Call.Status != "in_progress" || u.Seq != 1 {
			t.Fatalf("late joiner got %+v, want the first record", u)
		}
		synctest.Wait()
		if n := api.count(keyA, "c1"); n != 1 {
			t.Errorf("a joiner on a fresh record cost a GET (GETs = %d)", n)
		}
		late.Close()

		time.Sleep(2 * time.Second) // now 2.5 s old: stale
		stale := hub.Follow("fpA", c, "c1")
		defer stale.Close()
		<-stale.C()
		synctest.Wait()
		if n := api.count(keyA, "c1"); n != 2 {
			t.Errorf("a joiner on a stale record: GETs = %d, want 2 (one at once)", n)
		}
		if u := stale.Latest(); u.Seq != 2 {
			t.Errorf("after the refresh Seq = %d, want 2", u.Seq)
		}
	})
}

func TestClosingOneSubscriberLeavesTheOthersFollowing(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		api := newFakeAPI()
		api.add(keyA, "c1", 10*time.Second)
		var mu sync.Mutex
		var gauge []int
		hub := newHub(t, func(n int) { mu.Lock(); gauge = append(gauge, n); mu.Unlock() })
		c := newClient(t, api, keyA)
		quitter := hub.Follow("fpA", c, "c1")
		stayer := hub.Follow("fpA", c, "c1")
		defer stayer.Close()
		<-quitter.C()
		quitter.Close()
		quitter.Close() // twice is harmless
		u, _ := waitFinal(t, stayer)
		if u.Call.Status != "completed" {
			t.Fatalf("the remaining subscriber got %+v", u)
		}
		synctest.Wait()
		mu.Lock()
		defer mu.Unlock()
		if fmt.Sprint(gauge) != "[1 0]" {
			t.Errorf("active followers went %v, want [1 0]", gauge)
		}
	})
}

func TestTheFollowerStopsWhenNobodyFollows(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		api := oneCallAPI()
		hub := newHub(t, nil)
		c := newClient(t, api, keyA)
		s1 := hub.Follow("fpA", c, "c1")
		s2 := hub.Follow("fpA", c, "c1")
		time.Sleep(3500 * time.Millisecond)
		s1.Close()
		s2.Close()
		synctest.Wait()
		n := api.count(keyA, "c1")
		if n != 4 {
			t.Errorf("GETs before everyone left = %d, want 4 (0, 1, 2, 3 s)", n)
		}
		if hub.Active() != 0 {
			t.Fatalf("%d followers running with nobody following", hub.Active())
		}
		time.Sleep(time.Minute)
		if m := api.count(keyA, "c1"); m != n {
			t.Errorf("%d GETs after everyone left", m-n)
		}
		// Following again starts a new follower that asks at once.
		s3 := hub.Follow("fpA", c, "c1")
		defer s3.Close()
		<-s3.C()
		if m := api.count(keyA, "c1"); m != n+1 {
			t.Errorf("a new subscriber: GETs = %d, want %d", m, n+1)
		}
	})
}

func TestTheSameCallIDUnderTwoKeysIsTwoFollowers(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		api := newFakeAPI()
		api.add(keyA, "c1", 2*time.Second)
		hub := newHub(t, nil)
		a := hub.Follow("fpA", newClient(t, api, keyA), "c1")
		defer a.Close()
		b := hub.Follow("fpB", newClient(t, api, keyB), "c1")
		defer b.Close()
		ua, _ := waitFinal(t, a)
		ub, _ := waitFinal(t, b)
		if ua.Err != nil || ua.Call.Status != "completed" {
			t.Errorf("key A got %+v, want its completed record", ua)
		}
		if !client.IsNotFound(ub.Err) || ub.Call != nil {
			t.Errorf("key B got %+v, want not found and no record", ub)
		}
		if api.count(keyB, "c1") != 1 {
			t.Errorf("key B's follower sent %d GETs, want 1 (404 is final)", api.count(keyB, "c1"))
		}
	})
}

func TestAPIErrorsReachTheSubscribers(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		api := newFakeAPI()
		api.add(keyA, "c1", 5*time.Second)
		hub := newHub(t, nil)
		c := newClient(t, api, keyA)
		s := hub.Follow("fpA", c, "c1")
		defer s.Close()
		<-s.C()
		if u := s.Latest(); u.Err != nil || u.Call == nil {
			t.Fatalf("first update %+v", u)
		}
		api.setFail("c1", http.StatusServiceUnavailable)
		<-s.C()
		u := s.Latest()
		if !client.Retryable(u.Err) || u.Final || u.Call == nil || u.Call.Status != "in_progress" {
			t.Fatalf("after a 503: %+v, want a retryable error with the last record kept", u)
		}
		// A subscriber joining now does not see the error from before it.
		late := hub.Follow("fpA", c, "c1")
		defer late.Close()
		if lu := late.Latest(); lu.Err != nil || lu.Call == nil {
			t.Errorf("a late joiner saw %+v, want the record without the earlier error", lu)
		}
		api.setFail("c1", 0)
		fu, _ := waitFinal(t, s)
		if fu.Err != nil || fu.Call.Status != "completed" {
			t.Errorf("after recovering: %+v", fu)
		}

		// A refusal that will not pass (401) stops the follower.
		api.add(keyA, "c2", time.Hour)
		api.setFail("c2", http.StatusUnauthorized)
		s2 := hub.Follow("fpA", c, "c2")
		defer s2.Close()
		u2, n := waitFinal(t, s2)
		if u2.Err == nil || client.Retryable(u2.Err) || n != 1 {
			t.Errorf("after a 401: %+v after %d updates, want one final error", u2, n)
		}
		synctest.Wait()
		if api.count(keyA, "c2") != 1 || hub.Active() != 0 {
			t.Errorf("GETs %d, active %d after a 401", api.count(keyA, "c2"), hub.Active())
		}
	})
}

func TestRefreshesCoalesceIntoOneRequest(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		api := oneCallAPI()
		hub := follow.New(follow.Options{Poll: func(time.Duration) time.Duration { return time.Minute }})
		defer hub.Close()
		c := newClient(t, api, keyA)
		subs := make([]*follow.Sub, 20)
		for i := range subs {
			subs[i] = hub.Follow("fpA", c, "c1")
			defer subs[i].Close()
		}
		<-subs[0].C()
		time.Sleep(10 * time.Second)
		gate := make(chan struct{})
		api.mu.Lock()
		api.gate = gate // the refresh's GET is answered only after every Refresh
		api.mu.Unlock()
		for _, s := range subs {
			if !s.Refresh() {
				t.Error("Refresh promised no update")
			}
		}
		close(gate)
		synctest.Wait()
		if n := api.count(keyA, "c1"); n != 2 {
			t.Errorf("20 refreshes: GETs = %d, want 2 (the first, one refresh)", n)
		}
	})
}

func TestAJoinerAfterTheEndGetsTheFinalRecordWhileFresh(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		api := newFakeAPI()
		api.add(keyA, "c1", 0)
		hub := newHub(t, nil)
		c := newClient(t, api, keyA)
		s := hub.Follow("fpA", c, "c1")
		waitFinal(t, s)
		s.Close()
		again := hub.Follow("fpA", c, "c1")
		u, _ := waitFinal(t, again)
		again.Close()
		if u.Call.Status != "completed" || api.count(keyA, "c1") != 1 {
			t.Errorf("joined after the end: %+v with %d GETs, want the record with 1 GET", u, api.count(keyA, "c1"))
		}
		time.Sleep(2 * time.Second) // no longer fresh
		late := hub.Follow("fpA", c, "c1")
		defer late.Close()
		waitFinal(t, late)
		if api.count(keyA, "c1") != 2 {
			t.Errorf("joined long after the end: %d GETs, want 2", api.count(keyA, "c1"))
		}
	})
}

func TestCloseStopsEveryFollowerAndWaitsForThem(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		api := oneCallAPI()
		api.add(keyA, "c2", time.Hour)
		hub := follow.New(follow.Options{Poll: schedule})
		c := newClient(t, api, keyA)
		s1 := hub.Follow("fpA", c, "c1")
		s2 := hub.Follow("fpA", c, "c2")
		<-s1.C()
		<-s2.C()
		hub.Close()
		if hub.Active() != 0 {
			t.Fatalf("%d followers running after Close", hub.Active())
		}
		n := api.count(keyA, "c1") + api.count(keyA, "c2")
		s3 := hub.Follow("fpA", c, "c3")
		time.Sleep(time.Minute)
		if m := api.count(keyA, "c1") + api.count(keyA, "c2") + api.count(keyA, "c3"); m != n {
			t.Errorf("%d GETs after Close", m-n)
		}
		select {
		case <-s3.C():
			t.Error("a subscriber after Close got an update")
		default:
		}
		s1.Close()
		s2.Close()
		s3.Close()
	})
}

func TestAWebhookBackedCallIsPolledOnTheSafetyNetAndWokenByEvents(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		api := newFakeAPI()
		api.addAnswered(keyA, "c1", 5*time.Second, 40*time.Second)
		hub := newHub(t, nil)
		hub.Expect("fpA", "c1")
		s := hub.Follow("fpA", newClient(t, api, keyA), "c1")
		defer s.Close()
		<-s.C()
		time.Sleep(5 * time.Second) // answered: the event arrives
		if !hub.Wake("fpA", "c1") {
			t.Fatal("Wake found no follower")
		}
		<-s.C()
		if u := s.Latest(); u.Call.Status != "in_progress" || u.Seq != 2 {
			t.Fatalf("after the wake-up: %+v, want the in_progress record at once", u)
		}
		if s.Refresh() {
			t.Error("Refresh of a webhook-backed call whose events arrive promised a request")
		}
		time.Sleep(30 * time.Second) // 35 s: safety-net polls at 20 and 35 s
		synctest.Wait()
		if n := api.count(keyA, "c1"); n != 4 {
			t.Errorf("GETs in 35 s = %d, want 4 (0 s, the wake-up at 5 s, 20 s, 35 s)", n)
		}
		time.Sleep(5 * time.Second) // ended at 40 s: the terminal event
		hub.Wake("fpA", "c1")
		u, _ := waitFinal(t, s)
		if u.Call.Status != "completed" || api.count(keyA, "c1") != 5 {
			t.Errorf("after the terminal event: %+v with %d GETs", u, api.count(keyA, "c1"))
		}
	})
}

func TestAChangeNoEventAnnouncedBringsTheNormalScheduleBack(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		api := newFakeAPI()
		api.addAnswered(keyA, "c1", 5*time.Second, time.Hour)
		hub := newHub(t, nil)
		hub.Expect("fpA", "c1")
		s := hub.Follow("fpA", newClient(t, api, keyA), "c1")
		defer s.Close()
		// No event: the safety-net poll at 15 s finds the call answered.
		time.Sleep(20500 * time.Millisecond)
		synctest.Wait()
		if n := api.count(keyA, "c1"); n != 7 {
			t.Errorf("GETs in 20.5 s = %d, want 7 (0 s, 15 s, then every second: 16 to 20 s)", n)
		}
		if !s.Refresh() {
			t.Error("Refresh after events stopped promised no request")
		}
	})
}

func TestAFloodOfWakeUpsIsRateLimitedPerCall(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		api := oneCallAPI()
		api.add(keyA, "c2", time.Hour)
		hub := newHub(t, nil)
		c := newClient(t, api, keyA)
		hub.Expect("fpA", "c1")
		hub.Expect("fpA", "c2")
		s1 := hub.Follow("fpA", c, "c1")
		defer s1.Close()
		s2 := hub.Follow("fpA", c, "c2")
		defer s2.Close()
		synctest.Wait()
		for range 100 { // 10 s of 10 wake-ups every 100 ms on c1
			for range 10 {
				hub.Wake("fpA", "c1")
			}
			time.Sleep(100 * time.Millisecond)
		}
		synctest.Wait()
		n := api.count(keyA, "c1")
		// The first request, at most 3 at once, one a second for 10 s.
		if n > 1+3+10 {
			t.Errorf("1000 wake-ups in 10 s cost %d GETs, over the limit of 14", n)
		}
		if n < 5 {
			t.Errorf("1000 wake-ups in 10 s cost %d GETs: the limit starves wake-ups", n)
		}
		if m := api.count(keyA, "c2"); m != 1 {
			t.Errorf("a flood on c1 cost c2 %d GETs, want 1", m)
		}
	})
}

func TestAWakeUpForACallNobodyFollowsCostsNothing(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		api := oneCallAPI()
		hub := newHub(t, nil)
		hub.Expect("fpA", "c1")
		if hub.Wake("fpA", "c1") || hub.Wake("fpB", "c1") {
			t.Error("Wake reported a follower where none runs")
		}
		s := hub.Follow("fpA", newClient(t, api, keyA), "c1")
		defer s.Close()
		<-s.C()
		if hub.Wake("fpB", "c1") {
			t.Error("a wake-up under another key reached key A's follower")
		}
		synctest.Wait()
		if api.count(keyA, "c1") != 1 || api.count(keyB, "c1") != 0 {
			t.Errorf("GETs A %d, B %d; want 1, 0", api.count(keyA, "c1"), api.count(keyB, "c1"))
		}
	})
}

func TestALateJoinerOfAWebhookBackedCallCostsNoRequest(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		api := oneCallAPI()
		hub := newHub(t, nil)
		hub.Expect("fpA", "c1")
		c := newClient(t, api, keyA)
		first := hub.Follow("fpA", c, "c1")
		defer first.Close()
		<-first.C()
		time.Sleep(10 * time.Second)
		late := hub.Follow("fpA", c, "c1")
		defer late.Close()
		<-late.C()
		synctest.Wait()
		if n := api.count(keyA, "c1"); n != 1 {
			t.Errorf("GETs = %d, want 1", n)
		}
	})
}

// flakyShared wraps a shared store: down makes every operation fail, and
// noRelease makes ReleaseLease do nothing (a replica that died).
type flakyShared struct {
	follow.Shared
	down, noRelease atomic.Bool
	leases          atomic.Int64 // AcquireLease calls
}

var errDown = errors.New("state store unavailable")

func (f *flakyShared) PutRecord(ctx context.Context, kind, id string, val []byte, ttl time.Duration, active bool) error {
	if f.down.Load() {
		return errDown
	}
	return f.Shared.PutRecord(ctx, kind, id, val, ttl, active)
}

func (f *flakyShared) GetRecord(ctx context.Context, kind, id string) ([]byte, bool, error) {
	if f.down.Load() {
		return nil, false, errDown
	}
	return f.Shared.GetRecord(ctx, kind, id)
}

func (f *flakyShared) AcquireLease(ctx context.Context, name, owner string, ttl time.Duration) (bool, error) {
	f.leases.Add(1)
	if f.down.Load() {
		return false, errDown
	}
	return f.Shared.AcquireLease(ctx, name, owner, ttl)
}

func (f *flakyShared) ReleaseLease(ctx context.Context, name, owner string) error {
	if f.down.Load() {
		return errDown
	}
	if f.noRelease.Load() {
		return nil
	}
	return f.Shared.ReleaseLease(ctx, name, owner)
}

// replicas returns n hubs that share one store, each through its own
// flakyShared, as n replicas on one Redis would.
func replicas(t *testing.T, n int) ([]*follow.Hub, []*flakyShared) {
	store := state.NewMemory()
	t.Cleanup(func() { _ = store.Close() })
	hubs := make([]*follow.Hub, n)
	shared := make([]*flakyShared, n)
	for i := range hubs {
		shared[i] = &flakyShared{Shared: store}
		hubs[i] = follow.New(follow.Options{Poll: schedule, Shared: shared[i], Owner: fmt.Sprintf("replica-%d", i)})
		t.Cleanup(hubs[i].Close)
	}
	return hubs, shared
}

func TestFollowersOnSeveralReplicasShareOneStreamOfRequests(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		api := newFakeAPI()
		api.add(keyA, "c1", 10500*time.Millisecond)
		hubs, _ := replicas(t, 3)
		c := newClient(t, api, keyA)
		var wg sync.WaitGroup
		for i := range 21 {
			wg.Go(func() {
				time.Sleep(time.Duration(i%7) * 100 * time.Millisecond) // joiners spread a little
				s := hubs[i%3].Follow("fpA", c, "c1")
				defer s.Close()
				u, _ := waitFinal(t, s)
				if u.Err != nil || u.Call.Status != "completed" {
					t.Errorf("subscriber %d on replica %d: %+v", i, i%3, u)
				}
			})
		}
		wg.Wait()
		// One follower alone: 0, 1, ... 11 s = 12 GETs.
		t.Logf("21 subscribers over 3 replicas: %d GETs", api.count(keyA, "c1"))
		if n := api.count(keyA, "c1"); n > 12+2 {
			t.Errorf("21 subscribers over 3 replicas cost %d GETs, want about 12 (one follower's)", n)
		}
	})
}

func TestAnotherReplicaTakesOverWhenTheHolderLeaves(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		api := newFakeAPI()
		api.add(keyA, "c1", 20*time.Second)
		hubs, shared := replicas(t, 2)
		c := newClient(t, api, keyA)
		a := hubs[0].Follow("fpA", c, "c1") // holds the lease
		<-a.C()
		b := hubs[1].Follow("fpA", c, "c1")
		defer b.Close()
		time.Sleep(5 * time.Second)
		before := api.count(keyA, "c1")
		// The holder dies without releasing its lease.
		shared[0].noRelease.Store(true)
		a.Close()
		u, _ := waitFinal(t, b)
		if u.Call.Status != "completed" {
			t.Fatalf("the remaining replica got %+v", u)
		}
		// 15 s more of following: about 15 GETs, none doubled.
		t.Logf("after the holder died: %d GETs in the last 15 s", api.count(keyA, "c1")-before)
		if n := api.count(keyA, "c1") - before; n > 17 {
			t.Errorf("after the holder died: %d GETs in 15 s, want about 15", n)
		}
	})
}

func TestFollowersPollOnTheirOwnWhileTheSharedStoreIsDown(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		api := newFakeAPI()
		api.add(keyA, "c1", 5500*time.Millisecond)
		hubs, shared := replicas(t, 2)
		shared[0].down.Store(true)
		shared[1].down.Store(true)
		c := newClient(t, api, keyA)
		var wg sync.WaitGroup
		for i := range 2 {
			wg.Go(func() {
				s := hubs[i].Follow("fpA", c, "c1")
				defer s.Close()
				if u, _ := waitFinal(t, s); u.Call.Status != "completed" {
					t.Errorf("replica %d: %+v", i, u)
				}
			})
		}
		wg.Wait()
		if n := api.count(keyA, "c1"); n != 14 {
			t.Errorf("GETs = %d, want 14 (each replica on its own: 0 to 6 s)", n)
		}
		// A store that failed is tried again every 5 s, not on every tick.
		if n := shared[0].leases.Load(); n > 2 {
			t.Errorf("replica 0 tried the store %d times in 6 s while it was down, want at most 2", n)
		}
	})
}

func TestSharedRecordsNeverCrossKeys(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		api := newFakeAPI()
		api.add(keyA, "c1", 3*time.Second)
		hubs, _ := replicas(t, 2)
		a := hubs[0].Follow("fpA", newClient(t, api, keyA), "c1")
		defer a.Close()
		<-a.C()
		b := hubs[1].Follow("fpB", newClient(t, api, keyB), "c1")
		defer b.Close()
		ub, _ := waitFinal(t, b)
		if !client.IsNotFound(ub.Err) || ub.Call != nil {
			t.Errorf("key B on the other replica got %+v, want not found", ub)
		}
		if ua, _ := waitFinal(t, a); ua.Call.Status != "completed" {
			t.Errorf("key A got %+v", ua)
		}
	})
}

// The first subscriber of a follower sees its first answer, even when that
// answer (a 404 here, at once from an in-memory API) comes before Follow
// has returned.
func TestTheFirstSubscriberSeesAnImmediateRefusal(t *testing.T) {
	api := newFakeAPI()
	hub := newHub(t, nil)
	c := newClient(t, api, keyA)
	for i := range 300 {
		s := hub.Follow("fpA", c, fmt.Sprintf("missing-%d", i))
		<-s.C()
		if u := s.Latest(); !client.IsNotFound(u.Err) || !u.Final {
			t.Fatalf("follow %d: %+v, want the final not-found error", i, u)
		}
		s.Close()
	}
}

func TestSharingResumesWhenTheStoreIsBack(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		api := newFakeAPI()
		api.add(keyA, "c1", 20500*time.Millisecond)
		hubs, shared := replicas(t, 2)
		for _, s := range shared {
			s.down.Store(true)
		}
		c := newClient(t, api, keyA)
		var wg sync.WaitGroup
		for i := range 2 {
			wg.Go(func() {
				s := hubs[i].Follow("fpA", c, "c1")
				defer s.Close()
				waitFinal(t, s)
			})
		}
		time.Sleep(3 * time.Second)
		for _, s := range shared {
			s.down.Store(false)
		}
		wg.Wait()
		// Apart for about 5 s (2 x 6 GETs), then one stream (about 16):
		// 42 if they never shared again.
		n := api.count(keyA, "c1")
		t.Logf("GETs with the store down for the first 3 s: %d", n)
		if n > 30 {
			t.Errorf("GETs = %d: the replicas did not share again once the store was back", n)
		}
	})
}

// With a shared store, a webhook-backed call is on the safety net too: the
// call was placed (Expect) on replica 2, its followers run on replicas 0
// and 1, and its events reach replica 2, which follows nothing. The lease
// holder learns of them through the wake-up marker, and the other replica
// through the holder's record, each within a couple of probes.
func TestAWebhookBackedCallOnSharedReplicasIsOnTheSafetyNet(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		api := newFakeAPI()
		api.addAnswered(keyA, "c1", 5*time.Second, 40*time.Second)
		hubs, _ := replicas(t, 3)
		hubs[2].Expect("fpA", "c1")
		c := newClient(t, api, keyA)
		s0 := hubs[0].Follow("fpA", c, "c1")
		defer s0.Close()
		synctest.Wait()
		time.Sleep(100 * time.Millisecond)
		s1 := hubs[1].Follow("fpA", c, "c1")
		defer s1.Close()
		time.Sleep(4900 * time.Millisecond) // 5 s: answered, the event reaches replica 2
		if hubs[2].Wake("fpA", "c1") {
			t.Fatal("Wake on replica 2 found a follower there")
		}
		time.Sleep(2 * follow.DefaultProbe) // a probe of the holder's, then one of the other's
		synctest.Wait()
		for i, s := range []*follow.Sub{s0, s1} {
			if u := s.Latest(); u.Call == nil || u.Call.Status != "in_progress" {
				t.Errorf("replica %d, %v after the event: %+v, want in_progress", i, 2*follow.DefaultProbe, u)
			}
		}
		time.Sleep(35*time.Second - 2*follow.DefaultProbe) // 40 s: safety-net polls at ~20 s and ~35 s
		synctest.Wait()
		if n := api.count(keyA, "c1"); n < 3 || n > 4 {
			t.Errorf("GETs by the replicas together in 40 s = %d, want 3-4 (0 s, the event at 5 s, the safety net at 20 and 35 s), not one a second", n)
		}
		hubs[2].Wake("fpA", "c1") // ended at 40 s: the terminal event, to replica 2 again
		time.Sleep(2 * follow.DefaultProbe)
		synctest.Wait()
		for i, s := range []*follow.Sub{s0, s1} {
			if u := s.Latest(); !u.Final || u.Call.Status != "completed" {
				t.Errorf("replica %d, %v after the terminal event: %+v, want the final completed record", i, 2*follow.DefaultProbe, u)
			}
		}
	})
}

// A quiet follower on a shared store that fails goes back to the normal
// schedule (it cannot hear of events that reach other replicas).
func TestAWebhookBackedCallOnSharedReplicasIsPolledWhileTheStoreIsDown(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		api := oneCallAPI()
		hubs, shared := replicas(t, 1)
		hubs[0].Expect("fpA", "c1")
		s := hubs[0].Follow("fpA", newClient(t, api, keyA), "c1")
		defer s.Close()
		time.Sleep(5500 * time.Millisecond)
		synctest.Wait()
		if n := api.count(keyA, "c1"); n != 1 {
			t.Errorf("GETs in 5.5 s with the store up = %d, want 1 (the safety net)", n)
		}
		shared[0].down.Store(true)
		time.Sleep(5 * time.Second)
		synctest.Wait()
		if n := api.count(keyA, "c1"); n < 5 {
			t.Errorf("GETs in 5 s with the store down = %d, want about 5 (every second)", n)
		}
	})
}

// A replica whose holder let the lease go (its waiters left) takes it at
// the next event, not at its next safety-net poll.
func TestAnEventAfterTheHolderLeftReachesTheOtherReplicaAtOnce(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		api := newFakeAPI()
		api.addAnswered(keyA, "c1", 5*time.Second, time.Hour)
		hubs, _ := replicas(t, 3)
		hubs[2].Expect("fpA", "c1")
		c := newClient(t, api, keyA)
		s0 := hubs[0].Follow("fpA", c, "c1")
		synctest.Wait()
		time.Sleep(100 * time.Millisecond)
		s1 := hubs[1].Follow("fpA", c, "c1")
		defer s1.Close()
		time.Sleep(1900 * time.Millisecond)
		s0.Close() // the holder leaves at 2 s and releases the lease
		time.Sleep(3 * time.Second)
		hubs[2].Wake("fpA", "c1") // answered at 5 s
		time.Sleep(2 * follow.DefaultProbe)
		synctest.Wait()
		if u := s1.Latest(); u.Call == nil || u.Call.Status != "in_progress" {
			t.Errorf("replica 1, %v after the event: %+v, want in_progress", 2*follow.DefaultProbe, u)
		}
		if n := api.count(keyA, "c1"); n != 2 {
			t.Errorf("GETs = %d, want 2 (replica 0's first, replica 1's at the event)", n)
		}
	})
}
