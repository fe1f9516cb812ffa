package mcpserver_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/byourside/bys-mcp/config"
)

// stdioPeer drives ServeStdio over pipes with raw JSON lines.
type stdioPeer struct {
	t   *testing.T
	in  *io.PipeWriter
	out *bufio.Reader
}

func startStdio(t *testing.T, edit func(*config.Config)) *stdioPeer {
	t.Helper()
	a := newApp(t, nil, edit)
	inR, inW := io.Pipe()
	outR, outW := io.Pipe()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Server.ServeStdio(ctx, inR, outW, nil) }()
	t.Cleanup(func() {
		_ = inW.Close()
		cancel()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			t.Error("ServeStdio did not return after stdin closed")
		}
		_ = outW.Close()
	})
	return &stdioPeer{t: t, in: inW, out: bufio.NewReaderSize(outR, 1<<20)}
}

func (p *stdioPeer) send(line string) {
	p.t.Helper()
	if _, err := io.WriteString(p.in, line+"\n"); err != nil {
		p.t.Fatal(err)
	}
}

// response reads lines until the response with id arrives.
func (p *stdioPeer) response(id int) map[string]any {
	p.t.Helper()
	for {
		line, err := p.out.ReadString('\n')
		if err != nil {
			p.t.Fatalf("reading stdout: %v", err)
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			p.t.Fatalf("stdout carried a non-JSON line: %q", line)
		}
		if v, ok := m["id"].(float64); ok && int(v) == id {
			return m
		}
	}
}

const modernMeta = `"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{}}`

func TestModernPlaceCallWithoutElicitationUnderAlwaysGetsMissingCapability(t *testing.T) {
	p := startStdio(t, func(c *config.Config) { c.ConfirmCalls = "always" })
	p.send(`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"place_call","arguments":{"to":"+14155550123","objective":"x"},` + modernMeta + `}}`)
	resp := p.response(1)
	e, _ := resp["error"].(map[string]any)
	if e == nil || e["code"] != float64(-32021) || !strings.Contains(fmt.Sprint(e["message"]), "confirmation_unavailable") {
		t.Fatalf("got %v, want JSON-RPC error -32021 naming confirmation_unavailable", resp)
	}
	// The server keeps serving.
	p.send(`{"jsonrpc":"2.0","id":2,"method":"tools/list","params":{` + modernMeta + `}}`)
	if r := p.response(2); r["result"] == nil {
		t.Fatalf("tools/list after the refusal failed: %v", r)
	}
}

func TestModernTasksRequestsAreRefused(t *testing.T) {
	p := startStdio(t, nil)
	for i, method := range []string{"tasks/get", "tasks/list", "tasks/cancel", "tasks/result"} {
		p.send(fmt.Sprintf(`{"jsonrpc":"2.0","id":%d,"method":%q,"params":{"taskId":"x",%s}}`, i+1, method, modernMeta))
		resp := p.response(i + 1)
		if e, _ := resp["error"].(map[string]any); e == nil || e["code"] != float64(-32601) {
			t.Errorf("%s from a 2026-07-28 client: got %v, want -32601", method, resp)
		}
	}
}

func TestModernToolsListHasNoTaskExecution(t *testing.T) {
	p := startStdio(t, nil)
	p.send(`{"jsonrpc":"2.0","id":1,"method":"tools/list","params":{` + modernMeta + `}}`)
	resp := p.response(1)
	raw, _ := json.Marshal(resp["result"])
	if strings.Contains(string(raw), "taskSupport") {
		t.Fatalf("a 2026-07-28 client sees task support: %s", raw)
	}
	p.send(`{"jsonrpc":"2.0","id":2,"method":"server/discover","params":{` + modernMeta + `}}`)
	disc := p.response(2)
	caps, _ := disc["result"].(map[string]any)["capabilities"].(map[string]any)
	if _, ok := caps["tasks"]; ok {
		t.Errorf("server/discover declares tasks: %v", caps)
	}
	if _, ok := caps["elicitation"]; ok {
		t.Errorf("server/discover declares elicitation (a client capability): %v", caps)
	}
}

func TestOversizedStdioMessageIsRefusedAndServingGoesOn(t *testing.T) {
	p := startStdio(t, nil)
	huge := strings.Repeat("a", 5<<20)
	go p.send(`{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"place_call","arguments":{"to":"+14155550123","objective":"` + huge + `"}}}`)
	resp := p.response(7)
	if e, _ := resp["error"].(map[string]any); e == nil || !strings.Contains(fmt.Sprint(e["message"]), "too large") {
		t.Fatalf("oversized message: got %v, want an error saying it is too large", resp)
	}
	p.send(`{"jsonrpc":"2.0","id":8,"method":"tools/list","params":{` + modernMeta + `}}`)
	if r := p.response(8); r["result"] == nil {
		t.Fatalf("tools/list after the oversized message failed: %v", r)
	}
}
