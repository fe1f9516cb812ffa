// Package eras_test checks that bys-mcp is the same product for both MCP
// protocol eras (2026-07-28, stateless, and 2025-11-25, with initialize) on
// both transports that serve them (stdio and Streamable HTTP), with
// mcp-go's own client.
package eras_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/byourside/bys-mcp/config"
	"github.com/byourside/bys-mcp/internal/app"
	"github.com/byourside/bys-mcp/internal/sandbox"
	"github.com/byourside/bys-mcp/internal/testkit"
	mcpclient "github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/client/transport"
	"github.com/mark3labs/mcp-go/mcp"
)

// Sandbox test numbers (sandbox/numbers.go).
const (
	numCompletes = "+14155550123" // completed after about 0.55 s at TimeScale 20
	numBlocked   = "+33142685300" // destination_blocked
	numForever   = "+14155550007" // in_progress forever
	numSlow      = "+14155550008" // queued 15 s, dialing 5 s, in_progress 20 s (2 s at TimeScale 20)
)

type era struct {
	name   string
	legacy bool
}

var (
	modern = era{"2026-07-28", false}
	legacy = era{"2025-11-25", true}
	eras   = []era{modern, legacy}
	// transports are the two transports that serve both eras.
	transports = []string{"stdio", "http"}
)

// forEach runs fn for every era on every transport. HTTP cases run in
// parallel; stdio cases run one at a time, since mcp-go's stdio session is
// a package-level value.
func forEach(t *testing.T, fn func(t *testing.T, tr string, e era)) {
	t.Helper()
	for _, tr := range transports {
		for _, e := range eras {
			t.Run(tr+"/"+e.name, func(t *testing.T) {
				if tr == "http" {
					t.Parallel()
				}
				fn(t, tr, e)
			})
		}
	}
}

// server is an app against the embedded sandbox, served on one transport.
type server struct {
	*app.App
	transport string
	url       string // the /mcp endpoint, for http
}

// newServer builds an app in sandbox mode for transport tr; adjust edits the
// configuration first.
func newServer(t *testing.T, tr string, adjust func(*config.Config)) *server {
	t.Helper()
	a := testkit.SandboxApp(t, func(cfg *config.Config) {
		cfg.Transport = tr
		if adjust != nil {
			adjust(cfg)
		}
	}, testkit.QuietLogger(), app.Options{SandboxOptions: sandbox.Options{TimeScale: 20}, Poll: testkit.FastPoll()})
	s := &server{App: a, transport: tr}
	if tr == "http" {
		s.url = testkit.ServeHTTPTest(t, a) + "/mcp"
	}
	return s
}

// client is an initialized mcp-go client with the notifications it got.
type client struct {
	*mcpclient.Client
	t     testing.TB
	era   era
	notes testkit.Notifications
}

// stdioMu serialises stdio servers in this process.
var stdioMu sync.Mutex

type connectOpts struct {
	key       string // Authorization: Bearer key (http only)
	listen    bool   // legacy http: open the GET stream (continuous listening)
	clientOps []mcpclient.ClientOption
}

// connect starts a client of s in era e and completes its handshake
// (server/discover for 2026-07-28, initialize for 2025-11-25).
func connect(t *testing.T, s *server, e era, o connectOpts) *client {
	t.Helper()
	return connectWith(t, s, e, o)
}

// scopeT collects cleanups so that a client can be closed before its test
// ends.
type scopeT struct {
	*testing.T
	cleanups []func()
}

func (s *scopeT) Cleanup(f func()) { s.cleanups = append(s.cleanups, f) }

func connectWith(t testing.TB, s *server, e era, o connectOpts) *client {
	t.Helper()
	var tr transport.Interface
	switch s.transport {
	case "stdio":
		stdioMu.Lock()
		toServerR, toServerW := io.Pipe()
		toClientR, toClientW := io.Pipe()
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() {
			defer close(done)
			if err := s.Server.ServeStdio(ctx, toServerR, toClientW, nil); err != nil {
				t.Logf("ServeStdio: %v", err)
			}
			_ = toClientW.Close()
		}()
		tr = transport.NewIO(toClientR, toServerW, io.NopCloser(strings.NewReader("")))
		t.Cleanup(func() {
			_ = toServerW.Close()
			// Whatever the server still writes (a response or notification
			// finished as the client went away) must not block it on the
			// pipe that nobody reads any more.
			go func() { _, _ = io.Copy(io.Discard, toClientR) }()
			cancel()
			select {
			case <-done:
			// The server stops once stdin closes; 30 s is headroom for a
			// loaded machine, not a speed (5 s failed beside other suites).
			case <-time.After(30 * time.Second):
				t.Errorf("the stdio server did not stop within 30 s of stdin closing")
			}
			// mcp-go's stdio session is a package-level value and Listen
			// does not wait for its notification goroutine: give it time
			// to see the cancelled context, or it may take the next
			// server's notifications and write them to this closed pipe.
			time.Sleep(50 * time.Millisecond)
			stdioMu.Unlock()
		})
	default:
		var topts []transport.StreamableHTTPCOption
		if o.key != "" {
			topts = append(topts, transport.WithHTTPHeaders(map[string]string{"Authorization": "Bearer " + o.key}))
		}
		if o.listen {
			topts = append(topts, transport.WithContinuousListening())
		}
		h, err := transport.NewStreamableHTTP(s.url, topts...)
		if err != nil {
			t.Fatal(err)
		}
		tr = h
	}
	opts := append([]mcpclient.ClientOption(nil), o.clientOps...)
	if e.legacy {
		opts = append(opts, mcpclient.WithLegacyProtocolOnly())
	}
	mc := mcpclient.NewClient(tr, opts...)
	c := &client{Client: mc, t: t, era: e}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	// The transport keeps Start's context for the server's requests
	// (elicitation/create) and the GET stream: it must outlive connect.
	if err := mc.Start(context.Background()); err != nil {
		t.Fatalf("start: %v", err)
	}
	t.Cleanup(func() { _ = mc.Close() })
	mc.OnNotification(c.notes.Add)
	init := mcp.InitializeRequest{}
	init.Params.ClientInfo = mcp.Implementation{Name: "eras-test", Version: "1"}
	res, err := mc.Initialize(ctx, init)
	if err != nil {
		t.Fatalf("initialize (%s over %s): %v", e.name, s.transport, err)
	}
	if got := mcp.IsModernProtocol(res.ProtocolVersion); got == e.legacy {
		t.Fatalf("negotiated %s, want the %s era", res.ProtocolVersion, e.name)
	}
	return c
}

// progress returns the params of the progress notifications for token.
func (c *client) progress(token string) []map[string]any {
	var out []map[string]any
	for _, n := range c.notes.Of(string(mcp.MethodNotificationProgress)) {
		p := n.Params.AdditionalFields
		if p["progressToken"] == token {
			out = append(out, p)
		}
	}
	return out
}

// call runs a tool and fails on a protocol error.
func (c *client) call(name string, args any) *mcp.CallToolResult {
	c.t.Helper()
	res, err := c.callMeta(name, args, nil)
	if err != nil {
		c.t.Fatalf("tools/call %s: %v", name, err)
	}
	return res
}

func (c *client) callMeta(name string, args any, meta *mcp.Meta) (*mcp.CallToolResult, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	req := mcp.CallToolRequest{}
	req.Params.Name = name
	req.Params.Arguments = args
	req.Params.Meta = meta
	return c.CallTool(ctx, req)
}

var rawID atomic.Int64

// raw sends one JSON-RPC request through the client's transport, adding the
// 2026-07-28 _meta (with caps as the client capabilities) and standard
// headers when the client is modern. It returns the response as sent.
func (c *client) raw(method string, params map[string]any, caps *mcp.ClientCapabilities) *transport.JSONRPCResponse {
	c.t.Helper()
	if params == nil {
		params = map[string]any{}
	}
	version := c.ProtocolVersion()
	if mcp.IsModernProtocol(version) {
		meta, _ := params["_meta"].(map[string]any)
		if meta == nil {
			meta = map[string]any{}
		}
		capabilities := c.GetClientCapabilities()
		if caps != nil {
			capabilities = *caps
		}
		meta[mcp.MetaKeyProtocolVersion] = version
		meta[mcp.MetaKeyClientCapabilities] = capabilities
		meta[mcp.MetaKeyClientInfo] = mcp.Implementation{Name: "eras-test-raw", Version: "1"}
		params["_meta"] = meta
	}
	encoded, err := json.Marshal(params)
	if err != nil {
		c.t.Fatal(err)
	}
	header := http.Header{}
	for k, v := range mcp.StandardHeaders(version, mcp.MCPMethod(method), encoded) {
		header.Set(k, v)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	resp, err := c.GetTransport().SendRequest(ctx, transport.JSONRPCRequest{
		JSONRPC: mcp.JSONRPC_VERSION,
		ID:      mcp.NewRequestId(int64(1<<40) + rawID.Add(1)),
		Method:  method,
		Params:  params,
		Header:  header,
	})
	if err != nil {
		c.t.Fatalf("%s: %v", method, err)
	}
	return resp
}

// rawResult is raw that fails on a JSON-RPC error and decodes the result.
func (c *client) rawResult(method string, params map[string]any, caps *mcp.ClientCapabilities) map[string]any {
	c.t.Helper()
	resp := c.raw(method, params, caps)
	if resp.Error != nil {
		c.t.Fatalf("%s: JSON-RPC error %d %s", method, resp.Error.Code, resp.Error.Message)
	}
	var m map[string]any
	if err := json.Unmarshal(resp.Result, &m); err != nil {
		c.t.Fatalf("%s result: %v: %s", method, err, resp.Result)
	}
	return m
}

func wantOK(t testing.TB, res *mcp.CallToolResult) map[string]any {
	t.Helper()
	if res.IsError {
		t.Fatalf("unexpected isError result: %s", testkit.TextOf(res))
	}
	if res.StructuredContent == nil {
		t.Fatalf("no structuredContent: %s", testkit.TextOf(res))
	}
	return testkit.Object(t, res.StructuredContent)
}

func wantToolError(t testing.TB, res *mcp.CallToolResult, token string) map[string]any {
	t.Helper()
	if !res.IsError {
		t.Fatalf("want isError %s, got success: %s", token, testkit.TextOf(res))
	}
	m := testkit.Object(t, res.StructuredContent)
	if m["error"] != token {
		t.Fatalf("structuredContent.error = %v, want %s (text: %s)", m["error"], token, testkit.TextOf(res))
	}
	if !strings.Contains(testkit.TextOf(res), token) {
		t.Errorf("text does not name %s: %s", token, testkit.TextOf(res))
	}
	return m
}

func placeArgs(to, objective string) map[string]any {
	return map[string]any{"to": to, "objective": objective}
}

// place places a call and returns its id.
func (c *client) place(to, objective string) string {
	c.t.Helper()
	out := wantOK(c.t, c.call("place_call", placeArgs(to, objective)))
	id, _ := out["callId"].(string)
	if id == "" {
		c.t.Fatalf("place_call returned no callId: %v", out)
	}
	return id
}

// elicitor answers every confirmation the same way and counts them.
type elicitor struct {
	action  mcp.ElicitationResponseAction
	content any
	asked   atomic.Int32
}

func (e *elicitor) Elicit(_ context.Context, _ mcp.ElicitationRequest) (*mcp.ElicitationResult, error) {
	e.asked.Add(1)
	return &mcp.ElicitationResult{ElicitationResponse: mcp.ElicitationResponse{Action: e.action, Content: e.content}}, nil
}

// eventually polls cond until it holds or d passes.
func eventually(d time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(d)
	for {
		if cond() {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(10 * time.Millisecond)
	}
}
