package bench

import (
	"context"
	"fmt"
	"net/http"
	"runtime"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/byourside/bys-mcp/client"
	"github.com/byourside/bys-mcp/config"
	"github.com/byourside/bys-mcp/internal/app"
	"github.com/byourside/bys-mcp/internal/follow"
	"github.com/byourside/bys-mcp/internal/inproc"
	"github.com/byourside/bys-mcp/internal/state"
	"github.com/byourside/bys-mcp/internal/testkit"
	"github.com/byourside/bys-mcp/tools"
	"github.com/mark3labs/mcp-go/mcp"
)

// followApp builds an app on an API answered by api (no socket), with the
// default poll schedule; its follower hub does not batch (the figures that
// use it are one call's).
func followApp(t *testing.T, api http.Handler) *app.App {
	t.Helper()
	cfg := config.Defaults()
	cfg.APIKey = benchKey
	cfg.BaseURL = "http://127.0.0.1:1"
	a, err := app.New(cfg, testkit.QuietLogger(), app.Options{HTTPClient: &http.Client{Transport: inproc.Transport{Handler: api}},
		FollowOptions: func(o *follow.Options) { o.NoBatch = true }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(a.Close)
	return a
}

// ownDeps is a copy of d's tool dependencies with a hub of its own, made
// with opts on d's poll schedule: a waiter on a hub of its own polls as
// every waiter did before followers were shared (issue 15); a hub with
// NoBatch polls every call by id, as every follower did before issue 22.
func ownDeps(t *testing.T, d *tools.Deps, opts follow.Options) *tools.Deps {
	opts.Poll = d.Poll.Next
	hub := follow.New(opts)
	t.Cleanup(hub.Close)
	return &tools.Deps{
		Client: d.Client, ServerKey: d.ServerKey, Log: d.Log, Schemas: d.Schemas, Limits: d.Limits,
		Store: d.Store, Poll: d.Poll, Follow: hub,
	}
}

type waitHandler = func(context.Context, mcp.CallToolRequest) (*mcp.CallToolResult, error)

// runWaits runs one wait_for_call on id per handler at once.
func runWaits(t *testing.T, handlers []waitHandler, id string) {
	var wg sync.WaitGroup
	for _, h := range handlers {
		wg.Go(func() {
			res, err := waitCall(context.Background(), h, id, 300)
			if err != nil || res.IsError {
				t.Errorf("%s: %v %+v", id, err, res)
			}
		})
	}
	wg.Wait()
}

// TestFollowFigures computes the following figures of BENCHMARKS.md with
// the real wait_for_call handler and the default schedule on synctest's
// fake clock (milliseconds of real time): GETs of 20 waits on one 22 s
// call, shared and as before (one poller per wait), in one process and over
// 3 replicas sharing a store (the memory store stands in for Redis); the
// API requests per minute of 20 calls of one key each with a waiter,
// batched (one list per tick) and not, against one call's; and the
// requests of 10 calls of one key followed to their ends, batched and
// not, against one call's over the same time. It only reports (FOLLOW
// lines).
func TestFollowFigures(t *testing.T) {
	var lines []string
	synctest.Test(t, func(t *testing.T) {
		flips := map[string]time.Duration{}
		for _, id := range []string{"one", "shared", "apart", "replicas", "replicas-apart"} {
			flips[id] = 22 * time.Second
		}
		for i := range 20 {
			flips[fmt.Sprintf("many%d", i)] = 5 * time.Minute
			flips[fmt.Sprintf("manyNB%d", i)] = 5 * time.Minute
		}
		flips["single"] = 5 * time.Minute
		api := newFlipAPI(flips)
		a := followApp(t, api)
		_, shared := tools.WaitForCall(a.Deps)
		gets := func(id string) int { return len(api.requests(id)) }

		many := make([]waitHandler, 20)
		for i := range many {
			many[i] = shared
		}
		apart := make([]waitHandler, 20)
		for i := range apart {
			_, apart[i] = tools.WaitForCall(ownDeps(t, a.Deps, follow.Options{}))
		}
		store := state.NewMemory()
		defer store.Close()
		var reps, repsApart []waitHandler
		for r := range 3 {
			_, h := tools.WaitForCall(ownDeps(t, a.Deps, follow.Options{Shared: store, Owner: fmt.Sprintf("replica-%d", r)}))
			_, hApart := tools.WaitForCall(ownDeps(t, a.Deps, follow.Options{}))
			for range 7 {
				reps = append(reps, h)
				repsApart = append(repsApart, hApart)
			}
		}
		// Every call starts now, so that they all last 22 s from here.
		var all sync.WaitGroup
		all.Go(func() { runWaits(t, []waitHandler{shared}, "one") })
		all.Go(func() { runWaits(t, many, "shared") })
		all.Go(func() { runWaits(t, apart, "apart") })
		all.Go(func() { runWaits(t, reps, "replicas") })
		all.Go(func() { runWaits(t, repsApart, "replicas-apart") })
		all.Wait()
		lines = append(lines, fmt.Sprintf("FOLLOW one_process_20_waiters one_waiter_gets=%d shared_gets=%d unshared_gets=%d", gets("one"), gets("shared"), gets("apart")))
		lines = append(lines, fmt.Sprintf("FOLLOW three_replicas_21_waiters shared_store_gets=%d per_replica_gets=%d", gets("replicas"), gets("replicas-apart")))

		// 20 calls of one key, a waiter each, for 5 minutes, batched and
		// not, against one call followed alone; each set on a hub of its
		// own (lists come from the batched one only).
		api.mu.Lock()
		api.start = time.Now() // the 5-minute calls start now
		api.mu.Unlock()
		lists := len(api.requests(listID))
		_, batched := tools.WaitForCall(ownDeps(t, a.Deps, follow.Options{}))
		_, unbatched := tools.WaitForCall(ownDeps(t, a.Deps, follow.Options{NoBatch: true}))
		_, alone := tools.WaitForCall(ownDeps(t, a.Deps, follow.Options{}))
		var wg sync.WaitGroup
		for i := range 20 {
			wg.Go(func() { runWaits(t, []waitHandler{batched}, fmt.Sprintf("many%d", i)) })
			wg.Go(func() { runWaits(t, []waitHandler{unbatched}, fmt.Sprintf("manyNB%d", i)) })
		}
		wg.Go(func() { runWaits(t, []waitHandler{alone}, "single") })
		wg.Wait()
		total, totalNB := len(api.requests(listID))-lists, 0
		for i := range 20 {
			total += gets(fmt.Sprintf("many%d", i))
			totalNB += gets(fmt.Sprintf("manyNB%d", i))
		}
		lines = append(lines, fmt.Sprintf("FOLLOW twenty_calls_one_key requests_per_min=%.1f unbatched_requests_per_min=%.1f one_call_requests_per_min=%.1f",
			float64(total)/5, float64(totalNB)/5, float64(gets("single"))/5))

		// 10 calls of one key placed half a second apart, each dialing for
		// 4 s then in progress for 16 to 25 s, followed to their ends,
		// batched and not, against one call followed alone for as long
		// (dialing 4 s, ended when the last of the ten ends).
		api.mu.Lock()
		api.start = time.Now()
		for i := range 10 {
			placed := time.Duration(i) * 500 * time.Millisecond
			for _, id := range []string{fmt.Sprintf("ten%d", i), fmt.Sprintf("tenNB%d", i)} {
				api.answer[id] = placed + 4*time.Second
				api.flip[id] = placed + 20*time.Second + time.Duration(i)*500*time.Millisecond
			}
		}
		api.answer["tenSingle"], api.flip["tenSingle"] = 4*time.Second, api.flip["ten9"]
		api.mu.Unlock()
		lists = len(api.requests(listID))
		_, batched = tools.WaitForCall(ownDeps(t, a.Deps, follow.Options{}))
		_, unbatched = tools.WaitForCall(ownDeps(t, a.Deps, follow.Options{NoBatch: true}))
		_, alone = tools.WaitForCall(ownDeps(t, a.Deps, follow.Options{}))
		for i := range 10 {
			wg.Go(func() {
				time.Sleep(time.Duration(i) * 500 * time.Millisecond)
				runWaits(t, []waitHandler{batched}, fmt.Sprintf("ten%d", i))
			})
			wg.Go(func() {
				time.Sleep(time.Duration(i) * 500 * time.Millisecond)
				runWaits(t, []waitHandler{unbatched}, fmt.Sprintf("tenNB%d", i))
			})
		}
		wg.Go(func() { runWaits(t, []waitHandler{alone}, "tenSingle") })
		wg.Wait()
		tenLists, tenGets, tenNB := len(api.requests(listID))-lists, 0, 0
		for i := range 10 {
			tenGets += gets(fmt.Sprintf("ten%d", i))
			tenNB += gets(fmt.Sprintf("tenNB%d", i))
		}
		lines = append(lines, fmt.Sprintf("FOLLOW ten_calls_one_key_to_their_ends requests=%d lists=%d gets=%d unbatched_requests=%d one_call_requests=%d ratio=%.2f",
			tenLists+tenGets, tenLists, tenGets, tenNB, gets("tenSingle"), float64(tenLists+tenGets)/float64(gets("tenSingle"))))
	})
	for _, l := range lines {
		t.Log(l)
		fmt.Println(l)
	}
}

// TestFollowerMemory measures the memory (heap and goroutine stacks) a
// follower and its subscriber hold
// while idle (a call that goes on, polled every hour), with 1,000 of them.
func TestFollowerMemory(t *testing.T) {
	flips := map[string]time.Duration{}
	const n = 1000
	for i := range n {
		flips[fmt.Sprintf("idle%d", i)] = time.Hour
	}
	api := newFlipAPI(flips)
	c, err := client.New(client.Options{BaseURL: "http://127.0.0.1:1", APIKey: benchKey, HTTPClient: &http.Client{Transport: inproc.Transport{Handler: api}}})
	if err != nil {
		t.Fatal(err)
	}
	hub := follow.New(follow.Options{Poll: func(time.Duration) time.Duration { return time.Hour }})
	defer hub.Close()
	heap := func() uint64 {
		runtime.GC()
		runtime.GC()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		return m.HeapAlloc + m.StackInuse
	}
	before := heap()
	subs := make([]*follow.Sub, n)
	for i := range subs {
		subs[i] = hub.Follow("fp", c, fmt.Sprintf("idle%d", i))
	}
	for _, s := range subs {
		<-s.C() // each has its first record
	}
	after := heap()
	per := float64(after-before) / n
	line := fmt.Sprintf("FOLLOW idle_followers=%d memory_total_kb=%.0f memory_per_follower_bytes=%.0f goroutines=%d", n, float64(after-before)/1024, per, runtime.NumGoroutine())
	t.Log(line)
	fmt.Println(line)
	for _, s := range subs {
		s.Close()
	}
}
