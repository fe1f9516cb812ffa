package testkit

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/byourside/bys-mcp/internal/sandbox"
)

// SandboxServer serves a standalone sandbox with opts on an httptest server
// (loopback), like `bys-mcp sandbox --addr 127.0.0.1:PORT`, closed when the
// test ends.
func SandboxServer(tb testing.TB, opts sandbox.Options) *httptest.Server {
	tb.Helper()
	return HandlerServer(tb, sandbox.New(opts))
}

// HandlerServer serves h on an httptest server (loopback), closed when the
// test ends.
func HandlerServer(tb testing.TB, h http.Handler) *httptest.Server {
	tb.Helper()
	srv := httptest.NewServer(h)
	tb.Cleanup(srv.Close)
	return srv
}

// APIRecorder stands between a server and its API, as a transport of the
// server's client (Transport) or in front of the API's handler (Handler),
// and counts the requests that reach the API by method. With Keep it also
// keeps each of them (method, URL and body) for Requests, Log and
// LastPost. The zero value counts every request and keeps none.
type APIRecorder struct {
	// Match, when set, picks the requests recorded; the others pass
	// unrecorded.
	Match func(*http.Request) bool
	// Keep keeps every recorded request.
	Keep bool

	posts, gets, total atomic.Int64

	mu   sync.Mutex
	reqs []APIRequest
}

// APIRequest is one request an APIRecorder kept.
type APIRequest struct {
	Method string
	URL    *url.URL
	Body   []byte
}

// Transport returns a RoundTripper that records each request, then sends
// it with base (nil = http.DefaultTransport). Its type fits
// app.Options.WrapTransport.
func (r *APIRecorder) Transport(base http.RoundTripper) http.RoundTripper {
	if base == nil {
		base = http.DefaultTransport
	}
	return recordingTransport{r, base}
}

// Handler returns a handler that records each request, then serves it with
// next.
func (r *APIRecorder) Handler(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		r.record(req)
		next.ServeHTTP(w, req)
	})
}

type recordingTransport struct {
	r    *APIRecorder
	base http.RoundTripper
}

func (t recordingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	t.r.record(req)
	return t.base.RoundTrip(req)
}

// record counts req if Match takes it, and with Keep keeps it (its body is
// read, and put back for whoever serves the request).
func (r *APIRecorder) record(req *http.Request) {
	if r.Match != nil && !r.Match(req) {
		return
	}
	switch req.Method {
	case http.MethodPost:
		r.posts.Add(1)
	case http.MethodGet:
		r.gets.Add(1)
	}
	r.total.Add(1)
	if !r.Keep {
		return
	}
	var body []byte
	if req.Body != nil {
		body, _ = io.ReadAll(req.Body)
		_ = req.Body.Close()
		req.Body = io.NopCloser(bytes.NewReader(body))
	}
	r.mu.Lock()
	r.reqs = append(r.reqs, APIRequest{Method: req.Method, URL: req.URL, Body: body})
	r.mu.Unlock()
}

// Posts is the number of POSTs recorded.
func (r *APIRecorder) Posts() int64 { return r.posts.Load() }

// Gets is the number of GETs recorded.
func (r *APIRecorder) Gets() int64 { return r.gets.Load() }

// Total is the number of requests recorded, whatever their method.
func (r *APIRecorder) Total() int64 { return r.total.Load() }

// Reset sets the counts to zero and forgets the kept requests.
func (r *APIRecorder) Reset() {
	r.posts.Store(0)
	r.gets.Store(0)
	r.total.Store(0)
	r.mu.Lock()
	r.reqs = nil
	r.mu.Unlock()
}

// Requests is a copy of the requests kept so far, oldest first.
func (r *APIRecorder) Requests() []APIRequest {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]APIRequest(nil), r.reqs...)
}

// Log is the method and path (with query) of each kept request, joined by
// ", ", for failure messages.
func (r *APIRecorder) Log() string {
	var seen []string
	for _, q := range r.Requests() {
		seen = append(seen, q.Method+" "+q.URL.RequestURI())
	}
	return strings.Join(seen, ", ")
}

// LastPost is the JSON body of the last POST r kept, decoded as a T (such
// as map[string]any), and fails the test when r kept no POST.
func LastPost[T any](tb testing.TB, r *APIRecorder) T {
	tb.Helper()
	var v T
	reqs := r.Requests()
	for i := len(reqs) - 1; i >= 0; i-- {
		if reqs[i].Method == http.MethodPost {
			_ = json.Unmarshal(reqs[i].Body, &v)
			return v
		}
	}
	tb.Fatal("no POST reached the API")
	return v
}

// CheckSharedGETs fails the test unless the GETs of a call that many
// waiters (named by many, such as "20 waiters") followed together cost at
// most 1.5 times those of one waiter alone, plus five, and one waiter cost
// at least 3 (too few cannot tell sharing apart).
func CheckSharedGETs(tb testing.TB, many string, single, shared int) {
	tb.Helper()
	if limit := 1.5*float64(single) + 5; float64(shared) > limit {
		tb.Errorf("%s cost %d GETs against %d for one waiter (limit %.1f)", many, shared, single, limit)
	}
	if single < 3 {
		tb.Errorf("one waiter cost %d GETs: too few to tell sharing apart", single)
	}
}
