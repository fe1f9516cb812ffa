package tools

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/byourside/bys-mcp/internal/safety"
	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"
)

// DefaultConfirmStateMaxAge is how long a user may take to answer.
const DefaultConfirmStateMaxAge = 10 * time.Minute

// ClientCanElicit reports whether the client of this request declared the
// elicitation capability: per request (_meta) for 2026-07-28 requests, from
// initialize for older ones, and only on sessions that can carry it.
func ClientCanElicit(ctx context.Context) bool {
	if info := server.RequestProtocolInfoFromContext(ctx); info != nil && info.Modern {
		return info.ClientCapabilities != nil && info.ClientCapabilities.Elicitation != nil
	}
	session := server.ClientSessionFromContext(ctx)
	if _, ok := session.(server.SessionWithElicitation); !ok {
		return false
	}
	if withInfo, ok := session.(server.SessionWithClientInfo); ok {
		return withInfo.GetClientCapabilities().Elicitation != nil
	}
	return false
}

// needsConfirmation decides whether the user must confirm this call, or
// refuses when --confirm-calls=always and the client cannot ask.
func (p *placer) needsConfirmation(ctx context.Context) (bool, *toolError) {
	switch p.deps.ConfirmCalls {
	case ConfirmNever:
		return false, nil
	case ConfirmAlways:
		if !ClientCanElicit(ctx) {
			return false, newToolError("confirmation_unavailable", nil, false,
				"the operator requires every call to be confirmed by the user, but this client cannot ask the user (no MCP elicitation support), so no call was placed: use a host that supports elicitation")
		}
		return true, nil
	default:
		return ClientCanElicit(ctx), nil
	}
}

// confirmSecret is the key that signs confirmation states. It is asked of
// the store every time (one round trip with Redis), so that every replica
// signs with the same secret even after the store lost and re-created it.
func (p *placer) confirmSecret(ctx context.Context) ([]byte, error) {
	return p.deps.Store.Secret(ctx)
}

func (p *placer) maxAge() time.Duration {
	if p.deps.ConfirmStateMaxAge > 0 {
		return p.deps.ConfirmStateMaxAge
	}
	return DefaultConfirmStateMaxAge
}

// askConfirmation returns the input request that asks the user to confirm
// the call, with a signed state bound to this exact call and key. 2026-07-28
// clients receive it as an input_required result; for older clients mcp-go
// turns it into elicitation/create and calls the handler again.
func (p *placer) askConfirmation(ctx context.Context, a *attempt) (*mcp.CallToolResult, error) {
	return p.askWith(ctx, a, confirmMessage(a), "Place this call",
		"Yes places a real phone call to the number shown; it cannot be cancelled afterwards.")
}

// askWith asks the user to confirm what a (its confirmFP) stands for, with
// message, and a yes/no question titled title.
func (p *placer) askWith(ctx context.Context, a *attempt, message, title, description string) (*mcp.CallToolResult, error) {
	secret, err := p.confirmSecret(ctx)
	if err != nil {
		return fail(ctx, p.stateUnavailable(a, err)), nil
	}
	token := safety.SealConfirmState(secret, safety.ConfirmState{IntentFingerprint: a.confirmFP, Nonce: safety.NewNonce(), IssuedAt: p.deps.now()})
	return server.NewInputRequestBuilder(token).
		Elicit(confirmInputID, mcp.ElicitationParams{
			Mode:    mcp.ElicitationModeForm,
			Message: message,
			RequestedSchema: map[string]any{
				"type": "object",
				"properties": map[string]any{
					"confirm": map[string]any{
						"type":        "boolean",
						"title":       title,
						"description": description,
					},
				},
				"required": []string{"confirm"},
			},
		}).
		ToolResult(), nil
}

func confirmMessage(a *attempt) string {
	var b strings.Builder
	if a.in.NotBefore != "" {
		fmt.Fprintf(&b, "Place a real phone call to %s, not before %s?\n\nObjective: %s", a.in.To, a.in.NotBefore, a.in.Objective)
	} else {
		fmt.Fprintf(&b, "Place a real phone call to %s?\n\nObjective: %s", a.in.To, a.in.Objective)
	}
	if a.in.Context != "" {
		fmt.Fprintf(&b, "\nContext (private): %s", a.in.Context)
	}
	if len(a.in.Fields) > 0 {
		names := make([]string, len(a.in.Fields))
		for i, f := range a.in.Fields {
			t := f.Type
			if t == "" {
				t = "string"
			}
			names[i] = f.Name + " (" + t + ")"
		}
		fmt.Fprintf(&b, "\nFields to extract: %s", strings.Join(names, ", "))
	}
	if a.in.CallerID != "" {
		fmt.Fprintf(&b, "\nCaller ID: %s", a.in.CallerID)
	}
	if a.in.Language != "" {
		fmt.Fprintf(&b, "\nLanguage: %s", a.in.Language)
	}
	if a.in.Voice != "" {
		fmt.Fprintf(&b, "\nVoice: %s", a.in.Voice)
	}
	if w := voicemailWords(a.in.Voicemail, a.in.VoicemailMessage); w != "" {
		fmt.Fprintf(&b, "\nOn voicemail: %s", w)
	}
	if a.in.WebhookURL != "" {
		host := a.in.WebhookURL
		if u, err := url.Parse(a.in.WebhookURL); err == nil {
			host = u.Host
		}
		fmt.Fprintf(&b, "\nCall events and the transcript are also sent to: %s", host)
	}
	return b.String()
}

// checkAnswer verifies the echoed state (integrity, binding to this exact
// call and key, age) and the user's answer. It returns the state's nonce
// when the call may proceed (useApproval spends it), else the refusal.
func (p *placer) checkAnswer(ctx context.Context, a *attempt, requestState string, answer *mcp.ElicitationResult) (string, *toolError) {
	secret, err := p.confirmSecret(ctx)
	if err != nil {
		return "", p.stateUnavailable(a, err)
	}
	st, err := safety.OpenConfirmState(secret, requestState, a.confirmFP, p.maxAge(), p.deps.now())
	if err != nil {
		reason := "the confirmation state is not valid for this call"
		switch {
		case errors.Is(err, safety.ErrStateExpired):
			reason = "the confirmation is too old"
		case errors.Is(err, safety.ErrStateMismatch):
			reason = "the confirmation was given for a different call"
		}
		return "", p.refused(a, newToolError("confirmation_invalid", nil, false,
			reason+", so no call was placed: call place_call again without inputResponses to ask the user afresh"))
	}
	if !approved(answer) {
		// A refusal spends the state too, so it cannot be turned into an
		// approval later.
		_, _ = p.deps.Store.UseOnce(ctx, "confirm:"+st.Nonce, p.maxAge()+time.Minute)
		return "", p.refused(a, newToolError("declined_by_user", nil, false,
			"the user did not approve this call, so it was not placed: do not retry unless the user asks again"))
	}
	return st.Nonce, nil
}

// approved is true only for an accepted form whose confirm is true.
func approved(answer *mcp.ElicitationResult) bool {
	if answer == nil || answer.Action != mcp.ElicitationResponseActionAccept {
		return false
	}
	content, ok := answer.Content.(map[string]any)
	return ok && content["confirm"] == true
}

// useApproval spends a confirmation state once; a replay is refused.
func (p *placer) useApproval(ctx context.Context, a *attempt, nonce string) *toolError {
	first, err := p.deps.Store.UseOnce(ctx, "confirm:"+nonce, p.maxAge()+time.Minute)
	if err != nil {
		return p.stateUnavailable(a, err)
	}
	if !first {
		return p.refused(a, newToolError("confirmation_invalid", nil, false,
			"this confirmation was already used once, so no call was placed: call place_call again without inputResponses to ask the user afresh"))
	}
	return nil
}
