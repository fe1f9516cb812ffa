package eras_test

import (
	"encoding/json"
	"strings"
	"testing"
)

// A prompt argument that is missing or malformed is the caller's mistake:
// JSON-RPC -32602 (invalid params) naming the argument, in both eras and on
// both transports, never -32603. Well-formed arguments in any ISO 4217
// currency render the prompt.
func TestPromptArgumentErrorsAreInvalidParams(t *testing.T) {
	quote := func(edit func(map[string]any)) map[string]any {
		args := map[string]any{"business": "Ace Plumbing", "phone": "+14155550123", "item": "a new faucet"}
		if edit != nil {
			edit(args)
		}
		return map[string]any{"name": "request_quote", "arguments": args}
	}
	forEach(t, func(t *testing.T, tr string, e era) {
		s := newServer(t, tr, nil)
		c := connect(t, s, e, connectOpts{})
		bad := []struct {
			name   string
			params map[string]any
			names  string
		}{
			{"missing phone", quote(func(a map[string]any) { delete(a, "phone") }), `"phone"`},
			{"blank business", quote(func(a map[string]any) { a["business"] = "  " }), `"business"`},
			{"malformed currency", quote(func(a map[string]any) { a["currency"] = "dollars" }), `"currency"`},
			{"malformed language", quote(func(a map[string]any) { a["language"] = "spanish please" }), `"language"`},
			{"malformed phone", quote(func(a map[string]any) { a["phone"] = "415 555 0123" }), `"phone"`},
			{"non-string argument", quote(func(a map[string]any) { a["item"] = 42 }), `"item"`},
			{"follow_up_call without callId", map[string]any{"name": "follow_up_call", "arguments": map[string]any{"goal": "confirm"}}, `"callId"`},
		}
		for _, b := range bad {
			resp := c.raw("prompts/get", b.params, nil)
			if resp.Error == nil || resp.Error.Code != -32602 || !strings.Contains(resp.Error.Message, b.names) {
				t.Errorf("%s: error %+v, want -32602 naming %s", b.name, resp.Error, b.names)
			}
		}
		for _, cur := range []string{"EUR", "JPY"} {
			res := c.rawResult("prompts/get", quote(func(a map[string]any) { a["currency"] = cur }), nil)
			if raw, _ := json.Marshal(res); !strings.Contains(string(raw), "in "+cur) {
				t.Errorf("request_quote in %s does not use it: %v", cur, res)
			}
		}
	})
}
