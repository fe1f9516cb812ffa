package mcpserver_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

// With a 2025-11-25 session's GET stream open, wait_for_call's progress
// still travels on the SSE response of the POST that asked for it, before
// the result.
func TestLegacyProgressStaysOnItsPOSTStream(t *testing.T) {
	base := serveApp(t, "http")
	url := base + "/mcp"
	h := newHTTPSession(t, url)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	getEvents, getMu := h.listen(ctx)
	time.Sleep(100 * time.Millisecond)

	for round := 0; round < 3; round++ {
		placed := h.post(map[string]any{"method": "tools/call", "params": map[string]any{"name": "place_call", "arguments": map[string]any{"to": "+14155550123", "objective": "Round", "allowDuplicate": true}}})
		callID := placed["result"].(map[string]any)["structuredContent"].(map[string]any)["callId"].(string)

		token := "tok-" + callID
		body, _ := json.Marshal(map[string]any{"jsonrpc": "2.0", "id": 1000 + round, "method": "tools/call", "params": map[string]any{
			"name": "wait_for_call", "arguments": map[string]any{"callId": callID, "timeoutSec": 30},
			"_meta": map[string]any{"progressToken": token},
		}})
		req, _ := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept", "application/json, text/event-stream")
		req.Header.Set("Mcp-Protocol-Version", "2025-11-25")
		req.Header.Set("Mcp-Session-Id", h.id)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := io.ReadAll(resp.Body)
		resp.Body.Close()

		var progress int
		var sawResult, progressAfterResult bool
		for _, line := range strings.Split(string(raw), "\n") {
			line = strings.TrimPrefix(strings.TrimSpace(line), "data: ")
			var m map[string]any
			if json.Unmarshal([]byte(line), &m) != nil {
				continue
			}
			switch {
			case m["method"] == "notifications/progress":
				progress++
				progressAfterResult = progressAfterResult || sawResult
			case m["result"] != nil:
				sawResult = true
			}
		}
		if !sawResult {
			t.Fatalf("round %d: the POST carried no result:\n%s", round, raw)
		}
		if progress < 3 || progressAfterResult {
			t.Fatalf("round %d: the POST stream carried %d progress notifications (after the result: %v), want at least 3, all before it:\n%s", round, progress, progressAfterResult, raw)
		}
		getMu.Lock()
		for _, e := range *getEvents {
			if strings.Contains(e, token) {
				t.Errorf("round %d: progress for the POST went to the GET stream: %s", round, e)
			}
		}
		getMu.Unlock()
	}
}
