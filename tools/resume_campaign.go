package tools

import (
	"context"
	"fmt"

	"github.com/byourside/bys-mcp/schema"
	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"
)

// ResumeCampaign returns the resume_campaign tool.
func ResumeCampaign(d *Deps) (mcp.Tool, server.ToolHandlerFunc) {
	tool := newTool("resume_campaign", "Resume a paused campaign",
		"Resume a campaign paused with pause_campaign: its paused calls are dialled again as before (concurrency, calling hours, every check of place_call), until its deadline. "+
			"Resuming a campaign that is not paused changes nothing. Returns the campaign; follow it with wait_for_campaign.",
		d.Schemas.ResumeCampaign, writes)
	tool.Annotations.IdempotentHint = mcp.ToBoolPtr(true) // resuming twice changes nothing more
	return tool, func(ctx context.Context, req mcp.CallToolRequest) (*mcp.CallToolResult, error) {
		in, terr := decodeArgs[schema.CampaignIDInput](req, "campaignId")
		if terr == nil {
			terr = validateCampaignID(in.CampaignID)
		}
		if terr != nil {
			return fail(ctx, terr), nil
		}
		if _, terr := d.clientFor(ctx); terr != nil {
			return fail(ctx, terr), nil
		}
		c, err := d.campaigns().Resume(ctx, d.keyFP(ctx), in.CampaignID)
		if err != nil {
			return fail(ctx, campaignError(err)), nil
		}
		noteCampaign(ctx, c)
		lead := fmt.Sprintf("Campaign %s is %s.", c.ID, c.Status)
		if c.Status == schema.CampaignRunning {
			lead = fmt.Sprintf("Campaign %s is running again. Call wait_for_campaign with campaignId %s to follow it to its end.", c.ID, c.ID)
		}
		return campaignResult(c, false, lead), nil
	}
}
