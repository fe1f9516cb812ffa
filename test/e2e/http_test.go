package e2e_test

import (
	"bytes"
	"context"
	"net/http"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/byourside/bys-mcp/internal/testkit"
	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// TestPerRequestKeys: two clients with their own Bearer keys on one server
// are two tenants: a call placed by A is invisible to B.
func TestPerRequestKeys(t *testing.T) {
	t.Parallel()
	for _, k := range []transportKind{
		{Name: "http-2026", Transport: "http"},
		{Name: "http-2025", Transport: "http", Version: "2025-11-25"},
		{Name: "sse", Transport: "sse"},
	} {
		t.Run(k.Name, func(t *testing.T) {
			t.Parallel()
			srv := startHTTP(t, k.Transport, nil, "--sandbox")
			a := connect(t, k, srv, "bys_ak_A")
			b := connect(t, k, srv, "bys_ak_B")
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()

			res := a.callTool(t, ctx, "place_call", map[string]any{"to": numCompletes, "objective": "Ask for the opening hours"})
			mustOK(t, "A place_call", res)
			callID, _ := structured(t, res)["callId"].(string)
			if callID == "" {
				t.Fatalf("A place_call: no callId")
			}
			res = a.callTool(t, ctx, "get_call", map[string]any{"callId": callID})
			mustOK(t, "A get_call", res)

			res = b.callTool(t, ctx, "get_call", map[string]any{"callId": callID})
			if !res.IsError {
				t.Errorf("B get_call of A's call: want isError not_found, got %s", resultText(res))
			} else {
				if e := structured(t, res)["error"]; e != "not_found" {
					t.Errorf("B get_call: structuredContent.error = %v, want not_found", e)
				}
				if txt := resultText(res); !strings.Contains(txt, "not_found") && !strings.Contains(txt, "not found") {
					t.Errorf("B get_call: text does not say not found: %s", txt)
				}
			}
			res = b.callTool(t, ctx, "list_calls", map[string]any{})
			mustOK(t, "B list_calls", res)
			calls, _ := structured(t, res)["calls"].([]any)
			for _, c := range calls {
				if m, _ := c.(map[string]any); m["id"] == callID {
					t.Errorf("B list_calls shows A's call %s", callID)
				}
			}
			res = a.callTool(t, ctx, "list_calls", map[string]any{})
			mustOK(t, "A list_calls", res)
			if calls, _ := structured(t, res)["calls"].([]any); len(calls) == 0 {
				t.Errorf("A list_calls: A's own call is missing")
			}
		})
	}
}

// TestHTTPGuards checks the DNS-rebinding, content-type and size guards,
// and that /healthz needs no credentials, on both HTTP transports.
func TestHTTPGuards(t *testing.T) {
	t.Parallel()
	for _, transport := range []string{"http", "sse"} {
		t.Run(transport, func(t *testing.T) {
			t.Parallel()
			srv := startHTTP(t, transport, nil, "--sandbox")
			endpoint := srv.URL + "/mcp"
			if transport == "sse" {
				endpoint = srv.URL + "/message?sessionId=unknown"
			}
			body := []byte(initializeBody)
			cases := []struct {
				name   string
				header http.Header
				host   string
				body   []byte
				want   int
			}{
				{"evil Host", nil, "evil.example", body, http.StatusForbidden},
				{"evil Host with port", nil, "evil.example:80", body, http.StatusForbidden},
				{"evil Origin", http.Header{"Origin": {"http://evil.example"}}, "", body, http.StatusForbidden},
				{"text/plain", http.Header{"Content-Type": {"text/plain"}}, "", body, http.StatusUnsupportedMediaType},
				{"no Content-Type", http.Header{"Content-Type": {""}}, "", body, http.StatusUnsupportedMediaType},
				{"body over 1 MiB", nil, "", bigBody(), http.StatusRequestEntityTooLarge},
			}
			for _, c := range cases {
				status, resp := rawPost(t, endpoint, c.header, c.host, c.body)
				if status != c.want {
					t.Errorf("%s: status %d, want %d (%s)", c.name, status, c.want, resp)
				}
				if status >= 400 && strings.Contains(resp, "Access-Control-Allow-Origin") {
					t.Errorf("%s: CORS header in body?", c.name)
				}
			}
			if transport == "http" {
				// A loopback Origin and Host are fine.
				status, resp := rawPost(t, endpoint, http.Header{"Origin": {"http://localhost:3000"}}, "localhost", body)
				if status != http.StatusOK {
					t.Errorf("loopback Origin: status %d, want 200 (%s)", status, resp)
				}
			}
			// GET /sse is guarded too.
			if transport == "sse" {
				req, _ := http.NewRequest(http.MethodGet, srv.URL+"/sse", nil)
				req.Host = "evil.example"
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				_ = resp.Body.Close()
				if resp.StatusCode != http.StatusForbidden {
					t.Errorf("GET /sse with evil Host: %d, want 403", resp.StatusCode)
				}
				if acao := resp.Header.Get("Access-Control-Allow-Origin"); acao == "*" {
					t.Errorf("GET /sse answers Access-Control-Allow-Origin: *")
				}
			}
			resp, err := http.Get(srv.URL + "/healthz")
			if err != nil {
				t.Fatal(err)
			}
			_ = resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				t.Errorf("/healthz: %d, want 200", resp.StatusCode)
			}
		})
	}
}

func bigBody() []byte {
	var b bytes.Buffer
	b.WriteString(`{"jsonrpc":"2.0","id":9,"method":"tools/call","params":{"name":"place_call","arguments":{"to":"+14155550123","objective":"`)
	b.WriteString(strings.Repeat("x", 1<<20+16))
	b.WriteString(`"}}}`)
	return b.Bytes()
}

// TestRequireClientKeys: with --require-client-keys every request brings its
// own key (401 otherwise), and a client with one works.
func TestRequireClientKeys(t *testing.T) {
	t.Parallel()
	srv := startHTTP(t, "http", nil, "--sandbox", "--require-client-keys")
	if status, resp := rawPost(t, srv.URL+"/mcp", nil, "", []byte(initializeBody)); status != http.StatusUnauthorized {
		t.Errorf("no Authorization: %d, want 401 (%s)", status, resp)
	}
	if status, resp := rawPost(t, srv.URL+"/mcp", http.Header{"Authorization": {"Bearer not-a-key"}}, "", []byte(initializeBody)); status != http.StatusUnauthorized {
		t.Errorf("Bearer not-a-key: %d, want 401 (%s)", status, resp)
	}
	resp, err := http.Get(srv.URL + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("/healthz without credentials: %d, want 200", resp.StatusCode)
	}
	c := connect(t, transportKind{Name: "http", Transport: "http"}, srv, "bys_ak_x")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	res := c.callTool(t, ctx, "place_call", map[string]any{"to": numCompletes, "objective": "Ask for the opening hours"})
	mustOK(t, "place_call with own key", res)
	res = c.callTool(t, ctx, "list_calls", map[string]any{})
	mustOK(t, "list_calls with own key", res)
	if calls, _ := structured(t, res)["calls"].([]any); len(calls) != 1 {
		t.Errorf("list_calls: %d calls, want 1", len(calls))
	}
}

// TestAuthToken: --auth-token makes every request carry the shared secret.
func TestAuthToken(t *testing.T) {
	t.Parallel()
	const token = "e2e-shared-secret-0123456789"
	srv := startHTTP(t, "http", nil, "--sandbox", "--auth-token", token)
	for _, h := range []http.Header{
		nil,
		{"Authorization": {"Bearer wrong-token-0123456789"}},
		{"Authorization": {"Bearer bys_ak_someone"}},
	} {
		if status, resp := rawPost(t, srv.URL+"/mcp", h, "", []byte(initializeBody)); status != http.StatusUnauthorized {
			t.Errorf("Authorization %q: %d, want 401 (%s)", h.Get("Authorization"), status, resp)
		}
	}
	if status, resp := rawPost(t, srv.URL+"/mcp", http.Header{"Authorization": {"Bearer " + token}}, "", []byte(initializeBody)); status != http.StatusOK {
		t.Errorf("right token: %d, want 200 (%s)", status, resp)
	}
	c := connect(t, transportKind{Name: "http", Transport: "http"}, srv, token)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	res := c.callTool(t, ctx, "list_calls", map[string]any{})
	mustOK(t, "list_calls with the token", res)
}

// TestNoKeyNoFallback: an http server without BYS_API_KEY (and not in
// sandbox mode) starts, and answers 401 to a request without its own key.
func TestNoKeyNoFallback(t *testing.T) {
	t.Parallel()
	srv := startHTTP(t, "http", nil, "--base-url", "http://127.0.0.1:9")
	if status, resp := rawPost(t, srv.URL+"/mcp", nil, "", []byte(initializeBody)); status != http.StatusUnauthorized {
		t.Errorf("no key anywhere: %d, want 401 (%s)", status, resp)
	}
	if status, resp := rawPost(t, srv.URL+"/mcp", http.Header{"Authorization": {"Bearer bys_ak_x"}}, "", []byte(initializeBody)); status != http.StatusOK {
		t.Errorf("own key: %d, want 200 (%s)", status, resp)
	}
}

// TestSIGTERMDuringWait: SIGTERM while a wait_for_call is in flight drains
// and exits 0 within the grace period.
func TestSIGTERMDuringWait(t *testing.T) {
	t.Parallel()
	for _, transport := range []string{"http", "sse"} {
		t.Run(transport, func(t *testing.T) {
			t.Parallel()
			srv := startHTTP(t, transport, nil, "--sandbox")
			c := connect(t, transportKind{Name: transport, Transport: transport, Version: "2025-11-25"}, srv, "")
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			res := c.callTool(t, ctx, "place_call", map[string]any{"to": numForever, "objective": "Hold the line"})
			mustOK(t, "place_call", res)
			callID, _ := structured(t, res)["callId"].(string)
			waitDone := make(chan error, 1)
			go func() {
				_, err := c.Session.CallTool(ctx, &mcp.CallToolParams{Name: "wait_for_call", Arguments: map[string]any{"callId": callID, "timeoutSec": 60}})
				waitDone <- err
			}()
			time.Sleep(time.Second)
			start := time.Now()
			if err := srv.Cmd.Process.Signal(syscall.SIGTERM); err != nil {
				t.Fatal(err)
			}
			code, ok := srv.Exited(13 * time.Second)
			if !ok {
				t.Fatalf("still running 13s after SIGTERM")
			}
			t.Logf("exited %d after %s", code, time.Since(start).Round(time.Millisecond))
			if code != 0 {
				t.Errorf("exit code %d after SIGTERM, want 0; stderr:\n%s", code, srv.Stderr.String())
			}
			select {
			case <-waitDone:
			case <-time.After(5 * time.Second):
				t.Errorf("the client's wait_for_call did not end after the server exited")
			}
		})
	}
}

// TestNonLoopbackRefused: listening on 0.0.0.0 without --auth-token or
// --require-client-keys is refused at once, naming both options.
func TestNonLoopbackRefused(t *testing.T) {
	t.Parallel()
	for _, transport := range []string{"http", "sse"} {
		cmd := exec.Command(binPath, "--sandbox", "--transport", transport, "--addr", "0.0.0.0:"+testkit.FreePort(t))
		code, stderr := runQuick(t, cmd)
		if code == 0 {
			t.Errorf("%s on 0.0.0.0: exit 0, want non-zero", transport)
		}
		if !strings.Contains(stderr, "--auth-token") || !strings.Contains(stderr, "--require-client-keys") {
			t.Errorf("%s on 0.0.0.0: stderr does not name both --auth-token and --require-client-keys: %q", transport, stderr)
		}
	}
}

// runQuick runs cmd with a clean environment (plus what cmd.Env already
// holds), expecting it to exit within 5 s, and returns its exit code and
// stderr.
func runQuick(t *testing.T, cmd *exec.Cmd, env ...string) (int, string) {
	t.Helper()
	cmd.Env = cleanEnv(env...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	cmd.Stdin = strings.NewReader("") // stdio: not a terminal, EOF at once
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		_ = cmd.Process.Kill()
		<-done
		t.Errorf("%v: still running after 5s", cmd.Args)
	}
	return cmd.ProcessState.ExitCode(), stderr.String()
}
