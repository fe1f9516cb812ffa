package e2e_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/byourside/bys-mcp/internal/testkit"
	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// The external identity provider mode (--oauth-issuer) against a real
// authorization server: panva's oidc-provider from npm
// (test/oidc-provider/provider.mjs), installed by the test into the CI
// cache, and the built binary. People sign in at the provider through its
// development interactions, driven over HTTP; the provider issues RS256 JWT
// access tokens for the server's resource (RFC 8707).

// oidcProviderVersion is the oidc-provider release the test installs.
const oidcProviderVersion = "9.13.3"

// oidcRedirect is the redirect URI of the provider's test clients: the
// test's "browser" stops there and reads the code.
const oidcRedirect = "http://127.0.0.1/cb"

// oidcProviderDir returns the directory oidc-provider is installed in,
// installing it the first time (npm, into $BYS_CI_CACHE or
// ~/.cache/bys-mcp-ci, keyed by version). Without node or npm the test is
// skipped, except in CI (CI=true), where it fails.
func oidcProviderDir(t *testing.T) string {
	t.Helper()
	for _, tool := range []string{"node", "npm"} {
		if _, err := exec.LookPath(tool); err != nil {
			if os.Getenv("CI") == "true" {
				t.Fatalf("%s is not installed: CI runs the --oauth-issuer end-to-end test against oidc-provider (npm)", tool)
			}
			t.Skipf("%s is not installed: the --oauth-issuer end-to-end test needs oidc-provider from npm", tool)
		}
	}
	cache := os.Getenv("BYS_CI_CACHE")
	if cache == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			t.Fatal(err)
		}
		cache = filepath.Join(home, ".cache", "bys-mcp-ci")
	}
	dir := filepath.Join(cache, "oidc-provider-"+oidcProviderVersion)
	if _, err := os.Stat(filepath.Join(dir, ".complete")); err == nil {
		return dir
	}
	if err := os.MkdirAll(cache, 0o755); err != nil {
		t.Fatal(err)
	}
	tmp, err := os.MkdirTemp(cache, ".oidc-provider-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(tmp)
	cmd := exec.Command("npm", "install", "--silent", "--no-audit", "--no-fund", "--ignore-scripts",
		"--cache", filepath.Join(cache, "npm"), "--prefix", tmp, "oidc-provider@"+oidcProviderVersion)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("npm install oidc-provider@%s: %v\n%s", oidcProviderVersion, err, out)
	}
	if err := os.WriteFile(filepath.Join(tmp, ".complete"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	_ = os.RemoveAll(dir) // an install that did not complete
	if err := os.Rename(tmp, dir); err != nil {
		if _, serr := os.Stat(filepath.Join(dir, ".complete")); serr != nil {
			t.Fatalf("installing oidc-provider into %s: %v", dir, err)
		}
	}
	return dir
}

// oidcProvider is a running oidc-provider.
type oidcProvider struct {
	dir, port, resource string
	issuer              string
	authURL, tokenURL   string
	cmd                 *exec.Cmd
	out                 *testkit.SyncBuffer
	done                chan struct{}
}

// startOIDCProvider starts the provider on port, signing with the first of
// keys (and publishing them all).
func startOIDCProvider(t *testing.T, dir, port, resource string, keys ...jose.JSONWebKey) *oidcProvider {
	t.Helper()
	op := &oidcProvider{dir: dir, port: port, resource: resource, issuer: "http://127.0.0.1:" + port}
	op.start(t, keys)
	return op
}

func (op *oidcProvider) start(t *testing.T, keys []jose.JSONWebKey) {
	t.Helper()
	raw, err := json.Marshal(jose.JSONWebKeySet{Keys: keys})
	if err != nil {
		t.Fatal(err)
	}
	jwksFile := filepath.Join(t.TempDir(), "jwks.json")
	if err := os.WriteFile(jwksFile, raw, 0o600); err != nil {
		t.Fatal(err)
	}
	root, err := testkit.ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("node", filepath.Join(root, "test", "oidc-provider", "provider.mjs"))
	cmd.Env = append(os.Environ(), "OIDC_PROVIDER_DIR="+op.dir, "PORT="+op.port, "JWKS_FILE="+jwksFile,
		"REDIRECT_URI="+oidcRedirect, "RESOURCE="+op.resource)
	op.out = &testkit.SyncBuffer{}
	cmd.Stdout, cmd.Stderr = op.out, op.out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	op.cmd, op.done = cmd, make(chan struct{})
	go func() { _ = cmd.Wait(); close(op.done) }()
	t.Cleanup(func() {
		op.stop()
		if t.Failed() {
			t.Logf("oidc-provider output:\n%s", op.out.String())
		}
	})
	deadline := time.Now().Add(20 * time.Second)
	for {
		var md struct {
			Issuer, AuthorizationEndpoint, TokenEndpoint string
		}
		resp, err := http.Get(op.issuer + "/.well-known/openid-configuration")
		if err == nil {
			var m map[string]any
			_ = json.NewDecoder(resp.Body).Decode(&m)
			resp.Body.Close()
			md.Issuer, _ = m["issuer"].(string)
			md.AuthorizationEndpoint, _ = m["authorization_endpoint"].(string)
			md.TokenEndpoint, _ = m["token_endpoint"].(string)
			if resp.StatusCode == 200 && md.Issuer == op.issuer {
				op.authURL, op.tokenURL = md.AuthorizationEndpoint, md.TokenEndpoint
				return
			}
		}
		select {
		case <-op.done:
			t.Fatalf("oidc-provider exited:\n%s", op.out.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("oidc-provider did not start within 20 s:\n%s", op.out.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func (op *oidcProvider) stop() {
	if op.cmd == nil {
		return
	}
	_ = op.cmd.Process.Kill()
	<-op.done
	op.cmd = nil
}

// restart stops the provider and starts it again on the same port with
// another key set (its sessions are lost; tokens it signed stay valid
// wherever its keys are trusted).
func (op *oidcProvider) restart(t *testing.T, keys ...jose.JSONWebKey) {
	t.Helper()
	op.stop()
	op.start(t, keys)
}

// signIn signs account in at the provider as client (authorization code
// with PKCE, the development login and consent pages driven over HTTP) and
// returns the access token issued for resource with scope.
func (op *oidcProvider) signIn(t *testing.T, client, account, resource, scope string) string {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	browser := &http.Client{Jar: jar, Timeout: 10 * time.Second, CheckRedirect: func(req *http.Request, via []*http.Request) error {
		if strings.HasPrefix(req.URL.String(), oidcRedirect) || len(via) > 10 {
			return http.ErrUseLastResponse
		}
		return nil
	}}
	verifier := base64.RawURLEncoding.EncodeToString([]byte(fmt.Sprintf("%032d-%s-%d", time.Now().UnixNano(), account, len(scope))))
	sum := sha256.Sum256([]byte(verifier))
	q := url.Values{
		"client_id": {client}, "response_type": {"code"}, "redirect_uri": {oidcRedirect}, "scope": {scope},
		"resource": {resource}, "code_challenge": {base64.RawURLEncoding.EncodeToString(sum[:])},
		"code_challenge_method": {"S256"}, "state": {"st-" + account},
	}
	page := func(resp *http.Response, err error) *http.Response {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK && resp.StatusCode != http.StatusSeeOther && resp.StatusCode != http.StatusFound {
			t.Fatalf("%s %s: %d\n%s", resp.Request.Method, resp.Request.URL, resp.StatusCode, body)
		}
		return resp
	}
	// The authorization request lands on the login page; then the consent
	// page; then the redirect with the code.
	resp := page(browser.Get(op.authURL + "?" + q.Encode()))
	for _, prompt := range []url.Values{{"prompt": {"login"}, "login": {account}}, {"prompt": {"consent"}}} {
		if !strings.Contains(resp.Request.URL.Path, "/interaction/") {
			break
		}
		resp = page(browser.PostForm(resp.Request.URL.String(), prompt))
	}
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil || loc.Query().Get("code") == "" {
		t.Fatalf("no code after sign-in: %d %s (at %s)", resp.StatusCode, resp.Header.Get("Location"), resp.Request.URL)
	}
	if loc.Query().Get("state") != "st-"+account {
		t.Fatalf("state %q", loc.Query().Get("state"))
	}
	form := url.Values{
		"grant_type": {"authorization_code"}, "code": {loc.Query().Get("code")}, "redirect_uri": {oidcRedirect},
		"client_id": {client}, "code_verifier": {verifier}, "resource": {resource},
	}
	tr, err := http.PostForm(op.tokenURL, form)
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Body.Close()
	var tok struct {
		AccessToken string `json:"access_token"`
		TokenType   string `json:"token_type"`
		Error       string `json:"error"`
		Desc        string `json:"error_description"`
	}
	_ = json.NewDecoder(tr.Body).Decode(&tok)
	if tr.StatusCode != 200 || tok.AccessToken == "" || strings.Count(tok.AccessToken, ".") != 2 {
		t.Fatalf("token: %d %+v", tr.StatusCode, tok)
	}
	return tok.AccessToken
}

// tokenClaims reads a JWT's header kid and claims without verifying it
// (the server does that): to see what the provider issued.
func tokenClaims(t *testing.T, token string) (kid string, claims map[string]any) {
	t.Helper()
	tok, err := jwt.ParseSigned(token, []jose.SignatureAlgorithm{jose.RS256})
	if err != nil {
		t.Fatal(err)
	}
	if err := tok.UnsafeClaimsWithoutVerification(&claims); err != nil {
		t.Fatal(err)
	}
	return tok.Headers[0].KeyID, claims
}

func rsaJWK(t *testing.T, kid string) jose.JSONWebKey {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	return jose.JSONWebKey{Key: k, KeyID: kid, Algorithm: string(jose.RS256), Use: "sig"}
}

// callErr calls a tool that must fail and returns its error token.
func callErr(t *testing.T, cs *mcp.ClientSession, name string, args map[string]any) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: name, Arguments: args})
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	if !res.IsError {
		t.Fatalf("%s succeeded, want an error: %s", name, resultText(res))
	}
	tok, _ := structured(t, res)["error"].(string)
	return tok
}

// rawToolCall posts one tools/call with token, outside any session (the
// bearer check comes first), and returns the status and challenge.
func rawToolCall(t *testing.T, endpoint, token, tool string) (int, string) {
	t.Helper()
	body := fmt.Sprintf(`{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":%q,"arguments":{}}}`, tool)
	req, _ := http.NewRequest(http.MethodPost, endpoint, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode, resp.Header.Get("WWW-Authenticate")
}

func listedCallIDs(t *testing.T, cs *mcp.ClientSession) []string {
	t.Helper()
	var ids []string
	for _, c := range callOK(t, cs, "list_calls", map[string]any{})["calls"].([]any) {
		ids = append(ids, c.(map[string]any)["id"].(string))
	}
	return ids
}

func TestOAuthIssuerWithOIDCProvider(t *testing.T) {
	t.Parallel()
	dir := oidcProviderDir(t)
	opPort := testkit.FreePort(t)
	addr := testkit.MustFreeAddr(t)
	base := "http://" + addr
	endpoint := base + "/mcp"
	keyA := rsaJWK(t, "key-a")
	op := startOIDCProvider(t, dir, opPort, endpoint, keyA)
	startAt(t, addr, []string{"BYS_MCP_OAUTH_ISSUER=" + op.issuer},
		"--sandbox", "--public-url", base, "--log-level", "debug")

	// Without a token: the challenge names the metadata, which names the
	// provider.
	if status, h := rawStatus(t, endpoint, "bys_ak_not_a_token"); status != 401 ||
		!strings.Contains(h, `resource_metadata="`+base+`/.well-known/oauth-protected-resource/mcp"`) || !strings.Contains(h, `error="invalid_token"`) {
		t.Fatalf("an agent key: %d %q", status, h)
	}
	resp, err := http.Get(base + "/.well-known/oauth-protected-resource/mcp")
	if err != nil {
		t.Fatal(err)
	}
	var prm map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&prm)
	resp.Body.Close()
	if servers, _ := prm["authorization_servers"].([]any); prm["resource"] != endpoint || len(servers) != 1 || servers[0] != op.issuer {
		t.Fatalf("protected resource metadata: %v", prm)
	}

	// Two people sign in at the provider; its tokens name them.
	const both = "calls:read calls:write"
	aliceTok := op.signIn(t, "e2e", "alice", endpoint, both)
	bobTok := op.signIn(t, "e2e", "bob", endpoint, both)
	kid, claims := tokenClaims(t, aliceTok)
	if kid != "key-a" || claims["sub"] != "alice" || claims["aud"] != endpoint || claims["iss"] != op.issuer || claims["scope"] != both {
		t.Fatalf("alice's token: kid %s, claims %v", kid, claims)
	}
	// A token that lives 2 s, for later.
	shortTok := op.signIn(t, "e2e-short", "carol", endpoint, both)
	_, shortClaims := tokenClaims(t, shortTok)
	if status, _ := rawStatus(t, endpoint, shortTok); status != 200 {
		t.Fatalf("a fresh short-lived token: %d", status)
	}

	alice, err := bearerSession(t, endpoint, aliceTok)
	if err != nil {
		t.Fatal(err)
	}
	bob, err := bearerSession(t, endpoint, bobTok)
	if err != nil {
		t.Fatal(err)
	}
	var aliceCall string
	t.Run("two people who do not see each other's calls", func(t *testing.T) {
		aliceCall = callOK(t, alice, "place_call", map[string]any{"to": numCompletes, "objective": "Ask for the opening hours"})["callId"].(string)
		callOK(t, alice, "get_call", map[string]any{"callId": aliceCall})
		if ids := listedCallIDs(t, alice); len(ids) != 1 || ids[0] != aliceCall {
			t.Fatalf("alice lists %v, want her call", ids)
		}
		if ids := listedCallIDs(t, bob); len(ids) != 0 {
			t.Fatalf("bob lists %v, want nothing", ids)
		}
		if tok := callErr(t, bob, "get_call", map[string]any{"callId": aliceCall}); tok != "not_found" {
			t.Fatalf("bob's get_call of alice's call: %s", tok)
		}
		if tok := callErr(t, bob, "wait_for_call", map[string]any{"callId": aliceCall, "timeoutSec": 1}); tok != "not_found" {
			t.Fatalf("bob's wait_for_call of alice's call: %s", tok)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if _, err := bob.ReadResource(ctx, &mcp.ReadResourceParams{URI: "bys://calls/" + aliceCall}); err == nil {
			t.Fatal("bob reads alice's call as a resource")
		}
		if _, err := alice.ReadResource(ctx, &mcp.ReadResourceParams{URI: "bys://calls/" + aliceCall}); err != nil {
			t.Fatalf("alice reads her call as a resource: %v", err)
		}
		// The same request from bob is his own call, not a duplicate of hers.
		bobPlaced := callOK(t, bob, "place_call", map[string]any{"to": numCompletes, "objective": "Ask for the opening hours"})
		if bobPlaced["deduplicated"] != false || bobPlaced["callId"] == aliceCall {
			t.Fatalf("bob's call: %v", bobPlaced)
		}
		if ids := listedCallIDs(t, alice); len(ids) != 1 {
			t.Fatalf("alice lists %v after bob's call", ids)
		}
		// Campaigns too.
		started := callOK(t, alice, "place_calls", map[string]any{"objective": "Ask about opening hours.", "calls": []any{map[string]any{"to": numCompletes}}})
		campaignID := started["campaignId"].(string)
		if got := callOK(t, bob, "list_campaigns", map[string]any{})["campaigns"].([]any); len(got) != 0 {
			t.Fatalf("bob lists campaigns %v", got)
		}
		if tok := callErr(t, bob, "cancel_campaign", map[string]any{"campaignId": campaignID}); tok != "not_found" {
			t.Fatalf("bob cancels alice's campaign: %s", tok)
		}
		if got := callOK(t, alice, "list_campaigns", map[string]any{})["campaigns"].([]any); len(got) != 1 {
			t.Fatalf("alice lists campaigns %v", got)
		}
		// The campaign's call is alice's.
		done := callOK(t, alice, "wait_for_campaign", map[string]any{"campaignId": campaignID, "timeoutSec": 60})
		items, _ := done["items"].([]any)
		if len(items) != 1 {
			t.Fatalf("alice's campaign: %v", done)
		}
		itemCall, _ := items[0].(map[string]any)["callId"].(string)
		callOK(t, alice, "get_call", map[string]any{"callId": itemCall})
		if tok := callErr(t, bob, "get_call", map[string]any{"callId": itemCall}); tok != "not_found" {
			t.Fatalf("bob's get_call of alice's campaign call: %s", tok)
		}
		if ids := listedCallIDs(t, bob); len(ids) != 1 {
			t.Fatalf("bob lists %v, want his one call", ids)
		}
	})

	t.Run("a token for another resource is refused", func(t *testing.T) {
		other := op.signIn(t, "e2e", "alice", "http://127.0.0.1:1/mcp", both)
		if _, c := tokenClaims(t, other); c["aud"] != "http://127.0.0.1:1/mcp" {
			t.Fatalf("the provider issued aud %v", c["aud"])
		}
		if status, h := rawStatus(t, endpoint, other); status != 401 || !strings.Contains(h, `error="invalid_token"`) {
			t.Fatalf("wrong audience: %d %q", status, h)
		}
	})

	t.Run("a read-only token cannot place calls", func(t *testing.T) {
		ro := op.signIn(t, "e2e", "alice", endpoint, "calls:read")
		if status, h := rawToolCall(t, endpoint, ro, "place_call"); status != 403 || !strings.Contains(h, `error="insufficient_scope"`) {
			t.Fatalf("place_call with calls:read: %d %q", status, h)
		}
		if status, _ := rawStatus(t, endpoint, ro); status != 200 {
			t.Fatalf("initialize with calls:read: %d", status)
		}
	})

	t.Run("the provider rotates its key", func(t *testing.T) {
		// It restarts signing with a new key and still publishing the old
		// one: the server fetches the keys again for the new kid.
		op.restart(t, rsaJWK(t, "key-b"), keyA)
		newTok := op.signIn(t, "e2e", "alice", endpoint, both)
		if kid, _ := tokenClaims(t, newTok); kid != "key-b" {
			t.Fatalf("the provider signed with %s, want key-b", kid)
		}
		cs, err := bearerSession(t, endpoint, newTok)
		if err != nil {
			t.Fatalf("a token of the new key: %v", err)
		}
		// The same person: her calls are still hers.
		if ids := listedCallIDs(t, cs); len(ids) != 2 || !strings.Contains(strings.Join(ids, " "), aliceCall) {
			t.Fatalf("alice (new token) lists %v, want her call and her campaign's", ids)
		}
		if status, _ := rawStatus(t, endpoint, aliceTok); status != 200 {
			t.Fatalf("a token of the old key, still published: %d", status)
		}
	})

	t.Run("an expired token is refused", func(t *testing.T) {
		exp := time.Unix(int64(shortClaims["exp"].(float64)), 0)
		// The server tolerates 30 s of clock difference.
		if wait := time.Until(exp.Add(31 * time.Second)); wait > 0 {
			time.Sleep(wait)
		}
		if status, h := rawStatus(t, endpoint, shortTok); status != 401 || !strings.Contains(h, `error="invalid_token"`) {
			t.Fatalf("an expired token: %d %q", status, h)
		}
	})
}
