package sandbox

import (
	"time"

	"github.com/byourside/bys-mcp/internal/clock"
)

// Clock tells the sandbox what time it is. Every status, timestamp and
// rate-limit window is computed from it, so a ManualClock makes the whole
// simulator deterministic. It is the server's one clock (internal/clock).
type Clock = clock.Clock

// ManualClock is a Clock that only moves when Advance is called.
type ManualClock = clock.Manual

// NewManualClock returns a ManualClock that reads t until advanced.
func NewManualClock(t time.Time) *ManualClock { return clock.NewManual(t) }
