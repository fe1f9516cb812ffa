package tools_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/byourside/bys-mcp/internal/testkit"
	"github.com/byourside/bys-mcp/tools"
	"github.com/mark3labs/mcp-go/mcp"
)

func TestPlaceCallQueuesACallAndReturnsItsID(t *testing.T) {
	a := newApp(t, nil)
	c := connect(t, a)
	res := c.call("place_call", placeArgs(nil))
	out := wantOK(t, res)
	id, _ := out["callId"].(string)
	if id == "" || out["status"] != "queued" || out["deduplicated"] != false {
		t.Fatalf("structuredContent = %v, want {callId, status: queued, deduplicated: false}", out)
	}
	if !strings.Contains(testkit.TextOf(res), id) || !strings.Contains(testkit.TextOf(res), "wait_for_call") {
		t.Errorf("text should give the callId and point to wait_for_call: %s", testkit.TextOf(res))
	}
	if n := a.Sandbox.TotalPlaced(); n != 1 {
		t.Errorf("sandbox placed %d calls, want 1", n)
	}
}

func TestPlaceCallRefusesInvalidArgumentsNamingTheArgument(t *testing.T) {
	fields := func(n int) []any {
		out := make([]any, n)
		for i := range out {
			out[i] = map[string]any{"name": fmt.Sprintf("f%d", i)}
		}
		return out
	}
	tests := []struct {
		name  string
		args  map[string]any
		names string // what the message must name
	}{
		{"missing to", map[string]any{"objective": "x"}, `"to"`},
		{"missing objective", map[string]any{"to": "+14155550123"}, `"objective"`},
		{"blank objective", placeArgs(map[string]any{"objective": "   "}), `"objective"`},
		{"objective too long", placeArgs(map[string]any{"objective": strings.Repeat("a", 4001)}), `"objective"`},
		{"21 fields", placeArgs(map[string]any{"fields": fields(21)}), `"fields"`},
		{"duplicate field names", placeArgs(map[string]any{"fields": []any{map[string]any{"name": "booked"}, map[string]any{"name": "booked"}}}), "fields[1].name"},
		{"field type that is not string, boolean or number", placeArgs(map[string]any{"fields": []any{map[string]any{"name": "when", "type": "date"}}}), "fields[0].type"},
		{"field name with a space", placeArgs(map[string]any{"fields": []any{map[string]any{"name": "booked at"}}}), "fields[0].name"},
		{"http webhook", placeArgs(map[string]any{"webhookUrl": "http://example.com/hook"}), `"webhookUrl"`},
		{"callerId that is not E.164", placeArgs(map[string]any{"callerId": "12135550100"}), `"callerId"`},
		{"to as a number", placeArgs(map[string]any{"to": 14155550123}), `"to"`},
		{"fields as a string", placeArgs(map[string]any{"fields": "booked"}), `"fields"`},
		{"allowDuplicate as a string", placeArgs(map[string]any{"allowDuplicate": "yes"}), `"allowDuplicate"`},
		{"unknown argument", placeArgs(map[string]any{"priority": "high"}), `"priority"`},
		{"language in words", placeArgs(map[string]any{"language": "spanish please"}), `"language"`},
		{"language with an underscore", placeArgs(map[string]any{"language": "es_MX"}), `"language"`},
		{"language unknown", placeArgs(map[string]any{"language": "zz-ZZ"}), `"language"`},
		{"language as a number", placeArgs(map[string]any{"language": 7}), `"language"`},
		{"voice blank", placeArgs(map[string]any{"voice": "  "}), `"voice"`},
		{"voice too long", placeArgs(map[string]any{"voice": strings.Repeat("v", 65)}), `"voice"`},
		{"voice with a newline", placeArgs(map[string]any{"voice": "Kore\nx"}), `"voice"`},
	}
	a := newApp(t, nil)
	c := connect(t, a)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := c.call("place_call", tt.args)
			m := wantToolError(t, res, "invalid_argument")
			if !strings.Contains(testkit.TextOf(res), tt.names) {
				t.Errorf("message does not name %s: %s", tt.names, testkit.TextOf(res))
			}
			if m["httpStatus"] != nil || m["retryable"] != false {
				t.Errorf("an invalid argument is not an API answer and not retryable: %v", m)
			}
		})
	}
	if n := a.Sandbox.TotalPlaced(); n != 0 {
		t.Errorf("invalid arguments placed %d calls", n)
	}
}

func TestPlaceCallReportsAPIErrorsWithTokenStatusAndAdvice(t *testing.T) {
	tests := []struct {
		name      string
		args      map[string]any
		token     string
		status    float64
		retryable bool
		text      []string
	}{
		{"destination outside the allowed countries", placeArgs(map[string]any{"to": "+33142685300"}), "destination_blocked", 400, false, []string{"do not retry"}},
		{"caller id not on the account", placeArgs(map[string]any{"callerId": "+12135559999"}), "caller_id_not_owned", 400, false, []string{"callerId"}},
		{"502 while placing", placeArgs(map[string]any{"to": "+14155550502"}), "placement_failed", 502, false, []string{"may", "list_calls"}},
		{"503 while placing", placeArgs(map[string]any{"to": "+14155550503"}), "store_error", 503, false, []string{"may", "list_calls"}},
	}
	a := newApp(t, nil)
	c := connect(t, a)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := c.call("place_call", tt.args)
			m := wantToolError(t, res, tt.token)
			if m["httpStatus"] != tt.status {
				t.Errorf("httpStatus = %v, want %v", m["httpStatus"], tt.status)
			}
			if m["retryable"] != tt.retryable {
				t.Errorf("retryable = %v, want %v", m["retryable"], tt.retryable)
			}
			for _, w := range tt.text {
				if !strings.Contains(testkit.TextOf(res), w) {
					t.Errorf("text does not say %q: %s", w, testkit.TextOf(res))
				}
			}
		})
	}
	if n := a.Sandbox.TotalPlaced(); n != 0 {
		t.Errorf("refused placements created %d calls", n)
	}
}

func TestPlaceCallLeavesOmittedOptionalInputsOutOfTheAPIRequest(t *testing.T) {
	deps, rec := directDeps(t)
	_, h := tools.PlaceCall(deps)
	res := callDirect(t, context.Background(), h, placeArgs(nil))
	wantOK(t, res)
	body := testkit.LastPost[map[string]json.RawMessage](t, rec)
	for _, k := range []string{"context", "fields", "webhookUrl", "callerId", "language", "voice", "allowDuplicate"} {
		if v, ok := body[k]; ok {
			t.Errorf("POST body carries %s = %s although the caller left it out", k, v)
		}
	}
	if string(body["to"]) != `"+14155550123"` || len(body["objective"]) == 0 {
		t.Errorf("POST body lacks to/objective: %v", body)
	}

	// And what is given is sent, with the field list intact.
	args := placeArgs(map[string]any{
		"context": "Party of two.", "callerId": "+12135550101", "webhookUrl": "https://example.com/hook",
		"fields": []any{map[string]any{"name": "booked", "type": "boolean", "description": "Was it booked?"}},
	})
	wantOK(t, callDirect(t, context.Background(), h, args))
	body = testkit.LastPost[map[string]json.RawMessage](t, rec)
	for _, k := range []string{"context", "fields", "webhookUrl", "callerId"} {
		if _, ok := body[k]; !ok {
			t.Errorf("POST body lacks %s", k)
		}
	}
	if _, ok := body["allowDuplicate"]; ok {
		t.Errorf("allowDuplicate is the server's own option and must not reach the API")
	}
	var fields []map[string]any
	_ = json.Unmarshal(body["fields"], &fields)
	if len(fields) != 1 || fields[0]["name"] != "booked" || fields[0]["type"] != "boolean" {
		t.Errorf("fields sent = %s", body["fields"])
	}
}

// language and voice reach the API exactly as given; the sandbox's answer
// and record echo them.
func TestPlaceCallSendsLanguageAndVoiceUnchanged(t *testing.T) {
	deps, rec := directDeps(t)
	_, h := tools.PlaceCall(deps)
	for _, tc := range []struct{ lang, voice string }{{"es-MX", "Kore"}, {"auto", ""}, {"fr", "Puck"}} {
		args := placeArgs(map[string]any{"language": tc.lang, "objective": "Ask in " + tc.lang})
		if tc.voice != "" {
			args["voice"] = tc.voice
		}
		out := wantOK(t, callDirect(t, context.Background(), h, args))
		body := testkit.LastPost[map[string]json.RawMessage](t, rec)
		if got, _ := json.Marshal(tc.lang); string(body["language"]) != string(got) {
			t.Errorf("language sent = %s, want %s", body["language"], got)
		}
		v, ok := body["voice"]
		if tc.voice == "" && ok {
			t.Errorf("voice sent = %s although left out", v)
		}
		if got, _ := json.Marshal(tc.voice); tc.voice != "" && string(v) != string(got) {
			t.Errorf("voice sent = %s, want %s", v, got)
		}
		id, _ := out["callId"].(string)
		res := callDirect(t, context.Background(), getCallHandler(deps), map[string]any{"callId": id})
		r := wantOK(t, res)
		if r["language"] != tc.lang || r["languageSource"] != "explicit" {
			t.Errorf("record language %v (%v), want %s (explicit)", r["language"], r["languageSource"], tc.lang)
		}
	}
}

func getCallHandler(d *tools.Deps) func(context.Context, mcp.CallToolRequest) (*mcp.CallToolResult, error) {
	_, h := tools.GetCall(d)
	return h
}
