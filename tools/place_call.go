package tools

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/byourside/bys-mcp/client"
	"github.com/byourside/bys-mcp/internal/numbering"
	"github.com/byourside/bys-mcp/internal/outcome"
	"github.com/byourside/bys-mcp/internal/safety"
	"github.com/byourside/bys-mcp/internal/state"
	"github.com/byourside/bys-mcp/internal/tenant"
	"github.com/byourside/bys-mcp/schema"
	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"
)

const placeCallArgs = "to, objective, context, fields, webhookUrl, callerId, language, voice, voicemail, voicemailMessage, allowDuplicate, notBefore"

// placementLease bounds how long one placement may hold the dedupe claim:
// longer than a POST with its retries on rate_limited can take.
const placementLease = 90 * time.Second

// confirmInputID names the confirmation question across round trips.
const confirmInputID = "confirm_call"

// retryAfterEndedWith lists the outcomes after which an identical call is a
// new attempt rather than a duplicate.
var retryAfterEndedWith = map[string]bool{"no_answer": true, "voicemail": true, "declined": true, "failed": true}

// PlaceCall returns the place_call tool: it places one outbound call after
// the operator's guardrails, dedupe, budget and (optionally) the user's
// confirmation.
func PlaceCall(d *Deps) (mcp.Tool, server.ToolHandlerFunc) {
	tool := newTool("place_call", "Place a phone call",
		"Place a real outbound phone call: an AI caller phones the number and works toward the objective, then the call's summary, transcript and extracted fields become available. "+
			"Returns at once with a callId and status queued; then call wait_for_call with that callId to follow the call to its end and read summary and extracted. "+
			"A placed call cannot be cancelled through this server (the API has no cancel), so confirm the number and objective with the user first. "+
			"Give a clear objective, private background in context, and the values you need back in fields (name and type string, boolean or number). "+
			"An identical request repeated within a few minutes returns the existing call (deduplicated: true) instead of dialing again. "+
			"To call later (at a time the user or the person called asked for, or when calling hours open), pass notBefore (RFC 3339, at most 7 days ahead): nothing is dialled now, the result is {scheduled: true, campaignId, notBefore}, wait_for_campaign follows it and cancel_campaign cancels it before then.",
		d.Schemas.PlaceCall, writes)
	p := &placer{deps: d}
	return tool, p.handle
}

type placer struct {
	deps *Deps
}

// attempt carries one place_call through its checks.
type attempt struct {
	in     schema.PlaceCallInput
	client *client.Client
	keyFP  string
	fp     string // identity for dedupe
	// confirmFP is what a confirmation approves: the identity plus
	// everything else that changes what the call does (webhookUrl).
	confirmFP string
	// num is what the numbering plan says about the destination.
	num numbering.Number
	// clientName is the OAuth client the request comes from (audit lines).
	clientName string
	// person is the signed-in person's subject (--oauth-issuer; audit
	// lines).
	person string
}

func (p *placer) handle(ctx context.Context, req mcp.CallToolRequest) (*mcp.CallToolResult, error) {
	d := p.deps
	in, terr := decodeArgs[schema.PlaceCallInput](req, placeCallArgs)
	if terr == nil {
		terr = validatePlaceCall(&in)
	}
	var later time.Time
	if terr == nil && in.NotBefore != "" {
		later, terr = readNotBefore("notBefore", in.NotBefore, d.now())
	}
	if terr != nil {
		return fail(ctx, terr), nil
	}
	c, terr := d.clientFor(ctx)
	if terr != nil {
		return fail(ctx, terr), nil
	}
	a := &attempt{in: in, client: c, keyFP: d.keyFP(ctx), clientName: tenant.ClientFrom(ctx), person: subject(ctx)}
	a.fp = intentOf(a).Fingerprint()
	a.confirmFP = confirmationFingerprint(a.fp, in)
	if a.num, terr = d.checkNumber(in.To); terr != nil {
		return fail(ctx, p.refused(a, terr)), nil
	}
	if terr := p.checkDoNotCall(ctx, a); terr != nil {
		return fail(ctx, terr), nil
	}

	dedupe := d.DedupeWindow > 0 && !in.AllowDuplicate
	answer := server.ElicitationResponse(req.Params.InputResponses, confirmInputID)
	if terr := p.checkPolicy(a); terr != nil {
		return fail(ctx, terr), nil
	}
	if !later.IsZero() {
		return p.schedule(ctx, req, a, later)
	}
	needConfirm, terr := p.needsConfirmation(ctx)
	if terr != nil {
		return fail(ctx, p.refused(a, terr)), nil
	}

	// Before asking the user, make sure the answer would not be wasted: an
	// existing identical call, or a spent budget, is reported right away.
	if needConfirm && answer == nil {
		if dedupe {
			claim, res := p.claim(ctx, a)
			if res != nil {
				return res.render(ctx), nil
			}
			if err := d.Store.AbandonPlacement(ctx, a.fp, claim.LeaseID); err != nil {
				return fail(ctx, p.stateUnavailable(a, err)), nil
			}
		}
		if terr := p.checkHours(a); terr != nil {
			return fail(ctx, terr), nil
		}
		if terr := p.checkPerNumber(ctx, a); terr != nil {
			return fail(ctx, terr), nil
		}
		if terr := p.checkBudget(ctx, a); terr != nil {
			return fail(ctx, terr), nil
		}
		return p.askConfirmation(ctx, a)
	}
	var beforePost func() *toolError
	if needConfirm {
		nonce, terr := p.checkAnswer(ctx, a, req.Params.RequestState, answer)
		if terr != nil {
			return fail(ctx, terr), nil
		}
		// The approval is spent only once the call will be dialled, so that
		// a refusal before leaves it usable for a retry.
		beforePost = func() *toolError { return p.useApproval(ctx, a, nonce) }
	}
	return p.place(ctx, a, dedupe, beforePost).render(ctx), nil
}

// placement is what placing one call came to: a call placed or joined
// (deduplicated), or the error that stopped it.
type placement struct {
	callID, status string
	deduplicated   bool
	err            *toolError
	// destination and warnings describe the number called.
	destination *schema.Destination
	where       string // the result's sentence about the destination
	warnings    []string
}

func (pl *placement) render(ctx context.Context) *mcp.CallToolResult {
	if pl.err != nil {
		return fail(ctx, pl.err)
	}
	noteCallID(ctx, pl.callID)
	noteStatus(ctx, pl.status)
	res := placedResult(pl)
	if pl.deduplicated && pl.status == "unknown" {
		res.Content = []mcp.Content{mcp.NewTextContent(fmt.Sprintf("An identical call was already placed moments ago (callId %s), so it was not dialled again (deduplicated); its status could not be read just now: call get_call or wait_for_call with callId %s.", pl.callID, pl.callID))}
	}
	return res
}

// place takes one call through every check of place_call after the
// number check, the destination policy and the confirmation (dedupe,
// calling hours, the budget, then the API) and places it: the one path by which place_call and every item of
// place_calls dial. beforePost, when set, runs just before the POST; an
// error from it stops the call.
func (p *placer) place(ctx context.Context, a *attempt, dedupe bool, beforePost func() *toolError) *placement {
	d := p.deps
	if a.num.E164 == "" { // a caller that has not run the number check
		num, terr := d.checkNumber(a.in.To)
		if terr != nil {
			return &placement{err: p.refused(a, terr)}
		}
		a.num = num
	}
	if !dedupe && d.MaxCallsPerHour <= 0 && d.CallsPerNumber <= 0 {
		// Neither dedupe nor a cap asks the store: make sure it works
		// anyway, so that no call is placed while the safety state is broken
		// (fail closed, as for every other call).
		if err := d.Store.Ping(ctx); err != nil {
			return &placement{err: p.stateUnavailable(a, err)}
		}
	}
	var claim state.Claim
	if dedupe {
		var res *placement
		if claim, res = p.claim(ctx, a); res != nil {
			return res
		}
	}
	release := func() {
		if dedupe {
			_ = d.Store.AbandonPlacement(context.WithoutCancel(ctx), a.fp, claim.LeaseID)
		}
	}
	// Calling hours come after dedupe: an identical call placed inside the
	// window is still found after it closes.
	if terr := p.checkHours(a); terr != nil {
		release()
		return &placement{err: terr}
	}
	perNumber, terr := p.reservePerNumber(ctx, a)
	if terr != nil {
		release()
		return &placement{err: terr}
	}
	reservation, terr := p.reserveBudget(ctx, a)
	if terr != nil {
		p.refundPerNumber(context.WithoutCancel(ctx), a, perNumber)
		release()
		return &placement{err: terr}
	}
	if beforePost != nil {
		if terr := beforePost(); terr != nil {
			p.refund(context.WithoutCancel(ctx), a, reservation)
			p.refundPerNumber(context.WithoutCancel(ctx), a, perNumber)
			release()
			return &placement{err: terr}
		}
	}

	// The POST runs to its end even if the client gives up: its outcome must
	// be known to keep the dedupe and the budget true.
	postCtx := context.WithoutCancel(ctx)
	in := a.in
	hook := d.webhookFor(in.WebhookURL, a.keyFP)
	resp, err := a.client.PlaceCall(postCtx, &client.PlaceCallRequest{
		To: in.To, Objective: in.Objective, Context: apiContext(in), Fields: outcome.Fields(clientFields(in.Fields), d.OutcomeFields),
		WebhookURL: hook.url, CallerID: in.CallerID, Language: in.Language, Voice: in.Voice,
	})
	hook.done(resp, err)
	if err != nil {
		terr := errorFromAPI(err, true)
		var apiErr *client.APIError
		if errors.As(err, &apiErr) && apiErr.HTTPStatus >= 400 && apiErr.HTTPStatus < 500 && !apiErr.MayHavePlaced {
			// A 4xx proves that nothing was placed: it does not count.
			p.refund(postCtx, a, reservation)
			p.refundPerNumber(postCtx, a, perNumber)
		}
		release()
		p.audit(a, "api_error", terr.Token, "", statusOf(terr))
		return &placement{err: terr}
	}
	if dedupe {
		if err := d.Store.FinishPlacement(postCtx, a.fp, claim.LeaseID, resp.CallID, d.DedupeWindow); err != nil {
			d.Log.WithError(err).Warn("could not record the placed call for dedupe")
		}
	}
	if d.Metrics != nil {
		d.Metrics.CallPlaced()
	}
	p.audit(a, "placed", "", resp.CallID, http.StatusOK)
	d.notePending(postCtx, a, resp.CallID)
	return p.placed(a, &placement{callID: resp.CallID, status: resp.Status})
}

// placed adds the destination facts to a placed or joined call.
func (p *placer) placed(a *attempt, pl *placement) *placement {
	pl.destination, pl.where = p.deps.destinationOf(a.num)
	pl.warnings = numberWarnings(a.num)
	return pl
}

// checkHours applies calling hours at the destination.
func (p *placer) checkHours(a *attempt) *toolError {
	if terr := p.deps.checkHours(a.num); terr != nil {
		return p.refused(a, terr)
	}
	return nil
}

// checkPolicy applies the operator's allow and deny lists.
func (p *placer) checkPolicy(a *attempt) *toolError {
	if ok, reason := p.deps.Policy.Check(a.in.To); !ok {
		return p.refused(a, newToolError("destination_not_allowed", nil, false,
			reason+"; the operator's policy forbids this destination, so no call was placed: tell the user"))
	}
	return nil
}

func intentOf(a *attempt) safety.Intent {
	fields := make([]safety.IntentField, len(a.in.Fields))
	for i, f := range a.in.Fields {
		fields[i] = safety.IntentField{Name: f.Name, Type: f.Type, Description: f.Description}
	}
	// The context is the one sent to the API: a voicemail setting makes
	// another call (without one it is the agent's context, as before).
	return safety.Intent{KeyFingerprint: a.keyFP, To: a.in.To, Objective: a.in.Objective, Context: apiContext(a.in), CallerID: a.in.CallerID, Fields: fields}
}

// confirmationFingerprint binds an approval to the exact call: the dedupe
// identity (key, to, objective, context, fields, callerId) plus webhookUrl,
// which decides where the transcript goes, and language and voice, which
// decide how the call sounds, and the voicemail setting, which decides what
// is left on an answering machine (each added only when set, so that
// approvals of calls without them keep their value).
func confirmationFingerprint(intentFP string, in schema.PlaceCallInput) string {
	s := "bys-mcp confirmation v1\x00" + intentFP + "\x00" + in.WebhookURL
	if in.Language != "" || in.Voice != "" {
		s += "\x00language\x00" + in.Language + "\x00voice\x00" + in.Voice
	}
	if in.Voicemail != "" {
		s += "\x00voicemail\x00" + in.Voicemail + "\x00" + in.VoicemailMessage
	}
	if in.NotBefore != "" {
		// A later call is approved for its time, and not to dial now.
		s += "\x00notBefore\x00" + in.NotBefore
	}
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

func clientFields(in []schema.FieldSpec) []client.Field {
	if len(in) == 0 {
		return nil
	}
	out := make([]client.Field, len(in))
	for i, f := range in {
		out[i] = client.Field{Name: f.Name, Type: f.Type, Description: f.Description}
	}
	return out
}

func placedResult(pl *placement) *mcp.CallToolResult {
	callID, status := pl.callID, pl.status
	out := schema.PlaceCallOutput{CallID: callID, Status: status, Deduplicated: pl.deduplicated,
		Destination: pl.destination, Warnings: pl.warnings}
	var text string
	if pl.deduplicated {
		text = fmt.Sprintf("An identical call was already placed moments ago (callId %s, status %s), so it was not dialled again (deduplicated). "+
			"Call wait_for_call with callId %s to follow it; pass allowDuplicate: true only if the user really wants a second call.", callID, status, callID)
	} else {
		text = fmt.Sprintf("Call placed: callId %s, status %s. Next, call wait_for_call with callId %s to follow it to its end and read the summary and extracted fields. "+
			"It cannot be cancelled through this server.", callID, status, callID)
	}
	text += pl.where
	for _, w := range out.Warnings {
		text += " Warning: " + w
	}
	return structuredResult(out, text)
}

// claim takes the single-flight dedupe claim for the attempt. It returns a
// placement instead when an identical call exists (deduplicated) or the
// state store fails (refused).
func (p *placer) claim(ctx context.Context, a *attempt) (state.Claim, *placement) {
	d := p.deps
	for range 3 {
		claimCtx, cancel := context.WithTimeout(ctx, placementLease+10*time.Second)
		claim, err := d.Store.ClaimPlacement(claimCtx, a.fp, placementLease)
		cancel()
		if err != nil {
			if ctx.Err() != nil {
				return claim, &placement{err: errorFromAPI(ctx.Err(), false)}
			}
			return claim, &placement{err: p.stateUnavailable(a, err)}
		}
		if claim.Claimed {
			return claim, nil
		}
		status, retry := p.earlierOutcome(ctx, a, claim.ExistingCallID)
		if !retry {
			p.audit(a, "deduplicated", "", claim.ExistingCallID, 0)
			return claim, p.placed(a, &placement{callID: claim.ExistingCallID, status: status, deduplicated: true})
		}
		if _, err := d.Store.ForgetPlacement(ctx, a.fp, claim.ExistingCallID); err != nil {
			return claim, &placement{err: p.stateUnavailable(a, err)}
		}
	}
	return state.Claim{}, &placement{err: newToolError("state_conflict", nil, true, "identical calls are being placed concurrently; wait a few seconds and retry")}
}

// earlierOutcome looks at the identical call placed earlier: retry is true
// when it ended in a way that makes a new attempt what the agent wants.
func (p *placer) earlierOutcome(ctx context.Context, a *attempt, callID string) (status string, retry bool) {
	call, err := a.client.GetCall(ctx, callID)
	if err != nil {
		if client.IsNotFound(err) {
			return "", true
		}
		return "unknown", false
	}
	return call.Status, retryAfterEndedWith[call.Status]
}

func (p *placer) checkBudget(ctx context.Context, a *attempt) *toolError {
	reservation, terr := p.reserveBudget(ctx, a)
	if terr != nil {
		return terr
	}
	p.refund(context.WithoutCancel(ctx), a, reservation)
	return nil
}

func budgetKey(a *attempt) string { return "budget:" + a.keyFP }

func (p *placer) reserveBudget(ctx context.Context, a *attempt) (string, *toolError) {
	d := p.deps
	if d.MaxCallsPerHour <= 0 {
		return "", nil
	}
	reservation, ok, retryIn, err := d.Store.ReserveBudget(ctx, budgetKey(a), d.MaxCallsPerHour, time.Hour)
	if err != nil {
		return "", p.stateUnavailable(a, err)
	}
	if !ok {
		wait := max(retryIn.Round(time.Minute), time.Minute)
		return "", p.refused(a, newToolError("call_budget_exceeded", nil, false,
			fmt.Sprintf("this API key has used its %d calls for the last hour (the operator's --max-calls-per-hour), so no call was placed: tell the user, and try again in about %s",
				d.MaxCallsPerHour, strings.TrimSuffix(wait.String(), "0s"))))
	}
	return reservation, nil
}

func (p *placer) refund(ctx context.Context, a *attempt, reservation string) {
	if reservation == "" {
		return
	}
	if err := p.deps.Store.RefundBudget(ctx, budgetKey(a), reservation); err != nil {
		p.deps.Log.WithError(err).Warn("could not refund a call budget reservation")
	}
}

func (p *placer) stateUnavailable(a *attempt, err error) *toolError {
	p.deps.Log.WithError(err).Warn("safety state unavailable; refusing to place the call")
	return p.refused(a, newToolError("state_unavailable", nil, true,
		"the safety state store (dedupe and budgets) cannot be reached or written, so no call was placed (fail closed): retry in a few seconds, and tell the operator if it persists"))
}

// refused records a safety refusal (audited, counted) and returns it.
func (p *placer) refused(a *attempt, terr *toolError) *toolError {
	outcome := "refused"
	if terr.Token == "declined_by_user" {
		outcome = "declined"
	}
	p.audit(a, outcome, terr.Token, "", 0)
	p.deps.refusal(terr.Token)
	return terr
}

func (p *placer) audit(a *attempt, outcome, reason, callID string, status int) {
	if p.deps.Audit == nil {
		return
	}
	p.deps.Audit.Record(safety.AuditRecord{Outcome: outcome, Reason: reason, KeyFingerprint: a.keyFP, To: a.in.To, CallID: callID, HTTPStatus: status, Client: a.clientName, Person: a.person})
}

func statusOf(e *toolError) int {
	if e.HTTPStatus == nil {
		return 0
	}
	return *e.HTTPStatus
}
