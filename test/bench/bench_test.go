package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/byourside/bys-mcp/internal/app"
	"github.com/byourside/bys-mcp/internal/sandbox"
	"github.com/byourside/bys-mcp/internal/testkit"
	mcpclient "github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/mcp"
)

// stableSandbox serves a standalone sandbox on loopback holding one
// completed call (the clock is moved past its end, so every request sees the
// same full record: summary, transcript, extracted fields). It returns the
// server and the call id.
func stableSandbox(b *testing.B) (*httptest.Server, string) {
	b.Helper()
	clock := sandbox.NewManualClock(time.Now())
	opts := unlimited
	opts.Clock = clock
	srv := testkit.SandboxServer(b, opts)
	id := placeDirect(b, apiClient(), srv.URL, "+14155550123")
	clock.Advance(time.Minute)
	return srv, id
}

// inProcessClient connects mcp-go's in-process client to a's server.
func inProcessClient(b *testing.B, a *app.App) *mcpclient.Client {
	b.Helper()
	return testkit.InProcessClient(b, a, "bys-bench", "2025-11-25")
}

func getCallRequest(id string) mcp.CallToolRequest {
	req := mcp.CallToolRequest{}
	req.Params.Name = "get_call"
	req.Params.Arguments = map[string]any{"callId": id}
	return req
}

func callInProcess(b *testing.B, c *mcpclient.Client, req mcp.CallToolRequest) {
	res, err := c.CallTool(context.Background(), req)
	if err != nil {
		b.Fatal(err)
	}
	if res.IsError {
		b.Fatalf("%s: isError: %+v", req.Params.Name, res.Content)
	}
}

// BenchmarkGetCall measures one get_call per op on each path to the same
// standalone sandbox on loopback: the direct GET (the baseline), mcp-go's
// in-process client, the bys-mcp binary over stdio, and Streamable HTTP.
// Allocations are those of this process: client and server for inprocess
// and http, the client only for stdio.
func BenchmarkGetCall(b *testing.B) {
	srv, id := stableSandbox(b)
	b.Run("direct", func(b *testing.B) {
		d := newDirectGet(srv.URL, id)
		d.do(b)
		b.ReportAllocs()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			d.do(b)
		}
	})
	b.Run("inprocess", func(b *testing.B) {
		c := inProcessClient(b, newAppAt(b, srv.URL, "stdio"))
		req := getCallRequest(id)
		callInProcess(b, c, req)
		b.ReportAllocs()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			callInProcess(b, c, req)
		}
	})
	b.Run("stdio", func(b *testing.B) {
		s := startStdio(b, []string{"--base-url", srv.URL}, "BYS_API_KEY="+benchKey)
		benchToolsCall(b, s.call, getCallParams(id))
	})
	b.Run("http", func(b *testing.B) {
		url := serveHTTP(b, newAppAt(b, srv.URL, "http"))
		s := newHTTPSession(b, apiClient(), url)
		benchToolsCall(b, s.call, getCallParams(id))
	})
}

// benchToolsCall checks one tools/call with params through call (a
// session's), then times b.N more.
func benchToolsCall(b *testing.B, call func(tb testing.TB, method, params string) []byte, params string) {
	checkResult(b, call(b, "tools/call", params))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		call(b, "tools/call", params)
	}
}

// BenchmarkGetCallOverhead runs, in every op, one direct GET, one get_call
// over stdio (the built binary), one over Streamable HTTP and one through
// the in-process client, all against the same standalone sandbox, so the
// four see the same machine noise. It reports each path's p50 and p99 and
// the overhead of each MCP path: its p50 (p99) minus the direct GET's.
func BenchmarkGetCallOverhead(b *testing.B) {
	srv, id := stableSandbox(b)
	d := newDirectGet(srv.URL, id)
	st := startStdio(b, []string{"--base-url", srv.URL}, "BYS_API_KEY="+benchKey)
	hs := newHTTPSession(b, apiClient(), serveHTTP(b, newAppAt(b, srv.URL, "http")))
	ip := inProcessClient(b, newAppAt(b, srv.URL, "stdio"))
	p := getCallParams(id)
	req := getCallRequest(id)
	paths := []struct {
		name string
		do   func()
	}{
		{"direct", func() { d.do(b) }},
		{"stdio", func() { st.call(b, "tools/call", p) }},
		{"http", func() { hs.call(b, "tools/call", p) }},
		{"inprocess", func() { callInProcess(b, ip, req) }},
	}
	checkResult(b, st.call(b, "tools/call", p))
	checkResult(b, hs.call(b, "tools/call", p))
	for range 20 { // warm connections and caches
		for _, q := range paths {
			q.do()
		}
	}
	times := make([][]time.Duration, len(paths))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for k := range paths {
			j := (k + i) % len(paths) // rotate the order
			t0 := time.Now()
			paths[j].do()
			times[j] = append(times[j], time.Since(t0))
		}
	}
	b.StopTimer()
	for j, q := range paths {
		reportQuantiles(b, q.name, times[j])
		if j > 0 {
			b.ReportMetric(float64((quantile(times[j], .5) - quantile(times[0], .5)).Nanoseconds()), q.name+"-overhead-p50-ns")
			b.ReportMetric(float64((quantile(times[j], .99) - quantile(times[0], .99)).Nanoseconds()), q.name+"-overhead-p99-ns")
		}
	}
}

// BenchmarkThroughput runs get_call over Streamable HTTP from 32 concurrent
// clients (one session each) and reports calls/s. "loopback" serves the API
// from a standalone sandbox on 127.0.0.1 (bys-mcp --base-url); "embedded"
// uses --sandbox (the simulator in process, no API socket).
func BenchmarkThroughput(b *testing.B) {
	const clients = 32
	run := func(b *testing.B, url, id string) {
		hc := apiClient()
		sessions := make([]*httpSession, clients)
		for i := range sessions {
			sessions[i] = newHTTPSession(b, hc, url)
		}
		p := getCallParams(id)
		checkResult(b, sessions[0].call(b, "tools/call", p))
		var n atomic.Int64
		var wg sync.WaitGroup
		b.ReportAllocs()
		b.ResetTimer()
		cpu0 := cpuTime()
		start := time.Now()
		for _, s := range sessions {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for n.Add(1) <= int64(b.N) {
					s.call(b, "tools/call", p)
				}
			}()
		}
		wg.Wait()
		el := time.Since(start)
		cpu := cpuTime() - cpu0
		b.StopTimer()
		b.ReportMetric(float64(b.N)/el.Seconds(), "calls/s")
		// CPU time of this whole process (32 clients, the server, and the
		// sandbox) per call: robust to a shared, loaded machine. 2 cores
		// divided by it is what the process would do with both to itself.
		b.ReportMetric(float64(cpu.Microseconds())/float64(b.N), "cpu-us/call")
		b.ReportMetric(2*float64(b.N)/cpu.Seconds(), "calls/s-at-2-free-cores")
	}
	b.Run("loopback", func(b *testing.B) {
		srv, id := stableSandbox(b)
		run(b, serveHTTP(b, newAppAt(b, srv.URL, "http")), id)
	})
	b.Run("embedded", func(b *testing.B) {
		clock := sandbox.NewManualClock(time.Now())
		opts := unlimited
		opts.Clock = clock
		a := newEmbeddedApp(b, "http", opts)
		rec := httptest.NewRecorder()
		r := httptest.NewRequest(http.MethodPost, "/v1/agent/calls", strings.NewReader(`{"to":"+14155550123","objective":"Benchmark call"}`))
		r.Header.Set("Authorization", "Bearer "+app.SandboxKey)
		r.Header.Set("Content-Type", "application/json")
		a.Sandbox.ServeHTTP(rec, r)
		var out struct {
			CallID string `json:"callId"`
		}
		if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil || out.CallID == "" {
			b.Fatalf("place: %d %s", rec.Code, rec.Body)
		}
		clock.Advance(time.Minute)
		run(b, serveHTTP(b, a), out.CallID)
	})
}

// cpuTime is the user plus system CPU time this process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkAllocs counts the server's own allocations per tool call, with
// no socket: "api" is the embedded sandbox answering the API request
// directly (what any client pays), "server" is the whole tool call handled
// by the MCP server (JSON-RPC decode, tool, API client, the sandbox itself,
// result encoding). server minus api is bys-mcp's cost.
func BenchmarkAllocs(b *testing.B) {
	clock := sandbox.NewManualClock(time.Now())
	opts := unlimited
	opts.Clock = clock
	a := newEmbeddedApp(b, "stdio", opts)
	srv := a.Server.MCP()
	ctx := context.Background()
	if resp := srv.HandleMessage(ctx, []byte(`{"jsonrpc":"2.0","id":0,"method":"initialize","params":`+initParams+`}`)); resp == nil {
		b.Fatal("initialize: no response")
	}
	sandboxDo := func(method, path, body string) []byte {
		rec := httptest.NewRecorder()
		var r *http.Request
		if body != "" {
			r = httptest.NewRequest(method, path, strings.NewReader(body))
			r.Header.Set("Content-Type", "application/json")
		} else {
			r = httptest.NewRequest(method, path, nil)
		}
		r.Header.Set("Authorization", "Bearer "+app.SandboxKey)
		a.Sandbox.ServeHTTP(rec, r)
		if rec.Code/100 != 2 {
			b.Fatalf("%s %s: %d %s", method, path, rec.Code, rec.Body)
		}
		return rec.Body.Bytes()
	}
	handle := func(msg []byte) {
		resp := srv.HandleMessage(ctx, msg)
		out, err := json.Marshal(resp)
		if err != nil {
			b.Fatal(err)
		}
		if !strings.Contains(string(out), `"result"`) || strings.Contains(string(out), `"isError":true`) {
			b.Fatalf("unexpected: %.300s", out)
		}
	}
	var out struct {
		CallID string `json:"callId"`
	}
	_ = json.Unmarshal(sandboxDo(http.MethodPost, "/v1/agent/calls", `{"to":"+14155550123","objective":"Benchmark call"}`), &out)
	clock.Advance(time.Minute)
	id := out.CallID
	getMsg := []byte(fmt.Sprintf(`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":%s}`, getCallParams(id)))

	b.Run("get_call/api", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			sandboxDo(http.MethodGet, "/v1/agent/calls/"+id, "")
		}
	})
	b.Run("get_call/server", func(b *testing.B) {
		handle(getMsg)
		b.ReportAllocs()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			handle(getMsg)
		}
	})
	// Every placement has a distinct objective, so none is deduplicated
	// (deduplication is part of place_call's cost and is exercised).
	var seq atomic.Int64
	b.Run("place_call/api", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			sandboxDo(http.MethodPost, "/v1/agent/calls", fmt.Sprintf(`{"to":"+14155550123","objective":"Benchmark call %d"}`, seq.Add(1)))
		}
	})
	b.Run("place_call/server", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			handle(fmt.Appendf(nil, `{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"place_call","arguments":{"to":"+14155550123","objective":"Benchmark call %d"}}}`, seq.Add(1)))
		}
	})
}
