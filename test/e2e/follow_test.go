package e2e_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/byourside/bys-mcp/internal/testkit"
)

// startStandaloneSandbox runs `bys-mcp sandbox` on a free loopback port at
// the given time scale and returns its base URL; it is killed at cleanup.
func startStandaloneSandbox(t *testing.T, timeScale string) string {
	t.Helper()
	sb, err := testkit.StartSandboxProcess(binPath, timeScale)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		sb.Stop()
		if t.Failed() {
			t.Logf("sandbox stderr:\n%s", sb.Stderr.String())
		}
	})
	return sb.URL
}

// apiGETs reads from /metrics how many GET /v1/agent/calls/{id} requests
// the server has sent to the API.
func apiGETs(t *testing.T, srv *httpServer) int {
	t.Helper()
	return int(testkit.MetricSum(t, testkit.Metrics(t, srv.URL), `bys_mcp_api_requests_total{route="GET /v1/agent/calls/{id}"`))
}

// Twenty clients, each in its own session, wait on one call at once, over
// Streamable HTTP and over SSE: the server sends the API at most 1.5 times
// the GETs of a single client's wait, plus five, as /metrics counts them.
func TestConcurrentWaitsShareOneFollower(t *testing.T) {
	t.Parallel()
	sandboxURL := startStandaloneSandbox(t, "4")
	for _, transport := range []string{"http", "sse"} {
		t.Run(transport, func(t *testing.T) {
			t.Parallel()
			srv := startHTTP(t, transport, []string{"BYS_API_KEY=bys_ak_e2e_follow_" + transport}, "--sandbox=false", "--base-url", sandboxURL)
			clients := connectN(t, transportKind{Name: transport, Transport: transport}, srv, 20)
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			measure := func(objective string, waiters []*client) int {
				placed := clients[0].callTool(t, ctx, "place_call", map[string]any{"to": "+14155550123", "objective": objective})
				mustOK(t, "place_call", placed)
				id := structured(t, placed)["callId"].(string)
				before := apiGETs(t, srv)
				var wg sync.WaitGroup
				for i, c := range waiters {
					wg.Go(func() {
						res := c.callTool(t, ctx, "wait_for_call", map[string]any{"callId": id, "timeoutSec": 60})
						if sc := structured(t, res); res.IsError || sc["status"] != "completed" {
							t.Errorf("waiter %d: %s", i, resultText(res))
						}
					})
				}
				wg.Wait()
				return apiGETs(t, srv) - before
			}
			single := measure("Ask for the opening hours, one waiter", clients[:1])
			shared := measure("Ask for the opening hours, twenty waiters", clients)
			t.Logf("%s: GETs for one waiter %d, for twenty %d", transport, single, shared)
			testkit.CheckSharedGETs(t, "twenty waiters", single, shared)
		})
	}
}

// With --public-url on loopback, the embedded sandbox delivers its webhooks
// to the server itself: concurrent waiters over Streamable HTTP and SSE see
// the end of the call moments after it, and the call costs a few GETs.
func TestWebhooksFromTheSandboxWakeTheWaiters(t *testing.T) {
	t.Parallel()
	for _, transport := range []string{"http", "sse"} {
		t.Run(transport, func(t *testing.T) {
			t.Parallel()
			srv := startHTTP(t, transport, nil, "--sandbox", "--public-url", "http://{addr}")
			clients := connectN(t, transportKind{Name: transport, Transport: transport}, srv, 5)
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			// Declined after ringing 4 s: one terminal event.
			placed := clients[0].callTool(t, ctx, "place_call", map[string]any{"to": "+14155550003", "objective": "Ask for the opening hours"})
			mustOK(t, "place_call", placed)
			id := structured(t, placed)["callId"].(string)
			before := apiGETs(t, srv)
			var wg sync.WaitGroup
			var mu sync.Mutex
			var worst time.Duration
			for i, c := range clients {
				wg.Go(func() {
					res := c.callTool(t, ctx, "wait_for_call", map[string]any{"callId": id, "timeoutSec": 60})
					answered := time.Now()
					sc := structured(t, res)
					if res.IsError || sc["status"] != "declined" {
						t.Errorf("waiter %d: %s", i, resultText(res))
						return
					}
					ended, err := time.Parse(time.RFC3339Nano, sc["endedAt"].(string))
					if err != nil {
						t.Errorf("endedAt %v: %v", sc["endedAt"], err)
						return
					}
					mu.Lock()
					worst = max(worst, answered.Sub(ended))
					mu.Unlock()
				})
			}
			wg.Wait()
			gets := apiGETs(t, srv) - before
			t.Logf("%s: %d GETs for the call, the last waiter answered %s after the call ended", transport, gets, worst)
			// Polling would cost about 7 (0.8 s apart for 5 s); with the
			// event: the follower's first GET and the one it wakes.
			if gets > 3 {
				t.Errorf("%d GETs for a webhook-backed call, want at most 3", gets)
			}
			if worst > 3*time.Second { // the goal is 300 ms; headroom for a loaded machine
				t.Errorf("a waiter answered %s after the call ended", worst)
			}
			if m := scrape(t, srv, "bys_webhook_events_total"); !strings.Contains(m, `outcome="accepted"} 1`) {
				t.Errorf("webhook metrics: %s", m)
			}
		})
	}
}

// scrape returns the /metrics lines that start with name.
func scrape(t *testing.T, srv *httpServer, name string) string {
	t.Helper()
	return testkit.MetricLines(testkit.Metrics(t, srv.URL), name)
}
