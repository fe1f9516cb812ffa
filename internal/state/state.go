// Package state owns the state that must be shared between replicas: dedupe
// entries with single-flight placement, rolling-hour call budgets, one-time
// tokens, and a shared signing secret. Three implementations sit behind one
// small interface: in-memory (nothing shared, nothing kept), a local database
// file (kept across restarts, shared by the processes of one machine) and
// Redis (shared by every replica pointing at the same server).
package state

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"time"
)

// ErrUnavailable is wrapped by every error caused by the backend being
// unreachable or timing out. Callers must fail closed on it.
var ErrUnavailable = errors.New("state store unavailable")

// ErrLeaseLost is returned by FinishPlacement when the caller no longer holds
// the claim (its lease expired and another placement claimed or finished fp).
var ErrLeaseLost = errors.New("placement lease lost")

// Store is the shared state behind call safety.
type Store interface {
	// ClaimPlacement claims the right to place the call identified by fp (a
	// fingerprint string, already hashed by the caller).
	//   - If a finished placement for fp exists (within its window) it returns
	//     (Claim{ExistingCallID: id}, nil).
	//   - If another placement for fp is in flight (claimed, not finished) it
	//     waits until that one finishes or is abandoned (then re-evaluates), or
	//     until ctx ends (returns ctx.Err()), or the in-flight lease expires
	//     (then it may claim).
	//   - Otherwise it claims: Claim{Claimed: true, LeaseID: random}; the caller
	//     must then call FinishPlacement or AbandonPlacement.
	ClaimPlacement(ctx context.Context, fp string, lease time.Duration) (Claim, error)
	// FinishPlacement records that fp placed callID; the entry lives for window
	// (then expires). Only the holder of leaseID may finish (ErrLeaseLost
	// otherwise). If the lease expired and nobody else claimed fp meanwhile, the
	// result is still recorded.
	FinishPlacement(ctx context.Context, fp, leaseID, callID string, window time.Duration) error
	// AbandonPlacement drops the claim without recording a call (nothing was
	// placed, or we cannot know); waiters re-evaluate. Abandoning a claim that
	// is no longer held is a no-op.
	AbandonPlacement(ctx context.Context, fp, leaseID string) error
	// ForgetPlacement removes the finished entry for fp only if it still names
	// callID (used when the earlier call ended no_answer/voicemail/declined/
	// failed, so that a new attempt may be placed). Returns whether it removed it.
	ForgetPlacement(ctx context.Context, fp, callID string) (bool, error)

	// ReserveBudget atomically counts one call against budgetKey's rolling
	// window if fewer than limit calls were counted in the last per; returns a
	// reservation id (to refund) and ok=false when the budget is spent, with
	// retryIn = how long until a slot frees up. limit <= 0 means no limit
	// (ok=true, empty reservation, nothing counted).
	ReserveBudget(ctx context.Context, budgetKey string, limit int, per time.Duration) (reservation string, ok bool, retryIn time.Duration, err error)
	// RefundBudget removes a reservation (the API refused the call with a 4xx,
	// so it does not count). Unknown or empty reservations are a no-op.
	RefundBudget(ctx context.Context, budgetKey, reservation string) error

	// UseOnce returns true the first time it sees id (within ttl), false
	// afterwards (replay protection for confirmation states).
	UseOnce(ctx context.Context, id string, ttl time.Duration) (bool, error)
	// Secret returns a 32-byte secret shared by every process using this store
	// (memory: random per process; Redis: stored once, read by everyone).
	Secret(ctx context.Context) ([]byte, error)

	Ping(ctx context.Context) error
	Close() error
}

// Claim is the outcome of ClaimPlacement.
type Claim struct {
	Claimed        bool
	LeaseID        string
	ExistingCallID string
}

const (
	defaultLease   = 30 * time.Second
	defaultOnceTTL = 24 * time.Hour
	secretLen      = 32
)

func randomID() string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic("state: crypto/rand failed: " + err.Error())
	}
	return hex.EncodeToString(b[:])
}

func randomSecret() []byte {
	b := make([]byte, secretLen)
	if _, err := rand.Read(b); err != nil {
		panic("state: crypto/rand failed: " + err.Error())
	}
	return b
}

func normLease(d time.Duration) time.Duration {
	if d <= 0 {
		return defaultLease
	}
	return d
}

// Compile-time checks.
var (
	_ Store = (*Memory)(nil)
	_ Store = (*Redis)(nil)
	_ Store = (*File)(nil)
)

// Records keeps opaque records (campaigns, say) by kind and id, with an
// index of the ones still active, and named leases that say which process
// runs what. Memory, File and Redis implement it next to Store, on the same
// backend, so that what a restarted or another process sees is the same.
type Records interface {
	// PutRecord writes val under (kind, id) for ttl; active says whether id
	// is listed by ActiveRecords(kind) (a finished campaign is not).
	PutRecord(ctx context.Context, kind, id string, val []byte, ttl time.Duration, active bool) error
	// GetRecord reads (kind, id); ok is false when there is none (or it
	// expired).
	GetRecord(ctx context.Context, kind, id string) (val []byte, ok bool, err error)
	// ActiveRecords lists the ids of kind written with active true whose
	// record still exists, in no particular order.
	ActiveRecords(ctx context.Context, kind string) ([]string, error)
	// DeleteRecord removes (kind, id); true when there was one.
	DeleteRecord(ctx context.Context, kind, id string) (bool, error)
	// AcquireLease takes or renews the lease name for owner for ttl: true
	// when owner holds it afterwards, false when another owner holds it.
	AcquireLease(ctx context.Context, name, owner string, ttl time.Duration) (bool, error)
	// ReleaseLease drops the lease if owner holds it.
	ReleaseLease(ctx context.Context, name, owner string) error
}

// Compile-time checks of Records.
var (
	_ Records = (*Memory)(nil)
	_ Records = (*Redis)(nil)
	_ Records = (*File)(nil)
)
