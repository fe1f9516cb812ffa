package e2e_test

import (
	"context"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/byourside/bys-mcp/internal/sandbox"
	"github.com/byourside/bys-mcp/internal/testkit"
	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// postClock notes when each POST reaches the API.
type postClock struct {
	mu    sync.Mutex
	times []time.Time
}

func (p *postClock) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost {
			p.mu.Lock()
			p.times = append(p.times, time.Now())
			p.mu.Unlock()
		}
		next.ServeHTTP(w, r)
	})
}

func (p *postClock) posts() []time.Time {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]time.Time(nil), p.times...)
}

// A later call (place_call with notBefore) set just before the stdio
// server is killed with SIGKILL is dialled exactly once, after notBefore,
// by the server started again on the same --state-dir.
func TestLaterCallSurvivesKill9AndRestart(t *testing.T) {
	t.Parallel()
	pc := &postClock{}
	api := testkit.HandlerServer(t, pc.wrap(sandbox.New(sandbox.Options{TimeScale: 20, RateLimitPerMinute: -1})))
	dir := t.TempDir()
	key := "bys_ak_e2e_later_restart"
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	first, cmd, _ := stdioOn(t, ctx, api.URL, key, dir)
	// The binary runs on the real clock: a few seconds ahead of now.
	notBefore, _ := time.Parse(time.RFC3339, time.Now().Add(3*time.Second).Format(time.RFC3339))
	res, err := first.CallTool(ctx, &mcp.CallToolParams{Name: "place_call", Arguments: map[string]any{
		"to": "+14155550123", "objective": "Confirm tomorrow's appointment.", "notBefore": notBefore.Format(time.RFC3339),
	}})
	if err != nil || res.IsError {
		t.Fatalf("place_call with notBefore: %v %v", err, res)
	}
	scheduled := structured(t, res)
	id, _ := scheduled["campaignId"].(string)
	if scheduled["scheduled"] != true || id == "" {
		t.Fatalf("place_call with notBefore = %v", scheduled)
	}
	// The process dies at once, with no chance to clean up.
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = first.Close()
	if n := len(pc.posts()); n != 0 {
		t.Fatalf("%d POSTs before notBefore", n)
	}

	second, _, stderr := stdioOn(t, ctx, api.URL, key, dir)
	var done map[string]any
	for {
		res, err := second.CallTool(ctx, &mcp.CallToolParams{Name: "wait_for_campaign", Arguments: map[string]any{"campaignId": id, "timeoutSec": 30}})
		if err != nil || res.IsError {
			t.Fatalf("wait_for_campaign after the restart: %v %v\n%s", err, res, stderr.String())
		}
		done = structured(t, res)
		if done["timedOut"] != true {
			break
		}
		if ctx.Err() != nil {
			t.Fatalf("the later call did not end after the restart: %v\n%s", done, stderr.String())
		}
	}
	items, _ := done["items"].([]any)
	if done["status"] != "completed" || len(items) != 1 {
		t.Fatalf("campaign after the restart: %v", done)
	}
	if it := items[0].(map[string]any); it["status"] != "completed" || it["attempts"] != float64(1) || it["callId"] == nil {
		t.Fatalf("the later call's item: %v", it)
	}
	time.Sleep(time.Second) // nothing more is dialled
	posts := pc.posts()
	if len(posts) != 1 {
		t.Fatalf("%d POSTs, want exactly 1", len(posts))
	}
	if posts[0].Before(notBefore) {
		t.Errorf("dialled at %v, before notBefore %v", posts[0], notBefore)
	}
}
