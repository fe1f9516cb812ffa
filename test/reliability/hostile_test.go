package reliability_test

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/byourside/bys-mcp/config"
	"github.com/byourside/bys-mcp/internal/app"
	"github.com/byourside/bys-mcp/internal/sandbox"
	"github.com/byourside/bys-mcp/internal/testkit"
	"github.com/byourside/bys-mcp/schema"
)

// recordedSandboxApp is a sandbox app whose API requests are recorded (and
// kept).
func recordedSandboxApp(t testing.TB, adjust func(*config.Config)) (*app.App, *testkit.APIRecorder) {
	t.Helper()
	rec := &testkit.APIRecorder{Keep: true}
	a := testkit.SandboxApp(t, func(cfg *config.Config) {
		cfg.DedupeWindow = 0
		if adjust != nil {
			adjust(cfg)
		}
	}, newLogger(t), app.Options{
		SandboxOptions: sandbox.Options{TimeScale: 50, RateLimitPerMinute: -1, MinuteCap: -1},
		Poll:           testkit.FastPoll(),
		WrapTransport:  rec.Transport,
	})
	return a, rec
}

// checkAPIBounds fails the test when anything sent to the API breaks the
// documented bounds: bodies of at most 256 KiB of valid UTF-8, an objective
// of at most 4000 characters, a context of at most 8000, at most 20 fields,
// and a list limit of at most 100.
func checkAPIBounds(t *testing.T, rec *testkit.APIRecorder) {
	t.Helper()
	for _, q := range rec.Requests() {
		if len(q.Body) > 256<<10 {
			t.Errorf("%s %s: body of %d bytes sent to the API", q.Method, q.URL.Path, len(q.Body))
		}
		if !utf8.Valid(q.Body) {
			t.Errorf("%s %s: invalid UTF-8 sent to the API: %q", q.Method, q.URL.Path, truncate(string(q.Body), 200))
		}
		if l := q.URL.Query().Get("limit"); l != "" {
			if n, err := strconv.Atoi(l); err != nil || n < 1 || n > 100 {
				t.Errorf("list limit %q sent to the API", l)
			}
		}
		if q.Method != http.MethodPost {
			continue
		}
		var body struct {
			Objective string            `json:"objective"`
			Context   string            `json:"context"`
			Fields    []json.RawMessage `json:"fields"`
		}
		if err := json.Unmarshal(q.Body, &body); err != nil {
			t.Errorf("POST body is not JSON: %v", err)
			continue
		}
		if n := utf8.RuneCountInString(body.Objective); n > schema.MaxObjectiveLen || strings.TrimSpace(body.Objective) == "" {
			t.Errorf("objective of %d characters sent to the API", n)
		}
		if n := utf8.RuneCountInString(body.Context); n > schema.MaxContextLen {
			t.Errorf("context of %d characters sent to the API", n)
		}
		if len(body.Fields) > schema.MaxFields {
			t.Errorf("%d fields sent to the API", len(body.Fields))
		}
	}
}

// hostileCase is one hostile message and what must come back.
type hostileCase struct {
	name string
	// msg builds the message with the given id.
	msg func(id int) []byte
	// want checks the response (the decoded JSON-RPC message); "" when good.
	want func(resp map[string]any) string
	// nullID is set when the answer cannot carry the request's id (the
	// message could not be parsed).
	nullID bool
	// httpStatuses are acceptable HTTP statuses for this message besides 200.
	httpStatuses []int
}

func toolsCall(id int, name string, args string) []byte {
	return []byte(fmt.Sprintf(`{"jsonrpc":"2.0","id":%d,"method":"tools/call","params":{"name":%q,"arguments":%s}}`, id, name, args))
}

func wantRPCError(codes ...int) func(map[string]any) string {
	return func(m map[string]any) string {
		e, ok := m["error"].(map[string]any)
		if !ok {
			return fmt.Sprintf("want a JSON-RPC error, got %v", truncate(fmt.Sprint(m), 300))
		}
		if msg, _ := e["message"].(string); msg == "" {
			return "JSON-RPC error without a message"
		}
		code, _ := e["code"].(float64)
		for _, c := range codes {
			if int(code) == c {
				return ""
			}
		}
		return fmt.Sprintf("JSON-RPC error code %v, want one of %v (%v)", code, codes, e["message"])
	}
}

// wantToolError wants an isError tool result whose text contains every
// fragment.
func wantToolError(fragments ...string) func(map[string]any) string {
	return func(m map[string]any) string {
		res, ok := m["result"].(map[string]any)
		if !ok {
			return fmt.Sprintf("want an isError tool result, got %v", truncate(fmt.Sprint(m), 300))
		}
		if res["isError"] != true {
			return fmt.Sprintf("want isError, got %v", truncate(fmt.Sprint(res), 300))
		}
		text := fmt.Sprint(res["content"])
		for _, f := range fragments {
			if !strings.Contains(text, f) {
				return fmt.Sprintf("isError text does not say %q: %s", f, truncate(text, 300))
			}
		}
		return ""
	}
}

// wantErrorOrValid accepts a JSON-RPC error, an isError result, or a
// successful result: what matters is an answer and no crash.
func wantErrorOrValid(m map[string]any) string {
	if _, ok := m["error"]; ok {
		return ""
	}
	if _, ok := m["result"]; ok {
		return ""
	}
	return fmt.Sprintf("neither result nor error: %v", truncate(fmt.Sprint(m), 300))
}

func deepNesting(levels int) string {
	return strings.Repeat("[", levels) + strings.Repeat("]", levels)
}

func hostileCases() []hostileCase {
	tenMB := strings.Repeat("A", 10<<20)
	var fields10k bytes.Buffer
	fields10k.WriteString(`{"to":"+14155550123","objective":"x","fields":[`)
	for i := 0; i < 10000; i++ {
		if i > 0 {
			fields10k.WriteByte(',')
		}
		fmt.Fprintf(&fields10k, `{"name":"f%d"}`, i)
	}
	fields10k.WriteString(`]}`)
	var keys10k bytes.Buffer
	keys10k.WriteString(`{"to":"+14155550123","objective":"x"`)
	for i := 0; i < 10000; i++ {
		fmt.Fprintf(&keys10k, `,"k%d":%d`, i, i)
	}
	keys10k.WriteString(`}`)
	return []hostileCase{
		{name: "not_json", msg: func(int) []byte { return []byte(`{"jsonrpc":"2.0","id":`) }, nullID: true, want: wantRPCError(-32700), httpStatuses: []int{400}},
		{name: "garbage", msg: func(int) []byte { return []byte("\x00\x01GET / HTTP/1.1") }, nullID: true, want: wantRPCError(-32700), httpStatuses: []int{400}},
		{name: "json_array", msg: func(int) []byte { return []byte(`[1,2,3]`) }, nullID: true, want: wantRPCError(-32700, -32600), httpStatuses: []int{400}},
		{name: "json_number", msg: func(int) []byte { return []byte(`42`) }, nullID: true, want: wantRPCError(-32700, -32600), httpStatuses: []int{400}},
		{name: "wrong_jsonrpc_version", msg: func(id int) []byte {
			return []byte(fmt.Sprintf(`{"jsonrpc":"1.0","id":%d,"method":"ping"}`, id))
		}, want: wantRPCError(-32600), httpStatuses: []int{400}},
		{name: "unknown_method", msg: func(id int) []byte {
			return []byte(fmt.Sprintf(`{"jsonrpc":"2.0","id":%d,"method":"no/such/method","params":{}}`, id))
		}, want: wantRPCError(-32601), httpStatuses: []int{400, 404}},
		{name: "unknown_tool", msg: func(id int) []byte { return toolsCall(id, "rm_rf_everything", `{}`) }, want: wantRPCError(-32602, -32601), httpStatuses: []int{400, 404}},
		{name: "params_not_object", msg: func(id int) []byte {
			return []byte(fmt.Sprintf(`{"jsonrpc":"2.0","id":%d,"method":"tools/call","params":"place_call"}`, id))
		}, want: wantRPCError(-32602, -32600, -32700), httpStatuses: []int{400}},
		{name: "arguments_not_object", msg: func(id int) []byte { return toolsCall(id, "list_calls", `"limit=5"`) }, want: func(m map[string]any) string {
			if wantRPCError(-32602)(m) == "" {
				return ""
			}
			return wantToolError("invalid_argument")(m)
		}, httpStatuses: []int{400}},
		{name: "wrong_type_limit", msg: func(id int) []byte { return toolsCall(id, "list_calls", `{"limit":"ten"}`) }, want: wantToolError("invalid_argument", "limit")},
		{name: "wrong_type_timeout", msg: func(id int) []byte { return toolsCall(id, "wait_for_call", `{"callId":"abc","timeoutSec":[1]}`) }, want: wantToolError("invalid_argument", "timeoutSec")},
		{name: "wrong_type_to", msg: func(id int) []byte { return toolsCall(id, "place_call", `{"to":14155550123,"objective":"x"}`) }, want: wantToolError("invalid_argument", "to")},
		{name: "wrong_type_fields", msg: func(id int) []byte {
			return toolsCall(id, "place_call", `{"to":"+14155550123","objective":"x","fields":{"a":1}}`)
		}, want: wantToolError("invalid_argument", "fields")},
		{name: "objective_10MB", msg: func(id int) []byte {
			return toolsCall(id, "place_call", fmt.Sprintf(`{"to":"+14155550123","objective":%q}`, tenMB))
		}, want: wantRPCError(-32600), httpStatuses: []int{413}},
		{name: "objective_4001", msg: func(id int) []byte {
			return toolsCall(id, "place_call", fmt.Sprintf(`{"to":"+14155550123","objective":%q}`, strings.Repeat("é", 4001)))
		}, want: wantToolError("invalid_argument", "objective", "4000")},
		{name: "context_8001", msg: func(id int) []byte {
			return toolsCall(id, "place_call", fmt.Sprintf(`{"to":"+14155550123","objective":"x","context":%q}`, strings.Repeat("c", 8001)))
		}, want: wantToolError("invalid_argument", "context", "8000")},
		{name: "fields_10000", msg: func(id int) []byte { return toolsCall(id, "place_call", fields10k.String()) }, want: wantToolError("invalid_argument", "fields", "20")},
		{name: "argument_keys_10000", msg: func(id int) []byte { return toolsCall(id, "place_call", keys10k.String()) }, want: wantToolError("invalid_argument", "unknown argument")},
		{name: "nested_100k_in_arguments", msg: func(id int) []byte {
			return toolsCall(id, "get_call", fmt.Sprintf(`{"callId":%s}`, deepNesting(100000)))
		}, nullID: true, want: wantRPCError(-32700, -32600, -32602), httpStatuses: []int{400}},
		{name: "nested_100k_message", msg: func(int) []byte { return []byte(deepNesting(100000)) }, nullID: true, want: wantRPCError(-32700, -32600), httpStatuses: []int{400}},
		{name: "nested_5k_in_arguments", msg: func(id int) []byte {
			return toolsCall(id, "get_call", fmt.Sprintf(`{"callId":%s}`, deepNesting(5000)))
		}, want: func(m map[string]any) string {
			if wantRPCError(-32700, -32602)(m) == "" {
				return ""
			}
			return wantToolError("invalid_argument", "callId")(m)
		}},
		{name: "invalid_utf8_objective", msg: func(id int) []byte {
			return toolsCall(id, "place_call", "{\"to\":\"+14155550123\",\"objective\":\"Book \xff\xfe\xfd a table \xc3\x28\"}")
		}, want: wantErrorOrValid},
		{name: "invalid_utf8_call_id", msg: func(id int) []byte { return toolsCall(id, "get_call", "{\"callId\":\"\xff\xfeabc\"}") }, want: wantToolError("invalid_argument", "callId")},
		{name: "invalid_utf8_method", msg: func(id int) []byte {
			return []byte(fmt.Sprintf("{\"jsonrpc\":\"2.0\",\"id\":%d,\"method\":\"tools/\xff\xfe\"}", id))
		}, want: wantRPCError(-32601), httpStatuses: []int{400, 404}},
		{name: "limit_1000", msg: func(id int) []byte { return toolsCall(id, "list_calls", `{"limit":1000}`) }, want: func(m map[string]any) string {
			// Refused, or clamped to 100: checkAPIBounds checks what was sent.
			return wantErrorOrValid(m)
		}},
		{name: "call_id_path_traversal", msg: func(id int) []byte { return toolsCall(id, "get_call", `{"callId":"../../v1/agent/calls?limit=100"}`) }, want: wantToolError("invalid_argument", "callId")},
		{name: "timeout_huge", msg: func(id int) []byte { return toolsCall(id, "wait_for_call", `{"callId":"abc","timeoutSec":1e300}`) }, want: wantToolError("invalid_argument", "timeoutSec")},
	}
}

// describe summarises a JSON-RPC answer in one line for the logs.
func describe(m map[string]any) string {
	if e, ok := m["error"].(map[string]any); ok {
		return fmt.Sprintf("JSON-RPC error %v: %s", e["code"], truncate(fmt.Sprint(e["message"]), 100))
	}
	if r, ok := m["result"].(map[string]any); ok {
		if r["isError"] == true {
			sc, _ := r["structuredContent"].(map[string]any)
			return fmt.Sprintf("isError %v: %s", sc["error"], truncate(fmt.Sprint(sc["hint"]), 100))
		}
		return "result ok"
	}
	return truncate(fmt.Sprint(m), 100)
}

// stdioSession drives a.Server.ServeStdio over pipes.
type stdioSession struct {
	t     *testing.T
	in    *io.PipeWriter
	lines chan []byte
}

func startStdio(t *testing.T, a *app.App) *stdioSession {
	inR, inW := io.Pipe()
	outR, outW := io.Pipe()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Server.ServeStdio(ctx, inR, outW, nil); _ = outW.Close() }()
	s := &stdioSession{t: t, in: inW, lines: make(chan []byte, 64)}
	go func() {
		defer close(s.lines)
		r := bufio.NewReaderSize(outR, 1<<20)
		for {
			line, err := r.ReadBytes('\n')
			if len(line) > 0 {
				s.lines <- line
			}
			if err != nil {
				return
			}
		}
	}()
	t.Cleanup(func() {
		_ = inW.Close()
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("ServeStdio returned %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Errorf("ServeStdio did not return within 10 s of stdin closing")
		}
		_ = outR.Close()
	})
	return s
}

func (s *stdioSession) send(msg []byte) {
	s.t.Helper()
	errc := make(chan error, 1)
	go func() {
		_, err := s.in.Write(append(append([]byte(nil), msg...), '\n'))
		errc <- err
	}()
	select {
	case err := <-errc:
		if err != nil {
			s.t.Fatalf("writing to stdin: %v", err)
		}
	case <-time.After(20 * time.Second):
		s.t.Fatalf("the server did not read a %d-byte message within 20 s", len(msg))
	}
}

// expect waits for the response with id (or a null id), skipping
// notifications; every stdout line must be a JSON-RPC message.
func (s *stdioSession) expect(id string) map[string]any {
	s.t.Helper()
	timeout := time.After(15 * time.Second)
	for {
		select {
		case line, ok := <-s.lines:
			if !ok {
				s.t.Fatalf("stdout closed while waiting for id %s", id)
			}
			var m map[string]any
			if err := json.Unmarshal(line, &m); err != nil {
				s.t.Fatalf("stdout line is not JSON: %v: %q", err, truncate(string(line), 200))
			}
			if m["jsonrpc"] != "2.0" {
				s.t.Errorf("stdout line is not JSON-RPC 2.0: %q", truncate(string(line), 200))
			}
			raw, _ := json.Marshal(m["id"])
			if string(raw) == id {
				return m
			}
		case <-timeout:
			s.t.Fatalf("no response with id %s within 15 s", id)
			return nil
		}
	}
}

// TestHostileClientsStdio sends every hostile message over stdio, each
// followed by a valid request that must succeed.
func TestHostileClientsStdio(t *testing.T) {
	a, rec := recordedSandboxApp(t, nil)
	s := startStdio(t, a)
	s.send([]byte(initializeBody))
	if m := s.expect("1"); m["result"] == nil {
		t.Fatalf("initialize failed: %v", m)
	}
	s.send([]byte(`{"jsonrpc":"2.0","method":"notifications/initialized"}`))
	served := 0
	for i, c := range hostileCases() {
		id := 100 + 2*i
		t.Run(c.name, func(t *testing.T) {
			s.t = t
			s.send(c.msg(id))
			want := strconv.Itoa(id)
			if c.nullID {
				want = "null"
			}
			resp := s.expect(want)
			t.Logf("stdio %s -> %s", c.name, describe(resp))
			if msg := c.want(resp); msg != "" {
				t.Errorf("%s", msg)
			}
			// The server keeps serving.
			s.send(toolsCall(id+1, "list_calls", `{"limit":1}`))
			next := s.expect(strconv.Itoa(id + 1))
			if r, ok := next["result"].(map[string]any); !ok || r["isError"] == true {
				t.Errorf("the request after %s failed: %v", c.name, truncate(fmt.Sprint(next), 300))
			}
			served += 2
		})
	}
	s.t = t
	checkAPIBounds(t, rec)
	t.Logf("stdio: %d hostile messages answered, %d requests served after them, %d API requests, all within bounds", len(hostileCases()), served/2, len(rec.Requests()))
}

// httpSession is a raw 2025-11-25 Streamable HTTP session.
type httpSession struct {
	url, id string
}

func newHTTPSession(t *testing.T, base string) *httpSession {
	t.Helper()
	status, hdr, body := rawPost(t, base+"/mcp", nil, []byte(initializeBody))
	if status != 200 {
		t.Fatalf("initialize: %d %s", status, body)
	}
	s := &httpSession{url: base + "/mcp", id: hdr.Get("Mcp-Session-Id")}
	if s.id == "" {
		t.Fatalf("initialize returned no Mcp-Session-Id")
	}
	status, _, body = s.post(t, []byte(`{"jsonrpc":"2.0","method":"notifications/initialized"}`))
	if status != 202 && status != 200 {
		t.Fatalf("notifications/initialized: %d %s", status, body)
	}
	return s
}

func (s *httpSession) post(t *testing.T, body []byte) (int, http.Header, string) {
	return rawPost(t, s.url, http.Header{"Mcp-Session-Id": {s.id}, "Mcp-Protocol-Version": {"2025-11-25"}}, body)
}

// rpcFromBody decodes a JSON or SSE response body into its (last) JSON-RPC
// message; nil when there is none.
func rpcFromBody(body string) map[string]any {
	var m map[string]any
	if json.Unmarshal([]byte(body), &m) == nil {
		return m
	}
	for _, line := range strings.Split(body, "\n") {
		if d, ok := strings.CutPrefix(line, "data:"); ok {
			var mm map[string]any
			if json.Unmarshal([]byte(strings.TrimSpace(d)), &mm) == nil && (mm["result"] != nil || mm["error"] != nil) {
				m = mm
			}
		}
	}
	return m
}

// TestHostileClientsHTTP sends every hostile message over Streamable HTTP,
// each followed by a valid request on the same session that must succeed.
func TestHostileClientsHTTP(t *testing.T) {
	h := serveHTTP(t, "http", func(c *config.Config) { c.DedupeWindow = 0; c.MaxBodyBytes = 16 << 20 })
	// Bodies over the 1 MiB default cap are refused with 413 before any
	// parsing; with the cap raised to 16 MiB the 10 MB objective reaches the
	// argument validation instead. Both are tested (the default below).
	s := newHTTPSession(t, h.URL)
	for i, c := range hostileCases() {
		id := 100 + 2*i
		t.Run(c.name, func(t *testing.T) {
			status, _, body := s.post(t, c.msg(id))
			m := rpcFromBody(body)
			t.Logf("http %s -> HTTP %d, %s", c.name, status, describe(m))
			okStatus := status == 200 || status == 202
			for _, st := range c.httpStatuses {
				okStatus = okStatus || status == st
			}
			if !okStatus {
				t.Errorf("HTTP %d: %s", status, truncate(body, 300))
			}
			switch {
			case c.name == "objective_10MB":
				// Under a 16 MiB cap the objective reaches validation.
				if msg := wantToolError("invalid_argument", "objective")(m); msg != "" && status != 413 {
					t.Errorf("%s", msg)
				}
			case m == nil:
				if status/100 == 2 {
					t.Errorf("HTTP %d without a JSON-RPC answer: %q", status, truncate(body, 300))
				}
			default:
				if msg := c.want(m); msg != "" {
					t.Errorf("HTTP %d: %s", status, msg)
				}
			}
			status, _, body = s.post(t, toolsCall(id+1, "list_calls", `{"limit":1}`))
			next := rpcFromBody(body)
			if r, ok := next["result"].(map[string]any); status != 200 || !ok || r["isError"] == true {
				t.Errorf("the request after %s failed: HTTP %d %s", c.name, status, truncate(body, 300))
			}
		})
	}

	// With the default 1 MiB body cap, the 10 MB objective is refused at once.
	d := serveHTTP(t, "http", nil)
	ds := newHTTPSession(t, d.URL)
	status, _, body := ds.post(t, toolsCall(7, "place_call", fmt.Sprintf(`{"to":"+14155550123","objective":%q}`, strings.Repeat("A", 10<<20))))
	if status != http.StatusRequestEntityTooLarge {
		t.Errorf("10 MB body under the default cap: HTTP %d, want 413: %s", status, truncate(body, 200))
	} else if m := rpcFromBody(body); wantRPCError(-32600)(m) != "" || fmt.Sprint(m["id"]) != "7" {
		t.Errorf("413 body is not a JSON-RPC error for id 7: %s", truncate(body, 200))
	}
	status, _, body = ds.post(t, toolsCall(8, "list_calls", `{"limit":1}`))
	if status != 200 || rpcFromBody(body)["result"] == nil {
		t.Errorf("the request after the 413 failed: HTTP %d %s", status, truncate(body, 200))
	}
}

// TestBoundsBeforeTheAPI: arguments beyond the documented bounds are
// refused before anything is sent to the API, through the MCP layer.
func TestBoundsBeforeTheAPI(t *testing.T) {
	a, rec := recordedSandboxApp(t, nil)
	c := inProcess(t, a)
	ctx := context.Background()
	fields := func(n int) []map[string]any {
		out := make([]map[string]any, n)
		for i := range out {
			out[i] = map[string]any{"name": fmt.Sprintf("f%d", i)}
		}
		return out
	}
	cases := []struct {
		name string
		tool string
		args map[string]any
		want string // token; "" is invalid_argument
	}{
		{"objective 4001", "place_call", placeArgs(strings.Repeat("x", 4001)), ""},
		{"objective blank", "place_call", placeArgs("   "), ""},
		{"context 8001", "place_call", map[string]any{"to": "+14155550123", "objective": "x", "context": strings.Repeat("x", 8001)}, ""},
		{"21 fields", "place_call", map[string]any{"to": "+14155550123", "objective": "x", "fields": fields(21)}, ""},
		{"field description 501", "place_call", map[string]any{"to": "+14155550123", "objective": "x", "fields": []map[string]any{{"name": "a", "description": strings.Repeat("d", 501)}}}, ""},
		{"field name 65", "place_call", map[string]any{"to": "+14155550123", "objective": "x", "fields": []map[string]any{{"name": strings.Repeat("a", 65)}}}, ""},
		{"webhook http", "place_call", map[string]any{"to": "+14155550123", "objective": "x", "webhookUrl": "http://example.com/h"}, ""},
		{"webhook 3000", "place_call", map[string]any{"to": "+14155550123", "objective": "x", "webhookUrl": "https://example.com/" + strings.Repeat("a", 3000)}, ""},
		{"to not E.164", "place_call", map[string]any{"to": "4155550123", "objective": "x"}, "invalid_number"},
		{"to too short", "place_call", map[string]any{"to": "+1415555", "objective": "x"}, "invalid_number"},
		{"callerId not E.164", "place_call", map[string]any{"to": "+14155550123", "objective": "x", "callerId": "+1 415"}, ""},
		{"callId 129", "get_call", map[string]any{"callId": strings.Repeat("a", 129)}, ""},
		{"callId slash", "get_call", map[string]any{"callId": "a/b"}, ""},
		{"limit 0", "list_calls", map[string]any{"limit": 0}, ""},
		{"limit -1", "list_calls", map[string]any{"limit": -1}, ""},
		{"timeoutSec 0", "wait_for_call", map[string]any{"callId": "abc", "timeoutSec": 0}, ""},
		{"timeoutSec 301", "wait_for_call", map[string]any{"callId": "abc", "timeoutSec": 301}, ""},
	}
	for _, tc := range cases {
		before := len(rec.Requests())
		res, err := callTool(ctx, c, tc.tool, tc.args)
		if err != nil {
			t.Errorf("%s: protocol error: %v", tc.name, err)
			continue
		}
		if msg := clearError(res); msg != "" {
			t.Errorf("%s: %s", tc.name, msg)
		} else if want := cmp.Or(tc.want, "invalid_argument"); structured(res)["error"] != want {
			t.Errorf("%s: token %v, want %s", tc.name, structured(res)["error"], want)
		}
		if n := len(rec.Requests()) - before; n != 0 {
			t.Errorf("%s: %d API requests sent for refused arguments", tc.name, n)
		}
	}
	// limit above 100: refused or clamped, never sent on.
	res, err := callTool(ctx, c, "list_calls", map[string]any{"limit": 101})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("list_calls limit 101: isError=%v %s", res.IsError, truncate(testkit.TextOf(res), 160))
	checkAPIBounds(t, rec)
}
