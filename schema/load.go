package schema

//go:generate go run ./internal/gen

// Load returns the schemas for l: the copy generated from the Go types
// (defaults_gen.go, written by `go generate ./schema`), with the operator's
// limits written in when they differ from the defaults. The copy is Go
// source, statically initialised: with the default limits, start-up pays
// neither reflection (about 2 ms) nor JSON decoding (about 0.3 ms). The
// schemas' bytes may be shared with the copy: read them, never write them.
func Load(l Limits) (*Set, error) {
	set := defaults
	if l.normalized() == DefaultLimits {
		return &set, nil
	}
	if err := set.ApplyLimits(l); err != nil {
		return nil, err
	}
	return &set, nil
}
