package reliability_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/byourside/bys-mcp/config"
	"github.com/byourside/bys-mcp/internal/testkit"
	"github.com/byourside/bys-mcp/schema"
	"github.com/byourside/bys-mcp/tools"
	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"
)

// The fuzz targets below drive each tool's handler directly (the same
// handler mcp-go dispatches to) with arbitrary argument bytes, passed both
// as mcp-go would after decoding a JSON-RPC message (a decoded value) and as
// raw JSON. A handler must never panic and must always return a result:
// either a success with structuredContent and a text rendering, or an
// isError result whose structuredContent.error names a token. Whatever
// reaches the API must be within the documented bounds.

// fuzzTool is one tool's handler against a recorded sandbox.
type fuzzTool struct {
	handler server.ToolHandlerFunc
	rec     *testkit.APIRecorder
	name    string
}

func newFuzzTool(f *testing.F, name string, ctor func(*tools.Deps) (mcp.Tool, server.ToolHandlerFunc)) *fuzzTool {
	a, rec := recordedSandboxApp(f, func(c *config.Config) {
		c.DedupeWindow = time.Minute // exercise the dedupe path too
		c.MaxWait = 2 * time.Second
	})
	_, h := ctor(a.Deps)
	return &fuzzTool{handler: h, rec: rec, name: name}
}

// run calls the handler with data as decoded arguments and as raw JSON.
func (ft *fuzzTool) run(t *testing.T, data []byte) {
	var decoded any
	inputs := []any{json.RawMessage(data)}
	if json.Unmarshal(data, &decoded) == nil {
		inputs = append(inputs, decoded)
	}
	for _, args := range inputs {
		before := len(ft.rec.Requests())
		req := mcp.CallToolRequest{}
		req.Params.Name = ft.name
		req.Params.Arguments = args
		ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
		res, err := ft.handler(ctx, req)
		cancel()
		if err != nil {
			t.Fatalf("%s(%q): handler error instead of a result: %v", ft.name, truncate(string(data), 200), err)
		}
		if msg := validToolResult(res); msg != "" {
			t.Fatalf("%s(%q): %s", ft.name, truncate(string(data), 200), msg)
		}
		for _, q := range ft.rec.Requests()[before:] {
			if msg := apiBoundsViolation(q); msg != "" {
				t.Fatalf("%s(%q): %s", ft.name, truncate(string(data), 200), msg)
			}
		}
	}
}

// validToolResult is "" when res is a well-formed success or isError result.
func validToolResult(res *mcp.CallToolResult) string {
	if res == nil {
		return "nil result"
	}
	if strings.TrimSpace(testkit.TextOf(res)) == "" {
		return "result without text content"
	}
	if !utf8.ValidString(testkit.TextOf(res)) {
		return "result text is not valid UTF-8"
	}
	m := structured(res)
	if m == nil {
		return "result without an object structuredContent"
	}
	if res.IsError {
		tok, _ := m["error"].(string)
		if tok == "" {
			return fmt.Sprintf("isError result without a token: %v", m)
		}
		if h, _ := m["hint"].(string); h == "" {
			return fmt.Sprintf("isError result without a hint: %v", m)
		}
	} else if _, isErr := m["error"]; isErr {
		return fmt.Sprintf("success result carrying an error: %v", m)
	}
	if _, err := json.Marshal(res); err != nil {
		return fmt.Sprintf("result does not encode as JSON: %v", err)
	}
	return ""
}

// apiBoundsViolation is "" when q is within the documented bounds.
func apiBoundsViolation(q testkit.APIRequest) string {
	if len(q.Body) > 256<<10 || !utf8.Valid(q.Body) {
		return fmt.Sprintf("API body of %d bytes (valid UTF-8: %v)", len(q.Body), utf8.Valid(q.Body))
	}
	if l := q.URL.Query().Get("limit"); l != "" {
		var n int
		if _, err := fmt.Sscan(l, &n); err != nil || n < 1 || n > 100 {
			return fmt.Sprintf("list limit %q sent to the API", l)
		}
	}
	if q.Method != "POST" {
		return ""
	}
	var body struct {
		To, Objective, Context string
		Fields                 []json.RawMessage
	}
	if err := json.Unmarshal(q.Body, &body); err != nil {
		return "POST body is not JSON"
	}
	switch {
	case utf8.RuneCountInString(body.Objective) > schema.MaxObjectiveLen || strings.TrimSpace(body.Objective) == "":
		return fmt.Sprintf("objective of %d characters sent", utf8.RuneCountInString(body.Objective))
	case utf8.RuneCountInString(body.Context) > schema.MaxContextLen:
		return fmt.Sprintf("context of %d characters sent", utf8.RuneCountInString(body.Context))
	case len(body.Fields) > schema.MaxFields:
		return fmt.Sprintf("%d fields sent", len(body.Fields))
	case len(body.To) > 16 || !strings.HasPrefix(body.To, "+"):
		return fmt.Sprintf("destination %q sent", body.To)
	}
	return ""
}

var commonSeeds = []string{
	``, `null`, `{}`, `[]`, `"x"`, `0`, `true`, `{"":null}`, `{"a":1}`,
	`{"callId":null}`, `{` + strings.Repeat(`"k":{`, 50) + `1` + strings.Repeat(`}`, 51),
	strings.Repeat("[", 2000) + strings.Repeat("]", 2000),
	"{\"callId\":\"\xff\xfe\"}", `{"callId":"\u0000"}`,
}

func addSeeds(f *testing.F, seeds ...string) {
	for _, s := range append(seeds, commonSeeds...) {
		f.Add([]byte(s))
	}
}

func FuzzPlaceCallArgs(f *testing.F) {
	addSeeds(f,
		`{"to":"+14155550123","objective":"Book a table for two at 7 PM."}`,
		`{"to":"+14155550123","objective":"x","context":"c","fields":[{"name":"a","type":"number","description":"d"}],"webhookUrl":"https://example.com/h","callerId":"+12135550101","allowDuplicate":true}`,
		`{"to":"+14155550123","objective":"x","fields":[{"name":"a"},{"name":"a"}]}`,
		`{"to":"+14155550123","objective":"x","fields":[{"name":"1a"}]}`,
		`{"to":"+14155550123","objective":"x","fields":[{"name":"a","type":"date"}]}`,
		`{"to":"+33142685300","objective":"x"}`,
		`{"to":"+14155550502","objective":"x"}`,
		`{"to":"+14155550503","objective":"x"}`,
		`{"to":14155550123,"objective":null}`,
		`{"to":"+14155550123","objective":"   "}`,
		`{"to":"+14155550123","objective":"x","webhookUrl":"http://x"}`,
		`{"to":"+14155550123","objective":"x","webhookUrl":"https://"}`,
		`{"to":"+14155550123","objective":"x","fields":"nope"}`,
		`{"to":"+14155550123","objective":"x","context":[]}`,
		`{"to":"+14155550123","objective":"x","extra":1}`,
		`{"to":"+14155550123","objective":"x","allowDuplicate":"yes"}`,
		`{"to":"+1415555012345678","objective":"x"}`,
		"{\"to\":\"+14155550123\",\"objective\":\"\xff\xfe\"}",
		`{"to":"+14155550123","objective":"`+strings.Repeat("é", 4001)+`"}`,
	)
	ft := newFuzzTool(f, "place_call", tools.PlaceCall)
	f.Fuzz(func(t *testing.T, data []byte) { ft.run(t, data) })
}

func FuzzGetCallArgs(f *testing.F) {
	addSeeds(f,
		`{"callId":"f47ac10b-58cc-4372-a567-0e02b2c3d479"}`,
		`{"callId":""}`, `{"callId":1}`, `{"callId":"../x"}`, `{"callId":"a b"}`,
		`{"callId":"`+strings.Repeat("a", 129)+`"}`, `{"callId":"x","other":1}`,
	)
	ft := newFuzzTool(f, "get_call", tools.GetCall)
	f.Fuzz(func(t *testing.T, data []byte) { ft.run(t, data) })
}

func FuzzListCallsArgs(f *testing.F) {
	addSeeds(f,
		`{"limit":5}`, `{"limit":0}`, `{"limit":-1}`, `{"limit":101}`, `{"limit":1e300}`,
		`{"limit":1.5}`, `{"limit":"5"}`, `{"limit":null}`, `{"limit":[]}`, `{"limit":9223372036854775808}`,
	)
	ft := newFuzzTool(f, "list_calls", tools.ListCalls)
	f.Fuzz(func(t *testing.T, data []byte) { ft.run(t, data) })
}

func FuzzWaitForCallArgs(f *testing.F) {
	addSeeds(f,
		`{"callId":"f47ac10b-58cc-4372-a567-0e02b2c3d479","timeoutSec":1}`,
		`{"callId":"abc"}`, `{"callId":"abc","timeoutSec":0}`, `{"callId":"abc","timeoutSec":-5}`,
		`{"callId":"abc","timeoutSec":1e300}`, `{"callId":"abc","timeoutSec":"1"}`, `{"callId":"abc","timeoutSec":null}`,
		`{"callId":"abc","timeoutSec":1.5}`, `{"timeoutSec":1}`,
	)
	ft := newFuzzTool(f, "wait_for_call", tools.WaitForCall)
	f.Fuzz(func(t *testing.T, data []byte) { ft.run(t, data) })
}

// FuzzJSONRPCMessage sends arbitrary bytes through the server's own
// pre-dispatch filter and mcp-go's message handler, as the stdio and HTTP
// transports do: no panic, and every request with an id gets a response.
func FuzzJSONRPCMessage(f *testing.F) {
	for _, s := range []string{
		initializeBody,
		`{"jsonrpc":"2.0","id":2,"method":"tools/list"}`,
		`{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"list_calls","arguments":{"limit":3}}}`,
		`{"jsonrpc":"2.0","id":4,"method":"tools/call","params":{"name":"get_call","arguments":{"callId":"x"}}}`,
		`{"jsonrpc":"2.0","id":5,"method":"tools/call","params":{"name":"nope","arguments":{}}}`,
		`{"jsonrpc":"2.0","id":6,"method":"tools/call","params":{"name":"place_call","arguments":"x"}}`,
		`{"jsonrpc":"2.0","id":7,"method":"server/discover","params":{"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28"}}}`,
		`{"jsonrpc":"2.0","id":8,"method":"tasks/list","params":{"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28"}}}`,
		`{"jsonrpc":"2.0","id":9,"method":"tools/call","params":{"name":"wait_for_call","arguments":{"callId":"x"},"task":{"ttl":1000},"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28"}}}`,
		`{"jsonrpc":"2.0","id":10,"method":"resources/read","params":{"uri":"bys://calls/x"}}`,
		`{"jsonrpc":"2.0","id":11,"method":"prompts/get","params":{"name":"book_appointment","arguments":{}}}`,
		`{"jsonrpc":"2.0","id":12,"method":"completion/complete","params":{"ref":{"type":"ref/resource","uri":"bys://calls/{callId}"},"argument":{"name":"callId","value":""}}}`,
		`{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":1}}`,
		`{"jsonrpc":"2.0","id":null,"method":"ping"}`,
		`{"jsonrpc":"2.0","id":{},"method":"ping"}`,
		`[]`, `{`, ``,
	} {
		f.Add([]byte(s))
	}
	a, _ := recordedSandboxApp(f, func(c *config.Config) { c.MaxWait = 2 * time.Second })
	srv := a.Server.MCP()
	filter := a.Server.Filter()
	f.Fuzz(func(t *testing.T, data []byte) {
		v := filter.Check(data)
		if v.Response != nil {
			if !json.Valid(v.Response) {
				t.Fatalf("filter answered with invalid JSON: %q", v.Response)
			}
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
		defer cancel()
		resp := srv.HandleMessage(ctx, v.Message)
		var msg struct {
			ID     json.RawMessage `json:"id"`
			Method string          `json:"method"`
		}
		isRequest := json.Unmarshal(v.Message, &msg) == nil && len(msg.ID) > 0 && string(msg.ID) != "null" && msg.Method != ""
		if resp == nil {
			if isRequest && !strings.HasPrefix(msg.Method, "notifications/") {
				t.Fatalf("no response to request %q", truncate(string(data), 200))
			}
			return
		}
		if _, err := json.Marshal(resp); err != nil {
			t.Fatalf("response does not encode: %v", err)
		}
	})
}
