package tools_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/byourside/bys-mcp/config"
	"github.com/byourside/bys-mcp/internal/app"
	"github.com/byourside/bys-mcp/internal/clock"
	"github.com/byourside/bys-mcp/internal/sandbox"
	"github.com/byourside/bys-mcp/internal/testkit"
)

// postBodies are the bodies of the POSTs rec kept, in order.
func postBodies(rec *testkit.APIRecorder) []string {
	var out []string
	for _, r := range rec.Requests() {
		if r.Method == http.MethodPost {
			out = append(out, string(r.Body))
		}
	}
	return out
}

// respectApp is a sandbox app whose POST bodies are recorded; adjust may
// change the configuration (stateDir "" keeps state in memory).
func respectApp(t *testing.T, stateDir string, c clock.Clock, adjust func(*config.Config)) (*testApp, *testkit.APIRecorder) {
	t.Helper()
	rec := &testkit.APIRecorder{Keep: true}
	logs := &testkit.SyncBuffer{}
	a := testkit.SandboxApp(t, func(cfg *config.Config) {
		if stateDir != "" {
			cfg.StateDir = stateDir
		}
		if adjust != nil {
			adjust(cfg)
		}
	}, testkit.NewLogger(logs, 4), app.Options{
		SandboxOptions: sandbox.Options{TimeScale: 50}, Poll: testkit.FastPoll(), Clock: c,
		WrapTransport: rec.Transport,
	})
	return &testApp{App: a, logs: logs}, rec
}

func TestOutcomeFieldsAreAskedAndShownAsOutcome(t *testing.T) {
	a, posts := respectApp(t, "", nil, nil)
	c := connect(t, a)
	placed := wantOK(t, c.call("place_call", placeArgs(map[string]any{
		"to": "+14155550009", "fields": []any{map[string]any{"name": "booked", "type": "boolean"}},
	})))
	var body struct {
		Fields []struct{ Name, Type, Description string } `json:"fields"`
	}
	if err := json.Unmarshal([]byte(postBodies(posts)[0]), &body); err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range body.Fields {
		names = append(names, f.Name)
		if strings.HasPrefix(f.Name, "bys_") && f.Description == "" {
			t.Errorf("reserved field %s has no description", f.Name)
		}
	}
	if strings.Join(names, ",") != "booked,bys_do_not_call,bys_callback_at,bys_reached" {
		t.Errorf("fields sent = %v, want the agent's then the three reserved ones", names)
	}
	rec := c.waitEnded(placed["callId"].(string))
	ex, _ := rec["extracted"].(map[string]any)
	if len(ex) != 1 || ex["booked"] != true {
		t.Errorf("extracted = %v, want the agent's field only", rec["extracted"])
	}
	o, _ := rec["outcome"].(map[string]any)
	if o["doNotCall"] != true || o["reached"] != "person" || o["callbackAt"] != nil {
		t.Errorf("outcome = %v, want doNotCall true, reached person", rec["outcome"])
	}
	// The number is now on the key's list: refused locally, with when and
	// why, whatever the objective.
	before := len(postBodies(posts))
	res := c.call("place_call", placeArgs(map[string]any{"to": "+14155550009", "objective": "Try once more."}))
	wantToolError(t, res, "do_not_call")
	for _, want := range []string{placed["callId"].(string), "asked not to be called again", "only the operator"} {
		if !strings.Contains(testkit.TextOf(res), want) {
			t.Errorf("refusal lacks %q: %s", want, testkit.TextOf(res))
		}
	}
	if len(postBodies(posts)) != before {
		t.Error("a listed number reached the API")
	}
	// A campaign item to it is refused; the others go on.
	camp := wantOK(t, c.call("place_calls", map[string]any{"objective": "Ask about opening hours.",
		"calls": []any{map[string]any{"to": "+14155550009"}, map[string]any{"to": "+14155550123"}}}))
	items := itemsOf(t, camp)
	deadline := time.Now().Add(10 * time.Second)
	for items[0]["state"] != "refused" && time.Now().Before(deadline) {
		items = itemsOf(t, wantOK(t, c.call("wait_for_campaign", map[string]any{"campaignId": camp["campaignId"], "timeoutSec": 1})))
	}
	if items[0]["state"] != "refused" || items[0]["error"] != "do_not_call" {
		t.Errorf("listed item = %v, want refused with do_not_call", items[0])
	}
	if !strings.Contains(a.logs.String(), "do_not_call_listed") {
		t.Error("the audit log does not record the listing")
	}
}

func TestOutcomeFieldsOffSendsExactlyTheAgentsRequest(t *testing.T) {
	a, posts := respectApp(t, "", nil, func(cfg *config.Config) { cfg.OutcomeFields = false })
	c := connect(t, a)
	wantOK(t, c.call("place_call", placeArgs(map[string]any{"fields": []any{map[string]any{"name": "booked", "type": "boolean"}}})))
	wantOK(t, c.call("place_call", placeArgs(map[string]any{"objective": "No fields at all."})))
	want := []string{
		`{"to":"+14155550123","objective":"Book a table for two at 7 PM.","fields":[{"name":"booked","type":"boolean"}]}`,
		`{"to":"+14155550123","objective":"No fields at all."}`,
	}
	got := postBodies(posts)
	if len(got) != 2 || got[0] != want[0] || got[1] != want[1] {
		t.Errorf("POST bodies =\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestReservedFieldNamesAreInvalidArguments(t *testing.T) {
	a, posts := respectApp(t, "", nil, nil)
	c := connect(t, a)
	res := c.call("place_call", placeArgs(map[string]any{"fields": []any{map[string]any{"name": "bys_reached"}}}))
	wantToolError(t, res, "invalid_argument")
	if !strings.Contains(testkit.TextOf(res), "fields[0].name") || !strings.Contains(testkit.TextOf(res), "reserved") {
		t.Errorf("refusal does not name the argument and the rule: %s", testkit.TextOf(res))
	}
	if len(postBodies(posts)) != 0 {
		t.Error("the API was asked")
	}
}

// A call nobody waited for still teaches the list: before the key dials
// the number again, the earlier call is read; and the list outlives the
// process (the local state database).
func TestDoNotCallIsLearntWithoutWaitingAndKeptAcrossRestarts(t *testing.T) {
	dir := t.TempDir()
	a, _ := respectApp(t, dir, nil, nil)
	c := connect(t, a)
	placed := wantOK(t, c.call("place_call", placeArgs(map[string]any{"to": "+14155550009"})))
	// The sandbox at TimeScale 50 ends it in about 0.2 s.
	deadline := time.Now().Add(10 * time.Second)
	for {
		rec := wantOK(t, c.call("get_call", map[string]any{"callId": placed["callId"]}))
		if rec["status"] == "completed" || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	wantToolError(t, c.call("place_call", placeArgs(map[string]any{"to": "+14155550009", "objective": "Another try."})), "do_not_call")
	a.Close()

	b, posts := respectApp(t, dir, nil, nil)
	res := connect(t, b).call("place_call", placeArgs(map[string]any{"to": "+14155550009", "objective": "After a restart."}))
	wantToolError(t, res, "do_not_call")
	if len(postBodies(posts)) != 0 {
		t.Error("a listed number was dialled after a restart")
	}
}

func TestCallsPerNumberAreCapped(t *testing.T) {
	clk := clock.NewManual(time.Date(2026, 6, 17, 15, 0, 0, 0, time.UTC))
	a, posts := respectApp(t, "", clk, func(cfg *config.Config) { cfg.MaxCallsPerNumber = "2/24h" })
	c := connect(t, a)
	first := wantOK(t, c.call("place_call", placeArgs(map[string]any{"objective": "First subject."})))
	// Deduplicated calls do not count.
	if again := wantOK(t, c.call("place_call", placeArgs(map[string]any{"objective": "First subject."}))); again["deduplicated"] != true {
		t.Fatalf("identical call = %v, want deduplicated", again)
	}
	clk.Advance(time.Hour)
	wantOK(t, c.call("place_call", placeArgs(map[string]any{"objective": "Second subject."})))
	res := c.call("place_call", placeArgs(map[string]any{"objective": "Third subject."}))
	m := wantToolError(t, res, "number_call_limit")
	if m["opensAt"] != "2026-06-18T15:00:01Z" {
		t.Errorf("opensAt = %v, want when the first call leaves the 24 h period", m["opensAt"])
	}
	if !strings.Contains(testkit.TextOf(res), "2 times in the last 24 h") {
		t.Errorf("text: %s", testkit.TextOf(res))
	}
	// Another number is not held by it.
	wantOK(t, c.call("place_call", placeArgs(map[string]any{"to": "+14155550008", "objective": "Third subject."})))
	// A campaign item to the capped number waits, scheduled.
	camp := wantOK(t, c.call("place_calls", map[string]any{"objective": "Fourth subject.", "calls": []any{map[string]any{"to": "+14155550123"}}}))
	items := itemsOf(t, camp)
	deadline := time.Now().Add(10 * time.Second)
	for items[0]["state"] != "scheduled" && time.Now().Before(deadline) {
		items = itemsOf(t, wantOK(t, c.call("wait_for_campaign", map[string]any{"campaignId": camp["campaignId"], "timeoutSec": 1})))
	}
	if items[0]["state"] != "scheduled" || items[0]["notBefore"] != "2026-06-18T15:00:01Z" {
		t.Errorf("capped item = %v, want scheduled until the cap frees", items[0])
	}
	if n := len(postBodies(posts)); n != 3 {
		t.Errorf("%d POSTs, want 3 (two to the capped number, one elsewhere)", n)
	}
	_ = first
}

func TestRegionalRulesNameTheRuleThatRefused(t *testing.T) {
	// 8:30 PM in Miami: inside the default window, outside Florida's.
	miami, _ := time.LoadLocation("America/New_York")
	clk := clock.NewManual(time.Date(2026, 12, 2, 20, 30, 0, 0, miami))
	cases := []struct {
		rules, to string
		wantRule  string
	}{
		{config.CallingRulesRegional, "+13055550123", "Florida"},
		{config.CallingRulesRegional, "+12125550123", ""}, // New York: the federal 8-21 holds
		{config.CallingRulesWindow, "+13055550123", ""},
	}
	for _, tt := range cases {
		t.Run(tt.rules+" "+tt.to, func(t *testing.T) {
			a, _ := respectApp(t, "", clk, func(cfg *config.Config) {
				cfg.CallingHours, cfg.CallingDays, cfg.CallingRules = "08:00-21:00", "mon-sun", tt.rules
			})
			res := connect(t, a).call("place_call", placeArgs(map[string]any{"to": tt.to}))
			if tt.wantRule == "" {
				wantOK(t, res)
				return
			}
			m := wantToolError(t, res, "outside_calling_hours")
			if rule, _ := m["rule"].(string); !strings.HasPrefix(rule, tt.wantRule) || !strings.Contains(testkit.TextOf(res), tt.wantRule) {
				t.Errorf("rule %v, text %s: want %s named", m["rule"], testkit.TextOf(res), tt.wantRule)
			}
			if m["opensAt"] != "2026-12-03T08:00:00-05:00" {
				t.Errorf("opensAt = %v", m["opensAt"])
			}
		})
	}
}
