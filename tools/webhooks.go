package tools

import (
	"errors"

	"github.com/byourside/bys-mcp/client"
)

// Webhooks hands out the server's own webhook URLs (--public-url): calls
// placed without an agent-given webhookUrl get one, so that the API's
// events wake their followers. Nil when the server has no public URL.
type Webhooks interface {
	// NewURL returns a fresh receiver URL for a call of the key whose
	// fingerprint is keyFP, and its token.
	NewURL(keyFP string) (url, token string)
	// Placed binds token to the call placed with its URL.
	Placed(token, callID string)
	// Forget drops the token of a placement that placed nothing.
	Forget(token string)
}

// hookPlan is the webhookUrl of one POST and what to do with its token
// once the POST has answered.
type hookPlan struct {
	url, token string
	hooks      Webhooks
}

// webhookFor keeps the agent's webhookUrl, or gives the call the server's
// own when it has one.
func (d *Deps) webhookFor(agentURL, keyFP string) hookPlan {
	if agentURL != "" || d.Webhooks == nil {
		return hookPlan{url: agentURL}
	}
	u, tok := d.Webhooks.NewURL(keyFP)
	return hookPlan{url: u, token: tok, hooks: d.Webhooks}
}

// done binds the token to the placed call, or forgets it when the answer
// proves nothing was placed (an uncertain failure keeps it, so that the
// call's events, if it exists, are still taken).
func (h hookPlan) done(resp *client.PlaceCallResponse, err error) {
	if h.hooks == nil {
		return
	}
	if err == nil {
		h.hooks.Placed(h.token, resp.CallID)
		return
	}
	var apiErr *client.APIError
	var tErr *client.TransportError
	if (errors.As(err, &apiErr) && apiErr.MayHavePlaced) || (errors.As(err, &tErr) && tErr.MayHaveReachedAPI) {
		return
	}
	h.hooks.Forget(h.token)
}
