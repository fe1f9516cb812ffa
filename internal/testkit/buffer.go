package testkit

import (
	"bytes"
	"sync"
)

// SyncBuffer is a goroutine-safe bytes.Buffer, for a child's stderr or a
// logger's concurrent writes. With Max > 0 it keeps at most Max bytes (and
// still reports every write as complete), so that a long test cannot grow
// it without bound.
type SyncBuffer struct {
	Max int

	mu sync.Mutex
	b  bytes.Buffer
}

func (s *SyncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.Max <= 0 {
		return s.b.Write(p)
	}
	if s.b.Len() < s.Max {
		s.b.Write(p[:min(len(p), s.Max-s.b.Len())])
	}
	return len(p), nil
}

func (s *SyncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
