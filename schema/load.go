package schema

import "slices"

//go:generate go run ./internal/gen

// Load returns the schemas for l: the copy generated from the Go types
// (defaults_gen.go, written by `go generate ./schema`), with the operator's
// limits written in when they differ from the defaults. The copy is Go
// source, statically initialised: with the default limits, start-up pays
// neither reflection (about 2 ms) nor JSON decoding (about 0.3 ms).
func Load(l Limits) (*Set, error) {
	set := defaults.clone()
	if l.normalized() == DefaultLimits {
		return &set, nil
	}
	if err := set.ApplyLimits(l); err != nil {
		return nil, err
	}
	return &set, nil
}

// clone copies every schema, so that a caller's Set shares no bytes with
// the generated copy.
func (s Set) clone() Set {
	for _, t := range []*Tool{&s.PlaceCall, &s.GetCall, &s.ListCalls, &s.WaitForCall, &s.PlaceCalls, &s.WaitForCampaign, &s.CancelCampaign} {
		t.Input, t.Output = slices.Clone(t.Input), slices.Clone(t.Output)
	}
	return s
}
