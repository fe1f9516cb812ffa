package mcpserver

import (
	"context"
	"errors"
	"sync"

	"github.com/byourside/bys-mcp/tools"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"
)

// lifetime ends tool calls whose client is gone or whose server is
// stopping. mcp-go runs SSE tool handlers under context.WithoutCancel, so
// without this a wait_for_call would keep polling the API after its client
// disconnected, or during shutdown.
type lifetime struct {
	stop    context.Context
	stopAll context.CancelFunc

	mu       sync.Mutex
	bySessID map[string]map[*context.CancelCauseFunc]struct{}
}

// errSessionGone ends the tool calls of a session that went away.
var errSessionGone = errors.New("the client's session ended")

func newLifetime(hooks *server.Hooks) *lifetime {
	l := &lifetime{bySessID: map[string]map[*context.CancelCauseFunc]struct{}{}}
	l.stop, l.stopAll = context.WithCancel(context.Background())
	hooks.AddOnUnregisterSession(func(_ context.Context, s server.ClientSession) {
		l.mu.Lock()
		calls := l.bySessID[s.SessionID()]
		delete(l.bySessID, s.SessionID())
		l.mu.Unlock()
		for c := range calls {
			(*c)(errSessionGone)
		}
	})
	return l
}

// middleware binds each tool call to its session and to the server.
func (l *lifetime) middleware(next server.ToolHandlerFunc) server.ToolHandlerFunc {
	return func(ctx context.Context, req mcp.CallToolRequest) (*mcp.CallToolResult, error) {
		ctx, cancel := context.WithCancelCause(ctx)
		defer cancel(nil)
		stopOnShutdown := context.AfterFunc(l.stop, func() { cancel(tools.ErrServerStopping) })
		defer stopOnShutdown()
		if session := server.ClientSessionFromContext(ctx); session != nil && session.SessionID() != "" {
			id := session.SessionID()
			l.mu.Lock()
			if l.bySessID[id] == nil {
				l.bySessID[id] = map[*context.CancelCauseFunc]struct{}{}
			}
			l.bySessID[id][&cancel] = struct{}{}
			l.mu.Unlock()
			defer func() {
				l.mu.Lock()
				delete(l.bySessID[id], &cancel)
				if len(l.bySessID[id]) == 0 {
					delete(l.bySessID, id)
				}
				l.mu.Unlock()
			}()
		}
		return next(ctx, req)
	}
}

// StopToolCalls cancels every running tool call (graceful shutdown, after
// in-flight calls had their grace period).
func (s *Server) StopToolCalls() { s.life.stopAll() }
