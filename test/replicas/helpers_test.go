// Package replicas_test runs several bys-mcp processes (the built binary)
// against one real Redis and one standalone sandbox, and checks from the
// outside, with mcp-go's Streamable HTTP client in both protocol eras, that
// they behave as one server: one call per intent, one budget, fail closed
// when Redis is gone, and no secret in any log line.
package replicas_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/byourside/bys-mcp/internal/state/redistest"
	"github.com/byourside/bys-mcp/internal/testkit"
	mcpclient "github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/client/transport"
	"github.com/mark3labs/mcp-go/mcp"
)

// serverKey is the replicas' own BYS_API_KEY. Tests isolate themselves in
// the shared sandbox by sending their own Bearer bys_ak_... key per client
// (each key is its own tenant, and dedupe and budgets are per key).
const serverKey = "bys_ak_shared"

var (
	binPath    string // the bys-mcp binary built by TestMain
	sandboxURL string // http://127.0.0.1:PORT of the shared standalone sandbox
)

func TestMain(m *testing.M) {
	os.Exit(runMain(m))
}

func runMain(m *testing.M) int {
	defer testkit.RemoveBinary()
	var err error
	if binPath, err = testkit.Binary(""); err != nil {
		fmt.Fprintln(os.Stderr, "replicas:", err)
		return 1
	}
	if redistest.Binary() == "" && os.Getenv("BYS_REQUIRE_REDIS") == "" {
		// The tests skip themselves (redistest.Start) with the reason.
		return m.Run()
	}
	sb, err := testkit.StartSandboxProcess(binPath, "20")
	if err != nil {
		fmt.Fprintln(os.Stderr, "replicas:", err)
		return 1
	}
	defer sb.Stop()
	sandboxURL = sb.URL
	code := m.Run()
	if code != 0 {
		fmt.Fprintf(os.Stderr, "sandbox stderr:\n%s\n", sb.Stderr.String())
	}
	return code
}

// proc is a child process of the test with its stderr captured.
type proc struct {
	name   string
	url    string
	addr   string
	args   []string
	cmd    *exec.Cmd
	stderr *testkit.SyncBuffer
	done   chan struct{}
}

func (p *proc) kill() {
	if p.cmd == nil || p.cmd.Process == nil {
		return
	}
	_ = p.cmd.Process.Kill()
	<-p.done
}

func (p *proc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

func (p *proc) start(env []string) error {
	p.cmd = exec.Command(binPath, p.args...)
	p.cmd.Env = cleanEnv(env...)
	p.stderr = &testkit.SyncBuffer{}
	p.cmd.Stderr = p.stderr
	p.done = make(chan struct{})
	if err := p.cmd.Start(); err != nil {
		return err
	}
	go func() { _ = p.cmd.Wait(); close(p.done) }()
	return nil
}

// replicaOpts configure a set of replicas.
type replicaOpts struct {
	stateURL string   // --state-url; "" runs without shared state
	extra    []string // more flags
	env      []string // more environment
}

// startReplicas starts n replicas of the binary in http mode against the
// shared sandbox and waits for /healthz on each. They are killed at cleanup
// (and their stderr logged if the test failed).
func startReplicas(t *testing.T, n int, o replicaOpts) []*proc {
	t.Helper()
	if sandboxURL == "" {
		t.Skip("no sandbox (redis-server missing)")
	}
	ps := make([]*proc, n)
	for i := range n {
		ps[i] = startReplica(t, fmt.Sprintf("replica-%d", i), o)
	}
	return ps
}

// connectSpread connects n clients of key spread over reps (client i on
// reps[i%len(reps)]), client i in the 2025-11-25 era when legacy(i).
func connectSpread(t *testing.T, reps []*proc, key string, n int, legacy func(i int) bool) []*client {
	t.Helper()
	clients := make([]*client, n)
	for i := range clients {
		clients[i] = connect(t, reps[i%len(reps)], key, legacy(i))
	}
	return clients
}

// startOnRedis starts a Redis of the test's own and n replicas (see
// startReplicas) sharing it as their state, with extra flags.
func startOnRedis(t *testing.T, n int, extra ...string) (*redistest.Server, []*proc) {
	t.Helper()
	rs := redistest.Start(t)
	return rs, startReplicas(t, n, replicaOpts{stateURL: rs.URL, extra: extra})
}

func startReplica(t *testing.T, name string, o replicaOpts) *proc {
	t.Helper()
	var lastErr error
	for range 3 {
		addr, err := testkit.FreeAddr()
		if err != nil {
			t.Fatal(err)
		}
		p := &proc{name: name, addr: addr, url: "http://" + addr}
		p.args = []string{"--transport", "http", "--addr", addr, "--sandbox=false", "--base-url", sandboxURL}
		if o.stateURL != "" {
			p.args = append(p.args, "--state-url", o.stateURL)
		}
		for _, a := range o.extra { // "{addr}" stands for this replica's host:port
			p.args = append(p.args, strings.ReplaceAll(a, "{addr}", addr))
		}
		if err := p.start(append([]string{"BYS_API_KEY=" + serverKey}, o.env...)); err != nil {
			t.Fatal(err)
		}
		if lastErr = waitHTTP(p, "/healthz", 10*time.Second, http.StatusOK); lastErr == nil {
			t.Cleanup(func() {
				p.kill()
				if t.Failed() {
					t.Logf("%s stderr:\n%s", p.name, p.stderr.String())
				}
			})
			return p
		}
		p.kill()
	}
	t.Fatalf("%s did not become healthy: %v", name, lastErr)
	return nil
}

// waitHTTP polls GET url+path until it answers want.
func waitHTTP(p *proc, path string, d time.Duration, want int) error {
	deadline := time.Now().Add(d)
	c := &http.Client{Timeout: time.Second}
	for time.Now().Before(deadline) {
		if p.exited() {
			return fmt.Errorf("%s exited early; stderr: %s", p.name, p.stderr.String())
		}
		if status(c, p.url+path) == want {
			return nil
		}
		time.Sleep(30 * time.Millisecond)
	}
	return fmt.Errorf("no %d from %s%s within %s", want, p.url, path, d)
}

func status(c *http.Client, url string) int {
	resp, err := c.Get(url)
	if err != nil {
		return 0
	}
	_ = resp.Body.Close()
	return resp.StatusCode
}

func httpStatus(t *testing.T, url string) int {
	t.Helper()
	return status(&http.Client{Timeout: 3 * time.Second}, url)
}

func cleanEnv(extra ...string) []string { return testkit.CleanEnv(extra...) }

// tenantKey returns a fresh API key (a fresh sandbox tenant) for a test.
func tenantKey(t *testing.T) string {
	return fmt.Sprintf("bys_ak_%s_%d", strings.NewReplacer("/", "_", " ", "_").Replace(t.Name()), time.Now().UnixNano())
}

// client is an initialized mcp-go Streamable HTTP client of one replica.
type client struct {
	*mcpclient.Client
	legacy bool
}

// connect opens a client of replica p with key as its Bearer key; legacy
// pins the 2025-11-25 era (initialize, Mcp-Session-Id), otherwise the client
// speaks 2026-07-28 (stateless).
func connect(t *testing.T, p *proc, key string, legacy bool) *client {
	t.Helper()
	c, err := dial(p, key, legacy)
	if err != nil {
		t.Fatalf("connect to %s (legacy=%v): %v", p.name, legacy, err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

func dial(p *proc, key string, legacy bool) (*client, error) {
	c, err := mcpclient.NewStreamableHttpClient(p.url+"/mcp",
		transport.WithHTTPHeaders(map[string]string{"Authorization": "Bearer " + key}),
		transport.WithHTTPTimeout(60*time.Second))
	if err != nil {
		return nil, err
	}
	var opts []mcpclient.ClientOption
	if legacy {
		opts = append(opts, mcpclient.WithLegacyProtocolOnly())
	}
	c = mcpclient.NewClient(c.GetTransport(), opts...)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := c.Start(ctx); err != nil {
		return nil, err
	}
	init := mcp.InitializeRequest{}
	init.Params.ClientInfo = mcp.Implementation{Name: "replicas-test", Version: "1"}
	res, err := c.Initialize(ctx, init)
	if err != nil {
		_ = c.Close()
		return nil, err
	}
	wantModern := !legacy
	if mcp.IsModernProtocol(res.ProtocolVersion) != wantModern {
		_ = c.Close()
		return nil, fmt.Errorf("negotiated %s, legacy=%v", res.ProtocolVersion, legacy)
	}
	return &client{Client: c, legacy: legacy}, nil
}

// toolResult is a tools/call result decoded for the checks.
type toolResult struct {
	IsError    bool
	Text       string
	Structured map[string]any
}

func (r toolResult) str(k string) string {
	s, _ := r.Structured[k].(string)
	return s
}

func (r toolResult) String() string {
	return fmt.Sprintf("isError=%v text=%q structured=%v", r.IsError, r.Text, r.Structured)
}

func (c *client) call(ctx context.Context, name string, args map[string]any) (toolResult, error) {
	req := mcp.CallToolRequest{}
	req.Params.Name = name
	req.Params.Arguments = args
	res, err := c.CallTool(ctx, req)
	if err != nil {
		return toolResult{}, err
	}
	out := toolResult{IsError: res.IsError}
	for _, ct := range res.Content {
		if tc, ok := ct.(mcp.TextContent); ok {
			out.Text += tc.Text
		}
	}
	if res.StructuredContent != nil {
		raw, err := json.Marshal(res.StructuredContent)
		if err != nil {
			return out, err
		}
		if err := json.Unmarshal(raw, &out.Structured); err != nil {
			return out, err
		}
	}
	return out, nil
}

func (c *client) mustCall(t *testing.T, name string, args map[string]any) toolResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	r, err := c.call(ctx, name, args)
	if err != nil {
		t.Fatalf("tools/call %s: %v", name, err)
	}
	return r
}

func placeArgs(to, objective string) map[string]any {
	return map[string]any{"to": to, "objective": objective}
}

// sandboxCalls lists key's calls straight from the sandbox API.
func sandboxCalls(t *testing.T, key string) []map[string]any {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, sandboxURL+"/v1/agent/calls?limit=100", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+key)
	resp, err := (&http.Client{Timeout: 5 * time.Second}).Do(req)
	if err != nil {
		t.Fatalf("sandbox list: %v", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("sandbox list: HTTP %d", resp.StatusCode)
	}
	var body struct {
		Calls []map[string]any `json:"calls"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		t.Fatalf("sandbox list: %v", err)
	}
	return body.Calls
}

const syscallSIGTERM = syscall.SIGTERM

// getBody returns GET url's status and body as text (for secret checks).
func getBody(t *testing.T, url string) string {
	t.Helper()
	resp, err := (&http.Client{Timeout: 3 * time.Second}).Get(url)
	if err != nil {
		return "error: " + err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	return fmt.Sprintf("%d %s", resp.StatusCode, b)
}

// redisDo sends one command to the Redis at addr (no password) and returns
// its reply decoded: string, int64, nil, or []any. A minimal RESP2 reader,
// so the tests need no redis-cli.
func redisDo(t *testing.T, addr string, args ...string) any {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		t.Fatalf("redis %s: %v", addr, err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(3 * time.Second))
	var b strings.Builder
	fmt.Fprintf(&b, "*%d\r\n", len(args))
	for _, a := range args {
		fmt.Fprintf(&b, "$%d\r\n%s\r\n", len(a), a)
	}
	if _, err := io.WriteString(c, b.String()); err != nil {
		t.Fatalf("redis %v: %v", args, err)
	}
	v, err := readRESP(bufio.NewReader(c))
	if err != nil {
		t.Fatalf("redis %v: %v", args, err)
	}
	return v
}

func readRESP(r *bufio.Reader) (any, error) {
	line, err := r.ReadString('\n')
	if err != nil {
		return nil, err
	}
	line = strings.TrimSuffix(line, "\r\n")
	if line == "" {
		return nil, fmt.Errorf("empty reply")
	}
	switch line[0] {
	case '+':
		return line[1:], nil
	case '-':
		return nil, fmt.Errorf("redis error: %s", line[1:])
	case ':':
		return strconv.ParseInt(line[1:], 10, 64)
	case '$':
		n, err := strconv.Atoi(line[1:])
		if err != nil || n < 0 {
			return nil, err
		}
		buf := make([]byte, n+2)
		if _, err := io.ReadFull(r, buf); err != nil {
			return nil, err
		}
		return string(buf[:n]), nil
	case '*':
		n, err := strconv.Atoi(line[1:])
		if err != nil || n < 0 {
			return nil, err
		}
		out := make([]any, n)
		for i := range out {
			if out[i], err = readRESP(r); err != nil {
				return nil, err
			}
		}
		return out, nil
	}
	return nil, fmt.Errorf("unknown reply %q", line)
}

// checkRedisHygiene checks that every key in Redis expires and that no key
// name or value holds the API key in clear.
func checkRedisHygiene(t *testing.T, addr string, apiKeys ...string) {
	t.Helper()
	keys, _ := redisDo(t, addr, "KEYS", "*").([]any)
	if len(keys) == 0 {
		t.Errorf("Redis holds no key at all: is the state really shared through it?")
	}
	for _, k := range keys {
		name, _ := k.(string)
		if ttl, _ := redisDo(t, addr, "PTTL", name).(int64); ttl == -1 {
			t.Errorf("Redis key %q has no expiry", name)
		}
		var content string
		switch typ, _ := redisDo(t, addr, "TYPE", name).(string); typ {
		case "string":
			content = fmt.Sprint(redisDo(t, addr, "GET", name))
		case "zset":
			content = fmt.Sprint(redisDo(t, addr, "ZRANGE", name, "0", "-1", "WITHSCORES"))
		case "hash":
			content = fmt.Sprint(redisDo(t, addr, "HGETALL", name))
		case "set":
			content = fmt.Sprint(redisDo(t, addr, "SMEMBERS", name))
		case "list":
			content = fmt.Sprint(redisDo(t, addr, "LRANGE", name, "0", "-1"))
		}
		for _, secret := range append(apiKeys, serverKey) {
			if strings.Contains(name, secret) || strings.Contains(content, secret) {
				t.Errorf("Redis key %q (or its value) holds the API key in clear", name)
			}
		}
	}
}

// placedTotal sums bys_mcp_calls_placed_total over the replicas' /metrics.
func placedTotal(t *testing.T, reps []*proc) float64 {
	t.Helper()
	var sum float64
	for _, p := range reps {
		sum += testkit.MetricSum(t, testkit.Metrics(t, p.url), "bys_mcp_calls_placed_total")
	}
	return sum
}
