package tools

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"

	"github.com/byourside/bys-mcp/internal/campaign"
	"github.com/byourside/bys-mcp/internal/safety"
	"github.com/byourside/bys-mcp/schema"
	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"
)

// RetryCampaign returns the retry_campaign tool: the ended calls of a
// campaign with the chosen statuses are dialled again, within the campaign.
func RetryCampaign(d *Deps) (mcp.Tool, server.ToolHandlerFunc) {
	tool := newTool("retry_campaign", "Redial calls of a campaign",
		"Dial again, within the same campaign, the calls of a campaign that ended with the chosen statuses (statuses: any of no_answer, voicemail and failed; default all three; completed and declined calls are never redialled). "+
			"Each is dialled once more through every check of place_call (calling hours, dedupe, budget), at most concurrency at once, before the campaign's deadline; a paused campaign redials them once resumed. "+
			"These are real phone calls: confirm with the user first. Returns the campaign; follow it with wait_for_campaign.",
		d.Schemas.RetryCampaign, writes)
	p := &placer{deps: d}
	return tool, func(ctx context.Context, req mcp.CallToolRequest) (*mcp.CallToolResult, error) {
		in, terr := decodeArgs[schema.RetryCampaignInput](req, "campaignId, statuses")
		if terr == nil {
			terr = validateCampaignID(in.CampaignID)
		}
		var statuses []string
		if terr == nil {
			v, given := req.GetArguments()["statuses"]
			statuses, terr = readRetryStatuses(in.Statuses, given && v != nil)
		}
		if terr != nil {
			return fail(ctx, terr), nil
		}
		if _, terr := d.clientFor(ctx); terr != nil {
			return fail(ctx, terr), nil
		}
		cred := d.credential(ctx)
		keyFP := safety.KeyFingerprint(cred)
		m := d.campaigns()
		c, err := m.Get(ctx, keyFP, in.CampaignID)
		if err != nil {
			return fail(ctx, campaignError(err)), nil
		}
		if n := c.Redialable(statuses); n > 0 && !c.Cancelled && d.now().Before(c.Deadline) {
			// Calls again reach people: the user confirms, as for place_calls.
			a := retryAttempt(d, cred, c, statuses)
			needConfirm, terr := p.needsConfirmation(ctx)
			if terr != nil {
				return fail(ctx, p.refused(a, terr)), nil
			}
			if needConfirm {
				answer := server.ElicitationResponse(req.Params.InputResponses, confirmInputID)
				if answer == nil {
					return p.askWith(ctx, a, retryConfirmMessage(c, statuses), "Redial these calls",
						fmt.Sprintf("Yes dials %d real phone calls again; calls placed cannot be cancelled.", n))
				}
				nonce, terr := p.checkAnswer(ctx, a, req.Params.RequestState, answer)
				if terr != nil {
					return fail(ctx, terr), nil
				}
				if terr := p.useApproval(ctx, a, nonce); terr != nil {
					return fail(ctx, terr), nil
				}
			}
		}
		c, n, err := m.Retry(ctx, keyFP, in.CampaignID, statuses)
		if err != nil {
			return fail(ctx, campaignError(err)), nil
		}
		noteCampaign(ctx, c)
		lead := fmt.Sprintf("No call of campaign %s ended %s: nothing to redial.", c.ID, strings.Join(statuses, ", "))
		if n > 0 {
			lead = fmt.Sprintf("%d calls of campaign %s will be dialled again (those that ended %s). Call wait_for_campaign with campaignId %s to follow them.", n, c.ID, strings.Join(statuses, ", "), c.ID)
			if c.Paused {
				lead += " The campaign is paused: they are dialled once resume_campaign resumes it."
			}
		}
		return campaignResult(c, false, lead), nil
	}
}

// readRetryStatuses checks retry_campaign's statuses (given: the argument
// was there) and returns them, each once; the default when left out.
func readRetryStatuses(list []string, given bool) ([]string, *toolError) {
	if !given {
		return schema.RetryCampaignStatuses, nil
	}
	if len(list) == 0 {
		return nil, invalidArgument("argument \"statuses\" must list at least one of %s, or be left out for all three", strings.Join(schema.RetryCampaignStatuses, ", "))
	}
	var out []string
	for i, s := range list {
		if !slices.Contains(schema.RetryCampaignStatuses, s) {
			return nil, invalidArgument("argument \"statuses\" may list only %s (statuses[%d] is %q): completed and declined calls are not redialled", strings.Join(schema.RetryCampaignStatuses, ", "), i, truncate(s, 32))
		}
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out, nil
}

// retryAttempt is the attempt that a retry's confirmation and audit lines
// speak of: the key, the campaign and the statuses redialled.
func retryAttempt(d *Deps, cred string, c *campaign.Campaign, statuses []string) *attempt {
	keyFP := safety.KeyFingerprint(cred)
	sum := sha256.Sum256([]byte("bys-mcp retry confirmation v1\x00" + keyFP + "\x00" + c.ID + "\x00" + strings.Join(statuses, ",")))
	to := fmt.Sprintf("redial of campaign %s", c.ID)
	return &attempt{in: schema.PlaceCallInput{To: to}, keyFP: keyFP, confirmFP: hex.EncodeToString(sum[:])}
}

func retryConfirmMessage(c *campaign.Campaign, statuses []string) string {
	var b strings.Builder
	name := c.ID
	if c.Name != "" {
		name = fmt.Sprintf("%q", c.Name)
	}
	fmt.Fprintf(&b, "Dial again %d calls of campaign %s (those that ended %s)?\n\nTo:", c.Redialable(statuses), name, strings.Join(statuses, ", "))
	for _, it := range c.Items {
		if it.State != schema.ItemEnded || !slices.Contains(statuses, it.Status) {
			continue
		}
		if it.Label != "" {
			fmt.Fprintf(&b, "\n- %s (%s, %s)", it.To, it.Label, it.Status)
		} else {
			fmt.Fprintf(&b, "\n- %s (%s)", it.To, it.Status)
		}
	}
	fmt.Fprintf(&b, "\n\nNothing is dialled after %s.", c.View().Deadline)
	return b.String()
}
