package sandbox_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/byourside/bys-mcp/internal/sandbox"
)

const keyA, keyB = "bys_ak_alice", "bys_ak_bob"

var t0 = time.Date(2026, 6, 17, 14, 3, 11, 0, time.UTC)

type env struct {
	t     *testing.T
	srv   *httptest.Server
	sb    *sandbox.Sandbox
	clock *sandbox.ManualClock
}

// newEnv serves a sandbox on a manual clock over real HTTP.
func newEnv(t *testing.T, opts sandbox.Options) *env {
	t.Helper()
	clock := sandbox.NewManualClock(t0)
	if opts.Clock == nil {
		opts.Clock = clock
	}
	sb := sandbox.New(opts)
	srv := httptest.NewServer(sb)
	t.Cleanup(srv.Close)
	return &env{t: t, srv: srv, sb: sb, clock: clock}
}

type resp struct {
	status int
	header http.Header
	body   map[string]any
	raw    []byte
}

func (r resp) token() string { s, _ := r.body["error"].(string); return s }

func (e *env) do(method, path, key string, body any) resp {
	e.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = bytes.NewReader([]byte(b))
	case []byte:
		rd = bytes.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			e.t.Fatal(err)
		}
		rd = bytes.NewReader(j)
	}
	req, err := http.NewRequest(method, e.srv.URL+path, rd)
	if err != nil {
		e.t.Fatal(err)
	}
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := e.srv.Client().Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	if ct := res.Header.Get("Content-Type"); ct != "application/json" {
		e.t.Fatalf("%s %s: Content-Type %q, want application/json", method, path, ct)
	}
	out := resp{status: res.StatusCode, header: res.Header, raw: raw}
	if err := json.Unmarshal(raw, &out.body); err != nil {
		e.t.Fatalf("%s %s: body %q is not a JSON object: %v", method, path, raw, err)
	}
	return out
}

// place places a call and returns its id, failing the test otherwise.
func (e *env) place(key string, body map[string]any) string {
	e.t.Helper()
	r := e.do("POST", "/v1/agent/calls", key, body)
	if r.status != 200 {
		e.t.Fatalf("place %v: %d %s", body, r.status, r.raw)
	}
	id, _ := r.body["callId"].(string)
	return id
}

func (e *env) get(key, id string) map[string]any {
	e.t.Helper()
	r := e.do("GET", "/v1/agent/calls/"+id, key, nil)
	if r.status != 200 {
		e.t.Fatalf("get %s: %d %s", id, r.status, r.raw)
	}
	return r.body
}

func (e *env) list(key, query string) []map[string]any {
	e.t.Helper()
	r := e.do("GET", "/v1/agent/calls"+query, key, nil)
	if r.status != 200 {
		e.t.Fatalf("list %s: %d %s", query, r.status, r.raw)
	}
	var out struct {
		Calls []map[string]any `json:"calls"`
	}
	if err := json.Unmarshal(r.raw, &out); err != nil || out.Calls == nil {
		e.t.Fatalf("list body %s: %v", r.raw, err)
	}
	return out.Calls
}

func call(to string) map[string]any {
	return map[string]any{"to": to, "objective": "Book a table for 4 at 7 PM Friday."}
}

// with returns e reporting to t (for subtests sharing one sandbox).
func (e *env) with(t *testing.T) *env { c := *e; c.t = t; return &c }

func newServer(t *testing.T, h http.Handler) *httptest.Server {
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}
