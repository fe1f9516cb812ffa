package oauth

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/byourside/bys-mcp/client"
	"github.com/byourside/bys-mcp/internal/clock"
	"github.com/byourside/bys-mcp/internal/sandbox"
	"github.com/byourside/bys-mcp/internal/state"
	"github.com/byourside/bys-mcp/internal/state/redistest"
	"github.com/byourside/bys-mcp/internal/tenant"
	"github.com/sirupsen/logrus"
)

// The tests run against every store: in memory, the local file, and Redis
// when redis-server is installed (BYS_REQUIRE_REDIS makes it required).

var testStart = time.Date(2026, 3, 2, 15, 4, 5, 0, time.UTC)

// storeKind builds a store on the test's clock.
type storeKind struct {
	name string
	new  func(t testing.TB, c clock.Clock) state.Store
}

var redisN atomic.Int64

// storeKinds are the stores to run a test against; the Redis one starts a
// redis-server for the test t (on first use, stopped when t ends).
func storeKinds(t testing.TB) []storeKind {
	kinds := []storeKind{
		{"memory", func(t testing.TB, c clock.Clock) state.Store {
			s := state.NewMemoryWithClock(c)
			t.Cleanup(func() { s.Close() })
			return s
		}},
		{"file", func(t testing.TB, c clock.Clock) state.Store {
			s := state.NewFile(t.TempDir(), state.FileOptions{Clock: c})
			t.Cleanup(func() { s.Close() })
			return s
		}},
	}
	if redistest.Binary() != "" || os.Getenv("BYS_REQUIRE_REDIS") != "" {
		parent := t
		var once sync.Once
		var url string
		kinds = append(kinds, storeKind{"redis", func(t testing.TB, c clock.Clock) state.Store {
			once.Do(func() { url = redistest.Start(parent).URL })
			s, err := state.NewRedis(context.Background(), url, state.RedisOptions{Prefix: fmt.Sprintf("oauth-test%d:", redisN.Add(1))})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { s.Close() })
			return s
		}})
	}
	return kinds
}

// forEachStore runs fn as a parallel subtest per store.
func forEachStore(t *testing.T, fn func(t *testing.T, k storeKind)) {
	t.Helper()
	t.Parallel()
	for _, k := range storeKinds(t) {
		t.Run(k.name, func(t *testing.T) {
			t.Parallel()
			fn(t, k)
		})
	}
}

// env is one authorization server on an httptest origin, with the sandbox
// as the API (behind a switch that makes it refuse chosen keys, as the API
// refuses a revoked key), and a protected endpoint at /mcp that echoes the
// key it is served with.
type env struct {
	t      *testing.T
	srv    *Server
	ts     *httptest.Server
	clock  *clock.Manual
	store  state.Store
	api    *httptest.Server
	logs   *syncBuffer
	refuse *sync.Map // keys the API refuses
	// apiCalls counts the API requests.
	apiCalls *atomic.Int64
	client   *client.Client
}

// with is e for a subtest: its helpers fail t.
func (e *env) with(t *testing.T) *env {
	c := *e
	c.t = t
	return &c
}

type envOptions struct {
	sandboxKey string
	opts       func(*Options)
	// store reuses a store (restart tests); secret reuses a secret.
	store  state.Store
	secret []byte
}

func newEnv(t *testing.T, k storeKind, eo envOptions) *env {
	t.Helper()
	e := &env{t: t, clock: clock.NewManual(testStart), logs: &syncBuffer{}, refuse: &sync.Map{}, apiCalls: &atomic.Int64{}}
	sb := sandbox.New(sandbox.Options{})
	t.Cleanup(sb.Close)
	e.api = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		e.apiCalls.Add(1)
		key := tenant.BearerKey(r.Header.Get("Authorization"))
		if _, refused := e.refuse.Load(key); refused {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = io.WriteString(w, `{"error":"unauthorized"}`)
			return
		}
		sb.ServeHTTP(w, r)
	}))
	t.Cleanup(e.api.Close)
	var handler http.Handler = http.NotFoundHandler()
	e.ts = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { handler.ServeHTTP(w, r) }))
	t.Cleanup(e.ts.Close)
	e.store = eo.store
	if e.store == nil {
		e.store = k.new(t, e.clock)
	}
	log := logrus.New()
	log.Out = e.logs
	log.Level = logrus.DebugLevel
	var srvRef atomic.Pointer[Server]
	hc := &http.Client{Transport: WatchRefusals(http.DefaultTransport, func(ctx context.Context, key string) {
		if s := srvRef.Load(); s != nil {
			s.KeyRefused(ctx, key)
		}
	})}
	c, err := client.New(client.Options{BaseURL: e.api.URL, HTTPClient: hc, MaxRetries: -1})
	if err != nil {
		t.Fatal(err)
	}
	e.client = c
	secret := eo.secret
	if secret == nil {
		secret = bytes.Repeat([]byte("s"), 32)
	}
	o := Options{
		PublicURL: e.ts.URL,
		Store:     e.store,
		Secret:    secret,
		CheckKey: func(ctx context.Context, key string) error {
			_, err := c.WithAPIKey(key).ListCalls(ctx, &client.ListOptions{Limit: 1})
			var apiErr *client.APIError
			if errors.As(err, &apiErr) && apiErr.HTTPStatus == http.StatusUnauthorized {
				return ErrKeyRefused
			}
			return err
		},
		SandboxKey: eo.sandboxKey,
		IsWriteTool: func(name string) bool {
			return name == "place_call" || name == "place_calls" || name == "cancel_campaign"
		},
		Clock: e.clock,
		Log:   log,
		// Tests sign in many times from 127.0.0.1.
		RegistrationsPerHour: 10_000,
		KeyAttemptsPerMinute: 10_000,
	}
	if eo.opts != nil {
		eo.opts(&o)
	}
	s, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	srvRef.Store(s)
	e.srv = s
	mux := http.NewServeMux()
	s.Register(mux, nil)
	mux.Handle("/mcp", s.Protect(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		p, _ := PrincipalFrom(r.Context())
		// The API is asked with the grant's key, as a tool would.
		status := 0
		if r.URL.Query().Get("api") == "1" {
			_, err := c.WithAPIKey(tenant.KeyFrom(r.Context())).ListCalls(r.Context(), &client.ListOptions{Limit: 1})
			var apiErr *client.APIError
			if errors.As(err, &apiErr) {
				status = apiErr.HTTPStatus
			}
		}
		writeJSON(w, http.StatusOK, map[string]any{"key": tenant.KeyFrom(r.Context()), "client": tenant.ClientFrom(r.Context()), "grant": p.Grant, "write": p.Write, "body": string(body), "apiStatus": status})
	})))
	handler = mux
	return e
}

// browser is a person's browser: it keeps cookies and follows no redirect.
func (e *env) browser() *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }, Timeout: 10 * time.Second}
}

type response struct {
	status int
	header http.Header
	body   string
}

func (r response) json(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(r.body), &m); err != nil {
		t.Fatalf("not JSON (%d): %s", r.status, r.body)
	}
	return m
}

func do(t *testing.T, c *http.Client, req *http.Request) response {
	t.Helper()
	if c == nil {
		c = &http.Client{Timeout: 10 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return response{status: resp.StatusCode, header: resp.Header, body: string(b)}
}

func (e *env) get(c *http.Client, path string) response {
	req, _ := http.NewRequest(http.MethodGet, e.ts.URL+path, nil)
	return do(e.t, c, req)
}

// postForm posts form to path; basic, when set, is "id:secret".
func (e *env) postForm(path string, form url.Values, basic ...string) response {
	req, _ := http.NewRequest(http.MethodPost, e.ts.URL+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if len(basic) == 1 {
		id, secret, _ := strings.Cut(basic[0], ":")
		req.SetBasicAuth(url.QueryEscape(id), url.QueryEscape(secret))
	}
	return do(e.t, nil, req)
}

func (e *env) postJSON(path string, v any) response {
	b, _ := json.Marshal(v)
	req, _ := http.NewRequest(http.MethodPost, e.ts.URL+path, bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	return do(e.t, nil, req)
}

// mcp posts a JSON-RPC body to the protected endpoint with token.
func (e *env) mcp(token, body string) response {
	req, _ := http.NewRequest(http.MethodPost, e.ts.URL+"/mcp?api=1", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	return do(e.t, nil, req)
}

// registered is a client registered by DCR.
type registered struct {
	id, secret, method string
	redirect           string
}

func (e *env) register(method string, redirects ...string) registered {
	e.t.Helper()
	if len(redirects) == 0 {
		redirects = []string{"https://app.example/callback"}
	}
	body := map[string]any{"redirect_uris": redirects, "client_name": "Test App"}
	if method != "" {
		body["token_endpoint_auth_method"] = method
	}
	r := e.postJSON(PathRegister, body)
	if r.status != http.StatusCreated {
		e.t.Fatalf("register: %d %s", r.status, r.body)
	}
	m := r.json(e.t)
	sec, _ := m["client_secret"].(string)
	return registered{id: m["client_id"].(string), secret: sec, method: m["token_endpoint_auth_method"].(string), redirect: redirects[0]}
}

// pkce is a verifier and its S256 challenge.
type pkce struct{ verifier, challenge string }

func newPKCE() pkce {
	v := base64.RawURLEncoding.EncodeToString(randomBytes(40))
	sum := sha256.Sum256([]byte(v))
	return pkce{verifier: v, challenge: base64.RawURLEncoding.EncodeToString(sum[:])}
}

// authzQuery is a valid authorization request for c, adjusted by edit.
func (e *env) authzQuery(c registered, p pkce, edit func(url.Values)) url.Values {
	q := url.Values{
		"response_type":         {"code"},
		"client_id":             {c.id},
		"redirect_uri":          {c.redirect},
		"code_challenge":        {p.challenge},
		"code_challenge_method": {"S256"},
		"state":                 {"st-123"},
		"resource":              {e.srv.Resource()},
	}
	if edit != nil {
		edit(q)
	}
	return q
}

var (
	hiddenRe = regexp.MustCompile(`<input type="hidden" name="(request|csrf)" value="([^"]*)">`)
	errorRe  = regexp.MustCompile(`<p class="error" id="error" role="alert">([^<]*)</p>`)
)

// consentForm is what the browser read from a consent page.
type consentForm struct {
	request, csrf string
	page          response
}

func (e *env) openConsent(b *http.Client, q url.Values) consentForm {
	e.t.Helper()
	r := e.get(b, PathAuthorize+"?"+q.Encode())
	if r.status != http.StatusOK {
		e.t.Fatalf("authorize: %d %s %s", r.status, r.header.Get("Location"), r.body)
	}
	return parseConsent(e.t, r)
}

func parseConsent(t *testing.T, r response) consentForm {
	t.Helper()
	f := consentForm{page: r}
	for _, m := range hiddenRe.FindAllStringSubmatch(r.body, -1) {
		switch m[1] {
		case "request":
			f.request = m[2]
		case "csrf":
			f.csrf = m[2]
		}
	}
	if f.request == "" || f.csrf == "" {
		t.Fatalf("no form in the consent page: %s", r.body)
	}
	return f
}

// submit posts the consent form as the browser would.
func (e *env) submit(b *http.Client, f consentForm, action, key string, write bool) response {
	form := url.Values{"request": {f.request}, "csrf": {f.csrf}, "action": {action}, "key": {key}}
	if write {
		form.Set("write", "1")
	}
	req, _ := http.NewRequest(http.MethodPost, e.ts.URL+PathAuthorize, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", e.ts.URL)
	return do(e.t, b, req)
}

// approve signs in through the consent page and returns the redirect's
// query (code, state, iss).
func (e *env) approve(c registered, p pkce, key string, write bool, edit func(url.Values)) url.Values {
	e.t.Helper()
	b := e.browser()
	f := e.openConsent(b, e.authzQuery(c, p, edit))
	r := e.submit(b, f, "approve", key, write)
	if r.status != http.StatusSeeOther {
		e.t.Fatalf("approve: %d %s", r.status, r.body)
	}
	u, err := url.Parse(r.header.Get("Location"))
	if err != nil {
		e.t.Fatal(err)
	}
	return u.Query()
}

// exchange redeems a code for c.
func (e *env) exchange(c registered, code, verifier string, edit func(url.Values)) response {
	form := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "code_verifier": {verifier}, "redirect_uri": {c.redirect}, "resource": {e.srv.Resource()}}
	return e.tokenRequest(c, form, edit)
}

func (e *env) tokenRequest(c registered, form url.Values, edit func(url.Values)) response {
	switch c.method {
	case authBasic:
		if edit != nil {
			edit(form)
		}
		return e.postForm(PathToken, form, c.id+":"+c.secret)
	case authPost:
		form.Set("client_id", c.id)
		form.Set("client_secret", c.secret)
	default:
		form.Set("client_id", c.id)
	}
	if edit != nil {
		edit(form)
	}
	return e.postForm(PathToken, form)
}

// tokens is a token response.
type tokens struct{ access, refresh, scope string }

func mustTokens(t *testing.T, r response) tokens {
	t.Helper()
	if r.status != http.StatusOK {
		t.Fatalf("token: %d %s", r.status, r.body)
	}
	if r.header.Get("Cache-Control") != "no-store" {
		t.Errorf("token answer Cache-Control = %q, want no-store", r.header.Get("Cache-Control"))
	}
	m := r.json(t)
	if m["token_type"] != "Bearer" || m["expires_in"] != float64(3600) {
		t.Errorf("token answer = %v", m)
	}
	return tokens{access: m["access_token"].(string), refresh: m["refresh_token"].(string), scope: m["scope"].(string)}
}

// signIn runs the whole flow for a new client of method and returns its
// tokens.
func (e *env) signIn(method, key string, write bool) (registered, tokens) {
	e.t.Helper()
	c := e.register(method)
	p := newPKCE()
	q := e.approve(c, p, key, write, nil)
	return c, mustTokens(e.t, e.exchange(c, q.Get("code"), p.verifier, nil))
}

// refresh exchanges a refresh token.
func (e *env) refresh(c registered, rt string, edit func(url.Values)) response {
	return e.tokenRequest(c, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}}, edit)
}

// mustOAuthError checks an error answer of the token endpoint.
func mustOAuthError(t *testing.T, r response, status int, code string) {
	t.Helper()
	if r.status != status {
		t.Fatalf("status %d, want %d: %s", r.status, status, r.body)
	}
	if got := r.json(t)["error"]; got != code {
		t.Fatalf("error %v, want %s: %s", got, code, r.body)
	}
}

// works reports whether token is accepted by the protected endpoint.
func (e *env) works(token string) bool {
	e.t.Helper()
	r := e.mcp(token, `{"jsonrpc":"2.0","id":1,"method":"tools/list"}`)
	return r.status == http.StatusOK
}

// syncBuffer is a log destination safe for concurrent writes.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// findNull returns the path of a null in a decoded JSON value, or "".
func findNull(v any, path string) string {
	switch x := v.(type) {
	case nil:
		return path
	case map[string]any:
		for k, e := range x {
			if p := findNull(e, path+"."+k); p != "" {
				return p
			}
		}
	case []any:
		for i, e := range x {
			if p := findNull(e, fmt.Sprintf("%s[%d]", path, i)); p != "" {
				return p
			}
		}
	}
	return ""
}

func fileStore(t *testing.T, dir string) state.Store {
	s := state.NewFile(dir, state.FileOptions{})
	t.Cleanup(func() { s.Close() })
	return s
}
