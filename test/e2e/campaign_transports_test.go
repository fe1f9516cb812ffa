package e2e_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// A two-call campaign through the built binary over every transport and
// both protocol eras: place_calls answers at once, wait_for_campaign sends
// progress (calls ended of calls) and ends with the results table.
func TestCampaignOverEveryTransport(t *testing.T) {
	t.Parallel()
	onEveryTransport(t, func(t *testing.T, k transportKind, c *client) {
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		res := c.callTool(t, ctx, "place_calls", map[string]any{
			"objective": "Ask whether they deliver on Sundays.",
			"fields":    []any{map[string]any{"name": "delivers", "type": "boolean"}},
			"calls":     []any{map[string]any{"to": "+14155550123", "label": "Corner Deli"}, map[string]any{"to": "+14155550003", "label": "Bagel Bar"}},
		})
		mustOK(t, "place_calls", res)
		started := structured(t, res)
		id, _ := started["campaignId"].(string)
		if started["status"] != "running" || id == "" {
			t.Fatalf("place_calls = %v", started)
		}
		wres, err := c.Session.CallTool(ctx, &mcp.CallToolParams{Name: "wait_for_campaign", Arguments: map[string]any{"campaignId": id, "timeoutSec": 45},
			Meta: mcp.Meta{"progressToken": "camp-" + k.Name}})
		if err != nil {
			t.Fatalf("wait_for_campaign: %v", err)
		}
		mustOK(t, "wait_for_campaign", wres)
		done := structured(t, wres)
		if done["status"] != "completed" {
			t.Fatalf("campaign = %v", done)
		}
		text := resultText(wres)
		for _, s := range []string{"| # | call | outcome | delivers | summary |", "Corner Deli (+14155550123) | completed", "Bagel Bar (+14155550003) | declined"} {
			if !strings.Contains(text, s) {
				t.Errorf("results table lacks %q:\n%s", s, text)
			}
		}
		notes := c.Progress.For("camp-" + k.Name)
		if len(notes) == 0 || notes[len(notes)-1].Progress != 2 || notes[len(notes)-1].Total != 2 {
			t.Errorf("progress notifications %v, want the last at 2 of 2", notes)
		}
	})
}
