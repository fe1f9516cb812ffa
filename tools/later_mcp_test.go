package tools_test

import (
	"strings"
	"testing"
	"time"

	"github.com/byourside/bys-mcp/config"
	"github.com/byourside/bys-mcp/internal/app"
	"github.com/byourside/bys-mcp/internal/campaign"
	"github.com/byourside/bys-mcp/internal/clock"
	"github.com/byourside/bys-mcp/internal/sandbox"
	"github.com/byourside/bys-mcp/internal/testkit"
	mcpclient "github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/mcp"
)

// laterApp is a sandbox app on clk whose API requests are recorded, with
// campaign runners that look at the clock often (a manual clock moves
// without waking them).
func laterApp(t *testing.T, clk clock.Clock, adjust func(*config.Config)) (*testApp, *testkit.APIRecorder) {
	t.Helper()
	rec := &testkit.APIRecorder{Keep: true}
	logs := &testkit.SyncBuffer{}
	a := testkit.SandboxApp(t, adjust, testkit.NewLogger(logs, 4), app.Options{
		SandboxOptions: sandbox.Options{TimeScale: 50}, Poll: testkit.FastPoll(), Clock: clk,
		WrapTransport: rec.Transport,
		Campaigns:     campaign.Options{CheckEvery: 50 * time.Millisecond},
	})
	return &testApp{App: a, logs: logs}, rec
}

// postCount is the number of POSTs rec saw.
func postCount(rec *testkit.APIRecorder) int { return len(postBodies(rec)) }

// endCampaign moves clk on a minute at a time (the sandbox's calls run on
// it) until the campaign has ended, and returns it.
func (c *mcpClient) endCampaign(clk *clock.Manual, id any) map[string]any {
	c.t.Helper()
	var m map[string]any
	waitFor(c.t, "the campaign's end", func() bool {
		clk.Advance(time.Minute)
		m = c.campaignNow(id)
		return m["status"] != "running"
	})
	return m
}

func TestLaterCallIsDialledOnceAtNotBefore(t *testing.T) {
	t.Parallel()
	clk := clock.NewManual(pacific(t, "2026-06-17 12:00"))
	a, rec := laterApp(t, clk, nil)
	c := connect(t, a)
	at := clk.Now().Add(2 * time.Hour)
	res := c.call("place_call", placeArgs(map[string]any{"notBefore": at.Format(time.RFC3339)}))
	m := wantOK(t, res)
	id, _ := m["campaignId"].(string)
	if m["scheduled"] != true || !strings.HasPrefix(id, "cmp_") || m["notBefore"] != at.Format(time.RFC3339) || m["callId"] != nil {
		t.Fatalf("place_call with notBefore = %v", m)
	}
	text := testkit.TextOf(res)
	for _, s := range []string{"nothing was dialled", "wait_for_campaign", "cancel_campaign", id, "Wednesday 2:00 PM in Los Angeles"} {
		if !strings.Contains(text, s) {
			t.Errorf("the text does not say %q: %s", s, text)
		}
	}
	if dest, _ := m["destination"].(map[string]any); dest["timeZone"] != "America/Los_Angeles" {
		t.Errorf("destination = %v", m["destination"])
	}
	item := itemsOf(t, c.campaignNow(id))[0]
	if item["state"] != "scheduled" || item["notBefore"] != at.UTC().Format(time.RFC3339) {
		t.Errorf("the later call's item = %v, want scheduled until notBefore", item)
	}

	// Nothing is dialled before notBefore...
	clk.Set(at.Add(-time.Minute))
	time.Sleep(300 * time.Millisecond)
	if n := postCount(rec); n != 0 {
		t.Fatalf("%d POSTs before notBefore", n)
	}
	// ... and once at it.
	clk.Set(at)
	waitFor(t, "the POST at notBefore", func() bool { return postCount(rec) == 1 })
	done := c.endCampaign(clk, id)
	it := itemsOf(t, done)[0]
	if done["status"] != "completed" || it["status"] != "completed" || it["attempts"] != float64(1) || it["callId"] == nil {
		t.Fatalf("the later call's campaign = %v", done)
	}
	clk.Advance(3 * time.Hour)
	time.Sleep(300 * time.Millisecond)
	if n := postCount(rec); n != 1 {
		t.Errorf("%d POSTs in all, want exactly 1", n)
	}
	if body := postBodies(rec)[0]; !strings.Contains(body, `"to":"+14155550123"`) || !strings.Contains(body, "Book a table") {
		t.Errorf("the POST is not the call asked for: %s", body)
	}
}

func TestLaterCallArgumentsAreChecked(t *testing.T) {
	t.Parallel()
	clk := clock.NewManual(pacific(t, "2026-06-17 12:00"))
	a, rec := laterApp(t, clk, nil)
	c := connect(t, a)
	now := clk.Now()
	rfc := func(d time.Duration) string { return now.Add(d).Format(time.RFC3339) }
	calls := func(items ...map[string]any) []any {
		out := []any{}
		for _, it := range items {
			out = append(out, it)
		}
		return out
	}
	tests := []struct {
		name, tool string
		args       map[string]any
		want       []string // in the hint
	}{
		{"place_call: in the past", "place_call", placeArgs(map[string]any{"notBefore": rfc(-time.Minute)}), []string{`"notBefore"`, "not in the future"}},
		{"place_call: now", "place_call", placeArgs(map[string]any{"notBefore": rfc(0)}), []string{`"notBefore"`, "not in the future"}},
		{"place_call: beyond 7 days", "place_call", placeArgs(map[string]any{"notBefore": rfc(7*24*time.Hour + time.Minute)}), []string{`"notBefore"`, "7 days"}},
		{"place_call: malformed", "place_call", placeArgs(map[string]any{"notBefore": "tomorrow at 10"}), []string{`"notBefore"`, "RFC 3339"}},
		{"place_call: no offset", "place_call", placeArgs(map[string]any{"notBefore": "2026-06-18T10:00:00"}), []string{`"notBefore"`, "RFC 3339"}},
		{"place_call: not a string", "place_call", placeArgs(map[string]any{"notBefore": 1750000000}), []string{`"notBefore"`}},
		{"place_calls: in the past", "place_calls", map[string]any{"objective": "x", "notBefore": rfc(-time.Hour), "calls": calls(map[string]any{"to": "+14155550123"})}, []string{`"notBefore"`, "not in the future"}},
		{"place_calls: an item beyond 7 days", "place_calls", map[string]any{"objective": "x", "calls": calls(map[string]any{"to": "+14155550123"}, map[string]any{"to": "+14155550124", "notBefore": rfc(8 * 24 * time.Hour)})}, []string{`"calls[1].notBefore"`, "7 days"}},
		{"place_calls: an item malformed", "place_calls", map[string]any{"objective": "x", "calls": calls(map[string]any{"to": "+14155550123", "notBefore": "soon"})}, []string{`"calls[0].notBefore"`, "RFC 3339"}},
		{"place_calls: an item after the deadline", "place_calls", map[string]any{"objective": "x", "deadline": rfc(time.Hour), "calls": calls(map[string]any{"to": "+14155550123", "notBefore": rfc(2 * time.Hour)})}, []string{`"calls[0].notBefore"`, "deadline"}},
		{"place_calls: the campaign's after the deadline", "place_calls", map[string]any{"objective": "x", "deadline": rfc(time.Hour), "notBefore": rfc(time.Hour), "calls": calls(map[string]any{"to": "+14155550123"})}, []string{`"notBefore"`, "deadline"}},
		{"place_calls: callbacks not a boolean", "place_calls", map[string]any{"objective": "x", "callbacks": "no", "calls": calls(map[string]any{"to": "+14155550123"})}, []string{`"callbacks"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := wantToolError(t, c.call(tt.tool, tt.args), "invalid_argument")
			for _, w := range tt.want {
				if h, _ := m["hint"].(string); !strings.Contains(h, w) {
					t.Errorf("hint %q does not say %s", h, w)
				}
			}
		})
	}
	time.Sleep(200 * time.Millisecond)
	if n := postCount(rec); n != 0 {
		t.Errorf("%d POSTs after refused arguments", n)
	}
	if list := wantOK(t, c.call("list_campaigns", map[string]any{})); len(list["campaigns"].([]any)) != 0 {
		t.Errorf("refused arguments left campaigns: %v", list)
	}
}

// A later call is still held to every check when it is due: calling hours
// closed at notBefore make it wait for them to open (within 24 h).
func TestLaterCallWaitsForCallingHoursWhenDue(t *testing.T) {
	t.Parallel()
	clk := clock.NewManual(pacific(t, "2026-06-17 12:00"))
	a, rec := laterApp(t, clk, func(cfg *config.Config) { cfg.CallingHours, cfg.CallingDays = "08:00-21:00", "mon-sun" })
	c := connect(t, a)
	at := pacific(t, "2026-06-17 22:00")
	id := wantOK(t, c.call("place_call", placeArgs(map[string]any{"notBefore": at.Format(time.RFC3339)})))["campaignId"]
	clk.Set(at)
	opens := pacific(t, "2026-06-18 08:00").UTC().Format(time.RFC3339)
	waitFor(t, "the item waiting for calling hours", func() bool {
		it := itemsOf(t, c.campaignNow(id))[0]
		return it["state"] == "scheduled" && it["notBefore"] == opens
	})
	if n := postCount(rec); n != 0 {
		t.Fatalf("%d POSTs outside calling hours", n)
	}
	clk.Set(pacific(t, "2026-06-18 08:00"))
	waitFor(t, "the POST when calling hours open", func() bool { return postCount(rec) == 1 })
	if done := c.endCampaign(clk, id); done["status"] != "completed" {
		t.Errorf("campaign = %v", done)
	}
}

// A later call whose calling hours do not open within 24 h of notBefore
// expires without being dialled.
func TestLaterCallExpiresWhenHoursDoNotOpenInADay(t *testing.T) {
	t.Parallel()
	clk := clock.NewManual(pacific(t, "2026-06-19 12:00")) // a Friday
	a, rec := laterApp(t, clk, func(cfg *config.Config) { cfg.CallingHours, cfg.CallingDays = "08:00-21:00", "mon-fri" })
	c := connect(t, a)
	at := pacific(t, "2026-06-19 22:00")
	id := wantOK(t, c.call("place_call", placeArgs(map[string]any{"notBefore": at.Format(time.RFC3339)})))["campaignId"]
	clk.Set(at)
	waitFor(t, "the expiry", func() bool { return c.campaignNow(id)["status"] == "expired" })
	if n := postCount(rec); n != 0 {
		t.Errorf("%d POSTs", n)
	}
}

func TestLaterCallCanBeCancelled(t *testing.T) {
	t.Parallel()
	clk := clock.NewManual(pacific(t, "2026-06-17 12:00"))
	a, rec := laterApp(t, clk, nil)
	c := connect(t, a)
	at := clk.Now().Add(time.Hour)
	id := wantOK(t, c.call("place_call", placeArgs(map[string]any{"notBefore": at.Format(time.RFC3339)})))["campaignId"]
	if got := wantOK(t, c.call("cancel_campaign", map[string]any{"campaignId": id})); got["status"] != "cancelled" {
		t.Fatalf("cancel_campaign = %v", got)
	}
	clk.Set(at.Add(time.Minute))
	time.Sleep(300 * time.Millisecond)
	if n := postCount(rec); n != 0 {
		t.Errorf("a cancelled later call was dialled (%d POSTs)", n)
	}
}

func TestPlaceCallsItemsWaitForTheirNotBefore(t *testing.T) {
	t.Parallel()
	clk := clock.NewManual(pacific(t, "2026-06-17 12:00"))
	a, rec := laterApp(t, clk, nil)
	c := connect(t, a)
	now := clk.Now()
	campaignAt, itemAt := now.Add(3*time.Hour), now.Add(time.Hour)
	started := wantOK(t, c.call("place_calls", map[string]any{
		"objective": "Ask for a quote.", "notBefore": campaignAt.Format(time.RFC3339),
		"calls": []any{
			map[string]any{"to": "+14155550123", "label": "own time", "notBefore": itemAt.Format(time.RFC3339)},
			map[string]any{"to": "+14155550124", "label": "campaign's time"},
		},
	}))
	id := started["campaignId"]
	items := itemsOf(t, started)
	if items[0]["state"] != "scheduled" || items[0]["notBefore"] != itemAt.UTC().Format(time.RFC3339) ||
		items[1]["state"] != "scheduled" || items[1]["notBefore"] != campaignAt.UTC().Format(time.RFC3339) {
		t.Fatalf("items = %v, want each scheduled until its own time (an item's own wins)", items)
	}
	if want := campaignAt.Add(24 * time.Hour).UTC().Format(time.RFC3339); started["deadline"] != want {
		t.Errorf("deadline = %v, want 24 h after the latest notBefore (%s)", started["deadline"], want)
	}
	time.Sleep(200 * time.Millisecond)
	if n := postCount(rec); n != 0 {
		t.Fatalf("%d POSTs before any notBefore", n)
	}
	clk.Set(itemAt)
	waitFor(t, "the first item's POST", func() bool { return postCount(rec) == 1 })
	if !strings.Contains(postBodies(rec)[0], "+14155550123") {
		t.Errorf("the first POST is not the item due: %s", postBodies(rec)[0])
	}
	clk.Advance(time.Minute)
	time.Sleep(200 * time.Millisecond)
	if n := postCount(rec); n != 1 {
		t.Fatalf("%d POSTs before the campaign's notBefore, want 1", n)
	}
	clk.Set(campaignAt)
	waitFor(t, "the second item's POST", func() bool { return postCount(rec) == 2 })
	if done := c.endCampaign(clk, id); done["status"] != "completed" {
		t.Errorf("campaign = %v", done)
	}
}

// The sandbox's +14155550010 asks to be called back tomorrow at 10:00 its
// time: a campaign calls it back then (through every check again, one
// more attempt), unless callbacks is false.
func TestCampaignCallsBackWhenThePersonAsked(t *testing.T) {
	t.Parallel()
	for _, on := range []bool{true, false} {
		name := "callbacks on"
		if !on {
			name = "callbacks false"
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			clk := clock.NewManual(pacific(t, "2026-06-17 15:00"))
			a, rec := laterApp(t, clk, func(cfg *config.Config) { cfg.CallingHours, cfg.CallingDays = "08:00-21:00", "mon-sun" })
			c := connect(t, a)
			args := map[string]any{"objective": "Ask whether the quote still stands.", "calls": []any{map[string]any{"to": "+14155550010", "label": "Dana"}}}
			if !on {
				args["callbacks"] = false
			}
			id := wantOK(t, c.call("place_calls", args))["campaignId"]
			waitFor(t, "the first POST", func() bool { return postCount(rec) == 1 })
			callbackAt := pacific(t, "2026-06-18 10:00")
			var item map[string]any
			waitFor(t, "the first call's end", func() bool {
				clk.Advance(time.Minute)
				m := c.campaignNow(id)
				item = itemsOf(t, m)[0]
				return item["status"] == "completed"
			})
			outcome, _ := item["outcome"].(map[string]any)
			if outcome["callbackAt"] != "2026-06-18T10:00" {
				t.Fatalf("the first call's outcome = %v", item["outcome"])
			}
			if !on {
				if item["state"] != "ended" {
					t.Fatalf("with callbacks false the item is %v, want ended", item)
				}
				clk.Set(callbackAt.Add(time.Minute))
				time.Sleep(300 * time.Millisecond)
				if n := postCount(rec); n != 1 {
					t.Errorf("%d POSTs with callbacks false, want 1", n)
				}
				return
			}
			res := c.call("wait_for_campaign", map[string]any{"campaignId": id, "timeoutSec": 0})
			item = itemsOf(t, wantOK(t, res))[0]
			if item["state"] != "scheduled" || item["notBefore"] != callbackAt.UTC().Format(time.RFC3339) || item["attempts"] != float64(1) {
				t.Fatalf("item = %v, want scheduled until the callback (%s)", item, callbackAt.UTC().Format(time.RFC3339))
			}
			if text := testkit.TextOf(res); !strings.Contains(text, "callback at "+callbackAt.UTC().Format(time.RFC3339)) {
				t.Errorf("the table does not show the callback:\n%s", text)
			}
			clk.Set(callbackAt.Add(-time.Minute))
			time.Sleep(300 * time.Millisecond)
			if n := postCount(rec); n != 1 {
				t.Fatalf("%d POSTs before the callback time, want 1", n)
			}
			clk.Set(callbackAt)
			waitFor(t, "the callback's POST", func() bool { return postCount(rec) == 2 })
			done := c.endCampaign(clk, id)
			item = itemsOf(t, done)[0]
			// The callback asks again for tomorrow 10:00: after the
			// deadline (24 h after 15:00), so it ends there.
			if done["status"] != "completed" || item["state"] != "ended" || item["attempts"] != float64(2) {
				t.Errorf("campaign after the callback = %v", done)
			}
			if n := postCount(rec); n != 2 {
				t.Errorf("%d POSTs, want 2", n)
			}
		})
	}
}

// A single call whose person asked to be called back says when, in their
// zone, and the exact instant to pass as notBefore.
func TestSingleCallResultGivesTheCallbackInstant(t *testing.T) {
	t.Parallel()
	clk := clock.NewManual(pacific(t, "2026-06-17 15:00"))
	a, _ := laterApp(t, clk, nil)
	c := connect(t, a)
	id := wantOK(t, c.call("place_call", placeArgs(map[string]any{"to": "+14155550010"})))["callId"]
	clk.Advance(time.Minute)
	for _, tool := range []string{"wait_for_call", "get_call"} {
		args := map[string]any{"callId": id}
		if tool == "wait_for_call" {
			args["timeoutSec"] = 10
		}
		res := c.call(tool, args)
		rec := wantOK(t, res)
		if o, _ := rec["outcome"].(map[string]any); o["callbackAt"] != "2026-06-18T10:00" {
			t.Fatalf("%s outcome = %v", tool, rec["outcome"])
		}
		text := testkit.TextOf(res)
		for _, s := range []string{"called back at 2026-06-18T10:00 their time", "Los Angeles", "notBefore: 2026-06-18T10:00:00-07:00"} {
			if !strings.Contains(text, s) {
				t.Errorf("%s text lacks %q:\n%s", tool, s, text)
			}
		}
	}
	// Read once the time has passed, it says so instead.
	clk.Set(pacific(t, "2026-06-18 11:00"))
	if text := testkit.TextOf(c.call("get_call", map[string]any{"callId": id})); !strings.Contains(text, "that time has passed") || strings.Contains(text, "notBefore:") {
		t.Errorf("get_call after the callback time:\n%s", text)
	}
}

// The refusals that a later call answers say so.
func TestRefusalsSayNotBeforeCanScheduleTheCall(t *testing.T) {
	t.Parallel()
	clk := clock.NewManual(pacific(t, "2026-06-17 22:14"))
	a, _ := laterApp(t, clk, func(cfg *config.Config) {
		cfg.CallingHours, cfg.CallingDays = "08:00-21:00", "mon-sun"
		cfg.MaxCallsPerNumber = "1/24h"
	})
	c := connect(t, a)
	m := wantToolError(t, c.call("place_call", placeArgs(nil)), "outside_calling_hours")
	opens, _ := m["opensAt"].(string)
	if h, _ := m["hint"].(string); opens == "" || !strings.Contains(h, "place_call's notBefore: "+opens) {
		t.Errorf("outside_calling_hours hint %q does not offer notBefore: %s", h, opens)
	}
	// And scheduling it then is accepted.
	if got := wantOK(t, c.call("place_call", placeArgs(map[string]any{"notBefore": opens}))); got["scheduled"] != true {
		t.Errorf("place_call with notBefore: opensAt = %v", got)
	}

	clk.Set(pacific(t, "2026-06-18 09:00"))
	wantOK(t, c.call("place_call", placeArgs(map[string]any{"to": "+14155550124", "objective": "First subject."})))
	m = wantToolError(t, c.call("place_call", placeArgs(map[string]any{"to": "+14155550124", "objective": "Second subject."})), "number_call_limit")
	opens, _ = m["opensAt"].(string)
	if h, _ := m["hint"].(string); opens == "" || !strings.Contains(h, "place_call's notBefore: "+opens) {
		t.Errorf("number_call_limit hint %q does not offer notBefore: %s", h, opens)
	}
}

// --confirm-calls asks now, once, for a later call, naming its time; the
// call is then dialled at that time without asking again.
func TestLaterCallIsConfirmedOnceWhenScheduled(t *testing.T) {
	t.Parallel()
	for _, accept := range []bool{true, false} {
		t.Run(map[bool]string{true: "accepted", false: "declined"}[accept], func(t *testing.T) {
			t.Parallel()
			clk := clock.NewManual(pacific(t, "2026-06-17 12:00"))
			a, rec := laterApp(t, clk, func(cfg *config.Config) { cfg.ConfirmCalls = config.ConfirmAlways })
			e := &elicitor{action: mcp.ElicitationResponseActionAccept, content: map[string]any{"confirm": accept}}
			c := connect(t, a, mcpclient.WithElicitationHandler(e))
			at := clk.Now().Add(time.Hour).Format(time.RFC3339)
			res := c.call("place_call", placeArgs(map[string]any{"notBefore": at}))
			if e.asked.Load() != 1 {
				t.Fatalf("asked %d times, want once", e.asked.Load())
			}
			e.mu.Lock()
			msg := e.message
			e.mu.Unlock()
			if !strings.Contains(msg, "+14155550123") || !strings.Contains(msg, "not before "+at) {
				t.Errorf("the question does not name the number and the time: %q", msg)
			}
			if !accept {
				wantToolError(t, res, "declined_by_user")
				if list := wantOK(t, c.call("list_campaigns", map[string]any{})); len(list["campaigns"].([]any)) != 0 {
					t.Errorf("a declined later call was kept: %v", list)
				}
				return
			}
			id := wantOK(t, res)["campaignId"]
			clk.Advance(time.Hour)
			waitFor(t, "the POST", func() bool { return postCount(rec) == 1 })
			c.endCampaign(clk, id)
			if e.asked.Load() != 1 {
				t.Errorf("asked %d times in all, want once", e.asked.Load())
			}
		})
	}
}
