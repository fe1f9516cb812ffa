package tools_test

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/byourside/bys-mcp/config"
	"github.com/byourside/bys-mcp/internal/app"
	"github.com/byourside/bys-mcp/internal/sandbox"
	"github.com/byourside/bys-mcp/internal/testkit"
	mcpclient "github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/client/transport"
	"github.com/mark3labs/mcp-go/mcp"
	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/sirupsen/logrus"
)

// testApp is an app served against the embedded sandbox, with its log
// captured.
type testApp struct {
	*app.App
	logs *testkit.SyncBuffer
}

// newApp builds an app in sandbox mode; adjust changes the configuration
// before it is built.
func newApp(t *testing.T, adjust func(*config.Config)) *testApp {
	t.Helper()
	logs := &testkit.SyncBuffer{}
	a := testkit.SandboxApp(t, func(cfg *config.Config) {
		cfg.LogLevel = "debug"
		if adjust != nil {
			adjust(cfg)
		}
	}, testkit.NewLogger(logs, logrus.DebugLevel), app.Options{SandboxOptions: sandbox.Options{TimeScale: 50}, Poll: testkit.FastPoll()})
	return &testApp{App: a, logs: logs}
}

// mcpClient is an in-process MCP client that validates every
// structuredContent it receives against the tool's declared output schema.
type mcpClient struct {
	*mcpclient.Client
	t       *testing.T
	schemas map[string]*jsonschema.Schema
	// tools holds each tool's definition as tools/list sent it.
	tools map[string]json.RawMessage
}

// connect starts an in-process client of a's server and lists its tools.
func connect(t *testing.T, a *testApp, opts ...mcpclient.ClientOption) *mcpClient {
	t.Helper()
	c := testkit.InProcessClient(t, a.App, "tools-test", "", opts...)
	mc := &mcpClient{Client: c, t: t, schemas: map[string]*jsonschema.Schema{}, tools: map[string]json.RawMessage{}}
	for _, raw := range rawToolsList(t, c) {
		var def struct {
			Name         string          `json:"name"`
			OutputSchema json.RawMessage `json:"outputSchema"`
		}
		if err := json.Unmarshal(raw, &def); err != nil {
			t.Fatal(err)
		}
		mc.tools[def.Name] = raw
		if len(def.OutputSchema) == 0 {
			t.Fatalf("tool %s declares no outputSchema", def.Name)
		}
		mc.schemas[def.Name] = compileSchema(t, def.Name, def.OutputSchema)
	}
	return mc
}

// rawToolsList returns the tools of tools/list exactly as the server sent
// them. (mcp-go's client decodes outputSchema into a struct that drops
// keywords such as anyOf, so the typed ListTools is not good enough.)
func rawToolsList(t *testing.T, c *mcpclient.Client) []json.RawMessage {
	t.Helper()
	params := map[string]any{}
	if mcp.IsModernProtocol(c.ProtocolVersion()) {
		params["_meta"] = map[string]any{
			mcp.MetaKeyProtocolVersion:    c.ProtocolVersion(),
			mcp.MetaKeyClientCapabilities: c.GetClientCapabilities(),
			mcp.MetaKeyClientInfo:         mcp.Implementation{Name: "tools-test", Version: "1"},
		}
	}
	resp, err := c.GetTransport().SendRequest(context.Background(), transport.JSONRPCRequest{
		JSONRPC: mcp.JSONRPC_VERSION, ID: mcp.NewRequestId(int64(1 << 40)), Method: string(mcp.MethodToolsList), Params: params,
	})
	if err != nil {
		t.Fatalf("tools/list: %v", err)
	}
	if resp.Error != nil {
		t.Fatalf("tools/list: %v", resp.Error.AsError())
	}
	var result struct {
		Tools      []json.RawMessage `json:"tools"`
		NextCursor string            `json:"nextCursor"`
	}
	if err := json.Unmarshal(resp.Result, &result); err != nil {
		t.Fatalf("tools/list result: %v", err)
	}
	if result.NextCursor != "" {
		t.Fatalf("tools/list is paginated; the tests expect one page")
	}
	return result.Tools
}

func compileSchema(t *testing.T, name string, raw []byte) *jsonschema.Schema {
	t.Helper()
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("%s outputSchema: %v", name, err)
	}
	comp := jsonschema.NewCompiler()
	url := "mem://" + name + ".json"
	if err := comp.AddResource(url, doc); err != nil {
		t.Fatalf("%s outputSchema: %v", name, err)
	}
	s, err := comp.Compile(url)
	if err != nil {
		t.Fatalf("%s outputSchema does not compile: %v", name, err)
	}
	return s
}

// call runs a tool and fails the test on a protocol error.
func (c *mcpClient) call(name string, args any) *mcp.CallToolResult {
	c.t.Helper()
	res, err := c.callCtx(context.Background(), name, args, nil)
	if err != nil {
		c.t.Fatalf("tools/call %s: %v", name, err)
	}
	return res
}

// callCtx runs a tool, checks its result against the output schema, and
// returns the protocol error if any.
func (c *mcpClient) callCtx(ctx context.Context, name string, args any, meta *mcp.Meta) (*mcp.CallToolResult, error) {
	c.t.Helper()
	req := mcp.CallToolRequest{}
	req.Params.Name = name
	req.Params.Arguments = args
	req.Params.Meta = meta
	res, err := c.CallTool(ctx, req)
	if err != nil {
		return nil, err
	}
	c.conforms(name, res)
	return res, nil
}

// conforms checks a result's shape: structuredContent valid against the
// tool's outputSchema, and a text rendering beside it.
func (c *mcpClient) conforms(name string, res *mcp.CallToolResult) {
	c.t.Helper()
	if res.StructuredContent == nil {
		c.t.Errorf("%s: result has no structuredContent: %s", name, testkit.TextOf(res))
		return
	}
	if testkit.TextOf(res) == "" {
		c.t.Errorf("%s: result has no text content", name)
	}
	s, ok := c.schemas[name]
	if !ok {
		c.t.Errorf("%s: no output schema known", name)
		return
	}
	raw, err := json.Marshal(res.StructuredContent)
	if err != nil {
		c.t.Fatal(err)
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		c.t.Fatal(err)
	}
	if err := s.Validate(doc); err != nil {
		c.t.Errorf("%s: structuredContent does not conform to the outputSchema (isError=%v): %v\n%s", name, res.IsError, err, raw)
	}
}

// structured decodes a result's structuredContent into a generic map.
func structured(t *testing.T, res *mcp.CallToolResult) map[string]any {
	t.Helper()
	return testkit.Object(t, res.StructuredContent)
}

// wantOK fails unless res is a success and returns its structured content.
func wantOK(t *testing.T, res *mcp.CallToolResult) map[string]any {
	t.Helper()
	if res.IsError {
		t.Fatalf("unexpected isError result: %s", testkit.TextOf(res))
	}
	return structured(t, res)
}

// wantToolError fails unless res is an isError result carrying token in its
// text and structuredContent.error, and returns its structured content.
func wantToolError(t *testing.T, res *mcp.CallToolResult, token string) map[string]any {
	t.Helper()
	if !res.IsError {
		t.Fatalf("want isError %s, got success: %s", token, testkit.TextOf(res))
	}
	m := structured(t, res)
	if m["error"] != token {
		t.Fatalf("structuredContent.error = %v, want %s (text: %s)", m["error"], token, testkit.TextOf(res))
	}
	if !strings.Contains(testkit.TextOf(res), token) {
		t.Errorf("text does not name %s: %s", token, testkit.TextOf(res))
	}
	for _, k := range []string{"httpStatus", "retryable", "hint"} {
		if _, ok := m[k]; !ok {
			t.Errorf("error structuredContent lacks %q: %v", k, m)
		}
	}
	if h, _ := m["hint"].(string); h == "" {
		t.Errorf("error structuredContent has an empty hint: %v", m)
	}
	return m
}

// placeArgs is a minimal valid place_call to the number that completes.
func placeArgs(extra map[string]any) map[string]any {
	args := map[string]any{"to": "+14155550123", "objective": "Book a table for two at 7 PM."}
	for k, v := range extra {
		args[k] = v
	}
	return args
}

// waitEnded waits for a call through wait_for_call and returns its record.
func (c *mcpClient) waitEnded(callID string) map[string]any {
	c.t.Helper()
	res := c.call("wait_for_call", map[string]any{"callId": callID, "timeoutSec": 10})
	rec := wantOK(c.t, res)
	if rec["timedOut"] != false {
		c.t.Fatalf("call %s did not end in time: %v", callID, rec)
	}
	return rec
}
