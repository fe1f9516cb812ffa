package e2e_test

import (
	"context"
	"testing"
	"time"

	bysclient "github.com/byourside/bys-mcp/client"
	"github.com/byourside/bys-mcp/internal/sandbox"
	"github.com/byourside/bys-mcp/internal/testkit"
	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// A stdio server killed with SIGKILL in the middle of a campaign, then
// started again on the same --state-dir: the campaign continues and every
// number is dialled exactly once.
func TestCampaignSurvivesKill9AndRestart(t *testing.T) {
	t.Parallel()
	api := testkit.SandboxServer(t, sandbox.Options{TimeScale: 4, RateLimitPerMinute: -1})
	dir := t.TempDir()
	key := "bys_ak_e2e_campaign_restart"
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()

	numbers := []string{"+14155550123", "+14155550124", "+14155550125", "+14155550126"}
	var calls []any
	for _, n := range numbers {
		calls = append(calls, map[string]any{"to": n})
	}
	first, cmd, _ := stdioOn(t, ctx, api.URL, key, dir)
	res, err := first.CallTool(ctx, &mcp.CallToolParams{Name: "place_calls", Arguments: map[string]any{
		"objective": "Confirm tomorrow's appointment.", "concurrency": 1, "calls": calls,
	}})
	if err != nil || res.IsError {
		t.Fatalf("place_calls: %v %v", err, res)
	}
	id := res.StructuredContent.(map[string]any)["campaignId"].(string)
	// Let the first call be placed, then kill the process mid-campaign.
	c, err := bysclient.New(bysclient.Options{BaseURL: api.URL, APIKey: key})
	if err != nil {
		t.Fatal(err)
	}
	placed := func() map[string]int {
		list, err := c.ListCalls(ctx, &bysclient.ListOptions{Limit: 100})
		if err != nil {
			t.Fatal(err)
		}
		n := map[string]int{}
		for _, call := range list {
			n[call.To]++
		}
		return n
	}
	for len(placed()) == 0 {
		if ctx.Err() != nil {
			t.Fatal("no call placed")
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = first.Close()
	before := placed()
	if len(before) == len(numbers) {
		t.Fatalf("every call was placed before the kill (%v): the test proves nothing", before)
	}

	second, _, stderr := stdioOn(t, ctx, api.URL, key, dir)
	var done map[string]any
	for {
		res, err := second.CallTool(ctx, &mcp.CallToolParams{Name: "wait_for_campaign", Arguments: map[string]any{"campaignId": id, "timeoutSec": 30}})
		if err != nil || res.IsError {
			t.Fatalf("wait_for_campaign after restart: %v %v\n%s", err, res, stderr.String())
		}
		done = res.StructuredContent.(map[string]any)
		if done["timedOut"] != true {
			break
		}
		if ctx.Err() != nil {
			t.Fatalf("campaign did not end after the restart: %v\n%s", done, stderr.String())
		}
	}
	if done["status"] != "completed" {
		t.Fatalf("campaign after restart: %v", done)
	}
	after := placed()
	for _, n := range numbers {
		if after[n] != 1 {
			t.Errorf("%s dialled %d times, want exactly once (before the kill: %v)", n, after[n], before)
		}
	}
}
