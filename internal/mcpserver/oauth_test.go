package mcpserver_test

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/byourside/bys-mcp/config"
	"github.com/byourside/bys-mcp/internal/app"
	"github.com/byourside/bys-mcp/internal/sandbox"
	"github.com/byourside/bys-mcp/internal/testkit"
)

// oauthServer is an in-process app with --oauth on an httptest server whose
// URL is the public URL (or publicURL, as behind a reverse proxy).
func oauthServer(t *testing.T, publicURL string, edit ...func(*config.Config)) (*app.App, string) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	base := "http://" + ln.Addr().String()
	if publicURL == "" {
		publicURL = base
	}
	a := testkit.SandboxApp(t, func(c *config.Config) {
		c.Transport, c.OAuth, c.PublicURL, c.Addr = "http", true, publicURL, ln.Addr().String()
		for _, e := range edit {
			e(c)
		}
	}, testkit.QuietLogger(), app.Options{SandboxOptions: sandbox.Options{TimeScale: 20}, Poll: testkit.FastPoll()})
	h := a.HTTPHandler()
	ts := httptest.NewUnstartedServer(h)
	ts.Listener.Close()
	ts.Listener = ln
	ts.Start()
	t.Cleanup(ts.Close)
	return a, base
}

type httpResult struct {
	status int
	header http.Header
	body   string
}

func send(t *testing.T, c *http.Client, method, u, host string, header http.Header, body string) httpResult {
	t.Helper()
	req, _ := http.NewRequest(method, u, strings.NewReader(body))
	for k, v := range header {
		req.Header[k] = v
	}
	if host != "" {
		req.Host = host
	}
	if c == nil {
		c = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return httpResult{resp.StatusCode, resp.Header, string(b)}
}

var formField = regexp.MustCompile(`name="(request|csrf)" value="([^"]*)"`)

// signIn registers a client, fills the consent page as a browser would, and
// returns an access token (write: the box for placing calls stays ticked).
func signIn(t *testing.T, base string, write bool) string {
	t.Helper()
	form := func(v url.Values) http.Header {
		return http.Header{"Content-Type": {"application/x-www-form-urlencoded"}, "Origin": {base}}
	}
	r := send(t, nil, "POST", base+"/register", "", http.Header{"Content-Type": {"application/json"}}, `{"redirect_uris":["http://127.0.0.1/cb"],"client_name":"In-process test"}`)
	var reg struct {
		ClientID string `json:"client_id"`
	}
	if err := json.Unmarshal([]byte(r.body), &reg); err != nil || reg.ClientID == "" {
		t.Fatalf("register: %d %s", r.status, r.body)
	}
	verifier := strings.Repeat("v", 50)
	sum := sha256.Sum256([]byte(verifier))
	q := url.Values{"response_type": {"code"}, "client_id": {reg.ClientID}, "redirect_uri": {"http://127.0.0.1:5555/cb"},
		"code_challenge": {base64.RawURLEncoding.EncodeToString(sum[:])}, "code_challenge_method": {"S256"}, "state": {"s"}}
	jar, _ := cookiejar.New(nil)
	browser := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	page := send(t, browser, "GET", base+"/authorize?"+q.Encode(), "", nil, "")
	fields := url.Values{"action": {"approve"}}
	for _, m := range formField.FindAllStringSubmatch(page.body, -1) {
		fields.Set(m[1], m[2])
	}
	if write {
		fields.Set("write", "1")
	}
	r = send(t, browser, "POST", base+"/authorize", "", form(fields), fields.Encode())
	loc, _ := url.Parse(r.header.Get("Location"))
	if r.status != http.StatusSeeOther || loc.Query().Get("code") == "" {
		t.Fatalf("consent: %d %s", r.status, r.body)
	}
	tv := url.Values{"grant_type": {"authorization_code"}, "code": {loc.Query().Get("code")}, "code_verifier": {verifier}, "client_id": {reg.ClientID}, "redirect_uri": {"http://127.0.0.1:5555/cb"}}
	r = send(t, nil, "POST", base+"/token", "", form(tv), tv.Encode())
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.Unmarshal([]byte(r.body), &tok); err != nil || tok.AccessToken == "" {
		t.Fatalf("token: %d %s", r.status, r.body)
	}
	return tok.AccessToken
}

func mcpHeaders(token string) http.Header {
	h := http.Header{"Content-Type": {"application/json"}, "Accept": {"application/json, text/event-stream"}, "Mcp-Protocol-Version": {"2026-07-28"}}
	if token != "" {
		h.Set("Authorization", "Bearer "+token)
	}
	return h
}

// toolHeaders are the headers of a 2026-07-28 tools/call of name.
func toolHeaders(token, name string) http.Header {
	h := mcpHeaders(token)
	h.Set("Mcp-Method", "tools/call")
	h.Set("Mcp-Name", name)
	return h
}

// toolCall is a 2026-07-28 stateless tools/call.
func toolCall(name, args string) string {
	return `{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"` + name + `","arguments":` + args +
		`,"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientInfo":{"name":"t","version":"1"},"io.modelcontextprotocol/clientCapabilities":{}}}}`
}

func TestOAuthGuardsTheMCPEndpoint(t *testing.T) {
	t.Parallel()
	audit := filepath.Join(t.TempDir(), "audit.jsonl")
	a, base := oauthServer(t, "", func(c *config.Config) { c.AuditLog = audit })
	rw := signIn(t, base, true)
	ro := signIn(t, base, false)

	// Without a token: 401 with the challenge; /healthz, /readyz and the
	// metadata need none; /metrics needs one.
	r := send(t, nil, "POST", base+"/mcp", "", toolHeaders("", "list_calls"), toolCall("list_calls", `{}`))
	if r.status != 401 || !strings.Contains(r.header.Get("WWW-Authenticate"), `resource_metadata="`+base+`/.well-known/oauth-protected-resource/mcp"`) {
		t.Fatalf("no token: %d %v", r.status, r.header)
	}
	for _, p := range []string{"/healthz", "/readyz", "/.well-known/oauth-protected-resource/mcp", "/.well-known/oauth-authorization-server"} {
		if r := send(t, nil, "GET", base+p, "", nil, ""); r.status != 200 {
			t.Errorf("GET %s: %d", p, r.status)
		}
	}
	if r := send(t, nil, "GET", base+"/metrics", "", nil, ""); r.status != 401 {
		t.Errorf("GET /metrics without a token: %d", r.status)
	}
	if r := send(t, nil, "GET", base+"/metrics", "", mcpHeaders(ro), ""); r.status != 200 {
		t.Errorf("GET /metrics with a token: %d", r.status)
	}
	// A bys_ak_ key is refused like any token this server did not issue.
	if r := send(t, nil, "POST", base+"/mcp", "", toolHeaders("bys_ak_a_real_key", "list_calls"), toolCall("list_calls", `{}`)); r.status != 401 || !strings.Contains(r.header.Get("WWW-Authenticate"), `error="invalid_token"`) {
		t.Errorf("bys_ak_ key: %d %q", r.status, r.header.Get("WWW-Authenticate"))
	}

	// Read-only: reads work, every write tool registered by the server
	// gets 403 insufficient_scope.
	if r := send(t, nil, "POST", base+"/mcp", "", toolHeaders(ro, "list_calls"), toolCall("list_calls", `{}`)); r.status != 200 || strings.Contains(r.body, `"isError":true`) {
		t.Fatalf("read-only list_calls: %d %s", r.status, r.body)
	}
	writes := 0
	for _, name := range []string{"place_call", "place_calls", "cancel_campaign", "pause_campaign", "resume_campaign", "retry_campaign", "get_call", "list_calls", "wait_for_call", "wait_for_campaign"} {
		if !a.Server.IsWriteTool(name) {
			continue
		}
		writes++
		r := send(t, nil, "POST", base+"/mcp", "", toolHeaders(ro, name), toolCall(name, `{}`))
		if r.status != 403 || !strings.HasPrefix(r.header.Get("WWW-Authenticate"), `Bearer error="insufficient_scope", scope="calls:read calls:write", resource_metadata="`) {
			t.Errorf("read-only %s: %d %q", name, r.status, r.header.Get("WWW-Authenticate"))
		}
	}
	if writes < 3 || a.Server.IsWriteTool("get_call") || a.Server.IsWriteTool("wait_for_campaign") {
		t.Errorf("write tools: %d, get_call %v", writes, a.Server.IsWriteTool("get_call"))
	}
	// Read-write: the grant's key places the call.
	r = send(t, nil, "POST", base+"/mcp", "", toolHeaders(rw, "place_call"), toolCall("place_call", `{"to":"+14155550100","objective":"Ask for the opening hours"}`))
	if r.status != 200 || !strings.Contains(r.body, `"callId"`) || strings.Contains(r.body, `"isError":true`) {
		t.Fatalf("place_call: %d %s", r.status, r.body)
	}
	// The audit line names the client that signed in.
	if b, _ := os.ReadFile(audit); !strings.Contains(string(b), `"client":"In-process test"`) {
		t.Errorf("the audit line does not name the client: %s", b)
	}
	// The key was the sandbox's: the read-only grant (same key) sees it.
	time.Sleep(50 * time.Millisecond)
	if r := send(t, nil, "POST", base+"/mcp", "", toolHeaders(ro, "list_calls"), toolCall("list_calls", `{}`)); !strings.Contains(r.body, "+14155550100") && !strings.Contains(r.body, "0100") {
		t.Errorf("list_calls does not show the call: %s", r.body)
	}
}

func TestOAuthHostIsThePublicURL(t *testing.T) {
	t.Parallel()
	// Behind a reverse proxy: a loopback listener, https://mcp.example.com
	// outside. The proxy forwards Host: mcp.example.com.
	_, base := oauthServer(t, "https://mcp.example.com")
	r := send(t, nil, "GET", base+"/.well-known/oauth-protected-resource/mcp", "mcp.example.com", http.Header{"X-Forwarded-Host": {"evil.example"}, "X-Forwarded-Proto": {"http"}}, "")
	if r.status != 200 || !strings.Contains(r.body, `"resource":"https://mcp.example.com/mcp"`) {
		t.Fatalf("metadata through the proxy: %d %s", r.status, r.body)
	}
	r = send(t, nil, "POST", base+"/mcp", "mcp.example.com", toolHeaders("", "list_calls"), toolCall("list_calls", `{}`))
	if r.status != 401 || !strings.Contains(r.header.Get("WWW-Authenticate"), `resource_metadata="https://mcp.example.com/.well-known/oauth-protected-resource/mcp"`) {
		t.Fatalf("/mcp through the proxy: %d %q", r.status, r.header.Get("WWW-Authenticate"))
	}
	h := toolHeaders("", "list_calls")
	h.Set("Origin", "https://mcp.example.com")
	if r := send(t, nil, "POST", base+"/mcp", "mcp.example.com", h, toolCall("list_calls", `{}`)); r.status != 401 {
		t.Fatalf("the public origin: %d %s", r.status, r.body)
	}
	for _, host := range []string{"evil.example", "mcp.example.com.evil.example"} {
		if r := send(t, nil, "POST", base+"/mcp", host, toolHeaders("", "list_calls"), toolCall("list_calls", `{}`)); r.status != 403 {
			t.Errorf("Host %s on /mcp: %d", host, r.status)
		}
		if r := send(t, nil, "GET", base+"/.well-known/oauth-authorization-server", host, nil, ""); r.status != 403 {
			t.Errorf("Host %s on the metadata: %d", host, r.status)
		}
	}
	h.Set("Origin", "https://evil.example")
	if r := send(t, nil, "POST", base+"/mcp", "mcp.example.com", h, toolCall("list_calls", `{}`)); r.status != 403 {
		t.Errorf("evil Origin: %d", r.status)
	}
}
