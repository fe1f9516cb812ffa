package reliability_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/byourside/bys-mcp/config"
	"github.com/byourside/bys-mcp/internal/app"
	"github.com/byourside/bys-mcp/internal/sandbox"
	"github.com/byourside/bys-mcp/internal/testkit"
)

// faultKey is the server's API key in the fault matrix.
const faultKey = "bys_ak_faultmatrix"

// faultKind is how the fault server misbehaves.
type faultKind int

const (
	faultStatus    faultKind = iota // a fixed status, headers and body
	faultMalformed                  // 2xx with a JSON body cut short
	faultOversized                  // 2xx with a body larger than the client's 4 MiB cap
	faultHang                       // never answers (until the client gives up)
	faultHijack                     // headers and part of the body, then the connection is closed
	faultTrickle                    // a valid 2xx answer, one byte every 100 ms
	faultConnect                    // the TCP connection is refused (a closed 127.0.0.1 port)
)

type fault struct {
	name   string
	kind   faultKind
	status int
	header map[string]string
	body   string
}

const htmlBody = "<!DOCTYPE html><html><head><title>502 Bad Gateway</title></head><body><h1>Bad Gateway</h1><p>nginx</p></body></html>"

// faultMatrix is every fault the issue lists. DNS failure is represented by
// a refused connection to a closed 127.0.0.1 port: a real lookup of an
// unresolvable name would leave the machine (and both end in the client's
// dial error path, TransportError connection_failed).
var faultMatrix = []fault{
	{name: "429_retry_after", kind: faultStatus, status: 429, header: map[string]string{"Retry-After": "1"}, body: `{"error":"rate_limited"}`},
	{name: "429_no_retry_after", kind: faultStatus, status: 429, body: `{"error":"rate_limited"}`},
	{name: "500_json", kind: faultStatus, status: 500, body: `{"error":"store_error"}`},
	{name: "500_html", kind: faultStatus, status: 500, header: map[string]string{"Content-Type": "text/html"}, body: htmlBody},
	{name: "500_empty", kind: faultStatus, status: 500},
	{name: "502_json", kind: faultStatus, status: 502, body: `{"error":"placement_failed"}`},
	{name: "502_html", kind: faultStatus, status: 502, header: map[string]string{"Content-Type": "text/html"}, body: htmlBody},
	{name: "502_empty", kind: faultStatus, status: 502},
	{name: "503_json", kind: faultStatus, status: 503, body: `{"error":"store_error"}`},
	{name: "503_html", kind: faultStatus, status: 503, header: map[string]string{"Content-Type": "text/html"}, body: htmlBody},
	{name: "503_empty", kind: faultStatus, status: 503},
	{name: "malformed_json_2xx", kind: faultMalformed},
	{name: "body_over_cap", kind: faultOversized},
	{name: "hang", kind: faultHang},
	{name: "closed_mid_response", kind: faultHijack},
	{name: "slow_trickle", kind: faultTrickle},
	{name: "connect_refused", kind: faultConnect},
}

// faultServer is a fault-injecting By Your Side API on 127.0.0.1: with no
// fault set it serves the embedded sandbox faithfully; with one set it
// answers every request with that fault. A POST that gets any fault but a
// 429 is first passed to the sandbox, so the call really exists: the worst
// case for losing or duplicating calls.
type faultServer struct {
	t       testing.TB
	backend *sandbox.Sandbox
	srv     *httptest.Server
	closed  string // a closed 127.0.0.1 port for faultConnect
	tr      *http.Transport
	stop    chan struct{}

	mu      sync.Mutex
	fault   *fault
	created []created // calls the backend created, in order

	posts       atomic.Int64 // POST /v1/agent/calls received
	rateLimited atomic.Int64 // of which answered 429 rate_limited
	injected    atomic.Int64 // faulty answers and refused connections
}

type created struct {
	id      string
	inFault bool
}

func newFaultServer(t testing.TB) *faultServer {
	t.Helper()
	fs := &faultServer{
		t:       t,
		backend: sandbox.New(sandbox.Options{TimeScale: 50, RateLimitPerMinute: -1, MinuteCap: -1}),
		closed:  closedPort(t),
		stop:    make(chan struct{}),
	}
	fs.srv = httptest.NewServer(fs)
	var dialer net.Dialer
	fs.tr = &http.Transport{
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			if f := fs.current(); f != nil && f.kind == faultConnect {
				fs.injected.Add(1)
				addr = fs.closed
			}
			return dialer.DialContext(ctx, network, addr)
		},
		MaxIdleConnsPerHost: 8,
		IdleConnTimeout:     30 * time.Second,
	}
	t.Cleanup(func() {
		close(fs.stop)
		fs.tr.CloseIdleConnections()
		fs.srv.CloseClientConnections()
		fs.srv.Close()
	})
	return fs
}

func (fs *faultServer) current() *fault {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	return fs.fault
}

func (fs *faultServer) set(f *fault) {
	fs.mu.Lock()
	fs.fault = f
	fs.mu.Unlock()
	// A pooled connection would bypass the dialer (and so a refused connect).
	fs.tr.CloseIdleConnections()
}

func (fs *faultServer) createdCalls() []created {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	return append([]created(nil), fs.created...)
}

// passThrough serves r with the sandbox and records a created call.
func (fs *faultServer) passThrough(r *http.Request, inFault bool) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	fs.backend.ServeHTTP(rec, r)
	if r.Method == http.MethodPost && rec.Code/100 == 2 {
		var body struct {
			CallID string `json:"callId"`
		}
		if json.Unmarshal(rec.Body.Bytes(), &body) == nil && body.CallID != "" {
			fs.mu.Lock()
			fs.created = append(fs.created, created{id: body.CallID, inFault: inFault})
			fs.mu.Unlock()
		}
	}
	return rec
}

func (fs *faultServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f := fs.current()
	isPost := r.Method == http.MethodPost
	if isPost {
		fs.posts.Add(1)
	}
	if f == nil || f.kind == faultConnect {
		rec := fs.passThrough(r, false)
		for k, vs := range rec.Header() {
			w.Header()[k] = vs
		}
		w.WriteHeader(rec.Code)
		_, _ = w.Write(rec.Body.Bytes())
		return
	}
	fs.injected.Add(1)
	if f.kind == faultStatus && f.status == http.StatusTooManyRequests {
		// 429 rate_limited proves that nothing was placed.
		if isPost {
			fs.rateLimited.Add(1)
		}
		fs.writeStatus(w, f)
		return
	}
	okBody := `{"calls":[]}`
	okStatus := http.StatusOK
	if isPost {
		rec := fs.passThrough(r, true)
		okBody, okStatus = rec.Body.String(), rec.Code
	} else if strings.HasPrefix(r.URL.Path, "/v1/agent/calls/") {
		okBody = `{"id":"x","status":"completed"}`
	}
	switch f.kind {
	case faultStatus:
		fs.writeStatus(w, f)
	case faultMalformed:
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(okStatus)
		_, _ = w.Write([]byte(okBody[:len(okBody)/2]))
	case faultOversized:
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(okStatus)
		pad := bytes.Repeat([]byte("a"), 5<<20)
		_, _ = w.Write([]byte(`{"callId":"c_oversized","status":"queued","id":"c_oversized","calls":[],"pad":"`))
		_, _ = w.Write(pad)
		_, _ = w.Write([]byte(`"}`))
	case faultHang:
		select {
		case <-r.Context().Done():
		case <-fs.stop:
		case <-time.After(30 * time.Second):
		}
	case faultHijack:
		conn, buf, err := w.(http.Hijacker).Hijack()
		if err != nil {
			return
		}
		fmt.Fprintf(buf, "HTTP/1.1 %d OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s",
			okStatus, len(okBody)+100, okBody[:len(okBody)/2])
		_ = buf.Flush()
		_ = conn.Close()
	case faultTrickle:
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Content-Length", fmt.Sprint(len(okBody)))
		w.WriteHeader(okStatus)
		fl, _ := w.(http.Flusher)
		for i := 0; i < len(okBody); i++ {
			if _, err := w.Write([]byte{okBody[i]}); err != nil {
				return
			}
			if fl != nil {
				fl.Flush()
			}
			select {
			case <-r.Context().Done():
				return
			case <-fs.stop:
				return
			case <-time.After(400 * time.Millisecond): // any body takes longer than the 3 s per-attempt timeout
			}
		}
	}
}

func (fs *faultServer) writeStatus(w http.ResponseWriter, f *fault) {
	for k, v := range f.header {
		w.Header().Set(k, v)
	}
	if w.Header().Get("Content-Type") == "" && f.body != "" {
		w.Header().Set("Content-Type", "application/json")
	}
	w.WriteHeader(f.status)
	_, _ = w.Write([]byte(f.body))
}

// seed creates a call in the backend directly, for get_call and
// wait_for_call (a number that fails within a second at TimeScale 50).
func (fs *faultServer) seed() string {
	req := httptest.NewRequest(http.MethodPost, "/v1/agent/calls", strings.NewReader(`{"to":"+14155550004","objective":"seed"}`))
	req.Header.Set("Authorization", "Bearer "+faultKey)
	req.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	fs.backend.ServeHTTP(rec, req)
	var body struct {
		CallID string `json:"callId"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil || body.CallID == "" {
		fs.t.Fatalf("seeding a call: %d %s", rec.Code, rec.Body.String())
	}
	return body.CallID
}

// faultApp is an app whose API is fs, with a 3 s per-attempt timeout (a
// healthy answer on a loaded machine under -race must fit in it) and
// deduplication off (so that nothing hides a repeated POST).
func faultApp(t testing.TB, fs *faultServer) *app.App {
	t.Helper()
	cfg := config.Defaults()
	cfg.Sandbox = false
	cfg.APIKey = faultKey
	cfg.BaseURL = fs.srv.URL
	cfg.RequestTimeout = 3 * time.Second
	cfg.DedupeWindow = 0
	cfg.CallingHours = "off" // not under test; the test must not depend on the hour
	cfg.MaxCallsPerNumber, cfg.CallsPerNumber = "off", 0
	if err := cfg.Validate(); err != nil {
		t.Fatalf("config: %v", err)
	}
	a, err := app.New(cfg, newLogger(t), app.Options{
		Poll: testkit.FastPoll(),
		HTTPClient: &http.Client{
			Transport:     fs.tr,
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
	})
	if err != nil {
		t.Fatalf("app.New: %v", err)
	}
	t.Cleanup(a.Close)
	return a
}

// faultBound is the longest a tool may take under any fault: four attempts
// of 3 s plus the backoff between them (at most 3 x 1 s with Retry-After: 1,
// else 0.25 + 0.5 + 1 s), with room for a loaded machine and -race; under
// the 30 s that hosts give a tool call.
const faultBound = 24 * time.Second

// matrixRow is one cell of the printed matrix.
type matrixRow struct {
	fault, tool, token string
	elapsed            time.Duration
	posts, rl          int64
}

// TestFaultMatrix injects every fault into every tool through the MCP
// layer: each must give a clear isError result within faultBound, the next
// call (fault off) must work, no POST is repeated except after 429
// rate_limited, no call the API created is lost (its id comes back, or the
// error says a call may have been placed and list_calls shows it), and the
// goroutine count returns to its baseline.
func TestFaultMatrix(t *testing.T) {
	baseline := settleGoroutines(0, 1<<30, 0)
	var (
		injected, lost, duplicated atomic.Int64
		mu                         sync.Mutex
		rows                       []matrixRow
	)
	start := time.Now()
	t.Run("matrix", func(t *testing.T) {
		for i := range faultMatrix {
			f := &faultMatrix[i]
			for _, tool := range []string{"place_call", "get_call", "list_calls", "wait_for_call"} {
				t.Run(f.name+"/"+tool, func(t *testing.T) {
					t.Parallel()
					fs := newFaultServer(t)
					a := faultApp(t, fs)
					c := inProcess(t, a)
					seeded := fs.seed()
					args := func(phase string) map[string]any {
						switch tool {
						case "place_call":
							return placeArgs(fmt.Sprintf("Fault matrix %s, %s phase: book a table for two.", f.name, phase))
						case "get_call":
							return map[string]any{"callId": seeded}
						case "list_calls":
							return map[string]any{"limit": 5}
						default:
							return map[string]any{"callId": seeded, "timeoutSec": 5}
						}
					}

					// Fault on.
					fs.set(f)
					ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
					defer cancel()
					t0 := time.Now()
					res, err := callTool(ctx, c, tool, args("fault"))
					elapsed := time.Since(t0)
					fs.set(nil)
					posts, rl := fs.posts.Load(), fs.rateLimited.Load()
					injected.Add(fs.injected.Load())
					if err != nil {
						t.Fatalf("protocol error instead of an isError result: %v", err)
					}
					if msg := clearError(res); msg != "" {
						t.Errorf("not a clear isError result: %s", msg)
					}
					if elapsed > faultBound {
						t.Errorf("took %v, more than the bound %v", elapsed, faultBound)
					}
					m := structured(res)
					tok, _ := m["error"].(string)
					mu.Lock()
					rows = append(rows, matrixRow{f.name, tool, tok, elapsed, posts, rl})
					mu.Unlock()

					// POST accounting: one POST at most, besides those the API
					// answered 429 rate_limited.
					if tool != "place_call" && posts != 0 {
						t.Errorf("%s sent %d POSTs", tool, posts)
					}
					if extra := posts - rl - 1; extra > 0 {
						duplicated.Add(extra)
						t.Errorf("POST repeated: %d POSTs, of which %d answered 429 rate_limited", posts, rl)
					}
					createdInFault := 0
					for _, cr := range fs.createdCalls() {
						if cr.inFault {
							createdInFault++
						}
					}
					if createdInFault > 1 {
						duplicated.Add(int64(createdInFault - 1))
						t.Errorf("%d calls created for one place_call", createdInFault)
					}
					if createdInFault > 0 {
						// The call exists: the agent must be told that it may.
						text := testkit.TextOf(res)
						retryable, _ := m["retryable"].(bool)
						if !strings.Contains(text, "may or may not have been placed") || !strings.Contains(text, "list_calls") || retryable {
							lost.Add(1)
							t.Errorf("a call was created but the result does not say that it may have been placed (retryable=%v): %s", retryable, text)
						}
					}

					// Fault off: the next call works.
					res2, err := callTool(ctx, c, tool, args("recovery"))
					if err != nil {
						t.Fatalf("after the fault: protocol error: %v", err)
					}
					if res2.IsError {
						t.Fatalf("after the fault: the next call failed: %s", testkit.TextOf(res2))
					}
					if tool == "place_call" {
						if p := fs.posts.Load() - posts; p != 1 {
							duplicated.Add(max(p-1, 0))
							t.Errorf("recovery place_call sent %d POSTs, want 1", p)
						}
						// Every call the API created during the fault is visible.
						lr, err := callTool(ctx, c, "list_calls", map[string]any{"limit": 100})
						if err != nil || lr.IsError {
							t.Fatalf("list_calls after the fault: %v %s", err, testkit.TextOf(lr))
						}
						listed := testkit.TextOf(lr) + fmt.Sprint(structured(lr))
						for _, cr := range fs.createdCalls() {
							if !strings.Contains(listed, cr.id) {
								lost.Add(1)
								t.Errorf("call %s created by the API is not listed by list_calls", cr.id)
							}
						}
					}
				})
			}
		}
	})
	total := time.Since(start)

	sort.Slice(rows, func(i, j int) bool {
		if rows[i].fault != rows[j].fault {
			return rows[i].fault < rows[j].fault
		}
		return rows[i].tool < rows[j].tool
	})
	var b strings.Builder
	fmt.Fprintf(&b, "%-22s %-14s %-22s %8s %s\n", "fault", "tool", "isError token", "elapsed", "POSTs (429)")
	for _, r := range rows {
		fmt.Fprintf(&b, "%-22s %-14s %-22s %7.2fs %d (%d)\n", r.fault, r.tool, r.token, r.elapsed.Seconds(), r.posts, r.rl)
	}
	t.Logf("fault matrix (%d cells, %v wall):\n%s", len(rows), total.Round(time.Millisecond), b.String())

	after := settleGoroutines(baseline, 0, 15*time.Second)
	summary := fmt.Sprintf("faults injected: %d, calls lost: %d, calls duplicated: %d (goroutines before %d, after %d)",
		injected.Load(), lost.Load(), duplicated.Load(), baseline, after)
	fmt.Println(summary)
	t.Log(summary)
	if lost.Load() != 0 || duplicated.Load() != 0 {
		t.Errorf("calls lost or duplicated: %s", summary)
	}
	if after > baseline {
		t.Errorf("goroutines did not return to the baseline %d (now %d):\n%s", baseline, after, truncate(goroutineDump(), 20000))
	}
}
