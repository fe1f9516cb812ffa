package tools_test

import (
	"bufio"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/byourside/bys-mcp/config"
	"github.com/byourside/bys-mcp/internal/testkit"
	mcpclient "github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/mcp"
)

func TestIdenticalPlaceCallReturnsTheExistingCall(t *testing.T) {
	a := newApp(t, nil)
	c := connect(t, a)
	first := wantOK(t, c.call("place_call", placeArgs(nil)))
	second := wantOK(t, c.call("place_call", placeArgs(nil)))
	if second["deduplicated"] != true || second["callId"] != first["callId"] {
		t.Fatalf("second identical call = %v, want deduplicated: true with callId %v", second, first["callId"])
	}
	if n := a.Sandbox.TotalPlaced(); n != 1 {
		t.Errorf("sandbox placed %d calls, want 1", n)
	}

	t.Run("a different objective is a different call", func(t *testing.T) {
		out := wantOK(t, c.call("place_call", placeArgs(map[string]any{"objective": "Cancel the booking."})))
		if out["deduplicated"] != false || out["callId"] == first["callId"] {
			t.Errorf("got %v", out)
		}
	})
	t.Run("allowDuplicate dials again", func(t *testing.T) {
		out := wantOK(t, c.call("place_call", placeArgs(map[string]any{"allowDuplicate": true})))
		if out["deduplicated"] != false || out["callId"] == first["callId"] {
			t.Errorf("got %v", out)
		}
	})
	t.Run("a completed earlier call is still a duplicate", func(t *testing.T) {
		c.waitEnded(first["callId"].(string))
		out := wantOK(t, c.call("place_call", placeArgs(nil)))
		if out["deduplicated"] != true || out["callId"] != first["callId"] {
			t.Errorf("got %v", out)
		}
	})
}

func TestConcurrentIdenticalPlaceCallsPlaceExactlyOneCall(t *testing.T) {
	a := newApp(t, nil)
	c := connect(t, a)
	const n = 10
	results := make([]map[string]any, n)
	testkit.AllAtOnce(n, func(i int) {
		res, err := c.callCtx(context.Background(), "place_call", placeArgs(nil), nil)
		if err != nil || res.IsError {
			t.Errorf("place_call %d: %v %v", i, err, res)
			return
		}
		results[i] = structured(t, res)
	})
	if t.Failed() {
		return
	}
	if got := a.Sandbox.TotalPlaced(); got != 1 {
		t.Fatalf("%d concurrent identical place_calls placed %d calls, want 1", n, got)
	}
	dups := 0
	for _, r := range results {
		if r["callId"] != results[0]["callId"] {
			t.Errorf("callIds differ: %v vs %v", r["callId"], results[0]["callId"])
		}
		if r["deduplicated"] == true {
			dups++
		}
	}
	if dups != n-1 {
		t.Errorf("%d results say deduplicated, want %d", dups, n-1)
	}
}

func TestIdenticalCallDialsAgainWhenTheEarlierOneWasNotAnswered(t *testing.T) {
	a := newApp(t, nil)
	c := connect(t, a)
	args := placeArgs(map[string]any{"to": "+14155550001"})
	first := wantOK(t, c.call("place_call", args))
	if rec := c.waitEnded(first["callId"].(string)); rec["status"] != "no_answer" {
		t.Fatalf("status = %v, want no_answer", rec["status"])
	}
	again := wantOK(t, c.call("place_call", args))
	if again["deduplicated"] != false || again["callId"] == first["callId"] {
		t.Fatalf("after no_answer the identical call = %v, want a new call", again)
	}
	if n := a.Sandbox.TotalPlaced(); n != 2 {
		t.Errorf("sandbox placed %d calls, want 2", n)
	}
}

func TestDedupeWindowZeroTurnsDeduplicationOff(t *testing.T) {
	a := newApp(t, func(c *config.Config) { c.DedupeWindow = 0 })
	c := connect(t, a)
	first := wantOK(t, c.call("place_call", placeArgs(nil)))
	second := wantOK(t, c.call("place_call", placeArgs(nil)))
	if second["deduplicated"] != false || second["callId"] == first["callId"] {
		t.Fatalf("with --dedupe-window 0 the second call = %v", second)
	}
	if n := a.Sandbox.TotalPlaced(); n != 2 {
		t.Errorf("sandbox placed %d calls, want 2", n)
	}
}

func TestDestinationListsRefuseBeforeTheAPIIsAsked(t *testing.T) {
	tests := []struct {
		name        string
		allow, deny []string
		to          string
		allowed     bool
	}{
		{"allowed by prefix", []string{"+1415"}, nil, "+14155550123", true},
		{"allowed by exact number", []string{"+14155550123"}, nil, "+14155550123", true},
		{"not on the allow list (fail closed)", []string{"+1415"}, nil, "+12125550123", false},
		{"on the deny list", nil, []string{"+1415"}, "+14155550123", false},
		{"denied exact number", nil, []string{"+14155550123"}, "+14155550123", false},
		{"deny wins over allow", []string{"+1"}, []string{"+1415"}, "+14155550123", false},
		{"deny of another prefix leaves the rest", nil, []string{"+44"}, "+14155550123", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := newApp(t, func(c *config.Config) { c.AllowDestinations, c.DenyDestinations = tt.allow, tt.deny })
			c := connect(t, a)
			res := c.call("place_call", placeArgs(map[string]any{"to": tt.to}))
			if tt.allowed {
				wantOK(t, res)
				return
			}
			m := wantToolError(t, res, "destination_not_allowed")
			if m["httpStatus"] != nil {
				t.Errorf("httpStatus = %v, want null: the API was not asked", m["httpStatus"])
			}
			if strings.Contains(testkit.TextOf(res), tt.to) {
				t.Errorf("the refusal shows the full number: %s", testkit.TextOf(res))
			}
			if n := a.Sandbox.TotalPlaced(); n != 0 {
				t.Errorf("a refused destination placed %d calls", n)
			}
		})
	}
}

func TestCallBudgetPerHour(t *testing.T) {
	t.Run("the third call in an hour is refused", func(t *testing.T) {
		a := newApp(t, func(c *config.Config) { c.MaxCallsPerHour = 2 })
		c := connect(t, a)
		wantOK(t, c.call("place_call", placeArgs(map[string]any{"objective": "One."})))
		wantOK(t, c.call("place_call", placeArgs(map[string]any{"objective": "Two."})))
		wantToolError(t, c.call("place_call", placeArgs(map[string]any{"objective": "Three."})), "call_budget_exceeded")
		if n := a.Sandbox.TotalPlaced(); n != 2 {
			t.Errorf("sandbox placed %d calls, want 2", n)
		}
	})
	t.Run("a deduplicated call uses no budget", func(t *testing.T) {
		a := newApp(t, func(c *config.Config) { c.MaxCallsPerHour = 1 })
		c := connect(t, a)
		wantOK(t, c.call("place_call", placeArgs(nil)))
		if out := wantOK(t, c.call("place_call", placeArgs(nil))); out["deduplicated"] != true {
			t.Errorf("got %v", out)
		}
	})
	t.Run("a 4xx from the API uses no budget", func(t *testing.T) {
		a := newApp(t, func(c *config.Config) { c.MaxCallsPerHour = 1 })
		c := connect(t, a)
		wantToolError(t, c.call("place_call", placeArgs(map[string]any{"to": "+33142685300"})), "destination_blocked")
		wantToolError(t, c.call("place_call", placeArgs(map[string]any{"callerId": "+12135559999"})), "caller_id_not_owned")
		wantOK(t, c.call("place_call", placeArgs(nil)))
		wantToolError(t, c.call("place_call", placeArgs(map[string]any{"objective": "Another."})), "call_budget_exceeded")
	})
	t.Run("a 5xx while placing counts, since a call may have been placed", func(t *testing.T) {
		a := newApp(t, func(c *config.Config) { c.MaxCallsPerHour = 1 })
		c := connect(t, a)
		wantToolError(t, c.call("place_call", placeArgs(map[string]any{"to": "+14155550502"})), "placement_failed")
		wantToolError(t, c.call("place_call", placeArgs(nil)), "call_budget_exceeded")
	})
}

func TestReadOnlyServerDoesNotOfferPlaceCall(t *testing.T) {
	for _, era := range testkit.Eras {
		t.Run(era.Name, func(t *testing.T) {
			a := newApp(t, func(c *config.Config) { c.ReadOnly = true })
			c := connect(t, a, era.Opts...)
			if _, ok := c.tools["place_call"]; ok {
				t.Fatal("tools/list offers place_call on a read-only server")
			}
			for _, name := range []string{"get_call", "list_calls", "wait_for_call"} {
				if _, ok := c.tools[name]; !ok {
					t.Errorf("read-only server lacks %s", name)
				}
			}
			req := mcp.CallToolRequest{}
			req.Params.Name = "place_call"
			req.Params.Arguments = placeArgs(nil)
			res, err := c.CallTool(context.Background(), req)
			if err == nil {
				t.Fatalf("calling place_call on a read-only server returned a result, want a JSON-RPC error: %v", testkit.TextOf(res))
			}
			if !strings.Contains(strings.ToLower(err.Error()), "not found") {
				t.Errorf("error = %v, want tool not found", err)
			}
			if n := a.Sandbox.TotalPlaced(); n != 0 {
				t.Errorf("a read-only server placed %d calls", n)
			}
		})
	}
}

// elicitor answers every elicitation with one action and counts the asks.
type elicitor struct {
	action  mcp.ElicitationResponseAction
	content any
	asked   atomic.Int32
	mu      sync.Mutex
	message string
}

func (e *elicitor) Elicit(ctx context.Context, req mcp.ElicitationRequest) (*mcp.ElicitationResult, error) {
	e.asked.Add(1)
	e.mu.Lock()
	e.message = req.Params.Message
	e.mu.Unlock()
	return &mcp.ElicitationResult{ElicitationResponse: mcp.ElicitationResponse{Action: e.action, Content: e.content}}, nil
}

func TestConfirmationAsksTheUserBeforeDialing(t *testing.T) {
	tests := []struct {
		name    string
		mode    string
		action  mcp.ElicitationResponseAction
		content any
		token   string // "" = placed
		asks    int32
	}{
		{"auto, user accepts", config.ConfirmAuto, mcp.ElicitationResponseActionAccept, map[string]any{"confirm": true}, "", 1},
		{"always, user accepts", config.ConfirmAlways, mcp.ElicitationResponseActionAccept, map[string]any{"confirm": true}, "", 1},
		{"auto, user accepts but unticks confirm", config.ConfirmAuto, mcp.ElicitationResponseActionAccept, map[string]any{"confirm": false}, "declined_by_user", 1},
		{"auto, user declines", config.ConfirmAuto, mcp.ElicitationResponseActionDecline, nil, "declined_by_user", 1},
		{"auto, user cancels", config.ConfirmAuto, mcp.ElicitationResponseActionCancel, nil, "declined_by_user", 1},
		{"never, no question", config.ConfirmNever, mcp.ElicitationResponseActionDecline, nil, "", 0},
	}
	for _, era := range testkit.Eras {
		for _, tt := range tests {
			t.Run(era.Name+"/"+tt.name, func(t *testing.T) {
				a := newApp(t, func(c *config.Config) { c.ConfirmCalls = tt.mode })
				e := &elicitor{action: tt.action, content: tt.content}
				c := connect(t, a, append([]mcpclient.ClientOption{mcpclient.WithElicitationHandler(e)}, era.Opts...)...)
				res := c.call("place_call", placeArgs(nil))
				if got := e.asked.Load(); got != tt.asks {
					t.Errorf("the user was asked %d times, want %d", got, tt.asks)
				}
				if tt.asks > 0 {
					e.mu.Lock()
					msg := e.message
					e.mu.Unlock()
					if !strings.Contains(msg, "+14155550123") || !strings.Contains(msg, "Book a table") {
						t.Errorf("the question does not show the number and objective: %q", msg)
					}
				}
				placed := a.Sandbox.TotalPlaced()
				if tt.token == "" {
					wantOK(t, res)
					if placed != 1 {
						t.Errorf("sandbox placed %d calls, want 1", placed)
					}
					return
				}
				wantToolError(t, res, tt.token)
				if placed != 0 {
					t.Errorf("a declined call was placed (%d)", placed)
				}
			})
		}
	}
}

func TestConfirmAlwaysWithoutElicitationRefuses(t *testing.T) {
	a := newApp(t, func(c *config.Config) { c.ConfirmCalls = config.ConfirmAlways })
	c := connect(t, a, mcpclient.WithLegacyProtocolOnly())
	wantToolError(t, c.call("place_call", placeArgs(nil)), "confirmation_unavailable")
	if n := a.Sandbox.TotalPlaced(); n != 0 {
		t.Errorf("sandbox placed %d calls", n)
	}
}

func TestAuditLogRecordsEveryAttemptWithoutTheKey(t *testing.T) {
	const key = "bys_ak_audit_secret_0123456789"
	path := filepath.Join(t.TempDir(), "audit.jsonl")
	a := newApp(t, func(c *config.Config) {
		c.APIKey = key
		c.AuditLog = path
		c.DenyDestinations = []string{"+1212"}
	})
	e := &elicitor{action: mcp.ElicitationResponseActionDecline}
	c := connect(t, a, mcpclient.WithElicitationHandler(e))
	plain := connect(t, a) // no elicitation: nothing to confirm in auto mode

	id := wantOK(t, plain.call("place_call", placeArgs(nil)))["callId"].(string)
	wantOK(t, plain.call("place_call", placeArgs(nil)))                                                                    // deduplicated
	wantToolError(t, plain.call("place_call", placeArgs(map[string]any{"to": "+12125550123"})), "destination_not_allowed") // refused
	wantToolError(t, c.call("place_call", placeArgs(map[string]any{"objective": "Ask first."})), "declined_by_user")       // declined
	wantToolError(t, plain.call("place_call", placeArgs(map[string]any{"to": "+33142685300"})), "destination_blocked")     // api error
	wantOK(t, plain.call("get_call", map[string]any{"callId": id}))
	a.Close()

	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if mode := fi.Mode().Perm(); mode != 0o600 {
		t.Errorf("audit log mode = %o, want 600", mode)
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	outcomes := map[string]int{}
	sc := bufio.NewScanner(strings.NewReader(string(raw)))
	for sc.Scan() {
		var line map[string]any
		if err := json.Unmarshal(sc.Bytes(), &line); err != nil {
			t.Fatalf("audit line is not JSON: %q", sc.Text())
		}
		o, _ := line["outcome"].(string)
		outcomes[o]++
	}
	for _, o := range []string{"placed", "deduplicated", "refused", "declined"} {
		if outcomes[o] != 1 {
			t.Errorf("audit log has %d %q lines, want 1 (all: %v)\n%s", outcomes[o], o, outcomes, raw)
		}
	}
	if total := len(strings.Split(strings.TrimSpace(string(raw)), "\n")); total != 5 {
		t.Errorf("audit log has %d lines for 5 placement attempts:\n%s", total, raw)
	}
	if strings.Contains(string(raw), key) {
		t.Error("the API key appears in the audit log")
	}
	if strings.Contains(string(raw), "+14155550123") {
		t.Error("the audit log shows a full destination number")
	}
	logs := a.logs.String()
	if logs == "" {
		t.Error("nothing was logged at debug level")
	}
	if strings.Contains(logs, key) {
		t.Error("the API key appears in the log output")
	}
	// The key's tail is not a safe redaction either.
	if strings.Contains(logs, key[len(key)-10:]) || strings.Contains(string(raw), key[len(key)-10:]) {
		t.Error("part of the API key appears in the logs")
	}
}
