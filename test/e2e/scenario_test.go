package e2e_test

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// The sandbox's test numbers (see sandbox/numbers.go and the README).
const (
	numCompletes = "+14155550123" // queued 1 s, dialing 2 s, in_progress 8 s, completed
	numBlocked   = "+33142685300" // destination_blocked
	numForever   = "+14155550007" // answered, then in_progress forever
)

var transports = []transportKind{
	{Name: "stdio-2026", Transport: "stdio"},
	{Name: "stdio-2025", Transport: "stdio", Version: "2025-11-25"},
	{Name: "sse", Transport: "sse"},
	{Name: "http-2026", Transport: "http"},
	{Name: "http-2025", Transport: "http", Version: "2025-11-25"},
}

// TestScenario runs the same user journey over every transport and both
// protocol eras, in parallel.
func TestScenario(t *testing.T) {
	t.Parallel()
	onEveryTransport(t, func(t *testing.T, _ transportKind, c *client) { runScenario(t, c) })
}

// onEveryTransport runs fn in parallel subtests, one per transport kind,
// each with a client of the binary on the embedded sandbox (a server of
// its own for the HTTP transports).
func onEveryTransport(t *testing.T, fn func(t *testing.T, k transportKind, c *client)) {
	for _, k := range transports {
		t.Run(k.Name, func(t *testing.T) {
			t.Parallel()
			var srv *httpServer
			if k.Transport != "stdio" {
				srv = startHTTP(t, k.Transport, nil, "--sandbox")
			}
			fn(t, k, connect(t, k, srv, ""))
		})
	}
}

func runScenario(t *testing.T, c *client) {
	ctx, cancel := context.WithTimeout(context.Background(), 45*time.Second)
	defer cancel()

	// tools/list: exactly the eleven tools, annotated as the contract says,
	// each with an output schema.
	lt, err := c.Session.ListTools(ctx, nil)
	if err != nil {
		t.Fatalf("tools/list: %v", err)
	}
	var names []string
	for _, tool := range lt.Tools {
		names = append(names, tool.Name)
		if tool.OutputSchema == nil {
			t.Errorf("tool %s has no outputSchema", tool.Name)
		}
		if tool.Annotations == nil {
			t.Errorf("tool %s has no annotations", tool.Name)
			continue
		}
		a := tool.Annotations
		switch tool.Name {
		case "place_calls", "cancel_campaign", "pause_campaign", "resume_campaign", "retry_campaign":
			if a.ReadOnlyHint {
				t.Errorf("%s: readOnlyHint true, want false", tool.Name)
			}
		case "place_call":
			if a.ReadOnlyHint {
				t.Errorf("place_call: readOnlyHint true, want false")
			}
			if a.IdempotentHint {
				t.Errorf("place_call: idempotentHint true, want false")
			}
			if a.OpenWorldHint == nil || !*a.OpenWorldHint {
				t.Errorf("place_call: openWorldHint %v, want true", a.OpenWorldHint)
			}
		default:
			if !a.ReadOnlyHint {
				t.Errorf("%s: readOnlyHint false, want true", tool.Name)
			}
		}
	}
	sort.Strings(names)
	if got, want := strings.Join(names, ","), "cancel_campaign,get_call,list_calls,list_campaigns,pause_campaign,place_call,place_calls,resume_campaign,retry_campaign,wait_for_call,wait_for_campaign"; got != want {
		t.Errorf("tools = %s, want %s", got, want)
	}

	// place_call on the number that completes.
	res := c.callTool(t, ctx, "place_call", map[string]any{
		"to":        numCompletes,
		"objective": "Book a table for two tonight at 8pm",
		"fields": []map[string]any{
			{"name": "booked", "type": "boolean"},
			{"name": "contact_name"},
		},
	})
	mustOK(t, "place_call", res)
	placed := structured(t, res)
	callID, _ := placed["callId"].(string)
	if callID == "" {
		t.Fatalf("place_call: no callId in %v", placed)
	}
	if s, _ := placed["status"].(string); s == "" {
		t.Errorf("place_call: no status in %v", placed)
	}

	// wait_for_call with a progress token.
	token := "wait-" + callID
	params := &mcp.CallToolParams{Name: "wait_for_call", Arguments: map[string]any{"callId": callID, "timeoutSec": 30}}
	params.SetProgressToken(token)
	start := time.Now()
	res, err = c.Session.CallTool(ctx, params)
	if err != nil {
		t.Fatalf("wait_for_call: %v", err)
	}
	// Snapshot the notifications at the moment the result arrived: the last
	// one must already be there.
	events := c.Progress.For(token)
	t.Logf("wait_for_call took %s, %d progress notifications", time.Since(start).Round(time.Millisecond), len(events))
	mustOK(t, "wait_for_call", res)
	rec := structured(t, res)
	if rec["status"] != "completed" {
		t.Errorf("wait_for_call: status %v, want completed", rec["status"])
	}
	if rec["timedOut"] != false {
		t.Errorf("wait_for_call: timedOut %v, want false", rec["timedOut"])
	}
	if s, _ := rec["summary"].(string); s == "" {
		t.Errorf("wait_for_call: empty summary in %v", rec)
	}
	extracted, _ := rec["extracted"].(map[string]any)
	if _, ok := extracted["booked"].(bool); !ok {
		t.Errorf("wait_for_call: extracted.booked = %#v, want a bool (extracted %v)", extracted["booked"], rec["extracted"])
	}
	if len(events) < 3 {
		t.Errorf("got %d progress notifications before the result, want at least 3", len(events))
	}
	for i := 1; i < len(events); i++ {
		if events[i].Progress <= events[i-1].Progress {
			t.Errorf("progress not increasing: %v then %v", events[i-1].Progress, events[i].Progress)
		}
	}
	if n := len(events); n > 0 && !strings.Contains(events[n-1].Message, "completed") {
		t.Errorf("last progress notification before the result is %q, want the completed one", events[n-1].Message)
	}
	// Nothing more may arrive for this token after the result.
	time.Sleep(100 * time.Millisecond)
	if late := c.Progress.For(token); len(late) != len(events) {
		t.Errorf("%d progress notifications arrived after the result", len(late)-len(events))
	}

	// get_call returns the same record.
	res = c.callTool(t, ctx, "get_call", map[string]any{"callId": callID})
	mustOK(t, "get_call", res)
	got := structured(t, res)
	for _, f := range []string{"id", "status", "summary", "to"} {
		if fmt.Sprint(got[f]) != fmt.Sprint(rec[f]) {
			t.Errorf("get_call %s = %v, wait_for_call said %v", f, got[f], rec[f])
		}
	}
	if fmt.Sprint(got["extracted"]) != fmt.Sprint(rec["extracted"]) {
		t.Errorf("get_call extracted = %v, wait_for_call said %v", got["extracted"], rec["extracted"])
	}
	if got["id"] != callID {
		t.Errorf("get_call id = %v, want %s", got["id"], callID)
	}

	// list_calls has it first.
	res = c.callTool(t, ctx, "list_calls", map[string]any{})
	mustOK(t, "list_calls", res)
	calls, _ := structured(t, res)["calls"].([]any)
	if len(calls) == 0 {
		t.Fatalf("list_calls: no calls")
	}
	// Most recent first: only a call this scenario places later (to
	// numForever) may stand ahead of ours. Once in CI the client's requests
	// reached the server twice (the duplicate place_call was deduplicated), so
	// the later call could already exist when list_calls ran.
	found := false
	for _, c := range calls {
		m, _ := c.(map[string]any)
		if m["id"] == callID {
			found = true
			break
		}
		if m["to"] != numForever {
			t.Errorf("list_calls: call %v to %v stands ahead of %s, want most recent first", m["id"], m["to"], callID)
		}
	}
	if !found {
		t.Errorf("list_calls: %s is not in the list", callID)
	}

	// An API error.
	res = c.callTool(t, ctx, "place_call", map[string]any{"to": numBlocked, "objective": "Ask for opening hours"})
	if !res.IsError {
		t.Errorf("place_call to %s: want isError, got %s", numBlocked, resultText(res))
	} else {
		if !strings.Contains(resultText(res), "destination_blocked") {
			t.Errorf("place_call to %s: text does not name destination_blocked: %s", numBlocked, resultText(res))
		}
		if e := structured(t, res)["error"]; e != "destination_blocked" {
			t.Errorf("place_call to %s: structuredContent.error = %v, want destination_blocked", numBlocked, e)
		}
	}

	// A bad argument.
	res = c.callTool(t, ctx, "place_call", map[string]any{"to": "12345", "objective": "Ask for opening hours"})
	if !res.IsError {
		t.Errorf("place_call to 12345: want isError, got %s", resultText(res))
	} else if !strings.Contains(resultText(res), `"to"`) && !strings.Contains(resultText(res), "to ") {
		t.Errorf("place_call to 12345: text does not name the argument to: %s", resultText(res))
	}

	// Cancelling a wait returns promptly and leaves the session usable.
	res = c.callTool(t, ctx, "place_call", map[string]any{"to": numForever, "objective": "Hold the line"})
	mustOK(t, "place_call forever", res)
	foreverID, _ := structured(t, res)["callId"].(string)
	wctx, wcancel := context.WithCancel(ctx)
	time.AfterFunc(time.Second, wcancel)
	start = time.Now()
	_, err = c.Session.CallTool(wctx, &mcp.CallToolParams{Name: "wait_for_call", Arguments: map[string]any{"callId": foreverID, "timeoutSec": 60}})
	elapsed := time.Since(start)
	wcancel()
	if err == nil {
		t.Errorf("cancelled wait_for_call returned a result, want a context error")
	} else if !errors.Is(err, context.Canceled) {
		t.Logf("cancelled wait_for_call error: %v", err)
	}
	if elapsed > 3*time.Second {
		t.Errorf("cancelled wait_for_call returned after %s, want < 3s", elapsed)
	}
	// The SDK sends notifications/cancelled in the background; let it
	// land before the next call, as an agent's next turn would.
	time.Sleep(300 * time.Millisecond)
	res = c.callTool(t, ctx, "get_call", map[string]any{"callId": foreverID})
	mustOK(t, "get_call after cancel", res)
	if s := structured(t, res)["status"]; s != "in_progress" && s != "dialing" && s != "queued" {
		t.Errorf("get_call after cancel: status %v", s)
	}
}
