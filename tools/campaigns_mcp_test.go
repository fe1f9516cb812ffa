package tools_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/byourside/bys-mcp/config"
	"github.com/byourside/bys-mcp/internal/tenant"
	"github.com/byourside/bys-mcp/internal/testkit"
	mcpclient "github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/mcp"
)

// threeCalls is a small campaign: a number that completes, one that is not
// answered and one that declines, with a field to extract.
func threeCalls(extra map[string]any) map[string]any {
	args := map[string]any{
		"name":      "Water heater quotes",
		"objective": "Ask for a quote to replace a 50-gallon water heater.",
		"fields":    []any{map[string]any{"name": "price", "type": "number"}},
		"calls": []any{
			map[string]any{"to": "+14155550123", "label": "Ace Plumbing"},
			map[string]any{"to": "+14155550001", "label": "Bay Pipes"},
			map[string]any{"to": "+14155550003", "label": "City Drains"},
		},
	}
	for k, v := range extra {
		args[k] = v
	}
	return args
}

func itemsOf(t *testing.T, m map[string]any) []map[string]any {
	t.Helper()
	raw, _ := m["items"].([]any)
	out := make([]map[string]any, len(raw))
	for i, r := range raw {
		out[i] = r.(map[string]any)
	}
	return out
}

func TestPlaceCallsRunsACampaignToOneTable(t *testing.T) {
	t.Parallel()
	a := newApp(t, nil)
	c := connect(t, a)
	started := wantOK(t, c.call("place_calls", threeCalls(nil)))
	id, _ := started["campaignId"].(string)
	if !strings.HasPrefix(id, "cmp_") || started["status"] != "running" || started["total"] != float64(3) {
		t.Fatalf("place_calls = %v", started)
	}
	res := c.call("wait_for_campaign", map[string]any{"campaignId": id, "timeoutSec": 60})
	done := wantOK(t, res)
	if done["status"] != "completed" || done["timedOut"] == true {
		t.Fatalf("wait_for_campaign = %v\n%s", done, testkit.TextOf(res))
	}
	want := map[string]string{"+14155550123": "completed", "+14155550001": "no_answer", "+14155550003": "declined"}
	for _, it := range itemsOf(t, done) {
		if it["state"] != "ended" || it["status"] != want[it["to"].(string)] || it["callId"] == "" || it["attempts"] != float64(1) {
			t.Errorf("item %v, want ended with %s", it, want[it["to"].(string)])
		}
	}
	if counts, _ := done["counts"].(map[string]any); counts["ended"] != float64(3) {
		t.Errorf("counts = %v", done["counts"])
	}
	text := testkit.TextOf(res)
	for _, s := range []string{"| # | call | outcome | price | summary |", "Ace Plumbing (+14155550123)", "| no_answer |", "| declined |"} {
		if !strings.Contains(text, s) {
			t.Errorf("the table lacks %q:\n%s", s, text)
		}
	}
	if n := a.Sandbox.TotalPlaced(); n != 3 {
		t.Errorf("sandbox placed %d calls, want 3", n)
	}
	// Waiting again answers at once with the same campaign.
	again := wantOK(t, c.call("wait_for_campaign", map[string]any{"campaignId": id, "timeoutSec": 0}))
	if again["status"] != "completed" {
		t.Errorf("second wait = %v", again["status"])
	}
}

func TestPlaceCallsRefusesBadInputAndDialsNothing(t *testing.T) {
	t.Parallel()
	a := newApp(t, func(c *config.Config) { c.MaxCampaignCalls = 5 })
	c := connect(t, a)
	item := func(to string) map[string]any { return map[string]any{"to": to} }
	six := []any{item("+14155550101"), item("+14155550102"), item("+14155550103"), item("+14155550104"), item("+14155550105"), item("+14155550106")}
	now := a.Clock.Now().UTC() // the app's clock: deadlines are judged on it
	tests := []struct {
		name string
		args map[string]any
		want string // substring of the hint
	}{
		{"no calls", map[string]any{"objective": "x", "calls": []any{}}, `"calls"`},
		{"calls left out", map[string]any{"objective": "x"}, `"calls"`},
		{"more calls than --max-campaign-calls", map[string]any{"objective": "x", "calls": six}, "at most 5"},
		{"an item without objective and no default", map[string]any{"calls": []any{map[string]any{"to": "+14155550123", "objective": "a"}, item("+14155550124")}}, "calls[1]"},
		{"duplicate items", map[string]any{"objective": "x", "calls": []any{item("+14155550123"), item("+14155550124"), item("+14155550123")}}, "calls[2] repeats calls[0]"},
		// A malformed number is not bad input of the whole campaign: the
		// number check refuses that item (invalid_number), as the contract
		// says (TestCampaignItemsKeepTheirOwnCallingHours).
		{"a deadline in the past", map[string]any{"objective": "x", "calls": []any{item("+14155550123")}, "deadline": now.Add(-time.Hour).Format(time.RFC3339)}, `"deadline"`},
		{"a deadline beyond 7 days", map[string]any{"objective": "x", "calls": []any{item("+14155550123")}, "deadline": now.Add(8 * 24 * time.Hour).Format(time.RFC3339)}, "7 days"},
		{"a deadline that is no time", map[string]any{"objective": "x", "calls": []any{item("+14155550123")}, "deadline": "tomorrow"}, "RFC 3339"},
		{"concurrency 0", map[string]any{"objective": "x", "calls": []any{item("+14155550123")}, "concurrency": 0}, `"concurrency"`},
		{"concurrency 99", map[string]any{"objective": "x", "calls": []any{item("+14155550123")}, "concurrency": 99}, `"concurrency"`},
		{"retries 3", map[string]any{"objective": "x", "calls": []any{item("+14155550123")}, "retries": 3}, `"retries"`},
		{"retryAfterMin 5", map[string]any{"objective": "x", "calls": []any{item("+14155550123")}, "retryAfterMin": 5}, `"retryAfterMin"`},
		{"an unknown argument", map[string]any{"objective": "x", "calls": []any{item("+14155550123")}, "speed": 2}, `"speed"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := wantToolError(t, c.call("place_calls", tt.args), "invalid_argument")
			if h, _ := m["hint"].(string); !strings.Contains(h, tt.want) {
				t.Errorf("hint %q does not name %s", h, tt.want)
			}
		})
	}
	for _, tt := range []struct{ tool, id string }{
		{"wait_for_campaign", "cmp_0123456789abcdef0123456789abcdef"},
		{"cancel_campaign", "cmp_0123456789abcdef0123456789abcdef"},
	} {
		wantToolError(t, c.call(tt.tool, map[string]any{"campaignId": tt.id}), "not_found")
		wantToolError(t, c.call(tt.tool, map[string]any{"campaignId": "campaign-1"}), "invalid_argument")
	}
	if n := a.Sandbox.TotalPlaced(); n != 0 {
		t.Errorf("bad input dialled %d calls", n)
	}
}

func TestCampaignsBelongToTheirKey(t *testing.T) {
	t.Parallel()
	a := newApp(t, nil)
	c := connect(t, a)
	owner := tenant.WithKey(context.Background(), "bys_ak_campaign_owner")
	other := tenant.WithKey(context.Background(), "bys_ak_campaign_other")
	res, err := c.callCtx(owner, "place_calls", map[string]any{"objective": "Ask about opening hours.", "calls": []any{map[string]any{"to": "+14155550007"}}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	id := wantOK(t, res)["campaignId"]
	for _, tool := range []string{"wait_for_campaign", "cancel_campaign"} {
		res, err := c.callCtx(other, tool, map[string]any{"campaignId": id, "timeoutSec": 0}, nil)
		if tool == "cancel_campaign" {
			res, err = c.callCtx(other, tool, map[string]any{"campaignId": id}, nil)
		}
		if err != nil {
			t.Fatal(err)
		}
		wantToolError(t, res, "not_found")
	}
	// The owner still sees it running: the other key cancelled nothing.
	res, _ = c.callCtx(owner, "wait_for_campaign", map[string]any{"campaignId": id, "timeoutSec": 0}, nil)
	if m := wantOK(t, res); m["status"] != "running" {
		t.Fatalf("owner's campaign = %v", m["status"])
	}
	res, _ = c.callCtx(owner, "cancel_campaign", map[string]any{"campaignId": id}, nil)
	wantOK(t, res)
}

func TestCancelCampaignStopsWhatIsNotDialled(t *testing.T) {
	t.Parallel()
	a := newApp(t, nil)
	c := connect(t, a)
	// Calls that never end, one at a time: the first rings, the rest wait.
	started := wantOK(t, c.call("place_calls", map[string]any{
		"objective": "Ask about opening hours.", "concurrency": 1,
		"calls": []any{map[string]any{"to": "+14155550007"}, map[string]any{"to": "+14155550123"}, map[string]any{"to": "+14155550124"}},
	}))
	id := started["campaignId"]
	deadline := time.Now().Add(20 * time.Second)
	for a.Sandbox.TotalPlaced() < 1 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	res := c.call("cancel_campaign", map[string]any{"campaignId": id})
	m := wantOK(t, res)
	items := itemsOf(t, m)
	if m["status"] != "cancelled" || items[1]["state"] != "cancelled" || items[2]["state"] != "cancelled" {
		t.Fatalf("after cancel: %v\n%s", m, testkit.TextOf(res))
	}
	if s := items[0]["state"]; s != "in_call" && s != "dialing" {
		t.Errorf("the ringing call is %v, want it left to go on", s)
	}
	time.Sleep(300 * time.Millisecond)
	if n := a.Sandbox.TotalPlaced(); n != 1 {
		t.Errorf("sandbox placed %d calls, want only the first", n)
	}
	// Cancelling again changes nothing.
	if again := wantOK(t, c.call("cancel_campaign", map[string]any{"campaignId": id})); again["status"] != "cancelled" {
		t.Errorf("second cancel = %v", again["status"])
	}
}

func TestCampaignItemsGoThroughPlaceCallsChecks(t *testing.T) {
	t.Parallel()
	a := newApp(t, func(c *config.Config) {
		c.DenyDestinations = []string{"+1415555000"}
		c.MaxCallsPerHour = 1
	})
	c := connect(t, a)
	// A call placed with place_call is joined, not dialled again (dedupe).
	placed := wantOK(t, c.call("place_call", map[string]any{"to": "+14155550123", "objective": "Ask about opening hours."}))
	res := c.call("place_calls", map[string]any{
		"objective": "Ask about opening hours.",
		"calls":     []any{map[string]any{"to": "+14155550001"}, map[string]any{"to": "+14155550123"}, map[string]any{"to": "+14155550124"}},
	})
	id := wantOK(t, res)["campaignId"]
	done := wantOK(t, c.call("wait_for_campaign", map[string]any{"campaignId": id, "timeoutSec": 60}))
	items := itemsOf(t, done)
	if items[0]["state"] != "refused" || items[0]["error"] != "destination_not_allowed" {
		t.Errorf("denied item = %v", items[0])
	}
	if items[1]["callId"] != placed["callId"] || items[1]["attempts"] != float64(0) {
		t.Errorf("identical item = %v, want it to join call %v", items[1], placed["callId"])
	}
	if items[2]["state"] != "refused" || items[2]["error"] != "call_budget_exceeded" {
		t.Errorf("item beyond the budget = %v", items[2])
	}
	if done["status"] != "completed" {
		t.Errorf("status %v", done["status"])
	}
	if n := a.Sandbox.TotalPlaced(); n != 1 {
		t.Errorf("sandbox placed %d calls, want 1", n)
	}
}

func TestWaitForCampaignSendsProgressAsCallsEnd(t *testing.T) {
	t.Parallel()
	a := newApp(t, nil)
	c := connect(t, a)
	pl := watchProgress(c)
	id := wantOK(t, c.call("place_calls", threeCalls(nil)))["campaignId"]
	res, err := c.callCtx(context.Background(), "wait_for_campaign", map[string]any{"campaignId": id, "timeoutSec": 60}, &mcp.Meta{ProgressToken: "camp-1"})
	if err != nil {
		t.Fatal(err)
	}
	wantOK(t, res)
	got := pl.of("camp-1")
	if len(got) == 0 {
		t.Fatal("no progress notification")
	}
	last := -1.0
	for _, n := range got {
		p, _ := n["progress"].(float64)
		total, _ := n["total"].(float64)
		if total != 3 || p <= last || p > 3 {
			t.Errorf("progress %v of %v after %v", p, total, last)
		}
		last = p
	}
	if last != 3 {
		t.Errorf("last progress %v, want 3 (every call ended)", last)
	}
}

func TestReadOnlyWithdrawsTheCampaignTools(t *testing.T) {
	t.Parallel()
	c := connect(t, newApp(t, func(c *config.Config) { c.ReadOnly = true }))
	for _, name := range []string{"place_calls", "wait_for_campaign", "cancel_campaign"} {
		if _, ok := c.tools[name]; ok {
			t.Errorf("--read-only offers %s", name)
		}
	}
}

func TestCampaignConfirmationIsAskedOnceForTheBatch(t *testing.T) {
	t.Parallel()
	for _, era := range testkit.Eras {
		for _, accept := range []bool{true, false} {
			t.Run(fmt.Sprintf("%s/accept=%v", era.Name, accept), func(t *testing.T) {
				a := newApp(t, func(c *config.Config) { c.ConfirmCalls = config.ConfirmAlways })
				e := &elicitor{action: mcp.ElicitationResponseActionAccept, content: map[string]any{"confirm": accept}}
				c := connect(t, a, append([]mcpclient.ClientOption{mcpclient.WithElicitationHandler(e)}, era.Opts...)...)
				res := c.call("place_calls", threeCalls(nil))
				if e.asked.Load() != 1 {
					t.Errorf("asked %d times, want once for the campaign", e.asked.Load())
				}
				e.mu.Lock()
				msg := e.message
				e.mu.Unlock()
				for _, s := range []string{"3 real phone calls", "+14155550123", "+14155550001", "+14155550003", "water heater"} {
					if !strings.Contains(msg, s) {
						t.Errorf("the question lacks %q: %q", s, msg)
					}
				}
				if !accept {
					wantToolError(t, res, "declined_by_user")
					time.Sleep(200 * time.Millisecond)
					if n := a.Sandbox.TotalPlaced(); n != 0 {
						t.Errorf("a declined campaign dialled %d calls", n)
					}
					return
				}
				id := wantOK(t, res)["campaignId"]
				wantOK(t, c.call("wait_for_campaign", map[string]any{"campaignId": id, "timeoutSec": 60}))
				if e.asked.Load() != 1 {
					t.Errorf("asked %d times in all, want once", e.asked.Load())
				}
				if n := a.Sandbox.TotalPlaced(); n != 3 {
					t.Errorf("sandbox placed %d calls, want 3", n)
				}
			})
		}
	}
}

func TestCampaignResources(t *testing.T) {
	t.Parallel()
	a := newApp(t, nil)
	c := connect(t, a, mcpclient.WithLegacyProtocolOnly())
	updates := make(chan string, 100)
	c.OnNotification(func(n mcp.JSONRPCNotification) {
		if n.Method == string(mcp.MethodNotificationResourceUpdated) {
			uri, _ := n.Params.AdditionalFields["uri"].(string)
			updates <- uri
		}
	})
	ctx := context.Background()
	id := wantOK(t, c.call("place_calls", threeCalls(nil)))["campaignId"].(string)
	uri := "bys://campaigns/" + id
	sub := mcp.SubscribeRequest{}
	sub.Params.URI = uri
	if err := c.Subscribe(ctx, sub); err != nil {
		t.Fatal(err)
	}
	wantOK(t, c.call("wait_for_campaign", map[string]any{"campaignId": id, "timeoutSec": 60}))
	select {
	case got := <-updates:
		if got != uri {
			t.Errorf("update for %s, want %s", got, uri)
		}
	case <-time.After(10 * time.Second):
		t.Error("no notifications/resources/updated for the subscribed campaign")
	}
	read := func(ctx context.Context, uri string) (string, string, error) {
		req := mcp.ReadResourceRequest{}
		req.Params.URI = uri
		res, err := c.ReadResource(ctx, req)
		if err != nil {
			return "", "", err
		}
		tc := res.Contents[0].(mcp.TextResourceContents)
		return tc.MIMEType, tc.Text, nil
	}
	mime, body, err := read(ctx, uri)
	if err != nil || mime != "application/json" || !strings.Contains(body, `"status": "completed"`) {
		t.Fatalf("read %s = %s %s %v", uri, mime, body, err)
	}
	mime, body, err = read(ctx, uri+"/results.csv")
	lines := strings.Split(strings.TrimSpace(body), "\n")
	if err != nil || mime != "text/csv" || len(lines) != 4 || lines[0] != "index,label,to,state,status,callId,summary,price" || !strings.HasPrefix(lines[1], "0,Ace Plumbing,+14155550123,ended,completed,") {
		t.Fatalf("read results.csv = %s %q %v", mime, body, err)
	}
	if _, _, err := read(tenant.WithKey(ctx, "bys_ak_someone_else"), uri); err == nil {
		t.Fatal("another key read the campaign")
	}
}
