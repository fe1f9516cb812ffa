package tools_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/byourside/bys-mcp/internal/tenant"
	"github.com/byourside/bys-mcp/internal/testkit"
	"github.com/byourside/bys-mcp/tools"
	"github.com/mark3labs/mcp-go/mcp"
	"github.com/santhosh-tekuri/jsonschema/v6"
)

// recordKeys are the keys of a call record as the API returns it.
var recordKeys = []string{"id", "status", "to", "objective", "summary", "transcript", "extracted", "recordingUrl", "startedAt", "endedAt", "durationSec", "error"}

func TestGetCallReturnsTheWholeRecord(t *testing.T) {
	c := connect(t, newApp(t, nil))
	id := wantOK(t, c.call("place_call", placeArgs(nil)))["callId"].(string)

	t.Run("while the call runs, null fields are kept", func(t *testing.T) {
		rec := wantOK(t, c.call("get_call", map[string]any{"callId": id}))
		for _, k := range recordKeys {
			if _, ok := rec[k]; !ok {
				t.Errorf("record lacks %q: %v", k, rec)
			}
		}
		if rec["id"] != id {
			t.Errorf("id = %v, want %s", rec["id"], id)
		}
	})
	t.Run("once completed, summary, transcript and times are set", func(t *testing.T) {
		c.waitEnded(id)
		res := c.call("get_call", map[string]any{"callId": id})
		rec := wantOK(t, res)
		for _, k := range recordKeys {
			if _, ok := rec[k]; !ok {
				t.Errorf("record lacks %q", k)
			}
		}
		if rec["status"] != "completed" {
			t.Fatalf("status = %v", rec["status"])
		}
		for _, k := range []string{"summary", "transcript", "startedAt", "endedAt", "durationSec"} {
			if rec[k] == nil {
				t.Errorf("%s is null on a completed call", k)
			}
		}
		if !strings.Contains(testkit.TextOf(res), "completed") || !strings.Contains(testkit.TextOf(res), "Summary:") {
			t.Errorf("text rendering lacks status or summary: %s", testkit.TextOf(res))
		}
	})
}

func TestGetCallOfAnUnknownIDIsNotFound(t *testing.T) {
	c := connect(t, newApp(t, nil))
	res := c.call("get_call", map[string]any{"callId": "f47ac10b-58cc-4372-a567-0e02b2c3d479"})
	m := wantToolError(t, res, "not_found")
	if m["httpStatus"] != float64(404) {
		t.Errorf("httpStatus = %v, want 404", m["httpStatus"])
	}
	if !strings.Contains(strings.ToLower(testkit.TextOf(res)), "not found") && !strings.Contains(testkit.TextOf(res), "no call") {
		t.Errorf("text should say the call was not found: %s", testkit.TextOf(res))
	}
}

func TestGetCallRefusesMalformedIDs(t *testing.T) {
	c := connect(t, newApp(t, nil))
	for _, args := range []map[string]any{
		{},
		{"callId": ""},
		{"callId": "../v1/agent/calls"},
		{"callId": strings.Repeat("a", 129)},
		{"callId": 42},
		{"callId": "abc", "verbose": true},
	} {
		t.Run(fmt.Sprint(args), func(t *testing.T) {
			res := c.call("get_call", args)
			wantToolError(t, res, "invalid_argument")
			if _, bad := args["verbose"]; bad {
				if !strings.Contains(testkit.TextOf(res), "verbose") {
					t.Errorf("message does not name the unknown argument: %s", testkit.TextOf(res))
				}
			} else if !strings.Contains(testkit.TextOf(res), "callId") {
				t.Errorf("message does not name callId: %s", testkit.TextOf(res))
			}
		})
	}
}

func TestGetCallDoesNotShowAnotherKeysCall(t *testing.T) {
	deps, _ := directDeps(t)
	_, place := tools.PlaceCall(deps)
	_, get := tools.GetCall(deps)
	_, wait := tools.WaitForCall(deps)
	_, list := tools.ListCalls(deps)
	owner := tenant.WithKey(context.Background(), "bys_ak_owner")
	other := tenant.WithKey(context.Background(), "bys_ak_other")

	id := wantOK(t, callDirect(t, owner, place, placeArgs(nil)))["callId"].(string)
	wantOK(t, callDirect(t, owner, get, map[string]any{"callId": id}))

	wantToolError(t, callDirect(t, other, get, map[string]any{"callId": id}), "not_found")
	wantToolError(t, callDirect(t, other, wait, map[string]any{"callId": id, "timeoutSec": 1}), "not_found")
	calls := wantOK(t, callDirect(t, other, list, nil))["calls"].([]any)
	if len(calls) != 0 {
		t.Errorf("another key lists %d calls, want none", len(calls))
	}
	// The server's own key is a third tenant.
	wantToolError(t, callDirect(t, context.Background(), get, map[string]any{"callId": id}), "not_found")
}

func TestListCallsReturnsTheMostRecentFirst(t *testing.T) {
	c := connect(t, newApp(t, nil))
	var ids []string
	for i := range 22 {
		out := wantOK(t, c.call("place_call", placeArgs(map[string]any{"objective": fmt.Sprintf("Ask about order %d.", i)})))
		ids = append(ids, out["callId"].(string))
	}
	listed := func(args map[string]any) []string {
		t.Helper()
		out := wantOK(t, c.call("list_calls", args))
		var got []string
		for _, r := range out["calls"].([]any) {
			got = append(got, r.(map[string]any)["id"].(string))
		}
		return got
	}
	reversed := make([]string, len(ids))
	for i, id := range ids {
		reversed[len(ids)-1-i] = id
	}
	tests := []struct {
		name string
		args map[string]any
		want []string
	}{
		{"default is 20", nil, reversed[:20]},
		{"limit 1 is the latest call", map[string]any{"limit": 1}, reversed[:1]},
		{"limit 100 returns all there are", map[string]any{"limit": 100}, reversed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := listed(tt.args); fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Errorf("ids = %v\nwant %v", got, tt.want)
			}
		})
	}
}

func TestListCallsRefusesALimitOutsideOneToHundred(t *testing.T) {
	c := connect(t, newApp(t, nil))
	for _, limit := range []any{0, -1, 101, 1000, "x", 2.5, true} {
		t.Run(fmt.Sprint(limit), func(t *testing.T) {
			res := c.call("list_calls", map[string]any{"limit": limit})
			wantToolError(t, res, "invalid_argument")
			if !strings.Contains(testkit.TextOf(res), `"limit"`) {
				t.Errorf("message does not name limit: %s", testkit.TextOf(res))
			}
		})
	}
}

func TestNullOptionalArgumentsCountAsLeftOut(t *testing.T) {
	c := connect(t, newApp(t, nil))
	id := wantOK(t, c.call("place_call", placeArgs(map[string]any{"to": "+14155550004", "context": nil, "fields": nil, "callerId": nil})))["callId"]
	wantOK(t, c.call("list_calls", map[string]any{"limit": nil}))
	if rec := wantOK(t, c.call("wait_for_call", map[string]any{"callId": id, "timeoutSec": nil})); rec["status"] != "failed" {
		t.Errorf("status = %v", rec["status"])
	}
}

func TestReadToolsAgainstAnAPIThatAddsFieldsAndFails(t *testing.T) {
	record := `{"id":"c1","status":"completed","to":"+14155550123","objective":"o","summary":"Done.","transcript":null,` +
		`"extracted":{"booked":true},"recordingUrl":null,"startedAt":null,"endedAt":null,"durationSec":12,"error":null,"costCents":42,"labels":["a"]}`
	api := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		switch {
		case r.URL.Path == "/v1/agent/calls/c1":
			_, _ = w.Write([]byte(record))
		case r.URL.Path == "/v1/agent/calls/down":
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = w.Write([]byte(`{"error":"store_error"}`))
		case r.URL.Path == "/v1/agent/calls" && r.Method == http.MethodGet:
			_, _ = w.Write([]byte(`{"calls":[` + record + `]}`))
		default:
			w.WriteHeader(http.StatusNotFound)
			_, _ = w.Write([]byte(`{"error":"not_found"}`))
		}
	})
	deps, _ := directDepsWith(t, api)
	_, get := tools.GetCall(deps)
	_, wait := tools.WaitForCall(deps)
	_, list := tools.ListCalls(deps)
	ctx := context.Background()

	rec := wantOK(t, callDirect(t, ctx, get, map[string]any{"callId": "c1"}))
	if rec["costCents"] != float64(42) || rec["labels"] == nil {
		t.Errorf("get_call dropped fields the API added: %v", rec)
	}
	rec = wantOK(t, callDirect(t, ctx, wait, map[string]any{"callId": "c1", "timeoutSec": 1}))
	if rec["costCents"] != float64(42) || rec["timedOut"] != false {
		t.Errorf("wait_for_call = %v", rec)
	}
	calls := wantOK(t, callDirect(t, ctx, list, nil))["calls"].([]any)
	if len(calls) != 1 || calls[0].(map[string]any)["costCents"] != float64(42) {
		t.Errorf("list_calls = %v", calls)
	}

	for name, h := range map[string]func(context.Context, mcp.CallToolRequest) (*mcp.CallToolResult, error){"get_call": get, "wait_for_call": wait} {
		m := wantToolError(t, callDirect(t, ctx, h, map[string]any{"callId": "down"}), "store_error")
		if m["retryable"] != true || m["httpStatus"] != float64(503) {
			t.Errorf("%s on a 503: %v", name, m)
		}
	}

	// The same results conform to the declared output schemas.
	for name, s := range map[string][]byte{"get_call": deps.Schemas.GetCall.Output, "wait_for_call": deps.Schemas.WaitForCall.Output} {
		schema := compileSchema(t, name, s)
		for _, args := range []map[string]any{{"callId": "c1"}, {"callId": "down"}, {"callId": "gone"}} {
			h := get
			if name == "wait_for_call" {
				h = wait
			}
			raw, _ := json.Marshal(callDirect(t, ctx, h, args).StructuredContent)
			doc, _ := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
			if err := schema.Validate(doc); err != nil {
				t.Errorf("%s %v: %v\n%s", name, args, err, raw)
			}
		}
	}
}
