package oauth

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

func TestSignInEveryClientKind(t *testing.T) {
	forEachStore(t, func(t *testing.T, k storeKind) {
		e := newEnv(t, k, envOptions{})
		for _, method := range []string{"", authPost, authBasic} {
			t.Run("method="+method, func(t *testing.T) {
				e := e.with(t)
				c, tok := e.signIn(method, "bys_ak_person_"+method, true)
				if tok.scope != ScopeAll {
					t.Errorf("scope = %q", tok.scope)
				}
				if !strings.HasPrefix(tok.access, "bysmcp_at_") || !strings.HasPrefix(tok.refresh, "bysmcp_rt_") {
					t.Errorf("token shapes: %s… %s…", tok.access[:12], tok.refresh[:12])
				}
				got := e.mcp(tok.access, `{"jsonrpc":"2.0","id":1,"method":"tools/list"}`).json(t)
				if got["key"] != "bys_ak_person_"+method || got["client"] != "Test App" || got["write"] != true || got["apiStatus"] != float64(0) {
					t.Fatalf("protected endpoint saw %v", got)
				}
				_ = c
			})
		}
	})
}

func TestCodeExchangeRefusals(t *testing.T) {
	forEachStore(t, func(t *testing.T, k storeKind) {
		e := newEnv(t, k, envOptions{})
		pub := e.register("")
		conf := e.register(authPost)
		basic := e.register(authBasic)
		other := e.register("")
		cases := []struct {
			name   string
			client registered
			// as is the client that redeems (default: client)
			as     *registered
			edit   func(url.Values)
			status int
			code   string
		}{
			{"wrong PKCE verifier", pub, nil, func(f url.Values) { f.Set("code_verifier", newPKCE().verifier) }, 400, "invalid_grant"},
			{"no PKCE verifier", pub, nil, func(f url.Values) { f.Del("code_verifier") }, 400, "invalid_request"},
			{"verifier too short", pub, nil, func(f url.Values) { f.Set("code_verifier", "abc") }, 400, "invalid_grant"},
			{"another client", pub, &other, nil, 400, "invalid_grant"},
			{"another redirect URI", pub, nil, func(f url.Values) { f.Set("redirect_uri", "https://app.example/other") }, 400, "invalid_grant"},
			{"another resource", pub, nil, func(f url.Values) { f.Set("resource", "https://other.example/mcp") }, 400, "invalid_target"},
			{"unknown code", pub, nil, func(f url.Values) { f.Set("code", "bysmcp_ac_nothing") }, 400, "invalid_grant"},
			{"no grant type", pub, nil, func(f url.Values) { f.Del("grant_type") }, 400, "invalid_request"},
			{"password grant", pub, nil, func(f url.Values) { f.Set("grant_type", "password") }, 400, "unsupported_grant_type"},
			{"unknown client", pub, nil, func(f url.Values) { f.Set("client_id", "bysmcp_client_nobody") }, 401, "invalid_client"},
			{"confidential client without its secret", conf, nil, func(f url.Values) { f.Del("client_secret") }, 401, "invalid_client"},
			{"confidential client with a wrong secret", conf, nil, func(f url.Values) { f.Set("client_secret", "bysmcp_cs_wrong") }, 401, "invalid_client"},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				e := e.with(t)
				p := newPKCE()
				q := e.approve(tc.client, p, "bys_ak_x", true, nil)
				as := tc.client
				if tc.as != nil {
					as = *tc.as
				}
				mustOAuthError(t, e.exchange(as, q.Get("code"), p.verifier, tc.edit), tc.status, tc.code)
			})
		}
		t.Run("basic with a wrong secret", func(t *testing.T) {
			e := e.with(t)
			p := newPKCE()
			q := e.approve(basic, p, "bys_ak_x", true, nil)
			bad := basic
			bad.secret = "bysmcp_cs_wrong"
			r := e.exchange(bad, q.Get("code"), p.verifier, nil)
			mustOAuthError(t, r, 401, "invalid_client")
			if !strings.HasPrefix(r.header.Get("WWW-Authenticate"), "Basic") {
				t.Errorf("WWW-Authenticate = %q", r.header.Get("WWW-Authenticate"))
			}
		})
		t.Run("expired code", func(t *testing.T) {
			e := e.with(t)
			p := newPKCE()
			q := e.approve(pub, p, "bys_ak_x", true, nil)
			e.clock.Advance(CodeTTL + time.Second)
			defer e.clock.Advance(-CodeTTL - time.Second)
			mustOAuthError(t, e.exchange(pub, q.Get("code"), p.verifier, nil), 400, "invalid_grant")
		})
		t.Run("a code used twice revokes what it issued", func(t *testing.T) {
			e := e.with(t)
			p := newPKCE()
			q := e.approve(pub, p, "bys_ak_x", true, nil)
			tok := mustTokens(t, e.exchange(pub, q.Get("code"), p.verifier, nil))
			if !e.works(tok.access) {
				t.Fatal("first tokens do not work")
			}
			mustOAuthError(t, e.exchange(pub, q.Get("code"), p.verifier, nil), 400, "invalid_grant")
			if e.works(tok.access) {
				t.Error("the access token still works after the code's replay")
			}
			mustOAuthError(t, e.refresh(pub, tok.refresh, nil), 400, "invalid_grant")
		})
		t.Run("a code is bound to its scope", func(t *testing.T) {
			e := e.with(t)
			p := newPKCE()
			q := e.approve(pub, p, "bys_ak_x", false, nil)
			tok := mustTokens(t, e.exchange(pub, q.Get("code"), p.verifier, func(f url.Values) { f.Set("scope", ScopeAll) }))
			if tok.scope != ScopeRead {
				t.Fatalf("scope = %q, want calls:read", tok.scope)
			}
		})
	})
}

func TestRefreshRotation(t *testing.T) {
	forEachStore(t, func(t *testing.T, k storeKind) {
		e := newEnv(t, k, envOptions{})
		for _, method := range []string{"", authPost, authBasic} {
			t.Run("method="+method, func(t *testing.T) {
				e := e.with(t)
				c, t1 := e.signIn(method, "bys_ak_rotate", true)
				t2 := mustTokens(t, e.refresh(c, t1.refresh, nil))
				if t2.refresh == t1.refresh || t2.access == t1.access {
					t.Fatal("refresh did not rotate")
				}
				if !e.works(t2.access) {
					t.Fatal("new access token refused")
				}
				// Presented again within 30 s: refused, the grant lives on.
				mustOAuthError(t, e.refresh(c, t1.refresh, nil), 400, "invalid_grant")
				if !e.works(t2.access) {
					t.Fatal("a quick second refresh revoked the grant")
				}
				t3 := mustTokens(t, e.refresh(c, t2.refresh, nil))
				// Presented again more than 30 s after its rotation: the
				// whole grant is revoked.
				e.clock.Advance(ReuseGrace + time.Second)
				mustOAuthError(t, e.refresh(c, t1.refresh, nil), 400, "invalid_grant")
				if e.works(t3.access) {
					t.Fatal("the grant survived the reuse of a rotated refresh token")
				}
				mustOAuthError(t, e.refresh(c, t3.refresh, nil), 400, "invalid_grant")
			})
		}
		t.Run("another client's refresh token", func(t *testing.T) {
			e := e.with(t)
			_, tok := e.signIn("", "bys_ak_x", true)
			other := e.register("")
			mustOAuthError(t, e.refresh(other, tok.refresh, nil), 400, "invalid_grant")
		})
		t.Run("a refresh may narrow the scope but not widen it", func(t *testing.T) {
			e := e.with(t)
			c, tok := e.signIn("", "bys_ak_x", false)
			mustOAuthError(t, e.refresh(c, tok.refresh, func(f url.Values) { f.Set("scope", ScopeAll) }), 400, "invalid_scope")
			c2, tok2 := e.signIn("", "bys_ak_x", true)
			narrow := mustTokens(t, e.refresh(c2, tok2.refresh, func(f url.Values) { f.Set("scope", ScopeRead) }))
			if narrow.scope != ScopeRead {
				t.Fatalf("scope = %q", narrow.scope)
			}
		})
	})
}

func TestTokenLifetimes(t *testing.T) {
	forEachStore(t, func(t *testing.T, k storeKind) {
		e := newEnv(t, k, envOptions{opts: func(o *Options) { o.CacheTTL = -1 }})
		c, tok := e.signIn("", "bys_ak_x", true)
		e.clock.Advance(AccessTTL - time.Second)
		if !e.works(tok.access) {
			t.Fatal("refused before its hour")
		}
		e.clock.Advance(2 * time.Second)
		r := e.mcp(tok.access, `{}`)
		if r.status != http.StatusUnauthorized || !strings.Contains(r.header.Get("WWW-Authenticate"), `error="invalid_token"`) {
			t.Fatalf("expired access token: %d %q", r.status, r.header.Get("WWW-Authenticate"))
		}
		// The refresh token lives 30 days from its last use.
		e.clock.Advance(29 * 24 * time.Hour)
		tok2 := mustTokens(t, e.refresh(c, tok.refresh, nil))
		e.clock.Advance(29 * 24 * time.Hour)
		tok3 := mustTokens(t, e.refresh(c, tok2.refresh, nil))
		e.clock.Advance(RefreshTTL + time.Second)
		mustOAuthError(t, e.refresh(c, tok3.refresh, nil), 400, "invalid_grant")
	})
}

func TestRevocation(t *testing.T) {
	forEachStore(t, func(t *testing.T, k storeKind) {
		e := newEnv(t, k, envOptions{})
		for _, kind := range []string{"access_token", "refresh_token"} {
			t.Run("by "+kind, func(t *testing.T) {
				e := e.with(t)
				c, tok := e.signIn(authPost, "bys_ak_x", true)
				if !e.works(tok.access) {
					t.Fatal("token refused before revocation")
				}
				token := tok.access
				if kind == "refresh_token" {
					token = tok.refresh
				}
				r := e.postForm(PathRevoke, url.Values{"token": {token}, "token_type_hint": {kind}, "client_id": {c.id}, "client_secret": {c.secret}})
				if r.status != http.StatusOK {
					t.Fatalf("revoke: %d", r.status)
				}
				if e.works(tok.access) {
					t.Fatal("access token works after revocation")
				}
				mustOAuthError(t, e.refresh(c, tok.refresh, nil), 400, "invalid_grant")
			})
		}
		t.Run("another client cannot revoke, and still gets 200", func(t *testing.T) {
			e := e.with(t)
			_, tok := e.signIn("", "bys_ak_x", true)
			other := e.register("")
			if r := e.postForm(PathRevoke, url.Values{"token": {tok.access}, "client_id": {other.id}}); r.status != http.StatusOK {
				t.Fatalf("%d", r.status)
			}
			if !e.works(tok.access) {
				t.Fatal("another client revoked the grant")
			}
		})
		t.Run("a confidential client must authenticate", func(t *testing.T) {
			e := e.with(t)
			c, tok := e.signIn(authBasic, "bys_ak_x", true)
			if r := e.postForm(PathRevoke, url.Values{"token": {tok.access}}, c.id+":wrong"); r.status != http.StatusOK {
				t.Fatalf("%d", r.status)
			}
			if !e.works(tok.access) {
				t.Fatal("revoked with a wrong secret")
			}
			e.postForm(PathRevoke, url.Values{"token": {tok.access}}, c.id+":"+c.secret)
			if e.works(tok.access) {
				t.Fatal("not revoked with the right secret")
			}
		})
		t.Run("unknown and missing tokens get 200", func(t *testing.T) {
			e := e.with(t)
			for _, form := range []url.Values{{"token": {"bysmcp_at_nothing"}}, {}, {"token": {"bys_ak_key"}}} {
				if r := e.postForm(PathRevoke, form); r.status != http.StatusOK {
					t.Fatalf("%v: %d", form, r.status)
				}
			}
		})
	})
}
