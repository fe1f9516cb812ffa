package state

import (
	"context"
	"time"
)

type memRecord struct {
	val    []byte
	active bool
}

func recordKey(kind, id string) string { return kind + "\x00" + id }

func (m *Memory) initRecords() {
	if m.records == nil {
		m.records = newBounded[memRecord](MaxMemoryEntries, nil)
		m.leases = newBounded[string](MaxMemoryEntries, nil)
		m.active = map[string]map[string]bool{}
	}
}

// PutRecord implements Records.
func (m *Memory) PutRecord(ctx context.Context, kind, id string, val []byte, ttl time.Duration, active bool) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.initRecords()
	now := m.now()
	m.records.put(recordKey(kind, id), memRecord{val: append([]byte(nil), val...), active: active}, now.Add(ttl), now)
	set := m.active[kind]
	if set == nil {
		set = map[string]bool{}
		m.active[kind] = set
	}
	if active {
		set[id] = true
	} else {
		delete(set, id)
	}
	return nil
}

// GetRecord implements Records.
func (m *Memory) GetRecord(ctx context.Context, kind, id string) ([]byte, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.initRecords()
	it := m.records.get(recordKey(kind, id), m.now())
	if it == nil {
		return nil, false, nil
	}
	return append([]byte(nil), it.val.val...), true, nil
}

// ActiveRecords implements Records.
func (m *Memory) ActiveRecords(ctx context.Context, kind string) ([]string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.initRecords()
	now := m.now()
	var ids []string
	for id := range m.active[kind] {
		if it := m.records.get(recordKey(kind, id), now); it == nil || !it.val.active {
			delete(m.active[kind], id)
			continue
		}
		ids = append(ids, id)
	}
	return ids, nil
}

// DeleteRecord implements Records.
func (m *Memory) DeleteRecord(ctx context.Context, kind, id string) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.initRecords()
	delete(m.active[kind], id)
	it := m.records.get(recordKey(kind, id), m.now())
	if it == nil {
		return false, nil
	}
	m.records.remove(it)
	return true, nil
}

// AcquireLease implements Records.
func (m *Memory) AcquireLease(ctx context.Context, name, owner string, ttl time.Duration) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.initRecords()
	now := m.now()
	if it := m.leases.get(name, now); it != nil && it.val != owner {
		return false, nil
	}
	m.leases.put(name, owner, now.Add(ttl), now)
	return true, nil
}

// ReleaseLease implements Records.
func (m *Memory) ReleaseLease(ctx context.Context, name, owner string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.initRecords()
	if it := m.leases.get(name, m.now()); it != nil && it.val == owner {
		m.leases.remove(it)
	}
	return nil
}
