package safety

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"strings"
	"time"
)

// Errors returned by OpenConfirmState.
var (
	// ErrStateInvalid: the token is malformed, forged, signed with another
	// secret, or otherwise not a state this server issued.
	ErrStateInvalid = errors.New("confirmation state is invalid")
	// ErrStateExpired: the token is authentic but older than the allowed age.
	ErrStateExpired = errors.New("confirmation state has expired")
	// ErrStateMismatch: the token is authentic and fresh but was issued for
	// another call or another key.
	ErrStateMismatch = errors.New("confirmation state belongs to another call")
)

// maxTokenLen bounds the work done on arbitrary input; real tokens are ~200
// characters.
const maxTokenLen = 4096

// maxFutureSkew is how far in the future a state's IssuedAt may lie (clock
// skew between replicas sharing the secret).
const maxFutureSkew = time.Minute

// maxUnix (9999-12-31T23:59:59Z) keeps time.Unix away from overflow.
const maxUnix = 253402300799

// ConfirmState is the opaque requestState of the 2026-07-28 "input required"
// confirmation round trip. It is bound to the exact call and key through
// IntentFingerprint, expires, and carries a nonce so that the caller can
// accept it once.
type ConfirmState struct {
	IntentFingerprint string    // Intent.Fingerprint() of the call being confirmed (includes the key fingerprint)
	Nonce             string    // random 128-bit hex, for one-time use
	IssuedAt          time.Time // truncated to whole seconds when sealed
}

type statePayload struct {
	V int    `json:"v"`
	I string `json:"i"`
	N string `json:"n"`
	T int64  `json:"t"`
}

// NewNonce returns 128 random bits as 32 lowercase hex characters.
func NewNonce() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (it crashes the program instead)
	return hex.EncodeToString(b[:])
}

func stateMAC(secret, payload []byte) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write(payload)
	return m.Sum(nil)
}

// SealConfirmState returns base64url(payload) + "." + base64url(MAC), where
// payload is the JSON {"v":1,"i":...,"n":...,"t":unix seconds} and MAC is
// HMAC-SHA256(secret, payload). base64url is unpadded (RFC 4648 §5). A token
// sealed with an empty secret is never accepted by OpenConfirmState.
func SealConfirmState(secret []byte, s ConfirmState) string {
	payload, _ := json.Marshal(statePayload{V: 1, I: s.IntentFingerprint, N: s.Nonce, T: s.IssuedAt.Unix()})
	return base64.RawURLEncoding.EncodeToString(payload) + "." +
		base64.RawURLEncoding.EncodeToString(stateMAC(secret, payload))
}

// OpenConfirmState verifies a token made by SealConfirmState: the MAC (in
// constant time), the payload, the age (at most maxAge old and at most one
// minute in the future relative to now) and that it was issued for wantIntent.
// It returns ErrStateInvalid, ErrStateExpired or ErrStateMismatch, and never
// panics on arbitrary input. Checking that the nonce was not used before is
// the caller's job.
func OpenConfirmState(secret []byte, token string, wantIntent string, maxAge time.Duration, now time.Time) (ConfirmState, error) {
	if len(secret) == 0 || len(token) == 0 || len(token) > maxTokenLen {
		return ConfirmState{}, ErrStateInvalid
	}
	p64, m64, ok := strings.Cut(token, ".")
	if !ok || p64 == "" || m64 == "" || strings.Contains(m64, ".") {
		return ConfirmState{}, ErrStateInvalid
	}
	enc := base64.RawURLEncoding.Strict()
	payload, err := enc.DecodeString(p64)
	if err != nil {
		return ConfirmState{}, ErrStateInvalid
	}
	mac, err := enc.DecodeString(m64)
	if err != nil || !hmac.Equal(mac, stateMAC(secret, payload)) {
		return ConfirmState{}, ErrStateInvalid
	}
	var sp statePayload
	if err := json.Unmarshal(payload, &sp); err != nil {
		return ConfirmState{}, ErrStateInvalid
	}
	if sp.V != 1 || sp.I == "" || sp.N == "" || sp.T <= 0 || sp.T > maxUnix {
		return ConfirmState{}, ErrStateInvalid
	}
	st := ConfirmState{IntentFingerprint: sp.I, Nonce: sp.N, IssuedAt: time.Unix(sp.T, 0).UTC()}
	if st.IssuedAt.After(now.Add(maxFutureSkew)) {
		return ConfirmState{}, ErrStateInvalid
	}
	if now.Sub(st.IssuedAt) > maxAge {
		return ConfirmState{}, ErrStateExpired
	}
	if !hmac.Equal([]byte(st.IntentFingerprint), []byte(wantIntent)) {
		return ConfirmState{}, ErrStateMismatch
	}
	return st, nil
}
