// Package safety owns the small, pure building blocks of call safety: the
// operator's destination policy, the identity of a call intent (for dedupe),
// the signed confirmation state of the 2026-07-28 "input required" round trip,
// number masking, the sealing of API keys kept in the state store, and the
// audit trail of placement attempts.
//
// Nothing here dials, stores or talks to the API; the server composes these
// pieces in the documented order (read-only, deny/allow lists, dedupe, budget,
// confirmation, then the API).
package safety
