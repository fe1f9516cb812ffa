package tools

import (
	"context"
	"fmt"

	"github.com/byourside/bys-mcp/schema"
	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"
)

// PauseCampaign returns the pause_campaign tool.
func PauseCampaign(d *Deps) (mcp.Tool, server.ToolHandlerFunc) {
	tool := newTool("pause_campaign", "Pause a campaign",
		"Pause a campaign started with place_calls: its calls not yet dialled wait (state paused) and nothing more is dialled until resume_campaign. "+
			"Calls already ringing go on to their end (the API has no cancel). The deadline still holds: calls still paused then end expired. Returns the campaign.",
		d.Schemas.PauseCampaign, writes)
	tool.Annotations.IdempotentHint = mcp.ToBoolPtr(true)   // pausing twice changes nothing more
	tool.Annotations.DestructiveHint = mcp.ToBoolPtr(false) // resume_campaign undoes it
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
		c, err := d.campaigns().Pause(ctx, d.keyFP(ctx), in.CampaignID)
		if err != nil {
			return fail(ctx, campaignError(err)), nil
		}
		noteCampaign(ctx, c)
		var lead string
		switch {
		case c.Status == schema.CampaignPaused:
			lead = fmt.Sprintf("Campaign %s is paused: nothing more is dialled until resume_campaign (the deadline %s still holds).", c.ID, c.View().Deadline)
			if ringing := c.Counts()[schema.ItemDialing] + c.Counts()[schema.ItemInCall]; ringing > 0 {
				lead += fmt.Sprintf(" %d calls already placed go on to their end.", ringing)
			}
		case c.Status == schema.CampaignCancelled:
			lead = fmt.Sprintf("Campaign %s is cancelled: there is nothing to pause.", c.ID)
		default:
			lead = fmt.Sprintf("Campaign %s has ended (%s): there is nothing to pause.", c.ID, c.Status)
		}
		return campaignResult(c, false, lead), nil
	}
}
