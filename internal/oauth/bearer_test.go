package oauth

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/byourside/bys-mcp/client"
)

func TestBearerChallenges(t *testing.T) {
	forEachStore(t, func(t *testing.T, k storeKind) {
		e := newEnv(t, k, envOptions{})
		prm := e.ts.URL + "/.well-known/oauth-protected-resource/mcp"
		plain := `Bearer resource_metadata="` + prm + `", scope="calls:read calls:write"`
		cases := []struct {
			name   string
			header string
			want   string
		}{
			{"no Authorization", "", plain},
			{"Basic", "Basic dXNlcjpwYXNz", plain},
			{"an agent key", "Bearer bys_ak_someones_key", plain + `, error="invalid_token"`},
			{"an unknown token", "Bearer bysmcp_at_unknown", plain + `, error="invalid_token"`},
			{"a refresh token", "", plain + `, error="invalid_token"`},
		}
		_, tok := e.signIn("", "bys_ak_x", true)
		cases[4].header = "Bearer " + tok.refresh
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				for _, path := range []string{"/mcp"} {
					req, _ := http.NewRequest(http.MethodPost, e.ts.URL+path, strings.NewReader(`{}`))
					if tc.header != "" {
						req.Header.Set("Authorization", tc.header)
					}
					r := do(t, nil, req)
					if r.status != http.StatusUnauthorized || r.header.Get("WWW-Authenticate") != tc.want {
						t.Fatalf("%d %q, want 401 %q", r.status, r.header.Get("WWW-Authenticate"), tc.want)
					}
				}
			})
		}
	})
}

func TestReadOnlyGrant(t *testing.T) {
	forEachStore(t, func(t *testing.T, k storeKind) {
		e := newEnv(t, k, envOptions{})
		_, ro := e.signIn("", "bys_ak_reader", false)
		if ro.scope != ScopeRead {
			t.Fatalf("scope = %q", ro.scope)
		}
		_, rw := e.signIn("", "bys_ak_writer", true)
		want403 := `Bearer error="insufficient_scope", scope="calls:read calls:write", resource_metadata="` + e.ts.URL + `/.well-known/oauth-protected-resource/mcp"`
		cases := []struct {
			name   string
			body   string
			denied bool
		}{
			{"place_call", `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"place_call","arguments":{"to":"+14155550100"}}}`, true},
			{"place_calls", `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"place_calls","arguments":{}}}`, true},
			{"cancel_campaign", `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"cancel_campaign","arguments":{}}}`, true},
			{"place_call in a batch", `[{"jsonrpc":"2.0","id":1,"method":"tools/list"},{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"place_call"}}]`, true},
			{"get_call", `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"get_call","arguments":{"callId":"c1"}}}`, false},
			{"list_calls", `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"list_calls"}}`, false},
			{"resources/read", `{"jsonrpc":"2.0","id":1,"method":"resources/read","params":{"uri":"bys://calls/c1"}}`, false},
			{"prompts/get naming place_call", `{"jsonrpc":"2.0","id":1,"method":"prompts/get","params":{"name":"place_call"}}`, false},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				r := e.mcp(ro.access, tc.body)
				if tc.denied {
					if r.status != http.StatusForbidden || r.header.Get("WWW-Authenticate") != want403 {
						t.Fatalf("%d %q", r.status, r.header.Get("WWW-Authenticate"))
					}
					if r.json(t)["error"] != "insufficient_scope" {
						t.Errorf("body %s", r.body)
					}
				} else if r.status != http.StatusOK || r.json(t)["body"] != tc.body {
					// The body reaches the handler whole.
					t.Fatalf("%d %s", r.status, r.body)
				}
				if r := e.mcp(rw.access, tc.body); r.status != http.StatusOK || r.json(t)["body"] != tc.body {
					t.Fatalf("read-write token: %d %s", r.status, r.body)
				}
			})
		}
	})
}

func TestRefusedKeyRevokesItsGrants(t *testing.T) {
	forEachStore(t, func(t *testing.T, k storeKind) {
		e := newEnv(t, k, envOptions{})
		_, a := e.signIn("", "bys_ak_soon_revoked", true)
		_, b := e.signIn(authPost, "bys_ak_soon_revoked", false)
		_, other := e.signIn("", "bys_ak_still_good", true)
		for _, tok := range []string{a.access, b.access, other.access} {
			if got := e.mcp(tok, `{}`).json(t)["apiStatus"]; got != float64(0) {
				t.Fatalf("API answered %v before the key was revoked", got)
			}
		}
		// The key is revoked at By Your Side: the next API request with it
		// gets 401, and its grants end at once.
		e.refuse.Store("bys_ak_soon_revoked", true)
		if got := e.mcp(a.access, `{}`).json(t)["apiStatus"]; got != float64(401) {
			t.Fatalf("API answered %v, want 401", got)
		}
		for _, tok := range []string{a.access, b.access} {
			r := e.mcp(tok, `{}`)
			if r.status != http.StatusUnauthorized || !strings.Contains(r.header.Get("WWW-Authenticate"), `error="invalid_token"`) {
				t.Fatalf("a grant of the refused key: %d %q", r.status, r.header.Get("WWW-Authenticate"))
			}
		}
		if !e.works(other.access) {
			t.Fatal("another key's grant was revoked")
		}
	})
}

func TestRestartKeepsPeopleSignedIn(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	file := storeKind{"file", nil}
	secret := []byte(strings.Repeat("k", 40))
	e1 := newEnv(t, file, envOptions{secret: secret, store: fileStore(t, dir)})
	c, tok := e1.signIn("", "bys_ak_kept", true)
	e1.ts.Close()
	// A new process on the same state directory and secret. Its origin
	// differs (httptest), so the resource is checked by hand: a record is
	// honoured only for this server's resource.
	s2, err := New(Options{PublicURL: e1.srv.issuer, Store: fileStore(t, dir), Secret: secret, CheckKey: func(context.Context, string) error { return nil }, Clock: e1.clock})
	if err != nil {
		t.Fatal(err)
	}
	p, err := s2.Check(context.Background(), tok.access)
	if err != nil || p.key != "bys_ak_kept" || !p.Write || p.Client != c.id {
		t.Fatalf("after a restart: %+v, %v", p, err)
	}
	// Another secret cannot open the key: the token is refused.
	s3, _ := New(Options{PublicURL: e1.srv.issuer, Store: fileStore(t, dir), Secret: []byte(strings.Repeat("x", 40)), CheckKey: func(context.Context, string) error { return nil }, Clock: e1.clock})
	if _, err := s3.Check(context.Background(), tok.access); err != ErrInvalidToken {
		t.Fatalf("with another secret: %v", err)
	}
}

func TestNothingSecretInLogsOrPages(t *testing.T) {
	forEachStore(t, func(t *testing.T, k storeKind) {
		e := newEnv(t, k, envOptions{})
		e.refuse.Store("bys_ak_refused_secret", true)
		c := e.register(authPost)
		p := newPKCE()
		b := e.browser()
		f := e.openConsent(b, e.authzQuery(c, p, nil))
		r := e.submit(b, f, "approve", "bys_ak_refused_secret", true)
		r = e.submit(b, parseConsent(t, r), "approve", "bys_ak_the_real_secret", true)
		u, _ := url.Parse(r.header.Get("Location"))
		code := u.Query().Get("code")
		tok := mustTokens(t, e.exchange(c, code, p.verifier, nil))
		tok2 := mustTokens(t, e.refresh(c, tok.refresh, nil))
		e.mcp(tok2.access, `{}`)
		e.postForm(PathRevoke, url.Values{"token": {tok2.access}, "client_id": {c.id}, "client_secret": {c.secret}})
		logs := e.logs.String()
		if !strings.Contains(logs, "grant revoked") {
			t.Fatalf("expected log lines, got %q", logs)
		}
		for name, secret := range map[string]string{"refused key": "bys_ak_refused_secret", "key": "bys_ak_the_real_secret", "code": code, "access token": tok.access, "refresh token": tok.refresh, "client secret": c.secret, "code verifier": p.verifier} {
			if strings.Contains(logs, secret) {
				t.Errorf("the logs contain the %s", name)
			}
		}
	})
}

// The API client's 401 reaches KeyRefused through WatchRefusals whatever
// the request (a background poll too), not only the consent check.
func TestWatchRefusalsSeesEveryRequest(t *testing.T) {
	t.Parallel()
	e := newEnv(t, storeKinds(t)[0], envOptions{})
	_, tok := e.signIn("", "bys_ak_background", true)
	e.refuse.Store("bys_ak_background", true)
	if _, err := e.client.WithAPIKey("bys_ak_background").GetCall(context.Background(), "call_1"); err == nil {
		t.Fatal("want an API error")
	} else if apiErr, ok := err.(*client.APIError); !ok || apiErr.HTTPStatus != 401 {
		t.Fatalf("err = %v", err)
	}
	if e.works(tok.access) {
		t.Fatal("grant not revoked after a 401 on a background request")
	}
}
