package tools

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/byourside/bys-mcp/client"
	"github.com/byourside/bys-mcp/internal/people"
	"github.com/byourside/bys-mcp/internal/state"
	"github.com/byourside/bys-mcp/schema"
	"github.com/mark3labs/mcp-go/mcp"
)

// toolError is every failure an agent sees: a token, the HTTP status when the
// API answered, whether retrying may help, and one sentence on what to do.
type toolError struct {
	Token      string
	HTTPStatus *int
	Retryable  bool
	Hint       string
	// Extra adds fields to structuredContent (e.g. suggestion, opensAt),
	// each declared in the tool's output schema.
	Extra map[string]any
}

func newToolError(token string, status *int, retryable bool, hint string) *toolError {
	return &toolError{Token: token, HTTPStatus: status, Retryable: retryable, Hint: hint}
}

func (e *toolError) Error() string { return e.Token + ": " + e.Hint }

// result renders the error as an isError tool result whose text names the
// token and whose structuredContent matches the output schemas' error shape.
func (e *toolError) result() *mcp.CallToolResult {
	text := e.Token
	if e.HTTPStatus != nil {
		text += fmt.Sprintf(" (HTTP %d)", *e.HTTPStatus)
	}
	text += ": " + e.Hint
	var structured any = schema.ErrorOutput{Error: e.Token, HTTPStatus: e.HTTPStatus, Retryable: e.Retryable, Hint: e.Hint}
	if len(e.Extra) > 0 {
		m := map[string]any{"error": e.Token, "httpStatus": e.HTTPStatus, "retryable": e.Retryable, "hint": e.Hint}
		for k, v := range e.Extra {
			m[k] = v
		}
		structured = m
	}
	return &mcp.CallToolResult{
		Content:           []mcp.Content{mcp.NewTextContent(text)},
		StructuredContent: structured,
		IsError:           true,
	}
}

// advice is what an agent should do about an API error token.
type advice struct {
	retryable bool
	hint      string
}

// apiAdvice maps each API error token to what the agent can do about it.
var apiAdvice = map[string]advice{
	"to_required":         {false, "the destination number is missing: pass to in E.164 format, e.g. +14155550123"},
	"objective_required":  {false, "the objective is missing: pass a clear goal for the call in objective"},
	"invalid_number":      {false, "the API rejected the destination as not a valid E.164 number: check the number with the user and pass it as + country code and digits, e.g. +14155550123"},
	"destination_blocked": {false, "the API does not allow calls to this destination (only US, CA, GB, AU, NZ and IL numbers, and never premium-rate, satellite or IRSF numbers): do not retry, tell the user"},
	"caller_id_not_owned": {false, "callerId is not a number on this account: leave callerId out to use the account's default number, or ask the user for a number on the account"},
	"invalid_fields":      {false, "the API rejected fields: give at most 20 items, each with a unique name and type string, boolean or number"},
	"invalid_context":     {false, "the API rejected context: it must be a plain string"},
	"invalid_caller_id":   {false, "the API rejected callerId: it must be an E.164 number such as +12135550100"},
	"invalid_webhook_url": {false, "the API rejected webhookUrl: it must be an absolute https:// URL, or leave it out"},
	"invalid_language":    {false, "the API rejected language: pass a BCP 47 tag such as es-MX, or auto, or leave it out"},
	"invalid_voice":       {false, "the API rejected voice: pass a voice name such as Kore, or leave it out for the default voice"},
	"unauthorized":        {false, "the API key was rejected: the user must configure a valid agent key (BYS_API_KEY, or Authorization: Bearer bys_ak_... per request); retrying will not help"},
	"rate_limited":        {true, "too many calls per minute for this key: wait about a minute, then retry"},
	"over_minute_cap":     {false, "the account's outbound minutes for this billing period are used up: do not retry, tell the user to raise the plan's allowance"},
	"not_found":           {false, "no call with this id exists for this API key: check the id (list_calls shows recent calls)"},
	"placement_failed":    {true, "the API reported a carrier or trunk failure; retry shortly"},
	"store_error":         {true, "the API had a temporary service error; retry shortly"},
}

// mayHavePlacedHint is said whenever a POST's outcome is unknown.
const mayHavePlacedHint = "a call may or may not have been placed: run list_calls and look for it before placing the call again"

// errorFromAPI maps a client error to a toolError, in one place. placing is
// true for place_call's POST, whose uncertain failures must never be
// presented as safe to retry.
func errorFromAPI(err error, placing bool) *toolError {
	var apiErr *client.APIError
	var tErr *client.TransportError
	switch {
	case errors.As(err, &apiErr):
		status := apiErr.HTTPStatus
		token := apiErr.Token
		if token == "" {
			token = "unexpected_response"
		}
		if status == http.StatusNotFound && token != "not_found" {
			token = "not_found"
		}
		a, known := apiAdvice[token]
		if placing && (apiErr.MayHavePlaced || status >= 500) {
			return newToolError(token, &status, false, fmt.Sprintf("the API answered %d while placing the call, so %s", status, mayHavePlacedHint))
		}
		if !known {
			switch {
			case status >= 500:
				a = advice{true, fmt.Sprintf("the API answered %d with an unexpected response; retry shortly", status)}
			case status == http.StatusTooManyRequests:
				a = advice{true, "the API is limiting requests: wait a minute, then retry"}
			default:
				a = advice{false, fmt.Sprintf("the API refused the request with HTTP %d (%s): check the arguments, and tell the user if it persists", status, token)}
			}
		}
		return newToolError(token, &status, a.retryable, a.hint)
	case errors.As(err, &tErr):
		if placing && tErr.MayHaveReachedAPI {
			return newToolError(tErr.Token, nil, false, "the API did not answer while placing the call, so "+mayHavePlacedHint)
		}
		switch tErr.Token {
		case "connection_failed":
			return newToolError(tErr.Token, nil, true, "could not connect to the By Your Side API (nothing was sent): check the network or --base-url, then retry")
		case "timeout":
			return newToolError(tErr.Token, nil, true, "the By Your Side API did not answer in time: retry shortly")
		default:
			return newToolError(tErr.Token, nil, true, "the connection to the By Your Side API broke before it answered: retry shortly")
		}
	case errors.Is(err, state.ErrUnavailable):
		// Under --oauth-issuer a call's owner is read from the state store
		// before the call.
		return newToolError("state_unavailable", nil, true, "the state store cannot be reached just now, so whose call this is cannot be checked: retry in a few seconds, and tell the operator if it persists")
	case errors.Is(err, people.ErrNoPerson):
		return newToolError("no_person", nil, false, "this request names no signed-in person: sign in again at the team's identity provider")
	case errors.Is(err, context.Canceled):
		return newToolError("cancelled", nil, true, "the request was cancelled before it finished")
	case errors.Is(err, context.DeadlineExceeded):
		return newToolError("timeout", nil, true, "the request ran out of time: retry shortly")
	default:
		return newToolError("internal_error", nil, false, "the server failed unexpectedly; try again, and report it if it persists")
	}
}

// invalidArgument is the refusal of an argument that breaks a rule.
func invalidArgument(format string, a ...any) *toolError {
	return newToolError("invalid_argument", nil, false, fmt.Sprintf(format, a...))
}
