// Package bench holds bys-mcp's performance benchmarks (issue 7). Nothing
// here asserts on time: run them with `go test -bench . ./test/bench/`, or all
// of them with the figures and targets in one table with scripts/bench.
package bench

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"runtime"
	"sort"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/byourside/bys-mcp/config"
	"github.com/byourside/bys-mcp/internal/app"
	"github.com/byourside/bys-mcp/internal/sandbox"
	"github.com/byourside/bys-mcp/internal/testkit"
)

// benchKey is the tenant every benchmark uses on the standalone sandbox.
const benchKey = "bys_ak_bench"

// unlimited lifts the sandbox's rate limit and minute cap, so that
// placement benchmarks can run any number of iterations.
var unlimited = sandbox.Options{RateLimitPerMinute: -1, MinuteCap: -1}

// apiClient is an HTTP client that keeps enough idle connections for the
// benchmarks' concurrency.
func apiClient() *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConns = 512
	t.MaxIdleConnsPerHost = 256
	return &http.Client{Transport: t}
}

// placeDirect places a call on the API with a plain POST and returns its id.
func placeDirect(tb testing.TB, c *http.Client, baseURL, to string) string {
	tb.Helper()
	body := fmt.Sprintf(`{"to":%q,"objective":"Benchmark call"}`, to)
	req, _ := http.NewRequest(http.MethodPost, baseURL+"/v1/agent/calls", strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+benchKey)
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct {
		CallID string `json:"callId"`
		ID     string `json:"id"`
	}
	raw, _ := io.ReadAll(resp.Body)
	if err := json.Unmarshal(raw, &out); err != nil || resp.StatusCode/100 != 2 {
		tb.Fatalf("POST /v1/agent/calls: %d %s", resp.StatusCode, raw)
	}
	if out.CallID == "" {
		out.CallID = out.ID
	}
	return out.CallID
}

// directGet is the baseline: the same GET bys-mcp sends for get_call,
// straight to the API, body read to the end (not decoded).
type directGet struct {
	c   *http.Client
	url string
}

func newDirectGet(baseURL, id string) *directGet {
	return &directGet{c: apiClient(), url: baseURL + "/v1/agent/calls/" + id}
}

func (d *directGet) do(tb testing.TB) {
	req, _ := http.NewRequest(http.MethodGet, d.url, nil)
	req.Header.Set("Authorization", "Bearer "+benchKey)
	req.Header.Set("Accept", "application/json")
	resp, err := d.c.Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		tb.Fatalf("direct GET: %d", resp.StatusCode)
	}
}

// newAppAt builds the app against the API at baseURL (the standalone
// sandbox) with the given transport.
func newAppAt(tb testing.TB, baseURL, transport string) *app.App {
	tb.Helper()
	cfg := config.Defaults()
	cfg.Sandbox = false
	cfg.APIKey = benchKey
	cfg.BaseURL = baseURL
	cfg.CallingHours = "off" // not under test
	cfg.MaxCallsPerNumber, cfg.CallsPerNumber = "off", 0
	cfg.Transport = transport
	cfg.Addr = "127.0.0.1:0"
	cfg.MaxSessions = 10000
	if err := cfg.Validate(); err != nil {
		tb.Fatalf("config: %v", err)
	}
	a, err := app.New(cfg, testkit.QuietLogger(), app.Options{})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(a.Close)
	return a
}

// newEmbeddedApp builds the app against the embedded sandbox (--sandbox).
func newEmbeddedApp(tb testing.TB, transport string, opts sandbox.Options) *app.App {
	tb.Helper()
	return testkit.SandboxApp(tb, func(cfg *config.Config) {
		cfg.Transport = transport
		cfg.Addr = "127.0.0.1:0"
		cfg.MaxSessions = 10000
	}, testkit.QuietLogger(), app.Options{SandboxOptions: opts})
}

// serveHTTP serves a's Streamable HTTP transport on a loopback listener and
// returns the /mcp URL.
func serveHTTP(tb testing.TB, a *app.App) string {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = a.ServeHTTP(ctx, ln); close(done) }()
	tb.Cleanup(func() { cancel(); <-done })
	return "http://" + ln.Addr().String() + "/mcp"
}

// ---- JSON-RPC helpers shared by the stdio and HTTP clients ----

const initParams = `{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"bys-bench","version":"1"}}`

func getCallParams(id string) string {
	return fmt.Sprintf(`{"name":"get_call","arguments":{"callId":%q}}`, id)
}

// checkResult fails unless raw is a JSON-RPC result of a tool call that is
// not an error.
func checkResult(tb testing.TB, raw []byte) {
	if !bytes.Contains(raw, []byte(`"result"`)) || bytes.Contains(raw, []byte(`"isError":true`)) {
		tb.Fatalf("unexpected response: %.300s", raw)
	}
}

// ---- stdio: the built binary, spawned once ----

// binary returns the bys-mcp binary: $BYS_MCP_BIN, else one built from this
// module into a temporary directory (once per test binary).
func binary(tb testing.TB) string {
	tb.Helper()
	bin, err := testkit.Binary("BYS_MCP_BIN")
	if err != nil {
		tb.Fatal(err)
	}
	return bin
}

// stdioServer is the bys-mcp binary serving stdio, driven with one request
// in flight at a time.
type stdioServer struct {
	cmd *exec.Cmd
	in  io.WriteCloser
	out *bufio.Reader
	id  int
}

func startStdio(tb testing.TB, args []string, env ...string) *stdioServer {
	tb.Helper()
	cmd := exec.Command(binary(tb), args...)
	cmd.Env = append(append(os.Environ(), "BYS_STATE_DIR=memory", "BYS_CALLING_HOURS=off", "BYS_MAX_CALLS_PER_NUMBER=off"), env...) // neither is under test here
	cmd.Stderr = io.Discard
	in, err := cmd.StdinPipe()
	if err != nil {
		tb.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		tb.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	s := &stdioServer{cmd: cmd, in: in, out: bufio.NewReaderSize(out, 1<<20)}
	tb.Cleanup(func() { in.Close(); _ = cmd.Wait() })
	checkResultRaw(tb, s.call(tb, "initialize", initParams))
	if _, err := io.WriteString(in, `{"jsonrpc":"2.0","method":"notifications/initialized"}`+"\n"); err != nil {
		tb.Fatal(err)
	}
	return s
}

func checkResultRaw(tb testing.TB, raw []byte) {
	if !bytes.Contains(raw, []byte(`"result"`)) {
		tb.Fatalf("unexpected response: %.300s", raw)
	}
}

// call sends one request and returns its response line, skipping
// notifications.
func (s *stdioServer) call(tb testing.TB, method, params string) []byte {
	s.id++
	msg := fmt.Sprintf(`{"jsonrpc":"2.0","id":%d,"method":%q,"params":%s}`+"\n", s.id, method, params)
	if _, err := io.WriteString(s.in, msg); err != nil {
		tb.Fatal(err)
	}
	want := fmt.Sprintf(`"id":%d,`, s.id)
	for {
		line, err := s.out.ReadBytes('\n')
		if err != nil {
			tb.Fatalf("stdio: %v", err)
		}
		if bytes.Contains(line, []byte(want)) {
			return line
		}
	}
}

// ---- Streamable HTTP: a minimal raw client, one session ----

type httpSession struct {
	c   *http.Client
	url string
	sid string
	id  atomic.Int64
}

func newHTTPSession(tb testing.TB, c *http.Client, url string) *httpSession {
	tb.Helper()
	s := &httpSession{c: c, url: url}
	resp, body := s.post(tb, "initialize", initParams, true)
	checkResultRaw(tb, body)
	s.sid = resp.Header.Get("Mcp-Session-Id")
	if s.sid == "" {
		tb.Fatalf("initialize: no Mcp-Session-Id")
	}
	s.notify(tb, "notifications/initialized")
	return s
}

func (s *httpSession) notify(tb testing.TB, method string) {
	req, _ := http.NewRequest(http.MethodPost, s.url, strings.NewReader(fmt.Sprintf(`{"jsonrpc":"2.0","method":%q}`, method)))
	s.headers(req)
	resp, err := s.c.Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
}

func (s *httpSession) headers(req *http.Request) {
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	if s.sid != "" {
		req.Header.Set("Mcp-Session-Id", s.sid)
		req.Header.Set("Mcp-Protocol-Version", "2025-11-25")
	}
}

// post sends one request and returns the JSON-RPC response (the data of
// the last SSE event when the server answers with a stream).
func (s *httpSession) post(tb testing.TB, method, params string, _ bool) (*http.Response, []byte) {
	id := s.id.Add(1)
	req, _ := http.NewRequest(http.MethodPost, s.url, strings.NewReader(fmt.Sprintf(`{"jsonrpc":"2.0","id":%d,"method":%q,"params":%s}`, id, method, params)))
	s.headers(req)
	resp, err := s.c.Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		tb.Fatal(err)
	}
	if resp.StatusCode != 200 {
		tb.Fatalf("%s: HTTP %d: %.300s", method, resp.StatusCode, body)
	}
	if strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
		var last []byte
		for _, line := range bytes.Split(body, []byte("\n")) {
			if d, ok := bytes.CutPrefix(line, []byte("data:")); ok {
				last = bytes.TrimSpace(d)
			}
		}
		body = last
	}
	return resp, body
}

func (s *httpSession) call(tb testing.TB, method, params string) []byte {
	_, body := s.post(tb, method, params, false)
	return body
}

// ---- statistics ----

func quantile(v []time.Duration, p float64) time.Duration {
	if len(v) == 0 {
		return 0
	}
	s := append([]time.Duration(nil), v...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s[int(p*float64(len(s)-1))]
}

// reportQuantiles adds name-p50-ns and name-p99-ns metrics.
func reportQuantiles(b *testing.B, name string, v []time.Duration) {
	b.ReportMetric(float64(quantile(v, .5).Nanoseconds()), name+"-p50-ns")
	b.ReportMetric(float64(quantile(v, .99).Nanoseconds()), name+"-p99-ns")
}

var _ = runtime.NumCPU
