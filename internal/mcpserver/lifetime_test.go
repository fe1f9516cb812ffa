package mcpserver_test

import (
	"bufio"
	"context"
	"net/http"
	"strings"
	"testing"
	"time"
)

// An SSE client that goes away must not leave its wait_for_call polling the
// API (mcp-go runs SSE tool handlers detached from any request).
func TestSSEDisconnectStopsTheWait(t *testing.T) {
	base := serveApp(t, "sse")

	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, base+"/sse", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	lines := make(chan string, 100)
	go func() {
		sc := bufio.NewScanner(resp.Body)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	var endpoint string
	for endpoint == "" {
		select {
		case l := <-lines:
			if e, ok := strings.CutPrefix(l, "data: "); ok && strings.Contains(e, "sessionId") {
				endpoint = base + e
			}
		case <-time.After(5 * time.Second):
			t.Fatal("no endpoint event on the SSE stream")
		}
	}
	post := func(body string) {
		r, err := http.Post(endpoint, "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		r.Body.Close()
	}
	awaitID := func(id string) string {
		for {
			select {
			case l := <-lines:
				if strings.Contains(l, `"id":`+id+`,`) || strings.Contains(l, `"id":`+id+`}`) {
					return l
				}
			case <-time.After(5 * time.Second):
				t.Fatalf("no response %s on the SSE stream", id)
			}
		}
	}
	post(`{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}`)
	awaitID("1")
	post(`{"jsonrpc":"2.0","method":"notifications/initialized"}`)
	post(`{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"place_call","arguments":{"to":"+14155550007","objective":"Never ends"}}}`)
	placed := awaitID("2")
	i := strings.Index(placed, `"callId":"`)
	if i < 0 {
		t.Fatalf("place_call answer has no callId: %s", placed)
	}
	callID := placed[i+10 : i+10+36]
	post(`{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"wait_for_call","arguments":{"callId":"` + callID + `","timeoutSec":60}}}`)
	time.Sleep(300 * time.Millisecond)

	cancel() // the client goes away
	resp.Body.Close()
	time.Sleep(500 * time.Millisecond)
	before := apiCounter.Gets()
	time.Sleep(600 * time.Millisecond)
	if after := apiCounter.Gets(); after != before {
		t.Fatalf("the wait of a disconnected SSE client still polls the API: %d GETs", after-before)
	}
}
