package tools

import (
	"fmt"

	"github.com/byourside/bys-mcp/internal/campaign"
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
	return tool, changeCampaign(d, (*campaign.Manager).Resume, func(c *campaign.Campaign) string {
		lead := fmt.Sprintf("Campaign %s is %s.", c.ID, c.Status)
		if c.Status == schema.CampaignRunning {
			lead = fmt.Sprintf("Campaign %s is running again. Call wait_for_campaign with campaignId %s to follow it to its end.", c.ID, c.ID)
		}
		return lead
	})
}
