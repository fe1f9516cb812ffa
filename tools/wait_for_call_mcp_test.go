package tools_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/byourside/bys-mcp/internal/app"
	"github.com/byourside/bys-mcp/internal/sandbox"
	"github.com/byourside/bys-mcp/internal/testkit"
	"github.com/byourside/bys-mcp/tools"
	"github.com/mark3labs/mcp-go/mcp"
	"github.com/sirupsen/logrus"
)

func TestWaitForCallReturnsTheFinalRecordWithExtractedValuesOfTheDeclaredTypes(t *testing.T) {
	c := connect(t, newApp(t, nil))
	fields := []any{
		map[string]any{"name": "booked", "type": "boolean"},
		map[string]any{"name": "party_size", "type": "number"},
		map[string]any{"name": "name_on_booking", "type": "string"},
		map[string]any{"name": "notes"},
	}
	id := wantOK(t, c.call("place_call", placeArgs(map[string]any{"fields": fields})))["callId"].(string)
	res := c.call("wait_for_call", map[string]any{"callId": id, "timeoutSec": 10})
	rec := wantOK(t, res)
	if rec["timedOut"] != false || rec["status"] != "completed" {
		t.Fatalf("timedOut = %v, status = %v, want false, completed", rec["timedOut"], rec["status"])
	}
	if s, _ := rec["summary"].(string); s == "" {
		t.Errorf("no summary: %v", rec)
	}
	ex, _ := rec["extracted"].(map[string]any)
	checks := map[string]func(any) bool{
		"booked":          func(v any) bool { _, ok := v.(bool); return ok },
		"party_size":      func(v any) bool { _, ok := v.(float64); return ok },
		"name_on_booking": func(v any) bool { _, ok := v.(string); return ok },
		"notes":           func(v any) bool { _, ok := v.(string); return ok },
	}
	for name, ok := range checks {
		if !ok(ex[name]) {
			t.Errorf("extracted[%s] = %#v, not of the declared type", name, ex[name])
		}
	}
	if _, ok := rec["hint"]; ok {
		t.Errorf("a finished wait carries a hint: %v", rec["hint"])
	}
	if !strings.Contains(testkit.TextOf(res), "Extracted:") {
		t.Errorf("text rendering lacks the extracted values: %s", testkit.TextOf(res))
	}
}

func TestWaitForCallEndsOnEveryTerminalStatus(t *testing.T) {
	c := connect(t, newApp(t, nil))
	tests := []struct {
		to, status string
		check      func(t *testing.T, rec map[string]any)
	}{
		{"+14155550001", "no_answer", func(t *testing.T, rec map[string]any) {
			if rec["startedAt"] != nil {
				t.Errorf("startedAt = %v, want null", rec["startedAt"])
			}
		}},
		{"+14155550002", "voicemail", nil},
		{"+14155550003", "declined", nil},
		{"+14155550004", "failed", func(t *testing.T, rec map[string]any) {
			if rec["error"] != "carrier_error" {
				t.Errorf("error = %v, want carrier_error", rec["error"])
			}
		}},
		{"+14155550005", "completed", func(t *testing.T, rec map[string]any) {
			ex, _ := rec["extracted"].(map[string]any)
			if len(ex) != 1 || ex["booked"] != nil {
				t.Errorf("extracted = %v, want booked: null", rec["extracted"])
			}
			if _, present := ex["booked"]; !present {
				t.Errorf("extracted lacks the requested field: %v", ex)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.status+" "+tt.to, func(t *testing.T) {
			args := placeArgs(map[string]any{"to": tt.to, "fields": []any{map[string]any{"name": "booked", "type": "boolean"}}})
			id := wantOK(t, c.call("place_call", args))["callId"].(string)
			rec := c.waitEnded(id)
			if rec["status"] != tt.status {
				t.Fatalf("status = %v, want %s", rec["status"], tt.status)
			}
			if tt.check != nil {
				tt.check(t, rec)
			}
		})
	}
}

// progressLog collects the progress notifications of one client.
type progressLog struct {
	mu    sync.Mutex
	notes map[any][]map[string]any
}

func watchProgress(c *mcpClient) *progressLog {
	p := &progressLog{notes: map[any][]map[string]any{}}
	c.OnNotification(func(n mcp.JSONRPCNotification) {
		if n.Method != "notifications/progress" {
			return
		}
		// Decode the notification as a client on the wire would see it.
		raw, _ := json.Marshal(n)
		var wire struct {
			Params map[string]any `json:"params"`
		}
		_ = json.Unmarshal(raw, &wire)
		f := wire.Params
		p.mu.Lock()
		p.notes[f["progressToken"]] = append(p.notes[f["progressToken"]], f)
		p.mu.Unlock()
	})
	return p
}

func (p *progressLog) of(token string) []map[string]any {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]map[string]any(nil), p.notes[token]...)
}

// lifecycle orders the statuses of a completing call.
var lifecycle = map[string]int{"queued": 1, "dialing": 2, "in_progress": 3, "completed": 4}

// TestWaitForCallSendsProgressOnEachStatusChangeBeforeTheResult runs the
// wait 20 times per protocol era (10 one after the other, 10 at once) to
// catch the last notification arriving after the result.
func TestWaitForCallSendsProgressOnEachStatusChangeBeforeTheResult(t *testing.T) {
	for _, era := range testkit.Eras {
		t.Run(era.Name, func(t *testing.T) {
			t.Parallel()
			c := connect(t, newApp(t, nil), era.Opts...)
			progress := watchProgress(c)
			for run := range 10 {
				checkProgressRun(t, c, progress, fmt.Sprintf("seq%d", run))
			}
			t.Run("concurrent", func(t *testing.T) {
				for run := range 10 {
					t.Run(fmt.Sprint(run), func(t *testing.T) {
						t.Parallel()
						checkProgressRun(t, c, progress, fmt.Sprintf("par%d", run))
					})
				}
			})
		})
	}
}

// checkProgressRun places a call, waits for it with a progress token, and
// checks the notifications that had arrived when the result did.
func checkProgressRun(t *testing.T, c *mcpClient, progress *progressLog, token string) {
	t.Helper()
	id := wantOK(t, c.call("place_call", placeArgs(map[string]any{"objective": "Run " + token + "."})))["callId"].(string)
	res, err := c.callCtx(context.Background(), "wait_for_call", map[string]any{"callId": id, "timeoutSec": 10}, &mcp.Meta{ProgressToken: token})
	// Read what arrived before the result, at once.
	notes := progress.of(token)
	if err != nil {
		t.Fatal(err)
	}
	if rec := wantOK(t, res); rec["status"] != "completed" {
		t.Fatalf("%s: status %v", token, rec["status"])
	}
	if len(notes) == 0 {
		t.Fatalf("%s: no progress notification before the result", token)
	}
	last := -1.0
	lastStage := 0
	for _, n := range notes {
		p, _ := n["progress"].(float64)
		if p <= last {
			t.Errorf("%s: progress not strictly increasing: %v", token, notes)
		}
		last = p
		msg, _ := n["message"].(string)
		status, _, _ := strings.Cut(strings.TrimPrefix(msg, "call status: "), " ")
		stage := lifecycle[status]
		if stage < lastStage || stage == 0 {
			t.Errorf("%s: status %q out of order or repeated: %v", token, msg, notes)
		}
		lastStage = stage
		if total, ok := n["total"].(float64); ok && p > total {
			t.Errorf("%s: progress %v above total %v", token, p, total)
		}
	}
	if msg := notes[len(notes)-1]["message"]; msg != "call status: completed" {
		t.Fatalf("%s: the last notification before the result is %v, want the terminal status; got %v", token, msg, notes)
	}
}

func TestWaitForCallWithoutProgressTokenSendsNoProgress(t *testing.T) {
	c := connect(t, newApp(t, nil))
	progress := watchProgress(c)
	id := wantOK(t, c.call("place_call", placeArgs(nil)))["callId"].(string)
	c.waitEnded(id)
	time.Sleep(20 * time.Millisecond)
	progress.mu.Lock()
	defer progress.mu.Unlock()
	if len(progress.notes) != 0 {
		t.Errorf("progress sent without a token: %v", progress.notes)
	}
}

func TestWaitForCallTimeoutReturnsTheLatestRecordWithTimedOut(t *testing.T) {
	c := connect(t, newApp(t, nil))
	id := wantOK(t, c.call("place_call", placeArgs(map[string]any{"to": "+14155550007"})))["callId"].(string)
	start := time.Now()
	res := c.call("wait_for_call", map[string]any{"callId": id, "timeoutSec": 1})
	elapsed := time.Since(start)
	rec := wantOK(t, res)
	if rec["timedOut"] != true {
		t.Fatalf("timedOut = %v, want true", rec["timedOut"])
	}
	if rec["id"] != id || rec["status"] != "in_progress" {
		t.Errorf("record = %v, want the running call", rec)
	}
	if h, _ := rec["hint"].(string); !strings.Contains(h, "wait_for_call") {
		t.Errorf("hint should say to call wait_for_call again: %q", h)
	}
	if !strings.Contains(testkit.TextOf(res), "not an error") {
		t.Errorf("text should say the time-out is not an error: %s", testkit.TextOf(res))
	}
	if elapsed < 900*time.Millisecond || elapsed > 3*time.Second {
		t.Errorf("a 1 s wait took %v", elapsed)
	}
}

func TestWaitForCallRefusesBadArguments(t *testing.T) {
	c := connect(t, newApp(t, nil))
	tests := []struct {
		args  map[string]any
		token string
		names string
	}{
		{map[string]any{}, "invalid_argument", "callId"},
		{map[string]any{"callId": "abc", "timeoutSec": 0}, "invalid_argument", "timeoutSec"},
		{map[string]any{"callId": "abc", "timeoutSec": 301}, "invalid_argument", "timeoutSec"},
		{map[string]any{"callId": "abc", "timeoutSec": "10"}, "invalid_argument", "timeoutSec"},
		{map[string]any{"callId": "f47ac10b-58cc-4372-a567-0e02b2c3d479", "timeoutSec": 1}, "not_found", "not"},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.args), func(t *testing.T) {
			res := c.call("wait_for_call", tt.args)
			wantToolError(t, res, tt.token)
			if !strings.Contains(testkit.TextOf(res), tt.names) {
				t.Errorf("message does not name %s: %s", tt.names, testkit.TextOf(res))
			}
		})
	}
}

func TestWaitForCallStopsPollingWhenCancelled(t *testing.T) {
	deps, rec := directDeps(t)
	_, place := tools.PlaceCall(deps)
	_, wait := tools.WaitForCall(deps)
	id := wantOK(t, callDirect(t, context.Background(), place, placeArgs(map[string]any{"to": "+14155550007"})))["callId"].(string)

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		req := mcp.CallToolRequest{}
		req.Params.Arguments = map[string]any{"callId": id, "timeoutSec": 60}
		_, _ = wait(ctx, req)
	}()
	time.Sleep(300 * time.Millisecond)
	if rec.Gets() == 0 {
		t.Fatal("the wait never polled")
	}
	cancel()
	select {
	case <-done:
	case <-time.After(time.Second):
		t.Fatal("the handler did not return within 1 s of the cancellation")
	}
	// A GET sent just before the cancellation may still be reaching the
	// API; count from after it landed.
	time.Sleep(100 * time.Millisecond)
	after := rec.Gets()
	time.Sleep(300 * time.Millisecond)
	if n := rec.Gets(); n != after {
		t.Errorf("%d GETs after the cancellation", n-after)
	}
}

func TestWaitForCallThroughMCPReturnsPromptlyWhenTheRequestIsCancelled(t *testing.T) {
	c := connect(t, newApp(t, nil))
	id := wantOK(t, c.call("place_call", placeArgs(map[string]any{"to": "+14155550007"})))["callId"].(string)
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(200*time.Millisecond, cancel)
	start := time.Now()
	req := mcp.CallToolRequest{}
	req.Params.Name = "wait_for_call"
	req.Params.Arguments = map[string]any{"callId": id, "timeoutSec": 60}
	res, err := c.CallTool(ctx, req)
	if err == nil && (res == nil || !res.IsError) {
		t.Errorf("a cancelled wait returned a success: %v", res)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("the cancelled wait returned after %v", d)
	}
}

// A long wait is never silent: a heartbeat at least every interval, with
// progress = seconds waited and total = timeoutSec, saying the status and
// for how long. The schedule is scaled: 3 s with a 250 ms heartbeat stands
// for a 90 s wait with the 15 s default (which would give six).
func TestWaitForCallSendsAHeartbeatWhileTheCallRuns(t *testing.T) {
	if tools.DefaultProgressInterval != 15*time.Second {
		t.Errorf("DefaultProgressInterval = %v, want 15 s", tools.DefaultProgressInterval)
	}
	for _, era := range testkit.Eras {
		t.Run(era.Name, func(t *testing.T) {
			logs := &testkit.SyncBuffer{}
			a := &testApp{App: testkit.SandboxApp(t, nil, testkit.NewLogger(logs, logrus.DebugLevel),
				app.Options{SandboxOptions: sandbox.Options{TimeScale: 50}, Poll: testkit.FastPoll(), ProgressInterval: 250 * time.Millisecond}), logs: logs}
			c := connect(t, a, era.Opts...)
			progress := watchProgress(c)
			id := wantOK(t, c.call("place_call", placeArgs(map[string]any{"to": "+14155550007"})))["callId"].(string)
			res, err := c.callCtx(context.Background(), "wait_for_call", map[string]any{"callId": id, "timeoutSec": 3}, &mcp.Meta{ProgressToken: "hb"})
			notes := progress.of("hb")
			if err != nil {
				t.Fatal(err)
			}
			if rec := wantOK(t, res); rec["timedOut"] != true {
				t.Fatalf("wait = %v, want timedOut", rec)
			}
			beats, last := 0, -1.0
			for _, n := range notes {
				p, _ := n["progress"].(float64)
				if p <= last || p > 3 {
					t.Errorf("progress %v after %v (total 3): %v", p, last, notes)
				}
				last = p
				if n["total"] != 3.0 {
					t.Errorf("total = %v, want 3 (timeoutSec)", n["total"])
				}
				if msg, _ := n["message"].(string); strings.HasPrefix(msg, "call status: in_progress for ") && strings.HasSuffix(msg, " s") {
					beats++
				}
			}
			if beats < 5 {
				t.Errorf("%d in_progress notifications in a 3 s wait with a 250 ms heartbeat, want at least 5: %v", beats, notes)
			}
		})
	}
}
