package state

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/byourside/bys-mcp/internal/clock"
	bolt "go.etcd.io/bbolt"
)

// FileName is the database file that File keeps in its directory.
const FileName = "state.db"

// FileOptions tunes the local file store. Zero values take the defaults.
type FileOptions struct {
	// Clock decides expiries and windows (default the wall clock).
	Clock clock.Clock
	// LockTimeout bounds how long one operation waits for another process
	// holding the file (default 2s); past it the operation fails with
	// ErrUnavailable.
	LockTimeout time.Duration
	// PollInterval is how often a waiter re-checks a placement claimed by
	// another process (default 50ms).
	PollInterval time.Duration
	// OnHealth is called when the store turns unusable (err != nil: the
	// first failure after a success) and when it works again (err == nil),
	// so that the process logs one line per change, not one per operation.
	OnHealth func(err error)
	// NoSync skips fsync on commit (benchmarks of the store's own cost).
	NoSync bool
}

// File is the Store kept in a local bbolt database file, shared safely by
// every process on the machine that points at the same directory. The file
// is opened for each operation (one short transaction under bbolt's file
// lock) and closed again, so that several processes take turns rather than
// one of them holding the lock for its lifetime. Nothing is touched until the
// first operation: NewFile costs nothing at start-up.
//
// A database that cannot be opened, read or written (corrupt, read-only,
// disk full, locked for longer than LockTimeout) makes every operation fail
// with an error wrapping ErrUnavailable: callers fail closed.
type File struct {
	dir   string
	path  string
	lockT time.Duration
	poll  time.Duration
	sync  bool
	onH   func(error)
	now   func() time.Time

	mu        sync.Mutex // one transaction at a time within the process
	lastSweep time.Time
	healthy   bool
	reported  bool // healthy holds a reported state
	wake      chan struct{}

	secretMu sync.Mutex
	secret   []byte
}

// NewFile returns a store keeping its database in dir (created with mode
// 0700 on first use). It does not touch the disk.
func NewFile(dir string, opts FileOptions) *File {
	f := &File{
		dir:   dir,
		path:  filepath.Join(dir, FileName),
		lockT: opts.LockTimeout,
		poll:  opts.PollInterval,
		sync:  !opts.NoSync,
		onH:   opts.OnHealth,
		now:   clock.Or(opts.Clock).Now,
		wake:  make(chan struct{}),
	}
	if f.lockT <= 0 {
		f.lockT = defaultOpTimeout
	}
	if f.poll <= 0 {
		f.poll = defaultPollInterval
	}
	return f
}

// Path is the database file.
func (f *File) Path() string { return f.path }

// String describes the store.
func (f *File) String() string { return "local state database " + f.path }

var (
	bucketDedupe = []byte("dedupe")
	bucketBudget = []byte("budget")
	bucketOnce   = []byte("once")
	bucketMeta   = []byte("meta")
	keySecret    = []byte("secret")

	fileBuckets = [][]byte{bucketDedupe, bucketBudget, bucketOnce, bucketMeta, bucketRecords, bucketActive, bucketLeases}
)

// sweepEvery is how often (per process) a write transaction also drops
// expired entries.
const sweepEvery = time.Minute

// update runs fn in one write transaction on a freshly opened database.
func (f *File) update(ctx context.Context, op string, fn func(tx *bolt.Tx, now time.Time) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	err := f.run(fn)
	if err != nil && !errors.Is(err, ErrLeaseLost) {
		err = fmt.Errorf("state: %s: %s: %w", op, f.describe(err), ErrUnavailable)
		f.report(err)
		return err
	}
	f.report(nil)
	return err
}

// view runs fn in one read transaction (no commit, no fsync).
func (f *File) view(ctx context.Context, op string, fn func(tx *bolt.Tx, now time.Time) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	err := f.runView(fn)
	if err != nil {
		err = fmt.Errorf("state: %s: %s: %w", op, f.describe(err), ErrUnavailable)
		f.report(err)
		return err
	}
	f.report(nil)
	return nil
}

func (f *File) runView(fn func(tx *bolt.Tx, now time.Time) error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("the database file is corrupt (%v)", r)
		}
	}()
	db, err := bolt.Open(f.path, 0o600, &bolt.Options{Timeout: f.lockT})
	if err != nil {
		return err
	}
	defer func() {
		if cerr := db.Close(); cerr != nil && err == nil {
			err = cerr
		}
	}()
	return db.View(func(tx *bolt.Tx) error {
		for _, b := range fileBuckets {
			if tx.Bucket(b) == nil {
				return nil // a database written before this bucket existed: nothing in it
			}
		}
		return fn(tx, f.now())
	})
}

// run opens the database, runs fn in a write transaction, and closes it. A
// panic inside bbolt (it panics on some corrupt pages) becomes an error.
func (f *File) run(fn func(tx *bolt.Tx, now time.Time) error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("the database file is corrupt (%v)", r)
		}
	}()
	if err := os.MkdirAll(f.dir, 0o700); err != nil {
		return err
	}
	db, err := bolt.Open(f.path, 0o600, &bolt.Options{Timeout: f.lockT, NoSync: !f.sync, NoGrowSync: !f.sync})
	if err != nil {
		return err
	}
	defer func() {
		if cerr := db.Close(); cerr != nil && err == nil {
			err = cerr
		}
	}()
	return db.Update(func(tx *bolt.Tx) error {
		for _, b := range fileBuckets {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return err
			}
		}
		now := f.now()
		if now.Sub(f.lastSweep) >= sweepEvery {
			if err := sweep(tx, now); err != nil {
				return err
			}
			f.lastSweep = now
		}
		return fn(tx, now)
	})
}

// describe turns a low-level error into what the operator should know.
func (f *File) describe(err error) string {
	switch {
	case errors.Is(err, bolt.ErrTimeout):
		return fmt.Sprintf("%s is locked by another process for longer than %s", f.path, f.lockT)
	case errors.Is(err, bolt.ErrInvalid), errors.Is(err, bolt.ErrChecksum), errors.Is(err, bolt.ErrVersionMismatch):
		return fmt.Sprintf("%s is not a valid bys-mcp state database (%v): move it away or point --state-dir elsewhere", f.path, err)
	case errors.Is(err, os.ErrPermission):
		return fmt.Sprintf("%s cannot be written (%v): fix its permissions or point --state-dir elsewhere", f.path, err)
	default:
		return fmt.Sprintf("%s: %v", f.path, err)
	}
}

// report calls OnHealth on a change of health.
func (f *File) report(err error) {
	ok := err == nil
	if f.reported && f.healthy == ok {
		return
	}
	first := !f.reported
	f.reported, f.healthy = true, ok
	if f.onH == nil || (first && ok) {
		return
	}
	f.onH(err)
}

// notify wakes in-process waiters (a claim was finished or dropped).
func (f *File) notify() {
	close(f.wake)
	f.wake = make(chan struct{})
}

type fileDedupe struct {
	Lease   string `json:"l,omitempty"`
	CallID  string `json:"c,omitempty"`
	Expires int64  `json:"e"` // unix nanoseconds
}

type fileBudget struct {
	Res     []fileRes `json:"r"`
	Expires int64     `json:"e"`
}

type fileRes struct {
	At int64  `json:"a"`
	ID string `json:"i"`
}

type fileExpiry struct {
	Expires int64 `json:"e"`
}

func live(exp int64, now time.Time) bool { return now.UnixNano() < exp }

// getJSON decodes key of bucket b into v; false when absent or expired
// (expiry read through exp).
func getJSON(tx *bolt.Tx, b, key []byte, v any) (bool, error) {
	raw := tx.Bucket(b).Get(key)
	if raw == nil {
		return false, nil
	}
	if err := json.Unmarshal(raw, v); err != nil {
		return false, fmt.Errorf("the database file is corrupt (entry %s/%s: %v)", b, key, err)
	}
	return true, nil
}

func putJSON(tx *bolt.Tx, b, key []byte, v any) error {
	raw, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return tx.Bucket(b).Put(key, raw)
}

// sweep drops expired entries of the expiring buckets.
func sweep(tx *bolt.Tx, now time.Time) error {
	for _, name := range [][]byte{bucketDedupe, bucketBudget, bucketOnce, bucketRecords, bucketLeases} {
		b := tx.Bucket(name)
		var dead [][]byte
		err := b.ForEach(func(k, v []byte) error {
			var e fileExpiry
			if json.Unmarshal(v, &e) != nil || !live(e.Expires, now) {
				dead = append(dead, append([]byte(nil), k...))
			}
			return nil
		})
		if err != nil {
			return err
		}
		for _, k := range dead {
			if err := b.Delete(k); err != nil {
				return err
			}
		}
	}
	// Index entries whose record is gone.
	var dead [][]byte
	recs := tx.Bucket(bucketRecords)
	if err := tx.Bucket(bucketActive).ForEach(func(k, _ []byte) error {
		if recs.Get(k) == nil {
			dead = append(dead, append([]byte(nil), k...))
		}
		return nil
	}); err != nil {
		return err
	}
	for _, k := range dead {
		if err := tx.Bucket(bucketActive).Delete(k); err != nil {
			return err
		}
	}
	return nil
}

func (f *File) dedupeGet(tx *bolt.Tx, fp string, now time.Time) (*fileDedupe, error) {
	var e fileDedupe
	ok, err := getJSON(tx, bucketDedupe, []byte(fp), &e)
	if err != nil || !ok || !live(e.Expires, now) {
		return nil, err
	}
	return &e, nil
}

// ClaimPlacement implements Store. Waiters on another process's claim poll
// every PollInterval; waiters in this process are woken at once.
func (f *File) ClaimPlacement(ctx context.Context, fp string, lease time.Duration) (Claim, error) {
	for {
		var (
			out  Claim
			wait time.Duration
			wake chan struct{}
		)
		err := f.update(ctx, "claim placement", func(tx *bolt.Tx, now time.Time) error {
			wake = f.wake
			e, err := f.dedupeGet(tx, fp, now)
			if err != nil {
				return err
			}
			switch {
			case e == nil:
				id := randomID()
				out = Claim{Claimed: true, LeaseID: id}
				return putJSON(tx, bucketDedupe, []byte(fp), fileDedupe{Lease: id, Expires: now.Add(normLease(lease)).UnixNano()})
			case e.CallID != "":
				out = Claim{ExistingCallID: e.CallID}
			default:
				wait = min(f.poll, time.Duration(e.Expires-now.UnixNano()))
			}
			return nil
		})
		if err != nil {
			return Claim{}, err
		}
		if out.Claimed || out.ExistingCallID != "" {
			return out, nil
		}
		t := time.NewTimer(max(wait, time.Millisecond))
		select {
		case <-ctx.Done():
			t.Stop()
			return Claim{}, ctx.Err()
		case <-wake:
		case <-t.C:
		}
		t.Stop()
	}
}

// FinishPlacement implements Store.
func (f *File) FinishPlacement(ctx context.Context, fp, leaseID, callID string, window time.Duration) error {
	return f.update(ctx, "finish placement", func(tx *bolt.Tx, now time.Time) error {
		e, err := f.dedupeGet(tx, fp, now)
		if err != nil {
			return err
		}
		key := []byte(fp)
		switch {
		case e == nil || (e.CallID == "" && e.Lease == leaseID):
			defer f.notify()
			if window <= 0 {
				return tx.Bucket(bucketDedupe).Delete(key)
			}
			return putJSON(tx, bucketDedupe, key, fileDedupe{Lease: leaseID, CallID: callID, Expires: now.Add(window).UnixNano()})
		case e.CallID != "" && e.CallID == callID:
			return nil
		default:
			return ErrLeaseLost
		}
	})
}

// AbandonPlacement implements Store.
func (f *File) AbandonPlacement(ctx context.Context, fp, leaseID string) error {
	return f.update(ctx, "abandon placement", func(tx *bolt.Tx, now time.Time) error {
		e, err := f.dedupeGet(tx, fp, now)
		if err != nil || e == nil || e.CallID != "" || e.Lease != leaseID {
			return err
		}
		defer f.notify()
		return tx.Bucket(bucketDedupe).Delete([]byte(fp))
	})
}

// ForgetPlacement implements Store.
func (f *File) ForgetPlacement(ctx context.Context, fp, callID string) (bool, error) {
	var removed bool
	err := f.update(ctx, "forget placement", func(tx *bolt.Tx, now time.Time) error {
		e, err := f.dedupeGet(tx, fp, now)
		if err != nil || e == nil || e.CallID == "" || e.CallID != callID {
			return err
		}
		removed = true
		return tx.Bucket(bucketDedupe).Delete([]byte(fp))
	})
	return removed, err
}

// ReserveBudget implements Store.
func (f *File) ReserveBudget(ctx context.Context, budgetKey string, limit int, per time.Duration) (string, bool, time.Duration, error) {
	if limit <= 0 {
		return "", true, 0, nil
	}
	if per <= 0 {
		per = time.Hour
	}
	var (
		id    string
		retry time.Duration
	)
	err := f.update(ctx, "reserve budget", func(tx *bolt.Tx, now time.Time) error {
		var b fileBudget
		if _, err := getJSON(tx, bucketBudget, []byte(budgetKey), &b); err != nil {
			return err
		}
		cut := now.Add(-per).UnixNano()
		kept := b.Res[:0]
		for _, r := range b.Res {
			if r.At > cut {
				kept = append(kept, r)
			}
		}
		b.Res = kept
		if len(b.Res) >= limit {
			retry = time.Duration(b.Res[len(b.Res)-limit].At + int64(per) - now.UnixNano())
			retry = max(retry, time.Millisecond)
			return nil
		}
		id = randomID()
		b.Res = append(b.Res, fileRes{At: now.UnixNano(), ID: id})
		b.Expires = max(b.Expires, now.Add(per).UnixNano())
		return putJSON(tx, bucketBudget, []byte(budgetKey), b)
	})
	if err != nil {
		return "", false, 0, err
	}
	if id == "" {
		return "", false, retry, nil
	}
	return id, true, 0, nil
}

// RefundBudget implements Store.
func (f *File) RefundBudget(ctx context.Context, budgetKey, res string) error {
	if res == "" {
		return nil
	}
	return f.update(ctx, "refund budget", func(tx *bolt.Tx, now time.Time) error {
		var b fileBudget
		ok, err := getJSON(tx, bucketBudget, []byte(budgetKey), &b)
		if err != nil || !ok {
			return err
		}
		for i, r := range b.Res {
			if r.ID == res {
				b.Res = append(b.Res[:i], b.Res[i+1:]...)
				return putJSON(tx, bucketBudget, []byte(budgetKey), b)
			}
		}
		return nil
	})
}

// UseOnce implements Store.
func (f *File) UseOnce(ctx context.Context, id string, ttl time.Duration) (bool, error) {
	if ttl <= 0 {
		ttl = defaultOnceTTL
	}
	var first bool
	err := f.update(ctx, "use once", func(tx *bolt.Tx, now time.Time) error {
		var e fileExpiry
		ok, err := getJSON(tx, bucketOnce, []byte(id), &e)
		if err != nil {
			return err
		}
		if ok && live(e.Expires, now) {
			return nil
		}
		first = true
		return putJSON(tx, bucketOnce, []byte(id), fileExpiry{Expires: now.Add(ttl).UnixNano()})
	})
	return first, err
}

// Secret implements Store: stored once in the database, so it is the same
// for every process on the directory and across restarts.
func (f *File) Secret(ctx context.Context) ([]byte, error) {
	f.secretMu.Lock()
	defer f.secretMu.Unlock()
	if f.secret != nil {
		return append([]byte(nil), f.secret...), nil
	}
	var secret []byte
	err := f.update(ctx, "secret", func(tx *bolt.Tx, now time.Time) error {
		b := tx.Bucket(bucketMeta)
		if v := b.Get(keySecret); v != nil {
			if len(v) != secretLen {
				return fmt.Errorf("the database file is corrupt (the secret is %d bytes, want %d)", len(v), secretLen)
			}
			secret = append([]byte(nil), v...)
			return nil
		}
		secret = randomSecret()
		return b.Put(keySecret, secret)
	})
	if err != nil {
		return nil, err
	}
	f.secret = secret
	return append([]byte(nil), secret...), nil
}

// Ping implements Store: it opens the database and commits an empty
// transaction, so a file that cannot be written is reported.
func (f *File) Ping(ctx context.Context) error {
	return f.update(ctx, "ping", func(*bolt.Tx, time.Time) error { return nil })
}

// Close implements Store. The file is never held open between operations,
// so there is nothing to release.
func (f *File) Close() error { return nil }
