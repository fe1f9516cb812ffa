package tools

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/byourside/bys-mcp/schema"
	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"
)

// ListCampaigns returns the list_campaigns tool: the key's campaigns,
// newest first, without their items. It is a read tool: --read-only keeps
// it.
func ListCampaigns(d *Deps) (mcp.Tool, server.ToolHandlerFunc) {
	tool := newTool("list_campaigns", "List campaigns",
		"List the campaigns started with place_calls under this API key, newest first: id, name, status (running, paused, completed, cancelled or expired), creation time, deadline, number of calls and the count of calls in each state. "+
			"Use it to find a campaignId for wait_for_campaign, pause_campaign, resume_campaign, retry_campaign or cancel_campaign. Campaigns are listed until a week after their deadline.",
		d.Schemas.ListCampaigns, readOnly)
	return tool, func(ctx context.Context, req mcp.CallToolRequest) (*mcp.CallToolResult, error) {
		in, terr := decodeArgs[schema.ListCampaignsInput](req, "limit")
		limit := schema.DefaultListLimit
		if terr == nil {
			if v, given := req.GetArguments()["limit"]; given && v != nil {
				if in.Limit < 1 || in.Limit > schema.MaxListLimit {
					terr = invalidArgument("argument \"limit\" must be between 1 and %d campaigns (got %d)", schema.MaxListLimit, in.Limit)
				}
				limit = in.Limit
			}
		}
		if terr != nil {
			return fail(ctx, terr), nil
		}
		if _, terr := d.clientFor(ctx); terr != nil {
			return fail(ctx, terr), nil
		}
		list, err := d.campaigns().List(ctx, d.keyFP(ctx), limit)
		if err != nil {
			return fail(ctx, campaignError(err)), nil
		}
		out := schema.ListCampaignsOutput{Campaigns: make([]schema.CampaignSummary, len(list))}
		var b strings.Builder
		if len(list) == 0 {
			b.WriteString("No campaigns under this API key (place_calls starts one).")
		} else {
			fmt.Fprintf(&b, "%d campaigns, newest first:\n\n", len(list))
			b.WriteString("| campaign | name | status | calls | created | deadline |\n|---|---|---|---|---|---|\n")
		}
		for i, c := range list {
			v := c.View()
			out.Campaigns[i] = schema.CampaignSummary{
				CampaignID: v.CampaignID, Name: v.Name, Status: v.Status, CreatedAt: v.CreatedAt,
				Deadline: v.Deadline, Total: v.Total, Counts: v.Counts,
			}
			fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s |\n", v.CampaignID, cell(v.Name), v.Status, countsText(v.Counts, v.Total),
				c.CreatedAt.UTC().Format(time.RFC3339), c.Deadline.UTC().Format(time.RFC3339))
		}
		return structuredResult(out, strings.TrimRight(b.String(), "\n")), nil
	}
}

// countsText says a campaign's counts in a few words: "3 of 5 ended (2
// paused)".
func countsText(counts map[string]int, total int) string {
	ended := counts[schema.ItemEnded] + counts[schema.ItemRefused] + counts[schema.ItemCancelled] + counts[schema.ItemExpired]
	s := fmt.Sprintf("%d of %d ended", ended, total)
	var rest []string
	for _, st := range []string{schema.ItemInCall, schema.ItemDialing, schema.ItemPaused, schema.ItemScheduled, schema.ItemPending} {
		if n := counts[st]; n > 0 {
			rest = append(rest, fmt.Sprintf("%d %s", n, st))
		}
	}
	if len(rest) > 0 {
		s += " (" + strings.Join(rest, ", ") + ")"
	}
	return s
}

// cell makes text safe in one cell of a Markdown table.
func cell(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, "\n", " "), "|", "\\|")
}
