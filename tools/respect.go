package tools

import (
	"context"
	"fmt"
	"time"

	"github.com/byourside/bys-mcp/client"
	"github.com/byourside/bys-mcp/internal/dnc"
	"github.com/byourside/bys-mcp/internal/outcome"
	"github.com/byourside/bys-mcp/internal/safety"
)

// dncFP is the key fingerprint the do-not-call list is kept under for a
// tenant's keyFP: the tenant's own, except under --oauth-issuer, where the
// people of a team share the server's key and a person who asked not to be
// called again is not called by any of them.
func (d *Deps) dncFP(keyFP string) string {
	if d.People != nil && d.ServerKey != "" {
		return safety.KeyFingerprint(d.ServerKey)
	}
	return keyFP
}

// checkDoNotCall refuses a number on the key's do-not-call list (right
// after the number check).
func (p *placer) checkDoNotCall(ctx context.Context, a *attempt) *toolError {
	d := p.deps
	if d.DoNotCall == nil {
		return nil
	}
	if terr := p.settle(ctx, a); terr != nil {
		return terr
	}
	e, err := d.DoNotCall.Check(ctx, d.dncFP(a.keyFP), a.num.E164)
	if err != nil {
		return p.stateUnavailable(a, err)
	}
	if e == nil {
		return nil
	}
	return p.refused(a, newToolError("do_not_call", nil, false, fmt.Sprintf(
		"%s is on the do-not-call list because %s, so no call was placed: tell the user; only the operator can take a number off the list",
		a.num.E164, e.Reason())))
}

// perNumberKey counts the calls to the attempt's number per key (under
// --oauth-issuer per team key too, like the do-not-call list: the person
// called is rung by the team, whoever asks).
func (d *Deps) perNumberKey(a *attempt) string {
	return "per-number:" + d.dncFP(a.keyFP) + ":" + a.num.E164
}

// reservePerNumber counts one call to the number against
// --max-calls-per-number; the refusal carries opensAt.
func (p *placer) reservePerNumber(ctx context.Context, a *attempt) (string, *toolError) {
	d := p.deps
	if d.CallsPerNumber <= 0 {
		return "", nil
	}
	reservation, ok, retryIn, err := d.Store.ReserveBudget(ctx, d.perNumberKey(a), d.CallsPerNumber, d.CallsPerNumberPeriod)
	if err != nil {
		return "", p.stateUnavailable(a, err)
	}
	if ok {
		return reservation, nil
	}
	opens := d.now().Add(retryIn).Truncate(time.Second).Add(time.Second)
	terr := newToolError("number_call_limit", nil, true, fmt.Sprintf(
		"this key has already dialled %s %d times in the last %s (the operator's --max-calls-per-number), so no call was placed: tell the user, or schedule it with place_call's notBefore: %s (in %s)",
		a.num.E164, d.CallsPerNumber, humanPeriod(d.CallsPerNumberPeriod), opens.UTC().Format(time.RFC3339), humanDuration(retryIn)))
	terr.Extra = map[string]any{"opensAt": opens.UTC().Format(time.RFC3339)}
	return "", p.refused(a, terr)
}

// checkPerNumber tells, before a confirmation, whether the cap would
// refuse the call (nothing stays counted).
func (p *placer) checkPerNumber(ctx context.Context, a *attempt) *toolError {
	reservation, terr := p.reservePerNumber(ctx, a)
	if terr != nil {
		return terr
	}
	p.refundPerNumber(context.WithoutCancel(ctx), a, reservation)
	return nil
}

func (p *placer) refundPerNumber(ctx context.Context, a *attempt, reservation string) {
	if reservation == "" {
		return
	}
	if err := p.deps.Store.RefundBudget(ctx, p.deps.perNumberKey(a), reservation); err != nil {
		p.deps.Log.WithError(err).Warn("could not refund a calls-per-number reservation")
	}
}

// humanPeriod renders a period: "24 h", "90 min".
func humanPeriod(d time.Duration) string {
	if d%time.Hour == 0 {
		return fmt.Sprintf("%d h", d/time.Hour)
	}
	return fmt.Sprintf("%d min", d/time.Minute)
}

// notePending marks a placed call whose outcome is still to be read.
func (d *Deps) notePending(ctx context.Context, a *attempt, callID string) {
	if d.DoNotCall == nil || !d.OutcomeFields {
		return
	}
	if err := d.DoNotCall.Pending(ctx, d.dncFP(a.keyFP), a.num.E164, callID); err != nil {
		d.Log.WithError(err).WithField("call_id", callID).Warn("could not note the call's outcome as pending; a do-not-call request on it is learnt only when the call is read")
	}
}

// settle reads the calls to the attempt's number whose outcome is still
// pending (nobody followed them to their end) and learns from the ended
// ones, before the number is checked against the list. It fails closed: an
// earlier call that cannot be read now, or a listing that cannot be
// written, stops the call.
func (p *placer) settle(ctx context.Context, a *attempt) *toolError {
	d := p.deps
	ids, err := d.DoNotCall.Unsettled(ctx, d.dncFP(a.keyFP), a.num.E164)
	if err != nil {
		return p.stateUnavailable(a, err)
	}
	reader := a.client
	if d.People != nil && d.ServerKey != "" {
		// The team's calls: one person's call may have listed the number
		// for all (read, never shown).
		reader = d.Client.WithAPIKey(d.ServerKey)
	}
	for _, id := range ids {
		call, err := reader.GetCall(ctx, id)
		switch {
		case client.IsNotFound(err):
			_ = d.DoNotCall.Settle(ctx, d.dncFP(a.keyFP), a.num.E164, id)
		case err != nil:
			// The API cannot say now whether that person asked not to be
			// called again: nothing is dialled (the call stays pending).
			terr := errorFromAPI(err, false)
			terr.Hint = fmt.Sprintf("an earlier call to %s (%s) could not be read to learn whether the person asked not to be called again, so no call was placed: retry in a few seconds; %s", a.num.E164, id, terr.Hint)
			terr.Retryable = true
			return p.refused(a, terr)
		case call.Terminal():
			if err := d.NoteOutcome(a.keyFP, call); err != nil {
				return p.stateUnavailable(a, err)
			}
		}
	}
	return nil
}

// NoteOutcome learns from an ended call of the key keyFP: a number whose
// person asked not to be called again goes on the do-not-call list, and
// the call's outcome is no longer pending. Followers call it as calls end.
func (d *Deps) NoteOutcome(keyFP string, call *client.Call) error {
	if d.DoNotCall == nil || call == nil || !call.Terminal() {
		return nil
	}
	keyFP = d.dncFP(keyFP)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if !outcome.AskedNotToBeCalled(outcome.Of(call.Extracted)) {
		_ = d.DoNotCall.Settle(ctx, keyFP, call.To, call.ID)
		return nil
	}
	added, err := d.DoNotCall.Add(ctx, dnc.Entry{Number: call.To, KeyFP: keyFP, Source: dnc.SourceCall, CallID: call.ID})
	if err != nil {
		// The call stays pending: the next dial of the number reads it
		// again, and refuses while the list cannot be written.
		d.Log.WithError(err).WithField("call_id", call.ID).Error("could not add a do-not-call request to the list; it is tried again before the number is dialled")
		return err
	}
	if added && d.Audit != nil {
		d.Audit.Record(auditListing(keyFP, call))
	}
	_ = d.DoNotCall.Settle(ctx, keyFP, call.To, call.ID)
	return nil
}

// auditListing is the audit line of a number listed after a call.
func auditListing(keyFP string, call *client.Call) safety.AuditRecord {
	return safety.AuditRecord{Outcome: "do_not_call_listed", Reason: "asked_not_to_be_called", KeyFingerprint: keyFP, To: call.To, CallID: call.ID}
}
