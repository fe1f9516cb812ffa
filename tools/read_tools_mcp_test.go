package tools_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/byourside/bys-mcp/tenant"
	"github.com/byourside/bys-mcp/tools"
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
		if !strings.Contains(textOf(res), "completed") || !strings.Contains(textOf(res), "Summary:") {
			t.Errorf("text rendering lacks status or summary: %s", textOf(res))
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
	if !strings.Contains(strings.ToLower(textOf(res)), "not found") && !strings.Contains(textOf(res), "no call") {
		t.Errorf("text should say the call was not found: %s", textOf(res))
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
				if !strings.Contains(textOf(res), "verbose") {
					t.Errorf("message does not name the unknown argument: %s", textOf(res))
				}
			} else if !strings.Contains(textOf(res), "callId") {
				t.Errorf("message does not name callId: %s", textOf(res))
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
			if !strings.Contains(textOf(res), `"limit"`) {
				t.Errorf("message does not name limit: %s", textOf(res))
			}
		})
	}
}
