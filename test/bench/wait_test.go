package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/byourside/bys-mcp/config"
	"github.com/byourside/bys-mcp/internal/app"
	"github.com/byourside/bys-mcp/internal/follow"
	"github.com/byourside/bys-mcp/internal/inproc"
	"github.com/byourside/bys-mcp/internal/testkit"
	"github.com/byourside/bys-mcp/tools"
	"github.com/mark3labs/mcp-go/mcp"
)

// flipAPI answers GET /v1/agent/calls/{id} for calls whose status turns
// from in_progress to completed at a known time after start (dialing
// before the time in answer, when set), and records when each request
// came. It answers GET /v1/agent/calls?limit=N too (recorded under
// listID): the calls asked for by id so far, most recently first asked
// first, in the reference's list shape (no transcript, extracted fields,
// recording or error).
type flipAPI struct {
	mu     sync.Mutex
	start  time.Time
	flip   map[string]time.Duration
	answer map[string]time.Duration
	seen   map[string][]time.Duration // request times per call, since start
	placed []string                   // calls in the order of their first GET
}

// listID is the id under which flipAPI records list requests.
const listID = "(list)"

func newFlipAPI(flips map[string]time.Duration) *flipAPI {
	return &flipAPI{start: time.Now(), flip: flips, answer: map[string]time.Duration{}, seen: map[string][]time.Duration{}}
}

// recordLocked is id's record el after start; f.mu is held.
func (f *flipAPI) recordLocked(id string, el time.Duration) map[string]any {
	status := "in_progress"
	switch {
	case el >= f.flip[id]:
		status = "completed"
	case el < f.answer[id]:
		status = "dialing"
	}
	return map[string]any{
		"id": id, "status": status, "to": "+14155550123", "objective": "wait benchmark",
		"createdAt": "2026-01-01T00:00:00Z", "startedAt": nil, "endedAt": nil, "durationSec": nil,
		"summary": nil, "transcript": nil, "extracted": nil, "recordingUrl": nil, "error": nil,
	}
}

func (f *flipAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	if r.URL.Path == "/v1/agent/calls" && r.Method == http.MethodGet {
		limit, err := strconv.Atoi(r.URL.Query().Get("limit"))
		if err != nil {
			limit = 20
		}
		f.mu.Lock()
		el := time.Since(f.start)
		f.seen[listID] = append(f.seen[listID], el)
		calls := []map[string]any{}
		for i := len(f.placed) - 1; i >= 0 && len(calls) < limit; i-- {
			rec := f.recordLocked(f.placed[i], el)
			for _, k := range []string{"transcript", "extracted", "recordingUrl", "error"} {
				delete(rec, k)
			}
			calls = append(calls, rec)
		}
		f.mu.Unlock()
		_ = json.NewEncoder(w).Encode(map[string]any{"calls": calls})
		return
	}
	id := strings.TrimPrefix(r.URL.Path, "/v1/agent/calls/")
	f.mu.Lock()
	el := time.Since(f.start)
	_, ok := f.flip[id]
	if _, asked := f.seen[id]; ok && !asked {
		f.placed = append(f.placed, id)
	}
	f.seen[id] = append(f.seen[id], el)
	rec := f.recordLocked(id, el)
	f.mu.Unlock()
	if !ok {
		w.WriteHeader(http.StatusNotFound)
		_, _ = io.WriteString(w, `{"error":"not_found"}`)
		return
	}
	_ = json.NewEncoder(w).Encode(rec)
}

// requests returns the request times seen for id.
func (f *flipAPI) requests(id string) []time.Duration {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]time.Duration(nil), f.seen[id]...)
}

// waitCall runs wait_for_call's handler for id and returns when it ended.
func waitCall(ctx context.Context, h func(context.Context, mcp.CallToolRequest) (*mcp.CallToolResult, error), id string, timeoutSec int) (*mcp.CallToolResult, error) {
	req := mcp.CallToolRequest{}
	req.Params.Name = "wait_for_call"
	req.Params.Arguments = map[string]any{"callId": id, "timeoutSec": timeoutSec}
	return h(ctx, req)
}

// waitFigures are wait_for_call's efficiency figures.
type waitFigures struct {
	earlyMaxDelay, earlyMedDelay time.Duration // change in the first 10 s
	lateMaxDelay, lateMedDelay   time.Duration // change after 10 s
	reqPerMinAfter10s            float64
}

func (w waitFigures) String() string {
	return fmt.Sprintf("WAIT early_delay_p50_ms=%d early_delay_max_ms=%d late_delay_p50_ms=%d late_delay_max_ms=%d requests_per_min_after_10s=%.1f",
		w.earlyMedDelay.Milliseconds(), w.earlyMaxDelay.Milliseconds(), w.lateMedDelay.Milliseconds(), w.lateMaxDelay.Milliseconds(), w.reqPerMinAfter10s)
}

// TestWaitForCallFakeClock computes wait_for_call's efficiency with the
// real handler and tools.DefaultPollSchedule on synctest's fake clock (it
// takes milliseconds): calls flip to completed at many offsets in the first
// 10 s and after, and one call never ends for 5 minutes. It only reports
// the figures (scripts/bench reads the WAIT line); it asserts nothing about
// time.
func TestWaitForCallFakeClock(t *testing.T) {
	var fig waitFigures
	var early, late []time.Duration
	synctest.Test(t, func(t *testing.T) {
		flips := map[string]time.Duration{"never": time.Hour}
		for ms := 50; ms < 60000; ms += 173 { // odd step: every phase of the schedule
			flips[fmt.Sprintf("f%d", ms)] = time.Duration(ms) * time.Millisecond
		}
		api := newFlipAPI(flips)
		cfg := config.Defaults()
		cfg.APIKey = benchKey
		cfg.BaseURL = "http://127.0.0.1:1"
		cfg.CallingHours = "off" // not under test
		cfg.MaxCallsPerNumber, cfg.CallsPerNumber = "off", 0
		// Each call on its own schedule: these are one call's figures, not
		// those of several calls of one key sharing lists.
		noBatch := func(o *follow.Options) { o.NoBatch = true }
		a, err := app.New(cfg, testkit.QuietLogger(), app.Options{HTTPClient: &http.Client{Transport: inproc.Transport{Handler: api}}, FollowOptions: noBatch})
		if err != nil {
			t.Fatal(err)
		}
		defer a.Close()
		if a.Deps.Poll != tools.DefaultPollSchedule {
			t.Fatalf("poll schedule %+v is not the default", a.Deps.Poll)
		}
		_, h := tools.WaitForCall(a.Deps)
		ctx := context.Background()
		var wg sync.WaitGroup
		var mu sync.Mutex
		for id, at := range flips {
			wg.Add(1)
			go func() {
				defer wg.Done()
				res, err := waitCall(ctx, h, id, 300)
				if err != nil || res.IsError {
					t.Errorf("%s: %v %+v", id, err, res)
					return
				}
				seenAt := time.Since(api.start)
				if id == "never" {
					return
				}
				mu.Lock()
				if at < 10*time.Second {
					early = append(early, seenAt-at)
				} else {
					late = append(late, seenAt-at)
				}
				mu.Unlock()
			}()
		}
		wg.Wait()
		var n int
		var last time.Duration
		for _, at := range api.requests("never") {
			if at > 10*time.Second {
				n++
				last = at
			}
		}
		fig.reqPerMinAfter10s = float64(n) / (last - 10*time.Second).Minutes()
	})
	fig.earlyMedDelay, fig.earlyMaxDelay = quantile(early, .5), quantile(early, 1)
	fig.lateMedDelay, fig.lateMaxDelay = quantile(late, .5), quantile(late, 1)
	t.Log(fig)
	fmt.Println(fig) // for scripts/bench, with or without -v
}

// BenchmarkWaitForCall measures the same in real time through the whole
// server: the in-process MCP client calls wait_for_call on an app whose API
// is a standalone handler on loopback; one call turns completed 4.3 s in,
// another 63.7 s in. It takes about 65 s, so it runs only when asked for
// (-bench Wait); b.N is ignored (use -benchtime 1x).
func BenchmarkWaitForCall(b *testing.B) {
	const earlyAt, lateAt = 4300 * time.Millisecond, 63700 * time.Millisecond
	api := newFlipAPI(map[string]time.Duration{"early": earlyAt, "late": lateAt})
	srv := httptest.NewServer(api)
	defer srv.Close()
	c := inProcessClient(b, newAppAt(b, srv.URL, "stdio"))
	b.ResetTimer()
	var wg sync.WaitGroup
	seen := map[string]time.Duration{}
	var mu sync.Mutex
	for _, id := range []string{"early", "late"} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			req := mcp.CallToolRequest{}
			req.Params.Name = "wait_for_call"
			req.Params.Arguments = map[string]any{"callId": id, "timeoutSec": 120}
			res, err := c.CallTool(context.Background(), req)
			el := time.Since(api.start)
			if err != nil || res.IsError {
				b.Errorf("%s: %v", id, err)
				return
			}
			mu.Lock()
			seen[id] = el
			mu.Unlock()
		}()
	}
	wg.Wait()
	b.StopTimer()
	var n int
	for _, at := range api.requests("late") {
		if at > 10*time.Second && at <= lateAt {
			n++
		}
	}
	fig := waitFigures{
		earlyMaxDelay: seen["early"] - earlyAt, earlyMedDelay: seen["early"] - earlyAt,
		lateMaxDelay: seen["late"] - lateAt, lateMedDelay: seen["late"] - lateAt,
		reqPerMinAfter10s: float64(n) / (lateAt - 10*time.Second).Minutes(),
	}
	b.ReportMetric(float64(fig.earlyMaxDelay.Milliseconds()), "early-delay-ms")
	b.ReportMetric(float64(fig.lateMaxDelay.Milliseconds()), "late-delay-ms")
	b.ReportMetric(fig.reqPerMinAfter10s, "req/min-after-10s")
}
