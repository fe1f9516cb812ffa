package schema

import (
	_ "embed"
	"encoding/json"
	"fmt"
)

//go:generate go run ./internal/gen

// defaultsJSON is Generate(DefaultLimits), written by `go generate`, so that
// start-up does not pay for reflection (about 2 ms).
//
//go:embed defaults.json
var defaultsJSON []byte

// Load returns the schemas for l: the generated copy, with the operator's
// limits written in when they differ from the defaults.
func Load(l Limits) (*Set, error) {
	l = l.normalized()
	var set Set
	if err := json.Unmarshal(defaultsJSON, &set); err != nil {
		return nil, fmt.Errorf("reading the generated tool schemas: %w", err)
	}
	if l == DefaultLimits {
		return &set, nil
	}
	var err error
	if set.ListCalls.Input, err = patched(set.ListCalls.Input, func(in map[string]any) { patchListCalls(in, l) }); err != nil {
		return nil, err
	}
	if set.WaitForCall.Input, err = patched(set.WaitForCall.Input, func(in map[string]any) { patchWaitForCall(in, l) }); err != nil {
		return nil, err
	}
	if set.PlaceCalls.Input, err = patched(set.PlaceCalls.Input, func(in map[string]any) { patchPlaceCalls(in, l) }); err != nil {
		return nil, err
	}
	if set.WaitForCampaign.Input, err = patched(set.WaitForCampaign.Input, func(in map[string]any) { patchWaitForCampaign(in, l) }); err != nil {
		return nil, err
	}
	return &set, nil
}

func patched(raw json.RawMessage, patch func(map[string]any)) (json.RawMessage, error) {
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, err
	}
	patch(m)
	return json.Marshal(m)
}

// MarshalDefaults renders Generate(DefaultLimits) as defaults.json.
func MarshalDefaults() ([]byte, error) {
	set, err := Generate(DefaultLimits)
	if err != nil {
		return nil, err
	}
	out, err := json.MarshalIndent(set, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(out, '\n'), nil
}
