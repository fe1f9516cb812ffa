package e2e_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/byourside/bys-mcp/internal/state/redistest"
	"github.com/byourside/bys-mcp/internal/testkit"
	"github.com/modelcontextprotocol/go-sdk/mcp"
	"golang.org/x/oauth2"
)

// The sign-in of a remote host, driven from outside against the built
// binary with the official Go SDK's client auth (auth.AuthorizationCodeHandler:
// metadata discovery, DCR, PKCE, resource, iss, refresh, step-up) and a
// small Go HTTP client playing the person's browser on the consent page.

// startAt starts the binary in http mode on addr (so that a restart keeps
// the public URL) and waits until it is healthy.
func startAt(t *testing.T, addr string, env []string, args ...string) *httpServer {
	t.Helper()
	s := launch(t, addr, env, append([]string{"--transport", "http", "--addr", addr}, args...)...)
	if err := waitHealthy(s, 15*time.Second); err != nil {
		t.Fatalf("server on %s: %v", addr, err)
	}
	return s
}

// stop ends the server with SIGTERM and waits for it.
func (s *httpServer) stop(t *testing.T) {
	t.Helper()
	_ = s.Cmd.Process.Signal(syscall.SIGTERM)
	if _, ok := s.Exited(15 * time.Second); !ok {
		t.Fatal("the server did not stop within 15 s of SIGTERM")
	}
}

// person, signedInClient and the sign-in are testkit's (shared with
// test/deploy, which signs in through a TLS reverse proxy).
type person = testkit.Person

// signInWithSDK connects the SDK to endpoint with OAuth: the first request
// gets 401, the SDK discovers the metadata, registers (DCR), sends the
// person to the consent page and exchanges the code. expireFirst makes the
// first token look expired, so that the SDK refreshes it before using it.
func signInWithSDK(t *testing.T, endpoint string, p *person, expireFirst bool) *testkit.SignedIn {
	t.Helper()
	return testkit.SignIn(t, endpoint, p, testkit.SignInOptions{ExpireFirst: expireFirst})
}

// bearerSession connects a plain SDK client that sends token.
func bearerSession(t *testing.T, endpoint, token string) (*mcp.ClientSession, error) {
	t.Helper()
	return testkit.BearerSession(t, endpoint, token, nil, "")
}

func callOK(t *testing.T, cs *mcp.ClientSession, name string, args map[string]any) map[string]any {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: name, Arguments: args})
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	mustOK(t, name, res)
	return structured(t, res)
}

// postForm sends a form and returns the status and decoded JSON.
func postForm(t *testing.T, u string, form url.Values) (int, map[string]any) {
	t.Helper()
	resp, err := http.PostForm(u, form)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var m map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&m)
	return resp.StatusCode, m
}

// rawStatus is the status of one initialize with token, without the SDK.
func rawStatus(t *testing.T, endpoint, token string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, endpoint, strings.NewReader(initializeBody))
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

func TestOAuthSignInThroughTheBinary(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	addr := testkit.MustFreeAddr(t)
	base := "http://" + addr
	env := []string{"BYS_STATE_DIR=" + dir}
	args := []string{"--oauth", "--sandbox", "--public-url", base}
	srv := startAt(t, addr, env, args...)
	endpoint := base + "/mcp"

	// Without a token: 401 with the challenge that leads to sign-in.
	if status, h := rawStatus(t, endpoint, "bys_ak_not_a_token"); status != 401 || !strings.Contains(h, `resource_metadata="`+base+`/.well-known/oauth-protected-resource/mcp"`) || !strings.Contains(h, `error="invalid_token"`) {
		t.Fatalf("a bys_ak_ key: %d %q", status, h)
	}

	// The SDK signs in (DCR, consent, PKCE, resource, iss) and refreshes
	// its first token (made to look expired) before using it.
	p := &person{Write: true}
	c := signInWithSDK(t, endpoint, p, true)
	callOK(t, c.Session, "list_calls", map[string]any{})
	placed := callOK(t, c.Session, "place_call", map[string]any{"to": numCompletes, "objective": "Ask for the opening hours"})
	callID, _ := placed["callId"].(string)
	if callID == "" {
		t.Fatalf("place_call: %v", placed)
	}
	current := c.Token(t)
	if current.AccessToken == c.First.AccessToken || current.RefreshToken == c.First.RefreshToken {
		t.Fatal("the SDK did not refresh (rotate) its first token")
	}
	if n := p.Pages(); n != 1 {
		t.Fatalf("%d consent pages, want 1", n)
	}
	clientID := c.ClientID(t)

	// A rotated refresh token presented again at once is refused; the grant
	// lives on.
	status, body := postForm(t, base+"/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {c.First.RefreshToken}, "client_id": {clientID}})
	if status != 400 || body["error"] != "invalid_grant" {
		t.Fatalf("reuse of the rotated refresh token: %d %v", status, body)
	}
	if status, _ := rawStatus(t, endpoint, current.AccessToken); status != 200 {
		t.Fatalf("the grant died after a quick reuse: %d", status)
	}

	// A restart on the same state directory keeps the person signed in.
	srv.stop(t)
	srv = startAt(t, addr, env, args...)
	cs, err := bearerSession(t, endpoint, current.AccessToken)
	if err != nil {
		t.Fatalf("after a restart: %v", err)
	}
	// (The embedded sandbox's calls live in the process: the call placed
	// before is gone, but the grant and its key are not.)
	callOK(t, cs, "list_calls", map[string]any{})
	callOK(t, cs, "place_call", map[string]any{"to": numCompletes, "objective": "Ask again after the restart"})
	// The refresh token works after the restart too, and rotates.
	status, body = postForm(t, base+"/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {current.RefreshToken}, "client_id": {clientID}})
	if status != 200 || body["access_token"] == nil {
		t.Fatalf("refresh after a restart: %d %v", status, body)
	}
	refreshed := body["access_token"].(string)

	// Revocation: the grant ends, its tokens are refused.
	status, _ = postForm(t, base+"/revoke", url.Values{"token": {refreshed}, "client_id": {clientID}})
	if status != 200 {
		t.Fatalf("revoke: %d", status)
	}
	for _, tok := range []string{refreshed, current.AccessToken} {
		if status, h := rawStatus(t, endpoint, tok); status != 401 || !strings.Contains(h, `error="invalid_token"`) {
			t.Fatalf("a token of the revoked grant: %d %q", status, h)
		}
	}
	// The secret generated into the state directory is the person's keys'
	// only lock: mode 0600.
	if fi, err := os.Stat(filepath.Join(dir, "oauth-secret")); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("oauth-secret: %v %v", fi, err)
	}
	// Nothing secret in the logs.
	logs := srv.Stderr.String()
	for _, s := range []string{current.AccessToken, current.RefreshToken, c.First.RefreshToken, refreshed} {
		if strings.Contains(logs, s) {
			t.Fatal("a token is in the logs")
		}
	}
}

// TestOAuthStepUp: a person who granted reading only; place_call gets 403
// insufficient_scope, the SDK asks again (step-up), the person allows
// placing calls, and the call is placed.
func TestOAuthStepUp(t *testing.T) {
	t.Parallel()
	addr := testkit.MustFreeAddr(t)
	base := "http://" + addr
	startAt(t, addr, nil, "--oauth", "--sandbox", "--public-url", base)
	p := &person{Write: false}
	c := signInWithSDK(t, base+"/mcp", p, false)
	callOK(t, c.Session, "list_calls", map[string]any{})
	if tok := c.Token(t); tok.Extra("scope") != "calls:read" {
		t.Fatalf("scope = %v, want calls:read", tok.Extra("scope"))
	}
	p.SetWrite(true)
	placed := callOK(t, c.Session, "place_call", map[string]any{"to": numCompletes, "objective": "Ask for the opening hours"})
	if placed["callId"] == nil {
		t.Fatalf("place_call after step-up: %v", placed)
	}
	if n := p.Pages(); n != 2 {
		t.Fatalf("%d consent pages, want 2 (sign-in and step-up)", n)
	}
	if tok := c.Token(t); tok.Extra("scope") != "calls:read calls:write" {
		t.Fatalf("scope after step-up = %v", tok.Extra("scope"))
	}
}

// TestOAuthLegacyEra: a 2025-11-25 client (initialize, a session, its GET
// stream) signs in and works the same; resources are read with the grant's
// key.
func TestOAuthLegacyEra(t *testing.T) {
	t.Parallel()
	addr := testkit.MustFreeAddr(t)
	base := "http://" + addr
	startAt(t, addr, nil, "--oauth", "--sandbox", "--public-url", base)
	c := testkit.SignIn(t, base+"/mcp", &person{Write: true}, testkit.SignInOptions{Version: "2025-11-25"})
	if v := c.Session.InitializeResult().ProtocolVersion; v != "2025-11-25" {
		t.Fatalf("protocol %s", v)
	}
	placed := callOK(t, c.Session, "place_call", map[string]any{"to": numCompletes, "objective": "Ask for the opening hours"})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	res, err := c.Session.ReadResource(ctx, &mcp.ReadResourceParams{URI: "bys://calls/" + placed["callId"].(string)})
	if err != nil || len(res.Contents) == 0 {
		t.Fatalf("resources/read: %v %v", res, err)
	}
}

// TestOAuthClientIDMetadataDocument: a client identified by a metadata
// document served from loopback (the public URL is loopback too) signs in
// with no registration.
func TestOAuthClientIDMetadataDocument(t *testing.T) {
	t.Parallel()
	var docURL string
	docs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{
			"client_id": docURL, "client_name": "Metadata Document Client", "redirect_uris": []string{"http://localhost/callback"},
			"grant_types": []string{"authorization_code", "refresh_token"}, "token_endpoint_auth_method": "none",
		})
	}))
	defer docs.Close()
	docURL = docs.URL + "/oauth/client.json"
	addr := testkit.MustFreeAddr(t)
	base := "http://" + addr
	startAt(t, addr, nil, "--oauth", "--sandbox", "--public-url", base)

	verifier := strings.Repeat("e2e-verifier-", 5)
	challenge := oauth2.S256ChallengeFromVerifier(verifier)
	q := url.Values{"response_type": {"code"}, "client_id": {docURL}, "redirect_uri": {"http://localhost:61234/callback"},
		"code_challenge": {challenge}, "code_challenge_method": {"S256"}, "state": {"xyz"}, "resource": {base + "/mcp"}}
	p := &person{Write: true}
	back, err := p.Fill(context.Background(), base+"/authorize?"+q.Encode())
	if err != nil {
		t.Fatal(err)
	}
	if back.Get("state") != "xyz" || back.Get("iss") != base || back.Get("code") == "" {
		t.Fatalf("redirect: %v", back)
	}
	status, body := postForm(t, base+"/token", url.Values{"grant_type": {"authorization_code"}, "code": {back.Get("code")}, "code_verifier": {verifier},
		"client_id": {docURL}, "redirect_uri": {"http://localhost:61234/callback"}, "resource": {base + "/mcp"}})
	if status != 200 {
		t.Fatalf("token: %d %v", status, body)
	}
	cs, err := bearerSession(t, base+"/mcp", body["access_token"].(string))
	if err != nil {
		t.Fatal(err)
	}
	callOK(t, cs, "list_calls", map[string]any{})
	// The code is single use: a replay is refused and revokes the grant.
	status, again := postForm(t, base+"/token", url.Values{"grant_type": {"authorization_code"}, "code": {back.Get("code")}, "code_verifier": {verifier},
		"client_id": {docURL}, "redirect_uri": {"http://localhost:61234/callback"}})
	if status != 400 || again["error"] != "invalid_grant" {
		t.Fatalf("code replay: %d %v", status, again)
	}
	if status, _ := rawStatus(t, base+"/mcp", body["access_token"].(string)); status != 401 {
		t.Fatalf("the replayed code's grant still works: %d", status)
	}
}

// TestOAuthReplicasOnRedis: two replicas on one redis-server, the same
// secret file and public URL, and one API (a standalone sandbox, so that
// the person types a key on the consent page and both replicas see the
// same calls) honour each other's tokens and revocations.
func TestOAuthReplicasOnRedis(t *testing.T) {
	t.Parallel()
	redis := redistest.Start(t)
	api := startStandaloneSandbox(t, "20")
	secret := filepath.Join(t.TempDir(), "oauth-secret")
	if err := os.WriteFile(secret, []byte("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	addrA, addrB := testkit.MustFreeAddr(t), testkit.MustFreeAddr(t)
	public := "http://" + addrA
	args := []string{"--oauth", "--base-url", api, "--public-url", public, "--state-url", redis.URL, "--oauth-secret-file", secret}
	a := startAt(t, addrA, nil, args...)
	b := startAt(t, addrB, nil, args...)

	c := signInWithSDK(t, a.URL+"/mcp", &person{Key: "bys_ak_e2e_replicas_person", Write: true}, false)
	placed := callOK(t, c.Session, "place_call", map[string]any{"to": numCompletes, "objective": "Ask for the opening hours"})
	tok := c.Token(t)

	// Replica B takes replica A's token, with the same grant and key.
	cs, err := bearerSession(t, b.URL+"/mcp", tok.AccessToken)
	if err != nil {
		t.Fatalf("replica B: %v", err)
	}
	callOK(t, cs, "get_call", map[string]any{"callId": placed["callId"]})
	// The key typed on the consent page is the tenant: another key does not
	// see the call.
	other := signInWithSDK(t, public+"/mcp", &person{Key: "bys_ak_e2e_someone_else", Write: true}, false)
	otherOnB, err := bearerSession(t, b.URL+"/mcp", other.Token(t).AccessToken)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if res, err := otherOnB.CallTool(ctx, &mcp.CallToolParams{Name: "get_call", Arguments: map[string]any{"callId": placed["callId"]}}); err != nil || !res.IsError {
		t.Fatalf("another person's grant reads the call: %v %v", res, err)
	}
	// Refreshed on B, used on A.
	status, body := postForm(t, b.URL+"/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok.RefreshToken}, "client_id": {c.ClientID(t)}})
	if status != 200 {
		t.Fatalf("refresh on B: %d %v", status, body)
	}
	fresh := body["access_token"].(string)
	if status, _ := rawStatus(t, a.URL+"/mcp", fresh); status != 200 {
		t.Fatalf("B's token on A: %d", status)
	}
	// Revoked on B: A refuses it within its 5 s cache.
	if status, _ := postForm(t, b.URL+"/revoke", url.Values{"token": {fresh}, "client_id": {c.ClientID(t)}}); status != 200 {
		t.Fatalf("revoke on B: %d", status)
	}
	deadline := time.Now().Add(8 * time.Second)
	for {
		status, _ := rawStatus(t, a.URL+"/mcp", fresh)
		if status == 401 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("A still honours a token revoked on B: %d", status)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// TestOAuthRefusesToStartWrongly: the flags that cannot go together.
func TestOAuthRefusesToStartWrongly(t *testing.T) {
	t.Parallel()
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"--transport", "http", "--oauth", "--sandbox"}, "--public-url"},
		{[]string{"--transport", "sse", "--oauth", "--sandbox", "--public-url", "https://mcp.example.com"}, "--transport http"},
		{[]string{"--transport", "http", "--oauth", "--sandbox", "--public-url", "https://mcp.example.com", "--require-client-keys"}, "--require-client-keys"},
		{[]string{"--transport", "http", "--oauth", "--sandbox", "--public-url", "https://mcp.example.com", "--state-url", "redis://127.0.0.1:1/0"}, "--oauth-secret-file"},
	}
	for _, c := range cases {
		code, stderr := runQuick(t, exec.Command(binPath, c.args...))
		if code == 0 || !strings.Contains(stderr, c.want) {
			t.Errorf("%v: exit %d, stderr %q (want it to name %s)", c.args, code, stderr, c.want)
		}
	}
}
