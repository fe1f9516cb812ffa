package sandbox_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/byourside/bys-mcp/internal/sandbox"
)

func TestAuthentication(t *testing.T) {
	e := newEnv(t, sandbox.Options{})
	id := e.place(keyA, call("+14155550123"))
	for _, tc := range []struct{ name, header string }{
		{"no header", ""},
		{"basic scheme", "Basic Ynlz"},
		{"bearer without key", "Bearer "},
		{"key prefix only", "Bearer bys_ak_"},
		{"wrong key prefix", "Bearer sk_live_123"},
		{"key with space", "Bearer bys_ak_a b"},
		{"no scheme", "bys_ak_alice"},
		{"overlong key", "Bearer bys_ak_" + strings.Repeat("x", 600)},
	} {
		for _, rt := range []struct{ method, path, body string }{
			{"POST", "/v1/agent/calls", `{"to":"+14155550123","objective":"x"}`},
			{"GET", "/v1/agent/calls", ""},
			{"GET", "/v1/agent/calls/" + id, ""},
		} {
			t.Run(tc.name+" "+rt.method+" "+rt.path, func(t *testing.T) {
				req, _ := http.NewRequest(rt.method, e.srv.URL+rt.path, strings.NewReader(rt.body))
				if tc.header != "" {
					req.Header.Set("Authorization", tc.header)
				}
				res, err := e.srv.Client().Do(req)
				if err != nil {
					t.Fatal(err)
				}
				res.Body.Close()
				if res.StatusCode != 401 || res.Header.Get("Content-Type") != "application/json" {
					t.Fatalf("got %d %q, want 401 application/json", res.StatusCode, res.Header.Get("Content-Type"))
				}
			})
		}
	}
	t.Run("lower-case bearer scheme is accepted", func(t *testing.T) {
		req, _ := http.NewRequest("GET", e.srv.URL+"/v1/agent/calls", nil)
		req.Header.Set("Authorization", "bearer "+keyA)
		res, err := e.srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != 200 {
			t.Fatalf("got %d", res.StatusCode)
		}
	})
	if r := e.do("GET", "/v1/agent/calls", "", nil); r.token() != "unauthorized" {
		t.Fatalf("token %q, want unauthorized", r.token())
	}
}

func TestRouting(t *testing.T) {
	e := newEnv(t, sandbox.Options{})
	id := e.place(keyA, call("+14155550123"))
	for _, tc := range []struct {
		method, path string
		status       int
		token, allow string
	}{
		{"GET", "/", 404, "not_found", ""},
		{"GET", "/v1/agent", 404, "not_found", ""},
		{"GET", "/v1/agent/calls/", 404, "not_found", ""},
		{"GET", "/v1/agent/calls/" + id + "/recording", 404, "not_found", ""},
		{"GET", "/v1/agent/calls/00000000-0000-4000-8000-000000000000", 404, "not_found", ""},
		{"PUT", "/v1/agent/calls", 405, "method_not_allowed", "GET, POST"},
		{"DELETE", "/v1/agent/calls/" + id, 405, "method_not_allowed", "GET"},
		{"POST", "/v1/agent/calls/" + id, 405, "method_not_allowed", "GET"},
	} {
		t.Run(tc.method+" "+tc.path, func(t *testing.T) {
			e := e.with(t)
			r := e.do(tc.method, tc.path, keyA, nil)
			if r.status != tc.status || r.token() != tc.token || r.header.Get("Allow") != tc.allow {
				t.Fatalf("got %d %s Allow=%q", r.status, r.raw, r.header.Get("Allow"))
			}
		})
	}
}

func TestPlaceCallValidation(t *testing.T) {
	long := make([]map[string]any, 21)
	for i := range long {
		long[i] = map[string]any{"name": fmt.Sprintf("f%d", i)}
	}
	ok := `"to":"+14155550123","objective":"Ask the opening hours"`
	for _, tc := range []struct {
		name, body string
		status     int
		token      string
	}{
		{"not JSON", `{"to":`, 400, "invalid_request"},
		{"JSON array", `[1,2]`, 400, "invalid_request"},
		{"JSON string", `"hello"`, 400, "invalid_request"},
		{"trailing data", `{` + ok + `} {}`, 400, "invalid_request"},
		{"empty body", ``, 400, "invalid_request"},
		{"JSON null body", `null`, 400, "to_required"},
		{"to missing", `{"objective":"x"}`, 400, "to_required"},
		{"to empty", `{"to":"","objective":"x"}`, 400, "to_required"},
		{"to null", `{"to":null,"objective":"x"}`, 400, "to_required"},
		{"to missing beats objective missing", `{}`, 400, "to_required"},
		{"objective missing", `{"to":"+14155550123"}`, 400, "objective_required"},
		{"objective empty", `{"to":"+14155550123","objective":""}`, 400, "objective_required"},
		{"objective whitespace", `{"to":"+14155550123","objective":"  \n\t"}`, 400, "objective_required"},
		{"objective not a string", `{"to":"+14155550123","objective":42}`, 400, "objective_required"},
		{"objective checked before number format", `{"to":"12","objective":""}`, 400, "objective_required"},
		{"to not a string", `{"to":14155550123,"objective":"x"}`, 400, "invalid_number"},
		{"to without plus", `{"to":"14155550123","objective":"x"}`, 400, "invalid_number"},
		{"to too short", `{"to":"+12345","objective":"x"}`, 400, "invalid_number"},
		{"to too long", `{"to":"+1234567890123456","objective":"x"}`, 400, "invalid_number"},
		{"to leading zero", `{"to":"+04155550123","objective":"x"}`, 400, "invalid_number"},
		{"to with spaces", `{"to":"+1 415 555 0123","objective":"x"}`, 400, "invalid_number"},
		{"context not a string", `{` + ok + `,"context":{"a":1}}`, 400, "invalid_context"},
		{"context number", `{` + ok + `,"context":7}`, 400, "invalid_context"},
		{"callerId not a string", `{` + ok + `,"callerId":12135550100}`, 400, "invalid_caller_id"},
		{"callerId not E.164", `{` + ok + `,"callerId":"2135550100"}`, 400, "invalid_caller_id"},
		{"fields not an array", `{` + ok + `,"fields":{"name":"a"}}`, 400, "invalid_fields"},
		{"fields over 20", `{` + ok + `,"fields":` + mustJSON(long) + `}`, 400, "invalid_fields"},
		{"field not an object", `{` + ok + `,"fields":["a"]}`, 400, "invalid_fields"},
		{"field null", `{` + ok + `,"fields":[null]}`, 400, "invalid_fields"},
		{"field without name", `{` + ok + `,"fields":[{"type":"string"}]}`, 400, "invalid_fields"},
		{"field empty name", `{` + ok + `,"fields":[{"name":" "}]}`, 400, "invalid_fields"},
		{"field name not a string", `{` + ok + `,"fields":[{"name":3}]}`, 400, "invalid_fields"},
		{"duplicate field names", `{` + ok + `,"fields":[{"name":"a"},{"name":"a","type":"number"}]}`, 400, "invalid_fields"},
		{"unknown field type", `{` + ok + `,"fields":[{"name":"a","type":"date"}]}`, 400, "invalid_fields"},
		{"field type not a string", `{` + ok + `,"fields":[{"name":"a","type":true}]}`, 400, "invalid_fields"},
		{"description not a string", `{` + ok + `,"fields":[{"name":"a","description":1}]}`, 400, "invalid_fields"},
		{"webhook http", `{` + ok + `,"webhookUrl":"http://example.com/hook"}`, 400, "invalid_webhook_url"},
		{"webhook relative", `{` + ok + `,"webhookUrl":"/hook"}`, 400, "invalid_webhook_url"},
		{"webhook no host", `{` + ok + `,"webhookUrl":"https:///hook"}`, 400, "invalid_webhook_url"},
		{"webhook not a string", `{` + ok + `,"webhookUrl":["https://example.com"]}`, 400, "invalid_webhook_url"},
		{"language malformed", `{` + ok + `,"language":"spanish please"}`, 400, "invalid_language"},
		{"language underscore", `{` + ok + `,"language":"es_MX"}`, 400, "invalid_language"},
		{"language not a string", `{` + ok + `,"language":7}`, 400, "invalid_language"},
		{"voice empty", `{` + ok + `,"voice":" "}`, 400, "invalid_voice"},
		{"voice not a string", `{` + ok + `,"voice":["Kore"]}`, 400, "invalid_voice"},
		{"France blocked", `{"to":"+33142685300","objective":"x"}`, 400, "destination_blocked"},
		{"Germany blocked", `{"to":"+4930123456","objective":"x"}`, 400, "destination_blocked"},
		{"premium +1900", `{"to":"+19005550123","objective":"x"}`, 400, "destination_blocked"},
		{"premium +1976", `{"to":"+19765550123","objective":"x"}`, 400, "destination_blocked"},
		{"premium +44 9", `{"to":"+449098790000","objective":"x"}`, 400, "destination_blocked"},
		{"premium +61 19", `{"to":"+61190012345","objective":"x"}`, 400, "destination_blocked"},
		{"satellite +881", `{"to":"+881612345678","objective":"x"}`, 400, "destination_blocked"},
		{"satellite +882", `{"to":"+882161234567","objective":"x"}`, 400, "destination_blocked"},
		{"satellite +870", `{"to":"+870772123456","objective":"x"}`, 400, "destination_blocked"},
		{"IRSF test range", `{"to":"+447012345678","objective":"x"}`, 400, "destination_blocked"},
		{"blocked before caller id check", `{"to":"+33142685300","objective":"x","callerId":"+14155559999"}`, 400, "destination_blocked"},
		{"caller id not owned", `{` + ok + `,"callerId":"+14155559999"}`, 400, "caller_id_not_owned"},
		{"request too large", `{"objective":"` + strings.Repeat("a", 1<<20) + `","to":"+14155550123"}`, 413, "request_too_large"},
		{"simulated placement failure", `{"to":"+14155550502","objective":"x"}`, 502, "placement_failed"},
		{"simulated store error", `{"to":"+14155550503","objective":"x"}`, 503, "store_error"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, sandbox.Options{})
			r := e.do("POST", "/v1/agent/calls", keyA, tc.body)
			if r.status != tc.status || r.token() != tc.token || len(r.body) != 1 {
				t.Fatalf("got %d %s, want %d {\"error\":%q}", r.status, r.raw, tc.status, tc.token)
			}
			if e.sb.PlacedCount(keyA) != 0 || e.sb.TotalPlaced() != 0 {
				t.Fatal("a refused request placed a call")
			}
		})
	}
}

func TestPlaceCallAccepts(t *testing.T) {
	twenty := make([]map[string]any, 20)
	for i := range twenty {
		twenty[i] = map[string]any{"name": fmt.Sprintf("f%d", i), "type": "number"}
	}
	uuidV4 := regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	for _, tc := range []struct{ name, body string }{
		{"minimal", `{"to":"+14155550123","objective":"Ask the opening hours"}`},
		{"reference example", `{"to":"+14155550123","objective":"Book a table for 4 at 7 PM Friday.","context":"We have dined here before.","fields":[{"name":"booked","type":"boolean","description":"Did they confirm?"},{"name":"confirmed_time","type":"string"},{"name":"contact_name"}],"webhookUrl":"https://your-server.example.com/webhooks/bys","callerId":"+12135550101"}`},
		{"nulls count as absent", `{"to":"+14155550123","objective":"x","context":null,"fields":null,"webhookUrl":null,"callerId":null}`},
		{"unknown keys ignored", `{"to":"+14155550123","objective":"x","priority":"high"}`},
		{"20 fields", `{"to":"+14155550123","objective":"x","fields":` + mustJSON(twenty) + `}`},
		{"empty fields", `{"to":"+14155550123","objective":"x","fields":[]}`},
		{"Canada", `{"to":"+16045550123","objective":"x"}`},
		{"UK", `{"to":"+442071234567","objective":"x"}`},
		{"Australia", `{"to":"+61291234567","objective":"x"}`},
		{"New Zealand", `{"to":"+6491234567","objective":"x"}`},
		{"Israel", `{"to":"+97231234567","objective":"x"}`},
		{"UK caller id", `{"to":"+14155550123","objective":"x","callerId":"+442071838750"}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, sandbox.Options{})
			r := e.do("POST", "/v1/agent/calls", keyA, tc.body)
			id, _ := r.body["callId"].(string)
			if r.status != 200 || r.body["status"] != "queued" || len(r.body) != 5 || !uuidV4.MatchString(id) {
				t.Fatalf("got %d %s", r.status, r.raw)
			}
			if e.sb.PlacedCount(keyA) != 1 || e.sb.TotalPlaced() != 1 {
				t.Fatalf("PlacedCount %d TotalPlaced %d", e.sb.PlacedCount(keyA), e.sb.TotalPlaced())
			}
			if got := e.get(keyA, id); got["status"] != "queued" {
				t.Fatalf("new call: %v", got)
			}
		})
	}
}

// The POST answer and the record echo language, languageSource and voice:
// the language as sent ("explicit"), or one inferred from the number.
func TestPlaceCallEchoesLanguageAndVoice(t *testing.T) {
	for _, tc := range []struct {
		name, body   string
		lang, source string
		voice        any
	}{
		{"explicit", `{"to":"+14155550123","objective":"x","language":"es-MX","voice":"Kore"}`, "es-MX", "explicit", "Kore"},
		{"auto is sent as given", `{"to":"+14155550123","objective":"x","language":"auto"}`, "auto", "explicit", nil},
		{"inferred US", `{"to":"+14155550123","objective":"x"}`, "en-US", "inferred", nil},
		{"inferred UK", `{"to":"+442071234567","objective":"x","voice":"Puck"}`, "en-GB", "inferred", "Puck"},
		{"null is absent", `{"to":"+97231234567","objective":"x","language":null,"voice":null}`, "he-IL", "inferred", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, sandbox.Options{})
			r := e.do("POST", "/v1/agent/calls", keyA, tc.body)
			if r.status != 200 {
				t.Fatalf("got %d %s", r.status, r.raw)
			}
			id, _ := r.body["callId"].(string)
			for where, m := range map[string]map[string]any{"POST answer": r.body, "record": e.get(keyA, id)} {
				if m["language"] != tc.lang || m["languageSource"] != tc.source || m["voice"] != tc.voice {
					t.Errorf("%s: language %v, languageSource %v, voice %v; want %v, %v, %v",
						where, m["language"], m["languageSource"], m["voice"], tc.lang, tc.source, tc.voice)
				}
			}
		})
	}
}

func TestTenantIsolation(t *testing.T) {
	e := newEnv(t, sandbox.Options{})
	idA := e.place(keyA, call("+14155550123"))
	if r := e.do("GET", "/v1/agent/calls/"+idA, keyB, nil); r.status != 404 || r.token() != "not_found" {
		t.Fatalf("key B fetching A's call: %d %s", r.status, r.raw)
	}
	if calls := e.list(keyB, ""); len(calls) != 0 {
		t.Fatalf("key B lists %v", calls)
	}
	idB := e.place(keyB, call("+14155550123"))
	if calls := e.list(keyA, ""); len(calls) != 1 || calls[0]["id"] != idA {
		t.Fatalf("key A lists %v", calls)
	}
	if r := e.do("GET", "/v1/agent/calls/"+idB, keyA, nil); r.status != 404 {
		t.Fatalf("key A fetching B's call: %d", r.status)
	}
	if e.sb.PlacedCount(keyA) != 1 || e.sb.PlacedCount(keyB) != 1 || e.sb.PlacedCount("bys_ak_nobody") != 0 || e.sb.TotalPlaced() != 2 {
		t.Fatal("placed counts are wrong")
	}
}

func TestListCalls(t *testing.T) {
	e := newEnv(t, sandbox.Options{RateLimitPerMinute: -1})
	var ids []string // creation order
	for i := range 120 {
		ids = append(ids, e.place(keyA, call("+14155550123")))
		if i%2 == 0 { // every other pair shares a timestamp: ties break by creation order
			e.clock.Advance(time.Second)
		}
	}
	want := func(n int) []string {
		var out []string
		for i := len(ids) - 1; i >= 0 && len(out) < n; i-- {
			out = append(out, ids[i])
		}
		return out
	}
	for _, tc := range []struct {
		query string
		n     int
	}{
		{"", 20}, {"?limit=1", 1}, {"?limit=50", 50}, {"?limit=100", 100},
		{"?limit=101", 100}, {"?limit=100000", 100}, {"?limit=99999999999999999999999", 100},
		{"?limit=%2B7", 7}, {"?limit=3&other=x", 3},
	} {
		t.Run("limit"+tc.query, func(t *testing.T) {
			e := e.with(t)
			calls := e.list(keyA, tc.query)
			w := want(tc.n)
			if len(calls) != len(w) {
				t.Fatalf("got %d calls, want %d", len(calls), len(w))
			}
			for i := range w {
				if calls[i]["id"] != w[i] {
					t.Fatalf("position %d: got %v, want %s", i, calls[i]["id"], w[i])
				}
				if len(calls[i]) != 15 {
					t.Fatalf("list item has %d keys, want the full record", len(calls[i]))
				}
			}
		})
	}
	for _, q := range []string{"?limit=0", "?limit=-1", "?limit=abc", "?limit=1.5", "?limit=", "?limit=-99999999999999999999"} {
		t.Run("invalid"+q, func(t *testing.T) {
			e := e.with(t)
			if r := e.do("GET", "/v1/agent/calls"+q, keyA, nil); r.status != 400 || r.token() != "invalid_limit" {
				t.Fatalf("got %d %s", r.status, r.raw)
			}
		})
	}
	t.Run("empty list is an empty array", func(t *testing.T) {
		e := e.with(t)
		r := e.do("GET", "/v1/agent/calls", keyB, nil)
		if string(r.raw) != "{\"calls\":[]}\n" {
			t.Fatalf("got %q", r.raw)
		}
	})
}

func TestRateLimit(t *testing.T) {
	e := newEnv(t, sandbox.Options{RateLimitPerMinute: 3})
	for range 3 {
		e.place(keyA, call("+14155550123"))
		e.clock.Advance(10 * time.Second)
	}
	// Refusals for validation do not count, and do not see the limit.
	if r := e.do("POST", "/v1/agent/calls", keyA, map[string]any{"to": "+33142685300", "objective": "x"}); r.token() != "destination_blocked" {
		t.Fatalf("got %s", r.raw)
	}
	r := e.do("POST", "/v1/agent/calls", keyA, call("+14155550123"))
	if r.status != 429 || r.token() != "rate_limited" {
		t.Fatalf("4th call in a minute: %d %s", r.status, r.raw)
	}
	// First placement was 30 s ago: it leaves the window in 30 s.
	if ra, err := strconv.Atoi(r.header.Get("Retry-After")); err != nil || ra != 30 {
		t.Fatalf("Retry-After %q, want 30", r.header.Get("Retry-After"))
	}
	if e.sb.PlacedCount(keyA) != 3 {
		t.Fatalf("PlacedCount %d", e.sb.PlacedCount(keyA))
	}
	e.place(keyB, call("+14155550123")) // another key has its own limit
	e.clock.Advance(30 * time.Second)
	e.place(keyA, call("+14155550123")) // the oldest slid out
	if r := e.do("POST", "/v1/agent/calls", keyA, call("+14155550123")); r.status != 429 {
		t.Fatalf("window should be full again: %d", r.status)
	}
	t.Run("simulated 5xx counts against the window", func(t *testing.T) {
		e := newEnv(t, sandbox.Options{RateLimitPerMinute: 1})
		if r := e.do("POST", "/v1/agent/calls", keyA, call("+14155550502")); r.status != 502 {
			t.Fatalf("got %d", r.status)
		}
		if r := e.do("POST", "/v1/agent/calls", keyA, call("+14155550123")); r.token() != "rate_limited" {
			t.Fatalf("got %s", r.raw)
		}
	})
	t.Run("negative is unlimited", func(t *testing.T) {
		e := newEnv(t, sandbox.Options{RateLimitPerMinute: -1})
		for range 100 {
			e.place(keyA, call("+14155550001"))
		}
	})
	t.Run("default is 30", func(t *testing.T) {
		e := newEnv(t, sandbox.Options{MinuteCap: -1})
		for range 30 {
			e.place(keyA, call("+14155550123"))
		}
		if r := e.do("POST", "/v1/agent/calls", keyA, call("+14155550123")); r.token() != "rate_limited" {
			t.Fatalf("31st call: %s", r.raw)
		}
	})
}

func TestMinuteCap(t *testing.T) {
	e := newEnv(t, sandbox.Options{MinuteCap: 3, RateLimitPerMinute: -1})
	for range 5 { // never answered: nothing billed
		e.place(keyA, call("+14155550001"))
	}
	e.place(keyA, call("+14155550006")) // 90 s: 2 minutes
	e.place(keyA, call("+14155550123")) // 8 s: 1 minute, reaching the cap
	r := e.do("POST", "/v1/agent/calls", keyA, call("+14155550001"))
	if r.status != 429 || r.token() != "over_minute_cap" {
		t.Fatalf("after the cap: %d %s", r.status, r.raw)
	}
	e.place(keyB, call("+14155550123")) // caps are per key
	e.clock.Advance(24 * time.Hour)
	if r := e.do("POST", "/v1/agent/calls", keyA, call("+14155550123")); r.token() != "over_minute_cap" {
		t.Fatal("the cap is for the billing period, not a window")
	}
	t.Run("rate limit is checked first", func(t *testing.T) {
		e := newEnv(t, sandbox.Options{MinuteCap: 1, RateLimitPerMinute: 1})
		e.place(keyA, call("+14155550123"))
		if r := e.do("POST", "/v1/agent/calls", keyA, call("+14155550123")); r.token() != "rate_limited" {
			t.Fatalf("got %s", r.raw)
		}
		e.clock.Advance(time.Minute)
		if r := e.do("POST", "/v1/agent/calls", keyA, call("+14155550123")); r.token() != "over_minute_cap" {
			t.Fatalf("got %s", r.raw)
		}
	})
	t.Run("never-ending call bills 60 minutes", func(t *testing.T) {
		e := newEnv(t, sandbox.Options{MinuteCap: 61})
		e.place(keyA, call("+14155550007"))
		e.place(keyA, call("+14155550123"))
		if r := e.do("POST", "/v1/agent/calls", keyA, call("+14155550123")); r.token() != "over_minute_cap" {
			t.Fatalf("got %s", r.raw)
		}
	})
	t.Run("negative is unlimited", func(t *testing.T) {
		e := newEnv(t, sandbox.Options{MinuteCap: -1, RateLimitPerMinute: -1})
		for range 50 {
			e.place(keyA, call("+14155550007"))
		}
	})
}

func TestEviction(t *testing.T) {
	t.Run("oldest calls of a key", func(t *testing.T) {
		e := newEnv(t, sandbox.Options{MaxCallsPerKey: 3})
		var ids []string
		for range 5 {
			ids = append(ids, e.place(keyA, call("+14155550123")))
			e.clock.Advance(time.Second)
		}
		for i, id := range ids {
			r := e.do("GET", "/v1/agent/calls/"+id, keyA, nil)
			if want := map[bool]int{true: 404, false: 200}[i < 2]; r.status != want {
				t.Fatalf("call %d: %d, want %d", i, r.status, want)
			}
		}
		if calls := e.list(keyA, "?limit=100"); len(calls) != 3 || calls[0]["id"] != ids[4] || calls[2]["id"] != ids[2] {
			t.Fatalf("list after eviction: %v", calls)
		}
		if e.sb.PlacedCount(keyA) != 5 {
			t.Fatal("PlacedCount counts every placement, evicted or not")
		}
	})
	t.Run("least recently used tenants", func(t *testing.T) {
		e := newEnv(t, sandbox.Options{MaxTenants: 2})
		idA := e.place(keyA, call("+14155550123"))
		idB := e.place(keyB, call("+14155550123"))
		e.get(keyA, idA) // A is now more recent than B
		e.place("bys_ak_carol", call("+14155550123"))
		if r := e.do("GET", "/v1/agent/calls/"+idB, keyB, nil); r.status != 404 {
			t.Fatalf("B should be evicted: %d", r.status)
		}
		e.get(keyA, idA)
		if e.sb.PlacedCount(keyB) != 0 || e.sb.TotalPlaced() != 3 {
			t.Fatal("counts after tenant eviction")
		}
	})
}

func TestConcurrentUse(t *testing.T) {
	e := newEnv(t, sandbox.Options{RateLimitPerMinute: -1, MinuteCap: -1, MaxCallsPerKey: 50})
	const workers, each = 16, 25
	var wg sync.WaitGroup
	errs := make(chan error, workers*each)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			key := fmt.Sprintf("bys_ak_worker%d", w%4)
			for i := range each {
				req, _ := http.NewRequest("POST", e.srv.URL+"/v1/agent/calls", strings.NewReader(`{"to":"+1415555000`+strconv.Itoa(i%9)+`","objective":"x","fields":[{"name":"n","type":"number"}]}`))
				req.Header.Set("Authorization", "Bearer "+key)
				res, err := e.srv.Client().Do(req)
				if err != nil {
					errs <- err
					return
				}
				res.Body.Close()
				if res.StatusCode != 200 {
					errs <- fmt.Errorf("POST: %d", res.StatusCode)
				}
				e.clock.Advance(100 * time.Millisecond)
				req, _ = http.NewRequest("GET", e.srv.URL+"/v1/agent/calls?limit=100", nil)
				req.Header.Set("Authorization", "Bearer "+key)
				res, err = e.srv.Client().Do(req)
				if err != nil {
					errs <- err
					return
				}
				res.Body.Close()
				if res.StatusCode != 200 {
					errs <- fmt.Errorf("GET: %d", res.StatusCode)
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if got := e.sb.TotalPlaced(); got != workers*each {
		t.Fatalf("TotalPlaced %d, want %d", got, workers*each)
	}
	for k := range 4 {
		key := fmt.Sprintf("bys_ak_worker%d", k)
		if n := len(e.list(key, "?limit=100")); n != 50 {
			t.Fatalf("%s keeps %d calls, want 50", key, n)
		}
	}
}

func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(b)
}
