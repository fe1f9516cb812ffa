package mcpserver_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/byourside/bys-mcp/config"
	"github.com/byourside/bys-mcp/internal/app"
	"github.com/byourside/bys-mcp/internal/mcpserver"
	"github.com/byourside/bys-mcp/internal/sandbox"
	"github.com/byourside/bys-mcp/internal/testkit"
	"github.com/mark3labs/mcp-go/client/transport"
	"github.com/mark3labs/mcp-go/mcp"
)

// rawSession speaks raw JSON-RPC to an in-process server, so tests see
// exactly what a tasks-capable client sees.
type rawSession struct {
	t     *testing.T
	tr    *transport.InProcessTransport
	notes testkit.Notifications
	next  int64
}

// apiCounter counts the API requests of every app newApp builds.
var apiCounter = &testkit.APIRecorder{}

func newApp(t *testing.T, adjust func(*mcpserver.TaskOptions), cfgEdit func(*config.Config)) *app.App {
	t.Helper()
	return testkit.SandboxApp(t, cfgEdit, testkit.QuietLogger(), app.Options{
		SandboxOptions: sandbox.Options{TimeScale: 20},
		Poll:           testkit.FastPoll(),
		TaskOptions:    adjust,
		WrapTransport:  apiCounter.Transport,
	})
}

// serveApp serves a newApp on transport (sse or http) over loopback HTTP
// and returns its base URL.
func serveApp(t *testing.T, transport string) string {
	t.Helper()
	return testkit.ServeHTTPTest(t, newApp(t, nil, func(c *config.Config) { c.Transport = transport }))
}

func connect(t *testing.T, a *app.App) *rawSession {
	t.Helper()
	tr := transport.NewInProcessTransport(a.Server.MCP())
	s := &rawSession{t: t, tr: tr}
	tr.SetNotificationHandler(s.notes.Add)
	if err := tr.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = tr.Close() })
	s.call("initialize", map[string]any{"protocolVersion": "2025-11-25", "capabilities": map[string]any{}, "clientInfo": map[string]any{"name": "tasks-test", "version": "1"}})
	return s
}

func (s *rawSession) call(method string, params any) map[string]any {
	s.t.Helper()
	s.next++
	resp, err := s.tr.SendRequest(context.Background(), transport.JSONRPCRequest{JSONRPC: "2.0", ID: mcp.NewRequestId(s.next), Method: method, Params: params})
	if err != nil {
		s.t.Fatalf("%s: %v", method, err)
	}
	if resp.Error != nil {
		s.t.Fatalf("%s: JSON-RPC error %d %s", method, resp.Error.Code, resp.Error.Message)
	}
	var out map[string]any
	if err := json.Unmarshal(resp.Result, &out); err != nil {
		s.t.Fatalf("%s: %v", method, err)
	}
	return out
}

func (s *rawSession) callErr(method string, params any) *transport.JSONRPCResponse {
	s.t.Helper()
	s.next++
	resp, err := s.tr.SendRequest(context.Background(), transport.JSONRPCRequest{JSONRPC: "2.0", ID: mcp.NewRequestId(s.next), Method: method, Params: params})
	if err != nil {
		s.t.Fatalf("%s: %v", method, err)
	}
	return resp
}

func (s *rawSession) place(to string) string {
	s.t.Helper()
	res := s.call("tools/call", map[string]any{"name": "place_call", "arguments": map[string]any{"to": to, "objective": "Book a table for 2", "allowDuplicate": true}})
	sc, _ := res["structuredContent"].(map[string]any)
	id, _ := sc["callId"].(string)
	if id == "" {
		s.t.Fatalf("place_call: no callId in %v", res)
	}
	return id
}

func (s *rawSession) startWaitTask(callID string, ttlMs int64, progressToken string) string {
	s.t.Helper()
	params := map[string]any{"name": "wait_for_call", "arguments": map[string]any{"callId": callID, "timeoutSec": 1}, "task": map[string]any{}}
	if ttlMs > 0 {
		params["task"] = map[string]any{"ttl": ttlMs}
	}
	if progressToken != "" {
		params["_meta"] = map[string]any{"progressToken": progressToken}
	}
	res := s.call("tools/call", params)
	task, _ := res["task"].(map[string]any)
	id, _ := task["taskId"].(string)
	if id == "" || task["status"] != "working" {
		s.t.Fatalf("task-augmented wait_for_call did not answer with a working task: %v", res)
	}
	return id
}

func (s *rawSession) taskStatus(id string) string {
	res := s.call("tasks/get", map[string]any{"taskId": id})
	st, _ := res["status"].(string)
	return st
}

func (s *rawSession) waitStatus(id string, want string, within time.Duration) {
	s.t.Helper()
	deadline := time.Now().Add(within)
	var st string
	for time.Now().Before(deadline) {
		if st = s.taskStatus(id); st == want {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	s.t.Fatalf("task %s is %q after %s, want %q", id, st, within, want)
}

// A task-augmented wait outlives timeoutSec: the call takes ~0.55 s at
// TimeScale 20 while timeoutSec is 1 s, so use the long-call number
// (in_progress 90 s → 4.5 s) to prove the task waits past timeoutSec.
func TestTaskWaitsPastTimeoutUntilTerminal(t *testing.T) {
	a := newApp(t, nil, nil)
	s := connect(t, a)
	callID := s.place("+14155550006")
	taskID := s.startWaitTask(callID, 0, "tp")
	if st := s.taskStatus(taskID); st != "working" {
		t.Fatalf("task status right after creation = %q, want working", st)
	}
	s.waitStatus(taskID, "completed", 15*time.Second)
	res := s.call("tasks/result", map[string]any{"taskId": taskID})
	sc, _ := res["structuredContent"].(map[string]any)
	if sc["status"] != "completed" || sc["timedOut"] != false || sc["id"] != callID {
		t.Fatalf("tasks/result = %v, want the completed record with timedOut false", sc)
	}
	if _, ok := sc["summary"]; !ok {
		t.Fatalf("task result lacks the record's summary: %v", sc)
	}
	if progress := len(s.notes.Of("notifications/progress")); progress < 2 {
		t.Fatalf("got %d progress notifications for the task, want at least 2", progress)
	}
}

func TestTaskCancelStopsPollingAndLeavesTheCall(t *testing.T) {
	a := newApp(t, nil, nil)
	s := connect(t, a)
	callID := s.place("+14155550007") // never ends
	taskID := s.startWaitTask(callID, 0, "")
	time.Sleep(100 * time.Millisecond)
	s.call("tasks/cancel", map[string]any{"taskId": taskID})
	s.waitStatus(taskID, "cancelled", 1500*time.Millisecond)
	// Polling has stopped: no GET reaches the API afterwards.
	time.Sleep(100 * time.Millisecond)
	before := apiCounter.Gets()
	time.Sleep(400 * time.Millisecond)
	if after := apiCounter.Gets(); after != before {
		t.Fatalf("the cancelled task's wait still polls the API: %d GETs after cancel", after-before)
	}
	// The call itself is untouched: it goes on to in_progress (answered
	// after 3 s of sandbox time, 150 ms at TimeScale 20) and stays there.
	time.Sleep(300 * time.Millisecond)
	res := s.call("tools/call", map[string]any{"name": "get_call", "arguments": map[string]any{"callId": callID}})
	if sc, _ := res["structuredContent"].(map[string]any); sc["status"] != "in_progress" {
		t.Fatalf("call after cancelling its wait = %v, want still in_progress", sc)
	}
}

func TestTaskIsInvisibleToAnotherSession(t *testing.T) {
	a := newApp(t, nil, nil)
	owner := connect(t, a)
	other := connect(t, a)
	taskID := owner.startWaitTask(owner.place("+14155550007"), 0, "")
	for _, method := range []string{"tasks/get", "tasks/result", "tasks/cancel"} {
		if resp := other.callErr(method, map[string]any{"taskId": taskID}); resp.Error == nil {
			t.Errorf("%s of another session's task succeeded: %s", method, resp.Result)
		}
	}
	list := other.call("tasks/list", map[string]any{})
	if tasks, _ := list["tasks"].([]any); len(tasks) != 0 {
		t.Errorf("another session lists the task: %v", tasks)
	}
	owner.call("tasks/cancel", map[string]any{"taskId": taskID})
}

func TestTaskTTLEndsTheWork(t *testing.T) {
	a := newApp(t, nil, nil)
	s := connect(t, a)
	taskID := s.startWaitTask(s.place("+14155550007"), 300, "")
	deadline := time.Now().Add(3 * time.Second)
	for time.Now().Before(deadline) {
		resp := s.callErr("tasks/get", map[string]any{"taskId": taskID})
		if resp.Error != nil {
			return // expired and cleaned up
		}
		var r map[string]any
		_ = json.Unmarshal(resp.Result, &r)
		if st := r["status"]; st != "working" {
			return // the wait ended at the TTL
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatal("a task with a 300 ms TTL was still working after 3 s")
}

func TestPlaceCallWithTaskRunsOncePlainly(t *testing.T) {
	a := newApp(t, nil, nil)
	s := connect(t, a)
	res := s.call("tools/call", map[string]any{"name": "place_call", "arguments": map[string]any{"to": "+14155550123", "objective": "Once"}, "task": map[string]any{}})
	if _, isTask := res["task"]; isTask {
		t.Fatalf("place_call with params.task answered with a task: %v", res)
	}
	if sc, _ := res["structuredContent"].(map[string]any); sc["callId"] == nil {
		t.Fatalf("place_call with params.task did not place the call plainly: %v", res)
	}
	if n := a.Sandbox.TotalPlaced(); n != 1 {
		t.Fatalf("sandbox saw %d calls, want exactly 1", n)
	}
}

func TestPlainWaitIsUnchanged(t *testing.T) {
	a := newApp(t, nil, nil)
	s := connect(t, a)
	res := s.call("tools/call", map[string]any{"name": "wait_for_call", "arguments": map[string]any{"callId": s.place("+14155550007"), "timeoutSec": 1}})
	if sc, _ := res["structuredContent"].(map[string]any); sc["timedOut"] != true {
		t.Fatalf("plain wait_for_call on a never-ending call = %v, want timedOut true", sc)
	}
}

func TestToolsListShowsTaskSupportToLegacyClients(t *testing.T) {
	a := newApp(t, nil, nil)
	s := connect(t, a)
	res := s.call("tools/list", map[string]any{})
	found, campaignFound := false, false
	for _, raw := range res["tools"].([]any) {
		tool := raw.(map[string]any)
		exec, _ := tool["execution"].(map[string]any)
		switch tool["name"] {
		case "wait_for_call":
			found = exec["taskSupport"] == "optional"
		case "wait_for_campaign":
			campaignFound = exec["taskSupport"] == "optional"
		default:
			if exec != nil && exec["taskSupport"] != nil && exec["taskSupport"] != "forbidden" {
				t.Errorf("%s declares task support %v", tool["name"], exec)
			}
		}
	}
	if !found || !campaignFound {
		t.Fatalf("wait_for_call (%v) and wait_for_campaign (%v) must declare execution.taskSupport optional to a 2025-11-25 client", found, campaignFound)
	}
}

// TestTaskLibraryBug897 shows that mcp-go still cancels a task as soon as
// the tools/call that created it has answered (issue 897). When this test
// fails, the library is fixed: delete the workaround in tasks.go (Attach's
// context.WithoutCancel) and this test.
func TestTaskLibraryBug897(t *testing.T) {
	a := newApp(t, mcpserver.KeepRequestContext, nil)
	s := connect(t, a)
	taskID := s.startWaitTask(s.place("+14155550007"), 0, "")
	deadline := time.Now().Add(2 * time.Second)
	for time.Now().Before(deadline) {
		if st := s.taskStatus(taskID); st != "working" {
			return // the bug is still there: without the workaround the task ends at once
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatal("without the workaround the task kept working: mcp-go issue 897 looks fixed, remove the workaround")
}

func TestFailedTasksLeaveNoBookkeeping(t *testing.T) {
	a := newApp(t, nil, nil)
	s := connect(t, a)
	for i := 0; i < 5; i++ {
		res := s.call("tools/call", map[string]any{"name": "wait_for_call", "arguments": map[string]any{"callId": "bad id!"}, "task": map[string]any{}})
		if res["task"] == nil {
			t.Fatalf("no task handle: %v", res)
		}
	}
	deadline := time.Now().Add(2 * time.Second)
	for {
		p, c, b := a.Server.TaskBookkeeping()
		if p == 0 && c == 0 && b == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("after 5 tasks that failed before starting: pending %d, byCorr %d, byTask %d; want 0", p, c, b)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// wait_for_campaign as a task: it answers at once with a working task,
// waits past timeoutSec until every call has ended, and tasks/result is the
// campaign a plain wait would return, with timedOut false.
func TestCampaignWaitTaskRunsUntilEveryCallEnded(t *testing.T) {
	a := newApp(t, nil, nil)
	s := connect(t, a)
	res := s.call("tools/call", map[string]any{"name": "place_calls", "arguments": map[string]any{
		"objective": "Confirm the delivery window.", "concurrency": 1,
		"calls": []any{map[string]any{"to": "+14155550006"}, map[string]any{"to": "+14155550123"}},
	}})
	sc, _ := res["structuredContent"].(map[string]any)
	id, _ := sc["campaignId"].(string)
	if id == "" {
		t.Fatalf("place_calls: %v", res)
	}
	res = s.call("tools/call", map[string]any{"name": "wait_for_campaign", "arguments": map[string]any{"campaignId": id, "timeoutSec": 1}, "task": map[string]any{}})
	task, _ := res["task"].(map[string]any)
	taskID, _ := task["taskId"].(string)
	if taskID == "" || task["status"] != "working" {
		t.Fatalf("task-augmented wait_for_campaign did not answer with a working task: %v", res)
	}
	s.waitStatus(taskID, "completed", 30*time.Second)
	res = s.call("tasks/result", map[string]any{"taskId": taskID})
	sc, _ = res["structuredContent"].(map[string]any)
	if sc["campaignId"] != id || sc["status"] != "completed" || sc["timedOut"] == true {
		t.Fatalf("tasks/result = %v, want the completed campaign", sc)
	}
}
