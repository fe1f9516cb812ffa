package oauth

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"
)

func TestAuthorizeRefusals(t *testing.T) {
	forEachStore(t, func(t *testing.T, k storeKind) {
		e := newEnv(t, k, envOptions{})
		c := e.register("", "https://app.example/callback")
		several := e.register("", "https://app.example/a", "https://app.example/b")
		p := newPKCE()
		// Never redirected: an error page (400) and no Location.
		pages := []struct {
			name   string
			client registered
			edit   func(url.Values)
		}{
			{"unknown client", c, func(q url.Values) { q.Set("client_id", "bysmcp_client_nobody") }},
			{"no client", c, func(q url.Values) { q.Del("client_id") }},
			{"redirect URI not registered", c, func(q url.Values) { q.Set("redirect_uri", "https://evil.example/callback") }},
			{"redirect URI differs by a path", c, func(q url.Values) { q.Set("redirect_uri", "https://app.example/callback/x") }},
			{"no redirect URI, several registered", several, func(q url.Values) { q.Del("redirect_uri") }},
			{"client_id twice", c, func(q url.Values) { q.Add("client_id", c.id) }},
		}
		for _, tc := range pages {
			t.Run("page/"+tc.name, func(t *testing.T) {
				e := e.with(t)
				r := e.get(e.browser(), PathAuthorize+"?"+e.authzQuery(tc.client, p, tc.edit).Encode())
				if r.status != http.StatusBadRequest || r.header.Get("Location") != "" {
					t.Fatalf("%d Location=%q", r.status, r.header.Get("Location"))
				}
				if !strings.Contains(r.header.Get("Content-Type"), "text/html") || r.header.Get("X-Frame-Options") != "DENY" {
					t.Errorf("error page headers: %v", r.header)
				}
				if strings.Contains(r.body, "evil.example") {
					t.Errorf("the error page links the unregistered address")
				}
			})
		}
		// Redirected with error, error_description, state and iss.
		redirects := []struct {
			name string
			edit func(url.Values)
			code string
		}{
			{"PKCE missing", func(q url.Values) { q.Del("code_challenge"); q.Del("code_challenge_method") }, "invalid_request"},
			{"PKCE plain", func(q url.Values) { q.Set("code_challenge_method", "plain") }, "invalid_request"},
			{"PKCE method missing", func(q url.Values) { q.Del("code_challenge_method") }, "invalid_request"},
			{"challenge not a SHA-256", func(q url.Values) { q.Set("code_challenge", "short") }, "invalid_request"},
			{"response_type token", func(q url.Values) { q.Set("response_type", "token") }, "unsupported_response_type"},
			{"resource of another server", func(q url.Values) { q.Set("resource", "https://other.example/mcp") }, "invalid_target"},
			{"resource is the origin", func(q url.Values) { q.Set("resource", e.ts.URL) }, "invalid_target"},
			{"unknown scope only", func(q url.Values) { q.Set("scope", "admin") }, "invalid_scope"},
		}
		for _, tc := range redirects {
			t.Run("redirect/"+tc.name, func(t *testing.T) {
				e := e.with(t)
				r := e.get(e.browser(), PathAuthorize+"?"+e.authzQuery(c, p, tc.edit).Encode())
				if r.status != http.StatusFound {
					t.Fatalf("%d %s", r.status, r.body)
				}
				u, _ := url.Parse(r.header.Get("Location"))
				q := u.Query()
				if !strings.HasPrefix(u.String(), "https://app.example/callback?") || q.Get("error") != tc.code || q.Get("error_description") == "" || q.Get("state") != "st-123" || q.Get("iss") != e.ts.URL {
					t.Fatalf("Location = %s", u)
				}
			})
		}
		// Accepted: the consent page.
		accepted := []struct {
			name      string
			client    registered
			edit      func(url.Values)
			wantWrite bool
		}{
			{"resource with a trailing slash", c, func(q url.Values) { q.Set("resource", e.srv.Resource()+"/") }, true},
			{"no resource", c, func(q url.Values) { q.Del("resource") }, true},
			{"no scope asks for both (ChatGPT)", c, func(q url.Values) { q.Del("scope") }, true},
			{"offline_access only asks for both", c, func(q url.Values) { q.Set("scope", "offline_access") }, true},
			{"read only", c, func(q url.Values) { q.Set("scope", "calls:read") }, false},
			{"no redirect URI, one registered", c, func(q url.Values) { q.Del("redirect_uri") }, true},
		}
		for _, tc := range accepted {
			t.Run("consent/"+tc.name, func(t *testing.T) {
				e := e.with(t)
				f := e.openConsent(e.browser(), e.authzQuery(tc.client, p, tc.edit))
				if got := strings.Contains(f.page.body, `name="write"`); got != tc.wantWrite {
					t.Errorf("placing calls offered = %v, want %v", got, tc.wantWrite)
				}
			})
		}
	})
}

func TestLoopbackRedirectIgnoresThePort(t *testing.T) {
	forEachStore(t, func(t *testing.T, k storeKind) {
		e := newEnv(t, k, envOptions{})
		c := e.register("", "http://localhost/callback")
		c.redirect = "http://localhost:49152/callback"
		p := newPKCE()
		q := e.approve(c, p, "bys_ak_loopback", true, nil)
		if q.Get("code") == "" {
			t.Fatalf("no code: %v", q)
		}
		mustTokens(t, e.exchange(c, q.Get("code"), p.verifier, nil))
	})
}

func TestConsentPage(t *testing.T) {
	t.Parallel()
	e := newEnv(t, storeKinds(t)[0], envOptions{})
	c := e.register("", "https://claude.ai/api/mcp/auth_callback")
	f := e.openConsent(e.browser(), e.authzQuery(c, newPKCE(), nil))
	h := f.page.header
	csp := h.Get("Content-Security-Policy")
	for _, want := range []string{"frame-ancestors 'none'", "default-src 'none'", "form-action 'self' https://claude.ai"} {
		if !strings.Contains(csp, want) {
			t.Errorf("CSP %q lacks %q", csp, want)
		}
	}
	for k, want := range map[string]string{"X-Frame-Options": "DENY", "Cache-Control": "no-store", "Referrer-Policy": "no-referrer"} {
		if h.Get(k) != want {
			t.Errorf("%s = %q, want %q", k, h.Get(k), want)
		}
	}
	body := f.page.body
	for _, want := range []string{`type="password"`, `name="key"`, `>claude.ai</span>`, "Test App", "place phone calls", `name="write" value="1" id="write" checked`} {
		if !strings.Contains(body, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	// Self-contained: nothing loaded from anywhere.
	if m := regexp.MustCompile(`(?i)(src|href)\s*=`).FindString(body); m != "" {
		t.Errorf("page loads a resource: %s", m)
	}
	if strings.Contains(body, "<script") {
		t.Errorf("page has a script")
	}
	// The style is allowed by its nonce only.
	nonce := regexp.MustCompile(`style-src 'nonce-([0-9a-f]+)'`).FindStringSubmatch(csp)
	if nonce == nil || !strings.Contains(body, `<style nonce="`+nonce[1]+`">`) {
		t.Errorf("style nonce does not match the CSP")
	}
}

func TestConsentPageOffersTheSandbox(t *testing.T) {
	t.Parallel()
	e := newEnv(t, storeKinds(t)[0], envOptions{sandboxKey: "bys_ak_sandbox_local"})
	c := e.register("")
	p := newPKCE()
	b := e.browser()
	f := e.openConsent(b, e.authzQuery(c, p, nil))
	if !strings.Contains(f.page.body, "sandbox") || strings.Contains(f.page.body, " required ") {
		t.Fatalf("the page does not offer the sandbox: %s", f.page.body)
	}
	r := e.submit(b, f, "approve", "", true)
	u, _ := url.Parse(r.header.Get("Location"))
	tok := mustTokens(t, e.exchange(c, u.Query().Get("code"), p.verifier, nil))
	got := e.mcp(tok.access, `{}`).json(t)
	if got["key"] != "bys_ak_sandbox_local" {
		t.Fatalf("served with %v, want the sandbox key", got["key"])
	}
}

func TestConsentForm(t *testing.T) {
	forEachStore(t, func(t *testing.T, k storeKind) {
		e := newEnv(t, k, envOptions{})
		c := e.register("", "https://app.example/callback")
		t.Run("wrong anti-forgery token is refused", func(t *testing.T) {
			e := e.with(t)
			b := e.browser()
			f := e.openConsent(b, e.authzQuery(c, newPKCE(), nil))
			f.csrf = strings.Repeat("0", 64)
			r := e.submit(b, f, "approve", "bys_ak_good", true)
			if r.status != http.StatusForbidden || r.header.Get("Location") != "" {
				t.Fatalf("%d %q", r.status, r.header.Get("Location"))
			}
		})
		t.Run("token of another page is refused", func(t *testing.T) {
			e := e.with(t)
			b := e.browser()
			f1 := e.openConsent(b, e.authzQuery(c, newPKCE(), nil))
			f2 := e.openConsent(b, e.authzQuery(c, newPKCE(), nil))
			f1.csrf = f2.csrf
			if r := e.submit(b, f1, "approve", "bys_ak_good", true); r.status != http.StatusForbidden {
				t.Fatalf("%d", r.status)
			}
		})
		t.Run("another browser (no cookie) is refused", func(t *testing.T) {
			e := e.with(t)
			f := e.openConsent(e.browser(), e.authzQuery(c, newPKCE(), nil))
			if r := e.submit(e.browser(), f, "approve", "bys_ak_good", true); r.status != http.StatusForbidden || r.header.Get("Location") != "" {
				t.Fatalf("%d", r.status)
			}
		})
		t.Run("a form posted from another origin is refused", func(t *testing.T) {
			e := e.with(t)
			b := e.browser()
			f := e.openConsent(b, e.authzQuery(c, newPKCE(), nil))
			form := url.Values{"request": {f.request}, "csrf": {f.csrf}, "action": {"approve"}, "key": {"bys_ak_good"}}
			req, _ := http.NewRequest(http.MethodPost, e.ts.URL+PathAuthorize, strings.NewReader(form.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.Header.Set("Origin", "https://evil.example")
			if r := do(t, b, req); r.status != http.StatusForbidden {
				t.Fatalf("%d", r.status)
			}
		})
		t.Run("deny redirects with access_denied", func(t *testing.T) {
			e := e.with(t)
			b := e.browser()
			f := e.openConsent(b, e.authzQuery(c, newPKCE(), nil))
			r := e.submit(b, f, "deny", "", false)
			u, _ := url.Parse(r.header.Get("Location"))
			if r.status != http.StatusSeeOther || u.Query().Get("error") != "access_denied" || u.Query().Get("state") != "st-123" || u.Query().Get("iss") != e.ts.URL || u.Query().Get("code") != "" {
				t.Fatalf("%d %s", r.status, u)
			}
		})
		t.Run("a page is used once", func(t *testing.T) {
			e := e.with(t)
			b := e.browser()
			f := e.openConsent(b, e.authzQuery(c, newPKCE(), nil))
			if r := e.submit(b, f, "approve", "bys_ak_good", true); r.status != http.StatusSeeOther {
				t.Fatalf("first: %d", r.status)
			}
			if r := e.submit(b, f, "approve", "bys_ak_good", true); r.status != http.StatusBadRequest || r.header.Get("Location") != "" {
				t.Fatalf("second: %d", r.status)
			}
		})
		t.Run("the page expires", func(t *testing.T) {
			e := e.with(t)
			if k.name == "redis" {
				t.Skip("Redis expires records on its own clock")
			}
			b := e.browser()
			f := e.openConsent(b, e.authzQuery(c, newPKCE(), nil))
			e.clock.Advance(ConsentTTL + time.Second)
			defer e.clock.Advance(-ConsentTTL - time.Second)
			if r := e.submit(b, f, "approve", "bys_ak_good", true); r.status != http.StatusBadRequest {
				t.Fatalf("%d", r.status)
			}
		})
	})
}

func TestConsentChecksTheKey(t *testing.T) {
	forEachStore(t, func(t *testing.T, k storeKind) {
		e := newEnv(t, k, envOptions{})
		c := e.register("", "https://app.example/callback")
		e.refuse.Store("bys_ak_revoked", true)
		b := e.browser()
		p := newPKCE()
		f := e.openConsent(b, e.authzQuery(c, p, nil))
		before := e.apiCalls.Load()
		r := e.submit(b, f, "approve", "bys_ak_revoked", true)
		if r.status != http.StatusBadRequest || r.header.Get("Location") != "" {
			t.Fatalf("refused key: %d %q", r.status, r.header.Get("Location"))
		}
		if m := errorRe.FindStringSubmatch(r.body); m == nil || !strings.Contains(m[1], "refused this key") {
			t.Fatalf("the page does not say the key was refused: %s", r.body)
		}
		if n := e.apiCalls.Load() - before; n != 1 {
			t.Errorf("%d API requests to check the key, want 1", n)
		}
		if strings.Contains(r.body, "bys_ak_revoked") {
			t.Errorf("the page shows the key back")
		}
		for _, bad := range []string{"", "sk_live_123", "bys_ak_", "bys_ak_a b"} {
			before := e.apiCalls.Load()
			if r := e.submit(b, parseConsent(t, r), "approve", bad, true); r.status != http.StatusBadRequest || r.header.Get("Location") != "" {
				t.Fatalf("key %q: %d", bad, r.status)
			}
			if e.apiCalls.Load() != before {
				t.Errorf("key %q was sent to the API", bad)
			}
		}
		// The same page works once a good key is typed: nothing was issued
		// before.
		r = e.submit(b, parseConsent(t, r), "approve", "bys_ak_good", true)
		if r.status != http.StatusSeeOther {
			t.Fatalf("good key: %d %s", r.status, r.body)
		}
		u, _ := url.Parse(r.header.Get("Location"))
		tok := mustTokens(t, e.exchange(c, u.Query().Get("code"), p.verifier, nil))
		if got := e.mcp(tok.access, `{}`).json(t)["key"]; got != "bys_ak_good" {
			t.Fatalf("served with %v", got)
		}
	})
}

func TestKeyAttemptsAreRateLimited(t *testing.T) {
	forEachStore(t, func(t *testing.T, k storeKind) {
		e := newEnv(t, k, envOptions{opts: func(o *Options) { o.KeyAttemptsPerMinute = 0 }}) // the default, 10
		c := e.register("", "https://app.example/callback")
		e.refuse.Store("bys_ak_wrong", true)
		b := e.browser()
		f := e.openConsent(b, e.authzQuery(c, newPKCE(), nil))
		for i := range 10 {
			r := e.submit(b, f, "approve", "bys_ak_wrong", true)
			if r.status != http.StatusBadRequest {
				t.Fatalf("attempt %d: %d", i+1, r.status)
			}
			f = parseConsent(t, r)
		}
		before := e.apiCalls.Load()
		r := e.submit(b, f, "approve", "bys_ak_good", true)
		if r.status != http.StatusTooManyRequests || r.header.Get("Retry-After") == "" || r.header.Get("Location") != "" {
			t.Fatalf("11th attempt: %d %v", r.status, r.header)
		}
		if e.apiCalls.Load() != before {
			t.Errorf("the 11th key was checked with the API")
		}
		if !strings.Contains(r.body, "Too many keys") {
			t.Errorf("the page does not say why: %s", r.body)
		}
	})
}
