package tools

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/byourside/bys-mcp/client"
	"github.com/byourside/bys-mcp/internal/campaign"
	"github.com/byourside/bys-mcp/internal/people"
	"github.com/byourside/bys-mcp/internal/safety"
	"github.com/byourside/bys-mcp/internal/state"
	"github.com/byourside/bys-mcp/internal/tenant"
	"github.com/byourside/bys-mcp/schema"
	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"
)

const placeCallsArgs = "calls, objective, context, fields, concurrency, retries, retryOn, retryAfterMin, deadline, name, voicemail, voicemailMessage, notBefore, callbacks"

// maxCampaignDeadline is the furthest a campaign's deadline may lie.
const maxCampaignDeadline = 7 * 24 * time.Hour

// NewCampaignManager builds the campaign manager of d: items placed through
// place_call's own checks, calls followed through d's follower hub, state
// in records (the store's Records side). Start it to continue campaigns
// that a stopped process left; the caller closes it.
func NewCampaignManager(d *Deps, records state.Records, opts campaign.Options) *campaign.Manager {
	p := &placer{deps: d}
	opts.Store = d.Store
	opts.Records = records
	opts.Placer = campaignPlacer{p}
	opts.Follow = hubFollower{d}
	opts.Find = callFinder{d}
	opts.KeyFP = safety.KeyFingerprint
	opts.Clock = d.Clock
	if opts.Log == nil {
		opts.Log = d.Log
	}
	return campaign.New(opts)
}

// campaigns returns d's campaign manager, making (and starting) one on d's
// store when main gave none (tests that build Deps themselves).
func (d *Deps) campaigns() *campaign.Manager {
	d.campaignsOnce.Do(func() {
		if d.Campaigns != nil {
			return
		}
		records, ok := d.Store.(state.Records)
		if !ok {
			panic("tools: the state store keeps no records, so campaigns cannot run")
		}
		d.Campaigns = NewCampaignManager(d, records, campaign.Options{})
		d.Campaigns.Start()
	})
	return d.Campaigns
}

// campaignPlacer places one campaign item through every check of
// place_call after the confirmation, which the campaign asked once.
type campaignPlacer struct{ p *placer }

// retryItemOn lists the refusals after which an item waits and tries
// again: nothing was placed and the cause may pass.
var retryItemOn = map[string]bool{"state_unavailable": true, "state_conflict": true, "rate_limited": true}

// waitOn lists the refusals after which an item waits, scheduled, until
// the refusal's opensAt.
var waitOn = map[string]bool{"outside_calling_hours": true, "number_call_limit": true}

// Place places one item for the campaign's tenant: cred is its
// credential (tenant.Credential), as the campaign keeps it.
func (cp campaignPlacer) Place(ctx context.Context, cred string, r campaign.Request) campaign.Outcome {
	d := cp.p.deps
	c, cerr := d.clientForCred(cred)
	if cerr != nil {
		return campaign.Outcome{Token: cerr.Token, Hint: cerr.Hint}
	}
	a := &attempt{
		in: schema.PlaceCallInput{To: r.To, Objective: r.Objective, Context: r.Context, Fields: r.Fields, Language: r.Language, Voice: r.Voice,
			Voicemail: r.Voicemail, VoicemailMessage: r.VoicemailMessage, WebhookURL: r.WebhookURL, CallerID: r.CallerID, AllowDuplicate: r.AllowDuplicate},
		client: c, keyFP: safety.KeyFingerprint(cred),
	}
	a.fp = intentOf(a).Fingerprint()
	// The contract's order: the number check, do-not-call, the lists,
	// then dedupe, calling hours, calls per number, the budget and the API
	// (place).
	var terr *toolError
	if a.num, terr = d.checkNumber(r.To); terr != nil {
		terr = cp.p.refused(a, terr)
	} else if terr = cp.p.checkDoNotCall(ctx, a); terr == nil {
		terr = cp.p.checkPolicy(a)
	}
	pl := &placement{err: terr}
	if pl.err == nil {
		pl = cp.p.place(ctx, a, d.DedupeWindow > 0 && !r.AllowDuplicate, nil)
	}
	if pl.err != nil {
		out := campaign.Outcome{Token: pl.err.Token, Hint: pl.err.Hint, Retryable: retryItemOn[pl.err.Token]}
		if opens, ok := pl.err.Extra["opensAt"].(string); ok && waitOn[pl.err.Token] {
			// Outside its calling hours, or its number dialled enough for
			// now: the item waits until it may dial.
			out.OpensAt, _ = time.Parse(time.RFC3339, opens)
		}
		return out
	}
	return campaign.Outcome{CallID: pl.callID, Status: pl.status, Deduplicated: pl.deduplicated}
}

// hubFollower follows campaign calls through the process's shared
// followers, so a campaign and any wait on one of its calls cost one
// stream of requests.
type hubFollower struct{ d *Deps }

func (f hubFollower) Follow(cred, callID string) campaign.Watch {
	c, terr := f.d.clientForCred(cred)
	if terr != nil {
		// Fail closed: a client that reads no call.
		key, _ := tenant.SplitCredential(cred)
		c = f.d.Client.WithAPIKey(key).WithScope(people.Nobody)
	}
	return f.d.followHub().Follow(safety.KeyFingerprint(cred), c, callID)
}

// callFinder looks for a call among the key's most recent ones.
type callFinder struct{ d *Deps }

func (f callFinder) FindCall(ctx context.Context, cred, to, objective string) (string, bool, error) {
	c, terr := f.d.clientForCred(cred)
	if terr != nil {
		return "", false, people.ErrNoPerson
	}
	calls, err := c.ListCalls(ctx, &client.ListOptions{Limit: schema.MaxListLimit})
	if err != nil {
		return "", false, err
	}
	for _, c := range calls {
		if c.To == to && c.Objective == objective {
			return c.ID, true, nil
		}
	}
	return "", false, nil
}

// PlaceCalls returns the place_calls tool: a campaign of many calls.
func PlaceCalls(d *Deps) (mcp.Tool, server.ToolHandlerFunc) {
	maxCalls := d.maxCampaignCalls()
	tool := newTool("place_calls", "Place many phone calls (a campaign)",
		fmt.Sprintf("Place up to %d real outbound phone calls as one campaign, e.g. 'call these twelve plumbers and get a quote'. "+
			"Returns at once with the campaign (campaignId, one item per call); then call wait_for_campaign with that campaignId to follow it to its end and read every call's outcome and extracted values as one table. "+
			"Give the shared objective, context and fields once; an item may override them. At most concurrency calls (1 to 5, default 3) ring at once; "+
			"each call goes through every check of place_call, and one outside its destination's calling hours waits (scheduled, with notBefore) until they open. "+
			"retries (0 to 2) redials calls that ended with a status of retryOn (default no_answer or failed; voicemail may be added), at least retryAfterMin minutes later. "+
			"voicemail (leave_message with voicemailMessage, or hang_up) says what the AI caller does on reaching voicemail. "+
			"notBefore (RFC 3339, at most 7 days ahead; on the campaign or on a call) holds calls scheduled until then. A person who asks to be called back at a later time is called again then, before the deadline (callbacks: false turns this off). "+
			"Nothing is dialled after the deadline (default 24 h, or 24 h after the latest notBefore; a deadline given is at most 7 days away). "+
			"Placed calls cannot be cancelled (the API has no cancel); pause_campaign holds the calls not yet dialled until resume_campaign, cancel_campaign stops them, and retry_campaign redials calls that ended unanswered. Confirm the numbers and the objective with the user first.", maxCalls),
		d.Schemas.PlaceCalls, writes)
	p := &placer{deps: d}
	d.followHub()
	return tool, func(ctx context.Context, req mcp.CallToolRequest) (*mcp.CallToolResult, error) {
		in, terr := decodeArgs[schema.PlaceCallsInput](req, placeCallsArgs)
		var c *campaign.Campaign
		if terr == nil {
			c, terr = buildCampaign(&in, req.GetArguments(), maxCalls, d.now())
		}
		if terr != nil {
			return fail(ctx, terr), nil
		}
		if _, terr := d.clientFor(ctx); terr != nil {
			return fail(ctx, terr), nil
		}
		cred := d.credential(ctx)
		a := campaignAttempt(d, cred, &in, c)
		a.clientName, a.person = tenant.ClientFrom(ctx), subject(ctx)

		needConfirm, terr := p.needsConfirmation(ctx)
		if terr != nil {
			return fail(ctx, p.refused(a, terr)), nil
		}
		if needConfirm {
			answer := server.ElicitationResponse(req.Params.InputResponses, confirmInputID)
			if answer == nil {
				return p.askWith(ctx, a, campaignConfirmMessage(c), "Place these calls",
					fmt.Sprintf("Yes places %d real phone calls to the numbers shown; calls already placed cannot be cancelled.", len(c.Items)))
			}
			nonce, terr := p.checkAnswer(ctx, a, req.Params.RequestState, answer)
			if terr != nil {
				return fail(ctx, terr), nil
			}
			if terr := p.useApproval(ctx, a, nonce); terr != nil {
				return fail(ctx, terr), nil
			}
		}
		created, err := d.campaigns().Create(ctx, cred, c)
		if err != nil {
			return fail(ctx, p.stateUnavailable(a, err)), nil
		}
		noteCampaign(ctx, created)
		lead := fmt.Sprintf("Campaign started: %d calls, at most %d at once. Call wait_for_campaign with campaignId %s to follow it to its end.", len(created.Items), created.Concurrency, created.ID)
		if first, _ := laterSpan(created); !first.IsZero() {
			lead += fmt.Sprintf(" Calls with a notBefore wait, scheduled, until then (the first at %s); cancel_campaign cancels what is not yet dialled.", first.UTC().Format(time.RFC3339))
		}
		return campaignResult(created, false, lead), nil
	}
}

// campaignAttempt is the attempt that a campaign's confirmation and audit
// lines speak of: the tenant (its credential) and the whole batch.
func campaignAttempt(d *Deps, cred string, in *schema.PlaceCallsInput, c *campaign.Campaign) *attempt {
	raw, _ := json.Marshal(in)
	keyFP := safety.KeyFingerprint(cred)
	sum := sha256.Sum256(append([]byte("bys-mcp campaign confirmation v1\x00"+keyFP+"\x00"), raw...))
	to := fmt.Sprintf("campaign of %d calls", len(c.Items))
	return &attempt{in: schema.PlaceCallInput{To: to}, keyFP: keyFP, confirmFP: hex.EncodeToString(sum[:])}
}

func campaignConfirmMessage(c *campaign.Campaign) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Place %d real phone calls", len(c.Items))
	if c.Name != "" {
		fmt.Fprintf(&b, " (%s)", c.Name)
	}
	b.WriteString("?\n\nTo:")
	objectives := []string{}
	seen := map[string]bool{}
	for _, it := range c.Items {
		if it.Label != "" {
			fmt.Fprintf(&b, "\n- %s (%s)", it.To, it.Label)
		} else {
			fmt.Fprintf(&b, "\n- %s", it.To)
		}
		if !seen[it.Objective] {
			seen[it.Objective] = true
			objectives = append(objectives, it.Objective)
		}
	}
	if len(objectives) == 1 {
		fmt.Fprintf(&b, "\n\nObjective: %s", objectives[0])
	} else {
		b.WriteString("\n\nObjectives:")
		for _, o := range objectives {
			fmt.Fprintf(&b, "\n- %s", o)
		}
	}
	var onVoicemail []string
	for _, it := range c.Items {
		if w := voicemailWords(it.Voicemail, it.VoicemailMessage); w != "" && !slices.Contains(onVoicemail, w) {
			onVoicemail = append(onVoicemail, w)
		}
	}
	for _, w := range onVoicemail {
		fmt.Fprintf(&b, "\nOn voicemail: %s", w)
	}
	if first, last := laterSpan(c); !first.IsZero() {
		if first.Equal(last) {
			fmt.Fprintf(&b, "\n\nNot dialled before %s.", first.Format(time.RFC3339))
		} else {
			fmt.Fprintf(&b, "\n\nSome calls not dialled before their own time (%s to %s).", first.Format(time.RFC3339), last.Format(time.RFC3339))
		}
	}
	fmt.Fprintf(&b, "\n\nAt most %d at once; ", c.Concurrency)
	if c.Retries > 0 {
		on := c.RetryOn
		if len(on) == 0 {
			on = schema.DefaultRetryOn
		}
		fmt.Fprintf(&b, "%s calls redialled up to %d times; ", strings.Join(on, ", "), c.Retries)
	}
	if !c.NoCallbacks {
		b.WriteString("people who ask to be called back at a later time are called again then; ")
	}
	fmt.Fprintf(&b, "nothing dialled after %s.", c.Deadline.UTC().Format(time.RFC3339))
	return b.String()
}

// laterSpan is the earliest and latest notBefore of c's items (zero when
// none has one).
func laterSpan(c *campaign.Campaign) (first, last time.Time) {
	for _, it := range c.Items {
		if it.NotBefore.IsZero() {
			continue
		}
		if first.IsZero() || it.NotBefore.Before(first) {
			first = it.NotBefore
		}
		if it.NotBefore.After(last) {
			last = it.NotBefore
		}
	}
	return first, last
}

// buildCampaign validates place_calls' arguments (args, the raw map, says
// which were given) and resolves every item against the defaults.
func buildCampaign(in *schema.PlaceCallsInput, args map[string]any, maxCalls int, now time.Time) (*campaign.Campaign, *toolError) {
	given := func(name string) bool { v, ok := args[name]; return ok && v != nil }
	if len(in.Calls) == 0 {
		return nil, invalidArgument("argument \"calls\" is required and must list 1 to %d calls, each {to, objective?, ...}", maxCalls)
	}
	if len(in.Calls) > maxCalls {
		return nil, invalidArgument("argument \"calls\" has %d items; at most %d are allowed (the operator's --max-campaign-calls), so split the job into several campaigns", len(in.Calls), maxCalls)
	}
	if given("objective") {
		if terr := validateText("objective", in.Objective, true, schema.MaxObjectiveLen); terr != nil {
			return nil, terr
		}
	}
	if terr := validateText("context", in.Context, false, schema.MaxContextLen); terr != nil {
		return nil, terr
	}
	if terr := validateText("name", in.Name, false, schema.MaxCampaignNameLen); terr != nil {
		return nil, terr
	}
	if terr := validateFields("fields", in.Fields); terr != nil {
		return nil, terr
	}
	if terr := validateVoicemail(in.Voicemail, in.VoicemailMessage); terr != nil {
		return nil, terr
	}
	retryOn, terr := readRetryOn(in.RetryOn, given("retryOn"))
	if terr != nil {
		return nil, terr
	}
	c := &campaign.Campaign{
		Name: in.Name, CreatedAt: now.UTC().Truncate(time.Second),
		Concurrency: schema.DefaultCampaignConcurrent, Retries: in.Retries, RetryAfter: schema.DefaultRetryAfterMin * time.Minute,
		RetryOn: retryOn, NoCallbacks: in.Callbacks != nil && !*in.Callbacks,
	}
	var later time.Time // the campaign's notBefore
	if in.NotBefore != "" {
		var terr *toolError
		if later, terr = readNotBefore("notBefore", in.NotBefore, now); terr != nil {
			return nil, terr
		}
	}
	if given("concurrency") {
		if in.Concurrency < 1 || in.Concurrency > schema.MaxCampaignConcurrency {
			return nil, invalidArgument("argument \"concurrency\" must be between 1 and %d calls at once (got %d)", schema.MaxCampaignConcurrency, in.Concurrency)
		}
		c.Concurrency = in.Concurrency
	}
	if in.Retries < 0 || in.Retries > schema.MaxCampaignRetries {
		return nil, invalidArgument("argument \"retries\" must be between 0 and %d (got %d)", schema.MaxCampaignRetries, in.Retries)
	}
	if given("retryAfterMin") {
		if in.RetryAfterMin < schema.MinRetryAfterMin || in.RetryAfterMin > schema.MaxRetryAfterMin {
			return nil, invalidArgument("argument \"retryAfterMin\" must be between %d and %d minutes (got %d)", schema.MinRetryAfterMin, schema.MaxRetryAfterMin, in.RetryAfterMin)
		}
		c.RetryAfter = time.Duration(in.RetryAfterMin) * time.Minute
	}
	c.Deadline = c.CreatedAt.Add(24 * time.Hour)
	if in.Deadline != "" {
		t, err := time.Parse(time.RFC3339, in.Deadline)
		switch {
		case err != nil:
			return nil, invalidArgument("argument \"deadline\" must be an RFC 3339 time such as 2026-06-17T18:00:00Z (got %q)", truncate(in.Deadline, 40))
		case !t.After(now):
			return nil, invalidArgument("argument \"deadline\" %s is in the past: give a time after now, or leave it out for 24 hours from now", in.Deadline)
		case t.Sub(now) > maxCampaignDeadline:
			return nil, invalidArgument("argument \"deadline\" %s is more than 7 days away: give a time within 7 days", in.Deadline)
		}
		c.Deadline = t
	}
	deadlineGiven := in.Deadline != ""
	seen := map[string]int{}
	fieldSeen := map[string]bool{}
	addFields := func(fs []schema.FieldSpec) {
		for _, f := range fs {
			if !fieldSeen[f.Name] {
				fieldSeen[f.Name] = true
				c.FieldNames = append(c.FieldNames, f.Name)
			}
		}
	}
	addFields(in.Fields)
	for i, call := range in.Calls {
		eff := schema.PlaceCallInput{To: call.To, Objective: call.Objective, Context: call.Context, Fields: call.Fields, Language: call.Language, Voice: call.Voice}
		if eff.Objective == "" {
			eff.Objective = in.Objective
		}
		if eff.Context == "" {
			eff.Context = in.Context
		}
		if eff.Fields == nil {
			eff.Fields = in.Fields
		}
		if call.Voicemail == "" && call.VoicemailMessage == "" {
			// The item says nothing of voicemail: the campaign's setting.
			eff.Voicemail, eff.VoicemailMessage = in.Voicemail, in.VoicemailMessage
		} else {
			eff.Voicemail, eff.VoicemailMessage = call.Voicemail, call.VoicemailMessage
		}
		if call.To == "" {
			return nil, invalidArgument("calls[%d].to is required: the destination in E.164 format, e.g. +14155550123", i)
		}
		if strings.TrimSpace(eff.Objective) == "" {
			return nil, invalidArgument("calls[%d] has no objective and the campaign has none: give objective once for every call, or calls[%d].objective", i, i)
		}
		if terr := validatePlaceCall(&eff); terr != nil {
			return nil, invalidArgument("calls[%d]: %s", i, terr.Hint)
		}
		if terr := validateText(fmt.Sprintf("calls[%d].label", i), call.Label, false, schema.MaxLabelLen); terr != nil {
			return nil, terr
		}
		dup := eff.To + "\x00" + eff.Objective
		if j, ok := seen[dup]; ok {
			return nil, invalidArgument("calls[%d] repeats calls[%d] (the same number %s with the same objective): list each number once per objective", i, j, eff.To)
		}
		seen[dup] = i
		addFields(eff.Fields)
		it := &campaign.Item{
			Index: i, Label: call.Label, To: eff.To, Objective: eff.Objective, Context: eff.Context, Fields: eff.Fields,
			Language: eff.Language, Voice: eff.Voice, Voicemail: eff.Voicemail, VoicemailMessage: eff.VoicemailMessage, State: schema.ItemPending,
		}
		it.NotBefore = later
		if call.NotBefore != "" {
			t, terr := readNotBefore(fmt.Sprintf("calls[%d].notBefore", i), call.NotBefore, now)
			if terr != nil {
				return nil, terr
			}
			it.NotBefore = t
		}
		if !it.NotBefore.IsZero() {
			it.State = schema.ItemScheduled
			if deadlineGiven && !it.NotBefore.Before(c.Deadline) {
				name := "notBefore"
				if call.NotBefore != "" {
					name = fmt.Sprintf("calls[%d].notBefore", i)
				}
				return nil, invalidArgument("argument %q %s is not before the deadline %s: give an earlier time, or a later deadline", name, it.NotBefore.Format(time.RFC3339), in.Deadline)
			}
		}
		c.Items = append(c.Items, it)
	}
	if _, last := laterSpan(c); !deadlineGiven && !last.IsZero() {
		// Without a deadline, calls held until a time of their own have
		// a day from then, as a later place_call does.
		c.Deadline = last.Add(laterWindow)
	}
	return c, nil
}

// validateFields checks a fields argument the way place_call does.
func validateFields(name string, fs []schema.FieldSpec) *toolError {
	probe := schema.PlaceCallInput{To: "+14155550123", Objective: "x", Fields: fs}
	if terr := validatePlaceCall(&probe); terr != nil {
		return invalidArgument("%s: %s", name, terr.Hint)
	}
	return nil
}

// campaignResult renders a campaign: structuredContent is the campaign,
// the text a lead sentence and the results table.
func campaignResult(c *campaign.Campaign, timedOut bool, lead string) *mcp.CallToolResult {
	out := c.View()
	out.TimedOut = timedOut
	return structuredResult(out, lead+"\n\n"+campaign.Table(c))
}

func noteCampaign(ctx context.Context, c *campaign.Campaign) {
	noteCallID(ctx, c.ID)
	noteStatus(ctx, c.Status)
}

func campaignNotFound() *toolError {
	return newToolError("not_found", nil, false, "no campaign with this id exists for this API key: check the campaignId returned by place_calls")
}

func validateCampaignID(v string) *toolError {
	if v == "" {
		return invalidArgument("argument \"campaignId\" is required: pass the id returned by place_calls")
	}
	if !schema.IsCampaignID(v) {
		return invalidArgument("argument \"campaignId\" must be a campaign id as returned by place_calls, such as cmp_0123456789abcdef0123456789abcdef (got %q)", truncate(v, 72))
	}
	return nil
}

// CancelCampaign returns the cancel_campaign tool.
func CancelCampaign(d *Deps) (mcp.Tool, server.ToolHandlerFunc) {
	tool := newTool("cancel_campaign", "Cancel a campaign",
		"Cancel a campaign started with place_calls, or a later call scheduled with place_call's notBefore: its calls not yet dialled end cancelled and nothing more is dialled. "+
			"Calls already ringing go on to their end (the API has no cancel); wait_for_campaign still reports them. Returns the campaign.",
		d.Schemas.CancelCampaign, writes)
	tool.Annotations.IdempotentHint = mcp.ToBoolPtr(true) // cancelling twice changes nothing more
	return tool, changeCampaign(d, (*campaign.Manager).Cancel, func(c *campaign.Campaign) string {
		ringing := c.Counts()[schema.ItemDialing] + c.Counts()[schema.ItemInCall]
		lead := fmt.Sprintf("Campaign %s is cancelled: nothing more will be dialled.", c.ID)
		if ringing > 0 {
			lead += fmt.Sprintf(" %d calls already placed go on to their end; wait_for_campaign reports them.", ringing)
		}
		return lead
	})
}

// changeCampaign is the handler of a tool that changes one campaign of
// the key (cancel, pause, resume): it reads campaignId, applies change
// and answers with the campaign and lead's sentence about it.
func changeCampaign(d *Deps, change func(m *campaign.Manager, ctx context.Context, keyFP, id string) (*campaign.Campaign, error), lead func(*campaign.Campaign) string) server.ToolHandlerFunc {
	return func(ctx context.Context, req mcp.CallToolRequest) (*mcp.CallToolResult, error) {
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
		c, err := change(d.campaigns(), ctx, d.keyFP(ctx), in.CampaignID)
		if err != nil {
			return fail(ctx, campaignError(err)), nil
		}
		noteCampaign(ctx, c)
		return campaignResult(c, false, lead(c)), nil
	}
}

func campaignError(err error) *toolError {
	switch {
	case errors.Is(err, campaign.ErrNotFound):
		return campaignNotFound()
	case errors.Is(err, campaign.ErrCancelled):
		return newToolError("campaign_cancelled", nil, false, "the campaign was cancelled, so none of its calls is dialled again: start a new campaign with place_calls if the user wants these calls")
	case errors.Is(err, campaign.ErrDeadlinePassed):
		return newToolError("deadline_passed", nil, false, "the campaign's deadline has passed, so none of its calls is dialled again: start a new campaign with place_calls if the user wants these calls")
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return errorFromAPI(err, false)
	}
	return newToolError("state_unavailable", nil, true, "the campaign store cannot be reached just now: retry in a few seconds, and tell the operator if it persists")
}

// WaitForCampaign returns the wait_for_campaign tool.
func WaitForCampaign(d *Deps) (mcp.Tool, server.ToolHandlerFunc) {
	maxWait := d.Limits.MaxWaitSec
	def := min(schema.DefaultWaitSec, maxWait)
	tool := newTool("wait_for_campaign", "Wait for a campaign to finish",
		fmt.Sprintf("Wait until every call of a campaign started with place_calls (or of a later call scheduled with place_call's notBefore) has ended, then return the campaign with one row per call: its outcome, summary and extracted values. "+
			"If timeoutSec (default %d, at most %d; 0 answers at once) passes first, it returns the latest state with timedOut: true; this is not an error, call wait_for_campaign again to keep waiting. "+
			"When the request carries a progress token, sends progress notifications as calls end (progress = calls ended, total = calls). Waiting never affects the calls.", def, maxWait),
		d.Schemas.WaitForCampaign, readOnly)
	return tool, func(ctx context.Context, req mcp.CallToolRequest) (*mcp.CallToolResult, error) {
		in, terr := decodeArgs[schema.WaitForCampaignInput](req, "campaignId, timeoutSec")
		if terr == nil {
			terr = validateCampaignID(in.CampaignID)
		}
		timeout := def
		if terr == nil && in.TimeoutSec != nil {
			if *in.TimeoutSec < 0 || *in.TimeoutSec > maxWait {
				terr = invalidArgument("argument \"timeoutSec\" must be between 0 and %d seconds (got %d); to wait longer, call wait_for_campaign again after it returns", maxWait, *in.TimeoutSec)
			}
			timeout = *in.TimeoutSec
		}
		if terr != nil {
			return fail(ctx, terr), nil
		}
		if _, terr := d.clientFor(ctx); terr != nil {
			return fail(ctx, terr), nil
		}
		keyFP := d.keyFP(ctx)
		m := d.campaigns()
		var limit <-chan time.Time
		task := req.Params.Task != nil && d.Tasks != nil
		if task {
			taskCtx, release, res, err := d.attachTask(ctx, req)
			if res != nil || err != nil {
				return res, err
			}
			defer release()
			ctx = taskCtx
		} else {
			t := time.NewTimer(time.Duration(timeout) * time.Second)
			defer t.Stop()
			limit = t.C
		}
		pr := newCampaignProgress(ctx, req)
		defer pr.flush()
		for {
			changed := m.Changed(in.CampaignID)
			c, err := m.Get(ctx, keyFP, in.CampaignID)
			if err != nil {
				return fail(ctx, campaignError(err)), nil
			}
			pr.report(c)
			if c.AllEnded() {
				pr.flush()
				noteCampaign(ctx, c)
				return campaignResult(c, false, fmt.Sprintf("Campaign %s has ended (%s): every call is in the table below.", c.ID, c.Status)), nil
			}
			if timeout == 0 && !task {
				return waitTimedOut(ctx, pr, c), nil
			}
			poll := time.NewTimer(time.Second) // runners in other processes are seen by reading again
			select {
			case <-changed:
			case <-poll.C:
			case <-limit:
				poll.Stop()
				return waitTimedOut(ctx, pr, c), nil
			case <-ctx.Done():
				poll.Stop()
				if task && errors.Is(ctx.Err(), context.Canceled) {
					return nil, context.Canceled
				}
				if task {
					return campaignResult(c, true, "The task's time ran out before every call ended."), nil
				}
				return waitTimedOut(ctx, pr, c), nil
			}
			poll.Stop()
		}
	}
}

func waitTimedOut(ctx context.Context, pr *campaignProgress, c *campaign.Campaign) *mcp.CallToolResult {
	pr.flush()
	noteCampaign(ctx, c)
	lead := fmt.Sprintf("Timed out waiting (not an error): %d of %d calls have ended. Call wait_for_campaign again with campaignId %s to keep waiting.", c.EndedCount(), len(c.Items), c.ID)
	if c.Status == schema.CampaignPaused {
		lead += " The campaign is paused: nothing more is dialled until resume_campaign."
	}
	return campaignResult(c, true, lead)
}

// campaignProgress sends notifications/progress as a campaign's calls end:
// progress = calls ended, total = calls.
type campaignProgress struct {
	ctx   context.Context
	srv   *server.MCPServer
	token any
	last  int
	sent  bool
}

func newCampaignProgress(ctx context.Context, req mcp.CallToolRequest) *campaignProgress {
	p := &campaignProgress{ctx: ctx, last: -1}
	if req.Params.Meta != nil && req.Params.Meta.ProgressToken != nil {
		p.token = req.Params.Meta.ProgressToken
		p.srv = server.ServerFromContext(ctx)
	}
	return p
}

func (p *campaignProgress) report(c *campaign.Campaign) {
	if p.token == nil || p.srv == nil {
		return
	}
	n := c.EndedCount()
	if n <= p.last {
		return
	}
	msg := fmt.Sprintf("%d of %d calls ended", n, len(c.Items))
	if p.srv.SendNotificationToClient(p.ctx, "notifications/progress", map[string]any{
		"progressToken": p.token, "progress": n, "total": len(c.Items), "message": msg,
	}) == nil {
		p.last = n
		p.sent = true
	}
}

func (p *campaignProgress) flush() {
	if p.sent {
		flushNotifications(p.ctx)
		p.sent = false
	}
}
