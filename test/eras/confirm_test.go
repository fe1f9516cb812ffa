package eras_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/byourside/bys-mcp/config"
	mcpclient "github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/mcp"
)

// --confirm-calls in both eras on both transports: a 2025-11-25 client gets
// elicitation/create, a 2026-07-28 client an input_required result that
// mcp-go's client answers and retries; the outcomes are the same.
func TestConfirmationInBothEras(t *testing.T) {
	cases := []struct {
		name    string
		mode    string
		elicit  bool // the client has an elicitation handler
		action  mcp.ElicitationResponseAction
		content any
		token   string // "" = placed
		modern  string // expectation for a 2026-07-28 client without elicitation: "" = as legacy, "-32021"
	}{
		{name: "always accept", mode: config.ConfirmAlways, elicit: true, action: mcp.ElicitationResponseActionAccept, content: map[string]any{"confirm": true}},
		{name: "always decline", mode: config.ConfirmAlways, elicit: true, action: mcp.ElicitationResponseActionDecline, token: "declined_by_user"},
		{name: "auto accept", mode: config.ConfirmAuto, elicit: true, action: mcp.ElicitationResponseActionAccept, content: map[string]any{"confirm": true}},
		{name: "auto decline", mode: config.ConfirmAuto, elicit: true, action: mcp.ElicitationResponseActionDecline, token: "declined_by_user"},
		{name: "auto accept unticked", mode: config.ConfirmAuto, elicit: true, action: mcp.ElicitationResponseActionAccept, content: map[string]any{"confirm": false}, token: "declined_by_user"},
		{name: "always without elicitation", mode: config.ConfirmAlways, token: "confirmation_unavailable", modern: "-32021"},
		{name: "auto without elicitation", mode: config.ConfirmAuto},
	}
	forEach(t, func(t *testing.T, tr string, e era) {
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				s := newServer(t, tr, func(c *config.Config) { c.ConfirmCalls = tc.mode })
				var o connectOpts
				if tc.elicit {
					user := &elicitor{action: tc.action, content: tc.content}
					o.clientOps = []mcpclient.ClientOption{mcpclient.WithElicitationHandler(user)}
					defer func() {
						if got := user.asked.Load(); got != 1 {
							t.Errorf("the user was asked %d times, want 1", got)
						}
					}()
				}
				c := connect(t, s, e, o)
				args := placeArgs(numCompletes, "Confirm me: "+tc.name+".")
				if !e.legacy && tc.modern == "-32021" {
					// mcp-go's client drops the message of -32021, so read
					// the response as sent.
					resp := c.raw(string(mcp.MethodToolsCall), map[string]any{"name": "place_call", "arguments": args}, &mcp.ClientCapabilities{})
					if resp.Error == nil {
						t.Fatalf("want JSON-RPC error -32021, got result %s", resp.Result)
					}
					if resp.Error.Code != mcp.MISSING_REQUIRED_CLIENT_CAPABILITY || !strings.Contains(resp.Error.Message, "confirmation_unavailable") {
						t.Errorf("error = %d %q, want -32021 naming confirmation_unavailable", resp.Error.Code, resp.Error.Message)
					}
					// And through mcp-go's client it is the typed error.
					_, err := c.callMeta("place_call", args, nil)
					if !mcp.IsMissingRequiredClientCapability(err) {
						t.Errorf("mcp-go client error = %v, want a missing-capability error", err)
					}
				} else {
					res := c.call("place_call", args)
					if tc.token == "" {
						wantOK(t, res)
					} else {
						wantToolError(t, res, tc.token)
					}
				}
				want := 0
				if tc.token == "" {
					want = 1
				}
				if n := s.Sandbox.TotalPlaced(); n != want {
					t.Errorf("sandbox placed %d calls, want %d", n, want)
				}
			})
		}
	})
}

// roundTrip is a 2026-07-28 client driving the confirmation by hand.
type roundTrip struct {
	c *client
	t *testing.T
}

var elicitCaps = &mcp.ClientCapabilities{Elicitation: &mcp.ElicitationCapability{}}

// ask sends place_call without answers and returns the input_required
// result's state, checking its shape.
func (r roundTrip) ask(args map[string]any) string {
	r.t.Helper()
	res := r.c.rawResult(string(mcp.MethodToolsCall), map[string]any{"name": "place_call", "arguments": args}, elicitCaps)
	if res["resultType"] != string(mcp.ResultTypeInputRequired) {
		r.t.Fatalf("place_call under always: resultType %v, want input_required: %v", res["resultType"], res)
	}
	reqs, _ := res["inputRequests"].(map[string]any)
	if len(reqs) != 1 {
		r.t.Fatalf("inputRequests = %v, want one request", res["inputRequests"])
	}
	for id, raw := range reqs {
		req, _ := raw.(map[string]any)
		if req["method"] != string(mcp.MethodElicitationCreate) {
			r.t.Errorf("input request %s is %v, want elicitation/create", id, req["method"])
		}
		params, _ := req["params"].(map[string]any)
		if msg, _ := params["message"].(string); !strings.Contains(msg, args["to"].(string)) {
			r.t.Errorf("the question does not show the number: %q", msg)
		}
	}
	state, _ := res["requestState"].(string)
	if state == "" {
		r.t.Fatalf("input_required result without requestState: %v", res)
	}
	return state
}

// answer retries place_call with the user's accepting answer and state.
func (r roundTrip) answer(args map[string]any, state string) *mcp.CallToolResult {
	r.t.Helper()
	answer := mcp.NewElicitationInputResponse(mcp.ElicitationResult{ElicitationResponse: mcp.ElicitationResponse{
		Action: mcp.ElicitationResponseActionAccept, Content: map[string]any{"confirm": true}}})
	resp := r.c.raw(string(mcp.MethodToolsCall), map[string]any{
		"name":           "place_call",
		"arguments":      args,
		"inputResponses": mcp.InputResponses{"confirm_call": answer},
		"requestState":   state,
	}, elicitCaps)
	if resp.Error != nil {
		r.t.Fatalf("retry: JSON-RPC error %d %s", resp.Error.Code, resp.Error.Message)
	}
	res, err := mcp.ParseCallToolResult(&resp.Result)
	if err != nil {
		r.t.Fatalf("retry result: %v: %s", err, resp.Result)
	}
	if res.NeedsInput() {
		raw, _ := json.Marshal(res)
		r.t.Fatalf("the retry asked again instead of deciding: %s", raw)
	}
	return res
}

// tamper changes one character in the middle of a state.
func tamper(state string) string {
	b := []byte(state)
	i := len(b) / 3
	for b[i] == '.' {
		i++
	}
	if b[i] == 'A' {
		b[i] = 'B'
	} else {
		b[i] = 'A'
	}
	return string(b)
}

// A 2026-07-28 client cannot forge, replay or transfer a confirmation: the
// request state is bound to the exact call and accepted once.
func TestConfirmationStateCannotBeForgedReplayedOrTransferred(t *testing.T) {
	for _, tr := range transports {
		t.Run(tr, func(t *testing.T) {
			// Dedupe off, so that a replay of the same call reaches the
			// confirmation check instead of returning the existing call.
			s := newServer(t, tr, func(c *config.Config) { c.ConfirmCalls = config.ConfirmAlways; c.DedupeWindow = 0 })
			c := connect(t, s, modern, connectOpts{clientOps: []mcpclient.ClientOption{mcpclient.WithClientCapabilities(*elicitCaps)}})
			r := roundTrip{c: c, t: t}
			callA := placeArgs(numCompletes, "Book a table for two at 7 PM.")
			callB := placeArgs("+14155559999", "Book a table for eight at 9 PM.")

			t.Run("forged", func(t *testing.T) {
				r := roundTrip{c: c, t: t}
				state := r.ask(callA)
				wantToolError(t, r.answer(callA, tamper(state)), "confirmation_invalid")
				wantToolError(t, r.answer(callA, state+"x"), "confirmation_invalid")
				wantToolError(t, r.answer(callA, "not-a-state"), "confirmation_invalid")
				if n := s.Sandbox.TotalPlaced(); n != 0 {
					t.Fatalf("a forged state placed %d calls", n)
				}
			})
			t.Run("accepted then replayed", func(t *testing.T) {
				r := roundTrip{c: c, t: t}
				before := s.Sandbox.TotalPlaced()
				state := r.ask(callA)
				wantOK(t, r.answer(callA, state))
				if n := s.Sandbox.TotalPlaced(); n != before+1 {
					t.Fatalf("the accepted state placed %d calls, want 1", n-before)
				}
				wantToolError(t, r.answer(callA, state), "confirmation_invalid")
				if n := s.Sandbox.TotalPlaced(); n != before+1 {
					t.Fatalf("the replayed state placed another call (%d in all)", n)
				}
			})
			t.Run("state of call A used for call B", func(t *testing.T) {
				r := roundTrip{c: c, t: t}
				before := s.Sandbox.TotalPlaced()
				state := r.ask(callA)
				wantToolError(t, r.answer(callB, state), "confirmation_invalid")
				// Same destination, other objective.
				other := placeArgs(numCompletes, "Cancel every booking.")
				state = r.ask(callA)
				wantToolError(t, r.answer(other, state), "confirmation_invalid")
				if n := s.Sandbox.TotalPlaced(); n != before {
					t.Fatalf("a transferred state placed %d calls", n-before)
				}
			})
			_ = r
		})
	}
}
