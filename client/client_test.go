package client

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

const testKey = "bys_ak_TESTSECRET_0123456789"

// setup starts a server whose API lives under /prefix, and a client pointed
// at it with fast retry settings. Requests outside /prefix fail the test.
func setup(t *testing.T, opts Options) (*Client, *http.ServeMux) {
	t.Helper()
	mux := http.NewServeMux()
	outer := http.NewServeMux()
	outer.Handle("/prefix/", http.StripPrefix("/prefix", mux))
	outer.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		t.Errorf("request outside the base URL: %s %s", r.Method, r.URL)
		http.Error(w, "wrong path", http.StatusTeapot)
	})
	srv := httptest.NewServer(outer)
	t.Cleanup(srv.Close)

	opts.BaseURL = srv.URL + "/prefix"
	if opts.APIKey == "" {
		opts.APIKey = testKey
	}
	if opts.RetryBaseDelay == 0 {
		opts.RetryBaseDelay = time.Millisecond
	}
	if opts.MaxRetryDelay == 0 {
		opts.MaxRetryDelay = 20 * time.Millisecond
	}
	if opts.Timeout == 0 {
		opts.Timeout = 2 * time.Second
	}
	c, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	return c, mux
}

func testHeader(t *testing.T, r *http.Request, name, want string) {
	t.Helper()
	if got := r.Header.Get(name); got != want {
		t.Errorf("header %s = %q, want %q", name, got, want)
	}
}

func TestPlaceCall(t *testing.T) {
	c, mux := setup(t, Options{})
	mux.HandleFunc("/v1/agent/calls", func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			t.Errorf("method = %s, want POST", r.Method)
		}
		testHeader(t, r, "Authorization", "Bearer "+testKey)
		testHeader(t, r, "User-Agent", "bys-mcp/"+Version)
		testHeader(t, r, "Accept", "application/json")
		testHeader(t, r, "Content-Type", "application/json")
		body, _ := io.ReadAll(r.Body)
		want := `{"to":"+14155550123","objective":"Book a table","context":"window seat",` +
			`"fields":[{"name":"booked","type":"boolean","description":"Booked?"},{"name":"time"}],` +
			`"webhookUrl":"https://example.com/hook","callerId":"+12134932550"}`
		if string(body) != want {
			t.Errorf("body = %s\nwant   %s", body, want)
		}
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"callId":"f47ac10b","status":"queued"}`)
	})
	got, err := c.PlaceCall(context.Background(), &PlaceCallRequest{
		To:         "+14155550123",
		Objective:  "Book a table",
		Context:    "window seat",
		Fields:     []Field{{Name: "booked", Type: "boolean", Description: "Booked?"}, {Name: "time"}},
		WebhookURL: "https://example.com/hook",
		CallerID:   "+12134932550",
	})
	if err != nil {
		t.Fatal(err)
	}
	if want := (&PlaceCallResponse{CallID: "f47ac10b", Status: "queued"}); !reflect.DeepEqual(got, want) {
		t.Errorf("PlaceCall = %+v, want %+v", got, want)
	}
}

func TestPlaceCallOmitsOptionalFields(t *testing.T) {
	c, mux := setup(t, Options{})
	mux.HandleFunc("POST /v1/agent/calls", func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if want := `{"to":"+14155550123","objective":"Ask"}`; string(body) != want {
			t.Errorf("body = %s, want %s", body, want)
		}
		if strings.Contains(string(body), "null") || strings.Contains(string(body), `""`) {
			t.Errorf("body has null or empty strings: %s", body)
		}
		io.WriteString(w, `{"callId":"x","status":"queued"}`)
	})
	if _, err := c.PlaceCall(context.Background(), &PlaceCallRequest{To: "+14155550123", Objective: "Ask"}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.PlaceCall(context.Background(), nil); err == nil {
		t.Error("PlaceCall(nil) succeeded")
	}
}

func TestGetCall(t *testing.T) {
	c, mux := setup(t, Options{})
	mux.HandleFunc("/v1/agent/calls/", func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet {
			t.Errorf("method = %s, want GET", r.Method)
		}
		if got, want := r.URL.EscapedPath(), "/v1/agent/calls/a%2Fb%20c%3F"; got != want {
			t.Errorf("path = %s, want %s", got, want)
		}
		if r.URL.RawQuery != "" {
			t.Errorf("query = %q, want none", r.URL.RawQuery)
		}
		testHeader(t, r, "Authorization", "Bearer "+testKey)
		testHeader(t, r, "User-Agent", "bys-mcp/"+Version)
		testHeader(t, r, "Accept", "application/json")
		testHeader(t, r, "Content-Type", "")
		io.WriteString(w, `{"id":"a/b c?","status":"completed","to":"+14155550123","objective":"o",`+
			`"summary":"done","extracted":{"booked":true},"durationSec":156,"error":null}`)
	})
	call, err := c.GetCall(context.Background(), "a/b c?")
	if err != nil {
		t.Fatal(err)
	}
	if call.ID != "a/b c?" || call.Status != StatusCompleted || *call.Summary != "done" ||
		*call.DurationSec != 156 || call.Error != nil || call.Extracted["booked"] != true || !call.Terminal() {
		t.Errorf("GetCall = %+v", call)
	}

	for _, id := range []string{"", ".", ".."} {
		if _, err := c.GetCall(context.Background(), id); err == nil {
			t.Errorf("GetCall(%q) succeeded", id)
		}
	}
}

func TestListCalls(t *testing.T) {
	tests := []struct {
		name      string
		opts      *ListOptions
		wantQuery string
	}{
		{"nil options omit limit", nil, ""},
		{"zero limit is omitted", &ListOptions{}, ""},
		{"limit is sent", &ListOptions{Limit: 5}, "limit=5"},
		{"limit above 100 is clamped", &ListOptions{Limit: 500}, "limit=100"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, mux := setup(t, Options{})
			mux.HandleFunc("/v1/agent/calls", func(w http.ResponseWriter, r *http.Request) {
				if r.Method != http.MethodGet {
					t.Errorf("method = %s, want GET", r.Method)
				}
				if r.URL.RawQuery != tt.wantQuery {
					t.Errorf("query = %q, want %q", r.URL.RawQuery, tt.wantQuery)
				}
				testHeader(t, r, "Authorization", "Bearer "+testKey)
				io.WriteString(w, `{"calls":[{"id":"2","status":"queued","sentiment":"positive"},{"id":"1","status":"failed","error":"carrier"}]}`)
			})
			calls, err := c.ListCalls(context.Background(), tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			if len(calls) != 2 || calls[0].ID != "2" || calls[1].ID != "1" || *calls[1].Error != "carrier" {
				t.Fatalf("ListCalls = %+v", calls)
			}
			if got := string(calls[0].Raw); got != `{"id":"2","status":"queued","sentiment":"positive"}` {
				t.Errorf("Raw = %s", got)
			}
		})
	}
	c, _ := setup(t, Options{})
	if _, err := c.ListCalls(context.Background(), &ListOptions{Limit: -1}); err == nil {
		t.Error("negative limit accepted")
	}
}

func TestEmptyAPIKeySendsNoAuthorization(t *testing.T) {
	c, mux := setup(t, Options{})
	c = c.WithAPIKey("")
	mux.HandleFunc("GET /v1/agent/calls", func(w http.ResponseWriter, r *http.Request) {
		if _, ok := r.Header["Authorization"]; ok {
			t.Errorf("Authorization sent: %q", r.Header.Get("Authorization"))
		}
		w.WriteHeader(http.StatusUnauthorized)
		io.WriteString(w, `{"error":"unauthorized"}`)
	})
	_, err := c.ListCalls(context.Background(), nil)
	var ae *APIError
	if !errors.As(err, &ae) || ae.HTTPStatus != 401 || ae.Token != "unauthorized" {
		t.Fatalf("err = %v, want 401 unauthorized", err)
	}
}

func TestWithAPIKey(t *testing.T) {
	c, mux := setup(t, Options{})
	var got []string
	var mu sync.Mutex
	mux.HandleFunc("GET /v1/agent/calls", func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		got = append(got, r.Header.Get("Authorization"))
		mu.Unlock()
		io.WriteString(w, `{"calls":[]}`)
	})
	other := c.WithAPIKey("bys_ak_other")
	if other.httpClient != c.httpClient || other.BaseURL() != c.BaseURL() {
		t.Error("WithAPIKey does not share transport and base URL")
	}
	for _, cl := range []*Client{other, c} {
		if _, err := cl.ListCalls(context.Background(), nil); err != nil {
			t.Fatal(err)
		}
	}
	if want := []string{"Bearer bys_ak_other", "Bearer " + testKey}; !reflect.DeepEqual(got, want) {
		t.Errorf("Authorization headers = %q, want %q", got, want)
	}
}

func TestNew(t *testing.T) {
	tests := []struct {
		base    string
		wantErr bool
		want    string
	}{
		{"", false, DefaultBaseURL},
		{"https://api.byourside.ai/", false, DefaultBaseURL},
		{"http://127.0.0.1:8090/api/", false, "http://127.0.0.1:8090/api"},
		{"api.byourside.ai", true, ""},
		{"/v1", true, ""},
		{"ftp://api.byourside.ai", true, ""},
		{"https://", true, ""},
		{"https://user:pw@api.byourside.ai", true, ""},
		{"https://api.byourside.ai?x=1", true, ""},
		{"https://api.byourside.ai/#frag", true, ""},
		{"https://api.byourside.ai/%zz", true, ""},
		{"mailto:a@b.c", true, ""},
	}
	for _, tt := range tests {
		c, err := New(Options{BaseURL: tt.base, APIKey: testKey})
		if (err != nil) != tt.wantErr {
			t.Errorf("New(%q) err = %v, wantErr %v", tt.base, err, tt.wantErr)
			continue
		}
		if err != nil {
			if strings.Contains(err.Error(), "pw") {
				t.Errorf("New(%q) error leaks the password: %v", tt.base, err)
			}
			continue
		}
		if c.BaseURL() != tt.want {
			t.Errorf("New(%q).BaseURL() = %q, want %q", tt.base, c.BaseURL(), tt.want)
		}
	}
	c, _ := New(Options{})
	if c.timeout != DefaultTimeout || c.maxBytes != DefaultMaxResponseBytes || c.maxRetries != DefaultMaxRetries ||
		c.baseDelay != DefaultRetryBaseDelay || c.maxDelay != DefaultMaxRetryDelay || c.httpClient != sharedHTTPClient() {
		t.Errorf("defaults not applied: %+v", *c)
	}
	if c, _ := New(Options{MaxRetries: -1}); c.maxRetries != 0 {
		t.Errorf("MaxRetries -1 gives %d retries", c.maxRetries)
	}
	if tr := sharedHTTPClient().Transport.(*http.Transport); tr.MaxIdleConnsPerHost != 64 {
		t.Errorf("MaxIdleConnsPerHost = %d", tr.MaxIdleConnsPerHost)
	}
}

type reply struct {
	status int
	header map[string]string
	body   string
}

// TestFailures covers the error mapping and the retry policy: how many
// attempts each answer causes and which error comes back.
func TestFailures(t *testing.T) {
	const html = "<html><body><h1>502 Bad Gateway</h1></body></html>"
	ok := reply{200, nil, `{"callId":"c1","status":"queued","id":"c1","calls":[]}`}
	tests := []struct {
		name       string
		method     string // POST (PlaceCall), GET (GetCall) or LIST (ListCalls)
		replies    []reply
		wantCount  int
		wantStatus int    // 0: success expected
		wantToken  string // of the APIError
		wantPlaced bool
		wantRetry  bool // Retryable(err)
	}{
		{"POST is retried after 429 rate_limited", "POST",
			[]reply{{429, nil, `{"error":"rate_limited"}`}, ok}, 2, 0, "", false, false},
		{"POST is not retried after 429 over_minute_cap", "POST",
			[]reply{{429, nil, `{"error":"over_minute_cap"}`}, ok}, 1, 429, "over_minute_cap", false, false},
		{"POST gives up after MaxRetries 429s", "POST",
			[]reply{{429, nil, `{"error":"rate_limited"}`}}, 3, 429, "rate_limited", false, true},
		{"POST is not retried after 400", "POST",
			[]reply{{400, nil, `{"error":"destination_blocked"}`}, ok}, 1, 400, "destination_blocked", false, false},
		{"POST is not retried after 502 JSON", "POST",
			[]reply{{502, nil, `{"error":"placement_failed"}`}, ok}, 1, 502, "placement_failed", true, false},
		{"POST is not retried after 503 JSON", "POST",
			[]reply{{503, nil, `{"error":"store_error"}`}, ok}, 1, 503, "store_error", true, false},
		{"POST is not retried after 500 JSON", "POST",
			[]reply{{500, nil, `{"error":"internal"}`}, ok}, 1, 500, "internal", true, false},
		{"POST is not retried after 502 HTML", "POST",
			[]reply{{502, map[string]string{"Content-Type": "text/html"}, html}, ok}, 1, 502, "unexpected_response", true, false},
		{"POST is not retried after 503 empty", "POST",
			[]reply{{503, nil, ""}, ok}, 1, 503, "unexpected_response", true, false},
		{"POST is not retried after 500 empty", "POST",
			[]reply{{500, nil, ""}, ok}, 1, 500, "unexpected_response", true, false},
		{"POST 200 with malformed JSON may have placed", "POST",
			[]reply{{200, nil, `{"callId":`}, ok}, 1, 200, "unexpected_response", true, false},
		{"POST 200 without callId may have placed", "POST",
			[]reply{{200, nil, `{"status":"queued"}`}, ok}, 1, 200, "unexpected_response", true, false},
		{"POST 200 HTML may have placed", "POST",
			[]reply{{200, nil, html}, ok}, 1, 200, "unexpected_response", true, false},
		{"POST is not retried after an oversized body", "POST",
			[]reply{{200, nil, `{"callId":"` + strings.Repeat("x", 2000) + `"}`}, ok}, 1, 200, "response_too_large", true, false},
		{"POST redirect is not followed", "POST",
			[]reply{{307, map[string]string{"Location": "/elsewhere"}, ""}, ok}, 1, 307, "unexpected_response", true, false},
		{"GET is retried after 503", "GET",
			[]reply{{503, nil, `{"error":"store_error"}`}, ok}, 2, 0, "", false, false},
		{"GET is retried after 502 HTML", "GET",
			[]reply{{502, nil, html}, ok}, 2, 0, "", false, false},
		{"GET is retried after 429", "GET",
			[]reply{{429, nil, `{"error":"rate_limited"}`}, ok}, 2, 0, "", false, false},
		{"GET gives up after MaxRetries", "GET",
			[]reply{{503, nil, `{"error":"store_error"}`}}, 3, 503, "store_error", false, true},
		{"GET is not retried after 500", "GET",
			[]reply{{500, nil, `{"error":"internal"}`}, ok}, 1, 500, "internal", false, false},
		{"GET 404 is not found", "GET",
			[]reply{{404, nil, `{"error":"not_found"}`}}, 1, 404, "not_found", false, false},
		{"GET 404 without JSON is still not found", "GET",
			[]reply{{404, nil, "404 page not found\n"}}, 1, 404, "unexpected_response", false, false},
		{"GET 200 malformed JSON is not retried", "GET",
			[]reply{{200, nil, `{"id": 5`}, ok}, 1, 200, "unexpected_response", false, false},
		{"GET 200 wrong type is unexpected", "GET",
			[]reply{{200, nil, `{"id": 5}`}, ok}, 1, 200, "unexpected_response", false, false},
		{"GET 200 array is unexpected", "GET",
			[]reply{{200, nil, `[]`}, ok}, 1, 200, "unexpected_response", false, false},
		{"GET oversized body", "GET",
			[]reply{{200, nil, `{"id":"` + strings.Repeat("x", 2000) + `"}`}}, 1, 200, "response_too_large", false, false},
		{"GET error token that is not a token", "GET",
			[]reply{{400, nil, `{"error":"<script>alert(1)</script>"}`}}, 1, 400, "unexpected_response", false, false},
		{"LIST without calls is unexpected", "LIST",
			[]reply{{200, nil, `{"items":[]}`}}, 1, 200, "unexpected_response", false, false},
		{"LIST with null call is unexpected", "LIST",
			[]reply{{200, nil, `{"calls":[null]}`}}, 1, 200, "unexpected_response", false, false},
		{"LIST 401", "LIST",
			[]reply{{401, nil, `{"error":"unauthorized"}`}}, 1, 401, "unauthorized", false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var observed atomic.Int32
			c, mux := setup(t, Options{
				MaxRetries:       2,
				MaxResponseBytes: 1000,
				Observer:         func(string, string, int, time.Duration) { observed.Add(1) },
			})
			var count atomic.Int32
			handler := func(w http.ResponseWriter, r *http.Request) {
				n := int(count.Add(1))
				rep := tt.replies[min(n, len(tt.replies))-1]
				for k, v := range rep.header {
					w.Header().Set(k, v)
				}
				w.WriteHeader(rep.status)
				io.WriteString(w, rep.body)
			}
			mux.HandleFunc("/v1/agent/calls", handler)
			mux.HandleFunc("/v1/agent/calls/{id}", handler)

			var err error
			switch tt.method {
			case "POST":
				_, err = c.PlaceCall(context.Background(), &PlaceCallRequest{To: "+14155550123", Objective: "o"})
			case "GET":
				_, err = c.GetCall(context.Background(), "c1")
			case "LIST":
				_, err = c.ListCalls(context.Background(), nil)
			}
			if got := int(count.Load()); got != tt.wantCount {
				t.Errorf("requests = %d, want %d", got, tt.wantCount)
			}
			if got := int(observed.Load()); got != tt.wantCount {
				t.Errorf("observer calls = %d, want %d", got, tt.wantCount)
			}
			if tt.wantStatus == 0 {
				if err != nil {
					t.Fatalf("err = %v, want success", err)
				}
				return
			}
			var ae *APIError
			if !errors.As(err, &ae) {
				t.Fatalf("err = %#v, want *APIError", err)
			}
			if ae.HTTPStatus != tt.wantStatus || ae.Token != tt.wantToken || ae.MayHavePlaced != tt.wantPlaced {
				t.Errorf("err = %+v, want status %d token %s MayHavePlaced %v", ae, tt.wantStatus, tt.wantToken, tt.wantPlaced)
			}
			if got := Retryable(err); got != tt.wantRetry {
				t.Errorf("Retryable = %v, want %v", got, tt.wantRetry)
			}
			if IsNotFound(err) != (tt.wantStatus == 404) {
				t.Errorf("IsNotFound = %v", IsNotFound(err))
			}
			if strings.Contains(err.Error(), testKey) || !strings.Contains(err.Error(), tt.wantToken) {
				t.Errorf("Error() = %q", err.Error())
			}
		})
	}
}

func TestRetryAfter(t *testing.T) {
	t.Run("POST waits for Retry-After", func(t *testing.T) {
		c, mux := setup(t, Options{MaxRetryDelay: 3 * time.Second})
		var count atomic.Int32
		mux.HandleFunc("POST /v1/agent/calls", func(w http.ResponseWriter, r *http.Request) {
			if count.Add(1) == 1 {
				w.Header().Set("Retry-After", "1")
				w.WriteHeader(http.StatusTooManyRequests)
				io.WriteString(w, `{"error":"rate_limited"}`)
				return
			}
			io.WriteString(w, `{"callId":"c1","status":"queued"}`)
		})
		start := time.Now()
		if _, err := c.PlaceCall(context.Background(), &PlaceCallRequest{To: "+1", Objective: "o"}); err != nil {
			t.Fatal(err)
		}
		if elapsed := time.Since(start); elapsed < 950*time.Millisecond {
			t.Errorf("retried after %v, want >= 1s", elapsed)
		}
		if count.Load() != 2 {
			t.Errorf("POSTs = %d, want 2", count.Load())
		}
	})
	t.Run("a long Retry-After is capped at MaxRetryDelay", func(t *testing.T) {
		c, mux := setup(t, Options{MaxRetryDelay: 30 * time.Millisecond})
		var count atomic.Int32
		mux.HandleFunc("GET /v1/agent/calls/{id}", func(w http.ResponseWriter, r *http.Request) {
			if count.Add(1) == 1 {
				w.Header().Set("Retry-After", "3600")
				w.WriteHeader(http.StatusServiceUnavailable)
				return
			}
			io.WriteString(w, `{"id":"c1"}`)
		})
		start := time.Now()
		if _, err := c.GetCall(context.Background(), "c1"); err != nil {
			t.Fatal(err)
		}
		if elapsed := time.Since(start); elapsed > time.Second {
			t.Errorf("took %v", elapsed)
		}
	})
	t.Run("the wait stops when the context ends", func(t *testing.T) {
		c, mux := setup(t, Options{MaxRetryDelay: time.Hour, RetryBaseDelay: time.Hour})
		var count atomic.Int32
		mux.HandleFunc("GET /v1/agent/calls/{id}", func(w http.ResponseWriter, r *http.Request) {
			count.Add(1)
			w.WriteHeader(http.StatusServiceUnavailable)
			io.WriteString(w, `{"error":"store_error"}`)
		})
		ctx, cancel := context.WithCancel(context.Background())
		time.AfterFunc(100*time.Millisecond, cancel)
		start := time.Now()
		_, err := c.GetCall(ctx, "c1")
		var ae *APIError
		if !errors.As(err, &ae) || ae.Token != "store_error" {
			t.Errorf("err = %v, want the last API error", err)
		}
		if elapsed := time.Since(start); elapsed > 2*time.Second || count.Load() != 1 {
			t.Errorf("took %v, %d requests", elapsed, count.Load())
		}
	})
	t.Run("RetryAfter is reported on the error", func(t *testing.T) {
		c, mux := setup(t, Options{MaxRetries: -1})
		mux.HandleFunc("POST /v1/agent/calls", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Retry-After", "42")
			w.WriteHeader(http.StatusTooManyRequests)
			io.WriteString(w, `{"error":"over_minute_cap"}`)
		})
		_, err := c.PlaceCall(context.Background(), &PlaceCallRequest{To: "+1", Objective: "o"})
		var ae *APIError
		if !errors.As(err, &ae) || ae.RetryAfter != 42*time.Second {
			t.Errorf("err = %+v, want RetryAfter 42s", err)
		}
	})
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 6, 17, 14, 0, 0, 0, time.UTC)
	tests := []struct {
		in   string
		want time.Duration
	}{
		{"", 0},
		{"0", 0},
		{"-5", 0},
		{"3", 3 * time.Second},
		{" 7 ", 7 * time.Second},
		{"99999999999999", 24 * time.Hour},
		{"Wed, 17 Jun 2026 14:00:30 GMT", 30 * time.Second},
		{"Wed, 17 Jun 2026 13:00:00 GMT", 0},
		{"soon", 0},
		{"1.5", 0},
	}
	for _, tt := range tests {
		if got := parseRetryAfter(tt.in, now); got != tt.want {
			t.Errorf("parseRetryAfter(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

func TestBackoff(t *testing.T) {
	c := &Client{baseDelay: 100 * time.Millisecond, maxDelay: time.Second}
	for attempt, max := range []time.Duration{100, 200, 400, 800, 1000, 1000, 1000} {
		max *= time.Millisecond
		for range 20 {
			if d := c.backoff(attempt, errors.New("x")); d < max/2 || d > max {
				t.Errorf("backoff(%d) = %v, want in [%v, %v]", attempt, d, max/2, max)
			}
		}
	}
	if d := c.backoff(0, &APIError{RetryAfter: 300 * time.Millisecond}); d != 300*time.Millisecond {
		t.Errorf("backoff with Retry-After = %v", d)
	}
}

// hang blocks until the client goes away. The body is read first: only then
// does the server watch the connection and cancel r.Context() on close.
func hang(count *atomic.Int32) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		count.Add(1)
		io.Copy(io.Discard, r.Body)
		select {
		case <-r.Context().Done():
		case <-time.After(5 * time.Second):
		}
	}
}

func TestTimeouts(t *testing.T) {
	t.Run("POST is not retried after a timeout", func(t *testing.T) {
		c, mux := setup(t, Options{Timeout: 150 * time.Millisecond})
		var count atomic.Int32
		mux.HandleFunc("POST /v1/agent/calls", hang(&count))
		_, err := c.PlaceCall(context.Background(), &PlaceCallRequest{To: "+1", Objective: "o"})
		var te *TransportError
		if !errors.As(err, &te) || te.Token != TokenTimeout || !te.MayHaveReachedAPI || te.Method != "POST" || te.Route != RoutePlaceCall {
			t.Fatalf("err = %#v, want timeout that may have reached the API", err)
		}
		if count.Load() != 1 {
			t.Errorf("POSTs = %d, want 1", count.Load())
		}
		if Retryable(err) {
			t.Error("a POST timeout is Retryable")
		}
	})
	t.Run("GET is retried after a timeout", func(t *testing.T) {
		c, mux := setup(t, Options{Timeout: 100 * time.Millisecond, MaxRetries: 2})
		var count atomic.Int32
		mux.HandleFunc("GET /v1/agent/calls/{id}", hang(&count))
		_, err := c.GetCall(context.Background(), "c1")
		var te *TransportError
		if !errors.As(err, &te) || te.Token != TokenTimeout {
			t.Fatalf("err = %v, want timeout", err)
		}
		if count.Load() != 3 {
			t.Errorf("GETs = %d, want 3", count.Load())
		}
		if !Retryable(err) {
			t.Error("a GET timeout is not Retryable")
		}
	})
	t.Run("a slow trickle ends at the attempt timeout", func(t *testing.T) {
		c, mux := setup(t, Options{Timeout: 300 * time.Millisecond, MaxRetries: -1})
		mux.HandleFunc("GET /v1/agent/calls/{id}", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Length", "100000")
			w.WriteHeader(http.StatusOK)
			io.WriteString(w, `{"id":"`)
			for {
				w.(http.Flusher).Flush()
				select {
				case <-r.Context().Done():
					return
				case <-time.After(20 * time.Millisecond):
					io.WriteString(w, "x")
				}
			}
		})
		start := time.Now()
		_, err := c.GetCall(context.Background(), "c1")
		var te *TransportError
		if !errors.As(err, &te) || te.Token != TokenTimeout {
			t.Fatalf("err = %v, want timeout", err)
		}
		if elapsed := time.Since(start); elapsed > 2*time.Second {
			t.Errorf("took %v", elapsed)
		}
	})
	t.Run("a canceled context is reported as canceled", func(t *testing.T) {
		c, mux := setup(t, Options{Timeout: 5 * time.Second})
		var count atomic.Int32
		mux.HandleFunc("GET /v1/agent/calls/{id}", hang(&count))
		ctx, cancel := context.WithCancel(context.Background())
		time.AfterFunc(100*time.Millisecond, cancel)
		_, err := c.GetCall(ctx, "c1")
		var te *TransportError
		if !errors.As(err, &te) || te.Token != TokenCanceled || !errors.Is(err, context.Canceled) {
			t.Fatalf("err = %v, want canceled", err)
		}
		if count.Load() != 1 || Retryable(err) {
			t.Errorf("GETs = %d, Retryable = %v", count.Load(), Retryable(err))
		}
	})
}

func TestConnectionLost(t *testing.T) {
	tests := []struct {
		name  string
		write string // what the server sends before closing the connection
	}{
		{"POST is not retried when the connection closes before an answer", ""},
		{"POST is not retried when the body is cut off", "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{\"callId\":"},
		{"POST is not retried when the headers are cut off", "HTTP/1.1 200 OK\r\nContent-"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, mux := setup(t, Options{})
			var count atomic.Int32
			mux.HandleFunc("POST /v1/agent/calls", func(w http.ResponseWriter, r *http.Request) {
				count.Add(1)
				io.ReadAll(r.Body)
				conn, buf, err := w.(http.Hijacker).Hijack()
				if err != nil {
					t.Error(err)
					return
				}
				buf.WriteString(tt.write)
				buf.Flush()
				if tc, ok := conn.(*net.TCPConn); ok {
					tc.SetLinger(0) // reset rather than a clean close
				}
				conn.Close()
			})
			_, err := c.PlaceCall(context.Background(), &PlaceCallRequest{To: "+1", Objective: "o"})
			var te *TransportError
			if !errors.As(err, &te) || te.Token != TokenConnectionLost || !te.MayHaveReachedAPI {
				t.Fatalf("err = %#v, want connection_lost that may have reached the API", err)
			}
			if count.Load() != 1 {
				t.Errorf("POSTs = %d, want 1", count.Load())
			}
			if Retryable(err) {
				t.Error("Retryable")
			}
		})
	}
}

func TestConnectionRefused(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()

	var statuses []int
	var mu sync.Mutex
	c, err := New(Options{
		BaseURL:        "http://" + addr + "/prefix",
		APIKey:         testKey,
		MaxRetries:     2,
		RetryBaseDelay: time.Millisecond,
		Observer: func(_, _ string, status int, _ time.Duration) {
			mu.Lock()
			statuses = append(statuses, status)
			mu.Unlock()
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, call := range []func() error{
		func() error {
			_, err := c.PlaceCall(context.Background(), &PlaceCallRequest{To: "+1", Objective: "o"})
			return err
		},
		func() error { _, err := c.GetCall(context.Background(), "c1"); return err },
	} {
		err := call()
		var te *TransportError
		if !errors.As(err, &te) || te.Token != TokenConnectionFailed || te.MayHaveReachedAPI {
			t.Errorf("err = %#v, want connection_failed that never reached the API", err)
			continue
		}
		if !Retryable(err) {
			t.Errorf("%s: not Retryable", te.Method)
		}
		if strings.Contains(err.Error(), testKey) || strings.Contains(fmt.Sprintf("%+v %#v", err, errors.Unwrap(err)), testKey) {
			t.Errorf("error leaks the key: %v", err)
		}
	}
	// Both POST and GET retry a connection that was never established.
	if want := []int{0, 0, 0, 0, 0, 0}; !reflect.DeepEqual(statuses, want) {
		t.Errorf("observed statuses = %v, want %v", statuses, want)
	}
}

func TestObserver(t *testing.T) {
	type obs struct {
		method, route string
		status        int
	}
	var got []obs
	var mu sync.Mutex
	c, mux := setup(t, Options{Observer: func(method, route string, status int, d time.Duration) {
		if d <= 0 {
			t.Errorf("duration %v", d)
		}
		mu.Lock()
		got = append(got, obs{method, route, status})
		mu.Unlock()
	}})
	mux.HandleFunc("POST /v1/agent/calls", func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, `{"callId":"c1","status":"queued"}`)
	})
	mux.HandleFunc("GET /v1/agent/calls/{id}", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusNotFound)
		io.WriteString(w, `{"error":"not_found"}`)
	})
	mux.HandleFunc("GET /v1/agent/calls", func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, `{"calls":[]}`)
	})
	c.PlaceCall(context.Background(), &PlaceCallRequest{To: "+1", Objective: "o"})
	if _, err := c.GetCall(context.Background(), "nope"); !IsNotFound(err) {
		t.Errorf("IsNotFound(%v) = false", err)
	}
	c.ListCalls(context.Background(), &ListOptions{Limit: 3})
	want := []obs{
		{"POST", "POST /v1/agent/calls", 200},
		{"GET", "GET /v1/agent/calls/{id}", 404},
		{"GET", "GET /v1/agent/calls", 200},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("observed %v, want %v", got, want)
	}
}

func TestKeyNeverPrinted(t *testing.T) {
	c, mux := setup(t, Options{Timeout: 100 * time.Millisecond, MaxRetries: -1})
	var count atomic.Int32
	mux.HandleFunc("GET /v1/agent/calls/{id}", hang(&count))
	mux.HandleFunc("POST /v1/agent/calls", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusBadGateway)
		io.WriteString(w, `{"error":"placement_failed"}`)
	})
	_, getErr := c.GetCall(context.Background(), "c1")
	_, postErr := c.PlaceCall(context.Background(), &PlaceCallRequest{To: "+1", Objective: "o"})
	_, newErr := New(Options{BaseURL: c.BaseURL(), APIKey: testKey + "\n"})
	_, headerErr := c.WithAPIKey(testKey+"\r\n").ListCalls(context.Background(), nil)
	if newErr == nil || strings.Contains(newErr.Error(), "TESTSECRET") {
		t.Errorf("New with a bad key: %v", newErr)
	}
	if getErr == nil || postErr == nil || headerErr == nil {
		t.Fatalf("errors = %v, %v, %v", getErr, postErr, headerErr)
	}

	type holder struct {
		Client  *Client
		client  Client
		Opts    Options
		Err     error
		nested  struct{ c Client }
		Pointer **Client
	}
	opts := Options{BaseURL: "https://api.byourside.ai", APIKey: testKey}
	values := []any{
		c, *c, c.WithAPIKey(testKey), opts, &opts, getErr, postErr, headerErr,
		errors.Unwrap(getErr), errors.Unwrap(headerErr),
		holder{Client: c, client: *c, Opts: opts, Err: getErr, nested: struct{ c Client }{*c}, Pointer: &c},
		&holder{Client: c, client: *c},
		[]*Client{c}, map[string]Client{"c": *c},
	}
	for i, v := range values {
		for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%T"} {
			if s := fmt.Sprintf(verb, v); strings.Contains(s, testKey) || strings.Contains(s, "TESTSECRET") {
				t.Errorf("value %d printed with %s shows the key: %s", i, verb, s)
			}
		}
	}
	if s := fmt.Sprint(c); !strings.Contains(s, "[redacted]") || !strings.Contains(s, c.BaseURL()) {
		t.Errorf("String() = %q", s)
	}
	for _, err := range []error{getErr, postErr, headerErr} {
		if strings.Contains(err.Error(), testKey) {
			t.Errorf("error string shows the key: %v", err)
		}
	}
}

func TestRetryableAndIsNotFound(t *testing.T) {
	tests := []struct {
		name      string
		err       error
		retryable bool
		notFound  bool
	}{
		{"nil", nil, false, false},
		{"plain error", errors.New("x"), false, false},
		{"429 rate_limited", &APIError{HTTPStatus: 429, Token: "rate_limited", Method: "POST"}, true, false},
		{"429 over_minute_cap", &APIError{HTTPStatus: 429, Token: "over_minute_cap", Method: "POST"}, false, false},
		{"GET 503", &APIError{HTTPStatus: 503, Token: "store_error", Method: "GET"}, true, false},
		{"GET 502", &APIError{HTTPStatus: 502, Token: "unexpected_response", Method: "GET"}, true, false},
		{"POST 502 may have placed", &APIError{HTTPStatus: 502, Token: "placement_failed", Method: "POST", MayHavePlaced: true}, false, false},
		{"400", &APIError{HTTPStatus: 400, Token: "invalid_number"}, false, false},
		{"404", &APIError{HTTPStatus: 404, Token: "not_found"}, false, true},
		{"wrapped 404", fmt.Errorf("get: %w", &APIError{HTTPStatus: 404}), false, true},
		{"GET timeout", &TransportError{Method: "GET", Token: "timeout", MayHaveReachedAPI: true}, true, false},
		{"POST timeout", &TransportError{Method: "POST", Token: "timeout", MayHaveReachedAPI: true}, false, false},
		{"POST connection failed", &TransportError{Method: "POST", Token: "connection_failed"}, true, false},
		{"canceled", &TransportError{Method: "GET", Token: "canceled", MayHaveReachedAPI: true}, false, false},
	}
	for _, tt := range tests {
		if got := Retryable(tt.err); got != tt.retryable {
			t.Errorf("%s: Retryable = %v, want %v", tt.name, got, tt.retryable)
		}
		if got := IsNotFound(tt.err); got != tt.notFound {
			t.Errorf("%s: IsNotFound = %v, want %v", tt.name, got, tt.notFound)
		}
	}
}

func TestErrorStrings(t *testing.T) {
	e := &APIError{HTTPStatus: 400, Token: "destination_blocked", Method: "POST", Route: RoutePlaceCall}
	if got, want := e.Error(), "bys api: POST /v1/agent/calls: 400 destination_blocked"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
	inner := errors.New("dial tcp: refused")
	te := &TransportError{Method: "GET", Route: RouteGetCall, Token: "connection_failed", Err: inner}
	if got, want := te.Error(), "bys api: GET /v1/agent/calls/{id}: connection_failed: dial tcp: refused"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
	if !errors.Is(te, inner) {
		t.Error("Unwrap does not reach the cause")
	}
}

// A GET's retries share one budget: against an API that never answers, the
// read ends when the budget does, not after every attempt's full timeout.
func TestReadsShareOneBudget(t *testing.T) {
	if DefaultReadBudget <= 0 || DefaultReadBudget > 30*time.Second {
		t.Fatalf("DefaultReadBudget = %v: a read tool call must answer within 30 s", DefaultReadBudget)
	}
	if c, err := New(Options{}); err != nil || c.readBudget != DefaultReadBudget {
		t.Fatalf("New applies read budget %v (err %v), want %v", c.readBudget, err, DefaultReadBudget)
	}
	for _, tc := range []struct {
		name string
		read func(*Client) error
	}{
		{"GetCall", func(c *Client) error { _, err := c.GetCall(context.Background(), "c1"); return err }},
		{"ListCalls", func(c *Client) error { _, err := c.ListCalls(context.Background(), nil); return err }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// Four attempts of 1 s would take 4 s; the budget stops at 1.5 s:
			// a full first attempt, then a second one capped at what is left.
			c, mux := setup(t, Options{Timeout: time.Second, ReadBudget: 1500 * time.Millisecond, MaxRetries: 3})
			var count atomic.Int32
			mux.HandleFunc("GET /v1/agent/calls/{id}", hang(&count))
			mux.HandleFunc("GET /v1/agent/calls", hang(&count))
			start := time.Now()
			err := tc.read(c)
			elapsed := time.Since(start)
			var te *TransportError
			if !errors.As(err, &te) || te.Token != TokenTimeout {
				t.Fatalf("err = %v, want timeout", err)
			}
			if n := count.Load(); n != 2 {
				t.Errorf("attempts = %d, want 2 (the second capped by the budget)", n)
			}
			if elapsed >= 4*time.Second {
				t.Errorf("the read took %v: its attempts did not share the budget", elapsed)
			}
		})
	}
}
