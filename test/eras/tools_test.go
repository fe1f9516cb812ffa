package eras_test

import (
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/byourside/bys-mcp/internal/testkit"
	"github.com/mark3labs/mcp-go/mcp"
)

// toolsByName lists the tools exactly as the server sent them.
func toolsByName(t *testing.T, c *client) map[string]map[string]any {
	t.Helper()
	res := c.rawResult(string(mcp.MethodToolsList), nil, nil)
	if !c.era.legacy {
		if _, ok := res["resultType"]; !ok {
			t.Errorf("a 2026-07-28 tools/list result has no resultType: %v", res)
		}
	}
	list, _ := res["tools"].([]any)
	out := map[string]map[string]any{}
	for _, raw := range list {
		tool, _ := raw.(map[string]any)
		name, _ := tool["name"].(string)
		out[name] = tool
	}
	return out
}

// Tools and their schemas are the same in both eras, except the task
// support of wait_for_call, which only 2025-11-25 clients see.
func TestToolsListIsTheSameInBothErasExceptExecution(t *testing.T) {
	for _, tr := range transports {
		t.Run(tr, func(t *testing.T) {
			s := newServer(t, tr, nil)
			var lists [2]map[string]map[string]any
			for i, e := range eras {
				func() {
					// One client at a time (stdio allows one).
					c := connectScoped(t, s, e)
					defer c.close()
					lists[i] = toolsByName(t, c.client)
				}()
			}
			mod, leg := lists[0], lists[1]
			names := func(m map[string]map[string]any) []string {
				var n []string
				for k := range m {
					n = append(n, k)
				}
				sort.Strings(n)
				return n
			}
			want := []string{"cancel_campaign", "get_call", "list_calls", "list_campaigns", "pause_campaign", "place_call", "place_calls", "resume_campaign", "retry_campaign", "wait_for_call", "wait_for_campaign"}
			if !slices.Equal(names(mod), want) || !slices.Equal(names(leg), want) {
				t.Fatalf("tools: modern %v, legacy %v, want %v", names(mod), names(leg), want)
			}
			for _, name := range want {
				if _, ok := mod[name]["execution"]; ok {
					t.Errorf("2026-07-28 client sees execution on %s: %v", name, mod[name]["execution"])
				}
				exec, hasExec := leg[name]["execution"]
				if name == "wait_for_call" || name == "wait_for_campaign" {
					if m, _ := exec.(map[string]any); m["taskSupport"] != "optional" {
						t.Errorf("2025-11-25 %s execution = %v, want taskSupport optional", name, exec)
					}
				} else if hasExec {
					t.Errorf("2025-11-25 %s declares execution %v", name, exec)
				}
				l := maps(leg[name])
				delete(l, "execution")
				if !reflect.DeepEqual(mod[name], l) {
					a, _ := json.Marshal(mod[name])
					b, _ := json.Marshal(l)
					t.Errorf("%s differs between eras:\n2026: %s\n2025: %s", name, a, b)
				}
			}
		})
	}
}

func maps(m map[string]any) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// scoped is a client that can be closed before the test ends (so that a
// second stdio client may follow).
type scoped struct {
	*client
	close func()
}

func connectScoped(t *testing.T, s *server, e era) scoped {
	t.Helper()
	st := &scopeT{T: t}
	c := connectWith(st, s, e, connectOpts{})
	cleanup := st.cleanups
	return scoped{client: c, close: func() {
		for i := len(cleanup) - 1; i >= 0; i-- {
			cleanup[i]()
		}
	}}
}

// Every tool, in both eras on both transports: place, get, list, wait with
// progress on the request's own stream (the last notification before the
// result), an API error and an invalid argument.
func TestEveryToolInBothEras(t *testing.T) {
	forEach(t, func(t *testing.T, tr string, e era) {
		s := newServer(t, tr, nil)
		c := connect(t, s, e, connectOpts{})

		// The slow number changes status three times over about 2 s, so
		// the wait sees several changes even on a loaded machine.
		id := c.place(numSlow, "Book a table for two at 7 PM ("+tr+" "+e.name+").")
		rec := wantOK(t, c.call("get_call", map[string]any{"callId": id}))
		if rec["id"] != id || rec["to"] != numSlow {
			t.Errorf("get_call record = %v", rec)
		}
		list := wantOK(t, c.call("list_calls", map[string]any{"limit": 5}))
		calls, _ := list["calls"].([]any)
		if len(calls) != 1 || calls[0].(map[string]any)["id"] != id {
			t.Errorf("list_calls = %v, want the one call %s", list, id)
		}

		token := "wait-" + tr + "-" + e.name
		res, err := c.callMeta("wait_for_call", map[string]any{"callId": id, "timeoutSec": 15}, &mcp.Meta{ProgressToken: token})
		notes := c.progress(token) // what had arrived when the result did
		if err != nil {
			t.Fatalf("wait_for_call: %v", err)
		}
		final := wantOK(t, res)
		if final["status"] != "completed" || final["timedOut"] != false {
			t.Fatalf("wait_for_call = %v, want completed and not timed out", final)
		}
		if len(notes) < 2 {
			t.Fatalf("got %d progress notifications before the result, want one per status change: %v", len(notes), notes)
		}
		if msg, _ := notes[len(notes)-1]["message"].(string); !strings.Contains(msg, "completed") {
			t.Errorf("last progress notification before the result is %q, want the terminal status; all: %v", msg, notes)
		}
		last := -1.0
		for _, n := range notes {
			p, _ := n["progress"].(float64)
			if p <= last {
				t.Errorf("progress not increasing: %v", notes)
			}
			last = p
		}

		// An API error: a blocked destination.
		m := wantToolError(t, c.call("place_call", placeArgs(numBlocked, "Call France.")), "destination_blocked")
		if m["httpStatus"] == nil {
			t.Errorf("API error without httpStatus: %v", m)
		}
		// A call that does not exist.
		wantToolError(t, c.call("get_call", map[string]any{"callId": "call_doesnotexist0000"}), "not_found")
		// Invalid arguments: isError naming the argument, not JSON-RPC errors.
		// A national number is refused by the number check, naming the
		// argument and suggesting its E.164 form.
		bad := c.call("place_call", placeArgs("4155550123", "No plus sign."))
		if m := wantToolError(t, bad, "invalid_number"); m["suggestion"] != "+14155550123" || !strings.Contains(testkit.TextOf(bad), `"to"`) {
			t.Errorf("national number: %v %s", m, testkit.TextOf(bad))
		}
		wantToolError(t, c.call("list_calls", map[string]any{"limit": "ten"}), "invalid_argument")
		wantToolError(t, c.call("wait_for_call", map[string]any{"callId": id, "timeoutSec": 0}), "invalid_argument")
		if n := s.Sandbox.TotalPlaced(); n != 1 {
			t.Errorf("sandbox placed %d calls, want 1", n)
		}
		// An unknown tool stays a protocol error.
		if _, err := c.callMeta("cancel_call", map[string]any{}, nil); err == nil {
			t.Errorf("an unknown tool answered without a JSON-RPC error")
		}
	})
}

// Over HTTP each request's Authorization key is its tenant, in both eras:
// one key cannot see another's calls.
func TestPerRequestKeysIsolateTenantsInBothEras(t *testing.T) {
	for _, e := range eras {
		t.Run(e.name, func(t *testing.T) {
			t.Parallel()
			s := newServer(t, "http", nil)
			keyA, keyB := "bys_ak_eras_alpha_"+e.name, "bys_ak_eras_bravo_"+e.name
			a := connect(t, s, e, connectOpts{key: keyA})
			b := connect(t, s, e, connectOpts{key: keyB})
			id := a.place(numCompletes, "Tenant A's call.")
			if got := s.Sandbox.PlacedCount(keyA); got != 1 {
				t.Errorf("key A placed %d calls in the sandbox, want 1", got)
			}
			if got := s.Sandbox.PlacedCount(keyB); got != 0 {
				t.Errorf("key B placed %d calls, want 0", got)
			}
			wantOK(t, a.call("get_call", map[string]any{"callId": id}))
			wantToolError(t, b.call("get_call", map[string]any{"callId": id}), "not_found")
			wantToolError(t, b.call("wait_for_call", map[string]any{"callId": id, "timeoutSec": 1}), "not_found")
			if calls := wantOK(t, b.call("list_calls", nil))["calls"].([]any); len(calls) != 0 {
				t.Errorf("key B lists %d calls, want none: %v", len(calls), calls)
			}
			if calls := wantOK(t, a.call("list_calls", nil))["calls"].([]any); len(calls) != 1 {
				t.Errorf("key A lists %d calls, want 1", len(calls))
			}
			// Resources are tenant-scoped too.
			if _, err := readResource(b.Client, "bys://calls/"+id); err == nil {
				t.Errorf("key B read key A's call as a resource")
			}
			if _, err := readResource(a.Client, "bys://calls/"+id); err != nil {
				t.Errorf("key A cannot read its own call: %v", err)
			}
			// And the server's own key (no header) is yet another tenant.
			own := connect(t, s, e, connectOpts{})
			wantToolError(t, own.call("get_call", map[string]any{"callId": id}), "not_found")
		})
	}
}

// server/discover (2026-07-28) lists both versions and declares neither tasks
// nor elicitation; initialize (2025-11-25) declares tasks.
func TestDiscoverAndInitializeCapabilities(t *testing.T) {
	for _, tr := range transports {
		t.Run(tr, func(t *testing.T) {
			s := newServer(t, tr, nil)
			func() {
				c := connectScoped(t, s, modern)
				defer c.close()
				res := c.rawResult(string(mcp.MethodServerDiscover), nil, nil)
				if _, ok := res["resultType"]; !ok {
					t.Errorf("server/discover result has no resultType: %v", res)
				}
				versions := fmt.Sprint(res["supportedVersions"])
				for _, v := range []string{mcp.ProtocolVersion20260728, "2025-11-25"} {
					if !strings.Contains(versions, v) {
						t.Errorf("supportedVersions %s lacks %s", versions, v)
					}
				}
				caps, _ := res["capabilities"].(map[string]any)
				for _, k := range []string{"tasks", "elicitation"} {
					if v, ok := caps[k]; ok {
						t.Errorf("server/discover declares %s: %v", k, v)
					}
				}
				for _, k := range []string{"tools", "resources", "prompts", "completions"} {
					if _, ok := caps[k]; !ok {
						t.Errorf("server/discover does not declare %s: %v", k, caps)
					}
				}
			}()
			func() {
				c := connectScoped(t, s, legacy)
				defer c.close()
				caps := testkit.Object(t, c.GetServerCapabilities())
				tasks, _ := caps["tasks"].(map[string]any)
				if tasks == nil {
					t.Fatalf("initialize declares no tasks capability: %v", caps)
				}
				raw, _ := json.Marshal(tasks)
				for _, k := range []string{`"list"`, `"cancel"`, `"call"`} {
					if !strings.Contains(string(raw), k) {
						t.Errorf("tasks capability %s lacks %s", raw, k)
					}
				}
				if _, ok := caps["elicitation"]; ok {
					t.Errorf("initialize declares elicitation (a client capability): %v", caps)
				}
			}()
		})
	}
}
