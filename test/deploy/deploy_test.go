package deploy_test

import (
	"context"
	"debug/buildinfo"
	"debug/elf"
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/byourside/bys-mcp/internal/state/redistest"
	"github.com/byourside/bys-mcp/internal/testkit"
	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// publicName is the deployment's public host name: not a loopback name,
// so that the replicas' DNS-rebinding guard has to accept it because it is
// the --public-url host, and nothing else. The test's clients reach it at
// 127.0.0.1 without DNS.
const publicName = "mcp.bys.test"

// numCompletes is a sandbox number whose call completes (queued 1 s,
// dialing 2 s, in progress 8 s at time scale 1).
const numCompletes = "+14155550123"

// The binary runs in a minimal container: statically linked, no cgo.
func TestTheBinaryIsStatic(t *testing.T) {
	t.Parallel()
	info, err := buildinfo.ReadFile(binPath)
	if err != nil {
		t.Fatal(err)
	}
	cgo := ""
	for _, s := range info.Settings {
		if s.Key == "CGO_ENABLED" {
			cgo = s.Value
		}
	}
	if cgo != "0" {
		t.Fatalf("built with CGO_ENABLED=%q, want 0", cgo)
	}
	f, err := elf.Open(binPath)
	if err != nil {
		t.Skipf("not an ELF binary (%v): the static check is for Linux", err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			t.Fatal("the binary names a dynamic loader (PT_INTERP): it is not static")
		}
	}
	if libs, _ := f.ImportedLibraries(); len(libs) > 0 {
		t.Fatalf("the binary needs shared libraries: %v", libs)
	}
}

// deploy/Caddyfile parses as shipped, with Debian's caddy.
func TestCaddyfileAdapts(t *testing.T) {
	t.Parallel()
	caddy := tool(t, "caddy", "apt-get install caddy")
	cmd := exec.Command(caddy, "adapt", "--config", filepath.Join(root, "deploy", "Caddyfile"), "--adapter", "caddyfile")
	cmd.Env = append(os.Environ(), "HOME="+t.TempDir())
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("caddy adapt deploy/Caddyfile: %v\n%s", err, out)
	}
	if strings.Contains(string(out), "not formatted") {
		t.Errorf("deploy/Caddyfile is not as caddy fmt writes it:\n%s", out)
	}
}

// deploy/bys-mcp@.service is a unit systemd reads without a warning.
func TestSystemdUnitVerifies(t *testing.T) {
	t.Parallel()
	analyze, err := exec.LookPath("systemd-analyze")
	if err != nil {
		t.Skip("systemd-analyze is not installed (the systemd package)")
	}
	dir := t.TempDir()
	raw, err := os.ReadFile(filepath.Join(root, "deploy", "bys-mcp@.service"))
	if err != nil {
		t.Fatal(err)
	}
	// The unit names the installed binary; verify checks that it exists.
	unit := strings.ReplaceAll(string(raw), "/usr/local/bin/bys-mcp", binPath)
	if err := os.WriteFile(filepath.Join(dir, "bys-mcp@.service"), []byte(unit), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(analyze, "verify", "--man=no", filepath.Join(dir, "bys-mcp@8181.service"))
	out, err := cmd.CombinedOutput()
	if err != nil || len(strings.TrimSpace(string(out))) > 0 {
		t.Fatalf("systemd-analyze verify: %v\n%s", err, out)
	}
}

// TestDeployBehindCaddy is the deployment of deploy/ on one machine: Redis,
// two replicas started as the unit starts them with the example
// environment, and caddy serving https://mcp.bys.test:PORT with the
// Caddyfile. A person signs in through the proxy; tools work through it;
// the metadata names the public URL whatever forwarded headers say; a
// 2025-11-25 session stays on the replica that opened it; a token issued
// while only replica A ran keeps working through the proxy once A is
// killed, served by B.
func TestDeployBehindCaddy(t *testing.T) {
	caddy := tool(t, "caddy", "apt-get install caddy")
	redis := redistest.Start(t)
	api, err := testkit.StartSandboxProcess(binPath, "4")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(api.Stop)

	dir := t.TempDir()
	// The secret the unit loads as a credential: /etc/bys-mcp/oauth-secret.
	credDir := filepath.Join(dir, "credentials")
	if err := os.MkdirAll(credDir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(credDir, "oauth-secret"), []byte("5d0b7e4c1a2f3e4d5c6b7a8990a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	portA, portB, port, httpPort := testkit.FreePort(t), testkit.FreePort(t), testkit.FreePort(t), testkit.FreePort(t)
	public := "https://" + publicName + ":" + port
	environment := envFile(t, map[string]string{
		"BYS_MCP_PUBLIC_URL": public,
		"BYS_STATE_URL":      redis.URL,
		// The API is the sandbox on loopback; the key typed on the
		// consent page is the person's.
		"BYS_BASE_URL": api.URL,
	})
	replica := func(port string) *proc {
		t.Helper()
		args, unitEnv := unitCommand(t, port, dir, credDir)
		env := testkit.CleanEnv(append(unitEnv, environment...)...)
		p := start(t, "replica "+port, binPath, env, args...)
		c := &http.Client{Timeout: time.Second}
		p.waitFor(t, 15*time.Second, "200 from /healthz", func() bool {
			resp, err := c.Get("http://127.0.0.1:" + port + "/healthz")
			if err != nil {
				return false
			}
			resp.Body.Close()
			return resp.StatusCode == http.StatusOK
		})
		return p
	}

	// Replica A alone first: the sign-in below is served by A only.
	a := replica(portA)

	caddyDir := filepath.Join(dir, "caddy")
	caddyfile := filepath.Join(caddyDir, "Caddyfile")
	if err := os.MkdirAll(caddyDir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(caddyfile, []byte(caddyfileForTest(t, publicName, port, portA, portB, httpPort)), 0o600); err != nil {
		t.Fatal(err)
	}
	// caddy keeps its local CA under $XDG_DATA_HOME/caddy: the test's own.
	caddyEnv := append(os.Environ(), "HOME="+caddyDir, "XDG_DATA_HOME="+filepath.Join(caddyDir, "data"), "XDG_CONFIG_HOME="+filepath.Join(caddyDir, "config"))
	cp := start(t, "caddy", caddy, caddyEnv, "run", "--config", caddyfile, "--adapter", "caddyfile")
	rootCrt := filepath.Join(caddyDir, "data", "caddy", "pki", "authorities", "local", "root.crt")
	var rootPEM []byte
	cp.waitFor(t, 20*time.Second, "local CA root certificate", func() bool {
		rootPEM, err = os.ReadFile(rootCrt)
		return err == nil && len(rootPEM) > 0
	})
	tr := proxyTransport(t, publicName, rootPEM)
	web := &http.Client{Transport: tr, Timeout: 15 * time.Second}
	cp.waitFor(t, 20*time.Second, "200 from /healthz through the proxy", func() bool {
		req, _ := http.NewRequest(http.MethodGet, public+"/healthz", nil)
		resp, err := web.Do(req)
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})

	// The metadata names the public URL, whatever the forwarded headers say
	// (through the proxy, and straight to a replica).
	forged := http.Header{"X-Forwarded-Host": {"evil.example"}, "X-Forwarded-Proto": {"http"}, "Forwarded": {"host=evil.example;proto=http"}}
	checkMetadata := func(where string, c *http.Client, base string, header http.Header) {
		t.Helper()
		status, _, body := get(t, c, base+"/.well-known/oauth-protected-resource/mcp", header)
		var prm struct {
			Resource             string   `json:"resource"`
			AuthorizationServers []string `json:"authorization_servers"`
		}
		if err := json.Unmarshal([]byte(body), &prm); status != 200 || err != nil || prm.Resource != public+"/mcp" || len(prm.AuthorizationServers) != 1 || prm.AuthorizationServers[0] != public {
			t.Fatalf("%s: protected resource metadata: %d %s", where, status, body)
		}
		status, _, body = get(t, c, base+"/.well-known/oauth-authorization-server", header)
		var asm map[string]any
		if err := json.Unmarshal([]byte(body), &asm); status != 200 || err != nil || asm["issuer"] != public ||
			!strings.HasPrefix(asm["authorization_endpoint"].(string), public+"/") || !strings.HasPrefix(asm["token_endpoint"].(string), public+"/") {
			t.Fatalf("%s: authorization server metadata: %d %s", where, status, body)
		}
	}
	checkMetadata("through the proxy", web, public, nil)
	checkMetadata("through the proxy, forwarded headers forged", web, public, forged)
	direct := &http.Client{Timeout: 5 * time.Second}
	checkMetadata("straight to replica A, forwarded headers forged", direct, "http://127.0.0.1:"+portA, forged)
	// The guard accepts the public name and refuses another.
	if status, _, body := get(t, direct, "http://127.0.0.1:"+portA+"/.well-known/oauth-protected-resource/mcp", http.Header{"Host": {"evil.example"}}); status != http.StatusForbidden {
		t.Fatalf("replica A with Host evil.example: %d %s", status, body)
	}
	// Without a token: 401 with the absolute metadata URL on the public
	// origin, which leads a host to sign in.
	status, h, _ := do(t, web, http.MethodPost, public+"/mcp", http.Header{"Content-Type": {"application/json"}, "Accept": {"application/json, text/event-stream"}},
		`{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"deploy","version":"1"}}}`)
	if challenge := h.Get("WWW-Authenticate"); status != 401 || !strings.Contains(challenge, `resource_metadata="`+public+`/.well-known/oauth-protected-resource/mcp"`) {
		t.Fatalf("no token through the proxy: %d %q", status, challenge)
	}

	// A person signs in through the proxy (DCR, the consent page, PKCE,
	// the code exchange), served by replica A alone.
	const key = "bys_ak_deploy_person_one"
	var progress sync.Map // progress token -> time of the first notification
	person := &testkit.Person{Key: key, Write: true, Transport: tr}
	c := testkit.SignIn(t, public+"/mcp", person, testkit.SignInOptions{
		HTTPClient: &http.Client{Transport: tr, Timeout: 30 * time.Second},
		Client: &mcp.ClientOptions{ProgressNotificationHandler: func(_ context.Context, r *mcp.ProgressNotificationClientRequest) {
			progress.LoadOrStore(r.Params.ProgressToken, time.Now())
		}},
	})
	if person.Pages() != 1 {
		t.Fatalf("%d consent pages, want 1", person.Pages())
	}
	callTool(t, c.Session, "list_calls", map[string]any{})
	placed := callTool(t, c.Session, "place_call", map[string]any{"to": numCompletes, "objective": "Ask for the opening hours"})
	callID, _ := placed["callId"].(string)
	if callID == "" {
		t.Fatalf("place_call: %v", placed)
	}
	// A streamed answer comes through as it is written: the progress of a
	// wait arrives before its result.
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	params := &mcp.CallToolParams{Name: "wait_for_call", Arguments: map[string]any{"callId": callID, "timeoutSec": 60}}
	params.SetProgressToken("deploy-wait")
	res, err := c.Session.CallTool(ctx, params)
	ended := time.Now()
	if err != nil || res.IsError {
		t.Fatalf("wait_for_call through the proxy: %v %v", res, err)
	}
	if rec := testkit.Object(t, res.StructuredContent); rec["status"] != "completed" {
		t.Fatalf("wait_for_call: %v", rec)
	}
	if first, ok := progress.Load("deploy-wait"); !ok || ended.Sub(first.(time.Time)) < 500*time.Millisecond {
		t.Fatalf("the wait's progress did not come through before its result (first at %v, result at %v)", first, ended)
	}
	issuedOnA := c.Token(t)

	// Replica B joins. New sessions reach it once caddy sees it healthy.
	b := replica(portB)
	prefixA, prefixB := "bys-"+portA+"-", "bys-"+portB+"-"
	var onA, onB *mcp.ClientSession
	b.waitFor(t, 40*time.Second, "2025-11-25 sessions opened on both replicas through the proxy", func() bool {
		cs, err := testkit.BearerSession(t, public+"/mcp", issuedOnA.AccessToken, tr, "2025-11-25")
		if err != nil {
			t.Fatalf("a 2025-11-25 session through the proxy: %v", err)
		}
		switch id := cs.ID(); {
		case strings.HasPrefix(id, prefixA) && onA == nil:
			onA = cs
		case strings.HasPrefix(id, prefixB) && onB == nil:
			onB = cs
		case strings.HasPrefix(id, prefixA) || strings.HasPrefix(id, prefixB):
			_ = cs.Close()
		default:
			t.Fatalf("session id %q names neither replica (%s, %s)", id, prefixA, prefixB)
		}
		return onA != nil && onB != nil
	})
	// Sticky: every request of a session reaches the replica that opened
	// it (another replica would answer 404, and the call would fail).
	// (One session after the other: round-robin alone would alternate.)
	for _, cs := range []*mcp.ClientSession{onA, onB, onA} {
		for range 6 {
			callTool(t, cs, "get_call", map[string]any{"callId": callID})
		}
	}

	// Replica A dies. Caddy's health check takes it out of the pool within
	// its 1 s interval; until then a POST sent to A gets 502 (Debian's
	// Caddy 2.6 cannot send a request body to the other replica). Within
	// 5 s every request is served by B.
	a.kill()
	killed := time.Now()
	initialize := `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"deploy","version":"1"}}}`
	var failed []int
	for ok := 0; ok < 5; {
		if time.Since(killed) > 5*time.Second {
			t.Fatalf("5 s after A died, requests still fail through the proxy: %v", failed)
		}
		status, h, body := do(t, web, http.MethodPost, public+"/mcp", http.Header{
			"Content-Type": {"application/json"}, "Accept": {"application/json, text/event-stream"}, "Authorization": {"Bearer " + issuedOnA.AccessToken},
		}, initialize)
		switch {
		case status == http.StatusOK && strings.HasPrefix(h.Get("Mcp-Session-Id"), prefixB):
			ok++
		case status == http.StatusBadGateway:
			ok = 0
			failed = append(failed, status)
			time.Sleep(100 * time.Millisecond)
		default:
			t.Fatalf("initialize through the proxy after A died: %d %q %s", status, h.Get("Mcp-Session-Id"), body)
		}
	}
	t.Logf("A died: every request is served by B after %v (%d answered 502 before)", time.Since(killed).Round(10*time.Millisecond), len(failed))
	// The token issued while A alone ran works through the proxy, now
	// served by B.
	for range 4 {
		callTool(t, c.Session, "get_call", map[string]any{"callId": callID})
	}
	callTool(t, c.Session, "place_call", map[string]any{"to": numCompletes, "objective": "Ask whether they open on Sunday"})
	callTool(t, onB, "get_call", map[string]any{"callId": callID})
	// A's session is gone: its next request gets 404, and a client opens a
	// new session on B.
	status, _, body := do(t, web, http.MethodPost, public+"/mcp", http.Header{
		"Content-Type": {"application/json"}, "Accept": {"application/json, text/event-stream"},
		"Authorization": {"Bearer " + issuedOnA.AccessToken}, "Mcp-Session-Id": {onA.ID()}, "Mcp-Protocol-Version": {"2025-11-25"},
	}, `{"jsonrpc":"2.0","id":9,"method":"tools/list","params":{}}`)
	if status != http.StatusNotFound {
		t.Fatalf("a request of A's session once A died: %d %s", status, body)
	}
	if cs, err := testkit.BearerSession(t, public+"/mcp", issuedOnA.AccessToken, tr, "2025-11-25"); err != nil || !strings.HasPrefix(cs.ID(), prefixB) {
		t.Fatalf("a new session once A died: %v", err)
	}
	// The refresh token A issued rotates on B, through the proxy.
	status, _, body = do(t, web, http.MethodPost, public+"/token", http.Header{"Content-Type": {"application/x-www-form-urlencoded"}},
		url.Values{"grant_type": {"refresh_token"}, "refresh_token": {issuedOnA.RefreshToken}, "client_id": {c.ClientID(t)}}.Encode())
	var refreshed map[string]any
	if err := json.Unmarshal([]byte(body), &refreshed); status != 200 || err != nil || refreshed["access_token"] == nil {
		t.Fatalf("refresh through the proxy with A dead: %d %s", status, body)
	}

	// Nothing secret in any log: not the key typed on the page, not a token.
	for _, p := range []*proc{a, b, cp} {
		out := p.stderr.String()
		for _, secret := range []string{key, issuedOnA.AccessToken, issuedOnA.RefreshToken, refreshed["access_token"].(string)} {
			if strings.Contains(out, secret) {
				t.Errorf("%s's output holds a secret", p.name)
			}
		}
	}
}

// callTool calls a tool and returns its structured result; an error fails
// the test.
func callTool(t *testing.T, cs *mcp.ClientSession, name string, args map[string]any) map[string]any {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: name, Arguments: args})
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	if res.IsError {
		var text []string
		for _, c := range res.Content {
			if tc, ok := c.(*mcp.TextContent); ok {
				text = append(text, tc.Text)
			}
		}
		t.Fatalf("%s: %s", name, strings.Join(text, "\n"))
	}
	return testkit.Object(t, res.StructuredContent)
}
