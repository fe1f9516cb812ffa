package tools

import (
	"context"
	"fmt"
	"math"
	"sync"
	"time"

	"github.com/byourside/bys-mcp/client"
	"github.com/byourside/bys-mcp/internal/clock"
	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"
)

// DefaultProgressInterval is the longest a wait stays silent: hosts that
// restart their time-out on progress (the TypeScript SDK's
// resetTimeoutOnProgress) then never give up on a running wait.
const DefaultProgressInterval = 15 * time.Second

// Heartbeat sends notifications/progress for one request that carries a
// progress token: on Beat, and on its own at least every interval until
// Stop. progress is the seconds waited (strictly increasing, one decimal),
// total the wait's limit in seconds (left out when the wait has none, as a
// task's), and message whatever message(elapsed) says at that moment.
// wait_for_call and the campaign wait share it. A nil *Heartbeat (no
// token) does nothing.
type Heartbeat struct {
	clock   clock.Clock
	ctx     context.Context
	srv     *server.MCPServer
	token   any
	start   time.Time
	total   float64
	message func(elapsed time.Duration) string

	mu   sync.Mutex
	last float64
	sent bool

	stop     chan struct{}
	done     chan struct{}
	stopOnce sync.Once
}

// StartHeartbeat starts the heartbeat of the request behind ctx; it
// returns nil when token is nil or ctx carries no server. interval <= 0
// selects DefaultProgressInterval; total <= 0 leaves total out.
func StartHeartbeat(ctx context.Context, c clock.Clock, token any, interval time.Duration, total float64, message func(elapsed time.Duration) string) *Heartbeat {
	srv := server.ServerFromContext(ctx)
	if token == nil || srv == nil {
		return nil
	}
	if interval <= 0 {
		interval = DefaultProgressInterval
	}
	c = clock.Or(c)
	h := &Heartbeat{ctx: ctx, clock: c, srv: srv, token: token, start: c.Now(), total: total, message: message,
		stop: make(chan struct{}), done: make(chan struct{}), last: -1}
	go h.run(interval)
	return h
}

func (h *Heartbeat) run(interval time.Duration) {
	defer close(h.done)
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-h.stop:
			return
		case <-h.ctx.Done():
			return
		case <-t.C:
			h.Beat()
		}
	}
}

// Beat sends a notification now.
func (h *Heartbeat) Beat() {
	if h == nil {
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	elapsed := clock.Since(h.clock, h.start)
	p := math.Round(elapsed.Seconds()*10) / 10
	if p <= h.last {
		p = math.Round((h.last+0.1)*10) / 10
	}
	if h.total > 0 && p > h.total {
		if h.last >= h.total {
			return // progress may not pass total, nor stand still
		}
		p = h.total
	}
	params := map[string]any{"progressToken": h.token, "progress": p, "message": h.message(elapsed)}
	if h.total > 0 {
		params["total"] = h.total
	}
	if h.srv.SendNotificationToClient(h.ctx, "notifications/progress", params) == nil {
		h.last = p
		h.sent = true
	}
}

// Stop ends the heartbeat and waits until the notifications already sent
// have been written, so that the last one reaches the client before the
// result does (mcp-go writes notifications from another goroutine, and can
// otherwise deliver or drop them after the response).
func (h *Heartbeat) Stop() {
	if h == nil {
		return
	}
	h.stopOnce.Do(func() {
		close(h.stop)
		<-h.done
		h.mu.Lock()
		sent := h.sent
		h.mu.Unlock()
		if sent {
			flushNotifications(h.ctx)
		}
	})
}

// progress is wait_for_call's view of its heartbeat: it notifies at once on
// each status change, and says the status and how long the call has been
// in it ("call status: in_progress for 2 min 10 s").
type progress struct {
	hb *Heartbeat

	clock clock.Clock
	mu    sync.Mutex
	last  string
	since time.Time // when the call entered the status (or it was first seen)
}

// newProgress starts wait_for_call's progress for req; limit is the wait's
// timeoutSec (0 for a task, which has none).
func newProgress(ctx context.Context, c clock.Clock, req mcp.CallToolRequest, interval time.Duration, limit time.Duration) *progress {
	p := &progress{clock: clock.Or(c)}
	if req.Params.Meta != nil && req.Params.Meta.ProgressToken != nil {
		p.hb = StartHeartbeat(ctx, p.clock, req.Params.Meta.ProgressToken, interval, limit.Seconds(), p.message)
	}
	return p
}

func (p *progress) message(time.Duration) string {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.last == "" {
		return "waiting for the call's first status"
	}
	if client.IsTerminalStatus(p.last) {
		return "call status: " + p.last
	}
	return fmt.Sprintf("call status: %s for %s", p.last, humanDuration(clock.Since(p.clock, p.since)))
}

// status records the call's latest record, notifying at once on a change.
func (p *progress) status(ctx context.Context, call *client.Call) {
	if p == nil || p.hb == nil {
		return
	}
	p.mu.Lock()
	changed := call.Status != p.last
	if changed {
		p.last = call.Status
		p.since = p.clock.Now()
		if call.Status == client.StatusInProgress && call.StartedAt != nil {
			if t, err := time.Parse(time.RFC3339Nano, *call.StartedAt); err == nil && t.Before(p.since) {
				p.since = t
			}
		}
	}
	p.mu.Unlock()
	if changed {
		p.hb.Beat()
	}
}

// flush stops the heartbeat and lets the last notification out first.
func (p *progress) flush(context.Context) {
	if p == nil {
		return
	}
	p.hb.Stop()
}

// humanDuration renders d as "45 s", "2 min 10 s" or "1 h 5 min".
func humanDuration(d time.Duration) string {
	s := int(d.Round(time.Second).Seconds())
	switch {
	case s < 60:
		return fmt.Sprintf("%d s", max(s, 0))
	case s < 3600:
		if s%60 == 0 {
			return fmt.Sprintf("%d min", s/60)
		}
		return fmt.Sprintf("%d min %d s", s/60, s%60)
	}
	return fmt.Sprintf("%d h %d min", s/3600, s%3600/60)
}

func flushNotifications(ctx context.Context) {
	session := server.ClientSessionFromContext(ctx)
	if session == nil {
		return
	}
	ch := session.NotificationChannel()
	// At most 250 ms of 200 us naps.
	for i := 0; len(ch) > 0 && i < 1250; i++ {
		time.Sleep(200 * time.Microsecond)
	}
	// The writer goroutine has taken the last one off the channel; give it
	// a moment to write it out.
	time.Sleep(25 * time.Millisecond)
}
