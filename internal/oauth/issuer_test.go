package oauth

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/byourside/bys-mcp/internal/clock"
	"github.com/byourside/bys-mcp/internal/tenant"
	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

const testResourceURL = "https://mcp.example.com"

// signingKey is a key of the test issuer.
type signingKey struct {
	kid  string
	alg  jose.SignatureAlgorithm
	priv crypto.Signer
}

func (k signingKey) public() jose.JSONWebKey {
	return jose.JSONWebKey{Key: k.priv.Public(), KeyID: k.kid, Algorithm: string(k.alg), Use: "sig"}
}

var (
	keyOnce                 sync.Once
	rsaKey, ecKey, edKey    signingKey
	rsaKey2, rsaSmall, ecK2 signingKey
)

// testKeys are generated once for the package's tests.
func testKeys(t testing.TB) {
	keyOnce.Do(func() {
		r1, _ := rsa.GenerateKey(rand.Reader, 2048)
		r2, _ := rsa.GenerateKey(rand.Reader, 2048)
		r3, _ := rsa.GenerateKey(rand.Reader, 1024)
		e1, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		e2, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		_, d1, _ := ed25519.GenerateKey(rand.Reader)
		rsaKey = signingKey{"rsa-1", jose.RS256, r1}
		rsaKey2 = signingKey{"rsa-2", jose.RS256, r2}
		rsaSmall = signingKey{"rsa-small", jose.RS256, r3}
		ecKey = signingKey{"ec-1", jose.ES256, e1}
		ecK2 = signingKey{"ec-2", jose.ES256, e2}
		edKey = signingKey{"ed-1", jose.EdDSA, d1}
	})
}

// testIssuer is an identity provider's metadata and key set over HTTP.
type testIssuer struct {
	ts *httptest.Server
	// oidcOnly serves only OpenID discovery; down answers 503 to all.
	oidcOnly, down atomic.Bool
	mu             sync.Mutex
	keys           []signingKey
	mdIssuer       string // the issuer the metadata names (default ts.URL)
	jwksFetches    atomic.Int32
}

func newTestIssuer(t testing.TB, keys ...signingKey) *testIssuer {
	t.Helper()
	testKeys(t)
	is := &testIssuer{keys: keys}
	mux := http.NewServeMux()
	metadata := func(w http.ResponseWriter, r *http.Request) {
		if is.down.Load() {
			http.Error(w, "down", http.StatusServiceUnavailable)
			return
		}
		if is.oidcOnly.Load() && strings.Contains(r.URL.Path, "oauth-authorization-server") {
			http.NotFound(w, r)
			return
		}
		is.mu.Lock()
		iss := is.mdIssuer
		is.mu.Unlock()
		if iss == "" {
			iss = is.ts.URL
		}
		json.NewEncoder(w).Encode(map[string]any{"issuer": iss, "jwks_uri": is.ts.URL + "/jwks", "token_endpoint": is.ts.URL + "/token"})
	}
	mux.HandleFunc("GET /.well-known/oauth-authorization-server", metadata)
	mux.HandleFunc("GET /.well-known/openid-configuration", metadata)
	mux.HandleFunc("GET /jwks", func(w http.ResponseWriter, r *http.Request) {
		if is.down.Load() {
			http.Error(w, "down", http.StatusServiceUnavailable)
			return
		}
		is.jwksFetches.Add(1)
		is.mu.Lock()
		set := jose.JSONWebKeySet{}
		for _, k := range is.keys {
			set.Keys = append(set.Keys, k.public())
		}
		is.mu.Unlock()
		json.NewEncoder(w).Encode(set)
	})
	is.ts = httptest.NewServer(mux)
	t.Cleanup(is.ts.Close)
	return is
}

func (is *testIssuer) setKeys(keys ...signingKey) {
	is.mu.Lock()
	defer is.mu.Unlock()
	is.keys = keys
}

// claims of a good token at now.
func (is *testIssuer) claims(now time.Time) map[string]any {
	return map[string]any{
		"iss":       is.ts.URL,
		"sub":       "alice",
		"aud":       testResourceURL + "/mcp",
		"exp":       now.Add(time.Hour).Unix(),
		"iat":       now.Unix(),
		"scope":     "calls:read calls:write",
		"client_id": "claude",
	}
}

// sign makes a token with k, typ at+jwt unless typ is given.
func sign(t testing.TB, k signingKey, claims map[string]any, typ ...string) string {
	t.Helper()
	opts := (&jose.SignerOptions{}).WithType("at+jwt")
	if len(typ) > 0 {
		opts = &jose.SignerOptions{}
		if typ[0] != "" {
			opts = opts.WithType(jose.ContentType(typ[0]))
		}
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: k.alg, Key: jose.JSONWebKey{Key: k.priv, KeyID: k.kid}}, opts)
	if err != nil {
		t.Fatal(err)
	}
	s, err := jwt.Signed(signer).Claims(claims).Serialize()
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func newTestResource(t testing.TB, is *testIssuer, c clock.Clock, edit ...func(*ResourceOptions)) *Resource {
	t.Helper()
	o := ResourceOptions{Issuer: is.ts.URL, PublicURL: testResourceURL, Clock: c,
		IsWriteTool: func(name string) bool { return name == "place_call" }}
	for _, e := range edit {
		e(&o)
	}
	r, err := NewResource(o)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestIssuerTokensAreCheckedAgainstTheIssuersKeys(t *testing.T) {
	testKeys(t)
	is := newTestIssuer(t, rsaKey, ecKey, edKey)
	now := testStart
	edit := func(f func(m map[string]any)) map[string]any {
		m := is.claims(now)
		f(m)
		return m
	}
	good := is.claims(now)
	cases := []struct {
		name  string
		token func() string
		ok    bool
		read  bool
		write bool
	}{
		{"RS256", func() string { return sign(t, rsaKey, good) }, true, true, true},
		{"ES256", func() string { return sign(t, ecKey, good) }, true, true, true},
		{"EdDSA", func() string { return sign(t, edKey, good) }, true, true, true},
		{"typ JWT", func() string { return sign(t, rsaKey, good, "JWT") }, true, true, true},
		{"no typ", func() string { return sign(t, rsaKey, good, "") }, true, true, true},
		{"aud with a trailing slash", func() string {
			return sign(t, rsaKey, edit(func(m map[string]any) { m["aud"] = testResourceURL + "/mcp/" }))
		}, true, true, true},
		{"aud an array naming the resource", func() string {
			return sign(t, rsaKey, edit(func(m map[string]any) { m["aud"] = []string{"https://other.example.com", testResourceURL + "/mcp"} }))
		}, true, true, true},
		{"expired within the leeway", func() string {
			return sign(t, rsaKey, edit(func(m map[string]any) { m["exp"] = now.Add(-20 * time.Second).Unix() }))
		}, true, true, true},
		{"scope calls:read", func() string {
			return sign(t, rsaKey, edit(func(m map[string]any) { m["scope"] = "openid calls:read" }))
		}, true, true, false},
		{"scp array calls:write", func() string {
			return sign(t, ecKey, edit(func(m map[string]any) { delete(m, "scope"); m["scp"] = []string{"calls:write"} }))
		}, true, true, true},
		{"scp string", func() string {
			return sign(t, ecKey, edit(func(m map[string]any) { delete(m, "scope"); m["scp"] = "calls:read" }))
		}, true, true, false},
		{"no scope of ours", func() string {
			return sign(t, rsaKey, edit(func(m map[string]any) { m["scope"] = "openid profile" }))
		}, true, false, false},

		{"wrong issuer", func() string {
			return sign(t, rsaKey, edit(func(m map[string]any) { m["iss"] = "https://login.example.com" }))
		}, false, false, false},
		{"issuer with another trailing slash", func() string {
			return sign(t, rsaKey, edit(func(m map[string]any) { m["iss"] = is.ts.URL + "/" }))
		}, false, false, false},
		{"wrong audience", func() string {
			return sign(t, rsaKey, edit(func(m map[string]any) { m["aud"] = "https://other.example.com/mcp" }))
		}, false, false, false},
		{"the origin as audience", func() string {
			return sign(t, rsaKey, edit(func(m map[string]any) { m["aud"] = testResourceURL }))
		}, false, false, false},
		{"no audience", func() string { return sign(t, rsaKey, edit(func(m map[string]any) { delete(m, "aud") })) }, false, false, false},
		{"expired", func() string {
			return sign(t, rsaKey, edit(func(m map[string]any) { m["exp"] = now.Add(-time.Minute).Unix() }))
		}, false, false, false},
		{"no exp", func() string { return sign(t, rsaKey, edit(func(m map[string]any) { delete(m, "exp") })) }, false, false, false},
		{"not yet valid", func() string {
			return sign(t, rsaKey, edit(func(m map[string]any) { m["nbf"] = now.Add(time.Minute).Unix() }))
		}, false, false, false},
		{"issued in the future", func() string {
			return sign(t, rsaKey, edit(func(m map[string]any) { m["iat"] = now.Add(time.Minute).Unix() }))
		}, false, false, false},
		{"no sub", func() string { return sign(t, rsaKey, edit(func(m map[string]any) { delete(m, "sub") })) }, false, false, false},
		{"an ID token's typ", func() string { return sign(t, rsaKey, good, "id_token+jwt") }, false, false, false},
		{"a known kid, another key", func() string {
			forged := signingKey{rsaKey.kid, jose.RS256, rsaKey2.priv}
			return sign(t, forged, good)
		}, false, false, false},
		{"a known kid, another algorithm", func() string {
			return sign(t, signingKey{rsaKey.kid, jose.ES256, ecKey.priv}, good)
		}, false, false, false},
		{"a tampered payload", func() string {
			parts := strings.Split(sign(t, rsaKey, edit(func(m map[string]any) { m["sub"] = "mallory" })), ".")
			orig := strings.Split(sign(t, rsaKey, good), ".")
			return orig[0] + "." + parts[1] + "." + orig[2]
		}, false, false, false},
		{"unsigned", func() string {
			return "eyJhbGciOiJub25lIiwidHlwIjoiYXQrand0In0." + strings.Split(sign(t, rsaKey, good), ".")[1] + "."
		}, false, false, false},
		{"an agent key", func() string { return "bys_ak_someone" }, false, false, false},
		{"an opaque token", func() string { return "bysmcp_at_0123456789" }, false, false, false},
	}
	r := newTestResource(t, is, clock.NewManual(now))
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p, err := r.Check(context.Background(), tc.token())
			if !tc.ok {
				if !errors.Is(err, ErrInvalidToken) {
					t.Fatalf("Check = %+v, %v; want ErrInvalidToken", p, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Check: %v", err)
			}
			if p.Read != tc.read || p.Write != tc.write {
				t.Errorf("read, write = %v, %v; want %v, %v", p.Read, p.Write, tc.read, tc.write)
			}
			if p.Person.Subject != "alice" || p.Person.ID != PersonID(is.ts.URL, "alice") || p.ClientName != "claude" || p.key != "" {
				t.Errorf("principal = %+v", p)
			}
		})
	}
	if n := is.jwksFetches.Load(); n != 1 {
		t.Errorf("the key set was fetched %d times, want once (the bad tokens name known keys)", n)
	}
}

func TestIssuerPeopleAreTheirIssuerAndSubject(t *testing.T) {
	if PersonID("https://a.example.com", "alice") == PersonID("https://a.example.com", "bob") ||
		PersonID("https://a.example.com", "alice") == PersonID("https://b.example.com", "alice") {
		t.Fatal("two people share an id")
	}
	if PersonID("https://a.example.com", "alice") != PersonID("https://a.example.com", "alice") {
		t.Fatal("a person's id changes")
	}
}

func TestIssuerUnknownKeyRefetchesAtMostOnceAMinute(t *testing.T) {
	testKeys(t)
	is := newTestIssuer(t, rsaKey)
	c := clock.NewManual(testStart)
	r := newTestResource(t, is, c)
	ctx := context.Background()
	if _, err := r.Check(ctx, sign(t, rsaKey, is.claims(c.Now()))); err != nil {
		t.Fatal(err)
	}
	// A token from a key the provider does not publish fetches the keys
	// once.
	if _, err := r.Check(ctx, sign(t, ecKey, is.claims(c.Now()))); !errors.Is(err, ErrInvalidToken) {
		t.Fatalf("unknown key: %v", err)
	}
	if n := is.jwksFetches.Load(); n != 2 {
		t.Fatalf("fetches = %d, want 2 (the first, then one for the unknown kid)", n)
	}
	// More unknown kids within the minute fetch nothing.
	for _, k := range []signingKey{ecKey, edKey, ecK2} {
		if _, err := r.Check(ctx, sign(t, k, is.claims(c.Now()))); !errors.Is(err, ErrInvalidToken) {
			t.Fatalf("unknown key %s: %v", k.kid, err)
		}
	}
	if n := is.jwksFetches.Load(); n != 2 {
		t.Fatalf("fetches = %d, want still 2", n)
	}
	// The provider adds the key; a minute later its token is taken, after
	// one more fetch.
	is.setKeys(rsaKey, ecKey)
	c.Advance(DefaultRefetchInterval)
	if _, err := r.Check(ctx, sign(t, ecKey, is.claims(c.Now()))); err != nil {
		t.Fatalf("the added key: %v", err)
	}
	if n := is.jwksFetches.Load(); n != 3 {
		t.Fatalf("fetches = %d, want 3", n)
	}
}

func TestIssuerKeyRotation(t *testing.T) {
	testKeys(t)
	is := newTestIssuer(t, rsaKey)
	c := clock.NewManual(testStart)
	r := newTestResource(t, is, c)
	ctx := context.Background()
	oldToken := sign(t, rsaKey, is.claims(c.Now()))
	if _, err := r.Check(ctx, oldToken); err != nil {
		t.Fatal(err)
	}
	// The provider rotates at once: it signs with a new key and still
	// publishes the old one for the tokens it already issued.
	is.setKeys(rsaKey2, rsaKey)
	newToken := sign(t, rsaKey2, is.claims(c.Now()))
	if _, err := r.Check(ctx, newToken); err != nil {
		t.Fatalf("a token of the new key: %v", err)
	}
	if _, err := r.Check(ctx, oldToken); err != nil {
		t.Fatalf("a token of the old key while it is published: %v", err)
	}
	if n := is.jwksFetches.Load(); n != 2 {
		t.Fatalf("fetches = %d, want 2", n)
	}
	// Then it drops the old key: once the keys are fetched again (they are
	// an hour old), the old key's tokens are refused.
	is.setKeys(rsaKey2)
	c.Advance(DefaultKeysMaxAge)
	oldToken = sign(t, rsaKey, is.claims(c.Now()))
	if _, err := r.Check(ctx, oldToken); !errors.Is(err, ErrInvalidToken) {
		t.Fatalf("a token of the dropped key: %v", err)
	}
	if _, err := r.Check(ctx, sign(t, rsaKey2, is.claims(c.Now()))); err != nil {
		t.Fatalf("a token of the new key: %v", err)
	}
}

func TestIssuerDiscoveryAndFailures(t *testing.T) {
	testKeys(t)
	ctx := context.Background()
	t.Run("OpenID discovery when RFC 8414 metadata is missing", func(t *testing.T) {
		is := newTestIssuer(t, edKey)
		is.oidcOnly.Store(true)
		r := newTestResource(t, is, clock.NewManual(testStart))
		if _, err := r.Check(ctx, sign(t, edKey, is.claims(testStart))); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("metadata naming another issuer", func(t *testing.T) {
		is := newTestIssuer(t, edKey)
		is.mdIssuer = "https://evil.example.com"
		r := newTestResource(t, is, clock.NewManual(testStart))
		_, err := r.Check(ctx, sign(t, edKey, is.claims(testStart)))
		if err == nil || errors.Is(err, ErrInvalidToken) || !errors.Is(err, errIssuerUnavailable) {
			t.Fatalf("Check = %v, want the provider unavailable", err)
		}
	})
	t.Run("a key set without usable keys", func(t *testing.T) {
		is := newTestIssuer(t, rsaSmall)
		r := newTestResource(t, is, clock.NewManual(testStart))
		if _, err := r.Check(ctx, sign(t, rsaSmall, is.claims(testStart))); !errors.Is(err, errIssuerUnavailable) {
			t.Fatalf("a 1024-bit RSA key: %v, want no usable key", err)
		}
	})
	t.Run("the provider down, then back", func(t *testing.T) {
		is := newTestIssuer(t, rsaKey)
		is.down.Store(true)
		c := clock.NewManual(testStart)
		r := newTestResource(t, is, c)
		tok := sign(t, rsaKey, is.claims(c.Now()))
		for range 3 {
			if _, err := r.Check(ctx, tok); !errors.Is(err, errIssuerUnavailable) {
				t.Fatalf("Check = %v, want unavailable", err)
			}
		}
		is.down.Store(false)
		if _, err := r.Check(ctx, tok); !errors.Is(err, errIssuerUnavailable) {
			t.Fatalf("within the back-off: %v, want still unavailable (no fetch)", err)
		}
		c.Advance(failedFetchBackoff)
		if _, err := r.Check(ctx, tok); err != nil {
			t.Fatalf("after the back-off: %v", err)
		}
		// Down again when the keys are due: the known keys go on serving.
		is.down.Store(true)
		c.Advance(DefaultKeysMaxAge)
		if _, err := r.Check(ctx, sign(t, rsaKey, is.claims(c.Now()))); err != nil {
			t.Fatalf("with stale keys: %v", err)
		}
	})
}

func TestIssuerProtect(t *testing.T) {
	testKeys(t)
	is := newTestIssuer(t, rsaKey)
	c := clock.NewManual(testStart)
	r := newTestResource(t, is, c)
	mux := http.NewServeMux()
	r.Register(mux, nil)
	mux.Handle("/mcp", r.Protect(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		p, _ := tenant.PersonFrom(req.Context())
		json.NewEncoder(w).Encode(map[string]any{"person": p.ID, "subject": p.Subject, "key": tenant.KeyFrom(req.Context()), "client": tenant.ClientFrom(req.Context())})
	})))
	ts := httptest.NewServer(mux)
	defer ts.Close()
	prm := testResourceURL + "/.well-known/oauth-protected-resource/mcp"
	plain := `Bearer resource_metadata="` + prm + `", scope="calls:read calls:write"`
	insufficient := `Bearer error="insufficient_scope", scope="calls:read calls:write", resource_metadata="` + prm + `"`
	readOnly := is.claims(c.Now())
	readOnly["scope"] = "calls:read"
	noScope := is.claims(c.Now())
	delete(noScope, "scope")
	wrongAud := is.claims(c.Now())
	wrongAud["aud"] = "https://other.example.com/mcp"
	placeCall := `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"place_call","arguments":{}}}`
	getCall := `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"get_call","arguments":{}}}`
	cases := []struct {
		name, token, body string
		status            int
		challenge         string
	}{
		{"no token", "", getCall, 401, plain},
		{"an agent key", "bys_ak_x", getCall, 401, plain + `, error="invalid_token"`},
		{"a wrong audience", sign(t, rsaKey, wrongAud), getCall, 401, plain + `, error="invalid_token"`},
		{"a token without our scopes", sign(t, rsaKey, noScope), getCall, 403, insufficient},
		{"a read-only token placing a call", sign(t, rsaKey, readOnly), placeCall, 403, insufficient},
		{"a read-only token reading", sign(t, rsaKey, readOnly), getCall, 200, ""},
		{"a read-write token placing a call", sign(t, rsaKey, is.claims(c.Now())), placeCall, 200, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest(http.MethodPost, ts.URL+"/mcp", strings.NewReader(tc.body))
			if tc.token != "" {
				req.Header.Set("Authorization", "Bearer "+tc.token)
			}
			resp := do(t, nil, req)
			if resp.status != tc.status || resp.header.Get("WWW-Authenticate") != tc.challenge {
				t.Fatalf("%d %q, want %d %q (%s)", resp.status, resp.header.Get("WWW-Authenticate"), tc.status, tc.challenge, resp.body)
			}
			if tc.status == 200 {
				m := resp.json(t)
				if m["person"] != PersonID(is.ts.URL, "alice") || m["subject"] != "alice" || m["key"] != "" || m["client"] != "claude" {
					t.Errorf("context = %v", m)
				}
			}
		})
	}
	t.Run("the provider unreachable", func(t *testing.T) {
		is2 := newTestIssuer(t, rsaKey)
		is2.down.Store(true)
		r2 := newTestResource(t, is2, c)
		rec := httptest.NewRecorder()
		req := httptest.NewRequest(http.MethodPost, "/mcp", strings.NewReader(getCall))
		req.Header.Set("Authorization", "Bearer "+sign(t, rsaKey, is2.claims(c.Now())))
		r2.Protect(http.NotFoundHandler()).ServeHTTP(rec, req)
		if rec.Code != http.StatusServiceUnavailable || rec.Header().Get("Retry-After") == "" || !strings.Contains(rec.Body.String(), "identity provider") {
			t.Fatalf("%d %s", rec.Code, rec.Body)
		}
	})
	t.Run("protected resource metadata at both paths", func(t *testing.T) {
		for _, p := range []string{"/.well-known/oauth-protected-resource/mcp", "/.well-known/oauth-protected-resource"} {
			req, _ := http.NewRequest(http.MethodGet, ts.URL+p, nil)
			resp := do(t, nil, req)
			m := resp.json(t)
			if resp.status != 200 || m["resource"] != testResourceURL+"/mcp" || findNull(m, "") != "" {
				t.Fatalf("%s: %d %s", p, resp.status, resp.body)
			}
			as, _ := m["authorization_servers"].([]any)
			sc, _ := m["scopes_supported"].([]any)
			if len(as) != 1 || as[0] != is.ts.URL || len(sc) != 2 || sc[0] != ScopeRead || sc[1] != ScopeWrite {
				t.Errorf("%s: %s", p, resp.body)
			}
		}
	})
}
