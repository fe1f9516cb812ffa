package state

import (
	"container/list"
	"context"
	"sync"
	"time"

	"github.com/byourside/bys-mcp/internal/clock"
)

// MaxMemoryEntries bounds each of the Memory store's tables (dedupe entries,
// budget keys, one-time ids). When a table is full, expired entries are
// dropped first, then the oldest ones.
const MaxMemoryEntries = 100_000

// Memory is the in-process Store: nothing is shared with other processes.
// Expiry is lazy (no background goroutine). The zero value is not usable; use
// NewMemory.
type Memory struct {
	mu      sync.Mutex
	dedupe  *bounded[*dedupeEntry]
	budgets *bounded[*budget]
	once    *bounded[struct{}]
	records *bounded[memRecord]
	leases  *bounded[string]
	active  map[string]map[string]bool // kind -> ids written active
	secret  []byte
	now     func() time.Time
}

type dedupeEntry struct {
	lease  string
	callID string        // set once finished
	ch     chan struct{} // open while pending; closed on finish/abandon/expiry/eviction
}

type budget struct {
	res []reservation // ordered by time
}

type reservation struct {
	at time.Time
	id string
}

// NewMemory returns an empty in-memory store with a fresh random secret.
func NewMemory() *Memory { return NewMemoryWithClock(clock.Real) }

// NewMemoryWithClock returns an empty in-memory store whose windows and
// expiries read c.
func NewMemoryWithClock(c clock.Clock) *Memory {
	m := &Memory{
		secret: randomSecret(),
		now:    clock.Or(c).Now,
	}
	m.dedupe = newBounded(MaxMemoryEntries, func(e *dedupeEntry) {
		if e.ch != nil {
			close(e.ch)
			e.ch = nil
		}
	})
	m.budgets = newBounded[*budget](MaxMemoryEntries, nil)
	m.once = newBounded[struct{}](MaxMemoryEntries, nil)
	return m
}

// ClaimPlacement implements Store.
func (m *Memory) ClaimPlacement(ctx context.Context, fp string, lease time.Duration) (Claim, error) {
	for {
		if err := ctx.Err(); err != nil {
			return Claim{}, err
		}
		m.mu.Lock()
		now := m.now()
		it := m.dedupe.get(fp, now)
		if it == nil {
			id := randomID()
			m.dedupe.put(fp, &dedupeEntry{lease: id, ch: make(chan struct{})}, now.Add(normLease(lease)), now)
			m.mu.Unlock()
			return Claim{Claimed: true, LeaseID: id}, nil
		}
		e := it.val
		if e.callID != "" {
			m.mu.Unlock()
			return Claim{ExistingCallID: e.callID}, nil
		}
		ch, wait := e.ch, it.expires.Sub(now)
		m.mu.Unlock()

		timer := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			timer.Stop()
			return Claim{}, ctx.Err()
		case <-ch:
		case <-timer.C:
		}
		timer.Stop()
	}
}

// FinishPlacement implements Store.
func (m *Memory) FinishPlacement(ctx context.Context, fp, leaseID, callID string, window time.Duration) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.now()
	it := m.dedupe.get(fp, now)
	if it == nil {
		// Our lease expired and nobody claimed since: still record the call.
		if window > 0 {
			m.dedupe.put(fp, &dedupeEntry{lease: leaseID, callID: callID}, now.Add(window), now)
		}
		return nil
	}
	e := it.val
	switch {
	case e.callID == "" && e.lease == leaseID:
		if window <= 0 {
			m.dedupe.remove(it)
			return nil
		}
		close(e.ch)
		e.ch = nil
		e.callID = callID
		it.expires = now.Add(window)
		m.dedupe.touch(it)
		return nil
	case e.callID != "" && e.callID == callID:
		return nil
	default:
		return ErrLeaseLost
	}
}

// AbandonPlacement implements Store.
func (m *Memory) AbandonPlacement(ctx context.Context, fp, leaseID string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	it := m.dedupe.get(fp, m.now())
	if it != nil && it.val.callID == "" && it.val.lease == leaseID {
		m.dedupe.remove(it)
	}
	return nil
}

// ForgetPlacement implements Store.
func (m *Memory) ForgetPlacement(ctx context.Context, fp, callID string) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	it := m.dedupe.get(fp, m.now())
	if it != nil && it.val.callID != "" && it.val.callID == callID {
		m.dedupe.remove(it)
		return true, nil
	}
	return false, nil
}

// ReserveBudget implements Store.
func (m *Memory) ReserveBudget(ctx context.Context, budgetKey string, limit int, per time.Duration) (string, bool, time.Duration, error) {
	if limit <= 0 {
		return "", true, 0, nil
	}
	if per <= 0 {
		per = time.Hour
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.now()
	var b *budget
	if it := m.budgets.get(budgetKey, now); it != nil {
		b = it.val
		// Drop reservations older than the window.
		cut := now.Add(-per)
		i := 0
		for i < len(b.res) && !b.res[i].at.After(cut) {
			i++
		}
		b.res = append(b.res[:0], b.res[i:]...)
		if len(b.res) >= limit {
			retry := b.res[len(b.res)-limit].at.Add(per).Sub(now)
			if retry <= 0 {
				retry = time.Millisecond
			}
			return "", false, retry, nil
		}
		id := randomID()
		b.res = append(b.res, reservation{at: now, id: id})
		if exp := now.Add(per); exp.After(it.expires) {
			it.expires = exp
		}
		m.budgets.touch(it)
		return id, true, 0, nil
	}
	id := randomID()
	b = &budget{res: []reservation{{at: now, id: id}}}
	m.budgets.put(budgetKey, b, now.Add(per), now)
	return id, true, 0, nil
}

// RefundBudget implements Store.
func (m *Memory) RefundBudget(ctx context.Context, budgetKey, res string) error {
	if res == "" {
		return nil
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	it := m.budgets.get(budgetKey, m.now())
	if it == nil {
		return nil
	}
	b := it.val
	for i, r := range b.res {
		if r.id == res {
			b.res = append(b.res[:i], b.res[i+1:]...)
			break
		}
	}
	return nil
}

// UseOnce implements Store.
func (m *Memory) UseOnce(ctx context.Context, id string, ttl time.Duration) (bool, error) {
	if ttl <= 0 {
		ttl = defaultOnceTTL
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.now()
	if m.once.get(id, now) != nil {
		return false, nil
	}
	m.once.put(id, struct{}{}, now.Add(ttl), now)
	return true, nil
}

// Secret implements Store: random per process.
func (m *Memory) Secret(ctx context.Context) ([]byte, error) {
	return append([]byte(nil), m.secret...), nil
}

// Ping implements Store; memory is always available.
func (m *Memory) Ping(ctx context.Context) error { return nil }

// Close implements Store. It releases any waiters.
func (m *Memory) Close() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.dedupe.clear()
	m.budgets.clear()
	m.once.clear()
	if m.records != nil {
		m.records.clear()
		m.leases.clear()
		clear(m.active)
	}
	return nil
}

// bounded is a map with per-entry expiry, bounded in size; eviction removes
// expired entries first, then the oldest (least recently written) ones.
type bounded[V any] struct {
	m         map[string]*item[V]
	order     *list.List // of *item[V], oldest first
	max       int
	lastSweep time.Time
	onEvict   func(V)
}

type item[V any] struct {
	key     string
	val     V
	expires time.Time
	elem    *list.Element
}

func newBounded[V any](max int, onEvict func(V)) *bounded[V] {
	return &bounded[V]{m: make(map[string]*item[V]), order: list.New(), max: max, onEvict: onEvict}
}

func (b *bounded[V]) len() int { return len(b.m) }

// get returns the live entry for key, dropping it if it has expired.
func (b *bounded[V]) get(key string, now time.Time) *item[V] {
	it, ok := b.m[key]
	if !ok {
		return nil
	}
	if !now.Before(it.expires) {
		b.remove(it)
		return nil
	}
	return it
}

func (b *bounded[V]) put(key string, v V, expires, now time.Time) *item[V] {
	if old, ok := b.m[key]; ok {
		b.remove(old)
	}
	if len(b.m) >= b.max {
		// A full sweep is O(n): do it at most once a second, then fall back to
		// evicting the oldest entries.
		if now.Sub(b.lastSweep) >= time.Second || b.lastSweep.IsZero() {
			b.lastSweep = now
			for _, it := range b.m {
				if !now.Before(it.expires) {
					b.remove(it)
				}
			}
		}
		for len(b.m) >= b.max {
			b.remove(b.order.Front().Value.(*item[V]))
		}
	}
	it := &item[V]{key: key, val: v, expires: expires}
	it.elem = b.order.PushBack(it)
	b.m[key] = it
	return it
}

func (b *bounded[V]) touch(it *item[V]) { b.order.MoveToBack(it.elem) }

func (b *bounded[V]) remove(it *item[V]) {
	if cur, ok := b.m[it.key]; !ok || cur != it {
		return
	}
	delete(b.m, it.key)
	b.order.Remove(it.elem)
	if b.onEvict != nil {
		b.onEvict(it.val)
	}
}

func (b *bounded[V]) clear() {
	for _, it := range b.m {
		b.remove(it)
	}
}
