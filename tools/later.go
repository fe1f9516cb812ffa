package tools

import (
	"context"
	"fmt"
	"time"

	"github.com/byourside/bys-mcp/internal/callhours"
	"github.com/byourside/bys-mcp/internal/campaign"
	"github.com/byourside/bys-mcp/internal/outcome"
	"github.com/byourside/bys-mcp/schema"
	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"
)

// Later calls: place_call with notBefore dials nothing now. The call is
// kept in the state store as a campaign of one, whose item waits scheduled
// until notBefore and is then dialled by the campaign runner through every
// check of place_call (do-not-call, lists, dedupe, calling hours and rules,
// calls per number, budget), in whichever process runs the campaign by
// then. place_calls and its items take notBefore the same way.

// maxNotBefore is the furthest ahead a later call may be scheduled.
const maxNotBefore = 7 * 24 * time.Hour

// laterWindow is how long after its notBefore a later call may still be
// dialled, waiting for calling hours to open: its campaign's deadline.
const laterWindow = 24 * time.Hour

// readNotBefore checks a notBefore argument named name: an RFC 3339 time
// after now and at most 7 days ahead.
func readNotBefore(name, v string, now time.Time) (time.Time, *toolError) {
	t, err := time.Parse(time.RFC3339, v)
	switch {
	case err != nil:
		return time.Time{}, invalidArgument("argument %q must be an RFC 3339 time with its offset, such as 2026-06-18T10:00:00-07:00 or 2026-06-18T17:00:00Z (got %q)", name, truncate(v, 40))
	case !t.After(now):
		return time.Time{}, invalidArgument("argument %q %s is not in the future (it is %s now): give a later time, or leave it out to call now", name, v, now.UTC().Format(time.RFC3339))
	case t.Sub(now) > maxNotBefore:
		return time.Time{}, invalidArgument("argument %q %s is more than 7 days away: give a time within 7 days", name, v)
	}
	return t, nil
}

// schedule keeps a later call (place_call with notBefore, after the number
// check, do-not-call and the lists) as a campaign of one, after the user's
// confirmation when one is asked for: asked now, once, for the call at its
// time.
func (p *placer) schedule(ctx context.Context, req mcp.CallToolRequest, a *attempt, at time.Time) (*mcp.CallToolResult, error) {
	d := p.deps
	needConfirm, terr := p.needsConfirmation(ctx)
	if terr != nil {
		return fail(ctx, p.refused(a, terr)), nil
	}
	if needConfirm {
		answer := server.ElicitationResponse(req.Params.InputResponses, confirmInputID)
		if answer == nil {
			return p.askWith(ctx, a, confirmMessage(a), "Place this call later",
				"Yes places a real phone call to the number shown, at the time shown (cancel_campaign can still cancel it before then); once placed it cannot be cancelled.")
		}
		nonce, terr := p.checkAnswer(ctx, a, req.Params.RequestState, answer)
		if terr != nil {
			return fail(ctx, terr), nil
		}
		if terr := p.useApproval(ctx, a, nonce); terr != nil {
			return fail(ctx, terr), nil
		}
	}
	created, err := d.campaigns().Create(ctx, d.credential(ctx), laterCampaign(a.in, at, d.now()))
	if err != nil {
		return fail(ctx, p.stateUnavailable(a, err)), nil
	}
	p.audit(a, "scheduled", "", "", 0)
	noteCampaign(ctx, created)
	dest, _ := d.destinationOf(a.num)
	return scheduledResult(created, at, dest, numberWarnings(a.num)), nil
}

// laterCampaign is the campaign of one that holds a later call: its item
// scheduled at at, its deadline laterWindow after. It does not call back
// on its own: like any single call, its result says when the person asked
// to be called back.
func laterCampaign(in schema.PlaceCallInput, at, now time.Time) *campaign.Campaign {
	c := &campaign.Campaign{
		Name:      "Later call to " + in.To,
		CreatedAt: now.UTC().Truncate(time.Second), Deadline: at.Add(laterWindow),
		Concurrency: 1, RetryAfter: schema.DefaultRetryAfterMin * time.Minute,
		NoCallbacks: true,
	}
	for _, f := range in.Fields {
		c.FieldNames = append(c.FieldNames, f.Name)
	}
	c.Items = []*campaign.Item{{
		Index: 0, To: in.To, Objective: in.Objective, Context: in.Context, Fields: in.Fields, Language: in.Language, Voice: in.Voice,
		Voicemail: in.Voicemail, VoicemailMessage: in.VoicemailMessage, WebhookURL: in.WebhookURL, CallerID: in.CallerID, AllowDuplicate: in.AllowDuplicate,
		State: schema.ItemScheduled, NotBefore: at,
	}}
	return c
}

// scheduledResult is place_call's result for a later call.
func scheduledResult(c *campaign.Campaign, at time.Time, dest *schema.Destination, warnings []string) *mcp.CallToolResult {
	out := schema.ScheduledCallOutput{Scheduled: true, CampaignID: c.ID, NotBefore: at.Format(time.RFC3339), Destination: dest, Warnings: warnings}
	when := out.NotBefore
	if dest != nil && dest.TimeZone != "" {
		if loc, err := callhours.LoadZone(dest.TimeZone); err == nil {
			local := at.In(loc)
			when += fmt.Sprintf(" (%s %s in %s)", local.Format("Monday"), callhours.Clock(local), callhours.Place(loc))
		}
	}
	text := fmt.Sprintf("Call scheduled; nothing was dialled now. It will be dialled not before %s, still through every check at that moment (do-not-call, lists, dedupe, calling hours, calls per number, budget); "+
		"if calling hours are closed then, it waits for them to open until %s, and is not dialled after. "+
		"It is kept as campaign %s, a campaign of one: call wait_for_campaign with campaignId %s to follow it (its callId appears once it is dialled), or cancel_campaign with that campaignId to cancel it before then.",
		when, c.Deadline.Format(time.RFC3339), c.ID, c.ID)
	for _, w := range warnings {
		text += " Warning: " + w
	}
	return structuredResult(out, text)
}

// callbackWords says when a person asked to be called back, for a single
// call's result: their local time, and the instant to pass to place_call's
// notBefore, read in the number's zone (the first when it has several).
func callbackWords(callbackAt, to string, now time.Time) string {
	at, loc, ok := outcome.CallbackTime(callbackAt, to)
	if !ok {
		return "the person asked to be called back at " + callbackAt + " their time (the number's time zone is not known: ask the user which zone it is, then schedule it with place_call's notBefore)"
	}
	words := fmt.Sprintf("the person asked to be called back at %s their time (%s, %s)", callbackAt, callhours.Place(loc), at.Format(time.RFC3339))
	switch {
	case !at.After(now):
		return words + "; that time has passed: tell the user"
	case at.Sub(now) > maxNotBefore:
		return words + "; that is more than 7 days away, too far to schedule now: tell the user"
	}
	return words + "; to call them back then, call place_call again with notBefore: " + at.Format(time.RFC3339)
}
