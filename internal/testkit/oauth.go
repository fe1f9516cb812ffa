package testkit

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/auth"
	sdk "github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/modelcontextprotocol/go-sdk/oauthex"
	"golang.org/x/oauth2"
)

// The sign-in of a remote host against a server running with --oauth,
// driven from outside with the official Go SDK's client auth
// (auth.AuthorizationCodeHandler: metadata discovery, DCR, PKCE, resource,
// iss, refresh, step-up) and a small Go HTTP client playing the person's
// browser on the consent page.

var hiddenInput = regexp.MustCompile(`<input type="hidden" name="([a-z]+)" value="([^"]*)">`)

// Person is the person at the browser: what they type on the consent page.
type Person struct {
	Key   string // the agent key typed on the page; "" keeps the sandbox
	Write bool   // leave "Allow placing calls" ticked (change it with SetWrite once in use)
	// Transport, when set, carries the browser's requests (a proxy's CA,
	// a dialer for its name); nil is http.DefaultTransport.
	Transport http.RoundTripper

	mu    sync.Mutex
	pages int    // consent pages filled
	lastQ string // the last authorization URL's query
}

// SetWrite changes whether the person allows placing calls from now on.
func (p *Person) SetWrite(write bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.Write = write
}

// Pages is how many consent pages the person has filled.
func (p *Person) Pages() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.pages
}

// LastQuery is the query of the last authorization URL the person opened.
func (p *Person) LastQuery() url.Values {
	p.mu.Lock()
	defer p.mu.Unlock()
	q, _ := url.ParseQuery(p.lastQ)
	return q
}

// Fill opens the authorization URL, reads the consent form and approves
// it, and returns the code, state and iss the browser is sent back with.
func (p *Person) Fill(ctx context.Context, authURL string) (url.Values, error) {
	jar, _ := cookiejar.New(nil)
	browser := &http.Client{Jar: jar, Transport: p.Transport, Timeout: 10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, authURL, nil)
	resp, err := browser.Do(req)
	if err != nil {
		return nil, err
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("consent page: %d %s", resp.StatusCode, page)
	}
	for _, want := range []string{`type="password"`, "frame-ancestors 'none'"} {
		if !strings.Contains(string(page), want) && !strings.Contains(resp.Header.Get("Content-Security-Policy"), want) {
			return nil, fmt.Errorf("consent page lacks %q", want)
		}
	}
	form := url.Values{"action": {"approve"}, "key": {p.Key}}
	for _, m := range hiddenInput.FindAllStringSubmatch(string(page), -1) {
		form.Set(m[1], m[2])
	}
	p.mu.Lock()
	write := p.Write
	p.pages++
	if u, err := url.Parse(authURL); err == nil {
		p.lastQ = u.RawQuery
	}
	p.mu.Unlock()
	if write && strings.Contains(string(page), `name="write"`) {
		form.Set("write", "1")
	}
	u, _ := url.Parse(authURL)
	action := u.Scheme + "://" + u.Host + "/authorize"
	req, _ = http.NewRequestWithContext(ctx, http.MethodPost, action, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", u.Scheme+"://"+u.Host)
	resp, err = browser.Do(req)
	if err != nil {
		return nil, err
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	loc, err := url.Parse(resp.Header.Get("Location"))
	if resp.StatusCode != http.StatusSeeOther || err != nil {
		return nil, fmt.Errorf("consent answer: %d %s", resp.StatusCode, body)
	}
	return loc.Query(), nil
}

// Fetcher is an auth.AuthorizationCodeFetcher: the person fills the page.
func (p *Person) Fetcher(ctx context.Context, args *auth.AuthorizationArgs) (*auth.AuthorizationResult, error) {
	q, err := p.Fill(ctx, args.URL)
	if err != nil {
		return nil, err
	}
	if e := q.Get("error"); e != "" {
		return nil, errors.New("authorization refused: " + e)
	}
	return &auth.AuthorizationResult{Code: q.Get("code"), State: q.Get("state"), Iss: q.Get("iss")}, nil
}

// SignedIn is an SDK client session signed in through OAuth.
type SignedIn struct {
	Session *sdk.ClientSession
	Handler *auth.AuthorizationCodeHandler
	Person  *Person
	// First is the token the code exchange returned (before any refresh).
	First *oauth2.Token
}

// ClientID is the client id the SDK registered (read from the
// authorization URL the person opened).
func (c *SignedIn) ClientID(tb testing.TB) string {
	tb.Helper()
	id := c.Person.LastQuery().Get("client_id")
	if id == "" {
		tb.Fatal("no authorization URL seen")
	}
	return id
}

// Token is the SDK's current token (refreshed when it has expired).
func (c *SignedIn) Token(tb testing.TB) *oauth2.Token {
	tb.Helper()
	ts, err := c.Handler.TokenSource(context.Background())
	if err != nil || ts == nil {
		tb.Fatalf("token source: %v", err)
	}
	tok, err := ts.Token()
	if err != nil {
		tb.Fatal(err)
	}
	return tok
}

// SignInOptions adjust SignIn.
type SignInOptions struct {
	// ExpireFirst makes the first token look expired, so that the SDK
	// refreshes it before using it.
	ExpireFirst bool
	// Version is the protocol version asked for ("" for the SDK's latest,
	// with no standalone GET stream); a 2025-11-25 session also opens its
	// GET stream with the token.
	Version string
	// HTTPClient carries the SDK's requests (metadata, registration,
	// tokens and MCP); nil is a plain client with a 10 s time limit.
	HTTPClient *http.Client
	// Client is the SDK client's options (handlers of notifications); nil
	// is none.
	Client *sdk.ClientOptions
}

// SignIn connects the SDK to endpoint with OAuth: the first request gets
// 401, the SDK discovers the metadata, registers (DCR, a public client
// with a loopback redirect URI), sends the person to the consent page and
// exchanges the code. The session closes when the test ends.
func SignIn(tb testing.TB, endpoint string, p *Person, o SignInOptions) *SignedIn {
	tb.Helper()
	c := &SignedIn{Person: p}
	hc := o.HTTPClient
	if hc == nil {
		hc = &http.Client{Timeout: 10 * time.Second}
	}
	redirect := "http://127.0.0.1:49152/callback"
	cfg := &auth.AuthorizationCodeHandlerConfig{
		DynamicClientRegistrationConfig: &auth.DynamicClientRegistrationConfig{Metadata: &oauthex.ClientRegistrationMetadata{
			RedirectURIs: []string{redirect}, ClientName: "bys-mcp e2e", GrantTypes: []string{"authorization_code", "refresh_token"},
			TokenEndpointAuthMethod: "none",
		}},
		RedirectURL:              redirect,
		AuthorizationCodeFetcher: p.Fetcher,
		Client:                   hc,
		NewTokenSource: func(ctx context.Context, cfg *oauth2.Config, tok *oauth2.Token) (oauth2.TokenSource, error) {
			first := *tok
			c.First = &first
			if o.ExpireFirst {
				tok.Expiry = time.Now().Add(-time.Minute)
			}
			// (ctx carries hc for the refreshes.)
			return cfg.TokenSource(ctx, tok), nil
		},
	}
	h, err := auth.NewAuthorizationCodeHandler(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	c.Handler = h
	tr := &sdk.StreamableClientTransport{Endpoint: endpoint, OAuthHandler: h, MaxRetries: -1, DisableStandaloneSSE: o.Version == ""}
	if o.HTTPClient != nil {
		tr.HTTPClient = o.HTTPClient
	}
	ctx, cancel := context.WithCancel(context.Background())
	tb.Cleanup(cancel)
	var opts *sdk.ClientSessionOptions
	if o.Version != "" {
		opts = &sdk.ClientSessionOptions{ProtocolVersion: o.Version}
	}
	cs, err := sdk.NewClient(&sdk.Implementation{Name: "bys-mcp-e2e-oauth", Version: "1.0.0"}, o.Client).Connect(ctx, tr, opts)
	if err != nil {
		tb.Fatalf("connect with OAuth: %v", err)
	}
	tb.Cleanup(func() { _ = cs.Close() })
	c.Session = cs
	return c
}

// BearerSession connects a plain SDK client that sends token as its bearer
// token, through base (nil: http.DefaultTransport), asking for protocol
// version ("" for the SDK's latest, with no standalone GET stream). The
// session closes when the test ends.
func BearerSession(tb testing.TB, endpoint, token string, base http.RoundTripper, version string) (*sdk.ClientSession, error) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if base == nil {
		base = http.DefaultTransport
	}
	hc := &http.Client{Transport: bearerTransport{token: token, base: base}}
	tr := &sdk.StreamableClientTransport{Endpoint: endpoint, HTTPClient: hc, MaxRetries: -1, DisableStandaloneSSE: version == ""}
	var opts *sdk.ClientSessionOptions
	if version != "" {
		opts = &sdk.ClientSessionOptions{ProtocolVersion: version}
	}
	cs, err := sdk.NewClient(&sdk.Implementation{Name: "bys-mcp-e2e-bearer", Version: "1.0.0"}, nil).Connect(ctx, tr, opts)
	if err == nil {
		tb.Cleanup(func() { _ = cs.Close() })
	}
	return cs, err
}

// bearerTransport adds Authorization: Bearer <token> to every request.
type bearerTransport struct {
	token string
	base  http.RoundTripper
}

func (b bearerTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Bearer "+b.token)
	return b.base.RoundTrip(r)
}
