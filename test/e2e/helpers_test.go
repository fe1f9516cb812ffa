// Package e2e_test builds the bys-mcp binary once and drives it from the
// outside, over every transport, with the official MCP Go SDK client and
// with raw HTTP and raw pipes where the SDK would hide what is checked.
package e2e_test

import (
	"context"
	"flag"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/byourside/bys-mcp/internal/testkit"
	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// binPath is the bys-mcp binary TestMain builds.
var binPath string

func TestMain(m *testing.M) {
	flag.Parse()
	// These tests mostly wait on child processes and the sandbox's clock,
	// not on the CPU: unless -parallel was given, run them all at once so
	// that the package stays well under a minute on small machines.
	explicit := false
	flag.Visit(func(f *flag.Flag) { explicit = explicit || f.Name == "test.parallel" })
	if !explicit {
		_ = flag.Set("test.parallel", "32")
	}
	// E2E_BYS_MCP_BIN runs the tests against an already built binary.
	bin, err := testkit.Binary("E2E_BYS_MCP_BIN", "CGO_ENABLED=0")
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		testkit.RemoveBinary()
		os.Exit(1)
	}
	binPath = bin
	code := m.Run()
	testkit.RemoveBinary()
	os.Exit(code)
}

// cleanEnv is testkit.CleanEnv: no BYS_ variable of the developer's, and
// state kept in the process unless extra sets BYS_STATE_DIR.
func cleanEnv(extra ...string) []string { return testkit.CleanEnv(extra...) }

// httpServer is a running bys-mcp in sse or http mode.
type httpServer struct {
	URL    string // http://127.0.0.1:PORT
	Cmd    *exec.Cmd
	Stderr *testkit.SyncBuffer
	done   chan struct{}
	err    error // the Wait error, once done is closed
}

// Exited waits up to d for the process to end and reports its exit code.
func (s *httpServer) Exited(d time.Duration) (code int, ok bool) {
	select {
	case <-s.done:
		return s.Cmd.ProcessState.ExitCode(), true
	case <-time.After(d):
		return 0, false
	}
}

// startHTTP starts the binary with --transport transport on a free loopback
// port, plus args (where "{addr}" stands for that host:port), and waits until GET /healthz answers 200. The process is

// launch starts the binary with args and env (over a clean environment)
// as a server on addr; it is killed at cleanup, and its stderr logged when
// the test failed.
func launch(t *testing.T, addr string, env []string, args ...string) *httpServer {
	t.Helper()
	cmd := exec.Command(binPath, args...)
	cmd.Env = cleanEnv(env...)
	s := &httpServer{URL: "http://" + addr, Cmd: cmd, Stderr: &testkit.SyncBuffer{}, done: make(chan struct{})}
	cmd.Stderr = s.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { s.err = cmd.Wait(); close(s.done) }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-s.done
		if t.Failed() {
			t.Logf("server %s (%s) stderr:\n%s", addr, strings.Join(args, " "), s.Stderr.String())
		}
	})
	return s
}

// killed at cleanup.
func startHTTP(t *testing.T, transport string, env []string, args ...string) *httpServer {
	t.Helper()
	var lastErr error
	for attempt := 0; attempt < 3; attempt++ {
		addr := testkit.MustFreeAddr(t)
		all := []string{"--transport", transport, "--addr", addr}
		for _, a := range args { // "{addr}" stands for the address chosen here
			all = append(all, strings.ReplaceAll(a, "{addr}", addr))
		}
		s := launch(t, addr, env, all...)
		cmd := s.Cmd
		if lastErr = waitHealthy(s, 10*time.Second); lastErr == nil {
			// The port was free a moment ago only: another test's server
			// may have taken it and answered /healthz, while this one
			// failed to listen and exits at once. Make sure it is ours.
			select {
			case <-s.done:
				lastErr = fmt.Errorf("exited after another process answered on %s: %s", addr, s.Stderr.String())
			case <-time.After(300 * time.Millisecond):
				return s
			}
		}
		_ = cmd.Process.Kill()
		<-s.done
	}
	t.Fatalf("server did not become healthy: %v", lastErr)
	return nil
}

func waitHealthy(s *httpServer, d time.Duration) error {
	deadline := time.Now().Add(d)
	c := &http.Client{Timeout: time.Second}
	for time.Now().Before(deadline) {
		select {
		case <-s.done:
			return fmt.Errorf("process exited early: %v; stderr: %s", s.err, s.Stderr.String())
		default:
		}
		resp, err := c.Get(s.URL + "/healthz")
		if err == nil {
			_ = resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("no 200 from /healthz within %s", d)
}

// bearer is an http.RoundTripper that adds Authorization: Bearer <token>.
type bearer struct {
	token string
	base  http.RoundTripper
}

func (b bearer) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Bearer "+b.token)
	return b.base.RoundTrip(r)
}

func httpClientWithToken(token string) *http.Client {
	if token == "" {
		return &http.Client{}
	}
	return &http.Client{Transport: bearer{token: token, base: http.DefaultTransport}}
}

// progressLog records the progress notifications a client receives.
type progressLog struct {
	mu     sync.Mutex
	events []*mcp.ProgressNotificationParams
}

func (p *progressLog) handler(_ context.Context, req *mcp.ProgressNotificationClientRequest) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.events = append(p.events, req.Params)
}

// For returns the notifications received so far for token.
func (p *progressLog) For(token string) []*mcp.ProgressNotificationParams {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []*mcp.ProgressNotificationParams
	for _, e := range p.events {
		if fmt.Sprint(e.ProgressToken) == token {
			out = append(out, e)
		}
	}
	return out
}

// client is a connected go-sdk client session plus what it recorded.
type client struct {
	Session  *mcp.ClientSession
	Progress *progressLog
}

// transportKind names how a client reaches the server.
type transportKind struct {
	Name      string
	Transport string // stdio, sse or http
	// Version is the protocol version the client asks for ("" = the SDK's
	// latest, 2026-07-28, which falls back to initialize where needed).
	Version string
}

// connect starts (for stdio) or reuses (srv, for sse and http) a server and
// connects a go-sdk client to it with the given bearer token ("" = none).
func connect(t *testing.T, k transportKind, srv *httpServer, token string) *client {
	t.Helper()
	return connectWith(t, k, srv, token, nil, "--sandbox")
}

// connectN connects n clients to srv over k, each in its own session.
func connectN(t *testing.T, k transportKind, srv *httpServer, n int) []*client {
	t.Helper()
	clients := make([]*client, n)
	for i := range clients {
		clients[i] = connect(t, k, srv, "")
	}
	return clients
}

// connectWith is connect with the stdio server's environment and
// arguments (the HTTP servers get theirs from startHTTP).
func connectWith(t *testing.T, k transportKind, srv *httpServer, token string, env []string, args ...string) *client {
	t.Helper()
	pl := &progressLog{}
	c := mcp.NewClient(&mcp.Implementation{Name: "bys-mcp-e2e", Version: "1.0.0"},
		&mcp.ClientOptions{ProgressNotificationHandler: pl.handler})
	var tr mcp.Transport
	switch k.Transport {
	case "stdio":
		cmd := exec.Command(binPath, args...)
		cmd.Env = cleanEnv(env...)
		stderr := &testkit.SyncBuffer{}
		cmd.Stderr = stderr
		tr = &mcp.CommandTransport{Command: cmd, TerminateDuration: 2 * time.Second}
		t.Cleanup(func() {
			if t.Failed() {
				t.Logf("stdio server stderr:\n%s", stderr.String())
			}
		})
	case "sse":
		tr = &mcp.SSEClientTransport{Endpoint: srv.URL + "/sse", HTTPClient: httpClientWithToken(token)}
	case "http":
		tr = &mcp.StreamableClientTransport{Endpoint: srv.URL + "/mcp", HTTPClient: httpClientWithToken(token), MaxRetries: -1}
	default:
		t.Fatalf("unknown transport %q", k.Transport)
	}
	// The SSE transport ties its event stream to the Connect context, so
	// that context lives as long as the test.
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	var opts *mcp.ClientSessionOptions
	if k.Version != "" {
		opts = &mcp.ClientSessionOptions{ProtocolVersion: k.Version}
	}
	cs, err := c.Connect(ctx, tr, opts)
	if err != nil {
		t.Fatalf("%s: connect: %v", k.Name, err)
	}
	t.Cleanup(func() { _ = cs.Close() })
	return &client{Session: cs, Progress: pl}
}

// callTool calls a tool and fails the test on a protocol error.
func (c *client) callTool(t *testing.T, ctx context.Context, name string, args map[string]any) *mcp.CallToolResult {
	t.Helper()
	res, err := c.Session.CallTool(ctx, &mcp.CallToolParams{Name: name, Arguments: args})
	if err != nil {
		t.Fatalf("%s: protocol error: %v", name, err)
	}
	return res
}

// structured returns a result's structuredContent as a map.
func structured(t *testing.T, res *mcp.CallToolResult) map[string]any {
	t.Helper()
	if res.StructuredContent == nil {
		t.Fatalf("result has no structuredContent: %s", resultText(res))
	}
	// Normalise whatever the SDK decoded into a plain map.
	return testkit.Object(t, res.StructuredContent)
}

// resultText joins a result's text content.
func resultText(res *mcp.CallToolResult) string {
	var parts []string
	for _, c := range res.Content {
		if tc, ok := c.(*mcp.TextContent); ok {
			parts = append(parts, tc.Text)
		}
	}
	return strings.Join(parts, "\n")
}

// mustOK fails the test when res is an error result.
func mustOK(t *testing.T, what string, res *mcp.CallToolResult) {
	t.Helper()
	if res.IsError {
		t.Fatalf("%s: unexpected isError result: %s", what, resultText(res))
	}
}

// rawPost sends one POST to url with the given headers, host (if not "")
// and body and returns the status code and body.
func rawPost(t *testing.T, url string, header http.Header, host string, body []byte) (int, string) {
	t.Helper()
	if host != "" {
		header = header.Clone()
		if header == nil {
			header = http.Header{}
		}
		header.Set("Host", host)
	}
	status, _, resp := testkit.RawPost(t, url, header, body, 10*time.Second)
	return status, resp
}

const initializeBody = `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"e2e","version":"1"}}}`
