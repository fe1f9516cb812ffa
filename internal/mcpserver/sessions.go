package mcpserver

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"sync"
	"time"

	"github.com/byourside/bys-mcp/internal/clock"
	"github.com/mark3labs/mcp-go/server"
)

// sessionIDs issues 2025-11-25 Streamable HTTP session ids and accepts only
// the ones this process issued and still serves. mcp-go's default manager
// accepts any well-formed id, so a request misrouted to another replica
// would run without the session's initialize data (its capabilities, and so
// its confirmation prompts); with this manager it gets 404 and the client
// opens a new session. Memory stays bounded: live ids are dropped when
// their session ends, tombstones after a while.
//
// With a replica id (--replica-id) the ids read bys-ID-<hex>, so that a load
// balancer can send a session back to the replica that opened it by the
// prefix of its Mcp-Session-Id header.
type sessionIDs struct {
	prefix     string // "bys-" or "bys-ID-"
	clock      clock.Clock
	mu         sync.Mutex
	issued     map[string]time.Time // issued, not yet registered
	live       map[string]bool
	terminated map[string]time.Time
}

const (
	// registrationGrace is how long an issued id is accepted before its
	// session registers (registration follows the initialize response).
	registrationGrace = time.Minute
	tombstoneLife     = 10 * time.Minute
	maxTombstones     = 10000
)

func newSessionIDs(hooks *server.Hooks, c clock.Clock, replicaID string) *sessionIDs {
	prefix := "bys-"
	if replicaID != "" {
		prefix += replicaID + "-"
	}
	m := &sessionIDs{prefix: prefix, clock: clock.Or(c), issued: map[string]time.Time{}, live: map[string]bool{}, terminated: map[string]time.Time{}}
	hooks.AddOnRegisterSession(func(_ context.Context, s server.ClientSession) {
		m.mu.Lock()
		defer m.mu.Unlock()
		if _, ok := m.issued[s.SessionID()]; ok {
			delete(m.issued, s.SessionID())
			m.live[s.SessionID()] = true
		}
	})
	hooks.AddOnUnregisterSession(func(_ context.Context, s server.ClientSession) {
		m.end(s.SessionID())
	})
	return m
}

// Generate implements server.SessionIdManager.
func (m *sessionIDs) Generate() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	id := m.prefix + hex.EncodeToString(b[:])
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.clock.Now()
	m.prune(now)
	m.issued[id] = now
	return id
}

var errUnknownSession = errors.New("unknown session: open a new session with initialize")

// Validate implements server.SessionIdManager.
func (m *sessionIDs) Validate(id string) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.live[id] {
		return false, nil
	}
	if at, ok := m.issued[id]; ok && clock.Since(m.clock, at) < registrationGrace {
		return false, nil
	}
	if _, ok := m.terminated[id]; ok {
		return true, nil
	}
	return false, errUnknownSession
}

// Terminate implements server.SessionIdManager.
func (m *sessionIDs) Terminate(id string) (bool, error) {
	m.end(id)
	return false, nil
}

func (m *sessionIDs) end(id string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	_, known := m.live[id]
	_, pending := m.issued[id]
	if !known && !pending {
		return
	}
	delete(m.live, id)
	delete(m.issued, id)
	now := m.clock.Now()
	m.prune(now)
	m.terminated[id] = now
}

// prune drops expired issued ids and old tombstones. Callers hold mu.
func (m *sessionIDs) prune(now time.Time) {
	for id, at := range m.issued {
		if now.Sub(at) > registrationGrace {
			delete(m.issued, id)
		}
	}
	for id, at := range m.terminated {
		if now.Sub(at) > tombstoneLife || len(m.terminated) > maxTombstones {
			delete(m.terminated, id)
		}
	}
}
