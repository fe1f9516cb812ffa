package tools

import (
	"context"
	"time"

	"github.com/byourside/bys-mcp/client"
	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"
)

// progress sends notifications/progress for a request that carries a
// progress token, one per status change, on that request's own stream.
type progress struct {
	token any
	last  string
	step  int
	sent  bool
}

func newProgress(ctx context.Context, req mcp.CallToolRequest) *progress {
	p := &progress{}
	if req.Params.Meta != nil && req.Params.Meta.ProgressToken != nil {
		p.token = req.Params.Meta.ProgressToken
	}
	return p
}

// statusStep orders the lifecycle so that progress only increases.
func statusStep(status string) int {
	switch status {
	case "queued":
		return 1
	case "dialing":
		return 2
	case "in_progress":
		return 3
	}
	if client.IsTerminalStatus(status) {
		return 4
	}
	return 0
}

func (p *progress) status(ctx context.Context, status string) {
	if p == nil || p.token == nil || status == p.last {
		return
	}
	p.last = status
	step := max(statusStep(status), p.step+1)
	p.step = step
	srv := server.ServerFromContext(ctx)
	if srv == nil {
		return
	}
	params := map[string]any{
		"progressToken": p.token,
		"progress":      step,
		"message":       "call status: " + status,
	}
	if statusStep(status) != 0 {
		params["total"] = 4
	}
	if srv.SendNotificationToClient(ctx, "notifications/progress", params) == nil {
		p.sent = true
	}
}

// flush waits until the notifications already queued for this session have
// been written, so that the last progress notification reaches the client
// before the result does (mcp-go writes notifications from another
// goroutine, and can otherwise deliver or drop them after the response).
func (p *progress) flush(ctx context.Context) {
	if p == nil || !p.sent {
		return
	}
	flushNotifications(ctx)
}

func flushNotifications(ctx context.Context) {
	session := server.ClientSessionFromContext(ctx)
	if session == nil {
		return
	}
	ch := session.NotificationChannel()
	deadline := time.Now().Add(250 * time.Millisecond)
	for len(ch) > 0 && time.Now().Before(deadline) {
		time.Sleep(200 * time.Microsecond)
	}
	// The writer goroutine has taken the last one off the channel; give it
	// a moment to write it out.
	time.Sleep(25 * time.Millisecond)
}
