// Package client is the typed HTTP client for the By Your Side phone-call API
// (https://api.byourside.ai). It owns everything about talking to that API:
// authentication, request building, response limits and decoding, the mapping
// of failures to *APIError and *TransportError, and the retry policy, which
// never repeats a POST /v1/agent/calls unless the API's answer proves that no
// call was placed (429 rate_limited) or the connection was never established.
// Recordings (recording.go) are streamed from the API's own origin only.
//
// The API key is kept out of every error string and every fmt rendering of the
// values this package defines.
package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/byourside/bys-mcp/internal/clock"
)

// DefaultBaseURL is the production API.
const DefaultBaseURL = "https://api.byourside.ai"

// Version is the program version sent in the User-Agent header as
// "bys-mcp/<Version>". main sets it at start-up.
var Version = "dev"

// Defaults applied by New to zero fields of Options.
const (
	DefaultTimeout          = 15 * time.Second
	DefaultMaxResponseBytes = 4 << 20
	DefaultMaxRetries       = 3
	DefaultRetryBaseDelay   = 250 * time.Millisecond
	DefaultMaxRetryDelay    = 5 * time.Second
	// DefaultReadBudget bounds a whole read (GET) with its retries, so that
	// a read tool call answers within 30 s of its start (hosts commonly
	// give a tool call 60 s) whatever the API does; 2 s are left for the
	// server's own work around the request.
	DefaultReadBudget = 28 * time.Second

	// MaxListLimit is the largest limit the API accepts for ListCalls;
	// larger values are clamped to it.
	MaxListLimit = 100
)

// Route names, as reported to Options.Observer and in errors.
const (
	RoutePlaceCall = "POST /v1/agent/calls"
	RouteGetCall   = "GET /v1/agent/calls/{id}"
	RouteListCalls = "GET /v1/agent/calls"
)

// Options configures a Client. Zero values select the defaults.
type Options struct {
	// BaseURL is the API root, absolute http or https. Default DefaultBaseURL.
	BaseURL string
	// APIKey is the agent key (bys_ak_...). When empty, requests are sent
	// without Authorization and the API answers 401. Options redacts it when
	// printed directly, but fmt cannot redact an Options kept in an
	// unexported field of another struct: keep the Client, not the Options.
	APIKey string
	// HTTPClient is optional. The default is one shared client whose
	// Transport keeps connections alive (MaxIdleConnsPerHost 64) and which
	// does not follow redirects.
	HTTPClient *http.Client
	// Timeout bounds each attempt, including reading the response body.
	// Default 15s.
	Timeout time.Duration
	// MaxResponseBytes caps a response body; a larger one fails with an
	// *APIError whose Token is "response_too_large". Default 4 MiB.
	MaxResponseBytes int64
	// MaxRetries is the number of extra attempts for retryable failures.
	// 0 selects the default (3); a negative value disables retries.
	MaxRetries int
	// RetryBaseDelay is the first backoff delay; later ones double, with
	// jitter, up to MaxRetryDelay. Default 250ms.
	RetryBaseDelay time.Duration
	// MaxRetryDelay caps every wait between attempts, including one asked
	// for by Retry-After. Default 5s.
	MaxRetryDelay time.Duration
	// ReadBudget bounds each GET from its first attempt to its last: the
	// retries share it, and each attempt's timeout is capped by what is
	// left. Default DefaultReadBudget. POSTs are bounded by Timeout and
	// their own retry rule only.
	ReadBudget time.Duration
	// Observer, when set, is called once per HTTP attempt with the method,
	// the route (RoutePlaceCall, RouteGetCall, RouteListCalls or
	// RouteGetRecording, whose duration runs to the answer's headers), the HTTP
	// status (0 when no answer arrived) and the attempt's duration.
	Observer func(method, route string, status int, d time.Duration)
	// Clock tells the time for attempt durations and Retry-After dates
	// (default the wall clock); the server passes its one clock.
	Clock Clock
}

// Clock tells the time.
type Clock interface{ Now() time.Time }

// String redacts the API key.
func (o Options) String() string {
	return fmt.Sprintf("client.Options{BaseURL:%q, APIKey:%s, Timeout:%v, MaxRetries:%d}",
		o.BaseURL, redact(o.APIKey), o.Timeout, o.MaxRetries)
}

// GoString redacts the API key.
func (o Options) GoString() string { return o.String() }

// Format redacts the API key for every verb.
func (o Options) Format(f fmt.State, verb rune) { io.WriteString(f, o.String()) }

// secretKey hides the API key inside a closure: even a reflective print of
// a Client nested in another value (where String and Format are not
// consulted) shows only a function address.
type secretKey func() string

func newSecretKey(key string) secretKey { return func() string { return key } }

func redact(key string) string {
	if key == "" {
		return `""`
	}
	return "[redacted]"
}

// Client talks to the By Your Side API. It is safe for concurrent use.
// Use WithAPIKey to derive a client for another key.
type Client struct {
	clock      Clock
	baseURL    *url.URL
	key        secretKey
	httpClient *http.Client

	timeout    time.Duration
	maxBytes   int64
	maxRetries int
	baseDelay  time.Duration
	maxDelay   time.Duration
	readBudget time.Duration
	observer   func(method, route string, status int, d time.Duration)
	// scope narrows the client to some of its key's calls (WithScope).
	scope Scope
}

var sharedHTTPClient = sync.OnceValue(func() *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConns = 256
	t.MaxIdleConnsPerHost = 64
	t.IdleConnTimeout = 90 * time.Second
	return &http.Client{
		Transport: t,
		// The API never redirects; following one could replay a POST or
		// carry the key elsewhere. A 3xx surfaces as an *APIError.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
})

// New returns a Client. It fails when BaseURL is not an absolute http or
// https URL (user info, query and fragment are refused too).
func New(opts Options) (*Client, error) {
	raw := opts.BaseURL
	if raw == "" {
		raw = DefaultBaseURL
	}
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("bys api: invalid base URL %q: %v", raw, errors.Unwrap(err))
	}
	switch {
	case u.Scheme != "http" && u.Scheme != "https":
		return nil, fmt.Errorf("bys api: invalid base URL %q: scheme must be http or https", raw)
	case u.Host == "" || u.Opaque != "":
		return nil, fmt.Errorf("bys api: invalid base URL %q: must be absolute, like %s", raw, DefaultBaseURL)
	case u.User != nil:
		return nil, fmt.Errorf("bys api: invalid base URL: must not contain user info")
	case u.RawQuery != "" || u.ForceQuery || u.Fragment != "":
		return nil, fmt.Errorf("bys api: invalid base URL %q: must not have a query or fragment", raw)
	}
	if !validKey(opts.APIKey) {
		return nil, errors.New("bys api: invalid API key: contains control characters or spaces")
	}
	u.Path = strings.TrimRight(u.Path, "/")
	u.RawPath = strings.TrimRight(u.RawPath, "/")

	c := &Client{
		baseURL:    u,
		key:        newSecretKey(opts.APIKey),
		httpClient: opts.HTTPClient,
		timeout:    opts.Timeout,
		maxBytes:   opts.MaxResponseBytes,
		maxRetries: opts.MaxRetries,
		baseDelay:  opts.RetryBaseDelay,
		maxDelay:   opts.MaxRetryDelay,
		readBudget: opts.ReadBudget,
		observer:   opts.Observer,
		clock:      clock.Or(opts.Clock),
	}
	if c.httpClient == nil {
		c.httpClient = sharedHTTPClient()
	}
	if c.timeout <= 0 {
		c.timeout = DefaultTimeout
	}
	if c.maxBytes <= 0 {
		c.maxBytes = DefaultMaxResponseBytes
	}
	switch {
	case c.maxRetries == 0:
		c.maxRetries = DefaultMaxRetries
	case c.maxRetries < 0:
		c.maxRetries = 0
	}
	if c.baseDelay <= 0 {
		c.baseDelay = DefaultRetryBaseDelay
	}
	if c.maxDelay <= 0 {
		c.maxDelay = DefaultMaxRetryDelay
	}
	if c.readBudget <= 0 {
		c.readBudget = DefaultReadBudget
	}
	return c, nil
}

// WithAPIKey returns a shallow copy of c that sends key instead. The copy
// shares c's transport and settings, so it is cheap enough to make per request.
func (c *Client) WithAPIKey(key string) *Client {
	c2 := *c
	c2.key = newSecretKey(key)
	return &c2
}

// BaseURL returns the API root the client sends requests to.
func (c *Client) BaseURL() string { return c.baseURL.String() }

// String describes the client without its API key.
func (c Client) String() string {
	key := ""
	if c.key != nil {
		key = c.key()
	}
	base := ""
	if c.baseURL != nil {
		base = c.baseURL.String()
	}
	return fmt.Sprintf("client.Client{BaseURL:%q, APIKey:%s}", base, redact(key))
}

// GoString describes the client without its API key.
func (c Client) GoString() string { return c.String() }

// Format describes the client without its API key, for every verb.
func (c Client) Format(f fmt.State, verb rune) { io.WriteString(f, c.String()) }

// PlaceCall places a call (POST /v1/agent/calls). The call runs
// asynchronously; follow it with GetCall. The request is retried only after
// 429 rate_limited or a failure to connect, never after a 5xx, a timeout or a
// broken connection; check MayHavePlaced / MayHaveReachedAPI on the error.
func (c *Client) PlaceCall(ctx context.Context, req *PlaceCallRequest) (*PlaceCallResponse, error) {
	if req == nil {
		return nil, errors.New("bys api: PlaceCall: nil request")
	}
	r, err := c.newRequest(http.MethodPost, RoutePlaceCall, "/v1/agent/calls", req)
	if err != nil {
		return nil, err
	}
	resp := new(PlaceCallResponse)
	status, err := c.do(ctx, r, resp)
	if err != nil {
		return nil, err
	}
	if resp.CallID == "" {
		return nil, c.unexpected(r, status)
	}
	if c.scope != nil {
		c.scope.Placed(ctx, resp.CallID)
	}
	return resp, nil
}

// GetCall fetches one call record (GET /v1/agent/calls/{id}). A call that
// does not exist or belongs to another key gives an error for which
// IsNotFound is true.
func (c *Client) GetCall(ctx context.Context, id string) (*Call, error) {
	if id == "" || id == "." || id == ".." {
		return nil, fmt.Errorf("bys api: GetCall: invalid call id %q", id)
	}
	r, err := c.newRequest(http.MethodGet, RouteGetCall, "/v1/agent/calls/"+url.PathEscape(id), nil)
	if err != nil {
		return nil, err
	}
	if err := c.inScope(ctx, id); err != nil {
		return nil, err
	}
	call := new(Call)
	if _, err := c.do(ctx, r, call); err != nil {
		return nil, err
	}
	return call, nil
}

// ListCalls returns recent calls, most recent first (GET /v1/agent/calls).
// opts may be nil; a Limit of 0 lets the API choose (20), a Limit above
// MaxListLimit is clamped to it, and a negative Limit is an error.
func (c *Client) ListCalls(ctx context.Context, opts *ListOptions) ([]*Call, error) {
	path := "/v1/agent/calls"
	limit := 0
	if opts != nil {
		limit = opts.Limit
	}
	if limit < 0 {
		return nil, fmt.Errorf("bys api: ListCalls: negative limit %d", limit)
	}
	if c.scope != nil {
		path += "?limit=" + strconv.Itoa(MaxListLimit)
	} else if limit != 0 {
		path += "?limit=" + strconv.Itoa(min(limit, MaxListLimit))
	}
	r, err := c.newRequest(http.MethodGet, RouteListCalls, path, nil)
	if err != nil {
		return nil, err
	}
	var body struct {
		Calls *[]*Call `json:"calls"`
	}
	status, err := c.do(ctx, r, &body)
	if err != nil {
		return nil, err
	}
	if body.Calls == nil {
		return nil, c.unexpected(r, status)
	}
	calls := *body.Calls
	for _, call := range calls {
		if call == nil {
			return nil, c.unexpected(r, status)
		}
	}
	if c.scope != nil {
		return c.scopeList(ctx, calls, min(limit, MaxListLimit))
	}
	return calls, nil
}

// ListOptions are the query parameters of ListCalls.
type ListOptions struct {
	// Limit is the maximum number of calls; 0 omits the parameter (API
	// default 20).
	Limit int
}

// request is one API request, rebuilt into an *http.Request per attempt.
type request struct {
	method string
	route  string
	url    string
	body   []byte // nil when the request has no body
}

// newRequest builds a request for path (relative to the base URL, starting
// with "/", already escaped). A non-nil body is sent as JSON.
func (c *Client) newRequest(method, route, path string, body any) (*request, error) {
	if !validKey(c.key()) {
		// Only reachable through WithAPIKey; New refuses such keys.
		return nil, fmt.Errorf("bys api: %s: invalid API key: contains control characters or spaces", route)
	}
	r := &request{method: method, route: route, url: c.baseURL.String() + path}
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return nil, fmt.Errorf("bys api: %s: encoding request: %w", route, err)
		}
		r.body = b
	}
	return r, nil
}

// do sends r, retrying as the policy allows, and decodes a 2xx JSON object
// body into v. It returns the last HTTP status seen (0 if none) and nil, an
// *APIError or a *TransportError.
//
// A GET's attempts share one budget (readBudget from the first attempt):
// each attempt's timeout is capped by what is left of it, and no retry starts
// once the wait before it would reach the end of the budget.
func (c *Client) do(ctx context.Context, r *request, v any) (int, error) {
	// The budget is real time (a context deadline), like the attempts'
	// own time-outs.
	budget := context.Background()
	if r.method == http.MethodGet {
		var cancel context.CancelFunc
		budget, cancel = context.WithTimeout(budget, c.readBudget)
		defer cancel()
	}
	for attempt := 0; ; attempt++ {
		timeout := c.timeout
		if left, ok := clock.Left(budget); ok {
			timeout = min(timeout, left)
		}
		status, err := c.attempt(ctx, r, v, timeout)
		if err == nil {
			return status, nil
		}
		if attempt >= c.maxRetries || ctx.Err() != nil || !retryInPlace(r.method, err) {
			return status, err
		}
		delay := c.backoff(attempt, err)
		if left, ok := clock.Left(ctx); ok && left < delay {
			return status, err
		}
		// A retry needs time for its own attempt too.
		if left, ok := clock.Left(budget); ok && left < delay+min(time.Second, c.readBudget/10) {
			return status, err
		}
		t := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			t.Stop()
			return status, err
		case <-t.C:
		}
	}
}

// attempt performs one HTTP exchange, including reading the body, within
// timeout.
func (c *Client) attempt(ctx context.Context, r *request, v any, timeout time.Duration) (status int, err error) {
	actx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()

	var body io.Reader
	if r.body != nil {
		body = bytes.NewReader(r.body)
	}
	hreq, err := http.NewRequestWithContext(actx, r.method, r.url, body)
	if err != nil {
		// Only a malformed URL gets here (e.g. a bad escape): nothing was sent.
		return 0, &TransportError{Method: r.method, Route: r.route, Token: TokenConnectionFailed, Err: err}
	}
	hreq.Header.Set("Accept", "application/json")
	hreq.Header.Set("User-Agent", "bys-mcp/"+Version)
	if r.body != nil {
		hreq.Header.Set("Content-Type", "application/json")
	}
	if key := c.key(); key != "" {
		hreq.Header.Set("Authorization", "Bearer "+key)
	}

	start := c.clock.Now()
	defer func() {
		if c.observer != nil {
			c.observer(r.method, r.route, status, clock.Since(c.clock, start))
		}
	}()

	resp, err := c.httpClient.Do(hreq)
	if err != nil {
		return 0, c.transportError(ctx, actx, r, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, c.maxBytes+1))
	if err != nil {
		return 0, c.transportError(ctx, actx, r, err)
	}
	status = resp.StatusCode
	if int64(len(data)) > c.maxBytes {
		// Not drained: the connection is dropped rather than read further.
		e := c.apiError(r, resp, TokenResponseTooLarge)
		e.MayHavePlaced = r.method == http.MethodPost
		return status, e
	}

	if status < 200 || status > 299 {
		return status, c.apiError(r, resp, errorToken(data))
	}
	if v != nil {
		if !isJSONObject(data) || decodeBody(data, v) != nil {
			return status, c.unexpected(r, status)
		}
	}
	return status, nil
}

// decodeBody decodes a response body into v. A *Call is decoded in one
// pass and keeps the body (which it then owns) as its Raw record.
func decodeBody(data []byte, v any) error {
	if call, ok := v.(*Call); ok {
		var f callFields
		if err := json.Unmarshal(data, &f); err != nil {
			return err
		}
		*call = Call(f)
		call.Raw = data
		return nil
	}
	return json.Unmarshal(data, v)
}

func (c *Client) apiError(r *request, resp *http.Response, token string) *APIError {
	e := &APIError{
		HTTPStatus: resp.StatusCode,
		Token:      token,
		Method:     r.method,
		Route:      r.route,
		RetryAfter: parseRetryAfter(resp.Header.Get("Retry-After"), c.clock.Now()),
	}
	if r.method == http.MethodPost && (resp.StatusCode >= 500 || token == TokenUnexpectedResponse) {
		e.MayHavePlaced = true
	}
	return e
}

// unexpected is the error for a 2xx answer whose body is not what the route
// promises.
func (c *Client) unexpected(r *request, status int) *APIError {
	return &APIError{
		HTTPStatus:    status,
		Token:         TokenUnexpectedResponse,
		Method:        r.method,
		Route:         r.route,
		MayHavePlaced: r.method == http.MethodPost,
	}
}

func (c *Client) transportError(ctx, actx context.Context, r *request, err error) *TransportError {
	e := &TransportError{Method: r.method, Route: r.route, Err: err, MayHaveReachedAPI: !isDialError(err)}
	var ne net.Error
	switch {
	case ctx.Err() != nil:
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			e.Token = TokenTimeout
		} else {
			e.Token = TokenCanceled
		}
		if !errors.Is(err, ctx.Err()) {
			e.Err = fmt.Errorf("%w: %w", ctx.Err(), err)
		}
	case !e.MayHaveReachedAPI:
		e.Token = TokenConnectionFailed
	case actx.Err() != nil, errors.Is(err, context.DeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		e.Token = TokenTimeout
	default:
		e.Token = TokenConnectionLost
	}
	return e
}

// isDialError reports whether err proves the connection was never
// established, so that no byte of the request reached the API.
func isDialError(err error) bool {
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) {
		return true
	}
	var opErr *net.OpError
	return errors.As(err, &opErr) && opErr.Op == "dial"
}

// retryInPlace is the client's own retry policy: GETs after 429, 502, 503,
// 504 and transport failures; a POST only after 429 rate_limited or a
// connection that was never established.
func retryInPlace(method string, err error) bool {
	var ae *APIError
	if errors.As(err, &ae) {
		if ae.HTTPStatus == http.StatusTooManyRequests {
			return method == http.MethodGet || ae.Token == TokenRateLimited
		}
		switch ae.HTTPStatus {
		case http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
			return method == http.MethodGet
		}
		return false
	}
	var te *TransportError
	if errors.As(err, &te) {
		if te.Token == TokenCanceled {
			return false
		}
		return method == http.MethodGet || !te.MayHaveReachedAPI
	}
	return false
}

// backoff is the wait before retry number attempt+1: the Retry-After the API
// asked for if any, else jittered exponential backoff; capped at maxDelay.
func (c *Client) backoff(attempt int, err error) time.Duration {
	var ae *APIError
	if errors.As(err, &ae) && ae.RetryAfter > 0 {
		return min(ae.RetryAfter, c.maxDelay)
	}
	d := c.baseDelay
	for i := 0; i < attempt && d < c.maxDelay; i++ {
		d *= 2
	}
	d = min(d, c.maxDelay)
	// Equal jitter: between d/2 and d.
	half := d / 2
	return half + rand.N(half+1)
}

// parseRetryAfter reads Retry-After as delta-seconds or an HTTP date.
func parseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	const maxSeconds = 24 * 60 * 60
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		if n <= 0 {
			return 0
		}
		return time.Duration(min(n, maxSeconds)) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		d := t.Sub(now)
		if d <= 0 {
			return 0
		}
		return min(d, maxSeconds*time.Second)
	}
	return 0
}

// errorToken extracts the API's {"error":"token"}, or TokenUnexpectedResponse
// when the body is anything else (HTML from a proxy, empty, malformed, or a
// "token" that does not look like one).
func errorToken(data []byte) string {
	var body struct {
		Error *string `json:"error"`
	}
	if !isJSONObject(data) || json.Unmarshal(data, &body) != nil || body.Error == nil || !isToken(*body.Error) {
		return TokenUnexpectedResponse
	}
	return *body.Error
}

func isToken(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for _, r := range s {
		ok := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '-' || r == '.' || r == ':'
		if !ok {
			return false
		}
	}
	return true
}

// validKey reports whether key can be sent in a header as is.
func validKey(key string) bool {
	for i := 0; i < len(key); i++ {
		if b := key[i]; b <= ' ' || b == 0x7f {
			return false
		}
	}
	return true
}

func isJSONObject(data []byte) bool {
	data = bytes.TrimLeft(data, " \t\r\n")
	return len(data) > 0 && data[0] == '{'
}
