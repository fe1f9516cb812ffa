package tools_test

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/byourside/bys-mcp/config"
	"github.com/byourside/bys-mcp/internal/tenant"
	"github.com/byourside/bys-mcp/internal/testkit"
	mcpclient "github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/mcp"
)

// campaignNow reads a campaign at once (wait_for_campaign, timeoutSec 0).
func (c *mcpClient) campaignNow(id any) map[string]any {
	c.t.Helper()
	return structured(c.t, c.call("wait_for_campaign", map[string]any{"campaignId": id, "timeoutSec": 0}))
}

// waitFor polls until cond holds (10 s at most).
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	end := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(end) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestPauseStopsDiallingAndResumeContinues(t *testing.T) {
	t.Parallel()
	a, posts := postApp(t, nil)
	c := connect(t, a)
	// One at a time: a long call (about 2 s at the sandbox's pace), then
	// three short ones.
	started := wantOK(t, c.call("place_calls", map[string]any{
		"name": "Pause test", "objective": "Ask about opening hours.", "concurrency": 1,
		"calls": []any{map[string]any{"to": "+14155550006"}, map[string]any{"to": "+14155550130"}, map[string]any{"to": "+14155550131"}, map[string]any{"to": "+14155550132"}},
	}))
	id := started["campaignId"]
	waitFor(t, "the first POST", func() bool { return posts.count() >= 1 })

	res := c.call("pause_campaign", map[string]any{"campaignId": id})
	paused := wantOK(t, res)
	items := itemsOf(t, paused)
	if paused["status"] != "paused" || items[1]["state"] != "paused" || items[2]["state"] != "paused" || items[3]["state"] != "paused" {
		t.Fatalf("after pause_campaign: %v\n%s", paused, testkit.TextOf(res))
	}
	if s := items[0]["state"]; s != "dialing" && s != "in_call" {
		t.Errorf("the ringing call is %v, want it left to go on", s)
	}
	if !strings.Contains(testkit.TextOf(res), "paused") || !strings.Contains(testkit.TextOf(res), "resume_campaign") {
		t.Errorf("the text does not say it is paused and how to resume:\n%s", testkit.TextOf(res))
	}
	if counts, _ := paused["counts"].(map[string]any); counts["paused"] != float64(3) {
		t.Errorf("counts = %v, want 3 paused", paused["counts"])
	}
	// The ringing call ends; nothing more is dialled while paused.
	waitFor(t, "the first call to end", func() bool { return itemsOf(t, c.campaignNow(id))[0]["state"] == "ended" })
	time.Sleep(time.Second)
	if n := posts.count(); n != 1 {
		t.Fatalf("%d POSTs while paused, want only the first", n)
	}
	now := c.campaignNow(id)
	if now["status"] != "paused" {
		t.Errorf("status with nothing ringing = %v, want paused", now["status"])
	}
	listed := wantOK(t, c.call("list_campaigns", map[string]any{}))
	if l, _ := listed["campaigns"].([]any); len(l) != 1 || l[0].(map[string]any)["status"] != "paused" {
		t.Errorf("list_campaigns = %v", listed)
	}
	// Pausing again changes nothing.
	if again := wantOK(t, c.call("pause_campaign", map[string]any{"campaignId": id})); again["status"] != "paused" {
		t.Errorf("second pause: %v", again["status"])
	}

	resumed := wantOK(t, c.call("resume_campaign", map[string]any{"campaignId": id}))
	if resumed["status"] != "running" {
		t.Fatalf("after resume_campaign: %v", resumed)
	}
	for _, it := range itemsOf(t, resumed) {
		if it["state"] == "paused" {
			t.Errorf("an item is still paused after resume: %v", it)
		}
	}
	done := wantOK(t, c.call("wait_for_campaign", map[string]any{"campaignId": id, "timeoutSec": 60}))
	if done["status"] != "completed" {
		t.Fatalf("after resume the campaign ended %v", done["status"])
	}
	if n := posts.count(); n != 4 {
		t.Errorf("%d POSTs in all, want 4 (each number once)", n)
	}
	// Resuming a campaign that is not paused changes nothing.
	if again := wantOK(t, c.call("resume_campaign", map[string]any{"campaignId": id})); again["status"] != "completed" {
		t.Errorf("resume of an ended campaign: %v", again["status"])
	}
}

func TestRetryCampaignRedialsOnlyTheChosenStatuses(t *testing.T) {
	t.Parallel()
	a, posts := postApp(t, nil)
	c := connect(t, a)
	numbers := map[string]string{
		"+14155550123": "completed", "+14155550001": "no_answer", "+14155550002": "voicemail",
		"+14155550004": "failed", "+14155550003": "declined",
	}
	var calls []any
	for _, to := range []string{"+14155550123", "+14155550001", "+14155550002", "+14155550004", "+14155550003"} {
		calls = append(calls, map[string]any{"to": to})
	}
	id := wantOK(t, c.call("place_calls", map[string]any{"objective": "Ask about opening hours.", "concurrency": 5, "calls": calls}))["campaignId"]
	first := wantOK(t, c.call("wait_for_campaign", map[string]any{"campaignId": id, "timeoutSec": 60}))
	for _, it := range itemsOf(t, first) {
		if it["status"] != numbers[it["to"].(string)] {
			t.Fatalf("item %v, want %s", it, numbers[it["to"].(string)])
		}
	}
	dials := func() map[string]int {
		m := map[string]int{}
		for to := range numbers {
			m[to] = len(posts.to(to))
		}
		return m
	}
	steps := []struct {
		name     string
		args     map[string]any
		redialed int
		want     map[string]int
	}{
		{"voicemail only", map[string]any{"statuses": []any{"voicemail"}}, 1,
			map[string]int{"+14155550123": 1, "+14155550001": 1, "+14155550002": 2, "+14155550004": 1, "+14155550003": 1}},
		{"the default: no_answer, voicemail and failed", nil, 3,
			map[string]int{"+14155550123": 1, "+14155550001": 2, "+14155550002": 3, "+14155550004": 2, "+14155550003": 1}},
	}
	for _, s := range steps {
		args := map[string]any{"campaignId": id}
		for k, v := range s.args {
			args[k] = v
		}
		res := c.call("retry_campaign", args)
		m := wantOK(t, res)
		if m["status"] != "running" || !strings.Contains(testkit.TextOf(res), strconv.Itoa(s.redialed)+" calls") {
			t.Fatalf("%s: retry_campaign = %v\n%s", s.name, m["status"], testkit.TextOf(res))
		}
		done := wantOK(t, c.call("wait_for_campaign", map[string]any{"campaignId": id, "timeoutSec": 60}))
		if done["status"] != "completed" {
			t.Fatalf("%s: the campaign ended %v", s.name, done["status"])
		}
		got := dials()
		for to, n := range s.want {
			if got[to] != n {
				t.Errorf("%s: %s (%s) dialled %d times, want %d", s.name, to, numbers[to], got[to], n)
			}
		}
		for _, it := range itemsOf(t, done) {
			if want := float64(s.want[it["to"].(string)]); it["attempts"] != want {
				t.Errorf("%s: item %v has attempts %v, want %v", s.name, it["to"], it["attempts"], want)
			}
		}
	}
}

func TestRetryCampaignRefusals(t *testing.T) {
	t.Parallel()
	a, posts := postApp(t, nil)
	c := connect(t, a)
	id := wantOK(t, c.call("place_calls", map[string]any{"objective": "Ask about opening hours.", "concurrency": 1,
		"calls": []any{map[string]any{"to": "+14155550007"}, map[string]any{"to": "+14155550001"}}}))["campaignId"]
	waitFor(t, "the first POST", func() bool { return posts.count() >= 1 })
	tests := []struct {
		name, token, hint string
		args              map[string]any
	}{
		{"completed is never redialled", "invalid_argument", `"statuses"`, map[string]any{"statuses": []any{"completed"}}},
		{"declined is never redialled", "invalid_argument", `"statuses"`, map[string]any{"statuses": []any{"no_answer", "declined"}}},
		{"an empty list", "invalid_argument", `"statuses"`, map[string]any{"statuses": []any{}}},
		{"a malformed id", "invalid_argument", `"campaignId"`, map[string]any{"campaignId": "campaign-1"}},
		{"an unknown campaign", "not_found", "campaignId", map[string]any{"campaignId": "cmp_0123456789abcdef0123456789abcdef"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := map[string]any{"campaignId": id}
			for k, v := range tt.args {
				args[k] = v
			}
			m := wantToolError(t, c.call("retry_campaign", args), tt.token)
			if h, _ := m["hint"].(string); !strings.Contains(h, tt.hint) {
				t.Errorf("hint %q does not name %s", h, tt.hint)
			}
		})
	}
	// No call ended voicemail: nothing to redial, and it is not an error.
	res := c.call("retry_campaign", map[string]any{"campaignId": id, "statuses": []any{"voicemail"}})
	if m := wantOK(t, res); m["status"] != "running" || !strings.Contains(testkit.TextOf(res), "nothing to redial") {
		t.Errorf("retry of a status no call ended with: %v\n%s", m["status"], testkit.TextOf(res))
	}
	wantOK(t, c.call("cancel_campaign", map[string]any{"campaignId": id}))
	wantToolError(t, c.call("retry_campaign", map[string]any{"campaignId": id}), "campaign_cancelled")
	if n := posts.count(); n != 1 {
		t.Errorf("%d POSTs, want only the first call", n)
	}
}

func TestCampaignControlsBelongToTheirKey(t *testing.T) {
	t.Parallel()
	a := newApp(t, nil)
	c := connect(t, a)
	owner := tenant.WithKey(context.Background(), "bys_ak_control_owner")
	other := tenant.WithKey(context.Background(), "bys_ak_control_other")
	call := func(ctx context.Context, tool string, args map[string]any) *mcp.CallToolResult {
		t.Helper()
		res, err := c.callCtx(ctx, tool, args, nil)
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	id := wantOK(t, call(owner, "place_calls", map[string]any{"objective": "Ask about opening hours.", "calls": []any{map[string]any{"to": "+14155550007"}, map[string]any{"to": "+14155550001"}}, "concurrency": 1}))["campaignId"]
	for _, tool := range []string{"pause_campaign", "resume_campaign", "retry_campaign"} {
		wantToolError(t, call(other, tool, map[string]any{"campaignId": id}), "not_found")
	}
	if l := wantOK(t, call(other, "list_campaigns", nil))["campaigns"].([]any); len(l) != 0 {
		t.Errorf("another key lists %v", l)
	}
	// The other key's pause changed nothing: the owner's campaign runs.
	m := wantOK(t, call(owner, "list_campaigns", nil))["campaigns"].([]any)
	if len(m) != 1 || m[0].(map[string]any)["campaignId"] != id || m[0].(map[string]any)["status"] != "running" {
		t.Fatalf("owner's list = %v", m)
	}
	wantOK(t, call(owner, "pause_campaign", map[string]any{"campaignId": id}))
	wantOK(t, call(owner, "cancel_campaign", map[string]any{"campaignId": id}))
}

func TestListCampaignsIsNewestFirstWithALimit(t *testing.T) {
	t.Parallel()
	c := connect(t, newApp(t, nil))
	var ids []any
	for i := range 3 {
		res := c.call("place_calls", map[string]any{"name": "batch " + strconv.Itoa(i), "objective": "Ask about opening hours.", "calls": []any{map[string]any{"to": "+1415555014" + strconv.Itoa(i)}}})
		ids = append(ids, wantOK(t, res)["campaignId"])
	}
	res := c.call("list_campaigns", map[string]any{"limit": 2})
	l := wantOK(t, res)["campaigns"].([]any)
	if len(l) != 2 || l[0].(map[string]any)["campaignId"] != ids[2] || l[1].(map[string]any)["campaignId"] != ids[1] {
		t.Fatalf("list_campaigns limit 2 = %v, want %v then %v", l, ids[2], ids[1])
	}
	first := l[0].(map[string]any)
	for _, k := range []string{"campaignId", "name", "status", "createdAt", "deadline", "total", "counts"} {
		if _, ok := first[k]; !ok {
			t.Errorf("a listed campaign lacks %s: %v", k, first)
		}
	}
	if _, ok := first["items"]; ok {
		t.Error("a listed campaign carries its items")
	}
	if !strings.Contains(testkit.TextOf(res), "batch 2") || strings.Contains(testkit.TextOf(res), "batch 0") {
		t.Errorf("the text does not list the two newest:\n%s", testkit.TextOf(res))
	}
	if all := wantOK(t, c.call("list_campaigns", nil))["campaigns"].([]any); len(all) != 3 {
		t.Errorf("list_campaigns = %d campaigns, want 3", len(all))
	}
	for _, bad := range []any{0, 101, "ten"} {
		m := wantToolError(t, c.call("list_campaigns", map[string]any{"limit": bad}), "invalid_argument")
		if h, _ := m["hint"].(string); !strings.Contains(h, `"limit"`) {
			t.Errorf("limit %v: hint %q does not name limit", bad, h)
		}
	}
	for _, id := range ids {
		wantOK(t, c.call("wait_for_campaign", map[string]any{"campaignId": id, "timeoutSec": 60}))
	}
}

func TestReadOnlyKeepsListCampaignsAndWithdrawsTheControls(t *testing.T) {
	t.Parallel()
	a := newApp(t, func(c *config.Config) { c.ReadOnly = true })
	c := connect(t, a)
	for _, name := range []string{"pause_campaign", "resume_campaign", "retry_campaign"} {
		if _, ok := c.tools[name]; ok {
			t.Errorf("--read-only offers %s", name)
		}
	}
	if _, ok := c.tools["list_campaigns"]; !ok {
		t.Fatal("--read-only withdraws list_campaigns, which only reads")
	}
	if l := wantOK(t, c.call("list_campaigns", nil))["campaigns"].([]any); len(l) != 0 {
		t.Errorf("list_campaigns = %v", l)
	}
	res, err := c.callCtx(context.Background(), "pause_campaign", map[string]any{"campaignId": "cmp_0123456789abcdef0123456789abcdef"}, nil)
	if err == nil && !res.IsError {
		t.Error("--read-only still serves pause_campaign")
	}
}

// retry_campaign places real calls again: the user confirms it, as for
// place_calls; a refusal dials nothing.
func TestRetryCampaignIsConfirmedByTheUser(t *testing.T) {
	t.Parallel()
	a, posts := postApp(t, func(c *config.Config) { c.ConfirmCalls = config.ConfirmAlways })
	e := &elicitor{action: mcp.ElicitationResponseActionAccept, content: map[string]any{"confirm": true}}
	c := connect(t, a, mcpclient.WithElicitationHandler(e))
	id := wantOK(t, c.call("place_calls", map[string]any{"name": "Confirm test", "objective": "Ask about opening hours.", "calls": []any{map[string]any{"to": "+14155550001", "label": "Bay Pipes"}, map[string]any{"to": "+14155550123"}}}))["campaignId"]
	wantOK(t, c.call("wait_for_campaign", map[string]any{"campaignId": id, "timeoutSec": 60}))
	if e.asked.Load() != 1 || posts.count() != 2 {
		t.Fatalf("campaign: asked %d times, %d POSTs", e.asked.Load(), posts.count())
	}
	e.content = map[string]any{"confirm": false}
	wantToolError(t, c.call("retry_campaign", map[string]any{"campaignId": id}), "declined_by_user")
	e.mu.Lock()
	msg := e.message
	e.mu.Unlock()
	for _, s := range []string{"Dial again 1 calls", "+14155550001", "Bay Pipes", "no_answer"} {
		if !strings.Contains(msg, s) {
			t.Errorf("the question lacks %q: %q", s, msg)
		}
	}
	if strings.Contains(msg, "+14155550123") {
		t.Errorf("the question names the completed call: %q", msg)
	}
	time.Sleep(200 * time.Millisecond)
	if n := posts.count(); n != 2 || e.asked.Load() != 2 {
		t.Fatalf("a declined retry: %d POSTs, asked %d times", n, e.asked.Load())
	}
	e.content = map[string]any{"confirm": true}
	wantOK(t, c.call("retry_campaign", map[string]any{"campaignId": id}))
	wantOK(t, c.call("wait_for_campaign", map[string]any{"campaignId": id, "timeoutSec": 60}))
	if n := len(posts.to("+14155550001")); n != 2 || posts.count() != 3 {
		t.Errorf("an accepted retry: %d POSTs to the unanswered number (want 2), %d in all (want 3)", n, posts.count())
	}
}
