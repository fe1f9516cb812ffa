package mcpserver_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// httpSession is a raw 2025-11-25 Streamable HTTP session.
type httpSession struct {
	t   *testing.T
	url string
	id  string
	n   int
}

func (h *httpSession) post(body map[string]any) map[string]any {
	h.t.Helper()
	h.n++
	body["jsonrpc"] = "2.0"
	if _, notification := body["id"]; !notification && !strings.HasPrefix(body["method"].(string), "notifications/") {
		body["id"] = h.n
	}
	raw, _ := json.Marshal(body)
	req, _ := http.NewRequest(http.MethodPost, h.url, bytes.NewReader(raw))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	req.Header.Set("Mcp-Protocol-Version", "2025-11-25")
	if h.id != "" {
		req.Header.Set("Mcp-Session-Id", h.id)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	if id := resp.Header.Get("Mcp-Session-Id"); id != "" {
		h.id = id
	}
	data, _ := io.ReadAll(resp.Body)
	// The answer is the last JSON object of the body (plain JSON or SSE).
	var out map[string]any
	for _, line := range strings.Split(string(data), "\n") {
		line = strings.TrimPrefix(strings.TrimSpace(line), "data: ")
		var m map[string]any
		if json.Unmarshal([]byte(line), &m) == nil && m["id"] != nil {
			out = m
		}
	}
	return out
}

// listen opens the session's GET stream and collects its events.
func (h *httpSession) listen(ctx context.Context) (*[]string, *sync.Mutex) {
	var events []string
	var mu sync.Mutex
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, h.url, nil)
	req.Header.Set("Accept", "text/event-stream")
	req.Header.Set("Mcp-Session-Id", h.id)
	req.Header.Set("Mcp-Protocol-Version", "2025-11-25")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	go func() {
		defer resp.Body.Close()
		sc := bufio.NewScanner(resp.Body)
		for sc.Scan() {
			mu.Lock()
			events = append(events, sc.Text())
			mu.Unlock()
		}
	}()
	return &events, &mu
}

func newHTTPSession(t *testing.T, url string) *httpSession {
	h := &httpSession{t: t, url: url}
	h.post(map[string]any{"method": "initialize", "params": map[string]any{"protocolVersion": "2025-11-25", "capabilities": map[string]any{}, "clientInfo": map[string]any{"name": "t", "version": "1"}}})
	h.post(map[string]any{"method": "notifications/initialized"})
	if h.id == "" {
		t.Fatal("no Mcp-Session-Id after initialize")
	}
	return h
}

func TestTaskStatusReachesOnlyItsOwnSession(t *testing.T) {
	base := serveApp(t, "http")
	url := base + "/mcp"
	owner := newHTTPSession(t, url)
	other := newHTTPSession(t, url)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ownerEvents, ownerMu := owner.listen(ctx)
	otherEvents, otherMu := other.listen(ctx)
	time.Sleep(100 * time.Millisecond)

	placed := owner.post(map[string]any{"method": "tools/call", "params": map[string]any{"name": "place_call", "arguments": map[string]any{"to": "+14155550007", "objective": "Wait forever"}}})
	callID := placed["result"].(map[string]any)["structuredContent"].(map[string]any)["callId"]
	created := owner.post(map[string]any{"method": "tools/call", "params": map[string]any{"name": "wait_for_call", "arguments": map[string]any{"callId": callID}, "task": map[string]any{}}})
	taskID := created["result"].(map[string]any)["task"].(map[string]any)["taskId"].(string)
	owner.post(map[string]any{"method": "tasks/cancel", "params": map[string]any{"taskId": taskID}})
	time.Sleep(500 * time.Millisecond)

	otherMu.Lock()
	for _, e := range *otherEvents {
		if strings.Contains(e, taskID) {
			t.Errorf("another session received the task's id: %s", e)
		}
	}
	otherMu.Unlock()
	ownerMu.Lock()
	seen := false
	for _, e := range *ownerEvents {
		seen = seen || (strings.Contains(e, taskID) && strings.Contains(e, "notifications/tasks/status"))
	}
	ownerMu.Unlock()
	if !seen {
		t.Error("the owner's stream did not receive its own task's status notification")
	}
}

// A result that merely mentions the notification's method name is not a
// task status notification and must reach its client.
func TestResultsMentioningTaskStatusPass(t *testing.T) {
	base := serveApp(t, "http")
	h := newHTTPSession(t, base+"/mcp")
	placed := h.post(map[string]any{"method": "tools/call", "params": map[string]any{"name": "place_call", "arguments": map[string]any{"to": "+14155550123", "objective": "say notifications/tasks/status please"}}})
	if placed == nil || placed["result"] == nil {
		t.Fatalf("place_call answer lost: %v", placed)
	}
	listed := h.post(map[string]any{"method": "tools/call", "params": map[string]any{"name": "list_calls", "arguments": map[string]any{"limit": 1}}})
	if listed == nil || listed["result"] == nil {
		t.Fatalf("list_calls answer mentioning the method name was dropped: %v", listed)
	}
}
