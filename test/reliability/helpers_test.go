// Package reliability_test proves that bys-mcp keeps working, loses nothing
// and lets no one in under API faults, hostile clients, fuzzed arguments,
// load and shutdown. Every test here is loopback-only (127.0.0.1) and every
// loop is bounded in count and in time. See RELIABILITY.md for the figures
// these tests print and the commands that reproduce them.
package reliability_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/byourside/bys-mcp/config"
	"github.com/byourside/bys-mcp/internal/app"
	"github.com/byourside/bys-mcp/internal/sandbox"
	"github.com/byourside/bys-mcp/internal/testkit"
	mcpclient "github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/client/transport"
	"github.com/mark3labs/mcp-go/mcp"
	"github.com/sirupsen/logrus"
)

// maxLogBytes caps a test's server log, so that a long test cannot grow it
// without bound.
const maxLogBytes = 1 << 20

// newLogger returns a logger writing into a buffer that is shown when the
// test fails.
func newLogger(t testing.TB) *logrus.Logger {
	t.Helper()
	buf := &testkit.SyncBuffer{Max: maxLogBytes}
	log := testkit.NewLogger(buf, logrus.InfoLevel)
	t.Cleanup(func() {
		if t.Failed() && os.Getenv("RELIABILITY_LOGS") != "" {
			t.Logf("server log:\n%s", buf.String())
		}
	})
	return log
}

// sandboxApp builds an app served against the embedded sandbox (TimeScale
// 50, no rate limit) after adjust changes the configuration.
func sandboxApp(t testing.TB, adjust func(*config.Config)) *app.App {
	t.Helper()
	return testkit.SandboxApp(t, adjust, newLogger(t), app.Options{
		SandboxOptions: sandbox.Options{TimeScale: 50, RateLimitPerMinute: -1, MinuteCap: -1},
		Poll:           testkit.FastPoll(),
	})
}

// inProcess connects an in-process mcp-go client to a's server and
// initializes it.
func inProcess(t testing.TB, a *app.App) *mcpclient.Client {
	t.Helper()
	return testkit.InProcessClient(t, a, "reliability", mcp.LATEST_PROTOCOL_VERSION)
}

// callTool runs one tool call.
func callTool(ctx context.Context, c *mcpclient.Client, name string, args any) (*mcp.CallToolResult, error) {
	req := mcp.CallToolRequest{}
	req.Params.Name = name
	req.Params.Arguments = args
	return c.CallTool(ctx, req)
}

// structured decodes a result's structuredContent into a generic map (nil
// when there is none or it is not an object).
func structured(res *mcp.CallToolResult) map[string]any {
	if res == nil || res.StructuredContent == nil {
		return nil
	}
	raw, err := json.Marshal(res.StructuredContent)
	if err != nil {
		return nil
	}
	var m map[string]any
	if json.Unmarshal(raw, &m) != nil {
		return nil
	}
	return m
}

// clearError reports what is wrong with res as an isError result that an
// agent can act on: isError set, a token in structuredContent.error that the
// text names, and a non-empty hint. "" when it is one.
func clearError(res *mcp.CallToolResult) string {
	if res == nil {
		return "no result"
	}
	if !res.IsError {
		return "not an isError result: " + truncate(testkit.TextOf(res), 200)
	}
	m := structured(res)
	tok, _ := m["error"].(string)
	if tok == "" {
		return fmt.Sprintf("isError result without structuredContent.error: %v", m)
	}
	if !strings.Contains(testkit.TextOf(res), tok) {
		return fmt.Sprintf("text does not name the token %q: %s", tok, testkit.TextOf(res))
	}
	if h, _ := m["hint"].(string); h == "" {
		return fmt.Sprintf("empty hint: %v", m)
	}
	return ""
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}

// liveGoroutines counts goroutines, leaving out the logrus WriterLevel
// scanners: mcpserver builds one per HTTP handler (the slog adapter) and per
// ServeStdio (the mcp-go error logger) and never closes it, so each server
// instance leaves exactly one behind (constant per server, not per request;
// reported separately as logWriters and in RELIABILITY.md).
func liveGoroutines() (n, logWriters int) {
	buf := make([]byte, 4<<20)
	stacks := string(buf[:runtime.Stack(buf, true)])
	logWriters = strings.Count(stacks, "logrus.(*Entry).writerScanner")
	return runtime.NumGoroutine() - logWriters, logWriters
}

// settleGoroutines waits (at most d) for the live goroutine count to come
// back to at most baseline+slack, and returns the last count seen.
func settleGoroutines(baseline, slack int, d time.Duration) int {
	deadline := time.Now().Add(d)
	n, _ := liveGoroutines()
	for n > baseline+slack && time.Now().Before(deadline) {
		runtime.GC()
		time.Sleep(50 * time.Millisecond)
		n, _ = liveGoroutines()
	}
	return n
}

// goroutineDump is the current stacks, for a failure message.
func goroutineDump() string {
	buf := make([]byte, 1<<20)
	return string(buf[:runtime.Stack(buf, true)])
}

// loopbackListener listens on 127.0.0.1 on a free port.
func loopbackListener(t testing.TB) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return ln
}

// closedPort returns a 127.0.0.1 address on which nothing listens (a port
// that was free a moment ago): connecting to it is refused at once, without
// any DNS lookup.
func closedPort(t testing.TB) string {
	t.Helper()
	return testkit.MustFreeAddr(t)
}

// httpApp is an app served over sse or http on a loopback port.
type httpApp struct {
	*app.App
	URL    string // http://127.0.0.1:PORT
	cancel context.CancelFunc
	done   chan struct{} // closed when ServeHTTP returned
	err    error         // what ServeHTTP returned, once done is closed
}

// Stop cancels the server's context and waits for ServeHTTP to return.
func (h *httpApp) Stop(t testing.TB) (time.Duration, error) {
	start := time.Now()
	h.cancel()
	select {
	case <-h.done:
		return time.Since(start), h.err
	case <-time.After(30 * time.Second):
		t.Fatalf("ServeHTTP did not return within 30 s of cancel")
		return 0, nil
	}
}

// serveHTTP builds a sandbox app with transport (sse or http) and serves
// it on a loopback port until the test ends.
func serveHTTP(t testing.TB, transport string, adjust func(*config.Config)) *httpApp {
	t.Helper()
	ln := loopbackListener(t)
	a := sandboxApp(t, func(c *config.Config) {
		c.Transport = transport
		c.Addr = ln.Addr().String()
		if adjust != nil {
			adjust(c)
		}
	})
	ctx, cancel := context.WithCancel(context.Background())
	h := &httpApp{App: a, URL: "http://" + ln.Addr().String(), cancel: cancel, done: make(chan struct{})}
	go func() { h.err = a.ServeHTTP(ctx, ln); close(h.done) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-h.done:
		case <-time.After(30 * time.Second):
			t.Errorf("ServeHTTP did not return within 30 s at cleanup")
		}
	})
	waitHealthy(t, h.URL)
	return h
}

func waitHealthy(t testing.TB, base string) {
	t.Helper()
	c := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := c.Get(base + "/healthz")
		if err == nil {
			_ = resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				c.CloseIdleConnections()
				return
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("%s/healthz did not answer 200 within 10 s", base)
}

func newStreamableClient(base, token string, hc *http.Client) (*mcpclient.Client, error) {
	return newStreamableClientVersion(base, token, hc, mcp.LATEST_PROTOCOL_VERSION)
}

// newStreamableClientVersion is newStreamableClient asking for a protocol
// version: 2026-07-28 (stateless, server/discover) or 2025-11-25 (initialize
// and a session).
func newStreamableClientVersion(base, token string, hc *http.Client, version string) (*mcpclient.Client, error) {
	opts := []transport.StreamableHTTPCOption{transport.WithHTTPTimeout(30 * time.Second)}
	if hc != nil {
		opts = append(opts, transport.WithHTTPBasicClient(hc))
	}
	if token != "" {
		opts = append(opts, transport.WithHTTPHeaders(map[string]string{"Authorization": "Bearer " + token}))
	}
	c, err := mcpclient.NewStreamableHttpClient(base+"/mcp", opts...)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := c.Start(ctx); err != nil {
		_ = c.Close()
		return nil, err
	}
	init := mcp.InitializeRequest{}
	init.Params.ProtocolVersion = version
	init.Params.ClientInfo = mcp.Implementation{Name: "reliability", Version: "1"}
	if _, err := c.Initialize(ctx, init); err != nil {
		_ = c.Close()
		return nil, err
	}
	return c, nil
}

// rawPost sends one POST with a JSON body and returns status, headers and
// body (a Host entry of header sets the request's host).
func rawPost(t testing.TB, url string, header http.Header, body []byte) (int, http.Header, string) {
	t.Helper()
	// The limit only guards against a hang: sending a 10 MB body under -race
	// on a shared machine can take many seconds, and what the server promises
	// (413 or an answer) does not depend on how fast it arrives.
	return testkit.RawPost(t, url, header, body, 90*time.Second)
}

const initializeBody = `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"reliability","version":"1"}}}`

// placeArgs is a valid place_call to a number that completes quickly.
func placeArgs(objective string) map[string]any {
	return map[string]any{"to": "+14155550123", "objective": objective}
}
